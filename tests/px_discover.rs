//! Portworx found through the cluster: Service `portworx-api` and Secret
//! `px-user-token` made in a fresh namespace lead to the simulator, polled with the
//! view token; an empty namespace and a viewer without Secret access say what failed.
mod common;

use common::{env, init_crypto, namespace};
use k8s_openapi::api::core::v1::{Secret, Service};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use serde_json::json;
use sextant::sources::px_discover::{discover, find_token};

async fn client(kubeconfig: &str) -> Client {
    init_crypto();
    let kc = Kubeconfig::read_from(env(kubeconfig)).unwrap();
    let c = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    Client::try_from(c).unwrap()
}

/// The simulator's port, from e.g. http://127.0.0.1:19021.
fn sim_port() -> i32 {
    let url = env("SEXTANT_TEST_PORTWORX");
    let port = url.trim_end_matches('/').rsplit(':').next().unwrap();
    port.parse().unwrap_or_else(|_| panic!("no port in {url}"))
}

/// Secret px-user-token holding the simulator's view token.
async fn token_secret(c: &Client, ns: &str) {
    let token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE")).unwrap();
    let s: Secret = serde_json::from_value(json!({
        "metadata": {"name": "px-user-token", "namespace": ns},
        "stringData": {"auth-token": token.trim()},
    }))
    .unwrap();
    Api::<Secret>::namespaced(c.clone(), ns)
        .create(&PostParams::default(), &s)
        .await
        .unwrap();
}

/// Service portworx-api pointing at the simulator on the loopback address. The API
/// server may refuse a loopback external IP; then the address goes in the load
/// balancer status, which discovery prefers anyway.
async fn gateway_service(c: &Client, ns: &str) {
    let api = Api::<Service>::namespaced(c.clone(), ns);
    let svc = |external: bool| -> Service {
        let mut spec = json!({"ports": [
            {"name": "px-api", "port": 9001},
            {"name": "px-rest-gateway", "port": sim_port()}]});
        if external {
            spec["externalIPs"] = json!(["127.0.0.1"]);
        }
        serde_json::from_value(
            json!({"metadata": {"name": "portworx-api", "namespace": ns}, "spec": spec}),
        )
        .unwrap()
    };
    match api.create(&PostParams::default(), &svc(true)).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 422 => {
            eprintln!(
                "loopback externalIP refused ({}); using the load balancer status",
                s.message
            );
            api.create(&PostParams::default(), &svc(false))
                .await
                .unwrap();
            let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}});
            api.patch_status(
                "portworx-api",
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await
            .unwrap();
        }
        Err(e) => panic!("create Service portworx-api: {e}"),
    }
}

#[tokio::test]
async fn the_service_and_the_user_token_lead_to_the_simulator() {
    let c = client("SEXTANT_TEST_KUBECONFIG").await;
    let ns = namespace(&c, "pxd").await;
    token_secret(&c, &ns).await;
    gateway_service(&c, &ns).await;
    let found = discover(&c, None, None, true, Some(&ns)).await;
    let polled = match &found {
        Ok(px) => Some(px.poll().await),
        Err(_) => None,
    };
    // A Service left behind would be found by every later run without --portworx.
    clean_up(&c, &ns).await;
    let px = found.unwrap();
    assert_eq!(px.base(), format!("http://127.0.0.1:{}", sim_port()));
    let d = polled.unwrap().unwrap();
    assert_eq!(d.cluster.status, "OK");
    assert!(!d.volumes.is_empty());
}

async fn clean_up(c: &Client, ns: &str) {
    let dp = DeleteParams::default();
    let _ = Api::<Service>::namespaced(c.clone(), ns)
        .delete("portworx-api", &dp)
        .await;
    let _ = Api::<Secret>::namespaced(c.clone(), ns)
        .delete("px-user-token", &dp)
        .await;
}

#[tokio::test]
async fn an_empty_namespace_says_what_was_tried() {
    let c = client("SEXTANT_TEST_KUBECONFIG").await;
    let ns = namespace(&c, "pxd").await;
    let e = discover(&c, None, None, true, Some(&ns))
        .await
        .err()
        .unwrap();
    assert_eq!(
        e,
        format!(
            "no Portworx: pass --portworx URL, or create Service portworx-api (none in namespace {ns})"
        )
    );
}

#[tokio::test]
async fn a_forbidden_secret_says_so_and_shows_no_token() {
    let c = client("SEXTANT_TEST_KUBECONFIG").await;
    let ns = namespace(&c, "pxd").await;
    token_secret(&c, &ns).await;
    let viewer = client("SEXTANT_TEST_VIEWER_KUBECONFIG").await;
    let e = find_token(&viewer, &[&ns], true).await;
    clean_up(&c, &ns).await;
    let e = e.err().unwrap();
    assert!(
        e.starts_with(&format!("cannot read Secret {ns}/px-user-token: forbidden")),
        "{e}"
    );
    let token = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE")).unwrap();
    assert!(!e.contains(token.trim()));
}
