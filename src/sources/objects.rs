//! Full objects, fetched on demand for the describe and YAML views only: the tree keeps
//! compact rows. Managed fields are stripped and Secret values never leave here.
use super::kube::one_line;
use crate::app::cluster::{Key, Kind};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Service,
};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::{Client, discovery};
use serde_json::Value;

pub const REDACTED: &str = "<redacted>";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    Describe,
    Yaml,
}

async fn resource(client: &Client, kind: Kind) -> Result<ApiResource, String> {
    Ok(match kind {
        Kind::Namespace => ApiResource::erase::<Namespace>(&()),
        Kind::Deployment => ApiResource::erase::<Deployment>(&()),
        Kind::StatefulSet => ApiResource::erase::<StatefulSet>(&()),
        Kind::DaemonSet => ApiResource::erase::<DaemonSet>(&()),
        Kind::Job => ApiResource::erase::<Job>(&()),
        Kind::Pod => ApiResource::erase::<Pod>(&()),
        Kind::Service => ApiResource::erase::<Service>(&()),
        Kind::Ingress => ApiResource::erase::<Ingress>(&()),
        Kind::ConfigMap => ApiResource::erase::<ConfigMap>(&()),
        Kind::Secret => ApiResource::erase::<Secret>(&()),
        Kind::Pvc => ApiResource::erase::<PersistentVolumeClaim>(&()),
        Kind::Pv => ApiResource::erase::<PersistentVolume>(&()),
        Kind::CronJob | Kind::VolumeSnapshot => {
            let group = if kind == Kind::CronJob {
                "batch"
            } else {
                "snapshot.storage.k8s.io"
            };
            super::kube::served(client, group, kind.label())
                .await
                .map_err(|e| one_line(&e))?
                .ok_or_else(|| format!("{} is not served by this API server", kind.label()))?
        }
    })
}

/// The object as JSON, without managed fields, with Secret values redacted.
pub async fn get(client: &Client, key: &Key) -> Result<Value, String> {
    let (kind, ns, name) = key;
    let ar = resource(client, *kind).await?;
    let api: Api<DynamicObject> = if kind.cluster_scoped() {
        Api::all_with(client.clone(), &ar)
    } else {
        Api::namespaced_with(client.clone(), ns, &ar)
    };
    let obj = api.get(name).await.map_err(|e| one_line(&e))?;
    let mut v = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
    clean(*kind, &mut v);
    Ok(v)
}

/// Strips what the views never show and what must never be shown.
pub fn clean(kind: Kind, v: &mut Value) {
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
        if kind == Kind::Secret {
            // kubectl apply keeps the whole Secret, values included, in this annotation.
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut)
                && let Some(x) = a.get_mut("kubectl.kubernetes.io/last-applied-configuration")
            {
                *x = Value::String(REDACTED.into());
            }
        }
    }
    if kind == Kind::Secret {
        for field in ["data", "stringData"] {
            if let Some(m) = v.get_mut(field).and_then(Value::as_object_mut) {
                for val in m.values_mut() {
                    *val = Value::String(REDACTED.into());
                }
            }
        }
    }
}

pub fn yaml(v: &Value) -> Vec<String> {
    serde_yaml::to_string(v)
        .unwrap_or_else(|e| format!("cannot render: {e}"))
        .lines()
        .map(String::from)
        .collect()
}

/// The latest events about an object, oldest first.
pub async fn events(client: &Client, key: &Key) -> Vec<Event> {
    let (kind, ns, name) = key;
    let api: Api<Event> = if kind.cluster_scoped() {
        Api::namespaced(client.clone(), "default")
    } else {
        Api::namespaced(client.clone(), ns)
    };
    let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
    let mut list = api.list(&lp).await.map(|l| l.items).unwrap_or_default();
    list.retain(|e| e.involved_object.kind.as_deref() == Some(kind.label()) || *kind == Kind::Pvc);
    list.sort_by_key(|e| {
        e.last_timestamp
            .as_ref()
            .map(|t| t.0.as_second())
            .unwrap_or(0)
    });
    let skip = list.len().saturating_sub(15);
    list.into_iter().skip(skip).collect()
}

/// The owner chain, nearest first: ReplicaSet/web-5d9c → Deployment/web.
pub async fn owners(client: &Client, ns: &str, v: &Value) -> Vec<String> {
    let mut chain = Vec::new();
    let mut current = v.clone();
    for _ in 0..4 {
        let Some(o) = current["metadata"]["ownerReferences"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["controller"] == true).or(a.first()))
            .cloned()
        else {
            break;
        };
        let (kind, name, api_version) = (
            o["kind"].as_str().unwrap_or(""),
            o["name"].as_str().unwrap_or(""),
            o["apiVersion"].as_str().unwrap_or(""),
        );
        chain.push(format!("{kind}/{name}"));
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
        let gvk = kube::api::GroupVersionKind::gvk(group, version, kind);
        let Ok((ar, _)) = discovery::pinned_kind(client, &gvk).await else {
            break;
        };
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), ns, &ar);
        match api.get(name).await {
            Ok(next) => current = serde_json::to_value(next).unwrap_or_default(),
            Err(_) => break,
        }
    }
    chain
}

/// Fetches what a view shows: the YAML, or a description with owners and events.
pub async fn fetch(
    client: &Client,
    key: &Key,
    view: View,
    now: i64,
) -> Result<Vec<String>, String> {
    let v = get(client, key).await?;
    Ok(match view {
        View::Yaml => yaml(&v),
        View::Describe => {
            let (chain, events) = tokio::join!(owners(client, &key.1, &v), events(client, key));
            super::describe::describe(key.0, &v, &chain, &events, now)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_redacted_and_managed_fields_stripped() {
        let mut v = json!({
            "kind": "Secret",
            "metadata": {"name": "s", "managedFields": [{"manager": "kubectl"}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"data\":{\"password\":\"aHVudGVyMg==\"}}"}},
            "data": {"password": "aHVudGVyMg=="},
            "stringData": {"user": "root"}
        });
        clean(Kind::Secret, &mut v);
        let text = yaml(&v).join("\n");
        assert!(
            !text.contains("aHVudGVyMg") && !text.contains("root"),
            "{text}"
        );
        assert!(text.contains("password: <redacted>"));
        assert!(!text.contains("managedFields"));
        let mut cm = json!({"metadata": {"managedFields": []}, "data": {"k": "visible"}});
        clean(Kind::ConfigMap, &mut cm);
        assert_eq!(cm, json!({"metadata": {}, "data": {"k": "visible"}}));
    }
}
