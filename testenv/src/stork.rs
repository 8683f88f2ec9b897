//! Stork's GroupVolumeSnapshot controller, played by the node agent: the claims a
//! group selects are snapshotted in Portworx together, each recorded as a legacy
//! `volumesnapshot.external-storage.k8s.io` VolumeSnapshot with its VolumeSnapshotData,
//! and the group's status lists them (capitalised keys, as Stork's Go struct has no
//! json tags).
use crate::agent::Agent;
use anyhow::Context;
use futures::StreamExt;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Client, ResourceExt};
use serde_json::{Value, json};

pub const STORK: &str = "stork.libopenstorage.org";
pub const LEGACY: &str = "volumesnapshot.external-storage.k8s.io";

fn resource(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

pub fn groups_api(client: &Client, ns: Option<&str>) -> Api<DynamicObject> {
    let ar = resource(
        STORK,
        "v1alpha1",
        "GroupVolumeSnapshot",
        "groupvolumesnapshots",
    );
    match ns {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

fn legacy_snapshots(client: &Client, ns: &str) -> Api<DynamicObject> {
    let ar = resource(LEGACY, "v1", "VolumeSnapshot", "volumesnapshots");
    Api::namespaced_with(client.clone(), ns, &ar)
}

fn legacy_data(client: &Client) -> Api<DynamicObject> {
    let ar = resource(LEGACY, "v1", "VolumeSnapshotData", "volumesnapshotdatas");
    Api::all_with(client.clone(), &ar)
}

/// `matchLabels` as a label selector string.
pub fn selector(group: &Value) -> String {
    group["spec"]["pvcSelector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn ready() -> Value {
    json!([{"type": "Ready", "status": "True", "reason": "snapshot created",
            "lastTransitionTime": chrono::Utc::now().to_rfc3339()}])
}

/// Whether a group still needs taking.
pub fn pending(group: &Value) -> bool {
    !matches!(
        group["status"]["status"].as_str(),
        Some("Successful" | "Failed")
    )
}

async fn create(api: &Api<DynamicObject>, body: Value) -> anyhow::Result<()> {
    let obj: DynamicObject = serde_json::from_value(body)?;
    match api.create(&PostParams::default(), &obj).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

impl Agent {
    pub(crate) async fn groups(&self) -> anyhow::Result<()> {
        let stream = watcher::watcher(groups_api(&self.client, None), watcher::Config::default())
            .default_backoff();
        futures::pin_mut!(stream);
        loop {
            let g = match stream.next().await {
                Some(Ok(Event::Apply(g) | Event::InitApply(g))) => g,
                Some(Ok(_)) => continue,
                // Until the Stork CRDs are installed the watch fails and backs off.
                Some(Err(e)) => {
                    tracing::debug!("groupvolumesnapshot watch: {e}");
                    continue;
                }
                None => anyhow::bail!("groupvolumesnapshot watch ended"),
            };
            if !pending(&serde_json::to_value(&g)?) {
                continue;
            }
            let agent = self.clone();
            tokio::spawn(async move {
                let ns = g.namespace().unwrap_or_default();
                let status = match agent.take_group(&g).await {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!(group = %g.name_any(), "{e:#}");
                        json!({"stage": "Final", "status": "Failed", "reason": format!("{e:#}")})
                    }
                };
                let patch = json!({"status": status});
                if let Err(e) = groups_api(&agent.client, Some(&ns))
                    .patch(
                        &g.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(&patch),
                    )
                    .await
                {
                    tracing::warn!(group = %g.name_any(), "status update: {e}");
                }
            });
        }
    }

    /// Snapshots every selected claim and returns the group's status.
    async fn take_group(&self, g: &DynamicObject) -> anyhow::Result<Value> {
        let ns = g.namespace().unwrap_or_default();
        let name = g.name_any();
        let uid = g.uid().context("group without uid")?;
        let sel = selector(&serde_json::to_value(g)?);
        anyhow::ensure!(!sel.is_empty(), "spec.pvcSelector.matchLabels is empty");
        let claims = Api::<PersistentVolumeClaim>::namespaced(self.client.clone(), &ns)
            .list(&ListParams::default().labels(&sel))
            .await?;
        anyhow::ensure!(!claims.items.is_empty(), "no claims in {ns} match {sel}");
        let mut taken = Vec::new();
        for c in &claims.items {
            let claim = c.name_any();
            let (pv, volume) = self.px_volume(&ns, &claim).await?;
            let vs_name = format!("{name}-{claim}");
            let px_name = format!("snapshot-{uid}-{claim}");
            let labels = json!({"stork-snap": vs_name, "namespace": ns});
            let snap_id = self.px.snapshot_once(&volume, &px_name, labels).await?;
            let data_name = format!("k8s-volume-snapshot-{uid}-{claim}");
            let source =
                json!({"portworxVolume": {"snapshotId": snap_id, "snapshotType": "local"}});
            create(
                &legacy_data(&self.client),
                json!({
                    "apiVersion": format!("{LEGACY}/v1"), "kind": "VolumeSnapshotData",
                    "metadata": {"name": data_name},
                    "spec": {
                        "portworxVolume": source["portworxVolume"],
                        "volumeSnapshotRef": {"kind": "VolumeSnapshot", "name": format!("{ns}/{vs_name}")},
                        "persistentVolumeRef": {"kind": "PersistentVolume", "name": pv},
                    },
                    "status": {"conditions": ready()},
                }),
            )
            .await?;
            create(
                &legacy_snapshots(&self.client, &ns),
                json!({
                    "apiVersion": format!("{LEGACY}/v1"), "kind": "VolumeSnapshot",
                    "metadata": {"name": vs_name, "namespace": ns,
                                 "labels": g.labels()},
                    "spec": {"persistentVolumeClaimName": claim, "snapshotDataName": data_name},
                    "status": {"creationTimestamp": chrono::Utc::now().to_rfc3339(),
                               "conditions": ready()},
                }),
            )
            .await?;
            taken.push(json!({
                "VolumeSnapshotName": vs_name, "ParentVolumeID": volume, "TaskID": "",
                "DataSource": source, "Conditions": ready(),
            }));
        }
        tracing::info!(group = %format!("{ns}/{name}"), claims = taken.len(), "group snapshot ready");
        Ok(json!({"stage": "Final", "status": "Successful", "volumeSnapshots": taken}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_and_states() {
        let g = json!({"spec": {"pvcSelector": {"matchLabels": {"a": "1", "b": "2"}}}});
        assert_eq!(selector(&g), "a=1,b=2");
        assert_eq!(selector(&json!({})), "");
        assert!(pending(&g));
        assert!(pending(&json!({"status": {"status": "InProgress"}})));
        assert!(!pending(&json!({"status": {"status": "Successful"}})));
        assert!(!pending(&json!({"status": {"status": "Failed"}})));
    }
}
