//! Overlays: the help generated from the keymap, and the write confirmation.
use super::theme::Theme;
use crate::app::State;
use crate::app::keymap::Keymap;
use crate::app::msg::WriteIntent;
use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

pub(super) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [v] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [c] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(v);
    c
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, keymap: &Keymap, area: Rect) {
    let entries = keymap.help(s.read_only);
    let mut lines: Vec<Line> = entries
        .iter()
        .map(|(keys, what, pane)| {
            let scope = if pane.is_empty() {
                String::new()
            } else {
                format!("  ({pane})")
            };
            Line::from(vec![
                Span::styled(format!("{keys:>16}  "), theme.style("help.key")),
                Span::styled(format!("{what}{scope}"), theme.style("text")),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        format!("{:>16}  back, close, unzoom", "Esc"),
        theme.style("text.dim"),
    ));
    if s.read_only {
        lines.push(Line::styled(
            "read-only: actions that write are hidden",
            theme.style("status.warn"),
        ));
    } else if let Some(why) = crate::app::storage::writes_blocked(s) {
        // S and r are listed but refuse: say so before they are tried.
        lines.push(Line::styled(why, theme.style("status.warn")));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(theme.style("border.focus"))
        .title(Span::styled(" Keys ", theme.style("title")))
        .style(theme.style("dialog"));
    // Too many keys for the height: two columns, when the width allows.
    const COLUMN: u16 = 84;
    let rows = lines.len() as u16 + 2;
    if rows > area.height && area.width >= 2 * COLUMN + 2 {
        let half = lines.len().div_ceil(2);
        let right = lines.split_off(half);
        let rect = centered(area, 2 * COLUMN + 2, half as u16 + 2);
        let inner = block.inner(rect);
        f.render_widget(Clear, rect);
        f.render_widget(block, rect);
        let [l, r] =
            Layout::horizontal([Constraint::Length(COLUMN), Constraint::Min(0)]).areas(inner);
        f.render_widget(Paragraph::new(lines), l);
        f.render_widget(Paragraph::new(right), r);
        return;
    }
    let rect = centered(area, COLUMN, rows);
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
}

pub fn confirm(f: &mut Frame, theme: &Theme, intent: &WriteIntent, area: Rect) {
    let mut lines: Vec<Line> = intent
        .preview()
        .into_iter()
        .map(|l| Line::styled(l, theme.style("dialog")))
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" y ", theme.style("help.key")),
        Span::styled("confirm   ", theme.style("dialog")),
        Span::styled(" n/Esc ", theme.style("help.key")),
        Span::styled("cancel", theme.style("dialog")),
    ]));
    let rect = centered(area, 60, lines.len() as u16 + 2);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.style("dialog.border"))
        .title(Span::styled(" Confirm ", theme.style("dialog.border")))
        .style(theme.style("dialog"));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block),
        rect,
    );
}
