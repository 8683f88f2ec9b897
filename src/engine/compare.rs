//! Comparing what git wants with what the cluster has. Both sides are objects the
//! server produced (the live object, and the server-side apply dry-run of git's
//! manifest on top of it), so defaults and normalised quantities already agree; what
//! is left to ignore is what the server changes on every write.
use serde_json::{Map, Value};

/// Marks every object sextant applied with the app it belongs to, so prune deletes
/// only that app's objects.
pub const APP_LABEL: &str = "sextant.dev/app";
/// The commit that last changed an object through sextant.
pub const COMMIT_ANNOTATION: &str = "sextant.dev/synced-commit";

/// Metadata the server sets or bumps on writes.
const SERVER_METADATA: [&str; 7] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "uid",
    "creationTimestamp",
    "selfLink",
    "deletionGracePeriodSeconds",
];

/// Annotations that record history, not desired state.
const HISTORY_ANNOTATIONS: [&str; 3] = [
    COMMIT_ANNOTATION,
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
];

/// The object without status, server-set metadata and history annotations.
pub fn normalize(obj: &Value) -> Value {
    let mut o = obj.clone();
    let Some(map) = o.as_object_mut() else {
        return o;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in SERVER_METADATA {
            meta.remove(k);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            for k in HISTORY_ANNOTATIONS {
                a.remove(k);
            }
        }
        for k in ["annotations", "labels"] {
            if meta
                .get(k)
                .and_then(Value::as_object)
                .is_some_and(Map::is_empty)
            {
                meta.remove(k);
            }
        }
    }
    o
}

/// One field that differs: its path, git's value and the cluster's (None: absent).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FieldChange {
    pub path: String,
    pub git: Option<Value>,
    pub live: Option<Value>,
}

impl FieldChange {
    pub fn describe(&self) -> String {
        let show = |v: &Option<Value>| match v {
            None => "(absent)".to_string(),
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        format!(
            "{}: git {} / cluster {}",
            self.path,
            show(&self.git),
            show(&self.live)
        )
    }
}

/// The fields where `git` and `live` differ, after normalising both. Lists of named
/// items (containers, ports, env) are matched by name, so a reorder reads as such.
/// A Secret's values are never returned, only where they differ.
pub fn changes(git: &Value, live: &Value) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk("", &normalize(git), &normalize(live), &mut out);
    if is_secret(git) || is_secret(live) {
        for c in &mut out {
            if c.path.starts_with("data") || c.path.starts_with("stringData") {
                let hide = |v: &mut Option<Value>| {
                    if v.is_some() {
                        *v = Some(Value::String(REDACTED.into()));
                    }
                };
                hide(&mut c.git);
                hide(&mut c.live);
            }
        }
    }
    out
}

const REDACTED: &str = "(redacted)";

fn is_secret(v: &Value) -> bool {
    v.get("kind").and_then(Value::as_str) == Some("Secret")
}

/// Both sides of a Secret with every value replaced; a value git changes is marked,
/// so a diff still shows which keys a sync would change.
fn redact_pair(live: Option<&Value>, git: Option<&Value>) -> (Option<Value>, Option<Value>) {
    let (mut l, mut g) = (live.cloned(), git.cloned());
    for section in ["data", "stringData"] {
        let theirs = l.as_ref().and_then(|v| v.get(section)).cloned();
        if let Some(map) = g
            .as_mut()
            .and_then(|v| v.get_mut(section))
            .and_then(Value::as_object_mut)
        {
            for (k, v) in map.iter_mut() {
                let same = theirs.as_ref().and_then(|t| t.get(k)) == Some(v);
                *v = Value::String(
                    if same {
                        REDACTED
                    } else {
                        "(redacted, changed)"
                    }
                    .into(),
                );
            }
        }
        if let Some(map) = l
            .as_mut()
            .and_then(|v| v.get_mut(section))
            .and_then(Value::as_object_mut)
        {
            for v in map.values_mut() {
                *v = Value::String(REDACTED.into());
            }
        }
    }
    (l, g)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn names(items: &[Value]) -> Option<Vec<&str>> {
    let names: Vec<&str> = items
        .iter()
        .map(|i| i.get("name").and_then(Value::as_str))
        .collect::<Option<_>>()?;
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    (unique.len() == names.len()).then_some(names)
}

fn walk(path: &str, git: &Value, live: &Value, out: &mut Vec<FieldChange>) {
    if git == live {
        return;
    }
    match (git, live) {
        (Value::Object(g), Value::Object(l)) => {
            let mut keys: Vec<&String> = g.keys().chain(l.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                let p = join(path, k);
                match (g.get(k), l.get(k)) {
                    (Some(a), Some(b)) => walk(&p, a, b, out),
                    (a, b) => out.push(FieldChange {
                        path: p,
                        git: a.cloned(),
                        live: b.cloned(),
                    }),
                }
            }
        }
        (Value::Array(g), Value::Array(l)) => match (names(g), names(l)) {
            (Some(gn), Some(ln)) => {
                for (i, n) in gn.iter().enumerate() {
                    let p = format!("{path}[{n}]");
                    match ln.iter().position(|x| x == n) {
                        Some(j) => walk(&p, &g[i], &l[j], out),
                        None => out.push(FieldChange {
                            path: p,
                            git: Some(g[i].clone()),
                            live: None,
                        }),
                    }
                }
                for (j, n) in ln.iter().enumerate() {
                    if !gn.contains(n) {
                        out.push(FieldChange {
                            path: format!("{path}[{n}]"),
                            git: None,
                            live: Some(l[j].clone()),
                        });
                    }
                }
            }
            _ if g.len() == l.len() => {
                for (i, (a, b)) in g.iter().zip(l).enumerate() {
                    walk(&format!("{path}[{i}]"), a, b, out);
                }
            }
            _ => out.push(FieldChange {
                path: path.to_string(),
                git: Some(git.clone()),
                live: Some(live.clone()),
            }),
        },
        _ => out.push(FieldChange {
            path: path.to_string(),
            git: Some(git.clone()),
            live: Some(live.clone()),
        }),
    }
}

/// A unified diff of the normalised YAML, cluster first: what applying git would do.
pub fn yaml_diff(label: &str, live: Option<&Value>, git: Option<&Value>) -> String {
    if live.is_some_and(is_secret) || git.is_some_and(is_secret) {
        let (l, g) = redact_pair(live, git);
        return plain_diff(label, l.as_ref(), g.as_ref());
    }
    plain_diff(label, live, git)
}

fn plain_diff(label: &str, live: Option<&Value>, git: Option<&Value>) -> String {
    let text = |v: Option<&Value>| {
        v.map(|v| serde_yaml::to_string(&normalize(v)).unwrap_or_default())
            .unwrap_or_default()
    };
    let (old, new) = (text(live), text(git));
    if old == new {
        return String::new();
    }
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("cluster/{label}"), &format!("git/{label}"))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(replicas: i64, image: &str) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "carts", "namespace": "shop",
                "resourceVersion": "42", "generation": 3, "uid": "u-1",
                "creationTimestamp": "2026-11-25T10:00:00Z",
                "managedFields": [{"manager": "sextant"}],
                "annotations": {"deployment.kubernetes.io/revision": "3"},
                "labels": {"app": "carts"}
            },
            "spec": {
                "replicas": replicas,
                "template": {"spec": {"containers": [
                    {"name": "carts", "image": image},
                    {"name": "sidecar", "image": "envoy:1"}
                ]}}
            },
            "status": {"readyReplicas": 1}
        })
    }

    #[test]
    fn server_fields_and_status_are_not_changes() {
        let a = deployment(1, "carts:1");
        let mut b = a.clone();
        b["metadata"]["resourceVersion"] = json!("43");
        b["metadata"]["generation"] = json!(4);
        b["metadata"]["managedFields"] = json!([]);
        b["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = json!("4");
        b["metadata"]["annotations"][COMMIT_ANNOTATION] = json!("abc");
        b["status"] = json!({"readyReplicas": 0});
        assert_eq!(changes(&a, &b), vec![]);
        assert_eq!(yaml_diff("x", Some(&a), Some(&b)), "");
    }

    #[test]
    fn a_scaled_deployment_differs_in_replicas_only() {
        let c = changes(&deployment(1, "carts:1"), &deployment(2, "carts:1"));
        assert_eq!(
            c,
            vec![FieldChange {
                path: "spec.replicas".into(),
                git: Some(json!(1)),
                live: Some(json!(2)),
            }]
        );
        assert_eq!(c[0].describe(), "spec.replicas: git 1 / cluster 2");
    }

    #[test]
    fn named_list_items_are_matched_by_name() {
        let git = deployment(1, "carts:2");
        let mut live = deployment(1, "carts:1");
        // The cluster lists the containers the other way round.
        let cs = live["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap();
        cs.reverse();
        let c = changes(&git, &live);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path, "spec.template.spec.containers[carts].image");
        assert_eq!(c[0].git, Some(json!("carts:2")));

        let mut extra = deployment(1, "carts:2");
        extra["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "debug", "image": "busybox"}));
        let c = changes(&git, &extra);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].path, "spec.template.spec.containers[debug]");
        assert_eq!(c[0].git, None);
    }

    #[test]
    fn added_and_removed_fields_and_unnamed_lists() {
        let mut git = deployment(1, "carts:1");
        git["spec"]["paused"] = json!(true);
        git["spec"]["args"] = json!(["a", "b"]);
        let mut live = deployment(1, "carts:1");
        live["spec"]["args"] = json!(["a", "c", "d"]);
        live["metadata"]["labels"]["team"] = json!("x");
        let paths: Vec<String> = changes(&git, &live).into_iter().map(|c| c.path).collect();
        assert_eq!(paths, ["metadata.labels.team", "spec.args", "spec.paused"]);
    }

    #[test]
    fn secret_values_never_leave_the_comparison() {
        let secret = |pw: &str| {
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                   "data": {"password": pw, "user": "YWRtaW4="}})
        };
        let (git, live) = (secret("bmV3LXB3"), secret("b2xkLXB3"));
        let c = changes(&git, &live);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c[0].describe(),
            "data.password: git (redacted) / cluster (redacted)"
        );
        let d = yaml_diff("v1/Secret/db", Some(&live), Some(&git));
        for value in ["bmV3LXB3", "b2xkLXB3", "YWRtaW4="] {
            assert!(!d.contains(value), "{d}");
        }
        assert!(d.contains("+  password: (redacted, changed)"), "{d}");
        assert!(d.contains(" user: (redacted)"), "{d}");
        let created = yaml_diff("v1/Secret/db", None, Some(&git));
        assert!(created.contains("+  password: (redacted, changed)") && !created.contains("bmV3"));
    }

    #[test]
    fn the_yaml_diff_reads_from_cluster_to_git() {
        let d = yaml_diff(
            "apps/v1/Deployment/shop/carts",
            Some(&deployment(2, "carts:1")),
            Some(&deployment(1, "carts:1")),
        );
        assert!(d.starts_with("--- cluster/apps/v1/Deployment/shop/carts\n"));
        assert!(d.contains("\n-  replicas: 2\n+  replicas: 1\n"), "{d}");
        assert!(!d.contains("resourceVersion"));
        // Creating shows every line as added.
        let d = yaml_diff("x", None, Some(&deployment(1, "carts:1")));
        assert!(d.contains("+kind: Deployment"));
    }
}
