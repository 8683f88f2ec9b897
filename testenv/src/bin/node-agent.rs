//! Node agent: registers simulated nodes and plays kubelet and the Portworx CSI driver.
use anyhow::Context;
use clap::Parser;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::PathBuf;
use testenv::agent::{Agent, Px};

#[derive(Parser)]
#[command(about = "Plays kubelet and the Portworx CSI driver through the Kubernetes API")]
struct Cli {
    #[arg(long)]
    kubeconfig: PathBuf,
    /// The Portworx SDK REST gateway (the simulator).
    #[arg(long)]
    portworx: String,
    #[arg(long)]
    portworx_token_file: PathBuf,
    #[arg(long, value_delimiter = ',', default_value = "node-1,node-2,node-3")]
    nodes: Vec<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    // reqwest brings aws-lc-rs and kube ring: name the process-wide provider.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let kc = Kubeconfig::read_from(&cli.kubeconfig)
        .with_context(|| format!("reading {}", cli.kubeconfig.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default()).await?;
    let client = kube::Client::try_from(config)?;
    let token = std::fs::read_to_string(&cli.portworx_token_file)?
        .trim()
        .to_string();
    let px = Px {
        http: reqwest::Client::new(),
        base: cli.portworx.trim_end_matches('/').to_string(),
        token,
    };
    Agent {
        client,
        nodes: cli.nodes,
        px,
    }
    .run()
    .await
}
