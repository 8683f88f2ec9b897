//! jsonpb encoding rules of the grpc-gateway, as helpers for building responses.
use serde_json::{Map, Value};

/// An int64/uint64 field: a JSON string, omitted when zero.
pub fn int64(v: impl Into<i128>) -> Value {
    let v = v.into();
    if v == 0 {
        Value::Null
    } else {
        Value::String(v.to_string())
    }
}

/// Removes what jsonpb with EmitDefaults=false leaves out: nulls, false, "", 0, [] and {}.
/// The top level object itself is kept, so an empty response is `{}`.
pub fn omit_defaults(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(prune_map(map)),
        other => other,
    }
}

fn prune_map(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter()
        .filter_map(|(k, v)| prune(v).map(|v| (k, v)))
        .collect()
}

fn prune(v: Value) -> Option<Value> {
    match v {
        Value::Null | Value::Bool(false) => None,
        Value::String(s) if s.is_empty() => None,
        Value::Number(n) if n.as_f64() == Some(0.0) => None,
        Value::Array(items) => {
            let items: Vec<Value> = items.into_iter().map(omit_defaults).collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(map) => {
            let map = prune_map(map);
            (!map.is_empty()).then_some(Value::Object(map))
        }
        other => Some(other),
    }
}

/// Reads an int64 field that a client may send as a string or a number.
pub fn read_i64(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

/// Reads a string map such as `labels`.
pub fn read_labels(v: Option<&Value>) -> std::collections::BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads a string field by its proto name or its lowerCamelCase name.
pub fn read_str<'a>(body: &'a Value, proto: &str) -> &'a str {
    body.get(proto)
        .or_else(|| body.get(camel(proto).as_str()))
        .and_then(Value::as_str)
        .unwrap_or("")
}

pub fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn zero_values_are_omitted_and_int64_are_strings() {
        let v = omit_defaults(json!({
            "id": "1", "readonly": false, "usage": int64(0u64), "size": int64(20u64),
            "error": "", "replica_sets": [], "spec": {"sticky": false}, "aggregation_level": 1,
            "depth": 0
        }));
        assert_eq!(v, json!({"id": "1", "size": "20", "aggregation_level": 1}));
        assert_eq!(omit_defaults(json!({"x": {}})), json!({}));
    }

    #[test]
    fn reads_accept_both_encodings_and_names() {
        assert_eq!(read_i64(Some(&json!("42"))), 42);
        assert_eq!(read_i64(Some(&json!(42))), 42);
        assert_eq!(read_str(&json!({"volumeId": "v"}), "volume_id"), "v");
        assert_eq!(read_str(&json!({"volume_id": "w"}), "volume_id"), "w");
    }
}
