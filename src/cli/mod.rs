//! `sextant status | diff | sync | rollback | volumes | snapshot | restore`: the engine
//! for scripts and runbooks.
//! Human output by default, `--output json` for machines, and exit codes a script can
//! rely on (README lists them).
use crate::audit::{self, AuditLog, Mutation, Recorder};
use crate::config::{Scope, Settings};
use crate::engine::plan::{Action, Plan, plan};
use crate::engine::record::SyncRecord;
use crate::engine::sync::{self, Options, Report};
use crate::engine::target::Target;
use crate::engine::{gitops, manifests, snapshot};
use crate::exec::Writer;
use clap::{Args, Subcommand, ValueEnum};
use git2::Repository;
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::time::Duration;

mod storage;

/// Exit codes.
pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
pub const OUT_OF_SYNC: u8 = 3;
pub const INCOMPLETE: u8 = 4;
pub const REFUSED: u8 = 5;

#[derive(Subcommand, Debug, Clone)]
pub enum Cmd {
    /// The synced commit, commits not yet synced, and drift
    Status(Out),
    /// What syncing a commit (default HEAD) would change in the cluster
    Diff {
        #[arg(long)]
        commit: Option<String>,
        #[command(flatten)]
        out: Out,
    },
    /// Apply a commit's manifests (default HEAD) to the cluster
    Sync {
        #[arg(long)]
        commit: Option<String>,
        /// Show the plan and stop
        #[arg(long)]
        dry_run: bool,
        /// Also delete objects sextant applied that git no longer has
        #[arg(long)]
        prune: bool,
        /// Do not ask for confirmation
        #[arg(long, short = 'y')]
        yes: bool,
        /// Take fields that another field manager owns
        #[arg(long)]
        force_conflicts: bool,
        /// Do not snapshot the StatefulSets the sync changes first
        #[arg(long)]
        no_snapshot: bool,
        /// Seconds to wait for workloads to roll out
        #[arg(long, default_value_t = 180)]
        timeout: u64,
        #[command(flatten)]
        out: Out,
    },
    /// Revert a commit in git, then sync the result
    Rollback {
        sha: String,
        #[arg(long, short = 'y')]
        yes: bool,
        #[arg(long, default_value_t = 180)]
        timeout: u64,
        #[command(flatten)]
        out: Out,
    },
    /// Portworx volumes with their claims, state, usage and snapshots
    Volumes(Out),
    /// Snapshot every claim of a workload ([NAMESPACE/]KIND/NAME, e.g. sts/carts-db)
    Snapshot {
        workload: String,
        /// Wait until every snapshot is ready to use
        #[arg(long)]
        wait: bool,
        /// Scale the workload to zero while its claims are snapshotted, for one
        /// consistent point in time across several claims
        #[arg(long)]
        scale_down: bool,
        /// Seconds to wait
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        #[command(flatten)]
        out: Out,
    },
    /// Restore a workload's claims in place from a snapshot ([NAMESPACE/]NAME)
    Restore {
        snapshot: String,
        /// Do not ask for the workload's name
        #[arg(long, short = 'y')]
        yes: bool,
        /// Skip the safety snapshot of the current data
        #[arg(long)]
        no_safety_snapshot: bool,
        /// Seconds each waiting step may take
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        #[command(flatten)]
        out: Out,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct Out {
    /// text or json
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq)]
pub enum Format {
    Text,
    Json,
}

struct Ctx {
    repo: Repository,
    path: String,
    app: String,
    target: Target,
    context: String,
    json: bool,
    /// Records every write: the audit log, and Events on the objects changed.
    rec: Recorder,
}

impl Ctx {
    fn say(&self, line: &str) {
        say(self.json, line)
    }
}

/// Progress goes to stderr when stdout carries JSON.
pub(super) fn say(json: bool, line: &str) {
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
}

async fn open(s: &Settings, json: bool) -> Result<Ctx, String> {
    let dir = s
        .repo
        .clone()
        .ok_or("no repository: run inside the GitOps repository or pass --repo")?;
    let repo =
        Repository::discover(&dir).map_err(|e| format!("{}: {}", dir.display(), e.message()))?;
    let c = crate::sources::kube::connect(
        s.kubeconfig.as_ref(),
        s.context.as_deref(),
        &Scope::FromContext,
    )
    .await?;
    let rec = Recorder {
        log: AuditLog::new(s.audit_log.clone()),
        who: gitops::identity(&repo),
        context: c.context.clone(),
        kube: Some(c.client.clone()),
    };
    let target = Target::new(c.client, c.namespace.unwrap_or_else(|| "default".into()));
    Ok(Ctx {
        repo,
        path: s.path.clone().unwrap_or_default(),
        app: s.app.clone(),
        target,
        context: c.context,
        json,
        rec,
    })
}

/// Runs a subcommand; returns the process exit code.
pub async fn run(cmd: Cmd, s: &Settings) -> u8 {
    let json = match &cmd {
        Cmd::Status(o)
        | Cmd::Diff { out: o, .. }
        | Cmd::Sync { out: o, .. }
        | Cmd::Rollback { out: o, .. }
        | Cmd::Volumes(o)
        | Cmd::Snapshot { out: o, .. }
        | Cmd::Restore { out: o, .. } => o.output == Format::Json,
    };
    if matches!(
        cmd,
        Cmd::Volumes(_) | Cmd::Snapshot { .. } | Cmd::Restore { .. }
    ) {
        return storage::run(cmd, s, json)
            .await
            .unwrap_or_else(|(e, code)| fail(json, &e, code));
    }
    let ctx = match open(s, json).await {
        Ok(c) => c,
        Err(e) => return fail(json, &e, ERROR),
    };
    let writer = Writer::grant(!s.read_only);
    let r = match cmd {
        Cmd::Status(_) => status(&ctx).await,
        Cmd::Diff { commit, .. } => diff(&ctx, commit.as_deref().unwrap_or("HEAD")).await,
        Cmd::Sync {
            commit,
            dry_run,
            prune,
            yes,
            force_conflicts,
            no_snapshot,
            timeout,
            ..
        } => {
            let opts = Options {
                prune,
                force_conflicts,
                timeout: Duration::from_secs(timeout),
                synced_by: gitops::identity(&ctx.repo),
                ..Default::default()
            };
            let rev = commit.as_deref().unwrap_or("HEAD");
            let snapshot_first = !no_snapshot;
            sync_cmd(
                &ctx,
                writer.as_ref(),
                rev,
                (dry_run, yes, snapshot_first),
                &opts,
            )
            .await
        }
        Cmd::Rollback {
            sha, yes, timeout, ..
        } => {
            let opts = Options {
                timeout: Duration::from_secs(timeout),
                synced_by: gitops::identity(&ctx.repo),
                ..Default::default()
            };
            rollback(&ctx, writer.as_ref(), &sha, yes, &opts).await
        }
        Cmd::Volumes(_) | Cmd::Snapshot { .. } | Cmd::Restore { .. } => unreachable!(),
    };
    r.unwrap_or_else(|(e, code)| fail(json, &e, code))
}

fn fail(json: bool, e: &str, code: u8) -> u8 {
    if json {
        println!("{}", json!({"error": e, "exit": code}));
    }
    eprintln!("sextant: {e}");
    code
}

pub(super) type Res = Result<u8, (String, u8)>;

fn short(sha: &str) -> &str {
    crate::engine::short(sha, 8)
}

async fn plan_at(ctx: &Ctx, rev: &str) -> Result<Plan, (String, u8)> {
    let m = manifests::read(&ctx.repo, rev, &ctx.path).map_err(|e| (e, ERROR))?;
    Ok(plan(&ctx.target, &m, &ctx.path, &ctx.app).await)
}

fn pending(repo: &Repository, synced: Option<&SyncRecord>) -> Vec<serde_json::Value> {
    let Some(rec) = synced else { return Vec::new() };
    let Ok(oid) = git2::Oid::from_str(&rec.commit) else {
        return Vec::new();
    };
    let mut walk = match repo.revwalk() {
        Ok(w) => w,
        Err(_) => return Vec::new(),
    };
    if walk.push_head().is_err() || walk.hide(oid).is_err() {
        return Vec::new();
    }
    walk.filter_map(|o| o.ok())
        .filter_map(|o| repo.find_commit(o).ok())
        .map(|c| {
            json!({
                "sha": c.id().to_string(),
                "subject": c.summary().ok().flatten().unwrap_or(""),
                "author": c.author().name().unwrap_or("?"),
            })
        })
        .collect()
}

async fn status(ctx: &Ctx) -> Res {
    let head = gitops::resolve(&ctx.repo, "HEAD").map_err(|e| (e, ERROR))?;
    let record = sync::read_record(&ctx.target, &ctx.app)
        .await
        .map_err(|e| (e, ERROR))?;
    let pending = pending(&ctx.repo, record.as_ref());
    // Drift is git at the synced commit against the cluster.
    let drift = match &record {
        Some(r) => Some(plan_at(ctx, &r.commit).await?),
        None => None,
    };
    let state = |a: Action| match a {
        Action::Unchanged => "synced",
        Action::Update | Action::Conflict => "drifted",
        Action::Create => "missing",
        Action::Prune => "not-in-git",
        Action::Error => "error",
    };
    let in_sync = record.as_ref().is_some_and(|r| r.commit == head)
        && drift.as_ref().is_some_and(|p| {
            p.steps.iter().all(|s| s.action == Action::Unchanged) && p.errors.is_empty()
        });
    if ctx.json {
        let objects: Vec<_> = drift
            .iter()
            .flat_map(|p| &p.steps)
            .map(|s| json!({"object": s.object, "state": state(s.action), "changes": s.changes, "message": s.message}))
            .collect();
        let out = json!({
            "context": ctx.context,
            "head": head,
            "synced": record,
            "pending": pending,
            "objects": objects,
            "errors": drift.as_ref().map(|p| p.errors.clone()).unwrap_or_default(),
            "in_sync": in_sync,
        });
        println!("{out:#}");
    } else {
        println!("context  {}", ctx.context);
        println!("head     {}", short(&head));
        match &record {
            Some(r) => println!(
                "synced   {} at {} by {} ({} commits not synced)",
                short(&r.commit),
                r.synced_at,
                r.synced_by,
                pending.len()
            ),
            None => println!("synced   never (no sync record in the cluster)"),
        }
        for c in &pending {
            println!(
                "  pending {} {} ({})",
                short(c["sha"].as_str().unwrap_or("")),
                c["subject"].as_str().unwrap_or(""),
                c["author"].as_str().unwrap_or("")
            );
        }
        if let Some(p) = &drift {
            let n = |a: &[Action]| p.steps.iter().filter(|s| a.contains(&s.action)).count();
            println!(
                "drift    {} drifted, {} missing, {} not in git, {} synced",
                n(&[Action::Update, Action::Conflict]),
                n(&[Action::Create]),
                n(&[Action::Prune]),
                n(&[Action::Unchanged])
            );
            for s in p.steps.iter().filter(|s| s.action != Action::Unchanged) {
                println!("  {} {}", state(s.action), s.object);
                for c in &s.changes {
                    println!("    {}", c.describe());
                }
                if let Some(m) = &s.message {
                    println!("    {m}");
                }
            }
            for e in &p.errors {
                println!("  unreadable {e}");
            }
        }
    }
    Ok(if in_sync { OK } else { OUT_OF_SYNC })
}

fn print_plan(ctx: &Ctx, p: &Plan) {
    if ctx.json {
        return;
    }
    println!(
        "plan for {} ({}) on {}: {}",
        short(&p.commit),
        if p.path.is_empty() { "." } else { &p.path },
        ctx.context,
        p.summary()
    );
    for s in p.steps.iter().filter(|s| s.action != Action::Unchanged) {
        let at = match (&s.file, s.line) {
            (Some(f), Some(l)) => format!(" ({f}:{l})"),
            _ => String::new(),
        };
        let wave = match s.wave {
            0 => String::new(),
            w => format!(" wave {w}"),
        };
        println!("\n{:?} {}{at}{wave}", s.action, s.object);
        if let Some(m) = &s.message {
            println!("  {m}");
        }
        print!("{}", s.diff);
    }
    for e in &p.errors {
        println!("\nunreadable {e}");
    }
    if let Some(why) = p.refusal() {
        println!("\n{why}");
    }
}

async fn diff(ctx: &Ctx, rev: &str) -> Res {
    let p = plan_at(ctx, rev).await?;
    if ctx.json {
        println!("{:#}", json!(p));
    }
    print_plan(ctx, &p);
    Ok(if !p.errors.is_empty() || p.count(Action::Error) > 0 {
        INCOMPLETE
    } else if p.writes(true) {
        OUT_OF_SYNC
    } else {
        OK
    })
}

/// Asks on the terminal; without one, only --yes confirms.
fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer).is_ok() && matches!(answer.trim(), "y" | "Y" | "yes")
}

async fn sync_cmd(
    ctx: &Ctx,
    w: Option<&Writer>,
    rev: &str,
    (dry_run, yes, snapshot_first): (bool, bool, bool),
    opts: &Options,
) -> Res {
    // Refused before the cluster is asked anything.
    if !dry_run && w.is_some() {
        gitops::require_clean(&ctx.repo, "sync").map_err(|e| (e, REFUSED))?;
    }
    let p = plan_at(ctx, rev).await?;
    print_plan(ctx, &p);
    if dry_run {
        if ctx.json {
            println!("{:#}", json!(p));
        }
        // As `diff` says: a commit that would be refused is not merely out of sync.
        return Ok(if p.refusal().is_some() {
            INCOMPLETE
        } else if p.writes(opts.prune) {
            OUT_OF_SYNC
        } else {
            OK
        });
    }
    let Some(w) = w else {
        return Err((
            "read-only: sync refused (drop --read-only to apply)".into(),
            REFUSED,
        ));
    };
    apply_plan(ctx, w, &p, yes, opts, snapshot_first).await
}

/// Applies a previewed plan; `snapshot_first` snapshots the StatefulSets it changes.
async fn apply_plan(
    ctx: &Ctx,
    w: &Writer,
    p: &Plan,
    yes: bool,
    opts: &Options,
    snapshot_first: bool,
) -> Res {
    // Before any question or snapshot: nothing of this commit may be applied.
    if let Some(why) = p.refusal() {
        return Err((why, REFUSED));
    }
    let prunes = if opts.prune {
        p.count(Action::Prune)
    } else {
        0
    };
    let question = format!(
        "apply {} to context {}{}?",
        short(&p.commit),
        ctx.context,
        if prunes > 0 {
            format!(", deleting {prunes} objects")
        } else {
            String::new()
        }
    );
    if !yes && !confirm(&question) {
        return Err((
            "not confirmed: nothing applied (pass --yes to sync without asking)".into(),
            REFUSED,
        ));
    }
    let json = ctx.json;
    let say = move |l: String| say(json, &l);
    let mut opts = opts.clone();
    let stateful = snapshot::changed_by(p);
    let snapshots = if !snapshot_first || stateful.is_empty() {
        Ok(Vec::new())
    } else {
        let now = sync::read_record(&ctx.target, &ctx.app)
            .await
            .ok()
            .flatten();
        let client = &ctx.target.client;
        let commit = now.map(|r| r.commit);
        audit::snapshot_before_sync(&ctx.rec, w, client, &stateful, commit, &say).await
    };
    opts.snapshots = match snapshots {
        Ok(s) => s,
        Err(e) => {
            let m = audit::sync_not_applied(&p.app, &p.commit, &e);
            ctx.rec.record(w, &m).await;
            return Err((e, INCOMPLETE));
        }
    };
    let report = sync::execute(&ctx.target, w, p, &opts, &say).await;
    for m in audit::sync_mutations(&ctx.rec, &p.app, &report).await {
        ctx.rec.record(w, &m).await;
    }
    finish(ctx, &report)
}

fn finish(ctx: &Ctx, r: &Report) -> Res {
    let code = if r.complete() { OK } else { INCOMPLETE };
    if ctx.json {
        println!(
            "{:#}",
            json!({"report": r, "complete": r.complete(), "result": r.result()})
        );
    } else {
        println!("{} (context {})", r.summary(), ctx.context);
    }
    Ok(code)
}

async fn rollback(ctx: &Ctx, w: Option<&Writer>, sha: &str, yes: bool, opts: &Options) -> Res {
    let Some(w) = w else {
        return Err((
            "read-only: roll back refused (drop --read-only to commit and apply)".into(),
            REFUSED,
        ));
    };
    gitops::require_clean(&ctx.repo, "roll back").map_err(|e| (e, REFUSED))?;
    let target = gitops::resolve(&ctx.repo, sha).map_err(|e| (e, ERROR))?;
    if !yes && !confirm(&format!("create a commit that reverts {}?", short(&target))) {
        return Err(("not confirmed: nothing changed".into(), REFUSED));
    }
    let reverted = gitops::revert(&ctx.repo, w, &target);
    let m = Mutation {
        action: audit::Action::Rollback,
        target: format!(
            "{}: revert {}",
            audit::repo_target(&ctx.repo),
            short(&target)
        ),
        commit: reverted.as_ref().ok().cloned(),
        result: reverted.clone(),
        events: Vec::new(),
    };
    ctx.rec.record(w, &m).await;
    let new = reverted.map_err(|e| (e, INCOMPLETE))?;
    ctx.say(&format!(
        "committed {} reverting {}",
        short(&new),
        short(&target)
    ));
    let p = plan_at(ctx, &new).await?;
    print_plan(ctx, &p);
    apply_plan(ctx, w, &p, yes, opts, true)
        .await
        .map_err(|(e, c)| {
            (
                format!(
                    "{e}; the revert commit {} stays in git, sync it later",
                    short(&new)
                ),
                c,
            )
        })
}
