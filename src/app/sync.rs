//! GitOps in the TUI: drift marks for the cluster pane, the sync preview (a plan
//! shown whole before anything is applied), its progress, and the commit dialog.
use super::cluster::{Key, Kind};
use super::msg::{ClusterEvent, Command, SyncEvent, WriteIntent};
use super::state::{Entry, State};
use crate::engine::plan::{Action, Plan};
use crossterm::event::{KeyCode, KeyEvent};
use std::collections::BTreeMap;

/// An object's place between git (at the synced commit) and the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mark {
    Synced,
    Drifted,
    /// In git, not in the cluster.
    Missing,
    /// Applied by sextant, gone from git.
    NotInGit,
    Unknown,
}

impl Mark {
    pub fn label(self) -> &'static str {
        match self {
            Mark::Synced => "synced",
            Mark::Drifted => "drifted",
            Mark::Missing => "missing",
            Mark::NotInGit => "not in git",
            Mark::Unknown => "unknown",
        }
    }

    /// One cell for narrow panes.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Synced => "✓",
            Mark::Drifted => "≠",
            Mark::Missing => "✗",
            Mark::NotInGit => "⊘",
            Mark::Unknown => "?",
        }
    }

    pub fn of(a: Action) -> Mark {
        match a {
            Action::Unchanged => Mark::Synced,
            Action::Update | Action::Conflict => Mark::Drifted,
            Action::Create => Mark::Missing,
            Action::Prune => Mark::NotInGit,
            Action::Error => Mark::Unknown,
        }
    }
}

/// The API kind of a cluster pane kind.
pub fn api_kind(k: Kind) -> &'static str {
    match k {
        Kind::Pvc => "PersistentVolumeClaim",
        Kind::Pv => "PersistentVolume",
        k => k.label(),
    }
}

/// Drift of one object: the key the cluster pane uses, its mark and what differs.
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub mark: Mark,
    pub changes: Vec<String>,
}

impl Drift {
    /// From the plan of the synced commit.
    pub fn from_plan(p: &Plan) -> Vec<Drift> {
        p.steps
            .iter()
            .map(|s| Drift {
                kind: s.object.kind.clone(),
                namespace: s.object.namespace.clone().unwrap_or_default(),
                name: s.object.name.clone(),
                mark: Mark::of(s.action),
                changes: s.changes.iter().map(|c| c.describe()).collect(),
            })
            .collect()
    }
}

/// A plan on screen: the user reads it, then applies, forces or cancels.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub plan: Plan,
    pub scroll: usize,
    pub prune: bool,
    /// Snapshot the StatefulSets the sync changes first (on by default).
    pub snapshot_first: bool,
    /// The sync's id once applied; its progress lines follow.
    pub running: Option<u64>,
    pub log: Vec<String>,
    pub finished: Option<Result<String, String>>,
}

/// `c`: the files to commit and the message being typed.
#[derive(Clone, Debug, PartialEq)]
pub struct CommitDialog {
    pub files: Vec<super::msg::RepoPath>,
    pub message: String,
    /// HEAD as the git pane showed it when the files were listed.
    pub head: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct SyncState {
    /// (API kind, namespace, name) → drift, for every object in git at the synced commit.
    pub drift: BTreeMap<(String, String, String), Drift>,
    /// Why drift is unknown, when it is.
    pub drift_error: Option<String>,
    pub preview: Option<Preview>,
    pub commit: Option<CommitDialog>,
    /// A plan or a file list asked for and not yet here.
    pub waiting: Option<String>,
    /// Snapshots to offer for restore once a roll back is synced (namespace/name).
    pub paired: Vec<String>,
}

impl SyncState {
    pub fn mark(&self, key: &Key) -> Option<&Drift> {
        self.drift
            .get(&(api_kind(key.0).to_string(), key.1.clone(), key.2.clone()))
    }

    /// Objects that are not synced.
    pub fn drift_count(&self) -> usize {
        self.drift
            .values()
            .filter(|d| d.mark != Mark::Synced)
            .count()
    }

    pub fn set_drift(&mut self, d: Result<Vec<Drift>, String>) {
        match d {
            Ok(rows) => {
                self.drift_error = None;
                self.drift = rows
                    .into_iter()
                    .map(|d| ((d.kind.clone(), d.namespace.clone(), d.name.clone()), d))
                    .collect();
            }
            Err(e) => self.drift_error = Some(e),
        }
    }

    /// Whether a change to this cluster row can change drift.
    pub fn tracks(&self, key: &Key) -> bool {
        self.mark(key).is_some()
    }
}

/// Lines the preview shows: summary, then each change with its diff, then errors.
pub fn preview_lines(p: &Preview) -> Vec<String> {
    let plan = &p.plan;
    let mut out = vec![plan.summary()];
    if let Some(why) = plan.refusal() {
        out.push(format!("error: {why}"));
    }
    let stateful = crate::engine::snapshot::changed_by(plan);
    if !stateful.is_empty() {
        let names: Vec<String> = stateful.iter().map(|w| w.to_string()).collect();
        out.push(if p.snapshot_first {
            format!("Snapshots first (s to skip): {}", names.join(", "))
        } else {
            format!("NO snapshot first (s to take one): {}", names.join(", "))
        });
    }
    out.push(String::new());
    for s in plan.steps.iter().filter(|s| s.action != Action::Unchanged) {
        let at = match (&s.file, s.line) {
            (Some(f), Some(l)) => format!("  ({f}:{l})"),
            _ => String::new(),
        };
        let what = match s.action {
            Action::Prune if !p.prune => "not in git (kept: prune is off)",
            Action::Prune => "PRUNE (delete)",
            Action::Create => "create",
            Action::Update => "update",
            Action::Conflict => "CONFLICT",
            Action::Error => "error",
            Action::Unchanged => "unchanged",
        };
        let wave = match s.wave {
            0 => String::new(),
            w => format!("  wave {w}"),
        };
        out.push(format!("{what} {}{at}{wave}", s.object));
        if let Some(m) = &s.message {
            out.push(format!("  {m}"));
        }
        out.extend(s.diff.lines().map(String::from));
        out.push(String::new());
    }
    out.extend(plan.errors.iter().map(|e| format!("unreadable {e}")));
    if !p.log.is_empty() {
        out.push(String::new());
        out.push("progress".into());
        out.extend(p.log.iter().map(|l| format!("  {l}")));
    }
    if let Some(r) = &p.finished {
        out.push(match r {
            Ok(s) => format!("done: {s}"),
            Err(e) => format!("failed: {e}"),
        });
    }
    out
}

/// Keys while a preview is open. Returns the write to run, if the user chose one.
pub fn preview_key(state: &mut State, key: KeyEvent) -> Option<WriteIntent> {
    let p = state.sync.preview.as_mut()?;
    let len = preview_lines(p).len();
    let page = 10;
    match key.code {
        KeyCode::Char('j') | KeyCode::Down => p.scroll = (p.scroll + 1).min(len.saturating_sub(1)),
        KeyCode::Char('k') | KeyCode::Up => p.scroll = p.scroll.saturating_sub(1),
        KeyCode::PageDown | KeyCode::Char(' ') => {
            p.scroll = (p.scroll + page).min(len.saturating_sub(1))
        }
        KeyCode::PageUp => p.scroll = p.scroll.saturating_sub(page),
        KeyCode::Char('g') | KeyCode::Home => p.scroll = 0,
        KeyCode::Char('G') | KeyCode::End => p.scroll = len.saturating_sub(1),
        KeyCode::Char('p') if p.running.is_none() && p.finished.is_none() => p.prune = !p.prune,
        KeyCode::Char('s') if p.running.is_none() && p.finished.is_none() => {
            p.snapshot_first = !p.snapshot_first
        }
        KeyCode::Char('y') | KeyCode::Char('f') if p.running.is_none() && p.finished.is_none() => {
            if let Some(why) = p.plan.refusal() {
                state.flash = Some((false, why));
                return None;
            }
            return Some(WriteIntent::Sync {
                plan: Box::new(p.plan.clone()),
                prune: p.prune,
                force: key.code == KeyCode::Char('f'),
                snapshot_first: p.snapshot_first,
            });
        }
        // A running sync keeps its window; it cannot be cancelled half way.
        KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('n') if p.running.is_none() => {
            state.sync.preview = None;
        }
        _ => {}
    }
    None
}

/// Keys while the commit dialog is open: typing the message, Enter commits.
pub fn commit_key(state: &mut State, key: KeyEvent) -> Option<WriteIntent> {
    let d = state.sync.commit.as_mut()?;
    match key.code {
        KeyCode::Esc => state.sync.commit = None,
        KeyCode::Enter if !d.message.trim().is_empty() => {
            let intent = WriteIntent::Commit {
                files: d.files.clone(),
                message: d.message.trim().to_string(),
                head: d.head.clone(),
            };
            state.sync.commit = None;
            return Some(intent);
        }
        KeyCode::Backspace => {
            d.message.pop();
        }
        KeyCode::Char(c) => d.message.push(c),
        _ => {}
    }
    None
}

/// The revision `s` syncs: the selected commit in the git pane, else HEAD.
pub fn sync_target(state: &State) -> String {
    match state.git.entry(state.git.selected) {
        Some(Entry::Commit(c)) if state.focus == super::state::Pane::Git => c.id.clone(),
        _ => "HEAD".into(),
    }
}

/// Asks for a plan; the preview opens when it arrives.
pub fn ask_plan(state: &mut State, rev: String, out: &mut Vec<Command>) {
    state.sync.waiting = Some(format!("planning a sync of {}", short(&rev)));
    out.push(Command::PlanSync { rev });
}

pub fn short(sha: &str) -> &str {
    crate::engine::short(sha, 8)
}

/// `r` on a commit: confirm, then the executor reverts it and plans the result.
/// Snapshots taken just before `sha` was last synced, from the sync record.
fn snapshots_before(state: &State, sha: &str) -> Vec<String> {
    let history = state.git.synced.as_ref().map(|r| r.history.as_slice());
    history
        .unwrap_or_default()
        .iter()
        .rev()
        .find(|e| e.commit == sha && !e.snapshots.is_empty())
        .map(|e| e.snapshots.clone())
        .unwrap_or_default()
}

pub fn ask_rollback(state: &mut State) {
    match state.git.entry(state.git.selected) {
        Some(Entry::Commit(c)) => {
            let restore = snapshots_before(state, &c.id);
            state.confirm = Some(super::state::Confirm {
                intent: WriteIntent::Revert {
                    sha: c.id.clone(),
                    subject: c.summary.clone(),
                    restore,
                },
            })
        }
        _ => {
            state.flash = Some((
                false,
                "select a commit in the git pane to roll it back".into(),
            ))
        }
    }
}

pub fn event(state: &mut State, ev: SyncEvent) {
    let s = &mut state.sync;
    match ev {
        SyncEvent::Planned { rev, result } => {
            s.waiting = None;
            state.dirty = true;
            match result {
                // A running sync keeps its window: its progress and result matter more.
                Ok(_) if s.preview.as_ref().is_some_and(|p| p.running.is_some()) => {
                    state.flash = Some((
                        false,
                        format!("plan of {} dropped: a sync is running", short(&rev)),
                    ))
                }
                // Keys typed into another dialog must never land in a preview.
                Ok(_) if state.confirm.is_some() || s.commit.is_some() || state.input.is_some() => {
                    state.flash = Some((
                        false,
                        format!(
                            "plan of {} dropped: a dialog is open; s plans again",
                            short(&rev)
                        ),
                    ))
                }
                Ok(plan) => {
                    s.preview = Some(Preview {
                        plan: *plan,
                        scroll: 0,
                        prune: false,
                        snapshot_first: true,
                        running: None,
                        log: Vec::new(),
                        finished: None,
                    })
                }
                Err(e) => state.flash = Some((false, format!("cannot plan {}: {e}", short(&rev)))),
            }
        }
        SyncEvent::Progress(id, line) => {
            if let Some(p) = s.preview.as_mut().filter(|p| p.running == Some(id)) {
                p.log.push(line);
                // Follow the log while it grows.
                p.scroll = preview_lines(p).len().saturating_sub(1);
                state.dirty = true;
            }
        }
        SyncEvent::Drift(d) => {
            let before = (s.drift.clone(), s.drift_error.clone());
            s.set_drift(d);
            if (s.drift.clone(), s.drift_error.clone()) != before {
                state.dirty = true;
            }
        }
        SyncEvent::Changes(files) => {
            s.waiting = None;
            state.dirty = true;
            match files {
                Ok(f) if f.is_empty() => {
                    state.flash =
                        Some((true, "nothing to commit: the working tree is clean".into()))
                }
                Ok(files) => {
                    // The commit is made on this HEAD or not at all.
                    let head = state.git.repo.as_ref().map(|r| r.head.clone());
                    s.commit = Some(CommitDialog {
                        files,
                        message: String::new(),
                        head,
                    })
                }
                Err(e) => state.flash = Some((false, e)),
            }
        }
    }
}

/// A write finished: a sync's preview shows how, and drift is checked again.
pub fn done(state: &mut State, id: u64, result: &Result<String, String>, out: &mut Vec<Command>) {
    if let Some(p) = state
        .sync
        .preview
        .as_mut()
        .filter(|p| p.running == Some(id))
    {
        p.running = None;
        p.finished = Some(result.clone());
        p.scroll = preview_lines(p).len().saturating_sub(1);
        out.push(Command::CheckDrift);
        // A synced roll back: offer the data from before the rolled-back commit.
        if result.is_ok() && !state.sync.paired.is_empty() {
            state.sync.preview = None;
            let next = state.sync.paired.remove(0);
            super::ops::open_restore(state, &next, out);
        }
    }
}

/// Whether a cluster event can change drift: an object that git has changed.
pub fn affects_drift(state: &State, ev: &ClusterEvent) -> bool {
    match ev {
        ClusterEvent::Applied(row) => state.sync.tracks(&row.key()),
        ClusterEvent::Deleted(kind, ns, name) => {
            state.sync.tracks(&(*kind, ns.clone(), name.clone()))
        }
        ClusterEvent::Listed(..) => !state.sync.drift.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::keymap::Keymap;
    use crate::app::msg::Msg;
    use crate::app::update;

    fn planned(commit: &str) -> Msg {
        Msg::Sync(SyncEvent::Planned {
            rev: commit.into(),
            result: Ok(Box::new(Plan {
                commit: commit.into(),
                ..Default::default()
            })),
        })
    }

    #[test]
    fn a_plan_with_unreadable_manifests_cannot_be_applied() {
        let (mut s, km) = (State::new(false, vec![], 0), Keymap::default());
        let plan = Plan {
            commit: "aaaa1111bbbb".into(),
            errors: vec!["apps/broken.yaml:7: mapping values are not allowed".into()],
            ..Default::default()
        };
        update(
            &mut s,
            &km,
            Msg::Sync(SyncEvent::Planned {
                rev: "HEAD".into(),
                result: Ok(Box::new(plan)),
            }),
        );
        let lines = preview_lines(s.sync.preview.as_ref().unwrap());
        assert_eq!(
            lines[1],
            "error: sync of aaaa1111 disabled: apps/broken.yaml:7: mapping values are not \
             allowed; fix the manifests in a new commit"
        );
        for key in ['y', 'f'] {
            let out = update(&mut s, &km, Msg::Key(KeyEvent::from(KeyCode::Char(key))));
            assert!(out.is_empty(), "{out:?}");
            assert_eq!(s.sync.preview.as_ref().unwrap().running, None);
            let (ok, flash) = s.flash.clone().unwrap();
            assert!(!ok && flash.contains("disabled"), "{flash}");
        }
    }

    #[test]
    fn keys_typed_into_a_dialog_never_reach_a_plan_behind_it() {
        let (mut s, km) = (State::new(false, vec![], 0), Keymap::default());
        s.sync.commit = Some(CommitDialog {
            files: vec!["apps/web.yaml".into()],
            message: String::new(),
            head: None,
        });
        update(&mut s, &km, planned("aaaa1111"));
        assert!(s.sync.preview.is_none(), "dropped while the dialog is open");
        for c in "fix".chars() {
            let out = update(&mut s, &km, Msg::Key(KeyEvent::from(KeyCode::Char(c))));
            assert!(out.is_empty(), "{out:?}");
        }
        assert_eq!(s.sync.commit.as_ref().unwrap().message, "fix");
    }

    #[test]
    fn a_new_connection_forgets_drift_and_an_idle_preview() {
        let (mut s, km) = (State::new(false, vec![], 0), Keymap::default());
        update(&mut s, &km, planned("aaaa1111"));
        s.sync.set_drift(Ok(vec![Drift {
            kind: "ConfigMap".into(),
            namespace: "shop".into(),
            name: "a".into(),
            mark: Mark::Drifted,
            changes: vec![],
        }]));
        s.git.synced = Some(Default::default());
        let connected = crate::app::msg::ClusterEvent::Connected {
            context: "other".into(),
            server: "https://127.0.0.1:1".into(),
            namespace: None,
        };
        update(&mut s, &km, Msg::Cluster(connected));
        assert!(s.sync.preview.is_none() && s.sync.drift.is_empty() && s.git.synced.is_none());
    }

    #[test]
    fn a_plan_never_replaces_a_running_sync_and_prune_is_fixed_once_done() {
        let (mut s, km) = (State::new(false, vec![], 0), Keymap::default());
        update(&mut s, &km, planned("aaaa1111"));
        update(&mut s, &km, Msg::Key(KeyEvent::from(KeyCode::Char('y'))));
        let id = s.sync.preview.as_ref().unwrap().running.expect("running");
        update(&mut s, &km, planned("bbbb2222"));
        let p = s.sync.preview.as_ref().unwrap();
        assert_eq!((p.plan.commit.as_str(), p.running), ("aaaa1111", Some(id)));
        assert!(s.flash.as_ref().unwrap().1.contains("a sync is running"));
        update(&mut s, &km, Msg::Done(id, Ok("synced aaaa1111".into())));
        update(&mut s, &km, Msg::Key(KeyEvent::from(KeyCode::Char('p'))));
        assert!(
            !s.sync.preview.as_ref().unwrap().prune,
            "what was done stays as shown"
        );
        // Once finished, a new plan takes the window.
        update(&mut s, &km, planned("bbbb2222"));
        assert_eq!(s.sync.preview.as_ref().unwrap().plan.commit, "bbbb2222");
    }
}
