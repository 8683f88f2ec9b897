//! Metrics pane benchmark: a panel of 50 series × 1,000 points (6h at a 21.6 s step,
//! with gaps and NaN) in a zoomed 120×40 metrics pane drawn into a TestBackend.
//! Reports the frame alone, and a query's answer (MetricsEvent::Data through the
//! reducer) to the finished frame. Medians of RUNS runs (default 50).
//! Run with `cargo bench --bench chart`.
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sextant::app::keymap::Keymap;
use sextant::app::msg::MetricsEvent;
use sextant::app::state::{Pane, Series};
use sextant::app::{Msg, State, update};
use sextant::ui::{self, theme::Theme};
use std::time::Instant;

mod common;
use common::{runs, summary};

const W: u16 = 120;
const H: u16 = 40;
const SERIES: usize = 50;
const POINTS: usize = 1000;
const NOW: f64 = 1_714_564_800.0;
const RANGE: f64 = 6.0 * 3600.0;

/// Series whose values wander at different scales; every 97th sample is NaN and each
/// series misses a stretch of samples somewhere, so lines break.
fn series(end: f64) -> Vec<Series> {
    let step = RANGE / POINTS as f64;
    (0..SERIES)
        .map(|i| Series {
            label: format!("pvc-{i:04}-c0000000-0000-4000-8000-000000000000"),
            points: (0..POINTS)
                .filter(|k| !(i * 13 % 900..i * 13 % 900 + 20).contains(k))
                .map(|k| {
                    let t = end - RANGE + step * k as f64;
                    let v = if k % 97 == 0 {
                        f64::NAN
                    } else {
                        (i as f64 + 1.0) * 1e5 * (2.0 + ((k + i * 7) as f64 / 40.0).sin())
                    };
                    (t, v)
                })
                .collect(),
        })
        .collect()
}

fn data(end: f64) -> Msg {
    Msg::Metrics(MetricsEvent::Data {
        graph: 0,
        start: end - RANGE,
        end,
        step: RANGE / POINTS as f64,
        series: series(end),
        left_out: 0,
    })
}

fn main() {
    let keymap = Keymap::default();
    let theme = Theme::bundled("dark").expect("the bundled dark theme loads");
    let mut state = State::new(true, sextant::config::default_graphs(), NOW as i64);
    update(&mut state, &keymap, Msg::Resize(W, H));
    state.focus = Pane::Metrics;
    state.zoom = true;
    update(&mut state, &keymap, data(NOW));
    let mut term = Terminal::new(TestBackend::new(W, H)).unwrap();
    term.draw(|f| ui::draw(f, &state, &theme, &keymap)).unwrap();
    let screen = term.backend().to_string();
    assert!(
        screen.contains("and 42 more")
            && screen
                .chars()
                .any(|c| ('\u{2801}'..='\u{28ff}').contains(&c)),
        "the pane draws the chart:\n{screen}"
    );
    let mut draw = |state: &State| {
        term.draw(|f| ui::draw(f, state, &theme, &keymap)).unwrap();
    };
    draw(&state);
    let drawn = state.metrics.series.len();
    assert_eq!(drawn, SERIES, "the panel holds every series");

    let n = runs();
    let mut frame = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        draw(&state);
        frame.push(t.elapsed());
    }
    println!(
        "chart: frame of {SERIES} series × {POINTS} points, {W}x{H}: {}",
        summary(frame)
    );

    // Each answer moves the window by a step, so none is dropped as unchanged.
    let mut answer = Vec::with_capacity(n);
    for k in 1..=n {
        let msg = data(NOW + k as f64 * RANGE / POINTS as f64);
        let t = Instant::now();
        update(&mut state, &keymap, msg);
        assert!(state.dirty, "new data marks the state dirty");
        draw(&state);
        state.dirty = false;
        answer.push(t.elapsed());
    }
    println!(
        "chart: query answer (MetricsEvent::Data) to finished frame: {}",
        summary(answer)
    );
}
