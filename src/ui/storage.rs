//! The storage pane: Portworx volumes with claim, size, usage, replication and state.
use super::format::{bytes, clip};
use super::theme::Theme;
use super::{link_notice, title};
use crate::app::State;
use crate::app::state::Pane;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

fn state_token(state: &str, status: &str) -> &'static str {
    match (state, status) {
        (_, "DOWN" | "NOT_PRESENT") | ("ERROR", _) => "status.error",
        (_, "DEGRADED") => "status.warn",
        ("RESTORE" | "PENDING" | "DETATCHING" | "TRY_DETACHING", _) => "status.progress",
        (_, "UP") => "status.ok",
        _ => "status.unknown",
    }
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, block: Block, area: Rect) {
    let st = &s.storage;
    let head = match &st.cluster {
        Some(c) => format!(
            "Portworx {} · {} · {} volumes",
            c.name,
            c.status,
            st.volumes.len()
        ),
        None => String::new(),
    };
    let stale = matches!(st.link, crate::app::state::Link::Down(_)) && st.cluster.is_some();
    let block = block.title(title(theme, Pane::Storage.title(), head));
    if st.cluster.is_none()
        && link_notice(
            f,
            theme,
            block.clone(),
            area,
            &st.link,
            "no Portworx: pass --portworx URL (the SDK REST gateway, port 9021)",
        )
    {
        return;
    }
    let block = match (&st.link, stale) {
        (crate::app::state::Link::Down(e), true) => block.title_bottom(Span::styled(
            format!(" stale: {} ", clip(e, 60)),
            theme.style("status.error"),
        )),
        _ => block,
    };
    let rows: Vec<Row> = st
        .volumes
        .iter()
        .map(|v| {
            let claim = v
                .pvc
                .as_ref()
                .map(|(ns, p)| format!("{ns}/{p}"))
                .unwrap_or_else(|| v.name.clone());
            let pct = if v.size > 0 {
                v.usage as f64 * 100.0 / v.size as f64
            } else {
                0.0
            };
            let used_token = if pct >= 90.0 {
                "status.error"
            } else if pct >= 75.0 {
                "status.warn"
            } else {
                "text"
            };
            let repl_token = if (v.replicas as i64) < v.ha_level {
                "status.warn"
            } else {
                "text"
            };
            let state = if v.error.is_empty() {
                v.state.to_lowercase()
            } else {
                format!("{} ({})", v.state.to_lowercase(), v.error)
            };
            Row::new(vec![
                Cell::from(Span::styled(claim, theme.style("text"))),
                Cell::from(bytes(v.size as f64)),
                Cell::from(Span::styled(format!("{pct:.0}%"), theme.style(used_token))),
                Cell::from(Span::styled(
                    format!("{}/{}", v.replicas, v.ha_level),
                    theme.style(repl_token),
                )),
                Cell::from(Span::styled(
                    state,
                    theme.style(state_token(&v.state, &v.status)),
                )),
                Cell::from(v.io_profile.clone()),
                Cell::from(v.snapshots.to_string()),
            ])
        })
        .collect();
    let widths = [
        Constraint::Min(10),
        Constraint::Length(8),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(10),
        Constraint::Length(9),
        Constraint::Length(5),
    ];
    let table = Table::new(rows, widths)
        .header(
            Row::new(["CLAIM", "SIZE", "USED", "REPL", "STATE", "IO", "SNAPS"])
                .style(theme.style("header")),
        )
        .row_highlight_style(if s.focus == Pane::Storage {
            theme.style("selection")
        } else {
            Default::default()
        })
        .block(block);
    let mut ts = TableState::default().with_selected(Some(st.selected));
    f.render_stateful_widget(table, area, &mut ts);
}
