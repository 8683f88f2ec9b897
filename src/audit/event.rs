//! Kubernetes Events for cluster mutations, on the object changed, so that
//! `kubectl describe` and `kubectl get events` show who did what with sextant.
use crate::engine::target::ObjRef;
use crate::exec::Writer;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, PostParams};
use serde_json::{Value, json};

pub const COMPONENT: &str = "sextant";
/// The API server keeps at most this much of a message (events.k8s.io/v1).
const MAX_MESSAGE: usize = 1024;

/// The object an Event is about. With its uid, `kubectl describe` finds the Event.
#[derive(Clone, Debug, PartialEq)]
pub struct Involved {
    pub object: ObjRef,
    pub uid: Option<String>,
}

/// What an Event says.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// `SextantSync`, `SextantPrune`, `SextantRestart`, `SextantSnapshot`, `SextantRestore`.
    pub reason: &'static str,
    pub message: String,
    /// Normal when ok, else Warning.
    pub ok: bool,
}

/// A name the API server accepts: the object's, made DNS-safe, then a nanosecond stamp,
/// as kubectl names its Events.
fn name(obj: &str, nanos: i64) -> String {
    let safe: String = obj
        .to_ascii_lowercase()
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '.' => c,
            _ => '-',
        })
        .take(200)
        .collect();
    let safe = safe.trim_matches(['-', '.']);
    let safe = if safe.is_empty() { "object" } else { safe };
    format!("{safe}.{nanos:x}")
}

/// The core/v1 Event. A cluster-scoped object's Events live in `default`, as the API
/// server expects of Events without an eventTime.
pub fn body(obj: &Involved, note: &Note, now: chrono::DateTime<chrono::Utc>) -> Value {
    let o = &obj.object;
    let ns = o.namespace.clone().unwrap_or_else(|| "default".into());
    let time = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut involved = json!({
        "apiVersion": o.api_version,
        "kind": o.kind,
        "name": o.name,
    });
    if let Some(n) = &o.namespace {
        involved["namespace"] = json!(n);
    }
    if let Some(u) = &obj.uid {
        involved["uid"] = json!(u);
    }
    let message: String = note.message.chars().take(MAX_MESSAGE).collect();
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name(&o.name, now.timestamp_nanos_opt().unwrap_or_default()),
            "namespace": ns,
        },
        "involvedObject": involved,
        "reason": note.reason,
        "action": note.reason.trim_start_matches("Sextant"),
        "message": message,
        "type": if note.ok { "Normal" } else { "Warning" },
        "source": {"component": COMPONENT},
        "reportingComponent": COMPONENT,
        "reportingInstance": hostname(),
        "firstTimestamp": time,
        "lastTimestamp": time,
        "count": 1,
    })
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| COMPONENT.into())
}

/// Records a mutation's outcome as an Event on the object it changed. An Event is a
/// write like any other, so it takes the writer.
pub async fn event(
    _w: &Writer,
    client: &kube::Client,
    obj: &Involved,
    note: &Note,
) -> Result<(), String> {
    let ev: Event = serde_json::from_value(body(obj, note, chrono::Utc::now()))
        .map_err(|e| format!("event body: {e}"))?;
    let ns = ev.metadata.namespace.clone().unwrap_or_default();
    Api::<Event>::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &ev)
        .await
        .map(|_| ())
        .map_err(crate::engine::snapshot::kube_error)
}

/// The uid of an object that exists, for the Event's reference; None when it cannot
/// be read (the Event is still made, without it).
pub async fn uid_of(client: &kube::Client, o: &ObjRef) -> Option<String> {
    let (group, version) = o
        .api_version
        .split_once('/')
        .unwrap_or(("", &o.api_version));
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, &o.kind));
    let api: Api<DynamicObject> = match &o.namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    };
    api.get_metadata_opt(&o.name).await.ok()??.metadata.uid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts() -> Involved {
        Involved {
            object: super::super::workload_ref("StatefulSet", "shop", "carts-db"),
            uid: Some("u-1".into()),
        }
    }

    #[test]
    fn an_event_names_the_object_reason_and_outcome() {
        let now = chrono::DateTime::from_timestamp(1_795_636_800, 5).unwrap();
        let note = Note {
            reason: "SextantSnapshot",
            message: "snapshot by ops: set carts-db-1".into(),
            ok: true,
        };
        let b = body(&sts(), &note, now);
        assert_eq!(b["metadata"]["namespace"], "shop");
        assert!(
            b["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("carts-db.")
        );
        assert_eq!(
            b["involvedObject"],
            json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "carts-db",
                   "namespace": "shop", "uid": "u-1"})
        );
        assert_eq!(b["reason"], "SextantSnapshot");
        assert_eq!(b["action"], "Snapshot");
        assert_eq!(b["type"], "Normal");
        assert_eq!(b["source"]["component"], "sextant");
        assert_eq!(b["reportingComponent"], "sextant");
        assert_eq!(b["firstTimestamp"], "2026-11-25T20:00:00Z");
        let ev: Event = serde_json::from_value(b).unwrap();
        assert_eq!(ev.count, Some(1));

        let failed = Note { ok: false, ..note };
        assert_eq!(body(&sts(), &failed, now)["type"], "Warning");
    }

    #[test]
    fn cluster_scoped_objects_get_events_in_default() {
        let ns = Involved {
            object: ObjRef {
                api_version: "rbac.authorization.k8s.io/v1".into(),
                kind: "ClusterRole".into(),
                namespace: None,
                name: "system:Viewer".into(),
            },
            uid: None,
        };
        let note = Note {
            reason: "SextantPrune",
            message: "m".repeat(5000),
            ok: true,
        };
        let b = body(&ns, &note, chrono::Utc::now());
        assert_eq!(b["metadata"]["namespace"], "default");
        assert!(b["involvedObject"].get("namespace").is_none());
        assert!(b["involvedObject"].get("uid").is_none());
        assert!(
            b["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("system-viewer.")
        );
        assert_eq!(b["message"].as_str().unwrap().len(), MAX_MESSAGE);
    }
}
