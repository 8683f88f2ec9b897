//! Issue 8, cases 11, 12 and 16, end to end: the real binary in tmux against the
//! environment. Tiny terminals and resize bursts; a panic in a background task and
//! one in the UI thread; Secret values and tokens kept off the screen, out of the log,
//! the crash log and `--output json`.
mod common;
use common::tmux::Tmux;
use common::{env, git, kubectl, repo_with_remote, unique};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn config() -> String {
    format!("{}/config.toml", env("SEXTANT_ENV_DIR"))
}

/// Sets the size of terminal `tty` straight away (TIOCSWINSZ), as a terminal emulator
/// does when its window is resized: the kernel sends sextant SIGWINCH. tmux is not
/// asked, since it sends a pane at most one resize every 250 ms.
fn set_size(tty: &str, cols: u16, rows: u16) {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(tty)
        .unwrap();
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: a valid open descriptor and a winsize that outlives the call.
    let r = unsafe { libc::ioctl(f.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
    assert_eq!(r, 0, "TIOCSWINSZ on {tty}");
}

/// The frames the log records (SEXTANT_LOG=...,sextant::frame=debug): cols, rows and
/// how many resize events each one shows.
fn frames(log: &str) -> Vec<(u16, u16, usize)> {
    let field = |l: &str, name: &str| -> usize {
        l.split_whitespace()
            .find_map(|w| w.strip_prefix(name))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {l}"))
    };
    log.lines()
        .filter(|l| l.contains("sextant::frame"))
        .map(|l| {
            (
                field(l, "cols=") as u16,
                field(l, "rows=") as u16,
                field(l, "resizes="),
            )
        })
        .collect()
}

const FRAME_LOG: &str = "info,sextant::frame=debug";

#[test]
fn case_11_tiny_terminals_show_a_notice_and_the_ui_comes_back() {
    let t = Tmux::start_env(
        &[("SEXTANT_LOG", FRAME_LOG)],
        &["--config", &config()],
        120,
        35,
    );
    t.wait(&["▸ carts-db", "● kube"], 30);
    t.tmux(&["resize-window", "-x", "20", "-y", "5"]);
    let s = t.wait(&["terminal too small", "20x5, need 30x8"], 10);
    assert!(!s.contains("carts-db"), "no pane at 20x5:\n{s}");
    // 1x1, then 0x0, which tmux cannot make: the terminal's size is set directly.
    t.tmux(&["resize-window", "-x", "1", "-y", "1"]);
    std::thread::sleep(Duration::from_millis(500));
    let tty = t.tty();
    set_size(&tty, 0, 0);
    std::thread::sleep(Duration::from_millis(500));
    assert!(!t.screen().contains("SEXTANT_EXIT"), "still running");
    t.tmux(&["resize-window", "-x", "120", "-y", "35"]);
    set_size(&tty, 120, 35);
    let s = t.wait(&["▸ carts-db", "● kube"], 10);
    assert!(!s.contains("too small"), "{s}");
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
    // Each size was drawn, not only survived.
    let sizes: Vec<(u16, u16)> = frames(&t.log()).iter().map(|f| (f.0, f.1)).collect();
    for size in [(20, 5), (1, 1), (0, 0)] {
        assert!(sizes.contains(&size), "no frame at {size:?}: {sizes:?}");
    }
    assert!(!t.log().contains("panicked"), "{}", t.log());
}

#[test]
fn case_11_a_burst_of_100_resizes_is_one_redraw() {
    let t = Tmux::start_env(
        &[("SEXTANT_LOG", FRAME_LOG)],
        &["--config", &config()],
        120,
        35,
    );
    t.wait(&["▸ carts-db", "● kube", "● px"], 30);
    let tty = t.tty();
    let before = frames(&t.log()).len();
    assert!(before > 0, "the frame log is on:\n{}", t.log());
    // 100 resizes, 1 ms apart, through sizes from 60x20 to 159x44, ending at the
    // pane's own size (where tmux draws it whole again).
    for i in 0..99u16 {
        set_size(&tty, 60 + i, 20 + i % 25);
        std::thread::sleep(Duration::from_millis(1));
    }
    set_size(&tty, 120, 35);
    // Wait for the frame at the new size, then for any frame of a size in between.
    let end = Instant::now() + Duration::from_secs(10);
    while !frames(&t.log())[before..].iter().any(|f| f.2 > 0) {
        assert!(Instant::now() < end, "no frame after the resizes");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    let after = frames(&t.log())[before..].to_vec();
    let resized: Vec<_> = after.iter().filter(|f| f.2 > 0).collect();
    let events: usize = resized.iter().map(|f| f.2).sum();
    println!(
        "{} frames after the burst, {} of them after resizes, showing {events} resize events: {after:?}",
        after.len(),
        resized.len()
    );
    assert_eq!(resized.len(), 1, "one redraw for the burst: {after:?}");
    assert_eq!(
        (resized[0].0, resized[0].1),
        (120, 35),
        "drawn at the last size"
    );
    assert!(
        after.iter().all(|f| (f.0, f.1) == (120, 35)),
        "no frame at a size in between: {after:?}"
    );
    // The screen is whole and sextant still answers.
    t.wait(&["▸ carts-db", "● kube"], 5);
    t.keys(&["?"]);
    t.wait(&["Keys"], 5);
    t.keys(&["q"]);
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
}

#[test]
fn case_12_a_background_task_panic_is_a_message_and_the_rest_runs() {
    let cm = format!("fault12-{}", unique());
    let t = Tmux::start_env(
        &[("SEXTANT_FAULT", "panic-task")],
        &["--config", &config()],
        160,
        45,
    );
    t.wait(&["▸ carts-db", "● kube", "● git", "● prom", "● px"], 30);
    // The first YAML fetch panics in its executor task.
    t.keys(&["y"]);
    let s = t.wait(
        &[
            "internal error in a background task",
            "stopped by an internal error",
        ],
        10,
    );
    assert!(
        s.contains("Bump carts to 0.5.0"),
        "the git pane is still drawn:\n{s}"
    );
    // The terminal is still the UI's: alternate screen, raw mode.
    let alt = t.tmux(&["display-message", "-p", "#{alternate_on}"]);
    assert_eq!(alt.trim(), "1");
    assert!(stty(&t.tty()).contains("-icanon"), "still in raw mode");
    // The next fetch works: the executor runs on.
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["y"]);
    t.wait(&["yaml ", "apiVersion"], 15);
    t.keys(&["Escape"]);
    // The watchers run on: an object made now shows up.
    kubectl(&["-n", "shop", "create", "configmap", &cm]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["/"]);
    t.type_text(&cm);
    t.wait(&[&format!("{cm} ")], 20);
    // Enter keeps the filter and gives the status bar back, with every source up.
    t.keys(&["Enter"]);
    t.wait(
        &[&format!("{cm} "), "● kube", "● git", "● prom", "● px"],
        10,
    );
    kubectl(&["-n", "shop", "delete", "configmap", &cm]);
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
    let log = t.log();
    assert!(
        log.contains("background task failed: injected by SEXTANT_FAULT=panic-task"),
        "{log}"
    );
    assert!(t.crash_logs().is_empty(), "no crash log for a task");
}

/// tty flags as `stty -a` prints them.
fn stty(tty: &str) -> String {
    let out = Command::new("stty")
        .args(["-a", "-F", tty])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn case_12_a_ui_panic_restores_the_terminal_and_writes_a_crash_log() {
    let token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_TOKEN_FILE")).unwrap();
    let token = token.trim();
    let t = Tmux::start_env(
        &[("SEXTANT_FAULT", "panic-ui")],
        &["--config", &config()],
        160,
        45,
    );
    t.wait(&["▸ carts-db", "● kube"], 30);
    let tty = t.tty();
    assert_eq!(
        t.tmux(&["display-message", "-p", "#{alternate_on}"]).trim(),
        "1"
    );
    assert!(stty(&tty).contains("-icanon"), "raw mode while running");
    t.keys(&["F12"]);
    let s = t.wait(&["SEXTANT_EXIT=101", "sextant crashed"], 15);
    assert!(
        !s.contains("carts-db"),
        "the alternate screen is left:\n{s}"
    );
    assert_eq!(
        t.tmux(&["display-message", "-p", "#{alternate_on}"]).trim(),
        "0"
    );
    let flags = stty(&tty);
    assert!(
        flags.split_whitespace().any(|f| f == "icanon") && flags.contains(" echo "),
        "raw mode is off: {flags}"
    );
    assert!(s.contains("A crash log is in"), "{s}");
    let logs = t.crash_logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    let crash = std::fs::read_to_string(&logs[0]).unwrap();
    assert!(
        crash.contains("panic: injected by SEXTANT_FAULT=panic-ui, holding the token ***"),
        "{crash}"
    );
    assert!(
        crash.contains("thread: main") && crash.contains("backtrace:"),
        "{crash}"
    );
    // The panic's message quoted the token: it is masked everywhere.
    let wide = t.tmux(&["capture-pane", "-p", "-J", "-S", "-100"]);
    for (what, text) in [("crash log", &crash), ("screen", &wide), ("log", &t.log())] {
        assert!(!text.contains(token), "the Portworx token in the {what}");
    }
    let name = logs[0].file_name().unwrap().to_string_lossy().to_string();
    assert!(wide.contains(&name), "the screen says where: {wide}");
    assert!(t.log().contains(&name), "so does the log");
}

// ── Case 16 ──────────────────────────────────────────────────────────────────

/// Bearer tokens of a kubeconfig's users.
fn kubeconfig_tokens(path: &str) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    doc["users"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|u| u["user"]["token"].as_str().map(String::from))
        .collect()
}

fn b64(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Everything that must never be written anywhere: the Secret's values in git and in
/// the cluster (as text and base64), the Portworx token, the kubeconfig's tokens.
struct Needles(Vec<(String, String)>);

impl Needles {
    fn assert_absent(&self, what: &str, text: &str) {
        for (name, v) in &self.0 {
            assert!(
                !text.contains(v.as_str()),
                "{name} found in {what}:\n{text}"
            );
        }
    }
}

fn sextant(args: &[&str], log: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sextant"))
        .args(args)
        .args(["--log-file", log.to_str().unwrap()])
        .env("SEXTANT_LOG", "trace")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn case_16_secret_values_and_tokens_never_reach_screen_logs_crash_logs_or_json() {
    let name = format!("fault16-{}", unique());
    let (in_git, in_cluster) = (
        format!("s16-git-{}", unique()),
        format!("s16-live-{}", unique()),
    );
    let kubeconfig = env("SEXTANT_TEST_KUBECONFIG");
    let px_token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_TOKEN_FILE")).unwrap();
    let mut needles = vec![
        ("the value in git".to_string(), in_git.clone()),
        ("its base64".into(), b64(&in_git)),
        ("the value in the cluster".into(), in_cluster.clone()),
        ("its base64".into(), b64(&in_cluster)),
        ("the Portworx token".into(), px_token.trim().to_string()),
    ];
    for tok in kubeconfig_tokens(&kubeconfig) {
        needles.push(("a kubeconfig token".into(), tok));
    }
    let needles = Needles(needles);
    let root = std::env::temp_dir().join(format!("sextant-{name}"));
    let (_, work) = repo_with_remote(&root);
    let secret = |v: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: {name}\ntype: Opaque\nstringData:\n  password: {v}\n"
        )
    };
    std::fs::write(
        work.join("ns.yaml"),
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"),
    )
    .unwrap();
    std::fs::write(work.join("secret.yaml"), secret(&in_git)).unwrap();
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "Add the database password"]);
    let cleanup = Cleanup {
        ns: name.clone(),
        root: root.clone(),
    };
    let log = root.join("cli.log");
    let audit = root.join("audit.log");
    let repo = work.to_str().unwrap();
    let common = [
        "--kubeconfig",
        &kubeconfig,
        "--repo",
        repo,
        "--app",
        &name,
        "--audit-log",
        audit.to_str().unwrap(),
    ];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend_from_slice(&common);
        let out = sextant(&args, &log);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        );
        needles.assert_absent(&format!("stdout of {extra:?}"), &stdout);
        needles.assert_absent(&format!("stderr of {extra:?}"), &stderr);
        (out.status.code(), format!("{stdout}\n(stderr) {stderr}"))
    };
    // Apply git's value, then change it in the cluster: drift on the Secret.
    let (code, out) = run(&["sync", "--yes", "--no-snapshot", "-o", "json"]);
    assert_eq!(code, Some(0), "{out}");
    let patch = format!(r#"{{"stringData":{{"password":"{in_cluster}"}}}}"#);
    kubectl(&[
        "-n",
        &name,
        "patch",
        "secret",
        "db-credentials",
        "--type",
        "merge",
        "-p",
        &patch,
    ]);
    // The cluster holds the value (the test would prove nothing otherwise).
    let live = kubectl(&[
        "-n",
        &name,
        "get",
        "secret",
        "db-credentials",
        "-o",
        "jsonpath={.data.password}",
    ]);
    assert_eq!(live, b64(&in_cluster));
    // Git changes it again, not yet synced.
    std::fs::write(work.join("secret.yaml"), secret(&format!("{in_git}-2"))).unwrap();
    git(
        &work,
        &["commit", "-q", "-am", "Rotate the database password"],
    );
    let (code, out) = run(&["status", "-o", "json"]);
    assert_eq!(code, Some(3), "out of sync: {out}");
    assert!(
        out.contains("db-credentials") && out.contains("drifted"),
        "{out}"
    );
    let (code, out) = run(&["diff", "-o", "json"]);
    assert_eq!(code, Some(3), "{out}");
    assert!(
        out.contains("(redacted"),
        "the diff says a value changed: {out}"
    );
    let (_, out) = run(&["sync", "--dry-run", "-o", "json"]);
    assert!(out.contains("db-credentials"), "{out}");
    let px = env("SEXTANT_TEST_PORTWORX");
    let token_file = env("SEXTANT_TEST_PORTWORX_TOKEN_FILE");
    let (code, out) = run(&[
        "--portworx",
        &px,
        "--portworx-token-file",
        &token_file,
        "volumes",
        "-o",
        "json",
    ]);
    assert_eq!(code, Some(0), "{out}");
    // A refused token is not echoed back.
    let wrong = root.join("wrong.token");
    let wrong_token = format!("s16-wrong-token-{}", unique());
    std::fs::write(&wrong, &wrong_token).unwrap();
    let (code, out) = run(&[
        "--portworx",
        &px,
        "--portworx-token-file",
        wrong.to_str().unwrap(),
        "volumes",
        "-o",
        "json",
    ]);
    assert_ne!(code, Some(0), "{out}");
    assert!(!out.contains(&wrong_token), "{out}");
    let cli_log = std::fs::read_to_string(&log).unwrap();
    assert!(
        cli_log.contains("TRACE") || cli_log.contains("DEBUG"),
        "a verbose log"
    );
    needles.assert_absent("the CLI's log", &cli_log);
    let audit_log = std::fs::read_to_string(&audit).unwrap();
    assert!(audit_log.contains("\"action\":\"sync\""), "{audit_log}");
    needles.assert_absent("the audit log", &audit_log);
    assert!(
        !cli_log.contains(&wrong_token),
        "the refused token in the log"
    );

    // The UI, logging everything: the Secret's row, YAML, describe and git diff, then
    // a crash.
    let t = Tmux::start_env(
        &[("SEXTANT_LOG", "trace"), ("SEXTANT_FAULT", "panic-ui")],
        &[
            "--kubeconfig",
            &kubeconfig,
            "--repo",
            repo,
            "--app",
            &name,
            "-n",
            &name,
            "--portworx",
            &px,
            "--portworx-token-file",
            &token_file,
        ],
        160,
        45,
    );
    let mut screens = vec![t.wait(&["● kube", "● git", "Rotate the database password"], 30)];
    t.keys(&["/"]);
    t.type_text("db-cred");
    screens.push(t.wait(&["db-credentials", "keys: password"], 10));
    t.keys(&["Enter", "y"]);
    screens.push(t.wait(
        &[
            &format!("yaml Secret {name}/db-credentials"),
            "password: <redacted>",
        ],
        10,
    ));
    t.keys(&["d"]);
    screens.push(t.wait(
        &[&format!("describe Secret {name}/db-credentials"), "Keys:"],
        10,
    ));
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["Escape"]);
    std::thread::sleep(Duration::from_millis(300));
    // The git pane's diff of the rotation.
    t.keys(&["Tab"]);
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["Enter"]);
    screens.push(t.wait(&["secret.yaml", "(redacted)"], 15));
    for s in &screens {
        needles.assert_absent("the screen", s);
    }
    t.keys(&["F12"]);
    let s = t.wait(&["SEXTANT_EXIT=101", "sextant crashed"], 15);
    needles.assert_absent("the screen after the crash", &s);
    let logs = t.crash_logs();
    assert_eq!(logs.len(), 1, "{logs:?}");
    needles.assert_absent("the crash log", &std::fs::read_to_string(&logs[0]).unwrap());
    let ui_log = t.log();
    assert!(ui_log.contains("TRACE"), "everything was logged");
    needles.assert_absent("the UI's log", &ui_log);
    drop(cleanup);
}

/// Removes the namespace, the sync record and the repository, even after a failure.
struct Cleanup {
    ns: String,
    root: PathBuf,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let record = format!("sync-{}", self.ns);
        let _ = Command::new("kubectl")
            .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
            .args([
                "delete",
                "namespace",
                &self.ns,
                "--wait=false",
                "--ignore-not-found",
            ])
            .output();
        let _ = Command::new("kubectl")
            .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
            .args([
                "-n",
                "sextant-system",
                "delete",
                "configmap",
                &record,
                "--ignore-not-found",
            ])
            .output();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}
