//! The Kubernetes source against the real API server of the environment.
mod common;
use common::{env, init_crypto, unique, wait_for};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use sextant::app::Msg;
use sextant::app::cluster::Kind;
use sextant::app::msg::ClusterEvent;
use sextant::config::Scope;
use sextant::sources::kube::{connect, spawn_watchers, watch};
use sextant::sources::rows;
use std::path::PathBuf;
use tokio::sync::mpsc;

fn kubeconfig() -> PathBuf {
    PathBuf::from(env("SEXTANT_TEST_KUBECONFIG"))
}

#[tokio::test]
async fn sees_a_statefulset_appear_and_go() {
    init_crypto();
    let cluster = connect(Some(&kubeconfig()), None, &Scope::All)
        .await
        .unwrap();
    let ns = common::namespace(&cluster.client, "it-sts").await;
    let nss: Api<Namespace> = Api::all(cluster.client.clone());
    let (tx, mut rx) = mpsc::channel(1024);
    let api: Api<StatefulSet> = Api::namespaced(cluster.client.clone(), &ns);
    tokio::spawn(watch(api.clone(), Kind::StatefulSet, rows::statefulset, tx));
    wait_for(&mut rx, 30, "the initial list", |m| {
        matches!(m, Msg::Cluster(ClusterEvent::Listed(Kind::StatefulSet, rows)) if rows.is_empty())
            .then_some(())
    })
    .await;

    let sts: StatefulSet = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "ledger-db"},
        "spec": {"serviceName": "ledger-db", "replicas": 1, "selector": {"matchLabels": {"app": "ledger-db"}},
            "template": {"metadata": {"labels": {"app": "ledger-db"}}, "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}}}
    }))
    .unwrap();
    api.create(&PostParams::default(), &sts).await.unwrap();
    let row = wait_for(&mut rx, 30, "the new StatefulSet", |m| match m {
        Msg::Cluster(ClusterEvent::Applied(r)) if r.name == "ledger-db" => Some(r.clone()),
        _ => None,
    })
    .await;
    assert_eq!(row.namespace, ns);
    assert_eq!(row.kind(), Kind::StatefulSet);
    assert_eq!(row.ready.map(|r| r.1), Some(1));

    api.delete("ledger-db", &DeleteParams::default())
        .await
        .unwrap();
    wait_for(&mut rx, 30, "the deletion", |m| matches!(m, Msg::Cluster(ClusterEvent::Deleted(Kind::StatefulSet, n, name)) if *n == ns && name == "ledger-db").then_some(())).await;
    nss.delete(&ns, &DeleteParams::default()).await.unwrap();
}

#[tokio::test]
async fn lists_the_demo_workloads_with_their_pods_ready() {
    init_crypto();
    let cluster = connect(Some(&kubeconfig()), None, &Scope::FromContext)
        .await
        .unwrap();
    assert_eq!(
        cluster.namespace.as_deref(),
        Some("shop"),
        "the context's namespace is the default"
    );
    assert_eq!(cluster.context, "demo");
    let (tx, mut rx) = mpsc::channel(4096);
    spawn_watchers(&cluster, tx);
    // Watches answer in any order: collect the first list of each kind.
    let mut lists = std::collections::BTreeMap::new();
    while lists.len() < 2 {
        let (kind, rows) = wait_for(&mut rx, 30, "StatefulSet and Pod lists", |m| match m {
            Msg::Cluster(ClusterEvent::Listed(k @ (Kind::StatefulSet | Kind::Pod), rows)) => {
                Some((*k, rows.clone()))
            }
            _ => None,
        })
        .await;
        lists.entry(kind).or_insert(rows);
    }
    let sts = &lists[&Kind::StatefulSet];
    let pods = &lists[&Kind::Pod];
    let mut names: Vec<_> = sts.iter().map(|r| r.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["carts-db", "catalogue-db", "orders-db", "user-db"]);
    assert!(
        sts.iter().all(|r| r.claims == ["data"]),
        "volume claim templates are kept: {sts:?}"
    );
    let db = pods
        .iter()
        .find(|p| p.name == "carts-db-0")
        .expect("carts-db-0 runs");
    assert_eq!(db.owner, Some((Kind::StatefulSet, "carts-db".into())));
    assert_eq!(db.claims, ["data-carts-db-0"]);
    assert!(
        pods.iter()
            .any(|p| p.owner == Some((Kind::Deployment, "front-end".into()))),
        "ReplicaSet pods map to their Deployment"
    );
}

#[tokio::test]
async fn an_unreachable_api_server_is_reported_per_watch() {
    init_crypto();
    let dir = std::env::temp_dir().join(format!("sextant-it-{}", unique()));
    std::fs::create_dir_all(&dir).unwrap();
    let kc = dir.join("kubeconfig");
    // Port 1 on loopback: nothing listens there.
    let text = std::fs::read_to_string(kubeconfig())
        .unwrap()
        .replace("https://127.0.0.1:16443", "https://127.0.0.1:1");
    std::fs::write(&kc, text).unwrap();
    let cluster = connect(Some(&kc), None, &Scope::All)
        .await
        .expect("no network is needed to connect");
    let (tx, mut rx) = mpsc::channel(1024);
    spawn_watchers(&cluster, tx);
    let err = wait_for(&mut rx, 30, "a watch error", |m| match m {
        Msg::Cluster(ClusterEvent::WatchFailed(_, e, _)) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(
        err.to_lowercase().contains("connection refused") || err.contains("Connect"),
        "{err}"
    );
    assert!(!err.contains('\n'));
}

#[tokio::test]
async fn case_4_a_malformed_kubeconfig_is_one_line_naming_the_file_and_field() {
    init_crypto();
    let path = std::env::temp_dir().join(format!("sextant-bad-kubeconfig-{}", unique()));
    std::fs::write(
        &path,
        "apiVersion: v1\nclusters: [\n  - name: x\n    cluster: {server: \n",
    )
    .unwrap();
    let err = connect(Some(&path), None, &Scope::All)
        .await
        .err()
        .expect("a malformed file fails");
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(!err.contains('\n'), "{err}");
    let missing = connect(
        Some(&PathBuf::from("/nonexistent/kubeconfig")),
        None,
        &Scope::All,
    )
    .await
    .err()
    .unwrap();
    assert!(missing.contains("/nonexistent/kubeconfig"), "{missing}");
    let wrong_ctx = connect(Some(&kubeconfig()), Some("no-such-context"), &Scope::All)
        .await
        .err()
        .unwrap();
    assert!(wrong_ctx.contains("no-such-context"), "{wrong_ctx}");
    assert!(
        wrong_ctx.contains("--context names context \"no-such-context\", which is not in contexts (there: demo, demo-viewer)"),
        "{wrong_ctx}"
    );
    for (bad, field) in common::broken_kubeconfigs() {
        let err = connect(Some(&bad), None, &Scope::All).await.err().unwrap();
        eprintln!("case 4: {err}");
        assert!(
            err.starts_with(&format!("kubeconfig {}: ", bad.display())),
            "{err}"
        );
        assert!(err.contains(field), "{field} in {err}");
        assert!(!err.contains('\n'), "{err}");
    }
    // A plugin that never answers is cut off instead of holding up the connect.
    let good = std::fs::read_to_string(kubeconfig()).unwrap();
    let hang = std::env::temp_dir().join(format!("sextant-hang-{}", unique()));
    let exec = "  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: /bin/sleep\n      args: ['600']\n    tokenx:";
    std::fs::write(&hang, good.replacen("  user:\n    token:", exec, 1)).unwrap();
    let err = connect(Some(&hang), None, &Scope::All).await.err().unwrap();
    assert!(
        err.ends_with("users[admin].user.exec: command \"/bin/sleep\" did not answer within 10 s"),
        "{err}"
    );
}
