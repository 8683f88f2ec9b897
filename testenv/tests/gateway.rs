//! The running Portworx simulator speaks the SDK REST gateway's wire format
//! (shared/reference/portworx-api.md). Run through `make test`.
use serde_json::{Value, json};
use std::time::Duration;

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run through `make test`"))
}

fn token(var: &str) -> String {
    std::fs::read_to_string(env(var))
        .unwrap()
        .trim()
        .to_string()
}

struct Gw {
    http: reqwest::Client,
    base: String,
}

impl Gw {
    fn new() -> Gw {
        Gw {
            http: reqwest::Client::new(),
            base: env("SEXTANT_TEST_PORTWORX"),
        }
    }
    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, String, String) {
        let url = format!("{}{path}", self.base);
        let mut req = match method {
            "GET" => self.http.get(url),
            "POST" => self.http.post(url),
            "DELETE" => self.http.delete(url),
            _ => unreachable!(),
        };
        if let Some(t) = auth {
            req = req.header("Authorization", format!("bearer {t}"));
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (status, ctype, resp.text().await.unwrap())
    }
    async fn json(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let (s, _, text) = self.call(method, path, auth, body).await;
        (
            s,
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")),
        )
    }
}

#[tokio::test]
async fn inspect_follows_jsonpb_rules() {
    let gw = Gw::new();
    let view = token("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE");
    let (s, all) = gw
        .json(
            "POST",
            "/v1/volumes/inspectwithfilters",
            Some(&view),
            Some(json!({"labels": {"pvc": "data-catalogue-db-0", "namespace": "shop"}})),
        )
        .await;
    assert_eq!(s, 200);
    let vols = all["volumes"].as_array().unwrap();
    assert_eq!(vols.len(), 1);
    let v = &vols[0]["volume"];
    assert_eq!(
        v["spec"]["size"],
        json!("21474836480"),
        "uint64 as a string"
    );
    assert_eq!(v["spec"]["ha_level"], json!("3"), "int64 as a string");
    assert_eq!(v["spec"]["io_profile"], json!("IO_PROFILE_DB"));
    assert_eq!(v["spec"]["cos"], json!("HIGH"));
    assert_eq!(v["status"], json!("VOLUME_STATUS_UP"));
    assert_eq!(v["state"], json!("VOLUME_STATE_ATTACHED"));
    assert!(
        v.get("readonly").is_none() && v.get("error").is_none(),
        "zero values are omitted: {v}"
    );
    assert_eq!(
        v["locator"]["volume_labels"]["repl"],
        json!("3"),
        "class parameters become labels"
    );
    assert_eq!(vols[0]["name"], v["locator"]["name"]);
    assert!(v["locator"]["name"].as_str().unwrap().starts_with("pvc-"));
    let id = v["id"].as_str().unwrap();
    let (s, one) = gw
        .json(
            "GET",
            &format!("/v1/volumes/inspect/{id}"),
            Some(&view),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(one["volume"]["id"], json!(id));
    let (_, stats) = gw
        .json("GET", &format!("/v1/volumes/stats/{id}"), Some(&view), None)
        .await;
    assert!(stats["stats"]["write_bytes"].is_string());
    let (_, ids) = gw.json("GET", "/v1/volumes", Some(&view), None).await;
    assert!(
        ids["volume_ids"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == id)
    );
}

#[tokio::test]
async fn errors_have_grpc_gateway_bodies_and_statuses() {
    let gw = Gw::new();
    let view = token("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE");
    let (s, body) = gw
        .json("GET", "/v1/volumes/inspect/123", Some(&view), None)
        .await;
    assert_eq!(s, 404);
    assert_eq!(
        body,
        json!({"error": "Volume id 123 not found", "code": 5, "message": "Volume id 123 not found"})
    );
    let (s, ctype, text) = gw.call("GET", "/v1/nope", Some(&view), None).await;
    assert_eq!((s, text.as_str()), (404, "Not Found\n"));
    assert!(ctype.starts_with("text/plain"));
    let (s, body) = gw.json("GET", "/v1/volumes", Some("not-a-jwt"), None).await;
    assert_eq!((s, body["code"].as_i64()), (401, Some(16)));
    let (s, body) = gw
        .json(
            "POST",
            "/v1/volumes/snapshots",
            Some(&view),
            Some(json!({"volume_id": "1", "name": "x"})),
        )
        .await;
    assert_eq!(
        (s, body["code"].as_i64()),
        (403, Some(7)),
        "system.view cannot write"
    );
    // No header: a guest, who sees no volume.
    let (s, body) = gw.json("GET", "/v1/volumes", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(body, json!({}), "an empty list is omitted");
    let (_, cluster) = gw
        .json("GET", "/v1/clusters/inspectcurrent", Some(&view), None)
        .await;
    assert_eq!(cluster["cluster"]["status"], json!("STATUS_OK"));
    let (_, nodes) = gw.json("GET", "/v1/nodes/filters", Some(&view), None).await;
    let nodes = nodes["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 3);
    assert!(
        nodes[0]["pools"][0]["TotalSize"].is_string() && nodes[0]["pools"][0].get("ID").is_none(),
        "pool ID 0 is omitted"
    );
}

#[tokio::test]
async fn snapshot_clone_and_asynchronous_restore() {
    let gw = Gw::new();
    let admin = token("SEXTANT_TEST_PORTWORX_TOKEN_FILE");
    let name = format!("it-vol-{}", std::process::id());
    let (s, created) = gw.json("POST", "/v1/volumes", Some(&admin), Some(json!({"name": name, "spec": {"size": "1073741824", "ha_level": "2"}, "labels": {"pvc": "it", "namespace": "it"}}))).await;
    assert_eq!(s, 200, "{created}");
    let id = created["volume_id"].as_str().unwrap().to_string();
    let (s, e) = gw
        .json(
            "POST",
            "/v1/volumes/snapshots",
            Some(&admin),
            Some(json!({"volume_id": id})),
        )
        .await;
    assert_eq!(
        (s, e["code"].as_i64()),
        (400, Some(3)),
        "a snapshot needs a name"
    );
    let (s, snap) = gw
        .json(
            "POST",
            "/v1/volumes/snapshots",
            Some(&admin),
            Some(json!({"volume_id": id, "name": format!("{name}-snap")})),
        )
        .await;
    assert_eq!(s, 200);
    let snap_id = snap["snapshot_id"].as_str().unwrap().to_string();
    let (_, listed) = gw
        .json(
            "GET",
            &format!("/v1/volumes/snapshots?volume_id={id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(listed["volume_snapshot_ids"], json!([snap_id]));
    let (_, s_inspect) = gw
        .json(
            "GET",
            &format!("/v1/volumes/inspect/{snap_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s_inspect["volume"]["readonly"], json!(true));
    assert_eq!(s_inspect["volume"]["source"]["parent"], json!(id));
    assert!(
        s_inspect["volume"]["locator"]["volume_labels"]
            .get("pvc")
            .is_none(),
        "snapshots drop pvc and namespace labels"
    );
    let (s, clone) = gw
        .json(
            "POST",
            "/v1/volumes/clone",
            Some(&admin),
            Some(json!({"name": format!("{name}-clone"), "parent_id": snap_id})),
        )
        .await;
    assert_eq!(s, 200);
    let clone_id = clone["volume_id"].as_str().unwrap().to_string();

    // Attached volumes refuse a restore; detached ones restore asynchronously.
    gw.json(
        "POST",
        "/v1/mountattach/attach",
        Some(&admin),
        Some(json!({"volume_id": id})),
    )
    .await;
    let (s, e) = gw
        .json(
            "POST",
            "/v1/volumes/snapshots/restore",
            Some(&admin),
            Some(json!({"volume_id": id, "snapshot_id": snap_id})),
        )
        .await;
    assert_eq!((s, e["code"].as_i64()), (400, Some(9)));
    gw.json(
        "POST",
        "/v1/mountattach/detach",
        Some(&admin),
        Some(json!({"volume_id": id})),
    )
    .await;
    let (s, r) = gw
        .json(
            "POST",
            "/v1/volumes/snapshots/restore",
            Some(&admin),
            Some(json!({"volumeId": id, "snapshotId": snap_id})),
        )
        .await;
    assert_eq!(
        (s, r),
        (200, json!({})),
        "lowerCamelCase requests are accepted"
    );
    let state = |v: Value| v["volume"]["state"].as_str().unwrap_or("").to_string();
    let (_, v) = gw
        .json(
            "GET",
            &format!("/v1/volumes/inspect/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(state(v), "VOLUME_STATE_RESTORE");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, v) = gw
            .json(
                "GET",
                &format!("/v1/volumes/inspect/{id}"),
                Some(&admin),
                None,
            )
            .await;
        if state(v) == "VOLUME_STATE_DETACHED" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the restore never finished"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    for v in [&clone_id, &snap_id, &id] {
        let (s, _) = gw
            .json("DELETE", &format!("/v1/volumes/{v}"), Some(&admin), None)
            .await;
        assert_eq!(s, 200);
    }
    let (s, _) = gw
        .json(
            "GET",
            &format!("/v1/volumes/inspect/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn metrics_page_serves_volume_and_cluster_series() {
    let page = reqwest::get("http://127.0.0.1:19001/metrics")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("# TYPE px_volume_read_bytes_total counter"));
    let usage = page
        .lines()
        .filter(|l| l.starts_with("px_volume_usage_bytes{"))
        .count();
    assert!(usage >= 4, "{usage} volumes");
    assert!(
        page.lines()
            .any(|l| l.starts_with("px_cluster_status_nodes_online{") && l.ends_with(" 3"))
    );
}
