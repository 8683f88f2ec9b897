//! Whether a workload has finished rolling out, read from its status the way
//! `kubectl rollout status` does.
use serde_json::Value;

/// Kinds whose rollout a sync waits for.
pub fn is_workload(kind: &str) -> bool {
    matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet")
}

/// (done, progress text) for a workload; None for other kinds.
pub fn status(obj: &Value) -> Option<(bool, String)> {
    let kind = obj.get("kind")?.as_str()?;
    if !is_workload(kind) {
        return None;
    }
    let n = |p: &str| obj.pointer(p).and_then(Value::as_i64).unwrap_or(0);
    let generation = n("/metadata/generation");
    if n("/status/observedGeneration") < generation {
        return Some((
            false,
            "waiting for the controller to see the new spec".into(),
        ));
    }
    let (want, updated, ready) = match kind {
        "DaemonSet" => (
            n("/status/desiredNumberScheduled"),
            n("/status/updatedNumberScheduled"),
            n("/status/numberReady"),
        ),
        _ => (
            obj.pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1),
            n("/status/updatedReplicas"),
            n("/status/readyReplicas"),
        ),
    };
    // A Deployment's old pods linger until the new ones are available.
    let total = match kind {
        "Deployment" => n("/status/replicas"),
        _ => want,
    };
    let revision_done = kind != "StatefulSet"
        || obj.pointer("/status/currentRevision") == obj.pointer("/status/updateRevision")
        || obj.pointer("/status/updateRevision").is_none();
    let done = updated >= want && ready >= want && total <= want && revision_done;
    Some((done, format!("{updated}/{want} updated, {ready} ready")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(
        generation: i64,
        observed: i64,
        spec: i64,
        replicas: i64,
        updated: i64,
        ready: i64,
    ) -> Value {
        json!({
            "kind": "Deployment",
            "metadata": {"generation": generation},
            "spec": {"replicas": spec},
            "status": {"observedGeneration": observed, "replicas": replicas,
                       "updatedReplicas": updated, "readyReplicas": ready}
        })
    }

    #[test]
    fn deployments_are_done_when_every_replica_is_new_and_ready() {
        assert_eq!(
            status(&deploy(2, 2, 3, 3, 3, 3)),
            Some((true, "3/3 updated, 3 ready".into()))
        );
        assert!(
            !status(&deploy(2, 1, 3, 3, 3, 3)).unwrap().0,
            "not observed yet"
        );
        assert!(
            !status(&deploy(2, 2, 3, 4, 3, 3)).unwrap().0,
            "an old pod remains"
        );
        assert!(!status(&deploy(2, 2, 3, 3, 2, 3)).unwrap().0);
        assert!(!status(&deploy(2, 2, 3, 3, 3, 2)).unwrap().0);
    }

    #[test]
    fn statefulsets_wait_for_the_update_revision() {
        let mut s = json!({
            "kind": "StatefulSet",
            "metadata": {"generation": 1},
            "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "updatedReplicas": 1, "readyReplicas": 1,
                       "currentRevision": "a", "updateRevision": "b"}
        });
        assert!(!status(&s).unwrap().0);
        s["status"]["currentRevision"] = json!("b");
        assert!(status(&s).unwrap().0);
    }

    #[test]
    fn daemonsets_and_other_kinds() {
        let d = json!({
            "kind": "DaemonSet", "metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 2,
                       "updatedNumberScheduled": 2, "numberReady": 1}
        });
        assert_eq!(status(&d), Some((false, "2/2 updated, 1 ready".into())));
        assert_eq!(status(&json!({"kind": "ConfigMap"})), None);
    }
}
