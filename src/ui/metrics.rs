//! The metrics pane: the current panel's series as a chart with the time markers of
//! commits, syncs, roll backs and snapshots, and Prometheus's error above the last data.
use super::chart::{Chart, ChartMark, ChartSeries};
use super::format::{clip, span};
use super::theme::Theme;
use super::{link_notice, plot, title};
use crate::app::State;
use crate::app::marks::marks;
use crate::app::state::{Link, Pane, RANGES};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

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
            let range = RANGES.get(m.range).map_or(m.end - m.start, |&r| r as f64);
            let step = if m.step > 0.0 {
                format!(" · step {}", span(m.step))
            } else {
                String::new()
            };
            format!(
                "{} ({}/{}) · last {}{step}",
                g.title,
                m.current + 1,
                m.graphs.len(),
                span(range)
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
        && m.error.is_none()
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
    let inner = block.inner(area);
    f.render_widget(block, area);
    // The panel's own error (a bad query) or the lost connection, above older data.
    let error = m.error.as_deref().or(match &m.link {
        Link::Down(e) => Some(e.as_str()),
        _ => None,
    });
    let mut body = inner;
    if let Some(e) = error {
        let mark = if s.ascii { "! " } else { "⚠ " };
        let text = format!("{mark}{}", clip(e, usize::from(inner.width) * 2));
        let data = m.shown == Some(m.current);
        // Without data the whole pane explains; with data, at most two rows.
        let needed = text
            .chars()
            .count()
            .div_ceil(usize::from(inner.width.max(1)));
        let rows = if data {
            (needed.min(2) as u16).min(inner.height / 4).max(1)
        } else {
            inner.height
        };
        let [top, rest] =
            Layout::vertical([Constraint::Length(rows), Constraint::Min(0)]).areas(inner);
        f.render_widget(
            Paragraph::new(Span::styled(text, theme.style("status.error")))
                .wrap(Wrap { trim: true }),
            top,
        );
        body = rest;
    }
    if m.shown != Some(m.current) {
        if error.is_none() {
            f.render_widget(
                Paragraph::new(Span::styled("loading…", theme.style("text.dim"))),
                body,
            );
        }
        return;
    }
    // Only NaN is no data: infinite samples are drawn as flags.
    let shown = |p: &(f64, f64)| !p.1.is_nan();
    if !m.series.iter().any(|s| s.points.iter().any(shown)) {
        let text = format!("no data for {}", graph.query);
        f.render_widget(
            Paragraph::new(Line::styled(text, theme.style("text.dim"))).wrap(Wrap { trim: true }),
            body,
        );
        return;
    }
    let chart = Chart {
        left_out: m.left_out,
        series: m
            .series
            .iter()
            .map(|x| ChartSeries {
                label: legend_name(s, &x.label),
                points: &x.points,
            })
            .collect(),
        start: m.start,
        end: m.end,
        step: m.step,
        unit: graph.unit,
        marks: marks(s)
            .into_iter()
            .enumerate()
            .map(|(i, t)| ChartMark {
                time: t.time,
                kind: t.kind,
                label: t.label,
                highlighted: m.marker == Some(i),
            })
            .collect(),
        ascii: s.ascii,
    };
    plot::draw(f.buffer_mut(), body, &chart, theme);
}
