//! Messages into the reducer and commands out of it.
use super::cluster::{Key, Kind, ObjRow, WarningRow};
use super::diff::{Diff, DiffPage, DiffTarget};
use super::state::{CommitRow, PxCluster, PxNode, RepoInfo, Series, VolumeRow};
pub use crate::engine::gitops::RepoPath;
pub use crate::sources::objects::View;
use crossterm::event::KeyEvent;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    /// A click or a wheel turn at a terminal cell.
    Mouse {
        kind: MouseKind,
        col: u16,
        row: u16,
    },
    Resize(u16, u16),
    /// The wall clock, unix seconds, once a minute.
    Tick(i64),
    Cluster(ClusterEvent),
    Git(GitEvent),
    Metrics(MetricsEvent),
    Storage(StorageEvent),
    /// A command finished: its id and a one-line outcome.
    Done(u64, Result<String, String>),
    /// A background task panicked (the hook in `crash` says so); the rest runs on.
    Fault(String),
    Sync(SyncEvent),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MouseKind {
    /// The left button pressed.
    Click,
    WheelUp,
    WheelDown,
}

/// From the GitOps engine, through the executor.
#[derive(Debug, Clone)]
pub enum SyncEvent {
    /// The plan of a sync of `rev`, for the preview.
    Planned {
        rev: String,
        result: Result<Box<crate::engine::plan::Plan>, String>,
    },
    /// A line of a running sync's progress.
    Progress(u64, String),
    /// Drift of the objects in git at the synced commit.
    Drift(Result<Vec<super::sync::Drift>, String>),
    /// The working tree's changed files, for the commit dialog.
    Changes(Result<Vec<RepoPath>, String>),
}

#[derive(Debug, Clone)]
pub enum ClusterEvent {
    Connected {
        context: String,
        server: String,
        namespace: Option<String>,
    },
    /// The kubeconfig could not be used; nothing will be watched.
    ConfigFailed(String),
    /// A watch (re)listed every object of a kind: replaces what was known.
    Listed(Kind, Vec<ObjRow>),
    Applied(ObjRow),
    Deleted(Kind, String, String),
    /// A watch failed: the kind, the error, and when (unix seconds), for "stale since".
    WatchFailed(Kind, String, i64),
    /// The user may not list this kind; the watch has stopped.
    Forbidden(Kind),
    /// Discovery says the server does not serve this kind.
    NotServed(Kind),
    /// Warning events: a whole (re)list, then one at a time.
    WarningsListed(Vec<WarningRow>),
    Warning(WarningRow),
    /// A describe or YAML view's content, or why it could not be fetched.
    Detail {
        key: Key,
        view: View,
        result: Result<Vec<String>, String>,
    },
}

#[derive(Debug, Clone)]
pub enum GitEvent {
    Opened(RepoInfo),
    /// Commits from position `from` of the history; `more` if the history goes on.
    Page {
        from: usize,
        commits: Vec<CommitRow>,
        more: bool,
    },
    Failed(String),
    /// The cluster's sync record changed (None: never synced by sextant).
    Synced(Option<crate::engine::record::SyncRecord>),
    /// How many files the working tree changes (0: clean); sent when it changes.
    WorkTree(usize),
    /// A diff asked for with `Command::LoadDiff`: its first page.
    Diff {
        target: DiffTarget,
        result: Result<Arc<Diff>, String>,
    },
    /// The diff's text from byte `from` on, asked for with `Command::MoreDiff`.
    DiffMore {
        target: DiffTarget,
        from: usize,
        result: Result<DiffPage, String>,
    },
}

#[derive(Debug, Clone)]
pub enum MetricsEvent {
    Data {
        graph: usize,
        start: f64,
        end: f64,
        step: f64,
        series: Vec<Series>,
        /// Series beyond the largest ones sent, counted in the legend.
        left_out: usize,
    },
    /// Prometheus answered the panel's query with an error (a bad query).
    QueryFailed { graph: usize, error: String },
    /// Prometheus could not be reached.
    Failed(String),
    /// Panels that fit what this Prometheus has (cAdvisor's CPU and memory).
    Extra(Vec<crate::config::GraphSpec>),
}

#[derive(Debug, Clone)]
pub enum StorageEvent {
    Data {
        cluster: PxCluster,
        /// The node list, or why it could not be read.
        nodes: Result<Vec<PxNode>, String>,
        volumes: Vec<VolumeRow>,
    },
    Failed(String),
    /// The plan of a restore of snapshot `snapshot` (namespace/name), for its dialog.
    RestorePlanned {
        snapshot: String,
        result: Result<Box<crate::engine::restore::Plan>, String>,
    },
    /// Write throughput by Portworx volume name, bytes/s, from Prometheus.
    Rates(Vec<(String, f64)>),
    /// Restores a stopped sextant left unfinished, found at connect.
    Unfinished(Result<Vec<crate::engine::restore::Record>, String>),
}

/// What the reducer asks the executor to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Load the next page of git history.
    LoadCommits { from: usize },
    /// Compute a commit's or the working tree's diff in the git worker.
    LoadDiff(DiffTarget),
    /// The next page of a diff being viewed, from byte `from` of its text.
    MoreDiff { target: DiffTarget, from: usize },
    /// Show graph `graph` sized for a plot `width` cells wide (the step follows the width).
    ShowGraph(crate::sources::prometheus::GraphView),
    /// Poll the Portworx gateway now.
    RefreshStorage,
    /// Fetch an object for the describe or YAML view.
    Fetch { key: Key, view: View },
    /// Watch another context and/or namespace.
    SwitchScope {
        context: Option<String>,
        scope: crate::config::Scope,
    },
    /// A mutation, already confirmed by the user. Only a writer can run it.
    Write { id: u64, intent: WriteIntent },
    /// Plan a sync of a revision (read-only: dry runs).
    PlanSync { rev: String },
    /// Compare git at the synced commit with the cluster again.
    CheckDrift,
    /// List the working tree's changes for a commit.
    ListChanges,
    /// Plan the restore of a snapshot (read-only).
    PlanRestore { namespace: String, name: String },
    /// Look for restores left unfinished (read-only).
    FindUnfinished,
    /// Open the manifest of an object in $EDITOR; the UI loop runs it, since the
    /// terminal is handed over.
    Edit { key: Key },
}

/// Mutations. Each needs the executor's write capability.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteIntent {
    /// Restart a workload's pods, as `kubectl rollout restart` does.
    Restart {
        kind: Kind,
        namespace: String,
        name: String,
    },
    /// Apply a previewed plan.
    Sync {
        plan: Box<crate::engine::plan::Plan>,
        prune: bool,
        force: bool,
        /// Snapshot the StatefulSets it changes first.
        snapshot_first: bool,
    },
    /// Commit a revert of `sha`, then preview its sync.
    Revert {
        sha: String,
        subject: String,
        /// Snapshots its sync took first (namespace/name): offered for restore once
        /// the revert is synced.
        restore: Vec<String>,
    },
    Commit {
        files: Vec<RepoPath>,
        message: String,
        /// HEAD when the files were listed: the commit is refused if it moved.
        head: Option<String>,
    },
    Push,
    /// Snapshot every claim of a workload.
    Snapshot {
        workload: crate::engine::workload::Workload,
        consistency: crate::engine::snapshot::Consistency,
        /// The synced commit, for the snapshots' label.
        commit: Option<String>,
    },
    /// Restore a workload's claims from a previewed plan.
    Restore {
        plan: Box<crate::engine::restore::Plan>,
        safety: bool,
        commit: Option<String>,
    },
    /// Scale back the workload of an unfinished restore that never reached its data.
    UndoRestore {
        record: Box<crate::engine::restore::Record>,
    },
}

impl WriteIntent {
    /// What the confirmation dialog shows before anything happens.
    pub fn preview(&self) -> Vec<String> {
        match self {
            WriteIntent::Restart {
                kind,
                namespace,
                name,
            } => vec![
                format!("Restart {} {namespace}/{name}", kind.label()),
                "Patches spec.template.metadata.annotations".into(),
                "  kubectl.kubernetes.io/restartedAt = <now>".into(),
                "so the controller replaces every pod, one by one.".into(),
            ],
            WriteIntent::Sync { plan, .. } => vec![plan.summary()],
            WriteIntent::Revert {
                sha,
                subject,
                restore,
            } => {
                let mut v = vec![
                    format!("Roll back {} \"{subject}\"", crate::engine::short(sha, 8)),
                    "Commits its revert on top of HEAD as your git user,".into(),
                    "then previews the sync of that commit.".into(),
                    "Conflicts with later commits are reported, not forced.".into(),
                ];
                if !restore.is_empty() {
                    v.push("Its sync snapshotted the data first:".into());
                    v.extend(restore.iter().map(|s| format!("  {s}")));
                    v.push("Once the revert is synced, restoring them is offered.".into());
                }
                v
            }
            WriteIntent::Commit { files, message, .. } => {
                let mut v = vec![format!("Commit \"{message}\"")];
                v.extend(files.iter().map(|f| format!("  {f}")));
                v
            }
            WriteIntent::Push => vec![
                "Push the current branch to origin.".into(),
                "A remote that is ahead is reported, never overwritten.".into(),
            ],
            WriteIntent::Snapshot { workload, .. } => {
                vec![format!("Snapshot every claim of {workload}")]
            }
            WriteIntent::Restore { plan, safety, .. } => plan.preview(*safety),
            WriteIntent::UndoRestore { record } => vec![format!(
                "Undo the restore of {}: scale back to {} replicas",
                record
                    .workload
                    .as_ref()
                    .map(|w| w.to_string())
                    .unwrap_or_default(),
                record.replicas
            )],
        }
    }
    pub fn describe(&self) -> String {
        match self {
            WriteIntent::Restart {
                kind,
                namespace,
                name,
            } => format!("restart {} {namespace}/{name}", kind.short()),
            WriteIntent::Sync { plan, .. } => {
                format!("sync {}", crate::engine::short(&plan.commit, 8))
            }
            WriteIntent::Revert { sha, .. } => {
                format!("roll back {}", crate::engine::short(sha, 8))
            }
            WriteIntent::Commit { .. } => "commit".into(),
            WriteIntent::Push => "push".into(),
            WriteIntent::Snapshot { workload, .. } => format!(
                "snapshot {} {}/{}",
                workload.kind.as_str().to_lowercase(),
                workload.namespace,
                workload.name
            ),
            WriteIntent::Restore { plan, .. } => format!("restore {}", plan.snapshot),
            WriteIntent::UndoRestore { record } => format!("undo restore {}", record.snapshot),
        }
    }
}
