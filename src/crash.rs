//! What a panic leaves behind. On the UI thread sextant cannot go on: the terminal is
//! restored (raw mode off, alternate screen left) and a crash log is written. On any
//! other thread (a source, an executor task) only that task is lost: one line goes to
//! the log and a message to the status bar, and the rest keeps running. Nothing of it
//! is printed over the UI, and every text is masked by `scrub`.
use crate::app::Msg;
use std::backtrace::Backtrace;
use std::panic::PanicHookInfo;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc::Sender;

/// Installs the hook for a UI running on this thread; crash logs go into `dir`.
pub fn install(dir: PathBuf, tx: Sender<Msg>) {
    let ui = std::thread::current().id();
    std::panic::set_hook(Box::new(move |info| {
        let what = crate::scrub::text(&describe(info));
        let thread = std::thread::current();
        let name = thread.name().unwrap_or("unnamed").to_string();
        if thread.id() == ui {
            crate::terminal::restore();
            let bt = crate::scrub::text(&Backtrace::force_capture().to_string());
            let report = report(&name, &what, &bt);
            match write_log(&dir, &report) {
                Ok(path) => {
                    tracing::error!("crashed: {what}; crash log {}", path.display());
                    eprintln!(
                        "sextant crashed: {what}\nA crash log is in {}: please attach it to a bug report.",
                        path.display()
                    )
                }
                Err(e) => {
                    tracing::error!("crashed: {what}; no crash log: {e}");
                    eprintln!("sextant crashed: {what}\n(no crash log: {e})")
                }
            }
        } else {
            tracing::error!(thread = %name, "background task failed: {what}");
            let _ = tx.try_send(Msg::Fault(fault_message(&what)));
        }
    }));
}

/// "message at file:line:col".
fn describe(info: &PanicHookInfo) -> String {
    let payload = info.payload();
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into());
    match info.location() {
        Some(l) => format!("{msg} at {}:{}:{}", l.file(), l.line(), l.column()),
        None => msg,
    }
}

/// The status bar's line: one line, short enough to read.
pub fn fault_message(what: &str) -> String {
    let flat: String = what.split_whitespace().collect::<Vec<_>>().join(" ");
    let short = if flat.chars().count() > 160 {
        flat.chars().take(157).collect::<String>() + "..."
    } else {
        flat
    };
    format!("internal error in a background task ({short}); everything else keeps running")
}

/// The crash log's text.
pub fn report(thread: &str, what: &str, backtrace: &str) -> String {
    format!(
        "sextant {} crashed at {}\nthread: {thread}\npanic: {what}\n\nbacktrace:\n{backtrace}\n",
        env!("CARGO_PKG_VERSION"),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// Writes `dir/crash-<time>-<pid>.log`, readable by its owner only.
pub fn write_log(dir: &Path, report: &str) -> std::io::Result<PathBuf> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let name = format!(
        "crash-{}-{}.log",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ"),
        std::process::id()
    );
    let path = dir.join(name);
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    opts.open(&path)?.write_all(report.as_bytes())?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_message_is_one_short_line() {
        let m = fault_message("boom\nat src/x.rs:1:2");
        assert_eq!(
            m,
            "internal error in a background task (boom at src/x.rs:1:2); everything else keeps running"
        );
        assert!(fault_message(&"x ".repeat(500)).chars().count() < 250);
    }

    #[test]
    fn the_crash_log_is_private_and_says_what_and_where() {
        let dir = std::env::temp_dir().join(format!("sextant-crash-{}", std::process::id()));
        let path = write_log(&dir, &report("main", "boom at src/run.rs:1:1", "0: main")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("thread: main\npanic: boom at src/run.rs:1:1\n"),
            "{text}"
        );
        assert!(text.contains("backtrace:\n0: main"), "{text}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
