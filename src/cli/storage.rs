//! `sextant volumes | snapshot | restore`: the storage engine for scripts and runbooks.
use super::{Cmd, ERROR, INCOMPLETE, OK, REFUSED, Res, say};
use crate::audit::{Action, AuditLog, Recorder, workload_ref};
use crate::config::{Scope, Settings};
use crate::engine::restore::{self, Plan};
use crate::engine::restore_run::{self, Options};
use crate::engine::snapshot::{self, Consistency, Request};
use crate::engine::sync::read_record;
use crate::engine::target::Target;
use crate::engine::workload::Workload;
use crate::exec::Writer;
use crate::sources::portworx::PxClient;
use crate::sources::px_discover;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::time::Duration;

struct Ctx {
    client: kube::Client,
    namespace: String,
    context: String,
    json: bool,
    /// Records every write: the audit log, and an Event on the workload.
    rec: Recorder,
}

async fn connect(s: &Settings, json: bool) -> Result<Ctx, (String, u8)> {
    let c = crate::sources::kube::connect(
        s.kubeconfig.as_ref(),
        s.context.as_deref(),
        &Scope::FromContext,
    )
    .await
    .map_err(|e| (e, ERROR))?;
    let rec = Recorder {
        log: AuditLog::new(s.audit_log.clone()),
        who: crate::audit::who(s.repo.as_deref()),
        context: c.context.clone(),
        kube: Some(c.client.clone()),
    };
    Ok(Ctx {
        namespace: c.namespace.clone().unwrap_or_else(|| "default".into()),
        context: c.context,
        client: c.client,
        json,
        rec,
    })
}

/// The gateway client; what `--portworx` and the token leave out is looked up in the
/// cluster (through `client` when connected already).
async fn px(s: &Settings, client: Option<&kube::Client>) -> Result<PxClient, (String, u8)> {
    let token = s.portworx_token.clone().map_err(|e| (e, ERROR))?;
    let url = s.portworx.as_deref();
    match client {
        Some(c) => px_discover::discover(c, url, token, s.read_only, None).await,
        None => {
            let find = px_discover::Find {
                kubeconfig: s.kubeconfig.clone(),
                context: s.context.clone(),
                read_only: s.read_only,
            };
            find.client(url, token).await
        }
    }
    .map_err(|e| (e, ERROR))
}

/// The synced commit, for the snapshot's label; none when never synced.
async fn synced_commit(ctx: &Ctx, app: &str) -> Option<String> {
    let t = Target::new(ctx.client.clone(), ctx.namespace.clone());
    read_record(&t, app).await.ok().flatten().map(|r| r.commit)
}

pub async fn run(cmd: Cmd, s: &Settings, json: bool) -> Res {
    let writer = Writer::grant(!s.read_only);
    match cmd {
        Cmd::Volumes(_) => volumes(s, json).await,
        Cmd::Snapshot {
            workload,
            wait,
            scale_down,
            timeout,
            ..
        } => {
            let ctx = connect(s, json).await?;
            let wl = Workload::parse(&workload, &ctx.namespace).map_err(|e| (e, 2))?;
            let Some(w) = writer else {
                return Err(("read-only: snapshot refused".into(), REFUSED));
            };
            let req = Request {
                workload: wl,
                commit: synced_commit(&ctx, &s.app).await,
                reason: "manual",
                consistency: if scale_down {
                    Consistency::ScaleDown
                } else {
                    Consistency::Auto
                },
                wait,
                timeout: Duration::from_secs(timeout),
            };
            take(&ctx, &w, &req).await
        }
        Cmd::Restore {
            snapshot,
            yes,
            no_safety_snapshot,
            timeout,
            ..
        } => {
            let ctx = connect(s, json).await?;
            let px = px(s, Some(&ctx.client)).await?;
            let opts = Options {
                safety: !no_safety_snapshot,
                timeout: Duration::from_secs(timeout),
                commit: synced_commit(&ctx, &s.app).await,
            };
            restore_cmd(&ctx, writer.as_ref(), &px, &snapshot, yes, &opts).await
        }
        _ => unreachable!("not a storage command"),
    }
}

async fn volumes(s: &Settings, json: bool) -> Res {
    let px = px(s, None).await?;
    let (cluster, rows) = px.snapshot_state().await.map_err(|e| (e, ERROR))?;
    if json {
        let vols: Vec<_> = rows
            .iter()
            .map(|v| {
                json!({
                    "id": v.id, "name": v.name,
                    "claim": v.pvc.as_ref().map(|(ns, p)| format!("{ns}/{p}")),
                    "size": v.size, "used": v.usage, "ha_level": v.ha_level,
                    "replicas": v.replicas, "state": v.state, "status": v.status,
                    "attached_on": v.attached_on, "snapshots": v.snapshots, "error": v.error,
                })
            })
            .collect();
        println!(
            "{:#}",
            json!({"cluster": {"name": cluster.name, "status": cluster.status}, "volumes": vols})
        );
    } else {
        println!("Portworx {} · {}", cluster.name, cluster.status);
        println!(
            "{:<40} {:<20} {:>10} {:>5} {:>5} {:<10} {:<10} {:>5}",
            "CLAIM", "VOLUME", "SIZE", "USED", "HA", "STATUS", "STATE", "SNAPS"
        );
        for v in &rows {
            let claim = v
                .pvc
                .as_ref()
                .map(|(ns, p)| format!("{ns}/{p}"))
                .unwrap_or_else(|| v.name.clone());
            let pct = (v.usage * 100).checked_div(v.size).unwrap_or(0);
            println!(
                "{:<40} {:<20} {:>10} {:>4}% {:>2}/{:<2} {:<10} {:<10} {:>5}",
                claim,
                v.id,
                crate::ui::format::bytes(v.size as f64),
                pct,
                v.replicas,
                v.ha_level,
                v.status.to_lowercase(),
                v.state.to_lowercase(),
                v.snapshots
            );
        }
    }
    Ok(OK)
}

async fn take(ctx: &Ctx, w: &Writer, req: &Request) -> Res {
    let json = ctx.json;
    let progress = move |l: String| say(json, &l);
    let taken = snapshot::take(w, &ctx.client, req, &progress).await;
    let wl = &req.workload;
    let result = taken.as_ref().map(|set| {
        format!(
            "snapshot set {}: {} snapshots",
            set.set,
            set.snapshots.len()
        )
    });
    let obj = workload_ref(wl.kind.as_str(), &wl.namespace, &wl.name);
    let (target, commit) = (wl.to_string(), req.commit.clone());
    let result = result.map_err(String::clone);
    ctx.rec
        .workload(w, Action::Snapshot, obj, target, commit, &result)
        .await;
    let set = taken.map_err(|e| (format!("snapshot of {wl}: {e}"), INCOMPLETE))?;
    if json {
        println!("{:#}", json!(set));
    } else {
        for t in &set.snapshots {
            println!(
                "{}/{} of {} {}",
                set.namespace,
                t.name,
                t.claim,
                if t.ready { "ready" } else { "created" }
            );
        }
        println!("snapshot set {} in context {}", set.set, ctx.context);
    }
    Ok(OK)
}

/// Asks for the workload's name, as GitHub does before deleting a repository.
fn typed_name(plan: &Plan) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!(
        "Type the workload name ({}) to restore: ",
        plan.workload.name
    );
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && answer.trim() == plan.workload.name
}

async fn restore_cmd(
    ctx: &Ctx,
    w: Option<&Writer>,
    px: &PxClient,
    snapshot: &str,
    yes: bool,
    opts: &Options,
) -> Res {
    let plan = restore::plan(&ctx.client, &ctx.namespace, snapshot)
        .await
        .map_err(|e| (e, ERROR))?;
    for line in plan.preview(opts.safety) {
        say(ctx.json, &line);
    }
    if let Some(why) = &plan.refusal {
        return Err((format!("restore refused: {why}"), REFUSED));
    }
    let Some(w) = w else {
        return Err(("read-only: restore refused".into(), REFUSED));
    };
    if !yes && !typed_name(&plan) {
        return Err((
            "not confirmed: nothing changed (type the workload name, or pass --yes)".into(),
            REFUSED,
        ));
    }
    let json = ctx.json;
    let progress = move |l: String| say(json, &l);
    let ran = restore_run::run(w, &ctx.client, px, &plan, opts, &progress).await;
    let result = match &ran {
        Ok(done) => Ok(format!(
            "restored {}{}",
            done.restored.join(", "),
            done.safety
                .as_ref()
                .map(|s| format!("; the data from before is in set {s}"))
                .unwrap_or_default()
        )),
        Err(f) => Err(f.to_string().lines().next().unwrap_or_default().to_string()),
    };
    let wl = &plan.workload;
    let obj = workload_ref(wl.kind.as_str(), &wl.namespace, &wl.name);
    let target = format!("{wl} from {}", plan.snapshot);
    ctx.rec
        .workload(
            w,
            Action::Restore,
            obj,
            target,
            plan.commit.clone(),
            &result,
        )
        .await;
    match ran {
        Ok(done) => {
            if json {
                println!(
                    "{:#}",
                    json!({"restored": done.restored, "safety": done.safety})
                );
            } else {
                println!(
                    "restored {} of {} from {}",
                    done.restored.join(", "),
                    plan.workload,
                    plan.snapshot
                );
                if let Some(s) = &done.safety {
                    println!("the data from before is in snapshot set {s}");
                }
            }
            Ok(OK)
        }
        Err(f) => {
            if json {
                println!("{:#}", json!({"failure": f}));
            }
            let code = if f.error.starts_with("refused") {
                REFUSED
            } else {
                INCOMPLETE
            };
            Err((f.to_string(), code))
        }
    }
}
