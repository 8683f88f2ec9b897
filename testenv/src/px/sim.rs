//! Simulator-only routes, outside the SDK's /v1 namespace: volume content that tests
//! write and read, and failure injection. They take the same bearer tokens as the
//! SDK: reading content needs a view or admin token, everything else an admin token.
use super::api::{Reply, Sim, role_of};
use super::auth::Role;
use super::model::{Code, MAX_DATA, SdkError, err};
use super::wire::omit_defaults;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use serde_json::{Value, json};
use std::time::Instant;

pub fn router() -> Router<Sim> {
    Router::new()
        .route(
            "/sim/volumes/{id}/data",
            put(write_data)
                .get(read_data)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/sim/volumes/{id}/replicas", put(set_replicas))
        .route(
            "/sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
}

fn allowed(sim: &Sim, headers: &HeaderMap, what: &str, write: bool) -> Result<(), SdkError> {
    let role = role_of(sim, headers)?;
    let ok = if write {
        role == Role::Admin
    } else {
        role.may_read()
    };
    if ok {
        Ok(())
    } else {
        Err(err(
            Code::PermissionDenied,
            format!("Access denied to {what}"),
        ))
    }
}

fn with_cluster<T>(sim: &Sim, f: impl FnOnce(&mut super::model::Cluster) -> T) -> T {
    let mut c = sim.cluster.lock().expect("simulator state lock");
    c.tick(Instant::now());
    f(&mut c)
}

/// 413 with a grpc-gateway style body; ResourceExhausted is the nearest gRPC code.
fn too_large(message: String) -> Response {
    let body =
        json!({"error": message, "code": Code::ResourceExhausted as i32, "message": message});
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response()
}

/// `PUT /sim/volumes/{id}/data` with the raw content as the body.
async fn write_data(
    State(s): State<Sim>,
    h: HeaderMap,
    Path(id): Path<String>,
    body: Body,
) -> Response {
    if let Err(e) = allowed(&s, &h, "/sim/volumes/data", true) {
        return Reply(Err(e)).into_response();
    }
    let limit = format!("the simulator keeps at most {MAX_DATA} bytes per volume");
    let declared = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_DATA as u64) {
        return too_large(format!("Volume data of {n} bytes is too large: {limit}"));
    }
    let data = match axum::body::to_bytes(body, MAX_DATA).await {
        Ok(d) => d,
        Err(_) => return too_large(format!("Volume data is too large: {limit}")),
    };
    let len = data.len();
    let res = with_cluster(&s, |c| c.write_data(&id, data));
    Reply(res.map(|()| json!({"volume_id": id, "bytes": len}))).into_response()
}

/// `GET /sim/volumes/{id}/data`: the raw content as application/octet-stream.
async fn read_data(State(s): State<Sim>, h: HeaderMap, Path(id): Path<String>) -> Response {
    let res: Result<Bytes, SdkError> = allowed(&s, &h, "/sim/volumes/data", false)
        .and_then(|()| with_cluster(&s, |c| c.read_data(&id)));
    match res {
        Ok(d) => ([(header::CONTENT_TYPE, "application/octet-stream")], d).into_response(),
        Err(e) => Reply(Err(e)).into_response(),
    }
}

/// `PUT /sim/volumes/{id}/replicas {"count": n}`: a volume with fewer replicas than its
/// HA level reports VOLUME_STATUS_DEGRADED.
async fn set_replicas(
    State(s): State<Sim>,
    h: HeaderMap,
    Path(id): Path<String>,
    b: Bytes,
) -> Reply {
    let res = allowed(&s, &h, "/sim/volumes/replicas", true).and_then(|()| {
        let body: Value = serde_json::from_slice(&b)
            .map_err(|e| err(Code::InvalidArgument, format!("replicas body: {e}")))?;
        let count = body["count"].as_u64().unwrap_or(0) as usize;
        with_cluster(&s, |c| c.set_replicas(&id, count))
    });
    Reply(res)
}

async fn list_faults(State(s): State<Sim>, h: HeaderMap) -> Reply {
    Reply(allowed(&s, &h, "/sim/faults", true).map(|()| with_cluster(&s, |c| c.faults.json())))
}

/// `POST /sim/faults {"op","count","code","message","volume_id"}`.
async fn add_fault(State(s): State<Sim>, h: HeaderMap, b: Bytes) -> Reply {
    let res = allowed(&s, &h, "/sim/faults", true).and_then(|()| {
        let body: Value = serde_json::from_slice(&b)
            .map_err(|e| err(Code::InvalidArgument, format!("fault body: {e}")))?;
        with_cluster(&s, |c| c.faults.add(&body))
    });
    Reply(res.map(omit_defaults))
}

async fn clear_faults(State(s): State<Sim>, h: HeaderMap) -> Reply {
    Reply(allowed(&s, &h, "/sim/faults", true).map(|()| {
        with_cluster(&s, |c| c.faults.clear());
        json!({})
    }))
}
