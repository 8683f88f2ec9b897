//! The stateful side of a workload: which claims it uses, its replica count, scaling
//! it and waiting for its pods, as snapshot and restore need.
use super::snapshot::kube_error;
use crate::exec::Writer;
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, PodSpec};
use kube::Client;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WorkloadKind {
    StatefulSet,
    Deployment,
}

impl WorkloadKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WorkloadKind::StatefulSet => "StatefulSet",
            WorkloadKind::Deployment => "Deployment",
        }
    }

    pub fn parse(s: &str) -> Option<WorkloadKind> {
        match s.to_ascii_lowercase().as_str() {
            "statefulset" | "statefulsets" | "sts" => Some(WorkloadKind::StatefulSet),
            "deployment" | "deployments" | "deploy" => Some(WorkloadKind::Deployment),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workload {
    pub kind: WorkloadKind,
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} {}/{}", self.kind.as_str(), self.namespace, self.name)
    }
}

/// Claims a pod template mounts by name.
fn mounted(spec: Option<&PodSpec>) -> Vec<String> {
    spec.and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .map(|c| c.claim_name.clone())
        .collect()
}

/// Whether `claim` was made from template `template` for StatefulSet `sts`:
/// `<template>-<sts>-<ordinal>`.
pub fn from_template(claim: &str, template: &str, sts: &str) -> bool {
    claim
        .strip_prefix(&format!("{template}-{sts}-"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn replicas_patch(n: i32) -> serde_json::Value {
    serde_json::json!({"spec": {"replicas": n}})
}

impl Workload {
    /// `[NAMESPACE/]KIND/NAME`; the namespace defaults to `namespace`.
    pub fn parse(s: &str, namespace: &str) -> Result<Workload, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let (ns, kind, name) = match parts.as_slice() {
            [kind, name] => (namespace, *kind, *name),
            [ns, kind, name] => (*ns, *kind, *name),
            _ => {
                return Err(format!(
                    "{s:?}: expected [NAMESPACE/]KIND/NAME, e.g. sts/carts-db"
                ));
            }
        };
        let kind = WorkloadKind::parse(kind).ok_or_else(|| {
            format!("{kind:?} is not a StatefulSet or Deployment (sts/NAME or deploy/NAME)")
        })?;
        if name.is_empty() || ns.is_empty() {
            return Err(format!("{s:?}: empty name or namespace"));
        }
        Ok(Workload {
            kind,
            namespace: ns.to_string(),
            name: name.to_string(),
        })
    }

    fn sts(&self, c: &Client) -> Api<StatefulSet> {
        Api::namespaced(c.clone(), &self.namespace)
    }

    fn deploy(&self, c: &Client) -> Api<Deployment> {
        Api::namespaced(c.clone(), &self.namespace)
    }

    async fn statefulset(&self, c: &Client) -> Result<StatefulSet, String> {
        self.sts(c)
            .get(&self.name)
            .await
            .map_err(|e| format!("{self}: {}", kube_error(e)))
    }

    async fn deployment(&self, c: &Client) -> Result<Deployment, String> {
        self.deploy(c)
            .get(&self.name)
            .await
            .map_err(|e| format!("{self}: {}", kube_error(e)))
    }

    /// Its claims that exist, sorted: templated ones of every ordinal, and mounted ones.
    pub async fn claims(&self, c: &Client) -> Result<Vec<String>, String> {
        let (templates, mut claims) = match self.kind {
            WorkloadKind::StatefulSet => {
                let s = self.statefulset(c).await?.spec.unwrap_or_default();
                let t: Vec<String> = s
                    .volume_claim_templates
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| t.metadata.name)
                    .collect();
                (t, mounted(s.template.spec.as_ref()))
            }
            WorkloadKind::Deployment => {
                let d = self.deployment(c).await?;
                let spec = d.spec.unwrap_or_default();
                (Vec::new(), mounted(spec.template.spec.as_ref()))
            }
        };
        let api: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), &self.namespace);
        let existing: Vec<String> = api
            .list_metadata(&ListParams::default())
            .await
            .map_err(|e| format!("claims in {}: {}", self.namespace, kube_error(e)))?
            .items
            .into_iter()
            .filter_map(|m| m.metadata.name)
            .collect();
        claims.retain(|c| existing.contains(c));
        for e in &existing {
            if templates.iter().any(|t| from_template(e, t, &self.name)) {
                claims.push(e.clone());
            }
        }
        claims.sort();
        claims.dedup();
        Ok(claims)
    }

    pub async fn replicas(&self, c: &Client) -> Result<i32, String> {
        let n = match self.kind {
            WorkloadKind::StatefulSet => self.statefulset(c).await?.spec.and_then(|s| s.replicas),
            WorkloadKind::Deployment => self.deployment(c).await?.spec.and_then(|s| s.replicas),
        };
        Ok(n.unwrap_or(1))
    }

    /// Why scaling this workload down would delete its claims, if it would.
    pub async fn retention_refusal(&self, c: &Client) -> Result<Option<String>, String> {
        if self.kind != WorkloadKind::StatefulSet {
            return Ok(None);
        }
        let s = self.statefulset(c).await?;
        Ok(retention_refusal(
            &serde_json::to_value(&s).unwrap_or_default(),
        ))
    }

    /// Its pods, by the workload's selector.
    pub async fn pods(&self, c: &Client) -> Result<Vec<String>, String> {
        let selector = match self.kind {
            WorkloadKind::StatefulSet => self.statefulset(c).await?.spec.map(|s| s.selector),
            WorkloadKind::Deployment => self.deployment(c).await?.spec.map(|s| s.selector),
        };
        let labels: Vec<String> = selector
            .and_then(|s| s.match_labels)
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if labels.is_empty() {
            return Err(format!("{self} has no matchLabels selector"));
        }
        let api: Api<Pod> = Api::namespaced(c.clone(), &self.namespace);
        let list = api
            .list_metadata(&ListParams::default().labels(&labels.join(",")))
            .await
            .map_err(|e| format!("pods of {self}: {}", kube_error(e)))?;
        let mut names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
        names.sort();
        Ok(names)
    }

    /// The workload as JSON, for rollout status.
    pub async fn object(&self, c: &Client) -> Result<serde_json::Value, String> {
        let mut v = match self.kind {
            WorkloadKind::StatefulSet => serde_json::to_value(self.statefulset(c).await?),
            WorkloadKind::Deployment => serde_json::to_value(self.deployment(c).await?),
        }
        .unwrap_or_default();
        v["kind"] = self.kind.as_str().into();
        Ok(v)
    }
}

/// The refusal for a StatefulSet whose claims are deleted when it scales down.
pub fn retention_refusal(sts: &serde_json::Value) -> Option<String> {
    let policy = &sts["spec"]["persistentVolumeClaimRetentionPolicy"];
    (policy["whenScaled"].as_str() == Some("Delete")).then(|| {
        "its persistentVolumeClaimRetentionPolicy.whenScaled is Delete: scaling it to zero \
         would delete the claims being restored. Set it to Retain first."
            .to_string()
    })
}

pub async fn scale(_w: &Writer, c: &Client, wl: &Workload, n: i32) -> Result<(), String> {
    let pp = PatchParams {
        field_manager: Some(super::target::FIELD_MANAGER.into()),
        ..Default::default()
    };
    let patch = replicas_patch(n);
    let p = Patch::Merge(&patch);
    let r = match wl.kind {
        WorkloadKind::StatefulSet => wl.sts(c).patch(&wl.name, &pp, &p).await.map(|_| ()),
        WorkloadKind::Deployment => wl.deploy(c).patch(&wl.name, &pp, &p).await.map(|_| ()),
    };
    r.map_err(|e| format!("scale {wl} to {n}: {}", kube_error(e)))
}

/// Waits until the workload has no pods left.
pub async fn wait_scaled_down(
    c: &Client,
    wl: &Workload,
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<(), String> {
    let end = Instant::now() + timeout;
    let mut last = usize::MAX;
    loop {
        let pods = wl.pods(c).await?;
        if pods.is_empty() {
            return Ok(());
        }
        if pods.len() != last {
            progress(format!(
                "{} pods still running: {}",
                pods.len(),
                pods.join(", ")
            ));
            last = pods.len();
        }
        if Instant::now() > end {
            return Err(format!(
                "pods of {wl} still there after {}s: {}",
                timeout.as_secs(),
                pods.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Waits until the workload has rolled out with every replica ready.
pub async fn wait_ready(
    c: &Client,
    wl: &Workload,
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<(), String> {
    let end = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let (done, text) = super::rollout::status(&wl.object(c).await?).unwrap_or_default();
        if done {
            return Ok(());
        }
        if text != last {
            progress(text.clone());
            last = text.clone();
        }
        if Instant::now() > end {
            return Err(format!(
                "{wl} not ready after {}s: {text}",
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn workloads_parse_with_or_without_a_namespace() {
        assert_eq!(
            Workload::parse("sts/carts-db", "shop").unwrap(),
            Workload {
                kind: WorkloadKind::StatefulSet,
                namespace: "shop".into(),
                name: "carts-db".into()
            }
        );
        let w = Workload::parse("db/deployment/api", "shop").unwrap();
        assert_eq!(
            (w.kind, w.namespace.as_str()),
            (WorkloadKind::Deployment, "db")
        );
        assert!(Workload::parse("carts-db", "shop").is_err());
        assert!(
            Workload::parse("pod/x", "shop")
                .unwrap_err()
                .contains("not a StatefulSet")
        );
    }

    #[test]
    fn template_claims_match_every_ordinal_only() {
        assert!(from_template("data-carts-db-0", "data", "carts-db"));
        assert!(from_template("data-carts-db-12", "data", "carts-db"));
        assert!(!from_template("data-carts-db-x", "data", "carts-db"));
        assert!(!from_template("data-carts-db-", "data", "carts-db"));
        assert!(!from_template("data-carts-db2-0", "data", "carts-db"));
    }

    #[test]
    fn a_delete_retention_on_scale_is_refused() {
        let sts =
            |p: serde_json::Value| json!({"spec": {"persistentVolumeClaimRetentionPolicy": p}});
        assert!(retention_refusal(&sts(json!({"whenScaled": "Delete"}))).is_some());
        assert!(
            retention_refusal(&sts(
                json!({"whenScaled": "Retain", "whenDeleted": "Delete"})
            ))
            .is_none()
        );
        assert!(retention_refusal(&json!({"spec": {}})).is_none());
    }
}
