//! The storage pane against the Portworx simulator: what the poll reads, tokens refused
//! or missing, a failing node call, and degraded and restoring volumes drawn first.
mod common;

use common::{env, init_crypto, namespace};
use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;
use sextant::app::keymap::Keymap;
use sextant::app::msg::StorageEvent;
use sextant::app::state::Pane;
use sextant::app::{Msg, State, update};
use sextant::config::Secret;
use sextant::exec::Writer;
use sextant::sources::portworx::PxClient;
use std::time::{Duration, Instant};

fn token() -> String {
    std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_TOKEN_FILE"))
        .unwrap()
        .trim()
        .to_string()
}

fn px(token: Option<&str>) -> PxClient {
    init_crypto();
    PxClient::new(&env("SEXTANT_TEST_PORTWORX"), token.map(Secret::new)).unwrap()
}

async fn client() -> Client {
    init_crypto();
    let kc = Kubeconfig::read_from(env("SEXTANT_TEST_KUBECONFIG")).unwrap();
    let c = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(c).unwrap()
}

async fn sim(method: reqwest::Method, path: &str, body: serde_json::Value) {
    let r = reqwest::Client::new()
        .request(
            method,
            format!("{}/sim/{path}", env("SEXTANT_TEST_PORTWORX")),
        )
        .bearer_auth(token())
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
}

#[tokio::test]
async fn the_poll_reads_nodes_volumes_and_the_demo_claims() {
    let d = px(Some(&token())).poll().await.unwrap();
    assert_eq!(d.cluster.status, "OK");
    let nodes = d.nodes.unwrap();
    assert!(nodes.len() >= 3, "{nodes:?}");
    let names: Vec<_> = nodes.iter().map(|n| n.name.clone()).collect();
    let carts = d
        .volumes
        .iter()
        .find(|v| v.pvc == Some(("shop".into(), "data-carts-db-0".into())))
        .expect("the demo's carts-db claim");
    assert_eq!(carts.ha_level, 3);
    assert!(
        carts.replica_nodes.iter().all(|n| names.contains(n)),
        "replicas by node name: {:?} of {names:?}",
        carts.replica_nodes
    );
}

#[tokio::test]
async fn a_refused_token_an_unreachable_gateway_and_a_failing_node_call_are_told_apart() {
    let e = px(Some("not-a-jwt")).poll().await.unwrap_err();
    assert!(e.starts_with("token refused (HTTP 401)"), "{e}");
    assert!(!e.contains("not-a-jwt"), "the token is never shown: {e}");

    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let e = PxClient::new(&closed, Some(Secret::new(token())))
        .unwrap()
        .poll()
        .await
        .unwrap_err();
    assert!(e.starts_with(&format!("cannot reach {closed}")), "{e}");

    // PermissionDenied on the node listing: the volumes still come.
    sim(
        reqwest::Method::POST,
        "faults",
        json!({"op": "nodefilters", "code": 7, "count": 1, "message": "Access denied to nodes"}),
    )
    .await;
    let d = px(Some(&token())).poll().await.unwrap();
    assert!(!d.volumes.is_empty());
    let e = d.nodes.unwrap_err();
    assert!(
        e.starts_with("token refused (HTTP 403)") && e.contains("Access denied to nodes"),
        "{e}"
    );
}

fn claim(name: &str) -> PersistentVolumeClaim {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"storageClassName": "px-db", "accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}}
    }))
    .unwrap()
}

async fn volume_of(c: &Client, ns: &str, claim: &str) -> String {
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), ns);
    let end = Instant::now() + Duration::from_secs(60);
    let pv = loop {
        if let Some(pv) = api
            .get(claim)
            .await
            .unwrap()
            .spec
            .and_then(|s| s.volume_name)
        {
            break pv;
        }
        assert!(Instant::now() < end, "{claim} not bound");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let pv = Api::<PersistentVolume>::all(c.clone())
        .get(&pv)
        .await
        .unwrap();
    pv.spec.unwrap().csi.unwrap().volume_handle
}

fn screen(state: &State) -> Vec<String> {
    common::screen(state, 160, 30)
        .lines()
        .map(String::from)
        .collect()
}

#[tokio::test]
async fn degraded_and_restoring_volumes_are_drawn_first() {
    let c = client().await;
    let ns = namespace(&c, "pane").await;
    let api: Api<PersistentVolumeClaim> = Api::namespaced(c.clone(), &ns);
    for name in ["a-healthy", "b-degraded", "c-restoring"] {
        api.create(&PostParams::default(), &claim(name))
            .await
            .unwrap();
    }
    let degraded = volume_of(&c, &ns, "b-degraded").await;
    let restoring = volume_of(&c, &ns, "c-restoring").await;
    sim(
        reqwest::Method::PUT,
        &format!("volumes/{degraded}/replicas"),
        json!({"count": 2}),
    )
    .await;
    // A Portworx snapshot of the detached volume, restored in place: it stays in
    // VOLUME_STATE_RESTORE for several seconds.
    let r = reqwest::Client::new()
        .post(format!(
            "{}/v1/volumes/snapshots",
            env("SEXTANT_TEST_PORTWORX")
        ))
        .bearer_auth(token())
        .json(&json!({"volume_id": restoring, "name": format!("{ns}-snap")}))
        .send()
        .await
        .unwrap();
    let snap: serde_json::Value = r.json().await.unwrap();
    let snap = snap["snapshot_id"].as_str().unwrap().to_string();
    let w = Writer::grant(true).unwrap();
    let client = px(Some(&token()));
    client.restore(&w, &restoring, &snap).await.unwrap();

    let d = client.poll().await.unwrap();
    let row = |id: &str| d.volumes.iter().find(|v| v.id == id).unwrap().clone();
    assert_eq!(row(&degraded).status, "DEGRADED");
    assert_eq!((row(&degraded).replicas, row(&degraded).ha_level), (2, 3));
    assert_eq!(row(&restoring).state, "RESTORE");

    let keymap = Keymap::default();
    let mut state = State::new(false, Vec::new(), chrono::Utc::now().timestamp());
    let msgs = [
        Msg::Resize(160, 30),
        Msg::Storage(StorageEvent::Data {
            cluster: d.cluster,
            nodes: d.nodes,
            volumes: d.volumes,
        }),
    ];
    for m in msgs {
        update(&mut state, &keymap, m);
    }
    state.focus = Pane::Storage;
    state.zoom = true;
    // Only this test's claims: the filter matches the namespace in the claim.
    update(
        &mut state,
        &keymap,
        Msg::Key(crossterm::event::KeyCode::Char('/').into()),
    );
    for ch in ns.chars() {
        update(
            &mut state,
            &keymap,
            Msg::Key(crossterm::event::KeyCode::Char(ch).into()),
        );
    }
    update(
        &mut state,
        &keymap,
        Msg::Key(crossterm::event::KeyCode::Enter.into()),
    );
    let lines = screen(&state);
    let at = |claim: &str| {
        lines
            .iter()
            .position(|l| l.contains(&format!("{ns}/{claim}")))
            .unwrap_or_else(|| panic!("{claim} on screen:\n{}", lines.join("\n")))
    };
    assert!(
        at("b-degraded") < at("c-restoring") && at("c-restoring") < at("a-healthy"),
        "unhealthy first:\n{}",
        lines.join("\n")
    );
    let degraded_line = &lines[at("b-degraded")];
    assert!(degraded_line.contains("2/3"), "{degraded_line}");
    assert!(
        lines[at("c-restoring")].contains("restor"),
        "{}",
        lines.join("\n")
    );
}
