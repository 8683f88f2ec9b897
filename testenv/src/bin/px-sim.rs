//! Portworx simulator: `px-sim serve` runs the SDK REST gateway and the metrics page;
//! `px-sim token` prints a JWT for a role.
use anyhow::Context;
use axum::extract::{Query, State};
use axum::routing::get;
use clap::{Parser, Subcommand};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use testenv::px::api::{Sim, router};
use testenv::px::{auth, metrics, model::Cluster};

#[derive(Parser)]
#[command(about = "A Portworx OpenStorage SDK REST gateway simulator")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the REST gateway and the /metrics page.
    Serve {
        #[arg(long, default_value = "127.0.0.1:19021")]
        listen: SocketAddr,
        #[arg(long, default_value = "127.0.0.1:19001")]
        metrics_listen: SocketAddr,
        /// File holding the shared secret that signs tokens.
        #[arg(long)]
        secret_file: PathBuf,
        /// Storage node names, comma separated (the Kubernetes node names).
        #[arg(long, value_delimiter = ',', default_value = "node-1,node-2,node-3")]
        nodes: Vec<String>,
        #[arg(long, default_value = "px-demo")]
        cluster_name: String,
        /// How long an in-place restore keeps a volume in VOLUME_STATE_RESTORE.
        #[arg(long, default_value_t = 8)]
        restore_seconds: u64,
    },
    /// Print a bearer token for a role (system.admin, system.view, system.user).
    Token {
        #[arg(long)]
        secret_file: PathBuf,
        #[arg(long, default_value = "system.admin")]
        role: String,
        #[arg(long, default_value = "sextant")]
        name: String,
        #[arg(long, default_value_t = 30 * 86_400)]
        valid_seconds: i64,
    },
}

fn secret(path: &PathBuf) -> anyhow::Result<Vec<u8>> {
    let s = std::fs::read_to_string(path)
        .with_context(|| format!("reading the shared secret {}", path.display()))?;
    Ok(s.trim().as_bytes().to_vec())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    match Cli::parse().cmd {
        Cmd::Token {
            secret_file,
            role,
            name,
            valid_seconds,
        } => {
            println!(
                "{}",
                auth::token(&secret(&secret_file)?, &role, &name, valid_seconds)
            );
            Ok(())
        }
        Cmd::Serve {
            listen,
            metrics_listen,
            secret_file,
            nodes,
            cluster_name,
            restore_seconds,
        } => {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)?
                .as_nanos() as u64;
            let cluster = Cluster::new(
                &cluster_name,
                &nodes,
                seed,
                Duration::from_secs(restore_seconds),
            );
            let sim = Sim {
                cluster: Arc::new(Mutex::new(cluster)),
                secret: Arc::new(secret(&secret_file)?),
            };
            let api = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let met = tokio::net::TcpListener::bind(metrics_listen)
                .await
                .with_context(|| format!("binding {metrics_listen}"))?;
            let instance = metrics_listen.to_string();
            let metrics_app = axum::Router::new()
                .route("/metrics", get(page))
                .route("/sim/backfill", get(backfill))
                .with_state((sim.clone(), instance));
            tracing::info!(%listen, %metrics_listen, "px-sim serving");
            let (a, b) = tokio::join!(axum::serve(api, router(sim)), axum::serve(met, metrics_app));
            a?;
            b?;
            Ok(())
        }
    }
}

fn now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

async fn page(State((sim, _)): State<(Sim, String)>) -> String {
    let mut c = sim.cluster.lock().expect("simulator state lock");
    c.tick(std::time::Instant::now());
    metrics::page(&c, now())
}

/// History for backfilling, ending a minute ago so it never overlaps live scrapes.
async fn backfill(
    State((sim, instance)): State<(Sim, String)>,
    Query(q): Query<HashMap<String, u32>>,
) -> String {
    let c = sim.cluster.lock().expect("simulator state lock");
    let end = (now() / 60.0).floor() * 60.0 - 60.0;
    metrics::backfill(
        &c,
        end,
        q.get("hours").copied().unwrap_or(24).min(24 * 30),
        q.get("step").copied().unwrap_or(60).max(1),
        &instance,
    )
}
