//! The node agent: plays kubelet and the Portworx CSI driver through the API server,
//! as kwok does. It registers Ready nodes and keeps their leases, runs scheduled pods
//! (marks them Running and Ready, attaching their Portworx volumes), finishes deleted
//! pods, and provisions PVCs of Portworx storage classes as volumes in the simulator.
use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, PersistentVolume, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

pub const PX_DRIVER: &str = "pxd.portworx.com";
/// Set to "false" on a pod to make the agent report it not ready (a failing probe).
pub const READY_ANNOTATION: &str = "testenv.sextant.dev/ready";

#[derive(Clone)]
pub struct Agent {
    pub client: Client,
    pub nodes: Vec<String>,
    pub px: Px,
}

/// A small client for the simulator's SDK gateway, as the CSI driver would call it.
#[derive(Clone)]
pub struct Px {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Px {
    pub(crate) async fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(
            status.is_success(),
            "portworx {path}: {status} {}",
            v["message"]
        );
        Ok(v)
    }
    /// The snapshot `name` of `volume`: the one taken before, or a new one.
    pub(crate) async fn snapshot_once(
        &self,
        volume: &str,
        name: &str,
        labels: Value,
    ) -> anyhow::Result<String> {
        if let Some(id) = self.find(name).await? {
            return Ok(id);
        }
        let body = json!({"volume_id": volume, "name": name, "labels": labels});
        let v = self.post("/v1/volumes/snapshots", body).await?;
        v["snapshot_id"]
            .as_str()
            .map(String::from)
            .ok_or_else(|| anyhow::anyhow!("snapshot create returned no snapshot_id"))
    }

    /// The id of the volume or snapshot called `name`, if there is one.
    pub(crate) async fn find(&self, name: &str) -> anyhow::Result<Option<String>> {
        let v = self
            .post("/v1/volumes/inspectwithfilters", json!({"name": name}))
            .await?;
        Ok(v["volumes"]
            .as_array()
            .and_then(|vs| vs.first())
            .and_then(|v| v["volume"]["id"].as_str())
            .map(String::from))
    }
    pub(crate) async fn inspect(&self, id: &str) -> anyhow::Result<Value> {
        let resp = self
            .http
            .get(format!("{}/v1/volumes/inspect/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        let status = resp.status();
        let v: Value = resp.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(
            status.is_success(),
            "portworx inspect {id}: {status} {}",
            v["message"]
        );
        Ok(v["volume"].clone())
    }
    pub(crate) async fn delete(&self, id: &str) -> anyhow::Result<()> {
        let resp = self
            .http
            .delete(format!("{}/v1/volumes/{id}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await?;
        anyhow::ensure!(
            resp.status().is_success(),
            "portworx delete {id}: {}",
            resp.status()
        );
        Ok(())
    }
}

fn now() -> Time {
    Time(Timestamp::now())
}

impl Agent {
    pub async fn run(self) -> anyhow::Result<()> {
        self.register_nodes().await?;
        tokio::try_join!(
            self.heartbeats(),
            self.pods(),
            self.claims(),
            self.released_volumes(),
            self.snapshots(),
            self.groups()
        )?;
        Ok(())
    }

    async fn register_nodes(&self) -> anyhow::Result<()> {
        let api: Api<Node> = Api::all(self.client.clone());
        for (i, name) in self.nodes.iter().enumerate() {
            let node: Node = serde_json::from_value(json!({
                "metadata": {"name": name, "labels": {
                    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name,
                    "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": "amd64",
                    "topology.kubernetes.io/zone": format!("zone-{}", (b'a' + i as u8 % 3) as char),
                    "node.kubernetes.io/instance-type": "sim.large", "type": "sextant-sim"
                }},
                "spec": {}
            }))?;
            if api.get_opt(name).await?.is_none() {
                api.create(&PostParams::default(), &node)
                    .await
                    .with_context(|| format!("registering node {name}"))?;
            }
            self.node_status(&api, i, name).await?;
        }
        Ok(())
    }

    async fn node_status(&self, api: &Api<Node>, i: usize, name: &str) -> anyhow::Result<()> {
        let t = now();
        let cond = |ty: &str, status: &str, reason: &str| json!({"type": ty, "status": status, "reason": reason, "lastHeartbeatTime": t, "lastTransitionTime": t});
        let resources =
            json!({"cpu": "8", "memory": "32Gi", "pods": "30000", "ephemeral-storage": "200Gi"});
        let status = json!({"status": {
            "capacity": resources, "allocatable": resources,
            "conditions": [
                cond("Ready", "True", "KubeletReady"), cond("MemoryPressure", "False", "KubeletHasSufficientMemory"),
                cond("DiskPressure", "False", "KubeletHasNoDiskPressure"), cond("PIDPressure", "False", "KubeletHasSufficientPID")
            ],
            "addresses": [{"type": "InternalIP", "address": format!("192.0.2.{}", 11 + i)}, {"type": "Hostname", "address": name}],
            "nodeInfo": {"kubeletVersion": "v1.20.2-sim", "kubeProxyVersion": "v1.20.2-sim", "operatingSystem": "linux",
                "architecture": "amd64", "containerRuntimeVersion": "sim://1.0", "osImage": "sextant testenv",
                "kernelVersion": "6.1.0", "machineID": name, "systemUUID": name, "bootID": name},
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}
        }});
        api.patch_status(name, &PatchParams::default(), &Patch::Merge(status))
            .await?;
        Ok(())
    }

    /// Renews node leases every 10 s and node status every 40 s, so the node lifecycle
    /// controller never marks the nodes NotReady.
    async fn heartbeats(&self) -> anyhow::Result<()> {
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let nodes: Api<Node> = Api::all(self.client.clone());
        let mut beat = 0u64;
        loop {
            for (i, name) in self.nodes.iter().enumerate() {
                let spec = json!({"spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": MicroTime(Timestamp::now())}});
                let renewed = match leases.get_opt(name).await {
                    Ok(Some(_)) => leases
                        .patch(name, &PatchParams::default(), &Patch::Merge(&spec))
                        .await
                        .map(|_| ()),
                    Ok(None) => {
                        let mut lease: Lease = serde_json::from_value(spec.clone())?;
                        lease.metadata.name = Some(name.clone());
                        leases
                            .create(&PostParams::default(), &lease)
                            .await
                            .map(|_| ())
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = renewed {
                    tracing::warn!(node = %name, "lease renewal failed: {e}");
                }
                if beat.is_multiple_of(4)
                    && let Err(e) = self.node_status(&nodes, i, name).await
                {
                    tracing::warn!(node = %name, "node status update failed: {e}");
                }
            }
            beat += 1;
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
    }

    async fn pods(&self) -> anyhow::Result<()> {
        let api: Api<Pod> = Api::all(self.client.clone());
        let stream = watcher::watcher(api.clone(), watcher::Config::default()).default_backoff();
        futures::pin_mut!(stream);
        let limit = std::sync::Arc::new(tokio::sync::Semaphore::new(32));
        loop {
            let ev = match stream.next().await {
                Some(Ok(ev)) => ev,
                Some(Err(e)) => {
                    tracing::warn!("pod watch: {e}");
                    continue;
                }
                None => anyhow::bail!("pod watch ended"),
            };
            let pod = match ev {
                Event::Apply(p) | Event::InitApply(p) => p,
                Event::Delete(p) => {
                    self.detach_claims(&p).await;
                    continue;
                }
                _ => continue,
            };
            // Pods are run concurrently, a bounded number at a time, as kubelets on many
            // nodes would; a scale test creates thousands at once.
            let permit = limit.clone().acquire_owned().await?;
            let agent = self.clone();
            tokio::spawn(async move {
                if let Err(e) = agent.run_pod(&pod).await {
                    tracing::warn!(pod = %pod.name_any(), "{e:#}");
                }
                drop(permit);
            });
        }
    }

    async fn run_pod(&self, pod: &Pod) -> anyhow::Result<()> {
        let ns = pod.namespace().unwrap_or_default();
        let name = pod.name_any();
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        if pod.metadata.deletion_timestamp.is_some() {
            // No kubelet confirms termination, so finish the deletion as one would.
            self.detach_claims(pod).await;
            pods.delete(
                &name,
                &DeleteParams {
                    grace_period_seconds: Some(0),
                    ..Default::default()
                },
            )
            .await
            .ok();
            return Ok(());
        }
        let Some(spec) = &pod.spec else { return Ok(()) };
        let Some(node) = &spec.node_name else {
            return Ok(());
        };
        if !self.nodes.contains(node) {
            return Ok(());
        }
        let want = desired_status(pod, node);
        let status = pod.status.clone().unwrap_or_default();
        let ready_now = status
            .conditions
            .unwrap_or_default()
            .iter()
            .any(|c| c.type_ == "Ready" && c.status == "True");
        if status.phase.as_deref() == want["phase"].as_str() && ready_now == (want["ready"] == true)
        {
            return Ok(());
        }
        self.attach_claims(pod, node).await?;
        let mut want = want;
        want.as_object_mut().expect("object").remove("ready");
        pods.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"status": want})),
        )
        .await?;
        Ok(())
    }

    async fn volume_handles(&self, pod: &Pod) -> Vec<String> {
        let ns = pod.namespace().unwrap_or_default();
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &ns);
        let pvs: Api<PersistentVolume> = Api::all(self.client.clone());
        let mut out = Vec::new();
        for v in pod.spec.iter().flat_map(|s| s.volumes.iter().flatten()) {
            let Some(src) = &v.persistent_volume_claim else {
                continue;
            };
            let Ok(Some(pvc)) = claims.get_opt(&src.claim_name).await else {
                continue;
            };
            let Some(pv_name) = pvc.spec.and_then(|s| s.volume_name) else {
                continue;
            };
            let Ok(Some(pv)) = pvs.get_opt(&pv_name).await else {
                continue;
            };
            if let Some(csi) = pv
                .spec
                .and_then(|s| s.csi)
                .filter(|c| c.driver == PX_DRIVER)
            {
                out.push(csi.volume_handle);
            }
        }
        out
    }

    async fn attach_claims(&self, pod: &Pod, node: &str) -> anyhow::Result<()> {
        for id in self.volume_handles(pod).await {
            self.px
                .post(
                    "/v1/mountattach/attach",
                    json!({"volume_id": id, "driver_options": {"node": node}}),
                )
                .await?;
        }
        Ok(())
    }

    async fn detach_claims(&self, pod: &Pod) {
        for id in self.volume_handles(pod).await {
            if let Err(e) = self
                .px
                .post("/v1/mountattach/detach", json!({"volume_id": id}))
                .await
            {
                tracing::warn!("detach {id}: {e}");
            }
        }
    }

    async fn claims(&self) -> anyhow::Result<()> {
        let api: Api<PersistentVolumeClaim> = Api::all(self.client.clone());
        let stream = watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .applied_objects();
        futures::pin_mut!(stream);
        loop {
            match stream.next().await {
                Some(Ok(pvc)) => {
                    if let Err(e) = self.provision(&pvc).await {
                        tracing::warn!(pvc = %pvc.name_any(), "provisioning failed: {e:#}");
                        // A claim from a snapshot that is not ready yet gets no new
                        // event when it becomes ready, so try again for a while.
                        let agent = self.clone();
                        tokio::spawn(async move { agent.retry_provision(pvc).await });
                    }
                }
                Some(Err(e)) => tracing::warn!("pvc watch: {e}"),
                None => anyhow::bail!("pvc watch ended"),
            }
        }
    }

    /// Creates a Portworx volume and a pre-bound PV for a pending claim of a Portworx
    /// class, as external-provisioner and the CSI driver do; the PV controller binds them.
    async fn provision(&self, pvc: &PersistentVolumeClaim) -> anyhow::Result<()> {
        self.provision_claim(pvc).await
    }

    pub(crate) async fn provision_claim(&self, pvc: &PersistentVolumeClaim) -> anyhow::Result<()> {
        let spec = pvc.spec.clone().unwrap_or_default();
        let phase = pvc
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        if phase != "Pending"
            || spec.volume_name.is_some()
            || pvc.metadata.deletion_timestamp.is_some()
        {
            return Ok(());
        }
        let classes: Api<StorageClass> = Api::all(self.client.clone());
        let Some(class_name) = spec.storage_class_name.clone() else {
            return Ok(());
        };
        let Some(class) = classes.get_opt(&class_name).await? else {
            return Ok(());
        };
        if class.provisioner != PX_DRIVER {
            return Ok(());
        }
        let uid = pvc.uid().context("claim without uid")?;
        let pv_name = format!("pvc-{uid}");
        let pvs: Api<PersistentVolume> = Api::all(self.client.clone());
        if pvs.get_opt(&pv_name).await?.is_some() {
            return Ok(());
        }
        let requested = spec
            .resources
            .as_ref()
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage"))
            .map(|q| q.0.clone())
            .unwrap_or_else(|| "1Gi".into());
        let bytes = parse_quantity(&requested)
            .with_context(|| format!("bad storage request {requested}"))?;
        let params = class.parameters.clone().unwrap_or_default();
        let mut labels: BTreeMap<String, String> = params.clone();
        labels.insert("pvc".into(), pvc.name_any());
        labels.insert("namespace".into(), pvc.namespace().unwrap_or_default());
        let id = match crate::snapshotter::snapshot_source(&spec) {
            // A restore as a new claim: a clone of the snapshot, so its content follows.
            Some(snap) => {
                let ns = pvc.namespace().unwrap_or_default();
                self.clone_from_snapshot(&ns, &snap, &pv_name, bytes, &labels)
                    .await?
            }
            None => {
                let created = self
                    .px
                    .post(
                        "/v1/volumes",
                        json!({"name": pv_name, "labels": labels, "spec": volume_spec(bytes, &params)}),
                    )
                    .await?;
                created["volume_id"]
                    .as_str()
                    .context("create returned no volume_id")?
                    .to_string()
            }
        };
        let pv: PersistentVolume = serde_json::from_value(json!({
            "metadata": {"name": pv_name, "annotations": {"pv.kubernetes.io/provisioned-by": PX_DRIVER}, "finalizers": ["kubernetes.io/pv-protection"]},
            "spec": {
                "capacity": {"storage": requested},
                "accessModes": spec.access_modes.clone().unwrap_or_else(|| vec!["ReadWriteOnce".into()]),
                "persistentVolumeReclaimPolicy": class.reclaim_policy.clone().unwrap_or_else(|| "Delete".into()),
                "storageClassName": class_name,
                "volumeMode": spec.volume_mode.clone().unwrap_or_else(|| "Filesystem".into()),
                "claimRef": {"kind": "PersistentVolumeClaim", "apiVersion": "v1", "namespace": pvc.namespace(), "name": pvc.name_any(), "uid": uid},
                "csi": {"driver": PX_DRIVER, "volumeHandle": id, "fsType": "ext4", "volumeAttributes": params}
            }
        }))?;
        pvs.create(&PostParams::default(), &pv).await?;
        tracing::info!(pvc = %pvc.name_any(), volume = %id, "provisioned");
        Ok(())
    }

    /// Deletes released PVs of reclaim policy Delete with their Portworx volume.
    async fn released_volumes(&self) -> anyhow::Result<()> {
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let stream = watcher::watcher(api.clone(), watcher::Config::default())
            .default_backoff()
            .applied_objects();
        futures::pin_mut!(stream);
        loop {
            let pv = match stream.next().await {
                Some(Ok(pv)) => pv,
                Some(Err(e)) => {
                    tracing::warn!("pv watch: {e}");
                    continue;
                }
                None => anyhow::bail!("pv watch ended"),
            };
            let phase = pv
                .status
                .as_ref()
                .and_then(|s| s.phase.as_deref())
                .unwrap_or("");
            let spec = pv.spec.clone().unwrap_or_default();
            let Some(csi) = spec.csi.filter(|c| c.driver == PX_DRIVER) else {
                continue;
            };
            if phase == "Released"
                && spec.persistent_volume_reclaim_policy.as_deref() == Some("Delete")
            {
                if let Err(e) = self.px.delete(&csi.volume_handle).await {
                    tracing::warn!("deleting volume {}: {e}", csi.volume_handle);
                    continue;
                }
                let name = pv.name_any();
                let _ = api
                    .patch(
                        &name,
                        &PatchParams::default(),
                        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
                    )
                    .await;
                let _ = api.delete(&name, &DeleteParams::default()).await;
            }
        }
    }
}

/// The SDK VolumeSpec for a StorageClass's parameters (OS api/spec/spec_handler.go).
pub fn volume_spec(bytes: u64, params: &BTreeMap<String, String>) -> Value {
    let cos = params
        .get("priority_io")
        .or_else(|| params.get("io_priority"))
        .map(|p| p.to_uppercase());
    let profile = params
        .get("io_profile")
        .map(|p| format!("IO_PROFILE_{}", p.to_uppercase()));
    json!({
        "size": bytes.to_string(),
        "ha_level": params.get("repl").cloned().unwrap_or_else(|| "1".into()),
        "cos": cos, "io_profile": profile, "format": "FS_TYPE_EXT4"
    })
}

/// Bytes of a Kubernetes quantity such as 20Gi, 500M or 1073741824.
pub fn parse_quantity(q: &str) -> Option<u64> {
    let q = q.trim();
    let split = q.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(q.len());
    let (num, unit) = q.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult: f64 = match unit {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        _ => return None,
    };
    Some((n * mult) as u64)
}

/// The status a kubelet would report for a pod on `node`; `ready` is a hint for the caller.
pub fn desired_status(pod: &Pod, node: &str) -> Value {
    let spec = pod.spec.clone().unwrap_or_default();
    let job = pod.owner_references().iter().any(|o| o.kind == "Job");
    let ready =
        !job && pod.annotations().get(READY_ANNOTATION).map(String::as_str) != Some("false");
    let started = pod
        .status
        .as_ref()
        .and_then(|s| s.start_time.clone())
        .unwrap_or_else(now);
    let t = now();
    let uid = pod.uid().unwrap_or_default();
    let h = uid
        .bytes()
        .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
    let node_ix: u32 = node
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(0);
    let statuses: Vec<Value> = spec
        .containers
        .iter()
        .map(|c| {
            let state = if job {
                json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started, "finishedAt": t}})
            } else {
                json!({"running": {"startedAt": started}})
            };
            json!({"name": c.name, "image": c.image, "imageID": format!("sim://{}", c.image.clone().unwrap_or_default()),
                "containerID": format!("sim://{uid}-{}", c.name), "ready": ready, "started": !job, "restartCount": 0, "state": state})
        })
        .collect();
    let cond = |ty: &str, ok: bool| json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastTransitionTime": t});
    json!({
        "phase": if job { "Succeeded" } else { "Running" },
        "ready": ready,
        "conditions": [cond("Initialized", true), cond("Ready", ready), cond("ContainersReady", ready), cond("PodScheduled", true)],
        "containerStatuses": statuses,
        "hostIP": format!("192.0.2.{}", 10 + node_ix),
        "podIP": format!("10.244.{}.{}", node_ix, 2 + h % 250),
        "podIPs": [{"ip": format!("10.244.{}.{}", node_ix, 2 + h % 250)}],
        "startTime": started,
        "qosClass": "BestEffort"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(parse_quantity("20Gi"), Some(20 << 30));
        assert_eq!(parse_quantity("500M"), Some(500_000_000));
        assert_eq!(parse_quantity("1024"), Some(1024));
        assert_eq!(parse_quantity("1.5Gi"), Some(3 << 29));
        assert_eq!(parse_quantity("x"), None);
    }

    #[test]
    fn class_parameters_become_a_volume_spec() {
        let params: BTreeMap<String, String> =
            [("repl", "3"), ("io_profile", "db"), ("priority_io", "high")]
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .into_iter()
                .collect();
        let spec = volume_spec(1 << 30, &params);
        assert_eq!(spec["ha_level"], "3");
        assert_eq!(spec["io_profile"], "IO_PROFILE_DB");
        assert_eq!(spec["cos"], "HIGH");
        assert_eq!(spec["size"], "1073741824");
    }

    #[test]
    fn annotated_pods_are_not_ready() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p", "uid": "u1", "annotations": {READY_ANNOTATION: "false"}},
            "spec": {"containers": [{"name": "c", "image": "i"}]}
        }))
        .unwrap();
        let s = desired_status(&pod, "node-1");
        assert_eq!(s["ready"], false);
        assert_eq!(s["phase"], "Running");
        assert_eq!(s["containerStatuses"][0]["ready"], false);
    }
}
