//! The one gate for writes: read-only builds no writer; a writer really writes.
mod common;
use common::{env, init_crypto};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use sextant::app::Msg;
use sextant::app::cluster::Kind;
use sextant::app::msg::{Command, WriteIntent};
use sextant::config::Scope;
use sextant::exec::{Executor, Handles};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc, watch};

async fn setup() -> (kube::Client, String) {
    init_crypto();
    let c = sextant::sources::kube::connect(
        Some(&PathBuf::from(env("SEXTANT_TEST_KUBECONFIG"))),
        None,
        &Scope::All,
    )
    .await
    .unwrap();
    let ns = common::namespace(&c.client, "it-exec").await;
    let d: Deployment = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}
    }))
    .unwrap();
    Api::<Deployment>::namespaced(c.client.clone(), &ns)
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    (c.client, ns)
}

fn handles() -> Handles {
    Handles {
        git: None,
        graph: watch::channel(None).0,
        storage: Arc::new(Notify::new()),
        kubeconfig: None,
        gitops: Default::default(),
        px: watch::channel(Err("no Portworx in this test".into())).1,
        audit: sextant::audit::AuditLog::new(
            std::env::temp_dir().join(format!("sextant-executor-{}.log", common::unique())),
        ),
    }
}

fn restartedat(d: &Deployment) -> Option<String> {
    d.spec
        .as_ref()?
        .template
        .metadata
        .as_ref()?
        .annotations
        .as_ref()?
        .get("kubectl.kubernetes.io/restartedAt")
        .cloned()
}

async fn done(rx: &mut mpsc::Receiver<Msg>) -> (u64, Result<String, String>) {
    match tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("the executor answers")
        .unwrap()
    {
        Msg::Done(id, r) => (id, r),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn read_only_cannot_write_and_a_writer_can() {
    let (client, ns) = setup().await;
    let api: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let intent = WriteIntent::Restart {
        kind: Kind::Deployment,
        namespace: ns.clone(),
        name: "web".into(),
    };

    let (tx, mut rx) = mpsc::channel(8);
    let ro = Executor::new(handles(), false, tx).with_client(client.clone());
    assert!(!ro.can_write());
    ro.run(Command::Write {
        id: 7,
        intent: intent.clone(),
    });
    let (id, r) = done(&mut rx).await;
    assert_eq!(id, 7);
    assert!(r.unwrap_err().contains("read-only"));
    assert_eq!(
        restartedat(&api.get("web").await.unwrap()),
        None,
        "nothing was written"
    );

    let (tx, mut rx) = mpsc::channel(8);
    let rw = Executor::new(handles(), true, tx).with_client(client.clone());
    rw.run(Command::Write { id: 8, intent });
    let (id, r) = done(&mut rx).await;
    assert_eq!(id, 8);
    assert!(r.is_ok(), "{r:?}");
    assert!(restartedat(&api.get("web").await.unwrap()).is_some());
    let managers: Vec<_> = api
        .get("web")
        .await
        .unwrap()
        .metadata
        .managed_fields
        .unwrap_or_default()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.iter().any(|m| m == "sextant"), "{managers:?}");
    Api::<Namespace>::all(client)
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
}
