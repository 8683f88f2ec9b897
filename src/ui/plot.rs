//! Draws a `Chart` into a buffer: y labels and axis, time markers under the lines, the
//! lines, time labels, and the legend below.
use super::chart::{self, Chart, ChartMark, Infinite, MAX_SERIES, Raster, Scale, Stats};
use super::format::{local, unit_value, utc_offset};
use super::legend::{self, Entry, mark_symbol, mark_token};
use super::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::Widget;

/// Rows the plot keeps before the legend takes any: 3 of lines, the axis, time labels.
const MIN_CHART_ROWS: u16 = 5;

/// How many series get a line and a legend row, and whether the line of markers and
/// series left out follows them.
fn legend_rows(height: u16, series: usize, marks: bool) -> (usize, bool) {
    let budget = usize::from((height * 2 / 5).min(height.saturating_sub(MIN_CHART_ROWS)));
    let n = series.min(MAX_SERIES);
    let extra = marks || series > n;
    if n + usize::from(extra) <= budget {
        return (n, extra);
    }
    let n = budget.saturating_sub(1).clamp(1.min(series), n);
    (n, marks || series > n)
}

pub fn draw(buf: &mut Buffer, area: Rect, c: &Chart, theme: &Theme) {
    let stats: Vec<Option<Stats>> = c.series.iter().map(|s| chart::stats(s.points)).collect();
    let total = c.series.len() + c.left_out;
    let (n, extra) = legend_rows(area.height, total, !c.marks.is_empty());
    let (drawn, more) = chart::top(&stats, n);
    let more = more + c.left_out;
    // Colours follow the series' order, not their rank, so they stay put as values move.
    let mut by_index = drawn.clone();
    by_index.sort();
    let colour = |i: usize| by_index.iter().position(|&j| j == i).unwrap_or(0);

    let legend_h = (drawn.len() + usize::from(extra)) as u16;
    let chart_h = area.height.saturating_sub(legend_h);
    let entries: Vec<Entry> = drawn
        .iter()
        .map(|&i| Entry {
            style: theme.series(colour(i)),
            label: c.series[i].label.clone(),
            stats: stats[i],
            infinite: Infinite::of(c.series[i].points),
        })
        .collect();
    let mut lines = legend::series_lines(&entries, c.unit, area.width, c.ascii, theme);
    if extra {
        lines.push(legend::marks_line(
            &c.marks, more, area.width, c.ascii, theme,
        ));
    }
    for (k, line) in lines.into_iter().enumerate() {
        let y = area.y + chart_h + k as u16;
        if y < area.bottom() {
            line.render(Rect::new(area.x, y, area.width, 1), buf);
        }
    }

    let plot_h = chart_h.saturating_sub(2);
    let (lo, hi) = drawn
        .iter()
        .filter_map(|&i| stats[i])
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
            (lo.min(s.min), hi.max(s.max))
        });
    let scale = chart::y_scale(lo, hi, c.unit, plot_h);
    let labels: Vec<String> = scale.ticks.iter().map(|&v| unit_value(v, c.unit)).collect();
    let label_w = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
    if plot_h == 0 || area.width <= label_w + 2 {
        return;
    }
    let plot = Rect::new(
        area.x + label_w + 1,
        area.y,
        area.width - label_w - 1,
        plot_h,
    );
    y_axis(buf, plot, &scale, &labels, c.ascii, theme);
    x_axis(buf, plot, area.x, c, theme);
    marks(buf, plot, c, theme);

    let mut raster = Raster::new(plot.width, plot.height, c.ascii);
    // The biggest series last, on top.
    for &i in drawn.iter().rev() {
        let points = c.series[i].points;
        for run in chart::runs(points, c.step) {
            raster.line(&points[run], c.start, c.end, &scale, colour(i) as u8);
        }
    }
    for row in 0..plot.height {
        for col in 0..plot.width {
            if let Some((ch, k)) = raster.cell(col, row) {
                let fg = theme.series(usize::from(k)).fg;
                let cell = &mut buf[(plot.x + col, plot.y + row)];
                cell.set_char(ch);
                if let Some(fg) = fg {
                    cell.set_fg(fg);
                }
            }
        }
    }
    for &i in drawn.iter().rev() {
        infinities(buf, plot, c, i, theme.series(colour(i)));
    }
}

/// An arrow at the top edge where a series is +Inf, at the bottom where it is -Inf:
/// off any scale, but in view, in the series' colour.
fn infinities(buf: &mut Buffer, plot: Rect, c: &Chart, i: usize, style: Style) {
    let (up, down) = if c.ascii { ('^', 'v') } else { ('↑', '↓') };
    for &(t, v) in c.series[i].points {
        let (ch, row) = match v {
            f64::INFINITY => (up, 0),
            f64::NEG_INFINITY => (down, plot.height - 1),
            _ => continue,
        };
        if let Some(col) = chart::column(t, c.start, c.end, plot.width, c.ascii) {
            buf[(plot.x + col, plot.y + row)]
                .set_char(ch)
                .set_style(style);
        }
    }
}

/// Value labels right-aligned left of the axis, at the rows their values are drawn in.
fn y_axis(
    buf: &mut Buffer,
    plot: Rect,
    scale: &Scale,
    labels: &[String],
    ascii: bool,
    theme: &Theme,
) {
    let style = theme.style("graph.axis");
    let x = plot.x - 1;
    for y in plot.top()..plot.bottom() {
        buf[(x, y)]
            .set_char(if ascii { '|' } else { '│' })
            .set_style(style);
    }
    let mut last = None;
    for (v, label) in scale.ticks.iter().zip(labels) {
        let row = chart::row(*v, scale, plot.height, ascii);
        if last == Some(row) {
            continue;
        }
        last = Some(row);
        let y = plot.y + row;
        buf[(x, y)].set_char(if ascii { '+' } else { '┤' });
        let w = label.chars().count() as u16;
        buf.set_string(x - w, y, label, style);
    }
}

/// The axis line under the plot and local-time labels centred under their ticks, free
/// to reach left under the value labels from `left`.
fn x_axis(buf: &mut Buffer, plot: Rect, left: u16, c: &Chart, theme: &Theme) {
    let style = theme.style("graph.axis");
    let (y, labels_y) = (plot.bottom(), plot.bottom() + 1);
    let (corner, rule, tick) = if c.ascii {
        ('+', '-', '+')
    } else {
        ('└', '─', '┬')
    };
    buf[(plot.x - 1, y)].set_char(corner).set_style(style);
    for x in plot.left()..plot.right() {
        buf[(x, y)].set_char(rule).set_style(style);
    }
    let fmt = chart::time_format(c.start, c.end);
    let label_w = if fmt == "%H:%M" { 5 } else { 9 };
    let offset = utc_offset(c.end as i64);
    let mut free_from = left;
    for t in chart::time_ticks(c.start, c.end, plot.width, label_w, offset) {
        let Some(col) = chart::column(t, c.start, c.end, plot.width, c.ascii) else {
            continue;
        };
        buf[(plot.x + col, y)].set_char(tick);
        let text = local(t as i64, fmt);
        let w = text.chars().count() as u16;
        let x = (plot.x + col)
            .saturating_sub(w / 2)
            .min(plot.right().saturating_sub(w));
        if x >= free_from && labels_y < buf.area.bottom() {
            buf.set_string(x, labels_y, &text, style);
            free_from = x + w + 1;
        }
    }
}

/// A vertical line per marker across the plot, its kind's glyph on the time axis; the
/// highlighted one thick and bold, drawn last so it stays visible.
fn marks(buf: &mut Buffer, plot: Rect, c: &Chart, theme: &Theme) {
    let mut order: Vec<&ChartMark> = c.marks.iter().collect();
    order.sort_by_key(|m| m.highlighted);
    for m in order {
        let Some(col) = chart::column(m.time, c.start, c.end, plot.width, c.ascii) else {
            continue;
        };
        let mut style: Style = theme.style(mark_token(m.kind));
        let line = match (m.highlighted, c.ascii) {
            (true, false) => '┃',
            (true, true) => '#',
            (false, false) => '│',
            (false, true) => ':',
        };
        if m.highlighted {
            style = style.add_modifier(Modifier::BOLD);
        }
        let x = plot.x + col;
        for y in plot.top()..plot.bottom() {
            buf[(x, y)].set_char(line).set_style(style);
        }
        buf[(x, plot.bottom())]
            .set_char(mark_symbol(m.kind, c.ascii))
            .set_style(style);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_takes_at_most_two_fifths_and_at_least_one_series() {
        // Tall: every series up to 8, plus the line of markers.
        assert_eq!(legend_rows(40, 3, true), (3, true));
        assert_eq!(legend_rows(40, 50, false), (8, true));
        // 15 rows: 6 for the legend.
        assert_eq!(legend_rows(15, 50, false), (5, true));
        assert_eq!(legend_rows(15, 6, false), (6, false));
        assert_eq!(legend_rows(15, 7, false), (5, true));
        // Tiny panes still name one series.
        assert_eq!(legend_rows(6, 3, true), (1, true));
        assert_eq!(legend_rows(6, 0, false), (0, false));
    }
}
