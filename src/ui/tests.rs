//! Render tests: the state is built by feeding messages through the reducer, drawn into
//! ratatui's `TestBackend` and compared with insta snapshots. Local-time columns (git
//! dates, metrics axis) are masked, since they depend on the machine's time zone; the
//! git dates are checked separately against chrono's local formatting. Colours are
//! checked through the buffer's cell styles.
use super::chart::{Chart, ChartMark, ChartSeries};
use super::theme::Theme;
use crate::app::cluster::Kind;
use crate::app::diff::{Diff, DiffTarget};
use crate::app::keymap::Keymap;
use crate::app::marks::MarkKind;
use crate::app::msg::{ClusterEvent, GitEvent, MetricsEvent, Msg, StorageEvent, SyncEvent};
use crate::app::state::{CommitRow, Link, Pane, PxCluster, RepoInfo, Series, VolumeRow};
use crate::app::sync::{Drift, Mark};
use crate::app::{State, update};
use crate::engine::plan::{Action, Plan};
use crate::sources::{portworx, rows};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Modifier, Style};
use serde_json::{Value, json};

/// 2024-05-01T12:00:00Z
pub(super) const NOW: i64 = 1_714_564_800;
const W: u16 = 120;
const H: u16 = 40;

// ── Fixtures ─────────────────────────────────────────────────────────────────

fn meta(name: &str, ns: Option<&str>, created: &str) -> Value {
    let mut m = json!({
        "name": name,
        "uid": format!("00000000-0000-4000-8000-{:012x}", name.len()),
        "resourceVersion": "1000",
        "generation": 1,
        "creationTimestamp": created,
    });
    if let Some(ns) = ns {
        m["namespace"] = json!(ns);
    }
    m
}

fn pod_json(
    name: &str,
    owner: (&str, &str),
    ready: bool,
    restarts: i32,
    claim: Option<&str>,
) -> Value {
    let mut m = meta(name, Some("shop"), "2024-04-28T08:00:00Z");
    let (kind, owner_name) = owner;
    if kind == "ReplicaSet" {
        let hash = owner_name.rsplit('-').next().unwrap();
        m["labels"] = json!({"app.kubernetes.io/name": "web", "pod-template-hash": hash});
    }
    m["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": kind, "name": owner_name,
        "uid": "11111111-2222-4333-8444-555555555555", "controller": true, "blockOwnerDeletion": true
    }]);
    let volumes: Vec<Value> = claim
        .iter()
        .map(|c| json!({"name": "data", "persistentVolumeClaim": {"claimName": c}}))
        .collect();
    json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": m,
        "spec": {"nodeName": "node-1", "containers": [{"name": "main", "image": "example/app:1"}], "volumes": volumes},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "main", "ready": ready, "started": true, "restartCount": restarts,
            "image": "example/app:1", "imageID": "example/app@sha256:00"
        }]}
    })
}

/// The shop: a healthy Deployment `web` and a StatefulSet `db` whose third pod fails
/// its readiness probe; a `monitoring` namespace with a DaemonSet.
fn cluster_rows() -> Vec<(Kind, Vec<crate::app::cluster::ObjRow>)> {
    let ns = |name: &str| {
        rows::namespace(
            &serde_json::from_value(json!({
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": meta(name, None, "2024-04-01T09:00:00Z"),
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}
            }))
            .unwrap(),
        )
    };
    let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "main", "image": "example/app:1"}]}});
    let web = rows::deployment(
        &serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": meta("web", Some("shop"), "2024-04-28T08:00:00Z"),
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "x"}}, "template": template},
            "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2,
                "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
        }))
        .unwrap(),
    );
    let db = rows::statefulset(
        &serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": meta("db", Some("shop"), "2024-04-28T08:00:00Z"),
            "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "x"}}, "template": template,
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "20Gi"}}}}]},
            "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 2, "currentReplicas": 3, "updatedReplicas": 3}
        }))
        .unwrap(),
    );
    let exporter = rows::daemonset(
        &serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": meta("node-exporter", Some("monitoring"), "2024-04-01T09:10:00Z"),
            "spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template},
            "status": {"currentNumberScheduled": 1, "desiredNumberScheduled": 1, "numberMisscheduled": 0,
                "numberReady": 1, "updatedNumberScheduled": 1, "observedGeneration": 1}
        }))
        .unwrap(),
    );
    let pod = |v: Value| rows::pod(&serde_json::from_value(v).unwrap());
    let mut exporter_pod = pod_json(
        "node-exporter-q7w4z",
        ("DaemonSet", "node-exporter"),
        true,
        0,
        None,
    );
    exporter_pod["metadata"]["namespace"] = json!("monitoring");
    let pods = vec![
        pod(pod_json(
            "web-7c9d8f6b5-x2x9q",
            ("ReplicaSet", "web-7c9d8f6b5"),
            true,
            0,
            None,
        )),
        pod(pod_json(
            "web-7c9d8f6b5-k8s7d",
            ("ReplicaSet", "web-7c9d8f6b5"),
            true,
            1,
            None,
        )),
        pod(pod_json(
            "db-0",
            ("StatefulSet", "db"),
            true,
            0,
            Some("data-db-0"),
        )),
        pod(pod_json(
            "db-1",
            ("StatefulSet", "db"),
            true,
            0,
            Some("data-db-1"),
        )),
        pod(pod_json(
            "db-2",
            ("StatefulSet", "db"),
            false,
            4,
            Some("data-db-2"),
        )),
        pod(exporter_pod),
    ];
    let pvcs = (0..3)
        .map(|i| {
            rows::pvc(
                &serde_json::from_value(json!({
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": meta(&format!("data-db-{i}"), Some("shop"), "2024-04-28T08:00:00Z"),
                    "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "px-db",
                        "volumeName": format!("pvc-c0000000-0000-4000-8000-00000000000{i}"),
                        "resources": {"requests": {"storage": "20Gi"}}},
                    "status": {"phase": "Bound"}
                }))
                .unwrap(),
            )
        })
        .collect();
    vec![
        (Kind::Namespace, vec![ns("shop"), ns("monitoring")]),
        (Kind::Deployment, vec![web]),
        (Kind::StatefulSet, vec![db]),
        (Kind::DaemonSet, vec![exporter]),
        (Kind::Pod, pods),
        (Kind::Pvc, pvcs),
    ]
}

const SHAS: [&str; 6] = [
    "3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
    "a17c0e94b2d3f5e6a7b8c9d0e1f2a3b4c5d6e7f8",
    "5be1d0c2a3f4e5d6c7b8a9f0e1d2c3b4a5f6e7d8",
    "c0ffee12345678909876543210abcdefabcdef01",
    "0d15ea5e0d15ea5e0d15ea5e0d15ea5e0d15ea5e",
    "deadbeefcafef00d1234567890abcdef12345678",
];

fn commits() -> Vec<CommitRow> {
    let c = |i: usize, author: &str, summary: &str| CommitRow {
        id: SHAS[i].into(),
        author: author.into(),
        time: NOW - 3 * 3600 * i as i64 - 600,
        summary: summary.into(),
        stateful: summary.starts_with("db:"),
    };
    vec![
        c(0, "Ada Lovelace", "db: raise max_connections to 300"),
        c(1, "Grace Hopper", "web: bump image to 1.4.2"),
        c(2, "Ada Lovelace", "db: add a readiness probe"),
        c(3, "Linus Torvalds", "monitoring: node-exporter v1.8.0"),
        c(4, "Margaret Hamilton", "web: two replicas"),
        c(5, "Ada Lovelace", "initial layout"),
    ]
}

/// Volumes as the Portworx SDK gateway returns them: 95%, 40% and 78% full.
pub(super) fn volumes() -> Vec<VolumeRow> {
    const GIB: u64 = 1 << 30;
    let vol = |i: usize, usage: u64, nodes: &[&str]| {
        json!({
            "volume": {
                "id": format!("10537293163618435{i:02}"),
                "locator": {"name": format!("pvc-c0000000-0000-4000-8000-00000000000{i}"),
                    "volume_labels": {"pvc": format!("data-db-{i}"), "namespace": "shop"}},
                "spec": {"size": (20 * GIB).to_string(), "ha_level": "2", "io_profile": "IO_PROFILE_DB_REMOTE"},
                "usage": usage.to_string(),
                "status": "VOLUME_STATUS_UP",
                "state": "VOLUME_STATE_ATTACHED",
                "attached_on": "node-1",
                "replica_sets": [{"nodes": nodes}],
                "volume_consumers": [{"name": format!("db-{i}"), "namespace": "shop", "type": "pod",
                    "owner_name": "db", "owner_type": "StatefulSet"}]
            },
            "name": format!("pvc-c0000000-0000-4000-8000-00000000000{i}"),
            "labels": {"pvc": format!("data-db-{i}"), "namespace": "shop"}
        })
    };
    let body = json!({"volumes": [
        vol(0, 19 * GIB, &["node-1", "node-2"]),
        vol(1, 8 * GIB, &["node-1", "node-2"]),
        vol(2, 156 * GIB / 10, &["node-2"]),
        {"volume": {"id": "9", "readonly": true, "source": {"parent": "1053729316361843500"}, "spec": {"size": "1"}}, "name": "snap-0"}
    ]});
    portworx::volume_rows(serde_json::from_value(body).unwrap(), &nodes_wire())
}

/// Two Portworx nodes as `/v1/nodes/filters` returns them.
pub(super) fn nodes_wire() -> portworx::NodesReply {
    let node = |i: usize, status: &str, used: u64| {
        json!({"id": format!("node-{i}"), "status": status, "hostname": format!("host-{i}"),
            "scheduler_node_name": format!("worker-{i}"), "mgmt_ip": format!("10.0.0.{i}"),
            "pools": [{"Cos": "HIGH", "Medium": "STORAGE_MEDIUM_SSD", "TotalSize": (500u64 << 30).to_string(),
                "Used": used.to_string(), "uuid": format!("node-{i}-pool0")}]})
    };
    serde_json::from_value(
        json!({"nodes": [node(1, "STATUS_OK", 47 << 30), node(2, "STATUS_OK", 43 << 30)]}),
    )
    .unwrap()
}

pub(super) fn nodes() -> Vec<crate::app::state::PxNode> {
    portworx::node_rows(nodes_wire())
}

fn series() -> Vec<Series> {
    const MIB: f64 = 1024.0 * 1024.0;
    let start = (NOW - 12 * 3600) as f64;
    let s = |i: usize, scale: f64| Series {
        label: format!("pvc-c0000000-0000-4000-8000-00000000000{i}"),
        points: (0..=72)
            .map(|k| {
                let wave = ((k * 7 + i * 5) % 24) as f64;
                (start + 600.0 * k as f64, scale * MIB * (1.0 + wave / 4.0))
            })
            .collect(),
    };
    vec![s(0, 2.0), s(1, 0.5)]
}

pub(super) fn key(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

pub(super) struct Screen {
    pub(super) state: State,
    keymap: Keymap,
    pub(super) theme: Theme,
}

impl Screen {
    pub(super) fn new(read_only: bool) -> Self {
        Screen {
            state: State::new(read_only, crate::config::default_graphs(), NOW),
            keymap: Keymap::default(),
            theme: Theme::bundled("dark").expect("the bundled dark theme loads"),
        }
    }

    pub(super) fn send(&mut self, msgs: impl IntoIterator<Item = Msg>) -> &mut Self {
        for m in msgs {
            update(&mut self.state, &self.keymap, m);
        }
        self
    }

    pub(super) fn keys(&mut self, s: &str) -> &mut Self {
        let msgs: Vec<Msg> = s
            .chars()
            .map(|c| match c {
                '\n' => key(KeyCode::Enter),
                '\t' => key(KeyCode::Tab),
                c => key(KeyCode::Char(c)),
            })
            .collect();
        self.send(msgs)
    }

    fn cluster(&mut self) -> &mut Self {
        self.send([Msg::Cluster(ClusterEvent::Connected {
            context: "kind-sextant".into(),
            server: "https://127.0.0.1:6443".into(),
            namespace: None,
        })]);
        let listed: Vec<Msg> = cluster_rows()
            .into_iter()
            .map(|(k, rows)| Msg::Cluster(ClusterEvent::Listed(k, rows)))
            .collect();
        self.send(listed)
    }

    /// Data in every pane, as after the first complete frame.
    pub(super) fn everything(&mut self) -> &mut Self {
        self.send([Msg::Resize(W, H)]);
        self.cluster();
        self.send([
            Msg::Git(GitEvent::Opened(RepoInfo {
                path: "/srv/gitops/shop-deploy".into(),
                branch: "main".into(),
                head: SHAS[0].into(),
                remote: Some("origin".into()),
            })),
            Msg::Git(GitEvent::Page {
                from: 0,
                commits: commits(),
                more: false,
            }),
            Msg::Metrics(MetricsEvent::Data {
                graph: 0,
                start: (NOW - 12 * 3600) as f64,
                end: NOW as f64,
                step: 600.0,
                series: series(),
                left_out: 0,
            }),
            Msg::Storage(StorageEvent::Data {
                nodes: Ok(nodes()),
                cluster: PxCluster {
                    name: "px-sim".into(),
                    status: "STATUS_OK".into(),
                },
                volumes: volumes(),
            }),
        ])
    }

    pub(super) fn draw(&self) -> Buffer {
        self.draw_at(W, H)
    }

    pub(super) fn draw_at(&self, w: u16, h: u16) -> Buffer {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| super::draw(f, &self.state, &self.theme, &self.keymap))
            .unwrap();
        t.backend().buffer().clone()
    }

    pub(super) fn style(&self, token: &str) -> Style {
        self.theme.style(token)
    }
}

/// The screen as text, one quoted line per row (as `TestBackend` prints it).
pub(super) fn text(b: &Buffer) -> String {
    let mut backend = TestBackend::new(b.area.width, b.area.height);
    // The backend prints its buffer, handling wide symbols.
    ratatui::backend::Backend::draw(
        &mut backend,
        b.content
            .iter()
            .enumerate()
            .map(|(i, c)| ((i as u16) % b.area.width, (i as u16) / b.area.width, c)),
    )
    .unwrap();
    backend.to_string()
}

/// Replaces local-time stamps ("2024-05-01 11:50", "11:50") with placeholders.
fn mask_times(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let d = |i: usize| c.get(i).is_some_and(|x| x.is_ascii_digit());
    let is = |i: usize, ch: char| c.get(i) == Some(&ch);
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < c.len() {
        let fresh = i == 0 || !d(i - 1);
        let hhmm = |j: usize| d(j) && d(j + 1) && is(j + 2, ':') && d(j + 3) && d(j + 4);
        if fresh
            && (0..4).all(|k| d(i + k))
            && is(i + 4, '-')
            && d(i + 5)
            && d(i + 6)
            && is(i + 7, '-')
            && d(i + 8)
            && d(i + 9)
            && is(i + 10, ' ')
            && hhmm(i + 11)
            && !d(i + 16)
        {
            out.push_str("YYYY-MM-DD hh:mm");
            i += 16;
        } else if fresh && hhmm(i) && !d(i + 5) {
            out.push_str("hh:mm");
            i += 5;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

pub(super) fn screen_text(b: &Buffer) -> String {
    mask_times(&text(b))
}

/// Where `needle` starts on row `y`, in cells.
pub(super) fn find_in_row(b: &Buffer, y: u16, needle: &str) -> Option<u16> {
    let row: Vec<&str> = (0..b.area.width).map(|x| b[(x, y)].symbol()).collect();
    let n: Vec<String> = needle.chars().map(String::from).collect();
    (0..row.len().saturating_sub(n.len() - 1))
        .find(|&x| n.iter().enumerate().all(|(k, ch)| row[x + k] == ch))
        .map(|x| x as u16)
}

/// Every (x, y) where `needle` starts.
pub(super) fn find_all(b: &Buffer, needle: &str) -> Vec<(u16, u16)> {
    (0..b.area.height)
        .filter_map(|y| find_in_row(b, y, needle).map(|x| (x, y)))
        .collect()
}

pub(super) fn find(b: &Buffer, needle: &str) -> (u16, u16) {
    let all = find_all(b, needle);
    assert_eq!(
        all.len(),
        1,
        "{needle:?} should be on exactly one row: {all:?}"
    );
    all[0]
}

/// Asserts that every cell of `needle` at (x, y) has the fg and modifiers of `want`.
pub(super) fn assert_styled(b: &Buffer, (x, y): (u16, u16), needle: &str, want: Style) {
    for k in 0..needle.chars().count() as u16 {
        let cell = &b[(x + k, y)];
        assert_eq!(
            Some(cell.fg),
            want.fg,
            "{needle:?} at ({}, {y}): foreground",
            x + k
        );
        assert!(
            cell.modifier.contains(want.add_modifier),
            "{needle:?} at ({}, {y}): modifiers {:?} lack {:?}",
            x + k,
            cell.modifier,
            want.add_modifier
        );
    }
}

// ── Tests ────────────────────────────────────────────────────────────────────

#[test]
fn masking_replaces_only_clock_times() {
    assert_eq!(
        mask_times("a 2024-05-01 11:50 b 09:05 https://127.0.0.1:6443 12:345"),
        "a YYYY-MM-DD hh:mm b hh:mm https://127.0.0.1:6443 12:345"
    );
}

#[test]
fn four_panes_with_data_and_an_open_tree() {
    let mut s = Screen::new(false);
    // Open shop and its StatefulSet; select the degraded pod.
    s.everything().keys("j\nj\njjj");
    let b = s.draw();
    let text = text(&b);
    for want in [
        " Cluster kind-sextant · https://127.0.0.1:6443 · all namespaces",
        " Git shop-deploy · main @ 3f2a9c1 · 6 commits",
        " Metrics Volume writes (1/6) · last 6h · step 10m",
        " Storage Portworx px-sim · STATUS_OK · 3 volumes",
        "shop/data-db-0",
        "ctx:kind-sextant  ns:all  repo:shop-deploy@main",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // Dates are local time; compare with chrono's own formatting.
    for c in commits() {
        // A narrow git pane shows the day only.
        let local = super::format::local(c.time, "%Y-%m-%d");
        assert_eq!(local.len(), 10);
        assert!(
            text.contains(&local),
            "missing date {local} for {} in\n{text}",
            c.summary
        );
    }
    insta::assert_snapshot!("four_panes", mask_times(&text));
}

#[test]
fn the_degraded_pod_and_its_parents_are_drawn_as_warnings() {
    let mut s = Screen::new(false);
    s.everything().keys("j\nj\njjj");
    let b = s.draw();
    let warn = s.style("status.warn");
    let ok = s.style("status.ok");
    assert_ne!(warn.fg, ok.fg);
    // db-2 is Running but not ready: its phase in the warning colour.
    let (_, y) = find(&b, " db-2 ");
    let x = find_in_row(&b, y, "Running").expect("db-2 shows its phase");
    assert_styled(&b, (x, y), "Running", warn);
    assert!(find_in_row(&b, y, "0/1").is_some());
    assert!(find_in_row(&b, y, " 4 ").is_some(), "restarts");
    // The StatefulSet rolls up its pod and is itself short of replicas.
    let (_, y) = find(&b, "▾ db ");
    let x = find_in_row(&b, y, "degraded").unwrap();
    assert_styled(&b, (x, y), "degraded", warn);
    assert!(find_in_row(&b, y, "2/3").is_some());
    // The namespace rolls up to degraded too, while showing its phase.
    let (_, y) = find(&b, "▾ shop");
    let x = find_in_row(&b, y, "Active").unwrap();
    assert_styled(&b, (x, y), "Active", warn);
    assert!(find_in_row(&b, y, "2w 5p").is_some());
    // Healthy siblings stay green.
    let (_, y) = find(&b, " db-0 ");
    let x = find_in_row(&b, y, "Running").unwrap();
    assert_styled(&b, (x, y), "Running", ok);
    let (_, y) = find(&b, "▸ web");
    let x = find_in_row(&b, y, "healthy").unwrap();
    assert_styled(&b, (x, y), "healthy", ok);
    // The selection is on db-2, highlighted because the cluster pane has focus.
    let (x, y) = find(&b, " db-2 ");
    assert_eq!(Some(b[(x, y)].bg), s.style("selection").bg);
    let (x, y) = find(&b, " db-0 ");
    assert_ne!(Some(b[(x, y)].bg), s.style("selection").bg);
}

#[test]
fn a_failed_kubeconfig_is_explained_in_the_cluster_pane() {
    let mut s = Screen::new(false);
    // No other source configured, as run.rs marks them.
    s.state.git.link = Link::Off;
    s.state.metrics.link = Link::Off;
    s.state.storage.link = Link::Off;
    s.send([
        Msg::Resize(W, H),
        Msg::Cluster(ClusterEvent::ConfigFailed(
            "kubeconfig /home/ops/.kube/config: context \"prod\" not found".into(),
        )),
    ]);
    let b = s.draw();
    let at = find(&b, "context \"prod\" not found");
    assert_styled(
        &b,
        at,
        "context \"prod\" not found",
        s.style("status.error"),
    );
    let text = screen_text(&b);
    assert!(text.contains("not connected"));
    assert!(text.contains("Fix the kubeconfig"));
    assert!(text.contains("no repository: run sextant inside a git repository"));
    assert!(text.contains("no Prometheus: pass --prometheus URL"));
    assert!(text.contains("no Portworx: pass --portworx URL"));
    // The status bar marks kube down.
    let (x, y) = find(&b, "✖ kube");
    assert_eq!(y, H - 1);
    assert_eq!(Some(b[(x, y)].fg), s.style("status.error").fg);
    insta::assert_snapshot!("config_failed", text);
}

#[test]
fn help_in_read_only_mode_hides_the_restart_key() {
    let mut s = Screen::new(true);
    s.everything().keys("?");
    assert!(s.state.help);
    let b = s.draw();
    let text = screen_text(&b);
    assert!(text.contains(" Keys "));
    assert!(text.contains("show or hide this help"));
    assert!(text.contains("read-only: actions that write are hidden"));
    assert!(!text.contains("restart the selected workload"), "{text}");
    assert!(text.contains(" READ-ONLY "));
    let at = find(&b, "READ-ONLY");
    assert_eq!(Some(b[at].bg), s.style("statusbar.readonly").bg);
    insta::assert_snapshot!("help_read_only", text);
}

#[test]
fn help_in_write_mode_lists_the_restart_key() {
    let mut s = Screen::new(false);
    s.everything().keys("?");
    let b = s.draw();
    let (x, y) = find(&b, "restart the selected workload  (Cluster)");
    // The key column is right-aligned just before it.
    assert_eq!(b[(x - 3, y)].symbol(), "R");
    assert_styled(&b, (x - 3, y), "R", s.style("help.key"));
    let text = screen_text(&b);
    assert!(!text.contains("read-only"));
    assert!(!text.contains("READ-ONLY"));
}

#[test]
fn help_shows_the_keys_the_config_file_set() {
    let mut s = Screen::new(false);
    let text =
        "[keys]\nrestart = [\"R\", \"ctrl-r\"]\nquit = [\"ctrl-q\"]\nhelp = [\"f1\", \"?\"]\n";
    s.keymap = crate::app::keymap_config::read(std::path::Path::new("config.toml"), text)
        .expect("a [keys] table")
        .expect("valid keys");
    s.everything().keys("?");
    let b = s.draw();
    let (x, y) = find(&b, "restart the selected workload  (Cluster)");
    assert_eq!(find_in_row(&b, y, "R C-r"), Some(x - 7));
    assert_styled(&b, (x - 5, y), "C-r", s.style("help.key"));
    let text = screen_text(&b);
    assert!(text.contains("C-q  quit"), "{text}");
    assert!(!text.contains(" q  quit"), "{text}");
    // The status bar names the help's first key.
    assert!(text.contains(" F1 help"), "{text}");
}

#[test]
fn the_confirm_dialog_previews_the_restart() {
    let mut s = Screen::new(false);
    // Open shop, select the web Deployment, ask to restart it.
    s.everything().keys("j\nGR");
    assert!(s.state.confirm.is_some());
    let b = s.draw();
    let text = screen_text(&b);
    assert!(text.contains(" Confirm "));
    assert!(text.contains("Restart Deployment shop/web"));
    assert!(text.contains("kubectl.kubernetes.io/restartedAt = <now>"));
    let at = find(&b, " n/Esc ");
    assert_styled(&b, at, "n/Esc", s.style("help.key"));
    insta::assert_snapshot!("confirm_restart", text);
}

#[test]
fn a_nearly_full_volume_is_drawn_as_an_error() {
    let mut s = Screen::new(false);
    s.everything();
    let b = s.draw();
    let err = s.style("status.error");
    assert_eq!(err.add_modifier, Modifier::BOLD);
    let at = find(&b, "95%");
    assert_styled(&b, at, "95%", err);
    // 78% is a warning, 40% plain text.
    let at = find(&b, "78%");
    assert_styled(&b, at, "78%", s.style("status.warn"));
    let at = find(&b, "40%");
    assert_styled(&b, at, "40%", s.style("text"));
    assert!(!b[at].modifier.contains(Modifier::BOLD));
    // data-db-2 has one replica of two.
    let (_, y) = find(&b, "shop/data-db-2");
    let x = find_in_row(&b, y, "1/2").unwrap();
    assert_styled(&b, (x, y), "1/2", s.style("status.warn"));
    // The storage pane, zoomed, is easy to read in a snapshot.
    s.keys("\t\t\tz");
    insta::assert_snapshot!("storage_zoomed", screen_text(&s.draw()));
}

#[test]
fn small_and_odd_terminal_sizes_do_not_panic() {
    let mut s = Screen::new(false);
    s.everything().keys("j\nj\n");
    for (w, h) in [(1, 1), (10, 3), (40, 10), (80, 24), (300, 80)] {
        let b = s.draw_at(w, h);
        assert_eq!((b.area.width, b.area.height), (w, h));
    }
    s.keys("?");
    s.draw_at(20, 5);
    s.keys("?R");
    s.draw_at(20, 5);
}

#[test]
fn failing_watches_are_shown_above_the_last_known_rows() {
    let mut s = Screen::new(false);
    s.everything();
    s.send([Msg::Cluster(ClusterEvent::WatchFailed(
        Kind::Pod,
        "connection refused".into(),
        1_000,
    ))]);
    let b = s.draw();
    find(
        &b,
        "stale since 00:16:40 UTC: rows below are the last known",
    );
    let at = find(&b, "Pod: connection refused (retrying)");
    assert_styled(&b, at, "Pod: connection refused", s.style("status.error"));
    // The rows below are still the last known.
    let (_, header) = find(&b, "NAME ");
    assert!(header > at.1);
    assert_eq!(find_all(&b, "▸ shop").len(), 1);
    let (x, y) = find(&b, "✖ kube (reconnecting)");
    assert_eq!(y, H - 1);
    assert_eq!(Some(b[(x, y)].fg), s.style("status.error").fg);

    // Every watch failing is one cause, said once; with nothing known, say why.
    let mut s = Screen::new(false);
    s.send([Msg::Cluster(ClusterEvent::Connected {
        context: "kind-sextant".into(),
        server: "https://127.0.0.1:6443".into(),
        namespace: None,
    })]);
    for kind in Kind::ALL {
        s.send([Msg::Cluster(ClusterEvent::WatchFailed(
            kind,
            "connection refused".into(),
            1_000,
        ))]);
    }
    let b = s.draw();
    assert_eq!(find_all(&b, "connection refused").len(), 1);
    assert_eq!(find_all(&b, "stale since 00:16:40 UTC").len(), 1);
    assert_eq!(
        find_all(&b, "no data yet: waiting for the API server").len(),
        1
    );
}

/// The describe and YAML views: opened with d / y on the selected row, filled by the
/// executor's answer (here, the pure describe and YAML renderers on a fixture).
#[test]
fn describe_and_yaml_views_of_a_statefulset() {
    use crate::app::cluster::Kind;
    use crate::app::msg::{Command, View};
    use crate::sources::{describe, objects};
    let mut s = Screen::new(false);
    s.everything();
    // Select the StatefulSet db under the shop namespace.
    s.keys("j\nj");
    let sts = serde_json::json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}, "creationTimestamp": "2024-05-01T09:00:00Z",
            "managedFields": [{"manager": "kubectl"}]},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
            "updateStrategy": {"type": "RollingUpdate"},
            "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "mysql", "image": "mysql:8.0.36"}]}},
            "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"storageClassName": "px-db", "resources": {"requests": {"storage": "20Gi"}}}}]},
        "status": {"replicas": 3, "readyReplicas": 2, "updatedReplicas": 3,
            "conditions": [{"type": "Degraded", "status": "True", "reason": "PodNotReady", "message": "db-2 is not ready"}]}
    });
    let key = (Kind::StatefulSet, "shop".to_string(), "db".to_string());
    for (k, view) in [('d', View::Describe), ('y', View::Yaml)] {
        let out = update(&mut s.state, &s.keymap, key_char(k));
        assert_eq!(
            out,
            [Command::Fetch {
                key: key.clone(),
                view
            }]
        );
        let loading = text(&s.draw());
        assert!(loading.contains("loading…"), "{loading}");
        let mut v = sts.clone();
        objects::clean(Kind::StatefulSet, &mut v);
        let lines = match view {
            View::Describe => describe::describe(Kind::StatefulSet, &v, &[], &[], NOW),
            View::Yaml => objects::yaml(&v),
        };
        s.send([Msg::Cluster(ClusterEvent::Detail {
            key: key.clone(),
            view,
            result: Ok(lines),
        })]);
        let screen = text(&s.draw());
        assert!(!screen.contains("managedFields"));
        let name = if view == View::Describe {
            "describe_statefulset"
        } else {
            "yaml_statefulset"
        };
        insta::assert_snapshot!(name, mask_times(&screen));
        // Escape goes back to the tree with the same row selected.
        s.send([key_code(KeyCode::Esc)]);
        assert!(s.state.cluster.detail.is_none());
        assert_eq!(s.state.cluster.tree()[s.state.cluster.selected].key, key);
    }
}

fn key_char(c: char) -> Msg {
    key(KeyCode::Char(c))
}

fn key_code(c: KeyCode) -> Msg {
    key(c)
}

/// The warnings strip: newest first, under the tree, at most a quarter of the pane.
#[test]
fn the_warnings_strip_shows_the_newest_warnings_first() {
    use crate::app::cluster::WarningRow;
    let w = |name: &str, reason: &str, object: &str, message: &str, ago: i64| WarningRow {
        namespace: "shop".into(),
        name: name.into(),
        object: object.into(),
        reason: reason.into(),
        message: message.into(),
        count: 1,
        time: NOW - ago,
    };
    let mut s = Screen::new(false);
    s.everything();
    s.send([Msg::Cluster(ClusterEvent::WarningsListed(vec![
        w(
            "a",
            "FailedMount",
            "Pod/orders-db-0",
            "volume px-1 not attached",
            600,
        ),
        w(
            "b",
            "BackOff",
            "Pod/carts-7d9",
            "Back-off restarting failed container",
            120,
        ),
    ]))]);
    // A newer one arrives by watch; an update of an old one replaces it.
    s.send([
        Msg::Cluster(ClusterEvent::Warning(w(
            "c",
            "Unhealthy",
            "Pod/catalogue-0",
            "Readiness probe failed",
            30,
        ))),
        Msg::Cluster(ClusterEvent::Warning(w(
            "a",
            "FailedMount",
            "Pod/orders-db-0",
            "volume px-1 not attached",
            240,
        ))),
    ]);
    let b = s.draw();
    let (_, header) = find(&b, "NAME ");
    let (_, newest) = find(&b, " <1m Unhealthy Pod/catalogue-0 Readiness probe failed");
    let (_, middle) = find(&b, "  2m BackOff Pod/carts-7d9");
    let (_, oldest) = find(&b, "  4m FailedMount Pod/orders-db-0 volume px-1");
    assert!(header < newest && newest < middle && middle < oldest);
    assert_eq!(find_all(&b, "FailedMount").len(), 1);
    let at = find(&b, "Unhealthy");
    assert_styled(&b, at, "Unhealthy", s.style("status.warn"));
    // The strip stays within a quarter of the pane however many warnings there are.
    let many: Vec<WarningRow> = (0..40)
        .map(|i| w(&format!("w{i}"), "BackOff", "Pod/x", "again", i))
        .collect();
    s.send([Msg::Cluster(ClusterEvent::WarningsListed(many))]);
    let b = s.draw();
    let rows = find_all(&b, "BackOff Pod/x again").len() as u16;
    assert!((1..=H / 2 / 4).contains(&rows), "{rows} warning rows");
}

// ── Git pane: marks and the diff viewer ──────────────────────────────────────

const DIFF: &str = "\
diff --git a/apps/db.yaml b/apps/db.yaml
index 1111111..2222222 100644
--- a/apps/db.yaml
+++ b/apps/db.yaml
@@ -1,6 +1,6 @@
 kind: StatefulSet
 metadata:
   name: db # the database
 spec:
-  replicas: 1
+  replicas: 3
   serviceName: db
diff --git a/apps/web.yaml b/apps/web.yaml
new file mode 100644
index 0000000..4444444
--- /dev/null
+++ b/apps/web.yaml
@@ -0,0 +1,2 @@
+kind: Deployment
+image: web:2
diff --git a/README b/README
index 5555555..6666666 100644
--- a/README
+++ b/README
@@ -1 +1 @@
-shop: the demo
+shop: the demo, synced by sextant
";

fn sync_record(commit: &str) -> Msg {
    Msg::Git(GitEvent::Synced(Some(crate::engine::record::SyncRecord {
        commit: commit.into(),
        path: "apps".into(),
        synced_at: "2024-05-01T09:00:00Z".into(),
        synced_by: "ada".into(),
        ..Default::default()
    })))
}

/// The git pane focused and zoomed, synced to the third commit, two files changed.
fn marked_git(s: &mut Screen) {
    s.everything();
    s.send([sync_record(SHAS[2]), Msg::Git(GitEvent::WorkTree(2))]);
    s.keys("\tz");
}

/// The diff of the newest commit opened over the zoomed git pane.
fn open_diff(s: &mut Screen) {
    s.everything().keys("\tz\n");
    s.send([Msg::Git(GitEvent::Diff {
        target: DiffTarget::Commit(SHAS[0].into()),
        result: Ok(std::sync::Arc::new(Diff::parse(DIFF.into()))),
    })]);
}

#[test]
fn history_marks_the_synced_pending_and_stateful_commits() {
    let mut s = Screen::new(false);
    marked_git(&mut s);
    let b = s.draw();
    let text = text(&b);
    assert!(text.contains("working tree (2 files)"), "{text}");
    assert!(
        text.contains("● synced 5be1d0c · ↑ 2 pending · ◆ stateful"),
        "{text}"
    );
    // The synced commit and the two above it, each marked in its own colour.
    // The first hit: the legend names the synced commit too.
    let (x, y) = find_all(&b, "5be1d0c")[0];
    assert_eq!(b[(x - 3, y)].symbol(), super::git::SYNCED);
    assert_eq!(Some(b[(x - 3, y)].fg), s.style("git.synced").fg);
    assert_eq!(
        b[(x - 2, y)].symbol(),
        super::git::STATEFUL,
        "db: is stateful"
    );
    assert_eq!(Some(b[(x - 2, y)].fg), s.style("git.stateful").fg);
    // Rows of the table, below the title that names HEAD.
    let row_of = |sha: &str| {
        find_all(&b, &sha[..7])
            .into_iter()
            .find(|&(_, y)| y >= 2)
            .unwrap()
    };
    for sha in [SHAS[0], SHAS[1]] {
        let (x, y) = row_of(sha);
        assert_eq!(b[(x - 3, y)].symbol(), super::git::PENDING);
        assert_eq!(Some(b[(x - 3, y)].fg), s.style("git.pending").fg);
    }
    let (x, y) = row_of(SHAS[3]);
    assert_eq!(b[(x - 3, y)].symbol(), " ", "older than the synced commit");
    let at = find(&b, "working tree");
    assert_styled(&b, at, "working tree", s.style("git.worktree"));
    insta::assert_snapshot!("git_marked", mask_times(&text));
}

#[test]
fn date_and_author_stay_visible_in_narrow_git_panes() {
    let mut s = Screen::new(false);
    marked_git(&mut s);
    for w in [30, 44, 60, 120] {
        let b = s.draw_at(w, 20);
        let text = text(&b);
        // 20 rows are tabbed: the tabs, the border, the header, the working tree,
        // then the commits.
        for (i, c) in commits().into_iter().enumerate() {
            let day = super::format::local(c.time, "%m-%d");
            let y = 4 + i as u16;
            let row: String = (0..w).map(|x| b[(x, y)].symbol()).collect();
            assert!(row.contains(&day), "{w} wide: no date in {row:?}\n{text}");
            assert!(
                row.contains(&c.author[..6]),
                "{w} wide: no author in {row:?}"
            );
        }
    }
}

#[test]
fn the_diff_view_lists_files_then_colours_the_unified_diff() {
    let mut s = Screen::new(false);
    open_diff(&mut s);
    let b = s.draw();
    let text = text(&b);
    for want in [
        " diff 3f2a9c1 db: raise max_connections to 300 ",
        "3 files changed  +4 -2",
        " M  apps/db.yaml  +1 -1",
        " A  apps/web.yaml  +2 -0",
        "@@ -1,6 +1,6 @@",
        "w side by side",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    // An added YAML line: + in the add colour, the key and value in theirs, the
    // line tinted to the edge of the pane.
    let (x, y) = find(&b, "+  replicas: 3");
    assert_eq!(Some(b[(x, y)].fg), s.style("diff.add").fg);
    assert_styled(&b, (x + 3, y), "replicas", s.style("yaml.key"));
    assert_styled(&b, (x + 13, y), "3", s.style("yaml.value"));
    let tint = s.style("diff.add.line").bg;
    assert!(tint.is_some());
    assert_eq!(Some(b[(x + 3, y)].bg), tint);
    assert_eq!(Some(b[(W - 2, y)].bg), tint, "tinted across the pane");
    let (x, y) = find(&b, "-  replicas: 1");
    assert_eq!(Some(b[(x, y)].bg), s.style("diff.del.line").bg);
    let at = find(&b, "# the database");
    assert_styled(&b, at, "# the database", s.style("yaml.comment"));
    let at = find(&b, "@@ -1,6 +1,6 @@");
    assert_styled(&b, at, "@@ -1,6 +1,6 @@", s.style("diff.hunk"));
    // Not YAML: no key colour for "shop:" in the README.
    let (x, y) = find(&b, "+shop: the demo, synced");
    assert_eq!(Some(b[(x + 1, y)].fg), s.style("text").fg);
    insta::assert_snapshot!("diff_unified", mask_times(&text));
}

#[test]
fn a_wide_pane_shows_the_diff_side_by_side_and_w_turns_it_off() {
    let mut s = Screen::new(false);
    open_diff(&mut s);
    let b = s.draw_at(180, 30);
    let text = text(&b);
    let (xl, y) = find(&b, "  replicas: 1");
    let xr = find_in_row(&b, y, "  replicas: 3").expect("the new line faces the old one");
    assert!(xl < 90 && xr > 90, "old left, new right: {xl} {xr}");
    assert_eq!(Some(b[(xl, y)].bg), s.style("diff.del.line").bg);
    assert_eq!(Some(b[(xr, y)].bg), s.style("diff.add.line").bg);
    assert!(text.contains("w unified"));
    insta::assert_snapshot!("diff_side_by_side", text);
    s.keys("w");
    let b = s.draw_at(180, 30);
    assert!(find_in_row(&b, y, "  replicas: 3").is_none());
    assert!(!find_all(&b, "+  replicas: 3").is_empty());
}

#[test]
fn a_huge_diff_draws_only_its_window() {
    let mut s = Screen::new(false);
    s.everything().keys("\tz\n");
    // 100,000 lines, one of them 1 MB long.
    let mut text = String::from(
        "diff --git a/big.yaml b/big.yaml\n--- a/big.yaml\n+++ b/big.yaml\n@@ -0,0 +1,100000 @@\n",
    );
    text.push_str(&format!("+long: {}\n", "x".repeat(1 << 20)));
    for i in 1..100_000 {
        text.push_str(&format!("+key{i}: value {i}\n"));
    }
    s.send([Msg::Git(GitEvent::Diff {
        target: DiffTarget::Commit(SHAS[0].into()),
        result: Ok(std::sync::Arc::new(Diff::parse(text))),
    })]);
    let b = s.draw();
    let (x, y) = find(&b, "+long: xxx");
    assert_eq!(
        b[(W - 2, y)].symbol(),
        "x",
        "the long line is clipped, not wrapped"
    );
    assert_eq!(b[(x, y + 1)].symbol(), "+");
    s.keys("G");
    let b = s.draw();
    assert!(!find_all(&b, "+key99999: value 99999").is_empty());
}

// ── GitOps: drift column, sync preview, commit dialog ────────────────────────

fn drift(kind: &str, ns: &str, name: &str, mark: Mark) -> Drift {
    Drift {
        kind: kind.into(),
        namespace: ns.into(),
        name: name.into(),
        mark,
        changes: Vec::new(),
    }
}

fn drift_report(rows: Vec<Drift>) -> Msg {
    Msg::Sync(SyncEvent::Drift(Ok(rows)))
}

/// The status bar, the screen's last row.
fn status_bar(b: &Buffer) -> String {
    let y = b.area.height - 1;
    (0..b.area.width).map(|x| b[(x, y)].symbol()).collect()
}

#[test]
fn drift_adds_a_sync_column_and_an_alert_in_theme_colours() {
    let mut s = Screen::new(false);
    // Open shop, its StatefulSet and the pod db-0, which mounts data-db-0.
    s.everything().keys("j\nj\nj\n");
    let b = s.draw();
    assert!(
        find_all(&b, "SYNC").is_empty(),
        "no column before drift is known"
    );
    assert!(!status_bar(&b).contains("drift"));

    s.send([drift_report(vec![
        drift("Namespace", "", "shop", Mark::Synced),
        drift("Deployment", "shop", "web", Mark::Synced),
        drift("StatefulSet", "shop", "db", Mark::Drifted),
        drift("PersistentVolumeClaim", "shop", "data-db-0", Mark::Missing),
    ])]);
    // The four-pane layout's narrow cluster pane shows one symbol per row.
    let b = s.draw();
    let (git_x, header_y) = find(&b, "GIT ");
    assert!(find_in_row(&b, header_y, "STATUS").unwrap() > git_x);
    let (_, y) = find(&b, "▾ db ");
    assert_eq!(b[(git_x, y)].symbol(), "≠");
    assert_eq!(Some(b[(git_x, y)].fg), s.style("status.warn").fg);
    // Zoomed, the marks are words.
    s.keys("z");
    let b = s.draw();
    let screen = text(&b);
    let (sync_x, header_y) = find(&b, "SYNC");
    assert!(find_in_row(&b, header_y, "STATUS").unwrap() > sync_x);
    // Each mark in its row, in the SYNC column, in its theme colour.
    for (row, label, token) in [
        ("▾ shop ", "synced", "status.ok"),
        ("▾ db ", "drifted", "status.warn"),
        (" data-db-0 ", "missing", "status.error"),
        (" web ", "synced", "status.ok"),
    ] {
        let (_, y) = find(&b, row);
        let x = find_in_row(&b, y, label).unwrap_or_else(|| panic!("{row}: no {label}\n{screen}"));
        assert_eq!(x, sync_x, "{row}: {label} is in the SYNC column");
        assert_styled(&b, (x, y), label, s.style(token));
    }
    assert_ne!(s.style("status.warn").fg, s.style("status.ok").fg);
    // Rows git does not have stay blank.
    let (_, y) = find(&b, "▸ db-1 ");
    assert_eq!(b[(sync_x, y)].symbol(), " ");
    let (x, y) = find(&b, "⚑ drift 2");
    assert_eq!(y, H - 1);
    assert_styled(&b, (x, y), "⚑ drift 2", s.style("status.warn"));
    insta::assert_snapshot!("cluster_drift", mask_times(&screen));

    // One object left drifted; then none; then the check failing.
    s.send([drift_report(vec![
        drift("StatefulSet", "shop", "db", Mark::Drifted),
        drift("Deployment", "shop", "web", Mark::Synced),
    ])]);
    assert!(status_bar(&s.draw()).contains("⚑ drift 1 "));
    s.send([drift_report(vec![drift(
        "StatefulSet",
        "shop",
        "db",
        Mark::Synced,
    )])]);
    let b = s.draw();
    assert!(!status_bar(&b).contains("⚑"));
    let at = find(&b, "✓ in sync");
    assert_styled(&b, at, "✓ in sync", s.style("status.ok"));
    s.send([Msg::Sync(SyncEvent::Drift(Err(
        "sync record: forbidden".into()
    )))]);
    assert!(status_bar(&s.draw()).contains("drift ? "));
}

use crate::engine::plan::fixtures::{PLANNED, step};

/// An image bump, a config map changed through the API, and a leftover to prune.
fn sync_plan() -> Plan {
    let mut update = step(
        "apps/v1",
        "Deployment",
        "web",
        Action::Update,
        "\
--- cluster/apps/v1/Deployment/shop/web
+++ git/apps/v1/Deployment/shop/web
@@ -14,3 +14,3 @@
       containers:
-      - image: example/web:1.4.2
+      - image: example/web:1.5.0
         name: web
",
    );
    update.line = Some(12);
    let mut conflict = step(
        "v1",
        "ConfigMap",
        "settings",
        Action::Conflict,
        "\
--- cluster/v1/ConfigMap/shop/settings
+++ git/v1/ConfigMap/shop/settings
@@ -1,3 +1,3 @@
 apiVersion: v1
 data:
-  level: debug
+  level: info
",
    );
    conflict.message =
        Some("Apply failed with 1 conflict: conflict with \"ops-console\": .data.level".into());
    let mut prune = step(
        "v1",
        "ConfigMap",
        "feature-flags",
        Action::Prune,
        "\
--- cluster/v1/ConfigMap/shop/feature-flags
+++ git/v1/ConfigMap/shop/feature-flags
@@ -1,2 +0,0 @@
-apiVersion: v1
-kind: ConfigMap
",
    );
    prune.file = None;
    prune.line = None;
    Plan {
        app: "shop".into(),
        commit: PLANNED.into(),
        path: "apps".into(),
        steps: vec![
            step("v1", "Service", "web", Action::Unchanged, ""),
            update,
            conflict,
            prune,
        ],
        errors: Vec::new(),
    }
}

/// The preview of `sync_plan()` over the four panes.
fn previewing() -> Screen {
    let mut s = Screen::new(false);
    s.everything().send([Msg::Sync(SyncEvent::Planned {
        rev: PLANNED.into(),
        result: Ok(Box::new(sync_plan())),
    })]);
    s
}

#[test]
fn the_sync_preview_shows_each_change_with_its_diff_and_the_keys() {
    let mut s = previewing();
    let b = s.draw();
    let screen = text(&b);
    for want in [
        " Sync abcdef12 → kind-sextant ",
        "0 to create, 1 to update, 1 unchanged, 1 in conflict, 1 to prune, 0 errors",
        "update Deployment shop/web  (apps/web.yaml:12)",
        "CONFLICT ConfigMap shop/settings  (apps/settings.yaml:1)",
        "  Apply failed with 1 conflict: conflict with \"ops-console\": .data.level",
        "not in git (kept: prune is off) ConfigMap shop/feature-flags",
        " y apply ",
        " f apply, taking conflicting fields ",
        " p prune: off ",
        " Esc cancel ",
    ] {
        assert!(screen.contains(want), "missing {want:?} in\n{screen}");
    }
    assert!(
        !screen.contains("Service shop/web"),
        "unchanged objects are left out"
    );
    let at = find(&b, "+      - image: example/web:1.5.0");
    assert_styled(&b, at, "+", s.style("diff.add"));
    let at = find(&b, "-  level: debug");
    assert_styled(&b, at, "-  level: debug", s.style("diff.del"));
    let at = find(&b, "CONFLICT ConfigMap");
    assert_styled(&b, at, "CONFLICT", s.style("status.error"));
    let at = find(&b, "update Deployment");
    assert_styled(&b, at, "update", s.style("diff.file"));
    let at = find(&b, " y ");
    assert_styled(&b, at, " y ", s.style("help.key"));
    insta::assert_snapshot!("sync_preview", screen);

    // Prune on: the leftover is marked for deletion, and the footer says so.
    s.keys("p");
    let b = s.draw();
    let screen = text(&b);
    assert!(
        screen.contains("PRUNE (delete) ConfigMap shop/feature-flags"),
        "{screen}"
    );
    assert!(screen.contains(" p prune: on "), "{screen}");
    let at = find(&b, "PRUNE (delete)");
    assert_styled(&b, at, "PRUNE", s.style("status.error"));
}

#[test]
fn the_sync_preview_follows_progress_then_shows_the_result() {
    let mut s = previewing();
    s.keys("y");
    let id = s
        .state
        .sync
        .preview
        .as_ref()
        .unwrap()
        .running
        .expect("applying");
    s.send([
        Msg::Sync(SyncEvent::Progress(
            id,
            "update Deployment shop/web: applied".into(),
        )),
        Msg::Sync(SyncEvent::Progress(
            id,
            "CONFLICT ConfigMap shop/settings: skipped (f forces it)".into(),
        )),
        Msg::Sync(SyncEvent::Progress(
            id,
            "rollout Deployment shop/web: 2/2 ready".into(),
        )),
    ]);
    let b = s.draw();
    let screen = text(&b);
    for want in [
        "progress",
        "  update Deployment shop/web: applied",
        "  rollout Deployment shop/web: 2/2 ready",
        " syncing… progress follows",
    ] {
        assert!(screen.contains(want), "missing {want:?} in\n{screen}");
    }
    assert!(
        !screen.contains(" y apply "),
        "no keys to apply again while running"
    );
    let at = find(&b, "syncing…");
    assert_styled(&b, at, "syncing…", s.style("status.progress"));

    s.send([Msg::Done(id, Ok("synced abcdef12".into()))]);
    let b = s.draw();
    let screen = text(&b);
    assert!(screen.contains(" Esc close "), "{screen}");
    assert!(!screen.contains("syncing…"), "{screen}");
    let at = find(&b, "done: synced abcdef12");
    assert_styled(&b, at, "done: synced abcdef12", s.style("status.ok"));
    insta::assert_snapshot!("sync_preview_done", screen);

    // A failure reads as one.
    let mut s = previewing();
    s.keys("f");
    let id = s.state.sync.preview.as_ref().unwrap().running.unwrap();
    s.send([Msg::Done(id, Err("sync abcdef12 failed: forbidden".into()))]);
    let b = s.draw();
    let at = find(&b, "failed: sync abcdef12 failed: forbidden");
    assert_styled(&b, at, "failed:", s.style("status.error"));
}

#[test]
fn the_commit_dialog_lists_the_files_and_the_message_being_typed() {
    let mut s = Screen::new(false);
    s.everything().keys("c");
    s.send([Msg::Sync(SyncEvent::Changes(Ok(vec![
        "apps/web.yaml".into(),
        "apps/settings.yaml".into(),
    ])))]);
    s.keys("Louder logs");
    let b = s.draw();
    let screen = text(&b);
    for want in [
        " Commit ",
        "Commit 2 changed files:",
        "  apps/web.yaml",
        "  apps/settings.yaml",
        "message: Louder logs▏",
        " Enter commit ",
        " Esc cancel ",
    ] {
        assert!(screen.contains(want), "missing {want:?} in\n{screen}");
    }
    let at = find(&b, "apps/settings.yaml");
    assert_styled(&b, at, "apps/settings.yaml", s.style("diff.file"));
    let at = find(&b, "message: ");
    assert_styled(&b, at, "message:", s.style("help.key"));
    insta::assert_snapshot!("commit_dialog", screen);

    // More files than fit: the rest are counted.
    let mut s = Screen::new(false);
    s.everything().keys("c");
    let files = (0..50).map(|i| format!("apps/f{i}.yaml").into()).collect();
    s.send([Msg::Sync(SyncEvent::Changes(Ok(files)))]);
    let b = s.draw_at(W, 20);
    let screen = text(&b);
    assert!(screen.contains("Commit 50 changed files:"), "{screen}");
    assert!(screen.contains("  … and 39 more"), "{screen}");
    assert!(screen.contains("message: ▏"), "{screen}");
}

// ── Metrics charts ───────────────────────────────────────────────────────────

const MIB: f64 = 1024.0 * 1024.0;

/// One sample a minute over the hour before NOW; `f` gives the value at minute k.
fn minutes(f: impl Fn(usize) -> f64) -> Vec<(f64, f64)> {
    (0..=60)
        .map(|k| ((NOW - 3600 + 60 * k as i64) as f64, f(k)))
        .collect()
}

fn chart_mark(minute: i64, kind: MarkKind, label: &str, highlighted: bool) -> ChartMark {
    ChartMark {
        time: (NOW - 3600 + 60 * minute) as f64,
        kind,
        label: label.into(),
        highlighted,
    }
}

/// A chart drawn alone into a `w` × `h` area.
fn draw_chart(chart: &Chart, w: u16, h: u16) -> Buffer {
    let theme = Theme::bundled("dark").unwrap();
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let area = f.area();
        super::plot::draw(f.buffer_mut(), area, chart, &theme)
    })
    .unwrap();
    t.backend().buffer().clone()
}

/// The metrics pane alone, filling a `w` × `h` screen.
fn draw_metrics(s: &Screen, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| {
        let area = f.area();
        super::pane(f, &s.state, &s.theme, Pane::Metrics, area)
    })
    .unwrap();
    t.backend().buffer().clone()
}

fn is_braille(c: char) -> bool {
    ('\u{2800}'..='\u{28ff}').contains(&c)
}

/// The column of the plot's left edge: right of the y axis on the axis row.
fn plot_left(b: &Buffer) -> u16 {
    let (x, _) = find_all(b, "└")[0];
    x + 1
}

#[test]
fn a_chart_with_markers_draws_them_across_the_plot_in_their_kinds_styles() {
    let (up, down) = (
        minutes(|k| (k as f64 / 6.0) * MIB),
        minutes(|k| (60 - k) as f64 * 0.05 * MIB),
    );
    let chart = Chart {
        left_out: 0,
        series: vec![
            ChartSeries {
                label: "shop/data-db-0".into(),
                points: &up,
            },
            ChartSeries {
                label: "shop/data-db-1".into(),
                points: &down,
            },
        ],
        start: (NOW - 3600) as f64,
        end: NOW as f64,
        step: 60.0,
        unit: crate::config::Unit::Bytes,
        marks: vec![
            chart_mark(
                10,
                MarkKind::Commit,
                "3f2a9c1 db: raise max_connections",
                false,
            ),
            chart_mark(25, MarkKind::Sync, "sync 3f2a9c1 by ada", true),
            chart_mark(
                40,
                MarkKind::Rollback,
                "9d01e22 Revert \"db: raise\"",
                false,
            ),
            chart_mark(50, MarkKind::Snapshot, "snapshot shop/db-before", false),
        ],
        ascii: false,
    };
    let (w, h) = (80, 20);
    let b = draw_chart(&chart, w, h);
    let screen = screen_text(&b);
    let theme = Theme::bundled("dark").unwrap();
    // Legend: latest, min and max in the unit, then the kinds and the highlighted label.
    for want in [
        "━ shop/data-db-0  10 MiB  min 0 B max 10 MiB",
        "━ shop/data-db-1     0 B  min 0 B max  3 MiB",
        "○ commit  ↺ roll back  ● sync  ■ snapshot  ▸ sync 3f2a9c1 by ada",
    ] {
        assert!(screen.contains(want), "missing {want:?} in\n{screen}");
    }
    // Each marker is a line over the plot's full height in its column, its glyph on the axis.
    let left = plot_left(&b);
    let (_, axis_y) = find_all(&b, "└")[0];
    let plot_w = w - left;
    for m in &chart.marks {
        let col = super::chart::column(m.time, chart.start, chart.end, plot_w, false).unwrap();
        let x = left + col;
        let token = super::legend::mark_token(m.kind);
        let line = if m.highlighted { "┃" } else { "│" };
        let drawn = (0..axis_y).filter(|&y| b[(x, y)].symbol() == line).count();
        assert!(
            drawn as u16 >= axis_y - 2,
            "{token} at {x}: {drawn} of {axis_y} rows"
        );
        for y in (0..axis_y).filter(|&y| b[(x, y)].symbol() == line) {
            assert_eq!(
                Some(b[(x, y)].fg),
                theme.style(token).fg,
                "{token} at ({x}, {y})"
            );
            assert_eq!(b[(x, y)].modifier.contains(Modifier::BOLD), m.highlighted);
        }
        let glyph = super::legend::mark_symbol(m.kind, false).to_string();
        assert_eq!(b[(x, axis_y)].symbol(), glyph);
    }
    // The highest line stays below the frame's top row.
    assert!((left..w).all(|x| !b[(x, 0)].symbol().chars().any(is_braille)));
    insta::assert_snapshot!("chart_markers", screen);
}

#[test]
fn a_gap_in_the_samples_stays_a_gap_and_nan_is_not_zero() {
    // Minutes 20 to 34 missing, minute 45 NaN, minute 50 +Inf.
    let points: Vec<(f64, f64)> = minutes(|k| 4.0 + (k % 5) as f64)
        .into_iter()
        .filter(|p| !(20..35).contains(&(((p.0 as i64) - (NOW - 3600)) / 60)))
        .map(|(t, v)| match (t as i64 - (NOW - 3600)) / 60 {
            45 => (t, f64::NAN),
            50 => (t, f64::INFINITY),
            _ => (t, v),
        })
        .collect();
    let chart = Chart {
        left_out: 0,
        series: vec![ChartSeries {
            label: "iops".into(),
            points: &points,
        }],
        start: (NOW - 3600) as f64,
        end: NOW as f64,
        step: 60.0,
        unit: crate::config::Unit::OpsPerSecond,
        marks: vec![],
        ascii: false,
    };
    let (w, h) = (64, 16);
    let b = draw_chart(&chart, w, h);
    let screen = screen_text(&b);
    let left = plot_left(&b);
    let (_, axis_y) = find_all(&b, "└")[0];
    let col = |minute: i64| {
        left + super::chart::column(
            (NOW - 3600 + 60 * minute) as f64,
            chart.start,
            chart.end,
            w - left,
            false,
        )
        .unwrap()
    };
    let lit = |x: u16| (0..axis_y).any(|y| b[(x, y)].symbol().chars().any(is_braille));
    assert!(lit(col(19)) && lit(col(35)), "{screen}");
    for x in col(19) + 1..col(35) {
        assert!(!lit(x), "column {x} in the gap is drawn\n{screen}");
    }
    // NaN and Inf are not zero: nothing is drawn on the bottom rows there.
    let bottom = axis_y - 1;
    for m in [45, 50] {
        assert!(
            !b[(col(m), bottom)].symbol().chars().any(is_braille),
            "{screen}"
        );
    }
    // The legend's max ignores +Inf, its latest is the last finite sample; the +Inf
    // is flagged there and by an arrow at the top edge, in its minute.
    assert!(
        screen.contains("━ iops  4 ops/s  min 4 ops/s max 8 ops/s  +Inf×1"),
        "{screen}"
    );
    assert_eq!(b[(col(50), 0)].symbol(), "↑", "{screen}");
    insta::assert_snapshot!("chart_gap", screen);
}

#[test]
fn many_series_draw_the_top_ones_and_count_the_rest() {
    let series: Vec<Vec<(f64, f64)>> = (0..50)
        .map(|i| minutes(|k| (i * 10 + k % 3) as f64))
        .collect();
    let chart = Chart {
        left_out: 0,
        series: series
            .iter()
            .enumerate()
            .map(|(i, p)| ChartSeries {
                label: format!("pod-{i:02}"),
                points: p,
            })
            .collect(),
        start: (NOW - 3600) as f64,
        end: NOW as f64,
        step: 60.0,
        unit: crate::config::Unit::None,
        marks: vec![],
        ascii: false,
    };
    let screen = screen_text(&draw_chart(&chart, 100, 40));
    for i in 42..50 {
        assert!(
            screen.contains(&format!("pod-{i:02}")),
            "pod-{i} missing\n{screen}"
        );
    }
    assert!(!screen.contains("pod-41"), "{screen}");
    assert!(screen.contains("and 42 more"), "{screen}");
    // The first legend row is the biggest.
    let first = screen.lines().find(|l| l.contains("━ pod-")).unwrap();
    assert!(first.contains("pod-49"), "{first}");
}

/// The metrics pane after a bad query: Prometheus's words above the last data.
fn failed_query() -> Screen {
    let mut s = Screen::new(true);
    s.everything()
        .send([Msg::Metrics(MetricsEvent::QueryFailed {
            graph: 0,
            error: "bad_data: 1:5: parse error: unexpected character inside braces: '}'".into(),
        })]);
    s
}

#[test]
fn a_bad_query_shows_prometheus_error_while_the_last_data_stays() {
    let s = failed_query();
    let b = draw_metrics(&s, 80, 24);
    let screen = screen_text(&b);
    let at = find(&b, "⚠ bad_data: 1:5: parse error: unexpected");
    assert_styled(&b, at, "bad_data", s.style("status.error"));
    assert!(screen.contains("━ shop/data-db-0"), "{screen}");
    assert!(
        b.content.iter().any(|c| c.symbol().chars().any(is_braille)),
        "the last data is gone\n{screen}"
    );
    assert!(screen.contains("last 6h · step 10m"), "{screen}");
    insta::assert_snapshot!("metrics_query_error", screen);

    // The next answer clears it.
    let mut s = s;
    s.send([Msg::Metrics(MetricsEvent::Data {
        graph: 0,
        start: (NOW - 12 * 3600) as f64,
        end: NOW as f64,
        step: 600.0,
        series: series(),
        left_out: 0,
    })]);
    assert!(!screen_text(&draw_metrics(&s, 80, 24)).contains("bad_data"));
}

#[test]
fn a_narrow_metrics_pane_keeps_names_and_latest_values_and_drops_min_max() {
    let s = failed_query();
    let b = draw_metrics(&s, 28, 16);
    let screen = screen_text(&b);
    assert!(screen.contains("⚠ bad_data"), "{screen}");
    assert!(!screen.contains("min "), "{screen}");
    // Names keep both ends; the latest value stays.
    assert!(screen.contains("━ shop/d…-db-0     2 MiB/s"), "{screen}");
    assert!(screen.contains("━ shop/d…-db-1  1.12 MiB/s"), "{screen}");
    insta::assert_snapshot!("metrics_narrow", screen);
    // Tiny sizes draw without panicking.
    for (w, h) in [(1, 1), (8, 3), (12, 6), (20, 8), (34, 5)] {
        draw_metrics(&s, w, h);
    }
}

#[test]
fn plain_mode_draws_without_braille_and_with_plain_markers() {
    let mut s = Screen::new(true);
    s.everything();
    s.state.ascii = true;
    s.state.metrics.marker = Some(0);
    let b = draw_metrics(&s, 80, 24);
    let screen = screen_text(&b);
    assert!(
        !b.content.iter().any(|c| c.symbol().chars().any(is_braille)),
        "{screen}"
    );
    assert!(screen.contains('#'), "the highlighted marker\n{screen}");
    assert!(screen.contains("> "), "its label\n{screen}");
    assert!(
        screen.contains('*') || screen.contains('/') || screen.contains('-'),
        "{screen}"
    );
    insta::assert_snapshot!("metrics_plain", screen);
}
