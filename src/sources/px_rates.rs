//! Write throughput of Portworx volumes from Prometheus, for the storage pane's table.
//! One instant query every 15 s; without px_* metrics the answer is empty and the
//! column stays hidden.
use crate::app::Msg;
use crate::app::msg::StorageEvent;
use prometheus_http_query::Client;
use prometheus_http_query::response::InstantVector;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

const EVERY: Duration = Duration::from_secs(15);
/// `volumename` is the Portworx volume name (the PV name); several nodes may report one.
const QUERY: &str = "max by (volumename) (px_volume_writethroughput)";

/// Bytes per second by volume name, sorted by name.
pub fn rates(v: &[InstantVector]) -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = v
        .iter()
        .filter_map(|s| {
            let name = s.metric().get("volumename")?;
            let value = s.sample().value();
            value.is_finite().then(|| (name.clone(), value))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Polls until the UI goes away. Errors are left to the metrics pane, which reports
/// the same Prometheus; the column keeps its last values.
pub fn spawn(client: Client, tx: Sender<Msg>) {
    tokio::spawn(async move {
        loop {
            if let Ok(r) = client.query(QUERY).get().await
                && let Some(v) = r.data().as_vector()
                && tx
                    .send(Msg::Storage(StorageEvent::Rates(rates(v))))
                    .await
                    .is_err()
            {
                return;
            }
            tokio::time::sleep(EVERY).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_by_volume_name_skip_unnamed_and_missing_values() {
        let v: Vec<InstantVector> = serde_json::from_str(
            r#"[
              {"metric": {"volumename": "pvc-b"}, "value": [1714564800, "2048"]},
              {"metric": {"volumename": "pvc-a"}, "value": [1714564800, "1.5"]},
              {"metric": {}, "value": [1714564800, "7"]},
              {"metric": {"volumename": "pvc-c"}, "value": [1714564800, "NaN"]}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            rates(&v),
            [("pvc-a".to_string(), 1.5), ("pvc-b".to_string(), 2048.0)]
        );
    }
}
