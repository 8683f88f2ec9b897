//! Volume content, snapshots, restores, clones and injected faults, against the
//! simulator's router served in-process (no shared environment needed).
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testenv::px::api::{Sim, router};
use testenv::px::auth;
use testenv::px::model::{Cluster, MAX_DATA};

const SECRET: &[u8] = b"sim-data-test-secret";

struct Px {
    http: reqwest::Client,
    base: String,
    admin: String,
    view: String,
}

async fn serve(restore: Duration) -> Px {
    let nodes: Vec<String> = ["node-1", "node-2", "node-3"].map(String::from).to_vec();
    let sim = Sim {
        cluster: Arc::new(Mutex::new(Cluster::new("t", &nodes, 11, restore))),
        secret: Arc::new(SECRET.to_vec()),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router(sim)).await.unwrap() });
    Px {
        http: reqwest::Client::new(),
        base: format!("http://{addr}"),
        admin: auth::token(SECRET, "system.admin", "admin", 600),
        view: auth::token(SECRET, "system.view", "viewer", 600),
    }
}

impl Px {
    async fn json(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.json_as(&self.admin, method, path, body).await
    }
    async fn json_as(
        &self,
        tok: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "DELETE" => self.http.delete(url),
            _ => unreachable!(),
        }
        .bearer_auth(tok);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}: {text}"));
        (status, v)
    }
    async fn put_data_as(&self, tok: &str, id: &str, data: Vec<u8>) -> (u16, Value) {
        let resp = self
            .http
            .put(format!("{}/sim/volumes/{id}/data", self.base))
            .bearer_auth(tok)
            .body(data)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }
    async fn put_data(&self, id: &str, data: &[u8]) {
        let (s, body) = self.put_data_as(&self.admin, id, data.to_vec()).await;
        assert_eq!(s, 200, "writing {id}: {body}");
    }
    async fn data(&self, id: &str) -> Vec<u8> {
        let resp = self
            .http
            .get(format!("{}/sim/volumes/{id}/data", self.base))
            .bearer_auth(&self.view)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "reading {id}");
        assert_eq!(resp.headers()["content-type"], "application/octet-stream");
        resp.bytes().await.unwrap().to_vec()
    }
    async fn create(&self, name: &str) -> String {
        let (s, v) = self
            .json(
                "POST",
                "/v1/volumes",
                Some(json!({"name": name, "spec": {"size": "1073741824"}, "labels": {"pvc": name, "namespace": "db"}})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["volume_id"].as_str().unwrap().to_string()
    }
    async fn snapshot(&self, id: &str, name: &str) -> String {
        let (s, v) = self
            .json(
                "POST",
                "/v1/volumes/snapshots",
                Some(json!({"volume_id": id, "name": name})),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["snapshot_id"].as_str().unwrap().to_string()
    }
    async fn state(&self, id: &str) -> String {
        let (_, v) = self
            .json("GET", &format!("/v1/volumes/inspect/{id}"), None)
            .await;
        v["volume"]["state"].as_str().unwrap_or("").to_string()
    }
    async fn restore(&self, id: &str, snap: &str) -> (u16, Value) {
        self.json(
            "POST",
            "/v1/volumes/snapshots/restore",
            Some(json!({"volume_id": id, "snapshot_id": snap})),
        )
        .await
    }
    async fn wait_restored(&self, id: &str) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while self.state(id).await == "VOLUME_STATE_RESTORE" {
            assert!(
                tokio::time::Instant::now() < deadline,
                "restore of {id} never finished"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn restore_returns_exactly_the_snapshot_time_content() {
    let px = serve(Duration::from_millis(400)).await;
    let db = px.create("pvc-db").await;
    let other = px.create("pvc-other").await;
    assert_eq!(px.data(&db).await, b"", "a new volume is empty");
    px.put_data(&db, b"rows 1..10").await;
    px.put_data(&other, b"unrelated").await;
    let snap = px.snapshot(&db, "snap-1").await;
    px.put_data(&db, b"rows 1..10, then a bad migration").await;
    assert_eq!(
        px.data(&snap).await,
        b"rows 1..10",
        "the snapshot kept its moment"
    );

    // A safety snapshot before the restore holds the pre-restore content.
    let safety = px.snapshot(&db, "safety").await;
    let (s, r) = px.restore(&db, &snap).await;
    assert_eq!((s, r), (200, json!({})));
    assert_eq!(px.state(&db).await, "VOLUME_STATE_RESTORE");
    assert_eq!(
        px.data(&db).await,
        b"rows 1..10, then a bad migration",
        "content changes only when the restore finishes"
    );
    let (s, e) = px.put_data_as(&px.admin, &db, b"x".to_vec()).await;
    assert_eq!(
        (s, e["code"].as_i64()),
        (400, Some(9)),
        "no writes during a restore: {e}"
    );
    let (s, e) = px
        .json(
            "POST",
            "/v1/mountattach/attach",
            Some(json!({"volume_id": db})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_i64()),
        (400, Some(9)),
        "no attach during a restore"
    );
    px.wait_restored(&db).await;
    assert_eq!(px.state(&db).await, "VOLUME_STATE_DETACHED");
    assert_eq!(px.data(&db).await, b"rows 1..10");
    assert_eq!(px.data(&safety).await, b"rows 1..10, then a bad migration");
    assert_eq!(
        px.data(&other).await,
        b"unrelated",
        "other volumes are untouched"
    );

    // Restoring the safety snapshot undoes the restore.
    px.restore(&db, &safety).await;
    px.wait_restored(&db).await;
    assert_eq!(px.data(&db).await, b"rows 1..10, then a bad migration");
}

#[tokio::test]
async fn clones_start_with_the_parents_content_and_snapshots_are_read_only() {
    let px = serve(Duration::from_millis(100)).await;
    let db = px.create("pvc-db").await;
    px.put_data(&db, &[0, 1, 2, 255]).await;
    let snap = px.snapshot(&db, "snap").await;
    px.put_data(&db, b"later").await;
    let (s, c) = px
        .json(
            "POST",
            "/v1/volumes/clone",
            Some(json!({"name": "pvc-new", "parent_id": snap})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let clone = c["volume_id"].as_str().unwrap().to_string();
    assert_eq!(px.data(&clone).await, [0, 1, 2, 255]);
    px.put_data(&clone, b"clone's own").await;
    assert_eq!(
        px.data(&snap).await,
        [0, 1, 2, 255],
        "writes to a clone stay in it"
    );
    assert_eq!(px.data(&db).await, b"later");
    let (s, e) = px.put_data_as(&px.admin, &snap, b"x".to_vec()).await;
    assert_eq!(
        (s, e["code"].as_i64()),
        (400, Some(9)),
        "snapshots are read-only: {e}"
    );
}

#[tokio::test]
async fn restore_of_an_attached_volume_is_refused() {
    let px = serve(Duration::from_millis(100)).await;
    let db = px.create("pvc-db").await;
    px.put_data(&db, b"before").await;
    let snap = px.snapshot(&db, "snap").await;
    px.put_data(&db, b"after").await;
    let (s, _) = px
        .json(
            "POST",
            "/v1/mountattach/attach",
            Some(json!({"volume_id": db, "driver_options": {"node": "node-2"}})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = px.restore(&db, &snap).await;
    assert_eq!(s, 400);
    assert_eq!(e["code"], 9, "FailedPrecondition: {e}");
    assert_eq!(e["error"], e["message"]);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("detach it before restoring"),
        "{e}"
    );
    assert_eq!(px.state(&db).await, "VOLUME_STATE_ATTACHED");
    assert_eq!(
        px.data(&db).await,
        b"after",
        "a refused restore changes nothing"
    );
}

#[tokio::test]
async fn data_endpoints_check_tokens_sizes_and_volumes() {
    let px = serve(Duration::from_millis(100)).await;
    let db = px.create("pvc-db").await;
    let (s, e) = px.put_data_as(&px.view, &db, b"x".to_vec()).await;
    assert_eq!(
        (s, e["code"].as_i64()),
        (403, Some(7)),
        "a viewer cannot write"
    );
    let (s, e) = px.put_data_as("not-a-jwt", &db, b"x".to_vec()).await;
    assert_eq!((s, e["code"].as_i64()), (401, Some(16)));
    let resp = px
        .http
        .get(format!("{}/sim/volumes/{db}/data", px.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 403, "guests read nothing");
    let (s, e) = px.put_data_as(&px.admin, &db, vec![7; MAX_DATA + 1]).await;
    assert_eq!(s, 413, "{e}");
    assert!(e["message"].as_str().unwrap().contains("16777216"), "{e}");
    let (s, _) = px.put_data_as(&px.admin, &db, vec![7; MAX_DATA]).await;
    assert_eq!(s, 200, "the limit itself fits");
    assert_eq!(px.data(&db).await.len(), MAX_DATA);
    let (s, e) = px.put_data_as(&px.admin, "123", b"x".to_vec()).await;
    assert_eq!(
        (s, e["message"].as_str()),
        (404, Some("Volume id 123 not found"))
    );
}

#[tokio::test]
async fn injected_faults_fail_the_next_calls_then_clear() {
    let px = serve(Duration::from_millis(100)).await;
    let db = px.create("pvc-db").await;
    let other = px.create("pvc-other").await;
    let snap = px.snapshot(&db, "snap").await;
    let (s, e) = px
        .json_as(
            &px.view,
            "POST",
            "/sim/faults",
            Some(json!({"op": "restore", "code": 14})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_i64()),
        (403, Some(7)),
        "only an admin injects faults"
    );
    let (s, e) = px
        .json(
            "POST",
            "/sim/faults",
            Some(json!({"op": "restor", "code": 14})),
        )
        .await;
    assert_eq!(s, 400, "{e}");
    let (s, f) = px
        .json(
            "POST",
            "/sim/faults",
            Some(json!({"op": "restore", "count": 1, "code": 14, "message": "Resource has not been initialized"})),
        )
        .await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["faults"][0]["remaining"], 1);
    let (s, e) = px.restore(&db, &snap).await;
    assert_eq!(
        (s, e),
        (
            503,
            json!({"error": "Resource has not been initialized", "code": 14, "message": "Resource has not been initialized"})
        )
    );
    assert_eq!(
        px.state(&db).await,
        "VOLUME_STATE_DETACHED",
        "a failed restore did not start"
    );
    let (s, _) = px.restore(&db, &snap).await;
    assert_eq!(s, 200, "the fault was used up");
    px.wait_restored(&db).await;

    // A fault for one volume spares the others; DELETE clears what is left.
    let (s, _) = px
        .json(
            "POST",
            "/sim/faults",
            Some(json!({"op": "snapshot", "count": 5, "code": 13, "volume_id": db})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, e) = px
        .json(
            "POST",
            "/v1/volumes/snapshots",
            Some(json!({"volume_id": db, "name": "s2"})),
        )
        .await;
    assert_eq!((s, e["code"].as_i64()), (500, Some(13)));
    px.snapshot(&other, "s3").await;
    let (_, listed) = px.json("GET", "/sim/faults", None).await;
    assert_eq!(listed["faults"][0]["remaining"], 4);
    let (s, _) = px.json("DELETE", "/sim/faults", None).await;
    assert_eq!(s, 200);
    px.snapshot(&db, "s2").await;
    let (_, listed) = px.json("GET", "/sim/faults", None).await;
    assert_eq!(listed, json!({}), "no fault left");
}
