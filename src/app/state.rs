//! The one app state, owned by the UI task.
use super::cluster::ClusterState;
use super::diff::{Diff, DiffTarget};
use super::msg::WriteIntent;
use crate::config::GraphSpec;
use std::collections::BTreeMap;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    Cluster,
    Git,
    Metrics,
    Storage,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Cluster, Pane::Git, Pane::Metrics, Pane::Storage];
    pub fn title(self) -> &'static str {
        match self {
            Pane::Cluster => "Cluster",
            Pane::Git => "Git",
            Pane::Metrics => "Metrics",
            Pane::Storage => "Storage",
        }
    }
}

/// A source connection's health, shown in the status bar.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Link {
    /// Not configured.
    Off,
    #[default]
    Connecting,
    Up,
    Down(String),
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct RepoInfo {
    pub path: String,
    pub branch: String,
    pub head: String,
    pub remote: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct CommitRow {
    pub id: String,
    pub author: String,
    pub time: i64,
    pub summary: String,
    /// Changes a YAML file declaring a StatefulSet or PersistentVolumeClaim.
    pub stateful: bool,
}

/// The diff viewer over the git pane.
#[derive(Clone, Debug)]
pub struct DiffView {
    pub target: DiffTarget,
    /// Short SHA and subject, or "working tree".
    pub title: String,
    /// None while the worker computes it.
    pub diff: Option<Result<Arc<Diff>, String>>,
    /// The first row on screen, as a position in the unified layout.
    pub top: usize,
    /// The next page of a long diff has been asked for.
    pub loading: bool,
}

/// Below this size the four panes collapse to tabs: one pane at a time, full size.
pub fn tabbed(cols: u16, rows: u16) -> bool {
    cols < 80 || rows < 24
}

/// Side by side needs room for two readable halves.
pub const SPLIT_MIN_WIDTH: u16 = 160;

/// The git pane's size in a terminal of `cols` x `rows` (the layout of ui::draw).
pub fn git_pane_size(cols: u16, rows: u16, zoom: bool) -> (u16, u16) {
    let main = rows.saturating_sub(1);
    if zoom {
        (cols, main)
    } else {
        (cols - cols * 55 / 100, main * 55 / 100)
    }
}

#[derive(Clone, Debug, Default)]
pub struct GitState {
    pub link: Link,
    pub repo: Option<RepoInfo>,
    pub commits: Vec<CommitRow>,
    pub more: bool,
    pub loading: bool,
    pub selected: usize,
    /// What the cluster says it was last synced to.
    pub synced: Option<crate::engine::record::SyncRecord>,
    /// Where the synced commit is in `commits`, once loaded.
    pub synced_row: Option<usize>,
    /// Files changed in the working tree; when some, it is the first entry.
    pub worktree: usize,
    pub diff: Option<DiffView>,
    /// Side by side when the pane is wide enough (`w` turns it off and on).
    pub split: bool,
}

/// An entry of the git pane's list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry<'a> {
    WorkTree(usize),
    Commit(&'a CommitRow),
}

impl GitState {
    /// Entries above the first commit: the working tree when it is dirty.
    pub fn offset(&self) -> usize {
        usize::from(self.worktree > 0)
    }

    pub fn entries(&self) -> usize {
        self.offset() + self.commits.len()
    }

    pub fn entry(&self, i: usize) -> Option<Entry<'_>> {
        match i.checked_sub(self.offset()) {
            None => Some(Entry::WorkTree(self.worktree)),
            Some(c) => self.commits.get(c).map(Entry::Commit),
        }
    }

    /// Whether the diff view shows two columns in a pane this wide.
    pub fn split_at(&self, width: u16) -> bool {
        self.split && width >= SPLIT_MIN_WIDTH
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// The ranges `+` and `-` zoom through, in seconds: 5m, 1h, 6h, 24h, 7d.
pub const RANGES: [i64; 5] = [300, 3600, 6 * 3600, 24 * 3600, 7 * 86_400];
/// The range a session starts with (6h).
pub const DEFAULT_RANGE: usize = 2;

#[derive(Clone, Debug, Default)]
pub struct MetricsState {
    pub link: Link,
    pub graphs: Vec<GraphSpec>,
    pub current: usize,
    /// The graph the data below belongs to.
    pub shown: Option<usize>,
    pub start: f64,
    pub end: f64,
    /// Seconds between samples of the data shown; wider spacing is a gap.
    pub step: f64,
    /// Values may be NaN or infinite: those are missing, not zero.
    pub series: Vec<Series>,
    /// Series the query returned beyond those kept in `series`.
    pub left_out: usize,
    /// The plot width the last request was sized for.
    pub width: u16,
    /// Index into RANGES.
    pub range: usize,
    /// The current panel's last error (Prometheus's words); older data stays shown.
    pub error: Option<String>,
    /// The highlighted time marker, an index into `marks::marks(state)`.
    pub marker: Option<usize>,
    /// What the default panels are scoped to: the selection in the cluster or storage pane.
    pub scope: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct PxCluster {
    pub name: String,
    pub status: String,
}

/// A storage pool of a Portworx node.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PxPool {
    pub id: i64,
    pub uuid: String,
    /// SSD, NVME or MAGNETIC.
    pub medium: String,
    pub total: u64,
    pub used: u64,
}

/// A Portworx storage node.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PxNode {
    pub id: String,
    /// The Kubernetes node name when known, else the hostname, else the id.
    pub name: String,
    pub status: String,
    pub pools: Vec<PxPool>,
}

impl PxNode {
    pub fn used(&self) -> u64 {
        self.pools.iter().map(|p| p.used).sum()
    }
    pub fn total(&self) -> u64 {
        self.pools.iter().map(|p| p.total).sum()
    }
}

/// A pod (or other consumer) using a volume, as Portworx reports it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Consumer {
    pub name: String,
    pub namespace: String,
    pub kind: String,
    /// Owner kind/name, e.g. StatefulSet/mysql.
    pub owner: String,
}

/// A Portworx snapshot: a read-only volume whose parent is the volume.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct PxSnapshot {
    pub id: String,
    pub name: String,
    /// Unix seconds; 0 when unknown.
    pub created: i64,
    pub usage: u64,
    pub status: String,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct VolumeRow {
    pub id: String,
    pub name: String,
    /// The claim, from the volume's `namespace` and `pvc` labels.
    pub pvc: Option<(String, String)>,
    pub size: u64,
    pub usage: u64,
    /// Configured replicas.
    pub ha_level: i64,
    /// Current replicas.
    pub replicas: usize,
    /// Node names of the replicas (ids when the node list is unavailable).
    pub replica_nodes: Vec<String>,
    pub state: String,
    pub status: String,
    pub io_profile: String,
    /// The node name it is attached on (the raw value when unknown).
    pub attached_on: String,
    /// How many Portworx snapshots it has (CSI ones included).
    pub snapshots: usize,
    pub px_snapshots: Vec<PxSnapshot>,
    pub consumers: Vec<Consumer>,
    /// Unix seconds; 0 when unknown.
    pub created: i64,
    pub error: String,
}

/// The order of the storage table after health.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Claim,
    Used,
    Size,
    State,
    Snapshots,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Claim => SortKey::Used,
            SortKey::Used => SortKey::Size,
            SortKey::Size => SortKey::State,
            SortKey::State => SortKey::Snapshots,
            SortKey::Snapshots => SortKey::Claim,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SortKey::Claim => "claim",
            SortKey::Used => "used%",
            SortKey::Size => "size",
            SortKey::State => "state",
            SortKey::Snapshots => "snapshots",
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct StorageState {
    pub link: Link,
    pub cluster: Option<PxCluster>,
    pub nodes: Vec<PxNode>,
    /// Why the node list could not be read; the volumes still show.
    pub nodes_error: Option<String>,
    /// As the gateway sent them; the table order is `app::storage::table`.
    pub volumes: Vec<VolumeRow>,
    /// Position in the table; `selected_id` wins when that volume is still shown.
    pub selected: usize,
    pub selected_id: Option<String>,
    pub sort: SortKey,
    /// The `/` filter: a substring of claim, PV, volume id, node or state.
    pub filter: String,
    /// The details view of the selected volume is open.
    pub details: bool,
    /// The selected snapshot in the details view.
    pub snapshot: usize,
    /// Write throughput by volume name, bytes/s, when Prometheus has px_* metrics.
    pub write_rates: BTreeMap<String, f64>,
}

/// A line being typed: the `/` filter or a `:` command.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    pub command: bool,
    pub text: String,
}

/// A write waiting for the user's yes.
#[derive(Clone, Debug, PartialEq)]
pub struct Confirm {
    pub intent: WriteIntent,
}

#[derive(Debug)]
pub struct State {
    pub focus: Pane,
    pub zoom: bool,
    pub help: bool,
    pub quit: bool,
    pub read_only: bool,
    pub now: i64,
    /// Terminal width, for sizing graph queries.
    pub cols: u16,
    /// Terminal height, for paging the diff view.
    pub rows: u16,
    pub cluster: ClusterState,
    pub git: GitState,
    pub metrics: MetricsState,
    pub storage: StorageState,
    pub sync: super::sync::SyncState,
    /// The snapshot and restore dialogs.
    pub ops: super::ops::OpsState,
    /// Watch mode's layout and what it tracks.
    pub watch: super::watch::WatchState,
    pub confirm: Option<Confirm>,
    pub input: Option<Input>,
    /// Commands under way: id → what they do.
    pub pending: BTreeMap<u64, String>,
    pub next_id: u64,
    /// The last outcome or refusal, shown in the status bar.
    pub flash: Option<(bool, String)>,
    /// Set when something visible changed; the render loop clears it after drawing.
    pub dirty: bool,
    /// `--ascii`: plain characters only, no braille, box drawing or symbols.
    pub ascii: bool,
}

impl State {
    pub fn new(read_only: bool, graphs: Vec<GraphSpec>, now: i64) -> Self {
        State {
            focus: Pane::Cluster,
            zoom: false,
            help: false,
            quit: false,
            read_only,
            now,
            cols: 80,
            rows: 24,
            cluster: ClusterState::default(),
            git: GitState {
                split: true,
                ..Default::default()
            },
            metrics: MetricsState {
                graphs,
                range: DEFAULT_RANGE,
                ..Default::default()
            },
            storage: StorageState::default(),
            sync: Default::default(),
            ops: Default::default(),
            watch: Default::default(),
            confirm: None,
            input: None,
            pending: BTreeMap::new(),
            next_id: 1,
            flash: None,
            dirty: true,
            ascii: false,
        }
    }

    /// Whether the focused pane fills the screen: zoomed, or the terminal is small.
    pub fn zoomed(&self) -> bool {
        self.zoom || tabbed(self.cols, self.rows)
    }

    /// Every pane has its first data or its error: the first complete frame.
    pub fn complete(&self) -> bool {
        let settled = |l: &Link| !matches!(l, Link::Connecting);
        self.cluster.is_loaded()
            && settled(&self.git.link)
            && (settled(&self.metrics.link)
                && (self.metrics.shown.is_some() || self.metrics.link != Link::Up))
            && settled(&self.storage.link)
    }
}
