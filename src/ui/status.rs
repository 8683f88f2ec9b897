//! The status bar: context, namespace, repository, each source's health, pending work.
use super::theme::Theme;
use crate::app::State;
use crate::app::cluster::Connection;
use crate::app::keymap::{Action, Keymap};
use crate::app::state::{Link, Pane};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

fn dot<'a>(theme: &Theme, name: &'a str, link: &Link) -> Vec<Span<'a>> {
    let (token, sym) = match link {
        Link::Up => ("status.ok", "●"),
        Link::Connecting => ("status.progress", "◌"),
        Link::Down(_) => ("status.error", "✖"),
        Link::Off => ("status.unknown", "○"),
    };
    let bar = theme.style("statusbar");
    vec![
        Span::styled(sym, theme.style(token).bg(bar.bg.unwrap_or_default())),
        Span::styled(format!(" {name}  "), bar),
    ]
}

/// The cluster link as the status bar sees it: down if the config failed or every
/// watch is failing (the server is unreachable), reconnecting if some are.
pub fn cluster_link(s: &State) -> Link {
    let c = &s.cluster;
    match &c.connection {
        Connection::Failed(e) => Link::Down(e.clone()),
        Connection::Connecting => Link::Connecting,
        Connection::Connected { .. } => {
            let failing = c.failing().len();
            if failing == 0 && c.is_loaded() {
                Link::Up
            } else if failing > 0 {
                Link::Down(format!("reconnecting ({failing} watches failing)"))
            } else {
                Link::Connecting
            }
        }
    }
}

pub fn draw(f: &mut Frame, s: &State, theme: &Theme, keymap: &Keymap, area: Rect) {
    let bar = theme.style("statusbar");
    // While a filter or command is typed, the bar is its prompt.
    if let Some(input) = &s.input {
        let prompt = if input.command { ":" } else { "/" };
        let hint = match (input.command, s.focus) {
            (true, _) => "   Enter runs · Esc cancels · ns NAME | ns all | ctx NAME",
            (false, Pane::Storage) => {
                "   claim · PV · volume id · node · state · Enter keeps · Esc clears"
            }
            (false, _) => "   name · l:key=value · s:unhealthy · Enter keeps · Esc clears",
        };
        let line = Line::from(vec![
            Span::styled(
                format!("{prompt}{}▏", input.text),
                theme.style("statusbar.key"),
            ),
            Span::styled(hint, bar),
        ]);
        f.render_widget(Paragraph::new(line).style(bar), area);
        return;
    }
    let mut spans = Vec::new();
    if s.read_only {
        spans.push(Span::styled(
            " READ-ONLY ",
            theme.style("statusbar.readonly"),
        ));
    }
    let ctx = match &s.cluster.connection {
        Connection::Connected { context, .. } => context.clone(),
        _ => "-".into(),
    };
    let ns = s.cluster.namespace.clone().unwrap_or_else(|| "all".into());
    let repo = s.git.repo.as_ref().map(|r| {
        let name = std::path::Path::new(&r.path)
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        format!("{name}@{}", r.branch)
    });
    spans.push(Span::styled(
        format!(
            " ctx:{ctx}  ns:{ns}  repo:{}  ",
            repo.unwrap_or_else(|| "-".into())
        ),
        bar,
    ));
    let cl = cluster_link(s);
    let reconnecting = matches!(&cl, Link::Down(e) if e.starts_with("reconnecting"));
    spans.extend(dot(
        theme,
        if reconnecting {
            "kube (reconnecting)"
        } else {
            "kube"
        },
        &cl,
    ));
    spans.extend(dot(theme, "git", &s.git.link));
    spans.extend(dot(theme, "prom", &s.metrics.link));
    spans.extend(dot(theme, "px", &s.storage.link));
    // The drift alert: git at the synced commit against the cluster.
    let bg = bar.bg.unwrap_or_default();
    let drift = match (&s.sync.drift_error, s.sync.drift_count()) {
        (Some(_), _) => Some(("status.unknown", "drift ? ".to_string())),
        (None, 0) if s.sync.drift.is_empty() => None,
        (None, 0) => Some(("status.ok", "✓ in sync ".to_string())),
        (None, n) => Some(("status.warn", format!("⚑ drift {n} "))),
    };
    if let Some((token, text)) = drift {
        spans.push(Span::styled(text, theme.style(token).bg(bg)));
    }
    if !s.pending.is_empty() || s.sync.waiting.is_some() {
        let what: Vec<&str> = s
            .pending
            .values()
            .map(String::as_str)
            .chain(s.sync.waiting.as_deref())
            .collect();
        spans.push(Span::styled(
            format!("⟳ {} ", what.join(", ")),
            theme
                .style("status.progress")
                .bg(bar.bg.unwrap_or_default()),
        ));
    }
    if let Some((ok, text)) = &s.flash {
        let token = if *ok { "status.ok" } else { "status.error" };
        spans.push(Span::styled(
            format!("{text} "),
            theme.style(token).bg(bar.bg.unwrap_or_default()),
        ));
    }
    // The help's key as configured; none when `[keys]` left it unbound.
    if let Some(key) = keymap.first_key(Action::Help) {
        spans.push(Span::styled(
            format!(" {key} "),
            theme.style("statusbar.key"),
        ));
        spans.push(Span::styled("help ", bar));
    }
    f.render_widget(Paragraph::new(Line::from(spans)).style(bar), area);
}
