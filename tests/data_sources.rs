//! The git, Prometheus and Portworx sources against the environment's real servers.
mod common;
use common::{env, init_crypto, unique, wait_for};
use sextant::app::Msg;
use sextant::app::msg::GitEvent;
use sextant::config::{Secret, default_graphs};
use sextant::sources::{git, portworx::PxClient, prometheus};
use std::path::PathBuf;
use tokio::sync::mpsc;

#[test]
fn git_lists_the_demo_history_a_page_at_a_time() {
    let repo = git2::Repository::open(env("SEXTANT_TEST_REPO")).unwrap();
    let (all, more) = git::history(&repo, None, 0, 1000).unwrap();
    assert!(!more);
    assert!(all.len() >= 20, "{} commits", all.len());
    let authors: std::collections::BTreeSet<_> = all.iter().map(|c| c.author.as_str()).collect();
    assert!(authors.len() >= 3, "{authors:?}");
    assert_eq!(all[0].summary, "Bump carts to 0.5.0");
    let (page, more) = git::history(&repo, None, 5, 5).unwrap();
    assert!(more);
    assert_eq!(
        page.iter().map(|c| &c.id).collect::<Vec<_>>(),
        all[5..10].iter().map(|c| &c.id).collect::<Vec<_>>()
    );
    let (cluster_only, _) = git::history(&repo, Some("cluster"), 0, 100).unwrap();
    assert_eq!(
        cluster_only.len(),
        3,
        "namespaces, storage class, snapshot CRDs"
    );
    let info = git::repo_info(&repo).unwrap();
    assert_eq!(info.branch, "main");
    assert!(info.remote.unwrap().ends_with("remote.git"));
}

#[tokio::test]
async fn git_worker_notices_a_pushed_and_pulled_commit() {
    let dir = std::env::temp_dir().join(format!("sextant-git-{}", unique()));
    let run = |args: &[&str], cwd: &PathBuf| {
        common::git(cwd, args);
    };
    // A bare remote of our own, cloned twice: one clone is watched, the other pushes.
    let remote = dir.join("remote.git");
    std::fs::create_dir_all(&dir).unwrap();
    run(
        &[
            "clone",
            "-q",
            "--bare",
            &env("SEXTANT_TEST_REMOTE"),
            remote.to_str().unwrap(),
        ],
        &dir,
    );
    run(&["clone", "-q", remote.to_str().unwrap(), "watched"], &dir);
    run(&["clone", "-q", remote.to_str().unwrap(), "other"], &dir);
    let (tx, mut rx) = mpsc::channel(64);
    let _req = git::spawn(dir.join("watched"), None, tx);
    wait_for(&mut rx, 20, "the first page", |m| {
        matches!(m, Msg::Git(GitEvent::Page { from: 0, .. })).then_some(())
    })
    .await;
    let other = dir.join("other");
    std::fs::write(other.join("NOTES.md"), "on-call notes\n").unwrap();
    run(&["add", "NOTES.md"], &other);
    run(
        &[
            "-c",
            "user.name=Eve",
            "-c",
            "user.email=eve@x",
            "commit",
            "-q",
            "-m",
            "Add on-call notes",
        ],
        &other,
    );
    run(&["push", "-q", "origin", "main"], &other);
    run(&["pull", "-q", "--ff-only"], &dir.join("watched"));
    let page = wait_for(&mut rx, 20, "the new HEAD's history", |m| match m {
        Msg::Git(GitEvent::Page {
            from: 0, commits, ..
        }) => Some(commits.clone()),
        _ => None,
    })
    .await;
    assert_eq!(page[0].summary, "Add on-call notes");
    assert_eq!(page[0].author, "Eve");
}

/// Every default volume panel has the backfilled history of the demo's database volumes.
#[tokio::test]
async fn prometheus_returns_backfilled_history() {
    init_crypto();
    let client =
        prometheus_http_query::Client::try_from(env("SEXTANT_TEST_PROMETHEUS").as_str()).unwrap();
    let now = chrono::Utc::now().timestamp();
    let all = |k: &str| (k.to_string(), ".*".to_string());
    for (i, g) in default_graphs().into_iter().enumerate() {
        if !g.query.contains("px_volume") {
            continue;
        }
        let view = prometheus::GraphView {
            index: i,
            query: prometheus::expand(&g.query, &[all("namespace"), all("pod"), all("volume")]),
            label: g.label.clone(),
            unit: g.unit,
            width: 120,
            range: 12 * 3600,
        };
        let d = prometheus::query(&client, &view, now).await.unwrap();
        let (start, end, series) = (d.start, d.end, d.series);
        assert_eq!(end - start, (12 * 3600) as f64);
        // The demo's four database volumes have backfilled history; volumes that tests
        // create later have only recent points.
        let old: Vec<_> = series
            .iter()
            .filter(|s| {
                s.points
                    .first()
                    .is_some_and(|p| p.0 < (now - 10 * 3600) as f64)
            })
            .collect();
        assert_eq!(
            old.len(),
            4,
            "{}: one series with history per database volume",
            g.title
        );
        for s in old {
            assert!(s.label.starts_with("pvc-"), "{}", s.label);
            assert!(s.points.len() > 100, "{} points", s.points.len());
        }
    }
}

fn token(var: &str) -> Secret {
    Secret::new(std::fs::read_to_string(env(var)).unwrap().trim())
}

#[tokio::test]
async fn portworx_client_reads_the_simulator_volumes() {
    init_crypto();
    let client = PxClient::new(
        &env("SEXTANT_TEST_PORTWORX"),
        Some(token("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE")),
    )
    .unwrap();
    let (cluster, volumes) = client.snapshot_state().await.unwrap();
    assert_eq!(cluster.status, "OK");
    let volumes: Vec<_> = volumes
        .into_iter()
        .filter(|v| v.pvc.as_ref().is_some_and(|p| p.0 == "shop"))
        .collect();
    let mut claims: Vec<String> = volumes
        .iter()
        .filter_map(|v| v.pvc.as_ref().map(|(ns, p)| format!("{ns}/{p}")))
        .collect();
    claims.sort();
    assert_eq!(
        claims,
        [
            "shop/data-carts-db-0",
            "shop/data-catalogue-db-0",
            "shop/data-orders-db-0",
            "shop/data-user-db-0"
        ]
    );
    for v in &volumes {
        assert_eq!((v.ha_level, v.replicas), (3, 3));
        assert_eq!(v.state, "ATTACHED", "{} runs in a pod", v.name);
        assert_eq!(v.io_profile, "db");
        assert!(v.usage > 0 && v.usage < v.size);
    }
    let catalogue = volumes
        .iter()
        .find(|v| v.pvc.as_ref().is_some_and(|p| p.1 == "data-catalogue-db-0"))
        .unwrap();
    assert_eq!(catalogue.size, 20 << 30);
}

#[tokio::test]
async fn portworx_auth_and_wrong_endpoints_give_clear_errors() {
    init_crypto();
    let base = env("SEXTANT_TEST_PORTWORX");
    let forged = PxClient::new(&base, Some(Secret::new("eyJhbGciOiJIUzI1NiJ9.e30.bad"))).unwrap();
    let e = forged.snapshot_state().await.unwrap_err();
    assert!(e.contains("HTTP 401"), "{e}");
    // The metrics port is not the gateway: a plain-text 404.
    let wrong = PxClient::new(
        "http://127.0.0.1:19001",
        Some(token("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE")),
    )
    .unwrap();
    let e = wrong.snapshot_state().await.unwrap_err();
    assert!(e.contains("404") && e.contains("gateway"), "{e}");
    let down = PxClient::new("http://127.0.0.1:1", None).unwrap();
    let e = down.snapshot_state().await.unwrap_err();
    assert!(e.starts_with("cannot reach http://127.0.0.1:1"), "{e}");
    let token_text = std::fs::read_to_string(env("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE")).unwrap();
    assert!(
        !e.contains(token_text.trim()),
        "tokens never appear in errors"
    );
}
