//! Reducer tests of the storage pane: order, sort, filter, selection and the joins with
//! PVs and VolumeSnapshots.
use super::cluster::{Health, Kind, ObjRow};
use super::keymap::Keymap;
use super::msg::{ClusterEvent, Msg, StorageEvent};
use super::state::{Link, Pane, PxCluster, PxNode, PxSnapshot, SortKey, VolumeRow};
use super::storage::{self, PxProblem};
use super::{State, update};
use crate::engine::snapshot::{COMMIT_LABEL, REASON_LABEL};
use crate::sources::rows;
use crossterm::event::{KeyCode, KeyEvent};
use serde_json::json;

const NOW: i64 = 1_714_564_800;
const SHA: &str = "9f3c2a1b7d4e5f60718293a4b5c6d7e8f9012345";

fn vol(id: &str, claim: Option<&str>, status: &str, state: &str) -> VolumeRow {
    VolumeRow {
        id: id.into(),
        name: format!("pvc-{id}"),
        pvc: claim.map(|c| ("shop".to_string(), c.to_string())),
        size: 100,
        usage: 50,
        ha_level: 2,
        replicas: 2,
        replica_nodes: vec!["worker-1".into(), "worker-2".into()],
        status: status.into(),
        state: state.into(),
        attached_on: "worker-1".into(),
        ..Default::default()
    }
}

fn volumes() -> Vec<VolumeRow> {
    let mut ok = vol("v-ok", Some("data-a-0"), "UP", "ATTACHED");
    ok.px_snapshots = vec![
        PxSnapshot {
            id: "s1".into(),
            name: "snapshot-uid1".into(),
            created: NOW - 600,
            usage: 7,
            status: "UP".into(),
        },
        PxSnapshot {
            id: "s2".into(),
            name: "px-manual".into(),
            created: NOW - 7200,
            usage: 9,
            status: "UP".into(),
        },
    ];
    let mut deg = vol("v-deg", Some("data-b-0"), "UP", "ATTACHED");
    deg.ha_level = 3;
    deg.replica_nodes = vec!["worker-3".into(), "worker-2".into()];
    let rest = vol("v-rest", Some("data-c-0"), "UP", "RESTORE");
    // No claim labels: the PV names the claim.
    let down = vol("v-down", None, "DOWN", "DETACHED");
    let mut big = vol("v-big", Some("data-e-0"), "UP", "ATTACHED");
    (big.size, big.usage) = (1000, 900);
    vec![ok, deg, rest, down, big]
}

fn pv(name: &str, handle: &str, claim: &str) -> ObjRow {
    rows::pv(
        &serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "PersistentVolume",
            "metadata": {"name": name, "creationTimestamp": "2024-04-01T09:00:00Z"},
            "spec": {"capacity": {"storage": "20Gi"}, "accessModes": ["ReadWriteOnce"],
                "claimRef": {"kind": "PersistentVolumeClaim", "namespace": "shop", "name": claim},
                "csi": {"driver": "pxd.portworx.com", "volumeHandle": handle}},
            "status": {"phase": "Bound"}
        }))
        .unwrap(),
    )
}

fn snapshot(name: &str, claim: &str, created: &str, status: serde_json::Value) -> ObjRow {
    rows::volumesnapshot(
        &serde_json::from_value(json!({
            "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
            "metadata": {"name": name, "namespace": "shop", "creationTimestamp": created,
                "labels": {COMMIT_LABEL: SHA, REASON_LABEL: "pre-sync", "app": "db"}},
            "spec": {"source": {"persistentVolumeClaimName": claim},
                "volumeSnapshotClassName": "px-csi-snapclass"},
            "status": status
        }))
        .unwrap(),
    )
}

fn snapshots() -> Vec<ObjRow> {
    vec![
        snapshot(
            "snap-new",
            "data-a-0",
            "2024-05-01T11:50:00Z",
            json!({"readyToUse": true, "restoreSize": "20Gi",
                "boundVolumeSnapshotContentName": "snapcontent-uid1",
                "creationTime": "2024-05-01T11:50:00Z"}),
        ),
        snapshot(
            "snap-old",
            "data-a-0",
            "2024-04-30T12:00:00Z",
            json!({"readyToUse": false, "error": {"message": "Failed to create snapshot: no space"}}),
        ),
        snapshot(
            "snap-e",
            "data-e-0",
            "2024-04-30T12:00:00Z",
            json!({"readyToUse": true}),
        ),
    ]
}

fn data(volumes: Vec<VolumeRow>, nodes: Result<Vec<PxNode>, String>) -> Msg {
    Msg::Storage(StorageEvent::Data {
        cluster: PxCluster {
            name: "px-sim".into(),
            status: "OK".into(),
        },
        nodes,
        volumes,
    })
}

struct H {
    state: State,
    keymap: Keymap,
}

impl H {
    fn new() -> Self {
        let mut h = H {
            state: State::new(false, crate::config::default_graphs(), NOW),
            keymap: Keymap::default(),
        };
        h.state.focus = Pane::Storage;
        h.send([
            Msg::Cluster(ClusterEvent::Listed(
                Kind::Pv,
                vec![
                    pv("pvc-aaaa", "v-ok", "data-a-0"),
                    pv("pvc-dddd", "v-down", "data-d-0"),
                ],
            )),
            Msg::Cluster(ClusterEvent::Listed(Kind::VolumeSnapshot, snapshots())),
            data(volumes(), Ok(vec![])),
        ]);
        h
    }
    fn send(&mut self, msgs: impl IntoIterator<Item = Msg>) -> &mut Self {
        for m in msgs {
            update(&mut self.state, &self.keymap, m);
        }
        self
    }
    fn keys(&mut self, s: &str) -> &mut Self {
        let msgs: Vec<Msg> = s
            .chars()
            .map(|c| {
                Msg::Key(KeyEvent::from(match c {
                    '\n' => KeyCode::Enter,
                    '\x1b' => KeyCode::Esc,
                    c => KeyCode::Char(c),
                }))
            })
            .collect();
        self.send(msgs)
    }
    fn ids(&self) -> Vec<String> {
        storage::table(&self.state)
            .iter()
            .map(|l| l.volume.id.clone())
            .collect()
    }
    fn selected(&self) -> String {
        storage::selected_volume(&self.state).unwrap().id.clone()
    }
}

#[test]
fn unhealthy_volumes_come_first_then_the_sort_key() {
    let mut h = H::new();
    assert_eq!(h.ids(), ["v-down", "v-deg", "v-rest", "v-ok", "v-big"]);
    let t = storage::table(&h.state);
    let health: Vec<Health> = t.iter().map(|l| l.health).collect();
    assert_eq!(
        health,
        [
            Health::Failed,
            Health::Degraded,
            Health::Progressing,
            Health::Healthy,
            Health::Healthy
        ]
    );
    h.keys("o");
    assert_eq!(h.state.storage.sort, SortKey::Used);
    assert_eq!(h.ids(), ["v-down", "v-deg", "v-rest", "v-big", "v-ok"]);
    h.keys("oo");
    assert_eq!(h.state.storage.sort, SortKey::State);
    h.keys("o");
    assert_eq!(h.state.storage.sort, SortKey::Snapshots);
    assert_eq!(
        h.ids()[3..],
        ["v-ok", "v-big"],
        "3 snapshots before 1 among the healthy"
    );
    h.keys("o");
    assert_eq!(h.state.storage.sort, SortKey::Claim);
}

#[test]
fn the_pv_and_the_claim_come_from_the_pv_rows() {
    let h = H::new();
    let t = storage::table(&h.state);
    let down = t.iter().find(|l| l.volume.id == "v-down").unwrap();
    assert_eq!(
        (down.claim.as_str(), down.pv.as_str()),
        ("shop/data-d-0", "pvc-dddd")
    );
    let deg = t.iter().find(|l| l.volume.id == "v-deg").unwrap();
    assert_eq!(deg.pv, "pvc-v-deg", "no PV: Portworx's name");
}

#[test]
fn the_selection_stays_on_its_volume_when_rows_reorder() {
    let mut h = H::new();
    h.keys("jjj");
    assert_eq!(h.selected(), "v-ok");
    h.keys("o");
    assert_eq!(h.ids()[4], "v-ok");
    assert_eq!(h.selected(), "v-ok");
    assert_eq!(h.state.storage.selected, 4);
    // v-deg heals: it moves below v-ok's old place, the cursor does not.
    let mut healed = volumes();
    healed[1].replicas = 3;
    healed[1].ha_level = 2;
    h.send([data(healed, Ok(vec![]))]);
    assert_eq!(h.selected(), "v-ok");
    // The metrics pane follows what is selected, not a position in the raw list.
    let scope = super::metrics::selection_scope(&h.state);
    assert_eq!(scope.len(), 1);
    assert_eq!(scope[0].0, "volume");
    assert!(scope[0].1.contains("pvc-v-ok"), "{scope:?}");
    // The volume goes: the cursor stays where it was, on what is there now.
    let gone: Vec<VolumeRow> = volumes().into_iter().filter(|v| v.id != "v-ok").collect();
    h.send([data(gone, Ok(vec![]))]);
    assert_eq!(h.state.storage.selected, 3);
    assert_eq!(h.ids().len(), 4);
}

#[test]
fn the_filter_matches_claim_pv_id_node_and_state() {
    let mut h = H::new();
    h.keys("/restore");
    assert_eq!(h.ids(), ["v-rest"]);
    assert_eq!(h.state.storage.filter, "restore");
    assert_eq!(
        h.state.cluster.filter, "",
        "the cluster filter is untouched"
    );
    h.keys("\x1b");
    assert_eq!(h.state.storage.filter, "");
    assert_eq!(h.ids().len(), 5);
    h.keys("/pvc-aaaa\n");
    assert_eq!(h.ids(), ["v-ok"], "the PV name from the join");
    assert!(h.state.input.is_none());
    h.keys("\x1b/WORKER-3\n");
    assert_eq!(h.ids(), ["v-deg"], "a replica node, any case");
    h.keys("\x1b/v-big\n");
    assert_eq!(h.ids(), ["v-big"]);
    assert_eq!(h.selected(), "v-big");
    h.keys("\x1b/data-d\n");
    assert_eq!(h.ids(), ["v-down"], "the claim via the PV");
}

#[test]
fn details_list_the_claims_csi_snapshots_then_portworx_only_ones() {
    let mut h = H::new();
    h.keys("jjj");
    assert_eq!(storage::selected_snapshot(&h.state), None, "details closed");
    h.keys("\n");
    assert!(h.state.storage.details);
    let line = storage::selected_line(&h.state).unwrap();
    let names: Vec<&str> = line.snapshots.iter().map(|s| s.name.as_str()).collect();
    // snapshot-uid1 is snap-new's Portworx snapshot: not listed twice.
    assert_eq!(names, ["snap-new", "snap-old", "px-manual"]);
    let new = &line.snapshots[0];
    assert_eq!(new.commit.as_deref(), Some(SHA));
    assert_eq!(new.reason.as_deref(), Some("pre-sync"));
    assert_eq!((new.size.as_str(), new.state.as_str()), ("20Gi", "ready"));
    assert_eq!(new.health, Health::Healthy);
    let old = &line.snapshots[1];
    assert_eq!(old.health, Health::Failed);
    assert!(old.state.contains("no space"), "{}", old.state);
    let px = &line.snapshots[2];
    assert_eq!((px.namespace.as_ref(), px.bytes), (None, 9));
    assert_eq!(
        storage::selected_snapshot(&h.state),
        Some(("shop".into(), "snap-new".into()))
    );
    // j/k move through the snapshots while the details are open.
    h.keys("j");
    assert_eq!(
        storage::selected_snapshot(&h.state),
        Some(("shop".into(), "snap-old".into()))
    );
    h.keys("jjj");
    assert_eq!(h.state.storage.snapshot, 2);
    assert_eq!(
        storage::selected_snapshot(&h.state),
        None,
        "a Portworx-only snapshot has no VolumeSnapshot"
    );
    assert_eq!(h.selected(), "v-ok", "the volume did not move");
    h.keys("\x1b");
    assert!(!h.state.storage.details);
    h.keys("j");
    assert_eq!(h.selected(), "v-big");
}

#[test]
fn a_poll_with_nothing_new_costs_no_frame_and_a_node_error_keeps_the_volumes() {
    let mut h = H::new();
    let nodes = vec![PxNode {
        id: "n1".into(),
        name: "worker-1".into(),
        status: "OK".into(),
        pools: vec![],
    }];
    h.send([data(volumes(), Ok(nodes.clone()))]);
    assert_eq!(h.state.storage.nodes, nodes);
    h.state.dirty = false;
    h.send([data(volumes(), Ok(nodes.clone()))]);
    assert!(!h.state.dirty, "same data, no frame");
    h.send([data(
        volumes(),
        Err("nodes: token refused (HTTP 403)".into()),
    )]);
    assert!(h.state.dirty);
    assert_eq!(h.state.storage.volumes.len(), 5);
    assert_eq!(h.state.storage.nodes, nodes, "the last known nodes stay");
    assert!(h.state.storage.nodes_error.is_some());
    h.state.dirty = false;
    h.send([data(
        volumes(),
        Err("nodes: token refused (HTTP 403)".into()),
    )]);
    assert!(!h.state.dirty, "the same error, no frame");
    h.send([data(volumes(), Ok(nodes))]);
    assert!(h.state.dirty);
    assert_eq!(h.state.storage.nodes_error, None);
}

#[test]
fn failures_are_told_apart() {
    let mut h = H::new();
    h.send([Msg::Storage(StorageEvent::Failed(
        "token refused (HTTP 401) by http://px:9021 for volumes: invalid token".into(),
    ))]);
    assert!(matches!(&h.state.storage.link, Link::Down(_)));
    assert_eq!(h.state.storage.volumes.len(), 5, "the last data stays");
    assert_eq!(
        storage::problem("cannot reach http://127.0.0.1:1: connection refused"),
        PxProblem::Unreachable
    );
    assert_eq!(
        storage::problem("token refused (HTTP 401) by x for cluster: bad"),
        PxProblem::TokenRefused
    );
    assert_eq!(
        storage::problem("volumes: HTTP 404 not found from x (is this the SDK REST gateway?)"),
        PxProblem::Other
    );
    assert_eq!(
        storage::problem("no answer from http://px:9021 within 5s for cluster"),
        PxProblem::Silent
    );
    assert_eq!(
        storage::problem(
            "cluster: unreadable reply from http://px:9021 (not the SDK's JSON: EOF at 1:9)"
        ),
        PxProblem::BadReply
    );
}

#[test]
fn volumesnapshot_rows_keep_sextant_labels_size_and_content() {
    let rows = snapshots();
    let r = &rows[0];
    assert_eq!(
        r.labels,
        [
            (COMMIT_LABEL.to_string(), SHA.to_string()),
            (REASON_LABEL.to_string(), "pre-sync".to_string())
        ],
        "only sextant.dev/ labels"
    );
    assert_eq!(
        (r.size.as_str(), r.volume.as_str()),
        ("20Gi", "snapcontent-uid1")
    );
    assert_eq!(r.claims, ["data-a-0"]);
}

#[test]
fn write_rates_cost_a_frame_only_when_they_change() {
    let mut h = H::new();
    let rates = || Msg::Storage(StorageEvent::Rates(vec![("pvc-v-ok".into(), 1024.0)]));
    h.state.dirty = false;
    h.send([rates()]);
    assert!(h.state.dirty);
    assert_eq!(h.state.storage.write_rates.get("pvc-v-ok"), Some(&1024.0));
    h.state.dirty = false;
    h.send([rates()]);
    assert!(!h.state.dirty);
    assert_eq!(
        h.state.storage.link,
        Link::Up,
        "Prometheus does not speak for Portworx"
    );
}

#[test]
fn consumers_are_portworx_s_and_the_pods_mounting_the_claim() {
    let mut h = H::new();
    let pod = |name: &str, claim: &str| ObjRow {
        kind: Some(Kind::Pod),
        namespace: "shop".into(),
        name: name.into(),
        owner: Some((Kind::StatefulSet, "db".into())),
        claims: vec![claim.into()],
        ..Default::default()
    };
    h.send([Msg::Cluster(ClusterEvent::Listed(
        Kind::Pod,
        vec![
            pod("db-0", "data-a-0"),
            pod("db-1", "data-b-0"),
            pod("backup-x", "data-a-0"),
        ],
    ))]);
    let mut vols = volumes();
    vols[0].consumers = vec![super::state::Consumer {
        name: "db-0".into(),
        namespace: "shop".into(),
        kind: "pod".into(),
        owner: "StatefulSet/db".into(),
    }];
    h.send([data(vols, Ok(vec![]))]);
    h.keys("jjj");
    let line = storage::selected_line(&h.state).unwrap();
    assert_eq!(line.volume.id, "v-ok");
    let who: Vec<(String, String)> = storage::consumers(&h.state, &line)
        .into_iter()
        .map(|c| (c.name, c.owner))
        .collect();
    assert_eq!(
        who,
        [
            ("db-0".to_string(), "StatefulSet/db".to_string()),
            ("backup-x".to_string(), "StatefulSet/db".to_string())
        ],
        "db-0 once; db-1 mounts another claim"
    );
}
