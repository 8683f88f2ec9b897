//! The simulated cluster: nodes, volumes, snapshots, clones and restores.
use super::faults::Faults;
use super::wire::{int64, omit_defaults};
use axum::body::Bytes;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// gRPC status codes the gateway turns into HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Canceled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
}

impl Code {
    /// grpc-gateway's mapping (runtime.HTTPStatusFromCode).
    pub fn http_status(self) -> u16 {
        match self {
            Code::Canceled => 408,
            Code::Unknown | Code::Internal | Code::DataLoss => 500,
            Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => 400,
            Code::DeadlineExceeded => 504,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::Aborted => 409,
            Code::PermissionDenied => 403,
            Code::ResourceExhausted => 429,
            Code::Unimplemented => 501,
            Code::Unavailable => 503,
            Code::Unauthenticated => 401,
        }
    }

    pub fn from_i64(n: i64) -> Option<Code> {
        use Code::*;
        const ALL: [Code; 16] = [
            Canceled,
            Unknown,
            InvalidArgument,
            DeadlineExceeded,
            NotFound,
            AlreadyExists,
            PermissionDenied,
            ResourceExhausted,
            FailedPrecondition,
            Aborted,
            OutOfRange,
            Unimplemented,
            Internal,
            Unavailable,
            DataLoss,
            Unauthenticated,
        ];
        ALL.into_iter().find(|c| *c as i64 == n)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SdkError {
    pub code: Code,
    pub message: String,
}

pub fn err(code: Code, message: impl Into<String>) -> SdkError {
    SdkError {
        code,
        message: message.into(),
    }
}

pub type SdkResult = Result<Value, SdkError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Available,
    Attached,
    Detached,
    Restore,
}

impl State {
    pub fn wire(self) -> &'static str {
        match self {
            State::Available => "VOLUME_STATE_AVAILABLE",
            State::Attached => "VOLUME_STATE_ATTACHED",
            State::Detached => "VOLUME_STATE_DETACHED",
            State::Restore => "VOLUME_STATE_RESTORE",
        }
    }
    pub fn number(self) -> i32 {
        match self {
            State::Available => 2,
            State::Attached => 3,
            State::Detached => 4,
            State::Restore => 9,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Volume {
    pub id: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub size: u64,
    pub ha_level: i64,
    pub cos: String,
    pub io_profile: String,
    pub format: String,
    pub replica_nodes: Vec<String>,
    pub ctime: DateTime<Utc>,
    pub readonly: bool,
    pub parent: Option<String>,
    pub state: State,
    pub attached_on: Option<String>,
    pub attach_time: Option<DateTime<Utc>>,
    pub detach_time: Option<DateTime<Utc>>,
    pub restore_until: Option<Instant>,
    /// The content a test wrote through /sim/volumes/{id}/data; snapshots and clones
    /// copy it, a restore replaces it when the restore finishes.
    pub data: Bytes,
    /// The snapshot's content, taken when the restore began, applied when it ends.
    pub restore_data: Option<Bytes>,
    /// A stable per-volume number that shapes its simulated usage and IO.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct Node {
    pub id: String,
    pub name: String,
    pub ip: String,
}

pub struct Cluster {
    pub id: String,
    pub name: String,
    pub nodes: Vec<Node>,
    pub volumes: BTreeMap<String, Volume>,
    pub restore_time: Duration,
    pub faults: Faults,
    next: u64,
}

/// The most content a simulated volume keeps, so a test cannot exhaust memory.
pub const MAX_DATA: usize = 16 << 20;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn uuid_from(seed: u64) -> String {
    let a = splitmix(seed);
    let b = splitmix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 52,
        b & 0xffff_ffff_ffff
    )
}

impl Cluster {
    pub fn new(name: &str, node_names: &[String], seed: u64, restore_time: Duration) -> Self {
        let nodes = node_names
            .iter()
            .enumerate()
            .map(|(i, n)| Node {
                id: uuid_from(seed + 100 + i as u64),
                name: n.clone(),
                ip: format!("192.0.2.{}", 11 + i),
            })
            .collect();
        Cluster {
            id: uuid_from(seed),
            name: name.to_string(),
            nodes,
            volumes: BTreeMap::new(),
            restore_time,
            faults: Faults::default(),
            next: seed,
        }
    }

    fn new_id(&mut self) -> (String, u64) {
        self.next = splitmix(self.next);
        // Portworx volume ids are decimal uint64s of 18 or 19 digits.
        let id = self.next % 9_000_000_000_000_000_000 + 100_000_000_000_000_000;
        (id.to_string(), self.next)
    }

    /// Moves volumes whose restore has finished back to detached.
    pub fn tick(&mut self, now: Instant) {
        for v in self.volumes.values_mut() {
            if v.restore_until.is_some_and(|t| t <= now) {
                v.restore_until = None;
                v.state = State::Detached;
                if let Some(d) = v.restore_data.take() {
                    v.data = d;
                }
            }
        }
    }

    fn get(&self, id: &str) -> Result<&Volume, SdkError> {
        if id.is_empty() {
            return Err(err(Code::InvalidArgument, "Must supply volume id"));
        }
        self.volumes
            .get(id)
            .ok_or_else(|| err(Code::NotFound, format!("Volume id {id} not found")))
    }

    fn get_mut(&mut self, id: &str) -> Result<&mut Volume, SdkError> {
        self.get(id)?;
        Ok(self.volumes.get_mut(id).expect("checked above"))
    }

    pub fn create(
        &mut self,
        name: &str,
        spec: &Value,
        labels: BTreeMap<String, String>,
    ) -> SdkResult {
        use super::wire::read_i64;
        if name.is_empty() {
            return Err(err(Code::InvalidArgument, "Must supply a unique name"));
        }
        if let Some(v) = self.volumes.values().find(|v| v.name == name) {
            return Ok(json!({ "volume_id": v.id }));
        }
        let size = read_i64(spec.get("size")) as u64;
        if size == 0 {
            return Err(err(Code::InvalidArgument, "Must supply a volume size"));
        }
        let ha_level = read_i64(spec.get("ha_level").or_else(|| spec.get("haLevel"))).clamp(1, 3);
        let (id, seed) = self.new_id();
        let start = (seed % self.nodes.len().max(1) as u64) as usize;
        let replica_nodes = (0..ha_level as usize)
            .map(|i| self.nodes[(start + i) % self.nodes.len()].id.clone())
            .collect();
        let text = |k: &str, d: &str| spec.get(k).and_then(Value::as_str).unwrap_or(d).to_string();
        let vol = Volume {
            id: id.clone(),
            name: name.to_string(),
            labels,
            size,
            ha_level,
            cos: text("cos", "NONE"),
            io_profile: text("io_profile", "IO_PROFILE_SEQUENTIAL"),
            format: text("format", "FS_TYPE_EXT4"),
            replica_nodes,
            ctime: Utc::now(),
            readonly: false,
            parent: None,
            state: State::Detached,
            attached_on: None,
            attach_time: None,
            detach_time: None,
            restore_until: None,
            data: Bytes::new(),
            restore_data: None,
            seed,
        };
        self.volumes.insert(id.clone(), vol);
        Ok(json!({ "volume_id": id }))
    }

    fn copy_of(
        &mut self,
        parent: &str,
        name: &str,
        labels: BTreeMap<String, String>,
        readonly: bool,
    ) -> Result<String, SdkError> {
        let p = self.get(parent)?.clone();
        if self.volumes.values().any(|v| v.name == name) {
            return Err(err(
                Code::AlreadyExists,
                format!("Volume with name {name} already exists"),
            ));
        }
        let (id, seed) = self.new_id();
        // A snapshot or clone keeps the parent's labels except pvc and namespace.
        let mut all: BTreeMap<_, _> = p
            .labels
            .into_iter()
            .filter(|(k, _)| k != "pvc" && k != "namespace")
            .collect();
        all.extend(labels);
        let vol = Volume {
            id: id.clone(),
            name: name.to_string(),
            labels: all,
            ctime: Utc::now(),
            readonly,
            parent: Some(parent.to_string()),
            state: State::Detached,
            attached_on: None,
            attach_time: None,
            detach_time: None,
            restore_until: None,
            restore_data: None,
            seed,
            ..p
        };
        self.volumes.insert(id.clone(), vol);
        Ok(id)
    }

    pub fn snapshot(
        &mut self,
        volume_id: &str,
        name: &str,
        labels: BTreeMap<String, String>,
    ) -> SdkResult {
        if name.is_empty() {
            return Err(err(
                Code::InvalidArgument,
                "Name for snapshot must be provided",
            ));
        }
        let id = self.copy_of(volume_id, name, labels, true)?;
        Ok(json!({ "snapshot_id": id }))
    }

    pub fn clone_volume(
        &mut self,
        parent: &str,
        name: &str,
        labels: BTreeMap<String, String>,
    ) -> SdkResult {
        if name.is_empty() {
            return Err(err(Code::InvalidArgument, "Must supply a unique name"));
        }
        if parent.is_empty() {
            return Err(err(Code::InvalidArgument, "Must supply a parent volume id"));
        }
        let id = self.copy_of(parent, name, labels, false)?;
        Ok(json!({ "volume_id": id }))
    }

    pub fn restore(&mut self, volume_id: &str, snapshot_id: &str, now: Instant) -> SdkResult {
        if snapshot_id.is_empty() {
            return Err(err(Code::InvalidArgument, "Must supply snapshot id"));
        }
        let snap = self.get(snapshot_id)?.clone();
        let restore_time = self.restore_time;
        let vol = self.get_mut(volume_id)?;
        if snap.parent.as_deref() != Some(volume_id) || !snap.readonly {
            return Err(err(
                Code::InvalidArgument,
                format!("Snapshot {snapshot_id} is not a snapshot of volume {volume_id}"),
            ));
        }
        if let Some(node) = &vol.attached_on {
            return Err(err(
                Code::FailedPrecondition,
                format!(
                    "Volume {volume_id} is attached on {node}: detach it before restoring from a snapshot"
                ),
            ));
        }
        if vol.state == State::Restore {
            return Err(err(
                Code::FailedPrecondition,
                format!("Volume {volume_id} is already being restored"),
            ));
        }
        vol.state = State::Restore;
        vol.restore_until = Some(now + restore_time);
        vol.restore_data = Some(snap.data);
        Ok(json!({}))
    }

    /// Replaces a volume's content, as an application writing to it would.
    pub fn write_data(&mut self, volume_id: &str, data: Bytes) -> Result<(), SdkError> {
        let vol = self.get_mut(volume_id)?;
        if vol.readonly {
            return Err(err(
                Code::FailedPrecondition,
                format!("Volume {volume_id} is a snapshot and is read-only"),
            ));
        }
        if vol.state == State::Restore {
            return Err(err(
                Code::FailedPrecondition,
                format!(
                    "Volume {volume_id} is being restored: wait until its state leaves VOLUME_STATE_RESTORE"
                ),
            ));
        }
        if data.len() > MAX_DATA {
            return Err(err(
                Code::ResourceExhausted,
                format!(
                    "Volume data of {} bytes exceeds the simulator's limit of {MAX_DATA} bytes",
                    data.len()
                ),
            ));
        }
        vol.data = data;
        Ok(())
    }

    /// A volume's content; during a restore, the content from before it.
    pub fn read_data(&self, volume_id: &str) -> Result<Bytes, SdkError> {
        Ok(self.get(volume_id)?.data.clone())
    }

    pub fn delete(&mut self, volume_id: &str) -> SdkResult {
        if volume_id.is_empty() {
            return Err(err(Code::InvalidArgument, "Must supply volume id"));
        }
        if let Some(v) = self.volumes.get(volume_id) {
            if let Some(node) = &v.attached_on {
                return Err(err(
                    Code::FailedPrecondition,
                    format!("Volume {volume_id} is attached on {node}"),
                ));
            }
            self.volumes.remove(volume_id);
        }
        Ok(json!({}))
    }

    pub fn attach(&mut self, volume_id: &str, node: &str) -> SdkResult {
        let node_id = self
            .node_id(node)
            .unwrap_or_else(|| self.nodes[0].id.clone());
        let vol = self.get_mut(volume_id)?;
        if vol.readonly {
            return Err(err(
                Code::FailedPrecondition,
                format!("Volume {volume_id} is a snapshot and cannot be attached"),
            ));
        }
        if vol.state == State::Restore {
            return Err(err(
                Code::FailedPrecondition,
                format!("Volume {volume_id} is being restored"),
            ));
        }
        if vol.attached_on.as_deref().is_some_and(|n| n != node_id) {
            return Err(err(
                Code::FailedPrecondition,
                format!("Volume {volume_id} is attached on another node"),
            ));
        }
        vol.state = State::Attached;
        vol.attached_on = Some(node_id);
        vol.attach_time = Some(Utc::now());
        Ok(json!({ "device_path": format!("/dev/pxd/pxd{volume_id}") }))
    }

    /// Keeps `count` of a volume's replicas, as when nodes holding the others fail; fewer
    /// than its HA level makes it degraded. Up to the HA level brings them back.
    pub fn set_replicas(&mut self, volume_id: &str, count: usize) -> SdkResult {
        let nodes: Vec<String> = self.nodes.iter().map(|n| n.id.clone()).collect();
        let vol = self.get_mut(volume_id)?;
        if count == 0 || count > nodes.len() || count as i64 > vol.ha_level {
            return Err(err(
                Code::InvalidArgument,
                format!(
                    "replica count must be between 1 and the HA level {} (and at most {} nodes)",
                    vol.ha_level,
                    nodes.len()
                ),
            ));
        }
        vol.replica_nodes = nodes.into_iter().take(count).collect();
        Ok(json!({ "volume_id": volume_id, "replicas": count }))
    }

    pub fn detach(&mut self, volume_id: &str) -> SdkResult {
        let vol = self.get_mut(volume_id)?;
        if vol.attached_on.take().is_some() {
            vol.state = State::Detached;
            vol.detach_time = Some(Utc::now());
        }
        Ok(json!({}))
    }

    fn node_id(&self, name_or_id: &str) -> Option<String> {
        self.nodes
            .iter()
            .find(|n| n.id == name_or_id || n.name == name_or_id)
            .map(|n| n.id.clone())
    }

    pub fn node_name(&self, id: &str) -> &str {
        self.nodes
            .iter()
            .find(|n| n.id == id)
            .map(|n| n.name.as_str())
            .unwrap_or("")
    }

    /// Simulated used bytes at a time: between 15 % and 60 % of the size, growing slowly.
    pub fn usage_at(v: &Volume, t: i64) -> u64 {
        let base = 0.15 + (v.seed % 30) as f64 / 100.0;
        let growth = ((t - 1_700_000_000) as f64 / 86_400.0 * 0.002).rem_euclid(0.15);
        (v.size as f64 * (base + growth)) as u64 & !4095
    }

    pub fn volume_json(&self, v: &Volume) -> Value {
        let now = Utc::now().timestamp();
        let replica = json!({ "nodes": v.replica_nodes });
        let attached = v.attached_on.is_some();
        omit_defaults(json!({
            "id": v.id,
            "source": { "parent": v.parent },
            "readonly": v.readonly,
            "locator": { "name": v.name, "volume_labels": v.labels },
            "ctime": rfc3339(v.ctime),
            "spec": {
                "size": int64(v.size),
                "format": v.format,
                "block_size": int64(4096),
                "ha_level": int64(v.ha_level),
                "cos": if v.cos == "NONE" { Value::Null } else { json!(v.cos) },
                "io_profile": if v.io_profile == "IO_PROFILE_SEQUENTIAL" { Value::Null } else { json!(v.io_profile) },
                "replica_set": replica,
                "aggregation_level": 1,
            },
            "usage": int64(Self::usage_at(v, now)),
            "format": v.format,
            "status": if (v.replica_nodes.len() as i64) < v.ha_level { "VOLUME_STATUS_DEGRADED" } else { "VOLUME_STATUS_UP" },
            "state": v.state.wire(),
            "attached_on": v.attached_on.as_deref().map(|n| self.nodes.iter().find(|x| x.id == n).map(|x| x.ip.clone())),
            "attached_state": if attached { json!("ATTACH_STATE_INTERNAL") } else { Value::Null },
            "device_path": if attached { json!(format!("/dev/pxd/pxd{}", v.id)) } else { Value::Null },
            "attach_path": if attached { json!([format!("/var/lib/kubelet/pods/{}/mount", v.name)]) } else { json!([]) },
            "attach_time": v.attach_time.map(rfc3339),
            "detach_time": v.detach_time.map(rfc3339),
            "replica_sets": [replica],
            "last_scan": rfc3339(v.ctime),
        }))
    }

    pub fn inspect(&self, id: &str) -> SdkResult {
        let v = self.get(id)?;
        Ok(json!({ "volume": self.volume_json(v), "name": v.name, "labels": v.labels }))
            .map(omit_defaults)
    }

    /// Volumes matching a name and labels; `visible` decides what the caller may read.
    pub fn matching<'a>(
        &'a self,
        body: &Value,
        visible: impl Fn(&Volume) -> bool + 'a,
    ) -> impl Iterator<Item = &'a Volume> + 'a {
        let name = super::wire::read_str(body, "name").to_string();
        let labels = super::wire::read_labels(body.get("labels"));
        self.volumes.values().filter(move |v| {
            (name.is_empty() || v.name == name)
                && labels.iter().all(|(k, val)| v.labels.get(k) == Some(val))
                && visible(v)
        })
    }

    pub fn snapshots_of<'a>(&'a self, parent: &'a str) -> impl Iterator<Item = &'a Volume> + 'a {
        self.volumes
            .values()
            .filter(move |v| v.readonly && v.parent.as_deref() == Some(parent))
    }

    pub fn node_json(&self, n: &Node) -> Value {
        let gib = 1u64 << 30;
        let used: u64 = self
            .volumes
            .values()
            .filter(|v| v.replica_nodes.contains(&n.id))
            .map(|v| Self::usage_at(v, Utc::now().timestamp()))
            .sum();
        omit_defaults(json!({
            "id": n.id,
            "status": "STATUS_OK",
            "hostname": n.name,
            "scheduler_node_name": n.name,
            "mgmt_ip": n.ip,
            "data_ip": n.ip,
            "cpu": 12.5,
            "cpu_cores": int64(8),
            "mem_total": int64(32 * gib),
            "mem_used": int64(11 * gib),
            "mem_free": int64(21 * gib),
            "pools": [{ "ID": 0, "Cos": "HIGH", "Medium": "STORAGE_MEDIUM_SSD", "TotalSize": int64(500 * gib), "Used": int64(used), "uuid": format!("{}-pool0", n.id) }],
            "node_labels": { "kubernetes.io/hostname": n.name },
            "HWType": "VirtualMachine",
            "security_status": "SECURED",
        }))
    }

    pub fn cluster_json(&self) -> Value {
        json!({ "cluster": { "status": "STATUS_OK", "id": self.id, "name": self.name } })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> Cluster {
        let nodes: Vec<String> = ["n1", "n2", "n3"].iter().map(|s| s.to_string()).collect();
        Cluster::new("t", &nodes, 7, Duration::from_secs(5))
    }

    fn create(c: &mut Cluster, name: &str) -> String {
        let spec = json!({"size": "1073741824", "ha_level": "3", "io_profile": "IO_PROFILE_DB", "cos": "HIGH"});
        let labels = [("pvc", "data-db-0"), ("namespace", "shop"), ("repl", "3")]
            .map(|(a, b)| (a.to_string(), b.to_string()));
        c.create(name, &spec, labels.into_iter().collect()).unwrap()["volume_id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    #[test]
    fn inspect_uses_wire_rules() {
        let mut c = cluster();
        let id = create(&mut c, "pvc-1");
        let v = c.inspect(&id).unwrap();
        assert_eq!(v["volume"]["spec"]["size"], "1073741824");
        assert_eq!(v["volume"]["spec"]["ha_level"], "3");
        assert_eq!(v["volume"]["state"], "VOLUME_STATE_DETACHED");
        assert_eq!(
            v["volume"]["replica_sets"][0]["nodes"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        assert!(v["volume"].get("readonly").is_none(), "false is omitted");
        assert_eq!(v["labels"]["pvc"], "data-db-0");
        assert!(id.len() >= 18 && id.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn snapshot_drops_pvc_labels_and_restore_is_async() {
        let mut c = cluster();
        let id = create(&mut c, "pvc-1");
        let snap = c.snapshot(&id, "s1", BTreeMap::new()).unwrap()["snapshot_id"]
            .as_str()
            .unwrap()
            .to_string();
        let s = &c.volumes[&snap];
        assert!(s.readonly && !s.labels.contains_key("pvc") && s.labels["repl"] == "3");
        c.attach(&id, "n1").unwrap();
        let refused = c.restore(&id, &snap, Instant::now()).unwrap_err();
        assert_eq!(refused.code, Code::FailedPrecondition);
        c.detach(&id).unwrap();
        let t0 = Instant::now();
        c.restore(&id, &snap, t0).unwrap();
        assert_eq!(c.volumes[&id].state, State::Restore);
        c.tick(t0 + Duration::from_secs(1));
        assert_eq!(c.volumes[&id].state, State::Restore);
        c.tick(t0 + Duration::from_secs(6));
        assert_eq!(c.volumes[&id].state, State::Detached);
    }

    #[test]
    fn errors_name_the_volume() {
        let mut c = cluster();
        let e = c.inspect("42").unwrap_err();
        assert_eq!(
            (e.code, e.message.as_str()),
            (Code::NotFound, "Volume id 42 not found")
        );
        assert_eq!(c.inspect("").unwrap_err().code, Code::InvalidArgument);
        assert_eq!(
            c.snapshot("42", "", BTreeMap::new()).unwrap_err().code,
            Code::InvalidArgument
        );
    }
}
