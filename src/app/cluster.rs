//! The cluster pane's model: compact rows (never API objects) and the tree built from them.
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Deployment,
    StatefulSet,
    DaemonSet,
    Pod,
    Pvc,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::Namespace,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::Pod,
        Kind::Pvc,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::Pod => "Pod",
            Kind::Pvc => "PVC",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Kind::Namespace => "ns",
            Kind::Deployment => "deploy",
            Kind::StatefulSet => "sts",
            Kind::DaemonSet => "ds",
            Kind::Pod => "pod",
            Kind::Pvc => "pvc",
        }
    }

    pub fn is_workload(self) -> bool {
        matches!(self, Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet)
    }
}

/// Health, worst last so that `max` rolls children up.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Health {
    Healthy,
    #[default]
    Unknown,
    Progressing,
    Degraded,
    Failed,
}

impl Health {
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unknown => "unknown",
            Health::Progressing => "progressing",
            Health::Degraded => "degraded",
            Health::Failed => "failed",
        }
    }
}

/// What the pane shows of one object: a few hundred bytes, not the object.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ObjRow {
    pub kind: Option<Kind>,
    pub namespace: String,
    pub name: String,
    pub health: Health,
    /// Ready and desired, for workloads and pods.
    pub ready: Option<(u32, u32)>,
    pub restarts: u32,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Phase or status text.
    pub detail: String,
    /// The workload that owns a pod: (kind, name).
    pub owner: Option<(Kind, String)>,
    /// Claims a pod mounts; for a PVC, the PV it is bound to.
    pub claims: Vec<String>,
}

impl ObjRow {
    pub fn kind(&self) -> Kind {
        self.kind.unwrap_or(Kind::Pod)
    }
    pub fn key(&self) -> Key {
        (self.kind(), self.namespace.clone(), self.name.clone())
    }
}

pub type Key = (Kind, String, String);

#[derive(Clone, Debug, PartialEq, Default)]
pub enum KindStatus {
    #[default]
    Loading,
    Ready,
    /// The watch failed; rows shown are the last known.
    Error(String),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub enum Connection {
    #[default]
    Connecting,
    Connected {
        context: String,
        server: String,
    },
    /// Configuration could not be loaded (bad kubeconfig, unknown context).
    Failed(String),
}

#[derive(Clone, Debug, Default)]
pub struct ClusterState {
    pub connection: Connection,
    /// The namespace shown, or None for all.
    pub namespace: Option<String>,
    pub rows: BTreeMap<Key, ObjRow>,
    pub kinds: BTreeMap<Kind, KindStatus>,
    pub expanded: BTreeSet<Key>,
    pub selected: usize,
}

/// One line of the tree as drawn.
#[derive(Clone, Debug, PartialEq)]
pub struct TreeLine {
    pub key: Key,
    pub depth: u8,
    pub expandable: bool,
    pub expanded: bool,
    /// Rolled up from children for namespaces and workloads.
    pub health: Health,
    /// For namespaces: workloads and pods counted.
    pub counts: Option<(usize, usize)>,
}

impl ClusterState {
    pub fn is_loaded(&self) -> bool {
        matches!(self.connection, Connection::Failed(_))
            || Kind::ALL.iter().all(|k| {
                matches!(
                    self.kinds.get(k),
                    Some(KindStatus::Ready | KindStatus::Error(_))
                )
            })
    }

    /// Pods of a workload, by owner.
    fn children<'a>(
        &'a self,
        ns: &'a str,
        kind: Kind,
        name: &'a str,
    ) -> impl Iterator<Item = &'a ObjRow> + 'a {
        let start = (Kind::Pod, ns.to_string(), String::new());
        self.rows
            .range(start..)
            .take_while(move |((k, n, _), _)| *k == Kind::Pod && n == ns)
            .map(|(_, r)| r)
            .filter(move |r| {
                r.owner
                    .as_ref()
                    .is_some_and(|(k, o)| *k == kind && o == name)
            })
    }

    fn in_namespace(&self, kind: Kind, ns: &str) -> impl Iterator<Item = &ObjRow> {
        let start = (kind, ns.to_string(), String::new());
        self.rows
            .range(start..)
            .take_while(move |((k, n, _), _)| *k == kind && n == ns)
            .map(|(_, r)| r)
    }

    /// The visible tree: namespaces, then their workloads, then a workload's pods.
    pub fn tree(&self) -> Vec<TreeLine> {
        let mut out = Vec::new();
        let mut namespaces: Vec<&ObjRow> = self
            .rows
            .values()
            .filter(|r| r.kind() == Kind::Namespace)
            .collect();
        if let Some(ns) = &self.namespace {
            namespaces.retain(|r| &r.name == ns);
        }
        for ns in namespaces {
            let nskey = ns.key();
            let open = self.expanded.contains(&nskey);
            let mut lines = Vec::new();
            let mut worst = Health::Healthy;
            let mut workloads = 0;
            for kind in [Kind::StatefulSet, Kind::Deployment, Kind::DaemonSet] {
                for w in self.in_namespace(kind, &ns.name) {
                    workloads += 1;
                    let pods: Vec<&ObjRow> = self.children(&ns.name, kind, &w.name).collect();
                    let health = pods.iter().map(|p| p.health).fold(w.health, Health::max);
                    worst = worst.max(health);
                    let wkey = w.key();
                    let wopen = self.expanded.contains(&wkey);
                    lines.push(TreeLine {
                        key: wkey,
                        depth: 1,
                        expandable: !pods.is_empty(),
                        expanded: wopen,
                        health,
                        counts: None,
                    });
                    if wopen {
                        for p in pods {
                            lines.push(TreeLine {
                                key: p.key(),
                                depth: 2,
                                expandable: false,
                                expanded: false,
                                health: p.health,
                                counts: None,
                            });
                        }
                    }
                }
            }
            let pods = self.in_namespace(Kind::Pod, &ns.name).count();
            out.push(TreeLine {
                key: nskey,
                depth: 0,
                expandable: workloads > 0,
                expanded: open,
                health: worst.max(ns.health),
                counts: Some((workloads, pods)),
            });
            if open {
                out.extend(lines);
            }
        }
        out
    }
}

/// A compact age: "<1m", "5m", "3h", "12d". Minutes at the finest, so the clock only
/// has to redraw once a minute.
pub fn age(now: i64, created: i64) -> String {
    let s = (now - created).max(0);
    match s {
        0..60 => "<1m".into(),
        60..3600 => format!("{}m", s / 60),
        3600..172_800 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(kind: Kind, ns: &str, name: &str, health: Health) -> ObjRow {
        ObjRow {
            kind: Some(kind),
            namespace: ns.into(),
            name: name.into(),
            health,
            ..Default::default()
        }
    }

    #[test]
    fn tree_rolls_health_up_and_respects_expansion() {
        let mut c = ClusterState::default();
        for r in [
            row(Kind::Namespace, "", "shop", Health::Healthy),
            row(Kind::StatefulSet, "shop", "db", Health::Healthy),
            ObjRow {
                owner: Some((Kind::StatefulSet, "db".into())),
                ..row(Kind::Pod, "shop", "db-0", Health::Degraded)
            },
            row(Kind::Deployment, "shop", "web", Health::Healthy),
        ] {
            c.rows.insert(r.key(), r);
        }
        let t = c.tree();
        assert_eq!(t.len(), 1, "namespaces start collapsed");
        assert_eq!(t[0].health, Health::Degraded);
        assert_eq!(t[0].counts, Some((2, 1)));
        c.expanded
            .insert((Kind::Namespace, String::new(), "shop".into()));
        c.expanded
            .insert((Kind::StatefulSet, "shop".into(), "db".into()));
        let names: Vec<_> = c.tree().iter().map(|l| l.key.2.clone()).collect();
        assert_eq!(names, ["shop", "db", "db-0", "web"]);
    }

    #[test]
    fn ages_are_minute_grained() {
        assert_eq!(age(100, 90), "<1m");
        assert_eq!(age(1000, 0), "16m");
        assert_eq!(age(7200, 0), "2h");
        assert_eq!(age(3 * 86_400, 0), "3d");
    }
}
