//! The audit trail. Every mutation appends one JSON line to a local file (who, what,
//! target, commit, result); those that change cluster objects are also recorded as
//! Kubernetes Events on them. The executor and the command line both record through
//! `Recorder::record`, so nothing mutates without a line.
use crate::engine::target::ObjRef;
use crate::exec::Writer;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

mod event;
mod sync;
pub use event::{Involved, Note, event, uid_of};
pub use sync::{snapshot_before_sync, sync_mutations, sync_not_applied};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Commit,
    Push,
    Sync,
    Prune,
    Rollback,
    Restart,
    Snapshot,
    Restore,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// RFC 3339, UTC.
    pub time: String,
    pub who: String,
    /// The kube context; empty when no cluster was involved or known.
    pub context: String,
    pub action: Action,
    pub target: String,
    pub commit: Option<String>,
    /// `ok`, or the error on one line.
    pub result: String,
}

impl Entry {
    /// The JSON line, `\n`-terminated. serde_json escapes control characters, so the
    /// line never breaks, whatever a field holds.
    pub fn line(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

/// Longest error text kept: enough for the server's words, not a response body.
const MAX_TEXT: usize = 500;

/// Text on one line, with bearer tokens and `token=` values masked, cut to MAX_TEXT.
pub fn one_line(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut mask_next = false;
    for word in text.split_whitespace() {
        if mask_next {
            out.push("***".into());
            mask_next = false;
            continue;
        }
        mask_next = word.eq_ignore_ascii_case("bearer");
        let lower = word.to_ascii_lowercase();
        match lower.find("token=").or_else(|| lower.find("token:")) {
            Some(i) if word.len() > i + 6 => out.push(format!("{}***", &word[..i + 6])),
            _ => out.push(word.to_string()),
        }
    }
    let flat = out.join(" ");
    if flat.chars().count() > MAX_TEXT {
        flat.chars().take(MAX_TEXT - 3).collect::<String>() + "..."
    } else {
        flat
    }
}

/// The local audit log file.
#[derive(Clone, Debug)]
pub struct AuditLog {
    path: PathBuf,
}

impl AuditLog {
    pub fn new(path: PathBuf) -> AuditLog {
        AuditLog { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line with one write: with O_APPEND, lines from several sextants
    /// land whole, never interleaved.
    pub fn append(&self, e: &Entry) -> Result<(), String> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts
            .open(&self.path)
            .map_err(|e| format!("cannot open {}: {e}", self.path.display()))?;
        f.write_all(e.line().as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

/// Who acts: the git identity of the repository (as the sync record names it), else $USER.
pub fn who(repo: Option<&Path>) -> String {
    match repo.and_then(|r| git2::Repository::discover(r).ok()) {
        Some(r) => crate::engine::gitops::identity(&r),
        None => std::env::var("USER").unwrap_or_else(|_| "unknown".into()),
    }
}

/// The target of a git write: the working tree and its branch.
pub fn repo_target(repo: &git2::Repository) -> String {
    let dir = repo.workdir().unwrap_or(repo.path()).display().to_string();
    let dir = dir.trim_end_matches('/');
    match repo
        .head()
        .ok()
        .and_then(|h| h.shorthand().ok().map(String::from))
    {
        Some(b) => format!("{dir} ({b})"),
        None => dir.to_string(),
    }
}

/// A finished mutation, as recorded.
#[derive(Clone, Debug)]
pub struct Mutation {
    pub action: Action,
    pub target: String,
    pub commit: Option<String>,
    /// Ok carries what the Events say of it ("snapshot set db-…").
    pub result: Result<String, String>,
    /// The cluster objects it changed, each with its Event: none for git writes.
    pub events: Vec<(Involved, Note)>,
}

/// Where mutations are recorded: the log always, Events when a cluster is connected.
#[derive(Clone)]
pub struct Recorder {
    pub log: AuditLog,
    pub who: String,
    pub context: String,
    pub kube: Option<kube::Client>,
}

impl Recorder {
    pub fn entry(&self, m: &Mutation) -> Entry {
        Entry {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            who: self.who.clone(),
            context: self.context.clone(),
            action: m.action,
            target: one_line(&m.target),
            commit: m.commit.clone(),
            result: match &m.result {
                Ok(_) => "ok".into(),
                Err(e) => one_line(e),
            },
        }
    }

    /// Appends the line, then creates the Events. Neither can fail the mutation, which
    /// has happened: a failure here is a warning in the log file.
    pub async fn record(&self, w: &Writer, m: &Mutation) {
        let e = self.entry(m);
        tracing::info!(target: "audit", action = ?e.action, object = %e.target, result = %e.result, "write");
        if let Err(err) = self.log.append(&e) {
            tracing::warn!("audit log: {err}");
        }
        let Some(client) = &self.kube else { return };
        for (obj, note) in &m.events {
            if let Err(err) = event(w, client, obj, note).await {
                tracing::warn!("event on {}: {err}", obj.object);
            }
        }
    }

    /// The Event message: who, the commit, and how it went.
    pub fn message(
        &self,
        what: &str,
        commit: Option<&str>,
        result: &Result<String, String>,
    ) -> String {
        let at = commit
            .map(|c| format!(" at commit {}", crate::engine::short(c, 8)))
            .unwrap_or_default();
        let how = match result {
            Ok(s) if s.is_empty() => "ok".to_string(),
            Ok(s) => s.clone(),
            Err(e) => format!("failed: {e}"),
        };
        one_line(&format!("{what} by {}{at}: {how}", self.who))
    }

    /// Records a mutation of one workload (restart, snapshot, restore), with an Event
    /// on it.
    pub async fn workload(
        &self,
        w: &Writer,
        action: Action,
        obj: ObjRef,
        target: String,
        commit: Option<String>,
        result: &Result<String, String>,
    ) {
        let (reason, verb) = match action {
            Action::Restart => ("SextantRestart", "restart"),
            Action::Restore => ("SextantRestore", "restore"),
            _ => ("SextantSnapshot", "snapshot"),
        };
        let uid = match &self.kube {
            Some(c) => uid_of(c, &obj).await,
            None => None,
        };
        let note = Note {
            reason,
            message: self.message(verb, commit.as_deref(), result),
            ok: result.is_ok(),
        };
        let m = Mutation {
            action,
            target,
            commit,
            result: result.clone(),
            events: vec![(Involved { object: obj, uid }, note)],
        };
        self.record(w, &m).await;
    }
}

/// A StatefulSet, Deployment or DaemonSet as an object reference.
pub fn workload_ref(kind: &str, namespace: &str, name: &str) -> ObjRef {
    ObjRef {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        namespace: Some(namespace.into()),
        name: name.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(result: &str) -> Entry {
        Entry {
            time: "2026-11-25T21:00:00Z".into(),
            who: "Test Ops".into(),
            context: "demo".into(),
            action: Action::Snapshot,
            target: "StatefulSet shop/carts-db".into(),
            commit: Some("a".repeat(40)),
            result: result.into(),
        }
    }

    #[test]
    fn a_line_is_one_json_object_with_every_field() {
        let line = entry("ok").line();
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["time"], "2026-11-25T21:00:00Z");
        assert_eq!(v["who"], "Test Ops");
        assert_eq!(v["context"], "demo");
        assert_eq!(v["action"], "snapshot");
        assert_eq!(v["target"], "StatefulSet shop/carts-db");
        assert_eq!(v["commit"], "a".repeat(40));
        assert_eq!(v["result"], "ok");
        let mut git = entry("ok");
        git.commit = None;
        let v: serde_json::Value = serde_json::from_str(&git.line()).unwrap();
        assert!(v["commit"].is_null(), "the field is there, empty");
    }

    #[test]
    fn quotes_and_newlines_stay_inside_the_line() {
        let mut e = entry("failed: \"x\"\nsecond line\tand a tab \\ backslash");
        e.target = "repo \"a\"\n(main)".into();
        let line = e.line();
        assert_eq!(line.matches('\n').count(), 1, "{line}");
        let back: Entry = serde_json::from_str(&line).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn results_are_one_line_without_tokens() {
        let r = Recorder {
            log: AuditLog::new("/dev/null".into()),
            who: "ops".into(),
            context: "demo".into(),
            kube: None,
        };
        let m = Mutation {
            action: Action::Restore,
            target: "StatefulSet shop/db\nfrom shop/snap".into(),
            commit: None,
            result: Err(
                "gateway said 401\nAuthorization: Bearer eyJhbGciOi.secret.sig token=abc123".into(),
            ),
            events: Vec::new(),
        };
        let e = r.entry(&m);
        assert_eq!(e.target, "StatefulSet shop/db from shop/snap");
        assert_eq!(
            e.result,
            "gateway said 401 Authorization: Bearer *** token=***"
        );
        assert!(!e.line().contains("eyJ") && !e.line().contains("abc123"));
        assert_eq!(
            r.entry(&Mutation {
                result: Ok("set x".into()),
                ..m
            })
            .result,
            "ok"
        );
        let long = "x ".repeat(1000);
        assert_eq!(one_line(&long).chars().count(), MAX_TEXT);
    }

    #[test]
    fn appends_add_whole_lines() {
        let path =
            std::env::temp_dir().join(format!("sextant-audit-{}/a/audit.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let log = AuditLog::new(path.clone());
        log.append(&entry("ok")).unwrap();
        log.append(&entry("failed: no")).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<Entry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines, [entry("ok"), entry("failed: no")]);
        let _ = std::fs::remove_dir_all(path.parent().unwrap().parent().unwrap());
    }

    #[test]
    fn event_messages_say_who_which_commit_and_how() {
        let r = Recorder {
            log: AuditLog::new("/dev/null".into()),
            who: "Test Ops".into(),
            context: String::new(),
            kube: None,
        };
        let c = "0123456789abcdef";
        assert_eq!(
            r.message("snapshot", Some(c), &Ok("set db-1: 2 snapshots".into())),
            "snapshot by Test Ops at commit 01234567: set db-1: 2 snapshots"
        );
        assert_eq!(
            r.message("restart", None, &Err("forbidden".into())),
            "restart by Test Ops: failed: forbidden"
        );
    }
}
