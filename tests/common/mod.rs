//! Shared helpers for the integration tests, which run against the local environment
//! that `make test` starts (devenv/up.sh) and describes in .demo/env.sh.
#![allow(dead_code)]
pub mod app;
pub mod tmux;
use sextant::app::Msg;
use std::time::Duration;
use tokio::sync::mpsc::Receiver;

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the integration tests through `make test`, which starts the environment"))
}

pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Receives messages until `pred` accepts one, failing after `secs`.
pub async fn wait_for<T>(
    rx: &mut Receiver<Msg>,
    secs: u64,
    what: &str,
    mut pred: impl FnMut(&Msg) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(m)) => {
                if let Some(t) = pred(&m) {
                    return t;
                }
            }
            Ok(None) => panic!("channel closed while waiting for {what}"),
            Err(_) => panic!("timed out after {secs}s waiting for {what}"),
        }
    }
}

/// A short unique suffix for names made by a test.
pub fn unique() -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}", n % 0xffff_ffff)
}

/// Creates a namespace named PREFIX-<unique> for one test and returns its name.
pub async fn namespace(client: &kube::Client, prefix: &str) -> String {
    use k8s_openapi::api::core::v1::Namespace;
    use kube::api::{Api, PostParams};
    let ns = format!("{prefix}-{}", unique());
    let meta: Namespace =
        serde_json::from_value(serde_json::json!({"metadata": {"name": ns}})).unwrap();
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &meta)
        .await
        .unwrap();
    ns
}

/// Runs git in `dir` as the tests' identity and returns its trimmed output; a failing
/// git fails the test with git's own words.
pub fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=Test Ops",
            "-c",
            "user.email=ops@example.com",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare remote and a clone of it, under `root`: (remote, clone).
pub fn repo_with_remote(root: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (remote, work) = (root.join("remote.git"), root.join("work"));
    std::fs::create_dir_all(root).unwrap();
    git(
        root,
        &[
            "init",
            "-q",
            "--bare",
            "-b",
            "main",
            remote.to_str().unwrap(),
        ],
    );
    git(
        root,
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            work.to_str().unwrap(),
        ],
    );
    git(&work, &["config", "user.name", "Test Ops"]);
    git(&work, &["config", "user.email", "ops@example.com"]);
    (remote, work)
}

/// The test kubeconfig broken four ways, each with the field its message must name.
pub fn broken_kubeconfigs() -> Vec<(std::path::PathBuf, &'static str)> {
    let good = std::fs::read_to_string(env("SEXTANT_TEST_KUBECONFIG")).unwrap();
    let dir = std::env::temp_dir();
    let write = |name: &str, text: &str| {
        let p = dir.join(format!("sextant-{name}-{}", unique()));
        std::fs::write(&p, text).unwrap();
        p
    };
    let exec = good.replacen(
        "  user:\n    token:",
        "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /bin/sh\n      args: [-c, 'echo sso session expired >&2; exit 1']\n    tokenx:",
        1,
    );
    vec![
        (write("corrupt", "clusters: [oops\n"), "line 1 column 11"),
        (
            write("wrongtype", "apiVersion: v1\ncontexts: 5\n"),
            "line 2 column 11: expected sequence start (field \"contexts\")",
        ),
        (
            write(
                "nocontext",
                &good.replace("current-context: demo", "current-context: gone"),
            ),
            "current-context names context \"gone\"",
        ),
        (
            write("exec", &exec),
            "users[admin].user.exec: command \"/bin/sh\" failed (exit status: 1): sso session expired",
        ),
    ]
}

/// The whole UI drawn for `state` into a `w`x`h` test backend, as text lines.
pub fn screen(state: &sextant::app::State, w: u16, h: u16) -> String {
    use ratatui::{Terminal, backend::TestBackend};
    let theme = sextant::ui::theme::Theme::bundled("dark").unwrap();
    let keymap = sextant::app::keymap::Keymap::default();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| sextant::ui::draw(f, state, &theme, &keymap))
        .unwrap();
    let buf = t.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol().to_string())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// kubectl as the environment's admin; its trimmed output. A failure fails the test
/// with kubectl's own words.
pub fn kubectl(args: &[&str]) -> String {
    let out = std::process::Command::new("kubectl")
        .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
        .args(args)
        .output()
        .expect("kubectl runs");
    assert!(
        out.status.success(),
        "kubectl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The Portworx volume behind a bound claim: its PV's CSI volume handle.
pub fn volume_of(ns: &str, claim: &str) -> String {
    let pv = kubectl(&[
        "-n",
        ns,
        "get",
        "pvc",
        claim,
        "-o",
        "jsonpath={.spec.volumeName}",
    ]);
    kubectl(&["get", "pv", &pv, "-o", "jsonpath={.spec.csi.volumeHandle}"])
}
