//! Cases 6 and 7 of the fault suite (issue 8): Prometheus and the Portworx gateway
//! failing or answering badly in front of sextant's real pollers, the real Prometheus
//! 2.42 and the Portworx simulator of the environment. Faults are injected by a
//! loopback proxy (tests/fault_proxy) or come from real PromQL. Each test shows what
//! the pane says, that the other panes keep their data and keys, and that nothing is
//! lost once the source is back.
mod common;
mod fault_harness;
mod fault_proxy;

use common::env;
use crossterm::event::KeyCode;
use fault_harness::{App, CLAIM, SNAPSHOT, others, view_token};
use fault_proxy::{Fault, Proxy};
use sextant::app::cluster::Kind;
use sextant::app::msg::{Command, MetricsEvent, StorageEvent};
use sextant::app::state::{Link, Pane, Series};
use sextant::app::storage::{PxProblem, problem, writes_blocked};
use sextant::app::{Msg, State};
use sextant::config::Unit;
use sextant::sources::prometheus::{self, GraphView, MAX_SERIES, QueryError, step_for};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------
// Case 7: the Portworx gateway refuses, times out, returns invalid JSON or 401.
// ---------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Gateway {
    Refuses,
    TimesOut,
    InvalidJson,
    Unauthorized,
}

/// A token the simulator cannot verify: its signature is wrong.
const FORGED: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.forged";

/// Everything case 7 asks of one gateway fault, with the real Portworx, Prometheus
/// and git pollers running: the storage pane explains, snapshot and restore refuse
/// with the reason, the other panes keep their data and keys, and the pane and the
/// writes come back with the gateway.
async fn gateway_fault(fault: Gateway, expected: PxProblem) {
    let mut proxy = Proxy::start(&env("SEXTANT_TEST_PORTWORX")).await;
    let mut app = App::new();
    app.portworx(&proxy.url);
    app.prometheus(&env("SEXTANT_TEST_PROMETHEUS"));
    app.git();
    app.settle().await;
    let volumes = app.state.storage.volumes.clone();
    assert!(
        volumes
            .iter()
            .any(|v| v.pvc == Some(("shop".into(), CLAIM.into()))),
        "{volumes:?}"
    );
    // Working gateway: S offers the snapshot (then Esc) — the refusal below is new.
    app.select_carts_volume();
    app.key(KeyCode::Char('S'));
    assert!(app.state.ops.snapshot.is_some(), "{:?}", app.state.flash);
    app.key(KeyCode::Esc);
    let before = others(&app.state, Pane::Storage);

    match fault {
        Gateway::Refuses => proxy.stop(),
        Gateway::TimesOut => proxy.set(Fault::Hang),
        Gateway::InvalidJson => proxy.set(Fault::Truncate),
        Gateway::Unauthorized => proxy.set(Fault::Token(FORGED)),
    }
    let t = Instant::now();
    app.refresh_storage();
    app.until(30, "the poller's failure", |s| {
        matches!(s.storage.link, Link::Down(_))
    })
    .await;
    let Link::Down(error) = app.state.storage.link.clone() else {
        unreachable!()
    };
    eprintln!("{fault:?}: reported after {:?}: {error}", t.elapsed());
    assert_eq!(problem(&error), expected, "{error}");
    let token = view_token();
    assert!(!error.contains(token.expose()) && !error.contains(FORGED));

    // The last volumes stay, marked stale with the reason and the writes that are off.
    assert_eq!(app.state.storage.volumes, volumes, "nothing lost");
    let pane = app.pane(Pane::Storage);
    assert!(pane.contains(&format!("shop/{CLAIM}")), "{pane}");
    let stale = format!("stale, {}:", expected.short());
    assert!(pane.contains(&stale), "{pane}");
    assert!(pane.contains("snapshot/restore off"), "{pane}");
    // A sextant started during the fault has no data: the pane explains in full.
    let mut fresh = State::new(false, Vec::new(), 0);
    sextant::app::update(
        &mut fresh,
        &app.keymap,
        Msg::Storage(StorageEvent::Failed(error.clone())),
    );
    fresh.focus = Pane::Storage;
    fresh.zoom = true;
    let explained = fault_harness::screen(&fresh, 160, 40);
    for needle in [
        expected.heading(),
        "Snapshot and restore are off until it answers.",
    ] {
        assert!(explained.contains(needle), "{needle}:\n{explained}");
    }
    let head: String = error.chars().take(40).collect();
    assert!(explained.contains(&head), "{head}:\n{explained}");

    // Snapshot and restore refuse, from both panes, and say why; nothing is planned.
    // The help overlay says so before they are tried.
    let why = writes_blocked(&app.state).expect("writes are blocked");
    assert!(why.ends_with(expected.short()), "{why}");
    app.state.help = true;
    let help = app.screen(200, 120);
    app.state.help = false;
    assert!(help.contains(&why), "{help}");
    app.commands.clear();
    app.select_carts_volume();
    app.key(KeyCode::Char('S'));
    assert_eq!(app.refusal().as_deref(), Some(why.as_str()));
    app.key(KeyCode::Enter);
    assert!(app.state.storage.details, "the details still open");
    assert_eq!(
        sextant::app::storage::selected_snapshot(&app.state),
        Some(("shop".into(), SNAPSHOT.into()))
    );
    app.state.flash = None;
    app.key(KeyCode::Char('r'));
    assert_eq!(app.refusal().as_deref(), Some(why.as_str()));
    app.key(KeyCode::Esc);
    app.select_in_tree(Kind::StatefulSet, "carts-db");
    app.state.flash = None;
    app.key(KeyCode::Char('S'));
    assert_eq!(app.refusal().as_deref(), Some(why.as_str()));
    app.select_in_tree(Kind::VolumeSnapshot, SNAPSHOT);
    app.state.flash = None;
    app.key(KeyCode::Char('r'));
    assert_eq!(app.refusal().as_deref(), Some(why.as_str()));
    assert!(!app.state.ops.open(), "no dialog opened");
    let planned: Vec<&Command> = app
        .commands
        .iter()
        .filter(|c| matches!(c, Command::PlanRestore { .. } | Command::Write { .. }))
        .collect();
    assert!(planned.is_empty(), "{planned:?}");

    // Nothing else is affected: the other panes hold what they held, the cluster
    // pane's keys move, and the metrics pane still gets new data for a new panel.
    assert_eq!(others(&app.state, Pane::Storage), before);
    app.select_in_tree(Kind::StatefulSet, "carts-db");
    let at = app.state.cluster.selected;
    app.key(KeyCode::Char('k'));
    assert_ne!(app.state.cluster.selected, at, "k moves in the tree");
    app.state.focus = Pane::Metrics;
    app.key(KeyCode::Char(']'));
    let next = app.state.metrics.current;
    app.until(20, "the next panel's data", |s| {
        s.metrics.shown == Some(next) && s.metrics.link == Link::Up
    })
    .await;
    let screen = app.screen(160, 40);
    assert!(screen.contains("carts-db"), "{screen}");

    // Back: the pane is live again and S offers the snapshot.
    match fault {
        Gateway::Refuses => proxy.resume().await,
        _ => proxy.set(Fault::Pass),
    }
    let t = Instant::now();
    app.refresh_storage();
    app.until(30, "the gateway back", |s| s.storage.link == Link::Up)
        .await;
    eprintln!("{fault:?}: back after {:?}", t.elapsed());
    assert!(writes_blocked(&app.state).is_none());
    app.select_carts_volume();
    app.key(KeyCode::Char('S'));
    assert!(app.state.ops.snapshot.is_some(), "{:?}", app.state.flash);
}

#[tokio::test]
async fn case_7_a_refused_gateway_is_explained_and_blocks_snapshot_and_restore() {
    gateway_fault(Gateway::Refuses, PxProblem::Unreachable).await;
}

#[tokio::test]
async fn case_7_a_gateway_that_times_out_is_explained_and_blocks_snapshot_and_restore() {
    gateway_fault(Gateway::TimesOut, PxProblem::Silent).await;
}

#[tokio::test]
async fn case_7_invalid_json_from_the_gateway_is_explained_and_blocks_snapshot_and_restore() {
    gateway_fault(Gateway::InvalidJson, PxProblem::BadReply).await;
}

#[tokio::test]
async fn case_7_a_401_from_the_gateway_is_explained_and_blocks_snapshot_and_restore() {
    gateway_fault(Gateway::Unauthorized, PxProblem::TokenRefused).await;
}

// ---------------------------------------------------------------------------------
// Case 6: Prometheus down, slow, HTTP 500, NaN and +Inf, 100k series, 11,000 points.
// ---------------------------------------------------------------------------------

fn prometheus_client() -> prometheus_http_query::Client {
    common::init_crypto();
    prometheus_http_query::Client::try_from(env("SEXTANT_TEST_PROMETHEUS").as_str()).unwrap()
}

fn graph(index: usize, query: &str, label: Option<&str>, width: u16, range: i64) -> GraphView {
    GraphView {
        index,
        query: query.into(),
        label: label.map(String::from),
        unit: Unit::None,
        width,
        range,
    }
}

/// The metrics pane's error (the panel's own, or the lost link), if any.
fn graph_error(s: &State) -> Option<String> {
    s.metrics.error.clone().or(match &s.metrics.link {
        Link::Down(e) => Some(e.clone()),
        _ => None,
    })
}

fn is_braille(c: char) -> bool {
    ('\u{2801}'..='\u{28ff}').contains(&c)
}

/// Down, HTTP 500 (plain, and Prometheus's own JSON error), and too slow to answer:
/// each is said in the metrics pane above the last data, which stays drawn; the other
/// panes keep their data and keys; the next good answer clears it.
#[tokio::test]
async fn case_6_prometheus_down_slow_or_failing_degrades_only_the_graph() {
    let mut proxy = Proxy::start(&env("SEXTANT_TEST_PROMETHEUS")).await;
    let mut app = App::new();
    app.portworx_once().await;
    app.prometheus(&proxy.url);
    app.git();
    app.settle().await;
    assert!(
        !app.state.metrics.series.is_empty(),
        "the default panel has data"
    );
    let labels =
        |s: &State| -> Vec<String> { s.metrics.series.iter().map(|x| x.label.clone()).collect() };
    let before = others(&app.state, Pane::Metrics);
    let internal =
        r#"{"status":"error","errorType":"internal","error":"injected: storage is failing"}"#;
    let faults: [(&str, Option<Fault>, &str); 4] = [
        (
            "HTTP 500, plain text",
            Some(Fault::Answer(500, "text/plain", "upstream failed\n".into())),
            "HTTP 500 Internal Server Error, not an answer of the Prometheus API",
        ),
        (
            "HTTP 500, Prometheus's error",
            Some(Fault::Answer(500, "application/json", internal.into())),
            "internal: injected: storage is failing",
        ),
        (
            "slower than the client's timeout",
            Some(Fault::Delay(Duration::from_secs(12))),
            "no answer within 10s",
        ),
        ("down", None, "Connection refused"),
    ];
    let mut wider = true;
    for (name, fault, said) in faults {
        let (shown, series) = (app.state.metrics.shown, labels(&app.state));
        match &fault {
            Some(f) => proxy.set(f.clone()),
            None => proxy.stop(),
        }
        // Zooming asks for the panel again at once.
        app.state.focus = Pane::Metrics;
        app.key(KeyCode::Char(if wider { '-' } else { '+' }));
        wider = !wider;
        let t = Instant::now();
        app.until(30, name, |s| graph_error(s).is_some()).await;
        let error = graph_error(&app.state).unwrap();
        eprintln!("{name}: said after {:?}: {error}", t.elapsed());
        assert!(error.contains(said), "{name}: {error}");
        assert!(!error.contains("query_range"), "no request URL: {error}");
        // The last data stays on screen under the error.
        assert_eq!(app.state.metrics.shown, shown);
        assert_eq!(labels(&app.state), series);
        let pane = app.pane(Pane::Metrics);
        let head: String = error.chars().take(30).collect();
        assert!(pane.contains(&head), "{name}:\n{pane}");
        assert!(
            pane.chars().any(is_braille),
            "{name}: the lines stay\n{pane}"
        );
        // Only the graph: the other panes hold the same, and their keys work.
        assert_eq!(others(&app.state, Pane::Metrics), before, "{name}");
        app.select_carts_volume();
        app.key(KeyCode::Char('S'));
        assert!(
            app.state.ops.snapshot.is_some(),
            "{name}: {:?}",
            app.state.flash
        );
        app.key(KeyCode::Esc);
        let screen = app.screen(160, 40);
        assert!(screen.contains(&format!("shop/{CLAIM}")), "{screen}");
        // Back: the next answer clears the error.
        match fault {
            Some(_) => proxy.set(Fault::Pass),
            None => proxy.resume().await,
        }
        app.state.focus = Pane::Metrics;
        app.key(KeyCode::Char(if wider { '-' } else { '+' }));
        wider = !wider;
        app.until(40, "the answer after the fault", |s| {
            graph_error(s).is_none() && s.metrics.link == Link::Up
        })
        .await;
    }
}

/// A query stuck in a slow Prometheus does not hold up the next panel: the poller
/// drops it and asks for the new one at once, so the first answer is the new panel's,
/// not the old one's timeout.
#[tokio::test]
async fn case_6_a_slow_query_does_not_hold_up_another_panel() {
    let proxy = Proxy::start(&env("SEXTANT_TEST_PROMETHEUS")).await;
    proxy.when("slowpanel", Fault::Hang);
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    let views = prometheus::spawn(
        Some(proxy.url.clone()),
        Ok(sextant::config::PromAuth::None),
        false,
        false,
        tx,
    );
    let slow = r#"label_replace(vector(1), "panel", "slowpanel", "", "")"#;
    let fast = r#"label_replace(vector(2), "panel", "fastpanel", "", "")"#;
    views.send_replace(Some(graph(0, slow, Some("panel"), 100, 3600)));
    let t = Instant::now();
    while proxy.requests.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "no request");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let t = Instant::now();
    views.send_replace(Some(graph(1, fast, Some("panel"), 100, 3600)));
    let first = tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("an answer")
        .unwrap();
    eprintln!("the new panel answered {:?} after the switch", t.elapsed());
    match first {
        Msg::Metrics(MetricsEvent::Data { graph, series, .. }) => {
            assert_eq!(graph, 1);
            assert_eq!(series[0].label, "fastpanel");
        }
        other => panic!("the slow query held up the new panel: {other:?}"),
    }
}

/// The query of a real division by zero: "+Inf" and "NaN" in the API's answer.
const INF_AND_NAN: &str = r#"label_replace(1 / (vector(time()) % 300 > bool 150), "s", "inf", "", "") or label_replace((vector(time()) % 300 > bool 150) / (vector(time()) % 300 > bool 150), "s", "nan", "", "")"#;

/// Real PromQL's NaN (0/0) becomes a gap and +Inf (1/0) is flagged, in the legend and
/// at the plot's top edge, never drawn as zero or a line.
#[tokio::test]
async fn case_6_nan_is_a_gap_and_inf_is_flagged() {
    let c = prometheus_client();
    let now = chrono::Utc::now().timestamp();
    let d = prometheus::query(&c, &graph(0, INF_AND_NAN, Some("s"), 240, 3600), now)
        .await
        .unwrap();
    assert_eq!(d.step, 15.0);
    let by = |l: &str| d.series.iter().find(|s| s.label == l).unwrap().clone();
    let (inf, nan) = (by("inf"), by("nan"));
    // Minutes 2.5 to 5 of each five are 1/0 and 0/0; the rest are 1.
    let phase = |t: f64| (t as i64) % 300 > 150;
    for (s, odd) in [(&inf, f64::INFINITY), (&nan, f64::NAN)] {
        for &(t, v) in &s.points {
            if phase(t) {
                assert_eq!(v, 1.0, "{} at {t}", s.label);
            } else {
                assert!(
                    v == odd || (odd.is_nan() && v.is_nan()),
                    "{} at {t}: {v}",
                    s.label
                );
            }
        }
    }
    let infinite = inf.points.iter().filter(|p| p.1.is_infinite()).count();
    assert!(infinite > 20, "{infinite}");
    // Through the reducer into the pane, zoomed, as an ad-hoc panel (`:q`).
    let mut app = App::new();
    app.adhoc(INF_AND_NAN);
    app.apply(Msg::Metrics(MetricsEvent::Data {
        graph: app.state.metrics.current,
        start: d.start,
        end: d.end,
        step: d.step,
        series: d.series.clone(),
        left_out: 0,
    }));
    let pane = app.pane(Pane::Metrics);
    let legend = |label: &str| {
        pane.lines()
            .find(|l| l.contains(&format!("━ {label} ")))
            .unwrap_or_else(|| panic!("{label} in the legend:\n{pane}"))
            .to_string()
    };
    assert!(
        legend("inf").contains(&format!("+Inf×{infinite}")),
        "{pane}"
    );
    assert!(!legend("nan").contains("Inf"), "{pane}");
    // Neither NaN nor +Inf is a value: both series range over their ones only.
    for l in ["inf", "nan"] {
        assert!(legend(l).contains("1  min 1 max 1"), "{pane}");
    }

    // A panel of nothing but +Inf is still drawn and flagged, not "no data"; one of
    // nothing but NaN is "no data".
    for (query, empty) in [("vector(1) / 0", false), ("vector(0) / 0", true)] {
        let d = prometheus::query(&c, &graph(0, query, None, 240, 3600), now)
            .await
            .unwrap();
        app.apply(Msg::Metrics(MetricsEvent::Data {
            graph: app.state.metrics.current,
            start: d.start,
            end: d.end,
            step: d.step,
            series: d.series,
            left_out: 0,
        }));
        let pane = app.pane(Pane::Metrics);
        assert_eq!(pane.contains("no data for"), empty, "{query}:\n{pane}");
        assert_eq!(pane.contains("+Inf×"), !empty, "{query}:\n{pane}");
        // The arrows at the plot's top edge come with the +Inf samples only.
        assert_eq!(pane.contains('↑'), !empty, "{query}:\n{pane}");
    }
}

/// Prometheus refuses more than 11,000 points a series; the step grows for long
/// ranges on wide plots so the query is still answered.
#[tokio::test]
async fn case_6_a_range_over_11000_points_gets_a_coarser_step() {
    let c = prometheus_client();
    let now = chrono::Utc::now().timestamp();
    let week = 7 * 86_400;
    let query = "vector(time())";
    // At the scrape interval a week is 40,320 points: refused.
    let end = now - now % 15;
    let refused = c.query_range(query, end - week, end, 15.0).get().await;
    let e = refused.expect_err("Prometheus refuses 40,320 points");
    eprintln!("at 15s: {e}");
    assert!(e.to_string().contains("11,000 points"), "{e}");
    // A plot 60,000 cells wide would want one point a cell; the step is raised instead.
    let v = graph(0, query, None, 60_000, week);
    let step = step_for(v.range, v.width);
    let t = Instant::now();
    let d = prometheus::query(&c, &v, now).await.unwrap();
    let points = d.series[0].points.len();
    eprintln!(
        "a week at step {step}s: {points} points in {:?}",
        t.elapsed()
    );
    assert_eq!((d.step, d.end - d.start), (step, week as f64));
    assert!(step > 15.0 && week as f64 / step <= 11_000.0, "{step}");
    assert!(points > 10_000 && points <= 11_001, "{points}");
    // Through the real poller too: data, not an error.
    let (tx, mut rx) = tokio::sync::mpsc::channel(4);
    let views = prometheus::spawn(
        Some(env("SEXTANT_TEST_PROMETHEUS")),
        Ok(sextant::config::PromAuth::None),
        false,
        false,
        tx,
    );
    views.send_replace(Some(v));
    match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
        Ok(Some(Msg::Metrics(MetricsEvent::Data { step: s, .. }))) => assert_eq!(s, step),
        other => panic!("{other:?}"),
    }
}

/// Metric names Prometheus has at each step of the last hour, summed: the series one
/// copy in `many_series` adds.
async fn names_per_hour(c: &prometheus_http_query::Client, end: i64) -> usize {
    let r = c
        .query_range(
            r#"count(count by (__name__) ({__name__=~".+"}))"#,
            end - 3600,
            end,
            15.0,
        )
        .get()
        .await
        .unwrap();
    r.data().as_matrix().unwrap()[0]
        .samples()
        .iter()
        .map(|s| s.value() as usize)
        .sum()
}

/// A new series per metric name, copy and step, valued at its step's time: one point
/// each. Labels are few (name, copy, time) so the answer stays near 150 bytes a series.
fn many_series(copies: usize) -> String {
    let names = r#"sum by (sextant_name) (label_replace({__name__=~".+"}, "sextant_name", "$1", "__name__", "(.+)"))"#;
    let copies: Vec<String> = (0..copies)
        .map(|i| format!(r#"label_replace({names}, "sextant_copy", "{i}", "", "")"#))
        .collect();
    format!(
        r#"0 * count_values without() ("sextant_t", 0 * ({}) + time()) + time()"#,
        copies.join(" or ")
    )
}

/// A real query of over 100k series: the largest MAX_SERIES are kept, the rest
/// counted, and the legend says how many more. The client here has no timeout, so a
/// loaded machine does not fail the test; the time printed is to compare with the
/// poller's 10 s.
#[tokio::test]
async fn case_6_a_hundred_thousand_series_show_the_top_ones_and_count_the_rest() {
    let c = prometheus_client();
    let now = chrono::Utc::now().timestamp();
    let end = now - now % 15;
    let per_copy = names_per_hour(&c, end).await;
    let copies = 110_000usize.div_ceil(per_copy.max(1));
    let v = graph(0, &many_series(copies), Some("sextant_t"), 240, 3600);
    let t = Instant::now();
    let d = match prometheus::query(&c, &v, now).await {
        Ok(d) => d,
        Err(QueryError::Answered(e) | QueryError::Unreachable(e)) => panic!("{e}"),
    };
    let total = d.series.len() + d.left_out;
    eprintln!(
        "{total} series ({copies} copies of {per_copy}) answered and ranked in {:?}; {} kept",
        t.elapsed(),
        d.series.len()
    );
    // A figure, not a limit: the test process's peak resident memory so far.
    let peak = sextant::memory::status_kib("self", "VmHWM");
    eprintln!("peak memory of the test process: {peak:?} KiB");
    assert!(total >= 100_000, "{total} series");
    assert_eq!(d.series.len(), MAX_SERIES);
    // Each series is one point valued at its time: the largest are the newest.
    let latest = |s: &Series| s.points.last().unwrap().1;
    assert!(d.series.windows(2).all(|w| latest(&w[0]) >= latest(&w[1])));
    assert_eq!(latest(&d.series[0]), d.end);

    let newest = format!("━ {}", d.end as i64);
    let mut app = App::new();
    app.adhoc(&v.query);
    app.apply(Msg::Metrics(MetricsEvent::Data {
        graph: app.state.metrics.current,
        start: d.start,
        end: d.end,
        step: d.step,
        series: d.series,
        left_out: d.left_out,
    }));
    let pane = app.pane(Pane::Metrics);
    let drawn = pane.lines().filter(|l| l.contains(&newest)).count();
    let more = format!("and {} more", total - drawn);
    assert!(drawn > 0 && pane.contains(&more), "{more}:\n{pane}");
}
