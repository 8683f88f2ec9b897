//! The storage pane's model: the volume table (unhealthy first, then the chosen sort,
//! filtered) joined with the PV and VolumeSnapshot rows of the cluster, and its reducer.
use super::cluster::{Health, Kind, ObjRow};
use super::msg::StorageEvent;
use super::state::{Consumer, Link, PxNode, SortKey, State, StorageState, VolumeRow};
use crate::engine::snapshot::{COMMIT_LABEL, REASON_LABEL, SET_LABEL, WORKLOAD_LABEL};
use std::cmp::Reverse;
use std::collections::HashMap;

/// A snapshot of a volume: a CSI VolumeSnapshot of its claim, or one Portworx has that
/// no VolumeSnapshot stands for.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SnapshotLine {
    /// The VolumeSnapshot's namespace; None for a Portworx-only snapshot.
    pub namespace: Option<String>,
    pub name: String,
    /// Unix seconds; 0 when unknown.
    pub created: i64,
    /// restoreSize as the API says it; empty when unknown.
    pub size: String,
    /// Bytes used, for Portworx-only snapshots.
    pub bytes: u64,
    pub health: Health,
    /// ready, pending, or the error.
    pub state: String,
    /// The full SHA of the commit the cluster was synced to when it was taken.
    pub commit: Option<String>,
    pub reason: Option<String>,
    pub workload: Option<String>,
    pub set: Option<String>,
}

/// A row of the volume table.
#[derive(Clone, Debug)]
pub struct VolumeLine<'a> {
    pub volume: &'a VolumeRow,
    /// Its claim as (namespace, name), from the volume's labels or its PV.
    pub pvc: Option<(String, String)>,
    /// namespace/claim, or the volume name when it has no claim.
    pub claim: String,
    /// The PV bound to it, else Portworx's name for it.
    pub pv: String,
    pub health: Health,
    /// CSI snapshots first (newest first), then Portworx-only ones.
    pub snapshots: Vec<SnapshotLine>,
}

impl VolumeLine<'_> {
    pub fn used_pct(&self) -> f64 {
        let v = self.volume;
        if v.size > 0 {
            v.usage as f64 * 100.0 / v.size as f64
        } else {
            0.0
        }
    }
}

/// Failed: down, missing or in error. Degraded: degraded or fewer replicas than
/// configured. Progressing: restoring, pending, detaching.
pub fn volume_health(v: &VolumeRow) -> Health {
    match (v.status.as_str(), v.state.as_str()) {
        ("DOWN" | "NOT_PRESENT", _) | (_, "ERROR") => Health::Failed,
        _ if !v.error.is_empty() => Health::Failed,
        ("DEGRADED", _) => Health::Degraded,
        _ if (v.replicas as i64) < v.ha_level => Health::Degraded,
        (_, "RESTORE" | "PENDING" | "DETATCHING" | "TRY_DETACHING") => Health::Progressing,
        ("UP", _) => Health::Healthy,
        _ => Health::Unknown,
    }
}

fn label(row: &ObjRow, key: &str) -> Option<String> {
    row.labels
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
}

fn csi_snapshot(row: &ObjRow) -> SnapshotLine {
    let state = match row.health {
        Health::Healthy => "ready".to_string(),
        Health::Failed => format!("failed: {}", row.detail),
        _ => row.detail.clone(),
    };
    // Older rows carried the size only in the detail text ("ready 20Gi").
    let size = if row.size.is_empty() {
        row.detail
            .strip_prefix("ready ")
            .unwrap_or_default()
            .to_string()
    } else {
        row.size.clone()
    };
    SnapshotLine {
        namespace: Some(row.namespace.clone()),
        name: row.name.clone(),
        created: row.created,
        size,
        bytes: 0,
        health: row.health,
        state,
        commit: label(row, COMMIT_LABEL),
        reason: label(row, REASON_LABEL),
        workload: label(row, WORKLOAD_LABEL),
        set: label(row, SET_LABEL),
    }
}

/// The CSI snapshotter names the Portworx snapshot `snapshot-<uid>` and its content
/// `snapcontent-<uid>`.
fn same_snapshot(content: &str, px_name: &str) -> bool {
    match (
        content.strip_prefix("snapcontent-"),
        px_name.strip_prefix("snapshot-"),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => content == px_name,
    }
}

fn snapshots_of(v: &VolumeRow, csi: &[&ObjRow]) -> Vec<SnapshotLine> {
    let mut out: Vec<SnapshotLine> = csi.iter().map(|r| csi_snapshot(r)).collect();
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.name.cmp(&b.name)));
    for p in &v.px_snapshots {
        if csi.iter().any(|r| same_snapshot(&r.volume, &p.name)) {
            continue;
        }
        let health = match p.status.as_str() {
            "UP" => Health::Healthy,
            "DOWN" | "NOT_PRESENT" => Health::Failed,
            _ => Health::Unknown,
        };
        out.push(SnapshotLine {
            name: p.name.clone(),
            created: p.created,
            bytes: p.usage,
            health,
            // Omitted means NONE: say nothing rather than "none".
            state: match p.status.as_str() {
                "NONE" => String::new(),
                s => s.to_lowercase(),
            },
            ..Default::default()
        });
    }
    out
}

fn matches(l: &VolumeLine, needle: &str) -> bool {
    let v = l.volume;
    [&l.claim, &l.pv, &v.id, &v.attached_on, &v.state, &v.status]
        .into_iter()
        .chain(&v.replica_nodes)
        .any(|f| f.to_lowercase().contains(needle))
}

/// The volume table as shown: filtered, unhealthy first, then by the sort key.
pub fn table(state: &State) -> Vec<VolumeLine<'_>> {
    let c = &state.cluster;
    let pvs: HashMap<&str, &ObjRow> = c
        .in_namespace(Kind::Pv, "")
        .filter(|r| !r.volume.is_empty())
        .map(|r| (r.volume.as_str(), r))
        .collect();
    let mut snaps: HashMap<(&str, &str), Vec<&ObjRow>> = HashMap::new();
    let from = (Kind::VolumeSnapshot, String::new(), String::new());
    for (_, r) in c
        .rows
        .range(from..)
        .take_while(|(k, _)| k.0 == Kind::VolumeSnapshot)
    {
        if let Some(claim) = r.claims.first() {
            snaps
                .entry((r.namespace.as_str(), claim.as_str()))
                .or_default()
                .push(r);
        }
    }
    let s = &state.storage;
    let needle = s.filter.trim().to_lowercase();
    let mut lines: Vec<VolumeLine> = s
        .volumes
        .iter()
        .map(|v| {
            let pv = pvs.get(v.id.as_str());
            // The labels name the claim; a bound PV does when they are missing.
            let claim = v.pvc.clone().or_else(|| {
                pv.and_then(|p| p.claims.first())
                    .and_then(|c| c.split_once('/'))
                    .map(|(ns, n)| (ns.to_string(), n.to_string()))
            });
            let csi = claim
                .as_ref()
                .and_then(|(ns, n)| snaps.get(&(ns.as_str(), n.as_str())))
                .map_or(&[][..], Vec::as_slice);
            let snapshots = snapshots_of(v, csi);
            VolumeLine {
                volume: v,
                claim: claim
                    .as_ref()
                    .map_or_else(|| v.name.clone(), |(ns, n)| format!("{ns}/{n}")),
                pvc: claim,
                pv: pv.map_or_else(|| v.name.clone(), |p| p.name.clone()),
                health: volume_health(v),
                snapshots,
            }
        })
        // Scoped like the cluster pane: a namespace shows its claims only.
        .filter(|l| match &c.namespace {
            Some(ns) => l.pvc.as_ref().is_some_and(|(n, _)| n == ns),
            None => true,
        })
        .filter(|l| needle.is_empty() || matches(l, &needle))
        .collect();
    let sort = s.sort;
    lines.sort_by(|a, b| {
        let key = match sort {
            SortKey::Claim => std::cmp::Ordering::Equal,
            SortKey::Used => b.used_pct().total_cmp(&a.used_pct()),
            SortKey::Size => b.volume.size.cmp(&a.volume.size),
            SortKey::State => a.volume.state.cmp(&b.volume.state),
            SortKey::Snapshots => b.snapshots.len().cmp(&a.snapshots.len()),
        };
        Reverse(a.health)
            .cmp(&Reverse(b.health))
            .then(key)
            .then_with(|| a.claim.cmp(&b.claim))
            .then_with(|| a.volume.id.cmp(&b.volume.id))
    });
    lines
}

/// Who uses the volume: Portworx's consumers, then the pods mounting its claim that
/// Portworx did not list (it may not report consumers at all).
pub fn consumers(state: &State, line: &VolumeLine) -> Vec<Consumer> {
    let mut out = line.volume.consumers.clone();
    let Some((ns, claim)) = &line.pvc else {
        return out;
    };
    for pod in state.cluster.in_namespace(Kind::Pod, ns) {
        let listed = out.iter().any(|c| &c.namespace == ns && c.name == pod.name);
        if pod.claims.contains(claim) && !listed {
            out.push(Consumer {
                name: pod.name.clone(),
                namespace: ns.clone(),
                kind: "pod".into(),
                owner: pod
                    .owner
                    .as_ref()
                    .map(|(k, n)| format!("{}/{n}", k.label()))
                    .unwrap_or_default(),
            });
        }
    }
    out
}

/// Where the selection is in `lines`: on its volume when still shown.
pub fn selected_index(state: &State, lines: &[VolumeLine]) -> Option<usize> {
    if lines.is_empty() {
        return None;
    }
    let s = &state.storage;
    s.selected_id
        .as_ref()
        .and_then(|id| lines.iter().position(|l| &l.volume.id == id))
        .or(Some(s.selected.min(lines.len() - 1)))
}

/// The selected volume's table row.
pub fn selected_line(state: &State) -> Option<VolumeLine<'_>> {
    let mut lines = table(state);
    let i = selected_index(state, &lines)?;
    Some(lines.swap_remove(i))
}

/// The volume selected in the storage pane.
pub fn selected_volume(state: &State) -> Option<&VolumeRow> {
    let lines = table(state);
    selected_index(state, &lines).map(|i| lines[i].volume)
}

/// The CSI VolumeSnapshot selected in the details view, as (namespace, name). None when
/// the details are closed or a Portworx-only snapshot is selected.
pub fn selected_snapshot(state: &State) -> Option<(String, String)> {
    if !state.storage.details {
        return None;
    }
    let line = selected_line(state)?;
    let snap = line.snapshots.get(state.storage.snapshot)?;
    Some((snap.namespace.clone()?, snap.name.clone()))
}

/// Pins the selection to a row of the current table (after data, sort or filter).
fn reselect(state: &mut State) {
    let pick = {
        let lines = table(state);
        selected_index(state, &lines).map(|i| {
            let l = &lines[i];
            (i, l.volume.id.clone(), l.snapshots.len())
        })
    };
    let s = &mut state.storage;
    match pick {
        Some((i, id, snapshots)) => {
            // A snapshot can go between polls; the cursor stays on the list.
            if s.selected_id.as_ref() != Some(&id) {
                s.snapshot = 0;
            }
            s.snapshot = s.snapshot.min(snapshots.saturating_sub(1));
            s.selected = i;
            s.selected_id = Some(id);
        }
        None => {
            s.selected = 0;
            s.details = false;
        }
    }
}

fn same_nodes(s: &StorageState, nodes: &Result<Vec<PxNode>, String>) -> bool {
    match nodes {
        Ok(n) => s.nodes_error.is_none() && &s.nodes == n,
        Err(e) => s.nodes_error.as_ref() == Some(e),
    }
}

pub fn event(state: &mut State, ev: StorageEvent) {
    let s = &mut state.storage;
    match ev {
        // A poll that found nothing new must not cost a frame.
        StorageEvent::Data {
            cluster,
            nodes,
            volumes,
        } if s.link == Link::Up
            && s.cluster.as_ref() == Some(&cluster)
            && s.volumes == volumes
            && same_nodes(s, &nodes) => {}
        StorageEvent::Data {
            cluster,
            nodes,
            volumes,
        } => {
            state.dirty = true;
            s.cluster = Some(cluster);
            match nodes {
                Ok(n) => {
                    s.nodes = n;
                    s.nodes_error = None;
                }
                // The last known nodes stay, under the error.
                Err(e) => s.nodes_error = Some(e),
            }
            s.volumes = volumes;
            s.link = Link::Up;
            reselect(state);
        }
        StorageEvent::Failed(e) => {
            state.dirty |= s.link != Link::Down(e.clone());
            s.link = Link::Down(e);
        }
        StorageEvent::RestorePlanned { snapshot, result } => {
            super::ops::planned(state, &snapshot, result)
        }
        StorageEvent::Unfinished(found) => super::ops::unfinished(state, found),
        StorageEvent::Rates(rates) => {
            let rates = rates.into_iter().collect();
            if s.write_rates != rates {
                s.write_rates = rates;
                state.dirty = true;
            }
        }
    }
}

fn clamp(i: usize, len: usize, delta: i64) -> usize {
    (i as i64)
        .saturating_add(delta)
        .clamp(0, len.saturating_sub(1) as i64) as usize
}

/// j/k: through the volumes, or through the snapshots when the details are open.
pub fn move_by(state: &mut State, delta: i64) {
    if state.storage.details {
        let n = selected_line(state).map_or(0, |l| l.snapshots.len());
        state.storage.snapshot = clamp(state.storage.snapshot, n, delta);
        return;
    }
    let pick = {
        let lines = table(state);
        selected_index(state, &lines).map(|i| {
            let j = clamp(i, lines.len(), delta);
            (j, lines[j].volume.id.clone())
        })
    };
    if let Some((i, id)) = pick {
        let s = &mut state.storage;
        s.selected = i;
        s.selected_id = Some(id);
        s.snapshot = 0;
    }
}

/// Enter: open or close the selected volume's details.
pub fn toggle_details(state: &mut State) {
    let open = !state.storage.details && selected_line(state).is_some();
    state.storage.details = open;
    state.storage.snapshot = 0;
}

/// `o`: the next sort key; the selection stays on its volume.
pub fn cycle_sort(state: &mut State) {
    state.storage.sort = state.storage.sort.next();
    reselect(state);
}

/// The `/` filter as it is typed.
pub fn set_filter(state: &mut State, text: &str) {
    state.storage.filter = text.to_string();
    state.storage.details = false;
    reselect(state);
}

/// Esc: closes the details view; false when there was none.
pub fn close_details(state: &mut State) -> bool {
    std::mem::take(&mut state.storage.details)
}

/// Why the gateway could not be used, as the pane explains it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PxProblem {
    Unreachable,
    /// It took the connection but gave no answer in time.
    Silent,
    TokenRefused,
    /// It answered with something that is not the SDK's JSON.
    BadReply,
    Other,
}

impl PxProblem {
    /// The pane's heading for it.
    pub fn heading(self) -> &'static str {
        match self {
            PxProblem::Unreachable => "Portworx unreachable",
            PxProblem::Silent => "Portworx does not answer",
            PxProblem::TokenRefused => "Portworx refused the token",
            PxProblem::BadReply => "Portworx sent a reply sextant cannot read",
            PxProblem::Other => "Portworx error",
        }
    }

    /// A few words for the stale marker and refusals.
    pub fn short(self) -> &'static str {
        match self {
            PxProblem::Unreachable => "unreachable",
            PxProblem::Silent => "not answering",
            PxProblem::TokenRefused => "token refused",
            PxProblem::BadReply => "unreadable reply",
            PxProblem::Other => "error",
        }
    }
}

/// Classifies the source's error (its wording is set in `sources::portworx`).
pub fn problem(error: &str) -> PxProblem {
    if error.contains("token refused") {
        PxProblem::TokenRefused
    } else if error.starts_with("cannot reach") {
        PxProblem::Unreachable
    } else if error.starts_with("no answer from") {
        PxProblem::Silent
    } else if error.contains("unreadable reply") {
        PxProblem::BadReply
    } else {
        PxProblem::Other
    }
}

/// Why snapshot and restore are refused now: Portworx, which takes and restores the
/// snapshots, is failing. Offering them would start a write that can only fail or
/// hang until its timeout. None while it answers (or before its first answer).
pub fn writes_blocked(state: &State) -> Option<String> {
    match &state.storage.link {
        Link::Down(e) => Some(format!(
            "snapshot and restore are off while Portworx fails: {}",
            problem(e).short()
        )),
        _ => None,
    }
}
