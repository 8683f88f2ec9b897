//! Watch mode for wall displays: a freshness line, five tiles that turn colour when
//! their part is wrong, the current graph (rotating) and the latest warnings.
use super::theme::Theme;
use crate::app::State;
use crate::app::cluster::Connection;
use crate::app::watch::{Level, Tile, freshness, tiles};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph};

fn token(l: Level) -> &'static str {
    match l {
        Level::Ok => "status.ok",
        Level::Unknown => "status.unknown",
        Level::Warn => "status.warn",
        Level::Bad => "status.error",
    }
}

fn header(s: &State, theme: &Theme) -> Line<'static> {
    let context = match &s.cluster.connection {
        Connection::Connected { context, .. } => context.clone(),
        _ => "?".into(),
    };
    let ns = s.cluster.namespace.clone().unwrap_or_else(|| "all".into());
    let clock = chrono::DateTime::from_timestamp(s.now, 0)
        .map(|t| t.format("%H:%M UTC").to_string())
        .unwrap_or_default();
    let mut spans = vec![Span::styled(
        format!(" sextant watch · {context} · {ns} · {clock} "),
        theme.style("title"),
    )];
    for (label, text, level) in freshness(s) {
        spans.push(Span::styled(format!(" {label} "), theme.style("text.dim")));
        spans.push(Span::styled(text, theme.style(token(level))));
    }
    Line::from(spans)
}

fn tile(f: &mut Frame, theme: &Theme, t: &Tile, area: Rect) {
    let style = theme.style(token(t.level));
    let mark = match t.level {
        Level::Bad | Level::Warn => "! ",
        _ => "",
    };
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(if t.level >= Level::Warn {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(style)
        .title(Span::styled(format!(" {mark}{} ", t.title), style));
    let mut lines = vec![
        Line::styled(t.headline.clone(), style.add_modifier(Modifier::BOLD)),
        Line::raw(""),
    ];
    let room = area.height.saturating_sub(4) as usize;
    let more = t.lines.len().saturating_sub(room);
    lines.extend(
        t.lines
            .iter()
            .take(if more > 0 {
                room.saturating_sub(1)
            } else {
                room
            })
            .map(|l| Line::styled(l.clone(), theme.style("text"))),
    );
    if more > 0 {
        lines.push(Line::styled(
            format!("and {} more", more + 1),
            theme.style("text.dim"),
        ));
    }
    f.render_widget(Paragraph::new(lines).block(block), area);
}

fn warnings(f: &mut Frame, s: &State, theme: &Theme, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style("border"))
        .title(Span::styled(" Latest warnings ", theme.style("title")));
    let lines: Vec<Line> = if s.cluster.warnings.is_empty() {
        vec![Line::styled("none", theme.style("status.ok"))]
    } else {
        s.cluster
            .warnings
            .iter()
            .take(area.height as usize)
            .map(|w| {
                Line::from(vec![
                    Span::styled(
                        format!("{} ", crate::app::cluster::age(s.now, w.time)),
                        theme.style("text.dim"),
                    ),
                    Span::styled(format!("{} ", w.reason), theme.style("status.warn")),
                    Span::styled(format!("{} {}", w.object, w.message), theme.style("text")),
                ])
            })
            .collect()
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme) {
    let area = f.area();
    let tile_rows = if area.width >= 100 { 1 } else { 2 };
    let tile_height = (area.height.saturating_sub(1) / 3).clamp(5, 10) * tile_rows;
    let [head, top, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(tile_height),
        Constraint::Min(0),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(header(s, theme)), head);
    let all = tiles(s);
    let per_row = all.len().div_ceil(tile_rows as usize);
    let rows = Layout::vertical(vec![
        Constraint::Ratio(1, tile_rows as u32);
        tile_rows as usize
    ])
    .split(top);
    for (r, chunk) in all.chunks(per_row).enumerate() {
        let cells =
            Layout::horizontal(vec![Constraint::Ratio(1, per_row as u32); per_row]).split(rows[r]);
        for (t, cell) in chunk.iter().zip(cells.iter()) {
            tile(f, theme, t, *cell);
        }
    }
    let [graph, warn] =
        Layout::horizontal([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(bottom);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style("border"));
    super::metrics::draw(f, s, theme, block, graph);
    warnings(f, s, theme, warn);
}
