//! The diff viewer: the changed files, then the diff, unified or side by side, with
//! YAML keys, values and comments told apart. Only the rows on screen are built, each
//! clipped to the pane, so a 5 MB diff draws as fast as a small one.
use super::theme::Theme;
use crate::app::diff::{Diff, LineKind, is_yaml};
use crate::app::state::DiffView;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

pub fn draw(f: &mut Frame, v: &DiffView, split: bool, theme: &Theme, block: Block, area: Rect) {
    let mut block = block.title(Span::styled(
        format!(" diff {} ", v.title),
        theme.style("header"),
    ));
    let body = block.inner(area);
    let height = body.height as usize;
    let lines: Vec<Line> = match &v.diff {
        None => vec![Line::styled("computing the diff…", theme.style("text.dim"))],
        Some(Err(e)) => vec![Line::styled(e.clone(), theme.style("status.error"))],
        Some(Ok(d)) => {
            let len = d.len(split);
            let top = if split { d.to_split(v.top) } else { v.top };
            // G asks for the end: the last screenful is shown.
            let top = top.min(len.saturating_sub(height));
            let keys = if split { "w unified" } else { "w side by side" };
            block = block.title_bottom(Span::styled(
                format!(
                    " Esc back · j/k g/G scroll · ]/[ file · {keys} · {}/{len}{} ",
                    top + 1,
                    if d.more { "+" } else { "" }
                ),
                theme.style("text.dim"),
            ));
            let width = body.width as usize;
            (top..len.min(top + height))
                .map(|pos| match pos.checked_sub(d.head()) {
                    None => head_line(d, pos, theme),
                    Some(r) if split => side_line(d, r, width, theme),
                    Some(i) => diff_line(d, i, width, theme),
                })
                .collect()
        }
    };
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// The summary, then one line per file: status, path, added and removed lines.
fn head_line<'a>(d: &Diff, pos: usize, theme: &Theme) -> Line<'a> {
    let Some(file) = pos.checked_sub(1).and_then(|i| d.files.get(i)) else {
        if d.files.is_empty() {
            return Line::styled("no changes", theme.style("text.dim"));
        }
        let (a, r) = d
            .files
            .iter()
            .fold((0, 0), |(a, r), f| (a + f.added, r + f.removed));
        let mut spans = vec![
            Span::styled(
                format!("{} files changed  ", d.files.len()),
                theme.style("header"),
            ),
            Span::styled(format!("+{a} "), theme.style("diff.add")),
            Span::styled(format!("-{r}"), theme.style("diff.del")),
        ];
        if d.more {
            spans.push(Span::styled(
                format!(
                    "  so far: {} MiB loaded, more as you scroll",
                    d.bytes() >> 20
                ),
                theme.style("text.dim"),
            ));
        }
        return Line::from(spans);
    };
    let status = match file.status {
        'A' => "diff.add",
        'D' => "diff.del",
        _ => "diff.file",
    };
    let path = match &file.old_path {
        Some(old) => format!("{old} → {}", file.path),
        None => file.path.clone(),
    };
    Line::from(vec![
        Span::styled(format!(" {}  ", file.status), theme.style(status)),
        Span::styled(path, theme.style("text")),
        Span::styled(format!("  +{}", file.added), theme.style("diff.add")),
        Span::styled(format!(" -{}", file.removed), theme.style("diff.del")),
    ])
}

/// One line of the unified layout.
fn diff_line<'a>(d: &Diff, i: usize, width: usize, theme: &Theme) -> Line<'a> {
    let mut spans = Vec::new();
    line_spans(d, i, true, width, theme, &mut spans);
    Line::from(spans)
}

/// One row of the side-by-side layout: old | new, or a header across both.
fn side_line<'a>(d: &Diff, r: usize, width: usize, theme: &Theme) -> Line<'a> {
    let row = d.rows[r];
    let full = match (row.left, row.right) {
        (Some(l), Some(r)) if l == r => d.lines[l].kind != LineKind::Context,
        _ => false,
    };
    if full {
        return diff_line(d, row.left.unwrap_or(0), width, theme);
    }
    let left_width = width.saturating_sub(1) / 2;
    let right_width = width.saturating_sub(1 + left_width);
    let mut spans = Vec::new();
    for (side, w, old) in [
        (row.left, left_width, true),
        (row.right, right_width, false),
    ] {
        if !old {
            spans.push(Span::styled("│", theme.style("border")));
        }
        match side {
            Some(i) => {
                let l = d.lines[i];
                let n = if old { l.old } else { l.new };
                let tint = tint(theme, l.kind);
                spans.push(Span::styled(
                    format!("{n:>4} "),
                    theme.style("text.dim").patch(tint),
                ));
                line_spans(d, i, false, w.saturating_sub(5), theme, &mut spans);
            }
            None => spans.push(Span::raw(" ".repeat(w))),
        }
    }
    Line::from(spans)
}

fn tint(theme: &Theme, kind: LineKind) -> Style {
    match kind {
        LineKind::Add => theme.style("diff.add.line"),
        LineKind::Del => theme.style("diff.del.line"),
        _ => Style::default(),
    }
}

/// The spans of line `i` clipped and padded to `width`; `marker` keeps the +/- column.
fn line_spans<'a>(
    d: &Diff,
    i: usize,
    marker: bool,
    width: usize,
    theme: &Theme,
    out: &mut Vec<Span<'a>>,
) {
    let l = d.lines[i];
    let text = d.text(i);
    let token = match l.kind {
        LineKind::File => Some("diff.file"),
        LineKind::Meta => Some("diff.meta"),
        LineKind::Hunk => Some("diff.hunk"),
        _ => None,
    };
    if let Some(token) = token {
        out.push(Span::styled(visible(text, width), theme.style(token)));
        return;
    }
    let tint = tint(theme, l.kind);
    let (sign, body) = text.split_at(text.len().min(1));
    let mut used = 0;
    if marker {
        let sign_style = match l.kind {
            LineKind::Add => theme.style("diff.add"),
            LineKind::Del => theme.style("diff.del"),
            _ => theme.style("text.dim"),
        };
        out.push(Span::styled(
            if sign.is_empty() { " " } else { sign }.to_string(),
            sign_style.patch(tint),
        ));
        used = 1;
    }
    let body = visible(body, width.saturating_sub(used));
    used += body.chars().count();
    let yaml = d.file_of(i).is_some_and(|f| is_yaml(&f.path));
    if yaml {
        for (tok, s) in yaml_tokens(&body) {
            let token = match tok {
                Tok::Plain => "text",
                Tok::Key => "yaml.key",
                Tok::Value => "yaml.value",
                Tok::Comment => "yaml.comment",
            };
            out.push(Span::styled(s.to_string(), theme.style(token).patch(tint)));
        }
    } else {
        out.push(Span::styled(body, theme.style("text").patch(tint)));
    }
    // Padded: a tint reaches the edge, and the right half of a row starts in place.
    if width > used {
        out.push(Span::styled(" ".repeat(width - used), tint));
    }
}

/// At most `max` characters of `s`, tabs as spaces and other control characters
/// shown, so nothing reaches the terminal that moves its cursor.
pub fn visible(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(max.min(s.len()));
    let mut n = 0;
    for c in s.chars() {
        let (rep, count) = match c {
            '\t' => ("    ", 4),
            c if c.is_control() => ("·", 1),
            _ => ("", 1),
        };
        if n + count > max {
            break;
        }
        if rep.is_empty() {
            out.push(c);
        } else {
            out.push_str(rep);
        }
        n += count;
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tok {
    Plain,
    Key,
    Value,
    Comment,
}

/// A YAML line split into indentation and list dashes, key, value and comment.
pub fn yaml_tokens(s: &str) -> Vec<(Tok, &str)> {
    let mut out = Vec::new();
    let trimmed = s.trim_start();
    let mut rest = trimmed;
    while let Some(r) = rest.strip_prefix("- ") {
        rest = r.trim_start();
    }
    let lead = s.len() - rest.len();
    if lead > 0 {
        out.push((Tok::Plain, &s[..lead]));
    }
    if rest.is_empty() {
        return out;
    }
    if rest.starts_with('#') {
        out.push((Tok::Comment, rest));
        return out;
    }
    if rest == "---" || rest == "..." || rest == "-" {
        out.push((Tok::Plain, rest));
        return out;
    }
    let colon = rest
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| rest[i + 1..].is_empty() || rest[i + 1..].starts_with(' '));
    let value = match colon {
        Some(i) if !rest[..i].contains(" #") && !rest.starts_with(['{', '[']) => {
            out.push((Tok::Key, &rest[..i]));
            out.push((Tok::Plain, &rest[i..i + 1]));
            &rest[i + 1..]
        }
        _ => rest,
    };
    let (v, comment) = match value.find(" #") {
        Some(i) => value.split_at(i),
        None => (value, ""),
    };
    if !v.is_empty() {
        out.push((Tok::Value, v));
    }
    if !comment.is_empty() {
        out.push((Tok::Comment, comment));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Tok::*;

    #[test]
    fn yaml_lines_split_into_keys_values_and_comments() {
        assert_eq!(
            yaml_tokens("  image: nginx:1.25 # pinned"),
            [
                (Plain, "  "),
                (Key, "image"),
                (Plain, ":"),
                (Value, " nginx:1.25"),
                (Comment, " # pinned"),
            ]
        );
        assert_eq!(
            yaml_tokens("- name: data"),
            [(Plain, "- "), (Key, "name"), (Plain, ":"), (Value, " data")]
        );
        assert_eq!(
            yaml_tokens("  spec:"),
            [(Plain, "  "), (Key, "spec"), (Plain, ":")]
        );
        assert_eq!(
            yaml_tokens("  - http://example.com"),
            [(Plain, "  - "), (Value, "http://example.com")]
        );
        assert_eq!(yaml_tokens("# a comment"), [(Comment, "# a comment")]);
        assert_eq!(yaml_tokens("---"), [(Plain, "---")]);
        assert_eq!(yaml_tokens(""), []);
        assert_eq!(yaml_tokens("{a: 1}"), [(Value, "{a: 1}")]);
    }

    #[test]
    fn visible_clips_and_defuses_control_characters() {
        assert_eq!(visible("abcdef", 4), "abcd");
        assert_eq!(visible("a\tb", 10), "a    b");
        assert_eq!(visible("a\tb", 3), "a");
        assert_eq!(visible("a\u{1b}[2Jb\r", 10), "a·[2Jb·");
        assert_eq!(visible(&"x".repeat(100_000), 80).len(), 80);
    }
}
