//! API objects to compact rows, with health as Argo CD and kubectl read it.
use crate::app::cluster::{Health, Kind, ObjRow};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Pod};
use kube::ResourceExt;

fn base<K: kube::Resource>(obj: &K, kind: Kind) -> ObjRow {
    let meta = obj.meta();
    ObjRow {
        kind: Some(kind),
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        created: meta
            .creation_timestamp
            .as_ref()
            .map_or(0, |t| t.0.as_second()),
        ..Default::default()
    }
}

pub fn namespace(ns: &Namespace) -> ObjRow {
    let phase = ns
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    let health = if phase == "Terminating" {
        Health::Progressing
    } else {
        Health::Healthy
    };
    ObjRow {
        health,
        detail: phase,
        ..base(ns, Kind::Namespace)
    }
}

/// Workload health from its counts: all ready and updated is healthy; fewer ready than
/// desired while rolling out is progressing; otherwise degraded.
fn workload_health(desired: u32, ready: u32, updated: u32, observed_current: bool) -> Health {
    if ready >= desired && updated >= desired && observed_current {
        Health::Healthy
    } else if !observed_current || updated < desired {
        Health::Progressing
    } else {
        Health::Degraded
    }
}

fn count(n: Option<i32>) -> u32 {
    n.unwrap_or(0).max(0) as u32
}

/// Whether the controller has acted on the latest spec.
fn observed(status_generation: Option<i64>, meta_generation: Option<i64>) -> bool {
    status_generation.unwrap_or(0) >= meta_generation.unwrap_or(0)
}

pub fn deployment(d: &Deployment) -> ObjRow {
    let desired = count(Some(d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
    let st = d.status.clone().unwrap_or_default();
    let (ready, updated) = (count(st.ready_replicas), count(st.updated_replicas));
    let observed = observed(st.observed_generation, d.metadata.generation);
    let failed = st
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Progressing" && c.status == "False");
    let health = if failed {
        Health::Failed
    } else {
        workload_health(desired, ready, updated, observed)
    };
    let detail = st
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Progressing")
        .and_then(|c| c.reason.clone())
        .unwrap_or_default();
    ObjRow {
        health,
        ready: Some((ready, desired)),
        detail,
        ..base(d, Kind::Deployment)
    }
}

pub fn statefulset(s: &StatefulSet) -> ObjRow {
    let desired = count(Some(s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)));
    let st = s.status.clone().unwrap_or_default();
    let (ready, updated) = (count(st.ready_replicas), count(st.updated_replicas));
    let observed = observed(st.observed_generation, s.metadata.generation);
    let claims = s
        .spec
        .iter()
        .flat_map(|s| s.volume_claim_templates.iter().flatten())
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    ObjRow {
        health: workload_health(desired, ready, updated, observed),
        ready: Some((ready, desired)),
        claims,
        ..base(s, Kind::StatefulSet)
    }
}

pub fn daemonset(d: &DaemonSet) -> ObjRow {
    let st = d.status.clone().unwrap_or_default();
    let (desired, ready) = (
        count(Some(st.desired_number_scheduled)),
        count(Some(st.number_ready)),
    );
    let updated = count(st.updated_number_scheduled);
    let observed = observed(st.observed_generation, d.metadata.generation);
    ObjRow {
        health: workload_health(desired, ready, updated, observed),
        ready: Some((ready, desired)),
        ..base(d, Kind::DaemonSet)
    }
}

/// The workload behind a pod: a ReplicaSet's Deployment is its name less the
/// pod-template-hash suffix, so no ReplicaSet watch is needed.
fn pod_owner(p: &Pod) -> Option<(Kind, String)> {
    let o = p
        .owner_references()
        .iter()
        .find(|o| o.controller == Some(true))?;
    match o.kind.as_str() {
        "StatefulSet" => Some((Kind::StatefulSet, o.name.clone())),
        "DaemonSet" => Some((Kind::DaemonSet, o.name.clone())),
        "ReplicaSet" => {
            let hash = p.labels().get("pod-template-hash")?;
            let name = o.name.strip_suffix(&format!("-{hash}"))?;
            Some((Kind::Deployment, name.to_string()))
        }
        _ => None,
    }
}

pub fn pod(p: &Pod) -> ObjRow {
    let st = p.status.clone().unwrap_or_default();
    let containers = st.container_statuses.clone().unwrap_or_default();
    let total = p.spec.as_ref().map_or(0, |s| s.containers.len()) as u32;
    let ready = containers.iter().filter(|c| c.ready).count() as u32;
    let restarts = containers
        .iter()
        .map(|c| c.restart_count.max(0) as u32)
        .sum();
    let phase = st.phase.clone().unwrap_or_else(|| "Pending".into());
    // A waiting reason such as CrashLoopBackOff says more than the phase.
    let waiting = containers
        .iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    let deleting = p.metadata.deletion_timestamp.is_some();
    let health = match phase.as_str() {
        _ if deleting => Health::Progressing,
        "Succeeded" => Health::Healthy,
        "Failed" => Health::Failed,
        "Running" if ready == total => Health::Healthy,
        "Running" => Health::Degraded,
        "Pending" => Health::Progressing,
        _ => Health::Unknown,
    };
    let health = match waiting.as_deref() {
        Some(
            "CrashLoopBackOff" | "ImagePullBackOff" | "ErrImagePull" | "CreateContainerConfigError",
        ) => Health::Failed,
        _ => health,
    };
    let detail = if deleting {
        "Terminating".into()
    } else {
        waiting.unwrap_or(phase)
    };
    let claims = p
        .spec
        .iter()
        .flat_map(|s| s.volumes.iter().flatten())
        .filter_map(|v| {
            v.persistent_volume_claim
                .as_ref()
                .map(|c| c.claim_name.clone())
        })
        .collect();
    ObjRow {
        health,
        ready: Some((ready, total)),
        restarts,
        detail,
        owner: pod_owner(p),
        claims,
        ..base(p, Kind::Pod)
    }
}

pub fn pvc(c: &PersistentVolumeClaim) -> ObjRow {
    let phase = c
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Pending".into());
    let health = match phase.as_str() {
        "Bound" => Health::Healthy,
        "Lost" => Health::Failed,
        _ => Health::Progressing,
    };
    let volume = c.spec.as_ref().and_then(|s| s.volume_name.clone());
    ObjRow {
        health,
        detail: phase,
        claims: volume.into_iter().collect(),
        ..base(c, Kind::Pvc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_from(v: serde_json::Value) -> Pod {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn pod_owner_and_readiness() {
        let p = pod_from(json!({
            "metadata": {"name": "web-5d9c7-abcde", "namespace": "shop", "labels": {"pod-template-hash": "5d9c7"},
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c7", "uid": "u", "controller": true}]},
            "spec": {"containers": [{"name": "a"}, {"name": "b"}], "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]},
            "status": {"phase": "Running", "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 2, "image": "i", "imageID": ""},
                {"name": "b", "ready": false, "restartCount": 1, "image": "i", "imageID": "", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
        }));
        let r = pod(&p);
        assert_eq!(r.owner, Some((Kind::Deployment, "web".into())));
        assert_eq!(r.ready, Some((1, 2)));
        assert_eq!(r.restarts, 3);
        assert_eq!(r.health, Health::Failed);
        assert_eq!(r.detail, "CrashLoopBackOff");
        assert_eq!(r.claims, ["data"]);
    }

    #[test]
    fn workload_health_states() {
        let d = |spec: i32, ready: i32, updated: i32, gen_: i64, obs: i64| {
            deployment(&serde_json::from_value(json!({
                "metadata": {"name": "d", "namespace": "n", "generation": gen_},
                "spec": {"replicas": spec, "selector": {}, "template": {}},
                "status": {"readyReplicas": ready, "updatedReplicas": updated, "observedGeneration": obs}
            })).unwrap())
        };
        assert_eq!(d(2, 2, 2, 1, 1).health, Health::Healthy);
        assert_eq!(d(2, 1, 2, 1, 1).health, Health::Degraded);
        assert_eq!(d(2, 2, 1, 2, 2).health, Health::Progressing);
        assert_eq!(d(2, 2, 2, 3, 2).health, Health::Progressing);
        assert_eq!(d(0, 0, 0, 1, 1).health, Health::Healthy);
    }
}
