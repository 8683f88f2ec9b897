//! An API server restart is survived: watchers resume, and afterwards there are no
//! duplicated or stale rows. In its own test binary, so no other test sees the outage.
mod common;
use common::{env, init_crypto};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use sextant::app::cluster::{Kind, KindStatus};
use sextant::app::keymap::Keymap;
use sextant::app::{State, update};
use sextant::config::Scope;
use sextant::sources::kube::{connect, spawn_watchers};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use tokio::sync::mpsc;

// Multi-threaded: the pump below blocks one thread while the watchers run on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_resume_after_an_api_server_restart() {
    init_crypto();
    let kc = PathBuf::from(env("SEXTANT_TEST_KUBECONFIG"));
    let cluster = connect(Some(&kc), None, &Scope::All).await.unwrap();
    let ns = common::namespace(&cluster.client, "it-restart").await;
    let nss: Api<Namespace> = Api::all(cluster.client.clone());
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &ns);
    let cm = |name: &str| {
        serde_json::from_value::<ConfigMap>(
            serde_json::json!({"metadata": {"name": name}, "data": {"k": "v"}}),
        )
        .unwrap()
    };
    cms.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();

    let (tx, mut rx) = mpsc::channel(8192);
    let keymap = Keymap::default();
    let mut state = State::new(true, vec![], 0);
    spawn_watchers(&cluster, tx);
    let mut pump = |state: &mut State, secs: u64, what: &str, done: &dyn Fn(&State) -> bool| {
        let deadline = std::time::Instant::now() + Duration::from_secs(secs);
        while !done(state) {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}"
            );
            match rx.try_recv() {
                Ok(m) => {
                    update(state, &keymap, m);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    };
    pump(&mut state, 30, "the first lists", &|s| {
        s.cluster.is_loaded() && s.cluster.row(Kind::ConfigMap, &ns, "before").is_some()
    });

    let restart = Command::new("bash")
        .arg(format!(
            "{}/devenv/restart-apiserver.sh",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg("3")
        .status()
        .unwrap();
    assert!(restart.success());
    pump(
        &mut state,
        60,
        "a failing watch while the server is down",
        &|s| {
            s.cluster
                .kinds
                .values()
                .any(|k| matches!(k, KindStatus::Error(_)))
        },
    );

    // Changes made while and after it was away: one object gone, one new.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while cms
        .create(&PostParams::default(), &cm("after"))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the API server did not come back"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    cms.delete("before", &DeleteParams::default())
        .await
        .unwrap();
    pump(
        &mut state,
        90,
        "recovered watches with the new state",
        &|s| {
            s.cluster
                .kinds
                .values()
                .all(|k| !matches!(k, KindStatus::Error(_)))
                && s.cluster.row(Kind::ConfigMap, &ns, "after").is_some()
                && s.cluster.row(Kind::ConfigMap, &ns, "before").is_none()
        },
    );
    // Rows match the server exactly: nothing duplicated, nothing stale.
    let server: Vec<String> = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    let shown: Vec<String> = state
        .cluster
        .in_namespace(Kind::ConfigMap, &ns)
        .map(|r| r.name.clone())
        .collect();
    let mut server = server;
    server.sort();
    assert_eq!(shown, server);
    nss.delete(&ns, &DeleteParams::default()).await.unwrap();
}
