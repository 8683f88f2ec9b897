//! Portworx metrics: the live /metrics page and 24 h of history for backfilling,
//! computed from one closed form so both agree where they meet.
use super::model::{Cluster, State, Volume};
use std::f64::consts::TAU;
use std::fmt::Write;

const DAY: f64 = 86_400.0;
/// Counters start here, well before any backfill window.
const ORIGIN: f64 = 1_700_000_000.0;

/// Cumulative IO of a volume at a time. The rate follows a daily wave, so the
/// counters are integrals of `base * (1 + 0.6 sin(2πt/day + φ))`.
pub struct Io {
    pub read_bytes: f64,
    pub written_bytes: f64,
    pub reads: f64,
    pub writes: f64,
    pub read_rate: f64,
    pub write_rate: f64,
}

impl Io {
    pub fn of(v: &Volume, t: f64) -> Io {
        if v.readonly {
            return Io {
                read_bytes: 0.0,
                written_bytes: 0.0,
                reads: 0.0,
                writes: 0.0,
                read_rate: 0.0,
                write_rate: 0.0,
            };
        }
        let phase = (v.seed % 628) as f64 / 100.0;
        let wave = |t: f64| t - 0.6 * DAY / TAU * ((TAU * t / DAY + phase).cos() - phase.cos());
        let rate = |t: f64| 1.0 + 0.6 * (TAU * t / DAY + phase).sin();
        let base_read = 200_000.0 + (v.seed % 1000) as f64 * 2_000.0;
        let base_write = 80_000.0 + (v.seed % 700) as f64 * 1_500.0;
        let cum = wave(t - ORIGIN);
        Io {
            read_bytes: (base_read * cum).floor(),
            written_bytes: (base_write * cum).floor(),
            reads: (base_read / 16_384.0 * cum).floor(),
            writes: (base_write / 8_192.0 * cum).floor(),
            read_rate: base_read * rate(t - ORIGIN),
            write_rate: base_write * rate(t - ORIGIN),
        }
    }
}

struct Sample {
    name: &'static str,
    labels: String,
    value: f64,
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Every sample the cluster exposes at time `t`, as the live page shows them.
fn samples(c: &Cluster, t: f64, extra: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    let common = format!(
        "cluster=\"{}\",clusterUUID=\"{}\"{extra}",
        esc(&c.name),
        c.id
    );
    for v in c.volumes.values() {
        let node_id = v
            .attached_on
            .clone()
            .or_else(|| v.replica_nodes.first().cloned())
            .unwrap_or_default();
        let labels = format!(
            "{common},nodeID=\"{node_id}\",node=\"{}\",volume=\"{}\",volumename=\"{}\"",
            esc(c.node_name(&node_id)),
            v.id,
            esc(&v.name)
        );
        let io = Io::of(v, t);
        let repl = match v.state {
            State::Restore => 5.0,
            State::Detached | State::Available => 4.0,
            State::Attached => 0.0,
        };
        let mut push = |name, value| {
            out.push(Sample {
                name,
                labels: labels.clone(),
                value,
            })
        };
        push("px_volume_capacity_bytes", v.size as f64);
        push(
            "px_volume_usage_bytes",
            Cluster::usage_at(v, t as i64) as f64,
        );
        push("px_volume_halevel", v.ha_level as f64);
        push("px_volume_currhalevel", v.ha_level as f64);
        push("px_volume_replication_status", repl);
        push("px_volume_status", 2.0);
        push("px_volume_state", v.state.number() as f64);
        push(
            "px_volume_attached",
            if v.attached_on.is_some() { 1.0 } else { 0.0 },
        );
        push("px_volume_read_bytes_total", io.read_bytes);
        push("px_volume_written_bytes_total", io.written_bytes);
        push("px_volume_reads_total", io.reads);
        push("px_volume_writes_total", io.writes);
        push("px_volume_readthroughput", io.read_rate);
        push("px_volume_writethroughput", io.write_rate);
        push(
            "px_volume_iops",
            io.read_rate / 16_384.0 + io.write_rate / 8_192.0,
        );
        push(
            "px_volume_read_latency_seconds",
            0.0004 + io.read_rate / 1e10,
        );
        push(
            "px_volume_write_latency_seconds",
            0.0009 + io.write_rate / 1e10,
        );
    }
    for (i, n) in c.nodes.iter().enumerate() {
        let labels = format!("{common},nodeID=\"{}\",node=\"{}\"", n.id, esc(&n.name));
        let wave = (TAU * t / DAY + i as f64).sin();
        let mut push = |name, value| {
            out.push(Sample {
                name,
                labels: labels.clone(),
                value,
            })
        };
        push("px_cluster_cpu_percent", 22.0 + 12.0 * wave);
        push("px_cluster_memory_utilized_percent", 41.0 + 4.0 * wave);
        push("px_cluster_disk_total_bytes", 500.0 * (1u64 << 30) as f64);
        push("px_node_status_node_status", 2.0);
    }
    let labels = common.clone();
    let n = c.nodes.len() as f64;
    for (name, value) in [
        ("px_cluster_status_size", n),
        ("px_cluster_status_nodes_online", n),
        ("px_cluster_status_nodes_offline", 0.0),
        ("px_cluster_status_quorum", 1.0),
    ] {
        out.push(Sample {
            name,
            labels: labels.clone(),
            value,
        });
    }
    out
}

fn kind(name: &str) -> &'static str {
    if name.ends_with("_total") {
        "counter"
    } else {
        "gauge"
    }
}

/// The Prometheus text exposition of the live metrics.
pub fn page(c: &Cluster, t: f64) -> String {
    let mut all = samples(c, t, "");
    all.sort_by_key(|s| s.name);
    let mut out = String::new();
    let mut last = "";
    for s in &all {
        if s.name != last {
            let _ = writeln!(out, "# TYPE {} {}", s.name, kind(s.name));
            last = s.name;
        }
        let _ = writeln!(out, "{}{{{}}} {}", s.name, s.labels, s.value);
    }
    out
}

/// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`: every series of
/// the live page from `hours` ago until `end`, with the job and instance labels a scrape
/// of `instance` adds, so the backfill and the live series are one.
pub fn backfill(c: &Cluster, end: f64, hours: u32, step: u32, instance: &str) -> String {
    let extra = format!(",instance=\"{}\",job=\"portworx\"", esc(instance));
    let start = end - hours as f64 * 3600.0;
    let times: Vec<f64> = (0..)
        .map(|i| start + (i * step) as f64)
        .take_while(|t| *t < end)
        .collect();
    let per_time: Vec<Vec<Sample>> = times.iter().map(|t| samples(c, *t, &extra)).collect();
    let mut out = String::new();
    let width = per_time.first().map_or(0, Vec::len);
    let mut last = "";
    // Series by series, in time order; families stay contiguous since samples() groups them.
    let mut order: Vec<usize> = (0..width).collect();
    if let Some(first) = per_time.first() {
        order.sort_by_key(|i| first[*i].name);
    }
    for i in order {
        let name = per_time[0][i].name;
        if name != last {
            // Typed as gauges: the OpenMetrics parser wants counter samples suffixed
            // beyond the family name, and the type does not change what is stored.
            let _ = writeln!(out, "# TYPE {name} gauge");
            last = name;
        }
        for (t, samples) in times.iter().zip(&per_time) {
            let s = &samples[i];
            let _ = writeln!(out, "{}{{{}}} {} {}", s.name, s.labels, s.value, *t as i64);
        }
    }
    out.push_str("# EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn cluster() -> Cluster {
        let nodes: Vec<String> = ["n1", "n2"].iter().map(|s| s.to_string()).collect();
        let mut c = Cluster::new("demo", &nodes, 3, Duration::from_secs(1));
        c.create(
            "pvc-a",
            &json!({"size": "1000000", "ha_level": "2"}),
            Default::default(),
        )
        .unwrap();
        c
    }

    #[test]
    fn counters_only_grow() {
        let c = cluster();
        let v = c.volumes.values().next().unwrap();
        let mut prev = 0.0;
        for i in 0..2000 {
            let io = Io::of(v, 1_760_000_000.0 + i as f64 * 97.0);
            assert!(io.read_bytes >= prev);
            prev = io.read_bytes;
        }
    }

    #[test]
    fn backfill_series_match_the_live_page_labels() {
        let c = cluster();
        let page = page(&c, 1_760_000_000.0);
        let fill = backfill(&c, 1_760_000_000.0, 1, 60, "127.0.0.1:1");
        assert!(fill.ends_with("# EOF\n"));
        assert_eq!(
            fill.lines()
                .filter(|l| l.starts_with("px_volume_usage_bytes{"))
                .count(),
            60
        );
        let live = page
            .lines()
            .find(|l| l.starts_with("px_volume_usage_bytes{"))
            .unwrap();
        let filled = fill
            .lines()
            .find(|l| l.starts_with("px_volume_usage_bytes{"))
            .unwrap();
        assert!(filled.contains("job=\"portworx\"") && live.contains("volumename=\"pvc-a\""));
    }
}
