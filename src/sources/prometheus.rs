//! The Prometheus source: range queries for the panel on screen, re-run on an interval
//! that fits the range and whenever the panel, range, scope or plot width changes. The
//! step follows the width, as in Grafana. Errors back off; old data stays on screen.
use super::kube::one_line;
use crate::app::Msg;
use crate::app::msg::MetricsEvent;
use crate::app::state::Series;
use crate::config::{PromAuth, Unit};
use prometheus_http_query::Client;
use std::time::Duration;
use tokio::sync::mpsc::Sender;
use tokio::sync::watch;

/// Prometheus refuses range queries of more points than this.
const MAX_POINTS: f64 = 11_000.0;
/// Series sent at most, the largest first; the legend counts the rest.
pub const MAX_SERIES: usize = 100;
/// How long one request may take before the panel says Prometheus did not answer.
const TIMEOUT: Duration = Duration::from_secs(10);
const BACKOFF_MIN: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// The panel to show, fully resolved by the reducer.
#[derive(Clone, Debug, PartialEq)]
pub struct GraphView {
    /// Position of the panel, echoed back with its data.
    pub index: usize,
    /// The PromQL with the scope's variables filled in.
    pub query: String,
    pub label: Option<String>,
    pub unit: Unit,
    /// Plot width in cells.
    pub width: u16,
    /// Seconds back from now.
    pub range: i64,
}

pub type View = Option<GraphView>;

/// The step in seconds for a plot `width` cells wide: at most one point per cell, never
/// finer than the scrape interval, never more points than Prometheus allows.
pub fn step_for(range: i64, width: u16) -> f64 {
    let per_cell = (range as f64 / width.max(1) as f64).ceil();
    per_cell.max(15.0).max((range as f64 / MAX_POINTS).ceil())
}

/// How often a panel of this step is refreshed: new points come once a step.
pub fn refresh_for(step: f64) -> Duration {
    Duration::from_secs_f64(step.clamp(10.0, 60.0))
}

/// Fills `$name` variables; longer names first, so `$pod` never eats `$podname`.
pub fn expand(query: &str, vars: &[(String, String)]) -> String {
    let mut vars: Vec<&(String, String)> = vars.iter().collect();
    vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut q = query.to_string();
    for (k, v) in vars {
        q = q.replace(&format!("${k}"), v);
    }
    q
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

/// Why a query gave nothing: Prometheus answered with an error (a bad query), or it
/// could not be reached.
#[derive(Debug, PartialEq)]
pub enum QueryError {
    Answered(String),
    Unreachable(String),
}

/// The latest finite value of a series, for ordering the largest first.
fn latest(s: &Series) -> f64 {
    s.points
        .iter()
        .rev()
        .map(|p| p.1)
        .find(|v| v.is_finite())
        .unwrap_or(f64::NEG_INFINITY)
}

/// The `n` series with the largest latest values, largest first (ties by label), and
/// how many were left out. A query can return 100k series: they are ranked by a
/// partial selection, and only the kept ones are sorted.
pub fn top_series(series: Vec<Series>, n: usize) -> (Vec<Series>, usize) {
    let total = series.len();
    let mut keyed: Vec<(f64, Series)> = series.into_iter().map(|s| (latest(&s), s)).collect();
    let order =
        |a: &(f64, Series), b: &(f64, Series)| b.0.total_cmp(&a.0).then(a.1.label.cmp(&b.1.label));
    if n == 0 {
        keyed.clear();
    } else if keyed.len() > n {
        keyed.select_nth_unstable_by(n - 1, order);
        keyed.truncate(n);
    }
    keyed.sort_by(order);
    let kept: Vec<Series> = keyed.into_iter().map(|(_, s)| s).collect();
    let left_out = total - kept.len();
    (kept, left_out)
}

/// Why Prometheus could not be used, in a few words: no answer in time, an HTTP
/// status that is not the API's, an unreadable body, or the connection's own error.
/// The request URL (with the whole query) is left out.
fn reason(e: &prometheus_http_query::Error) -> String {
    let prometheus_http_query::Error::Client(c) = e else {
        return one_line(e);
    };
    let Some(r) = c.inner() else {
        return one_line(e);
    };
    let cause = std::error::Error::source(r).map_or_else(|| one_line(e), one_line);
    if r.is_timeout() {
        format!("no answer within {}s", TIMEOUT.as_secs())
    } else if let Some(status) = r.status() {
        format!("HTTP {status}, not an answer of the Prometheus API")
    } else if r.is_decode() {
        format!("unreadable answer: {cause}")
    } else {
        cause
    }
}

/// A range query's result: series largest first, at most MAX_SERIES of them.
#[derive(Debug)]
pub struct RangeData {
    pub start: f64,
    pub end: f64,
    pub step: f64,
    pub series: Vec<Series>,
    /// Series the query returned beyond MAX_SERIES.
    pub left_out: usize,
}

/// One range query. NaN and infinite samples are kept: the chart leaves them out of
/// its lines (it does not draw them as zero) and flags the infinite ones.
pub async fn query(client: &Client, v: &GraphView, now: i64) -> Result<RangeData, QueryError> {
    let step = step_for(v.range, v.width);
    // The range ends on a multiple of the step, as Grafana aligns it: points stay put
    // between refreshes, so a refresh that brings nothing new draws nothing.
    let end = now - now % step as i64;
    let start = end - v.range;
    let res = client
        .query_range(&v.query, start, end, step)
        .get()
        .await
        .map_err(|e| match e {
            prometheus_http_query::Error::Prometheus(p) => {
                QueryError::Answered(format!("{}: {}", p.error_type(), p.message()))
            }
            e => QueryError::Unreachable(format!(
                "{}: {}",
                client.base_url().as_str().trim_end_matches('/'),
                reason(&e)
            )),
        })?;
    let matrix = res
        .data()
        .as_matrix()
        .ok_or_else(|| QueryError::Answered("the query did not return a range vector".into()))?;
    let series: Vec<Series> = matrix
        .iter()
        .map(|rv| Series {
            label: series_label(rv.metric(), v.label.as_deref()),
            points: rv
                .samples()
                .iter()
                .map(|s| (s.timestamp(), s.value()))
                .collect(),
        })
        .collect();
    let (series, left_out) = top_series(series, MAX_SERIES);
    Ok(RangeData {
        start: start as f64,
        end: end as f64,
        step,
        series,
        left_out,
    })
}

/// Waits until the panel asked for is no longer `current`; false when the UI is gone.
/// The same panel asked for again (a refresh) does not cut its query short.
async fn replaced(rx: &mut watch::Receiver<View>, current: &GraphView) -> bool {
    loop {
        if rx.changed().await.is_err() {
            return false;
        }
        if rx.borrow().as_ref() != Some(current) {
            return true;
        }
    }
}

async fn has_cadvisor(client: &Client) -> bool {
    match client
        .query("count(container_cpu_usage_seconds_total)")
        .get()
        .await
    {
        Ok(r) => r.data().as_vector().is_some_and(|v| !v.is_empty()),
        Err(_) => false,
    }
}

fn http(auth: &PromAuth) -> Result<reqwest::Client, String> {
    use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
    let mut headers = HeaderMap::new();
    let value = match auth {
        PromAuth::None => None,
        PromAuth::Bearer(t) => Some(format!("Bearer {}", t.expose())),
        PromAuth::Basic(user, pass) => {
            use base64::Engine;
            let raw = format!("{user}:{}", pass.expose());
            Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(raw)
            ))
        }
    };
    if let Some(v) = value {
        let mut v = HeaderValue::from_str(&v)
            .map_err(|_| "the Prometheus credentials are not valid header text")?;
        // Kept out of debug output and logs.
        v.set_sensitive(true);
        headers.insert(AUTHORIZATION, v);
    }
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .default_headers(headers)
        .build()
        .map_err(|e| one_line(&e))
}

/// Starts the poller. Without a URL the pane says so and nothing runs.
/// With `probe`, looks for cAdvisor's metrics once and offers its panels. With
/// `volume_rates`, also polls Portworx write throughput for the storage pane.
pub fn spawn(
    url: Option<String>,
    auth: Result<PromAuth, String>,
    probe: bool,
    volume_rates: bool,
    tx: Sender<Msg>,
) -> watch::Sender<View> {
    let (view_tx, mut view_rx) = watch::channel(None);
    tokio::spawn(async move {
        let Some(url) = url else { return };
        let client = match auth.and_then(|a| http(&a)).and_then(|h| {
            Client::from(h, &url).map_err(|e| format!("prometheus URL {url}: {}", one_line(&e)))
        }) {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Msg::Metrics(MetricsEvent::Failed(e))).await;
                return;
            }
        };
        if volume_rates {
            super::px_rates::spawn(client.clone(), tx.clone());
        }
        if probe && has_cadvisor(&client).await {
            let extra = MetricsEvent::Extra(crate::config::cadvisor_graphs());
            if tx.send(Msg::Metrics(extra)).await.is_err() {
                return;
            }
        }
        let mut backoff = BACKOFF_MIN;
        loop {
            let view = view_rx.borrow_and_update().clone();
            let mut wait = Duration::from_secs(3600);
            if let Some(v) = view {
                let now = chrono::Utc::now().timestamp();
                // A slow Prometheus must not hold up another panel: a new view drops
                // the query in flight and is asked for at once.
                let result = tokio::select! {
                    r = query(&client, &v, now) => r,
                    more = replaced(&mut view_rx, &v) => {
                        if !more {
                            return;
                        }
                        backoff = BACKOFF_MIN;
                        continue;
                    }
                };
                let ev = match result {
                    Ok(d) => {
                        backoff = BACKOFF_MIN;
                        wait = refresh_for(d.step);
                        MetricsEvent::Data {
                            graph: v.index,
                            start: d.start,
                            end: d.end,
                            step: d.step,
                            series: d.series,
                            left_out: d.left_out,
                        }
                    }
                    Err(e) => {
                        wait = backoff;
                        backoff = (backoff * 2).min(BACKOFF_MAX);
                        match e {
                            QueryError::Answered(e) => MetricsEvent::QueryFailed {
                                graph: v.index,
                                error: e,
                            },
                            QueryError::Unreachable(e) => MetricsEvent::Failed(e),
                        }
                    }
                };
                if tx.send(Msg::Metrics(ev)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                changed = view_rx.changed() => {
                    if changed.is_err() { return }
                    backoff = BACKOFF_MIN;
                }
                _ = tokio::time::sleep(wait) => {}
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
        let step = step_for(12 * 3600, 100) as i64;
        let a = 1_795_600_000 - 1_795_600_000 % step;
        let b = (1_795_600_000 + step - 1) - (1_795_600_000 + step - 1) % step;
        assert!(b == a || b == a + step);
        assert_eq!(a % step, 0);
    }

    #[test]
    fn step_follows_width_within_prometheus_limits() {
        assert_eq!(step_for(43_200, 100), 432.0);
        assert_eq!(step_for(600, 100), 15.0, "never finer than a scrape");
        assert_eq!(step_for(43_200, 0), 43_200.0);
        // A week over a very wide plot stays under 11,000 points.
        let week = 7 * 86_400;
        assert!(week as f64 / step_for(week, 60_000) <= MAX_POINTS);
        assert_eq!(refresh_for(15.0), Duration::from_secs(15));
        assert_eq!(refresh_for(4032.0), Duration::from_secs(60));
    }

    /// One request to a loopback listener: what it was sent, with an empty answer.
    async fn capture(auth: PromAuth) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 8192];
            let n = sock.read(&mut buf).await.unwrap();
            let body = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
            let reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            sock.write_all(reply.as_bytes()).await.unwrap();
            String::from_utf8_lossy(&buf[..n]).to_lowercase()
        });
        let client = Client::from(http(&auth).unwrap(), &url).unwrap();
        let v = GraphView {
            index: 0,
            query: "up".into(),
            label: None,
            unit: Unit::None,
            width: 100,
            range: 3600,
        };
        let d = query(&client, &v, 1_800_000_000).await.unwrap();
        assert!(d.series.is_empty());
        server.await.unwrap()
    }

    #[tokio::test]
    async fn credentials_go_in_the_authorization_header_only() {
        use crate::config::Secret;
        let req = capture(PromAuth::Bearer(Secret::new("tok-123"))).await;
        assert!(req.contains("authorization: bearer tok-123\r\n"), "{req}");
        let req = capture(PromAuth::Basic("ops".into(), Secret::new("pw"))).await;
        // base64("ops:pw")
        assert!(req.contains("authorization: basic b3bzonb3\r\n"), "{req}");
        assert!(!capture(PromAuth::None).await.contains("authorization"));
        // Debug output of the settings never shows them.
        let shown = format!("{:?}", PromAuth::Basic("ops".into(), Secret::new("pw")));
        assert_eq!(shown, r#"Basic("ops", Secret(***))"#);
        assert!(!format!("{:?}", PromAuth::Bearer(Secret::new("tok-123"))).contains("tok-123"));
    }

    #[test]
    fn of_a_hundred_thousand_series_the_largest_are_kept_and_the_rest_counted() {
        // Latest values spread over the whole set, some series ending in NaN (ranked by
        // their last finite value) and some never finite (ranked last).
        let n = 100_000;
        let series: Vec<Series> = (0..n)
            .map(|i| {
                let v = ((i * 7919) % n) as f64;
                let points = match i % 1000 {
                    0 => vec![(0.0, f64::NAN)],
                    1 => vec![(0.0, v), (15.0, f64::NAN)],
                    _ => vec![(0.0, -1.0), (15.0, v)],
                };
                Series {
                    label: format!("s{i:06}"),
                    points,
                }
            })
            .collect();
        let t = std::time::Instant::now();
        let (kept, left_out) = top_series(series.clone(), MAX_SERIES);
        eprintln!("top {MAX_SERIES} of {n} series in {:?}", t.elapsed());
        assert_eq!((kept.len(), left_out), (MAX_SERIES, n - MAX_SERIES));
        // The same as a full sort, biggest first.
        let mut all = series;
        all.sort_by(|a, b| latest(b).total_cmp(&latest(a)).then(a.label.cmp(&b.label)));
        all.truncate(MAX_SERIES);
        // By label: a NaN sample is never equal to itself.
        let labels = |v: &[Series]| v.iter().map(|s| s.label.clone()).collect::<Vec<_>>();
        assert_eq!(labels(&kept), labels(&all));
        assert_eq!(latest(&kept[0]), (n - 1) as f64);
        assert!(
            kept.iter().any(|s| s.points.last().unwrap().1.is_nan()),
            "a series ending in NaN ranks by its last finite value"
        );
        // Fewer than asked for: all kept, in order; none asked for: all counted.
        let few = kept[..3].to_vec();
        let mut reversed = few.clone();
        reversed.reverse();
        let (again, none_left) = top_series(reversed, MAX_SERIES);
        assert_eq!((labels(&again), none_left), (labels(&few), 0));
        let (nothing, all_left) = top_series(few, 0);
        assert_eq!((nothing.len(), all_left), (0, 3));
    }

    #[test]
    fn variables_are_filled_longest_first() {
        let vars = vec![
            ("pod".to_string(), "db-0".to_string()),
            ("podname".to_string(), "x".to_string()),
        ];
        assert_eq!(
            expand("up{pod=~\"$pod\",n=\"$podname\"}", &vars),
            "up{pod=~\"db-0\",n=\"x\"}"
        );
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
