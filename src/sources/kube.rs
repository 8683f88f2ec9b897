//! The Kubernetes source: one watcher per kind, turned into compact rows at once.
//! Each (re)list is sent whole, so a reconnect replaces rows instead of adding to them.
use super::rows;
use crate::app::Msg;
use crate::app::cluster::{Kind, ObjRow};
use crate::app::msg::ClusterEvent;
use crate::config::Scope;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event as KubeEvent, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, Secret,
    Service,
};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, DynamicObject};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery;
use kube::runtime::watcher::{self, Event};
use kube::{Client, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

/// A connected client and where it points.
#[derive(Clone)]
pub struct Cluster {
    pub client: Client,
    pub context: String,
    pub server: String,
    /// The namespace to show, or None for all.
    pub namespace: Option<String>,
}

/// An error and its causes on one line, as the panes show them.
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![e.to_string()];
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        src = s.source();
    }
    let joined = parts.join(": ");
    let flat: String = joined.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 300 {
        flat.chars().take(297).collect::<String>() + "..."
    } else {
        flat
    }
}

fn kubeconfig_path(explicit: Option<&Path>) -> String {
    match explicit {
        Some(p) => p.display().to_string(),
        None => std::env::var("KUBECONFIG")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                std::env::home_dir()
                    .unwrap_or_default()
                    .join(".kube/config")
                    .display()
                    .to_string()
            }),
    }
}

/// Reads the kubeconfig and builds a client. No network: a bad file or context is
/// reported here as one line naming the file.
pub async fn connect(
    kubeconfig: Option<&PathBuf>,
    context: Option<&str>,
    scope: &Scope,
) -> Result<Cluster, String> {
    let file = kubeconfig_path(kubeconfig.map(PathBuf::as_path));
    let mut kc = match kubeconfig {
        Some(p) => Kubeconfig::read_from(p),
        None => Kubeconfig::read(),
    }
    // The parser's source excerpt after " --> " repeats the line and column.
    .map_err(|e| {
        let text = one_line(&e);
        let short = text.split(" --> <input>").next().unwrap_or_default();
        let field = std::fs::read_to_string(&file)
            .ok()
            .and_then(|t| super::kubeconfig::field_at(&t, short))
            .map(|f| format!(" (field \"{f}\")"))
            .unwrap_or_default();
        format!("kubeconfig {file}: {short}{field}")
    })?;
    let target =
        super::kubeconfig::target(&kc, context).map_err(|e| format!("kubeconfig {file}: {e}"))?;
    // An exec plugin must not read from or write to the terminal sextant draws on.
    for exec in kc
        .auth_infos
        .iter_mut()
        .filter_map(|a| a.auth_info.as_mut()?.exec.as_mut())
    {
        exec.interactive_mode = Some(kube::config::ExecInteractiveMode::Never);
    }
    let fail = |e: &(dyn std::error::Error + 'static)| match (&target.exec, exec_failure(e)) {
        (Some(command), Some(why)) => format!(
            "kubeconfig {file}: users[{}].user.exec: command \"{command}\" {why}",
            target.user.as_deref().unwrap_or_default()
        ),
        _ => format!("kubeconfig {file}: {}", one_line(e)),
    };
    let opts = KubeConfigOptions {
        context: context.map(String::from),
        ..Default::default()
    };
    let config = kube::Config::from_custom_kubeconfig(kc, &opts)
        .await
        .map_err(|e| fail(&e))?;
    let server = config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_string();
    let namespace = match scope {
        Scope::All => None,
        Scope::Namespace(n) => Some(n.clone()),
        Scope::FromContext => Some(config.default_namespace.clone()),
    };
    // Building the client runs an exec plugin, blocking: on a thread of its own (not
    // spawn_blocking, which the runtime waits for at exit), and bounded, so a hanging
    // plugin holds up neither the connect, nor the lock its caller holds, nor quitting.
    let (done, built) = tokio::sync::oneshot::channel();
    let runtime = tokio::runtime::Handle::current();
    std::thread::spawn(move || {
        let _in = runtime.enter();
        let _ = done.send(Client::try_from(config));
    });
    let client = match tokio::time::timeout(EXEC_PROBE, built).await {
        Ok(Ok(built)) => built.map_err(|e| fail(&e))?,
        Ok(Err(e)) => return Err(format!("kubeconfig {file}: {e}")),
        Err(_) => {
            return Err(format!(
                "kubeconfig {file}: users[{}].user.exec: command \"{}\" did not answer within {} s",
                target.user.as_deref().unwrap_or_default(),
                target.exec.as_deref().unwrap_or_default(),
                EXEC_PROBE.as_secs()
            ));
        }
    };
    Ok(Cluster {
        client,
        context: target.context,
        server,
        namespace,
    })
}

/// What went wrong with an exec plugin, without its arguments or output, which can
/// hold credentials: only the exit status and the last line it wrote to stderr.
fn exec_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    use kube::client::AuthError;
    let mut cur = Some(e);
    while let Some(err) = cur {
        match err.downcast_ref::<AuthError>() {
            Some(AuthError::AuthExecRun { out, .. }) => {
                let stderr = String::from_utf8_lossy(&out.stderr);
                let last = stderr.lines().rev().find(|l| !l.trim().is_empty());
                return Some(match last {
                    Some(l) => format!("failed ({}): {}", out.status, l.trim()),
                    None => format!("failed ({})", out.status),
                });
            }
            Some(AuthError::AuthExecStart(io)) => return Some(format!("could not start: {io}")),
            Some(AuthError::AuthExecParse(_)) => {
                return Some("printed no credentials sextant could read".into());
            }
            _ => cur = err.source(),
        }
    }
    None
}

/// Starts a watcher for every kind the cluster pane shows. Abort and await all of the
/// handles before connecting elsewhere, so no message of the old scope comes after.
pub fn spawn_watchers(c: &Cluster, tx: Sender<Msg>) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let ns = c.namespace.clone();
    let client = c.client.clone();
    // Namespaces and PVs are cluster-scoped and listed whole.
    tasks.push(tokio::spawn(watch(
        Api::<Namespace>::all(client.clone()),
        Kind::Namespace,
        rows::namespace,
        tx.clone(),
    )));
    tasks.push(tokio::spawn(watch(
        Api::<PersistentVolume>::all(client.clone()),
        Kind::Pv,
        rows::pv,
        tx.clone(),
    )));
    macro_rules! scoped {
        ($ty:ty, $kind:expr, $f:expr) => {{
            let a: Api<$ty> = match &ns {
                Some(n) => Api::namespaced(client.clone(), n),
                None => Api::all(client.clone()),
            };
            tasks.push(tokio::spawn(watch(a, $kind, $f, tx.clone())));
        }};
    }
    scoped!(Deployment, Kind::Deployment, rows::deployment);
    scoped!(StatefulSet, Kind::StatefulSet, rows::statefulset);
    scoped!(DaemonSet, Kind::DaemonSet, rows::daemonset);
    scoped!(Job, Kind::Job, rows::job);
    scoped!(Pod, Kind::Pod, rows::pod);
    scoped!(Service, Kind::Service, rows::service);
    scoped!(Ingress, Kind::Ingress, rows::ingress);
    scoped!(ConfigMap, Kind::ConfigMap, rows::configmap);
    scoped!(Secret, Kind::Secret, rows::secret);
    scoped!(PersistentVolumeClaim, Kind::Pvc, rows::pvc);
    let events: Api<KubeEvent> = match &ns {
        Some(n) => Api::namespaced(client.clone(), n),
        None => Api::all(client.clone()),
    };
    tasks.push(tokio::spawn(watch_warnings(events, tx.clone())));
    // Kinds whose version depends on the server: ask discovery which one it serves.
    for (group, kind, k, f) in [
        (
            "batch",
            "CronJob",
            Kind::CronJob,
            rows::cronjob as fn(&DynamicObject) -> ObjRow,
        ),
        (
            "snapshot.storage.k8s.io",
            "VolumeSnapshot",
            Kind::VolumeSnapshot,
            rows::volumesnapshot,
        ),
    ] {
        let (client, ns, tx) = (client.clone(), ns.clone(), tx.clone());
        let task = tokio::spawn(async move {
            // Discovery can fail like any request: retry it until it answers.
            let mut delay = Reconnect::default();
            let ar = loop {
                match served(&client, group, kind).await {
                    Ok(Some(ar)) => break ar,
                    Ok(None) => {
                        let _ = tx.send(Msg::Cluster(ClusterEvent::NotServed(k))).await;
                        return;
                    }
                    Err(e) => {
                        let msg = format!("discovery of {group}: {}", one_line(&e));
                        if tx
                            .send(Msg::Cluster(ClusterEvent::WatchFailed(k, msg, now())))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        tokio::time::sleep(delay.next().unwrap_or(RECONNECT_MAX)).await;
                    }
                }
            };
            let api: Api<DynamicObject> = match &ns {
                Some(n) => Api::namespaced_with(client, n, &ar),
                None => Api::all_with(client, &ar),
            };
            watch(api, k, f, tx).await;
        });
        tasks.push(task);
    }
    tasks
}

/// The resource a server serves for a kind: its preferred version, else any version
/// (CronJob is batch/v1 from 1.21, only batch/v1beta1 before). Ok(None): not served.
pub async fn served(
    client: &Client,
    group: &str,
    kind: &str,
) -> Result<Option<kube::api::ApiResource>, kube::Error> {
    let g = match discovery::oneshot::group(client, group).await {
        Ok(g) => g,
        Err(kube::Error::Discovery(_)) => return Ok(None), // no such group
        Err(e) => return Err(e),
    };
    if let Some((ar, _)) = g.recommended_kind(kind) {
        return Ok(Some(ar));
    }
    Ok(g.versions().find_map(|v| {
        g.versioned_resources(v)
            .into_iter()
            .find(|(ar, _)| ar.kind == kind)
            .map(|(ar, _)| ar)
    }))
}

/// Retry delays for a failing watch: 250 ms doubling to 4 s, back to the start after
/// a successful list. kube's default waits up to 30 s, too long to leave a pane stale.
#[derive(Clone)]
pub struct Reconnect {
    next: Duration,
}

const RECONNECT_MIN: Duration = Duration::from_millis(250);
const RECONNECT_MAX: Duration = Duration::from_secs(4);

impl Default for Reconnect {
    fn default() -> Self {
        Reconnect {
            next: RECONNECT_MIN,
        }
    }
}

impl Iterator for Reconnect {
    type Item = Duration;
    fn next(&mut self) -> Option<Duration> {
        let d = self.next;
        self.next = (d * 2).min(RECONNECT_MAX);
        Some(d)
    }
}

impl Reconnect {
    fn reset(&mut self) {
        self.next = RECONNECT_MIN;
    }
}

/// How long connect waits for the client, exec plugin included.
const EXEC_PROBE: Duration = Duration::from_secs(10);

/// How long a watch the server refuses (401, 403) waits before asking again: access
/// can be granted mid-session, but asking every few seconds would be a retry storm.
pub const REFUSED_RETRY: Duration = Duration::from_secs(60);

/// The HTTP status of a failed list or watch, if the server answered.
fn status_code(e: &watcher::Error) -> Option<u16> {
    match e {
        watcher::Error::InitialListFailed(kube::Error::Api(s))
        | watcher::Error::WatchStartFailed(kube::Error::Api(s))
        | watcher::Error::WatchFailed(kube::Error::Api(s)) => Some(s.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    }
}

/// 410 Gone in the watch stream: the resource version it resumed from was compacted
/// away. The watcher then relists by itself and the rows are replaced when the list is
/// done, so this is routine, not a failure to show. (A 410 answering the watch request
/// leaves the watcher on the old version: that one is rebuilt, with the backoff.)
fn expired(e: &watcher::Error) -> bool {
    matches!(e, watcher::Error::WatchError(s) if s.code == 410)
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Watches one kind until the receiver goes away. Any error is reported and the watch
/// is started again from a fresh list after a short backoff, so the pane knows when
/// it is live again and a relist replaces whatever went stale meanwhile. A 410 Gone is
/// a relist, not a failure. A refused watch (401, 403) asks again after a minute; an
/// unserved kind is reported once and not watched again.
pub async fn watch<K>(api: Api<K>, kind: Kind, to_row: fn(&K) -> ObjRow, tx: Sender<Msg>)
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let config = watcher::Config::default().page_size(500);
    watch_with(api, config, kind, to_row, tx).await
}

/// `watch` with a given watcher configuration (tests shorten the server's timeout to
/// make a watch resume, and so meet a 410, sooner).
pub async fn watch_with<K>(
    api: Api<K>,
    config: watcher::Config,
    kind: Kind,
    to_row: fn(&K) -> ObjRow,
    tx: Sender<Msg>,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut delay = Reconnect::default();
    'relist: loop {
        let mut stream = watcher::watcher(api.clone(), config.clone()).boxed();
        let mut initial: Vec<ObjRow> = Vec::new();
        let started = std::time::Instant::now();
        while let Some(ev) = stream.next().await {
            let msg = match ev {
                Ok(Event::Init) => {
                    initial.clear();
                    continue;
                }
                Ok(Event::InitApply(o)) => {
                    initial.push(to_row(&o));
                    continue;
                }
                Ok(Event::InitDone) => {
                    delay.reset();
                    let ms = started.elapsed().as_millis() as u64;
                    tracing::info!(?kind, rows = initial.len(), ms, "listed");
                    ClusterEvent::Listed(kind, std::mem::take(&mut initial))
                }
                Ok(Event::Apply(o)) => ClusterEvent::Applied(to_row(&o)),
                Ok(Event::Delete(o)) => {
                    ClusterEvent::Deleted(kind, o.namespace().unwrap_or_default(), o.name_any())
                }
                Err(e) if expired(&e) => {
                    tracing::info!(?kind, "resource version expired (410 Gone): relisting");
                    continue;
                }
                Err(e) => {
                    let (ev, wait) = match status_code(&e) {
                        Some(404) => {
                            let _ = tx.send(Msg::Cluster(ClusterEvent::NotServed(kind))).await;
                            return;
                        }
                        Some(403) => (ClusterEvent::Forbidden(kind), Some(REFUSED_RETRY)),
                        Some(401) => (
                            ClusterEvent::WatchFailed(
                                kind,
                                "401 Unauthorized: the API server rejected the credentials".into(),
                                now(),
                            ),
                            Some(REFUSED_RETRY),
                        ),
                        _ => (ClusterEvent::WatchFailed(kind, one_line(&e), now()), None),
                    };
                    if tx.send(Msg::Cluster(ev)).await.is_err() {
                        return;
                    }
                    if let Some(wait) = wait {
                        tokio::time::sleep(wait).await;
                        continue 'relist;
                    }
                    break;
                }
            };
            if tx.send(Msg::Cluster(msg)).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(delay.next().unwrap_or(RECONNECT_MAX)).await;
    }
}

/// Watches Warning events; only the newest few are kept by the state. Events are
/// optional: a forbidden watch just shows no warnings.
async fn watch_warnings(api: Api<KubeEvent>, tx: Sender<Msg>) {
    watch_warnings_with(api, warnings_config(), tx).await
}

/// The watcher configuration of the warnings list: Warning events only.
pub fn warnings_config() -> watcher::Config {
    watcher::Config::default()
        .fields("type=Warning")
        .page_size(500)
}

/// `watch_warnings` with a given configuration, as `watch_with`. Events have no watch
/// cache in the API server, so a resumed watch meets etcd's compaction as 410 Gone.
pub async fn watch_warnings_with(api: Api<KubeEvent>, config: watcher::Config, tx: Sender<Msg>) {
    let mut delay = Reconnect::default();
    loop {
        let mut stream = watcher::watcher(api.clone(), config.clone()).boxed();
        let mut initial = Vec::new();
        while let Some(ev) = stream.next().await {
            let msg = match ev {
                Ok(Event::Init) => {
                    initial.clear();
                    continue;
                }
                Ok(Event::InitApply(e)) => {
                    initial.push(rows::warning(&e));
                    continue;
                }
                Ok(Event::InitDone) => {
                    delay.reset();
                    ClusterEvent::WarningsListed(std::mem::take(&mut initial))
                }
                Ok(Event::Apply(e)) => ClusterEvent::Warning(rows::warning(&e)),
                Ok(Event::Delete(_)) => continue,
                Err(e) if expired(&e) => {
                    tracing::info!("warning events expired (410 Gone): relisting");
                    continue;
                }
                Err(e) if matches!(status_code(&e), Some(401 | 403)) => {
                    tokio::time::sleep(REFUSED_RETRY).await;
                    break;
                }
                Err(_) => break,
            };
            if tx.send(Msg::Cluster(msg)).await.is_err() {
                return;
            }
        }
        tokio::time::sleep(delay.next().unwrap_or(RECONNECT_MAX)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_back_off_to_four_seconds_so_a_returning_server_is_seen_within_five() {
        let mut r = Reconnect::default();
        let ms: Vec<u128> = (0..7).map(|_| r.next().unwrap().as_millis()).collect();
        assert_eq!(ms, [250, 500, 1000, 2000, 4000, 4000, 4000]);
        r.reset();
        assert_eq!(r.next(), Some(RECONNECT_MIN));
        // Refused watches are asked again far less often: no retry storm.
        assert!(REFUSED_RETRY >= Duration::from_secs(60));
    }
}
