//! The describe view: the fields that matter for a kind, its conditions, owners and
//! recent events, as lines. Pure, so it is tested on fixtures.
use crate::app::cluster::{Kind, age};
use k8s_openapi::api::core::v1::Event;
use serde_json::Value;

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

fn map(v: &Value) -> String {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", s(v)))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn field(out: &mut Vec<String>, name: &str, value: impl Into<String>) {
    let value = value.into();
    if !value.is_empty() {
        out.push(format!("{:<14}{value}", format!("{name}:")));
    }
}

fn containers(out: &mut Vec<String>, spec: &Value, status: &Value) {
    let statuses = status["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    out.push("Containers:".into());
    for c in spec["containers"].as_array().into_iter().flatten() {
        let name = s(&c["name"]);
        let st = statuses.iter().find(|x| x["name"] == c["name"]);
        let state = st
            .and_then(|x| x["state"].as_object())
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_else(|| "waiting".into());
        let ready = st.is_some_and(|x| x["ready"] == true);
        let restarts = st
            .map(|x| s(&x["restartCount"]))
            .unwrap_or_else(|| "0".into());
        out.push(format!(
            "  {name}: {} · {state} · ready {ready} · restarts {restarts}",
            s(&c["image"])
        ));
        for p in c["ports"].as_array().into_iter().flatten() {
            out.push(format!(
                "    port {}/{}",
                s(&p["containerPort"]),
                p["protocol"].as_str().unwrap_or("TCP")
            ));
        }
    }
}

fn kind_fields(out: &mut Vec<String>, kind: Kind, v: &Value) {
    let (spec, status) = (&v["spec"], &v["status"]);
    match kind {
        Kind::Pod => {
            field(out, "Node", s(&spec["nodeName"]));
            field(out, "Phase", s(&status["phase"]));
            field(out, "IP", s(&status["podIP"]));
            field(out, "QoS", s(&status["qosClass"]));
            containers(out, spec, status);
            let claims: Vec<String> = spec["volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    v["persistentVolumeClaim"]["claimName"]
                        .as_str()
                        .map(String::from)
                })
                .collect();
            field(out, "Claims", claims.join(", "));
        }
        Kind::Deployment | Kind::StatefulSet | Kind::DaemonSet => {
            if kind == Kind::DaemonSet {
                field(
                    out,
                    "Scheduled",
                    format!(
                        "{} desired, {} ready",
                        s(&status["desiredNumberScheduled"]),
                        s(&status["numberReady"])
                    ),
                );
            } else {
                let ready = status["readyReplicas"].as_i64().unwrap_or(0);
                let updated = status["updatedReplicas"].as_i64().unwrap_or(0);
                field(
                    out,
                    "Replicas",
                    format!(
                        "{} desired, {ready} ready, {updated} updated",
                        s(&spec["replicas"])
                    ),
                );
            }
            field(out, "Selector", map(&spec["selector"]["matchLabels"]));
            let strategy = spec["strategy"]["type"]
                .as_str()
                .or(spec["updateStrategy"]["type"].as_str())
                .unwrap_or("");
            field(out, "Strategy", strategy);
            let images: Vec<String> = spec["template"]["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| format!("{}={}", s(&c["name"]), s(&c["image"])))
                .collect();
            field(out, "Images", images.join(", "));
            let claims: Vec<String> = spec["volumeClaimTemplates"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| {
                    format!(
                        "{} ({} {})",
                        s(&c["metadata"]["name"]),
                        s(&c["spec"]["storageClassName"]),
                        s(&c["spec"]["resources"]["requests"]["storage"])
                    )
                })
                .collect();
            field(out, "Claims", claims.join(", "));
        }
        Kind::Job => {
            field(
                out,
                "Completions",
                format!(
                    "{} succeeded of {}",
                    status["succeeded"].as_i64().unwrap_or(0),
                    spec["completions"].as_i64().unwrap_or(1)
                ),
            );
            field(out, "Failed", s(&status["failed"]));
        }
        Kind::CronJob => {
            field(out, "Schedule", s(&spec["schedule"]));
            field(out, "Suspend", s(&spec["suspend"]));
            field(out, "Last run", s(&status["lastScheduleTime"]));
        }
        Kind::Service => {
            field(out, "Type", s(&spec["type"]));
            field(out, "Cluster IP", s(&spec["clusterIP"]));
            let ports: Vec<String> = spec["ports"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    format!(
                        "{}→{}/{}",
                        s(&p["port"]),
                        s(&p["targetPort"]),
                        s(&p["protocol"])
                    )
                })
                .collect();
            field(out, "Ports", ports.join(", "));
            field(out, "Selector", map(&spec["selector"]));
        }
        Kind::Ingress => {
            let hosts: Vec<String> = spec["rules"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| s(&r["host"]))
                .collect();
            field(out, "Hosts", hosts.join(", "));
        }
        Kind::ConfigMap | Kind::Secret => {
            if kind == Kind::Secret {
                field(out, "Type", s(&v["type"]));
            }
            // Keys only; for Secrets the values were redacted before reaching here.
            let keys: Vec<String> = ["data", "binaryData", "stringData"]
                .iter()
                .flat_map(|f| {
                    v[*f]
                        .as_object()
                        .into_iter()
                        .flat_map(|m| m.keys().cloned())
                })
                .collect();
            field(out, "Keys", keys.join(", "));
        }
        Kind::Pvc => {
            field(out, "Status", s(&status["phase"]));
            field(out, "Volume", s(&spec["volumeName"]));
            field(out, "Capacity", s(&status["capacity"]["storage"]));
            field(out, "Class", s(&spec["storageClassName"]));
            field(
                out,
                "Access",
                spec["accessModes"]
                    .as_array()
                    .map(|a| a.iter().map(s).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
            );
        }
        Kind::Pv => {
            field(out, "Status", s(&status["phase"]));
            field(
                out,
                "Claim",
                format!(
                    "{}/{}",
                    s(&spec["claimRef"]["namespace"]),
                    s(&spec["claimRef"]["name"])
                ),
            );
            field(out, "Capacity", s(&spec["capacity"]["storage"]));
            field(out, "Reclaim", s(&spec["persistentVolumeReclaimPolicy"]));
            field(out, "Driver", s(&spec["csi"]["driver"]));
            field(out, "Volume id", s(&spec["csi"]["volumeHandle"]));
        }
        Kind::VolumeSnapshot => {
            field(
                out,
                "Source",
                s(&spec["source"]["persistentVolumeClaimName"]),
            );
            field(out, "Class", s(&spec["volumeSnapshotClassName"]));
            field(out, "Ready", s(&status["readyToUse"]));
            field(out, "Restore size", s(&status["restoreSize"]));
            field(out, "Content", s(&status["boundVolumeSnapshotContentName"]));
            field(out, "Error", s(&status["error"]["message"]));
        }
        Kind::Namespace => field(out, "Phase", s(&status["phase"])),
    }
}

pub fn describe(
    kind: Kind,
    v: &Value,
    owners: &[String],
    events: &[Event],
    now: i64,
) -> Vec<String> {
    let meta = &v["metadata"];
    let mut out = Vec::new();
    field(&mut out, "Name", s(&meta["name"]));
    field(&mut out, "Namespace", s(&meta["namespace"]));
    field(
        &mut out,
        "Kind",
        format!("{} ({})", kind.label(), s(&v["apiVersion"])),
    );
    field(&mut out, "Created", s(&meta["creationTimestamp"]));
    field(&mut out, "Labels", map(&meta["labels"]));
    field(&mut out, "Owners", owners.join(" → "));
    kind_fields(&mut out, kind, v);
    if let Some(conds) = v["status"]["conditions"]
        .as_array()
        .filter(|c| !c.is_empty())
    {
        out.push("Conditions:".into());
        for c in conds {
            let msg = s(&c["message"]);
            out.push(
                format!(
                    "  {:<16} {:<6} {} {}",
                    s(&c["type"]),
                    s(&c["status"]),
                    s(&c["reason"]),
                    msg
                )
                .trim_end()
                .to_string(),
            );
        }
    }
    out.push("Events:".into());
    if events.is_empty() {
        out.push("  none".into());
    }
    for e in events {
        let t = e
            .last_timestamp
            .as_ref()
            .map(|t| t.0.as_second())
            .or_else(|| e.event_time.as_ref().map(|t| t.0.as_second()))
            .unwrap_or(now);
        out.push(format!(
            "  {:>4} {:<8} {:<18} {}",
            age(now, t),
            e.type_.clone().unwrap_or_default(),
            e.reason.clone().unwrap_or_default(),
            e.message
                .clone()
                .unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn describes_a_pod_with_conditions_owners_and_events() {
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "db-0", "namespace": "shop", "labels": {"app": "db"}, "creationTimestamp": "2026-11-25T10:00:00Z"},
            "spec": {"nodeName": "node-2", "containers": [{"name": "mysql", "image": "mysql:8.0.36", "ports": [{"containerPort": 3306}]}],
                "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}]},
            "status": {"phase": "Running", "podIP": "10.244.2.7", "conditions": [{"type": "Ready", "status": "False", "reason": "ContainersNotReady"}],
                "containerStatuses": [{"name": "mysql", "ready": false, "restartCount": 4, "state": {"running": {}}}]}
        });
        let ev: Event = serde_json::from_value(json!({"metadata": {"name": "e"}, "involvedObject": {}, "type": "Warning", "reason": "Unhealthy",
            "message": "Readiness probe\n failed", "lastTimestamp": "2026-11-25T11:58:00Z"})).unwrap();
        let now = 1_795_608_000; // 2026-11-25T12:00:00Z
        let lines = describe(Kind::Pod, &pod, &["StatefulSet/db".into()], &[ev], now);
        let text = lines.join("\n");
        for want in [
            "Name:         db-0",
            "Node:         node-2",
            "Owners:       StatefulSet/db",
            "mysql: mysql:8.0.36 · running · ready false · restarts 4",
            "port 3306/TCP",
            "Claims:       data-db-0",
            "Ready            False  ContainersNotReady",
            "2m Warning  Unhealthy          Readiness probe failed",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
    }

    #[test]
    fn a_secret_describes_keys_not_values() {
        let mut v = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "creds"}, "data": {"password": "aHVudGVyMg=="}});
        super::super::objects::clean(Kind::Secret, &mut v);
        let text = describe(Kind::Secret, &v, &[], &[], 0).join("\n");
        assert!(text.contains("Keys:         password"));
        assert!(!text.contains("aHVudGVyMg"));
    }
}
