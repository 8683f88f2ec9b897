//! The snapshot and restore dialogs, driven by keys through the reducer.
use super::cluster::Kind;
use super::msg::{ClusterEvent, Command, Msg, StorageEvent, SyncEvent, WriteIntent};
use super::tests::{Harness, ch, press, row};
use crate::engine::restore::{Plan, Record};
use crate::engine::snapshot::Consistency;
use crate::engine::workload::{Workload, WorkloadKind};
use crossterm::event::KeyCode;

fn db() -> Workload {
    Workload {
        kind: WorkloadKind::StatefulSet,
        namespace: "shop".into(),
        name: "db".into(),
    }
}

/// Opens `shop` and selects the `db` StatefulSet.
fn select_db(h: &mut Harness) {
    h.quietly([ch('j'), press(KeyCode::Enter), ch('j')]);
    assert_eq!(h.selected_name(), "db");
}

fn plan_restore(name: &str) -> Command {
    Command::PlanRestore {
        namespace: "shop".into(),
        name: name.into(),
    }
}

fn writes(out: &[Command]) -> Vec<WriteIntent> {
    out.iter()
        .filter_map(|c| match c {
            Command::Write { intent, .. } => Some(intent.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn s_on_a_statefulset_asks_how_then_snapshots_and_shows_progress() {
    let mut h = Harness::new(false, 0).with_cluster();
    select_db(&mut h);
    h.quietly([ch('S')]);
    let d = h.state.ops.snapshot.clone().expect("a snapshot dialog");
    assert_eq!(
        (d.workload, d.claims),
        (db(), 3),
        "three replicas of one template"
    );
    let out = h.send(ch('z'));
    assert_eq!(
        writes(&out),
        [WriteIntent::Snapshot {
            workload: db(),
            consistency: Consistency::ScaleDown,
            commit: None
        }]
    );
    let Some(Command::Write { id, .. }) = out.first() else {
        unreachable!()
    };
    let id = *id;
    h.quietly([
        Msg::Sync(SyncEvent::Progress(id, "1/3 snapshots ready".into())),
        Msg::Done(id, Ok("snapshot set db-1: 3 snapshots ready".into())),
    ]);
    let d = h.state.ops.snapshot.clone().unwrap();
    assert_eq!(d.run.log, ["1/3 snapshots ready"]);
    assert!(matches!(d.run.finished, Some(Ok(_))));
    h.quietly([press(KeyCode::Esc)]);
    assert!(h.state.ops.snapshot.is_none());
}

#[test]
fn a_single_claim_has_no_scale_down_choice_and_n_cancels() {
    let mut h = Harness::new(false, 0).with_cluster();
    select_db(&mut h);
    h.quietly([ch('S')]);
    h.state.ops.snapshot.as_mut().unwrap().claims = 1;
    h.quietly([ch('z')]);
    assert!(h.state.ops.snapshot.is_some(), "z means nothing here");
    h.quietly([ch('n')]);
    assert!(h.state.ops.snapshot.is_none());
}

#[test]
fn s_on_something_that_is_not_a_workload_says_so() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([ch('S')]);
    assert!(h.state.ops.snapshot.is_none());
    let (ok, msg) = h.state.flash.clone().unwrap();
    assert!(!ok && msg.contains("select a StatefulSet"), "{msg}");
}

#[test]
fn read_only_offers_neither_snapshot_nor_restore() {
    let mut h = Harness::new(true, 0).with_cluster();
    select_db(&mut h);
    h.quietly([ch('S')]);
    assert!(h.state.ops.snapshot.is_none());
    assert!(h.state.flash.clone().unwrap().1.contains("read-only"));
    add_snapshot(&mut h);
    h.quietly([ch('r')]);
    assert!(h.state.ops.restore.is_none());
    assert!(h.state.flash.clone().unwrap().1.contains("read-only"));
}

#[test]
fn while_portworx_fails_snapshot_and_restore_refuse_and_say_why() {
    let mut h = Harness::new(false, 0).with_cluster();
    select_db(&mut h);
    let failed = |e: &str| Msg::Storage(StorageEvent::Failed(e.into()));
    h.quietly([failed(
        "no answer from http://px:9021 within 5s for cluster",
    )]);
    h.quietly([ch('S')]);
    assert!(h.state.ops.snapshot.is_none());
    let (ok, msg) = h.state.flash.clone().unwrap();
    assert!(!ok, "{msg}");
    assert_eq!(
        msg,
        "snapshot and restore are off while Portworx fails: not answering"
    );
    add_snapshot(&mut h);
    let out = h.send(ch('r'));
    assert!(out.is_empty(), "no plan is asked for: {out:?}");
    assert!(h.state.ops.restore.is_none());
    assert!(h.state.flash.clone().unwrap().1.contains("Portworx fails"));

    // Once it answers again, S opens its dialog; if it fails again before the
    // choice, the dialog stays but starts nothing.
    let up = Msg::Storage(StorageEvent::Data {
        cluster: Default::default(),
        nodes: Ok(vec![]),
        volumes: vec![],
    });
    h.quietly([up.clone()]);
    h.state.cluster.selected = h
        .state
        .cluster
        .tree()
        .iter()
        .position(|l| l.key.2 == "db")
        .unwrap();
    h.quietly([ch('S')]);
    assert!(h.state.ops.snapshot.is_some());
    h.quietly([failed(
        "token refused (HTTP 401) by http://px:9021 for cluster: expired",
    )]);
    let out = h.send(ch('y'));
    assert!(writes(&out).is_empty(), "{out:?}");
    assert!(
        h.state.ops.snapshot.is_some(),
        "the dialog stays to be closed"
    );
    assert!(h.state.flash.clone().unwrap().1.ends_with("token refused"));
    h.quietly([up]);
    let out = h.send(ch('y'));
    assert_eq!(writes(&out).len(), 1, "{out:?}");
}

/// A VolumeSnapshot of data-db-0, selected in the tree under db.
fn add_snapshot(h: &mut Harness) {
    let mut snap = row(Kind::VolumeSnapshot, "shop", "data-db-0-snap");
    snap.claims = vec!["data-db-0".into()];
    h.quietly([Msg::Cluster(ClusterEvent::Applied(snap))]);
    let at = h
        .state
        .cluster
        .tree()
        .iter()
        .position(|l| l.key.2 == "data-db-0-snap");
    if at.is_none() {
        // Under the StatefulSet: open it.
        h.quietly([press(KeyCode::Enter)]);
    }
    let at = h
        .state
        .cluster
        .tree()
        .iter()
        .position(|l| l.key.2 == "data-db-0-snap")
        .expect("the snapshot is in the tree");
    h.state.cluster.selected = at;
}

fn plan(refusal: Option<&str>) -> Box<Plan> {
    let mut p = crate::engine::restore::fixtures::plan();
    p.workload = db();
    p.snapshot = "shop/data-db-0-snap".into();
    p.refusal = refusal.map(String::from);
    Box::new(p)
}

#[test]
fn r_on_a_snapshot_plans_and_restores_only_once_the_name_is_typed() {
    let mut h = Harness::new(false, 0).with_cluster();
    select_db(&mut h);
    add_snapshot(&mut h);
    let out = h.send(ch('r'));
    assert_eq!(out, [plan_restore("data-db-0-snap")]);
    h.quietly([Msg::Storage(StorageEvent::RestorePlanned {
        snapshot: "shop/data-db-0-snap".into(),
        result: Ok(plan(None)),
    })]);
    // Not yet: nothing typed, then the wrong name.
    h.quietly([
        press(KeyCode::Enter),
        ch('w'),
        ch('e'),
        ch('b'),
        press(KeyCode::Enter),
    ]);
    for _ in 0..3 {
        h.quietly([press(KeyCode::Backspace)]);
    }
    // Tab turns the safety snapshot off; q and r are typed, not keys.
    h.quietly([press(KeyCode::Tab), ch('d'), ch('b')]);
    let out = h.send(press(KeyCode::Enter));
    assert_eq!(
        writes(&out),
        [WriteIntent::Restore {
            plan: plan(None),
            safety: false,
            commit: None
        }]
    );
    assert!(h.state.ops.restore.as_ref().unwrap().run.id.is_some());
}

#[test]
fn a_refused_restore_cannot_be_confirmed() {
    let mut h = Harness::new(false, 0).with_cluster();
    select_db(&mut h);
    add_snapshot(&mut h);
    h.send(ch('r'));
    h.quietly([Msg::Storage(StorageEvent::RestorePlanned {
        snapshot: "shop/data-db-0-snap".into(),
        result: Ok(plan(Some("whenScaled is Delete"))),
    })]);
    h.quietly([ch('d'), ch('b'), press(KeyCode::Enter)]);
    assert!(
        h.state.ops.restore.is_none(),
        "Enter closes it, nothing runs"
    );
    assert!(h.state.pending.is_empty());
}

#[test]
fn r_elsewhere_still_refreshes() {
    let mut h = Harness::new(false, 0).with_cluster();
    select_db(&mut h);
    let out = h.send(ch('r'));
    assert_eq!(out, [Command::RefreshStorage]);
    assert!(h.state.ops.restore.is_none());
}

#[test]
fn rolling_back_a_commit_whose_sync_took_snapshots_offers_to_restore_them() {
    use super::msg::GitEvent;
    use super::tests::{commits, git_harness, previewing};
    use crate::engine::record::{SyncEntry, SyncRecord};
    let c = commits(0, 40)[1].clone();
    let record = SyncRecord {
        commit: c.id.clone(),
        history: vec![SyncEntry {
            at: 1,
            commit: c.id.clone(),
            by: "Ada".into(),
            snapshots: vec!["shop/data-db-0-snap".into()],
        }],
        ..Default::default()
    };
    let mut h = git_harness();
    h.quietly([Msg::Git(GitEvent::Synced(Some(record))), ch('j'), ch('r')]);
    let Some(WriteIntent::Revert { restore, .. }) = h.state.confirm.as_ref().map(|c| &c.intent)
    else {
        panic!("a revert is asked for")
    };
    assert_eq!(restore, &["shop/data-db-0-snap"]);
    let text = h
        .state
        .confirm
        .as_ref()
        .unwrap()
        .intent
        .preview()
        .join("\n");
    assert!(text.contains("restoring them is offered"), "{text}");
    h.send(ch('y'));
    assert_eq!(h.state.sync.paired, ["shop/data-db-0-snap"]);

    // The revert's sync, once done, opens the restore of that snapshot.
    let mut p = previewing(false);
    p.state.sync.paired = vec!["shop/data-db-0-snap".into()];
    let out = p.send(ch('y'));
    let Some(Command::Write { id, .. }) = out.first() else {
        panic!("the sync runs")
    };
    let out = p.send(Msg::Done(*id, Ok("synced".into())));
    assert!(out.contains(&plan_restore("data-db-0-snap")));
    assert!(p.state.ops.restore.is_some());
    assert!(p.state.sync.paired.is_empty());
}

#[test]
fn a_paired_roll_back_of_several_workloads_offers_each_restore_in_turn() {
    use super::tests::previewing;
    let mut p = previewing(false);
    p.state.sync.paired = vec!["shop/a-snap".into(), "shop/b-snap".into()];
    let out = p.send(ch('y'));
    let Some(Command::Write { id, .. }) = out.first() else {
        panic!("the sync runs")
    };
    p.send(Msg::Done(*id, Ok("synced".into())));
    assert_eq!(
        p.state.ops.restore.as_ref().unwrap().snapshot,
        "shop/a-snap"
    );
    p.quietly([Msg::Storage(StorageEvent::RestorePlanned {
        snapshot: "shop/a-snap".into(),
        result: Ok(plan(None)),
    })]);
    p.quietly([ch('d'), ch('b')]);
    let out = p.send(press(KeyCode::Enter));
    let Some(Command::Write { id, .. }) = out.first() else {
        panic!("the restore runs")
    };
    let out = p.send(Msg::Done(*id, Ok("restored".into())));
    assert!(out.contains(&plan_restore("b-snap")));
    assert_eq!(
        p.state.ops.restore.as_ref().unwrap().snapshot,
        "shop/b-snap"
    );
    assert!(p.state.sync.paired.is_empty());
}

/// A restore record as a stopped sextant leaves it: `done` its steps so far.
fn record(done: &[crate::engine::restore::Step], safety: Option<&str>) -> Record {
    Record {
        snapshot: "shop/data-db-0-snap".into(),
        replicas: 3,
        done: done.to_vec(),
        safety: safety.map(String::from),
        error: None,
        workload: Some(db()),
        owner: None,
    }
}

#[test]
fn an_unfinished_restore_found_at_connect_offers_resume_and_undo() {
    use crate::engine::restore::Step::*;
    let mut h = Harness::new(false, 0).with_cluster();
    let untouched = record(&[Safety, Remember, ScaleDown], Some("db-safety"));
    let restored = record(
        &[Safety, Remember, ScaleDown, Detach, Restore],
        Some("db-safety"),
    );
    let bare = record(&[Safety, Remember, ScaleDown, Detach, Restore], None);
    h.quietly([Msg::Storage(StorageEvent::Unfinished(Ok(vec![
        untouched.clone(),
        restored,
        bare.clone(),
        record(&[], None),
    ])))]);
    assert_eq!(h.state.ops.unfinished.len(), 4);
    // Other keys wait for the choice.
    h.quietly([ch('S'), ch('j')]);
    assert_eq!(h.state.ops.unfinished.len(), 4);

    // Data untouched: undo scales back and forgets the record, once confirmed.
    h.quietly([ch('u')]);
    assert!(h.state.confirm.is_some());
    let out = h.send(ch('y'));
    assert_eq!(
        writes(&out),
        [WriteIntent::UndoRestore {
            record: Box::new(untouched)
        }]
    );
    // Data restored with a safety set: undo restores that set, through its preview.
    let out = h.send(ch('u'));
    assert_eq!(out, [plan_restore("db-safety")]);
    assert_eq!(
        h.state.ops.restore.as_ref().unwrap().snapshot,
        "shop/db-safety"
    );
    h.quietly([press(KeyCode::Esc)]);
    // Data restored without one: no undo, resume finishes it.
    h.quietly([ch('u')]);
    assert!(h.state.flash.clone().unwrap().1.starts_with("cannot undo"));
    assert_eq!(h.state.ops.unfinished[0], bare);
    let out = h.send(ch('r'));
    assert_eq!(out, [plan_restore("data-db-0-snap")]);
    h.quietly([press(KeyCode::Esc)]);
    // Esc puts the last off, saying how to resume it later.
    h.quietly([press(KeyCode::Esc)]);
    assert!(h.state.ops.unfinished.is_empty());
    assert!(
        h.state
            .flash
            .clone()
            .unwrap()
            .1
            .contains("sextant restore shop/data-db-0-snap")
    );
}

#[test]
fn read_only_and_watch_mode_cannot_act_on_an_unfinished_restore() {
    use crate::engine::restore::Step::*;
    let found = || {
        Msg::Storage(StorageEvent::Unfinished(Ok(vec![record(
            &[Safety, Remember],
            None,
        )])))
    };
    let mut h = Harness::new(true, 0).with_cluster();
    h.quietly([found(), ch('r'), ch('u')]);
    assert!(h.state.flash.clone().unwrap().1.contains("read-only"));
    assert_eq!(h.state.ops.unfinished.len(), 1, "shown until closed");
    h.quietly([press(KeyCode::Esc)]);
    assert!(!h.state.ops.open());
    let mut h = Harness::new(false, 0).with_cluster();
    h.state.watch.on = true;
    h.quietly([found()]);
    assert!(!h.state.ops.open(), "a wall display shows no dialog");
}

#[test]
fn only_unfinished_restores_of_the_namespace_shown_are_offered() {
    use crate::engine::restore::Step::*;
    let mut h = Harness::new(false, 0).with_cluster();
    h.state.cluster.namespace = Some("other".into());
    let ours = record(&[Safety], None);
    let mut theirs = record(&[Safety], None);
    theirs.workload.as_mut().unwrap().namespace = "other".into();
    h.quietly([Msg::Storage(StorageEvent::Unfinished(Ok(vec![
        ours,
        theirs.clone(),
    ])))]);
    assert_eq!(h.state.ops.unfinished, [theirs]);
}
