//! Snapshot and restore against the environment: the API server, the node agent as
//! CSI snapshotter and kubelet, and the Portworx simulator that keeps each volume's
//! bytes. Each test has its own namespace and workloads.
mod common;

use common::{env, init_crypto, namespace};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;
use sextant::config::Secret;
use sextant::engine::restore::{self, Step};
use sextant::engine::restore_run::{Options, run};
use sextant::engine::snapshot::{self, Consistency, Request, SnapshotSet};
use sextant::engine::workload::{Workload, WorkloadKind};
use sextant::exec::Writer;
use sextant::sources::portworx::PxClient;
use std::time::{Duration, Instant};

async fn config(user: Option<&str>) -> Config {
    let kc = Kubeconfig::read_from(env("SEXTANT_TEST_KUBECONFIG")).unwrap();
    let mut c = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    c.auth_info.impersonate = user.map(String::from);
    c
}

async fn client() -> Client {
    init_crypto();
    Client::try_from(config(None).await).unwrap()
}

fn token() -> String {
    std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_TOKEN_FILE"))
        .unwrap()
        .trim()
        .to_string()
}

fn px() -> PxClient {
    PxClient::new(&env("SEXTANT_TEST_PORTWORX"), Some(Secret::new(token()))).unwrap()
}

fn sim(path: &str) -> String {
    format!("{}/sim/{path}", env("SEXTANT_TEST_PORTWORX"))
}

async fn put_data(volume: &str, body: &str) {
    let r = reqwest::Client::new()
        .put(sim(&format!("volumes/{volume}/data")))
        .bearer_auth(token())
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "write {volume}: {}", r.status());
}

async fn data(volume: &str) -> String {
    let r = reqwest::Client::new()
        .get(sim(&format!("volumes/{volume}/data")))
        .bearer_auth(token())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "read {volume}: {}", r.status());
    r.text().await.unwrap()
}

/// The next `count` calls of `op` on `volume` fail with gRPC `code`.
async fn fault(op: &str, volume: &str, code: i32, count: u32) {
    let r = reqwest::Client::new()
        .post(sim("faults"))
        .bearer_auth(token())
        .json(
            &json!({"op": op, "volume_id": volume, "code": code, "count": count,
                      "message": format!("injected {op} failure")}),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "fault: {}", r.status());
}

fn sts(name: &str, replicas: i32) -> StatefulSet {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "serviceName": name,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "db", "image": "mongo:6"}]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"storageClassName": "px-db", "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}
            }]
        }
    }))
    .unwrap()
}

fn workload(ns: &str, name: &str) -> Workload {
    Workload {
        kind: WorkloadKind::StatefulSet,
        namespace: ns.into(),
        name: name.into(),
    }
}

async fn until<T>(what: &str, secs: u64, mut f: impl AsyncFnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(t) = f().await {
            return t;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Creates a StatefulSet and waits until it is ready; returns claim → volume id.
async fn database(c: &Client, ns: &str, name: &str, replicas: i32) -> Vec<(String, String)> {
    let api: Api<StatefulSet> = Api::namespaced(c.clone(), ns);
    api.create(&PostParams::default(), &sts(name, replicas))
        .await
        .unwrap();
    let wl = workload(ns, name);
    sextant::engine::workload::wait_ready(c, &wl, Duration::from_secs(60), &|_| {})
        .await
        .unwrap();
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), ns);
    let mut out = Vec::new();
    for i in 0..replicas {
        let claim = format!("data-{name}-{i}");
        let pv = until(&format!("{claim} bound"), 60, async || {
            claims.get(&claim).await.ok()?.spec?.volume_name
        })
        .await;
        let pv = Api::<PersistentVolume>::all(c.clone())
            .get(&pv)
            .await
            .unwrap();
        out.push((claim, pv.spec.unwrap().csi.unwrap().volume_handle));
    }
    out
}

async fn replicas(c: &Client, ns: &str, name: &str) -> i32 {
    let s = Api::<StatefulSet>::namespaced(c.clone(), ns)
        .get(name)
        .await
        .unwrap();
    s.spec.unwrap().replicas.unwrap()
}

async fn take(c: &Client, ns: &str, name: &str) -> SnapshotSet {
    let req = Request {
        workload: workload(ns, name),
        commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        reason: "manual",
        consistency: Consistency::Each,
        wait: true,
        timeout: Duration::from_secs(60),
    };
    let w = Writer::grant(true).unwrap();
    snapshot::take(&w, c, &req, &|_| {}).await.unwrap()
}

fn opts(secs: u64) -> Options {
    Options {
        safety: true,
        timeout: Duration::from_secs(secs),
        commit: None,
    }
}

#[tokio::test]
async fn a_restore_brings_back_the_snapshot_bytes_on_its_claims_only() {
    let c = client().await;
    let ns = namespace(&c, "restore").await;
    let db = database(&c, &ns, "db", 2).await;
    let other = database(&c, &ns, "other", 1).await;
    for (claim, vol) in db.iter().chain(&other) {
        put_data(vol, &format!("v1 {claim}")).await;
    }
    let set = take(&c, &ns, "db").await;
    assert_eq!(set.snapshots.len(), 2, "{set:?}");
    assert!(set.snapshots.iter().all(|t| t.ready));
    for (claim, vol) in db.iter().chain(&other) {
        put_data(vol, &format!("v2 {claim}")).await;
    }

    let first = &set.snapshots[0].name;
    let plan = restore::plan(&c, &ns, first).await.unwrap();
    assert_eq!(plan.workload, workload(&ns, "db"));
    assert_eq!(plan.items.len(), 2, "the whole set: {plan:?}");
    assert_eq!(plan.replicas, 2);
    assert_eq!(plan.pods, ["db-0", "db-1"]);
    assert_eq!(
        plan.commit.as_deref(),
        Some("0123456789abcdef0123456789abcdef01234567")
    );
    assert!(plan.refusal.is_none());

    let w = Writer::grant(true).unwrap();
    let done = run(&w, &c, &px(), &plan, &opts(60), &|_| {}).await.unwrap();
    assert_eq!(done.restored, ["data-db-0", "data-db-1"]);

    for (claim, vol) in &db {
        assert_eq!(data(vol).await, format!("v1 {claim}"), "restored");
    }
    for (claim, vol) in &other {
        assert_eq!(data(vol).await, format!("v2 {claim}"), "untouched");
    }
    assert_eq!(replicas(&c, &ns, "db").await, 2, "scaled back");
    assert!(
        restore::read_record(&c, &plan.workload)
            .await
            .unwrap()
            .is_none(),
        "the record is gone"
    );
    // The safety set (a Stork group here: two claims) holds what was there before.
    let safety = done.safety.expect("a safety snapshot");
    let back = restore::plan(&c, &ns, &safety).await.unwrap();
    assert_eq!(back.items.len(), 2, "{back:?}");
    for i in &back.items {
        assert_eq!(data(&i.px_snapshot).await, format!("v2 {}", i.claim));
    }
}

/// Runs the plan of `snapshot` and returns the failure it must end in.
async fn fails(c: &Client, ns: &str, snapshot: &str, o: Options) -> restore_run::Failure {
    let plan = restore::plan(c, ns, snapshot).await.unwrap();
    let w = Writer::grant(true).unwrap();
    run(&w, c, &px(), &plan, &o, &|_| {})
        .await
        .expect_err("this restore must fail")
}

use sextant::engine::restore_run;

/// Resumes with the admin client and checks the restored bytes and replicas.
async fn resume_and_check(c: &Client, ns: &str, snapshot: &str, done_before: &[Step], vol: &str) {
    let plan = restore::plan(c, ns, snapshot).await.unwrap();
    let rec = plan
        .resume
        .clone()
        .expect("an unfinished restore to resume");
    assert_eq!(rec.done, done_before);
    assert_eq!(plan.replicas, 1, "the remembered count, not the current 0");
    let w = Writer::grant(true).unwrap();
    run(&w, c, &px(), &plan, &opts(60), &|_| {}).await.unwrap();
    assert_eq!(data(vol).await, "v1");
    assert_eq!(replicas(c, ns, "db").await, 1);
}

async fn one_db(c: &Client, prefix: &str) -> (String, String, String) {
    let ns = namespace(c, prefix).await;
    let db = database(c, &ns, "db", 1).await;
    let vol = db[0].1.clone();
    put_data(&vol, "v1").await;
    let set = take(c, &ns, "db").await;
    put_data(&vol, "v2").await;
    (ns, set.snapshots[0].name.clone(), vol)
}

#[tokio::test]
async fn a_refused_portworx_restore_stops_scaled_down_and_resumes() {
    let c = client().await;
    let (ns, snap, vol) = one_db(&c, "restore-px").await;
    fault("restore", &vol, 9, 1).await;
    let f = fails(&c, &ns, &snap, opts(60)).await;
    assert_eq!(f.step, Step::Restore, "{f}");
    assert!(f.error.contains("injected restore failure"), "{f}");
    assert!(f.state.contains("scaled to 0 (it had 1)"), "{f}");
    // What it says is true: scaled down, data untouched.
    assert_eq!(replicas(&c, &ns, "db").await, 0);
    assert_eq!(data(&vol).await, "v2");
    resume_and_check(
        &c,
        &ns,
        &snap,
        &[Step::Safety, Step::Remember, Step::ScaleDown, Step::Detach],
        &vol,
    )
    .await;
}

#[tokio::test]
async fn a_restore_that_outlasts_its_timeout_says_so_and_resumes() {
    let c = client().await;
    let (ns, snap, vol) = one_db(&c, "restore-slow").await;
    // The simulator takes several seconds to restore; give it one.
    let f = fails(&c, &ns, &snap, opts(1)).await;
    assert_eq!(f.step, Step::WaitRestore, "{f}");
    assert!(f.error.contains("still restoring after 1s"), "{f}");
    assert_eq!(replicas(&c, &ns, "db").await, 0);
    resume_and_check(
        &c,
        &ns,
        &snap,
        &[
            Step::Safety,
            Step::Remember,
            Step::ScaleDown,
            Step::Detach,
            Step::Restore,
        ],
        &vol,
    )
    .await;
}

#[tokio::test]
async fn a_failed_safety_snapshot_changes_nothing() {
    let c = client().await;
    let (ns, snap, vol) = one_db(&c, "restore-safety").await;
    fault("snapshot", &vol, 14, 1).await;
    let f = fails(&c, &ns, &snap, opts(60)).await;
    assert_eq!(f.step, Step::Safety, "{f}");
    assert!(f.error.contains("injected snapshot failure"), "{f}");
    assert!(f.state.starts_with("Nothing was changed"), "{f}");
    assert_eq!(replicas(&c, &ns, "db").await, 1);
    assert_eq!(data(&vol).await, "v2");
    let plan = restore::plan(&c, &ns, &snap).await.unwrap();
    assert!(plan.resume.is_none(), "nothing to resume: nothing was done");
}

/// A user who may do everything a restore needs except scale StatefulSets.
async fn no_scale_user(c: &Client) -> Client {
    let user = format!("no-scale-{}", common::unique());
    let all = ["get", "list", "watch", "create", "delete"];
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": user},
        "rules": [
            {"apiGroups": ["", "apps", "snapshot.storage.k8s.io"], "resources": ["*"], "verbs": all},
            {"apiGroups": [""], "resources": ["configmaps", "namespaces"], "verbs": ["patch", "update"]}
        ]
    }))
    .unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": user},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": user},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .unwrap();
    let pp = PostParams::default();
    Api::<ClusterRole>::all(c.clone())
        .create(&pp, &role)
        .await
        .unwrap();
    Api::<ClusterRoleBinding>::all(c.clone())
        .create(&pp, &binding)
        .await
        .unwrap();
    Client::try_from(config(Some(&user)).await).unwrap()
}

#[tokio::test]
async fn a_scale_the_api_server_rejects_stops_before_any_data_changes_and_resumes() {
    let c = client().await;
    let (ns, snap, vol) = one_db(&c, "restore-rbac").await;
    let limited = no_scale_user(&c).await;
    let f = fails(&limited, &ns, &snap, opts(60)).await;
    assert_eq!(f.step, Step::ScaleDown, "{f}");
    assert!(f.error.contains("forbidden"), "{f}");
    assert_eq!(replicas(&c, &ns, "db").await, 1, "the scale was rejected");
    assert_eq!(data(&vol).await, "v2");
    resume_and_check(&c, &ns, &snap, &[Step::Safety, Step::Remember], &vol).await;
}

#[tokio::test]
async fn a_delete_retention_policy_is_refused_before_anything_happens() {
    let c = client().await;
    let (ns, snap, vol) = one_db(&c, "restore-retain").await;
    let mut plan = restore::plan(&c, &ns, &snap).await.unwrap();
    // This API server (1.20) predates the field and drops it from stored objects,
    // so the refusal is made from the object as a newer server would return it.
    plan.refusal = sextant::engine::workload::retention_refusal(
        &json!({"spec": {"persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"}}}),
    );
    assert!(plan.preview(true).join("\n").contains("REFUSED"));
    let w = Writer::grant(true).unwrap();
    let f = run(&w, &c, &px(), &plan, &opts(60), &|_| {})
        .await
        .expect_err("refused");
    assert!(f.error.contains("whenScaled is Delete"), "{f}");
    assert_eq!(replicas(&c, &ns, "db").await, 1);
    assert_eq!(data(&vol).await, "v2");
    assert!(
        restore::read_record(&c, &plan.workload)
            .await
            .unwrap()
            .is_none()
    );
}

fn sextant(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args([
            "--config",
            &format!("{}/config.toml", env("SEXTANT_ENV_DIR")),
        ])
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test]
async fn read_only_refuses_snapshot_and_restore_from_the_command_line() {
    let c = client().await;
    let (ns, snap, vol) = one_db(&c, "restore-ro").await;
    let before = snapshot::snapshot_api(&c, &ns)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    let out = sextant(&["--read-only", "snapshot", &format!("{ns}/sts/db"), "--wait"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    let out = sextant(&["--read-only", "restore", &format!("{ns}/{snap}"), "--yes"]);
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    let after = snapshot::snapshot_api(&c, &ns)
        .list(&Default::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(before, after, "no snapshot was made");
    assert_eq!(data(&vol).await, "v2");
    assert_eq!(replicas(&c, &ns, "db").await, 1);

    // Writable, the same commands work, with JSON for scripts.
    let out = sextant(&["snapshot", &format!("{ns}/sts/db"), "--wait", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let set: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(set["snapshots"][0]["ready"], true, "{set}");
    let out = sextant(&["volumes", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let claim = format!("{ns}/data-db-0");
    let row = v["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["claim"] == claim.as_str())
        .unwrap_or_else(|| panic!("{claim} in {v}"));
    assert_eq!(row["snapshots"], 2, "{row}");
}

/// `sextant sync` snapshots a StatefulSet it is about to change, and the sync record
/// names the snapshot; `--no-snapshot` skips it.
#[tokio::test]
async fn a_sync_that_changes_a_statefulset_snapshots_it_first() {
    let c = client().await;
    let name = format!("presync-{}", common::unique());
    let root = std::env::temp_dir().join(format!("sextant-{name}"));
    let (_, work) = common::repo_with_remote(&root);
    let manifest = |image: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n---\n\
             apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: {name}}}\nspec:\n  replicas: 1\n  serviceName: db\n  selector: {{matchLabels: {{app: db}}}}\n  template:\n    metadata: {{labels: {{app: db}}}}\n    spec: {{containers: [{{name: db, image: {image}}}]}}\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec: {{storageClassName: px-db, accessModes: [ReadWriteOnce], resources: {{requests: {{storage: 1Gi}}}}}}\n"
        )
    };
    let commit = |image: &str| {
        std::fs::write(work.join("db.yaml"), manifest(image)).unwrap();
        common::git(&work, &["add", "-A"]);
        common::git(&work, &["commit", "-q", "-m", image]);
    };
    let kubeconfig = env("SEXTANT_TEST_KUBECONFIG");
    let sync = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
            .args([
                "--kubeconfig",
                &kubeconfig,
                "--repo",
                work.to_str().unwrap(),
            ])
            .args(["--app", &name, "sync", "--yes"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let pre_sync = async || {
        let lp = kube::api::ListParams::default()
            .labels(&format!("{}=pre-sync", snapshot::REASON_LABEL));
        snapshot::snapshot_api(&c, &name)
            .list(&lp)
            .await
            .unwrap()
            .items
    };
    commit("mongo:6.0");
    let first = sync(&[]);
    assert!(
        !first.contains("before the sync"),
        "nothing to lose yet:\n{first}"
    );
    commit("mongo:6.1");
    let second = sync(&[]);
    assert!(
        second.contains(&format!(
            "snapshot of StatefulSet {name}/db before the sync"
        )),
        "{second}"
    );
    let snaps = pre_sync().await;
    assert_eq!(snaps.len(), 1);
    let snap = format!("{name}/{}", snaps[0].metadata.name.as_ref().unwrap());
    let record =
        Api::<k8s_openapi::api::core::v1::ConfigMap>::namespaced(c.clone(), "sextant-system")
            .get(&format!("sync-{name}"))
            .await
            .unwrap();
    let data = record.data.unwrap();
    assert!(data["snapshots"].contains(&snap), "{data:?}");
    commit("mongo:6.2");
    sync(&["--no-snapshot"]);
    assert_eq!(pre_sync().await.len(), 1, "--no-snapshot takes none");
    let _ = std::fs::remove_dir_all(&root);
}

/// With Stork installed (the node agent plays it), several claims are taken as one
/// GroupVolumeSnapshot while the workload runs, and the group restores them all.
#[tokio::test]
async fn a_stork_group_takes_every_claim_at_once_and_restores_them() {
    let c = client().await;
    let ns = namespace(&c, "restore-stork").await;
    let db = database(&c, &ns, "db", 2).await;
    for (claim, vol) in &db {
        put_data(vol, &format!("v1 {claim}")).await;
    }
    let req = Request {
        workload: workload(&ns, "db"),
        commit: None,
        reason: "manual",
        consistency: Consistency::Auto,
        wait: true,
        timeout: Duration::from_secs(60),
    };
    let w = Writer::grant(true).unwrap();
    let set = snapshot::take(&w, &c, &req, &|_| {}).await.unwrap();
    assert_eq!(set.snapshots.len(), 2, "{set:?}");
    assert_eq!(replicas(&c, &ns, "db").await, 2, "taken without stopping");
    let gvk = kube::api::GroupVersionKind::gvk(
        "stork.libopenstorage.org",
        "v1alpha1",
        "GroupVolumeSnapshot",
    );
    let groups: Api<kube::api::DynamicObject> = Api::namespaced_with(
        c.clone(),
        &ns,
        &kube::api::ApiResource::from_gvk_with_plural(&gvk, "groupvolumesnapshots"),
    );
    let g = groups.get(&set.set).await.unwrap();
    assert_eq!(g.data["status"]["status"], "Successful");
    assert_eq!(
        g.metadata.labels.as_ref().unwrap()[snapshot::WORKLOAD_LABEL],
        "db"
    );
    for (claim, vol) in &db {
        put_data(vol, &format!("v2 {claim}")).await;
    }
    let plan = restore::plan(&c, &ns, &set.set).await.unwrap();
    assert_eq!(plan.workload, workload(&ns, "db"));
    let claims: Vec<_> = plan.items.iter().map(|i| i.claim.as_str()).collect();
    assert_eq!(claims, ["data-db-0", "data-db-1"]);
    let mut o = opts(60);
    o.safety = false;
    run(&w, &c, &px(), &plan, &o, &|_| {}).await.unwrap();
    for (claim, vol) in &db {
        assert_eq!(data(vol).await, format!("v1 {claim}"));
    }
    assert_eq!(replicas(&c, &ns, "db").await, 2);
}
