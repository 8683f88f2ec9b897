//! The Prometheus source against the real Prometheus of the environment, whose
//! backfill holds series of known values (devenv/up.sh): the points sextant plots are
//! what Prometheus returns and what was written, gaps stay gaps, NaN stays NaN, the
//! step follows the width, and errors are told apart.
mod common;

use common::{env, init_crypto};
use sextant::app::state::Series;
use sextant::config::Unit;
use sextant::sources::prometheus::{GraphView, QueryError, query, step_for};

fn client() -> prometheus_http_query::Client {
    init_crypto();
    prometheus_http_query::Client::try_from(env("SEXTANT_TEST_PROMETHEUS").as_str()).unwrap()
}

fn known_end() -> i64 {
    env("SEXTANT_TEST_KNOWN_END").parse().unwrap()
}

fn view(query: &str, width: u16, range: i64) -> GraphView {
    GraphView {
        index: 0,
        query: query.into(),
        label: Some("series".into()),
        unit: Unit::None,
        width,
        range,
    }
}

/// The same range query straight from the HTTP API: (timestamp, value text) pairs.
async fn raw(query: &str, start: f64, end: f64, step: f64) -> Vec<(f64, String)> {
    let url = format!("{}/api/v1/query_range", env("SEXTANT_TEST_PROMETHEUS"));
    let body: serde_json::Value = reqwest::Client::new()
        .get(url)
        .query(&[
            ("query", query.to_string()),
            ("start", start.to_string()),
            ("end", end.to_string()),
            ("step", step.to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["data"]["result"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_str().unwrap().to_string()))
        .collect()
}

fn only(series: &[Series]) -> &Series {
    assert_eq!(series.len(), 1, "{series:?}");
    &series[0]
}

#[tokio::test]
async fn plotted_points_are_the_written_values_and_gaps_stay_gaps() {
    let c = client();
    let end = known_end();
    let start = end - 86_400;
    // 1,440 cells over 24 h: one point a minute, the samples' own spacing.
    let v = view(r#"sextant_known{series="ramp"}"#, 1440, 86_400);
    assert_eq!(step_for(v.range, v.width), 60.0);
    // Queried as if it were the known end, so the range is exactly the written one.
    let d = query(&c, &v, end).await.unwrap();
    let (qs, qe, step, series) = (d.start, d.end, d.step, d.series);
    assert_eq!((qs, qe, step), ((end - 86_400) as f64, end as f64, 60.0));
    let s = only(&series);
    assert_eq!(s.label, "ramp");
    // Equal to what Prometheus itself returns, point for point.
    let direct = raw(&v.query, qs, qe, step).await;
    assert_eq!(s.points.len(), direct.len());
    for ((t, v), (rt, rv)) in s.points.iter().zip(&direct) {
        assert_eq!((*t, *v), (*rt, rv.parse::<f64>().unwrap()));
    }
    // And to what was written: minute m has value m, Prometheus repeating the last
    // sample for up to 5 minutes into the gap and at the range's end (minute 1440).
    let minute = |t: f64| ((t as i64 - start) / 60) as f64;
    for (t, v) in &s.points {
        let m = minute(*t);
        if (600.0..630.0).contains(&m) {
            assert_eq!(*v, 599.0, "inside the gap only the stale last sample: {m}");
            assert!(m < 605.0, "a point at minute {m}, inside the gap");
        } else {
            assert_eq!(*v, m.min(1439.0), "minute {m}");
        }
    }
    let gap: Vec<_> = s
        .points
        .iter()
        .filter(|(t, _)| (605.0..630.0).contains(&minute(*t)))
        .collect();
    assert!(gap.is_empty(), "{gap:?}");
    // The chart sees the gap as samples further apart than 1.5 steps.
    let widest = s
        .points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .fold(0.0, f64::max);
    assert!(widest > 1.5 * step, "{widest}");
}

#[tokio::test]
async fn nan_samples_arrive_as_nan_not_zero() {
    let c = client();
    let end = known_end();
    let start = end - 86_400;
    let v = view(r#"sextant_known{series="nan"}"#, 1440, 86_400);
    let series = query(&c, &v, end).await.unwrap().series;
    let s = only(&series);
    let mut nans = 0;
    for (t, v) in &s.points {
        // The range's last point repeats the last sample.
        let m = ((*t as i64 - start) / 60).min(1439);
        if m % 10 == 5 {
            assert!(v.is_nan(), "minute {m}: {v}");
            nans += 1;
        } else {
            assert_eq!(*v, (m % 7) as f64, "minute {m}");
        }
    }
    assert!(nans >= 143, "{nans} NaN samples");
}

#[tokio::test]
async fn the_step_follows_the_plot_width() {
    let c = client();
    let end = known_end();
    for (width, range) in [(100u16, 6 * 3600), (240, 6 * 3600), (80, 86_400)] {
        let v = view(r#"sextant_known{series="ramp"}"#, width, range);
        let d = query(&c, &v, end).await.unwrap();
        let (qs, qe, step, series) = (d.start, d.end, d.step, d.series);
        assert_eq!(step, (range as f64 / width as f64).ceil().max(15.0));
        assert_eq!(qe - qs, range as f64);
        let s = only(&series);
        assert!(
            s.points.len() <= width as usize + 1,
            "{} points for {width} cells",
            s.points.len()
        );
        for w in s.points.windows(2) {
            let d = w[1].0 - w[0].0;
            assert!(d == step || d > 1.5 * step, "spacing {d} with step {step}");
        }
    }
}

#[tokio::test]
async fn a_bad_query_and_a_stopped_prometheus_are_different_errors() {
    let c = client();
    match query(&c, &view("sum(", 100, 3600), known_end()).await {
        Err(QueryError::Answered(e)) => assert!(
            e.starts_with("bad_data:") && e.contains("parse error"),
            "{e}"
        ),
        other => panic!("{other:?}"),
    }
    // Nothing listens on port 1.
    let down = prometheus_http_query::Client::try_from("http://127.0.0.1:1").unwrap();
    match query(&down, &view("up", 100, 3600), known_end()).await {
        Err(QueryError::Unreachable(e)) => assert!(e.contains("127.0.0.1:1"), "{e}"),
        other => panic!("{other:?}"),
    }
}

/// The largest series come first, so a panel of many draws the ones that matter.
#[tokio::test]
async fn series_come_largest_first() {
    let c = client();
    let v = view(r#"sextant_known"#, 100, 3600);
    let series = query(&c, &v, known_end()).await.unwrap().series;
    let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
    assert_eq!(labels, ["ramp", "nan"], "ramp ends near 1439, nan below 7");
}
