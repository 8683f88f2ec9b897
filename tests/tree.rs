//! The cluster tree against the real API server: compact rows built by the real
//! watchers, folded by the real reducer, drawn by the real views.
mod common;
use common::{env, init_crypto};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use sextant::app::cluster::{Health, Kind, KindStatus};
use sextant::app::keymap::Keymap;
use sextant::app::msg::View;
use sextant::app::tree::Item;
use sextant::app::{Msg, State, update};
use sextant::config::{Scope, Secret as Hidden};
use sextant::sources::kube::{Cluster, connect, spawn_watchers};
use sextant::sources::{objects, portworx::PxClient};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

/// A state fed by real watchers on one namespace.
struct Live {
    state: State,
    keymap: Keymap,
    rx: mpsc::Receiver<Msg>,
    cluster: Cluster,
}

impl Live {
    async fn start(kubeconfig: &str, ns: &str) -> Live {
        init_crypto();
        let cluster = connect(
            Some(&PathBuf::from(kubeconfig)),
            None,
            &Scope::Namespace(ns.into()),
        )
        .await
        .unwrap();
        let (tx, rx) = mpsc::channel(4096);
        let mut state = State::new(true, vec![], chrono::Utc::now().timestamp());
        let keymap = Keymap::default();
        let connected = sextant::app::msg::ClusterEvent::Connected {
            context: cluster.context.clone(),
            server: cluster.server.clone(),
            namespace: cluster.namespace.clone(),
        };
        update(&mut state, &keymap, Msg::Cluster(connected));
        spawn_watchers(&cluster, tx);
        Live {
            state,
            keymap,
            rx,
            cluster,
        }
    }

    /// Feeds messages to the reducer until `done` holds, failing after `secs`.
    async fn until(&mut self, secs: u64, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !done(&self.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    update(&mut self.state, &self.keymap, m);
                }
                _ => panic!("timed out waiting for {what}; tree: {:#?}", self.names()),
            }
        }
    }

    fn open_all(&mut self) {
        for k in self.state.cluster.rows.keys().cloned().collect::<Vec<_>>() {
            self.state.cluster.expanded.insert(k);
        }
    }

    fn names(&self) -> Vec<String> {
        self.state
            .cluster
            .tree()
            .iter()
            .map(|l| match &l.item {
                Item::Row => format!(
                    "{}{} {}",
                    "  ".repeat(l.depth as usize),
                    l.key.0.short(),
                    l.key.2
                ),
                Item::Container(i) => format!("{}ctr {i}", "  ".repeat(l.depth as usize)),
                Item::Note(n) => {
                    format!("{}{} {n}", "  ".repeat(l.depth as usize), l.key.0.short())
                }
            })
            .collect()
    }

    fn screen(&self) -> String {
        common::screen(&self.state, 160, 50)
    }
}

fn ledger() -> StatefulSet {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": "ledger"},
        "spec": {"serviceName": "ledger", "replicas": 1, "selector": {"matchLabels": {"app": "ledger"}},
            "template": {"metadata": {"labels": {"app": "ledger"}}, "spec": {"containers": [{"name": "pg", "image": "postgres:16"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "px-db", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "2Gi"}}}}]}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_new_statefulset_shows_its_claim_volume_chain_and_turns_degraded() {
    init_crypto();
    let kc = env("SEXTANT_TEST_KUBECONFIG");
    let admin = connect(Some(&PathBuf::from(&kc)), None, &Scope::All)
        .await
        .unwrap()
        .client;
    let ns = common::namespace(&admin, "it-tree").await;
    let mut live = Live::start(&kc, &ns).await;
    Api::<StatefulSet>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &ledger())
        .await
        .unwrap();
    let claim = "data-ledger-0".to_string();
    live.until(60, "the claim bound to a Portworx volume", |s| {
        let c = &s.cluster;
        let pvc = c.row(Kind::Pvc, &ns, &claim);
        let pv = pvc
            .and_then(|p| p.claims.first())
            .and_then(|pv| c.row(Kind::Pv, "", pv));
        pv.is_some_and(|pv| !pv.volume.is_empty())
            && c.row(Kind::Namespace, "", &ns).is_some()
            && c.row(Kind::Pod, &ns, "ledger-0")
                .is_some_and(|p| p.health == Health::Healthy)
    })
    .await;
    live.open_all();
    let names = live.names();
    let pv_name = live
        .state
        .cluster
        .row(Kind::Pvc, &ns, &claim)
        .unwrap()
        .claims[0]
        .clone();
    let want = [
        format!("ns {ns}"),
        "  sts ledger".into(),
        "    pod ledger-0".into(),
        "      ctr 0".into(),
        format!("      pvc {claim}"),
        format!("        pv {pv_name}"),
    ];
    assert_eq!(&names[..6], &want, "{names:#?}");
    // The volume id is the simulator's.
    let volume = live
        .state
        .cluster
        .row(Kind::Pv, "", &pv_name)
        .unwrap()
        .volume
        .clone();
    let token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE")).unwrap();
    let px = PxClient::new(
        &env("SEXTANT_TEST_PORTWORX"),
        Some(Hidden::new(token.trim())),
    )
    .unwrap();
    let (_, vols) = px.snapshot_state().await.unwrap();
    let v = vols
        .iter()
        .find(|v| v.id == volume)
        .expect("the PV's volume handle is a Portworx volume");
    assert_eq!(v.pvc, Some((ns.clone(), claim.clone())));
    assert!(
        live.screen().contains(&format!("px {volume}")),
        "the chain is on screen"
    );

    // A failing readiness probe (played by the node agent) degrades pod, StatefulSet and namespace.
    let pods: Api<Pod> = Api::namespaced(admin.clone(), &ns);
    let patch =
        serde_json::json!({"metadata": {"annotations": {"testenv.sextant.dev/ready": "false"}}});
    pods.patch("ledger-0", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .unwrap();
    live.until(30, "the degraded pod", |s| {
        s.cluster
            .row(Kind::Pod, &ns, "ledger-0")
            .is_some_and(|p| p.health == Health::Degraded)
    })
    .await;
    let tree = live.state.cluster.tree();
    let health = |k: Kind, n: &str| {
        tree.iter()
            .find(|l| l.key.0 == k && l.key.2 == n && l.item == Item::Row)
            .unwrap()
            .health
    };
    assert_eq!(health(Kind::StatefulSet, "ledger"), Health::Degraded);
    assert_eq!(health(Kind::Namespace, &ns), Health::Degraded);
    Api::<Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_secrets_values_never_appear_in_any_view() {
    init_crypto();
    let kc = env("SEXTANT_TEST_KUBECONFIG");
    let admin = connect(Some(&PathBuf::from(&kc)), None, &Scope::All)
        .await
        .unwrap()
        .client;
    let ns = common::namespace(&admin, "it-tree").await;
    let value = "correct-horse-battery-staple";
    let encoded = "Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5LXN0YXBsZQ";
    let secret: Secret = serde_json::from_value(serde_json::json!({"metadata": {"name": "vault", "annotations": {"note": "no values here"}}, "stringData": {"password": value}})).unwrap();
    Api::<Secret>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let mut live = Live::start(&kc, &ns).await;
    live.until(30, "the secret", |s| {
        s.cluster.row(Kind::Secret, &ns, "vault").is_some()
            && s.cluster.row(Kind::Namespace, "", &ns).is_some()
    })
    .await;
    live.open_all();
    let row = live.state.cluster.row(Kind::Secret, &ns, "vault").unwrap();
    assert_eq!(row.keys, ["password"]);
    assert!(
        !format!("{:?}", live.state.cluster).contains(value),
        "the state holds no value"
    );
    let tree_screen = live.screen();
    assert!(tree_screen.contains("keys: password"));
    let key = (Kind::Secret, ns.clone(), "vault".to_string());
    for view in [View::Describe, View::Yaml] {
        let lines = objects::fetch(&live.cluster.client, &key, view, 0)
            .await
            .unwrap();
        let text = lines.join("\n");
        assert!(text.contains("password"), "{text}");
        assert!(
            !text.contains(value) && !text.contains(encoded),
            "{view:?} shows the value:\n{text}"
        );
        live.state.cluster.detail = Some(sextant::app::cluster::Detail {
            key: key.clone(),
            view,
            lines: Some(Ok(lines)),
            scroll: 0,
        });
        let screen = live.screen();
        assert!(
            !screen.contains(value) && !screen.contains(encoded),
            "{screen}"
        );
    }
    {
        let screen = &tree_screen;
        assert!(!screen.contains(value) && !screen.contains(encoded));
    }
    Api::<Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_namespace_limited_user_sees_forbidden_kinds_and_everything_else() {
    let mut live = Live::start(&env("SEXTANT_TEST_VIEWER_KUBECONFIG"), "shop").await;
    live.until(30, "every kind settled", |s| s.cluster.is_loaded())
        .await;
    let kinds = &live.state.cluster.kinds;
    for k in [Kind::Secret, Kind::Namespace, Kind::Pv] {
        assert_eq!(kinds.get(&k), Some(&KindStatus::Forbidden), "{k:?}");
    }
    for k in [
        Kind::CronJob,
        Kind::Pod,
        Kind::StatefulSet,
        Kind::Deployment,
        Kind::Pvc,
        Kind::ConfigMap,
    ] {
        assert_eq!(kinds.get(&k), Some(&KindStatus::Ready), "{k:?}");
    }
    live.state
        .cluster
        .expanded
        .insert((Kind::Namespace, String::new(), "shop".into()));
    let names = live.names();
    assert_eq!(
        names[0], "ns shop",
        "the user's namespace is shown though namespaces are forbidden"
    );
    assert!(names.contains(&"  sts carts-db".to_string()), "{names:#?}");
    // batch/v1beta1 on this 1.20 server, found through discovery.
    assert!(
        names.contains(&"  cj catalogue-db-backup".to_string()),
        "{names:#?}"
    );
    assert!(
        names.contains(&"  secret forbidden".to_string()),
        "{names:#?}"
    );
    assert!(live.screen().contains("Secrets"));
}
