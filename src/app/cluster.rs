//! The cluster pane's model: compact rows (never API objects) and the tree built from them.
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Namespace,
    Deployment,
    StatefulSet,
    DaemonSet,
    CronJob,
    Job,
    Pod,
    Service,
    Ingress,
    ConfigMap,
    Secret,
    Pvc,
    Pv,
    VolumeSnapshot,
}

impl Kind {
    pub const ALL: [Kind; 14] = [
        Kind::Namespace,
        Kind::Deployment,
        Kind::StatefulSet,
        Kind::DaemonSet,
        Kind::CronJob,
        Kind::Job,
        Kind::Pod,
        Kind::Service,
        Kind::Ingress,
        Kind::ConfigMap,
        Kind::Secret,
        Kind::Pvc,
        Kind::Pv,
        Kind::VolumeSnapshot,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Deployment => "Deployment",
            Kind::StatefulSet => "StatefulSet",
            Kind::DaemonSet => "DaemonSet",
            Kind::CronJob => "CronJob",
            Kind::Job => "Job",
            Kind::Pod => "Pod",
            Kind::Service => "Service",
            Kind::Ingress => "Ingress",
            Kind::ConfigMap => "ConfigMap",
            Kind::Secret => "Secret",
            Kind::Pvc => "PVC",
            Kind::Pv => "PV",
            Kind::VolumeSnapshot => "VolumeSnapshot",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Kind::Namespace => "ns",
            Kind::Deployment => "deploy",
            Kind::StatefulSet => "sts",
            Kind::DaemonSet => "ds",
            Kind::CronJob => "cj",
            Kind::Job => "job",
            Kind::Pod => "pod",
            Kind::Service => "svc",
            Kind::Ingress => "ing",
            Kind::ConfigMap => "cm",
            Kind::Secret => "secret",
            Kind::Pvc => "pvc",
            Kind::Pv => "pv",
            Kind::VolumeSnapshot => "snap",
        }
    }

    /// Kinds that own pods and can be restarted.
    pub fn is_workload(self) -> bool {
        matches!(self, Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet)
    }

    pub fn cluster_scoped(self) -> bool {
        matches!(self, Kind::Namespace | Kind::Pv)
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
    /// Claims a pod mounts or a StatefulSet templates; for a PVC the PV it is bound to;
    /// for a PV its claim as namespace/name; for a VolumeSnapshot its source claim.
    pub claims: Vec<String>,
    /// A Service's selector, or the pod labels of a workload's template.
    pub selector: Vec<(String, String)>,
    /// Data keys of a ConfigMap or Secret. Values are never kept.
    pub keys: Vec<String>,
    pub containers: Vec<ContainerRow>,
    /// A PV's CSI volume handle: the Portworx volume id. For a VolumeSnapshot its bound
    /// VolumeSnapshotContent, which names the Portworx snapshot.
    pub volume: String,
    /// A VolumeSnapshot's `sextant.dev/` labels (commit, workload, reason, set).
    pub labels: Vec<(String, String)>,
    /// A VolumeSnapshot's restoreSize, as the API says it (e.g. "20Gi").
    pub size: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct ContainerRow {
    pub name: String,
    pub ready: bool,
    pub restarts: u32,
    /// running, waiting reason, or terminated reason.
    pub state: String,
}

/// A Warning event, for the strip under the tree.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct WarningRow {
    pub namespace: String,
    pub name: String,
    /// Kind/name of the object it is about.
    pub object: String,
    pub reason: String,
    pub message: String,
    pub count: u32,
    /// Last seen, unix seconds.
    pub time: i64,
}

/// How many warnings are kept.
pub const MAX_WARNINGS: usize = 50;

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
    /// The user may not list this kind.
    Forbidden,
    /// The API server does not serve this kind (an older release, or no CRD).
    NotServed,
}

impl KindStatus {
    pub fn settled(&self) -> bool {
        !matches!(self, KindStatus::Loading)
    }
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
    /// Latest Warning events, newest first, at most MAX_WARNINGS.
    pub warnings: Vec<WarningRow>,
    /// The `/` filter: a name substring, `l:key=value`, or `s:state`.
    pub filter: String,
    /// The describe or YAML view over the tree, when open.
    pub detail: Option<Detail>,
    /// When the first of the watches now failing failed (unix seconds): the rows shown
    /// are the last known from then on.
    pub stale_since: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detail {
    pub key: Key,
    pub view: crate::sources::objects::View,
    /// None while loading.
    pub lines: Option<Result<Vec<String>, String>>,
    pub scroll: usize,
}

impl ClusterState {
    /// Forgets the rows of the scope shown until now.
    pub fn clear(&mut self) {
        self.rows.clear();
        self.kinds.clear();
        self.warnings.clear();
        self.detail = None;
        self.stale_since = None;
    }

    /// The errors of the watches failing now.
    pub fn failing(&self) -> Vec<&String> {
        self.kinds
            .values()
            .filter_map(|k| match k {
                KindStatus::Error(e) => Some(e),
                _ => None,
            })
            .collect()
    }

    /// Why writes to the cluster are off now: its credentials are rejected, or no
    /// watch reaches it, so an action would fail or act on stale rows.
    pub fn writes_blocked(&self) -> Option<String> {
        if let Connection::Failed(e) = &self.connection {
            return Some(format!("cluster actions are off: {e}"));
        }
        let failing = self.failing();
        if failing.iter().any(|e| e.starts_with("401")) {
            Some("cluster actions are off: the API server rejected the credentials (401)".into())
        } else if !failing.is_empty() && failing.len() == self.kinds.len() {
            Some("cluster actions are off: the API server is not answering".into())
        } else {
            None
        }
    }

    pub fn is_loaded(&self) -> bool {
        matches!(self.connection, Connection::Failed(_))
            || Kind::ALL
                .iter()
                .all(|k| self.kinds.get(k).is_some_and(KindStatus::settled))
    }

    pub fn row(&self, kind: Kind, ns: &str, name: &str) -> Option<&ObjRow> {
        self.rows.get(&(kind, ns.to_string(), name.to_string()))
    }

    /// Rows of a kind in a namespace ("" for cluster-scoped kinds), by name.
    pub fn in_namespace<'a>(
        &'a self,
        kind: Kind,
        ns: &'a str,
    ) -> impl Iterator<Item = &'a ObjRow> + 'a {
        let start = (kind, ns.to_string(), String::new());
        self.rows
            .range(start..)
            .take_while(move |((k, n, _), _)| *k == kind && n == ns)
            .map(|(_, r)| r)
    }

    /// Adds a warning, newest first, keeping at most MAX_WARNINGS.
    pub fn add_warning(&mut self, w: WarningRow) {
        self.warnings
            .retain(|x| !(x.namespace == w.namespace && x.name == w.name));
        let at = self.warnings.partition_point(|x| x.time > w.time);
        self.warnings.insert(at, w);
        self.warnings.truncate(MAX_WARNINGS);
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

    #[test]
    fn cluster_writes_are_off_when_credentials_are_rejected_or_nothing_answers() {
        let mut c = ClusterState::default();
        assert_eq!(
            c.writes_blocked(),
            None,
            "still connecting: the plan will say"
        );
        c.kinds.insert(Kind::Pod, KindStatus::Ready);
        c.kinds.insert(Kind::Secret, KindStatus::Forbidden);
        c.kinds
            .insert(Kind::Service, KindStatus::Error("timeout".into()));
        assert_eq!(
            c.writes_blocked(),
            None,
            "one failing watch is not the server"
        );
        c.kinds
            .insert(Kind::Pod, KindStatus::Error("401 Unauthorized: x".into()));
        assert!(
            c.writes_blocked()
                .unwrap()
                .contains("rejected the credentials")
        );
        c.kinds
            .insert(Kind::Pod, KindStatus::Error("refused".into()));
        c.kinds
            .insert(Kind::Secret, KindStatus::Error("refused".into()));
        assert!(c.writes_blocked().unwrap().contains("not answering"));
        c.connection = Connection::Failed("kubeconfig /x: bad".into());
        assert!(c.writes_blocked().unwrap().contains("kubeconfig /x: bad"));
    }

    #[test]
    fn ages_are_minute_grained() {
        assert_eq!(age(100, 90), "<1m");
        assert_eq!(age(1000, 0), "16m");
        assert_eq!(age(7200, 0), "2h");
        assert_eq!(age(3 * 86_400, 0), "3d");
    }

    #[test]
    fn warnings_are_newest_first_bounded_and_unique() {
        let mut c = ClusterState::default();
        for i in 0..(MAX_WARNINGS as i64 + 10) {
            c.add_warning(WarningRow {
                name: format!("e{i}"),
                time: i,
                ..Default::default()
            });
        }
        c.add_warning(WarningRow {
            name: "e59".into(),
            time: 1000,
            ..Default::default()
        });
        assert_eq!(c.warnings.len(), MAX_WARNINGS);
        assert_eq!(c.warnings[0].time, 1000);
        assert_eq!(c.warnings.iter().filter(|w| w.name == "e59").count(), 1);
        assert!(c.warnings.windows(2).all(|w| w[0].time >= w[1].time));
    }
}
