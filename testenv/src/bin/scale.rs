//! Creates the scale scenario in the local environment: NAMESPACES namespaces, each with
//! Deployments totalling PODS/NAMESPACES replicas and a few PVCs, then waits until every
//! pod is Running. Used by devenv/bench-scale.sh.
use clap::Parser;
use futures::{StreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use std::time::{Duration, Instant};

#[derive(Parser)]
struct Cli {
    #[arg(long)]
    kubeconfig: std::path::PathBuf,
    #[arg(long, default_value_t = 10_000)]
    pods: usize,
    #[arg(long, default_value_t = 100)]
    namespaces: usize,
    /// Deployments per namespace.
    #[arg(long, default_value_t = 5)]
    deployments: usize,
    /// PVCs per namespace (on the Portworx class).
    #[arg(long, default_value_t = 3)]
    claims: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    let kc = Kubeconfig::read_from(&cli.kubeconfig)?;
    let mut config =
        kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
    config.read_timeout = Some(Duration::from_secs(120));
    let client = kube::Client::try_from(config)?;
    let started = Instant::now();
    let per_ns = cli.pods / cli.namespaces;
    let names: Vec<String> = (0..cli.namespaces)
        .map(|i| format!("scale-{i:03}"))
        .collect();
    stream::iter(names.clone())
        .for_each_concurrent(16, |ns| {
            let client = client.clone();
            let (deployments, claims) = (cli.deployments, cli.claims);
            async move {
                let nss: Api<Namespace> = Api::all(client.clone());
                let _ = nss.create(&PostParams::default(), &serde_json::from_value(json!({"metadata": {"name": ns}})).unwrap()).await;
                let d: Api<Deployment> = Api::namespaced(client.clone(), &ns);
                for i in 0..deployments {
                    let replicas = per_ns / deployments + usize::from(i < per_ns % deployments);
                    let name = format!("svc-{i}");
                    let dep = json!({"metadata": {"name": name}, "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                        "template": {"metadata": {"labels": {"app": name}}, "spec": {"nodeSelector": {"kubernetes.io/os": "linux"},
                            "containers": [{"name": "app", "image": "registry.example/app:1.0", "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]}}}});
                    let _ = d.create(&PostParams::default(), &serde_json::from_value(dep).unwrap()).await;
                }
                let c: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
                for i in 0..claims {
                    let pvc = json!({"metadata": {"name": format!("data-{i}")}, "spec": {"storageClassName": "px-db", "accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}});
                    let _ = c.create(&PostParams::default(), &serde_json::from_value(pvc).unwrap()).await;
                }
            }
        })
        .await;
    eprintln!(
        "created {} namespaces in {:.1}s; waiting for {} running pods",
        names.len(),
        started.elapsed().as_secs_f64(),
        cli.pods
    );
    let pods: Api<Pod> = Api::all(client.clone());
    loop {
        let list = pods
            .list_metadata(&ListParams::default().labels("app"))
            .await;
        let total = list.as_ref().map(|l| l.items.len()).unwrap_or(0);
        let running = pods
            .list(
                &ListParams::default()
                    .fields("status.phase=Running")
                    .labels("app"),
            )
            .await
            .map(|l| {
                l.items
                    .iter()
                    .filter(|p| {
                        p.metadata
                            .namespace
                            .as_deref()
                            .is_some_and(|n| n.starts_with("scale-"))
                    })
                    .count()
            })
            .unwrap_or(0);
        eprintln!(
            "  {:>5.0}s: {total} pods, {running} running",
            started.elapsed().as_secs_f64()
        );
        if running >= cli.pods {
            break;
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    eprintln!("scenario ready in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}
