//! Carrying out a plan: server-side apply in plan order, wave by wave, prune when
//! asked, the sync record, then waiting for workloads to roll out. A wave is applied
//! and its workloads rolled out before the next starts; one that fails stops the sync
//! there, reported as partial. Progress is reported line by line.
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
    /// Why the sync stopped before its last wave, or was refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Objects of the waves after the one that stopped the sync: not applied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_applied: Vec<ObjRef>,
}

impl Report {
    /// Everything applied, nothing skipped, every rollout done.
    pub fn complete(&self) -> bool {
        self.recorded
            && self.stopped.is_none()
            && self.not_applied.is_empty()
            && self.outcomes.iter().all(|o| o.ok)
            && self.rollouts.iter().all(|r| r.1)
    }

    /// "complete" or "partial", as the sync record says.
    pub fn result(&self) -> &'static str {
        if self.complete() {
            "complete"
        } else {
            "partial"
        }
    }

    /// One line: "synced abc12345", or what kept the sync partial.
    pub fn summary(&self) -> String {
        let sha = crate::engine::short(&self.commit, 8);
        if self.complete() {
            return format!("synced {sha}");
        }
        let failed = self.outcomes.iter().filter(|o| !o.ok).count();
        let slow = self.rollouts.iter().filter(|r| !r.1).count();
        let mut parts = Vec::new();
        if failed > 0 {
            parts.push(format!("{failed} objects failed"));
        }
        if !self.not_applied.is_empty() {
            parts.push(format!("{} not applied", self.not_applied.len()));
        }
        if slow > 0 {
            parts.push(format!("{slow} rollouts not done"));
        }
        if !self.recorded {
            parts.push("not recorded".into());
        }
        let mut line = format!("sync of {sha} partial: {}", parts.join(", "));
        if let Some(why) = &self.stopped {
            line.push_str(&format!("; stopped at {why}"));
        }
        line
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

/// Whether a step writes (or fails to): what a wave is made of.
fn writes(s: &Step) -> bool {
    matches!(
        s.action,
        Action::Create | Action::Update | Action::Conflict | Action::Error
    )
}

/// Applies the plan, wave by wave. Conflicts are skipped unless forced; prune runs
/// only when asked and every wave went through; a plan with unreadable files is
/// refused whole (`Plan::refusal`).
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
    if let Some(why) = plan.refusal() {
        progress(why.clone());
        report.stopped = Some(why);
        return report;
    }
    let steps: Vec<&Step> = plan.steps.iter().filter(|s| writes(s)).collect();
    let mut waves: Vec<i32> = steps.iter().map(|s| s.wave).collect();
    waves.sort_unstable();
    waves.dedup();
    let deadline = Instant::now() + opts.timeout;
    let mut last_applied = Vec::new();
    for (i, &wave) in waves.iter().enumerate() {
        if waves.len() > 1 {
            progress(format!("wave {wave}"));
        }
        let first = report.outcomes.len();
        let mut applied = Vec::new();
        for s in steps.iter().filter(|s| s.wave == wave) {
            let (out, live) = apply_step(t, w, s, opts.force_conflicts).await;
            progress(format!("{} {}: {}", verb(s.action), s.object, out.result));
            if let Some(live) = live {
                applied.push((s.object.clone(), live));
            }
            report.outcomes.push(out);
        }
        if i + 1 == waves.len() {
            last_applied = applied;
            break;
        }
        // The next wave starts once this one is applied and rolled out.
        let why = match report.outcomes[first..].iter().find(|o| !o.ok) {
            Some(o) => Some(format!("wave {wave}: {} {}", o.object, o.result)),
            None => {
                let rolled = wait_rollouts(t, &applied, deadline, opts.timeout, progress).await;
                let slow = rolled.iter().find(|r| !r.1);
                let why = slow.map(|(o, _, text)| format!("wave {wave}: {o} not ready: {text}"));
                report.rollouts.extend(rolled);
                why
            }
        };
        if let Some(why) = why {
            progress(format!("stopped at {why}; later waves are not applied"));
            for s in steps.iter().filter(|s| s.wave > wave) {
                progress(format!("not applied {}", s.object));
                report.not_applied.push(s.object.clone());
            }
            report.stopped = Some(why);
            break;
        }
    }
    // An object whose manifest did not plan would look gone from git, and a sync that
    // stopped part way has not reached git's state: never prune then.
    let unsure = plan.count(Action::Error) > 0 || report.stopped.is_some();
    if opts.prune && unsure && plan.count(Action::Prune) > 0 {
        progress("prune skipped: some objects could not be planned or applied".into());
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
    let partial = !plan.errors.is_empty()
        || report.stopped.is_some()
        || report.outcomes.iter().any(|o| !o.ok);
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
                "recorded {} as synced{}",
                crate::engine::short(&plan.commit, 8),
                if partial { " (partial)" } else { "" }
            ));
        }
        Err(e) => progress(format!("could not record the sync: {e}")),
    }
    if report.stopped.is_none() {
        let rolled = wait_rollouts(t, &last_applied, deadline, opts.timeout, progress).await;
        report.rollouts.extend(rolled);
    }
    report
}

/// Applies one step: its outcome, and the live object when it was applied.
async fn apply_step(t: &Target, w: &Writer, s: &Step, force: bool) -> (Outcome, Option<Value>) {
    match s.action {
        Action::Conflict if !force => {
            let why = format!(
                "skipped: {} (sync with force to take these fields)",
                s.message.as_deref().unwrap_or("conflict")
            );
            (outcome(s, false, why), None)
        }
        Action::Create | Action::Update | Action::Conflict => {
            let body = s.body.as_ref().expect("planned with a body");
            match apply(t, w, body, s.action == Action::Conflict).await {
                Ok(live) => {
                    if s.object.kind == "CustomResourceDefinition" {
                        established(t, &live).await;
                    }
                    let uid = live.pointer("/metadata/uid").and_then(Value::as_str);
                    let out = Outcome {
                        uid: uid.map(String::from),
                        ..outcome(s, true, "applied")
                    };
                    (out, Some(live))
                }
                Err(e) => (outcome(s, false, e), None),
            }
        }
        _ => (
            outcome(s, false, s.message.clone().unwrap_or_default()),
            None,
        ),
    }
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

/// Polls the applied workloads until each has rolled out or the deadline passes,
/// saying what changed as it goes.
async fn wait_rollouts(
    t: &Target,
    applied: &[(ObjRef, Value)],
    deadline: Instant,
    timeout: Duration,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Vec<(ObjRef, bool, String)> {
    let mut waiting: Vec<(ObjRef, Value, String)> = applied
        .iter()
        .filter(|(o, _)| rollout::is_workload(&o.kind))
        .map(|(o, v)| (o.clone(), v.clone(), String::new()))
        .collect();
    let mut done = Vec::new();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(name: &str) -> ObjRef {
        ObjRef {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: name.into(),
        }
    }

    fn applied(name: &str, ok: bool, result: &str) -> Outcome {
        Outcome {
            object: obj(name),
            action: Action::Create,
            result: result.into(),
            ok,
            uid: None,
        }
    }

    #[test]
    fn a_sync_that_stopped_at_a_wave_is_partial_and_says_where() {
        let mut r = Report {
            commit: "0123456789abcdef".into(),
            outcomes: vec![applied("db", true, "applied")],
            rollouts: vec![(obj("db"), true, "1/1 updated, 1 ready".into())],
            recorded: true,
            ..Default::default()
        };
        assert!(r.complete());
        assert_eq!(
            (r.result(), r.summary().as_str()),
            ("complete", "synced 01234567")
        );
        r.rollouts[0] = (obj("db"), false, "1/1 updated, 0 ready".into());
        r.stopped = Some("wave 1: Deployment shop/db not ready: 1/1 updated, 0 ready".into());
        r.not_applied = vec![obj("web")];
        assert_eq!(r.result(), "partial");
        assert_eq!(
            r.summary(),
            "sync of 01234567 partial: 1 not applied, 1 rollouts not done; \
             stopped at wave 1: Deployment shop/db not ready: 1/1 updated, 0 ready"
        );
    }

    #[test]
    fn a_failed_object_or_a_missing_record_is_partial_too() {
        let r = Report {
            commit: "0123456789abcdef".into(),
            outcomes: vec![applied("db", false, "field is immutable")],
            ..Default::default()
        };
        assert_eq!(
            r.summary(),
            "sync of 01234567 partial: 1 objects failed, not recorded"
        );
    }
}
