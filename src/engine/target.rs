//! The cluster side of the engine: each manifest's API found through discovery, and
//! objects read, dry-run, applied and deleted with server-side apply. Writes take a
//! `Writer`, which only the executor hands out.
use crate::exec::Writer;
use crate::sources::kube::one_line;
use kube::Client;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams,
};
use kube::discovery::{Discovery, Scope};
use serde_json::Value;
use std::fmt;
use tokio::sync::Mutex;

pub const FIELD_MANAGER: &str = "sextant";

/// Which object: as a manifest names it, with the namespace filled in.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ObjRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
}

impl fmt::Display for ObjRef {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl ObjRef {
    /// A path-like label for diffs: apps/v1/Deployment/shop/carts.
    pub fn label(&self) -> String {
        let ns = self
            .namespace
            .as_deref()
            .map(|n| format!("{n}/"))
            .unwrap_or_default();
        format!("{}/{}/{ns}{}", self.api_version, self.kind, self.name)
    }
}

/// A manifest's object with its API.
pub struct Located {
    pub obj: ObjRef,
    api: Api<DynamicObject>,
}

#[derive(Debug, PartialEq)]
pub enum ApplyError {
    /// Fields another field manager owns: the server's words, on one line.
    Conflict(String),
    Failed(String),
}

impl fmt::Display for ApplyError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            ApplyError::Conflict(m) => write!(f, "conflict: {m}"),
            ApplyError::Failed(m) => f.write_str(m),
        }
    }
}

pub struct Target {
    pub client: Client,
    /// Where objects without a namespace go, as kubectl does: the context's namespace.
    pub default_namespace: String,
    discovery: Mutex<Option<Discovery>>,
}

fn error(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} ({})", s.message, s.code),
        e => one_line(&e),
    }
}

fn gvk(api_version: &str, kind: &str) -> GroupVersionKind {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, kind)
}

impl Target {
    pub fn new(client: Client, default_namespace: String) -> Target {
        Target {
            client,
            default_namespace,
            discovery: Mutex::new(None),
        }
    }

    /// The API of a kind, from discovery; asked again once on a miss, since a sync may
    /// have just created the CRD that serves it.
    async fn resource(&self, api_version: &str, kind: &str) -> Result<(ApiResource, bool), String> {
        let want = gvk(api_version, kind);
        let mut cache = self.discovery.lock().await;
        for fresh in [false, true] {
            if fresh || cache.is_none() {
                let d = Discovery::new(self.client.clone())
                    .run()
                    .await
                    .map_err(|e| format!("discovery: {}", error(e)))?;
                *cache = Some(d);
            }
            if let Some((ar, caps)) = cache.as_ref().and_then(|d| d.resolve_gvk(&want)) {
                return Ok((ar, caps.scope == Scope::Namespaced));
            }
        }
        Err(format!(
            "the cluster does not serve {kind} in {api_version}"
        ))
    }

    /// Finds the API of a manifest's object and fills in its namespace.
    pub async fn locate(&self, obj: &Value) -> Result<Located, String> {
        let s = |p: &str| obj.pointer(p).and_then(Value::as_str).unwrap_or_default();
        let (api_version, kind, name) = (s("/apiVersion"), s("/kind"), s("/metadata/name"));
        let (ar, namespaced) = self.resource(api_version, kind).await?;
        let namespace = namespaced.then(|| match s("/metadata/namespace") {
            "" => self.default_namespace.clone(),
            ns => ns.to_string(),
        });
        let api = match &namespace {
            Some(ns) => Api::namespaced_with(self.client.clone(), ns, &ar),
            None => Api::all_with(self.client.clone(), &ar),
        };
        Ok(Located {
            obj: ObjRef {
                api_version: api_version.to_string(),
                kind: kind.to_string(),
                namespace,
                name: name.to_string(),
            },
            api,
        })
    }

    pub async fn get(&self, l: &Located) -> Result<Option<Value>, String> {
        match l.api.get_opt(&l.obj.name).await {
            Ok(o) => Ok(o.map(|o| serde_json::to_value(o).unwrap_or_default())),
            Err(e) => Err(error(e)),
        }
    }

    async fn patch(
        &self,
        l: &Located,
        body: &Value,
        dry_run: bool,
        force: bool,
    ) -> Result<Value, ApplyError> {
        let mut pp = PatchParams::apply(FIELD_MANAGER);
        pp.dry_run = dry_run;
        pp.force = force;
        let mut body = body.clone();
        if let (Some(ns), Some(meta)) = (&l.obj.namespace, body.get_mut("metadata")) {
            meta["namespace"] = Value::String(ns.clone());
        }
        match l.api.patch(&l.obj.name, &pp, &Patch::Apply(&body)).await {
            Ok(o) => Ok(serde_json::to_value(o).unwrap_or_default()),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(ApplyError::Conflict(
                s.message.split_whitespace().collect::<Vec<_>>().join(" "),
            )),
            Err(e) => Err(ApplyError::Failed(error(e))),
        }
    }

    /// What the object would be after applying `body`; nothing is written.
    pub async fn dry_run(
        &self,
        l: &Located,
        body: &Value,
        force: bool,
    ) -> Result<Value, ApplyError> {
        self.patch(l, body, true, force).await
    }

    pub async fn apply(
        &self,
        _w: &Writer,
        l: &Located,
        body: &Value,
        force: bool,
    ) -> Result<Value, ApplyError> {
        self.patch(l, body, false, force).await
    }

    pub async fn delete(&self, _w: &Writer, l: &Located) -> Result<(), String> {
        match l.api.delete(&l.obj.name, &DeleteParams::background()).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
            Err(e) => Err(error(e)),
        }
    }

    /// Objects of a kind that sextant applied for `app` (they carry its label), anywhere.
    pub async fn list_managed(
        &self,
        api_version: &str,
        kind: &str,
        app: &str,
    ) -> Result<Vec<Value>, String> {
        let (ar, _) = self.resource(api_version, kind).await?;
        let api: Api<DynamicObject> = Api::all_with(self.client.clone(), &ar);
        let lp = ListParams::default().labels(&format!("{}={app}", super::compare::APP_LABEL));
        let list = api.list(&lp).await.map_err(error)?;
        Ok(list
            .items
            .into_iter()
            .map(|mut o| {
                // Lists leave out each item's type.
                o.types = Some(kube::api::TypeMeta {
                    api_version: api_version.to_string(),
                    kind: kind.to_string(),
                });
                serde_json::to_value(o).unwrap_or_default()
            })
            .collect())
    }
}
