//! A sync plan: for every object of a commit's manifests, what applying it would do
//! (create, update, nothing, or a conflict), plus what prune would delete. The same
//! plan of the synced commit is the drift report.
use super::compare::{APP_LABEL, COMMIT_ANNOTATION, FieldChange, changes, yaml_diff};
use super::manifests::{Manifest, Manifests};
use super::target::{ApplyError, ObjRef, Target};
use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// Would change a field another field manager owns.
    Conflict,
    /// Applied by sextant earlier, gone from git.
    Prune,
    /// Could not be planned: no such API, a rejected manifest.
    Error,
}

#[derive(Clone, PartialEq, Serialize)]
pub struct Step {
    pub object: ObjRef,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The sync wave (`argocd.argoproj.io/sync-wave`, default 0): lower waves are
    /// applied, and healthy, before higher ones.
    #[serde(skip_serializing_if = "is_zero")]
    pub wave: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub diff: String,
    /// The conflict or error, in the server's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What would be applied (None for prune and errors).
    #[serde(skip)]
    pub body: Option<Value>,
}

// Written out to leave the body out: a Secret's manifest must not reach a log.
impl std::fmt::Debug for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Step")
            .field("object", &self.object)
            .field("action", &self.action)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("wave", &self.wave)
            .field("changes", &self.changes)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Plan {
    /// The app whose objects and record these are.
    pub app: String,
    pub commit: String,
    pub path: String,
    pub steps: Vec<Step>,
    /// Files that could not be read, "file:line: message".
    pub errors: Vec<String>,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

impl Plan {
    /// Why this commit may not be synced: a manifest that could not be read leaves
    /// its desired state unknown, so nothing of the commit is applied (as Argo CD
    /// refuses a revision whose manifests do not generate). The next commit that
    /// reads cleanly syncs.
    pub fn refusal(&self) -> Option<String> {
        let first = self.errors.first()?;
        let more = match self.errors.len() {
            1 => String::new(),
            n => format!(" and {} more", n - 1),
        };
        Some(format!(
            "sync of {} disabled: {first}{more}; fix the manifests in a new commit",
            super::short(&self.commit, 8)
        ))
    }

    pub fn count(&self, a: Action) -> usize {
        self.steps.iter().filter(|s| s.action == a).count()
    }

    /// Whether a sync would write anything.
    pub fn writes(&self, prune: bool) -> bool {
        self.steps.iter().any(|s| match s.action {
            Action::Create | Action::Update | Action::Conflict => true,
            Action::Prune => prune,
            _ => false,
        })
    }

    pub fn summary(&self) -> String {
        format!(
            "{} to create, {} to update, {} unchanged, {} in conflict, {} to prune, {} errors",
            self.count(Action::Create),
            self.count(Action::Update),
            self.count(Action::Unchanged),
            self.count(Action::Conflict),
            self.count(Action::Prune),
            self.count(Action::Error) + self.errors.len()
        )
    }
}

/// Apply order: namespaces and CRDs, then identity, config and storage, then
/// services, then workloads, then what refers to them.
pub fn rank(kind: &str) -> u8 {
    match kind {
        "Namespace" | "CustomResourceDefinition" => 0,
        "ServiceAccount"
        | "Role"
        | "ClusterRole"
        | "RoleBinding"
        | "ClusterRoleBinding"
        | "ConfigMap"
        | "Secret"
        | "StorageClass"
        | "PersistentVolume"
        | "PersistentVolumeClaim"
        | "VolumeSnapshotClass"
        | "LimitRange"
        | "ResourceQuota"
        | "PriorityClass" => 1,
        "Service" => 2,
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" | "CronJob" | "Pod" => 3,
        _ => 4,
    }
}

/// Argo CD's annotation, kept so repositories move between the two unchanged.
pub const WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";

/// The object's sync wave: 0 without the annotation. A value that is not an integer
/// is an error, where Argo CD would quietly use 0 and apply it out of order.
pub fn wave(obj: &Value) -> Result<i32, String> {
    let Some(v) = obj
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(WAVE_ANNOTATION))
    else {
        return Ok(0);
    };
    v.as_str()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| {
            format!("annotation {WAVE_ANNOTATION} must be an integer in quotes, such as \"-1\" (not {v})")
        })
}

/// Kinds searched for managed objects to prune, besides those in the manifests.
/// Namespaces and CRDs are never pruned: deleting one deletes everything in it.
const PRUNE_KINDS: [(&str, &str); 10] = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "ServiceAccount"),
    ("v1", "PersistentVolumeClaim"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("networking.k8s.io/v1", "Ingress"),
];

/// The manifest as sextant applies it: labelled with its app, carrying the commit.
pub fn body(obj: &Value, commit: &str, app: &str) -> Value {
    let mut b = obj.clone();
    let meta = &mut b["metadata"];
    // Indexing a non-mapping would panic; the manifest check reports it (`bad_metadata`).
    for k in ["labels", "annotations"] {
        if !meta[k].is_object() {
            meta[k] = Value::Object(Default::default());
        }
    }
    meta["labels"][APP_LABEL] = Value::String(app.into());
    meta["annotations"][COMMIT_ANNOTATION] = Value::String(commit.into());
    b
}

fn commit_of(live: &Value) -> Option<&str> {
    live.pointer("/metadata/annotations")?
        .get(COMMIT_ANNOTATION)?
        .as_str()
}

/// Labels and annotations must be mappings and a wave an integer; anything else is
/// the manifest's error.
fn bad_metadata(obj: &Value) -> Option<String> {
    ["labels", "annotations"]
        .iter()
        .find_map(|k| {
            let v = obj.pointer(&format!("/metadata/{k}"))?;
            (!v.is_object() && !v.is_null()).then(|| format!("metadata.{k} must be a mapping"))
        })
        .or_else(|| wave(obj).err())
}

fn identity(o: &ObjRef) -> (String, String, Option<String>, String) {
    let (group, kind) = group_kind(o);
    (group, kind, o.namespace.clone(), o.name.clone())
}

fn group_kind(o: &ObjRef) -> (String, String) {
    let group = o.api_version.split_once('/').map_or("", |(g, _)| g);
    (group.to_string(), o.kind.clone())
}

fn step(object: ObjRef, action: Action) -> Step {
    Step {
        object,
        action,
        file: None,
        line: None,
        wave: 0,
        changes: Vec::new(),
        diff: String::new(),
        message: None,
        body: None,
    }
}

/// Plans one manifest against the live object. An object already in the cluster is
/// compared through a forced dry-run (the state applying would reach); only when that
/// changes something is a plain dry-run asked whether another manager owns the fields.
/// Kinds that CRDs in the same manifests define: (group, kind) → namespaced.
type NewKinds = BTreeMap<(String, String), bool>;

fn new_kinds(m: &Manifests) -> NewKinds {
    m.objects
        .iter()
        .filter(|o| o.obj["kind"] == "CustomResourceDefinition")
        .filter_map(|o| {
            let spec = &o.obj["spec"];
            Some((
                (
                    spec["group"].as_str()?.to_string(),
                    spec["names"]["kind"].as_str()?.to_string(),
                ),
                spec["scope"] == "Namespaced",
            ))
        })
        .collect()
}

async fn plan_one(t: &Target, obj: &Value, commit: &str, app: &str, crds: &NewKinds) -> Step {
    let s = |p: &str| {
        obj.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let fallback = ObjRef {
        api_version: s("/apiVersion"),
        kind: s("/kind"),
        namespace: obj
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(String::from),
        name: s("/metadata/name"),
    };
    let l = match t.locate(obj).await {
        Ok(l) => l,
        // Its kind comes with a CRD that this sync creates first.
        Err(_) if crds.contains_key(&group_kind(&fallback)) => {
            let mut o = fallback;
            if crds[&group_kind(&o)] && o.namespace.is_none() {
                o.namespace = Some(t.default_namespace.clone());
            }
            let b = body(obj, commit, app);
            let mut st = step(o, Action::Create);
            st.diff = yaml_diff(&st.object.label(), None, Some(&b));
            st.body = Some(b);
            return st;
        }
        Err(e) => {
            let mut st = step(fallback, Action::Error);
            st.message = Some(e);
            return st;
        }
    };
    let mut st = step(l.obj.clone(), Action::Unchanged);
    if let Some(e) = bad_metadata(obj) {
        st.action = Action::Error;
        st.message = Some(e);
        return st;
    }
    let live = match t.get(&l).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            let b = body(obj, commit, app);
            st.action = Action::Create;
            st.diff = yaml_diff(&l.obj.label(), None, Some(&b));
            st.body = Some(b);
            return st;
        }
        Err(e) => {
            st.action = Action::Error;
            st.message = Some(e);
            return st;
        }
    };
    // The commit annotation alone is not a change: keep the live one for comparing.
    let b = body(obj, commit_of(&live).unwrap_or(commit), app);
    let after = match t.dry_run(&l, &b, true).await {
        Ok(v) => v,
        Err(e) => {
            st.action = Action::Error;
            st.message = Some(e.to_string());
            return st;
        }
    };
    st.changes = changes(&after, &live);
    if st.changes.is_empty() {
        return st;
    }
    st.diff = yaml_diff(&l.obj.label(), Some(&live), Some(&after));
    st.action = match t.dry_run(&l, &b, false).await {
        Ok(_) => Action::Update,
        Err(ApplyError::Conflict(m)) => {
            st.message = Some(m);
            Action::Conflict
        }
        Err(e) => {
            st.message = Some(e.to_string());
            Action::Error
        }
    };
    st.body = Some(body(obj, commit, app));
    st
}

async fn placed(t: &Target, o: &Manifest, commit: &str, app: &str, crds: &NewKinds) -> Step {
    let mut st = plan_one(t, &o.obj, commit, app, crds).await;
    st.file = Some(o.file.clone());
    st.line = Some(o.line);
    st.wave = wave(&o.obj).unwrap_or(0);
    st
}

/// Apply order: by wave, then by kind within a wave.
fn order(o: &Manifest) -> (i32, u8) {
    let kind = o.obj["kind"].as_str().unwrap_or_default();
    (wave(&o.obj).unwrap_or(0), rank(kind))
}

/// The plan of `m` (a commit's manifests) against the cluster, in apply order, with
/// prune candidates: objects sextant applied for this app that git no longer has.
pub async fn plan(t: &Target, m: &Manifests, path: &str, app: &str) -> Plan {
    let mut objs: Vec<_> = m.objects.iter().collect();
    objs.sort_by_key(|o| order(o));
    let crds = new_kinds(m);
    // Named futures, not closures: spawned tasks need them general over lifetimes.
    let futures: Vec<_> = objs
        .into_iter()
        .map(|o| placed(t, o, &m.commit, app, &crds))
        .collect();
    let steps: Vec<Step> = futures::stream::iter(futures).buffered(8).collect().await;
    let mut plan = Plan {
        app: app.to_string(),
        commit: m.commit.clone(),
        path: path.to_string(),
        steps,
        errors: m.errors.iter().map(|e| e.to_string_line()).collect(),
    };
    // By group, kind, namespace and name: one object served at two versions is one.
    let wanted: BTreeSet<(String, String, Option<String>, String)> =
        plan.steps.iter().map(|s| identity(&s.object)).collect();
    let mut kinds: BTreeSet<(String, String)> = PRUNE_KINDS
        .iter()
        .map(|(a, k)| (a.to_string(), k.to_string()))
        .collect();
    kinds.extend(
        plan.steps
            .iter()
            .filter(|s| rank(&s.object.kind) > 0)
            .map(|s| (s.object.api_version.clone(), s.object.kind.clone())),
    );
    let mut prune = Vec::new();
    for (api_version, kind) in kinds {
        let live = match t.list_managed(&api_version, &kind, app).await {
            Ok(l) => l,
            // A kind this cluster does not serve has nothing to prune.
            Err(_) => continue,
        };
        for o in live {
            let s = |p: &str| o.pointer(p).and_then(Value::as_str).map(String::from);
            let r = ObjRef {
                api_version: api_version.clone(),
                kind: kind.clone(),
                namespace: s("/metadata/namespace"),
                name: s("/metadata/name").unwrap_or_default(),
            };
            if !wanted.contains(&identity(&r)) {
                let mut st = step(r, Action::Prune);
                st.diff = yaml_diff(&st.object.label(), Some(&o), None);
                prune.push(st);
            }
        }
    }
    // Deleted in reverse apply order: workloads before their config and namespace.
    prune.sort_by_key(|s| std::cmp::Reverse(rank(&s.object.kind)));
    plan.steps.extend(prune);
    plan
}

/// Plans for the reducer and view tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub const PLANNED: &str = "abcdef1234567890abcdef1234567890abcdef12";

    /// One step for an object in shop, from `apps/<name>.yaml`.
    pub fn step(api_version: &str, kind: &str, name: &str, action: Action, diff: &str) -> Step {
        Step {
            object: ObjRef {
                api_version: api_version.into(),
                kind: kind.into(),
                namespace: Some("shop".into()),
                name: name.into(),
            },
            action,
            file: Some(format!("apps/{name}.yaml")),
            line: Some(1),
            wave: 0,
            changes: Vec::new(),
            diff: diff.into(),
            message: None,
            body: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn apply_order_puts_namespaces_first_and_workloads_after_config() {
        let mut kinds = vec![
            "Ingress",
            "Deployment",
            "ConfigMap",
            "Service",
            "Namespace",
            "PersistentVolumeClaim",
            "CustomResourceDefinition",
            "VolumeSnapshot",
        ];
        kinds.sort_by_key(|k| rank(k));
        assert_eq!(
            kinds,
            [
                "Namespace",
                "CustomResourceDefinition",
                "ConfigMap",
                "PersistentVolumeClaim",
                "Service",
                "Deployment",
                "Ingress",
                "VolumeSnapshot"
            ]
        );
    }

    #[test]
    fn the_applied_body_is_labelled_and_carries_the_commit() {
        let o = json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "a", "labels": {"app": "x"}}});
        let b = body(&o, "abc", "shop");
        assert_eq!(b["metadata"]["labels"]["app"], "x");
        assert_eq!(b["metadata"]["labels"][APP_LABEL], "shop");
        assert_eq!(b["metadata"]["annotations"][COMMIT_ANNOTATION], "abc");
        assert_eq!(commit_of(&b), Some("abc"));
    }

    #[test]
    fn metadata_that_is_not_a_mapping_is_an_error_not_a_panic() {
        let o = json!({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": "a", "labels": ["x"]}});
        assert_eq!(
            bad_metadata(&o).as_deref(),
            Some("metadata.labels must be a mapping")
        );
        let b = body(&o, "abc", "shop");
        assert_eq!(b["metadata"]["labels"][APP_LABEL], "shop");
        assert_eq!(bad_metadata(&json!({"metadata": {"name": "a"}})), None);
    }

    fn manifest(kind: &str, wave: Option<Value>) -> Manifest {
        let mut obj = json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}});
        if let Some(w) = wave {
            obj["metadata"]["annotations"] = json!({WAVE_ANNOTATION: w});
        }
        Manifest {
            file: "a.yaml".into(),
            line: 1,
            obj,
        }
    }

    #[test]
    fn waves_order_before_kinds_and_default_to_zero() {
        let mut objs = [
            manifest("Deployment", Some(json!("-1"))),
            manifest("Namespace", Some(json!("2"))),
            manifest("ConfigMap", None),
            manifest("Service", Some(json!(" 1 "))),
            manifest("Deployment", None),
        ];
        objs.sort_by_key(order);
        let got: Vec<(i32, &str)> = objs
            .iter()
            .map(|o| (order(o).0, o.obj["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(
            got,
            [
                (-1, "Deployment"),
                (0, "ConfigMap"),
                (0, "Deployment"),
                (1, "Service"),
                (2, "Namespace")
            ]
        );
    }

    #[test]
    fn a_wave_that_is_not_an_integer_is_the_manifests_error() {
        for bad in [json!("early"), json!(1), json!("1.5")] {
            let m = manifest("ConfigMap", Some(bad.clone()));
            let e = bad_metadata(&m.obj).unwrap();
            assert!(
                e.contains(WAVE_ANNOTATION) && e.contains("an integer in quotes"),
                "{e}"
            );
        }
        assert_eq!(
            bad_metadata(&manifest("ConfigMap", Some(json!("3"))).obj),
            None
        );
    }

    #[test]
    fn a_plan_with_unreadable_manifests_may_not_sync() {
        let mut p = Plan {
            commit: "0123456789abcdef".into(),
            ..Default::default()
        };
        assert_eq!(p.refusal(), None);
        p.errors = vec!["apps/x.yaml:7: bad".into(), "apps/y.yaml: big".into()];
        assert_eq!(
            p.refusal().unwrap(),
            "sync of 01234567 disabled: apps/x.yaml:7: bad and 1 more; \
             fix the manifests in a new commit"
        );
    }

    #[test]
    fn summaries_count_actions_and_file_errors() {
        let r = ObjRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("shop".into()),
            name: "a".into(),
        };
        let p = Plan {
            steps: vec![step(r.clone(), Action::Unchanged), step(r, Action::Prune)],
            errors: vec!["apps/x.yaml:3: bad".into()],
            ..Default::default()
        };
        assert!(!p.writes(false));
        assert!(p.writes(true));
        assert_eq!(
            p.summary(),
            "0 to create, 0 to update, 1 unchanged, 0 in conflict, 1 to prune, 1 errors"
        );
    }
}
