//! The Prometheus source: range queries for the graph on screen, re-run every 15 s and
//! whenever the graph or the plot width changes. The step follows the width, as in Grafana.
use super::kube::one_line;
use crate::app::Msg;
use crate::app::msg::MetricsEvent;
use crate::app::state::Series;
use crate::config::GraphSpec;
use prometheus_http_query::Client;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::watch;

/// How far back the graphs reach.
pub const RANGE_SECS: i64 = 12 * 3600;
const REFRESH: Duration = Duration::from_secs(15);
/// Series drawn at most; the rest are summarised in the legend.
pub const MAX_SERIES: usize = 8;

/// The graph to show and the plot width in cells.
pub type View = Option<(usize, u16)>;

/// The step in seconds for a plot `width` cells wide: about one point per cell, never
/// finer than the scrape interval.
pub fn step_for(range: i64, width: u16) -> f64 {
    ((range as f64 / width.max(1) as f64).ceil()).max(15.0)
}

/// A legend label: the chosen label's value, else the series' labels.
pub fn series_label(
    metric: &std::collections::HashMap<String, String>,
    label: Option<&str>,
) -> String {
    if let Some(v) = label.and_then(|l| metric.get(l)) {
        return v.clone();
    }
    let mut pairs: Vec<_> = metric
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        metric
            .get("__name__")
            .cloned()
            .unwrap_or_else(|| "value".into())
    } else {
        pairs.join(",")
    }
}

pub async fn query(
    client: &Client,
    g: &GraphSpec,
    width: u16,
    now: i64,
) -> Result<(f64, f64, Vec<Series>), String> {
    let step = step_for(RANGE_SECS, width);
    // The range ends on a multiple of the step, as Grafana aligns it: points stay put
    // between refreshes, so a refresh that brings nothing new draws nothing.
    let end = now - now % step as i64;
    let start = end - RANGE_SECS;
    let res = client
        .query_range(&g.query, start, end, step)
        .get()
        .await
        .map_err(|e| one_line(&e))?;
    let matrix = res
        .data()
        .as_matrix()
        .ok_or("the query did not return a range vector")?;
    let mut series: Vec<Series> = matrix
        .iter()
        .map(|rv| Series {
            label: series_label(rv.metric(), g.label.as_deref()),
            points: rv
                .samples()
                .iter()
                .map(|s| (s.timestamp(), s.value()))
                .filter(|(_, v)| v.is_finite())
                .collect(),
        })
        .collect();
    series.sort_by(|a, b| a.label.cmp(&b.label));
    series.truncate(MAX_SERIES);
    Ok((start as f64, end as f64, series))
}

/// Starts the poller. Without a URL the pane says so and nothing runs.
pub fn spawn(url: Option<String>, graphs: Vec<GraphSpec>, tx: Sender<Msg>) -> watch::Sender<View> {
    let (view_tx, mut view_rx) = watch::channel(None);
    tokio::spawn(async move {
        let Some(url) = url else { return };
        let http = match reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                let _ = tx
                    .send(Msg::Metrics(MetricsEvent::Failed(one_line(&e))))
                    .await;
                return;
            }
        };
        let client = match Client::from(http, &url) {
            Ok(c) => c,
            Err(e) => {
                let _ = tx
                    .send(Msg::Metrics(MetricsEvent::Failed(format!(
                        "prometheus URL {url}: {}",
                        one_line(&e)
                    ))))
                    .await;
                return;
            }
        };
        loop {
            let view = *view_rx.borrow_and_update();
            if let Some((graph, width)) = view
                && let Some(g) = graphs.get(graph)
            {
                let now = chrono::Utc::now().timestamp();
                let ev = match query(&client, g, width, now).await {
                    Ok((start, end, series)) => MetricsEvent::Data {
                        graph,
                        start,
                        end,
                        series,
                    },
                    Err(e) => MetricsEvent::Failed(format!("{url}: {e}")),
                };
                if tx.send(Msg::Metrics(ev)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                changed = view_rx.changed() => if changed.is_err() { return },
                _ = tokio::time::sleep(REFRESH) => {}
            }
        }
    });
    view_tx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligned_ends_do_not_move_within_a_step() {
        let step = step_for(RANGE_SECS, 100) as i64;
        let a = 1_795_600_000 - 1_795_600_000 % step;
        let b = (1_795_600_000 + step - 1) - (1_795_600_000 + step - 1) % step;
        assert!(b == a || b == a + step);
        assert_eq!(a % step, 0);
    }

    #[test]
    fn step_follows_width() {
        assert_eq!(step_for(43_200, 100), 432.0);
        assert_eq!(step_for(600, 100), 15.0);
        assert_eq!(step_for(43_200, 0), 43_200.0);
    }

    #[test]
    fn labels() {
        let m: std::collections::HashMap<String, String> =
            [("__name__", "x"), ("volumename", "pvc-1"), ("job", "px")]
                .map(|(a, b)| (a.into(), b.into()))
                .into_iter()
                .collect();
        assert_eq!(series_label(&m, Some("volumename")), "pvc-1");
        assert_eq!(series_label(&m, Some("nope")), "job=px,volumename=pvc-1");
    }
}
