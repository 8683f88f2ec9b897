//! Carrying out a restore plan, one step at a time. Each finished step is recorded in
//! the cluster, so running the same restore again resumes after the last one done,
//! with the replica count remembered before the scale-down.
use super::restore::{Plan, Record, Step, record_name};
use super::snapshot::{self, Consistency, kube_error};
use super::workload::{Workload, scale, wait_ready, wait_scaled_down};
use crate::exec::Writer;
use crate::sources::portworx::PxClient;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Client;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde::Serialize;
use std::fmt;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Options {
    /// Take a safety snapshot of the current data first.
    pub safety: bool,
    /// How long each waiting step may take.
    pub timeout: Duration,
    /// The synced commit, for the safety snapshot's label.
    pub commit: Option<String>,
}

/// Where a restore stopped and what is true now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Failure {
    pub step: Step,
    pub error: String,
    /// The state things are in.
    pub state: String,
    /// How to go on, or back.
    pub next: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(
            f,
            "restore stopped at step {}/8, {}: {}",
            self.step.number(),
            self.step.label(),
            self.error
        )?;
        write!(f, "{}", self.state)?;
        for n in &self.next {
            write!(f, "\n{n}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Done {
    pub restored: Vec<String>,
    pub safety: Option<String>,
}

async fn save(w: &Writer, c: &Client, plan: &Plan, rec: &Record) -> Result<(), String> {
    let _ = w;
    let ns = super::record::NAMESPACE;
    let pp = PatchParams::apply(super::target::FIELD_MANAGER).force();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(c.clone());
    let body =
        serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
    namespaces
        .patch(ns, &pp, &Patch::Apply(&body))
        .await
        .map_err(|e| format!("namespace {ns}: {}", kube_error(e)))?;
    let name = record_name(&plan.workload);
    let body = serde_json::json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"record": serde_json::to_string(rec).unwrap_or_default()},
    });
    Api::<ConfigMap>::namespaced(c.clone(), ns)
        .patch(&name, &pp, &Patch::Apply(&body))
        .await
        .map(|_| ())
        .map_err(|e| format!("restore record: {}", kube_error(e)))
}

async fn forget(c: &Client, wl: &Workload) -> Result<(), String> {
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), super::record::NAMESPACE);
    match api.delete(&record_name(wl), &DeleteParams::default()).await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(format!("restore record: {}", kube_error(e))),
    }
}

/// Polls every volume until `ok` holds for each, or the time is up.
async fn wait_volumes(
    px: &PxClient,
    plan: &Plan,
    timeout: Duration,
    what: &str,
    ok: impl Fn(&super::px::VolumeState) -> Result<bool, String>,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<(), String> {
    let end = Instant::now() + timeout;
    let mut last = String::new();
    loop {
        let mut waiting = Vec::new();
        for i in &plan.items {
            let st = px.inspect(&i.volume).await?;
            if !ok(&st).map_err(|e| format!("{} (volume {}): {e}", i.claim, i.volume))? {
                waiting.push(format!(
                    "{} ({})",
                    i.claim,
                    st.state.trim_start_matches("VOLUME_STATE_").to_lowercase()
                ));
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        let line = format!("{what}: {}", waiting.join(", "));
        if line != last {
            progress(line.clone());
            last = line;
        }
        if Instant::now() > end {
            return Err(format!(
                "{what} after {}s: {}",
                timeout.as_secs(),
                waiting.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[allow(clippy::too_many_arguments)]
async fn step(
    s: Step,
    w: &Writer,
    c: &Client,
    px: &PxClient,
    plan: &Plan,
    rec: &mut Record,
    opts: &Options,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<(), String> {
    let wl = &plan.workload;
    match s {
        Step::Safety if !opts.safety => {
            progress("no safety snapshot, as asked".into());
            Ok(())
        }
        Step::Safety => {
            let req = snapshot::Request {
                workload: wl.clone(),
                commit: opts.commit.clone(),
                reason: "pre-restore",
                consistency: Consistency::Auto,
                wait: true,
                timeout: opts.timeout,
            };
            let set = snapshot::take(w, c, &req, progress).await?;
            progress(format!("safety snapshot set {}", set.set));
            rec.safety = Some(set.set);
            Ok(())
        }
        Step::Remember => save(w, c, plan, rec).await,
        Step::ScaleDown => scale(w, c, wl, 0).await,
        Step::Detach => {
            wait_scaled_down(c, wl, opts.timeout, progress).await?;
            wait_volumes(
                px,
                plan,
                opts.timeout,
                "still attached",
                |v| Ok(v.detached()),
                progress,
            )
            .await
        }
        Step::Restore => {
            // Another snapshot's restore may still run on these volumes (an undo right
            // after an interrupted restore): it must end first, or it would land last.
            if plan.resume.is_none() {
                let idle = |v: &super::px::VolumeState| Ok(!v.restoring());
                wait_volumes(px, plan, opts.timeout, "still restoring", idle, progress).await?;
            }
            let mut started = Vec::new();
            for i in &plan.items {
                // A resumed run leaves its own restores already under way alone.
                if plan.resume.is_some() && px.inspect(&i.volume).await?.restoring() {
                    started.push(i.claim.clone());
                    continue;
                }
                px.restore(w, &i.volume, &i.px_snapshot)
                    .await
                    .map_err(|e| {
                        format!(
                            "{e}; started on: {}",
                            if started.is_empty() {
                                "none".into()
                            } else {
                                started.join(", ")
                            }
                        )
                    })?;
                progress(format!("restoring {} from {}", i.claim, i.snapshot));
                started.push(i.claim.clone());
            }
            Ok(())
        }
        Step::WaitRestore => {
            let ok = |v: &super::px::VolumeState| {
                if v.error.is_empty() {
                    Ok(!v.restoring())
                } else {
                    Err(v.error.clone())
                }
            };
            wait_volumes(px, plan, opts.timeout, "still restoring", ok, progress).await
        }
        Step::ScaleUp => scale(w, c, wl, rec.replicas).await,
        Step::WaitReady => wait_ready(c, wl, opts.timeout, progress).await,
    }
}

/// What is true when step `at` failed.
fn state(at: Step, wl: &Workload, rec: &Record) -> String {
    let n = rec.replicas;
    let mut s = match at {
        Step::Safety | Step::Remember => format!("Nothing was changed: {wl} runs as before."),
        Step::ScaleDown => {
            format!("{wl} may be partly scaled down (it had {n} replicas); its data is untouched.")
        }
        Step::Detach => format!("{wl} is scaled to 0 (it had {n}); its data is untouched."),
        Step::Restore => format!(
            "{wl} is scaled to 0 (it had {n}); restores may have started on some claims (see above)."
        ),
        Step::WaitRestore => format!(
            "{wl} is scaled to 0 (it had {n}); the restore was started on every claim but has not finished."
        ),
        Step::ScaleUp => format!("The data is restored; {wl} is still scaled to 0 (it had {n})."),
        Step::WaitReady => {
            format!("The data is restored and {wl} is scaled back to {n}, but not ready.")
        }
    };
    if let Some(safety) = &rec.safety {
        s.push_str(&format!(
            "\nThe data from before the restore is in snapshot set {safety}."
        ));
    }
    s
}

fn next(at: Step, wl: &Workload, rec: &Record) -> Vec<String> {
    let mut v = vec![format!(
        "Resume: restore {} again (sextant restore {} --yes); it continues at step {}/8 and scales back to {} replicas.",
        rec.snapshot,
        rec.snapshot,
        at.number(),
        rec.replicas
    )];
    let data_untouched = at <= Step::Detach;
    if rec.done.contains(&Step::ScaleDown) && data_untouched {
        v.push(format!(
            "Undo: kubectl -n {} scale {}/{} --replicas={}, then kubectl -n {} delete configmap {}",
            wl.namespace,
            wl.kind.as_str().to_lowercase(),
            wl.name,
            rec.replicas,
            super::record::NAMESPACE,
            record_name(wl)
        ));
    } else if !data_untouched && rec.safety.is_some() {
        v.push("Undo: restore a snapshot of the safety set the same way.".into());
    }
    v
}

/// Runs the plan from its first step not yet done.
pub async fn run(
    w: &Writer,
    c: &Client,
    px: &PxClient,
    plan: &Plan,
    opts: &Options,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Done, Failure> {
    let mut rec = plan.resume.clone().unwrap_or_else(|| Record {
        snapshot: plan.snapshot.clone(),
        replicas: plan.replicas,
        ..Default::default()
    });
    rec.workload = Some(plan.workload.clone());
    rec.owner = Some(super::restore::this_owner());
    if let Some(why) = &plan.refusal {
        return Err(Failure {
            step: Step::Safety,
            error: format!("refused: {why}"),
            state: format!("Nothing was changed: {} runs as before.", plan.workload),
            next: Vec::new(),
        });
    }
    for s in Step::ALL {
        if rec.done.contains(&s) {
            progress(format!("[{}/8] {}: done before", s.number(), s.label()));
            continue;
        }
        progress(format!("[{}/8] {}", s.number(), s.label()));
        match step(s, w, c, px, plan, &mut rec, opts, progress).await {
            Ok(()) => {
                rec.done.push(s);
                rec.error = None;
                if rec.done.contains(&Step::Remember)
                    && s != Step::WaitReady
                    && let Err(e) = save(w, c, plan, &rec).await
                {
                    rec.done.pop();
                    return Err(fail(s, e, plan, &rec));
                }
            }
            Err(e) => {
                rec.error = Some(format!("step {}: {e}", s.number()));
                if rec.done.contains(&Step::Remember) {
                    // Best effort: the failure is reported either way.
                    let _ = save(w, c, plan, &rec).await;
                }
                return Err(fail(s, e, plan, &rec));
            }
        }
    }
    if let Err(e) = forget(c, &plan.workload).await {
        progress(format!("restored, but the record stays: {e}"));
    }
    Ok(Done {
        restored: plan.items.iter().map(|i| i.claim.clone()).collect(),
        safety: rec.safety,
    })
}

/// An unfinished restore found in the cluster: where it stopped, what is true, and how
/// to go on or back, as a failed run would have said.
pub fn explain(rec: &Record) -> Option<Failure> {
    let wl = rec.workload.as_ref()?;
    let at = rec.stopped_at();
    Some(Failure {
        step: at,
        error: rec
            .error
            .clone()
            .unwrap_or_else(|| "sextant stopped before it finished".into()),
        state: state(at, wl, rec),
        next: next(at, wl, rec),
    })
}

/// Undoes a restore that never reached its data: scales the workload back to the
/// replica count it had and forgets the record.
pub async fn undo_untouched(
    w: &Writer,
    c: &Client,
    rec: &Record,
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<String, String> {
    let wl = rec
        .workload
        .as_ref()
        .ok_or("the record names no workload")?;
    // What was offered may be out of date: another run may have gone on or finished.
    match super::restore::read_record(c, wl).await? {
        None => {
            return Err(format!(
                "nothing to undo: the restore of {wl} finished or was undone meanwhile"
            ));
        }
        Some(now) if now.done != rec.done => {
            return Err(format!(
                "the restore of {wl} went on meanwhile (now at step {}/8): look again",
                now.stopped_at().number()
            ));
        }
        Some(_) => {}
    }
    if rec.data_changed() {
        return Err(format!(
            "the restore of {wl} reached its data: undo restores the safety snapshot instead"
        ));
    }
    progress(format!("scale {wl} back to {}", rec.replicas));
    scale(w, c, wl, rec.replicas).await?;
    forget(c, wl).await?;
    Ok(format!(
        "{wl} is back at {} replicas; its data was never changed",
        rec.replicas
    ))
}

fn fail(s: Step, error: String, plan: &Plan, rec: &Record) -> Failure {
    Failure {
        step: s,
        error,
        state: state(s, &plan.workload, rec),
        next: next(s, &plan.workload, rec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::restore::fixtures::plan;

    #[test]
    fn a_failure_says_where_what_is_true_and_how_to_go_on() {
        let rec = Record {
            snapshot: "shop/snap".into(),
            replicas: 2,
            done: vec![Step::Safety, Step::Remember, Step::ScaleDown],
            safety: Some("carts-db-20261125-101500".into()),
            error: None,
            workload: Some(plan().workload),
            owner: None,
        };
        let f = fail(Step::Detach, "pods still there".into(), &plan(), &rec);
        // A record found at the next start is explained the same way.
        let found = explain(&rec).unwrap();
        assert_eq!(
            (found.step, found.state.clone()),
            (Step::Detach, f.state.clone())
        );
        assert_eq!(found.error, "sextant stopped before it finished");
        let text = f.to_string();
        for want in [
            "step 4/8, wait for pods gone and volumes detached: pods still there",
            "scaled to 0 (it had 2); its data is untouched",
            "snapshot set carts-db-20261125-101500",
            "continues at step 4/8 and scales back to 2 replicas",
            "kubectl -n shop scale statefulset/carts-db --replicas=2",
        ] {
            assert!(text.contains(want), "{want:?} in\n{text}");
        }
        let f = fail(Step::ScaleUp, "forbidden".into(), &plan(), &rec);
        let text = f.to_string();
        assert!(text.contains("The data is restored"), "{text}");
        assert!(
            text.contains("restore a snapshot of the safety set"),
            "{text}"
        );
        assert!(!text.contains("kubectl"), "{text}");
    }

    #[test]
    fn nothing_changed_before_the_scale_down() {
        let rec = Record::default();
        let f = fail(Step::Safety, "px down".into(), &plan(), &rec);
        assert!(f.state.starts_with("Nothing was changed"), "{}", f.state);
        assert_eq!(f.next.len(), 1, "resume only: {:?}", f.next);
    }
}
