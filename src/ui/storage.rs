//! The storage pane: Portworx nodes, then the volume table (unhealthy first), or the
//! details of the selected volume.
use super::format::{bytes, clip, clip_middle, unit_value};
use super::theme::Theme;
use super::{health_style, link_notice, title};
use crate::app::State;
use crate::app::state::{Link, Pane, PxNode};
use crate::app::storage::{self, PxProblem, VolumeLine};
use crate::config::Unit;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState, Wrap};

/// Colour of a node's SDK status (STATUS_ prefix dropped).
fn node_token(status: &str) -> &'static str {
    match status {
        "OK" => "status.ok",
        "INIT" | "STORAGE_REBALANCE" | "MAINTENANCE" | "POOLMAINTENANCE" => "status.progress",
        "STORAGE_DEGRADED" | "STORAGE_DRIVE_REPLACE" | "NEEDS_REBOOT" => "status.warn",
        "NONE" | "" => "status.unknown",
        _ => "status.error",
    }
}

/// Colour of how full a volume or node is.
pub(super) fn used_token(pct: f64) -> &'static str {
    if pct >= 90.0 {
        "status.error"
    } else if pct >= 75.0 {
        "status.warn"
    } else {
        "text"
    }
}

fn pct(used: u64, total: u64) -> f64 {
    if total > 0 {
        used as f64 * 100.0 / total as f64
    } else {
        0.0
    }
}

/// What the pane says when the gateway cannot be used: which failure, what to check,
/// and that snapshot and restore wait for it.
fn problem_lines<'a>(theme: &Theme, e: &str) -> Vec<Line<'a>> {
    let problem = storage::problem(e);
    let hint = match problem {
        PxProblem::Unreachable => "Check --portworx: the SDK REST gateway, port 9021.",
        PxProblem::Silent => {
            "It takes connections but does not answer: the gateway or its node may be overloaded."
        }
        PxProblem::TokenRefused => {
            "Check --portworx-token-file: a system.view token is enough to read."
        }
        PxProblem::BadReply => {
            "Check --portworx: something other than the SDK REST gateway (port 9021) answers."
        }
        PxProblem::Other => "",
    };
    let mut lines = vec![
        Line::styled(problem.heading(), theme.style("status.error")),
        Line::styled(e.to_string(), theme.style("text")),
    ];
    if !hint.is_empty() {
        lines.push(Line::styled(hint, theme.style("text.dim")));
    }
    lines.push(Line::styled(
        "Snapshot and restore are off until it answers.",
        theme.style("text.dim"),
    ));
    lines
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, block: Block, area: Rect) {
    let st = &s.storage;
    let lines = storage::table(s);
    let head = match &st.cluster {
        Some(c) => format!(
            "Portworx {} · {} · {} volumes{} · by {}",
            c.name,
            c.status,
            lines.len(),
            s.cluster
                .namespace
                .as_ref()
                .map(|ns| format!(" in {ns}"))
                .unwrap_or_default(),
            st.sort.label()
        ),
        None => String::new(),
    };
    let block = block.title(title(theme, Pane::Storage.title(), head));
    if st.cluster.is_none() {
        if let Link::Down(e) = &st.link {
            let p = Paragraph::new(problem_lines(theme, e)).wrap(Wrap { trim: true });
            f.render_widget(p.block(block), area);
            return;
        }
        if link_notice(
            f,
            theme,
            block.clone(),
            area,
            &st.link,
            "no Portworx: pass --portworx URL (the SDK REST gateway, port 9021)",
        ) {
            return;
        }
    }
    // Data shown after a failure is the last known: say so, and why.
    let block = match &st.link {
        Link::Down(e) => {
            let why = storage::problem(e).short();
            block.title_bottom(Span::styled(
                format!(" stale, {why}: {} · snapshot/restore off ", clip(e, 60)),
                theme.style("status.error"),
            ))
        }
        _ => block,
    };
    let block = match st.filter.trim() {
        "" => block,
        text => block.title_bottom(Span::styled(
            format!(" filter: {text} ({} shown, Esc clears) ", lines.len()),
            theme.style("status.progress"),
        )),
    };
    let selected = storage::selected_index(s, &lines);
    if let Some(line) = selected.filter(|_| st.details).map(|i| &lines[i]) {
        super::storage_details::draw(f, s, theme, line, block, area);
        return;
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    let node_lines = nodes(s, theme, inner);
    let [top, table_area] = super::layout::storage_parts(st, inner);
    f.render_widget(Paragraph::new(node_lines), top);
    if lines.is_empty() {
        let text = if st.filter.trim().is_empty() {
            "no volumes"
        } else {
            "no volume matches the filter"
        };
        f.render_widget(
            Paragraph::new(Span::styled(text, theme.style("text.dim"))),
            table_area,
        );
        return;
    }
    volume_table(f, s, theme, &lines, selected, table_area);
}

/// One line per node when there is room, else one line for all; the node error if any.
fn nodes<'a>(s: &State, theme: &Theme, area: Rect) -> Vec<Line<'a>> {
    let st = &s.storage;
    let mut out = Vec::new();
    if let Some(e) = &st.nodes_error {
        out.push(Line::styled(
            format!("nodes: {e}"),
            theme.style("status.error"),
        ));
    }
    let Some(roomy) = super::layout::node_lines(st, area) else {
        return out;
    };
    if roomy {
        out.extend(st.nodes.iter().map(|n| node_line(theme, n)));
    } else {
        let mut spans = vec![Span::styled("nodes ", theme.style("text.dim"))];
        for (i, n) in st.nodes.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", theme.style("text.dim")));
            }
            let p = pct(n.used(), n.total());
            spans.push(Span::styled(n.name.clone(), theme.style("text")));
            spans.push(Span::styled(
                format!(" {} {p:.0}%", n.status.to_lowercase()),
                theme.style(node_token(&n.status)),
            ));
        }
        out.push(Line::from(spans));
    }
    out
}

fn node_line<'a>(theme: &Theme, n: &PxNode) -> Line<'a> {
    let mut media: Vec<&str> = n.pools.iter().map(|p| p.medium.as_str()).collect();
    media.dedup();
    let p = pct(n.used(), n.total());
    let pools = match n.pools.len() {
        1 => "1 pool".to_string(),
        k => format!("{k} pools"),
    };
    Line::from(vec![
        Span::styled(format!("{:<12} ", clip(&n.name, 12)), theme.style("text")),
        Span::styled(
            format!("{:<10} ", n.status.to_lowercase()),
            theme.style(node_token(&n.status)),
        ),
        Span::styled(
            format!("{} / {} ", bytes(n.used() as f64), bytes(n.total() as f64)),
            theme.style("text"),
        ),
        Span::styled(format!("{p:.0}% "), theme.style(used_token(p))),
        Span::styled(
            format!("· {pools} {}", media.join(",").to_lowercase()),
            theme.style("text.dim"),
        ),
    ])
}

/// Columns, least useful last: they go first when the pane is narrow.
#[derive(Clone, Copy, PartialEq)]
enum Col {
    Claim,
    State,
    Used,
    Ha,
    Snaps,
    Size,
    Node,
    Volume,
    Io,
    Replicas,
    Pv,
    Write,
}

impl Col {
    fn header(self) -> &'static str {
        match self {
            Col::Claim => "CLAIM",
            Col::Pv => "PV",
            Col::Volume => "VOLUME",
            Col::State => "STATE",
            Col::Node => "NODE",
            Col::Size => "SIZE",
            Col::Used => "USED",
            Col::Ha => "HA",
            Col::Replicas => "REPLICAS",
            Col::Io => "IO",
            Col::Snaps => "SNAPS",
            Col::Write => "WRITE",
        }
    }
    fn width(self) -> Constraint {
        match self {
            Col::Claim => Constraint::Min(10),
            Col::Pv => Constraint::Length(24),
            Col::Volume => Constraint::Length(11),
            Col::State => Constraint::Length(17),
            Col::Node => Constraint::Length(10),
            Col::Size => Constraint::Length(8),
            Col::Used => Constraint::Length(4),
            Col::Ha => Constraint::Length(3),
            Col::Replicas => Constraint::Length(20),
            Col::Io => Constraint::Length(9),
            Col::Snaps => Constraint::Length(5),
            Col::Write => Constraint::Length(10),
        }
    }
    fn min(self) -> u16 {
        match self.width() {
            Constraint::Min(n) | Constraint::Length(n) => n + 1,
            _ => 1,
        }
    }
}

/// Screen order; the priority order is `Col`'s.
const ORDER: [Col; 12] = [
    Col::Claim,
    Col::Pv,
    Col::Volume,
    Col::State,
    Col::Node,
    Col::Size,
    Col::Used,
    Col::Write,
    Col::Ha,
    Col::Replicas,
    Col::Io,
    Col::Snaps,
];

/// The columns that fit in `width` next to a claim column `claim` wide, dropping the
/// least useful first. WRITE only when Prometheus has px_* metrics.
fn columns(width: u16, claim: u16, rates: bool) -> Vec<Col> {
    let by_priority = [
        Col::State,
        Col::Used,
        Col::Ha,
        Col::Snaps,
        Col::Size,
        Col::Node,
        Col::Write,
        Col::Volume,
        Col::Io,
        Col::Replicas,
        Col::Pv,
    ];
    let mut room = width.saturating_sub(claim + 1);
    let mut keep = vec![Col::Claim];
    for c in by_priority
        .into_iter()
        .filter(|&c| rates || c != Col::Write)
    {
        if c.min() > room {
            break;
        }
        room -= c.min();
        keep.push(c);
    }
    ORDER.into_iter().filter(|c| keep.contains(c)).collect()
}

fn cell<'a>(theme: &Theme, rate: Option<f64>, l: &VolumeLine, col: Col) -> Cell<'a> {
    let v = l.volume;
    let styled = |text: String, token: &str| Cell::from(Span::styled(text, theme.style(token)));
    match col {
        Col::Claim => styled(l.claim.clone(), "text"),
        Col::Pv => styled(clip_middle(&l.pv, 24), "text.dim"),
        Col::Volume => styled(clip_middle(&v.id, 11), "text.dim"),
        Col::State => {
            let text = if v.status == "UP" {
                v.state.to_lowercase()
            } else {
                format!("{}/{}", v.status.to_lowercase(), v.state.to_lowercase())
            };
            Cell::from(Span::styled(text, health_style(theme, l.health)))
        }
        Col::Node => styled(v.attached_on.clone(), "text"),
        Col::Size => styled(bytes(v.size as f64), "text"),
        Col::Used => {
            let p = l.used_pct();
            styled(format!("{p:.0}%"), used_token(p))
        }
        Col::Ha => styled(
            format!("{}/{}", v.replicas, v.ha_level),
            if (v.replicas as i64) < v.ha_level {
                "status.warn"
            } else {
                "text"
            },
        ),
        Col::Replicas => styled(v.replica_nodes.join(","), "text.dim"),
        Col::Io => styled(v.io_profile.clone(), "text.dim"),
        Col::Snaps => styled(l.snapshots.len().to_string(), "text"),
        Col::Write => styled(
            rate.map(|r| unit_value(r, Unit::BytesPerSecond))
                .unwrap_or_default(),
            "text",
        ),
    }
}

fn volume_table(
    f: &mut Frame,
    s: &State,
    theme: &Theme,
    lines: &[VolumeLine],
    selected: Option<usize>,
    area: Rect,
) {
    let claim = lines
        .iter()
        .map(|l| l.claim.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(10, 40) as u16;
    let rates = &s.storage.write_rates;
    let cols = columns(area.width, claim, !rates.is_empty());
    let rows: Vec<Row> = lines
        .iter()
        .map(|l| {
            Row::new(
                cols.iter()
                    .map(|&c| cell(theme, rates.get(&l.volume.name).copied(), l, c))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let widths = cols.iter().map(|&c| match c {
        Col::Claim => Constraint::Min(claim),
        c => c.width(),
    });
    let table = Table::new(rows, widths)
        .header(Row::new(cols.iter().map(|c| c.header())).style(theme.style("header")))
        .row_highlight_style(if s.focus == Pane::Storage {
            theme.style("selection")
        } else {
            Default::default()
        })
        .column_spacing(1);
    let first = super::layout::first_row(
        selected.unwrap_or(0),
        area.height.saturating_sub(1) as usize,
    );
    let mut ts = TableState::default()
        .with_offset(first)
        .with_selected(selected);
    f.render_stateful_widget(table, area, &mut ts);
}
