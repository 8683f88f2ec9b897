//! Restoring a workload's claims from a snapshot set, in place through the Portworx SDK.
//!
//! Why in place: the claims, their PVs and their names stay as the StatefulSet's
//! templates expect, nothing is deleted (a claim deleted with a Delete reclaim policy
//! takes its volume and perhaps its snapshots with it), and no copy is made. The cost
//! is that the volume must be detached, so the workload is scaled to zero first.
//!
//! The plan is read-only; `run` (in restore_run.rs) carries it out step by step and
//! keeps its progress in the cluster, so a failed restore resumes where it stopped.
use super::snapshot::{
    COMMIT_LABEL, PX_DRIVER, SET_LABEL, WORKLOAD_KIND_LABEL, WORKLOAD_LABEL, content_api,
    kube_error, readiness, snapshot_api,
};
use super::workload::{Workload, WorkloadKind, from_template};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolume, PersistentVolumeClaim};
use kube::Client;
use kube::api::{Api, ListParams};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One claim and the snapshot it goes back to.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Item {
    pub claim: String,
    /// The VolumeSnapshot.
    pub snapshot: String,
    pub pv: String,
    /// The Portworx volume id (the PV's CSI volume handle).
    pub volume: String,
    /// The Portworx snapshot id (the content's snapshot handle).
    pub px_snapshot: String,
}

/// The steps, in order. Each is reported as it starts and recorded when done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    Safety,
    Remember,
    ScaleDown,
    Detach,
    Restore,
    WaitRestore,
    ScaleUp,
    WaitReady,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Safety,
        Step::Remember,
        Step::ScaleDown,
        Step::Detach,
        Step::Restore,
        Step::WaitRestore,
        Step::ScaleUp,
        Step::WaitReady,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Step::Safety => "take a safety snapshot",
            Step::Remember => "remember the replica count",
            Step::ScaleDown => "scale to zero",
            Step::Detach => "wait for pods gone and volumes detached",
            Step::Restore => "restore the volumes",
            Step::WaitRestore => "wait for the restore to finish",
            Step::ScaleUp => "scale back",
            Step::WaitReady => "wait for ready",
        }
    }

    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }
}

/// What the cluster keeps while a restore is under way (ConfigMap
/// sextant-system/restore-NS-NAME), so that a second run knows the replica count to
/// go back to and the steps already done.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub snapshot: String,
    pub replicas: i32,
    pub done: Vec<Step>,
    /// The safety snapshot set, once taken.
    pub safety: Option<String>,
    /// Where the last run stopped.
    pub error: Option<String>,
    /// The workload restored, so a later start can find the record and offer it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<Workload>,
    /// Who runs it, "HOST PID": a run still alive on this machine is not offered as
    /// unfinished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// This process as a record's owner.
pub fn this_owner() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    format!("{} {}", host.trim(), std::process::id())
}

/// Whether `owner` is a sextant still running on this machine (this one included).
fn still_running(owner: &str) -> bool {
    let here = this_owner();
    let (host, _) = here.split_once(' ').unwrap_or_default();
    let Some(pid) = owner.strip_prefix(host).and_then(|r| r.strip_prefix(' ')) else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == "sextant")
}

impl Record {
    /// The first step not done: where it stopped.
    pub fn stopped_at(&self) -> Step {
        Step::ALL
            .into_iter()
            .find(|s| !self.done.contains(s))
            .unwrap_or(Step::WaitReady)
    }

    /// Whether the claims may hold restored data: the restore step was reached.
    pub fn data_changed(&self) -> bool {
        self.stopped_at() >= Step::Restore
    }
}

/// The restores a stopped sextant left unfinished: their records in the cluster, for
/// workloads that still exist.
pub async fn unfinished(c: &Client) -> Result<Vec<Record>, String> {
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), super::record::NAMESPACE);
    let list = match api.list(&ListParams::default()).await {
        Ok(l) => l,
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(Vec::new()),
        Err(e) => return Err(format!("restore records: {}", kube_error(e))),
    };
    let mut found = Vec::new();
    for cm in list.items {
        let ours = cm
            .metadata
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with("restore-"));
        let rec = cm
            .data
            .and_then(|d| serde_json::from_str::<Record>(d.get("record")?).ok())
            .filter(|_| ours);
        if let Some(rec) = rec
            && let Some(wl) = &rec.workload
            && !rec.owner.as_deref().is_some_and(still_running)
            && wl.object(c).await.is_ok()
        {
            found.push(rec);
        }
    }
    Ok(found)
}

pub fn record_name(wl: &Workload) -> String {
    let name = format!("restore-{}-{}", wl.namespace, wl.name);
    super::short(&name, 253).to_string()
}

pub async fn read_record(c: &Client, wl: &Workload) -> Result<Option<Record>, String> {
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), super::record::NAMESPACE);
    let cm = api
        .get_opt(&record_name(wl))
        .await
        .map_err(|e| format!("restore record: {}", kube_error(e)))?;
    Ok(cm
        .and_then(|cm| cm.data)
        .and_then(|d| d.get("record").cloned())
        .and_then(|r| serde_json::from_str(&r).ok()))
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    pub workload: Workload,
    /// The snapshot asked for, as namespace/name.
    pub snapshot: String,
    pub set: Option<String>,
    pub items: Vec<Item>,
    /// The workload's claims that keep their data.
    pub untouched: Vec<String>,
    /// The replica count to go back to: the remembered one when a restore is unfinished.
    pub replicas: i32,
    pub pods: Vec<String>,
    /// When the snapshot was taken (RFC 3339) and at which synced commit.
    pub taken: String,
    pub commit: Option<String>,
    /// Why it cannot go ahead.
    pub refusal: Option<String>,
    /// An unfinished restore of the same snapshot, to resume.
    pub resume: Option<Record>,
    /// Another restore's record: its replica count is used.
    pub unfinished: Option<Record>,
}

impl Plan {
    /// The confirmation text: what is restored, what stops, what is lost.
    pub fn preview(&self, safety: bool) -> Vec<String> {
        let wl = &self.workload;
        let mut v = vec![format!("Restore {wl} from snapshot {}", self.snapshot)];
        v.push(format!(
            "  taken {}{}",
            self.taken,
            self.commit
                .as_deref()
                .map(|c| format!(" at commit {}", super::short(c, 8)))
                .unwrap_or_default()
        ));
        v.push("Claims restored (in place, same names):".into());
        for i in &self.items {
            v.push(format!("  {} ← {}", i.claim, i.snapshot));
        }
        if !self.untouched.is_empty() {
            v.push(format!(
                "Claims kept as they are: {}",
                self.untouched.join(", ")
            ));
        }
        v.push(format!(
            "Pods that stop: {}",
            if self.pods.is_empty() {
                "none running".to_string()
            } else {
                self.pods.join(", ")
            }
        ));
        v.push(format!(
            "Scaled to 0, restored, then back to {} replicas.",
            self.replicas
        ));
        v.push("Every write to these claims after the snapshot is LOST.".into());
        v.push(if safety {
            "A safety snapshot of the current data is taken first.".into()
        } else {
            "No safety snapshot: the current data cannot be recovered.".into()
        });
        if let Some(r) = &self.resume {
            let done: Vec<_> = r.done.iter().map(|s| s.label()).collect();
            v.push(format!(
                "Resumes an unfinished restore (done: {}).",
                if done.is_empty() {
                    "nothing".into()
                } else {
                    done.join(", ")
                }
            ));
        }
        if let Some(why) = &self.refusal {
            v.push(format!("REFUSED: {why}"));
        }
        v
    }
}

/// `namespace/name` or a name in `namespace`.
pub fn split_name<'a>(s: &'a str, namespace: &'a str) -> (&'a str, &'a str) {
    s.split_once('/').unwrap_or((namespace, s))
}

fn label<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o["metadata"]["labels"][key].as_str()
}

/// The workload whose claims include `claim`: from the snapshot's labels, else by search.
async fn owner(c: &Client, ns: &str, vs: &Value, claim: &str) -> Result<Workload, String> {
    if let (Some(kind), Some(name)) = (label(vs, WORKLOAD_KIND_LABEL), label(vs, WORKLOAD_LABEL))
        && let Some(kind) = WorkloadKind::parse(kind)
    {
        return Ok(Workload {
            kind,
            namespace: ns.into(),
            name: name.into(),
        });
    }
    let lp = ListParams::default();
    let sts = Api::<StatefulSet>::namespaced(c.clone(), ns)
        .list(&lp)
        .await
        .map_err(kube_error)?;
    for s in sts.items {
        let name = s.metadata.name.clone().unwrap_or_default();
        let spec = s.spec.unwrap_or_default();
        let templated = spec
            .volume_claim_templates
            .iter()
            .flatten()
            .filter_map(|t| t.metadata.name.as_deref())
            .any(|t| from_template(claim, t, &name));
        if templated || mounts(spec.template.spec.as_ref(), claim) {
            return Ok(Workload {
                kind: WorkloadKind::StatefulSet,
                namespace: ns.into(),
                name,
            });
        }
    }
    let deps = Api::<Deployment>::namespaced(c.clone(), ns)
        .list(&lp)
        .await
        .map_err(kube_error)?;
    for d in deps.items {
        let spec = d.spec.unwrap_or_default();
        if mounts(spec.template.spec.as_ref(), claim) {
            return Ok(Workload {
                kind: WorkloadKind::Deployment,
                namespace: ns.into(),
                name: d.metadata.name.unwrap_or_default(),
            });
        }
    }
    Err(format!(
        "no StatefulSet or Deployment in {ns} uses claim {claim}"
    ))
}

fn mounts(spec: Option<&k8s_openapi::api::core::v1::PodSpec>, claim: &str) -> bool {
    spec.and_then(|s| s.volumes.as_ref())
        .into_iter()
        .flatten()
        .filter_map(|v| v.persistent_volume_claim.as_ref())
        .any(|p| p.claim_name == claim)
}

/// The PV and the Portworx volume id of a bound claim.
async fn volume_of(c: &Client, ns: &str, claim: &str) -> Result<(String, String), String> {
    let pvc = Api::<PersistentVolumeClaim>::namespaced(c.clone(), ns)
        .get(claim)
        .await
        .map_err(|e| format!("claim {claim}: {}", kube_error(e)))?;
    let pv_name = pvc
        .spec
        .and_then(|s| s.volume_name)
        .ok_or_else(|| format!("claim {claim} is not bound"))?;
    let pv = Api::<PersistentVolume>::all(c.clone())
        .get(&pv_name)
        .await
        .map_err(|e| format!("volume {pv_name}: {}", kube_error(e)))?;
    let volume = pv
        .spec
        .and_then(|s| s.csi)
        .filter(|c| c.driver == PX_DRIVER)
        .map(|c| c.volume_handle)
        .ok_or_else(|| format!("{pv_name} is not a {PX_DRIVER} volume"))?;
    Ok((pv_name, volume))
}

/// The claim, PV, volume and Portworx snapshot behind one VolumeSnapshot.
async fn item(c: &Client, ns: &str, vs: &Value) -> Result<Item, String> {
    let name = vs["metadata"]["name"].as_str().unwrap_or_default();
    let claim = vs["spec"]["source"]["persistentVolumeClaimName"]
        .as_str()
        .ok_or_else(|| format!("snapshot {name} was not taken of a claim"))?;
    match readiness(vs) {
        (_, Some(e)) => return Err(format!("snapshot {name} failed: {e}")),
        (false, None) => return Err(format!("snapshot {name} is not ready to use yet")),
        _ => {}
    }
    let content = vs["status"]["boundVolumeSnapshotContentName"]
        .as_str()
        .ok_or_else(|| format!("snapshot {name} has no bound content"))?;
    let content = content_api(c)
        .get(content)
        .await
        .map_err(|e| format!("content of {name}: {}", kube_error(e)))?;
    let content = serde_json::to_value(content).unwrap_or_default();
    let px_snapshot = content["status"]["snapshotHandle"]
        .as_str()
        .ok_or_else(|| format!("content of {name} has no snapshot handle"))?;
    if content["spec"]["driver"].as_str() != Some(PX_DRIVER) {
        return Err(format!(
            "snapshot {name} was not taken by {PX_DRIVER}; sextant restores Portworx volumes only"
        ));
    }
    let (pv_name, volume) = volume_of(c, ns, claim).await?;
    Ok(Item {
        claim: claim.into(),
        snapshot: name.into(),
        pv: pv_name,
        volume,
        px_snapshot: px_snapshot.into(),
    })
}

/// What a snapshot (or a Stork group) restores: read before the common checks.
struct Source {
    /// The object whose labels and time describe it.
    obj: Value,
    workload: Workload,
    set: Option<String>,
    items: Vec<Item>,
    taken: String,
}

/// A CSI VolumeSnapshot and the rest of its set.
async fn csi_source(c: &Client, ns: &str, vs: Value) -> Result<Source, String> {
    let name = vs["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let claim = vs["spec"]["source"]["persistentVolumeClaimName"]
        .as_str()
        .ok_or_else(|| format!("snapshot {name} was not taken of a claim"))?;
    let workload = owner(c, ns, &vs, claim).await?;
    let set = label(&vs, SET_LABEL).map(String::from);
    let members = match &set {
        Some(s) => {
            let lp = ListParams::default().labels(&format!("{SET_LABEL}={s}"));
            let list = snapshot_api(c, ns).list(&lp).await.map_err(kube_error)?;
            list.items
                .into_iter()
                .map(|o| serde_json::to_value(o).unwrap_or_default())
                .collect()
        }
        None => vec![vs.clone()],
    };
    let mut items = Vec::new();
    for m in &members {
        items.push(item(c, ns, m).await?);
    }
    let taken = vs["status"]["creationTime"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Source {
        obj: vs,
        workload,
        set,
        items,
        taken,
    })
}

/// A finished Stork GroupVolumeSnapshot: every claim it took.
async fn group_source(c: &Client, ns: &str, name: &str) -> Result<Option<Source>, String> {
    let Some((g, members)) = super::stork::read(c, ns, name).await? else {
        return Ok(None);
    };
    let first = members
        .first()
        .map(|m| m.0.clone())
        .ok_or_else(|| format!("the group snapshot {name} holds no claims"))?;
    let workload = owner(c, ns, &g, &first).await?;
    let mut items = Vec::new();
    for (claim, px) in members {
        let (pv, volume) = volume_of(c, ns, &claim).await?;
        items.push(Item {
            snapshot: name.to_string(),
            claim,
            pv,
            volume,
            px_snapshot: px,
        });
    }
    let taken = g["metadata"]["creationTimestamp"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    Ok(Some(Source {
        obj: g,
        workload,
        set: Some(name.to_string()),
        items,
        taken,
    }))
}

/// Reads what restoring `snapshot` (`[namespace/]name` of a CSI VolumeSnapshot, of a
/// set, or of a Stork GroupVolumeSnapshot) would do. Nothing is written.
pub async fn plan(c: &Client, namespace: &str, snapshot: &str) -> Result<Plan, String> {
    let (ns, name) = split_name(snapshot, namespace);
    let vs = snapshot_api(c, ns)
        .get_opt(name)
        .await
        .map_err(|e| format!("snapshot {ns}/{name}: {}", kube_error(e)))?;
    // A snapshot, else a set of them by its label, else a Stork group.
    let vs = match vs {
        Some(vs) => Some(vs),
        None => {
            let lp = ListParams::default().labels(&format!("{SET_LABEL}={name}"));
            let list = snapshot_api(c, ns).list(&lp).await.map_err(kube_error)?;
            list.items.into_iter().next()
        }
    };
    let src = match vs {
        Some(vs) => csi_source(c, ns, serde_json::to_value(vs).unwrap_or_default()).await?,
        None => group_source(c, ns, name).await?.ok_or_else(|| {
            format!("no VolumeSnapshot, snapshot set or Stork GroupVolumeSnapshot {ns}/{name}")
        })?,
    };
    let Source {
        obj,
        workload,
        set,
        mut items,
        taken,
    } = src;
    items.sort_by(|a, b| a.claim.cmp(&b.claim));
    let claims = workload.claims(c).await?;
    let untouched = claims
        .iter()
        .filter(|c| !items.iter().any(|i| &i.claim == *c))
        .cloned()
        .collect();
    let record = read_record(c, &workload).await?;
    let (resume, unfinished) = match record {
        Some(r) if r.snapshot == format!("{ns}/{name}") => (Some(r), None),
        other => (None, other),
    };
    let replicas = match resume.as_ref().or(unfinished.as_ref()) {
        Some(r) => r.replicas,
        None => workload.replicas(c).await?,
    };
    let mut refusal = workload.retention_refusal(c).await?;
    if let Some(stranger) = items.iter().find(|i| !claims.contains(&i.claim)) {
        refusal.get_or_insert(format!(
            "claim {} is not used by {workload}",
            stranger.claim
        ));
    }
    Ok(Plan {
        pods: workload.pods(c).await?,
        snapshot: format!("{ns}/{name}"),
        taken,
        commit: label(&obj, COMMIT_LABEL).map(String::from),
        workload,
        set,
        items,
        untouched,
        replicas,
        refusal,
        resume,
        unfinished,
    })
}

/// A plan to build tests on: carts-db, one claim, two replicas.
#[cfg(test)]
pub mod fixtures {
    use super::*;

    pub fn plan() -> Plan {
        Plan {
            workload: Workload {
                kind: WorkloadKind::StatefulSet,
                namespace: "shop".into(),
                name: "carts-db".into(),
            },
            snapshot: "shop/data-carts-db-0-20261125-101500".into(),
            set: Some("carts-db-20261125-101500".into()),
            items: vec![Item {
                claim: "data-carts-db-0".into(),
                snapshot: "data-carts-db-0-20261125-101500".into(),
                pv: "pvc-1".into(),
                volume: "11".into(),
                px_snapshot: "12".into(),
            }],
            untouched: vec!["logs-carts-db-0".into()],
            replicas: 2,
            pods: vec!["carts-db-0".into(), "carts-db-1".into()],
            taken: "2026-11-25T10:15:00Z".into(),
            commit: Some("8520e72aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".into()),
            refusal: None,
            resume: None,
            unfinished: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::plan;
    use super::*;

    #[test]
    fn the_preview_says_what_is_restored_stopped_and_lost() {
        let text = plan().preview(true).join("\n");
        for want in [
            "Restore StatefulSet shop/carts-db from snapshot shop/data-carts-db-0-20261125-101500",
            "at commit 8520e72a",
            "data-carts-db-0 ← data-carts-db-0-20261125-101500",
            "kept as they are: logs-carts-db-0",
            "Pods that stop: carts-db-0, carts-db-1",
            "back to 2 replicas",
            "after the snapshot is LOST",
            "safety snapshot of the current data is taken first",
        ] {
            assert!(text.contains(want), "{want:?} in\n{text}");
        }
        assert!(!text.contains("REFUSED"));
        let mut p = plan();
        p.refusal = Some("whenScaled is Delete".into());
        p.resume = Some(Record {
            done: vec![Step::Safety, Step::Remember],
            ..Default::default()
        });
        let text = p.preview(false).join("\n");
        assert!(text.contains("REFUSED: whenScaled is Delete"), "{text}");
        assert!(text.contains("cannot be recovered"), "{text}");
        assert!(
            text.contains("done: take a safety snapshot, remember the replica count"),
            "{text}"
        );
    }

    #[test]
    fn only_a_live_sextant_on_this_machine_counts_as_still_running() {
        let me = this_owner();
        let (host, pid) = me.split_once(' ').unwrap();
        assert_eq!(pid, std::process::id().to_string());
        // This test binary is alive but not sextant; a dead pid; another machine.
        assert!(!still_running(&me));
        assert!(!still_running(&format!("{host} 999999999")));
        assert!(!still_running(&format!("elsewhere-{host} 1")));
    }

    #[test]
    fn steps_are_numbered_in_order() {
        assert_eq!(Step::Safety.number(), 1);
        assert_eq!(Step::WaitReady.number(), 8);
        assert!(Step::ScaleDown < Step::Restore);
        let r = Record {
            snapshot: "shop/x".into(),
            replicas: 3,
            done: vec![Step::Safety, Step::ScaleDown],
            safety: Some("s".into()),
            error: None,
            workload: Some(fixtures::plan().workload),
            owner: Some("elsewhere 1".into()),
        };
        let back: Record = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back, r);
        // Records written before the workload was kept still read.
        let old: Record = serde_json::from_str(
            r#"{"snapshot":"a/b","replicas":1,"done":[],"safety":null,"error":null}"#,
        )
        .unwrap();
        assert_eq!(old.workload, None);
        assert_eq!((r.stopped_at(), r.data_changed()), (Step::Remember, false));
        assert!(
            serde_json::to_string(&r)
                .unwrap()
                .contains("\"scale-down\"")
        );
    }

    #[test]
    fn names_with_or_without_a_namespace() {
        assert_eq!(split_name("db/snap", "shop"), ("db", "snap"));
        assert_eq!(split_name("snap", "shop"), ("shop", "snap"));
    }
}
