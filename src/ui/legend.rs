//! The chart's legend: a row per drawn series (colour, name, latest, min, max), then a
//! line with the series left out and the kinds of markers shown. In narrow panes min and
//! max go first, then names shorten, then the latest value goes.
use super::chart::{ChartMark, Infinite, Stats};
use super::format::{clip, clip_middle, unit_value};
use super::theme::Theme;
use crate::app::marks::MarkKind;
use crate::config::Unit;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

/// Names keep at least this many characters before min and max are dropped.
const NAME_WITH_RANGE: usize = 10;
/// ... and this many before the latest value is dropped.
const NAME_WITH_LATEST: usize = 6;

pub struct Entry {
    pub style: Style,
    pub label: String,
    pub stats: Option<Stats>,
    pub infinite: Infinite,
}

/// The flag of a series with infinite samples, e.g. "+Inf×3 -Inf×1"; empty without.
pub fn infinite_flag(n: Infinite, ascii: bool) -> String {
    let times = if ascii { "x" } else { "×" };
    let mut parts = Vec::new();
    if n.pos > 0 {
        parts.push(format!("+Inf{times}{}", n.pos));
    }
    if n.neg > 0 {
        parts.push(format!("-Inf{times}{}", n.neg));
    }
    parts.join(" ")
}

pub fn mark_token(kind: MarkKind) -> &'static str {
    match kind {
        MarkKind::Commit => "mark.commit",
        MarkKind::Sync => "mark.sync",
        MarkKind::Rollback => "mark.rollback",
        MarkKind::Snapshot => "mark.snapshot",
    }
}

/// The glyph that stands for a kind on the time axis and in the legend.
pub fn mark_symbol(kind: MarkKind, ascii: bool) -> char {
    match (kind, ascii) {
        (MarkKind::Commit, false) => '○',
        (MarkKind::Sync, false) => '●',
        (MarkKind::Rollback, false) => '↺',
        (MarkKind::Snapshot, false) => '■',
        (MarkKind::Commit, true) => 'c',
        (MarkKind::Sync, true) => 's',
        (MarkKind::Rollback, true) => 'r',
        (MarkKind::Snapshot, true) => 'n',
    }
}

/// What the series rows can hold in `width` columns.
#[derive(Debug, PartialEq)]
enum Columns {
    All,
    Latest,
    Name,
}

fn fit(width: usize, longest: usize, latest: usize, range: usize) -> (Columns, usize) {
    let swatch = 2;
    let with_range = swatch + 2 + latest + range;
    let with_latest = swatch + 2 + latest;
    let room = |fixed: usize| width.saturating_sub(fixed).min(longest);
    if room(with_range) >= longest.min(NAME_WITH_RANGE) {
        (Columns::All, room(with_range))
    } else if room(with_latest) >= longest.min(NAME_WITH_LATEST) {
        (Columns::Latest, room(with_latest))
    } else {
        (Columns::Name, room(swatch))
    }
}

pub fn series_lines(
    entries: &[Entry],
    unit: Unit,
    width: u16,
    ascii: bool,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let fmt = |f: fn(&Stats) -> f64| -> Vec<String> {
        entries
            .iter()
            .map(|e| {
                e.stats
                    .as_ref()
                    .map_or("–".into(), |s| unit_value(f(s), unit))
            })
            .collect()
    };
    let (latest, min, max) = (fmt(|s| s.latest), fmt(|s| s.min), fmt(|s| s.max));
    let widest = |v: &[String]| v.iter().map(|s| s.chars().count()).max().unwrap_or(0);
    let (lw, mw, xw) = (widest(&latest), widest(&min), widest(&max));
    let longest = entries
        .iter()
        .map(|e| e.label.chars().count())
        .max()
        .unwrap_or(0);
    // Flags of infinite samples keep their room in every width: they are the warning.
    let flags: Vec<String> = entries
        .iter()
        .map(|e| infinite_flag(e.infinite, ascii))
        .collect();
    let fw = widest(&flags);
    let flag_room = if fw > 0 { fw + 2 } else { 0 };
    let (columns, name_w) = fit(
        usize::from(width).saturating_sub(flag_room),
        longest,
        lw,
        2 + 4 + mw + 5 + xw,
    );
    let (text, dim) = (theme.style("text"), theme.style("text.dim"));
    let swatch = if ascii { "- " } else { "━ " };
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut spans = vec![
                Span::styled(swatch, e.style),
                Span::styled(format!("{:<name_w$}", clip_middle(&e.label, name_w)), text),
            ];
            if columns != Columns::Name {
                let bold = text.add_modifier(Modifier::BOLD);
                spans.push(Span::styled(format!("  {:>lw$}", latest[i]), bold));
            }
            if columns == Columns::All {
                spans.push(Span::styled("  min ", dim));
                spans.push(Span::styled(format!("{:>mw$}", min[i]), text));
                spans.push(Span::styled(" max ", dim));
                spans.push(Span::styled(format!("{:>xw$}", max[i]), text));
            }
            if !flags[i].is_empty() {
                spans.push(Span::styled(
                    format!("  {}", flags[i]),
                    theme.style("status.warn"),
                ));
            }
            Line::from(spans)
        })
        .collect()
}

/// The last legend line: how many series are not drawn, the marker kinds in view, and
/// the highlighted marker's label.
pub fn marks_line(
    marks: &[ChartMark],
    more: usize,
    width: u16,
    ascii: bool,
    theme: &Theme,
) -> Line<'static> {
    let dim = theme.style("text.dim");
    let mut spans = Vec::new();
    if more > 0 {
        spans.push(Span::styled(format!("and {more} more"), dim));
    }
    let mut kinds: Vec<MarkKind> = marks.iter().map(|m| m.kind).collect();
    kinds.sort();
    kinds.dedup();
    for k in kinds {
        if !spans.is_empty() {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled(
            mark_symbol(k, ascii).to_string(),
            theme.style(mark_token(k)),
        ));
        spans.push(Span::styled(format!(" {}", k.label()), dim));
    }
    if let Some(m) = marks.iter().find(|m| m.highlighted) {
        let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
        let room = usize::from(width).saturating_sub(used + 4);
        if room >= 8 {
            let arrow = if ascii { "> " } else { "▸ " };
            spans.push(Span::raw("  "));
            spans.push(Span::styled(
                format!("{arrow}{}", clip(&m.label, room)),
                theme.style("mark.highlight"),
            ));
        }
    }
    Line::from(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_legends_drop_min_and_max_before_the_latest_value() {
        // 2 swatch + 2 + 8 latest + 26 range = 38 columns besides the name.
        assert_eq!(fit(80, 20, 8, 26), (Columns::All, 20));
        assert_eq!(fit(48, 20, 8, 26), (Columns::All, 10));
        assert_eq!(fit(47, 20, 8, 26), (Columns::Latest, 20));
        assert_eq!(fit(18, 20, 8, 26), (Columns::Latest, 6));
        assert_eq!(fit(17, 20, 8, 26), (Columns::Name, 15));
        // Short names never force columns out.
        assert_eq!(fit(45, 4, 8, 26), (Columns::All, 4));
    }

    #[test]
    fn infinite_samples_are_flagged_in_every_width() {
        let theme = Theme::bundled("dark").unwrap();
        let entry = |label: &str, infinite| Entry {
            style: Style::default(),
            label: label.into(),
            stats: Some(Stats {
                latest: 1.0,
                min: 0.0,
                max: 2.0,
            }),
            infinite,
        };
        let entries = [
            entry("errors-per-request", Infinite { pos: 3, neg: 0 }),
            entry("latency", Infinite::default()),
        ];
        for width in [80u16, 30, 16] {
            let lines = series_lines(&entries, Unit::None, width, false, &theme);
            let row: String = lines[0].spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(row.ends_with("  +Inf×3"), "{width}: {row:?}");
            assert!(
                row.chars().count() <= usize::from(width),
                "{width}: {row:?}"
            );
            let flag = lines[0].spans.last().unwrap();
            assert_eq!(flag.style, theme.style("status.warn"));
            let plain: String = lines[1].spans.iter().map(|s| s.content.as_ref()).collect();
            assert!(!plain.contains("Inf"), "{plain:?}");
        }
        let both = Infinite { pos: 1, neg: 2 };
        assert_eq!(infinite_flag(both, true), "+Infx1 -Infx2");
        assert_eq!(infinite_flag(Infinite::default(), false), "");
    }
}
