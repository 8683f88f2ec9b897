//! Reducer tests: state + message → state + commands. No terminal, no server.
//! Kubernetes objects come from YAML fixtures shaped like real API objects and are
//! converted with the same functions the watchers use.
use super::cluster::{Connection, Health, Kind, KindStatus, ObjRow};
use super::diff::{Diff, DiffTarget};
use super::keymap::Keymap;
use super::msg::{
    ClusterEvent, Command, GitEvent, MetricsEvent, Msg, StorageEvent, SyncEvent, WriteIntent,
};
use super::state::{CommitRow, Link, Pane, PxCluster, RepoInfo, Series, VolumeRow};
use super::sync::{Drift, Mark, preview_lines};
use super::update::PAGE;
use super::{State, update};
use crate::config::{GraphSpec, Unit};
use crate::engine::plan::{Action as PlanAction, Plan};
use crate::sources::rows;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use serde::Deserialize;

/// 2024-05-01T12:00:00Z
pub(super) const NOW: i64 = 1_714_564_800;

/// Two namespaces: `shop` with a healthy Deployment and a StatefulSet with one pod
/// failing its readiness probe, `monitoring` with a DaemonSet.
const CLUSTER: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  uid: 6b0f3c1e-2d8a-4a51-9a7e-0c1f7d9b1a01
  resourceVersion: "181"
  creationTimestamp: "2024-04-01T09:00:00Z"
  labels:
    kubernetes.io/metadata.name: shop
spec:
  finalizers: [kubernetes]
status:
  phase: Active
---
apiVersion: v1
kind: Namespace
metadata:
  name: monitoring
  uid: 0d4e2b7a-91c3-4f0e-8d1b-5e6f7a8b9c02
  resourceVersion: "190"
  creationTimestamp: "2024-04-01T09:00:05Z"
  labels:
    kubernetes.io/metadata.name: monitoring
spec:
  finalizers: [kubernetes]
status:
  phase: Active
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: 3c2d1e0f-aaaa-4bbb-8ccc-0123456789ab
  resourceVersion: "5521"
  generation: 3
  creationTimestamp: "2024-04-28T08:00:00Z"
  labels:
    app.kubernetes.io/name: web
  annotations:
    deployment.kubernetes.io/revision: "3"
spec:
  replicas: 2
  selector:
    matchLabels:
      app.kubernetes.io/name: web
  strategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 25%, maxUnavailable: 25%}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: web
    spec:
      containers:
        - name: web
          image: ghcr.io/example/shop-web:1.4.2
          ports: [{containerPort: 8080, protocol: TCP}]
status:
  observedGeneration: 3
  replicas: 2
  updatedReplicas: 2
  readyReplicas: 2
  availableReplicas: 2
  conditions:
    - type: Available
      status: "True"
      reason: MinimumReplicasAvailable
      message: Deployment has minimum availability.
      lastTransitionTime: "2024-04-28T08:01:00Z"
      lastUpdateTime: "2024-04-28T08:01:00Z"
    - type: Progressing
      status: "True"
      reason: NewReplicaSetAvailable
      message: ReplicaSet "web-7c9d8f6b5" has successfully progressed.
      lastTransitionTime: "2024-04-28T08:00:00Z"
      lastUpdateTime: "2024-04-30T16:20:00Z"
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
  namespace: shop
  uid: 9f8e7d6c-bbbb-4ccc-8ddd-0123456789ab
  resourceVersion: "6012"
  generation: 1
  creationTimestamp: "2024-04-28T08:00:00Z"
spec:
  replicas: 3
  serviceName: db
  podManagementPolicy: OrderedReady
  selector:
    matchLabels:
      app.kubernetes.io/name: db
  template:
    metadata:
      labels:
        app.kubernetes.io/name: db
    spec:
      containers:
        - name: postgres
          image: docker.io/library/postgres:16.2
  volumeClaimTemplates:
    - apiVersion: v1
      kind: PersistentVolumeClaim
      metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: px-db
        resources:
          requests:
            storage: 20Gi
status:
  observedGeneration: 1
  replicas: 3
  readyReplicas: 2
  currentReplicas: 3
  updatedReplicas: 3
  availableReplicas: 2
  currentRevision: db-6d5f8b7c9
  updateRevision: db-6d5f8b7c9
  collisionCount: 0
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: node-exporter
  namespace: monitoring
  uid: 1a2b3c4d-cccc-4ddd-8eee-0123456789ab
  resourceVersion: "702"
  generation: 1
  creationTimestamp: "2024-04-01T09:10:00Z"
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: node-exporter
  template:
    metadata:
      labels:
        app.kubernetes.io/name: node-exporter
    spec:
      containers:
        - name: node-exporter
          image: quay.io/prometheus/node-exporter:v1.8.0
status:
  currentNumberScheduled: 1
  desiredNumberScheduled: 1
  numberAvailable: 1
  numberMisscheduled: 0
  numberReady: 1
  observedGeneration: 1
  updatedNumberScheduled: 1
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7c9d8f6b5-x2x9q
  namespace: shop
  uid: a0000000-0000-4000-8000-000000000001
  resourceVersion: "5510"
  creationTimestamp: "2024-04-30T16:19:00Z"
  labels:
    app.kubernetes.io/name: web
    pod-template-hash: 7c9d8f6b5
  ownerReferences:
    - apiVersion: apps/v1
      kind: ReplicaSet
      name: web-7c9d8f6b5
      uid: b0000000-0000-4000-8000-000000000001
      controller: true
      blockOwnerDeletion: true
spec:
  nodeName: node-1
  containers:
    - name: web
      image: ghcr.io/example/shop-web:1.4.2
status:
  phase: Running
  podIP: 10.244.0.12
  startTime: "2024-04-30T16:19:00Z"
  containerStatuses:
    - name: web
      ready: true
      started: true
      restartCount: 0
      image: ghcr.io/example/shop-web:1.4.2
      imageID: ghcr.io/example/shop-web@sha256:1111111111111111111111111111111111111111111111111111111111111111
      containerID: containerd://aaaa
      state:
        running:
          startedAt: "2024-04-30T16:19:05Z"
---
apiVersion: v1
kind: Pod
metadata:
  name: web-7c9d8f6b5-k8s7d
  namespace: shop
  uid: a0000000-0000-4000-8000-000000000002
  resourceVersion: "5512"
  creationTimestamp: "2024-04-30T16:19:30Z"
  labels:
    app.kubernetes.io/name: web
    pod-template-hash: 7c9d8f6b5
  ownerReferences:
    - apiVersion: apps/v1
      kind: ReplicaSet
      name: web-7c9d8f6b5
      uid: b0000000-0000-4000-8000-000000000001
      controller: true
      blockOwnerDeletion: true
spec:
  nodeName: node-1
  containers:
    - name: web
      image: ghcr.io/example/shop-web:1.4.2
status:
  phase: Running
  containerStatuses:
    - name: web
      ready: true
      restartCount: 0
      image: ghcr.io/example/shop-web:1.4.2
      imageID: ghcr.io/example/shop-web@sha256:1111111111111111111111111111111111111111111111111111111111111111
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: shop
  uid: a0000000-0000-4000-8000-000000000010
  resourceVersion: "6001"
  creationTimestamp: "2024-04-28T08:00:10Z"
  labels:
    app.kubernetes.io/name: db
    statefulset.kubernetes.io/pod-name: db-0
  ownerReferences:
    - apiVersion: apps/v1
      kind: StatefulSet
      name: db
      uid: 9f8e7d6c-bbbb-4ccc-8ddd-0123456789ab
      controller: true
      blockOwnerDeletion: true
spec:
  containers:
    - name: postgres
      image: docker.io/library/postgres:16.2
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data-db-0
status:
  phase: Running
  containerStatuses:
    - name: postgres
      ready: true
      restartCount: 0
      image: docker.io/library/postgres:16.2
      imageID: docker.io/library/postgres@sha256:2222222222222222222222222222222222222222222222222222222222222222
---
apiVersion: v1
kind: Pod
metadata:
  name: db-1
  namespace: shop
  uid: a0000000-0000-4000-8000-000000000011
  resourceVersion: "6003"
  creationTimestamp: "2024-04-28T08:01:10Z"
  labels:
    app.kubernetes.io/name: db
  ownerReferences:
    - apiVersion: apps/v1
      kind: StatefulSet
      name: db
      uid: 9f8e7d6c-bbbb-4ccc-8ddd-0123456789ab
      controller: true
spec:
  containers:
    - name: postgres
      image: docker.io/library/postgres:16.2
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data-db-1
status:
  phase: Running
  containerStatuses:
    - name: postgres
      ready: true
      restartCount: 0
      image: docker.io/library/postgres:16.2
      imageID: docker.io/library/postgres@sha256:2222222222222222222222222222222222222222222222222222222222222222
---
apiVersion: v1
kind: Pod
metadata:
  name: db-2
  namespace: shop
  uid: a0000000-0000-4000-8000-000000000012
  resourceVersion: "6011"
  creationTimestamp: "2024-04-28T08:02:10Z"
  labels:
    app.kubernetes.io/name: db
  ownerReferences:
    - apiVersion: apps/v1
      kind: StatefulSet
      name: db
      uid: 9f8e7d6c-bbbb-4ccc-8ddd-0123456789ab
      controller: true
spec:
  containers:
    - name: postgres
      image: docker.io/library/postgres:16.2
      readinessProbe:
        exec:
          command: [pg_isready, -U, postgres]
        periodSeconds: 10
  volumes:
    - name: data
      persistentVolumeClaim:
        claimName: data-db-2
status:
  phase: Running
  conditions:
    - type: Ready
      status: "False"
      reason: ContainersNotReady
  containerStatuses:
    - name: postgres
      ready: false
      started: true
      restartCount: 4
      image: docker.io/library/postgres:16.2
      imageID: docker.io/library/postgres@sha256:2222222222222222222222222222222222222222222222222222222222222222
      state:
        running:
          startedAt: "2024-05-01T11:40:00Z"
      lastState:
        terminated:
          exitCode: 1
          reason: Error
          startedAt: "2024-05-01T11:30:00Z"
          finishedAt: "2024-05-01T11:39:50Z"
---
apiVersion: v1
kind: Pod
metadata:
  name: node-exporter-q7w4z
  namespace: monitoring
  uid: a0000000-0000-4000-8000-000000000020
  resourceVersion: "705"
  creationTimestamp: "2024-04-01T09:10:02Z"
  ownerReferences:
    - apiVersion: apps/v1
      kind: DaemonSet
      name: node-exporter
      uid: 1a2b3c4d-cccc-4ddd-8eee-0123456789ab
      controller: true
spec:
  containers:
    - name: node-exporter
      image: quay.io/prometheus/node-exporter:v1.8.0
status:
  phase: Running
  containerStatuses:
    - name: node-exporter
      ready: true
      restartCount: 0
      image: quay.io/prometheus/node-exporter:v1.8.0
      imageID: quay.io/prometheus/node-exporter@sha256:3333333333333333333333333333333333333333333333333333333333333333
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data-db-0
  namespace: shop
  uid: c0000000-0000-4000-8000-000000000000
  resourceVersion: "5990"
  creationTimestamp: "2024-04-28T08:00:05Z"
  labels:
    app.kubernetes.io/name: db
spec:
  accessModes: [ReadWriteOnce]
  storageClassName: px-db
  volumeMode: Filesystem
  volumeName: pvc-c0000000-0000-4000-8000-000000000000
  resources:
    requests:
      storage: 20Gi
status:
  phase: Bound
  accessModes: [ReadWriteOnce]
  capacity:
    storage: 20Gi
"#;

/// Parses a multi-document YAML stream of API objects into rows, by `kind`.
fn rows_from_yaml(yaml: &str) -> Vec<ObjRow> {
    fn parse<T: serde::de::DeserializeOwned>(v: serde_yaml::Value, kind: &str) -> T {
        serde_yaml::from_value(v).unwrap_or_else(|e| panic!("fixture {kind}: {e}"))
    }
    serde_yaml::Deserializer::from_str(yaml)
        .map(|doc| {
            let v = serde_yaml::Value::deserialize(doc).expect("fixture is valid YAML");
            let kind = v["kind"].as_str().expect("fixture has a kind").to_string();
            match kind.as_str() {
                "Namespace" => rows::namespace(&parse(v, &kind)),
                "Deployment" => rows::deployment(&parse(v, &kind)),
                "StatefulSet" => rows::statefulset(&parse(v, &kind)),
                "DaemonSet" => rows::daemonset(&parse(v, &kind)),
                "Pod" => rows::pod(&parse(v, &kind)),
                "PersistentVolumeClaim" => rows::pvc(&parse(v, &kind)),
                other => panic!("no converter for fixture kind {other}"),
            }
        })
        .collect()
}

fn of_kind(rows: &[ObjRow], kind: Kind) -> Vec<ObjRow> {
    rows.iter().filter(|r| r.kind() == kind).cloned().collect()
}

pub(super) fn row(kind: Kind, ns: &str, name: &str) -> ObjRow {
    ObjRow {
        kind: Some(kind),
        namespace: ns.into(),
        name: name.into(),
        health: Health::Healthy,
        ..Default::default()
    }
}

fn graphs(n: usize) -> Vec<GraphSpec> {
    (0..n)
        .map(|i| GraphSpec {
            title: format!("graph {i}"),
            query: format!("up{{job=\"{i}\"}}"),
            label: None,
            unit: Unit::None,
        })
        .collect()
}

pub(super) fn press(code: KeyCode) -> Msg {
    let modifiers = match code {
        KeyCode::BackTab => KeyModifiers::SHIFT,
        KeyCode::Char(c) if c.is_ascii_uppercase() => KeyModifiers::SHIFT,
        _ => KeyModifiers::NONE,
    };
    Msg::Key(KeyEvent::new(code, modifiers))
}

pub(super) fn ch(c: char) -> Msg {
    press(KeyCode::Char(c))
}

pub(super) struct Harness {
    pub(super) state: State,
    keymap: Keymap,
}

impl Harness {
    pub(super) fn new(read_only: bool, graph_count: usize) -> Self {
        Harness {
            state: State::new(read_only, graphs(graph_count), NOW),
            keymap: Keymap::default(),
        }
    }

    pub(super) fn send(&mut self, msg: Msg) -> Vec<Command> {
        update(&mut self.state, &self.keymap, msg)
    }

    /// Sends each message and asserts that none asked for a command.
    pub(super) fn quietly(&mut self, msgs: impl IntoIterator<Item = Msg>) {
        for m in msgs {
            let dbg = format!("{m:?}");
            let out = self.send(m);
            assert!(out.is_empty(), "{dbg} emitted {out:?}");
        }
    }

    /// Connected, and every kind listed from the fixtures.
    pub(super) fn with_cluster(mut self) -> Self {
        let all = rows_from_yaml(CLUSTER);
        let out = self.send(Msg::Cluster(ClusterEvent::Connected {
            context: "kind-sextant".into(),
            server: "https://127.0.0.1:6443".into(),
            namespace: None,
        }));
        assert_eq!(
            out,
            [Command::FindUnfinished],
            "unfinished restores are looked for"
        );
        // A list may scope the graphs to the selection: that asks for data.
        for kind in Kind::ALL {
            self.send(Msg::Cluster(ClusterEvent::Listed(
                kind,
                of_kind(&all, kind),
            )));
        }
        self
    }

    pub(super) fn names(&self) -> Vec<String> {
        self.state
            .cluster
            .tree()
            .iter()
            .map(|l| l.key.2.clone())
            .collect()
    }

    pub(super) fn selected_name(&self) -> String {
        self.state.cluster.tree()[self.state.cluster.selected]
            .key
            .2
            .clone()
    }

    /// Opens `shop` and selects the `web` Deployment.
    pub(super) fn select_web(&mut self) {
        self.quietly([ch('j'), press(KeyCode::Enter)]);
        assert_eq!(self.names(), ["monitoring", "shop", "db", "web"]);
        self.quietly([ch('G')]);
        assert_eq!(self.selected_name(), "web");
    }
}

pub(super) fn commits(from: usize, n: usize) -> Vec<CommitRow> {
    (from..from + n)
        .map(|i| CommitRow {
            id: format!("{i:040x}"),
            author: "Ada Lovelace".into(),
            time: NOW - 3600 * i as i64,
            summary: format!("commit {i}"),
            stateful: i % 7 == 3,
        })
        .collect()
}

pub(super) fn repo(head: &str) -> RepoInfo {
    RepoInfo {
        path: "/srv/gitops/shop".into(),
        branch: "main".into(),
        head: head.into(),
        remote: Some("origin".into()),
    }
}

// ── Focus, zoom, help, quit ──────────────────────────────────────────────────

#[test]
fn tab_and_shift_tab_cycle_focus_through_the_four_panes() {
    let mut h = Harness::new(false, 0);
    assert_eq!(h.state.focus, Pane::Cluster);
    let mut seen = Vec::new();
    for _ in 0..4 {
        h.quietly([press(KeyCode::Tab)]);
        seen.push(h.state.focus);
    }
    assert_eq!(
        seen,
        [Pane::Git, Pane::Metrics, Pane::Storage, Pane::Cluster]
    );
    seen.clear();
    for _ in 0..4 {
        h.quietly([press(KeyCode::BackTab)]);
        seen.push(h.state.focus);
    }
    assert_eq!(
        seen,
        [Pane::Storage, Pane::Metrics, Pane::Git, Pane::Cluster]
    );
}

#[test]
fn z_toggles_zoom_and_esc_unzooms() {
    let mut h = Harness::new(false, 0);
    h.quietly([ch('z')]);
    assert!(h.state.zoom);
    h.quietly([ch('z')]);
    assert!(!h.state.zoom);
    h.quietly([ch('z'), press(KeyCode::Esc)]);
    assert!(!h.state.zoom);
}

#[test]
fn question_mark_opens_help_which_swallows_keys_until_esc() {
    let mut h = Harness::new(false, 0);
    h.quietly([ch('?')]);
    assert!(h.state.help);
    // Keys under the overlay do not reach the panes.
    h.quietly([press(KeyCode::Tab), ch('z')]);
    assert_eq!(h.state.focus, Pane::Cluster);
    assert!(!h.state.zoom);
    assert!(h.state.help);
    h.quietly([press(KeyCode::Esc)]);
    assert!(!h.state.help);
    // `?` toggles, and `q` closes help rather than quitting.
    h.quietly([ch('?'), ch('?')]);
    assert!(!h.state.help);
    h.quietly([ch('?'), ch('q')]);
    assert!(!h.state.help);
    assert!(!h.state.quit);
}

#[test]
fn q_and_ctrl_c_quit() {
    let mut h = Harness::new(false, 0);
    assert!(!h.state.quit);
    h.quietly([ch('q')]);
    assert!(h.state.quit);

    let mut h = Harness::new(false, 0);
    h.quietly([Msg::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    ))]);
    assert!(h.state.quit);
}

#[test]
fn key_releases_are_ignored() {
    let mut h = Harness::new(false, 0);
    h.state.dirty = false;
    let mut release = KeyEvent::from(KeyCode::Tab);
    release.kind = KeyEventKind::Release;
    h.quietly([Msg::Key(release)]);
    assert_eq!(h.state.focus, Pane::Cluster);
    assert!(!h.state.dirty);
}

// ── Cluster events ───────────────────────────────────────────────────────────

#[test]
fn fixtures_convert_to_the_rows_the_tree_needs() {
    let all = rows_from_yaml(CLUSTER);
    assert_eq!(all.len(), 12);
    let find = |name: &str| all.iter().find(|r| r.name == name).unwrap();
    assert_eq!(find("web").health, Health::Healthy);
    assert_eq!(find("web").ready, Some((2, 2)));
    assert_eq!(find("web").detail, "NewReplicaSetAvailable");
    assert_eq!(find("db").health, Health::Degraded);
    assert_eq!(find("db").ready, Some((2, 3)));
    assert_eq!(find("db").claims, ["data"]);
    assert_eq!(find("db-2").health, Health::Degraded);
    assert_eq!(find("db-2").restarts, 4);
    assert_eq!(find("db-2").owner, Some((Kind::StatefulSet, "db".into())));
    assert_eq!(
        find("web-7c9d8f6b5-x2x9q").owner,
        Some((Kind::Deployment, "web".into()))
    );
    assert_eq!(find("shop").created, 1_711_962_000);
    assert_eq!(
        find("data-db-0").claims,
        ["pvc-c0000000-0000-4000-8000-000000000000"]
    );
}

#[test]
fn listing_every_kind_loads_the_cluster_and_rolls_health_up() {
    let mut h = Harness::new(false, 0);
    assert!(!h.state.cluster.is_loaded());
    h = h.with_cluster();
    assert!(h.state.cluster.is_loaded());
    assert_eq!(h.state.cluster.rows.len(), 12);
    let tree = h.state.cluster.tree();
    assert_eq!(h.names(), ["monitoring", "shop"]);
    assert_eq!(tree[0].health, Health::Healthy);
    assert_eq!(tree[0].counts, Some((1, 1)));
    assert_eq!(tree[1].health, Health::Degraded);
    assert_eq!(tree[1].counts, Some((2, 5)));
}

#[test]
fn a_relist_replaces_every_row_of_that_kind_and_only_that_kind() {
    let mut h = Harness::new(false, 0);
    let pods = |names: &[&str]| names.iter().map(|n| row(Kind::Pod, "shop", n)).collect();
    h.quietly([
        Msg::Cluster(ClusterEvent::Listed(
            Kind::Namespace,
            vec![row(Kind::Namespace, "", "shop")],
        )),
        Msg::Cluster(ClusterEvent::Listed(Kind::Pod, pods(&["a", "b", "c"]))),
    ]);
    assert_eq!(h.state.cluster.rows.len(), 4);
    // The watch restarted and b and c were deleted while it was down.
    h.quietly([Msg::Cluster(ClusterEvent::Listed(Kind::Pod, pods(&["a"])))]);
    let keys: Vec<_> = h.state.cluster.rows.keys().cloned().collect();
    assert_eq!(
        keys,
        [
            (Kind::Namespace, String::new(), "shop".to_string()),
            (Kind::Pod, "shop".to_string(), "a".to_string()),
        ]
    );
    // Listing the same rows again does not duplicate them.
    h.quietly([Msg::Cluster(ClusterEvent::Listed(Kind::Pod, pods(&["a"])))]);
    assert_eq!(h.state.cluster.rows.len(), 2);
    assert_eq!(
        h.state.cluster.kinds.get(&Kind::Pod),
        Some(&KindStatus::Ready)
    );
}

#[test]
fn applied_upserts_and_deleted_removes() {
    let mut h = Harness::new(false, 0).with_cluster();
    let before = h.state.cluster.rows.len();
    let key = (Kind::Pod, "shop".to_string(), "db-2".to_string());
    // db-2 became ready: the same key, new content.
    let mut fixed = h.state.cluster.rows[&key].clone();
    fixed.health = Health::Healthy;
    fixed.ready = Some((1, 1));
    h.quietly([Msg::Cluster(ClusterEvent::Applied(fixed.clone()))]);
    assert_eq!(h.state.cluster.rows.len(), before);
    assert_eq!(h.state.cluster.rows[&key], fixed);
    // A new pod appears.
    h.quietly([Msg::Cluster(ClusterEvent::Applied(row(
        Kind::Pod,
        "shop",
        "db-3",
    )))]);
    assert_eq!(h.state.cluster.rows.len(), before + 1);
    // And goes.
    h.quietly([Msg::Cluster(ClusterEvent::Deleted(
        Kind::Pod,
        "shop".into(),
        "db-3".into(),
    ))]);
    assert_eq!(h.state.cluster.rows.len(), before);
    assert!(
        !h.state
            .cluster
            .rows
            .contains_key(&(Kind::Pod, "shop".into(), "db-3".into()))
    );
    // Deleting something unknown is harmless.
    h.quietly([Msg::Cluster(ClusterEvent::Deleted(
        Kind::Pod,
        "shop".into(),
        "nope".into(),
    ))]);
    assert_eq!(h.state.cluster.rows.len(), before);
}

#[test]
fn a_failed_watch_keeps_the_last_rows_and_records_the_error() {
    let mut h = Harness::new(false, 0).with_cluster();
    let before = h.state.cluster.rows.len();
    h.quietly([Msg::Cluster(ClusterEvent::WatchFailed(
        Kind::Pod,
        "connection refused".into(),
        1_000,
    ))]);
    assert_eq!(
        h.state.cluster.kinds.get(&Kind::Pod),
        Some(&KindStatus::Error("connection refused".into()))
    );
    assert_eq!(h.state.cluster.rows.len(), before);
    // Stale since the first failure, not the latest.
    h.quietly([Msg::Cluster(ClusterEvent::WatchFailed(
        Kind::Service,
        "connection refused".into(),
        2_000,
    ))]);
    assert_eq!(h.state.cluster.stale_since, Some(1_000));
    assert_eq!(
        h.state.cluster.kinds.get(&Kind::Deployment),
        Some(&KindStatus::Ready)
    );
    // The next relist clears the error.
    let all = rows_from_yaml(CLUSTER);
    h.quietly([Msg::Cluster(ClusterEvent::Listed(
        Kind::Pod,
        of_kind(&all, Kind::Pod),
    ))]);
    assert_eq!(
        h.state.cluster.kinds.get(&Kind::Pod),
        Some(&KindStatus::Ready)
    );
    assert_eq!(
        h.state.cluster.stale_since,
        Some(1_000),
        "services still fail"
    );
    h.quietly([Msg::Cluster(ClusterEvent::Listed(
        Kind::Service,
        of_kind(&all, Kind::Service),
    ))]);
    assert_eq!(h.state.cluster.stale_since, None);
}

#[test]
fn a_failed_config_sets_the_connection_failed_and_counts_as_loaded() {
    let mut h = Harness::new(false, 0);
    h.quietly([Msg::Cluster(ClusterEvent::ConfigFailed(
        "kubeconfig: context \"prod\" not found".into(),
    ))]);
    assert_eq!(
        h.state.cluster.connection,
        Connection::Failed("kubeconfig: context \"prod\" not found".into())
    );
    assert!(h.state.cluster.is_loaded());
    assert!(h.state.dirty);
}

#[test]
fn connecting_to_a_namespace_scopes_and_opens_it() {
    let mut h = Harness::new(false, 0);
    h.send(Msg::Cluster(ClusterEvent::Connected {
        context: "kind-sextant".into(),
        server: "https://127.0.0.1:6443".into(),
        namespace: Some("shop".into()),
    }));
    assert_eq!(
        h.state.cluster.connection,
        Connection::Connected {
            context: "kind-sextant".into(),
            server: "https://127.0.0.1:6443".into()
        }
    );
    assert_eq!(h.state.cluster.namespace.as_deref(), Some("shop"));
    let all = rows_from_yaml(CLUSTER);
    for kind in Kind::ALL {
        h.quietly([Msg::Cluster(ClusterEvent::Listed(
            kind,
            of_kind(&all, kind),
        ))]);
    }
    assert_eq!(h.names(), ["shop", "db", "web"]);
}

// ── Cluster navigation ───────────────────────────────────────────────────────

#[test]
fn j_k_g_and_shift_g_move_within_the_tree() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([ch('j'), press(KeyCode::Enter)]); // open shop
    assert_eq!(h.names(), ["monitoring", "shop", "db", "web"]);
    assert_eq!(h.state.cluster.selected, 1);
    h.quietly([ch('j')]);
    assert_eq!(h.state.cluster.selected, 2);
    h.quietly([ch('j'), ch('j'), ch('j')]);
    assert_eq!(h.state.cluster.selected, 3, "stops at the last line");
    h.quietly([ch('k')]);
    assert_eq!(h.state.cluster.selected, 2);
    h.quietly([ch('g')]);
    assert_eq!(h.state.cluster.selected, 0);
    h.quietly([ch('k'), press(KeyCode::Up)]);
    assert_eq!(h.state.cluster.selected, 0, "stops at the first line");
    h.quietly([ch('G')]);
    assert_eq!(h.state.cluster.selected, 3);
    h.quietly([press(KeyCode::Home), press(KeyCode::Down)]);
    assert_eq!(h.state.cluster.selected, 1);
}

#[test]
fn moving_in_an_empty_tree_stays_at_zero() {
    let mut h = Harness::new(false, 0);
    h.quietly([ch('j'), ch('G'), press(KeyCode::PageDown)]);
    assert_eq!(h.state.cluster.selected, 0);
}

#[test]
fn enter_and_l_expand_h_collapses_and_h_on_a_leaf_goes_to_the_parent() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([ch('j'), ch('l')]);
    assert_eq!(h.names(), ["monitoring", "shop", "db", "web"]);
    h.quietly([ch('j'), press(KeyCode::Enter)]);
    assert_eq!(h.selected_name(), "db");
    assert_eq!(
        h.names(),
        ["monitoring", "shop", "db", "db-0", "db-1", "db-2", "web"]
    );
    // Enter toggles an open line shut; l keeps it open.
    h.quietly([press(KeyCode::Enter)]);
    assert_eq!(h.names(), ["monitoring", "shop", "db", "web"]);
    h.quietly([ch('l'), ch('l')]);
    assert_eq!(h.names().len(), 7);
    // h on a leaf pod selects its workload, then h closes the workload.
    h.quietly([ch('j'), ch('j'), ch('j')]);
    assert_eq!(h.selected_name(), "db-2");
    h.quietly([ch('h')]);
    assert_eq!(h.selected_name(), "db");
    assert_eq!(h.names().len(), 7, "going to the parent closes nothing");
    h.quietly([ch('h')]);
    assert_eq!(h.names(), ["monitoring", "shop", "db", "web"]);
    assert_eq!(h.selected_name(), "db");
    // h on a closed workload goes to its namespace.
    h.quietly([ch('h')]);
    assert_eq!(h.selected_name(), "shop");
    h.quietly([ch('h')]);
    assert_eq!(h.names(), ["monitoring", "shop"]);
    // h on a closed top-level line does nothing.
    h.quietly([ch('h')]);
    assert_eq!(h.selected_name(), "shop");
    assert_eq!(h.names(), ["monitoring", "shop"]);
}

#[test]
fn expand_does_nothing_on_a_leaf() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([ch('j'), ch('l'), ch('G')]);
    // web has pods, so open it, go to a pod and try to expand it.
    h.quietly([ch('l'), ch('j')]);
    assert_eq!(h.selected_name(), "web-7c9d8f6b5-k8s7d");
    let before = h.names();
    h.quietly([ch('l'), press(KeyCode::Enter)]);
    assert_eq!(h.names(), before);
}

#[test]
fn the_selection_is_clamped_when_lines_disappear() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([ch('j'), ch('l'), ch('G')]);
    assert_eq!(h.state.cluster.selected, 3);
    h.quietly([Msg::Cluster(ClusterEvent::Deleted(
        Kind::Deployment,
        "shop".into(),
        "web".into(),
    ))]);
    assert_eq!(h.names(), ["monitoring", "shop", "db"]);
    assert_eq!(h.state.cluster.selected, 2);
    h.quietly([Msg::Cluster(ClusterEvent::Listed(Kind::Namespace, vec![]))]);
    assert!(h.names().is_empty());
    assert_eq!(h.state.cluster.selected, 0);
}

#[test]
fn h_and_l_are_not_cluster_moves_in_the_git_pane() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([press(KeyCode::Tab)]);
    // No history yet: l has no commit to open.
    h.quietly([ch('l'), ch('h')]);
    assert_eq!(h.names(), ["monitoring", "shop"]);
    assert!(h.state.git.diff.is_none());
}

// ── Git ──────────────────────────────────────────────────────────────────────

#[test]
fn moving_near_the_end_of_a_page_loads_the_next_one_once() {
    let mut h = Harness::new(false, 0);
    h.quietly([
        Msg::Git(GitEvent::Opened(repo("abc123"))),
        Msg::Git(GitEvent::Page {
            from: 0,
            commits: commits(0, PAGE),
            more: true,
        }),
        press(KeyCode::Tab),
    ]);
    assert_eq!(h.state.focus, Pane::Git);
    assert_eq!(h.state.git.link, Link::Up);
    // Far from the end: nothing to load.
    for _ in 0..(PAGE - 21) {
        h.quietly([ch('j')]);
    }
    assert_eq!(h.state.git.selected, PAGE - 21);
    assert!(!h.state.git.loading);
    // Twenty lines from the end: ask for the next page.
    let out = h.send(ch('j'));
    assert_eq!(out, [Command::LoadCommits { from: PAGE }]);
    assert!(h.state.git.loading);
    // While it loads, moving on does not ask again.
    h.quietly([ch('j'), ch('G'), ch('k')]);
    assert_eq!(h.state.git.selected, PAGE - 2);
    // The page arrives and is appended.
    h.quietly([Msg::Git(GitEvent::Page {
        from: PAGE,
        commits: commits(PAGE, 50),
        more: false,
    })]);
    assert_eq!(h.state.git.commits.len(), PAGE + 50);
    assert_eq!(h.state.git.commits[PAGE].summary, format!("commit {PAGE}"));
    assert!(!h.state.git.loading);
    assert!(!h.state.git.more);
    assert_eq!(h.state.git.selected, PAGE - 2, "the selection stays put");
    // The history ends: no more loads.
    h.quietly([ch('G'), ch('j')]);
    assert_eq!(h.state.git.selected, PAGE + 49);
}

#[test]
fn jumping_to_the_bottom_loads_the_next_page() {
    let mut h = Harness::new(false, 0);
    h.quietly([
        Msg::Git(GitEvent::Opened(repo("abc123"))),
        Msg::Git(GitEvent::Page {
            from: 0,
            commits: commits(0, PAGE),
            more: true,
        }),
        press(KeyCode::Tab),
    ]);
    assert_eq!(h.send(ch('G')), [Command::LoadCommits { from: PAGE }]);
    assert_eq!(h.state.git.selected, PAGE - 1);
}

#[test]
fn a_page_from_the_start_replaces_and_a_failure_stops_loading() {
    let mut h = Harness::new(false, 0);
    h.quietly([Msg::Git(GitEvent::Page {
        from: 0,
        commits: commits(0, 30),
        more: true,
    })]);
    h.state.git.loading = true;
    h.quietly([Msg::Git(GitEvent::Page {
        from: 0,
        commits: commits(100, 5),
        more: false,
    })]);
    assert_eq!(h.state.git.commits.len(), 5);
    assert_eq!(h.state.git.commits[0].summary, "commit 100");
    h.state.git.loading = true;
    h.quietly([Msg::Git(GitEvent::Failed("repository not found".into()))]);
    assert!(!h.state.git.loading);
    assert_eq!(h.state.git.link, Link::Down("repository not found".into()));
    assert_eq!(h.state.git.commits.len(), 5, "the last history stays");
}

#[test]
fn a_new_head_resets_the_history_and_the_same_head_keeps_it() {
    let mut h = Harness::new(false, 0);
    h.quietly([
        Msg::Git(GitEvent::Opened(repo("abc123"))),
        Msg::Git(GitEvent::Page {
            from: 0,
            commits: commits(0, 40),
            more: false,
        }),
        press(KeyCode::Tab),
        ch('j'),
        ch('j'),
    ]);
    assert_eq!(h.state.git.selected, 2);
    h.quietly([Msg::Git(GitEvent::Opened(repo("abc123")))]);
    assert_eq!(h.state.git.commits.len(), 40);
    assert_eq!(h.state.git.selected, 2);
    h.quietly([Msg::Git(GitEvent::Opened(repo("def456")))]);
    assert!(h.state.git.commits.is_empty());
    assert_eq!(h.state.git.selected, 0);
    assert_eq!(h.state.git.repo.as_ref().unwrap().head, "def456");
    assert_eq!(h.state.git.link, Link::Up, "up since the first page");
}

// ── Metrics ──────────────────────────────────────────────────────────────────

#[test]
fn brackets_in_the_metrics_pane_cycle_graphs_and_show_them() {
    let mut h = Harness::new(false, 3);
    let out = h.send(Msg::Resize(120, 40));
    assert_eq!(out, [show_graph(&h, 0, 42)]);
    h.quietly([press(KeyCode::Tab), press(KeyCode::Tab)]);
    assert_eq!(h.state.focus, Pane::Metrics);
    let mut shown = Vec::new();
    for _ in 0..3 {
        shown.extend(h.send(ch(']')));
    }
    assert_eq!(
        shown,
        [
            show_graph(&h, 1, 42),
            show_graph(&h, 2, 42),
            show_graph(&h, 0, 42),
        ]
    );
    assert_eq!(h.send(ch('[')), [show_graph(&h, 2, 42)]);
    assert_eq!(h.state.metrics.current, 2);
    // l and h work as in a pager.
    assert_eq!(h.send(ch('l')), [show_graph(&h, 0, 42)]);
    assert_eq!(h.send(ch('h')), [show_graph(&h, 2, 42)]);
}

#[test]
fn brackets_outside_the_metrics_pane_do_nothing() {
    let mut h = Harness::new(false, 3);
    h.state.dirty = false;
    h.quietly([ch(']'), ch('[')]);
    assert_eq!(h.state.metrics.current, 0);
    assert!(!h.state.dirty);
}

#[test]
fn brackets_without_graphs_emit_nothing() {
    let mut h = Harness::new(false, 0);
    h.quietly([press(KeyCode::Tab), press(KeyCode::Tab), ch(']'), ch('[')]);
    assert_eq!(h.state.metrics.current, 0);
}

#[test]
fn a_resize_asks_for_a_graph_only_when_the_plot_width_changes() {
    let mut h = Harness::new(false, 2);
    h.state.dirty = false;
    assert_eq!(h.send(Msg::Resize(120, 40)), [show_graph(&h, 0, 42)]);
    assert!(h.state.dirty);
    assert_eq!(h.state.metrics.width, 42);
    // Same width (taller, or one column more, which rounds to the same plot).
    h.quietly([Msg::Resize(120, 50), Msg::Resize(121, 40)]);
    assert_eq!(h.send(Msg::Resize(200, 40)), [show_graph(&h, 0, 78)]);
    // A tiny terminal still asks for a usable width.
    assert_eq!(h.send(Msg::Resize(20, 10)), [show_graph(&h, 0, 10)]);
}

#[test]
fn a_zoomed_metrics_pane_sizes_for_the_whole_width() {
    let mut h = Harness::new(false, 1);
    h.send(Msg::Resize(120, 40));
    h.quietly([press(KeyCode::Tab), press(KeyCode::Tab)]);
    assert_eq!(h.send(ch('z')), [show_graph(&h, 0, 108)]);
    assert_eq!(h.send(press(KeyCode::Esc)), [show_graph(&h, 0, 42)]);
    assert!(
        h.send(press(KeyCode::Esc)).is_empty(),
        "the same width asks for nothing"
    );
}

#[test]
fn a_resize_without_graphs_emits_nothing() {
    let mut h = Harness::new(false, 0);
    h.quietly([Msg::Resize(120, 40)]);
    assert!(h.state.dirty);
}

#[test]
fn metrics_data_is_shown_and_a_failure_marks_the_link_down() {
    let mut h = Harness::new(false, 2);
    let series = vec![Series {
        label: "pvc-1".into(),
        points: vec![(1.0, 2.0), (2.0, 3.0)],
    }];
    h.quietly([Msg::Metrics(MetricsEvent::Data {
        graph: 1,
        start: 0.0,
        end: 10.0,
        step: 15.0,
        series: series.clone(),
        left_out: 0,
    })]);
    assert_eq!(h.state.metrics.shown, Some(1));
    assert_eq!(h.state.metrics.series, series);
    assert_eq!((h.state.metrics.start, h.state.metrics.end), (0.0, 10.0));
    assert_eq!(h.state.metrics.link, Link::Up);
    h.quietly([Msg::Metrics(MetricsEvent::Failed("timeout".into()))]);
    assert_eq!(h.state.metrics.link, Link::Down("timeout".into()));
    assert_eq!(h.state.metrics.series, series, "stale data stays");
}

#[test]
fn r_refreshes_storage_and_the_current_graph() {
    let mut h = Harness::new(false, 2);
    h.send(Msg::Resize(100, 30));
    assert_eq!(
        h.send(ch('r')),
        [Command::RefreshStorage, show_graph(&h, 0, 33)]
    );
    let mut h = Harness::new(false, 0);
    assert_eq!(h.send(ch('r')), [Command::RefreshStorage]);
}

// ── Storage ──────────────────────────────────────────────────────────────────

pub(super) fn volumes(n: usize) -> Vec<VolumeRow> {
    (0..n)
        .map(|i| VolumeRow {
            id: format!("{i}"),
            name: format!("pvc-{i}"),
            size: 100,
            usage: 10,
            ha_level: 2,
            replicas: 2,
            state: "VOLUME_STATE_ATTACHED".into(),
            status: "UP".into(),
            ..Default::default()
        })
        .collect()
}

#[test]
fn storage_data_replaces_volumes_and_clamps_the_selection() {
    let mut h = Harness::new(false, 0);
    let cluster = PxCluster {
        name: "px-sim".into(),
        status: "STATUS_OK".into(),
    };
    h.quietly([
        Msg::Storage(StorageEvent::Data {
            nodes: Ok(vec![]),
            cluster: cluster.clone(),
            volumes: volumes(5),
        }),
        press(KeyCode::BackTab),
    ]);
    assert_eq!(h.state.focus, Pane::Storage);
    h.quietly([ch('G')]);
    assert_eq!(h.state.storage.selected, 4);
    h.quietly([Msg::Storage(StorageEvent::Data {
        nodes: Ok(vec![]),
        cluster: cluster.clone(),
        volumes: volumes(2),
    })]);
    assert_eq!(h.state.storage.volumes.len(), 2);
    assert_eq!(h.state.storage.selected, 1);
    assert_eq!(h.state.storage.cluster, Some(cluster));
    assert_eq!(h.state.storage.link, Link::Up);
    h.quietly([Msg::Storage(StorageEvent::Failed("gateway down".into()))]);
    assert_eq!(h.state.storage.link, Link::Down("gateway down".into()));
    assert_eq!(h.state.storage.volumes.len(), 2);
}

// ── Writes ───────────────────────────────────────────────────────────────────

fn restart_web() -> WriteIntent {
    WriteIntent::Restart {
        kind: Kind::Deployment,
        namespace: "shop".into(),
        name: "web".into(),
    }
}

#[test]
fn restart_asks_first_and_y_writes() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.select_web();
    assert_eq!(h.send(ch('R')), []);
    assert_eq!(
        h.state.confirm.as_ref().map(|c| &c.intent),
        Some(&restart_web())
    );
    assert!(h.state.pending.is_empty());
    // Keys other than yes or no leave the dialog open and do nothing else.
    h.quietly([ch('j'), press(KeyCode::Tab)]);
    assert!(h.state.confirm.is_some());
    assert_eq!(h.selected_name(), "web");
    assert_eq!(h.state.focus, Pane::Cluster);

    let out = h.send(ch('y'));
    assert_eq!(
        out,
        [Command::Write {
            id: 1,
            intent: restart_web()
        }]
    );
    assert!(h.state.confirm.is_none());
    assert_eq!(
        h.state.pending.get(&1).map(String::as_str),
        Some("restart deploy shop/web")
    );
    assert_eq!(h.state.next_id, 2);
}

#[test]
fn enter_confirms_and_ids_increase() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.select_web();
    h.quietly([ch('R')]);
    assert_eq!(
        h.send(press(KeyCode::Enter)),
        [Command::Write {
            id: 1,
            intent: restart_web()
        }]
    );
    // The StatefulSet next.
    h.quietly([ch('k'), ch('R')]);
    assert_eq!(
        h.send(ch('y')),
        [Command::Write {
            id: 2,
            intent: WriteIntent::Restart {
                kind: Kind::StatefulSet,
                namespace: "shop".into(),
                name: "db".into()
            }
        }]
    );
    assert_eq!(h.state.pending.len(), 2);
}

#[test]
fn n_esc_and_q_cancel_without_a_command() {
    for cancel in [ch('n'), press(KeyCode::Esc), ch('q')] {
        let mut h = Harness::new(false, 0).with_cluster();
        h.select_web();
        h.quietly([ch('R')]);
        assert!(h.state.confirm.is_some());
        let dbg = format!("{cancel:?}");
        assert_eq!(h.send(cancel), [], "{dbg}");
        assert!(h.state.confirm.is_none(), "{dbg}");
        assert!(h.state.pending.is_empty(), "{dbg}");
        assert!(!h.state.quit, "{dbg}: q in the dialog cancels, not quits");
        assert_eq!(h.state.flash, Some((true, "cancelled".into())), "{dbg}");
    }
}

#[test]
fn read_only_refuses_restart_before_asking() {
    let mut h = Harness {
        state: State::new(true, vec![], NOW),
        keymap: Keymap::default(),
    }
    .with_cluster();
    h.select_web();
    assert_eq!(h.send(ch('R')), []);
    assert!(h.state.confirm.is_none());
    assert!(h.state.pending.is_empty());
    let (ok, text) = h.state.flash.clone().expect("a refusal is shown");
    assert!(!ok);
    assert!(text.contains("read-only"), "{text}");
    // And y afterwards writes nothing (it opens the YAML view, a read).
    assert!(
        !h.send(ch('y'))
            .iter()
            .any(|c| matches!(c, Command::Write { .. }))
    );
}

#[test]
fn read_only_refuses_a_confirm_that_is_already_open() {
    // Belt and braces: even a dialog opened some other way cannot write.
    let mut h = Harness::new(true, 0);
    h.state.confirm = Some(super::state::Confirm {
        intent: restart_web(),
    });
    assert_eq!(h.send(ch('y')), []);
    assert!(h.state.pending.is_empty());
    assert!(h.state.flash.as_ref().unwrap().1.contains("read-only"));
}

#[test]
fn restart_on_something_that_is_not_a_workload_says_why() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.quietly([ch('j')]);
    assert_eq!(h.selected_name(), "shop");
    assert_eq!(h.send(ch('R')), []);
    assert!(h.state.confirm.is_none());
    let (ok, text) = h.state.flash.clone().unwrap();
    assert!(!ok);
    assert!(text.contains("select a Deployment"), "{text}");
    // A pod is not a workload either.
    h.quietly([ch('l'), ch('j'), ch('l'), ch('j')]);
    assert_eq!(h.selected_name(), "db-0");
    h.quietly([ch('R')]);
    assert!(h.state.confirm.is_none());
}

#[test]
fn restart_is_a_cluster_pane_key() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.select_web();
    h.quietly([press(KeyCode::Tab), ch('R')]);
    assert!(h.state.confirm.is_none());
    assert!(h.state.flash.is_none());
}

#[test]
fn done_clears_the_pending_entry_and_flashes_the_outcome() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.select_web();
    h.quietly([ch('R')]);
    h.send(ch('y'));
    h.quietly([ch('k'), ch('R')]);
    h.send(ch('y'));
    assert_eq!(h.state.pending.keys().copied().collect::<Vec<_>>(), [1, 2]);

    h.quietly([Msg::Done(1, Ok("restart deploy shop/web: done".into()))]);
    assert_eq!(h.state.pending.keys().copied().collect::<Vec<_>>(), [2]);
    assert_eq!(
        h.state.flash,
        Some((true, "restart deploy shop/web: done".into()))
    );

    h.quietly([Msg::Done(
        2,
        Err("restart sts shop/db failed: forbidden".into()),
    )]);
    assert!(h.state.pending.is_empty());
    assert_eq!(
        h.state.flash,
        Some((false, "restart sts shop/db failed: forbidden".into()))
    );
    // Esc clears the flash.
    h.quietly([press(KeyCode::Esc)]);
    assert_eq!(h.state.flash, None);
}

// ── Clock and redraws ────────────────────────────────────────────────────────

#[test]
fn tick_sets_the_clock_and_asks_for_a_redraw() {
    let mut h = Harness::new(false, 0);
    h.state.dirty = false;
    h.quietly([Msg::Tick(NOW + 60)]);
    assert_eq!(h.state.now, NOW + 60);
    assert!(h.state.dirty);
}

#[test]
fn an_unbound_key_does_not_ask_for_a_redraw() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.state.dirty = false;
    let before = (h.state.focus, h.state.cluster.selected, h.state.zoom);
    h.quietly([ch('x'), press(KeyCode::F(5))]);
    assert!(!h.state.dirty);
    assert_eq!(
        (h.state.focus, h.state.cluster.selected, h.state.zoom),
        before
    );
    h.quietly([ch('j')]);
    assert!(h.state.dirty);
}

/// Documents a reducer bug: an unbound key clears a redraw that earlier data asked for.
/// The render loop draws at most every 33 ms, so a watch event followed by a stray key
/// within a frame is never drawn until something else changes.
#[test]
fn an_unbound_key_keeps_a_redraw_already_asked_for() {
    let mut h = Harness::new(false, 0);
    h.state.dirty = false;
    h.quietly([Msg::Tick(NOW + 60)]);
    assert!(h.state.dirty);
    h.quietly([ch('x')]);
    assert!(h.state.dirty, "the tick's redraw was lost");
}

#[test]
fn the_first_frame_is_complete_once_every_source_has_answered() {
    let mut h = Harness::new(false, 1).with_cluster();
    assert!(!h.state.complete());
    h.quietly([
        Msg::Git(GitEvent::Failed("not a repository".into())),
        Msg::Storage(StorageEvent::Data {
            nodes: Ok(vec![]),
            cluster: PxCluster::default(),
            volumes: vec![],
        }),
    ]);
    assert!(!h.state.complete(), "metrics still connecting");
    h.quietly([Msg::Metrics(MetricsEvent::Data {
        graph: 0,
        start: 0.0,
        end: 1.0,
        step: 15.0,
        series: vec![],
        left_out: 0,
    })]);
    assert!(h.state.complete());
}

/// Documents a reducer limitation: the cluster selection is an index into the tree, so a
/// line appearing above it (a new namespace, a new workload) moves the selection onto a
/// different object. In a live view that changes under the cursor, `R` then targets
/// whatever slid into place (the dialog does name it).
#[test]
fn the_selection_follows_its_object_when_lines_appear_above() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.select_web();
    h.quietly([Msg::Cluster(ClusterEvent::Applied(row(
        Kind::Namespace,
        "",
        "auth",
    )))]);
    assert_eq!(h.names(), ["auth", "monitoring", "shop", "db", "web"]);
    assert_eq!(h.selected_name(), "web");
}

#[test]
fn an_unchanged_metrics_refresh_costs_no_frame_and_keeps_a_pending_one() {
    let mut h = Harness::new(false, 1);
    let data = || {
        Msg::Metrics(MetricsEvent::Data {
            graph: 0,
            start: 0.0,
            end: 43_200.0,
            step: 15.0,
            series: vec![Series {
                label: "pvc-1".into(),
                points: vec![(0.0, 1.0), (432.0, 2.0)],
            }],
            left_out: 0,
        })
    };
    h.send(data());
    assert!(h.state.dirty);
    h.state.dirty = false;
    h.send(data());
    assert!(!h.state.dirty, "the same points draw nothing");
    h.state.dirty = true;
    h.send(data());
    assert!(h.state.dirty, "a redraw asked for earlier still stands");
}

/// After `:ns` or `:ctx`, whatever the old watchers sent before they were stopped is
/// dropped when the new connection is announced.
#[test]
fn connecting_again_drops_rows_of_the_old_scope() {
    let mut s = State::new(false, vec![], 0);
    let km = Keymap::default();
    let connected = |ns: Option<&str>| {
        Msg::Cluster(ClusterEvent::Connected {
            context: "demo".into(),
            server: "https://127.0.0.1:16443".into(),
            namespace: ns.map(String::from),
        })
    };
    let ns_row = |name: &str| ObjRow {
        kind: Some(Kind::Namespace),
        name: name.into(),
        ..Default::default()
    };
    update(&mut s, &km, connected(None));
    update(
        &mut s,
        &km,
        Msg::Cluster(ClusterEvent::Listed(Kind::Namespace, vec![ns_row("old")])),
    );
    // A late message of the old scope, queued before the new connection.
    update(
        &mut s,
        &km,
        Msg::Cluster(ClusterEvent::Applied(ns_row("late"))),
    );
    update(&mut s, &km, connected(Some("shop")));
    assert!(s.cluster.rows.is_empty());
    assert!(s.cluster.kinds.is_empty());
    update(
        &mut s,
        &km,
        Msg::Cluster(ClusterEvent::Listed(Kind::Namespace, vec![ns_row("shop")])),
    );
    let names: Vec<&str> = s.cluster.rows.values().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["shop"]);
}

// ── Git: marks, working tree, diff viewer ────────────────────────────────────

fn synced(commit: &str) -> Msg {
    Msg::Git(GitEvent::Synced(Some(crate::engine::record::SyncRecord {
        commit: commit.into(),
        path: "apps".into(),
        synced_at: "2024-05-01T10:00:00Z".into(),
        synced_by: "ada".into(),
        ..Default::default()
    })))
}

/// Git focused, 40 commits loaded, the terminal 200 x 50.
pub(super) fn git_harness() -> Harness {
    let mut h = Harness::new(false, 0);
    h.quietly([
        Msg::Resize(200, 50),
        Msg::Git(GitEvent::Opened(repo("abc123"))),
        Msg::Git(GitEvent::Page {
            from: 0,
            commits: commits(0, 40),
            more: false,
        }),
        press(KeyCode::Tab),
    ]);
    h
}

const DIFF: &str = "\
diff --git a/apps/db.yaml b/apps/db.yaml
index 1111111..2222222 100644
--- a/apps/db.yaml
+++ b/apps/db.yaml
@@ -1,3 +1,3 @@
 kind: StatefulSet
-replicas: 1
+replicas: 3
 name: db
diff --git a/apps/web.yaml b/apps/web.yaml
index 3333333..4444444 100644
--- a/apps/web.yaml
+++ b/apps/web.yaml
@@ -1,2 +1,2 @@
-image: web:1
+image: web:2
 name: web
";

/// A diff of `n` one-line files, for scrolling.
fn long_diff(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!("diff --git a/f{i}.yaml b/f{i}.yaml\n--- a/f{i}.yaml\n+++ b/f{i}.yaml\n@@ -1 +1 @@\n-a: {i}\n+a: {}\n", i + 1)
        })
        .collect()
}

/// Presses `key` to open the selected entry's diff; returns what it asked for.
fn open(h: &mut Harness, key: Msg) -> DiffTarget {
    match h.send(key).as_slice() {
        [Command::LoadDiff(t)] => t.clone(),
        other => panic!("expected one LoadDiff, got {other:?}"),
    }
}

fn diff_arrives(target: DiffTarget, text: &str) -> Msg {
    Msg::Git(GitEvent::Diff {
        target,
        result: Ok(std::sync::Arc::new(Diff::parse(text.into()))),
    })
}

#[test]
fn the_git_pane_is_complete_with_its_first_page_not_its_head() {
    let mut h = Harness::new(false, 0);
    h.quietly([Msg::Git(GitEvent::Opened(repo("abc123")))]);
    assert_eq!(h.state.git.link, Link::Connecting);
    h.quietly([Msg::Git(GitEvent::Page {
        from: 0,
        commits: Vec::new(),
        more: false,
    })]);
    assert_eq!(h.state.git.link, Link::Up, "an empty history is an answer");
}

#[test]
fn the_synced_commit_is_found_when_its_page_arrives_or_when_it_is_recorded() {
    let mut h = Harness::new(false, 0);
    let id = |i: usize| format!("{i:040x}");
    // Recorded before the history is loaded.
    h.quietly([synced(&id(5)), Msg::Git(GitEvent::Opened(repo("abc123")))]);
    assert_eq!(h.state.git.synced_row, None);
    h.quietly([Msg::Git(GitEvent::Page {
        from: 0,
        commits: commits(0, 10),
        more: true,
    })]);
    assert_eq!(h.state.git.synced_row, Some(5), "five commits are pending");
    // A later sync moves it; a commit not loaded yet is not found.
    h.quietly([synced(&id(2))]);
    assert_eq!(h.state.git.synced_row, Some(2));
    h.quietly([synced(&id(30))]);
    assert_eq!(h.state.git.synced_row, None);
    h.quietly([Msg::Git(GitEvent::Page {
        from: 10,
        commits: commits(10, 30),
        more: false,
    })]);
    assert_eq!(h.state.git.synced_row, Some(30));
    h.quietly([Msg::Git(GitEvent::Synced(None))]);
    assert_eq!(h.state.git.synced_row, None);
}

#[test]
fn the_working_tree_entry_comes_first_and_the_cursor_keeps_its_commit() {
    let mut h = git_harness();
    h.quietly([ch('j'), ch('j')]);
    assert_eq!(h.state.git.selected, 2);
    h.quietly([Msg::Git(GitEvent::WorkTree(3))]);
    assert_eq!(h.state.git.entries(), 41);
    assert_eq!(h.state.git.selected, 3, "still on commit 2");
    assert_eq!(
        h.state.git.entry(0),
        Some(crate::app::state::Entry::WorkTree(3))
    );
    // A new count keeps the cursor; a clean tree removes the entry.
    h.quietly([Msg::Git(GitEvent::WorkTree(4))]);
    assert_eq!(h.state.git.selected, 3);
    h.quietly([Msg::Git(GitEvent::WorkTree(0))]);
    assert_eq!(h.state.git.selected, 2);
    assert_eq!(h.state.git.entries(), 40);
    // At the top, the entry that appears is selected and opens the tree's diff.
    h.quietly([ch('g'), Msg::Git(GitEvent::WorkTree(1))]);
    assert_eq!(h.state.git.selected, 0);
    assert_eq!(
        h.send(press(KeyCode::Enter)),
        [Command::LoadDiff(DiffTarget::WorkTree)]
    );
    assert_eq!(
        h.state.git.diff.as_ref().unwrap().title,
        "working tree (1 files)"
    );
}

#[test]
fn the_next_page_is_asked_for_by_commits_not_entries() {
    let mut h = Harness::new(false, 0);
    h.quietly([
        Msg::Git(GitEvent::Opened(repo("abc123"))),
        Msg::Git(GitEvent::WorkTree(2)),
        Msg::Git(GitEvent::Page {
            from: 0,
            commits: commits(0, PAGE),
            more: true,
        }),
        press(KeyCode::Tab),
    ]);
    assert_eq!(h.send(ch('G')), [Command::LoadCommits { from: PAGE }]);
    assert_eq!(
        h.state.git.selected, PAGE,
        "the last commit, below the entry"
    );
}

#[test]
fn enter_opens_a_commit_diff_and_only_its_own_result_fills_it() {
    let mut h = git_harness();
    h.quietly([ch('j')]);
    let id = format!("{:040x}", 1);
    assert_eq!(
        h.send(press(KeyCode::Enter)),
        [Command::LoadDiff(DiffTarget::Commit(id.clone()))]
    );
    let v = h.state.git.diff.as_ref().unwrap();
    assert_eq!(v.title, format!("{} commit 1", &id[..7]));
    assert!(v.diff.is_none());
    // Enter again while open asks for nothing.
    h.quietly([press(KeyCode::Enter)]);
    // A late answer for another commit is dropped.
    h.quietly([diff_arrives(DiffTarget::Commit("f".repeat(40)), DIFF)]);
    assert!(h.state.git.diff.as_ref().unwrap().diff.is_none());
    h.quietly([diff_arrives(DiffTarget::Commit(id), DIFF)]);
    let d = h
        .state
        .git
        .diff
        .as_ref()
        .unwrap()
        .diff
        .clone()
        .unwrap()
        .unwrap();
    assert_eq!(d.files.len(), 2);
    // j scrolls the diff, not the history; this one fits the pane, so it stays.
    h.quietly([ch('j'), ch('j')]);
    assert_eq!(h.state.git.diff.as_ref().unwrap().top, 0);
    assert_eq!(h.state.git.selected, 1);
    // An error is kept to be shown.
    h.quietly([press(KeyCode::Esc)]);
    open(&mut h, ch('l'));
    h.quietly([Msg::Git(GitEvent::Diff {
        target: DiffTarget::Commit(format!("{:040x}", 1)),
        result: Err("object not found".into()),
    })]);
    assert!(matches!(
        h.state.git.diff.as_ref().unwrap().diff,
        Some(Err(ref e)) if e == "object not found"
    ));
}

#[test]
fn esc_and_h_close_the_diff_before_anything_else() {
    let mut h = git_harness();
    h.quietly([ch('z')]);
    open(&mut h, press(KeyCode::Enter));
    assert!(h.state.zoom);
    h.quietly([press(KeyCode::Esc)]);
    assert!(h.state.git.diff.is_none());
    assert!(h.state.zoom, "the first Esc only closes the diff");
    h.quietly([press(KeyCode::Esc)]);
    assert!(!h.state.zoom);
    open(&mut h, ch('l'));
    h.quietly([ch('h')]);
    assert!(h.state.git.diff.is_none());
    open(&mut h, press(KeyCode::Right));
    h.quietly([press(KeyCode::Left)]);
    assert!(h.state.git.diff.is_none());
}

#[test]
fn scrolling_a_diff_stops_at_its_last_screenful() {
    let mut h = git_harness();
    let target = open(&mut h, press(KeyCode::Enter));
    h.quietly([diff_arrives(target, &long_diff(100))]);
    let top = |h: &Harness| h.state.git.diff.as_ref().unwrap().top;
    // Unzoomed in 200 x 50: the pane is 26 high, 24 rows of diff.
    let len = 101 + 600;
    h.quietly([ch('G')]);
    assert_eq!(top(&h), len - 24);
    h.quietly([ch('k')]);
    assert_eq!(top(&h), len - 25, "k moves at once after G");
    h.quietly([ch('g'), press(KeyCode::PageDown)]);
    assert_eq!(top(&h), 24, "a page is a screenful");
    h.quietly([press(KeyCode::PageUp), press(KeyCode::PageUp)]);
    assert_eq!(top(&h), 0);
    // ] and [ go from file header to file header.
    h.quietly([ch(']')]);
    assert_eq!(top(&h), 101);
    h.quietly([ch(']'), ch(']')]);
    assert_eq!(top(&h), 101 + 12);
    h.quietly([ch('[')]);
    assert_eq!(top(&h), 101 + 6);
    h.quietly([ch('G'), ch(']')]);
    assert_eq!(top(&h), len - 24, "no file after the last");
}

#[test]
fn side_by_side_scrolls_by_rows_and_w_keeps_the_place() {
    let mut h = git_harness();
    // Zoomed in 200 columns the pane is wide enough for two columns.
    h.quietly([ch('z')]);
    let target = open(&mut h, press(KeyCode::Enter));
    assert!(h.state.git.split_at(200));
    h.quietly([diff_arrives(target, &long_diff(100))]);
    let top = |h: &Harness| h.state.git.diff.as_ref().unwrap().top;
    // Each file is 5 rows side by side (its -/+ pair shares one), 6 unified.
    h.quietly([ch(']'), ch(']')]);
    assert_eq!(top(&h), 101 + 6);
    for _ in 0..5 {
        h.quietly([ch('j')]);
    }
    assert_eq!(top(&h), 101 + 12, "five rows down is the next file");
    h.quietly([ch('j'), ch('j'), ch('j'), ch('j')]);
    assert_eq!(top(&h), 101 + 12 + 4, "the pair's row is its removed line");
    h.quietly([ch('w')]);
    assert!(!h.state.git.split);
    assert_eq!(top(&h), 101 + 12 + 4);
    h.quietly([ch('j')]);
    assert_eq!(top(&h), 101 + 12 + 5, "unified: the added line on its own");
    // G: the last screenful (47 rows of 601) starts at file 90's hunk header.
    h.quietly([ch('w'), ch('G')]);
    assert_eq!(top(&h), 101 + 90 * 6 + 3);
}

// ── GitOps: sync preview, drift, roll back, commit, push ─────────────────────

use crate::engine::plan::fixtures::{PLANNED, step};

/// A web image bump, a config map changed by hand, and a leftover to prune.
fn plan() -> Plan {
    let mut conflict = step(
        "v1",
        "ConfigMap",
        "settings",
        PlanAction::Conflict,
        "-  level: debug\n+  level: info\n",
    );
    conflict.message = Some("conflict with \"ops-console\": .data.level".into());
    Plan {
        app: "shop".into(),
        commit: PLANNED.into(),
        path: "apps".into(),
        steps: vec![
            step(
                "apps/v1",
                "Deployment",
                "web",
                PlanAction::Update,
                "-        image: web:1\n+        image: web:2\n",
            ),
            conflict,
            step("v1", "ConfigMap", "old", PlanAction::Prune, "-data: {}\n"),
            step("v1", "Service", "web", PlanAction::Unchanged, ""),
        ],
        errors: Vec::new(),
    }
}

fn planned(p: Plan) -> Msg {
    Msg::Sync(SyncEvent::Planned {
        rev: p.commit.clone(),
        result: Ok(Box::new(p)),
    })
}

fn sync_intent(prune: bool, force: bool) -> WriteIntent {
    WriteIntent::Sync {
        plan: Box::new(plan()),
        prune,
        force,
        snapshot_first: true,
    }
}

/// A preview of `plan()` open in a harness with a repository and a cluster.
pub(super) fn previewing(read_only: bool) -> Harness {
    let mut h = Harness::new(read_only, 0).with_cluster();
    h.quietly([Msg::Git(GitEvent::Opened(repo("abc123"))), planned(plan())]);
    assert!(h.state.sync.preview.is_some());
    h
}

fn drift(kind: &str, name: &str, mark: Mark) -> Drift {
    Drift {
        kind: kind.into(),
        namespace: "shop".into(),
        name: name.into(),
        mark,
        changes: Vec::new(),
    }
}

fn assert_refused(h: &Harness, what: &str) {
    let (ok, text) = h
        .state
        .flash
        .clone()
        .unwrap_or_else(|| panic!("{what}: no flash"));
    assert!(!ok, "{what}");
    assert!(text.contains("read-only"), "{what}: {text}");
}

#[test]
fn s_plans_head_outside_the_git_pane_and_waits_for_the_plan() {
    let mut h = Harness::new(false, 0).with_cluster();
    assert_eq!(h.send(ch('s')), [Command::PlanSync { rev: "HEAD".into() }]);
    assert_eq!(
        h.state.sync.waiting.as_deref(),
        Some("planning a sync of HEAD")
    );
    assert!(h.state.pending.is_empty(), "a plan is a read, not a write");

    // With history loaded and a commit selected in the git pane, another pane still
    // syncs HEAD: the selection only counts while the git pane has the focus.
    let mut h = git_harness();
    h.quietly([ch('j'), ch('j'), press(KeyCode::Tab)]);
    assert_eq!(h.state.focus, Pane::Metrics);
    assert_eq!(h.send(ch('s')), [Command::PlanSync { rev: "HEAD".into() }]);
}

#[test]
fn s_in_the_git_pane_plans_the_selected_commit() {
    let mut h = git_harness();
    h.quietly([ch('j'), ch('j')]);
    let sha = commits(0, 40)[2].id.clone();
    assert_eq!(h.send(ch('s')), [Command::PlanSync { rev: sha.clone() }]);
    assert_eq!(
        h.state.sync.waiting,
        Some(format!("planning a sync of {}", &sha[..8]))
    );
    // The working-tree entry is no commit: HEAD.
    let mut h = git_harness();
    h.quietly([Msg::Git(GitEvent::WorkTree(3))]);
    assert_eq!(h.state.git.selected, 0);
    assert_eq!(h.send(ch('s')), [Command::PlanSync { rev: "HEAD".into() }]);
}

#[test]
fn a_plan_opens_the_preview_and_a_failed_plan_flashes() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.send(ch('s'));
    h.quietly([planned(plan())]);
    let p = h.state.sync.preview.as_ref().expect("the preview is open");
    assert_eq!(p.plan, plan());
    assert_eq!((p.scroll, p.prune, p.running), (0, false, None));
    assert!(p.log.is_empty() && p.finished.is_none());
    assert_eq!(h.state.sync.waiting, None);

    let mut h = Harness::new(false, 0).with_cluster();
    h.send(ch('s'));
    h.quietly([Msg::Sync(SyncEvent::Planned {
        rev: PLANNED.into(),
        result: Err("manifests: apps/web.yaml:3: bad indent".into()),
    })]);
    assert!(h.state.sync.preview.is_none());
    assert_eq!(h.state.sync.waiting, None);
    assert_eq!(
        h.state.flash,
        Some((
            false,
            "cannot plan abcdef12: manifests: apps/web.yaml:3: bad indent".into()
        ))
    );
}

#[test]
fn the_preview_takes_the_keys_and_scrolls_with_j_k_g_and_shift_g() {
    let mut h = previewing(false);
    let last = preview_lines(h.state.sync.preview.as_ref().unwrap()).len() - 1;
    assert!(last > 5, "the plan needs more than a few lines");
    let scroll = |h: &Harness| h.state.sync.preview.as_ref().unwrap().scroll;
    h.quietly([ch('k')]);
    assert_eq!(scroll(&h), 0, "k stops at the top");
    h.quietly([ch('j'), ch('j'), press(KeyCode::Down)]);
    assert_eq!(scroll(&h), 3);
    h.quietly([ch('k')]);
    assert_eq!(scroll(&h), 2);
    h.quietly([ch('G')]);
    assert_eq!(scroll(&h), last);
    h.quietly([ch('j')]);
    assert_eq!(scroll(&h), last, "j stops at the last line");
    h.quietly([ch('g')]);
    assert_eq!(scroll(&h), 0);
    // Keys the panes would take do nothing under the preview.
    let before = (h.state.focus, h.state.cluster.selected);
    h.quietly([press(KeyCode::Tab), ch('s'), ch('c'), ch('P')]);
    assert_eq!((h.state.focus, h.state.cluster.selected), before);
    assert!(h.state.confirm.is_none() && h.state.sync.waiting.is_none());
}

#[test]
fn p_toggles_prune_and_y_applies_the_plan_as_shown() {
    let mut h = previewing(false);
    h.quietly([ch('p')]);
    assert!(h.state.sync.preview.as_ref().unwrap().prune);
    h.quietly([ch('p'), ch('p')]);
    assert_eq!(
        h.send(ch('y')),
        [Command::Write {
            id: 1,
            intent: sync_intent(true, false)
        }]
    );
    let p = h.state.sync.preview.as_ref().unwrap();
    assert_eq!(p.running, Some(1));
    assert_eq!(
        h.state.pending.get(&1).map(String::as_str),
        Some("sync abcdef12")
    );
    // Running: no second apply, no prune change, and the window stays open.
    h.quietly([
        ch('y'),
        ch('f'),
        ch('p'),
        press(KeyCode::Esc),
        ch('q'),
        ch('n'),
    ]);
    let p = h
        .state
        .sync
        .preview
        .as_ref()
        .expect("a running sync keeps its window");
    assert!(p.prune);
    assert_eq!(p.running, Some(1));
    assert!(!h.state.quit);
}

#[test]
fn f_applies_taking_the_conflicting_fields() {
    let mut h = previewing(false);
    assert_eq!(
        h.send(ch('f')),
        [Command::Write {
            id: 1,
            intent: sync_intent(false, true)
        }]
    );
    assert_eq!(h.state.sync.preview.as_ref().unwrap().running, Some(1));
}

#[test]
fn esc_q_and_n_close_a_preview_that_is_not_running() {
    for close in [press(KeyCode::Esc), ch('q'), ch('n')] {
        let dbg = format!("{close:?}");
        let mut h = previewing(false);
        h.quietly([close]);
        assert!(h.state.sync.preview.is_none(), "{dbg}");
        assert!(!h.state.quit, "{dbg}: q closes the preview, not sextant");
        assert!(h.state.pending.is_empty(), "{dbg}");
    }
}

#[test]
fn progress_of_the_running_sync_is_appended_and_other_ids_are_ignored() {
    let mut h = previewing(false);
    h.send(ch('y'));
    // Before the sync runs, progress for nobody changes nothing.
    h.quietly([
        Msg::Sync(SyncEvent::Progress(
            1,
            "update Deployment shop/web: applied".into(),
        )),
        Msg::Sync(SyncEvent::Progress(2, "restart: not this window".into())),
        Msg::Sync(SyncEvent::Progress(
            1,
            "rollout Deployment shop/web: done".into(),
        )),
    ]);
    let p = h.state.sync.preview.as_ref().unwrap();
    assert_eq!(
        p.log,
        [
            "update Deployment shop/web: applied",
            "rollout Deployment shop/web: done"
        ]
    );
    assert_eq!(
        p.scroll,
        preview_lines(p).len() - 1,
        "the window follows the log"
    );
    assert!(preview_lines(p).contains(&"  rollout Deployment shop/web: done".to_string()));
}

#[test]
fn progress_without_a_running_sync_is_dropped() {
    let mut h = previewing(false);
    h.quietly([Msg::Sync(SyncEvent::Progress(1, "stray".into()))]);
    assert!(h.state.sync.preview.as_ref().unwrap().log.is_empty());
}

#[test]
fn done_finishes_its_sync_and_checks_drift_again() {
    let mut h = previewing(false);
    h.send(ch('y'));
    // Another write's outcome: the sync keeps running and drift is not asked for.
    assert_eq!(h.send(Msg::Done(7, Ok("push: done".into()))), []);
    assert_eq!(h.state.sync.preview.as_ref().unwrap().running, Some(1));
    assert_eq!(
        h.send(Msg::Done(1, Ok("synced abcdef12".into()))),
        [Command::CheckDrift]
    );
    let p = h.state.sync.preview.as_ref().expect("the result is shown");
    assert_eq!(p.running, None);
    assert_eq!(p.finished, Some(Ok("synced abcdef12".into())));
    assert_eq!(p.scroll, preview_lines(p).len() - 1);
    assert_eq!(preview_lines(p).last().unwrap(), "done: synced abcdef12");
    assert!(h.state.pending.is_empty());
    // Finished: y does not apply it twice; Esc closes.
    assert_eq!(h.send(ch('y')), []);
    h.quietly([press(KeyCode::Esc)]);
    assert!(h.state.sync.preview.is_none());

    // A failed sync is shown as such, and drift is checked all the same.
    let mut h = previewing(false);
    h.send(ch('f'));
    let failed = "sync abcdef12 failed: forbidden".to_string();
    assert_eq!(
        h.send(Msg::Done(1, Err(failed.clone()))),
        [Command::CheckDrift]
    );
    let p = h.state.sync.preview.as_ref().unwrap();
    assert_eq!(p.finished, Some(Err(failed.clone())));
    assert_eq!(h.state.flash, Some((false, failed)));
}

#[test]
fn read_only_refuses_every_gitops_key_before_asking() {
    let base = || {
        let mut h = Harness::new(true, 0).with_cluster();
        h.quietly([
            Msg::Git(GitEvent::Opened(repo("abc123"))),
            Msg::Git(GitEvent::Page {
                from: 0,
                commits: commits(0, 5),
                more: false,
            }),
        ]);
        h
    };
    // (what, keys to get there, the key)
    let cases: [(&str, Vec<Msg>, Msg); 6] = [
        ("s in the cluster pane", vec![], ch('s')),
        ("s in the git pane", vec![press(KeyCode::Tab)], ch('s')),
        (
            "r in the git pane",
            vec![press(KeyCode::Tab), ch('j')],
            ch('r'),
        ),
        ("c", vec![], ch('c')),
        ("P", vec![], ch('P')),
        ("e on a row", vec![ch('j')], ch('e')),
    ];
    for (what, before, key) in cases {
        let mut h = base();
        h.quietly(before);
        assert_eq!(h.send(key), [], "{what}");
        assert_refused(&h, what);
        assert!(h.state.confirm.is_none(), "{what}");
        assert!(h.state.sync.preview.is_none(), "{what}");
        assert!(h.state.sync.commit.is_none(), "{what}");
        assert!(h.state.sync.waiting.is_none(), "{what}");
        assert!(h.state.pending.is_empty(), "{what}");
    }
}

#[test]
fn read_only_refuses_y_and_f_in_a_preview_that_is_open_anyway() {
    for key in ['y', 'f'] {
        let mut h = previewing(true);
        assert_eq!(h.send(ch(key)), [], "{key}");
        assert_refused(&h, &key.to_string());
        assert_eq!(h.state.sync.preview.as_ref().unwrap().running, None);
        assert!(h.state.pending.is_empty());
    }
}

#[test]
fn r_in_the_git_pane_asks_to_roll_back_the_selected_commit() {
    let mut h = git_harness();
    h.quietly([ch('j'), ch('r')]);
    let c = &commits(0, 40)[1];
    let revert = WriteIntent::Revert {
        sha: c.id.clone(),
        subject: "commit 1".into(),
        restore: Vec::new(),
    };
    assert_eq!(h.state.confirm.as_ref().map(|c| &c.intent), Some(&revert));
    assert!(h.state.pending.is_empty());
    assert_eq!(
        h.send(ch('y')),
        [Command::Write {
            id: 1,
            intent: revert
        }]
    );
    // The working tree is no commit to roll back.
    let mut h = git_harness();
    h.quietly([Msg::Git(GitEvent::WorkTree(1)), ch('r')]);
    assert!(h.state.confirm.is_none());
    let (ok, text) = h.state.flash.clone().unwrap();
    assert!(!ok && text.contains("select a commit"), "{text}");
}

#[test]
fn c_lists_the_changes_and_a_clean_tree_has_nothing_to_commit() {
    let mut h = Harness::new(false, 0);
    assert_eq!(h.send(ch('c')), [Command::ListChanges]);
    assert_eq!(
        h.state.sync.waiting.as_deref(),
        Some("listing changed files")
    );
    h.quietly([Msg::Sync(SyncEvent::Changes(Ok(vec![])))]);
    assert!(h.state.sync.commit.is_none());
    assert_eq!(h.state.sync.waiting, None);
    let (ok, text) = h.state.flash.clone().unwrap();
    assert!(ok && text.starts_with("nothing to commit"), "{text}");

    h.send(ch('c'));
    h.quietly([Msg::Sync(SyncEvent::Changes(Err(
        "/srv/gitops: not a repository".into(),
    )))]);
    assert!(h.state.sync.commit.is_none());
    assert_eq!(
        h.state.flash,
        Some((false, "/srv/gitops: not a repository".into()))
    );
}

#[test]
fn the_commit_dialog_takes_a_message_and_enter_commits_it() {
    let files: Vec<super::msg::RepoPath> = vec!["apps/web.yaml".into(), "apps/db.yaml".into()];
    let mut h = Harness::new(false, 0).with_cluster();
    h.send(ch('c'));
    h.quietly([Msg::Sync(SyncEvent::Changes(Ok(files.clone())))]);
    let d = h.state.sync.commit.as_ref().expect("the dialog is open");
    assert_eq!(d.files, files);
    assert_eq!(d.message, "");
    // No message, or only blanks: Enter does nothing.
    h.quietly([press(KeyCode::Enter), ch(' '), press(KeyCode::Enter)]);
    assert_eq!(h.state.sync.commit.as_ref().unwrap().message, " ");
    h.quietly([press(KeyCode::Backspace)]);
    // Letters that are keys elsewhere are typed (q does not quit, s does not sync).
    let message = "quiet sync: Pods";
    h.quietly(message.chars().map(ch));
    assert!(!h.state.quit);
    assert_eq!(h.state.sync.commit.as_ref().unwrap().message, message);
    assert_eq!(
        h.send(press(KeyCode::Enter)),
        [Command::Write {
            id: 1,
            intent: WriteIntent::Commit {
                files: files.clone(),
                message: message.into(),
                head: None,
            }
        }]
    );
    assert!(h.state.sync.commit.is_none());
    assert_eq!(h.state.pending.get(&1).map(String::as_str), Some("commit"));

    // Esc drops the dialog and its message.
    h.send(ch('c'));
    h.quietly([Msg::Sync(SyncEvent::Changes(Ok(files))), ch('x')]);
    h.quietly([press(KeyCode::Esc)]);
    assert!(h.state.sync.commit.is_none());
    assert_eq!(h.state.next_id, 2);
}

#[test]
fn shift_p_asks_to_push_and_y_pushes() {
    let mut h = Harness::new(false, 0);
    h.quietly([ch('P')]);
    assert_eq!(
        h.state.confirm.as_ref().map(|c| &c.intent),
        Some(&WriteIntent::Push)
    );
    assert_eq!(
        h.send(ch('y')),
        [Command::Write {
            id: 1,
            intent: WriteIntent::Push
        }]
    );
}

#[test]
fn e_edits_the_selected_object_in_the_cluster_pane_only() {
    let mut h = Harness::new(false, 0).with_cluster();
    h.select_web();
    assert_eq!(
        h.send(ch('e')),
        [Command::Edit {
            key: (Kind::Deployment, "shop".into(), "web".into())
        }]
    );
    h.quietly([press(KeyCode::Tab), ch('e')]);
}

#[test]
fn drift_sets_the_marks_and_the_count() {
    let mut h = Harness::new(false, 0).with_cluster();
    assert_eq!(h.state.sync.drift_count(), 0);
    h.quietly([Msg::Sync(SyncEvent::Drift(Ok(vec![
        drift("Deployment", "web", Mark::Synced),
        drift("StatefulSet", "db", Mark::Drifted),
        drift("PersistentVolumeClaim", "data-db-0", Mark::Missing),
    ])))]);
    let mark = |h: &Harness, kind, name: &str| {
        h.state
            .sync
            .mark(&(kind, "shop".into(), name.into()))
            .map(|d| d.mark)
    };
    assert_eq!(mark(&h, Kind::Deployment, "web"), Some(Mark::Synced));
    assert_eq!(mark(&h, Kind::StatefulSet, "db"), Some(Mark::Drifted));
    assert_eq!(mark(&h, Kind::Pvc, "data-db-0"), Some(Mark::Missing));
    assert_eq!(
        mark(&h, Kind::Deployment, "db"),
        None,
        "kind is part of the key"
    );
    assert_eq!(h.state.sync.drift_count(), 2);

    // A failed check keeps the last marks and says why.
    h.quietly([Msg::Sync(SyncEvent::Drift(Err(
        "sync record: forbidden".into()
    )))]);
    assert_eq!(
        h.state.sync.drift_error.as_deref(),
        Some("sync record: forbidden")
    );
    assert_eq!(mark(&h, Kind::StatefulSet, "db"), Some(Mark::Drifted));
    // A new report replaces the old one whole.
    let fixed = vec![drift("StatefulSet", "db", Mark::Synced)];
    h.quietly([Msg::Sync(SyncEvent::Drift(Ok(fixed.clone())))]);
    assert_eq!(h.state.sync.drift_error, None);
    assert_eq!(h.state.sync.drift_count(), 0);
    assert_eq!(mark(&h, Kind::Deployment, "web"), None);
    // The same report again costs no frame.
    h.state.dirty = false;
    h.quietly([Msg::Sync(SyncEvent::Drift(Ok(fixed)))]);
    assert!(!h.state.dirty);
}

#[test]
fn a_change_to_a_tracked_object_checks_drift_and_others_do_not() {
    let mut h = Harness::new(false, 0).with_cluster();
    let web = row(Kind::Deployment, "shop", "web");
    // Nothing is tracked before drift is known.
    h.quietly([Msg::Cluster(ClusterEvent::Applied(web.clone()))]);
    h.quietly([Msg::Sync(SyncEvent::Drift(Ok(vec![
        drift("Deployment", "web", Mark::Synced),
        drift("PersistentVolumeClaim", "data-db-0", Mark::Synced),
    ])))]);
    assert_eq!(
        h.send(Msg::Cluster(ClusterEvent::Applied(web))),
        [Command::CheckDrift]
    );
    assert_eq!(
        h.send(Msg::Cluster(ClusterEvent::Applied(row(
            Kind::Pvc,
            "shop",
            "data-db-0"
        )))),
        [Command::CheckDrift]
    );
    for untracked in [
        row(Kind::Deployment, "shop", "api"),
        row(Kind::Deployment, "monitoring", "web"),
        row(Kind::StatefulSet, "shop", "web"),
        row(Kind::Pod, "shop", "web-7c9d8f6b5-x2x9q"),
    ] {
        let dbg = format!("{untracked:?}");
        assert_eq!(
            h.send(Msg::Cluster(ClusterEvent::Applied(untracked))),
            [],
            "{dbg}"
        );
    }
    assert_eq!(
        h.send(Msg::Cluster(ClusterEvent::Deleted(
            Kind::Deployment,
            "shop".into(),
            "web".into()
        ))),
        [Command::CheckDrift]
    );
    assert_eq!(
        h.send(Msg::Cluster(ClusterEvent::Deleted(
            Kind::Pod,
            "shop".into(),
            "db-0".into()
        ))),
        []
    );
}

#[test]
fn tick_checks_drift_only_with_a_repository() {
    let mut h = Harness::new(false, 0);
    h.quietly([Msg::Tick(NOW + 60)]);
    h.quietly([Msg::Git(GitEvent::Opened(repo("abc123")))]);
    assert_eq!(h.send(Msg::Tick(NOW + 120)), [Command::CheckDrift]);
}

/// The query the reducer asks for: panel `graph`, unscoped, at the current range.
fn show_graph(h: &Harness, graph: usize, width: u16) -> Command {
    let g = &h.state.metrics.graphs[graph];
    let all = |k: &str| (k.to_string(), ".*".to_string());
    Command::ShowGraph(crate::sources::prometheus::GraphView {
        index: graph,
        query: crate::sources::prometheus::expand(
            &g.query,
            &[all("namespace"), all("pod"), all("volume")],
        ),
        label: g.label.clone(),
        unit: g.unit,
        width,
        range: crate::app::state::RANGES[h.state.metrics.range],
    })
}

#[test]
fn the_graphs_are_scoped_to_the_selection_from_the_first_list_before_any_key() {
    let h = Harness::new(false, 1).with_cluster();
    assert!(
        h.state.metrics.scope.iter().any(|(k, _)| k == "namespace"),
        "{:?}",
        h.state.metrics.scope
    );
}
