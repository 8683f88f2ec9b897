//! Storage pane benchmark: 2,000 Portworx volumes, each with a bound PV and two CSI
//! VolumeSnapshots in the cluster state, in a zoomed 160x45 storage pane. Reports the
//! frame alone and a poll's answer (StorageEvent::Data through the reducer) to the
//! finished frame. Medians of RUNS runs (default 50). Run with
//! `cargo bench --bench storage`.
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sextant::app::cluster::{Kind, ObjRow};
use sextant::app::keymap::Keymap;
use sextant::app::msg::{ClusterEvent, StorageEvent};
use sextant::app::state::{Pane, PxCluster, VolumeRow};
use sextant::app::{Msg, State, update};
use sextant::ui::{self, theme::Theme};
use std::time::Instant;

mod common;
use common::{runs, summary};

const W: u16 = 160;
const H: u16 = 45;
const VOLUMES: usize = 2000;

/// Volumes whose usage moves with `tick`, so every poll is news; every 50th degraded.
fn volumes(tick: u64) -> Vec<VolumeRow> {
    (0..VOLUMES)
        .map(|i| VolumeRow {
            id: format!("{}", 1_000_000 + i),
            name: format!("pvc-{i:05}"),
            pvc: Some((format!("ns-{}", i % 20), format!("data-db-{i}"))),
            size: 10 << 30,
            usage: ((i as u64 * 7919 + tick * 4096) % (10 << 30)) & !4095,
            ha_level: 3,
            replicas: if i % 50 == 0 { 2 } else { 3 },
            replica_nodes: vec!["node-1".into(), "node-2".into(), "node-3".into()],
            state: "ATTACHED".into(),
            status: if i % 50 == 0 { "DEGRADED" } else { "UP" }.into(),
            io_profile: "db_remote".into(),
            attached_on: "node-1".into(),
            snapshots: 2,
            ..Default::default()
        })
        .collect()
}

fn cluster_rows() -> Vec<Msg> {
    let pvs = (0..VOLUMES)
        .map(|i| ObjRow {
            kind: Some(Kind::Pv),
            name: format!("pvc-{i:05}"),
            volume: format!("{}", 1_000_000 + i),
            claims: vec![format!("ns-{}/data-db-{i}", i % 20)],
            ..Default::default()
        })
        .collect();
    let snaps = (0..VOLUMES * 2)
        .map(|k| ObjRow {
            kind: Some(Kind::VolumeSnapshot),
            namespace: format!("ns-{}", (k / 2) % 20),
            name: format!("data-db-{}-{k}", k / 2),
            claims: vec![format!("data-db-{}", k / 2)],
            labels: vec![("sextant.dev/commit".into(), "a".repeat(40))],
            ..Default::default()
        })
        .collect();
    vec![
        Msg::Cluster(ClusterEvent::Listed(Kind::Pv, pvs)),
        Msg::Cluster(ClusterEvent::Listed(Kind::VolumeSnapshot, snaps)),
    ]
}

fn poll(tick: u64) -> Msg {
    Msg::Storage(StorageEvent::Data {
        cluster: PxCluster {
            name: "px-bench".into(),
            status: "OK".into(),
        },
        nodes: Ok(Vec::new()),
        volumes: volumes(tick),
    })
}

fn main() {
    let keymap = Keymap::default();
    let theme = Theme::bundled("dark").expect("the bundled dark theme loads");
    let mut state = State::new(true, Vec::new(), 1_714_564_800);
    update(&mut state, &keymap, Msg::Resize(W, H));
    for m in cluster_rows() {
        update(&mut state, &keymap, m);
    }
    update(&mut state, &keymap, poll(0));
    state.focus = Pane::Storage;
    state.zoom = true;
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    let mut draw = |state: &State| {
        term.draw(|f| ui::draw(f, state, &theme, &keymap)).unwrap();
    };
    draw(&state);

    let n = runs();
    let mut frame = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        draw(&state);
        frame.push(t.elapsed());
    }
    println!(
        "storage: frame of {VOLUMES} volumes, {} snapshots, {W}x{H}: {}",
        VOLUMES * 2,
        summary(frame)
    );
    let mut answer = Vec::with_capacity(n);
    for k in 1..=n as u64 {
        let msg = poll(k);
        let t = Instant::now();
        update(&mut state, &keymap, msg);
        assert!(state.dirty, "a changed poll marks the state dirty");
        draw(&state);
        state.dirty = false;
        answer.push(t.elapsed());
    }
    println!(
        "storage: poll answer (StorageEvent::Data) to finished frame: {}",
        summary(answer)
    );
}
