//! Failure injection for tests: the next N calls of an SDK operation fail with a
//! chosen gRPC status, optionally only for one volume, so that tests running at the
//! same time against a shared simulator do not trip over each other's faults.
use super::model::{Code, SdkError, err};
use super::wire::{read_i64, read_str};
use serde_json::{Value, json};

const VOL: &str = "/openstorage.api.OpenStorageVolume/";

/// Short operation names and the SDK methods they stand for.
pub const OPS: &[(&str, &str)] = &[
    ("create", "Create"),
    ("inspect", "Inspect"),
    ("inspectwithfilters", "InspectWithFilters"),
    ("enumerate", "Enumerate"),
    ("enumeratewithfilters", "EnumerateWithFilters"),
    ("stats", "Stats"),
    ("capacityusage", "CapacityUsage"),
    ("snapshot", "SnapshotCreate"),
    ("snapshotenumerate", "SnapshotEnumerate"),
    (
        "snapshotenumeratewithfilters",
        "SnapshotEnumerateWithFilters",
    ),
    ("restore", "SnapshotRestore"),
    ("clone", "Clone"),
    ("delete", "Delete"),
    ("attach", "/openstorage.api.OpenStorageMountAttach/Attach"),
    ("detach", "/openstorage.api.OpenStorageMountAttach/Detach"),
    (
        "cluster",
        "/openstorage.api.OpenStorageCluster/InspectCurrent",
    ),
    ("nodes", "/openstorage.api.OpenStorageNode/Enumerate"),
    (
        "nodefilters",
        "/openstorage.api.OpenStorageNode/EnumerateWithFilters",
    ),
    ("node", "/openstorage.api.OpenStorageNode/Inspect"),
    (
        "nodecurrent",
        "/openstorage.api.OpenStorageNode/InspectCurrent",
    ),
    ("version", "/openstorage.api.OpenStorageIdentity/Version"),
];

/// The full gRPC method name of a short operation name or of a full name.
pub fn method_of(op: &str) -> Option<String> {
    let full = |m: &str| {
        if m.starts_with('/') {
            m.to_string()
        } else {
            format!("{VOL}{m}")
        }
    };
    OPS.iter()
        .map(|(_, m)| full(m))
        .find(|m| m == op)
        .or_else(|| {
            OPS.iter()
                .find(|(o, _)| o.eq_ignore_ascii_case(op))
                .map(|(_, m)| full(m))
        })
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub op: String,
    pub method: String,
    pub remaining: u32,
    pub code: Code,
    pub message: String,
    /// Only calls naming this volume (or snapshot, or clone parent) fail.
    pub volume_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct Faults {
    pending: Vec<Fault>,
}

impl Faults {
    /// Adds a fault from `{"op","count","code","message","volume_id"}`.
    pub fn add(&mut self, body: &Value) -> Result<Value, SdkError> {
        let op = read_str(body, "op");
        let method = method_of(op).ok_or_else(|| {
            let names: Vec<&str> = OPS.iter().map(|(o, _)| *o).collect();
            err(
                Code::InvalidArgument,
                format!(
                    "Unknown operation {op:?}: use one of {} or a full gRPC method name",
                    names.join(", ")
                ),
            )
        })?;
        let count = match body.get("count") {
            None => 1,
            Some(v) => read_i64(Some(v)),
        };
        if !(1..=10_000).contains(&count) {
            return Err(err(
                Code::InvalidArgument,
                format!("count must be between 1 and 10000, not {count}"),
            ));
        }
        let n = read_i64(body.get("code"));
        let code = Code::from_i64(n).ok_or_else(|| {
            err(
                Code::InvalidArgument,
                format!("code must be a gRPC status code from 1 to 16, not {n}"),
            )
        })?;
        let message = match read_str(body, "message") {
            "" => format!("injected fault in {method}"),
            m => m.to_string(),
        };
        let volume_id = Some(read_str(body, "volume_id").to_string()).filter(|v| !v.is_empty());
        self.pending.push(Fault {
            op: op.to_string(),
            method,
            remaining: count as u32,
            code,
            message,
            volume_id,
        });
        Ok(self.json())
    }

    /// The error for a call of `method` on `target` (a volume id, or ""), if a fault
    /// is pending for it; each failure uses up one of the fault's count.
    pub fn take(&mut self, method: &str, target: &str) -> Option<SdkError> {
        let i = self.pending.iter().position(|f| {
            f.method == method && f.volume_id.as_deref().is_none_or(|v| v == target)
        })?;
        let f = &mut self.pending[i];
        f.remaining -= 1;
        let e = err(f.code, f.message.clone());
        if f.remaining == 0 {
            self.pending.remove(i);
        }
        Some(e)
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn json(&self) -> Value {
        let list: Vec<Value> = self
            .pending
            .iter()
            .map(|f| {
                json!({"op": f.op, "method": f.method, "remaining": f.remaining,
                    "code": f.code as i32, "message": f.message, "volume_id": f.volume_id})
            })
            .collect();
        json!({ "faults": list })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fails_the_next_n_matching_calls_only() {
        let mut f = Faults::default();
        f.add(&json!({"op": "restore", "count": 2, "code": 14, "message": "px down", "volume_id": "7"}))
            .unwrap();
        let restore = format!("{VOL}SnapshotRestore");
        assert!(f.take(&restore, "8").is_none(), "another volume");
        assert!(
            f.take(&format!("{VOL}SnapshotCreate"), "7").is_none(),
            "another operation"
        );
        let e = f.take(&restore, "7").unwrap();
        assert_eq!((e.code, e.message.as_str()), (Code::Unavailable, "px down"));
        assert!(f.take(&restore, "7").is_some());
        assert!(f.take(&restore, "7").is_none(), "used up");
        assert_eq!(f.json(), json!({"faults": []}));
    }

    #[test]
    fn bad_faults_are_refused() {
        let mut f = Faults::default();
        for bad in [
            json!({"op": "frobnicate", "code": 14}),
            json!({"op": "restore", "code": 0}),
            json!({"op": "restore", "code": 17}),
            json!({"op": "restore", "code": 14, "count": 0}),
        ] {
            assert_eq!(
                f.add(&bad).unwrap_err().code,
                Code::InvalidArgument,
                "{bad}"
            );
        }
        f.add(&json!({"op": "/openstorage.api.OpenStorageVolume/Clone", "code": 13}))
            .unwrap();
        assert!(
            f.take(&format!("{VOL}Clone"), "any").is_some(),
            "full names and count 1 by default"
        );
    }
}
