//! What a sync records: a `sync` line for the objects applied, a `prune` line for
//! those deleted, an Event on each object changed (at most MAX_EVENTS) and a summary
//! Event on the sync record. Snapshots taken before a sync are recorded one by one.
use super::{Action, Involved, Mutation, Note, Recorder, uid_of, workload_ref};
use crate::engine::plan::Action as Step;
use crate::engine::record;
use crate::engine::snapshot;
use crate::engine::sync::{Outcome, Report};
use crate::engine::target::ObjRef;
use crate::engine::workload::Workload;
use crate::exec::Writer;

/// Events on objects per sync; a bigger sync is told by the summary on its record.
pub const MAX_EVENTS: usize = 50;

/// Objects named in a line's target; the Events and `sextant status` have the rest.
const MAX_NAMED: usize = 50;

fn target(app: &str, objects: &[&Outcome]) -> String {
    let mut names: Vec<String> = objects
        .iter()
        .take(MAX_NAMED)
        .map(|o| o.object.to_string())
        .collect();
    if objects.len() > MAX_NAMED {
        names.push(format!("and {} more", objects.len() - MAX_NAMED));
    }
    if names.is_empty() {
        format!("app {app}: no object changed")
    } else {
        format!("app {app}: {}", names.join(", "))
    }
}

/// Ok, or how many failed and the first failure.
fn failures(objects: &[&Outcome], verb: &str) -> Result<(), String> {
    let failed: Vec<_> = objects.iter().filter(|o| !o.ok).collect();
    match failed.first() {
        None => Ok(()),
        Some(f) => Err(format!(
            "{} of {} objects not {verb} (first {}: {})",
            failed.len(),
            objects.len(),
            f.object,
            f.result
        )),
    }
}

fn sync_result(r: &Report, applied: &[&Outcome]) -> Result<String, String> {
    let mut why = Vec::new();
    if let Err(e) = failures(applied, "applied") {
        why.push(e);
    }
    if !r.recorded {
        why.push("the sync record was not written".into());
    }
    for (o, _, text) in r.rollouts.iter().filter(|x| !x.1) {
        why.push(format!("rollout of {o} not done: {text}"));
    }
    if let Some(at) = &r.stopped {
        why.push(format!(
            "stopped at {at}: {} objects of later waves not applied",
            r.not_applied.len()
        ));
    }
    if why.is_empty() {
        Ok(String::new())
    } else {
        Err(why.join("; "))
    }
}

/// The line of a sync that stopped before applying anything.
pub fn sync_not_applied(app: &str, commit: &str, error: &str) -> Mutation {
    Mutation {
        action: Action::Sync,
        target: format!("app {app}"),
        commit: Some(commit.to_string()),
        result: Err(error.to_string()),
        events: Vec::new(),
    }
}

/// The mutations a sync report records.
pub async fn sync_mutations(rec: &Recorder, app: &str, r: &Report) -> Vec<Mutation> {
    let (pruned, applied): (Vec<&Outcome>, Vec<&Outcome>) =
        r.outcomes.iter().partition(|o| o.action == Step::Prune);
    let commit = Some(r.commit.clone());
    let (mut sync_events, mut prune_events) = (Vec::new(), Vec::new());
    let changed = r.outcomes.iter().filter(|o| o.action != Step::Error);
    for o in changed.take(MAX_EVENTS) {
        let (verb, reason) = match o.action {
            Step::Prune => ("prune", "SextantPrune"),
            _ => ("sync", "SextantSync"),
        };
        let result = if o.ok {
            Ok(o.result.clone())
        } else {
            Err(o.result.clone())
        };
        let note = Note {
            reason,
            message: rec.message(verb, commit.as_deref(), &result),
            ok: o.ok,
        };
        let obj = Involved {
            object: o.object.clone(),
            uid: o.uid.clone(),
        };
        match o.action {
            Step::Prune => prune_events.push((obj, note)),
            _ => sync_events.push((obj, note)),
        }
    }
    let result = sync_result(r, &applied);
    sync_events.push(summary(rec, app, r, &result).await);
    let mut out = vec![Mutation {
        action: Action::Sync,
        target: target(app, &applied),
        commit: commit.clone(),
        result,
        events: sync_events,
    }];
    if !pruned.is_empty() {
        out.push(Mutation {
            action: Action::Prune,
            target: target(app, &pruned),
            commit,
            result: failures(&pruned, "pruned").map(|()| String::new()),
            events: prune_events,
        });
    }
    out
}

/// The Event on the sync record: the sync as a whole.
async fn summary(
    rec: &Recorder,
    app: &str,
    r: &Report,
    result: &Result<String, String>,
) -> (Involved, Note) {
    let object = ObjRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some(record::NAMESPACE.into()),
        name: record::name(app),
    };
    let uid = match &rec.kube {
        Some(c) => uid_of(c, &object).await,
        None => None,
    };
    let count = |a: &dyn Fn(&Outcome) -> bool| r.outcomes.iter().filter(|o| a(o)).count();
    let mut text = format!(
        "{} applied, {} pruned, {} failed",
        count(&|o| o.ok && o.action != Step::Prune),
        count(&|o| o.ok && o.action == Step::Prune),
        count(&|o| !o.ok)
    );
    if r.outcomes.len() > MAX_EVENTS {
        text.push_str(&format!("; Events on the first {MAX_EVENTS} objects only"));
    }
    let result = match result {
        Ok(_) => Ok(text),
        Err(e) => Err(format!("{text}; {e}")),
    };
    let note = Note {
        reason: "SextantSync",
        message: rec.message(&format!("sync of app {app}"), Some(&r.commit), &result),
        ok: result.is_ok(),
    };
    (Involved { object, uid }, note)
}

/// Snapshots each workload before a sync, one at a time, recording each.
pub async fn snapshot_before_sync(
    rec: &Recorder,
    w: &Writer,
    client: &kube::Client,
    workloads: &[Workload],
    commit: Option<String>,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Vec<String>, String> {
    let mut taken = Vec::new();
    for wl in workloads {
        let r = snapshot::before_sync(
            w,
            client,
            std::slice::from_ref(wl),
            commit.clone(),
            progress,
        )
        .await;
        // No claims: nothing was written.
        if r.as_ref().is_ok_and(|v| v.is_empty()) {
            continue;
        }
        let result = r
            .as_ref()
            .map(|v| format!("before the sync: {}", v.join(", ")))
            .map_err(String::clone);
        let obj = workload_ref(wl.kind.as_str(), &wl.namespace, &wl.name);
        rec.workload(
            w,
            Action::Snapshot,
            obj,
            wl.to_string(),
            commit.clone(),
            &result,
        )
        .await;
        taken.extend(r?);
    }
    Ok(taken)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditLog;

    fn outcome(kind: &str, name: &str, action: Step, ok: bool, result: &str) -> Outcome {
        Outcome {
            object: ObjRef {
                api_version: "v1".into(),
                kind: kind.into(),
                namespace: Some("shop".into()),
                name: name.into(),
            },
            action,
            result: result.into(),
            ok,
            uid: None,
        }
    }

    fn recorder() -> Recorder {
        Recorder {
            log: AuditLog::new("/dev/null".into()),
            who: "ops".into(),
            context: "demo".into(),
            kube: None,
        }
    }

    #[tokio::test]
    async fn a_sync_records_its_objects_its_prunes_and_a_summary() {
        let r = Report {
            commit: "c".repeat(40),
            outcomes: vec![
                outcome("Service", "web", Step::Create, true, "applied"),
                outcome("ConfigMap", "cfg", Step::Update, false, "denied (403)"),
                outcome("ConfigMap", "bad", Step::Error, false, "unreadable"),
                outcome("Service", "old", Step::Prune, true, "pruned"),
            ],
            rollouts: Vec::new(),
            recorded: true,
            ..Default::default()
        };
        let m = sync_mutations(&recorder(), "shop", &r).await;
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].action, Action::Sync);
        assert_eq!(
            m[0].target,
            "app shop: Service shop/web, ConfigMap shop/cfg, ConfigMap shop/bad"
        );
        assert_eq!(
            m[0].result,
            Err("2 of 3 objects not applied (first ConfigMap shop/cfg: denied (403))".into())
        );
        let reasons: Vec<_> = m[0]
            .events
            .iter()
            .map(|(i, n)| (i.object.name.as_str(), n.reason, n.ok))
            .collect();
        assert_eq!(
            reasons,
            [
                ("web", "SextantSync", true),
                ("cfg", "SextantSync", false),
                ("sync-shop", "SextantSync", false),
            ],
            "no Event for an object that did not plan"
        );
        assert_eq!(
            m[0].events[2].0.object.namespace.as_deref(),
            Some("sextant-system")
        );
        assert!(
            m[0].events[2]
                .1
                .message
                .contains("1 applied, 1 pruned, 2 failed"),
            "{}",
            m[0].events[2].1.message
        );
        assert_eq!(m[1].action, Action::Prune);
        assert_eq!(m[1].target, "app shop: Service shop/old");
        assert!(m[1].result.is_ok());
        assert_eq!(m[1].events[0].1.reason, "SextantPrune");
    }

    #[tokio::test]
    async fn a_big_sync_has_capped_events_and_names() {
        let r = Report {
            commit: "c".repeat(40),
            outcomes: (0..120)
                .map(|i| outcome("ConfigMap", &format!("c{i}"), Step::Create, true, "applied"))
                .collect(),
            rollouts: Vec::new(),
            recorded: true,
            ..Default::default()
        };
        let m = sync_mutations(&recorder(), "shop", &r).await;
        assert_eq!(m.len(), 1, "nothing pruned, no prune line");
        assert_eq!(m[0].events.len(), MAX_EVENTS + 1, "and the summary");
        assert!(m[0].target.ends_with("and 70 more"), "{}", m[0].target);
        assert_eq!(m[0].result, Ok(String::new()));
        let summary = &m[0].events[MAX_EVENTS].1.message;
        assert!(summary.contains("first 50 objects only"), "{summary}");
    }

    #[tokio::test]
    async fn a_sync_stopped_at_a_wave_says_so() {
        let r = Report {
            commit: "c".repeat(40),
            outcomes: vec![outcome("Service", "web", Step::Create, true, "applied")],
            recorded: true,
            stopped: Some("wave 1: Deployment shop/db not ready: 1/1 updated, 0 ready".into()),
            not_applied: vec![ObjRef {
                api_version: "v1".into(),
                kind: "ConfigMap".into(),
                namespace: Some("shop".into()),
                name: "late".into(),
            }],
            ..Default::default()
        };
        let m = sync_mutations(&recorder(), "shop", &r).await;
        assert_eq!(
            m[0].result,
            Err(
                "stopped at wave 1: Deployment shop/db not ready: 1/1 updated, 0 ready: \
                 1 objects of later waves not applied"
                    .into()
            )
        );
    }
}
