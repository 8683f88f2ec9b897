//! CSI VolumeSnapshots of a workload's claims, labelled so the storage pane, the
//! metrics markers and a later restore know what they were taken of and at which commit.
use super::workload::{Workload, scale, wait_scaled_down};
use crate::exec::Writer;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, PostParams};
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// The workload a snapshot was taken of (its name; the kind is in WORKLOAD_KIND_LABEL).
pub const WORKLOAD_LABEL: &str = "sextant.dev/workload";
/// `StatefulSet` or `Deployment`.
pub const WORKLOAD_KIND_LABEL: &str = "sextant.dev/workload-kind";
/// Full SHA of the commit the cluster was synced to when the snapshot was taken.
pub const COMMIT_LABEL: &str = "sextant.dev/commit";
/// Why it was taken: `manual`, `pre-restore` or `pre-sync`.
pub const REASON_LABEL: &str = "sextant.dev/reason";
/// Snapshots taken together (one per claim) share this value.
pub const SET_LABEL: &str = "sextant.dev/set";

/// The Portworx CSI driver, the only one whose snapshots sextant restores.
pub const PX_DRIVER: &str = "pxd.portworx.com";

pub fn snapshot_api(client: &Client, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(client.clone(), ns, &resource("VolumeSnapshot"))
}

pub fn content_api(client: &Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &resource("VolumeSnapshotContent"))
}

fn resource(kind: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk("snapshot.storage.k8s.io", "v1", kind);
    let plural = match kind {
        "VolumeSnapshotClass" => "volumesnapshotclasses".to_string(),
        k => format!("{}s", k.to_lowercase()),
    };
    ApiResource::from_gvk_with_plural(&gvk, &plural)
}

pub(crate) fn kube_error(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        e => crate::sources::kube::one_line(&e),
    }
}

/// How several claims get one point in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Consistency {
    /// While the workload runs: one Stork group when Stork is installed and there are
    /// several claims, else each claim on its own.
    Auto,
    /// Each claim on its own while the workload runs (crash-consistent per volume).
    Each,
    /// Scale the workload to zero, snapshot, scale back.
    ScaleDown,
}

#[derive(Clone, Debug)]
pub struct Request {
    pub workload: Workload,
    /// The synced commit, for the label.
    pub commit: Option<String>,
    pub reason: &'static str,
    pub consistency: Consistency,
    /// Wait until every snapshot is ready to use (else only until each is created, or
    /// cut when the workload was scaled down).
    pub wait: bool,
    /// How long to wait for every snapshot to be ready (and for pods to stop).
    pub timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Taken {
    pub name: String,
    pub claim: String,
    pub ready: bool,
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SnapshotSet {
    pub namespace: String,
    pub set: String,
    pub snapshots: Vec<Taken>,
}

/// `name` cut so that `name` + `suffix` is a valid label value (63 characters).
fn label_safe(name: &str, suffix: &str) -> String {
    let keep = 63usize.saturating_sub(suffix.len());
    let head: String = name.chars().take(keep).collect();
    format!("{}{suffix}", head.trim_end_matches(['-', '.', '_']))
}

/// The VolumeSnapshot for one claim.
pub fn manifest(req: &Request, class: &str, claim: &str, set: &str, stamp: &str) -> Value {
    let w = &req.workload;
    let mut labels = json!({
        WORKLOAD_KIND_LABEL: w.kind.as_str(),
        REASON_LABEL: req.reason,
        SET_LABEL: set,
    });
    if w.name.len() <= 63 {
        labels[WORKLOAD_LABEL] = json!(w.name);
    }
    if let Some(c) = &req.commit {
        labels[COMMIT_LABEL] = json!(c);
    }
    json!({
        "apiVersion": "snapshot.storage.k8s.io/v1",
        "kind": "VolumeSnapshot",
        "metadata": {
            "name": format!("{}-{stamp}", super::short(claim, 200)),
            "namespace": w.namespace,
            "labels": labels,
            "annotations": {"sextant.dev/workload": format!("{}/{}", w.kind.as_str(), w.name)},
        },
        "spec": {
            "volumeSnapshotClassName": class,
            "source": {"persistentVolumeClaimName": claim},
        },
    })
}

/// The Portworx VolumeSnapshotClass: the default one if several.
pub async fn px_class(client: &Client) -> Result<String, String> {
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource("VolumeSnapshotClass"));
    let list = api.list(&ListParams::default()).await.map_err(|e| {
        format!(
            "VolumeSnapshotClasses: {} (are the snapshot CRDs installed?)",
            kube_error(e)
        )
    })?;
    let px: Vec<_> = list
        .items
        .iter()
        .filter(|c| c.data["driver"].as_str() == Some(PX_DRIVER))
        .collect();
    let default = px.iter().find(|c| {
        c.metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get("snapshot.storage.kubernetes.io/is-default-class"))
            .is_some_and(|v| v == "true")
    });
    default
        .or(px.first())
        .and_then(|c| c.metadata.name.clone())
        .ok_or_else(|| format!("no VolumeSnapshotClass for the {PX_DRIVER} driver"))
}

/// (ready, error) of a VolumeSnapshot.
pub fn readiness(o: &Value) -> (bool, Option<String>) {
    let st = &o["status"];
    let error = st["error"]["message"].as_str().map(String::from);
    (st["readyToUse"].as_bool() == Some(true), error)
}

/// Takes the snapshots and waits until each is ready or has failed.
pub async fn take(
    w: &Writer,
    client: &Client,
    req: &Request,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<SnapshotSet, String> {
    let wl = &req.workload;
    let claims = wl.claims(client).await?;
    if claims.is_empty() {
        return Err(format!("{wl} has no PersistentVolumeClaims to snapshot"));
    }
    // Two sets taken in one second must not share a set label.
    let now = chrono::Utc::now();
    let stamp = format!(
        "{}-{:04x}",
        now.format("%Y%m%d-%H%M%S"),
        now.timestamp_subsec_nanos() % 0x10000
    );
    let set = label_safe(&wl.name, &format!("-{stamp}"));
    // Several claims, one point in time, without stopping: Stork's group, if served.
    if claims.len() > 1
        && req.consistency == Consistency::Auto
        && super::stork::served(client).await
    {
        let like = manifest(req, "", &claims[0], &set, &stamp);
        return super::stork::take(w, client, &like, &claims, &set, req.timeout, progress).await;
    }
    let class = px_class(client).await?;
    let scaled = match req.consistency {
        Consistency::ScaleDown if claims.len() > 1 => {
            let replicas = wl.replicas(client).await?;
            progress(format!(
                "scaling {wl} to 0 (from {replicas}) for one point in time"
            ));
            scale(w, client, wl, 0).await?;
            if let Err(e) = wait_scaled_down(client, wl, req.timeout, progress).await {
                let back = scale(w, client, wl, replicas).await;
                return Err(format!(
                    "{e}; {}",
                    match back {
                        Ok(()) => format!("scaled {wl} back to {replicas}"),
                        Err(b) => format!("could not scale {wl} back to {replicas}: {b}"),
                    }
                ));
            }
            Some(replicas)
        }
        _ => None,
    };
    let api = snapshot_api(client, &wl.namespace);
    let mut names = Vec::new();
    let mut failed = None;
    for c in &claims {
        let body: DynamicObject = serde_json::from_value(manifest(req, &class, c, &set, &stamp))
            .map_err(|e| e.to_string())?;
        match api.create(&PostParams::default(), &body).await {
            Ok(o) => names.push((o.metadata.name.unwrap_or_default(), c.clone())),
            Err(e) => {
                failed = Some(format!("snapshot of {c}: {}", kube_error(e)));
                break;
            }
        }
    }
    // Pods come back as soon as every snapshot is cut, not when it is ready.
    let cut = match failed {
        None if scaled.is_some() => wait(&api, &names, req.timeout, true, progress).await,
        None => Ok(Vec::new()),
        Some(e) => Err(e),
    };
    if let Some(replicas) = scaled {
        progress(format!("scaling {wl} back to {replicas}"));
        if let Err(e) = scale(w, client, wl, replicas).await {
            return Err(format!("could not scale {wl} back to {replicas}: {e}"));
        }
    }
    cut?;
    let snapshots = if req.wait {
        wait(&api, &names, req.timeout, false, progress).await?
    } else {
        let taken = |(name, claim): &(String, String)| Taken {
            name: name.clone(),
            claim: claim.clone(),
            ready: false,
            error: None,
        };
        names.iter().map(taken).collect()
    };
    let set = SnapshotSet {
        namespace: wl.namespace.clone(),
        set,
        snapshots,
    };
    match set.snapshots.iter().find(|t| t.error.is_some()) {
        Some(t) => Err(format!(
            "snapshot {} of {} failed: {}",
            t.name,
            t.claim,
            t.error.as_deref().unwrap_or_default()
        )),
        None => Ok(set),
    }
}

/// StatefulSets a sync would change: their claims are snapshotted first.
pub fn changed_by(plan: &super::plan::Plan) -> Vec<Workload> {
    use super::plan::Action;
    plan.steps
        .iter()
        .filter(|s| matches!(s.action, Action::Update | Action::Conflict))
        .filter(|s| s.object.kind == "StatefulSet")
        .filter_map(|s| {
            Some(Workload {
                kind: super::workload::WorkloadKind::StatefulSet,
                namespace: s.object.namespace.clone()?,
                name: s.object.name.clone(),
            })
        })
        .collect()
}

/// Snapshots each workload before a sync, labelled with the commit it runs now.
/// Returns one snapshot of each set (namespace/name), for the sync record.
pub async fn before_sync(
    w: &Writer,
    client: &Client,
    workloads: &[Workload],
    commit: Option<String>,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Vec<String>, String> {
    let mut taken = Vec::new();
    for wl in workloads {
        progress(format!("snapshot of {wl} before the sync"));
        let req = Request {
            workload: wl.clone(),
            commit: commit.clone(),
            reason: "pre-sync",
            consistency: Consistency::Auto,
            wait: true,
            timeout: Duration::from_secs(300),
        };
        match take(w, client, &req, progress).await {
            Ok(set) => taken.extend(
                set.snapshots
                    .first()
                    .map(|t| format!("{}/{}", set.namespace, t.name)),
            ),
            // A workload without claims has nothing to lose.
            Err(e) if e.ends_with("has no PersistentVolumeClaims to snapshot") => {}
            Err(e) => return Err(format!("snapshot before sync: {e}; nothing was applied")),
        }
    }
    Ok(taken)
}

/// Waits until every snapshot is cut (`cut_only`: a content is bound with a creation
/// time) or ready, or has failed.
async fn wait(
    api: &Api<DynamicObject>,
    names: &[(String, String)],
    timeout: Duration,
    cut_only: bool,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Vec<Taken>, String> {
    let end = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let mut out = Vec::new();
        for (name, claim) in names {
            let o = api.get(name).await.map_err(kube_error)?;
            let v = serde_json::to_value(&o).unwrap_or_default();
            let (ready, error) = readiness(&v);
            let cut = ready || !v["status"]["creationTime"].is_null();
            out.push((
                Taken {
                    name: name.clone(),
                    claim: claim.clone(),
                    ready,
                    error,
                },
                cut,
            ));
        }
        let done = out
            .iter()
            .filter(|(t, cut)| t.error.is_some() || if cut_only { *cut } else { t.ready })
            .count();
        let line = format!(
            "{done}/{} snapshots {}",
            names.len(),
            if cut_only { "taken" } else { "ready" }
        );
        if line != last {
            progress(line.clone());
            last = line;
        }
        if done == names.len() {
            return Ok(out.into_iter().map(|(t, _)| t).collect());
        }
        if Instant::now() > end {
            let waiting: Vec<_> = out
                .iter()
                .filter(|(t, _)| !t.ready && t.error.is_none())
                .map(|(t, _)| t.name.as_str())
                .collect();
            return Err(format!(
                "not ready after {}s: {}",
                timeout.as_secs(),
                waiting.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::workload::WorkloadKind;

    fn req(name: &str) -> Request {
        Request {
            workload: Workload {
                kind: WorkloadKind::StatefulSet,
                namespace: "shop".into(),
                name: name.into(),
            },
            commit: Some("a".repeat(40)),
            reason: "manual",
            consistency: Consistency::Each,
            wait: true,
            timeout: Duration::from_secs(1),
        }
    }

    #[test]
    fn snapshots_carry_the_workload_commit_and_set() {
        let m = manifest(
            &req("carts-db"),
            "px-csi-snapclass",
            "data-carts-db-0",
            "carts-db-20261125-101500",
            "20261125-101500",
        );
        assert_eq!(m["metadata"]["name"], "data-carts-db-0-20261125-101500");
        let l = &m["metadata"]["labels"];
        assert_eq!(l[WORKLOAD_LABEL], "carts-db");
        assert_eq!(l[WORKLOAD_KIND_LABEL], "StatefulSet");
        assert_eq!(l[COMMIT_LABEL], "a".repeat(40));
        assert_eq!(l[SET_LABEL], "carts-db-20261125-101500");
        assert_eq!(
            m["spec"]["source"]["persistentVolumeClaimName"],
            "data-carts-db-0"
        );
        assert_eq!(m["spec"]["volumeSnapshotClassName"], "px-csi-snapclass");
    }

    #[test]
    fn label_values_stay_within_63_characters() {
        let long = "x".repeat(80);
        let v = label_safe(&long, "-20261125-101500");
        assert_eq!(v.len(), 63);
        assert!(v.ends_with("-20261125-101500"));
        assert_eq!(label_safe("a-", "-1"), "a-1", "no doubled separators");
        let m = manifest(&req(&long), "c", "d", "s", "t");
        assert!(m["metadata"]["labels"][WORKLOAD_LABEL].is_null());
        assert_eq!(
            m["metadata"]["annotations"]["sextant.dev/workload"],
            format!("StatefulSet/{long}")
        );
    }

    #[test]
    fn readiness_is_ready_to_use_or_an_error() {
        assert_eq!(readiness(&json!({})), (false, None));
        assert_eq!(
            readiness(&json!({"status": {"readyToUse": true}})),
            (true, None)
        );
        assert_eq!(
            readiness(&json!({"status": {"readyToUse": false, "error": {"message": "px down"}}})),
            (false, Some("px down".into()))
        );
    }
}
