//! Issue 8, cases 5 and 15, against the real API server and real git repositories:
//! bad manifests in git (malformed YAML, alias bombs, a 20 MB file) disable the sync
//! of their commit only, with bounded memory; a sync whose wave fails (a workload
//! that never becomes ready, an immutable field) stops there and says partial.
mod common;
use common::app::Fixture;

use common::{env, git, repo_with_remote, unique, wait_for};
use serde_json::{Value, json};
use sextant::app::Msg;
use sextant::app::msg::{Command, WriteIntent};
use sextant::engine::manifests;
use sextant::engine::plan::Action;
use sextant::engine::sync::{self, Options};
use sextant::exec::{Executor, GitOps, Handles, Writer};
use std::process::{Command as Process, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};

impl Fixture {
    /// The sync record's data, if the app was ever synced.
    async fn record(&self) -> Option<Value> {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("sync-{}", self.app), "namespace": "sextant-system"}});
        let l = self.target.locate(&cm).await.unwrap();
        Some(self.target.get(&l).await.unwrap()?["data"].clone())
    }

    fn cli_command(&self, args: &[&str]) -> Process {
        let mut c = Process::new(env!("CARGO_BIN_EXE_sextant"));
        c.args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
            .args(["--repo", self.dir.to_str().unwrap(), "--app", &self.app])
            .args([
                "--log-file",
                self.dir.join("../sextant.log").to_str().unwrap(),
            ])
            .args([
                "--audit-log",
                self.dir.join("../audit.log").to_str().unwrap(),
            ])
            .args(args)
            .env("KUBECONFIG", "/nonexistent");
        c
    }

    /// Runs the binary: exit code, stdout, stderr.
    fn cli(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.cli_command(args).output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into(),
            String::from_utf8_lossy(&out.stderr).into(),
        )
    }

    /// Runs the binary and reads its peak resident memory (VmHWM, KiB) while it runs:
    /// the high-water mark only grows, so the last reading before exit is the peak
    /// up to the last few milliseconds, which only tear down.
    fn cli_peak(&self, args: &[&str]) -> (i32, String, u64) {
        let mut child = self
            .cli_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id().to_string();
        let mut peak = 0;
        let code = loop {
            if let Some(kib) = sextant::memory::status_kib(&pid, "VmHWM") {
                peak = peak.max(kib);
            }
            if let Some(s) = child.try_wait().unwrap() {
                break s.code().unwrap_or(-1);
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let mut out = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut out).unwrap();
        (code, out, peak)
    }
}

const NAMESPACE: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: NS\n";

fn config_map(name: &str, level: &str, wave: Option<i32>) -> String {
    let annotations = wave
        .map(|w| format!("  annotations:\n    argocd.argoproj.io/sync-wave: \"{w}\"\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: NS\n{annotations}data:\n  level: {level}\n"
    )
}

/// A Deployment in `wave`; `ready: false` has the node agent fail its readiness probe.
fn deployment(name: &str, wave: i32, ready: bool) -> String {
    let probe = if ready {
        String::new()
    } else {
        "\n      annotations:\n        testenv.sextant.dev/ready: \"false\"".into()
    };
    format!(
        "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  namespace: NS
  annotations:
    argocd.argoproj.io/sync-wave: \"{wave}\"
spec:
  replicas: 1
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}{probe}
    spec:
      nodeSelector:
        kubernetes.io/os: linux
      containers:
      - name: {name}
        image: nginx:1.27
"
    )
}

/// A StatefulSet with no pods (so no claims), whose claim template size is `size`.
fn statefulset(size: &str, wave: i32) -> String {
    format!(
        "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: NS
  annotations:
    argocd.argoproj.io/sync-wave: \"{wave}\"
spec:
  replicas: 0
  serviceName: db
  selector:
    matchLabels: {{app: db}}
  template:
    metadata:
      labels: {{app: db}}
    spec:
      containers:
      - name: db
        image: postgres:16
  volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      resources:
        requests:
          storage: {size}
"
    )
}

/// The malformed document of case 5: line 7 has a second `:`.
const BROKEN: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: broken
  namespace: NS
data:
  a: b: c
";

/// Ten levels of ten references (refused by serde_yaml's repetition limit too).
fn billion_laughs() -> String {
    let mut t = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol, namespace: NS}\ndata:\n",
    );
    t.push_str("  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
    for w in names.windows(2) {
        let refs = vec![format!("*{}", w[0]); 10].join(",");
        t.push_str(&format!("  {}: &{} [{refs}]\n", w[1], w[1]));
    }
    t
}

/// An anchor of 1,000 values referenced 10,000 times: 52 KB that serde_yaml's
/// repetition limit lets through, expanding to 10 million values.
fn quadratic_bomb() -> String {
    let mut t =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: quad, namespace: NS}\n");
    t.push_str(&format!("x: &a [{}x]\ndata:\n", "x,".repeat(1000)));
    t.push_str(&"- *a\n".repeat(10_000));
    t
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// A commit with a malformed file is refused whole, naming the file and line; the
/// next commit, with the file fixed, syncs.
#[tokio::test]
async fn case_5_a_malformed_file_disables_the_sync_of_its_commit_only() {
    let f = Fixture::new("fm5-bad").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("app/good.yaml", &config_map("settings", "info", None));
    f.write("app/broken.yaml", BROKEN);
    let bad = f.commit("A broken file among good ones");

    let p = f.plan("HEAD").await;
    assert_eq!(
        p.errors,
        ["app/broken.yaml:7: mapping values are not allowed in this context"]
    );
    assert_eq!(p.count(Action::Create), 2, "the good objects still plan");
    let why = p.refusal().expect("refused");
    assert!(why.contains("app/broken.yaml:7"), "{why}");

    // The command line: diff says incomplete, sync is refused, nothing is applied.
    let (code, out, _) = f.cli(&["diff"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("unreadable app/broken.yaml:7: mapping values"),
        "{out}"
    );
    let (code, out, _) = f.cli(&["sync", "--dry-run"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("disabled: app/broken.yaml:7"), "{out}");
    let (code, _, err) = f.cli(&["sync", "--yes"]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains(&format!(
            "sync of {} disabled: app/broken.yaml:7",
            &bad[..8]
        )),
        "{err}"
    );
    // The engine refuses the plan whole, even when asked directly.
    let w = Writer::grant(true).unwrap();
    let opts = Options {
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    let r = sync::execute(&f.target, &w, &p, &opts, &|_| {}).await;
    assert!(
        r.outcomes.is_empty() && !r.recorded && !r.complete(),
        "{r:?}"
    );
    assert!(f.get("v1", "ConfigMap", "settings").await.is_none());
    assert!(f.record().await.is_none(), "no sync was recorded");

    // The next commit reads cleanly and syncs whole.
    f.write("app/broken.yaml", &BROKEN.replace("a: b: c", "a: b"));
    let good = f.commit("Fix the broken file");
    let (code, out, err) = f.cli(&["sync", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("synced {}", &good[..8])), "{out}");
    assert!(f.get("v1", "ConfigMap", "settings").await.is_some());
    assert_eq!(
        f.get("v1", "ConfigMap", "broken").await.unwrap()["data"]["a"],
        "b"
    );
    let rec = f.record().await.unwrap();
    assert_eq!(
        (rec["commit"].as_str(), rec["result"].as_str()),
        (Some(good.as_str()), Some("complete"))
    );
}

/// Alias bombs are refused by file and line, and reading them costs little memory:
/// the binary's peak is measured against the same commit without them.
#[tokio::test]
async fn case_5_alias_bombs_are_refused_with_bounded_memory() {
    let f = Fixture::new("fm5-bomb").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("app/good.yaml", &config_map("settings", "info", None));
    let clean = f.commit("Config");
    f.write("app/laughs.yaml", &billion_laughs());
    f.write("app/quadratic.yaml", &quadratic_bomb());
    let bombs = f.commit("Two alias bombs");

    let (code, _, base) = f.cli_peak(&["diff", "--commit", &clean]);
    assert_eq!(code, 3, "the clean commit plans");
    let started = Instant::now();
    let (code, out, peak) = f.cli_peak(&["diff", "--commit", &bombs]);
    let took = started.elapsed();
    assert_eq!(code, 4, "{out}");
    // At the line where the bomb's document starts.
    for file in ["app/laughs.yaml:1: ", "app/quadratic.yaml:1: "] {
        let line = out
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} not reported: {out}"));
        assert!(line.contains("refused as an alias bomb"), "{line}");
    }
    println!(
        "case 5, alias bombs: `sextant diff` peak RSS {:.1} MiB with both bombs, {:.1} MiB \
         without: growth {:.1} MiB; refused in {} ms",
        mib(peak),
        mib(base),
        mib(peak.saturating_sub(base)),
        took.as_millis()
    );
    // serde_yaml alone expands the quadratic bomb to about 1 GiB.
    assert!(
        peak.saturating_sub(base) < 64 * 1024,
        "peak {peak} KiB against {base} KiB"
    );
    let (code, _, err) = f.cli(&["sync", "--yes"]);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.contains("disabled") && err.contains("alias bomb"),
        "{err}"
    );
    assert!(f.record().await.is_none());
}

/// A 20 MB manifest is over the 10 MiB a commit's manifests may total: refused by
/// name without being read; the commit after it syncs.
#[tokio::test]
async fn case_5_a_20_mb_manifest_is_refused_unread_and_named() {
    let f = Fixture::new("fm5-huge").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("app/good.yaml", &config_map("settings", "info", None));
    let clean = f.commit("Config");
    let mut huge = String::new();
    let mut i = 0;
    while huge.len() < 20_000_000 {
        huge.push_str(&config_map(&format!("c{i}"), &"x".repeat(900), None));
        huge.push_str("---\n");
        i += 1;
    }
    f.write("app/huge.yaml", &huge);
    f.commit("20 MB of config maps");

    let (_, _, base) = f.cli_peak(&["diff", "--commit", &clean]);
    let (code, out, peak) = f.cli_peak(&["diff"]);
    assert_eq!(code, 4, "{out}");
    let line = out
        .lines()
        .find(|l| l.starts_with("unreadable app/huge.yaml: "))
        .unwrap_or_else(|| panic!("the file is not named: {out}"));
    assert!(
        line.contains(" MiB is over 10.0 MiB, the most read for one commit"),
        "{line}"
    );
    println!(
        "case 5, 20 MB manifest: `sextant diff` peak RSS {:.1} MiB, {:.1} MiB without it: \
         growth {:.1} MiB (the blob is never read)",
        mib(peak),
        mib(base),
        mib(peak.saturating_sub(base))
    );
    assert!(
        peak.saturating_sub(base) < 16 * 1024,
        "peak {peak} KiB against {base} KiB"
    );
    let (code, _, err) = f.cli(&["sync", "--yes"]);
    assert_eq!(code, 5, "{err}");
    assert!(err.contains("app/huge.yaml"), "{err}");

    f.remove("app/huge.yaml");
    let next = f.commit("Drop the huge file");
    let (code, out, err) = f.cli(&["sync", "--yes"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(f.record().await.unwrap()["commit"], next.as_str());
}

fn vm_hwm_kib() -> u64 {
    sextant::memory::status_kib("self", "VmHWM").unwrap()
}

/// Run by `case_5_a_commit_at_the_size_limit_reads_within_bounded_memory` in a
/// process of its own, so no other test's memory is counted.
#[test]
#[ignore = "run in its own process by case_5_a_commit_at_the_size_limit_…"]
fn read_manifests_in_a_child_process() {
    let repo = git2::Repository::open(env("FAULT_MANIFESTS_REPO")).unwrap();
    let base = vm_hwm_kib();
    let started = Instant::now();
    let m = manifests::read(&repo, "HEAD", "").unwrap();
    println!(
        "objects={} errors={} base_kib={base} peak_kib={} ms={}",
        m.objects.len(),
        m.errors.len(),
        vm_hwm_kib(),
        started.elapsed().as_millis()
    );
}

/// Just under the 10 MiB a commit may hold, of realistic Deployments: everything is
/// read, and what that costs is measured in a process of its own.
#[test]
fn case_5_a_commit_at_the_size_limit_reads_within_bounded_memory() {
    let dir = std::env::temp_dir().join(format!("sextant-fault-limit-{}", unique()));
    let (_, work) = repo_with_remote(&dir);
    let (mut total, mut n) = (0, 0);
    for file in 0..4 {
        let mut text = String::new();
        while text.len() < 2_400_000 {
            text.push_str(&deployment(&format!("web-{n}"), 0, true));
            text.push_str("---\n");
            n += 1;
        }
        total += text.len();
        std::fs::write(
            work.join(format!("apps-{file}.yaml")),
            text.replace("NS", "shop"),
        )
        .unwrap();
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "Many deployments"]);
    let out = Process::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "read_manifests_in_a_child_process",
            "--nocapture",
        ])
        .args(["--test-threads", "1"])
        .env("FAULT_MANIFESTS_REPO", &work)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.contains("objects="))
        .unwrap_or_else(|| panic!("{text}{}", String::from_utf8_lossy(&out.stderr)));
    let field = |name: &str| -> u64 {
        let v = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")));
        v.unwrap().parse().unwrap()
    };
    assert_eq!((field("objects"), field("errors")), (n as u64, 0), "{line}");
    let growth = field("peak_kib") - field("base_kib");
    println!(
        "case 5, a commit at the limit: {:.1} MiB of YAML, {n} Deployments, read in {} ms \
         (debug build); peak RSS growth {:.1} MiB",
        total as f64 / 1048576.0,
        field("ms"),
        mib(growth)
    );
    // About 23 bytes of memory per byte of YAML while parsing; an unbounded read of a
    // 20 MB file would be near 500 MiB.
    assert!(growth < 400 * 1024, "{line}");
}

/// Wave 2 holds a Deployment that never becomes ready: waves 0 and 1 are applied and
/// wave 2's objects too, wave 3 is not, and the sync is partial (exit code 4).
#[tokio::test]
async fn case_15_an_unhealthy_workload_stops_the_sync_before_the_next_wave() {
    let f = Fixture::new("fm15-wave").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("base.yaml", &config_map("base", "info", None));
    f.write("db.yaml", &deployment("db", 1, true));
    f.write("stuck.yaml", &deployment("stuck", 2, false));
    f.write("wave2.yaml", &config_map("wave2", "info", Some(2)));
    f.write("web.yaml", &deployment("web", 3, true));
    f.write("late.yaml", &config_map("late", "info", Some(3)));
    let sha = f.commit("Four waves, one stuck");

    let p = f.plan("HEAD").await;
    let order: Vec<(i32, String)> = p
        .steps
        .iter()
        .map(|s| (s.wave, format!("{} {}", s.object.kind, s.object.name)))
        .collect();
    let ns = format!("Namespace {}", f.ns);
    assert_eq!(
        order,
        [
            (0, ns.as_str()),
            (0, "ConfigMap base"),
            (1, "Deployment db"),
            (2, "ConfigMap wave2"),
            (2, "Deployment stuck"),
            (3, "ConfigMap late"),
            (3, "Deployment web"),
        ]
        .map(|(w, s)| (w, s.to_string()))
    );

    // Generous: in a namespace just made, pods wait for its default service account,
    // and the ReplicaSet controller backs off meanwhile (seen past 30 s in CI).
    let (code, out, err) = f.cli(&["sync", "--yes", "--timeout", "90", "-o", "json"]);
    assert_eq!(code, 4, "partial is exit code 4: {out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (v["complete"].as_bool(), v["result"].as_str()),
        (Some(false), Some("partial"))
    );
    let report = &v["report"];
    let results: Vec<(String, String)> = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["object"]["name"].as_str().unwrap().to_string(),
                o["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let applied = |n: &str| (n.to_string(), "applied".to_string());
    assert_eq!(
        results,
        [
            applied(&f.ns),
            applied("base"),
            applied("db"),
            applied("wave2"),
            applied("stuck")
        ],
        "stopped: {}",
        report["stopped"]
    );
    let rollouts: Vec<(&str, bool)> = report["rollouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[0]["name"].as_str().unwrap(), r[1].as_bool().unwrap()))
        .collect();
    assert_eq!(rollouts, [("db", true), ("stuck", false)]);
    let stopped = report["stopped"].as_str().unwrap();
    assert!(
        stopped.starts_with(&format!(
            "wave 2: Deployment {}/stuck not ready: 1/1 updated, 0 ready",
            f.ns
        )),
        "{stopped}"
    );
    let not_applied: Vec<&str> = report["not_applied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(not_applied, ["late", "web"]);
    assert!(
        err.contains("stopped at wave 2") && err.contains("not applied Deployment"),
        "{err}"
    );
    println!(
        "case 15, unhealthy wave: {}",
        err.lines()
            .filter(|l| l.contains("wave"))
            .collect::<Vec<_>>()
            .join(" | ")
    );

    // The cluster: waves 0 to 2 are there, wave 3 is not; the record says partial.
    for name in ["base", "wave2"] {
        assert!(f.get("v1", "ConfigMap", name).await.is_some(), "{name}");
    }
    assert!(f.get("apps/v1", "Deployment", "stuck").await.is_some());
    assert!(f.get("apps/v1", "Deployment", "web").await.is_none());
    assert!(f.get("v1", "ConfigMap", "late").await.is_none());
    let rec = f.record().await.unwrap();
    assert_eq!(
        (rec["commit"].as_str(), rec["result"].as_str()),
        (Some(sha.as_str()), Some("partial"))
    );
    // Drift says what is missing: the objects of wave 3.
    let drift = f.plan(&sha).await;
    let missing: Vec<&str> = drift
        .steps
        .iter()
        .filter(|s| s.action == Action::Create)
        .map(|s| s.object.name.as_str())
        .collect();
    assert_eq!(missing, ["late", "web"]);
}

fn handles(f: &Fixture) -> Handles {
    Handles {
        git: None,
        graph: watch::channel(None).0,
        storage: Arc::new(Notify::new()),
        kubeconfig: None,
        gitops: GitOps {
            repo: Some(f.dir.clone()),
            path: String::new(),
            app: f.app.clone(),
        },
        px: watch::channel(Err("no Portworx in this test".into())).1,
        audit: sextant::audit::AuditLog::new(f.dir.join("../audit.log")),
    }
}

/// Wave 1 changes a StatefulSet's claim template, which the API server forbids:
/// wave 0 is applied, the StatefulSet is reported with the server's reason, wave 2
/// is not applied, and the TUI's sync (through the executor) ends partial.
#[tokio::test]
async fn case_15_an_immutable_field_is_reported_and_later_waves_not_applied() {
    let f = Fixture::new("fm15-immut").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("base.yaml", &config_map("base", "info", None));
    f.write("db.yaml", &statefulset("1Gi", 1));
    f.write("late.yaml", &config_map("late", "info", Some(2)));
    f.commit("A StatefulSet between two waves");
    let (code, out, err) = f.cli(&["sync", "--yes", "--no-snapshot"]);
    assert_eq!(code, 0, "{out}{err}");

    f.write("base.yaml", &config_map("base", "debug", None));
    f.write("db.yaml", &statefulset("2Gi", 1));
    f.write("late.yaml", &config_map("late", "debug", Some(2)));
    let sha = f.commit("Bigger claims, louder logs");
    let p = f.plan("HEAD").await;
    let db = p.steps.iter().find(|s| s.object.name == "db").unwrap();
    assert_eq!(db.action, Action::Error, "{db:?}");
    let reason = db.message.clone().unwrap();
    assert!(
        reason.contains("Forbidden: updates to statefulset spec for fields other than"),
        "{reason}"
    );

    let (tx, mut rx) = mpsc::channel(64);
    let exec = Executor::new(handles(&f), true, tx).with_client(f.client.clone());
    exec.run(Command::Write {
        id: 15,
        intent: WriteIntent::Sync {
            plan: Box::new(p),
            prune: false,
            force: false,
            snapshot_first: false,
        },
    });
    let mut progress = Vec::new();
    let done = wait_for(&mut rx, 120, "the sync to finish", |m| match m {
        Msg::Sync(sextant::app::msg::SyncEvent::Progress(15, line)) => {
            progress.push(line.clone());
            None
        }
        Msg::Done(15, r) => Some(r.clone()),
        _ => None,
    })
    .await;
    let e = done.expect_err("a partial sync is not reported as done");
    let partial = format!(
        "sync of {} partial: 1 objects failed, 1 not applied; stopped at wave 1: StatefulSet {}/db",
        &sha[..8],
        f.ns
    );
    assert!(e.contains(&partial), "{e}");
    assert!(e.contains("Forbidden"), "the server's reason: {e}");
    println!("case 15, immutable field: {e}");
    let log = progress.join("\n");
    assert!(
        log.contains(&format!("not applied ConfigMap {}/late", f.ns)),
        "{log}"
    );

    let base = f.get("v1", "ConfigMap", "base").await.unwrap();
    assert_eq!(base["data"]["level"], "debug", "wave 0 was applied");
    let late = f.get("v1", "ConfigMap", "late").await.unwrap();
    assert_eq!(late["data"]["level"], "info", "wave 2 was not");
    let sts = f.get("apps/v1", "StatefulSet", "db").await.unwrap();
    assert_eq!(
        sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"],
        "1Gi"
    );
    let rec = f.record().await.unwrap();
    assert_eq!(
        (rec["commit"].as_str(), rec["result"].as_str()),
        (Some(sha.as_str()), Some("partial"))
    );
}

/// The same refusal met only when applying (the plan was made before someone created
/// the StatefulSet with another claim size): wave 1 fails with the server's reason
/// and wave 2 is not applied.
#[tokio::test]
async fn case_15_an_immutable_field_met_at_apply_time_stops_the_waves_too() {
    let f = Fixture::new("fm15-late").await;
    f.write("ns.yaml", NAMESPACE);
    f.write("base.yaml", &config_map("base", "info", None));
    f.write("db.yaml", &statefulset("2Gi", 1));
    f.write("late.yaml", &config_map("late", "info", Some(2)));
    f.commit("Waves around a StatefulSet");
    let p = f.plan("HEAD").await;
    assert_eq!(p.count(Action::Create), 4, "nothing exists yet");

    // Meanwhile the StatefulSet appears with 1Gi claims.
    let w = Writer::grant(true).unwrap();
    for text in [NAMESPACE.to_string(), statefulset("1Gi", 1)] {
        let obj: Value = serde_yaml::from_str(&text.replace("NS", &f.ns)).unwrap();
        let l = f.target.locate(&obj).await.unwrap();
        f.target.apply(&w, &l, &obj, false).await.unwrap();
    }

    let opts = Options {
        timeout: Duration::from_secs(30),
        synced_by: "Test Ops".into(),
        ..Default::default()
    };
    let r = sync::execute(&f.target, &w, &p, &opts, &|_| {}).await;
    let results: Vec<(&str, bool)> = r
        .outcomes
        .iter()
        .map(|o| (o.object.name.as_str(), o.ok))
        .collect();
    assert_eq!(
        results,
        [(f.ns.as_str(), true), ("base", true), ("db", false)]
    );
    let db = &r.outcomes[2].result;
    assert!(
        db.contains("Forbidden: updates to statefulset spec"),
        "{db}"
    );
    let stopped = r.stopped.as_deref().unwrap();
    assert!(
        stopped.starts_with(&format!("wave 1: StatefulSet {}/db ", f.ns)),
        "{stopped}"
    );
    let not_applied: Vec<&str> = r.not_applied.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(not_applied, ["late"]);
    assert_eq!(r.result(), "partial");
    assert!(f.get("v1", "ConfigMap", "late").await.is_none());
    assert_eq!(f.record().await.unwrap()["result"], "partial");
}
