//! Carrying out a plan: server-side apply in plan order, prune when asked, the sync
//! record, then waiting for workloads to roll out. Progress is reported line by line.
use super::plan::{Action, Plan, Step};
use super::record::{self, SyncRecord};
use super::rollout;
use super::target::{ObjRef, Target};
use crate::exec::Writer;
use serde::Serialize;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Delete managed objects that git no longer has.
    pub prune: bool,
    /// Take fields another manager owns.
    pub force_conflicts: bool,
    /// How long to wait for workloads to roll out.
    pub timeout: Duration,
    /// Who syncs, for the record.
    pub synced_by: String,
    /// Snapshots taken just before, for the record (namespace/name).
    pub snapshots: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub object: ObjRef,
    pub action: Action,
    /// "applied", "pruned", "skipped: …" or the error.
    pub result: String,
    pub ok: bool,
    /// The applied object's uid, for the Event on it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    pub commit: String,
    pub outcomes: Vec<Outcome>,
    /// Workloads and how their rollout ended.
    pub rollouts: Vec<(ObjRef, bool, String)>,
    pub recorded: bool,
}

impl Report {
    /// Everything applied, nothing skipped, every rollout done.
    pub fn complete(&self) -> bool {
        self.recorded && self.outcomes.iter().all(|o| o.ok) && self.rollouts.iter().all(|r| r.1)
    }
}

fn outcome(s: &Step, ok: bool, result: impl Into<String>) -> Outcome {
    Outcome {
        object: s.object.clone(),
        action: s.action,
        result: result.into(),
        ok,
        uid: None,
    }
}

/// Applies the plan. Conflicts are skipped unless forced; prune runs only when asked;
/// a plan with unreadable files is applied but recorded as partial.
pub async fn execute(
    t: &Target,
    w: &Writer,
    plan: &Plan,
    opts: &Options,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Report {
    let mut report = Report {
        commit: plan.commit.clone(),
        ..Default::default()
    };
    let mut applied = Vec::new();
    for s in &plan.steps {
        let out = match s.action {
            Action::Unchanged | Action::Prune => continue,
            Action::Error => outcome(s, false, s.message.clone().unwrap_or_default()),
            Action::Conflict if !opts.force_conflicts => outcome(
                s,
                false,
                format!(
                    "skipped: {} (sync with force to take these fields)",
                    s.message.as_deref().unwrap_or("conflict")
                ),
            ),
            Action::Create | Action::Update | Action::Conflict => {
                let body = s.body.as_ref().expect("planned with a body");
                match apply(t, w, body, s.action == Action::Conflict).await {
                    Ok(live) => {
                        if s.object.kind == "CustomResourceDefinition" {
                            established(t, &live).await;
                        }
                        let uid = live.pointer("/metadata/uid").and_then(Value::as_str);
                        let uid = uid.map(String::from);
                        applied.push((s.object.clone(), live));
                        Outcome {
                            uid,
                            ..outcome(s, true, "applied")
                        }
                    }
                    Err(e) => outcome(s, false, e),
                }
            }
        };
        progress(format!("{} {}: {}", verb(s.action), s.object, out.result));
        report.outcomes.push(out);
    }
    // An object whose manifest did not read or plan would look gone from git: never
    // prune on an incomplete picture.
    let unsure = !plan.errors.is_empty() || plan.count(Action::Error) > 0;
    if opts.prune && unsure && plan.count(Action::Prune) > 0 {
        progress("prune skipped: some manifests could not be read or planned".into());
    }
    if opts.prune && !unsure {
        for s in plan.steps.iter().filter(|s| s.action == Action::Prune) {
            let out = match prune(t, w, s).await {
                Ok(()) => outcome(s, true, "pruned"),
                Err(e) => outcome(s, false, e),
            };
            progress(format!("prune {}: {}", s.object, out.result));
            report.outcomes.push(out);
        }
    }
    let partial = !plan.errors.is_empty() || report.outcomes.iter().any(|o| !o.ok);
    let now = chrono::Utc::now();
    let earlier = read_record(t, &plan.app).await.ok().flatten();
    let rec = SyncRecord {
        commit: plan.commit.clone(),
        path: plan.path.clone(),
        synced_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        synced_by: opts.synced_by.clone(),
        history: Vec::new(),
        snapshots: opts.snapshots.clone(),
    }
    .with_history(earlier, now.timestamp());
    match write_record(t, w, &plan.app, &rec, partial).await {
        Ok(()) => {
            report.recorded = true;
            progress(format!(
                "recorded {} as synced",
                crate::engine::short(&plan.commit, 8)
            ));
        }
        Err(e) => progress(format!("could not record the sync: {e}")),
    }
    report.rollouts = wait_rollouts(t, &applied, opts.timeout, progress).await;
    report
}

/// Objects of a new CRD's kind can be applied once the CRD is established.
async fn established(t: &Target, crd: &Value) {
    let ready = |v: &Value| {
        v.pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c["type"] == "Established" && c["status"] == "True")
            })
    };
    for _ in 0..60 {
        let live = match t.locate(crd).await {
            Ok(l) => t.get(&l).await.ok().flatten(),
            Err(_) => None,
        };
        if live.as_ref().is_some_and(ready) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn verb(a: Action) -> &'static str {
    match a {
        Action::Create => "create",
        Action::Update | Action::Conflict => "update",
        Action::Prune => "prune",
        Action::Unchanged => "keep",
        Action::Error => "error",
    }
}

async fn apply(t: &Target, w: &Writer, body: &Value, force: bool) -> Result<Value, String> {
    let l = t.locate(body).await?;
    t.apply(w, &l, body, force).await.map_err(|e| e.to_string())
}

async fn prune(t: &Target, w: &Writer, s: &Step) -> Result<(), String> {
    let o = &s.object;
    let l = t
        .locate(&json!({
            "apiVersion": o.api_version,
            "kind": o.kind,
            "metadata": {"name": o.name, "namespace": o.namespace},
        }))
        .await?;
    t.delete(w, &l).await
}

/// The record lives in the cluster: a ConfigMap every user can read.
async fn write_record(
    t: &Target,
    w: &Writer,
    app: &str,
    r: &SyncRecord,
    partial: bool,
) -> Result<(), String> {
    let ns =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": record::NAMESPACE}});
    apply(t, w, &ns, true).await?;
    let mut data = serde_json::to_value(r.to_data()).unwrap_or_default();
    data["result"] = Value::String(if partial { "partial" } else { "complete" }.into());
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": record::name(app), "namespace": record::NAMESPACE},
        "data": data,
    });
    apply(t, w, &cm, true).await.map(|_| ())
}

/// The record of the app's last sync, if sextant ever synced it to this cluster.
pub async fn read_record(t: &Target, app: &str) -> Result<Option<SyncRecord>, String> {
    let cm = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": record::name(app), "namespace": record::NAMESPACE},
    });
    let l = t.locate(&cm).await?;
    let Some(live) = t.get(&l).await? else {
        return Ok(None);
    };
    let data = serde_json::from_value(live["data"].clone()).unwrap_or_default();
    Ok(SyncRecord::from_data(&data))
}

/// Polls the applied workloads until each has rolled out or the time is up, saying
/// what changed as it goes.
async fn wait_rollouts(
    t: &Target,
    applied: &[(ObjRef, Value)],
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Vec<(ObjRef, bool, String)> {
    let mut waiting: Vec<(ObjRef, Value, String)> = applied
        .iter()
        .filter(|(o, _)| rollout::is_workload(&o.kind))
        .map(|(o, v)| (o.clone(), v.clone(), String::new()))
        .collect();
    let mut done = Vec::new();
    let deadline = Instant::now() + timeout;
    while !waiting.is_empty() {
        let mut still = Vec::new();
        for (o, body, last) in waiting {
            let live = match t.locate(&body).await {
                Ok(l) => t.get(&l).await.ok().flatten(),
                Err(_) => None,
            };
            let (ok, text) = live
                .as_ref()
                .and_then(rollout::status)
                .unwrap_or((false, "not found".into()));
            if text != last {
                progress(format!("rollout {o}: {text}"));
            }
            if ok {
                done.push((o, true, text));
            } else if Instant::now() >= deadline {
                progress(format!(
                    "rollout {o}: not done after {} s",
                    timeout.as_secs()
                ));
                done.push((o, false, text));
            } else {
                still.push((o, body, text));
            }
        }
        waiting = still;
        if !waiting.is_empty() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    done
}
