//! The metrics pane: the current graph as braille lines over the time range.
use super::format::{bytes, clip, local};
use super::theme::Theme;
use super::{link_notice, title};
use crate::app::State;
use crate::app::state::{Link, Pane};
use crate::config::Unit;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Wrap};

pub fn value(v: f64, unit: Unit) -> String {
    match unit {
        Unit::Bytes => bytes(v),
        Unit::BytesPerSecond => format!("{}/s", bytes(v)),
        Unit::Percent => format!("{v:.0}%"),
        Unit::Seconds if v < 1.0 => format!("{:.1}ms", v * 1000.0),
        Unit::Seconds => format!("{v:.1}s"),
        Unit::None if v.abs() >= 1e6 => format!("{:.1}M", v / 1e6),
        Unit::None if v.abs() >= 1e3 => format!("{:.1}k", v / 1e3),
        Unit::None => format!("{v:.2}"),
    }
}

/// A Portworx volume name (pvc-<uid>) reads better as the claim it backs; the
/// namespace is left out when it is the one shown.
fn legend_name(s: &State, label: &str) -> String {
    let claim = s
        .storage
        .volumes
        .iter()
        .find(|v| v.name == label)
        .and_then(|v| v.pvc.as_ref());
    match claim {
        Some((ns, p)) if s.cluster.namespace.as_ref() == Some(ns) => p.clone(),
        Some((ns, p)) => format!("{ns}/{p}"),
        None => label.to_string(),
    }
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, block: Block, area: Rect) {
    let m = &s.metrics;
    let graph = m.graphs.get(m.current);
    let head = graph
        .map(|g| {
            format!(
                "{} ({}/{}) · last {}h",
                g.title,
                m.current + 1,
                m.graphs.len(),
                crate::sources::prometheus::RANGE_SECS / 3600
            )
        })
        .unwrap_or_default();
    let block = block.title(title(theme, Pane::Metrics.title(), head));
    let Some(graph) = graph else {
        f.render_widget(
            Paragraph::new(Span::styled(
                "no graphs configured",
                theme.style("text.dim"),
            ))
            .block(block),
            area,
        );
        return;
    };
    if m.shown.is_none()
        && link_notice(
            f,
            theme,
            block.clone(),
            area,
            &m.link,
            "no Prometheus: pass --prometheus URL",
        )
    {
        return;
    }
    let block = match &m.link {
        Link::Down(e) => block.title_bottom(Span::styled(
            format!(" stale: {} ", clip(e, 60)),
            theme.style("status.error"),
        )),
        _ => block,
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    if m.shown != Some(m.current) {
        f.render_widget(
            Paragraph::new(Span::styled("loading…", theme.style("text.dim"))),
            inner,
        );
        return;
    }
    if m.series.iter().all(|s| s.points.is_empty()) {
        let text = format!("no data for {}", graph.query);
        f.render_widget(
            Paragraph::new(Span::styled(text, theme.style("text.dim"))).wrap(Wrap { trim: true }),
            inner,
        );
        return;
    }
    let legend_lines = match inner.height {
        0..=8 => 1,
        9..=14 => 2,
        _ => 3,
    };
    let [chart_area, legend_area] =
        Layout::vertical([Constraint::Min(3), Constraint::Length(legend_lines)]).areas(inner);
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for p in m.series.iter().flat_map(|s| &s.points) {
        lo = lo.min(p.1);
        hi = hi.max(p.1);
    }
    if graph.unit == Unit::Percent || lo >= 0.0 {
        lo = 0.0;
    }
    if hi <= lo {
        hi = lo + 1.0;
    }
    hi += (hi - lo) * 0.05;
    let datasets: Vec<Dataset> = m
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Dataset::default()
                .marker(Marker::Braille)
                .graph_type(GraphType::Line)
                .style(theme.series(i))
                .data(&s.points)
        })
        .collect();
    let axis = theme.style("graph.axis");
    let mid = (m.start + m.end) / 2.0;
    let x = Axis::default()
        .bounds([m.start, m.end])
        .style(axis)
        .labels([
            local(m.start as i64, "%H:%M"),
            local(mid as i64, "%H:%M"),
            local(m.end as i64, "%H:%M"),
        ]);
    let y = Axis::default().bounds([lo, hi]).style(axis).labels([
        value(lo, graph.unit),
        value((lo + hi) / 2.0, graph.unit),
        value(hi, graph.unit),
    ]);
    f.render_widget(
        Chart::new(datasets)
            .x_axis(x)
            .y_axis(y)
            .legend_position(None),
        chart_area,
    );
    let mut spans = Vec::new();
    for (i, series) in m.series.iter().enumerate() {
        let last = series
            .points
            .last()
            .map(|p| value(p.1, graph.unit))
            .unwrap_or_default();
        // No-break spaces keep each entry (swatch, name, value) on one line.
        spans.push(Span::styled("━\u{a0}", theme.series(i)));
        let entry =
            format!("{} {last}", clip(&legend_name(s, &series.label), 44)).replace(' ', "\u{a0}");
        spans.push(Span::styled(entry, theme.style("text")));
        spans.push(Span::raw("   "));
    }
    f.render_widget(
        Paragraph::new(Line::from(spans)).wrap(Wrap { trim: true }),
        legend_area,
    );
}
