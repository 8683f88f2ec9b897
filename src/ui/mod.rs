//! Views: functions of state and theme that draw. No IO, no mutation.
mod chart;
mod cluster;
mod diff;
pub mod format;
mod git;
mod glyphs;
mod help;
pub mod layout;
mod legend;
mod metrics;
mod ops;
mod palette;
mod plot;
mod status;
mod storage;
mod storage_details;
mod sync;
pub mod theme;
mod too_small;
mod watch;

use crate::app::State;
use crate::app::cluster::Health;
use crate::app::keymap::Keymap;
use crate::app::state::{Link, Pane, tabbed};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Paragraph, Wrap};
use theme::Theme;

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, keymap: &Keymap) {
    let area = f.area();
    f.buffer_mut().set_style(area, theme.style("background"));
    if layout::too_small(area.width, area.height) {
        too_small::draw(f, theme);
        return;
    }
    if s.watch.on {
        watch::draw(f, s, theme);
        if s.ascii {
            glyphs::to_ascii(f.buffer_mut());
        }
        return;
    }
    let [main, bar] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)]).areas(f.area());
    let area = f.area();
    if tabbed(area.width, area.height) {
        f.render_widget(
            Paragraph::new(tab_bar(s, theme)),
            Rect::new(0, 0, area.width, 1),
        );
    }
    for (p, rect) in layout::layout(area.width, area.height, s.zoom, s.focus) {
        pane(f, s, theme, p, rect);
    }
    status::draw(f, s, theme, keymap, bar);
    if s.help {
        help::draw(f, s, theme, keymap, main);
    }
    if let Some(p) = &s.sync.preview {
        sync::preview(f, s, theme, p, main);
    }
    if let Some(d) = &s.sync.commit {
        sync::commit(f, theme, d, main);
    }
    if let Some(d) = &s.ops.snapshot {
        ops::snapshot(f, theme, d, main);
    }
    if let Some(d) = &s.ops.restore {
        ops::restore(f, theme, d, main);
    } else if let Some(r) = s
        .ops
        .unfinished
        .first()
        .filter(|_| s.ops.snapshot.is_none())
    {
        ops::unfinished(f, theme, r, s.ops.unfinished.len(), s.read_only, main);
    }
    if let Some(c) = &s.confirm {
        help::confirm(f, theme, &c.intent, main);
    }
    if s.ascii {
        glyphs::to_ascii(f.buffer_mut());
    }
}

fn pane(f: &mut Frame, s: &State, theme: &Theme, p: Pane, area: Rect) {
    let focused = s.focus == p;
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(theme.style(if focused { "border.focus" } else { "border" }));
    match p {
        Pane::Cluster => cluster::draw(f, s, theme, block, area),
        Pane::Git => git::draw(f, s, theme, block, area),
        Pane::Metrics => metrics::draw(f, s, theme, block, area),
        Pane::Storage => storage::draw(f, s, theme, block, area),
    }
}

/// The tabs of a small terminal: the focused pane highlighted; Tab or a click moves.
fn tab_bar(s: &State, theme: &Theme) -> Line<'static> {
    let mut spans = Vec::new();
    // The columns a click is matched against.
    for (p, _, _) in layout::tabs() {
        let style = if p == s.focus {
            "selection"
        } else {
            "text.dim"
        };
        spans.push(Span::styled(format!(" {} ", p.title()), theme.style(style)));
    }
    spans.push(Span::styled(" Tab: next", theme.style("text.dim")));
    Line::from(spans)
}

pub fn health_style(theme: &Theme, h: Health) -> Style {
    theme.style(match h {
        Health::Healthy => "status.ok",
        Health::Progressing => "status.progress",
        Health::Degraded => "status.warn",
        Health::Failed => "status.error",
        Health::Unknown => "status.unknown",
    })
}

/// A pane title: its name, then what it shows.
fn title<'a>(theme: &Theme, name: &'a str, rest: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!(" {name} "), theme.style("title")),
        Span::styled(rest, theme.style("text.dim")),
    ])
}

/// What a pane shows when its source is not configured, connecting or down.
fn link_notice(
    f: &mut Frame,
    theme: &Theme,
    block: Block,
    area: Rect,
    link: &Link,
    off: &str,
) -> bool {
    let (style, text) = match link {
        Link::Up => return false,
        Link::Off => ("text.dim", off.to_string()),
        Link::Connecting => ("text.dim", "connecting…".to_string()),
        Link::Down(e) => ("status.error", e.clone()),
    };
    f.render_widget(
        Paragraph::new(Span::styled(text, theme.style(style)))
            .wrap(Wrap { trim: true })
            .block(block),
        area,
    );
    true
}
#[cfg(test)]
mod plain_tests;
#[cfg(test)]
mod storage_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod watch_tests;
