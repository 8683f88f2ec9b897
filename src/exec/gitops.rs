//! The executor's GitOps commands: plans for the preview, drift, and the writes
//! (sync, revert, commit, push). Git work runs on blocking threads, cluster work on
//! the runtime; everything reports back as messages.
use super::{ClusterSlot, Writer};
use crate::app::Msg;
use crate::app::msg::{GitEvent, SyncEvent, WriteIntent};
use crate::app::sync::Drift;
use crate::audit::{self, Action, Mutation, Recorder};
use crate::engine::plan::{Plan, plan};
use crate::engine::sync::{self, Options};
use crate::engine::target::Target;
use crate::engine::{gitops, manifests, snapshot};
use git2::Repository;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::{Mutex, Notify};

/// Where the manifests are and which app they make.
#[derive(Clone, Debug, Default)]
pub struct GitOps {
    pub repo: Option<PathBuf>,
    pub path: String,
    pub app: String,
}

/// How long a sync may wait for workloads to roll out.
const ROLLOUT_TIMEOUT: Duration = Duration::from_secs(180);

fn open(repo: &Option<PathBuf>) -> Result<Repository, String> {
    let dir = repo.as_ref().ok_or("no repository: pass --repo")?;
    Repository::discover(dir).map_err(|e| format!("{}: {}", dir.display(), e.message()))
}

/// Runs git work off the runtime's threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| format!("git task failed: {e}"))?
}

async fn target(slot: &Arc<Mutex<ClusterSlot>>) -> Result<Arc<Target>, String> {
    slot.lock()
        .await
        .target
        .clone()
        .ok_or_else(|| "not connected to a cluster".to_string())
}

/// The plan of a sync of `rev` against the cluster.
pub async fn plan_at(g: &GitOps, t: &Target, rev: &str) -> Result<Plan, String> {
    let (repo, path, rev) = (g.repo.clone(), g.path.clone(), rev.to_string());
    let m = blocking(move || manifests::read(&open(&repo)?, &rev, &path)).await?;
    Ok(plan(t, &m, &g.path, &g.app).await)
}

pub async fn send_plan(g: &GitOps, slot: &Arc<Mutex<ClusterSlot>>, rev: String, tx: &Sender<Msg>) {
    let result = match target(slot).await {
        Ok(t) => match plan_at(g, &t, &rev).await {
            // A plan is only good for the cluster it was made against.
            Ok(_) if !target(slot).await.is_ok_and(|now| Arc::ptr_eq(&now, &t)) => {
                Err("the cluster changed while planning".to_string())
            }
            r => r.map(Box::new),
        },
        Err(e) => Err(e),
    };
    let _ = tx.send(Msg::Sync(SyncEvent::Planned { rev, result })).await;
}

/// Drift is the plan of the synced commit: recomputed when asked, coalescing asks
/// that arrive while one runs. The record read on the way feeds the git pane.
pub fn spawn_drift(g: GitOps, slot: Arc<Mutex<ClusterSlot>>, tx: Sender<Msg>) -> Arc<Notify> {
    let wake = Arc::new(Notify::new());
    let w = wake.clone();
    tokio::spawn(async move {
        loop {
            w.notified().await;
            // Let a burst of cluster events settle into one check.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let Ok(t) = target(&slot).await else { continue };
            let drift = match sync::read_record(&t, &g.app).await {
                Ok(record) => {
                    let commit = record.as_ref().map(|r| r.commit.clone());
                    if tx.send(Msg::Git(GitEvent::Synced(record))).await.is_err() {
                        return;
                    }
                    match commit {
                        None => Ok(Vec::new()),
                        Some(c) if g.repo.is_some() => plan_at(&g, &t, &c)
                            .await
                            .map(|p| Drift::from_plan(&p))
                            .map_err(|e| {
                                format!("synced commit {}: {e}", crate::engine::short(&c, 8))
                            }),
                        Some(_) => Err("no repository to compare with".into()),
                    }
                }
                Err(e) => Err(format!("sync record: {e}")),
            };
            if tx.send(Msg::Sync(SyncEvent::Drift(drift))).await.is_err() {
                return;
            }
        }
    });
    wake
}

/// The GitOps writes, each recorded. Ok is the line the status bar shows.
pub async fn write(
    g: &GitOps,
    slot: &Arc<Mutex<ClusterSlot>>,
    w: Arc<Writer>,
    rec: &Recorder,
    id: u64,
    intent: &WriteIntent,
    tx: &Sender<Msg>,
) -> Result<String, String> {
    match intent {
        WriteIntent::Sync { plan, .. } => {
            let r = match sync_plan(g, slot, &w, rec, id, intent, tx).await {
                Ok(r) => r,
                Err(e) => {
                    let m = audit::sync_not_applied(&plan.app, &plan.commit, &e);
                    rec.record(&w, &m).await;
                    return Err(e);
                }
            };
            for m in audit::sync_mutations(rec, &plan.app, &r).await {
                rec.record(&w, &m).await;
            }
            // A partial sync is never reported as done.
            if r.complete() {
                Ok(r.summary())
            } else {
                Err(r.summary())
            }
        }
        WriteIntent::Revert { sha, .. } => {
            let (w2, sha2) = (w.clone(), sha.clone());
            let detail = format!("revert {}", crate::engine::short(sha, 8));
            let new = git_write(g, &w, rec, Action::Rollback, detail, move |repo| {
                gitops::revert(repo, &w2, &sha2)
            })
            .await?;
            // The preview of the revert's sync follows; applying it is another yes.
            let (g, slot, tx) = (g.clone(), slot.clone(), tx.clone());
            let rev = new.clone();
            tokio::spawn(async move { send_plan(&g, &slot, rev, &tx).await });
            Ok(format!(
                "committed {} reverting {}",
                crate::engine::short(&new, 8),
                crate::engine::short(sha, 8)
            ))
        }
        WriteIntent::Commit {
            files,
            message,
            head,
        } => {
            let (files, message, w2) = (files.clone(), message.clone(), w.clone());
            let head = head.clone();
            let detail = gitops::list(&files, files.len());
            let sha = git_write(g, &w, rec, Action::Commit, detail, move |repo| {
                gitops::commit_on(repo, &w2, head.as_deref(), &files, &message)
            })
            .await?;
            Ok(format!("committed {}", crate::engine::short(&sha, 8)))
        }
        WriteIntent::Push => {
            let w2 = w.clone();
            let detail = "push to origin".to_string();
            git_write(g, &w, rec, Action::Push, detail, move |repo| {
                gitops::push(repo, &w2)
            })
            .await
        }
        WriteIntent::Restart { .. }
        | WriteIntent::Snapshot { .. }
        | WriteIntent::UndoRestore { .. }
        | WriteIntent::Restore { .. } => {
            unreachable!("cluster and storage writes run elsewhere")
        }
    }
}

/// Snapshots the StatefulSets a sync changes when asked, then applies the plan.
async fn sync_plan(
    g: &GitOps,
    slot: &Arc<Mutex<ClusterSlot>>,
    w: &Writer,
    rec: &Recorder,
    id: u64,
    intent: &WriteIntent,
    tx: &Sender<Msg>,
) -> Result<sync::Report, String> {
    let WriteIntent::Sync {
        plan,
        prune,
        force,
        snapshot_first,
    } = intent
    else {
        unreachable!("a sync")
    };
    // Before anything else: nothing of a commit with unreadable manifests is applied.
    if let Some(why) = plan.refusal() {
        return Err(why);
    }
    // Refused before the cluster is touched: edits in the working tree would look
    // synced, and a detached HEAD is no branch to sync from.
    let repo = g.repo.clone();
    let synced_by = blocking(move || {
        let repo = open(&repo)?;
        gitops::require_clean(&repo, "sync")?;
        Ok(gitops::identity(&repo))
    })
    .await?;
    let t = target(slot).await?;
    let ptx = tx.clone();
    let progress = move |line: String| {
        let _ = ptx.try_send(Msg::Sync(SyncEvent::Progress(id, line)));
    };
    let stateful = snapshot::changed_by(plan);
    let snapshots = if *snapshot_first && !stateful.is_empty() {
        let now = sync::read_record(&t, &g.app).await.ok().flatten();
        let commit = now.map(|r| r.commit);
        audit::snapshot_before_sync(rec, w, &t.client, &stateful, commit, &progress).await?
    } else {
        Vec::new()
    };
    let opts = Options {
        prune: *prune,
        force_conflicts: *force,
        timeout: ROLLOUT_TIMEOUT,
        synced_by,
        snapshots,
    };
    Ok(sync::execute(&t, w, plan, &opts, &progress).await)
}

/// Runs a git write on a blocking thread and records it: the working tree and branch
/// with `detail`, and the commit made (for a push, the one pushed).
async fn git_write(
    g: &GitOps,
    w: &Writer,
    rec: &Recorder,
    action: Action,
    detail: String,
    f: impl FnOnce(&Repository) -> Result<String, String> + Send + 'static,
) -> Result<String, String> {
    let dir = g.repo.clone();
    let done = blocking(move || {
        let repo = open(&dir)?;
        let r = f(&repo);
        let head = gitops::resolve(&repo, "HEAD").ok();
        Ok((audit::repo_target(&repo), r, head))
    })
    .await;
    let (target, r, head) = done.unwrap_or_else(|e| {
        let dir = g.repo.as_ref().map(|d| d.display().to_string());
        (dir.unwrap_or_else(|| "no repository".into()), Err(e), None)
    });
    let m = Mutation {
        action,
        target: format!("{target}: {detail}"),
        commit: head.filter(|_| r.is_ok() || action == Action::Push),
        result: r.clone(),
        events: Vec::new(),
    };
    rec.record(w, &m).await;
    r
}

/// The working tree's changed files, for the commit dialog.
pub async fn changes(g: &GitOps) -> Result<Vec<gitops::RepoPath>, String> {
    let repo = g.repo.clone();
    blocking(move || gitops::changed_files(&open(&repo)?)).await
}
