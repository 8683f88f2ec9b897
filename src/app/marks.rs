//! Time markers for the metrics pane: commits and roll backs from git, syncs from the
//! sync record, snapshots from the cluster. "What changed when this went wrong."
use super::cluster::Kind;
use super::state::State;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MarkKind {
    Commit,
    Rollback,
    Sync,
    Snapshot,
}

impl MarkKind {
    pub fn label(self) -> &'static str {
        match self {
            MarkKind::Commit => "commit",
            MarkKind::Rollback => "roll back",
            MarkKind::Sync => "sync",
            MarkKind::Snapshot => "snapshot",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TimeMark {
    /// Unix seconds.
    pub time: f64,
    pub kind: MarkKind,
    pub label: String,
    /// The commit to open in the git pane, for commits, roll backs and syncs.
    pub commit: Option<String>,
}

fn short(sha: &str) -> &str {
    crate::engine::short(sha, 7)
}

/// Every marker inside the range shown, oldest first.
pub fn marks(state: &State) -> Vec<TimeMark> {
    let m = &state.metrics;
    let (start, end) = (m.start, m.end);
    let mut out: Vec<TimeMark> = Vec::new();
    for c in &state.git.commits {
        let kind = if c.summary.starts_with("Revert \"") {
            MarkKind::Rollback
        } else {
            MarkKind::Commit
        };
        out.push(TimeMark {
            time: c.time as f64,
            kind,
            label: format!("{} {}", short(&c.id), c.summary),
            commit: Some(c.id.clone()),
        });
    }
    if let Some(r) = &state.git.synced {
        for s in &r.history {
            out.push(TimeMark {
                time: s.at as f64,
                kind: MarkKind::Sync,
                label: format!("sync {} by {}", short(&s.commit), s.by),
                commit: Some(s.commit.clone()),
            });
        }
    }
    for row in state.cluster.rows.values() {
        if row.kind() == Kind::VolumeSnapshot && row.created > 0 {
            out.push(TimeMark {
                time: row.created as f64,
                kind: MarkKind::Snapshot,
                label: format!("snapshot {}/{}", row.namespace, row.name),
                commit: None,
            });
        }
    }
    out.retain(|t| t.time >= start && t.time <= end);
    out.sort_by(|a, b| a.time.total_cmp(&b.time).then(a.kind.cmp(&b.kind)));
    out
}
