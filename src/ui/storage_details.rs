//! The storage pane's details view: every field of the selected volume, its consumers,
//! and its snapshots with the commit each was taken at.
use super::format::{bytes, clip, unit_value};
use super::health_style;
use super::storage::used_token;
use super::theme::Theme;
use crate::app::State;
use crate::app::cluster::age;
use crate::app::state::Pane;
use crate::app::storage::VolumeLine;
use crate::config::Unit;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

fn field<'a>(theme: &Theme, name: &str, value: String, style: Style) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("{name:<11} "), theme.style("header")),
        Span::styled(value, style),
    ])
}

fn ago(now: i64, t: i64) -> String {
    if t > 0 { age(now, t) } else { "–".into() }
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, l: &VolumeLine, block: Block, area: Rect) {
    let v = l.volume;
    let block = block
        .title(Span::styled(
            format!(" volume {} ", l.claim),
            theme.style("header"),
        ))
        .title_bottom(Span::styled(
            " Esc back · j/k snapshot ",
            theme.style("text.dim"),
        ));
    let text = theme.style("text");
    let state = if v.attached_on.is_empty() {
        format!("{} · {}", v.status.to_lowercase(), v.state.to_lowercase())
    } else {
        format!(
            "{} · {} on {}",
            v.status.to_lowercase(),
            v.state.to_lowercase(),
            v.attached_on
        )
    };
    let pct = l.used_pct();
    let ha = if (v.replicas as i64) < v.ha_level {
        theme.style("status.warn")
    } else {
        text
    };
    let consumers = crate::app::storage::consumers(s, l);
    // Most telling first: a short pane cuts from the bottom.
    let mut lines = vec![field(theme, "State", state, health_style(theme, l.health))];
    if !v.error.is_empty() {
        lines.push(field(
            theme,
            "Error",
            v.error.clone(),
            theme.style("status.error"),
        ));
    }
    lines.extend([Line::from(vec![
        Span::styled(format!("{:<11} ", "Size"), theme.style("header")),
        Span::styled(
            format!("{}, {} used ", bytes(v.size as f64), bytes(v.usage as f64)),
            text,
        ),
        Span::styled(format!("({pct:.0}%)"), theme.style(used_token(pct))),
    ])]);
    if let Some(r) = s.storage.write_rates.get(&v.name) {
        let rate = format!("{} (Prometheus)", unit_value(*r, Unit::BytesPerSecond));
        lines.push(field(theme, "Writes", rate, text));
    }
    lines.extend([
        field(
            theme,
            "HA",
            format!(
                "{} of {} replicas: {}",
                v.replicas,
                v.ha_level,
                v.replica_nodes.join(", ")
            ),
            ha,
        ),
        field(theme, "PV", l.pv.clone(), text),
        field(theme, "Volume id", v.id.clone(), text),
    ]);
    if consumers.is_empty() {
        lines.push(field(
            theme,
            "Consumers",
            "none".into(),
            theme.style("text.dim"),
        ));
    }
    for (i, c) in consumers.iter().enumerate() {
        let owner = if c.owner.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.owner)
        };
        lines.push(field(
            theme,
            if i == 0 { "Consumers" } else { "" },
            format!("{} {}/{}{owner}", c.kind, c.namespace, c.name),
            text,
        ));
    }
    lines.extend([
        field(theme, "IO profile", v.io_profile.clone(), text),
        field(theme, "Created", ago(s.now, v.created), text),
    ]);
    lines.push(field(
        theme,
        "Snapshots",
        match l.snapshots.len() {
            0 => "none".into(),
            n => n.to_string(),
        },
        text,
    ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    // Snapshots keep at least half a short pane; the last fields give way.
    let wanted = l.snapshots.len() as u16 + 1;
    let fields =
        (lines.len() as u16).min(inner.height.saturating_sub(wanted).max(inner.height / 2));
    let [top, bottom] =
        Layout::vertical([Constraint::Length(fields), Constraint::Min(0)]).areas(inner);
    f.render_widget(Paragraph::new(lines), top);
    if l.snapshots.is_empty() {
        return;
    }
    let dim = theme.style("text.dim");
    let rows: Vec<Row> = l
        .snapshots
        .iter()
        .map(|n| {
            let size = if !n.size.is_empty() {
                n.size.clone()
            } else if n.bytes > 0 {
                bytes(n.bytes as f64)
            } else {
                String::new()
            };
            let commit = n
                .commit
                .as_deref()
                .map(|c| crate::engine::short(c, 8).to_string())
                .unwrap_or_default();
            let origin = match (&n.namespace, &n.reason) {
                (None, _) => "px only".to_string(),
                (Some(_), Some(r)) => r.clone(),
                (Some(_), None) => String::new(),
            };
            Row::new(vec![
                Cell::from(Span::styled(n.name.clone(), text)),
                Cell::from(Span::styled(ago(s.now, n.created), dim)),
                Cell::from(Span::styled(size, text)),
                Cell::from(Span::styled(commit, theme.style("git.sha"))),
                Cell::from(Span::styled(origin, dim)),
                Cell::from(Span::styled(
                    clip(&n.state, 60),
                    health_style(theme, n.health),
                )),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(18),
        Constraint::Length(4),
        Constraint::Length(9),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Fill(1),
    ];
    let table = Table::new(rows, widths)
        .header(
            Row::new(["SNAPSHOT", "AGE", "SIZE", "COMMIT", "WHY", "STATE"])
                .style(theme.style("header")),
        )
        .row_highlight_style(if s.focus == Pane::Storage {
            theme.style("selection")
        } else {
            Default::default()
        })
        .highlight_symbol("▸ ")
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always)
        .column_spacing(1);
    let mut ts = TableState::default().with_selected(Some(s.storage.snapshot));
    f.render_stateful_widget(table, bottom, &mut ts);
}
