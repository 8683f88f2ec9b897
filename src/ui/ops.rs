//! The snapshot and restore dialogs: what will happen, the confirmation, then progress.
use super::help::centered;
use super::sync::keys;
use super::theme::Theme;
use crate::app::ops::{RestoreDialog, Run, SnapshotDialog};
use crate::engine::restore::Record;
use crate::engine::restore_run::explain;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

fn style_of(l: &str) -> &'static str {
    if l.starts_with("REFUSED") || l.contains("LOST") || l.starts_with("restore stopped") {
        "status.error"
    } else if l.starts_with('[') {
        "status.progress"
    } else if l.starts_with("Resume:") || l.starts_with("Undo:") {
        "help.key"
    } else {
        "dialog"
    }
}

/// The log of a run and its outcome, the last lines that fit.
fn run_lines(r: &Run, room: usize) -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> =
        r.log.iter().map(|l| (l.clone(), style_of(l))).collect();
    match &r.finished {
        Some(Ok(s)) => v.push((format!("done: {s}"), "status.ok")),
        Some(Err(e)) => v.push((format!("failed: {e}"), "status.error")),
        None if r.id.is_some() => v.push(("working…".into(), "status.progress")),
        None => {}
    }
    let skip = v.len().saturating_sub(room);
    v.into_iter().skip(skip).collect()
}

fn dialog(f: &mut Frame, theme: &Theme, title: &str, lines: Vec<Line>, area: Rect) {
    let width = area.width.saturating_sub(4).clamp(20, 100);
    let rect = centered(area, width, lines.len() as u16 + 2);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(theme.style("dialog.border"))
        .title(Span::styled(
            format!(" {title} "),
            theme.style("dialog.border"),
        ))
        .style(theme.style("dialog"));
    f.render_widget(Clear, rect);
    f.render_widget(Paragraph::new(lines).block(block), rect);
}

fn styled<'a>(theme: &Theme, v: Vec<(String, &'static str)>) -> Vec<Line<'a>> {
    v.into_iter()
        .map(|(l, s)| Line::styled(l, theme.style(s)))
        .collect()
}

pub fn snapshot(f: &mut Frame, theme: &Theme, d: &SnapshotDialog, area: Rect) {
    let room = area.height.saturating_sub(6) as usize;
    let mut lines = vec![Line::styled(
        format!("Snapshot every claim of {}", d.workload),
        theme.style("dialog"),
    )];
    if d.run.id.is_some() {
        lines.extend(styled(theme, run_lines(&d.run, room)));
        if d.run.finished.is_some() {
            lines.push(keys(theme, &[("Esc", "close".into())]));
        }
    } else if d.claims > 1 {
        lines.push(Line::styled(
            format!(
                "{} claims. Stork is not used: taken while running, each is consistent on its own.",
                d.claims
            ),
            theme.style("dialog"),
        ));
        lines.push(keys(
            theme,
            &[
                ("y", "take them now".into()),
                ("z", "scale to zero briefly: one point in time".into()),
                ("Esc", "cancel".into()),
            ],
        ));
    } else {
        lines.push(keys(
            theme,
            &[("y", "take it".into()), ("Esc", "cancel".into())],
        ));
    }
    dialog(f, theme, "Snapshot", lines, area);
}

/// A restore a stopped sextant left unfinished: where it stopped, what is true, and
/// the choice to resume or undo it.
pub fn unfinished(
    f: &mut Frame,
    theme: &Theme,
    rec: &Record,
    count: usize,
    read_only: bool,
    area: Rect,
) {
    let Some(why) = explain(rec) else { return };
    let wl = rec
        .workload
        .as_ref()
        .map(|w| w.to_string())
        .unwrap_or_default();
    let mut text = vec![format!(
        "Unfinished restore of {wl} from snapshot {}",
        rec.snapshot
    )];
    text.push(format!(
        "restore stopped at step {}/8, {}: {}",
        why.step.number(),
        why.step.label(),
        why.error
    ));
    text.extend(why.state.lines().map(String::from));
    text.extend(why.next);
    if count > 1 {
        text.push(format!("{} more unfinished restores follow.", count - 1));
    }
    let mut lines = styled(
        theme,
        text.into_iter()
            .map(|l| {
                let s = style_of(&l);
                (l, s)
            })
            .collect(),
    );
    lines.push(if read_only {
        keys(
            theme,
            &[(
                "Esc",
                "close (read-only: resume or undo from a sextant that may write)".into(),
            )],
        )
    } else {
        keys(
            theme,
            &[
                ("r", "resume".into()),
                ("u", "undo".into()),
                ("Esc", "decide later".into()),
            ],
        )
    });
    dialog(f, theme, "Unfinished restore", lines, area);
}

pub fn restore(f: &mut Frame, theme: &Theme, d: &RestoreDialog, area: Rect) {
    let room = area.height.saturating_sub(4) as usize;
    let mut lines: Vec<Line> = Vec::new();
    match &d.plan {
        None => lines.push(Line::styled(
            format!("Planning the restore of {}…", d.snapshot),
            theme.style("status.progress"),
        )),
        Some(Err(e)) => {
            lines.push(Line::styled(
                format!("Cannot restore {}: {e}", d.snapshot),
                theme.style("status.error"),
            ));
            lines.push(keys(theme, &[("Esc", "close".into())]));
        }
        Some(Ok(plan)) if d.run.id.is_some() => {
            lines.push(Line::styled(
                format!("Restore {} from {}", plan.workload, plan.snapshot),
                theme.style("dialog"),
            ));
            lines.extend(styled(theme, run_lines(&d.run, room.saturating_sub(2))));
            if d.run.finished.is_some() {
                lines.push(keys(theme, &[("Esc", "close".into())]));
            }
        }
        Some(Ok(plan)) => {
            let preview: Vec<_> = plan
                .preview(d.safety)
                .into_iter()
                .map(|l| {
                    let s = style_of(&l);
                    (l, s)
                })
                .collect();
            lines.extend(styled(theme, preview));
            if plan.refusal.is_none() {
                lines.push(Line::raw(""));
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("Type {} to confirm: ", plan.workload.name),
                        theme.style("help.key"),
                    ),
                    Span::styled(format!("{}▏", d.typed), theme.style("dialog")),
                ]));
                let ready = d.typed == plan.workload.name;
                lines.push(keys(
                    theme,
                    &[
                        (
                            "Enter",
                            if ready {
                                "restore"
                            } else {
                                "(type the name first)"
                            }
                            .into(),
                        ),
                        (
                            "Tab",
                            format!("safety snapshot: {}", if d.safety { "on" } else { "off" }),
                        ),
                        ("Esc", "cancel".into()),
                    ],
                ));
            } else {
                lines.push(keys(theme, &[("Esc", "close".into())]));
            }
        }
    }
    dialog(f, theme, "Restore", lines, area);
}
