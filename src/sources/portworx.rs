//! The Portworx source: the OpenStorage SDK REST gateway, polled every 5 s (it has no
//! watch over REST). Wire rules: proto names, int64 as strings, zero values omitted.
use super::kube::one_line;
use super::px_discover::Find;
pub use super::px_wire::{ClusterInfo, InspectAll, NodesReply, node_rows, volume_rows};
use super::px_wire::{ClusterReply, ErrorBody, short};
use crate::app::Msg;
use crate::app::msg::StorageEvent;
use crate::app::state::{PxCluster, PxNode, VolumeRow};
use crate::config::Secret;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::{Notify, watch};

const POLL: Duration = Duration::from_secs(5);
/// How long one gateway call may take.
const TIMEOUT: Duration = Duration::from_secs(5);
/// How often to look again for a gateway that was not found.
const RETRY: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct PxClient {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
}

impl PxClient {
    pub fn new(base: &str, token: Option<Secret>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| one_line(&e))?;
        Ok(PxClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub(crate) async fn call<T: for<'de> Deserialize<'de>>(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<T, String> {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t.expose()),
            None => req,
        };
        // A gateway that accepts the connection but never answers is not unreachable:
        // say which, so the pane does not send the user to check the URL.
        let silent = || {
            format!(
                "no answer from {} within {}s for {what}",
                self.base,
                TIMEOUT.as_secs()
            )
        };
        let resp = req.send().await.map_err(|e| {
            if e.is_timeout() {
                silent()
            } else {
                // The URL is the gateway's, said once; the path adds nothing.
                format!("cannot reach {}: {}", self.base, one_line(&e.without_url()))
            }
        })?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| {
            if e.is_timeout() {
                silent()
            } else {
                format!(
                    "{what}: reading the reply from {}: {}",
                    self.base,
                    one_line(&e)
                )
            }
        })?;
        if matches!(status.as_u16(), 401 | 403) {
            // Never echo the token; the gateway's own words say why.
            let why = match serde_json::from_str::<ErrorBody>(&text) {
                Ok(b) if !b.message.is_empty() => b.message,
                _ if text.trim().is_empty() => "no reason given".into(),
                _ => text.split_whitespace().collect::<Vec<_>>().join(" "),
            };
            let hint = if self.token.is_some() {
                ""
            } else {
                "; no token was sent (pass --portworx-token-file)"
            };
            return Err(format!(
                "token refused (HTTP {}) by {} for {what}: {why}{hint}",
                status.as_u16(),
                self.base
            ));
        }
        if !status.is_success() {
            return Err(match serde_json::from_str::<ErrorBody>(&text) {
                Ok(b) if !b.message.is_empty() => format!(
                    "{what}: {} (HTTP {}, gRPC code {})",
                    b.message,
                    status.as_u16(),
                    b.code
                ),
                _ => format!(
                    "{what}: HTTP {} {} from {} (is this the SDK REST gateway?)",
                    status.as_u16(),
                    text.trim(),
                    self.base
                ),
            });
        }
        serde_json::from_str(&text).map_err(|e| {
            format!(
                "{what}: unreadable reply from {} (not the SDK's JSON: {e})",
                self.base
            )
        })
    }

    pub async fn cluster(&self) -> Result<ClusterInfo, String> {
        let r: ClusterReply = self
            .call(
                self.http
                    .get(format!("{}/v1/clusters/inspectcurrent", self.base)),
                "cluster",
            )
            .await?;
        Ok(r.cluster)
    }

    pub async fn volumes(&self) -> Result<InspectAll, String> {
        let req = self
            .http
            .post(format!("{}/v1/volumes/inspectwithfilters", self.base))
            .json(&serde_json::json!({}));
        self.call(req, "volumes").await
    }

    /// Every storage node; a failure here must not hide the volumes.
    pub async fn nodes(&self) -> Result<NodesReply, String> {
        self.call(
            self.http.get(format!("{}/v1/nodes/filters", self.base)),
            "nodes",
        )
        .await
    }

    /// The cluster, its nodes (or why not) and its volumes.
    pub async fn poll(&self) -> Result<StorageData, String> {
        let (cv, nodes) = tokio::join!(
            async { tokio::try_join!(self.cluster(), self.volumes()) },
            self.nodes()
        );
        let (c, v) = cv?;
        // Without nodes, replicas and attachments show as ids.
        let volumes = match &nodes {
            Ok(n) => volume_rows(v, n),
            Err(_) => volume_rows(v, &NodesReply::default()),
        };
        Ok(StorageData {
            cluster: PxCluster {
                name: c.name,
                status: short(&c.status, "STATUS_", "STATUS_NONE"),
            },
            nodes: nodes.map(node_rows),
            volumes,
        })
    }

    pub async fn snapshot_state(&self) -> Result<(PxCluster, Vec<VolumeRow>), String> {
        let d = self.poll().await?;
        Ok((d.cluster, d.volumes))
    }
}

/// One poll's result.
#[derive(Debug)]
pub struct StorageData {
    pub cluster: PxCluster,
    pub nodes: Result<Vec<PxNode>, String>,
    pub volumes: Vec<VolumeRow>,
}

/// Starts the poller; `refresh` asks for a poll now. What is not configured (the URL,
/// the token) is looked up in the cluster, again every 30 s or on refresh until found;
/// the receiver holds the client found, or why none, for the executor's restores.
pub fn spawn(
    url: Option<String>,
    token: Result<Option<Secret>, String>,
    find: Find,
    tx: Sender<Msg>,
) -> (Arc<Notify>, watch::Receiver<Result<PxClient, String>>) {
    let refresh = Arc::new(Notify::new());
    let wake = refresh.clone();
    let (found_tx, found_rx) =
        watch::channel(Err("Portworx: still looking for the gateway".into()));
    tokio::spawn(async move {
        let client = loop {
            let found = match &token {
                Ok(t) => find.client(url.as_deref(), t.clone()).await,
                Err(e) => Err(e.clone()),
            };
            let _ = found_tx.send(found.clone());
            match found {
                Ok(c) => break c,
                Err(e) => {
                    if tx
                        .send(Msg::Storage(StorageEvent::Failed(e)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    // An unreadable token file does not fix itself; a missing Service may.
                    if token.is_err() {
                        return;
                    }
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        };
        loop {
            let ev = match client.poll().await {
                Ok(d) => StorageEvent::Data {
                    cluster: d.cluster,
                    nodes: d.nodes,
                    volumes: d.volumes,
                },
                Err(e) => StorageEvent::Failed(e),
            };
            if tx.send(Msg::Storage(ev)).await.is_err() {
                return;
            }
            tokio::select! {
                _ = wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    });
    (refresh, found_rx)
}
