//! The Portworx source: the OpenStorage SDK REST gateway, polled every 5 s (it has no
//! watch over REST). Wire rules: proto names, int64 as strings, zero values omitted.
use super::kube::one_line;
pub use super::px_wire::{ClusterInfo, InspectAll, NodesReply, node_rows, volume_rows};
use super::px_wire::{ClusterReply, ErrorBody, short};
use crate::app::Msg;
use crate::app::msg::StorageEvent;
use crate::app::state::{PxCluster, PxNode, VolumeRow};
use crate::config::Secret;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::mpsc::Sender;

const POLL: Duration = Duration::from_secs(5);

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
    refresh
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const TOKEN: &str = "eyJhbGciOiJIUzI1NiJ9.secret-part.sig";

    /// Reads one request (headers and body) and returns its path.
    async fn read_request(sock: &mut tokio::net::TcpStream) -> String {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap_or(0);
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if n == 0 || buf.len() >= end + 4 + len {
                    return text.split_whitespace().nth(1).unwrap_or("").to_string();
                }
            } else if n == 0 {
                return String::new();
            }
        }
    }

    /// A gateway on a free local port answering each path with a status and a body.
    async fn gateway(routes: &[(&'static str, u16, &'static str)]) -> String {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let routes = routes.to_vec();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = l.accept().await {
                let path = read_request(&mut sock).await;
                let (code, body) = routes
                    .iter()
                    .find(|r| r.0 == path)
                    .map_or((404, "Not Found"), |r| (r.1, r.2));
                let resp = format!(
                    "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = sock.write_all(resp.as_bytes()).await;
            }
        });
        format!("http://{addr}")
    }

    const CLUSTER: &str = r#"{"cluster":{"status":"STATUS_OK","id":"u","name":"px-sim"}}"#;
    const VOLUMES: &str = r#"{"volumes":[{"volume":{"id":"v1","spec":{"ha_level":"2"},"status":"VOLUME_STATUS_UP","replica_sets":[{"nodes":["n1","n2"]}]}}]}"#;
    const NODES: &str =
        r#"{"nodes":[{"id":"n1","status":"STATUS_OK","scheduler_node_name":"worker-1"}]}"#;

    fn client(base: &str) -> PxClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        PxClient::new(base, Some(Secret::new(TOKEN))).unwrap()
    }

    #[tokio::test]
    async fn a_poll_joins_nodes_and_a_failing_node_call_keeps_the_volumes() {
        let base = gateway(&[
            ("/v1/clusters/inspectcurrent", 200, CLUSTER),
            ("/v1/volumes/inspectwithfilters", 200, VOLUMES),
            ("/v1/nodes/filters", 200, NODES),
        ])
        .await;
        let d = client(&base).poll().await.unwrap();
        assert_eq!(d.cluster.status, "OK");
        assert_eq!(d.nodes.unwrap()[0].name, "worker-1");
        assert_eq!(d.volumes[0].replica_nodes, ["worker-1", "n2"]);

        let denied = r#"{"error":"Access denied","code":7,"message":"Access denied to nodes"}"#;
        let base = gateway(&[
            ("/v1/clusters/inspectcurrent", 200, CLUSTER),
            ("/v1/volumes/inspectwithfilters", 200, VOLUMES),
            ("/v1/nodes/filters", 403, denied),
        ])
        .await;
        let d = client(&base).poll().await.unwrap();
        assert_eq!(d.volumes.len(), 1, "volumes survive the node error");
        let e = d.nodes.unwrap_err();
        assert!(e.starts_with("token refused (HTTP 403)"), "{e}");
        assert!(e.contains("Access denied to nodes"), "{e}");
    }

    #[tokio::test]
    async fn a_refused_token_and_an_unreachable_gateway_are_told_apart() {
        let unauth =
            r#"{"error":"bad token","code":16,"message":"Access denied: token is invalid"}"#;
        let base = gateway(&[
            ("/v1/clusters/inspectcurrent", 401, unauth),
            ("/v1/volumes/inspectwithfilters", 401, unauth),
            ("/v1/nodes/filters", 401, unauth),
        ])
        .await;
        let e = client(&base).poll().await.unwrap_err();
        assert!(e.starts_with("token refused (HTTP 401)"), "{e}");
        assert!(e.contains("token is invalid") && e.contains(&base), "{e}");
        assert!(!e.contains("secret-part"), "the token is never shown: {e}");
        let none = PxClient::new(&base, None)
            .unwrap()
            .poll()
            .await
            .unwrap_err();
        assert!(
            none.starts_with("token refused (HTTP 401)") && none.contains("no token was sent"),
            "{none}"
        );
        // A closed port: cannot reach, not a token problem.
        let closed = {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            format!("http://{}", l.local_addr().unwrap())
        };
        let e = client(&closed).poll().await.unwrap_err();
        assert!(e.starts_with(&format!("cannot reach {closed}")), "{e}");
        assert!(!e.contains("token"), "{e}");
    }
}
