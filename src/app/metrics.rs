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
            if let Some(v) = super::storage::selected_volume(state) {
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
                format!(
                    "{} is not in the loaded history",
                    crate::engine::short(&sha, 8)
                ),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::msg::{ClusterEvent, GitEvent, Msg};
    use crate::app::state::{CommitRow, RepoInfo};
    use crate::app::{keymap::Keymap, update};
    use crate::engine::record::{SyncEntry, SyncRecord};

    fn row(kind: Kind, ns: &str, name: &str) -> ObjRow {
        ObjRow {
            kind: Some(kind),
            namespace: ns.into(),
            name: name.into(),
            created: 1_000,
            ..Default::default()
        }
    }

    /// The shop namespace with a StatefulSet, its pod, claim and volume.
    fn shop() -> State {
        let mut s = State::new(false, crate::config::default_graphs(), 10_000);
        s.metrics.width = 80;
        let km = Keymap::default();
        let pod = ObjRow {
            owner: Some((Kind::StatefulSet, "db".into())),
            claims: vec!["data-db-0".into()],
            ..row(Kind::Pod, "shop", "db-0")
        };
        let pvc = ObjRow {
            claims: vec!["pvc-123".into()],
            ..row(Kind::Pvc, "shop", "data-db-0")
        };
        let msgs = [
            ClusterEvent::Connected {
                context: "demo".into(),
                server: "https://127.0.0.1:16443".into(),
                namespace: Some("shop".into()),
            },
            ClusterEvent::Listed(Kind::Namespace, vec![row(Kind::Namespace, "", "shop")]),
            ClusterEvent::Listed(
                Kind::StatefulSet,
                vec![row(Kind::StatefulSet, "shop", "db")],
            ),
            ClusterEvent::Listed(Kind::Pod, vec![pod]),
            ClusterEvent::Listed(Kind::Pvc, vec![pvc]),
        ];
        for m in msgs {
            update(&mut s, &km, Msg::Cluster(m));
        }
        s
    }

    fn select(s: &mut State, kind: Kind, name: &str) {
        let i = s
            .cluster
            .tree()
            .iter()
            .position(|l| l.key.0 == kind && l.key.2 == name);
        s.cluster.selected = i.unwrap_or_else(|| panic!("{name} not in the tree"));
    }

    fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn the_selection_scopes_the_panels_to_its_pods_and_volumes() {
        let mut s = shop();
        select(&mut s, Kind::StatefulSet, "db");
        assert_eq!(
            selection_scope(&s),
            pairs(&[
                ("namespace", "shop"),
                ("pod", "db-0"),
                ("volume", "pvc-123")
            ])
        );
        select(&mut s, Kind::Namespace, "shop");
        assert_eq!(
            selection_scope(&s),
            pairs(&[("namespace", "shop"), ("volume", "pvc-123")])
        );
        // The query on screen follows, once, and with the scope filled in.
        select(&mut s, Kind::StatefulSet, "db");
        let mut out = Vec::new();
        follow_selection(&mut s, &mut out);
        let [Command::ShowGraph(v)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert!(v.query.contains(r#"volumename=~"pvc-123""#), "{}", v.query);
        let mut again = Vec::new();
        follow_selection(&mut s, &mut again);
        assert!(again.is_empty());
    }

    #[test]
    fn unscoped_variables_match_everything() {
        let s = State::new(false, crate::config::default_graphs(), 0);
        let v = view(&s).unwrap();
        assert!(v.query.contains(r#"volumename=~".*""#), "{}", v.query);
        assert!(!v.query.contains('$'));
        assert_eq!(v.range, 6 * 3600);
    }

    #[test]
    fn zoom_walks_the_ranges_and_stops_at_the_ends() {
        let mut s = State::new(false, crate::config::default_graphs(), 0);
        let mut ranges = Vec::new();
        for _ in 0..5 {
            let mut out = Vec::new();
            zoom(&mut s, true, &mut out);
            ranges.extend(out.iter().map(|c| match c {
                Command::ShowGraph(v) => v.range,
                c => panic!("{c:?}"),
            }));
        }
        assert_eq!(
            ranges,
            [86_400, 7 * 86_400],
            "from 6h: 24h, 7d, then no more"
        );
        let mut out = Vec::new();
        for _ in 0..6 {
            zoom(&mut s, false, &mut out);
        }
        assert_eq!(out.len(), 4);
        assert_eq!(s.metrics.range, 0);
    }

    #[test]
    fn an_ad_hoc_query_becomes_the_current_panel() {
        let mut s = State::new(false, crate::config::default_graphs(), 0);
        let n = s.metrics.graphs.len();
        let mut out = Vec::new();
        add_query(
            &mut s,
            r#"rate(http_requests_total{code="500"}[5m])"#,
            &mut out,
        );
        assert_eq!(s.metrics.current, n);
        let [Command::ShowGraph(v)] = out.as_slice() else {
            panic!("{out:?}")
        };
        assert_eq!(v.query, r#"rate(http_requests_total{code="500"}[5m])"#);
        assert_eq!(v.index, n);
    }

    #[test]
    fn markers_come_from_commits_syncs_and_snapshots_and_open_their_commit() {
        let mut s = shop();
        let km = Keymap::default();
        let commit = |id: &str, time: i64, summary: &str| CommitRow {
            id: id.into(),
            author: "Ada".into(),
            time,
            summary: summary.into(),
            stateful: false,
        };
        update(
            &mut s,
            &km,
            Msg::Git(GitEvent::Opened(RepoInfo {
                path: "/r".into(),
                branch: "main".into(),
                head: "c2".into(),
                remote: None,
            })),
        );
        update(
            &mut s,
            &km,
            Msg::Git(GitEvent::Page {
                from: 0,
                commits: vec![
                    commit("c2", 5_000, "Revert \"Bump db\""),
                    commit("c1", 3_000, "Bump db"),
                    commit("c0", 10, "Too old for the range"),
                ],
                more: false,
            }),
        );
        let record = SyncRecord {
            commit: "c1".into(),
            history: vec![SyncEntry {
                at: 4_000,
                commit: "c1".into(),
                by: "Ada".into(),
                snapshots: Vec::new(),
            }],
            ..Default::default()
        };
        update(&mut s, &km, Msg::Git(GitEvent::Synced(Some(record))));
        let snap = ObjRow {
            created: 4_500,
            ..row(Kind::VolumeSnapshot, "shop", "db-nightly")
        };
        update(
            &mut s,
            &km,
            Msg::Cluster(ClusterEvent::Listed(Kind::VolumeSnapshot, vec![snap])),
        );
        s.metrics.start = 1_000.0;
        s.metrics.end = 9_000.0;
        let got: Vec<(f64, &str)> = marks(&s).iter().map(|m| (m.time, m.kind.label())).collect();
        assert_eq!(
            got,
            [
                (3_000.0, "commit"),
                (4_000.0, "sync"),
                (4_500.0, "snapshot"),
                (5_000.0, "roll back")
            ]
        );
        // , and . walk them; Enter on the sync opens its commit's diff.
        s.focus = Pane::Metrics;
        step_marker(&mut s, true);
        step_marker(&mut s, true);
        assert_eq!(s.metrics.marker, Some(1));
        let mut out = Vec::new();
        open_marker(&mut s, &mut out);
        assert_eq!(s.focus, Pane::Git);
        assert!(matches!(s.git.entry(s.git.selected), Some(Entry::Commit(c)) if c.id == "c1"));
        assert!(matches!(out.as_slice(), [Command::LoadDiff(_)]), "{out:?}");
        // A snapshot has no commit to open.
        s.focus = Pane::Metrics;
        s.metrics.marker = Some(2);
        let mut out = Vec::new();
        open_marker(&mut s, &mut out);
        assert!(out.is_empty());
        assert_eq!(s.focus, Pane::Metrics);
    }
}
