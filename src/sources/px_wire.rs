//! The OpenStorage SDK gateway's JSON and its conversion to storage-pane rows.
//! Wire rules: proto names (some capitalised), int64 as strings, zero values omitted.
use crate::app::state::{Consumer, PxNode, PxPool, PxSnapshot, VolumeRow};
use serde::{Deserialize, Deserializer};
use std::collections::HashMap;

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
pub struct VolumeConsumer {
    pub name: String,
    pub namespace: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub node_id: String,
    pub owner_name: String,
    pub owner_type: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Volume {
    pub id: String,
    pub source: Source,
    pub readonly: bool,
    pub locator: Locator,
    pub ctime: String,
    pub spec: VolumeSpec,
    #[serde(deserialize_with = "int64")]
    pub usage: i64,
    pub status: String,
    pub state: String,
    pub attached_on: String,
    pub replica_sets: Vec<ReplicaSet>,
    pub volume_consumers: Vec<VolumeConsumer>,
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

/// A pool: these proto field names are capitalised on the wire.
#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct Pool {
    #[serde(rename = "ID", deserialize_with = "int64")]
    pub id: i64,
    #[serde(rename = "Cos")]
    pub cos: String,
    #[serde(rename = "Medium")]
    pub medium: String,
    #[serde(rename = "TotalSize", deserialize_with = "int64")]
    pub total_size: i64,
    #[serde(rename = "Used", deserialize_with = "int64")]
    pub used: i64,
    pub uuid: String,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct StorageNode {
    pub id: String,
    pub status: String,
    pub hostname: String,
    pub scheduler_node_name: String,
    pub mgmt_ip: String,
    pub data_ip: String,
    pub pools: Vec<Pool>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct NodesReply {
    pub nodes: Vec<StorageNode>,
}

#[derive(Deserialize, Default, Debug)]
#[serde(default)]
pub struct ErrorBody {
    pub message: String,
    pub code: i32,
}

/// An enum name without its prefix; the zero value when omitted.
pub fn short(v: &str, prefix: &str, zero: &str) -> String {
    let v = if v.is_empty() { zero } else { v };
    v.strip_prefix(prefix).unwrap_or(v).to_string()
}

/// RFC 3339 to unix seconds; 0 when absent or unreadable.
fn unix(t: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(t).map_or(0, |t| t.timestamp())
}

pub fn node_rows(reply: NodesReply) -> Vec<PxNode> {
    let mut nodes: Vec<PxNode> = reply
        .nodes
        .into_iter()
        .map(|n| PxNode {
            name: node_name(&n),
            status: short(&n.status, "STATUS_", "STATUS_NONE"),
            pools: n
                .pools
                .into_iter()
                .map(|p| PxPool {
                    id: p.id,
                    uuid: p.uuid,
                    medium: short(&p.medium, "STORAGE_MEDIUM_", "STORAGE_MEDIUM_MAGNETIC"),
                    total: p.total_size.max(0) as u64,
                    used: p.used.max(0) as u64,
                })
                .collect(),
            id: n.id,
        })
        .collect();
    nodes.sort_by(|a, b| a.name.cmp(&b.name));
    nodes
}

/// The Kubernetes node name when known, else the hostname, else the id.
fn node_name(n: &StorageNode) -> String {
    [&n.scheduler_node_name, &n.hostname, &n.id]
        .into_iter()
        .find(|s| !s.is_empty())
        .cloned()
        .unwrap_or_default()
}

/// Node id or IP → node name: `attached_on` may hold either.
fn node_names(wire: &NodesReply) -> HashMap<String, String> {
    let mut names = HashMap::new();
    for n in &wire.nodes {
        let name = node_name(n);
        for key in [&n.mgmt_ip, &n.data_ip, &n.id] {
            if !key.is_empty() {
                names.insert(key.clone(), name.clone());
            }
        }
    }
    names
}

/// Rows for the storage pane: volumes, not snapshots, each with its snapshots, replica
/// and attachment nodes by name (`nodes` may be empty: ids are shown then).
pub fn volume_rows(all: InspectAll, nodes: &NodesReply) -> Vec<VolumeRow> {
    let names = node_names(nodes);
    let name_of = |id: &str| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut snaps: HashMap<String, Vec<PxSnapshot>> = HashMap::new();
    for v in all.volumes.iter().filter(|v| v.volume.readonly) {
        let s = &v.volume;
        snaps
            .entry(s.source.parent.clone())
            .or_default()
            .push(PxSnapshot {
                id: s.id.clone(),
                name: if s.locator.name.is_empty() {
                    v.name.clone()
                } else {
                    s.locator.name.clone()
                },
                created: unix(&s.ctime),
                usage: s.usage.max(0) as u64,
                status: short(&s.status, "VOLUME_STATUS_", "VOLUME_STATUS_NONE"),
            });
    }
    for list in snaps.values_mut() {
        list.sort_by(|a, b| b.created.cmp(&a.created).then(a.name.cmp(&b.name)));
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
            let replica_nodes: Vec<String> = v
                .replica_sets
                .first()
                .map(|r| r.nodes.iter().map(|n| name_of(n)).collect())
                .unwrap_or_default();
            let px_snapshots = snaps.remove(&v.id).unwrap_or_default();
            VolumeRow {
                snapshots: px_snapshots.len(),
                px_snapshots,
                name: if v.locator.name.is_empty() {
                    i.name
                } else {
                    v.locator.name.clone()
                },
                pvc,
                size: v.spec.size.max(0) as u64,
                usage: v.usage.max(0) as u64,
                ha_level: v.spec.ha_level,
                replicas: replica_nodes.len(),
                replica_nodes,
                state: short(&v.state, "VOLUME_STATE_", "VOLUME_STATE_NONE"),
                status: short(&v.status, "VOLUME_STATUS_", "VOLUME_STATUS_NONE"),
                io_profile: short(&v.spec.io_profile, "IO_PROFILE_", "IO_PROFILE_SEQUENTIAL")
                    .to_lowercase(),
                attached_on: if v.attached_on.is_empty() {
                    String::new()
                } else {
                    name_of(&v.attached_on)
                },
                consumers: v
                    .volume_consumers
                    .into_iter()
                    .map(|c| Consumer {
                        owner: match (c.owner_type.is_empty(), c.owner_name.is_empty()) {
                            (_, true) => String::new(),
                            (true, false) => c.owner_name,
                            (false, false) => format!("{}/{}", c.owner_type, c.owner_name),
                        },
                        name: c.name,
                        namespace: c.namespace,
                        kind: c.kind,
                    })
                    .collect(),
                created: unix(&v.ctime),
                error: v.error,
                id: v.id,
            }
        })
        .collect();
    rows.sort_by(|a, b| a.pvc.cmp(&b.pvc).then(a.name.cmp(&b.name)));
    rows
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
        let rows = volume_rows(serde_json::from_str(body).unwrap(), &NodesReply::default());
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

    const NODES: &str = r#"{"nodes":[
      {"id":"n1","status":"STATUS_OK","hostname":"host-1","scheduler_node_name":"worker-1","mgmt_ip":"10.0.0.1","data_ip":"10.1.0.1",
       "cpu":12.5,"mem_total":"34359738368",
       "pools":[{"Cos":"HIGH","Medium":"STORAGE_MEDIUM_SSD","TotalSize":"536870912000","Used":"1073741824","uuid":"n1-pool0"},
                {"ID":"1","TotalSize":"100","Used":"10","uuid":"n1-pool1","last_operation":{"type":"OPERATION_EXPAND","status":"OPERATION_SUCCESSFUL"}}]},
      {"id":"n2","status":"STATUS_STORAGE_DEGRADED","hostname":"host-2"},
      {"id":"n3"}
    ]}"#;

    #[test]
    fn reads_nodes_and_their_capitalised_pool_keys() {
        let nodes = node_rows(serde_json::from_str(NODES).unwrap());
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(
            names,
            ["host-2", "n3", "worker-1"],
            "k8s name, else host, else id"
        );
        let w1 = &nodes[2];
        assert_eq!(w1.status, "OK");
        assert_eq!(w1.pools.len(), 2);
        let p0 = &w1.pools[0];
        assert_eq!((p0.id, p0.medium.as_str()), (0, "SSD"), "ID 0 is omitted");
        assert_eq!((p0.total, p0.used), (500 << 30, 1 << 30));
        assert_eq!(w1.pools[1].medium, "MAGNETIC", "the zero medium is omitted");
        assert_eq!((w1.total(), w1.used()), ((500 << 30) + 100, (1 << 30) + 10));
        assert_eq!(nodes[0].status, "STORAGE_DEGRADED");
        assert_eq!(nodes[1].status, "NONE");
    }

    #[test]
    fn volumes_name_their_nodes_consumers_and_snapshots() {
        let body = r#"{"volumes":[
          {"volume":{"id":"v1","locator":{"name":"pvc-1"},"ctime":"2024-05-01T11:00:00Z",
           "spec":{"size":"100","ha_level":"3"},"usage":"50","attached_on":"10.0.0.1",
           "status":"VOLUME_STATUS_DEGRADED","replica_sets":[{"nodes":["n1","n2"]}],
           "volume_consumers":[{"name":"db-0","namespace":"shop","type":"pod","node_id":"n1","owner_name":"db","owner_type":"StatefulSet"}]}},
          {"volume":{"id":"s1","readonly":true,"source":{"parent":"v1"},"locator":{"name":"snapshot-aa"},
           "ctime":"2024-05-01T10:00:00Z","usage":"7","status":"VOLUME_STATUS_UP"}},
          {"volume":{"id":"s2","readonly":true,"source":{"parent":"v1"},"locator":{"name":"nightly"},
           "ctime":"2024-05-01T11:30:00Z"}},
          {"volume":{"id":"c1","source":{"parent":"v1"},"locator":{"name":"clone"},"replica_sets":[{"nodes":["n9"]}]}}
        ]}"#;
        let nodes: NodesReply = serde_json::from_str(NODES).unwrap();
        let rows = volume_rows(serde_json::from_str(body).unwrap(), &nodes);
        assert_eq!(
            rows.len(),
            2,
            "a writable clone is a volume, not a snapshot"
        );
        let v = rows.iter().find(|r| r.id == "v1").unwrap();
        assert_eq!(v.replica_nodes, ["worker-1", "host-2"]);
        assert_eq!((v.replicas, v.ha_level), (2, 3));
        assert_eq!(v.attached_on, "worker-1", "attached_on may be an IP");
        assert_eq!(v.status, "DEGRADED");
        assert_eq!(v.created, 1_714_561_200);
        assert_eq!(v.consumers.len(), 1);
        let c = &v.consumers[0];
        assert_eq!(
            (
                c.name.as_str(),
                c.namespace.as_str(),
                c.kind.as_str(),
                c.owner.as_str()
            ),
            ("db-0", "shop", "pod", "StatefulSet/db")
        );
        let snaps: Vec<(&str, u64, &str)> = v
            .px_snapshots
            .iter()
            .map(|s| (s.name.as_str(), s.usage, s.status.as_str()))
            .collect();
        assert_eq!(
            snaps,
            [("nightly", 0, "NONE"), ("snapshot-aa", 7, "UP")],
            "newest first"
        );
        assert_eq!(v.snapshots, 2);
        let clone = rows.iter().find(|r| r.id == "c1").unwrap();
        assert_eq!(clone.replica_nodes, ["n9"], "an unknown node keeps its id");
        assert_eq!(clone.attached_on, "");
    }
}
