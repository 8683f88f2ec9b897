//! A line chart as a pure model, independent of the app state: which samples join into
//! lines, which series are drawn, the y scale, the time ticks and the cells of the plot.
//! `plot.rs` turns it into styled cells.
use crate::app::marks::MarkKind;
use crate::config::Unit;
use std::ops::Range;

/// At most this many series get a line, a colour and a legend row.
pub const MAX_SERIES: usize = 8;
/// Samples further apart than this many steps have missing samples between them.
const GAP_STEPS: f64 = 1.5;

pub struct ChartSeries<'a> {
    pub label: String,
    /// (unix seconds, value); NaN and ±Inf values are missing samples.
    pub points: &'a [(f64, f64)],
}

#[derive(Clone, Debug, PartialEq)]
pub struct ChartMark {
    pub time: f64,
    pub kind: MarkKind,
    pub label: String,
    pub highlighted: bool,
}

pub struct Chart<'a> {
    pub series: Vec<ChartSeries<'a>>,
    /// Series the query returned that are not in `series` at all (the source keeps the
    /// largest); the legend counts them with the ones not drawn.
    pub left_out: usize,
    pub start: f64,
    pub end: f64,
    /// Seconds between samples; 0 when unknown (then only missing values break lines).
    pub step: f64,
    pub unit: Unit,
    pub marks: Vec<ChartMark>,
    /// Plain characters instead of braille.
    pub ascii: bool,
}

/// The contiguous runs of finite samples: each is drawn as its own line.
pub fn runs(points: &[(f64, f64)], step: f64) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut from: Option<usize> = None;
    for (i, &(t, v)) in points.iter().enumerate() {
        let ok = t.is_finite() && v.is_finite();
        if let Some(f) = from {
            let gap = step > 0.0 && ok && t - points[i - 1].0 > GAP_STEPS * step;
            if !ok || gap {
                out.push(f..i);
                from = None;
            }
        }
        if ok && from.is_none() {
            from = Some(i);
        }
    }
    if let Some(f) = from {
        out.push(f..points.len());
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub latest: f64,
    pub min: f64,
    pub max: f64,
}

/// Latest, min and max over the finite values; None when there is none.
pub fn stats(points: &[(f64, f64)]) -> Option<Stats> {
    let mut finite = points.iter().map(|p| p.1).filter(|v| v.is_finite());
    let first = finite.next()?;
    let mut s = Stats {
        latest: first,
        min: first,
        max: first,
    };
    for v in finite {
        s.latest = v;
        s.min = s.min.min(v);
        s.max = s.max.max(v);
    }
    Some(s)
}

/// How many samples of a series are +Inf and -Inf. They are not drawn as lines (there is
/// no place on a scale for them) but flagged, so a division by zero is not mistaken
/// for a gap.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Infinite {
    pub pos: usize,
    pub neg: usize,
}

impl Infinite {
    pub fn of(points: &[(f64, f64)]) -> Self {
        let mut n = Infinite::default();
        for &(_, v) in points {
            if v == f64::INFINITY {
                n.pos += 1;
            } else if v == f64::NEG_INFINITY {
                n.neg += 1;
            }
        }
        n
    }
}

/// The indices of the `n` series with the biggest latest values, biggest first (series
/// without a finite value last), and how many are left out.
pub fn top(stats: &[Option<Stats>], n: usize) -> (Vec<usize>, usize) {
    let mut order: Vec<usize> = (0..stats.len()).collect();
    let key = |i: usize| stats[i].map_or(f64::NEG_INFINITY, |s| s.latest);
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)));
    let n = n.min(order.len());
    let more = order.len() - n;
    order.truncate(n);
    (order, more)
}

#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub ticks: Vec<f64>,
}

/// A y scale over [min, max] with round ticks for a plot `rows` high: from 0 when
/// nothing is negative, with headroom so the highest line stays off the frame.
pub fn y_scale(min: f64, max: f64, unit: Unit, rows: u16) -> Scale {
    let (min, max) = if min.is_finite() && max.is_finite() && min <= max {
        (min, max)
    } else {
        (0.0, 0.0)
    };
    let non_negative = min >= 0.0;
    let mut lo = if non_negative { 0.0 } else { min };
    let mut top = max;
    if top <= lo {
        top = lo + if lo == 0.0 { 1.0 } else { lo.abs() };
    }
    let pad = (top - lo) * 0.05;
    top += pad;
    if !non_negative {
        lo -= pad;
    }
    let intervals = f64::from((rows / 3).clamp(1, 5));
    let binary = matches!(unit, Unit::Bytes | Unit::BytesPerSecond);
    let step = nice_step((top - lo) / intervals, binary);
    let lo = (lo / step).floor() * step;
    let hi = (top / step).ceil() * step;
    let count = ((hi - lo) / step).round() as usize;
    let ticks = (0..=count).map(|k| lo + step * k as f64).collect();
    Scale { lo, hi, ticks }
}

/// 1, 2 or 5 times a power of ten (of 1024 for bytes, then of ten within it).
fn nice_step(raw: f64, binary: bool) -> f64 {
    let base = if binary && raw >= 1024.0 {
        1024f64.powi((raw.log2() / 10.0).floor() as i32)
    } else {
        1.0
    };
    let m = raw / base;
    let p = 10f64.powf(m.log10().floor());
    let n = match m / p {
        f if f <= 1.0 => 1.0,
        f if f <= 2.0 => 2.0,
        f if f <= 5.0 => 5.0,
        _ => 10.0,
    };
    if binary && n * p >= 1000.0 {
        base * 1024.0
    } else {
        n * p * base
    }
}

/// The strftime pattern of time labels: the day is needed beyond a day.
pub fn time_format(start: f64, end: f64) -> &'static str {
    if end - start <= 86_400.0 {
        "%H:%M"
    } else {
        "%a %H:%M"
    }
}

/// Round local times between start and end, as many as fit `cols` columns of labels
/// `label` wide. `offset` is the local zone's offset from UTC in seconds.
pub fn time_ticks(start: f64, end: f64, cols: u16, label: usize, offset: i64) -> Vec<f64> {
    const STEPS: [i64; 15] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
        2_419_200,
    ];
    let span = end - start;
    if span <= 0.0 || cols == 0 {
        return Vec::new();
    }
    let room = f64::from(cols) / (label + 3) as f64;
    let Some(step) = STEPS.iter().copied().find(|&s| span / s as f64 <= room) else {
        return Vec::new();
    };
    let first = ((start as i64 + offset + step - 1).div_euclid(step)) * step - offset;
    (0..)
        .map(|k| (first + k * step) as f64)
        .take_while(|&t| t <= end)
        .collect()
}

/// Dots per cell across and down: braille cells hold 2 × 4 dots.
pub fn dots_per_cell(ascii: bool) -> (usize, usize) {
    if ascii { (1, 1) } else { (2, 4) }
}

/// The x position of time `t` in dots across a plot `width` cells wide.
pub fn x_dot(t: f64, start: f64, end: f64, width: u16, ascii: bool) -> f64 {
    let dots = (usize::from(width) * dots_per_cell(ascii).0) as f64;
    (t - start) / (end - start) * (dots - 1.0)
}

/// The plot row a value falls in: the row its line is drawn in.
pub fn row(v: f64, scale: &Scale, height: u16, ascii: bool) -> u16 {
    let dy = dots_per_cell(ascii).1;
    let dots = (usize::from(height) * dy) as f64 - 1.0;
    let dot = ((scale.hi - v) / (scale.hi - scale.lo) * dots).round();
    (dot.clamp(0.0, dots) as usize / dy) as u16
}

/// The plot column a time falls in, None outside the range.
pub fn column(t: f64, start: f64, end: f64, width: u16, ascii: bool) -> Option<u16> {
    if !(start..=end).contains(&t) || end <= start || width == 0 {
        return None;
    }
    let dot = x_dot(t, start, end, width, ascii).round() as usize;
    Some((dot / dots_per_cell(ascii).0) as u16)
}

/// The plot's cells: braille dots, or in plain mode a character per cell chosen by the
/// slope of the line through it. Each cell keeps the colour of the last line drawn in it.
pub struct Raster {
    pub width: u16,
    pub height: u16,
    ascii: bool,
    /// Braille: the dot bits. Plain: the slope code (see `PLAIN`).
    cells: Vec<u8>,
    colours: Vec<u8>,
}

/// Plain-mode characters, by slope code (0 is empty).
const PLAIN: [char; 6] = [' ', '-', '/', '\\', '|', '*'];

impl Raster {
    pub fn new(width: u16, height: u16, ascii: bool) -> Self {
        let n = usize::from(width) * usize::from(height);
        Raster {
            width,
            height,
            ascii,
            cells: vec![0; n],
            colours: vec![0; n],
        }
    }

    /// Draws a run of samples as a line in colour `colour`, values mapped on `scale`.
    pub fn line(&mut self, points: &[(f64, f64)], start: f64, end: f64, scale: &Scale, colour: u8) {
        let (_, dy) = dots_per_cell(self.ascii);
        let rows = (usize::from(self.height) * dy) as f64 - 1.0;
        let (width, ascii) = (self.width, self.ascii);
        let to_dot = |&(t, v): &(f64, f64)| {
            let x = x_dot(t, start, end, width, ascii);
            let y = (scale.hi - v) / (scale.hi - scale.lo) * rows;
            (x.round() as i64, y.round() as i64)
        };
        let mut prev = match points.first() {
            Some(p) => to_dot(p),
            None => return,
        };
        if points.len() == 1 {
            self.dot(prev.0, prev.1, 5, colour);
        }
        for p in &points[1..] {
            let next = to_dot(p);
            self.segment(prev, next, colour);
            prev = next;
        }
    }

    /// Bresenham from a to b.
    fn segment(&mut self, a: (i64, i64), b: (i64, i64), colour: u8) {
        let (dx, dy) = ((b.0 - a.0).abs(), -(b.1 - a.1).abs());
        let slope = if dx >= 2 * -dy {
            1
        } else if -dy >= 2 * dx {
            4
        } else if (b.0 - a.0) * (b.1 - a.1) < 0 {
            2
        } else {
            3
        };
        let (sx, sy) = ((b.0 - a.0).signum(), (b.1 - a.1).signum());
        let (mut x, mut y, mut err) = (a.0, a.1, dx + dy);
        loop {
            self.dot(x, y, slope, colour);
            if (x, y) == b {
                break;
            }
            let e2 = 2 * err;
            if e2 >= dy {
                err += dy;
                x += sx;
            }
            if e2 <= dx {
                err += dx;
                y += sy;
            }
        }
    }

    fn dot(&mut self, x: i64, y: i64, slope: u8, colour: u8) {
        let (cx, cy) = dots_per_cell(self.ascii);
        let (Ok(x), Ok(y)) = (usize::try_from(x), usize::try_from(y)) else {
            return;
        };
        let (col, row) = (x / cx, y / cy);
        if col >= usize::from(self.width) || row >= usize::from(self.height) {
            return;
        }
        let i = row * usize::from(self.width) + col;
        self.cells[i] = if self.ascii {
            slope
        } else {
            self.cells[i] | braille_bit(x % 2, y % 4)
        };
        self.colours[i] = colour;
    }

    /// The character and colour of a cell, None when empty.
    pub fn cell(&self, col: u16, row: u16) -> Option<(char, u8)> {
        let i = usize::from(row) * usize::from(self.width) + usize::from(col);
        let c = *self.cells.get(i)?;
        if c == 0 {
            return None;
        }
        let ch = if self.ascii {
            PLAIN[usize::from(c)]
        } else {
            char::from_u32(0x2800 + u32::from(c)).unwrap_or(' ')
        };
        Some((ch, self.colours[i]))
    }
}

/// The bit of dot (x, y) in a braille cell (U+2800 + bits).
fn braille_bit(x: usize, y: usize) -> u8 {
    match (x, y) {
        (0, 3) => 0x40,
        (1, 3) => 0x80,
        (0, y) => 1 << y,
        (_, y) => 1 << (y + 3),
    }
}

#[cfg(test)]
#[path = "chart_tests.rs"]
mod tests;
