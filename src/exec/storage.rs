//! The executor's storage commands: restore plans for the dialog, and the snapshot
//! and restore writes, reporting progress line by line.
use super::{ClusterSlot, Writer};
use crate::app::Msg;
use crate::app::msg::{StorageEvent, SyncEvent, WriteIntent};
use crate::audit::{Action, Recorder, workload_ref};
use crate::engine::restore;
use crate::engine::restore_run::{self, Options};
use crate::engine::snapshot::{self, Request};
use crate::sources::portworx::PxClient;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio::sync::mpsc::Sender;

/// How long each waiting step of a snapshot or restore may take.
const STEP_TIMEOUT: Duration = Duration::from_secs(300);

async fn client(slot: &Arc<Mutex<ClusterSlot>>) -> Result<kube::Client, String> {
    slot.lock()
        .await
        .client
        .clone()
        .ok_or_else(|| "not connected to a cluster".into())
}

pub async fn send_plan(slot: &Arc<Mutex<ClusterSlot>>, ns: String, name: String, tx: &Sender<Msg>) {
    let result = match client(slot).await {
        Ok(c) => restore::plan(&c, &ns, &name).await.map(Box::new),
        Err(e) => Err(e),
    };
    let snapshot = format!("{ns}/{name}");
    let _ = tx
        .send(Msg::Storage(StorageEvent::RestorePlanned {
            snapshot,
            result,
        }))
        .await;
}

pub async fn send_unfinished(slot: &Arc<Mutex<ClusterSlot>>, tx: &Sender<Msg>) {
    let result = match client(slot).await {
        Ok(c) => restore::unfinished(&c).await,
        Err(e) => Err(e),
    };
    let _ = tx
        .send(Msg::Storage(StorageEvent::Unfinished(result)))
        .await;
}

/// Runs a snapshot or restore and records it, with an Event on the workload.
pub async fn write(
    slot: &Arc<Mutex<ClusterSlot>>,
    px: &Result<PxClient, String>,
    w: &Writer,
    rec: &Recorder,
    id: u64,
    intent: &WriteIntent,
    tx: &Sender<Msg>,
) -> Result<String, String> {
    let r = run(slot, px, w, id, intent, tx).await;
    let (action, target, commit, wl) = match intent {
        WriteIntent::Snapshot {
            workload, commit, ..
        } => (Action::Snapshot, workload.to_string(), commit, workload),
        WriteIntent::Restore { plan, .. } => (
            Action::Restore,
            format!("{} from {}", plan.workload, plan.snapshot),
            &plan.commit,
            &plan.workload,
        ),
        WriteIntent::UndoRestore { record } => match &record.workload {
            Some(wl) => (
                Action::Restore,
                format!("undo of the restore of {wl} from {}", record.snapshot),
                &None,
                wl,
            ),
            None => return r,
        },
        _ => unreachable!("not a storage write"),
    };
    let obj = workload_ref(wl.kind.as_str(), &wl.namespace, &wl.name);
    rec.workload(w, action, obj, target, commit.clone(), &r)
        .await;
    r
}

async fn run(
    slot: &Arc<Mutex<ClusterSlot>>,
    px: &Result<PxClient, String>,
    w: &Writer,
    id: u64,
    intent: &WriteIntent,
    tx: &Sender<Msg>,
) -> Result<String, String> {
    let c = client(slot).await?;
    let ptx = tx.clone();
    let progress = move |line: String| {
        let _ = ptx.try_send(Msg::Sync(SyncEvent::Progress(id, line)));
    };
    match intent {
        WriteIntent::Snapshot {
            workload,
            consistency,
            commit,
        } => {
            let req = Request {
                workload: workload.clone(),
                commit: commit.clone(),
                reason: "manual",
                consistency: *consistency,
                wait: true,
                timeout: STEP_TIMEOUT,
            };
            let set = snapshot::take(w, &c, &req, &progress).await?;
            Ok(format!(
                "snapshot set {}: {} snapshots ready",
                set.set,
                set.snapshots.len()
            ))
        }
        WriteIntent::Restore {
            plan,
            safety,
            commit,
        } => {
            let px = px.as_ref().map_err(|e| e.clone())?;
            let opts = Options {
                safety: *safety,
                timeout: STEP_TIMEOUT,
                commit: commit.clone(),
            };
            match restore_run::run(w, &c, px, plan, &opts, &progress).await {
                Ok(done) => Ok(format!(
                    "restored {} of {}{}",
                    done.restored.join(", "),
                    plan.workload.name,
                    done.safety
                        .map(|s| format!("; the data from before is in set {s}"))
                        .unwrap_or_default()
                )),
                Err(f) => {
                    // The whole report goes to the dialog; the status bar gets its head.
                    for line in f.to_string().lines().skip(1) {
                        progress(line.to_string());
                    }
                    Err(f.to_string().lines().next().unwrap_or_default().to_string())
                }
            }
        }
        WriteIntent::UndoRestore { record } => {
            restore_run::undo_untouched(w, &c, record, &progress).await
        }
        _ => unreachable!("not a storage write"),
    }
}
