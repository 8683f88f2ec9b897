//! The app as the fault tests drive it: one State fed by the real pollers through the
//! reducer, the read commands it emits routed back to them (as the executor does), and
//! the screen drawn into a test backend. Cluster rows are built here: the demo's
//! `shop` namespace with the carts database, its claim and a VolumeSnapshot.
#![allow(dead_code)]
use crate::common::{env, init_crypto};
use crossterm::event::KeyCode;
use sextant::app::cluster::{Health, Kind, ObjRow};
use sextant::app::keymap::Keymap;
use sextant::app::msg::{ClusterEvent, Command};
use sextant::app::state::{Link, Pane};
use sextant::app::{Msg, State, update};
use sextant::config::{PromAuth, Secret, default_graphs};
use sextant::sources::portworx::{self, PxClient};
use sextant::sources::px_discover::Find;
use sextant::sources::{git, prometheus};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{Receiver, Sender, channel};
use tokio::sync::{Notify, watch};

pub const CLAIM: &str = "data-carts-db-0";
pub const SNAPSHOT: &str = "data-carts-db-0-nightly";

pub fn view_token() -> Secret {
    let path = env("SEXTANT_TEST_PORTWORX_VIEW_TOKEN_FILE");
    Secret::new(std::fs::read_to_string(path).unwrap().trim())
}

fn row(kind: Kind, name: &str) -> ObjRow {
    ObjRow {
        kind: Some(kind),
        namespace: if kind == Kind::Namespace { "" } else { "shop" }.into(),
        name: name.into(),
        health: Health::Healthy,
        created: 1_000,
        ..Default::default()
    }
}

/// What the kube watchers would send for the part of `shop` these tests use.
pub fn cluster_msgs() -> Vec<Msg> {
    let sts = ObjRow {
        claims: vec!["data".into()],
        ready: Some((1, 1)),
        ..row(Kind::StatefulSet, "carts-db")
    };
    let pod = ObjRow {
        owner: Some((Kind::StatefulSet, "carts-db".into())),
        claims: vec![CLAIM.into()],
        ..row(Kind::Pod, "carts-db-0")
    };
    let snap = ObjRow {
        claims: vec![CLAIM.into()],
        detail: "ready".into(),
        size: "10Gi".into(),
        ..row(Kind::VolumeSnapshot, SNAPSHOT)
    };
    [
        ClusterEvent::Connected {
            context: "demo".into(),
            server: "https://127.0.0.1:16443".into(),
            namespace: Some("shop".into()),
        },
        ClusterEvent::Listed(Kind::Namespace, vec![row(Kind::Namespace, "shop")]),
        ClusterEvent::Listed(Kind::StatefulSet, vec![sts]),
        ClusterEvent::Listed(Kind::Pod, vec![pod]),
        ClusterEvent::Listed(Kind::Pvc, vec![row(Kind::Pvc, CLAIM)]),
        ClusterEvent::Listed(Kind::VolumeSnapshot, vec![snap]),
    ]
    .into_iter()
    .map(Msg::Cluster)
    .collect()
}

/// The app with whichever real pollers a test starts, all sending into one channel.
pub struct App {
    pub state: State,
    pub keymap: Keymap,
    pub tx: Sender<Msg>,
    rx: Receiver<Msg>,
    graph: Option<watch::Sender<prometheus::View>>,
    storage: Option<Arc<Notify>>,
    git: bool,
    /// Commands the reducer emitted, in order, for the test to inspect.
    pub commands: Vec<Command>,
}

impl App {
    pub fn new() -> App {
        init_crypto();
        let (tx, rx) = channel(256);
        let mut app = App {
            state: State::new(false, default_graphs(), chrono::Utc::now().timestamp()),
            keymap: Keymap::default(),
            tx,
            rx,
            graph: None,
            storage: None,
            git: false,
            commands: Vec::new(),
        };
        app.apply(Msg::Resize(160, 40));
        for m in cluster_msgs() {
            app.apply(m);
        }
        app
    }

    /// The Prometheus poller on `url`, asked for the panel on screen.
    pub fn prometheus(&mut self, url: &str) {
        let g = prometheus::spawn(
            Some(url.into()),
            Ok(PromAuth::None),
            false,
            false,
            self.tx.clone(),
        );
        g.send_replace(sextant::app::metrics::view(&self.state));
        self.graph = Some(g);
    }

    /// The Portworx poller on `url` with the view token.
    pub fn portworx(&mut self, url: &str) {
        let (refresh, _found) = portworx::spawn(
            Some(url.into()),
            Ok(Some(view_token())),
            Find::default(),
            self.tx.clone(),
        );
        self.storage = Some(refresh);
    }

    /// One poll of the real gateway, as data: for tests that only need the volumes.
    pub async fn portworx_once(&mut self) {
        let d = PxClient::new(&env("SEXTANT_TEST_PORTWORX"), Some(view_token()))
            .unwrap()
            .poll()
            .await
            .unwrap();
        self.apply(Msg::Storage(sextant::app::msg::StorageEvent::Data {
            cluster: d.cluster,
            nodes: d.nodes,
            volumes: d.volumes,
        }));
    }

    /// The git worker on the demo repository.
    pub fn git(&mut self) {
        let _requests = git::spawn(env("SEXTANT_TEST_REPO").into(), None, self.tx.clone());
        // The worker stops when its request channel closes; keep it open.
        std::mem::forget(_requests);
        self.git = true;
    }

    /// Adds an ad-hoc panel, as `:q <promql>` does, and shows it.
    pub fn adhoc(&mut self, query: &str) {
        let mut out = Vec::new();
        sextant::app::metrics::add_query(&mut self.state, query, &mut out);
        assert!(matches!(out.as_slice(), [Command::ShowGraph(_)]), "{out:?}");
    }

    /// Runs a message through the reducer; read commands go to their pollers.
    pub fn apply(&mut self, msg: Msg) -> Vec<Command> {
        let out = update(&mut self.state, &self.keymap, msg);
        for c in &out {
            match c {
                Command::ShowGraph(v) => {
                    if let Some(g) = &self.graph {
                        g.send_replace(Some(v.clone()));
                    }
                }
                Command::RefreshStorage => self.refresh_storage(),
                _ => {}
            }
        }
        self.commands.extend(out.iter().cloned());
        out
    }

    pub fn key(&mut self, code: KeyCode) -> Vec<Command> {
        self.apply(Msg::Key(code.into()))
    }

    pub fn refresh_storage(&self) {
        if let Some(n) = &self.storage {
            n.notify_one();
        }
    }

    /// Feeds what the pollers send until `done` holds; fails after `secs`.
    pub async fn until(&mut self, secs: u64, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        while !done(&self.state) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some(m)) => {
                    self.apply(m);
                }
                Ok(None) => panic!("channel closed waiting for {what}"),
                Err(_) => panic!("timed out after {secs}s waiting for {what}"),
            }
        }
    }

    /// Waits for every source this test started to have answered once.
    pub async fn settle(&mut self) {
        let (prom, px, git) = (self.graph.is_some(), self.storage.is_some(), self.git);
        let t = Instant::now();
        self.until(60, "every source's first answer", |s| {
            (!prom || s.metrics.shown.is_some())
                && (!px || s.storage.link == Link::Up)
                && (!git || !s.git.commits.is_empty())
        })
        .await;
        eprintln!("sources answered in {:?}", t.elapsed());
    }

    /// The whole screen as text, one line per row.
    pub fn screen(&self, w: u16, h: u16) -> String {
        screen(&self.state, w, h)
    }

    /// One pane zoomed to the whole screen.
    pub fn pane(&mut self, pane: Pane) -> String {
        let (focus, zoom) = (self.state.focus, self.state.zoom);
        self.state.focus = pane;
        self.state.zoom = true;
        let text = self.screen(160, 40);
        self.state.focus = focus;
        self.state.zoom = zoom;
        text
    }

    /// Selects a row of the cluster tree, opening its parent when it is folded.
    pub fn select_in_tree(&mut self, kind: Kind, name: &str) {
        self.state.focus = Pane::Cluster;
        let find = |s: &State| {
            s.cluster
                .tree()
                .iter()
                .position(|l| l.key.0 == kind && l.key.2 == name)
        };
        if find(&self.state).is_none() {
            // Under the StatefulSet, which Enter opens.
            self.select_in_tree(Kind::StatefulSet, "carts-db");
            self.key(KeyCode::Enter);
        }
        self.state.cluster.selected =
            find(&self.state).unwrap_or_else(|| panic!("{name} is not in the tree"));
    }

    /// Selects the carts claim's volume in the storage pane.
    pub fn select_carts_volume(&mut self) {
        self.state.focus = Pane::Storage;
        let lines = sextant::app::storage::table(&self.state);
        let (i, id) = lines
            .iter()
            .enumerate()
            .find(|(_, l)| l.claim == format!("shop/{CLAIM}"))
            .map(|(i, l)| (i, l.volume.id.clone()))
            .expect("the carts claim's volume in the storage pane");
        self.state.storage.selected = i;
        self.state.storage.selected_id = Some(id);
        self.state.storage.details = false;
    }

    /// The flash message after the last key, if it was an error.
    pub fn refusal(&self) -> Option<String> {
        self.state
            .flash
            .as_ref()
            .filter(|(ok, _)| !ok)
            .map(|(_, m)| m.clone())
    }
}

pub use crate::common::screen;

/// What the panes other than `except` hold: compared before and after a fault.
#[derive(Debug, PartialEq)]
pub struct Others {
    cluster: Option<Vec<ObjRow>>,
    git: Option<(Option<String>, Vec<String>)>,
    storage: Option<(Link, usize)>,
    metrics: Option<(Option<usize>, Link)>,
}

pub fn others(s: &State, except: Pane) -> Others {
    Others {
        cluster: (except != Pane::Cluster).then(|| s.cluster.rows.values().cloned().collect()),
        git: (except != Pane::Git).then(|| {
            (
                s.git.repo.as_ref().map(|r| r.head.clone()),
                s.git.commits.iter().map(|c| c.id.clone()).collect(),
            )
        }),
        storage: (except != Pane::Storage)
            .then(|| (s.storage.link.clone(), s.storage.volumes.len())),
        metrics: (except != Pane::Metrics).then(|| (s.metrics.shown, s.metrics.link.clone())),
    }
}
