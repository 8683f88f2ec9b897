//! The CSI external-snapshotter and the Portworx CSI driver's snapshot calls, played
//! by the node agent: VolumeSnapshots of Portworx claims become Portworx snapshots
//! named `snapshot-<uid>` with a bound VolumeSnapshotContent `snapcontent-<uid>`, and
//! claims with a VolumeSnapshot data source become clones of that snapshot.
use crate::agent::{Agent, PX_DRIVER};
use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{
    PersistentVolume, PersistentVolumeClaim, PersistentVolumeClaimSpec,
};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const GROUP: &str = "snapshot.storage.k8s.io";

fn resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: "v1".into(),
        api_version: format!("{GROUP}/v1"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn snapshots_api(client: &Client, ns: Option<&str>) -> Api<DynamicObject> {
    let ar = resource("VolumeSnapshot", "volumesnapshots");
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

fn contents_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &resource("VolumeSnapshotContent", "volumesnapshotcontents"),
    )
}

fn classes_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(
        client.clone(),
        &resource("VolumeSnapshotClass", "volumesnapshotclasses"),
    )
}

/// The VolumeSnapshot a claim restores from, if its data source names one.
pub fn snapshot_source(spec: &PersistentVolumeClaimSpec) -> Option<String> {
    let from_ref = spec
        .data_source_ref
        .as_ref()
        .map(|r| (r.api_group.clone(), r.kind.clone(), r.name.clone()));
    let from_source = spec
        .data_source
        .as_ref()
        .map(|r| (r.api_group.clone(), r.kind.clone(), r.name.clone()));
    from_ref
        .or(from_source)
        .filter(|(g, k, _)| g.as_deref() == Some(GROUP) && k == "VolumeSnapshot")
        .map(|(_, _, name)| name)
}

/// What the snapshotter does with a VolumeSnapshot as it stands.
#[derive(Debug, PartialEq)]
pub enum Want {
    /// Ready, being deleted, or not from a claim: nothing.
    Nothing,
    /// Take a snapshot of this claim.
    Snapshot { claim: String },
}

pub fn want(vs: &Value) -> Want {
    let ready = vs["status"]["readyToUse"].as_bool() == Some(true);
    let deleting = !vs["metadata"]["deletionTimestamp"].is_null();
    match vs["spec"]["source"]["persistentVolumeClaimName"].as_str() {
        Some(claim) if !ready && !deleting => Want::Snapshot {
            claim: claim.to_string(),
        },
        _ => Want::Nothing,
    }
}

/// Kubernetes' binary-SI form of a byte count, as resource.NewQuantity(n, BinarySI).
pub fn binary_quantity(bytes: u64) -> String {
    let units = [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ];
    for (suffix, shift) in units {
        if bytes != 0 && bytes.is_multiple_of(1u64 << shift) {
            return format!("{}{suffix}", bytes >> shift);
        }
    }
    bytes.to_string()
}

/// The facts of a taken snapshot that its content and status report.
#[derive(Debug, Clone, PartialEq)]
pub struct Taken {
    pub handle: String,
    pub created: chrono::DateTime<chrono::Utc>,
    pub restore_size: u64,
}

/// The VolumeSnapshotContent for a snapshot: spec to create, status to patch.
pub fn content(
    vs: &DynamicObject,
    volume_handle: &str,
    class: Option<&str>,
    deletion_policy: &str,
) -> Value {
    let uid = vs.uid().unwrap_or_default();
    json!({
        "apiVersion": format!("{GROUP}/v1"),
        "kind": "VolumeSnapshotContent",
        "metadata": {"name": format!("snapcontent-{uid}")},
        "spec": {
            "volumeSnapshotRef": {"apiVersion": format!("{GROUP}/v1"), "kind": "VolumeSnapshot",
                "name": vs.name_any(), "namespace": vs.namespace(), "uid": uid},
            "deletionPolicy": deletion_policy,
            "driver": PX_DRIVER,
            "source": {"volumeHandle": volume_handle},
            "volumeSnapshotClassName": class,
        }
    })
}

pub fn content_status(t: &Taken) -> Value {
    json!({"status": {
        "snapshotHandle": t.handle,
        "creationTime": t.created.timestamp_nanos_opt().unwrap_or(0),
        "restoreSize": t.restore_size,
        "readyToUse": true,
    }})
}

pub fn ready_status(content_name: &str, t: &Taken) -> Value {
    json!({"status": {
        "boundVolumeSnapshotContentName": content_name,
        "creationTime": t.created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "readyToUse": true,
        "restoreSize": binary_quantity(t.restore_size),
        "error": null,
    }})
}

pub fn error_status(message: &str) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({"status": {"readyToUse": false, "error": {"time": now, "message": message}}})
}

fn drop_nulls(mut v: Value) -> Value {
    if let Some(spec) = v["spec"].as_object_mut() {
        spec.retain(|_, x| !x.is_null());
    }
    v
}

impl Agent {
    /// Watches VolumeSnapshots; each one being worked on has one task, which retries
    /// with a growing delay until the snapshot is ready or gone.
    pub(crate) async fn snapshots(&self) -> anyhow::Result<()> {
        let api = snapshots_api(&self.client, None);
        let stream = watcher::watcher(api, watcher::Config::default()).default_backoff();
        futures::pin_mut!(stream);
        let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
        loop {
            let ev = match stream.next().await {
                Some(Ok(ev)) => ev,
                // Until the demo installs the CRDs, the watch fails and backs off.
                Some(Err(e)) => {
                    tracing::debug!("volumesnapshot watch: {e}");
                    continue;
                }
                None => anyhow::bail!("volumesnapshot watch ended"),
            };
            match ev {
                Event::Apply(vs) | Event::InitApply(vs) => {
                    let uid = vs.uid().unwrap_or_default();
                    if want(&serde_json::to_value(&vs)?) == Want::Nothing
                        || !busy.lock().expect("busy set").insert(uid.clone())
                    {
                        continue;
                    }
                    let agent = self.clone();
                    let busy = busy.clone();
                    tokio::spawn(async move {
                        agent.take_until_ready(vs).await;
                        busy.lock().expect("busy set").remove(&uid);
                    });
                }
                Event::Delete(vs) => {
                    if let Err(e) = self.delete_snapshot(&vs).await {
                        tracing::warn!(snapshot = %vs.name_any(), "deleting its content: {e:#}");
                    }
                }
                _ => {}
            }
        }
    }

    async fn take_until_ready(&self, mut vs: DynamicObject) {
        let ns = vs.namespace().unwrap_or_default();
        let name = vs.name_any();
        let api = snapshots_api(&self.client, Some(&ns));
        let mut delay = Duration::from_secs(1);
        loop {
            let Want::Snapshot { claim } = want(&serde_json::to_value(&vs).unwrap_or_default())
            else {
                return;
            };
            let status = match self.take(&vs, &claim).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(snapshot = %format!("{ns}/{name}"), "{e:#}");
                    error_status(&format!("{e:#}"))
                }
            };
            let ok = status["status"]["readyToUse"] == true;
            if let Err(e) = api
                .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                .await
            {
                tracing::warn!(snapshot = %format!("{ns}/{name}"), "status update: {e}");
            } else if ok {
                return;
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(30));
            match api.get_opt(&name).await {
                Ok(Some(next)) if next.uid() == vs.uid() => vs = next,
                Ok(_) => return,
                Err(e) => tracing::warn!("re-reading {ns}/{name}: {e}"),
            }
        }
    }

    /// Takes (or finds the already taken) Portworx snapshot, binds a content to it and
    /// returns the VolumeSnapshot status to set.
    async fn take(&self, vs: &DynamicObject, claim: &str) -> anyhow::Result<Value> {
        let ns = vs.namespace().unwrap_or_default();
        let uid = vs.uid().context("volumesnapshot without uid")?;
        let (class, policy) = self.class_of(vs).await?;
        let (_, handle) = self.px_volume(&ns, claim).await?;

        let px_name = format!("snapshot-{uid}");
        let snap_id = self.px.snapshot_once(&handle, &px_name, json!({})).await?;
        let snap = self.px.inspect(&snap_id).await?;
        let taken = Taken {
            handle: snap_id,
            created: snap["ctime"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&chrono::Utc))
                .unwrap_or_else(chrono::Utc::now),
            restore_size: snap["spec"]["size"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
        };

        let contents = contents_api(&self.client);
        let content_name = format!("snapcontent-{uid}");
        let body: DynamicObject =
            serde_json::from_value(drop_nulls(content(vs, &handle, class.as_deref(), &policy)))?;
        match contents.create(&PostParams::default(), &body).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 409 => {}
            Err(e) => return Err(e).context(format!("creating {content_name}")),
        }
        contents
            .patch_status(
                &content_name,
                &PatchParams::default(),
                &Patch::Merge(content_status(&taken)),
            )
            .await
            .with_context(|| format!("updating the status of {content_name}"))?;
        tracing::info!(snapshot = %format!("{ns}/{}", vs.name_any()), px = %taken.handle, "snapshot ready");
        Ok(ready_status(&content_name, &taken))
    }

    /// The PV and the Portworx volume id behind a bound claim.
    pub(crate) async fn px_volume(
        &self,
        ns: &str,
        claim: &str,
    ) -> anyhow::Result<(String, String)> {
        let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), ns);
        let pvc = pvcs
            .get_opt(claim)
            .await?
            .with_context(|| format!("PersistentVolumeClaim {ns}/{claim} not found"))?;
        let pv_name = pvc
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.clone())
            .filter(|_| pvc.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Bound"))
            .with_context(|| format!("PersistentVolumeClaim {ns}/{claim} is not bound yet"))?;
        let pvs: Api<PersistentVolume> = Api::all(self.client.clone());
        let pv = pvs
            .get_opt(&pv_name)
            .await?
            .with_context(|| format!("PersistentVolume {pv_name} not found"))?;
        let handle = pv
            .spec
            .and_then(|s| s.csi)
            .filter(|c| c.driver == PX_DRIVER)
            .map(|c| c.volume_handle)
            .with_context(|| format!("PersistentVolume {pv_name} is not a {PX_DRIVER} volume"))?;
        Ok((pv_name, handle))
    }

    /// The snapshot's class name and deletion policy (Delete without a class).
    async fn class_of(&self, vs: &DynamicObject) -> anyhow::Result<(Option<String>, String)> {
        let Some(name) = vs.data["spec"]["volumeSnapshotClassName"].as_str() else {
            return Ok((None, "Delete".into()));
        };
        let class = classes_api(&self.client)
            .get_opt(name)
            .await?
            .with_context(|| format!("VolumeSnapshotClass {name} not found"))?;
        anyhow::ensure!(
            class.data["driver"] == PX_DRIVER,
            "VolumeSnapshotClass {name} is for driver {}, not {PX_DRIVER}",
            class.data["driver"]
        );
        let policy = class.data["deletionPolicy"]
            .as_str()
            .unwrap_or("Delete")
            .to_string();
        Ok((Some(name.to_string()), policy))
    }

    /// A deleted VolumeSnapshot whose content's policy is Delete takes its content and
    /// Portworx snapshot with it. (No finalizer: one deleted while the agent is down
    /// leaves its content behind.)
    async fn delete_snapshot(&self, vs: &DynamicObject) -> anyhow::Result<()> {
        let uid = vs.uid().unwrap_or_default();
        let name = vs.data["status"]["boundVolumeSnapshotContentName"]
            .as_str()
            .map(String::from)
            .unwrap_or_else(|| format!("snapcontent-{uid}"));
        let contents = contents_api(&self.client);
        let Some(content) = contents.get_opt(&name).await? else {
            return Ok(());
        };
        if content.data["spec"]["volumeSnapshotRef"]["uid"] != uid.as_str()
            || content.data["spec"]["deletionPolicy"] != "Delete"
        {
            return Ok(());
        }
        if let Some(handle) = content.data["status"]["snapshotHandle"].as_str() {
            self.px.delete(handle).await?;
        }
        contents.delete(&name, &DeleteParams::default()).await?;
        tracing::info!(content = %name, "snapshot content deleted");
        Ok(())
    }

    /// A new volume for a claim restored from a VolumeSnapshot: a clone of its
    /// Portworx snapshot, named as any provisioned volume is.
    pub(crate) async fn clone_from_snapshot(
        &self,
        ns: &str,
        snapshot: &str,
        pv_name: &str,
        requested: u64,
        labels: &BTreeMap<String, String>,
    ) -> anyhow::Result<String> {
        let vs = snapshots_api(&self.client, Some(ns))
            .get_opt(snapshot)
            .await?
            .with_context(|| format!("VolumeSnapshot {ns}/{snapshot} not found"))?;
        let status = &vs.data["status"];
        anyhow::ensure!(
            status["readyToUse"] == true,
            "VolumeSnapshot {ns}/{snapshot} is not ready to use yet"
        );
        let content_name = status["boundVolumeSnapshotContentName"]
            .as_str()
            .context("ready VolumeSnapshot without a bound content")?;
        let content = contents_api(&self.client)
            .get_opt(content_name)
            .await?
            .with_context(|| format!("VolumeSnapshotContent {content_name} not found"))?;
        let handle = content.data["status"]["snapshotHandle"]
            .as_str()
            .with_context(|| {
                format!("VolumeSnapshotContent {content_name} has no snapshotHandle")
            })?;
        let restore_size = content.data["status"]["restoreSize"].as_u64().unwrap_or(0);
        anyhow::ensure!(
            requested >= restore_size,
            "requested size {requested} is smaller than the snapshot's restoreSize {restore_size}"
        );
        if let Some(id) = self.px.find(pv_name).await? {
            return Ok(id);
        }
        let v = self
            .px
            .post(
                "/v1/volumes/clone",
                json!({"name": pv_name, "parent_id": handle, "additional_labels": labels}),
            )
            .await?;
        Ok(v["volume_id"]
            .as_str()
            .context("clone returned no volume_id")?
            .to_string())
    }

    /// Tries a failed provisioning again a few times, as external-provisioner requeues.
    pub(crate) async fn retry_provision(&self, pvc: PersistentVolumeClaim) {
        let ns = pvc.namespace().unwrap_or_default();
        let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &ns);
        for attempt in 1..=8u32 {
            tokio::time::sleep(Duration::from_secs(2 * attempt as u64)).await;
            let Ok(Some(now)) = api.get_opt(&pvc.name_any()).await else {
                return;
            };
            if now.uid() != pvc.uid() {
                return;
            }
            match self.provision_claim(&now).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(pvc = %now.name_any(), attempt, "provisioning failed: {e:#}")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vs(extra: Value) -> DynamicObject {
        let mut v = json!({
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": "data-db-0-snap", "namespace": "shop", "uid": "8f1c"},
            "spec": {"volumeSnapshotClassName": "px-csi-snapclass", "source": {"persistentVolumeClaimName": "data-db-0"}}
        });
        if let (Some(a), Some(b)) = (v.as_object_mut(), extra.as_object()) {
            a.extend(b.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn only_unready_claim_snapshots_are_taken() {
        let want_of = |o: DynamicObject| want(&serde_json::to_value(o).unwrap());
        assert_eq!(
            want_of(vs(json!({}))),
            Want::Snapshot {
                claim: "data-db-0".into()
            }
        );
        assert_eq!(
            want_of(vs(
                json!({"status": {"readyToUse": false, "error": {"message": "x"}}})
            )),
            Want::Snapshot {
                claim: "data-db-0".into()
            },
            "a failed one is retried"
        );
        assert_eq!(
            want_of(vs(json!({"status": {"readyToUse": true}}))),
            Want::Nothing
        );
        let pre = vs(json!({"spec": {"source": {"volumeSnapshotContentName": "c"}}}));
        assert_eq!(want_of(pre), Want::Nothing, "pre-provisioned content");
    }

    #[test]
    fn content_and_statuses_use_the_crd_encodings() {
        let t = Taken {
            handle: "4401".into(),
            created: chrono::DateTime::from_timestamp(1_700_000_000, 5).unwrap(),
            restore_size: 20 << 30,
        };
        let c = drop_nulls(content(&vs(json!({})), "1053", None, "Delete"));
        assert_eq!(c["metadata"]["name"], "snapcontent-8f1c");
        assert_eq!(c["spec"]["source"], json!({"volumeHandle": "1053"}));
        assert_eq!(c["spec"]["driver"], "pxd.portworx.com");
        assert_eq!(c["spec"]["volumeSnapshotRef"]["namespace"], "shop");
        assert!(c["spec"].get("volumeSnapshotClassName").is_none());
        let s = content_status(&t);
        assert_eq!(
            s["status"]["creationTime"],
            json!(1_700_000_000_000_000_005i64),
            "int64 ns"
        );
        assert_eq!(
            s["status"]["restoreSize"],
            json!(21474836480u64),
            "int64 bytes"
        );
        let r = ready_status("snapcontent-8f1c", &t);
        assert_eq!(r["status"]["creationTime"], "2023-11-14T22:13:20Z");
        assert_eq!(r["status"]["restoreSize"], "20Gi");
        assert_eq!(r["status"]["readyToUse"], true);
        assert!(
            r["status"]["error"].is_null(),
            "a merge patch clears an old error"
        );
        let e = error_status("PersistentVolumeClaim shop/x not found");
        assert_eq!(e["status"]["readyToUse"], false);
        assert!(
            e["status"]["error"]["time"]
                .as_str()
                .unwrap()
                .ends_with('Z')
        );
    }

    #[test]
    fn quantities_and_data_sources() {
        assert_eq!(binary_quantity(20 << 30), "20Gi");
        assert_eq!(binary_quantity(1536 << 20), "1536Mi");
        assert_eq!(binary_quantity(1000), "1000");
        assert_eq!(binary_quantity(0), "0");
        let spec: PersistentVolumeClaimSpec = serde_json::from_value(json!({
            "dataSource": {"apiGroup": "snapshot.storage.k8s.io", "kind": "VolumeSnapshot", "name": "s1"}
        }))
        .unwrap();
        assert_eq!(snapshot_source(&spec), Some("s1".into()));
        let other: PersistentVolumeClaimSpec = serde_json::from_value(json!({
            "dataSource": {"kind": "PersistentVolumeClaim", "name": "p"}
        }))
        .unwrap();
        assert_eq!(snapshot_source(&other), None);
    }
}
