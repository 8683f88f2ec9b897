//! The GitOps engine against the real API server and real git repositories with a
//! bare remote: sync, drift, conflicts, later commits, roll back, prune, malformed
//! files, and the read-only gate of the command line.
mod common;
use common::app::Fixture;

use common::{env, git, repo_with_remote, unique};
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use sextant::engine::gitops;
use sextant::engine::plan::{Action, Plan};
use sextant::engine::sync::{self, Options, Report};
use sextant::exec::Writer;
use std::process::Command;
use std::time::Duration;

impl Fixture {
    async fn sync(&self, p: &Plan, prune: bool, force: bool) -> Report {
        let w = Writer::grant(true).unwrap();
        let opts = Options {
            prune,
            force_conflicts: force,
            timeout: Duration::from_secs(60),
            synced_by: "Test Ops".into(),
            snapshots: Vec::new(),
        };
        sync::execute(&self.target, &w, p, &opts, &|_| {}).await
    }

    fn api(&self, api_version: &str, kind: &str, plural: &str) -> Api<DynamicObject> {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let ar = kube::api::ApiResource::from_gvk_with_plural(&gvk, plural);
        Api::namespaced_with(self.client.clone(), &self.ns, &ar)
    }
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: NS\n";

const CONFIG: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: NS
data:
  level: info
";

fn web(image: &str) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: NS
spec:
  replicas: 1
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
      - name: web
        image: {image}
        ports:
        - containerPort: 80
          protocol: TCP
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: NS
spec:
  selector: {{app: web}}
  ports:
  - port: 80
    protocol: TCP
"
    )
}

fn actions(p: &Plan) -> Vec<(String, Action)> {
    p.steps
        .iter()
        .map(|s| (format!("{} {}", s.object.kind, s.object.name), s.action))
        .collect()
}

fn changed(p: &Plan) -> Vec<String> {
    p.steps
        .iter()
        .filter(|s| s.action != Action::Unchanged)
        .map(|s| format!("{} {}", s.object.kind, s.object.name))
        .collect()
}

/// Sync, drift, a conflict, a later commit and a roll back, in the order an
/// operator meets them.
#[tokio::test]
async fn sync_drift_conflict_update_and_roll_back() {
    let f = Fixture::new("eng-sync").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("app/config.yaml", CONFIG);
    f.write("app/web.yaml", &web("nginx:1.25"));
    let first = f.commit("Add web");

    // A sync creates every object of the commit, in order, and records the commit.
    let p = f.plan("HEAD").await;
    assert_eq!(
        actions(&p),
        [
            ("Namespace ".to_string() + &f.ns, Action::Create),
            ("ConfigMap settings".into(), Action::Create),
            ("Service web".into(), Action::Create),
            ("Deployment web".into(), Action::Create),
        ]
    );
    let r = f.sync(&p, false, false).await;
    assert!(r.complete(), "{r:#?}");
    assert_eq!(r.rollouts.len(), 1, "the deployment rolled out: {r:#?}");
    let cm = f.get("v1", "ConfigMap", "settings").await.unwrap();
    assert_eq!(cm["metadata"]["labels"]["sextant.dev/app"], f.app.as_str());
    assert_eq!(
        cm["metadata"]["annotations"]["sextant.dev/synced-commit"],
        first.as_str()
    );
    let rec = sync::read_record(&f.target, &f.app).await.unwrap().unwrap();
    assert_eq!(rec.commit, first);
    assert_eq!(rec.synced_by, "Test Ops");

    // Untouched objects, including a Deployment the controllers have worked on,
    // are never drift.
    let p = f.plan(&first).await;
    assert_eq!(changed(&p), Vec::<String>::new(), "{p:#?}");

    // A change made through the API is drift on exactly that object and field, and
    // since another manager now owns the field, a conflict.
    f.api("v1", "ConfigMap", "configmaps")
        .patch(
            "settings",
            &PatchParams {
                field_manager: Some("ops-console".into()),
                ..Default::default()
            },
            &Patch::Merge(json!({"data": {"level": "debug"}})),
        )
        .await
        .unwrap();
    let p = f.plan(&first).await;
    assert_eq!(changed(&p), ["ConfigMap settings"]);
    let s = p
        .steps
        .iter()
        .find(|s| s.object.name == "settings")
        .unwrap();
    assert_eq!(s.action, Action::Conflict);
    assert_eq!(s.changes.len(), 1);
    assert_eq!(
        s.changes[0].describe(),
        "data.level: git info / cluster debug"
    );
    let m = s.message.as_deref().unwrap();
    assert!(
        m.contains("ops-console") && m.contains(".data.level"),
        "{m}"
    );
    assert!(
        s.diff.contains("-  level: debug\n+  level: info"),
        "{}",
        s.diff
    );

    // Not forced, the conflict is skipped and the sync is incomplete.
    let r = f.sync(&p, false, false).await;
    assert!(!r.complete());
    let cm = f.get("v1", "ConfigMap", "settings").await.unwrap();
    assert_eq!(cm["data"]["level"], "debug");
    // Forced, git wins and nothing is left to do.
    let r = f.sync(&p, false, true).await;
    assert!(r.complete(), "{r:#?}");
    let cm = f.get("v1", "ConfigMap", "settings").await.unwrap();
    assert_eq!(cm["data"]["level"], "info");
    assert_eq!(changed(&f.plan(&first).await), Vec::<String>::new());

    // A later commit updates only what changed.
    f.write("app/web.yaml", &web("nginx:1.27"));
    let second = f.commit("Upgrade web to nginx 1.27");
    let p = f.plan("HEAD").await;
    assert_eq!(changed(&p), ["Deployment web"]);
    let s = p.steps.iter().find(|s| s.action == Action::Update).unwrap();
    let paths: Vec<&str> = s.changes.iter().map(|c| c.path.as_str()).collect();
    assert_eq!(paths, ["spec.template.spec.containers[web].image"]);
    let r = f.sync(&p, false, false).await;
    assert!(r.complete(), "{r:#?}");
    let applied: Vec<&str> = r.outcomes.iter().map(|o| o.object.name.as_str()).collect();
    assert_eq!(applied, ["web"]);
    let d = f.get("apps/v1", "Deployment", "web").await.unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.27"
    );
    assert_eq!(
        d["metadata"]["annotations"]["sextant.dev/synced-commit"],
        second.as_str()
    );
    let cm = f.get("v1", "ConfigMap", "settings").await.unwrap();
    assert_eq!(
        cm["metadata"]["annotations"]["sextant.dev/synced-commit"],
        first.as_str()
    );

    // Roll back: a revert commit in git, then its sync restores the previous spec.
    let w = Writer::grant(true).unwrap();
    let revert = gitops::revert(&f.repo(), &w, &second).unwrap();
    let log = git(&f.dir, &["log", "-1", "--format=%an|%s"]);
    assert_eq!(log, "Test Ops|Revert \"Upgrade web to nginx 1.27\"");
    assert!(
        std::fs::read_to_string(f.dir.join("app/web.yaml"))
            .unwrap()
            .contains("nginx:1.25")
    );
    let p = f.plan(&revert).await;
    assert_eq!(changed(&p), ["Deployment web"]);
    assert!(f.sync(&p, false, false).await.complete());
    let d = f.get("apps/v1", "Deployment", "web").await.unwrap();
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(
        sync::read_record(&f.target, &f.app)
            .await
            .unwrap()
            .unwrap()
            .commit,
        revert
    );
}

/// Prune deletes only what this app applied and git no longer has, and only when asked.
#[tokio::test]
async fn prune_removes_only_this_apps_managed_objects() {
    let f = Fixture::new("eng-prune").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("config.yaml", CONFIG);
    f.write(
        "extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n  namespace: NS\ndata:\n  a: \"1\"\n",
    );
    f.commit("Two config maps");
    assert!(f.sync(&f.plan("HEAD").await, false, false).await.complete());
    // Objects nobody applied through this app: made by hand, and another app's.
    let cms = f.api("v1", "ConfigMap", "configmaps");
    for (name, labels) in [
        ("by-hand", json!({})),
        ("other-app", json!({"sextant.dev/app": "someone-else"})),
    ] {
        let cm: DynamicObject = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "labels": labels}, "data": {"x": "y"}
        }))
        .unwrap();
        cms.create(&PostParams::default(), &cm).await.unwrap();
    }
    std::fs::remove_file(f.dir.join("extra.yaml")).unwrap();
    f.commit("Drop the extra config map");
    let p = f.plan("HEAD").await;
    assert_eq!(changed(&p), ["ConfigMap extra"]);
    assert_eq!(p.count(Action::Prune), 1);
    // Without --prune nothing is deleted.
    assert!(f.sync(&p, false, false).await.complete());
    assert!(f.get("v1", "ConfigMap", "extra").await.is_some());
    let r = f.sync(&p, true, false).await;
    assert!(r.complete(), "{r:#?}");
    assert!(f.get("v1", "ConfigMap", "extra").await.is_none());
    for kept in ["settings", "by-hand", "other-app", "kube-root-ca.crt"] {
        assert!(
            f.get("v1", "ConfigMap", kept).await.is_some(),
            "{kept} was deleted"
        );
    }
}

/// A malformed file is named with its line, as is a kustomization sextant cannot
/// render; either leaves the commit's desired state unknown, so nothing of it syncs
/// (tests/fault_manifests.rs has the commit after, which does).
#[tokio::test]
async fn a_malformed_or_unsupported_file_disables_the_sync_of_its_commit() {
    let f = Fixture::new("eng-bad").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("good.yaml", CONFIG);
    f.write(
        "apps/broken.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  namespace: NS\ndata:\n  a: b: c\n",
    );
    f.write("kustomization.yaml", "resources: [good.yaml]\n");
    f.commit("A broken file among good ones");
    let p = f.plan("HEAD").await;
    assert_eq!(p.errors.len(), 2, "{:?}", p.errors);
    assert!(
        p.errors
            .iter()
            .any(|e| e.starts_with("apps/broken.yaml:7: ")),
        "{:?}",
        p.errors
    );
    assert!(
        p.errors
            .iter()
            .any(|e| e.contains("kustomization.yaml") && e.contains("not supported"))
    );
    assert_eq!(p.count(Action::Create), 2);
    assert!(p.refusal().is_some());
    let r = f.sync(&p, false, false).await;
    assert!(r.outcomes.is_empty() && !r.complete(), "{r:?}");
    assert!(f.get("v1", "ConfigMap", "settings").await.is_none());
    let record = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": format!("sync-{}", f.app), "namespace": "sextant-system"}});
    let l = f.target.locate(&record).await.unwrap();
    assert!(
        f.target.get(&l).await.unwrap().is_none(),
        "nothing recorded"
    );
}

fn cli(f: &Fixture, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
        .args(["--repo", f.dir.to_str().unwrap(), "--app", &f.app])
        .args(["--log-file", f.dir.join("../sextant.log").to_str().unwrap()])
        .args(args)
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The command line: exit codes, JSON, and `--read-only` refusing every write.
#[tokio::test]
async fn the_command_line_reports_plans_and_read_only_refuses_writes() {
    let f = Fixture::new("eng-cli").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("config.yaml", CONFIG);
    f.write(
        "secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: NS\nstringData:\n  password: s3cr3t-value\n",
    );
    let first = f.commit("Config");

    let (code, out, err) = cli(&f, &["status", "-o", "json"]);
    assert_eq!(code, 3, "never synced is out of sync: {out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["synced"], Value::Null);
    assert_eq!(v["head"], first.as_str());

    let (code, out, _) = cli(&f, &["diff"]);
    assert_eq!(code, 3);
    assert!(
        out.contains("Create ConfigMap") && out.contains("+kind: ConfigMap"),
        "{out}"
    );
    // A Secret's value is in no output, plain or base64.
    let (_, json_out, _) = cli(&f, &["diff", "-o", "json"]);
    assert!(out.contains("Create Secret"), "{out}");
    for text in [&out, &json_out] {
        assert!(
            !text.contains("s3cr3t-value") && !text.contains("czNjcjN0LXZhbHVl"),
            "{text}"
        );
    }

    // Read-only: sync and roll back are refused, and nothing changed.
    let (code, _, err) = cli(&f, &["--read-only", "sync", "--yes"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("read-only"), "{err}");
    assert!(f.get("v1", "ConfigMap", "settings").await.is_none());
    let (code, _, err) = cli(&f, &["rollback", "HEAD", "--yes", "--read-only"]);
    assert_eq!(code, 5, "{err}");
    assert_eq!(git(&f.dir, &["rev-parse", "HEAD"]), first);
    // A dry run writes nothing either; without a terminal or --yes, a sync is refused.
    assert_eq!(cli(&f, &["sync", "--dry-run"]).0, 3);
    assert_eq!(cli(&f, &["sync"]).0, 5);
    assert!(f.get("v1", "ConfigMap", "settings").await.is_none());

    let (code, out, err) = cli(&f, &["sync", "--yes", "-o", "json"]);
    assert_eq!(code, 0, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["complete"], true);
    assert!(
        err.contains("recorded"),
        "progress goes to stderr with JSON: {err}"
    );
    let (code, out, _) = cli(&f, &["status"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("0 drifted, 0 missing, 0 not in git, 3 synced"),
        "{out}"
    );
    assert_eq!(cli(&f, &["diff"]).0, 0);
}

/// Commit and push of edited manifests; a push the remote is ahead of is rejected
/// with what to do, never forced.
#[test]
fn commit_and_push_and_a_rejected_push() {
    let id = unique();
    let dir = std::env::temp_dir().join(format!("sextant-push-{id}"));
    // Two clones of one remote: a pushes first, b is then behind.
    let (remote, a) = repo_with_remote(&dir);
    let b = dir.join("b");
    git(
        &dir,
        &["clone", "-q", remote.to_str().unwrap(), b.to_str().unwrap()],
    );
    std::fs::write(a.join("cm.yaml"), CONFIG).unwrap();
    git(&a, &["add", "-A"]);
    git(&a, &["commit", "-q", "-m", "first"]);
    git(&a, &["push", "-q", "origin", "main"]);
    git(&b, &["pull", "-q", "origin", "main"]);

    let w = Writer::grant(true).unwrap();
    let repo = git2::Repository::open(&a).unwrap();
    std::fs::write(a.join("cm.yaml"), CONFIG.replace("info", "warn")).unwrap();
    std::fs::write(a.join("new.yaml"), CONFIG.replace("settings", "new")).unwrap();
    let files = gitops::changed_files(&repo).unwrap();
    assert_eq!(files, ["cm.yaml", "new.yaml"]);
    assert!(gitops::commit(&repo, &w, &files, "  ").is_err());
    let sha = gitops::commit(&repo, &w, &files, "Louder logs").unwrap();
    assert!(gitops::changed_files(&repo).unwrap().is_empty());
    assert_eq!(gitops::push(&repo, &w).unwrap(), "pushed main to origin");
    assert_eq!(git(&remote, &["rev-parse", "main"]), sha);

    // b is now behind; its own commit cannot be pushed over a's.
    std::fs::write(b.join("b.yaml"), CONFIG.replace("settings", "b")).unwrap();
    let repo_b = git2::Repository::open(&b).unwrap();
    gitops::commit(&repo_b, &w, &["b.yaml".into()], "From b").unwrap();
    let e = gitops::push(&repo_b, &w).unwrap_err();
    assert!(e.contains("rejected") && e.contains("pull"), "{e}");
    assert_eq!(git(&remote, &["rev-parse", "main"]), sha);
}
