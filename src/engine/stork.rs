//! Stork's GroupVolumeSnapshot: several claims snapshotted at one point in time while
//! the workload runs. sextant labels the claims with the set, asks Stork for a group
//! selecting that label, and waits for it; a restore reads the Portworx snapshot ids
//! from the group's status and the legacy VolumeSnapshots it made.
use super::snapshot::{SET_LABEL, SnapshotSet, Taken, kube_error};
use crate::exec::Writer;
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::Client;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const GROUP_VERSION: &str = "stork.libopenstorage.org/v1alpha1";

fn groups(client: &Client, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(
        "stork.libopenstorage.org",
        "v1alpha1",
        "GroupVolumeSnapshot",
    );
    Api::namespaced_with(
        client.clone(),
        ns,
        &ApiResource::from_gvk_with_plural(&gvk, "groupvolumesnapshots"),
    )
}

fn legacy(client: &Client, ns: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(
        "volumesnapshot.external-storage.k8s.io",
        "v1",
        "VolumeSnapshot",
    );
    Api::namespaced_with(
        client.clone(),
        ns,
        &ApiResource::from_gvk_with_plural(&gvk, "volumesnapshots"),
    )
}

/// Whether the cluster serves Stork's GroupVolumeSnapshot.
pub async fn served(client: &Client) -> bool {
    match client.list_api_group_resources(GROUP_VERSION).await {
        Ok(list) => list
            .resources
            .iter()
            .any(|r| r.name == "groupvolumesnapshots"),
        Err(_) => false,
    }
}

/// The group for `set`, selecting the claims labelled with it.
pub fn manifest(snapshot: &Value, set: &str) -> Value {
    json!({
        "apiVersion": GROUP_VERSION,
        "kind": "GroupVolumeSnapshot",
        "metadata": {
            "name": set,
            "namespace": snapshot["metadata"]["namespace"],
            "labels": snapshot["metadata"]["labels"],
            "annotations": snapshot["metadata"]["annotations"],
        },
        "spec": {"pvcSelector": {"matchLabels": {SET_LABEL: set}}},
    })
}

/// The claims and Portworx snapshot ids of a finished group: (claim, legacy snapshot,
/// Portworx snapshot id); an error for a failed or unfinished one.
pub fn members(group: &Value) -> Result<Vec<(String, String)>, String> {
    let st = &group["status"];
    match st["status"].as_str() {
        Some("Successful") => {}
        Some("Failed") => {
            return Err(format!(
                "the group snapshot failed: {}",
                st["reason"].as_str().unwrap_or("no reason given")
            ));
        }
        other => {
            return Err(format!(
                "the group snapshot is not done ({})",
                other.unwrap_or("pending")
            ));
        }
    }
    Ok(st["volumeSnapshots"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|v| {
            (
                v["VolumeSnapshotName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                v["DataSource"]["portworxVolume"]["snapshotId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect())
}

/// Labels the claims with the set, creates the group and waits for Stork.
pub async fn take(
    _w: &Writer,
    client: &Client,
    like: &Value,
    claims: &[String],
    set: &str,
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<SnapshotSet, String> {
    let ns = like["metadata"]["namespace"].as_str().unwrap_or_default();
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), ns);
    let label = json!({"metadata": {"labels": {SET_LABEL: set}}});
    for c in claims {
        pvcs.patch(c, &PatchParams::default(), &Patch::Merge(&label))
            .await
            .map_err(|e| format!("labelling claim {c}: {}", kube_error(e)))?;
    }
    let api = groups(client, ns);
    let body: DynamicObject =
        serde_json::from_value(manifest(like, set)).map_err(|e| e.to_string())?;
    api.create(&PostParams::default(), &body)
        .await
        .map_err(|e| format!("GroupVolumeSnapshot {set}: {}", kube_error(e)))?;
    progress(format!(
        "Stork group snapshot {set} of {} claims",
        claims.len()
    ));
    let end = Instant::now() + timeout;
    let done = loop {
        let g = api.get(set).await.map_err(kube_error)?;
        let g = serde_json::to_value(g).unwrap_or_default();
        match g["status"]["status"].as_str() {
            Some("Successful" | "Failed") => break members(&g)?,
            other => {
                if Instant::now() > end {
                    return Err(format!(
                        "the group snapshot {set} is still {} after {}s",
                        other.unwrap_or("pending"),
                        timeout.as_secs()
                    ));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let vs = legacy(client, ns);
    let mut snapshots = Vec::new();
    for (name, _) in &done {
        let o = vs.get(name).await.map_err(kube_error)?;
        snapshots.push(Taken {
            name: name.clone(),
            claim: o.data["spec"]["persistentVolumeClaimName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            ready: true,
            error: None,
        });
    }
    progress(format!(
        "{} snapshots ready, one point in time",
        snapshots.len()
    ));
    Ok(SnapshotSet {
        namespace: ns.to_string(),
        set: set.to_string(),
        snapshots,
    })
}

/// A finished group: the group object, and (claim, Portworx snapshot id) of each member.
pub async fn read(
    client: &Client,
    ns: &str,
    name: &str,
) -> Result<Option<(Value, Vec<(String, String)>)>, String> {
    let Some(g) = groups(client, ns).get_opt(name).await.ok().flatten() else {
        return Ok(None);
    };
    let g = serde_json::to_value(g).unwrap_or_default();
    let vs = legacy(client, ns);
    let mut out = Vec::new();
    for (snap, px) in members(&g)? {
        let o = vs.get(&snap).await.map_err(kube_error)?;
        let claim = o.data["spec"]["persistentVolumeClaimName"]
            .as_str()
            .ok_or_else(|| format!("legacy snapshot {snap} names no claim"))?;
        out.push((claim.to_string(), px));
    }
    Ok(Some((g, out)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_selects_the_set_and_carries_the_labels() {
        let like = json!({"metadata": {"namespace": "shop",
            "labels": {"sextant.dev/workload": "db", "sextant.dev/set": "db-1"}}});
        let m = manifest(&like, "db-1");
        assert_eq!(m["kind"], "GroupVolumeSnapshot");
        assert_eq!(m["metadata"]["name"], "db-1");
        assert_eq!(m["metadata"]["labels"]["sextant.dev/workload"], "db");
        assert_eq!(
            m["spec"]["pvcSelector"]["matchLabels"]["sextant.dev/set"],
            "db-1"
        );
    }

    #[test]
    fn members_of_a_finished_group_with_capitalised_keys() {
        let g = json!({"status": {"status": "Successful", "volumeSnapshots": [
            {"VolumeSnapshotName": "g-data-db-0",
             "DataSource": {"portworxVolume": {"snapshotId": "42"}}}]}});
        assert_eq!(
            members(&g).unwrap(),
            [("g-data-db-0".to_string(), "42".to_string())]
        );
        let failed = json!({"status": {"status": "Failed", "reason": "px down"}});
        assert!(members(&failed).unwrap_err().contains("px down"));
        assert!(members(&json!({})).unwrap_err().contains("not done"));
    }
}
