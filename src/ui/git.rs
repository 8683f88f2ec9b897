//! The git pane: history with short SHA, date, author and subject.
use super::format::{clip, local};
use super::theme::Theme;
use super::{link_notice, title};
use crate::app::State;
use crate::app::state::Pane;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, block: Block, area: Rect) {
    let g = &s.git;
    let head = match &g.repo {
        Some(r) => {
            let name = std::path::Path::new(&r.path)
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let more = if g.more { "+" } else { "" };
            format!(
                "{name} · {} @ {} · {}{more} commits",
                r.branch,
                &r.head[..r.head.len().min(7)],
                g.commits.len()
            )
        }
        None => String::new(),
    };
    let block = block.title(title(theme, Pane::Git.title(), head));
    if (g.repo.is_none() || g.commits.is_empty() && g.link != crate::app::state::Link::Up)
        && link_notice(
            f,
            theme,
            block.clone(),
            area,
            &g.link,
            "no repository: run sextant inside a git repository or pass --repo",
        )
    {
        return;
    }
    // Narrow panes keep the subject readable: the day only, shorter names.
    let wide = area.width >= 100;
    let (date_format, date_width) = if wide {
        ("%Y-%m-%d %H:%M", 16)
    } else {
        ("%Y-%m-%d", 10)
    };
    let author_width: u16 = if wide { 16 } else { 12 };
    let rows: Vec<Row> = g
        .commits
        .iter()
        .map(|c| {
            Row::new(vec![
                Cell::from(Span::styled(
                    c.id[..7.min(c.id.len())].to_string(),
                    theme.style("git.sha"),
                )),
                Cell::from(Span::styled(
                    local(c.time, date_format),
                    theme.style("git.date"),
                )),
                Cell::from(Span::styled(
                    clip(&c.author, author_width as usize),
                    theme.style("git.author"),
                )),
                Cell::from(Span::styled(c.summary.clone(), theme.style("text"))),
            ])
        })
        .collect();
    let widths = [
        Constraint::Length(7),
        Constraint::Length(date_width),
        Constraint::Length(author_width),
        Constraint::Min(10),
    ];
    let table = Table::new(rows, widths)
        .header(Row::new(["SHA", "DATE", "AUTHOR", "SUBJECT"]).style(theme.style("header")))
        .row_highlight_style(if s.focus == Pane::Git {
            theme.style("selection")
        } else {
            Default::default()
        })
        .block(block);
    let mut ts = TableState::default().with_selected(Some(g.selected));
    f.render_stateful_widget(table, area, &mut ts);
}
