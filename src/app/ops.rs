//! Snapshot and restore from the keyboard: `S` on a workload or a volume asks how to
//! take the snapshot; `r` on a snapshot plans a restore, shows what it does and waits
//! for the workload's name to be typed. Both then show their progress until done.
use super::cluster::Kind;
use super::msg::{Command, WriteIntent};
use super::state::{Pane, State};
use super::tree::Item;
use crate::engine::restore::{Plan, Record};
use crate::engine::snapshot::Consistency;
use crate::engine::workload::{Workload, WorkloadKind, from_template};
use crossterm::event::{KeyCode, KeyEvent};

/// What a running or finished write shows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    pub id: Option<u64>,
    pub log: Vec<String>,
    pub finished: Option<Result<String, String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotDialog {
    pub workload: Workload,
    /// Claims it will snapshot, as far as the tree knows.
    pub claims: usize,
    pub run: Run,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RestoreDialog {
    /// namespace/name of the chosen snapshot.
    pub snapshot: String,
    /// None while planning.
    pub plan: Option<Result<Box<Plan>, String>>,
    /// What the user typed to confirm.
    pub typed: String,
    pub safety: bool,
    pub run: Run,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct OpsState {
    pub snapshot: Option<SnapshotDialog>,
    pub restore: Option<RestoreDialog>,
    /// Restores a stopped sextant left unfinished; the first is shown until the user
    /// resumes, undoes or puts it off.
    pub unfinished: Vec<Record>,
}

impl OpsState {
    pub fn open(&self) -> bool {
        self.snapshot.is_some() || self.restore.is_some() || !self.unfinished.is_empty()
    }
}

/// The unfinished restores found at connect. A wall display cannot act on them.
pub fn unfinished(state: &mut State, found: Result<Vec<Record>, String>) {
    // Unreadable records (a viewer may not read sextant-system) leave nothing to offer.
    let Ok(found) = found else { return };
    if state.watch.on {
        return;
    }
    // Only those in the namespace shown: another team's restore is not this view's.
    let shown = state.cluster.namespace.clone();
    state.ops.unfinished = found
        .into_iter()
        .filter(|r| crate::engine::restore_run::explain(r).is_some())
        .filter(|r| {
            let ns = r.workload.as_ref().map(|w| w.namespace.as_str());
            shown.as_deref().is_none_or(|s| ns == Some(s))
        })
        .collect();
    state.dirty = true;
}

/// Keys while an unfinished restore is shown: r resumes it, u undoes it, Esc puts it
/// off (it is found again at the next start).
fn unfinished_key(state: &mut State, key: KeyEvent, out: &mut Vec<Command>) -> Option<WriteIntent> {
    let rec = state.ops.unfinished.first()?.clone();
    let act = matches!(key.code, KeyCode::Char('r' | 'u'));
    if act && let Some(why) = refusal(state) {
        state.flash = Some((false, why));
        return None;
    }
    match key.code {
        KeyCode::Char('r') => {
            state.ops.unfinished.remove(0);
            open_restore(state, &rec.snapshot, out);
            None
        }
        // A write like any other: previewed and confirmed.
        KeyCode::Char('u') if !rec.data_changed() => {
            state.ops.unfinished.remove(0);
            state.confirm = Some(super::state::Confirm {
                intent: WriteIntent::UndoRestore {
                    record: Box::new(rec),
                },
            });
            None
        }
        KeyCode::Char('u') => {
            let ns = rec.workload.as_ref().map(|w| w.namespace.clone());
            match (ns, &rec.safety) {
                (Some(ns), Some(set)) => {
                    state.ops.unfinished.remove(0);
                    open_restore(state, &format!("{ns}/{set}"), out);
                }
                _ => {
                    state.flash = Some((
                        false,
                        "cannot undo: the data was restored and no safety snapshot was taken; r finishes the restore".into(),
                    ))
                }
            }
            None
        }
        KeyCode::Esc | KeyCode::Char('q') => {
            state.ops.unfinished.remove(0);
            state.flash = Some((
                true,
                format!(
                    "left unfinished: sextant restore {} resumes it",
                    rec.snapshot
                ),
            ));
            None
        }
        _ => None,
    }
}

fn workload(kind: Kind, namespace: &str, name: &str) -> Option<Workload> {
    let kind = match kind {
        Kind::StatefulSet => WorkloadKind::StatefulSet,
        Kind::Deployment => WorkloadKind::Deployment,
        _ => return None,
    };
    Some(Workload {
        kind,
        namespace: namespace.into(),
        name: name.into(),
    })
}

/// The StatefulSet or Deployment using claim `ns/claim`, from the watched rows.
fn owner_of(state: &State, ns: &str, claim: &str) -> Option<Workload> {
    let c = &state.cluster;
    let sts = c.in_namespace(Kind::StatefulSet, ns).find(|r| {
        r.claims
            .iter()
            .any(|t| t == claim || from_template(claim, t, &r.name))
    });
    let row = sts.or_else(|| {
        c.in_namespace(Kind::Deployment, ns)
            .find(|r| r.claims.iter().any(|t| t == claim))
    })?;
    workload(row.kind(), ns, &row.name)
}

/// Claims a workload's snapshot takes, as far as its row tells.
fn claim_count(state: &State, wl: &Workload) -> usize {
    let kind = match wl.kind {
        WorkloadKind::StatefulSet => Kind::StatefulSet,
        WorkloadKind::Deployment => Kind::Deployment,
    };
    let Some(row) = state.cluster.row(kind, &wl.namespace, &wl.name) else {
        return 1;
    };
    match wl.kind {
        WorkloadKind::StatefulSet => {
            row.claims.len() * row.ready.map_or(1, |(_, want)| want.max(1) as usize)
        }
        WorkloadKind::Deployment => row.claims.len(),
    }
}

/// The workload `S` acts on: the selected one in the cluster pane, or the owner of the
/// selected volume's claim in the storage pane.
fn selected_workload(state: &State) -> Result<Workload, String> {
    match state.focus {
        Pane::Storage => {
            let v = super::storage::selected_volume(state).ok_or("select a volume to snapshot")?;
            let (ns, claim) = v.pvc.as_ref().ok_or("this volume has no claim")?;
            owner_of(state, ns, claim)
                .ok_or_else(|| format!("no StatefulSet or Deployment uses {ns}/{claim}"))
        }
        _ => {
            let tree = state.cluster.tree();
            let line = tree
                .get(state.cluster.selected)
                .filter(|l| l.item == Item::Row);
            let (kind, ns, name) =
                line.map(|l| l.key.clone())
                    .unwrap_or((Kind::Pod, "".into(), "".into()));
            match kind {
                Kind::Pvc => owner_of(state, &ns, &name),
                k => workload(k, &ns, &name),
            }
            .ok_or_else(|| "select a StatefulSet, Deployment or claim to snapshot".into())
        }
    }
}

/// Why a snapshot or restore cannot start now, if it cannot.
fn refusal(state: &State) -> Option<String> {
    if state.read_only {
        return Some("read-only mode: writes are disabled".into());
    }
    state
        .cluster
        .writes_blocked()
        .or_else(|| super::storage::writes_blocked(state))
}

pub fn ask_snapshot(state: &mut State) {
    if let Some(why) = refusal(state) {
        state.flash = Some((false, why));
        return;
    }
    match selected_workload(state) {
        Ok(wl) => {
            let claims = claim_count(state, &wl);
            state.ops.snapshot = Some(SnapshotDialog {
                workload: wl,
                claims,
                run: Run::default(),
            });
        }
        Err(e) => state.flash = Some((false, e)),
    }
}

/// The snapshot under the cursor: a VolumeSnapshot row in the cluster pane, or the
/// one picked in the storage pane's details.
pub fn selected_snapshot(state: &State) -> Option<(String, String)> {
    match state.focus {
        Pane::Cluster => {
            let tree = state.cluster.tree();
            let line = tree.get(state.cluster.selected)?;
            (line.item == Item::Row && line.key.0 == Kind::VolumeSnapshot)
                .then(|| (line.key.1.clone(), line.key.2.clone()))
        }
        Pane::Storage => super::storage::selected_snapshot(state),
        _ => None,
    }
}

/// `r`: restore when a snapshot is selected. False when there is none, so the key
/// keeps its other meaning.
pub fn ask_restore(state: &mut State, out: &mut Vec<Command>) -> bool {
    let Some((namespace, name)) = selected_snapshot(state) else {
        return false;
    };
    if let Some(why) = refusal(state) {
        state.flash = Some((false, why));
        return true;
    }
    open_restore(state, &format!("{namespace}/{name}"), out);
    true
}

/// Opens the restore dialog of `snapshot` (namespace/name) and asks for its plan.
pub fn open_restore(state: &mut State, snapshot: &str, out: &mut Vec<Command>) {
    let Some((namespace, name)) = snapshot.split_once('/') else {
        return;
    };
    state.ops.restore = Some(RestoreDialog {
        snapshot: snapshot.to_string(),
        plan: None,
        typed: String::new(),
        safety: true,
        run: Run::default(),
    });
    out.push(Command::PlanRestore {
        namespace: namespace.into(),
        name: name.into(),
    });
}

pub fn planned(state: &mut State, snapshot: &str, result: Result<Box<Plan>, String>) {
    if let Some(d) = state
        .ops
        .restore
        .as_mut()
        .filter(|d| d.snapshot == snapshot)
    {
        d.plan = Some(result);
        state.dirty = true;
    }
}

fn synced_commit(state: &State) -> Option<String> {
    state.git.synced.as_ref().map(|r| r.commit.clone())
}

/// Keys while a dialog is open; the intent to run once confirmed.
pub fn key(state: &mut State, key: KeyEvent, out: &mut Vec<Command>) -> Option<WriteIntent> {
    if state.ops.snapshot.is_none() && state.ops.restore.is_none() {
        return unfinished_key(state, key, out);
    }
    let commit = synced_commit(state);
    // Portworx may fail while a dialog is open: it stays, but does not start the write.
    let blocked = super::storage::writes_blocked(state);
    if let Some(d) = state.ops.snapshot.as_mut() {
        if d.run.id.is_some() && d.run.finished.is_none() {
            if key.code == KeyCode::Esc {
                state.flash = Some((
                    true,
                    "the snapshot goes on; progress in the status bar".into(),
                ));
                state.ops.snapshot = None;
            }
            return None;
        }
        if d.run.finished.is_some() {
            if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
                state.ops.snapshot = None;
            }
            return None;
        }
        let consistency = match key.code {
            KeyCode::Char('y') | KeyCode::Enter => Consistency::Auto,
            KeyCode::Char('z') if d.claims > 1 => Consistency::ScaleDown,
            KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {
                state.ops.snapshot = None;
                state.flash = Some((true, "cancelled".into()));
                return None;
            }
            _ => return None,
        };
        if let Some(why) = blocked {
            state.flash = Some((false, why));
            return None;
        }
        return Some(WriteIntent::Snapshot {
            workload: d.workload.clone(),
            consistency,
            commit,
        });
    }
    let d = state.ops.restore.as_mut()?;
    if d.run.id.is_some() && d.run.finished.is_none() {
        if key.code == KeyCode::Esc {
            state.flash = Some((
                true,
                "the restore goes on; progress in the status bar".into(),
            ));
            state.ops.restore = None;
        }
        return None;
    }
    let confirmable = matches!(&d.plan, Some(Ok(p)) if p.refusal.is_none());
    if d.run.finished.is_some() || !confirmable {
        if matches!(key.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q')) {
            state.ops.restore = None;
        }
        return None;
    }
    match key.code {
        KeyCode::Esc => {
            state.ops.restore = None;
            // Nothing more of a paired roll back is offered.
            state.sync.paired.clear();
            state.flash = Some((true, "cancelled".into()));
            None
        }
        KeyCode::Tab => {
            d.safety = !d.safety;
            None
        }
        KeyCode::Backspace => {
            d.typed.pop();
            None
        }
        KeyCode::Char(c) => {
            d.typed.push(c);
            None
        }
        KeyCode::Enter => {
            let Some(Ok(plan)) = &d.plan else { return None };
            if d.typed != plan.workload.name {
                return None;
            }
            if let Some(why) = blocked {
                state.flash = Some((false, why));
                return None;
            }
            Some(WriteIntent::Restore {
                plan: plan.clone(),
                safety: d.safety,
                commit,
            })
        }
        _ => None,
    }
}

/// Marks the open dialog as running write `id`.
pub fn started(state: &mut State, id: u64) {
    if let Some(d) = state.ops.snapshot.as_mut() {
        d.run.id = Some(id);
    } else if let Some(d) = state.ops.restore.as_mut() {
        d.run.id = Some(id);
    }
}

fn runs(state: &mut State) -> impl Iterator<Item = &mut Run> {
    let s = state.ops.snapshot.as_mut().map(|d| &mut d.run);
    let r = state.ops.restore.as_mut().map(|d| &mut d.run);
    s.into_iter().chain(r)
}

pub fn progress(state: &mut State, id: u64, line: &str) {
    let mut hit = false;
    for r in runs(state).filter(|r| r.id == Some(id)) {
        r.log.push(line.to_string());
        hit = true;
    }
    state.dirty |= hit;
}

pub fn done(state: &mut State, id: u64, result: &Result<String, String>, out: &mut Vec<Command>) {
    let mut hit = false;
    for r in runs(state).filter(|r| r.id == Some(id)) {
        r.finished = Some(result.clone());
        hit = true;
    }
    state.dirty |= hit;
    // A paired roll back that snapshotted several workloads offers them one by one.
    let restored = hit
        && state
            .ops
            .restore
            .as_ref()
            .is_some_and(|d| d.run.id == Some(id));
    if restored && result.is_ok() && !state.sync.paired.is_empty() {
        let next = state.sync.paired.remove(0);
        open_restore(state, &next, out);
    }
}
