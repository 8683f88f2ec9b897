//! Watch mode's summary: a few tiles a wall display can be read by from across a room,
//! each saying whether its part is fine, and how long ago each source last answered.
use super::cluster::{Health, Kind, ObjRow};
use super::state::{Link, State};
use super::sync::Mark;
use crate::engine::workload::from_template;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Ok,
    Unknown,
    Warn,
    Bad,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Tile {
    pub title: &'static str,
    /// The big line: a count and what it counts.
    pub headline: String,
    /// What is wrong, worst first, then context.
    pub lines: Vec<String>,
    pub level: Level,
}

/// The sources in the order the header names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    Kube,
    Git,
    Prometheus,
    Portworx,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Kube,
        Source::Git,
        Source::Prometheus,
        Source::Portworx,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Source::Kube => "kube",
            Source::Git => "git",
            Source::Prometheus => "prom",
            Source::Portworx => "px",
        }
    }

    /// After how long without an answer the data counts as stale. Kubernetes is
    /// watched and only speaks on change, so its link says whether it is live.
    fn stale_after(self) -> Option<i64> {
        match self {
            Source::Kube => None,
            Source::Git => None,
            Source::Prometheus => Some(90),
            Source::Portworx => Some(30),
        }
    }
}

/// "just now" or "3m ago".
pub fn ago(secs: i64) -> String {
    match age(secs) {
        a if a == "now" => "just now".into(),
        a => format!("{a} ago"),
    }
}

/// A coarse age, so the text changes rarely: "now", "20s", "3m", "2h", "4d".
pub fn age(secs: i64) -> String {
    match secs.max(0) {
        s if s < 10 => "now".into(),
        s if s < 60 => format!("{}s", s / 10 * 10),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn link(state: &State, s: Source) -> &Link {
    match s {
        Source::Kube => &state.watch.kube_link,
        Source::Git => &state.git.link,
        Source::Prometheus => &state.metrics.link,
        Source::Portworx => &state.storage.link,
    }
}

/// Each source: its label, what to say of it, and its level.
pub fn freshness(state: &State) -> Vec<(&'static str, String, Level)> {
    Source::ALL
        .iter()
        .map(|&s| {
            let answered = state.watch.answered[s as usize];
            let (text, level) = match (link(state, s), answered) {
                (Link::Off, _) => ("off".to_string(), Level::Unknown),
                (Link::Down(_), Some(t)) => (
                    format!("down, data from {}", ago(state.now - t)),
                    Level::Bad,
                ),
                (Link::Down(_), None) => ("down".into(), Level::Bad),
                (_, None) => ("waiting".into(), Level::Unknown),
                (_, Some(t)) => {
                    let since = state.now - t;
                    match s.stale_after() {
                        Some(limit) if since > limit => {
                            (format!("stale: {}", ago(since)), Level::Warn)
                        }
                        Some(_) => (age(since), Level::Ok),
                        None => (format!("live, changed {}", ago(since)), Level::Ok),
                    }
                }
            };
            (s.label(), text, level)
        })
        .collect()
}

fn in_scope<'a>(state: &'a State, kind: Kind) -> impl Iterator<Item = &'a ObjRow> + 'a {
    let ns = state.cluster.namespace.clone();
    state
        .cluster
        .rows
        .values()
        .filter(move |r| r.kind() == kind && ns.as_ref().is_none_or(|n| &r.namespace == n))
}

fn sync_tile(state: &State) -> Tile {
    let Some(rec) = &state.git.synced else {
        return Tile {
            title: "SYNC",
            headline: "never synced".into(),
            lines: vec!["no sync record in the cluster".into()],
            level: if state.git.repo.is_some() {
                Level::Warn
            } else {
                Level::Unknown
            },
        };
    };
    let pending = state.git.synced_row.unwrap_or(0);
    let drift = state.sync.drift_count();
    let (headline, level) = match (pending, drift) {
        (0, 0) => ("in sync".to_string(), Level::Ok),
        (0, _) => ("synced, drifted".into(), Level::Warn),
        (n, _) => (format!("{n} commits pending"), Level::Warn),
    };
    Tile {
        title: "SYNC",
        headline,
        lines: vec![
            format!("synced {}", crate::engine::short(&rec.commit, 8)),
            format!("by {}", rec.synced_by),
            rec.synced_at.clone(),
        ],
        level,
    }
}

fn drift_tile(state: &State) -> Tile {
    let s = &state.sync;
    if let Some(e) = &s.drift_error {
        return Tile {
            title: "DRIFT",
            headline: "unknown".into(),
            lines: vec![e.clone()],
            level: Level::Unknown,
        };
    }
    let drifted: Vec<String> = s
        .drift
        .values()
        .filter(|d| d.mark != Mark::Synced)
        .map(|d| format!("{} {}", d.kind, d.name))
        .collect();
    Tile {
        title: "DRIFT",
        headline: match drifted.len() {
            0 => "none".into(),
            1 => "1 object".into(),
            n => format!("{n} objects"),
        },
        level: if drifted.is_empty() {
            Level::Ok
        } else {
            Level::Warn
        },
        lines: drifted,
    }
}

fn workloads_tile(state: &State) -> Tile {
    let mut all = 0;
    let mut bad: Vec<(Health, String)> = Vec::new();
    for kind in [Kind::Deployment, Kind::StatefulSet, Kind::DaemonSet] {
        for r in in_scope(state, kind) {
            all += 1;
            if r.health != Health::Healthy {
                bad.push((
                    r.health,
                    format!("{} {} {}", kind.short(), r.name, r.detail),
                ));
            }
        }
    }
    bad.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let worst = bad.first().map(|b| b.0);
    Tile {
        title: "WORKLOADS",
        headline: if bad.is_empty() {
            format!("{all} healthy")
        } else {
            format!("{} of {all} unhealthy", bad.len())
        },
        level: match worst {
            None => Level::Ok,
            Some(Health::Failed | Health::Degraded) => Level::Bad,
            Some(_) => Level::Warn,
        },
        lines: bad.into_iter().map(|b| b.1).collect(),
    }
}

fn volumes_tile(state: &State) -> Tile {
    if state.storage.cluster.is_none() {
        return Tile {
            title: "VOLUMES",
            headline: "no data".into(),
            lines: Vec::new(),
            level: Level::Unknown,
        };
    }
    let lines = super::storage::table(state);
    let bad: Vec<String> = lines
        .iter()
        .filter(|l| l.health != Health::Healthy)
        .map(|l| {
            format!(
                "{} {}",
                l.claim,
                if l.volume.status == "UP" {
                    l.volume.state.to_lowercase()
                } else {
                    l.volume.status.to_lowercase()
                }
            )
        })
        .collect();
    let worst = lines.iter().map(|l| l.health).max();
    Tile {
        title: "VOLUMES",
        headline: if bad.is_empty() {
            format!("{} healthy", lines.len())
        } else {
            format!("{} of {} unhealthy", bad.len(), lines.len())
        },
        level: match worst {
            Some(Health::Failed | Health::Degraded) => Level::Bad,
            Some(Health::Healthy) | None => Level::Ok,
            Some(_) => Level::Warn,
        },
        lines: bad,
    }
}

/// A snapshot older than this is a warning on a wall display.
pub const SNAPSHOT_MAX_AGE: i64 = 24 * 3600;

fn snapshots_tile(state: &State) -> Tile {
    let snaps: Vec<&ObjRow> = in_scope(state, Kind::VolumeSnapshot)
        .filter(|r| r.health == Health::Healthy)
        .collect();
    let mut rows: Vec<(i64, String)> = in_scope(state, Kind::StatefulSet)
        .filter(|s| !s.claims.is_empty())
        .map(|s| {
            let newest = snaps
                .iter()
                .filter(|v| v.namespace == s.namespace)
                .filter(|v| {
                    v.claims.first().is_some_and(|c| {
                        s.claims
                            .iter()
                            .any(|t| from_template(c, t, &s.name) || c == t)
                    })
                })
                .map(|v| v.created)
                .max();
            match newest {
                Some(t) => (state.now - t, format!("{} {}", s.name, age(state.now - t))),
                None => (i64::MAX, format!("{} none", s.name)),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let old = rows.iter().filter(|r| r.0 > SNAPSHOT_MAX_AGE).count();
    Tile {
        title: "SNAPSHOTS",
        headline: match (rows.len(), old) {
            (0, _) => "no stateful workloads".into(),
            (n, 0) => format!("{n} fresh"),
            (n, o) => format!("{o} of {n} old or none"),
        },
        level: if old > 0 { Level::Warn } else { Level::Ok },
        lines: rows.into_iter().map(|r| r.1).collect(),
    }
}

/// The tiles, in a fixed order so a wall display does not jump about.
pub fn tiles(state: &State) -> Vec<Tile> {
    vec![
        sync_tile(state),
        drift_tile(state),
        workloads_tile(state),
        volumes_tile(state),
        snapshots_tile(state),
    ]
}

/// What watch mode tracks besides the panes' own state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WatchState {
    pub on: bool,
    /// When each source last answered (unix seconds, from the clock ticks).
    pub answered: [Option<i64>; 4],
    /// The cluster connection as a link, for the freshness line.
    pub kube_link: Link,
    /// When the graphs last rotated.
    pub rotated: i64,
}

/// Graphs rotate this often on a wall display.
pub const ROTATE_EVERY: i64 = 30;

impl WatchState {
    pub fn answered(&mut self, s: Source, now: i64) {
        self.answered[s as usize] = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_coarse_so_the_wall_redraws_rarely() {
        let cases = [
            (3, "now"),
            (15, "10s"),
            (59, "50s"),
            (61, "1m"),
            (7200, "2h"),
            (200_000, "2d"),
        ];
        for (secs, want) in cases {
            assert_eq!(age(secs), want, "{secs}");
        }
        assert_eq!(ago(2), "just now");
        assert_eq!(ago(120), "2m ago");
    }

    #[test]
    fn freshness_says_off_waiting_live_stale_and_down() {
        let mut s = State::new(true, Vec::new(), 1000);
        s.git.link = Link::Off;
        s.watch.kube_link = Link::Up;
        s.watch.answered(Source::Kube, 995);
        s.metrics.link = Link::Up;
        s.watch.answered(Source::Prometheus, 800);
        s.storage.link = Link::Down("cannot reach".into());
        s.watch.answered(Source::Portworx, 700);
        let f = freshness(&s);
        assert_eq!(f[0], ("kube", "live, changed just now".into(), Level::Ok));
        assert_eq!(f[1], ("git", "off".into(), Level::Unknown));
        assert_eq!(f[2], ("prom", "stale: 3m ago".into(), Level::Warn));
        assert_eq!(f[3], ("px", "down, data from 5m ago".into(), Level::Bad));
    }
}
