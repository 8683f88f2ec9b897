//! API objects to compact rows, with health as Argo CD and kubectl read it.
use crate::app::cluster::{ContainerRow, Health, Kind, ObjRow, WarningRow};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, PodTemplateSpec,
    Secret, Service,
};
use k8s_openapi::api::networking::v1::Ingress;
use kube::ResourceExt;
use kube::api::DynamicObject;
use std::collections::BTreeMap;

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

fn pairs(m: Option<&BTreeMap<String, String>>) -> Vec<(String, String)> {
    m.map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// A workload's pod labels, which Services select on.
fn template_labels(t: Option<&PodTemplateSpec>) -> Vec<(String, String)> {
    pairs(
        t.and_then(|t| t.metadata.as_ref())
            .and_then(|m| m.labels.as_ref()),
    )
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
        selector: template_labels(d.spec.as_ref().map(|s| &s.template)),
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
        selector: template_labels(s.spec.as_ref().map(|s| &s.template)),
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
        selector: template_labels(d.spec.as_ref().map(|s| &s.template)),
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
        "Job" => Some((Kind::Job, o.name.clone())),
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
    let rows = p
        .spec
        .iter()
        .flat_map(|s| s.containers.iter())
        .map(|c| {
            let st = containers.iter().find(|s| s.name == c.name);
            let state = st
                .and_then(|s| s.state.as_ref())
                .map_or("waiting".to_string(), |s| {
                    if s.running.is_some() {
                        "running".into()
                    } else if let Some(w) = &s.waiting {
                        w.reason.clone().unwrap_or_else(|| "waiting".into())
                    } else {
                        s.terminated
                            .as_ref()
                            .and_then(|t| t.reason.clone())
                            .unwrap_or_else(|| "terminated".into())
                    }
                });
            ContainerRow {
                name: c.name.clone(),
                ready: st.is_some_and(|s| s.ready),
                restarts: st.map_or(0, |s| s.restart_count.max(0) as u32),
                state,
            }
        })
        .collect();
    ObjRow {
        health,
        ready: Some((ready, total)),
        restarts,
        detail,
        owner: pod_owner(p),
        claims,
        selector: pairs(p.metadata.labels.as_ref()),
        containers: rows,
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

pub fn job(j: &Job) -> ObjRow {
    let st = j.status.clone().unwrap_or_default();
    let completions = count(Some(
        j.spec.as_ref().and_then(|s| s.completions).unwrap_or(1),
    ));
    let succeeded = count(st.succeeded);
    let failed = st
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "Failed" && c.status == "True");
    let (health, detail) = if failed {
        (Health::Failed, "Failed")
    } else if succeeded >= completions {
        (Health::Healthy, "Complete")
    } else {
        (Health::Progressing, "Running")
    };
    let owner = j
        .owner_references()
        .iter()
        .find(|o| o.kind == "CronJob")
        .map(|o| (Kind::CronJob, o.name.clone()));
    ObjRow {
        health,
        ready: Some((succeeded, completions)),
        detail: detail.into(),
        owner,
        ..base(j, Kind::Job)
    }
}

/// CronJobs are batch/v1 from 1.21 and batch/v1beta1 before: read through discovery.
pub fn cronjob(o: &DynamicObject) -> ObjRow {
    let suspended = o.data["spec"]["suspend"].as_bool() == Some(true);
    let schedule = o.data["spec"]["schedule"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let detail = if suspended {
        format!("{schedule} (suspended)")
    } else {
        schedule
    };
    ObjRow {
        health: Health::Healthy,
        detail,
        ..base(o, Kind::CronJob)
    }
}

pub fn service(s: &Service) -> ObjRow {
    let spec = s.spec.clone().unwrap_or_default();
    let ports: Vec<String> = spec
        .ports
        .iter()
        .flatten()
        .map(|p| format!("{}/{}", p.port, p.protocol.as_deref().unwrap_or("TCP")))
        .collect();
    let detail = format!(
        "{} {}",
        spec.type_.as_deref().unwrap_or("ClusterIP"),
        ports.join(",")
    );
    ObjRow {
        health: Health::Healthy,
        detail,
        selector: pairs(spec.selector.as_ref()),
        ..base(s, Kind::Service)
    }
}

pub fn ingress(i: &Ingress) -> ObjRow {
    let hosts: Vec<String> = i
        .spec
        .iter()
        .flat_map(|s| s.rules.iter().flatten())
        .filter_map(|r| r.host.clone())
        .collect();
    ObjRow {
        health: Health::Healthy,
        detail: hosts.join(","),
        ..base(i, Kind::Ingress)
    }
}

pub fn configmap(c: &ConfigMap) -> ObjRow {
    let mut keys: Vec<String> = c.data.iter().flat_map(|d| d.keys().cloned()).collect();
    keys.extend(c.binary_data.iter().flat_map(|d| d.keys().cloned()));
    ObjRow {
        health: Health::Healthy,
        keys,
        ..base(c, Kind::ConfigMap)
    }
}

/// Names and keys only: a Secret's values never leave this function.
pub fn secret(s: &Secret) -> ObjRow {
    let mut keys: Vec<String> = s.data.iter().flat_map(|d| d.keys().cloned()).collect();
    keys.extend(s.string_data.iter().flat_map(|d| d.keys().cloned()));
    ObjRow {
        health: Health::Healthy,
        keys,
        detail: s.type_.clone().unwrap_or_default(),
        ..base(s, Kind::Secret)
    }
}

pub fn pv(p: &PersistentVolume) -> ObjRow {
    let phase = p
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default();
    let health = match phase.as_str() {
        "Bound" | "Available" => Health::Healthy,
        "Released" => Health::Progressing,
        "Failed" => Health::Failed,
        _ => Health::Unknown,
    };
    let spec = p.spec.clone().unwrap_or_default();
    let claim = spec.claim_ref.as_ref().map(|c| {
        format!(
            "{}/{}",
            c.namespace.clone().unwrap_or_default(),
            c.name.clone().unwrap_or_default()
        )
    });
    let volume = spec
        .csi
        .as_ref()
        .map(|c| c.volume_handle.clone())
        .or_else(|| spec.portworx_volume.as_ref().map(|v| v.volume_id.clone()))
        .unwrap_or_default();
    ObjRow {
        health,
        detail: phase,
        claims: claim.into_iter().collect(),
        volume,
        ..base(p, Kind::Pv)
    }
}

/// snapshot.storage.k8s.io VolumeSnapshot: ready means readyToUse, failed means error.
pub fn volumesnapshot(o: &DynamicObject) -> ObjRow {
    let status = &o.data["status"];
    let (health, detail) = if let Some(m) = status["error"]["message"].as_str() {
        (Health::Failed, m.to_string())
    } else if status["readyToUse"].as_bool() == Some(true) {
        (
            Health::Healthy,
            format!("ready {}", status["restoreSize"].as_str().unwrap_or(""))
                .trim()
                .to_string(),
        )
    } else {
        (Health::Progressing, "pending".into())
    };
    let source = o.data["spec"]["source"]["persistentVolumeClaimName"]
        .as_str()
        .map(String::from);
    // Only sextant's own labels: what the storage pane and a restore need.
    let labels = o
        .labels()
        .iter()
        .filter(|(k, _)| k.starts_with("sextant.dev/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    ObjRow {
        health,
        detail,
        claims: source.into_iter().collect(),
        labels,
        size: text(&status["restoreSize"]),
        volume: text(&status["boundVolumeSnapshotContentName"]),
        ..base(o, Kind::VolumeSnapshot)
    }
}

pub fn warning(e: &Event) -> WarningRow {
    let time = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0.as_second())
        .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
        .or_else(|| {
            e.metadata
                .creation_timestamp
                .as_ref()
                .map(|t| t.0.as_second())
        })
        .unwrap_or(0);
    let o = &e.involved_object;
    let message: String = e
        .message
        .clone()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    WarningRow {
        namespace: e.metadata.namespace.clone().unwrap_or_default(),
        name: e.metadata.name.clone().unwrap_or_default(),
        object: format!(
            "{}/{}",
            o.kind.clone().unwrap_or_default(),
            o.name.clone().unwrap_or_default()
        ),
        reason: e.reason.clone().unwrap_or_default(),
        message: message.chars().take(300).collect(),
        count: e.count.unwrap_or(1).max(1) as u32,
        time,
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
