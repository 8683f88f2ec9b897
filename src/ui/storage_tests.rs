//! Render tests of the storage pane: order and colours, narrow panes, the details view,
//! and what it says when Portworx cannot be used.
use super::tests::{
    Screen, assert_styled, find, find_all, find_in_row, key, nodes, nodes_wire, screen_text, text,
    volumes,
};
use crate::app::cluster::Kind;
use crate::app::msg::{ClusterEvent, Msg, StorageEvent};
use crate::app::state::{PxCluster, VolumeRow};
use crate::engine::snapshot::{COMMIT_LABEL, REASON_LABEL, WORKLOAD_LABEL};
use crate::sources::{portworx, rows};
use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use serde_json::json;

const SHA: &str = "9f3c2a1b7d4e5f60718293a4b5c6d7e8f9012345";

fn data(volumes: Vec<VolumeRow>) -> Msg {
    Msg::Storage(StorageEvent::Data {
        cluster: PxCluster {
            name: "px-sim".into(),
            status: "OK".into(),
        },
        nodes: Ok(nodes()),
        volumes,
    })
}

/// A healthy, a degraded and a restoring volume, in that order on the wire.
fn mixed() -> Vec<VolumeRow> {
    let vol = |claim: &str, id: &str, status: &str, state: &str, nodes: &[&str]| {
        json!({"volume": {"id": id,
            "locator": {"name": format!("pvc-{claim}"), "volume_labels": {"pvc": claim, "namespace": "shop"}},
            "spec": {"size": (10u64 << 30).to_string(), "ha_level": "2", "io_profile": "IO_PROFILE_DB"},
            "usage": (1u64 << 30).to_string(), "status": status, "state": state,
            "attached_on": "10.0.0.1", "replica_sets": [{"nodes": nodes}]}})
    };
    let body = json!({"volumes": [
        vol("aa-healthy", "111", "VOLUME_STATUS_UP", "VOLUME_STATE_ATTACHED", &["node-1", "node-2"]),
        vol("bb-degraded", "222", "VOLUME_STATUS_DEGRADED", "VOLUME_STATE_ATTACHED", &["node-1"]),
        vol("cc-restoring", "333", "VOLUME_STATUS_UP", "VOLUME_STATE_RESTORE", &["node-1", "node-2"]),
    ]});
    portworx::volume_rows(serde_json::from_value(body).unwrap(), &nodes_wire())
}

fn storage_zoomed(s: &mut Screen) -> &mut Screen {
    s.keys("\t\t\tz")
}

fn row_of(b: &Buffer, needle: &str) -> u16 {
    find(b, needle).1
}

#[test]
fn unhealthy_volumes_come_first_in_their_colours() {
    let mut s = Screen::new(false);
    s.send([Msg::Resize(160, 30), data(mixed())]);
    storage_zoomed(&mut s);
    let b = s.draw_at(160, 30);
    let t = text(&b);
    let (deg, rest, ok) = (
        row_of(&b, "shop/bb-degraded"),
        row_of(&b, "shop/cc-restoring"),
        row_of(&b, "shop/aa-healthy"),
    );
    assert!(
        deg < rest && rest < ok,
        "degraded, restoring, healthy:\n{t}"
    );
    // Every column fits at 160: PV, replicas by node name, the attached node by IP.
    for h in [
        "CLAIM", "PV", "VOLUME", "STATE", "NODE", "SIZE", "USED", "HA", "REPLICAS", "IO", "SNAPS",
    ] {
        assert!(find_in_row(&b, deg - 1, h).is_some(), "header {h}:\n{t}");
    }
    assert!(find_in_row(&b, ok, "worker-1,worker-2").is_some(), "{t}");
    assert!(find_in_row(&b, ok, "pvc-aa-healthy").is_some(), "{t}");
    let x = find_in_row(&b, deg, "degraded/attached").unwrap();
    assert_styled(&b, (x, deg), "degraded/attached", s.style("status.warn"));
    let x = find_in_row(&b, deg, "1/2").unwrap();
    assert_styled(&b, (x, deg), "1/2", s.style("status.warn"));
    let x = find_in_row(&b, rest, "restore").unwrap();
    assert_styled(&b, (x, rest), "restore", s.style("status.progress"));
    let x = find_in_row(&b, ok, "attached").unwrap();
    assert_styled(&b, (x, ok), "attached", s.style("status.ok"));
    let x = find_in_row(&b, ok, "2/2").unwrap();
    assert_styled(&b, (x, ok), "2/2", s.style("text"));
    // The nodes above the table: status, used/total, pools.
    let (x, y) = find(&b, "worker-1     ok");
    assert!(y < deg);
    assert_styled(&b, (x + 13, y), "ok", s.style("status.ok"));
    assert!(t.contains("47.0 GiB / 500 GiB 9% · 1 pool ssd"), "{t}");
    assert!(t.contains("3 volumes · by claim"), "{t}");
    // o sorts by use, and says so; the unhealthy still lead.
    s.keys("o");
    let b = s.draw_at(160, 30);
    assert!(text(&b).contains("3 volumes · by used%"));
    assert!(row_of(&b, "shop/bb-degraded") < row_of(&b, "shop/aa-healthy"));
}

#[test]
fn a_narrow_pane_keeps_claim_state_and_usage() {
    let mut s = Screen::new(false);
    s.everything().keys("\t\t\t");
    // 160 columns: the storage pane is 88 wide.
    let b = s.draw_at(160, 45);
    let t = screen_text(&b);
    let (_, y) = find(&b, "CLAIM");
    for h in ["STATE", "NODE", "SIZE", "USED", "HA", "SNAPS"] {
        assert!(find_in_row(&b, y, h).is_some(), "{h} missing:\n{t}");
    }
    for h in ["REPLICAS", "PV "] {
        assert!(
            find_in_row(&b, y, h).is_none(),
            "{h} should be dropped:\n{t}"
        );
    }
    let (_, row) = find(&b, "shop/data-db-2");
    assert!(find_in_row(&b, row, "78%").is_some() && find_in_row(&b, row, "1/2").is_some());
    // A short pane puts every node on one line.
    let b = s.draw_at(160, 10);
    let t = screen_text(&b);
    assert!(
        t.contains("nodes worker-1 ok 9% · worker-2 ok 9%"),
        "one line of nodes:\n{t}"
    );
    assert!(t.contains("shop/data-db-2"), "{t}");
    insta::assert_snapshot!("storage_narrow", t);
}

fn snapshot_rows() -> Msg {
    let snap = |name: &str, created: &str, labels: serde_json::Value, status: serde_json::Value| {
        rows::volumesnapshot(
            &serde_json::from_value(json!({
                "apiVersion": "snapshot.storage.k8s.io/v1", "kind": "VolumeSnapshot",
                "metadata": {"name": name, "namespace": "shop", "creationTimestamp": created, "labels": labels},
                "spec": {"source": {"persistentVolumeClaimName": "data-db-0"}},
                "status": status
            }))
            .unwrap(),
        )
    };
    Msg::Cluster(ClusterEvent::Listed(
        Kind::VolumeSnapshot,
        vec![
            snap(
                "db-pre-sync-1",
                "2024-05-01T09:00:00Z",
                json!({COMMIT_LABEL: SHA, REASON_LABEL: "pre-sync", WORKLOAD_LABEL: "db"}),
                json!({"readyToUse": true, "restoreSize": "20Gi", "boundVolumeSnapshotContentName": "snapcontent-x"}),
            ),
            snap(
                "db-manual-0",
                "2024-04-29T12:00:00Z",
                json!({REASON_LABEL: "manual"}),
                json!({"readyToUse": false, "error": {"message": "snapshot failed: pool full"}}),
            ),
        ],
    ))
}

#[test]
fn details_show_the_volume_its_consumers_and_snapshots_with_their_commit() {
    let mut s = Screen::new(false);
    s.everything().send([snapshot_rows()]);
    storage_zoomed(&mut s);
    // data-db-2 is degraded and first; data-db-0 is next.
    s.keys("j\n");
    let b = s.draw();
    let t = screen_text(&b);
    for want in [
        "volume shop/data-db-0",
        "PV          pvc-c0000000-0000-4000-8000-000000000000",
        "Volume id   1053729316361843500",
        "State       up · attached on worker-1",
        "Size        20.0 GiB, 19.0 GiB used (95%)",
        "HA          2 of 2 replicas: worker-1, worker-2",
        "IO profile  db_remote",
        "Consumers   pod shop/db-0 (StatefulSet/db)",
        "Snapshots   3",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
    // Newest CSI snapshot first, with its commit shortened; the Portworx-only one last.
    let (pre, manual, px) = (
        row_of(&b, "db-pre-sync-1"),
        row_of(&b, "db-manual-0"),
        row_of(&b, "snap-0"),
    );
    assert!(pre < manual && manual < px, "{t}");
    assert!(!t.contains(SHA), "the full SHA is not shown");
    let x = find_in_row(&b, pre, "9f3c2a1b").unwrap();
    assert_styled(&b, (x, pre), "9f3c2a1b", s.style("git.sha"));
    assert!(find_in_row(&b, pre, "20Gi").is_some() && find_in_row(&b, pre, "3h").is_some());
    let x = find_in_row(&b, pre, "ready").unwrap();
    assert_styled(&b, (x, pre), "ready", s.style("status.ok"));
    let x = find_in_row(&b, manual, "failed: snapshot failed").unwrap();
    assert_styled(&b, (x, manual), "failed", s.style("status.error"));
    assert!(find_in_row(&b, px, "px only").is_some(), "{t}");
    // The cursor is on the newest snapshot; j moves it, and the API follows.
    assert!(find_in_row(&b, pre, "▸ db-pre-sync-1").is_some(), "{t}");
    s.keys("j");
    assert_eq!(
        crate::app::storage::selected_snapshot(&s.state),
        Some(("shop".into(), "db-manual-0".into()))
    );
    let b = s.draw();
    assert!(find_in_row(&b, row_of(&b, "db-manual-0"), "▸ db-manual-0").is_some());
    insta::assert_snapshot!("storage_details", screen_text(&b));
    // Esc goes back to the table, on the same volume.
    s.send([key(KeyCode::Esc)]);
    let b = s.draw();
    assert_eq!(find_all(&b, "CLAIM").len(), 1, "{}", text(&b));
    assert_eq!(
        crate::app::storage::selected_volume(&s.state).map(|v| v.id.as_str()),
        Some("1053729316361843500")
    );
}

#[test]
fn unreachable_and_token_refused_say_which_and_why() {
    let mut s = Screen::new(false);
    s.send([Msg::Storage(StorageEvent::Failed(
        "cannot reach http://127.0.0.1:1: error sending request: connection refused".into(),
    ))]);
    storage_zoomed(&mut s);
    let b = s.draw();
    let t = screen_text(&b);
    let at = find(&b, "Portworx unreachable");
    assert_styled(&b, at, "Portworx unreachable", s.style("status.error"));
    assert!(
        t.contains("connection refused") && t.contains("port 9021"),
        "{t}"
    );
    assert!(!t.contains("token"), "{t}");

    let mut s = Screen::new(false);
    s.send([Msg::Storage(StorageEvent::Failed(
        "token refused (HTTP 401) by http://px:9021 for cluster: access denied: invalid token"
            .into(),
    ))]);
    storage_zoomed(&mut s);
    let b = s.draw();
    let t = screen_text(&b);
    let at = find(&b, "Portworx refused the token");
    assert_styled(
        &b,
        at,
        "Portworx refused the token",
        s.style("status.error"),
    );
    assert!(t.contains("HTTP 401") && t.contains("invalid token"), "{t}");
    assert!(t.contains("--portworx-token-file"), "{t}");
    assert!(!t.contains("unreachable"), "{t}");
}

#[test]
fn a_failure_after_data_marks_it_stale_and_a_node_error_keeps_the_volumes() {
    let mut s = Screen::new(false);
    s.everything();
    storage_zoomed(&mut s);
    s.send([Msg::Storage(StorageEvent::Data {
        cluster: PxCluster {
            name: "px-sim".into(),
            status: "OK".into(),
        },
        nodes: Err("token refused (HTTP 403) by http://px:9021 for nodes: access denied".into()),
        volumes: volumes(),
    })]);
    let b = s.draw();
    let t = screen_text(&b);
    let at = find(&b, "nodes: token refused (HTTP 403)");
    assert_styled(&b, at, "nodes: token refused", s.style("status.error"));
    assert!(t.contains("shop/data-db-0"), "volumes still shown:\n{t}");
    s.send([Msg::Storage(StorageEvent::Failed(
        "token refused (HTTP 401) by http://px:9021 for volumes: expired".into(),
    ))]);
    let t = screen_text(&s.draw());
    assert!(t.contains("stale, token refused"), "{t}");
    assert!(t.contains("shop/data-db-0"), "{t}");
}

#[test]
fn the_filter_is_typed_in_the_status_bar_and_named_under_the_table() {
    let mut s = Screen::new(false);
    s.everything();
    storage_zoomed(&mut s).keys("/db-1");
    let b = s.draw();
    let t = screen_text(&b);
    assert!(
        t.contains("/db-1▏   claim · PV · volume id · node · state"),
        "{t}"
    );
    assert!(t.contains("filter: db-1 (1 shown, Esc clears)"), "{t}");
    assert!(t.contains("shop/data-db-1"), "{t}");
    assert!(
        !t.contains("shop/data-db-0") && !t.contains("shop/data-db-2"),
        "{t}"
    );
    s.keys("zzz\n");
    let t = screen_text(&s.draw());
    assert!(t.contains("no volume matches the filter"), "{t}");
}

#[test]
fn details_in_a_short_pane_keep_the_snapshots_in_view() {
    let mut s = Screen::new(false);
    s.everything().send([snapshot_rows()]).keys("\t\t\tj\n");
    let b = s.draw_at(160, 10);
    let t = screen_text(&b);
    for want in [
        "State       up · attached on worker-1",
        "db-pre-sync-1",
        "9f3c2a1b",
    ] {
        assert!(t.contains(want), "missing {want:?} in\n{t}");
    }
}

#[test]
fn write_throughput_shows_when_prometheus_has_portworx_metrics() {
    let mut s = Screen::new(false);
    s.everything();
    storage_zoomed(&mut s);
    let b = s.draw();
    assert!(find_all(&b, "WRITE").is_empty(), "no rates, no column");
    s.send([Msg::Storage(StorageEvent::Rates(vec![(
        "pvc-c0000000-0000-4000-8000-000000000000".into(),
        2.5 * 1024.0 * 1024.0,
    )]))]);
    let b = s.draw();
    let t = screen_text(&b);
    let (_, head) = find(&b, "WRITE");
    let (x, y) = find(&b, "2.5 MiB/s");
    assert_eq!(y, row_of(&b, "shop/data-db-0"), "{t}");
    assert_eq!(
        x,
        find_in_row(&b, head, "WRITE").unwrap(),
        "under its header:\n{t}"
    );
    // The details say it too.
    s.keys("j\n");
    assert!(screen_text(&s.draw()).contains("Writes      2.5 MiB/s (Prometheus)"));
}
