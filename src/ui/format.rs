//! Number and time formatting shared by the panes.
use crate::config::Unit;
use chrono::{DateTime, Local, TimeZone};

pub fn bytes(n: f64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n;
    let mut i = 0;
    while v.abs() >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} B")
    } else if v.abs() >= 100.0 {
        format!("{v:.0} {}", UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// A value in its unit, short enough for an axis label: 1.5 MiB, 250µs, 1.2k ops/s.
pub fn unit_value(v: f64, unit: Unit) -> String {
    if !v.is_finite() {
        return "–".into();
    }
    match unit {
        Unit::Bytes => binary(v),
        Unit::BytesPerSecond => format!("{}/s", unit_value(v, Unit::Bytes)),
        Unit::Percent => format!("{}%", sig(v)),
        Unit::Seconds => seconds(v),
        Unit::OpsPerSecond => format!("{} ops/s", si(v)),
        Unit::None => si(v),
    }
}

/// Bytes in binary units with three significant digits: 512 B, 1.5 KiB, 20 GiB.
fn binary(v: f64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut n = v;
    let mut i = 0;
    while n.abs() >= 1024.0 && i < UNITS.len() - 1 {
        n /= 1024.0;
        i += 1;
    }
    format!("{} {}", sig(n), UNITS[i])
}

/// Seconds scaled from nanoseconds to hours.
fn seconds(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0s".into();
    }
    let (n, suffix) = match a {
        a if a < 1e-6 => (v * 1e9, "ns"),
        a if a < 1e-3 => (v * 1e6, "µs"),
        a if a < 1.0 => (v * 1e3, "ms"),
        a if a < 60.0 => (v, "s"),
        a if a < 3600.0 => (v / 60.0, "min"),
        _ => (v / 3600.0, "h"),
    };
    format!("{}{suffix}", sig(n))
}

/// A count with an SI prefix: 950, 1.2k, 3.4M; tiny values in scientific notation.
fn si(v: f64) -> String {
    let a = v.abs();
    for (scale, prefix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")] {
        if a >= scale {
            return format!("{}{prefix}", sig(v / scale));
        }
    }
    if a != 0.0 && a < 0.01 {
        format!("{v:.1e}")
    } else {
        sig(v)
    }
}

/// Three significant digits without trailing zeros: 1.5, 12.3, 250.
fn sig(v: f64) -> String {
    let a = v.abs();
    let s = if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// A span of seconds as the largest whole unit that divides it: 30s, 5m, 6h, 7d.
pub fn span(secs: f64) -> String {
    if secs < 1.0 {
        return format!("{}s", sig(secs));
    }
    let s = secs.round() as i64;
    match s {
        s if s > 0 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s > 0 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s > 0 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

pub fn local(ts: i64, fmt: &str) -> String {
    Local
        .timestamp_opt(ts, 0)
        .single()
        .map(|t: DateTime<Local>| t.format(fmt).to_string())
        .unwrap_or_default()
}

/// The local zone's offset from UTC at `ts`, in seconds.
pub fn utc_offset(ts: i64) -> i64 {
    Local
        .timestamp_opt(ts, 0)
        .single()
        .map_or(0, |t| i64::from(t.offset().local_minus_utc()))
}

/// Shortens `s` to `max` characters with an ellipsis in the middle, keeping both ends:
/// series names often differ only at the end.
pub fn clip_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    if max < 5 {
        return clip(s, max);
    }
    let tail = (max - 1) / 2;
    let head = max - 1 - tail;
    let head: String = s.chars().take(head).collect();
    let tail: String = s.chars().skip(n - tail).collect();
    format!("{head}…{tail}")
}

/// Shortens `s` to `max` characters with an ellipsis.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(20.0 * 1024.0 * 1024.0 * 1024.0), "20.0 GiB");
        assert_eq!(bytes(150.0 * 1024.0 * 1024.0), "150 MiB");
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
        assert_eq!(clip_middle("shop/data-db-0", 10), "shop/…db-0");
        assert_eq!(clip_middle("shop/data-db-0", 14), "shop/data-db-0");
        assert_eq!(clip_middle("abcdef", 4), "abc…");
    }

    #[test]
    fn values_in_their_units() {
        let v = |x: f64, u: Unit| unit_value(x, u);
        assert_eq!(v(0.0, Unit::Bytes), "0 B");
        assert_eq!(v(0.5, Unit::Bytes), "0.5 B");
        assert_eq!(v(1536.0, Unit::Bytes), "1.5 KiB");
        assert_eq!(v(150.0 * 1024.0 * 1024.0, Unit::Bytes), "150 MiB");
        assert_eq!(v(3.0 * 1024f64.powi(5), Unit::Bytes), "3 PiB");
        assert_eq!(v(-2048.0, Unit::Bytes), "-2 KiB");
        assert_eq!(v(2.0 * 1024.0 * 1024.0, Unit::BytesPerSecond), "2 MiB/s");
        assert_eq!(v(0.00025, Unit::Seconds), "250µs");
        assert_eq!(v(0.0000004, Unit::Seconds), "400ns");
        assert_eq!(v(0.0125, Unit::Seconds), "12.5ms");
        assert_eq!(v(1.5, Unit::Seconds), "1.5s");
        assert_eq!(v(90.0, Unit::Seconds), "1.5min");
        assert_eq!(v(7200.0, Unit::Seconds), "2h");
        assert_eq!(v(0.0, Unit::Seconds), "0s");
        assert_eq!(v(42.25, Unit::Percent), "42.2%");
        assert_eq!(v(0.5, Unit::Percent), "0.5%");
        assert_eq!(v(950.0, Unit::None), "950");
        assert_eq!(v(1234.0, Unit::None), "1.23k");
        assert_eq!(v(-2_500_000.0, Unit::None), "-2.5M");
        assert_eq!(v(4.2e12, Unit::None), "4.2T");
        assert_eq!(v(0.05, Unit::None), "0.05");
        assert_eq!(v(0.00012, Unit::None), "1.2e-4");
        assert_eq!(v(1500.0, Unit::OpsPerSecond), "1.5k ops/s");
        assert_eq!(v(f64::NAN, Unit::None), "–");
    }

    #[test]
    fn spans() {
        assert_eq!(span(300.0), "5m");
        assert_eq!(span(6.0 * 3600.0), "6h");
        assert_eq!(span(7.0 * 86_400.0), "7d");
        assert_eq!(span(30.0), "30s");
        assert_eq!(span(90.0), "90s");
        assert_eq!(span(0.5), "0.5s");
    }
}
