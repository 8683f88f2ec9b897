//! What the frame benchmarks share: how many runs, and how a sample is summed up.
use std::time::Duration;

/// RUNS from the environment, default 50.
pub fn runs() -> usize {
    std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50)
}

/// "median 0.58 ms (min 0.55, max 0.71, 50 runs)".
pub fn summary(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.2} ms (min {:.2}, max {:.2}, {} runs)",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1]),
        v.len()
    )
}
