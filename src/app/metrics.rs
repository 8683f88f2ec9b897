//! The metrics pane's part of the reducer: which panel, range and scope to query,
//! zooming, ad-hoc queries, and the time markers' cursor.
use super::cluster::{Kind, ObjRow};
use super::marks::marks;
use super::msg::Command;
use super::state::{Entry, Pane, RANGES, State};
use super::tree::Item;
use crate::config::{GraphSpec, Unit};
use crate::sources::prometheus::{GraphView, expand};

/// The panel on screen, resolved for the source: query with the scope filled in.
pub fn view(state: &State) -> Option<GraphView> {
    let m = &state.metrics;
    let g = m.graphs.get(m.current)?;
    Some(GraphView {
        index: m.current,
        query: expand(&g.query, &vars(&m.scope)),
        label: g.label.clone(),
        unit: g.unit,
        width: m.width,
        range: RANGES[m.range.min(RANGES.len() - 1)],
    })
}

/// Asks for the panel on screen.
pub fn show(state: &State, out: &mut Vec<Command>) {
    if let Some(v) = view(state) {
        out.push(Command::ShowGraph(v));
    }
}

/// Every variable a query may use: unset ones match everything.
fn vars(scope: &[(String, String)]) -> Vec<(String, String)> {
    ["namespace", "pod", "volume"]
        .iter()
        .map(|k| {
            let v = scope
                .iter()
                .find(|(n, _)| n == k)
                .map_or(".*".to_string(), |(_, v)| v.clone());
            (k.to_string(), v)
        })
        .collect()
}

/// A name as a PromQL regular expression inside a double-quoted string.
fn literal(name: &str) -> String {
    name.replace('.', "\\\\.")
}

fn any_of(names: &[String]) -> Option<String> {
    let mut names: Vec<String> = names.iter().map(|n| literal(n)).collect();
    names.sort();
    names.dedup();
    (!names.is_empty()).then(|| names.join("|"))
}

/// The PVs behind claims in a namespace.
fn volumes_of(state: &State, ns: &str, claims: &[String]) -> Vec<String> {
    claims
        .iter()
        .filter_map(|c| {
            state
                .cluster
                .rows
                .get(&(Kind::Pvc, ns.to_string(), c.clone()))
        })
        .flat_map(|r| r.claims.clone())
        .collect()
}

/// What the default panels are scoped to: the object selected in the cluster pane (its
/// namespace, pods and volumes) or the volume selected in the storage pane.
pub fn selection_scope(state: &State) -> Vec<(String, String)> {
    let mut out = Vec::new();
    match state.focus {
        Pane::Storage => {
            if let Some(v) = state.storage.volumes.get(state.storage.selected) {
                out.push(("volume".into(), literal(&v.name)));
            }
        }
        Pane::Cluster => {
            let c = &state.cluster;
            let tree = c.tree();
            let Some(line) = tree.get(c.selected).filter(|l| l.item == Item::Row) else {
                return out;
            };
            let (kind, ns, name) = &line.key;
            let Some(row) = c.rows.get(&line.key) else {
                return out;
            };
            let ns = if *kind == Kind::Namespace { name } else { ns };
            out.push(("namespace".into(), literal(ns)));
            let pods: Vec<&ObjRow> = match kind {
                Kind::Pod => vec![row],
                k if k.is_workload() => c
                    .rows
                    .values()
                    .filter(|r| {
                        r.kind() == Kind::Pod
                            && &r.namespace == ns
                            && r.owner.as_ref() == Some(&(*k, name.clone()))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let volumes = match kind {
                Kind::Pvc => row.claims.clone(),
                Kind::Pv => vec![row.name.clone()],
                Kind::Namespace => c
                    .rows
                    .values()
                    .filter(|r| r.kind() == Kind::Pvc && &r.namespace == ns)
                    .flat_map(|r| r.claims.clone())
                    .collect(),
                _ => pods
                    .iter()
                    .flat_map(|p| volumes_of(state, ns, &p.claims))
                    .collect(),
            };
            let names: Vec<String> = pods.iter().map(|p| p.name.clone()).collect();
            if let Some(p) = any_of(&names) {
                out.push(("pod".into(), p));
            }
            if let Some(v) = any_of(&volumes) {
                out.push(("volume".into(), v));
            }
        }
        _ => return state.metrics.scope.clone(),
    }
    out
}

/// After a key: when the selection scopes the panels differently, query again.
pub fn follow_selection(state: &mut State, out: &mut Vec<Command>) {
    if state.metrics.graphs.is_empty() || !matches!(state.focus, Pane::Cluster | Pane::Storage) {
        return;
    }
    let scope = selection_scope(state);
    if scope != state.metrics.scope {
        state.metrics.scope = scope;
        state.metrics.marker = None;
        show(state, out);
    }
}

/// `+` narrows the range, `-` widens it.
pub fn zoom(state: &mut State, wider: bool, out: &mut Vec<Command>) {
    let m = &mut state.metrics;
    let r = if wider {
        (m.range + 1).min(RANGES.len() - 1)
    } else {
        m.range.saturating_sub(1)
    };
    if r != m.range {
        m.range = r;
        m.marker = None;
        show(state, out);
    }
}

/// `:q <promql>` adds a panel for this session and shows it.
pub fn add_query(state: &mut State, query: &str, out: &mut Vec<Command>) {
    let m = &mut state.metrics;
    m.graphs.push(GraphSpec {
        title: query.to_string(),
        query: query.to_string(),
        label: None,
        unit: Unit::None,
    });
    m.current = m.graphs.len() - 1;
    m.error = None;
    show(state, out);
}

/// `.` and `,` move the highlight to the next or previous marker.
pub fn step_marker(state: &mut State, forward: bool) {
    let n = marks(state).len();
    if n == 0 {
        state.flash = Some((true, "no commits, syncs or snapshots in this range".into()));
        return;
    }
    let m = &mut state.metrics;
    m.marker = Some(match (m.marker, forward) {
        (None, true) => 0,
        (None, false) => n - 1,
        (Some(i), true) => (i + 1).min(n - 1),
        (Some(i), false) => i.saturating_sub(1),
    });
}

/// Enter on a highlighted marker: its commit's diff in the git pane.
pub fn open_marker(state: &mut State, out: &mut Vec<Command>) {
    let Some(mark) = state
        .metrics
        .marker
        .and_then(|i| marks(state).get(i).cloned())
    else {
        state.flash = Some((true, ", and . pick a marker; Enter opens its commit".into()));
        return;
    };
    let Some(sha) = mark.commit else {
        state.flash = Some((true, format!("{}: no commit to open", mark.label)));
        return;
    };
    let g = &state.git;
    let found =
        (0..g.entries()).find(|&i| matches!(g.entry(i), Some(Entry::Commit(c)) if c.id == sha));
    match found {
        Some(i) => {
            state.git.selected = i;
            state.focus = Pane::Git;
            super::git::open_diff(state, out);
        }
        None => {
            state.flash = Some((
                false,
                format!("{} is not in the loaded history", &sha[..sha.len().min(8)]),
            ))
        }
    }
}
