//! The executor: runs the reducer's commands off the render loop, each with a timeout,
//! and reports back as messages. Writes need the write capability, which read-only
//! mode never builds, so no key binding can reach a mutation.
use crate::app::Msg;
use crate::app::cluster::Kind;
use crate::app::msg::{ClusterEvent, Command, SyncEvent, WriteIntent};
use crate::audit::{Action, AuditLog, Mutation, Recorder};
use crate::engine::target::Target;
use crate::sources::git::GitRequest;
use crate::sources::prometheus::View;
use crate::sources::{self, objects};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::{Api, Patch, PatchParams};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::sync::mpsc::Sender;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

mod gitops;
mod storage;
pub use gitops::GitOps;

const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// A sync waits for rollouts; a revert then plans.
const SYNC_TIMEOUT: Duration = Duration::from_secs(300);
const READ_TIMEOUT: Duration = Duration::from_secs(15);
use crate::engine::target::FIELD_MANAGER;

/// Handles to the sources that commands steer.
pub struct Handles {
    pub git: Option<std::sync::mpsc::Sender<GitRequest>>,
    pub graph: watch::Sender<View>,
    pub storage: Arc<Notify>,
    pub kubeconfig: Option<PathBuf>,
    pub gitops: GitOps,
    /// For restores: the client the Portworx poller found, or why none yet.
    pub px: watch::Receiver<Result<crate::sources::portworx::PxClient, String>>,
    /// Where every write is recorded.
    pub audit: AuditLog,
}

/// The cluster connection of the moment: its client and its watchers, replaced
/// whole when the user switches context or namespace.
#[derive(Default)]
pub struct ClusterSlot {
    pub client: Option<kube::Client>,
    /// The kube context, for the audit log.
    context: String,
    /// The engine's view of the same connection (discovery is cached in it).
    target: Option<Arc<Target>>,
    watchers: Vec<JoinHandle<()>>,
}

/// The write capability: every mutation (apply, delete, commit, push) takes one.
/// Only this gate makes them, and not in read-only mode.
pub struct Writer(());

impl Writer {
    /// For the executor and the command line.
    pub fn grant(write: bool) -> Option<Writer> {
        write.then_some(Writer(()))
    }
}

pub struct Executor {
    handles: Handles,
    cluster: Arc<Mutex<ClusterSlot>>,
    writer: Option<Arc<Writer>>,
    /// Who writes, for the audit log: the repository's git identity, else $USER.
    who: String,
    drift: Arc<Notify>,
    tx: Sender<Msg>,
}

impl Executor {
    pub fn new(handles: Handles, write: bool, tx: Sender<Msg>) -> Self {
        let writer = Writer::grant(write).map(Arc::new);
        let cluster: Arc<Mutex<ClusterSlot>> = Arc::default();
        let drift = gitops::spawn_drift(handles.gitops.clone(), cluster.clone(), tx.clone());
        let who = crate::audit::who(handles.gitops.repo.as_deref());
        Executor {
            handles,
            cluster,
            writer,
            who,
            drift,
            tx,
        }
    }

    /// Uses a client connected elsewhere (tests), without watchers.
    pub fn with_client(self, client: kube::Client) -> Self {
        let mut slot = self
            .cluster
            .try_lock()
            .expect("a new executor is not shared");
        slot.target = Some(Arc::new(Target::new(
            client.clone(),
            client.default_namespace().to_string(),
        )));
        slot.client = Some(client);
        drop(slot);
        self
    }

    pub fn can_write(&self) -> bool {
        self.writer.is_some()
    }

    pub fn run(&self, cmd: Command) {
        match cmd {
            Command::LoadCommits { from } => {
                if let Some(git) = &self.handles.git {
                    let _ = git.send(GitRequest::LoadCommits { from });
                }
            }
            Command::LoadDiff(target) => {
                if let Some(git) = &self.handles.git {
                    let _ = git.send(GitRequest::Diff(target));
                }
            }
            Command::MoreDiff { target, from } => {
                if let Some(git) = &self.handles.git {
                    let _ = git.send(GitRequest::MoreDiff { target, from });
                }
            }
            Command::ShowGraph(view) => {
                // send_replace: a newer view always replaces an unserved one.
                self.handles.graph.send_replace(Some(view));
            }
            Command::RefreshStorage => self.handles.storage.notify_one(),
            Command::CheckDrift => self.drift.notify_one(),
            Command::PlanSync { rev } => {
                let (g, slot, tx) = (
                    self.handles.gitops.clone(),
                    self.cluster.clone(),
                    self.tx.clone(),
                );
                tokio::spawn(async move { gitops::send_plan(&g, &slot, rev, &tx).await });
            }
            Command::ListChanges => {
                let (g, tx) = (self.handles.gitops.clone(), self.tx.clone());
                tokio::spawn(async move {
                    let files = gitops::changes(&g).await;
                    let _ = tx.send(Msg::Sync(SyncEvent::Changes(files))).await;
                });
            }
            Command::FindUnfinished => {
                let (slot, tx) = (self.cluster.clone(), self.tx.clone());
                tokio::spawn(async move { storage::send_unfinished(&slot, &tx).await });
            }
            Command::PlanRestore { namespace, name } => {
                let (slot, tx) = (self.cluster.clone(), self.tx.clone());
                tokio::spawn(async move { storage::send_plan(&slot, namespace, name, &tx).await });
            }
            // The UI loop runs the editor itself; nothing reaches here.
            Command::Edit { .. } => {}
            Command::Fetch { key, view } => {
                let (slot, tx) = (self.cluster.clone(), self.tx.clone());
                let lost = Msg::Cluster(ClusterEvent::Detail {
                    key: key.clone(),
                    view,
                    result: Err(LOST.into()),
                });
                spawn_or(&self.tx, lost, async move {
                    if crate::fault::fire(crate::fault::Fault::PanicTask) {
                        panic!("injected by SEXTANT_FAULT=panic-task");
                    }
                    let client = slot.lock().await.client.clone();
                    let result = match client {
                        Some(c) => match tokio::time::timeout(
                            READ_TIMEOUT,
                            objects::fetch(&c, &key, view, chrono::Utc::now().timestamp()),
                        )
                        .await
                        {
                            Ok(r) => r,
                            Err(_) => Err(format!("no answer within {}s", READ_TIMEOUT.as_secs())),
                        },
                        None => Err("not connected to a cluster".into()),
                    };
                    let _ = tx
                        .send(Msg::Cluster(ClusterEvent::Detail { key, view, result }))
                        .await;
                });
            }
            Command::SwitchScope { context, scope } => {
                let (slot, tx, kubeconfig, drift) = (
                    self.cluster.clone(),
                    self.tx.clone(),
                    self.handles.kubeconfig.clone(),
                    self.drift.clone(),
                );
                tokio::spawn(async move {
                    let mut slot = slot.lock().await;
                    // Wait until the old watchers are gone: whatever they sent is then
                    // queued before Connected, which clears it.
                    for w in &slot.watchers {
                        w.abort();
                    }
                    for w in slot.watchers.drain(..) {
                        let _ = w.await;
                    }
                    match sources::kube::connect(kubeconfig.as_ref(), context.as_deref(), &scope)
                        .await
                    {
                        Ok(c) => {
                            let ev = ClusterEvent::Connected {
                                context: c.context.clone(),
                                server: c.server.clone(),
                                namespace: c.namespace.clone(),
                            };
                            let _ = tx.send(Msg::Cluster(ev)).await;
                            slot.watchers = sources::kube::spawn_watchers(&c, tx.clone());
                            let ns = c.client.default_namespace().to_string();
                            slot.target = Some(Arc::new(Target::new(c.client.clone(), ns)));
                            slot.client = Some(c.client);
                            slot.context = c.context;
                            drift.notify_one();
                        }
                        Err(e) => {
                            tracing::warn!("cluster: {e}");
                            slot.client = None;
                            slot.target = None;
                            slot.context.clear();
                            let _ = tx.send(Msg::Cluster(ClusterEvent::ConfigFailed(e))).await;
                        }
                    }
                });
            }
            Command::Write { id, intent } => {
                let tx = self.tx.clone();
                let Some(writer) = self.writer.clone() else {
                    let _ = tx.try_send(Msg::Done(
                        id,
                        Err("read-only mode: this sextant cannot write".into()),
                    ));
                    return;
                };
                let (slot, g) = (self.cluster.clone(), self.handles.gitops.clone());
                let px = self.handles.px.borrow().clone();
                let (log, who) = (self.handles.audit.clone(), self.who.clone());
                let lost = Msg::Done(id, Err(format!("{}: {LOST}", intent.describe())));
                spawn_or(&self.tx, lost, async move {
                    let what = intent.describe();
                    let rec = {
                        let s = slot.lock().await;
                        Recorder {
                            log,
                            who,
                            context: s.context.clone(),
                            kube: s.client.clone(),
                        }
                    };
                    // Each write records itself, with what it changed.
                    let work = async {
                        match &intent {
                            WriteIntent::Restart { .. } => restart(&writer, &rec, &intent)
                                .await
                                .map(|()| format!("{what}: done")),
                            WriteIntent::Snapshot { .. }
                            | WriteIntent::Restore { .. }
                            | WriteIntent::UndoRestore { .. } => {
                                storage::write(&slot, &px, &writer, &rec, id, &intent, &tx).await
                            }
                            _ => {
                                gitops::write(&g, &slot, writer.clone(), &rec, id, &intent, &tx)
                                    .await
                            }
                        }
                    };
                    let limit = match intent {
                        WriteIntent::Restart { .. } => WRITE_TIMEOUT,
                        // Every waiting step has its own limit.
                        WriteIntent::Snapshot { .. }
                        | WriteIntent::Restore { .. }
                        | WriteIntent::UndoRestore { .. } => Duration::from_secs(3600),
                        _ => SYNC_TIMEOUT,
                    };
                    let result = match tokio::time::timeout(limit, work).await {
                        Ok(Ok(done)) => Ok(done),
                        Ok(Err(e)) => Err(format!("{what} failed: {e}")),
                        Err(_) => {
                            // Cut off before it could record itself.
                            let e = format!("no answer within {}s", limit.as_secs());
                            rec.record(&writer, &cut_off(&intent, &e)).await;
                            Err(format!("{what}: {e}"))
                        }
                    };
                    let _ = tx.send(Msg::Done(id, result)).await;
                });
            }
        }
    }
}

/// What the UI is told of a task that panicked instead of its answer.
const LOST: &str = "stopped by an internal error (see the log)";

/// Spawns `work`; should it panic, `lost` goes to the UI instead of its answer, so
/// nothing waits forever for a task that is gone (the panic hook reports the panic).
fn spawn_or(tx: &Sender<Msg>, lost: Msg, work: impl Future<Output = ()> + Send + 'static) {
    let task = tokio::spawn(work);
    let tx = tx.clone();
    tokio::spawn(async move {
        if task.await.is_err_and(|e| e.is_panic()) {
            let _ = tx.send(lost).await;
        }
    });
}

/// The line of a write that ran out of time: it may have changed things.
fn cut_off(intent: &WriteIntent, e: &str) -> Mutation {
    let (action, target) = match intent {
        WriteIntent::Restart {
            kind,
            namespace,
            name,
        } => (
            Action::Restart,
            format!("{} {namespace}/{name}", kind.label()),
        ),
        WriteIntent::Sync { plan, .. } => (Action::Sync, format!("app {}", plan.app)),
        WriteIntent::Revert { .. } => (Action::Rollback, "repository".into()),
        WriteIntent::Commit { .. } => (Action::Commit, "repository".into()),
        WriteIntent::Push => (Action::Push, "repository".into()),
        WriteIntent::Snapshot { workload, .. } => (Action::Snapshot, workload.to_string()),
        WriteIntent::Restore { plan, .. } => (
            Action::Restore,
            format!("{} from {}", plan.workload, plan.snapshot),
        ),
        WriteIntent::UndoRestore { record } => (
            Action::Restore,
            format!("undo of the restore from {}", record.snapshot),
        ),
    };
    let commit = match intent {
        WriteIntent::Sync { plan, .. } => Some(plan.commit.clone()),
        WriteIntent::Revert { sha, .. } => Some(sha.clone()),
        _ => None,
    };
    Mutation {
        action,
        target,
        commit,
        result: Err(format!("{e}; it may be partly done")),
        events: Vec::new(),
    }
}

/// Restarts a workload and records it, with an Event on the workload.
async fn restart(w: &Writer, rec: &Recorder, intent: &WriteIntent) -> Result<(), String> {
    let r = write(w, rec.kube.clone(), intent).await;
    let WriteIntent::Restart {
        kind,
        namespace,
        name,
    } = intent
    else {
        unreachable!("a restart")
    };
    let result = r.clone().map(|()| String::new());
    let target = format!("{} {namespace}/{name}", kind.label());
    if kind.is_workload() {
        let obj = crate::audit::workload_ref(kind.label(), namespace, name);
        rec.workload(w, Action::Restart, obj, target, None, &result)
            .await;
    } else {
        let m = Mutation {
            action: Action::Restart,
            target,
            commit: None,
            result,
            events: Vec::new(),
        };
        rec.record(w, &m).await;
    }
    r
}

async fn write(
    _w: &Writer,
    kube: Option<kube::Client>,
    intent: &WriteIntent,
) -> Result<(), String> {
    match intent {
        WriteIntent::Restart {
            kind,
            namespace,
            name,
        } => {
            let client = kube.ok_or("no cluster connection")?;
            let at = chrono::Utc::now().to_rfc3339();
            let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": at}}}}});
            let pp = PatchParams {
                field_manager: Some(FIELD_MANAGER.into()),
                ..Default::default()
            };
            let p = Patch::Merge(&patch);
            let r = match kind {
                Kind::Deployment => Api::<Deployment>::namespaced(client, namespace)
                    .patch(name, &pp, &p)
                    .await
                    .map(|_| ()),
                Kind::StatefulSet => Api::<StatefulSet>::namespaced(client, namespace)
                    .patch(name, &pp, &p)
                    .await
                    .map(|_| ()),
                Kind::DaemonSet => Api::<DaemonSet>::namespaced(client, namespace)
                    .patch(name, &pp, &p)
                    .await
                    .map(|_| ()),
                other => return Err(format!("a {} cannot be restarted", other.label())),
            };
            r.map_err(|e| crate::sources::kube::one_line(&e))
        }
        _ => unreachable!("GitOps writes run in exec::gitops"),
    }
}
