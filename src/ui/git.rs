//! The git pane: history with marks, short SHA, date, author and subject; or the diff
//! viewer over it. Only the rows on screen are built, however much history is loaded.
use super::format::{clip, local};
use super::theme::Theme;
use super::{link_notice, title};
use crate::app::State;
use crate::app::state::{Entry, GitState, Link, Pane};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

pub const SYNCED: &str = "●";
pub const PENDING: &str = "↑";
pub const STATEFUL: &str = "◆";
pub const WORKTREE: &str = "✎";

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, block: Block, area: Rect) {
    let g = &s.git;
    if let Some(v) = &g.diff {
        super::diff::draw(f, v, g.split_at(area.width), theme, block, area);
        return;
    }
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
                crate::engine::short(&r.head, 7),
                g.commits.len()
            )
        }
        None => String::new(),
    };
    let block = block
        .title(title(theme, Pane::Git.title(), head))
        .title_bottom(legend(g, theme));
    if (g.repo.is_none() || g.commits.is_empty() && g.link != Link::Up)
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
    // Narrow panes keep the date and author (the audit trail) and give up the SHA,
    // then the year.
    let (date_format, date_width, author_width, sha_width) = match area.width {
        100.. => ("%Y-%m-%d %H:%M", 16, 16, 7),
        50..=99 => ("%Y-%m-%d", 10, 12, 7),
        36..=49 => ("%Y-%m-%d", 10, 10, 0),
        _ => ("%m-%d", 5, 8, 0),
    };
    // Only the window on screen is built: rows the same way Table scrolls them.
    let height = area.height.saturating_sub(3).max(1) as usize;
    let first = super::layout::first_row(g.selected, height);
    let rows: Vec<Row> = (first..g.entries().min(first + height))
        .filter_map(|i| g.entry(i).map(|e| (i, e)))
        .map(|(i, e)| match e {
            Entry::WorkTree(n) => Row::new(vec![
                Cell::from(Span::styled(WORKTREE, theme.style("git.worktree"))),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(Span::styled(
                    format!("working tree ({n} files)"),
                    theme.style("git.worktree"),
                )),
            ]),
            Entry::Commit(c) => {
                let sync = match g.synced_row {
                    Some(r) if r + g.offset() == i => {
                        Span::styled(SYNCED, theme.style("git.synced"))
                    }
                    Some(r) if i < r + g.offset() => {
                        Span::styled(PENDING, theme.style("git.pending"))
                    }
                    _ => Span::raw(" "),
                };
                let stateful = if c.stateful {
                    Span::styled(STATEFUL, theme.style("git.stateful"))
                } else {
                    Span::raw(" ")
                };
                Row::new(vec![
                    Cell::from(Line::from(vec![sync, stateful])),
                    Cell::from(Span::styled(
                        c.id[..sha_width.min(c.id.len())].to_string(),
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
            }
        })
        .collect();
    let widths = [
        Constraint::Length(2),
        Constraint::Length(sha_width as u16),
        Constraint::Length(date_width),
        Constraint::Length(author_width),
        Constraint::Min(8),
    ];
    let header = if sha_width > 0 { "SHA" } else { "" };
    let table = Table::new(rows, widths)
        .header(Row::new(["", header, "DATE", "AUTHOR", "SUBJECT"]).style(theme.style("header")))
        .row_highlight_style(if s.focus == Pane::Git {
            theme.style("selection")
        } else {
            Default::default()
        })
        .block(block);
    let mut ts = TableState::default().with_selected(Some(g.selected - first));
    f.render_stateful_widget(table, area, &mut ts);
}

/// The marks' meaning, with what the cluster is synced to.
fn legend<'a>(g: &GitState, theme: &Theme) -> Line<'a> {
    let dim = theme.style("text.dim");
    let mut spans = vec![Span::raw(" ")];
    match (&g.synced, g.synced_row) {
        (None, _) => {
            spans.push(Span::styled(SYNCED, theme.style("git.synced")));
            spans.push(Span::styled(" synced: not recorded", dim));
        }
        (Some(rec), row) => {
            let sha = crate::engine::short(&rec.commit, 7);
            spans.push(Span::styled(SYNCED, theme.style("git.synced")));
            spans.push(Span::styled(format!(" synced {sha}"), dim));
            match row {
                Some(n) => {
                    spans.push(Span::styled(" · ", dim));
                    spans.push(Span::styled(PENDING, theme.style("git.pending")));
                    spans.push(Span::styled(format!(" {n} pending"), dim));
                }
                None => spans.push(Span::styled(" (not in the loaded history)", dim)),
            }
        }
    }
    spans.push(Span::styled(" · ", dim));
    spans.push(Span::styled(STATEFUL, theme.style("git.stateful")));
    spans.push(Span::styled(" stateful ", dim));
    Line::from(spans)
}
