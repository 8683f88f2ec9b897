//! End to end: the real binary in tmux against the environment, keys sent, screen read.
mod common;
use common::tmux::Tmux;
use common::{env, git, kubectl, repo_with_remote, unique, volume_of};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn config() -> String {
    format!("{}/config.toml", env("SEXTANT_ENV_DIR"))
}

#[test]
fn demo_shows_every_pane_help_and_quits_cleanly() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(
        &[
            "▸ carts-db",
            "front-end",
            "Bump carts to 0.5.0",
            "Alice Ng",
            "shop/data-carts-db-0",
            "Volume writes",
            "● kube",
            "● git",
            "● prom",
            "● px",
        ],
        30,
    );
    // The legend names volumes by their claims (in the shown namespace, without it).
    let legend = |s: &str| {
        s.lines().any(|l| {
            l.contains("━\u{a0}data-catalogue-db-0") || l.contains("━ data-catalogue-db-0")
        })
    };
    let end = Instant::now() + Duration::from_secs(20);
    while !legend(&t.screen()) {
        assert!(
            Instant::now() < end,
            "no legend entry for the claim:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    t.keys(&["?"]);
    t.wait(
        &[
            "Keys",
            "restart the selected workload",
            "focus the next pane",
        ],
        5,
    );
    t.keys(&["Escape"]);
    // A key right behind Esc would read as Alt+key, as in any terminal.
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["j", "Enter"]);
    t.wait(&["▾ carts-db", "carts-db-0"], 5);
    t.keys(&["Tab", "z"]);
    t.wait(&["Start the shop GitOps repository"], 5);
    t.keys(&["q"]);
    let s = t.wait(&["SEXTANT_EXIT=0"], 10);
    assert!(
        !s.contains("carts-db"),
        "the alternate screen is gone after quitting:\n{s}"
    );
}

/// Case 4: a corrupt kubeconfig, one of the wrong type, a missing context and a
/// failing exec plugin: the cluster pane names the file and the field, and the git,
/// metrics and storage panes work.
#[test]
fn case_4_a_broken_kubeconfig_leaves_the_other_panes_working() {
    for (bad, field) in common::broken_kubeconfigs() {
        let path = bad.display().to_string();
        let t = Tmux::start(&["--config", &config(), "--kubeconfig", &path], 250, 45);
        let s = t.wait(
            &[
                &format!("kubeconfig {path}"),
                "Bump carts to 0.5.0",
                "shop/data-carts-db-0",
                "✖ kube",
            ],
            30,
        );
        // The message wraps inside the pane: each of its words is on screen.
        for word in field.split_whitespace() {
            assert!(s.contains(word), "{word} of {field}:\n{s}");
        }
        assert!(
            !s.contains("sso session expired\n"),
            "the plugin wrote on the screen"
        );
        t.keys(&["q"]);
        t.wait(&["SEXTANT_EXIT=0"], 10);
    }
}

#[test]
fn read_only_refuses_writes_from_the_keyboard() {
    let t = Tmux::start(&["--config", &config(), "--read-only"], 160, 45);
    // "▸ carts-db" is the tree row; "carts-db" alone is also in the storage pane.
    t.wait(&["READ-ONLY", "▸ carts-db"], 30);
    t.keys(&["j", "R"]);
    let s = t.wait(&["read-only mode: writes are disabled"], 5);
    assert!(!s.contains("Confirm"), "no confirmation is offered:\n{s}");
    t.keys(&["?"]);
    let s = t.wait(&["Keys"], 5);
    assert!(
        !s.contains("restart the selected workload"),
        "help hides writes:\n{s}"
    );
}

#[test]
fn a_write_is_previewed_and_can_be_cancelled() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    // The tree row, not the storage pane's claim: the cursor needs rows to move over.
    t.wait(&["▸ carts-db"], 30);
    t.keys(&["j", "R"]);
    t.wait(
        &[
            "Confirm",
            "Restart StatefulSet shop/carts-db",
            "restartedAt",
        ],
        5,
    );
    t.keys(&["n"]);
    t.wait(&["cancelled"], 5);
}

#[test]
fn an_unreachable_prometheus_and_portworx_are_reported_in_their_panes() {
    let t = Tmux::start(
        &[
            "--config",
            &config(),
            "--prometheus",
            "http://127.0.0.1:1",
            "--portworx",
            "http://127.0.0.1:1",
        ],
        160,
        45,
    );
    t.wait(
        &[
            "▸ carts-db",
            "Bump carts to 0.5.0",
            "cannot reach http://127.0.0.1:1",
            "http://127.0.0.1:1:",
            "✖ prom",
            "✖ px",
        ],
        30,
    );
}

/// `:q` with a broken query: the panel shows Prometheus's own error, the other panes
/// and the other panels keep working.
#[test]
fn a_bad_ad_hoc_query_shows_prometheus_error_in_its_panel_only() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(&["▸ carts-db", "Volume writes", "● prom"], 30);
    t.keys(&[":"]);
    t.keys(&["-l", "q sum(rate(px_volume_iops[5m]"]);
    t.keys(&["Enter"]);
    let s = t.wait(&["bad_data", "parse error", "(7/7)"], 20);
    assert!(s.contains("carts-db") && s.contains("● prom"), "{s}");
    // The panels before it still draw.
    t.keys(&["]"]);
    t.wait(&["Volume writes (1/7)", "KiB/s"], 20);
}

#[test]
fn filter_describe_and_yaml_from_the_keyboard_never_show_a_secret() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(&["▸ carts-db"], 30);
    t.keys(&[
        "/", "c", "a", "r", "t", "s", "-", "d", "b", "-", "c", "r", "e", "d",
    ]);
    t.wait(
        &[
            "carts-db-credentials",
            // The status column may be cut to its width when the GIT column shows.
            "keys: password",
            "filter: carts-db-cred",
        ],
        5,
    );
    t.keys(&["Enter", "y"]);
    let yaml = t.wait(
        &[
            "yaml Secret shop/carts-db-credentials",
            "password: <redacted>",
        ],
        10,
    );
    t.keys(&["d"]);
    let describe = t.wait(
        &[
            "describe Secret shop/carts-db-credentials",
            "Keys:",
            "password, username",
        ],
        10,
    );
    for screen in [&yaml, &describe] {
        assert!(
            !screen.contains("demo-carts-db-not-a-real-secret"),
            "{screen}"
        );
        assert!(!screen.contains("ZGVtby1jYXJ0cy1kYi1ub3Qt"), "{screen}");
    }
    t.keys(&["Escape"]);
    t.wait(&["filter: carts-db-cred"], 5);
    // A pause after Escape, or the terminal reads Escape and ':' as Alt-':'.
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&[":", "n", "s", " ", "a", "l", "l", "Enter"]);
    // "default" sorts before the namespaces other tests make, so it stays on screen.
    t.wait(&["all namespaces", "▸ default"], 15);
}

#[test]
fn ctx_switches_to_another_context_and_back() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(&["ctx:demo ", "▸ carts-db"], 30);
    t.keys(&[
        ":", "c", "t", "x", " ", "d", "e", "m", "o", "-", "v", "i", "e", "w", "e", "r", "Enter",
    ]);
    // The viewer may not list Secrets or namespaces: the tree says so, the rest works.
    t.wait(
        &[
            "ctx:demo-viewer",
            "Secrets",
            "forbidden",
            "(namespaces forbidden)",
            "carts-db",
        ],
        30,
    );
    t.keys(&[":", "c", "t", "x", " ", "d", "e", "m", "o", "Enter"]);
    let s = t.wait(&["ctx:demo ", "carts-db-credentials"], 30);
    assert!(
        !s.contains("(namespaces forbidden)"),
        "no row of the other context is left:\n{s}"
    );
    t.keys(&[":", "c", "t", "x", " ", "n", "o", "p", "e", "Enter"]);
    t.wait(&["nope"], 10);
}

/// A GitOps repository (a clone of a bare remote) whose manifests make a namespace
/// and an app of their own, so the test shares nothing with the demo.
struct Fixture {
    root: PathBuf,
    work: PathBuf,
    /// The namespace, and the app's name.
    name: String,
}

impl Fixture {
    fn new(prefix: &str) -> Fixture {
        let name = format!("{prefix}-{}", unique());
        let root = std::env::temp_dir().join(format!("sextant-{name}"));
        let (_, work) = repo_with_remote(&root);
        let f = Fixture { root, work, name };
        f.write(
            "ns.yaml",
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: NS\n",
        );
        for (cm, data) in [("settings", "level: info"), ("flags", "beta: \"off\"")] {
            f.write(
                &format!("app/{cm}.yaml"),
                &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {cm}\n  namespace: NS\ndata:\n  {data}\n"),
            );
        }
        git(&f.work, &["add", "-A"]);
        git(&f.work, &["commit", "-q", "-m", "Add settings and flags"]);
        git(&f.work, &["push", "-q", "origin", "main"]);
        f
    }

    fn write(&self, file: &str, text: &str) {
        let p = self.work.join(file);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text.replace("NS", &self.name)).unwrap();
    }

    /// sextant on this repository, app and namespace, logging next to the repository.
    fn start(&self, extra: &[&str]) -> Tmux {
        let kubeconfig = env("SEXTANT_TEST_KUBECONFIG");
        let mut args = vec![
            "--kubeconfig",
            &kubeconfig,
            "--repo",
            self.work.to_str().unwrap(),
            "--app",
            &self.name,
            "-n",
            &self.name,
        ];
        args.extend_from_slice(extra);
        // Wide enough for the cluster pane to spell the sync marks out.
        Tmux::start_in(&self.root, &args, 210, 60)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // Best effort: what a failed test leaves behind is named after it.
        let kubeconfig = env("SEXTANT_TEST_KUBECONFIG");
        let record = format!("sync-{}", self.name);
        let restore = format!("restore-{}-db", self.name);
        for args in [
            vec!["delete", "namespace", &self.name, "--wait=false"],
            vec![
                "-n",
                "sextant-system",
                "delete",
                "configmap",
                &record,
                &restore,
            ],
        ] {
            let _ = Command::new("kubectl")
                .args(["--kubeconfig", &kubeconfig])
                .args(args)
                .arg("--ignore-not-found")
                .output();
        }
        // The repository and the log stay for a failed test to be read.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// The first line of the screen holding `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}:\n{screen}"))
}

/// Waits until the cluster pane's row of `name` shows `mark` and the status bar `alert`.
fn wait_for_mark(t: &Tmux, name: &str, mark: &str, alert: &str, secs: u64) -> String {
    let row = format!(" {name} ");
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let s = t.screen();
        let marked = s
            .lines()
            .any(|l| l.contains(&row) && l.contains(" cm ") && l.contains(mark));
        if marked && s.contains(alert) {
            return s;
        }
        assert!(
            Instant::now() < end,
            "{name} not {mark} with {alert:?} after {secs}s:\n{s}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn sync_from_the_preview_then_drift_appears_and_read_only_refuses_to_sync() {
    let f = Fixture::new("e2e-sync");
    let ns = f.name.as_str();
    let head = git(&f.work, &["rev-parse", "HEAD"]);
    let short = &head[..8];
    let t = f.start(&[]);
    t.wait(&["● kube", "● git", "Add settings and flags"], 30);

    // The preview shows the whole plan before anything is applied.
    t.keys(&["s"]);
    t.wait(
        &[
            &format!("Sync {short} → demo"),
            "3 to create, 0 to update, 0 unchanged",
            &format!("create Namespace {ns}  (ns.yaml:1)"),
            &format!("create ConfigMap {ns}/settings  (app/settings.yaml:1)"),
            &format!("create ConfigMap {ns}/flags  (app/flags.yaml:1)"),
            "+  level: info",
            " y apply ",
        ],
        20,
    );
    // Cancelled: the preview closes and nothing is applied.
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!t.screen().contains(" y apply "), "{}", t.screen());
    assert_eq!(
        kubectl(&["get", "namespace", "--ignore-not-found", ns]),
        "",
        "nothing is applied when cancelled"
    );
    // Asked again, then confirmed.
    t.keys(&["s"]);
    t.wait(&[&format!("Sync {short} → demo"), " y apply "], 20);
    t.keys(&["y"]);
    t.wait(
        &[
            &format!("create ConfigMap {ns}/settings: applied"),
            &format!("done: synced {short}"),
            " Esc close ",
        ],
        20,
    );
    t.keys(&["Escape"]);
    let s = wait_for_mark(&t, "settings", "synced", "✓ in sync", 20);
    assert!(!s.contains("done: synced"), "the preview is closed:\n{s}");
    assert!(line_with(&s, "NAME").contains("SYNC"), "{s}");
    assert!(line_with(&s, &format!(" {ns} ")).contains("synced"), "{s}");
    assert!(line_with(&s, " flags ").contains("synced"), "{s}");
    // Objects git does not have get no mark.
    let ca = line_with(&s, " kube-root-ca.crt ");
    assert!(!ca.contains("synced") && !ca.contains("drifted"), "{s}");

    // A change through the API shows up as drift on that object, with no keypress.
    kubectl(&[
        "-n",
        ns,
        "patch",
        "configmap",
        "settings",
        "--type",
        "merge",
        "-p",
        r#"{"data":{"level":"debug"}}"#,
        "--field-manager",
        "ops-console",
    ]);
    let s = wait_for_mark(&t, "settings", "drifted", "⚑ drift 1", 20);
    assert!(line_with(&s, " flags ").contains("synced"), "{s}");
    assert!(!s.contains("✓ in sync"), "{s}");
    drop(t);

    // Read-only: drift is still shown (a read), but s is refused and no preview opens.
    let t = f.start(&["--read-only"]);
    t.wait(&["READ-ONLY", "● git"], 30);
    wait_for_mark(&t, "settings", "drifted", "⚑ drift 1", 20);
    t.keys(&["s"]);
    let s = t.wait(&["read-only mode: writes are disabled"], 5);
    // Give a plan that should not have been asked for time to arrive.
    std::thread::sleep(Duration::from_secs(1));
    let s2 = t.screen();
    for screen in [&s, &s2] {
        assert!(!screen.contains("Sync "), "no preview:\n{screen}");
        assert!(!screen.contains("to create,"), "no preview:\n{screen}");
    }
    let live = kubectl(&[
        "-n",
        ns,
        "get",
        "configmap",
        "settings",
        "-o",
        "jsonpath={.data.level}",
    ]);
    assert_eq!(live, "debug", "the drift is left alone");
}

/// `S` snapshots a StatefulSet, `r` on the snapshot restores it after its name is
/// typed; both show their steps. The workload is the fixture's own, not the demo's.
#[test]
fn snapshot_then_restore_from_the_keyboard() {
    let (f, _) = fixture_with_db("e2e-snap");
    let (px, token) = (
        env("SEXTANT_TEST_PORTWORX"),
        env("SEXTANT_TEST_PORTWORX_TOKEN_FILE"),
    );
    let t = f.start(&["--portworx", &px, "--portworx-token-file", &token]);
    t.wait(&["▸ db ", "1/1"], 60);
    t.keys(&["j", "S"]);
    t.wait(
        &[&format!(
            "Snapshot every claim of StatefulSet {}/db",
            f.name
        )],
        5,
    );
    t.keys(&["y"]);
    t.wait(&["done: snapshot set db-", "Esc close"], 60);
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    // The filter finds the snapshot row; Enter selects it.
    t.keys(&["/"]);
    t.keys(&["-l", "data-db-0-2"]);
    t.keys(&["Enter"]);
    t.wait(&["snap "], 10);
    t.keys(&["r"]);
    t.wait(
        &[
            "Claims restored (in place, same names):",
            "Type db to confirm",
        ],
        20,
    );
    t.keys(&["Enter"]);
    t.wait(&["(type the name first)"], 5);
    t.keys(&["-l", "db"]);
    t.keys(&["Enter"]);
    t.wait(&["[1/8] take a safety snapshot"], 10);
    let s = t.wait(&["done: restored data-db-0 of db"], 90);
    for step in [
        "[3/8] scale to zero",
        "[5/8] restore the volumes",
        "[8/8] wait for ready",
    ] {
        assert!(s.contains(step), "{step} shown:\n{s}");
    }
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
}

/// `--watch` on a wall: the tiles and the freshness of every source.
#[test]
fn watch_mode_shows_tiles() {
    let t = Tmux::start(&["--config", &config(), "--watch"], 160, 45);
    t.wait(
        &[
            "sextant watch",
            "SYNC",
            "WORKLOADS",
            "VOLUMES",
            "SNAPSHOTS",
            "kube",
        ],
        30,
    );
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
}

/// curl against the Portworx simulator as its admin; the answer's body.
fn px_curl(args: &[&str]) -> String {
    let token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_TOKEN_FILE")).unwrap();
    let out = Command::new("curl")
        .args([
            "-sf",
            "-H",
            &format!("Authorization: bearer {}", token.trim()),
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "curl {args:?}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn volume_data(volume: &str, put: Option<&str>) -> String {
    let url = format!("{}/sim/volumes/{volume}/data", env("SEXTANT_TEST_PORTWORX"));
    match put {
        Some(body) => px_curl(&["-X", "PUT", "--data-binary", body, &url]),
        None => px_curl(&[&url]),
    }
}

/// A Fixture with StatefulSet db (one replica, claim data-db-0 on px-db) running, and
/// its claim's Portworx volume.
fn fixture_with_db(prefix: &str) -> (Fixture, String) {
    let f = Fixture::new(prefix);
    f.write(
        "app/db.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: NS}\nspec:\n  replicas: 1\n  serviceName: db\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: db, image: mongo:6}]}\n  volumeClaimTemplates:\n  - metadata: {name: data}\n    spec: {storageClassName: px-db, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}\n",
    );
    let work = f.work.display().to_string();
    kubectl(&["apply", "-f", &format!("{work}/ns.yaml")]);
    kubectl(&["apply", "-f", &format!("{work}/app/db.yaml")]);
    kubectl(&[
        "-n",
        &f.name,
        "wait",
        "--for=jsonpath={.status.phase}=Bound",
        "pvc/data-db-0",
        "--timeout=60s",
    ]);
    let volume = volume_of(&f.name, "data-db-0");
    (f, volume)
}

/// A ready VolumeSnapshot `name` of data-db-0.
fn snapshot_db(f: &Fixture, name: &str) {
    let yaml = format!(
        "apiVersion: snapshot.storage.k8s.io/v1\nkind: VolumeSnapshot\nmetadata: {{name: {name}, namespace: {}}}\nspec:\n  volumeSnapshotClassName: px-csi-snapclass\n  source: {{persistentVolumeClaimName: data-db-0}}\n",
        f.name
    );
    let file = f.root.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    kubectl(&["apply", "-f", file.to_str().unwrap()]);
    kubectl(&[
        "-n",
        &f.name,
        "wait",
        "--for=jsonpath={.status.readyToUse}=true",
        &format!("volumesnapshot/{name}"),
        "--timeout=60s",
    ]);
}

/// Kills the sextant running for fixture `f` as the kernel would: no cleanup at all.
fn kill_sextant(f: &Fixture) {
    let out = Command::new("pgrep")
        .args(["-f", "--", &format!("--app {}", f.name)])
        .output()
        .unwrap();
    let pids: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == "sextant")
        })
        .map(String::from)
        .collect();
    assert_eq!(pids.len(), 1, "one sextant for {}: {pids:?}", f.name);
    assert!(
        Command::new("kill")
            .args(["-KILL", &pids[0]])
            .status()
            .unwrap()
            .success()
    );
}

/// Starts a restore of snapshot `snap` from the keyboard and kills sextant while the
/// volumes are being restored.
fn restore_and_kill(f: &Fixture, px: &[&str], snap: &str) {
    let t = f.start(px);
    t.wait(&["▸ db ", "1/1"], 60);
    t.keys(&["/"]);
    t.keys(&["-l", snap]);
    t.keys(&["Enter"]);
    t.wait(&["snap "], 10);
    t.keys(&["r"]);
    t.wait(&["Type db to confirm"], 20);
    t.keys(&["-l", "db"]);
    t.keys(&["Enter"]);
    t.wait(&["[6/8] wait for the restore to finish"], 60);
    kill_sextant(f);
    t.wait(&["SEXTANT_EXIT=137"], 10);
}

/// Case 14: sextant killed in the middle of a restore. The next start finds it, says
/// where it stopped and offers resume or undo; both are carried out.
#[test]
fn case_14_a_restore_killed_midway_is_found_and_resumed_or_undone() {
    let (f, volume) = fixture_with_db("e2e-crash");
    let (px, token) = (
        env("SEXTANT_TEST_PORTWORX"),
        env("SEXTANT_TEST_PORTWORX_TOKEN_FILE"),
    );
    let px_args = [
        "--portworx",
        px.as_str(),
        "--portworx-token-file",
        token.as_str(),
    ];
    volume_data(&volume, Some("v1"));
    snapshot_db(&f, "first");
    volume_data(&volume, Some("v2"));

    // Killed while the volume is restored: the next start offers the rest.
    restore_and_kill(&f, &px_args, "first");
    let t = f.start(&px_args);
    let s = t.wait(
        &[
            &format!(
                "Unfinished restore of StatefulSet {}/db from snapshot {}/first",
                f.name, f.name
            ),
            "restore stopped at step",
            "sextant stopped before it finished",
            "r resume",
            "u undo",
        ],
        30,
    );
    let at = line_with(&s, "restore stopped at step");
    eprintln!(
        "case 14: found after the kill: {}",
        at.trim_matches(|c: char| !c.is_alphanumeric())
    );
    t.keys(&["r"]);
    t.wait(&["Type db to confirm"], 20);
    t.keys(&["-l", "db"]);
    t.keys(&["Enter"]);
    let s = t.wait(&["done: restored data-db-0 of db"], 90);
    assert!(s.contains("done before"), "resumed, not started over:\n{s}");
    assert_eq!(volume_data(&volume, None), "v1");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);

    // Killed again, then undone: the safety snapshot brings back what was there.
    volume_data(&volume, Some("v3"));
    restore_and_kill(&f, &px_args, "first");
    let t = f.start(&px_args);
    t.wait(&["Unfinished restore of StatefulSet", "u undo"], 30);
    t.keys(&["u"]);
    t.wait(&["Type db to confirm"], 20);
    t.keys(&["-l", "db"]);
    t.keys(&["Enter"]);
    t.wait(&["done: restored data-db-0 of db"], 90);
    assert_eq!(
        volume_data(&volume, None),
        "v3",
        "the data from before the restore"
    );
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
    let left = kubectl(&["-n", "sextant-system", "get", "configmaps", "-o", "name"]);
    assert!(
        !left.contains(&format!("restore-{}-db", f.name)),
        "the record is gone"
    );
}

/// Every write key of the keymap as tmux names it: taken from the keymap itself, so
/// a new binding is covered without touching the test.
fn write_keys() -> Vec<String> {
    use crossterm::event::{KeyCode, KeyModifiers};
    use sextant::app::keymap::Keymap;
    let keys: Vec<String> = Keymap::default()
        .bindings
        .iter()
        .filter(|b| b.writes)
        .flat_map(|b| b.keys.clone())
        .map(|k| {
            let name = match k.code {
                KeyCode::Char(c) => c.to_string(),
                KeyCode::Enter => "Enter".into(),
                KeyCode::Esc => "Escape".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::Backspace => "BSpace".into(),
                KeyCode::Delete => "DC".into(),
                KeyCode::F(n) => format!("F{n}"),
                other => panic!("no tmux name for {other:?}: add it here"),
            };
            let mut prefix = String::new();
            if k.mods.contains(KeyModifiers::CONTROL) {
                prefix.push_str("C-");
            }
            if k.mods.contains(KeyModifiers::ALT) {
                prefix.push_str("M-");
            }
            prefix + &name
        })
        .collect();
    assert!(keys.len() >= 6, "the write keys: {keys:?}");
    keys
}

/// What a write could change for a fixture: its objects, its repository and remote,
/// its Portworx volumes with their snapshots and bytes, and sextant's records.
fn fingerprint(f: &Fixture) -> String {
    let ns = f.name.as_str();
    let objects = kubectl(&[
        "-n",
        ns,
        "get",
        "statefulsets,deployments,configmaps,persistentvolumeclaims,volumesnapshots",
        "-o",
        "jsonpath={range .items[*]}{.kind} {.metadata.name} {.metadata.generation} {.spec.replicas} {.metadata.annotations}{\"\\n\"}{end}",
    ]);
    let records: Vec<String> =
        kubectl(&["-n", "sextant-system", "get", "configmaps", "-o", "name"])
            .lines()
            .filter(|l| l.contains(ns))
            .map(String::from)
            .collect();
    let repo = [
        git(&f.work, &["rev-parse", "HEAD"]),
        git(&f.work, &["status", "--porcelain"]),
        git(&f.work, &["ls-remote", "origin"]),
        git(&f.work, &["stash", "list"]),
    ];
    let px = env("SEXTANT_TEST_PORTWORX");
    let curl = px_curl;
    let found = curl(&[
        "-X",
        "POST",
        "-d",
        &format!(r#"{{"labels":{{"namespace":"{ns}"}}}}"#),
        &format!("{px}/v1/volumes/filters"),
    ]);
    let ids: serde_json::Value = serde_json::from_str(&found).unwrap();
    let mut volumes = Vec::new();
    for id in ids["volume_ids"].as_array().into_iter().flatten() {
        let id = id.as_str().unwrap();
        volumes.push(format!(
            "{id} snapshots {} data {}",
            curl(&[&format!("{px}/v1/volumes/snapshots?volume_id={id}")]),
            curl(&[&format!("{px}/sim/volumes/{id}/data")]),
        ));
    }
    assert!(!volumes.is_empty(), "the fixture's claim has a volume");
    format!("{objects}\n{records:?}\n{repo:?}\n{volumes:?}")
}

/// Case 13: in `--read-only` and in `--watch`, every write key pressed in every pane,
/// on several rows, each followed by a yes and by the name a restore asks for.
#[test]
fn case_13_no_write_key_changes_anything_in_read_only_or_watch() {
    let (f, _) = fixture_with_db("e2e-frozen");
    // Something for every write to act on: a snapshot to restore, a change to commit,
    // a commit to push, a drifted object to sync.
    snapshot_db(&f, "before");
    git(&f.work, &["add", "app/db.yaml"]);
    git(&f.work, &["commit", "-q", "-m", "Add db"]);
    f.write("app/flags.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\n  namespace: NS\ndata:\n  beta: \"on\"\n");
    let (px, token) = (
        env("SEXTANT_TEST_PORTWORX"),
        env("SEXTANT_TEST_PORTWORX_TOKEN_FILE"),
    );
    let before = fingerprint(&f);
    let keys = write_keys();
    for mode in ["--read-only", "--watch"] {
        let t = f.start(&[mode, "--portworx", &px, "--portworx-token-file", &token]);
        t.wait(&["db"], 60);
        std::thread::sleep(Duration::from_secs(2));
        for _pane in 0..4 {
            for _row in 0..4 {
                for k in &keys {
                    t.keys(&[k.as_str()]);
                    t.keys(&["y", "Enter"]);
                    t.keys(&["-l", "db"]);
                    t.keys(&["Enter"]);
                    t.keys(&["Escape"]);
                }
                t.keys(&["j"]);
            }
            t.keys(&["Tab"]);
        }
        std::thread::sleep(Duration::from_secs(3));
        let s = t.screen();
        assert!(!s.contains("Confirm"), "{mode}: no dialog is open:\n{s}");
        assert_eq!(fingerprint(&f), before, "{mode}: nothing changed");
        t.keys(&["q"]);
        t.wait(&["SEXTANT_EXIT=0"], 10);
        eprintln!(
            "case 13 {mode}: {} write keys, each pressed in 4 panes on 4 rows",
            keys.len()
        );
    }
    // Control: without either flag one of those keys does write, and the fingerprint
    // sees it (the push of the local commit).
    let t = f.start(&["--portworx", &px, "--portworx-token-file", &token]);
    t.wait(&["db"], 60);
    t.keys(&["P"]);
    t.wait(&["Confirm"], 10);
    t.keys(&["y"]);
    t.wait(&["push"], 20);
    let end = Instant::now() + Duration::from_secs(20);
    while fingerprint(&f) == before {
        assert!(Instant::now() < end, "the fingerprint missed a push");
        std::thread::sleep(Duration::from_millis(300));
    }
    t.keys(&["q"]);
}
