//! The cluster pane: the object tree with health, readiness, restarts and age.
use super::format::clip;
use super::theme::Theme;
use super::{health_style, title};
use crate::app::State;
use crate::app::cluster::{Connection, Detail, Key, Kind, KindStatus, age};
use crate::app::msg::View;
use crate::app::state::Pane;
use crate::app::sync::Mark;
use crate::app::tree::{Item, TreeLine};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, block: Block, area: Rect) {
    let c = &s.cluster;
    let scope = c
        .namespace
        .clone()
        .unwrap_or_else(|| "all namespaces".into());
    let head = match &c.connection {
        Connection::Connected { context, server } => format!("{context} · {server} · {scope}"),
        Connection::Connecting => "connecting…".into(),
        Connection::Failed(_) => "not connected".into(),
    };
    // The describe and YAML views name their object instead.
    if let Some(d) = &c.detail {
        detail(f, theme, d, block, area);
        return;
    }
    let block = block.title(title(theme, Pane::Cluster.title(), head));
    if let Connection::Failed(e) = &c.connection {
        let p = Paragraph::new(vec![
            Line::styled(e.clone(), theme.style("status.error")),
            Line::raw(""),
            Line::styled(
                "Fix the kubeconfig (or pass --kubeconfig / --context) and restart sextant.",
                theme.style("text.dim"),
            ),
        ]);
        f.render_widget(p.wrap(Wrap { trim: true }).block(block), area);
        return;
    }
    let block = match c.filter.trim() {
        "" => block,
        f => block.title_bottom(Span::styled(
            format!(" filter: {f} (Esc clears) "),
            theme.style("status.progress"),
        )),
    };
    let inner = block.inner(area);
    f.render_widget(block, area);
    // Watch errors first: the rows below are the last known, not live.
    let errors: Vec<Line> = Kind::ALL
        .iter()
        .filter_map(|k| match c.kinds.get(k) {
            Some(KindStatus::Error(e)) => Some(Line::styled(
                format!("{}: {e} (retrying)", k.label()),
                theme.style("status.error"),
            )),
            _ => None,
        })
        .collect();
    // Every kind failing at once is one cause (the server): say it once, in full.
    let mut lines = if errors.len() > 2 {
        errors[..1].to_vec()
    } else {
        errors
    };
    // The badge first: it must survive a narrow pane that cuts the errors short.
    if let Some(t) = c
        .stale_since
        .and_then(|t| chrono::DateTime::from_timestamp(t, 0))
    {
        lines.insert(
            0,
            Line::styled(
                format!(
                    "stale since {}: rows below are the last known",
                    t.format("%H:%M:%S UTC")
                ),
                theme.style("status.warn"),
            ),
        );
    }
    let [err_area, table_area, warn_area] = super::layout::cluster_parts(s, inner);
    let failing = !lines.is_empty();
    if failing {
        f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: true }), err_area);
    }
    let tree = c.tree();
    if tree.is_empty() {
        let text = match (failing, c.is_loaded()) {
            (true, _) => "no data yet: waiting for the API server",
            (false, true) => "no namespaces to show",
            (false, false) => "loading…",
        };
        f.render_widget(
            Paragraph::new(Span::styled(text, theme.style("text.dim"))),
            table_area,
        );
        return;
    }
    // The sync column appears once drift is known (a repository and a synced commit).
    let synced = !s.sync.drift.is_empty();
    // A narrow pane keeps its names readable: the sync state as one symbol.
    let compact = table_area.width < 110;
    let rows: Vec<Row> = tree
        .iter()
        .map(|l| {
            let mut cells = line(s, theme, l);
            if !synced && cells.len() == 7 {
                cells.remove(5);
            } else if compact && cells.len() == 7 && l.item == Item::Row {
                cells[5] = sync_cell(s, theme, &l.key, true);
            }
            Row::new(cells)
        })
        .collect();
    let sync_header = if compact { "GIT" } else { "SYNC" };
    let mut names = vec!["NAME", "KIND", "READY", "RST", "AGE", sync_header, "STATUS"];
    let mut widths = vec![
        Constraint::Min(20),
        Constraint::Length(6),
        Constraint::Length(8),
        Constraint::Length(3),
        Constraint::Length(4),
        Constraint::Length(if compact { 3 } else { 10 }),
        Constraint::Length(if synced && compact { 16 } else { 24 }),
    ];
    if !synced {
        names.remove(5);
        widths.remove(5);
    }
    let header = Row::new(names).style(theme.style("header"));
    let table = Table::new(rows, widths)
        .header(header)
        .row_highlight_style(if s.focus == Pane::Cluster {
            theme.style("selection")
        } else {
            Default::default()
        })
        .column_spacing(1);
    let first = super::layout::first_row(c.selected, table_area.height.saturating_sub(1) as usize);
    let mut ts = TableState::default()
        .with_offset(first)
        .with_selected(Some(c.selected));
    f.render_stateful_widget(table, table_area, &mut ts);
    warnings(f, s, theme, warn_area);
}

/// One tree line's cells: an object, a container or a note about a kind.
fn line<'a>(s: &'a State, theme: &Theme, l: &'a TreeLine) -> Vec<Cell<'a>> {
    let c = &s.cluster;
    let dim = theme.style("text.dim");
    let indent = "  ".repeat(l.depth as usize);
    let marker = match (l.expandable, l.expanded) {
        (true, true) => "▾ ",
        (true, false) => "▸ ",
        _ => "  ",
    };
    let row = c.rows.get(&l.key);
    let health = health_style(theme, l.health);
    match &l.item {
        Item::Note(text) => {
            return vec![
                Cell::from(Span::styled(format!("{indent}  {}s", l.key.0.label()), dim)),
                Cell::from(Span::styled(l.key.0.short(), dim)),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(""),
                Cell::from(Span::styled(text.clone(), health)),
            ];
        }
        Item::Container(i) => {
            let Some(ct) = row.and_then(|r| r.containers.get(*i)) else {
                return Vec::new();
            };
            return vec![
                Cell::from(Span::styled(
                    format!("{indent}  {}", ct.name),
                    theme.style("text"),
                )),
                Cell::from(Span::styled("ctr", dim)),
                Cell::from(if ct.ready { "ready" } else { "not ready" }),
                Cell::from(ct.restarts.to_string()),
                Cell::from(""),
                Cell::from(""),
                Cell::from(Span::styled(ct.state.clone(), health)),
            ];
        }
        Item::Row => {}
    }
    // Flat filter results across namespaces say which namespace each row is in.
    let name = if l.depth == 0
        && l.key.0 != Kind::Namespace
        && c.namespace.is_none()
        && !l.key.1.is_empty()
    {
        format!("{indent}{marker}{}/{}", l.key.1, l.key.2)
    } else {
        format!("{indent}{marker}{}", l.key.2)
    };
    let ready = match (l.counts, row.and_then(|r| r.ready)) {
        (Some((w, p)), _) => format!("{w}w {p}p"),
        (_, Some((r, d))) => format!("{r}/{d}"),
        _ => String::new(),
    };
    let restarts = row
        .filter(|r| r.kind() == Kind::Pod)
        .map(|r| r.restarts.to_string())
        .unwrap_or_default();
    let created = row.map_or(0, |r| r.created);
    let status = match row {
        // Workloads say their rolled-up health; the rest what they are.
        Some(r) if r.kind().is_workload() => l.health.label().to_string(),
        // Bound is the colour; the text is the Portworx volume id.
        Some(r) if r.kind() == Kind::Pv && !r.volume.is_empty() && r.detail == "Bound" => {
            format!("px {}", r.volume)
        }
        Some(r) if r.kind() == Kind::Pv && !r.volume.is_empty() => {
            format!("{} · px {}", r.detail, r.volume)
        }
        // Keys only: values are never read into sextant's state.
        Some(r) if matches!(r.kind(), Kind::Secret | Kind::ConfigMap) => {
            format!("keys: {}", r.keys.join(", "))
        }
        Some(r) if !r.detail.is_empty() => r.detail.clone(),
        _ => l.health.label().to_string(),
    };
    vec![
        Cell::from(Span::styled(name, theme.style("text"))),
        Cell::from(Span::styled(l.key.0.short(), dim)),
        Cell::from(ready),
        Cell::from(restarts),
        Cell::from(Span::styled(
            if created > 0 {
                age(s.now, created)
            } else {
                String::new()
            },
            dim,
        )),
        sync_cell(s, theme, &l.key, false),
        Cell::from(Span::styled(clip(&status, 40), health)),
    ]
}

/// Whether git (at the synced commit) and the cluster agree on this object.
fn sync_cell<'a>(s: &State, theme: &Theme, key: &Key, compact: bool) -> Cell<'a> {
    let Some(d) = s.sync.mark(key) else {
        return Cell::from("");
    };
    let token = match d.mark {
        Mark::Synced => "status.ok",
        Mark::Drifted => "status.warn",
        Mark::Missing => "status.error",
        Mark::NotInGit | Mark::Unknown => "status.unknown",
    };
    let text = if compact {
        d.mark.symbol()
    } else {
        d.mark.label()
    };
    Cell::from(Span::styled(text, theme.style(token)))
}

/// The latest Warning events across the shown namespaces.
fn warnings(f: &mut Frame, s: &State, theme: &Theme, area: Rect) {
    if area.height == 0 {
        return;
    }
    let lines: Vec<Line> = s
        .cluster
        .warnings
        .iter()
        .take(area.height as usize)
        .map(|w| {
            Line::from(vec![
                Span::styled(
                    format!("{:>4} ", age(s.now, w.time)),
                    theme.style("text.dim"),
                ),
                Span::styled(format!("{} ", w.reason), theme.style("status.warn")),
                Span::styled(format!("{} ", w.object), theme.style("text")),
                Span::styled(w.message.clone(), theme.style("text.dim")),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines), area);
}

/// The describe or YAML view, scrolled; keys are tinted so values stand out.
fn detail(f: &mut Frame, theme: &Theme, d: &Detail, block: Block, area: Rect) {
    let what = match d.view {
        View::Describe => "describe",
        View::Yaml => "yaml",
    };
    let (kind, ns, name) = &d.key;
    let target = if ns.is_empty() {
        name.clone()
    } else {
        format!("{ns}/{name}")
    };
    let block = block
        .title(Span::styled(
            format!(" {what} {} {target} ", kind.label()),
            theme.style("header"),
        ))
        .title_bottom(Span::styled(
            " Esc back · j/k scroll · d describe · y yaml ",
            theme.style("text.dim"),
        ));
    let lines: Vec<Line> = match &d.lines {
        None => vec![Line::styled("loading…", theme.style("text.dim"))],
        Some(Err(e)) => vec![Line::styled(e.clone(), theme.style("status.error"))],
        Some(Ok(lines)) => lines
            .iter()
            .map(|l| match l.split_once(':') {
                Some((k, v))
                    if !k.trim().is_empty() && !k.contains(' ')
                        || l.starts_with(|c: char| c.is_ascii_uppercase()) && l.contains(':') =>
                {
                    Line::from(vec![
                        Span::styled(format!("{k}:"), theme.style("header")),
                        Span::styled(v.to_string(), theme.style("text")),
                    ])
                }
                _ => Line::styled(l.clone(), theme.style("text")),
            })
            .collect(),
    };
    let scroll = d.scroll.min(u16::MAX as usize) as u16;
    f.render_widget(Paragraph::new(lines).block(block).scroll((scroll, 0)), area);
}
