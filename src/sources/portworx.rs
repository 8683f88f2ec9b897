//! The Portworx source: the OpenStorage SDK REST gateway, polled every 5 s (it has no
//! watch over REST). Wire rules: proto names, int64 as strings, zero values omitted.
use super::kube::one_line;
use crate::app::Msg;
use crate::app::msg::StorageEvent;
use crate::app::state::{PxCluster, VolumeRow};
use crate::config::Secret;
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::mpsc::Sender;

const POLL: Duration = Duration::from_secs(5);

/// int64/uint64 arrive as strings; accept numbers too.
fn int64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum N {
        S(String),
        I(i64),
    }
    match N::deserialize(d)? {
        N::S(s) => s.parse().map_err(serde::de::Error::custom),
        N::I(i) => Ok(i),
    }
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct ReplicaSet {
    pub nodes: Vec<String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct VolumeSpec {
    #[serde(deserialize_with = "int64")]
    pub size: i64,
    #[serde(deserialize_with = "int64")]
    pub ha_level: i64,
    pub cos: String,
    pub io_profile: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Source {
    pub parent: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Locator {
    pub name: String,
    pub volume_labels: HashMap<String, String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Volume {
    pub id: String,
    pub source: Source,
    pub readonly: bool,
    pub locator: Locator,
    pub spec: VolumeSpec,
    #[serde(deserialize_with = "int64")]
    pub usage: i64,
    pub status: String,
    pub state: String,
    pub attached_on: String,
    pub replica_sets: Vec<ReplicaSet>,
    pub error: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Inspected {
    pub volume: Volume,
    pub name: String,
    pub labels: HashMap<String, String>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct InspectAll {
    pub volumes: Vec<Inspected>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct ClusterInfo {
    pub status: String,
    pub id: String,
    pub name: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct ClusterReply {
    pub cluster: ClusterInfo,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
struct ErrorBody {
    message: String,
    code: i32,
}

/// An enum name without its prefix; the zero value when omitted.
fn short(v: &str, prefix: &str, zero: &str) -> String {
    let v = if v.is_empty() { zero } else { v };
    v.strip_prefix(prefix).unwrap_or(v).to_string()
}

/// Rows for the storage pane: volumes, not snapshots, with their snapshot counts.
pub fn volume_rows(all: InspectAll) -> Vec<VolumeRow> {
    let mut snaps: HashMap<String, usize> = HashMap::new();
    for v in all.volumes.iter().filter(|v| v.volume.readonly) {
        *snaps.entry(v.volume.source.parent.clone()).or_default() += 1;
    }
    let mut rows: Vec<VolumeRow> = all
        .volumes
        .into_iter()
        .filter(|v| !v.volume.readonly)
        .map(|i| {
            let v = i.volume;
            let labels = if i.labels.is_empty() {
                &v.locator.volume_labels
            } else {
                &i.labels
            };
            let pvc = match (labels.get("namespace"), labels.get("pvc")) {
                (Some(ns), Some(p)) => Some((ns.clone(), p.clone())),
                _ => None,
            };
            VolumeRow {
                snapshots: snaps.get(&v.id).copied().unwrap_or(0),
                name: if v.locator.name.is_empty() {
                    i.name
                } else {
                    v.locator.name.clone()
                },
                pvc,
                size: v.spec.size.max(0) as u64,
                usage: v.usage.max(0) as u64,
                ha_level: v.spec.ha_level,
                replicas: v.replica_sets.first().map_or(0, |r| r.nodes.len()),
                state: short(&v.state, "VOLUME_STATE_", "VOLUME_STATE_NONE"),
                status: short(&v.status, "VOLUME_STATUS_", "VOLUME_STATUS_NONE"),
                io_profile: short(&v.spec.io_profile, "IO_PROFILE_", "IO_PROFILE_SEQUENTIAL")
                    .to_lowercase(),
                attached_on: v.attached_on,
                error: v.error,
                id: v.id,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.pvc.cmp(&b.pvc).then(a.name.cmp(&b.name)));
    rows
}

#[derive(Clone)]
pub struct PxClient {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
}

impl PxClient {
    pub fn new(base: &str, token: Option<Secret>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
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

    pub(crate) fn base(&self) -> &str {
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
        let resp = req
            .send()
            .await
            .map_err(|e| format!("cannot reach {}: {}", self.base, one_line(&e)))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| one_line(&e))?;
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
        serde_json::from_str(&text).map_err(|e| format!("{what}: unexpected reply: {e}"))
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

    pub async fn snapshot_state(&self) -> Result<(PxCluster, Vec<VolumeRow>), String> {
        let (c, v) = tokio::try_join!(self.cluster(), self.volumes())?;
        Ok((
            PxCluster {
                name: c.name,
                status: short(&c.status, "STATUS_", "STATUS_NONE"),
            },
            volume_rows(v),
        ))
    }
}

/// Starts the poller; `refresh` asks for a poll now.
pub fn spawn(
    url: Option<String>,
    token: Result<Option<Secret>, String>,
    tx: Sender<Msg>,
) -> Arc<Notify> {
    let refresh = Arc::new(Notify::new());
    let wake = refresh.clone();
    tokio::spawn(async move {
        let Some(url) = url else { return };
        let client = match token.and_then(|t| PxClient::new(&url, t)) {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Msg::Storage(StorageEvent::Failed(e))).await;
                return;
            }
        };
        loop {
            let ev = match client.snapshot_state().await {
                Ok((cluster, volumes)) => StorageEvent::Data { cluster, volumes },
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
    refresh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_wire_format() {
        let body = r#"{"volumes":[
          {"volume":{"id":"1053729316361843580","locator":{"name":"pvc-3c1d","volume_labels":{"pvc":"data-mysql-0","namespace":"db","repl":"3"}},
           "spec":{"size":"21474836480","format":"FS_TYPE_EXT4","block_size":"4096","ha_level":"3","cos":"LOW","io_profile":"IO_PROFILE_DB_REMOTE","replica_set":{"nodes":["n1","n2","n3"]},"aggregation_level":1},
           "usage":"1048576","status":"VOLUME_STATUS_UP","state":"VOLUME_STATE_ATTACHED","replica_sets":[{"nodes":["n1","n2","n3"]}]},
           "name":"pvc-3c1d","labels":{"pvc":"data-mysql-0","namespace":"db"}},
          {"volume":{"id":"9","readonly":true,"source":{"parent":"1053729316361843580"},"spec":{"size":"1"}},"name":"snap"},
          {"volume":{"id":"7","spec":{}},"name":"bare"}
        ]}"#;
        let rows = volume_rows(serde_json::from_str(body).unwrap());
        assert_eq!(rows.len(), 2, "snapshots are counted, not listed");
        let r = rows.iter().find(|r| r.id == "1053729316361843580").unwrap();
        assert_eq!(r.size, 21_474_836_480);
        assert_eq!((r.ha_level, r.replicas, r.snapshots), (3, 3, 1));
        assert_eq!(
            (r.state.as_str(), r.status.as_str(), r.io_profile.as_str()),
            ("ATTACHED", "UP", "db_remote")
        );
        assert_eq!(r.pvc, Some(("db".into(), "data-mysql-0".into())));
        let bare = rows.iter().find(|r| r.id == "7").unwrap();
        assert_eq!(
            (
                bare.state.as_str(),
                bare.status.as_str(),
                bare.io_profile.as_str()
            ),
            ("NONE", "NONE", "sequential")
        );
    }
}
