//! The REST gateway routes, with grpc-gateway's error bodies and status codes.
use super::auth::{self, Role};
use super::model::{Cluster, Code, SdkError, SdkResult, err};
use super::wire::{omit_defaults, read_labels, read_str};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Clone)]
pub struct Sim {
    pub cluster: Arc<Mutex<Cluster>>,
    pub secret: Arc<Vec<u8>>,
}

pub struct Reply(pub SdkResult);

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.0 {
            Ok(v) => Json(omit_defaults(v)).into_response(),
            Err(SdkError { code, message }) => {
                let status = StatusCode::from_u16(code.http_status())
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let body = json!({ "error": message, "code": code as i32, "message": message });
                (status, Json(body)).into_response()
            }
        }
    }
}

/// Runs `f` on the cluster after checking the caller may `write` (or read).
fn call(
    sim: &Sim,
    headers: &HeaderMap,
    method: &str,
    write: bool,
    f: impl FnOnce(&mut Cluster, Role) -> SdkResult,
) -> Reply {
    call_on(sim, headers, method, write, "", f)
}

/// The caller's role from its bearer token; no header is a guest.
pub(super) fn role_of(sim: &Sim, headers: &HeaderMap) -> Result<Role, SdkError> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    auth::role(&sim.secret, auth)
}

/// As `call`, for a call about the volume `target`, which an injected fault may name.
fn call_on(
    sim: &Sim,
    headers: &HeaderMap,
    method: &str,
    write: bool,
    target: &str,
    f: impl FnOnce(&mut Cluster, Role) -> SdkResult,
) -> Reply {
    let role = match role_of(sim, headers) {
        Ok(r) => r,
        Err(e) => return Reply(Err(e)),
    };
    // Guests may call read methods but see no volume (see `visible`); writes need admin.
    if write && !role.may_write() {
        return Reply(Err(err(
            Code::PermissionDenied,
            format!("Access denied to {method}"),
        )));
    }
    let mut cluster = sim.cluster.lock().expect("simulator state lock");
    cluster.tick(Instant::now());
    if let Some(e) = cluster.faults.take(method, target) {
        return Reply(Err(e));
    }
    Reply(f(&mut cluster, role))
}

/// The volume a request body is about: its volume_id, else parent_id, else name.
fn target_of(body: &Value) -> String {
    ["volume_id", "parent_id", "name"]
        .iter()
        .map(|k| read_str(body, k))
        .find(|v| !v.is_empty())
        .unwrap_or("")
        .to_string()
}

fn body_json(body: &Bytes) -> Result<Value, SdkError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|e| err(Code::InvalidArgument, e.to_string()))
}

fn with_body(
    sim: &Sim,
    headers: &HeaderMap,
    method: &str,
    write: bool,
    body: Bytes,
    f: impl FnOnce(&mut Cluster, Role, Value) -> SdkResult,
) -> Reply {
    match body_json(&body) {
        Ok(b) => {
            let target = target_of(&b);
            call_on(sim, headers, method, write, &target, |c, r| f(c, r, b))
        }
        Err(e) => Reply(Err(e)),
    }
}

const VOL: &str = "/openstorage.api.OpenStorageVolume/";

/// Guests see no volumes: none is public in the simulator.
fn visible(role: Role) -> impl Fn(&super::model::Volume) -> bool {
    move |_| role != Role::Guest
}

fn guard_read(role: Role, id: &str) -> Result<(), SdkError> {
    if role == Role::Guest {
        Err(err(
            Code::PermissionDenied,
            format!("Access denied to volume {id}"),
        ))
    } else {
        Ok(())
    }
}

pub fn router(sim: Sim) -> Router {
    Router::new()
        .route("/v1/identities/version", get(version))
        .route("/v1/clusters/inspectcurrent", get(cluster))
        .route("/v1/nodes", get(node_ids))
        .route("/v1/nodes/filters", get(nodes))
        .route("/v1/nodes/inspectcurrent", get(node_current))
        .route("/v1/nodes/inspect/{id}", get(node))
        .route("/v1/volumes", get(volume_ids).post(create))
        .route("/v1/volumes/filters", post(enumerate))
        .route("/v1/volumes/inspect/{id}", get(inspect))
        .route("/v1/volumes/inspectwithfilters", post(inspect_filtered))
        .route("/v1/volumes/stats/{id}", get(stats))
        .route("/v1/volumes/usage/{id}", get(usage))
        .route("/v1/volumes/snapshots", get(snapshot_ids).post(snapshot))
        .route(
            "/v1/volumes/snapshots/filters/{id}",
            post(snapshot_ids_filtered),
        )
        .route("/v1/volumes/snapshots/restore", post(restore))
        .route("/v1/volumes/clone", post(clone))
        .route("/v1/volumes/{id}", delete(remove))
        .route("/v1/mountattach/attach", post(attach))
        .route("/v1/mountattach/detach", post(detach))
        .merge(super::sim::router())
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                "Not Found\n",
            )
        })
        .with_state(sim)
}

async fn version(State(s): State<Sim>, h: HeaderMap) -> Reply {
    call(
        &s,
        &h,
        "/openstorage.api.OpenStorageIdentity/Version",
        false,
        |_, _| {
            Ok(json!({
                "sdk_version": { "major": 0, "minor": 186, "patch": 0, "version": "0.186.0" },
                "version": { "driver": "pxd", "version": "3.1.0.0-sim", "details": { "simulator": "sextant testenv" } }
            }))
        },
    )
}

async fn cluster(State(s): State<Sim>, h: HeaderMap) -> Reply {
    call(
        &s,
        &h,
        "/openstorage.api.OpenStorageCluster/InspectCurrent",
        false,
        |c, _| Ok(c.cluster_json()),
    )
}

async fn node_ids(State(s): State<Sim>, h: HeaderMap) -> Reply {
    call(
        &s,
        &h,
        "/openstorage.api.OpenStorageNode/Enumerate",
        false,
        |c, _| Ok(json!({ "node_ids": c.nodes.iter().map(|n| n.id.clone()).collect::<Vec<_>>() })),
    )
}

async fn nodes(State(s): State<Sim>, h: HeaderMap) -> Reply {
    call(
        &s,
        &h,
        "/openstorage.api.OpenStorageNode/EnumerateWithFilters",
        false,
        |c, _| Ok(json!({ "nodes": c.nodes.iter().map(|n| c.node_json(n)).collect::<Vec<_>>() })),
    )
}

async fn node_current(State(s): State<Sim>, h: HeaderMap) -> Reply {
    call(
        &s,
        &h,
        "/openstorage.api.OpenStorageNode/InspectCurrent",
        false,
        |c, _| Ok(json!({ "node": c.node_json(&c.nodes[0]) })),
    )
}

async fn node(State(s): State<Sim>, h: HeaderMap, Path(id): Path<String>) -> Reply {
    call(
        &s,
        &h,
        "/openstorage.api.OpenStorageNode/Inspect",
        false,
        |c, _| {
            let n = c
                .nodes
                .iter()
                .find(|n| n.id == id)
                .ok_or_else(|| err(Code::NotFound, format!("Node id {id} not found")))?;
            Ok(json!({ "node": c.node_json(n) }))
        },
    )
}

async fn volume_ids(State(s): State<Sim>, h: HeaderMap) -> Reply {
    call(&s, &h, &format!("{VOL}Enumerate"), false, |c, r| {
        Ok(
            json!({ "volume_ids": c.matching(&json!({}), visible(r)).map(|v| v.id.clone()).collect::<Vec<_>>() }),
        )
    })
}

async fn enumerate(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(
        &s,
        &h,
        &format!("{VOL}EnumerateWithFilters"),
        false,
        b,
        |c, r, body| {
            Ok(
                json!({ "volume_ids": c.matching(&body, visible(r)).map(|v| v.id.clone()).collect::<Vec<_>>() }),
            )
        },
    )
}

async fn create(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(&s, &h, &format!("{VOL}Create"), true, b, |c, _, body| {
        let spec = body.get("spec").cloned().unwrap_or(json!({}));
        c.create(
            read_str(&body, "name"),
            &spec,
            read_labels(body.get("labels")),
        )
    })
}

async fn inspect(State(s): State<Sim>, h: HeaderMap, Path(id): Path<String>) -> Reply {
    call_on(&s, &h, &format!("{VOL}Inspect"), false, &id, |c, r| {
        guard_read(r, &id)?;
        c.inspect(&id)
    })
}

async fn inspect_filtered(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(
        &s,
        &h,
        &format!("{VOL}InspectWithFilters"),
        false,
        b,
        |c, r, body| {
            let ids: Vec<String> = c
                .matching(&body, visible(r))
                .map(|v| v.id.clone())
                .collect();
            let vols = ids
                .iter()
                .map(|id| c.inspect(id))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(json!({ "volumes": vols }))
        },
    )
}

async fn stats(State(s): State<Sim>, h: HeaderMap, Path(id): Path<String>) -> Reply {
    call_on(&s, &h, &format!("{VOL}Stats"), false, &id, |c, r| {
        guard_read(r, &id)?;
        c.inspect(&id)?;
        let v = &c.volumes[&id];
        let io = super::metrics::Io::of(v, chrono::Utc::now().timestamp() as f64);
        use super::wire::int64;
        Ok(json!({ "stats": {
            "reads": int64(io.reads as u64), "read_ms": int64((io.reads * 0.4) as u64), "read_bytes": int64(io.read_bytes as u64),
            "writes": int64(io.writes as u64), "write_ms": int64((io.writes * 0.9) as u64), "write_bytes": int64(io.written_bytes as u64),
            "io_progress": int64(0u64), "io_ms": int64(((io.reads * 0.4) + (io.writes * 0.9)) as u64),
            "bytes_used": int64(Cluster::usage_at(v, chrono::Utc::now().timestamp())), "interval_ms": int64(0u64)
        }}))
    })
}

async fn usage(State(s): State<Sim>, h: HeaderMap, Path(id): Path<String>) -> Reply {
    call_on(
        &s,
        &h,
        &format!("{VOL}CapacityUsage"),
        false,
        &id,
        |c, r| {
            guard_read(r, &id)?;
            c.inspect(&id)?;
            let used = Cluster::usage_at(&c.volumes[&id], chrono::Utc::now().timestamp());
            use super::wire::int64;
            Ok(
                json!({ "capacity_usage_info": { "exclusive_bytes": int64(used / 10), "shared_bytes": int64(used - used / 10), "total_bytes": int64(used) } }),
            )
        },
    )
}

async fn snapshot_ids(
    State(s): State<Sim>,
    h: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Reply {
    let id = q
        .get("volume_id")
        .or_else(|| q.get("volumeId"))
        .cloned()
        .unwrap_or_default();
    call_on(
        &s,
        &h,
        &format!("{VOL}SnapshotEnumerate"),
        false,
        &id,
        |c, r| {
            let ids: Vec<String> = c
                .snapshots_of(&id)
                .filter(|v| visible(r)(v))
                .map(|v| v.id.clone())
                .collect();
            Ok(json!({ "volume_snapshot_ids": ids }))
        },
    )
}

async fn snapshot_ids_filtered(
    State(s): State<Sim>,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Bytes,
) -> Reply {
    with_body(
        &s,
        &h,
        &format!("{VOL}SnapshotEnumerateWithFilters"),
        false,
        b,
        |c, r, body| {
            let labels = read_labels(body.get("labels"));
            let ids: Vec<String> = c
                .snapshots_of(&id)
                .filter(|v| {
                    visible(r)(v) && labels.iter().all(|(k, val)| v.labels.get(k) == Some(val))
                })
                .map(|v| v.id.clone())
                .collect();
            Ok(json!({ "volume_snapshot_ids": ids }))
        },
    )
}

async fn snapshot(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(
        &s,
        &h,
        &format!("{VOL}SnapshotCreate"),
        true,
        b,
        |c, _, body| {
            c.snapshot(
                read_str(&body, "volume_id"),
                read_str(&body, "name"),
                read_labels(body.get("labels")),
            )
        },
    )
}

async fn restore(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(
        &s,
        &h,
        &format!("{VOL}SnapshotRestore"),
        true,
        b,
        |c, _, body| {
            c.restore(
                read_str(&body, "volume_id"),
                read_str(&body, "snapshot_id"),
                Instant::now(),
            )
        },
    )
}

async fn clone(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(&s, &h, &format!("{VOL}Clone"), true, b, |c, _, body| {
        let labels = read_labels(
            body.get("additional_labels")
                .or_else(|| body.get("additionalLabels")),
        );
        c.clone_volume(
            read_str(&body, "parent_id"),
            read_str(&body, "name"),
            labels,
        )
    })
}

async fn remove(State(s): State<Sim>, h: HeaderMap, Path(id): Path<String>) -> Reply {
    call_on(&s, &h, &format!("{VOL}Delete"), true, &id, |c, _| {
        c.delete(&id)
    })
}

async fn attach(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(
        &s,
        &h,
        "/openstorage.api.OpenStorageMountAttach/Attach",
        true,
        b,
        |c, _, body| {
            let node = body
                .get("driver_options")
                .and_then(|o| o.get("node"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            c.attach(read_str(&body, "volume_id"), &node)
        },
    )
}

async fn detach(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    with_body(
        &s,
        &h,
        "/openstorage.api.OpenStorageMountAttach/Detach",
        true,
        b,
        |c, _, body| c.detach(read_str(&body, "volume_id")),
    )
}
