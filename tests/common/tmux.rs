//! sextant in a detached tmux session: keys sent, the screen read, as a user would.
use super::unique;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    pub socket: String,
    /// Holds the log file (`<socket>.log`) and any crash log.
    pub dir: PathBuf,
    /// The folder is the session's own, removed after a passing test.
    own_dir: bool,
}

impl Tmux {
    /// sextant with `args` in a session of the given size, logging into a folder of
    /// its own.
    pub fn start(args: &[&str], cols: u16, rows: u16) -> Tmux {
        Tmux::start_env(&[], args, cols, rows)
    }

    /// The same, with extra environment variables.
    pub fn start_env(env: &[(&str, &str)], args: &[&str], cols: u16, rows: u16) -> Tmux {
        let socket = format!("sextant-tmux-{}", unique());
        let dir = std::env::temp_dir().join(&socket);
        std::fs::create_dir_all(&dir).unwrap();
        Tmux::launch(socket, dir, true, env, args, cols, rows)
    }

    /// The same, logging into `dir`, which stays.
    pub fn start_in(dir: &Path, args: &[&str], cols: u16, rows: u16) -> Tmux {
        let socket = format!("sextant-tmux-{}", unique());
        Tmux::launch(socket, dir.to_path_buf(), false, &[], args, cols, rows)
    }

    fn launch(
        socket: String,
        dir: PathBuf,
        own_dir: bool,
        env: &[(&str, &str)],
        args: &[&str],
        cols: u16,
        rows: u16,
    ) -> Tmux {
        let t = Tmux {
            socket,
            dir,
            own_dir,
        };
        let mut cmd = String::from("env");
        for (k, v) in env {
            cmd.push_str(&format!(" {k}='{v}'"));
        }
        let bin = env!("CARGO_BIN_EXE_sextant");
        cmd.push_str(&format!(" {bin} --log-file {}", t.log_file().display()));
        for a in args {
            cmd.push_str(&format!(" '{a}'"));
        }
        // Keep the pane after exit, so the exit code and the restored screen can be read.
        let shell = format!("{cmd}; echo SEXTANT_EXIT=$?; sleep 60");
        let ok = Command::new("tmux")
            .args(["-L", &t.socket, "new-session", "-d", "-x"])
            .args([cols.to_string(), "-y".into(), rows.to_string(), shell])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux could not start");
        t
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join(format!("{}.log", self.socket))
    }

    pub fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p"])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        self.keys(&["-l", text]);
    }

    /// Waits until every needle is on screen; returns the screen.
    pub fn wait(&self, needles: &[&str], secs: u64) -> String {
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
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    /// The pane's terminal device, e.g. /dev/pts/3.
    pub fn tty(&self) -> String {
        self.tmux(&["display-message", "-p", "#{pane_tty}"])
            .trim()
            .to_string()
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    pub fn crash_logs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(&self.dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("crash-"))
            })
            .collect()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
        // What a failed test leaves is kept for reading.
        if self.own_dir && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
