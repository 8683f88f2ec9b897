//! The executor: runs the reducer's commands off the render loop, each with a timeout,
//! and reports back as messages. Writes need the write capability, which read-only
//! mode never builds, so no key binding can reach a mutation.
use crate::app::Msg;
use crate::app::cluster::Kind;
use crate::app::msg::{Command, WriteIntent};
use crate::sources::git::GitRequest;
use crate::sources::prometheus::View;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use kube::api::{Api, Patch, PatchParams};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::{Notify, watch};

const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
pub const FIELD_MANAGER: &str = "sextant";

/// Handles to the sources that commands steer.
pub struct Handles {
    pub git: Option<std::sync::mpsc::Sender<GitRequest>>,
    pub graph: watch::Sender<View>,
    pub storage: Arc<Notify>,
}

/// The write capability: the clients that can mutate. Only `Executor::new` with
/// `write = true` builds one.
pub struct Writer {
    kube: Option<kube::Client>,
}

pub struct Executor {
    handles: Handles,
    writer: Option<Writer>,
    tx: Sender<Msg>,
}

impl Executor {
    pub fn new(handles: Handles, kube: Option<kube::Client>, write: bool, tx: Sender<Msg>) -> Self {
        let writer = write.then_some(Writer { kube });
        Executor {
            handles,
            writer,
            tx,
        }
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
            Command::ShowGraph { graph, width } => {
                // send_replace: a newer view always replaces an unserved one.
                self.handles.graph.send_replace(Some((graph, width)));
            }
            Command::RefreshStorage => self.handles.storage.notify_one(),
            Command::Write { id, intent } => {
                let tx = self.tx.clone();
                let Some(writer) = &self.writer else {
                    let _ = tx.try_send(Msg::Done(
                        id,
                        Err("read-only mode: this sextant cannot write".into()),
                    ));
                    return;
                };
                let kube = writer.kube.clone();
                tokio::spawn(async move {
                    let what = intent.describe();
                    let result =
                        match tokio::time::timeout(WRITE_TIMEOUT, write(kube, &intent)).await {
                            Ok(Ok(())) => Ok(format!("{what}: done")),
                            Ok(Err(e)) => Err(format!("{what} failed: {e}")),
                            Err(_) => Err(format!(
                                "{what}: no answer within {}s",
                                WRITE_TIMEOUT.as_secs()
                            )),
                        };
                    tracing::info!(target: "audit", %what, ok = result.is_ok(), "write");
                    let _ = tx.send(Msg::Done(id, result)).await;
                });
            }
        }
    }
}

async fn write(kube: Option<kube::Client>, intent: &WriteIntent) -> Result<(), String> {
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
    }
}
