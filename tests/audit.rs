//! The audit trail against the environment: the real binary appends one JSON line per
//! write to `--audit-log` and leaves a Kubernetes Event on what it changed; read-only
//! writes neither.
mod common;

use common::{env, init_crypto, namespace};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::{Value, json};
use sextant::engine::workload::{Workload, WorkloadKind};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

async fn client() -> Client {
    init_crypto();
    let kc = Kubeconfig::read_from(env("SEXTANT_TEST_KUBECONFIG")).unwrap();
    let c = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(c).unwrap()
}

fn context() -> String {
    Kubeconfig::read_from(env("SEXTANT_TEST_KUBECONFIG"))
        .unwrap()
        .current_context
        .unwrap()
}

/// Runs sextant with the test kubeconfig, a repository whose git user is "Test Ops",
/// and the audit and log files under `root`.
fn sextant(root: &Path, repo: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
        .args(["--repo", repo.to_str().unwrap()])
        .args(["--log-file", root.join("sextant.log").to_str().unwrap()])
        .args(args)
        .output()
        .unwrap()
}

/// The audit file's lines, parsed; none when it does not exist.
fn lines(file: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    assert!(text.is_empty() || text.ends_with('\n'), "{text}");
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// Events in `ns` about object `name` with `reason`.
async fn events(c: &Client, ns: &str, name: &str, reason: &str) -> Vec<Event> {
    let lp = ListParams::default().fields(&format!("involvedObject.name={name},reason={reason}"));
    Api::<Event>::namespaced(c.clone(), ns)
        .list(&lp)
        .await
        .unwrap()
        .items
}

fn check_line(v: &Value, action: &str) {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "action", "commit", "context", "result", "target", "time", "who"
        ],
        "{v}"
    );
    assert_eq!(v["action"], action, "{v}");
    assert_eq!(v["who"], "Test Ops", "{v}");
    assert_eq!(v["context"], context(), "{v}");
    chrono::DateTime::parse_from_rfc3339(v["time"].as_str().unwrap()).expect("RFC 3339");
}

async fn statefulset(c: &Client, ns: &str) -> StatefulSet {
    let sts: StatefulSet = serde_json::from_value(json!({
        "metadata": {"name": "db"},
        "spec": {
            "replicas": 1,
            "serviceName": "db",
            "selector": {"matchLabels": {"app": "db"}},
            "template": {
                "metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": "mongo:6"}]}
            },
            "volumeClaimTemplates": [{
                "metadata": {"name": "data"},
                "spec": {"storageClassName": "px-db", "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}
            }]
        }
    }))
    .unwrap();
    let api: Api<StatefulSet> = Api::namespaced(c.clone(), ns);
    let made = api.create(&PostParams::default(), &sts).await.unwrap();
    let wl = Workload {
        kind: WorkloadKind::StatefulSet,
        namespace: ns.into(),
        name: "db".into(),
    };
    sextant::engine::workload::wait_ready(c, &wl, Duration::from_secs(60), &|_| {})
        .await
        .unwrap();
    made
}

fn scratch(name: &str) -> (PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("sextant-{name}"));
    let (_, work) = common::repo_with_remote(&root);
    (root, work)
}

#[tokio::test]
async fn a_snapshot_is_one_audit_line_and_an_event_on_the_workload() {
    let c = client().await;
    let ns = namespace(&c, "audit").await;
    let sts = statefulset(&c, &ns).await;
    let (root, work) = scratch(&ns);
    let workload = format!("{ns}/sts/db");

    // Read-only first: refused, so no line and no Event.
    let ro_file = root.join("ro/audit.log");
    let ro = ro_file.to_str().unwrap();
    let out = sextant(
        &root,
        &work,
        &[
            "--audit-log",
            ro,
            "--read-only",
            "snapshot",
            &workload,
            "--wait",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "{out:?}");
    assert!(lines(&ro_file).is_empty(), "read-only writes no line");
    assert!(events(&c, &ns, "db", "SextantSnapshot").await.is_empty());

    let file = root.join("audit.log");
    let app = format!("never-synced-{}", common::unique());
    let args = [
        "--app",
        &app,
        "--audit-log",
        file.to_str().unwrap(),
        "snapshot",
        &workload,
        "--wait",
    ];
    let out = sextant(&root, &work, &args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let l = lines(&file);
    assert_eq!(l.len(), 1, "{l:?}");
    check_line(&l[0], "snapshot");
    assert_eq!(l[0]["target"], format!("StatefulSet {ns}/db"));
    assert_eq!(l[0]["result"], "ok");
    assert!(l[0]["commit"].is_null(), "the app was never synced");

    let ev = events(&c, &ns, "db", "SextantSnapshot").await;
    assert_eq!(ev.len(), 1, "{ev:?}");
    let e = &ev[0];
    assert_eq!(e.type_.as_deref(), Some("Normal"));
    assert_eq!(e.reporting_component.as_deref(), Some("sextant"));
    assert_eq!(
        e.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("sextant")
    );
    let o = &e.involved_object;
    assert_eq!(o.kind.as_deref(), Some("StatefulSet"));
    assert_eq!(o.api_version.as_deref(), Some("apps/v1"));
    assert_eq!(o.uid, sts.metadata.uid, "kubectl describe finds it by uid");
    let message = e.message.as_deref().unwrap_or_default();
    assert!(
        message.starts_with("snapshot by Test Ops: snapshot set db-"),
        "{message}"
    );

    // A second write appends; the first line stays.
    let out = sextant(&root, &work, &args);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(lines(&file).len(), 2);
    assert_eq!(lines(&file)[0], l[0]);

    let _ = Api::<Namespace>::all(c)
        .delete(&ns, &DeleteParams::default())
        .await;
    let _ = std::fs::remove_dir_all(&root);
}

#[tokio::test]
async fn a_sync_records_its_objects_its_prunes_and_a_summary() {
    let c = client().await;
    let name = format!("audit-sync-{}", common::unique());
    let (root, work) = scratch(&name);
    let file = root.join("audit.log");
    let cm = |n: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: {name}}}\ndata: {{k: v}}\n"
        )
    };
    std::fs::write(
        work.join("ns.yaml"),
        format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}}}\n"),
    )
    .unwrap();
    std::fs::write(work.join("cfg.yaml"), cm("cfg")).unwrap();
    std::fs::write(work.join("old.yaml"), cm("old")).unwrap();
    common::git(&work, &["add", "-A"]);
    common::git(&work, &["commit", "-q", "-m", "two maps"]);
    let first = common::git(&work, &["rev-parse", "HEAD"]);
    let sync = |extra: &[&str]| {
        let mut args = vec![
            "--app",
            name.as_str(),
            "--audit-log",
            file.to_str().unwrap(),
        ];
        args.extend(["sync", "--yes"]);
        args.extend(extra);
        let out = sextant(&root, &work, &args);
        assert_eq!(out.status.code(), Some(0), "{out:?}");
    };
    sync(&[]);
    let l = lines(&file);
    assert_eq!(l.len(), 1, "{l:?}");
    check_line(&l[0], "sync");
    assert_eq!(l[0]["commit"], first);
    assert_eq!(l[0]["result"], "ok");
    let target = l[0]["target"].as_str().unwrap();
    assert!(target.starts_with(&format!("app {name}: ")), "{target}");
    for o in [
        format!("Namespace {name}"),
        format!("ConfigMap {name}/cfg"),
        format!("ConfigMap {name}/old"),
    ] {
        assert!(target.contains(&o), "{o} in {target}");
    }
    let applied = events(&c, &name, "cfg", "SextantSync").await;
    assert_eq!(applied.len(), 1, "{applied:?}");
    let live = Api::<ConfigMap>::namespaced(c.clone(), &name)
        .get("cfg")
        .await
        .unwrap();
    assert_eq!(applied[0].involved_object.uid, live.metadata.uid);
    let summary = events(&c, "sextant-system", &format!("sync-{name}"), "SextantSync").await;
    assert_eq!(summary.len(), 1, "{summary:?}");
    let m = summary[0].message.as_deref().unwrap_or_default();
    assert!(m.contains("3 applied, 0 pruned, 0 failed"), "{m}");

    std::fs::remove_file(work.join("old.yaml")).unwrap();
    common::git(&work, &["commit", "-q", "-am", "one map"]);
    sync(&["--prune"]);
    let l = lines(&file);
    let actions: Vec<&str> = l.iter().map(|v| v["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["sync", "sync", "prune"], "{l:?}");
    check_line(&l[2], "prune");
    assert_eq!(l[2]["target"], format!("app {name}: ConfigMap {name}/old"));
    assert_eq!(l[2]["result"], "ok");
    let pruned = events(&c, &name, "old", "SextantPrune").await;
    assert_eq!(pruned.len(), 1, "{pruned:?}");
    assert_eq!(pruned[0].type_.as_deref(), Some("Normal"));

    let _ = Api::<ConfigMap>::namespaced(c.clone(), "sextant-system")
        .delete(&format!("sync-{name}"), &DeleteParams::default())
        .await;
    let _ = Api::<Namespace>::all(c)
        .delete(&name, &DeleteParams::default())
        .await;
    let _ = std::fs::remove_dir_all(&root);
}
