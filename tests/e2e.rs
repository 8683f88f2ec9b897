//! End to end: the real binary in tmux against the environment, keys sent, screen read.
mod common;
use common::{env, unique};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts sextant with `args` in a detached session of the given size.
    fn start(args: &[&str], cols: u16, rows: u16) -> Tmux {
        let t = Tmux {
            socket: format!("sextant-e2e-{}", unique()),
        };
        let bin = env!("CARGO_BIN_EXE_sextant");
        let log = std::env::temp_dir().join(format!("{}.log", t.socket));
        let mut cmd = format!("{bin} --log-file {}", log.display());
        for a in args {
            cmd.push_str(&format!(" '{a}'"));
        }
        // Keep the pane after exit, so the exit code and the restored screen can be read.
        let shell = format!("{cmd}; echo SEXTANT_EXIT=$?; sleep 30");
        let ok = Command::new("tmux")
            .args([
                "-L",
                &t.socket,
                "new-session",
                "-d",
                "-x",
                &cols.to_string(),
                "-y",
                &rows.to_string(),
                &shell,
            ])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux could not start");
        t
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "capture-pane", "-p"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["-L", self.socket.as_str(), "send-keys"];
        args.extend_from_slice(keys);
        Command::new("tmux").args(args).status().unwrap();
    }

    /// Waits until every needle is on screen.
    fn wait(&self, needles: &[&str], secs: u64) -> String {
        let end = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.screen();
            if needles.iter().all(|n| s.contains(n)) {
                return s;
            }
            if Instant::now() > end {
                let missing: Vec<_> = needles.iter().filter(|n| !s.contains(**n)).collect();
                panic!("not on screen after {secs}s: {missing:?}\n{s}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}

fn config() -> String {
    format!("{}/config.toml", env("SEXTANT_ENV_DIR"))
}

#[test]
fn demo_shows_every_pane_help_and_quits_cleanly() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(
        &[
            "carts-db",
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

#[test]
fn a_broken_kubeconfig_leaves_the_other_panes_working() {
    let bad = std::env::temp_dir().join(format!("sextant-e2e-kubeconfig-{}", unique()));
    std::fs::write(&bad, "clusters: [oops\n").unwrap();
    let path = bad.display().to_string();
    let t = Tmux::start(&["--config", &config(), "--kubeconfig", &path], 160, 45);
    t.wait(
        &[
            &format!("kubeconfig {path}"),
            "Bump carts to 0.5.0",
            "shop/data-carts-db-0",
            "✖ kube",
        ],
        30,
    );
    t.keys(&["q"]);
    t.wait(&["SEXTANT_EXIT=0"], 10);
}

#[test]
fn read_only_refuses_writes_from_the_keyboard() {
    let t = Tmux::start(&["--config", &config(), "--read-only"], 160, 45);
    t.wait(&["READ-ONLY", "carts-db"], 30);
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
    t.wait(&["carts-db"], 30);
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
            "carts-db",
            "Bump carts to 0.5.0",
            "cannot reach http://127.0.0.1:1",
            "http://127.0.0.1:1:",
            "✖ prom",
            "✖ px",
        ],
        30,
    );
}

#[test]
fn filter_describe_and_yaml_from_the_keyboard_never_show_a_secret() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(&["carts-db"], 30);
    t.keys(&[
        "/", "c", "a", "r", "t", "s", "-", "d", "b", "-", "c", "r", "e", "d",
    ]);
    t.wait(
        &[
            "carts-db-credentials",
            "keys: password, username",
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
    t.wait(&["all namespaces", "kube-system"], 15);
}

#[test]
fn ctx_switches_to_another_context_and_back() {
    let t = Tmux::start(&["--config", &config()], 160, 45);
    t.wait(&["ctx:demo ", "carts-db"], 30);
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
