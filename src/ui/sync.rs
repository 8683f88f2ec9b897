//! The sync preview (plan, diffs, then progress) and the commit dialog.
use super::help::centered;
use super::theme::Theme;
use crate::app::State;
use crate::app::sync::{CommitDialog, Preview, preview_lines, short};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

fn style_of(l: &str) -> &'static str {
    if l.starts_with("+++") || l.starts_with("---") {
        "diff.meta"
    } else if l.starts_with('+') {
        "diff.add"
    } else if l.starts_with('-') {
        "diff.del"
    } else if l.starts_with("@@") {
        "diff.hunk"
    } else if [
        "CONFLICT",
        "PRUNE",
        "error",
        "unreadable",
        "failed:",
        "NO snapshot",
    ]
    .iter()
    .any(|w| l.starts_with(w))
    {
        "status.error"
    } else if l.starts_with("done:") {
        "status.ok"
    } else if ["create ", "update ", "not in git"]
        .iter()
        .any(|w| l.starts_with(w))
    {
        "diff.file"
    } else {
        "text"
    }
}

pub(super) fn keys<'a>(theme: &Theme, pairs: &[(&'a str, String)]) -> Line<'a> {
    let mut spans = Vec::new();
    for (k, what) in pairs {
        spans.push(Span::styled(format!(" {k} "), theme.style("help.key")));
        spans.push(Span::styled(format!("{what}  "), theme.style("dialog")));
    }
    Line::from(spans)
}

pub fn preview(f: &mut Frame, s: &State, theme: &Theme, p: &Preview, area: Rect) {
    let rect = centered(
        area,
        area.width.saturating_sub(4).max(20),
        area.height.saturating_sub(2),
    );
    let context = match &s.cluster.connection {
        crate::app::cluster::Connection::Connected { context, .. } => context.as_str(),
        _ => "?",
    };
    let title = format!(" Sync {} → {context} ", short(&p.plan.commit));
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.style("dialog.border"))
        .title(Span::styled(title, theme.style("dialog.border")))
        .style(theme.style("dialog"));
    let inner = block.inner(rect);
    f.render_widget(Clear, rect);
    f.render_widget(block, rect);
    let body_height = inner.height.saturating_sub(1) as usize;
    let lines = preview_lines(p);
    // Only the visible window is styled and drawn: plans of big commits stay cheap.
    let top = p.scroll.min(lines.len().saturating_sub(body_height));
    let shown: Vec<Line> = lines
        .iter()
        .skip(top)
        .take(body_height)
        .map(|l| Line::styled(l.clone(), theme.style(style_of(l))))
        .collect();
    f.render_widget(
        Paragraph::new(shown),
        Rect {
            height: body_height as u16,
            ..inner
        },
    );
    let footer = if p.running.is_some() {
        Line::styled(" syncing… progress follows", theme.style("status.progress"))
    } else if p.finished.is_some() {
        keys(theme, &[("Esc", "close".into()), ("j/k", "scroll".into())])
    } else if p.plan.refusal().is_some() {
        // Nothing of this commit may be applied: no key offers it.
        keys(
            theme,
            &[
                ("Esc", "close (sync disabled for this commit)".into()),
                ("j/k", "scroll".into()),
            ],
        )
    } else if !p.plan.writes(p.prune) {
        keys(
            theme,
            &[
                ("y", "record as synced (nothing to change)".into()),
                (
                    "p",
                    format!("prune: {}", if p.prune { "on" } else { "off" }),
                ),
                ("Esc", "cancel".into()),
            ],
        )
    } else {
        let mut pairs = vec![
            ("y", "apply".to_string()),
            ("f", "apply, taking conflicting fields".into()),
        ];
        if !crate::engine::snapshot::changed_by(&p.plan).is_empty() {
            let on = if p.snapshot_first { "on" } else { "off" };
            pairs.push(("s", format!("snapshot first: {on}")));
        }
        pairs.extend([
            (
                "p",
                format!("prune: {}", if p.prune { "on" } else { "off" }),
            ),
            ("j/k", "scroll".into()),
            ("Esc", "cancel".into()),
        ]);
        keys(theme, &pairs)
    };
    f.render_widget(
        Paragraph::new(footer),
        Rect {
            y: inner.y + inner.height.saturating_sub(1),
            height: 1.min(inner.height),
            ..inner
        },
    );
}

pub fn commit(f: &mut Frame, theme: &Theme, d: &CommitDialog, area: Rect) {
    let mut lines = vec![Line::styled(
        format!("Commit {} changed files:", d.files.len()),
        theme.style("dialog"),
    )];
    let room = area.height.saturating_sub(8) as usize;
    lines.extend(
        d.files
            .iter()
            .take(room)
            .map(|f| Line::styled(format!("  {f}"), theme.style("diff.file"))),
    );
    if d.files.len() > room {
        lines.push(Line::styled(
            format!("  … and {} more", d.files.len() - room),
            theme.style("text.dim"),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("message: ", theme.style("help.key")),
        Span::styled(format!("{}▏", d.message), theme.style("dialog")),
    ]));
    lines.push(keys(
        theme,
        &[("Enter", "commit".into()), ("Esc", "cancel".into())],
    ));
    let rect = centered(area, 72, lines.len() as u16 + 2);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.style("dialog.border"))
        .title(Span::styled(" Commit ", theme.style("dialog.border")))
        .style(theme.style("dialog"));
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
}
