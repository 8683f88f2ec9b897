//! Issue 8, cases 1 to 3: the API server goes away, a watch meets 410 Gone, access is
//! taken away mid-session. In their own test binary, and one at a time (SERIAL), since
//! they stop the API server that every other test needs.
mod common;
use common::{env, init_crypto};
use k8s_openapi::api::core::v1::{ConfigMap, Event, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use sextant::app::cluster::{Kind, KindStatus};
use sextant::app::keymap::Keymap;
use sextant::app::msg::ClusterEvent;
use sextant::app::{Msg, State, update};
use sextant::config::Scope;
use sextant::sources::kube::{connect, spawn_watchers, warnings_config, watch_warnings_with};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Applies messages to the state until `done`, failing after `secs`; `each` sees every
/// message and the state after it.
fn pump(
    rx: &mut mpsc::Receiver<Msg>,
    state: &mut State,
    secs: u64,
    what: &str,
    mut each: impl FnMut(&Msg, &State),
    done: impl Fn(&State) -> bool,
) {
    let keymap = Keymap::default();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done(state) {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        match rx.try_recv() {
            Ok(m) => {
                let seen = m.clone();
                update(state, &keymap, m);
                each(&seen, state);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Waits for every kind's first list, ConfigMap `ns/name` among the rows.
fn first_lists(rx: &mut mpsc::Receiver<Msg>, state: &mut State, ns: &str, name: &str) {
    let loaded =
        |s: &State| s.cluster.is_loaded() && s.cluster.row(Kind::ConfigMap, ns, name).is_some();
    pump(rx, state, 30, "the first lists", |_, _| {}, loaded);
}

fn failing(s: &State) -> usize {
    s.cluster.failing().len()
}

fn screen(state: &State) -> String {
    common::screen(state, 160, 45)
}

/// Stops the API server for `down` seconds, in the background.
fn restart_apiserver(down: u64) -> std::process::Child {
    Command::new("bash")
        .arg(format!(
            "{}/devenv/restart-apiserver.sh",
            env!("CARGO_MANIFEST_DIR")
        ))
        .arg(down.to_string())
        .spawn()
        .unwrap()
}

/// The API server says it is ready: /readyz, which waits for its custom resources.
fn ready() -> bool {
    Command::new("kubectl")
        .args(["--kubeconfig", &env("SEXTANT_TEST_KUBECONFIG")])
        .args(["get", "--raw", "/readyz"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The environment's cluster as its admin, all namespaces.
async fn admin() -> sextant::sources::kube::Cluster {
    init_crypto();
    let kc = PathBuf::from(env("SEXTANT_TEST_KUBECONFIG"));
    connect(Some(&kc), None, &Scope::All).await.unwrap()
}

fn cm(name: &str) -> ConfigMap {
    serde_json::from_value(serde_json::json!({"metadata": {"name": name}, "data": {"k": "v"}}))
        .unwrap()
}

// Multi-threaded: the pump blocks one thread while the watchers run on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_1_an_api_server_down_for_60_s_leaves_stale_rows_then_fresh_ones() {
    let _one = SERIAL.lock().await;
    let cluster = admin().await;
    let ns = common::namespace(&cluster.client, "it-outage").await;
    let cms: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &ns);
    cms.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();

    let (tx, mut rx) = mpsc::channel(8192);
    let mut state = State::new(true, vec![], 0);
    spawn_watchers(&cluster, tx);
    first_lists(&mut rx, &mut state, &ns, "before");

    let ns_ = ns.clone();
    let mut down = restart_apiserver(60);
    let killed = Instant::now();
    // Every failure the watchers report while the server is away: the backoff shows
    // as a handful per kind, not a tight loop.
    let mut failures: std::collections::BTreeMap<Kind, u32> = Default::default();
    let mut count = |m: &Msg, s: &State| {
        if let Msg::Cluster(ClusterEvent::WatchFailed(k, _, _)) = m {
            *failures.entry(*k).or_default() += 1;
        }
        assert!(
            s.cluster.row(Kind::ConfigMap, &ns_, "before").is_some(),
            "rows were dropped while the server was away"
        );
    };
    pump(
        &mut rx,
        &mut state,
        30,
        "watches failing",
        &mut count,
        |s| failing(s) == Kind::ALL.len(),
    );
    assert!(state.cluster.stale_since.is_some());
    let rows_down = state.cluster.rows.len();
    let shown = screen(&state);
    assert!(shown.contains("stale since"), "{shown}");
    assert!(
        state.cluster.row(Kind::ConfigMap, &ns, "before").is_some(),
        "the last known rows stay"
    );
    // Keep the outage going to its end, still applying what the watchers send.
    while down.try_wait().unwrap().is_none() {
        pump(&mut rx, &mut state, 1, "", &mut count, |_| true);
        while let Ok(m) = rx.try_recv() {
            let seen = m.clone();
            update(&mut state, &Keymap::default(), m);
            count(&seen, &state);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(state.cluster.stale_since.is_some());
    assert_eq!(
        state.cluster.rows.len(),
        rows_down,
        "no row dropped while the server was away"
    );
    while !ready() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let back = Instant::now();
    let mut relisted: std::collections::BTreeMap<Kind, Duration> = Default::default();
    pump(
        &mut rx,
        &mut state,
        30,
        "live watches again",
        |m, s| {
            if let Msg::Cluster(ClusterEvent::Listed(k, _)) = m {
                relisted.entry(*k).or_insert(back.elapsed());
            }
            count(m, s)
        },
        |s| failing(s) == 0,
    );
    let recovered = back.elapsed();
    let relisted: Vec<String> = relisted
        .iter()
        .map(|(k, d)| format!("{k:?} {} ms", d.as_millis()))
        .collect();
    eprintln!(
        "case 1: down {:.0} s; every watch live again {:.2} s after /readyz answered \
         (relisted after: {}); failures reported per kind while down: {:?}",
        (back - killed).as_secs_f64(),
        recovered.as_secs_f64(),
        relisted.join(", "),
        failures.values().collect::<Vec<_>>()
    );
    assert!(
        failures.values().all(|&n| n <= 40),
        "a tight reconnect loop: {failures:?}"
    );
    assert_eq!(state.cluster.stale_since, None);

    // Changes after its return arrive, and the rows match the server exactly.
    cms.create(&PostParams::default(), &cm("after"))
        .await
        .unwrap();
    cms.delete("before", &DeleteParams::default())
        .await
        .unwrap();
    pump(
        &mut rx,
        &mut state,
        30,
        "the changes after the return",
        |_, _| {},
        |s| {
            s.cluster.row(Kind::ConfigMap, &ns, "after").is_some()
                && s.cluster.row(Kind::ConfigMap, &ns, "before").is_none()
        },
    );
    let mut server: Vec<String> = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    server.sort();
    let shown: Vec<String> = state
        .cluster
        .in_namespace(Kind::ConfigMap, &ns)
        .map(|r| r.name.clone())
        .collect();
    assert_eq!(shown, server);
    let pods = Api::<k8s_openapi::api::core::v1::Pod>::all(cluster.client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    let shown_pods = state
        .cluster
        .rows
        .keys()
        .filter(|k| k.0 == Kind::Pod)
        .count();
    assert_eq!(shown_pods, pods, "pods shown once each, as on the server");
    let nss: Api<Namespace> = Api::all(cluster.client.clone());
    nss.delete(&ns, &DeleteParams::default()).await.unwrap();
}

/// etcd's current revision and a compaction up to it, through etcd's HTTP gateway.
async fn compact_etcd() -> i64 {
    let http = reqwest::Client::new();
    let range: serde_json::Value = http
        .post("http://127.0.0.1:23790/v3/kv/range")
        .body(r#"{"key":"AA=="}"#)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rev: i64 = range["header"]["revision"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let res = http
        .post("http://127.0.0.1:23790/v3/kv/compaction")
        .body(format!(r#"{{"revision":{rev},"physical":true}}"#))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "compaction: {}", res.status());
    rev
}

fn rss_kib() -> u64 {
    sextant::memory::status_kib("self", "VmRSS").unwrap_or(0)
}

fn warning(ns: &str, i: usize) -> Event {
    serde_json::from_value(serde_json::json!({
        "metadata": {"name": format!("w{i}"), "namespace": ns},
        "type": "Warning",
        "reason": "BackOff",
        "message": format!("back-off restarting failed container {i}"),
        "involvedObject": {"kind": "Pod", "name": format!("db-{i}"), "namespace": ns},
        "lastTimestamp": chrono::Utc::now().to_rfc3339(),
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_2_a_watch_that_meets_410_gone_relists_without_blanking() {
    use futures::StreamExt;
    let _one = SERIAL.lock().await;
    let cluster = admin().await;
    let c = cluster.client.clone();
    let ns = common::namespace(&c, "it-gone").await;
    let events: Api<Event> = Api::namespaced(c.clone(), &ns);
    const N: usize = 1_000;
    futures::stream::iter(0..N)
        .map(|i| {
            let events = events.clone();
            let ns = ns.clone();
            async move {
                events
                    .create(&PostParams::default(), &warning(&ns, i))
                    .await
            }
        })
        .buffer_unordered(16)
        .for_each(|r| async move {
            r.unwrap();
        })
        .await;

    // Events have no watch cache in the API server, so a watch resumed from a
    // compacted revision gets etcd's 410 Gone. A 3 s server timeout makes it resume.
    let (tx, mut rx) = mpsc::channel(8192);
    let mut state = State::new(true, vec![], 0);
    tokio::spawn(watch_warnings_with(
        events.clone(),
        warnings_config().timeout(3),
        tx,
    ));
    let lists = std::cell::Cell::new(0);
    pump(
        &mut rx,
        &mut state,
        30,
        "the first list",
        |m, _| {
            lists.set(
                lists.get() + matches!(m, Msg::Cluster(ClusterEvent::WarningsListed(_))) as u32,
            )
        },
        |_| lists.get() == 1,
    );
    assert!(!state.cluster.warnings.is_empty());
    let shown = state.cluster.warnings.clone();
    let started_control = Instant::now();

    // Control: a resumed watch without compaction does not relist.
    pump(
        &mut rx,
        &mut state,
        10,
        "",
        |m, _| {
            lists.set(
                lists.get() + matches!(m, Msg::Cluster(ClusterEvent::WarningsListed(_))) as u32,
            )
        },
        |_| started_control.elapsed() > Duration::from_secs(5),
    );
    assert_eq!(lists.get(), 1, "a plain resume relisted");

    // Move etcd past the list's revision and compact it away.
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), &ns);
    for i in 0..3 {
        cms.create(&PostParams::default(), &cm(&format!("bump{i}")))
            .await
            .unwrap();
    }
    let rev = compact_etcd().await;
    let base = rss_kib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(base));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (peak.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let started = Instant::now();
    pump(
        &mut rx,
        &mut state,
        30,
        "the relist after 410 Gone",
        |m, s| {
            lists.set(
                lists.get() + matches!(m, Msg::Cluster(ClusterEvent::WarningsListed(_))) as u32,
            );
            assert!(!s.cluster.warnings.is_empty(), "the pane was blanked");
        },
        |_| lists.get() == 2,
    );
    let took = started.elapsed();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    eprintln!(
        "case 2: compacted at revision {rev}; relist of {N} events done {:.2} s later \
         (after up to the 3 s watch timeout); RSS {} KiB before, peak {} KiB during (+{} KiB)",
        took.as_secs_f64(),
        base,
        peak,
        peak.saturating_sub(base)
    );
    assert_eq!(
        state.cluster.warnings, shown,
        "the same newest warnings after the relist"
    );
    Api::<Namespace>::all(c)
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
}

/// A kubeconfig like the admin's, but as service account `sa` with its token.
async fn kubeconfig_as(c: &kube::Client, ns: &str, sa: &str, dir: &Path) -> (PathBuf, String) {
    let secrets: Api<Secret> = Api::namespaced(c.clone(), ns);
    let deadline = Instant::now() + Duration::from_secs(30);
    let (name, token) = loop {
        let found = secrets
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .find(|s| {
                s.type_.as_deref() == Some("kubernetes.io/service-account-token")
                    && s.metadata
                        .annotations
                        .as_ref()
                        .and_then(|a| a.get("kubernetes.io/service-account.name"))
                        .is_some_and(|n| n == sa)
            });
        if let Some(t) = found.and_then(|s| {
            let token = s.data?.get("token")?.0.clone();
            Some((s.metadata.name?, String::from_utf8(token).ok()?))
        }) {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "no token for service account {sa}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let file = dir.join("kubeconfig");
    std::fs::copy(env("SEXTANT_TEST_KUBECONFIG"), &file).unwrap();
    let ok = Command::new("kubectl")
        .arg(format!("--kubeconfig={}", file.display()))
        .args(["config", "set-credentials", "admin"])
        .arg(format!("--token={token}"))
        .status()
        .unwrap();
    assert!(ok.success());
    (file, name)
}

fn refusals(m: &Msg, n: &mut std::collections::BTreeMap<Kind, u32>) {
    match m {
        Msg::Cluster(ClusterEvent::Forbidden(k)) => *n.entry(*k).or_default() += 1,
        Msg::Cluster(ClusterEvent::WatchFailed(k, e, _)) if e.contains("401") => {
            *n.entry(*k).or_default() += 1
        }
        _ => {}
    }
}

/// Stops the API server for a second, so open watches resume and meet what changed,
/// then waits for `done`.
fn resumed(
    rx: &mut mpsc::Receiver<Msg>,
    state: &mut State,
    what: &str,
    done: impl Fn(&State) -> bool,
) {
    assert!(restart_apiserver(1).wait().unwrap().success());
    pump(rx, state, 90, what, |_, _| {}, done);
}

/// Refused kinds ask again after a minute, not every few seconds: at most one refusal
/// per kind in 20 s.
fn no_retry_storm(rx: &mut mpsc::Receiver<Msg>, state: &mut State, when: &str) {
    let mut asked = Default::default();
    let window = Instant::now();
    pump(
        rx,
        state,
        25,
        "",
        |m, _| refusals(m, &mut asked),
        |_| window.elapsed() > Duration::from_secs(20),
    );
    eprintln!("case 3: refusals per kind in 20 s {when}: {asked:?}");
    assert!(asked.values().all(|&n| n <= 1), "a retry storm: {asked:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn case_3_access_taken_away_mid_session_says_so_without_a_retry_storm() {
    let _one = SERIAL.lock().await;
    let admin = admin().await.client;
    let ns = common::namespace(&admin, "it-revoke").await;
    let sa: ServiceAccount =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "oncall"}})).unwrap();
    Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &sa)
        .await
        .unwrap();
    let role: Role = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "oncall"},
        "rules": [{"apiGroups": ["", "apps", "batch", "networking.k8s.io",
                                 "snapshot.storage.k8s.io"],
                   "resources": ["*"], "verbs": ["get", "list", "watch"]}]
    }))
    .unwrap();
    Api::<Role>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: RoleBinding = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "oncall"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "oncall"},
        "subjects": [{"kind": "ServiceAccount", "name": "oncall", "namespace": ns}]
    }))
    .unwrap();
    let bindings: Api<RoleBinding> = Api::namespaced(admin.clone(), &ns);
    bindings
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    Api::<ConfigMap>::namespaced(admin.clone(), &ns)
        .create(&PostParams::default(), &cm("settings"))
        .await
        .unwrap();
    let dir = std::env::temp_dir().join(format!("sextant-{ns}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (file, token_secret) = kubeconfig_as(&admin, &ns, "oncall", &dir).await;

    let cluster = connect(Some(&file), None, &Scope::Namespace(ns.clone()))
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::channel(8192);
    let mut state = State::new(false, vec![], 0);
    update(
        &mut state,
        &Keymap::default(),
        Msg::Cluster(ClusterEvent::Connected {
            context: cluster.context.clone(),
            server: cluster.server.clone(),
            namespace: Some(ns.clone()),
        }),
    );
    spawn_watchers(&cluster, tx);
    first_lists(&mut rx, &mut state, &ns, "settings");
    assert_eq!(state.cluster.kinds[&Kind::Namespace], KindStatus::Forbidden);

    // RBAC removed. Open watches go on until they resume: a short restart makes them.
    bindings
        .delete("oncall", &DeleteParams::default())
        .await
        .unwrap();
    resumed(&mut rx, &mut state, "configmaps forbidden", |s| {
        s.cluster.kinds.get(&Kind::ConfigMap) == Some(&KindStatus::Forbidden)
    });
    assert!(
        state
            .cluster
            .row(Kind::ConfigMap, &ns, "settings")
            .is_none()
    );
    state
        .cluster
        .expanded
        .insert((Kind::Namespace, String::new(), ns.clone()));
    let shown = screen(&state);
    assert!(
        shown
            .lines()
            .any(|l| l.contains("ConfigMaps") && l.contains("forbidden")),
        "{shown}"
    );
    no_retry_storm(&mut rx, &mut state, "after RBAC removal");

    // The token revoked: its secret deleted, so the API server answers 401.
    Api::<Secret>::namespaced(admin.clone(), &ns)
        .delete(&token_secret, &DeleteParams::default())
        .await
        .unwrap();
    Api::<ServiceAccount>::namespaced(admin.clone(), &ns)
        .delete("oncall", &DeleteParams::default())
        .await
        .unwrap();
    resumed(&mut rx, &mut state, "401 from every watch", |s| {
        s.cluster
            .kinds
            .values()
            .any(|k| matches!(k, KindStatus::Error(e) if e.contains("401 Unauthorized")))
    });
    let shown = screen(&state);
    assert!(shown.contains("rejected the credentials"), "{shown}");
    // Actions are off: a restart asks for no confirmation and runs nothing.
    let key = crossterm::event::KeyEvent::from(crossterm::event::KeyCode::Char('R'));
    let commands = update(&mut state, &Keymap::default(), Msg::Key(key));
    assert!(commands.is_empty() && state.confirm.is_none());
    let flash = state.flash.clone().unwrap_or_default().1;
    assert!(flash.contains("rejected the credentials (401)"), "{flash}");
    assert!(!shown.contains(&token_secret));
    no_retry_storm(&mut rx, &mut state, "after the token was revoked");
    Api::<Namespace>::all(admin)
        .delete(&ns, &DeleteParams::default())
        .await
        .unwrap();
}
