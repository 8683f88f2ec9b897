//! Fitting a theme's RGB colours to terminals with 256 or 16 colours.
use ratatui::style::Color;

/// The 16 ANSI colours as xterm shows them by default.
const ANSI: [(Color, (u8, u8, u8)); 16] = [
    (Color::Black, (0, 0, 0)),
    (Color::Red, (205, 0, 0)),
    (Color::Green, (0, 205, 0)),
    (Color::Yellow, (205, 205, 0)),
    (Color::Blue, (0, 0, 238)),
    (Color::Magenta, (205, 0, 205)),
    (Color::Cyan, (0, 205, 205)),
    (Color::Gray, (229, 229, 229)),
    (Color::DarkGray, (127, 127, 127)),
    (Color::LightRed, (255, 0, 0)),
    (Color::LightGreen, (0, 255, 0)),
    (Color::LightYellow, (255, 255, 0)),
    (Color::LightBlue, (92, 92, 255)),
    (Color::LightMagenta, (255, 0, 255)),
    (Color::LightCyan, (0, 255, 255)),
    (Color::White, (255, 255, 255)),
];

/// The levels of xterm's 6x6x6 colour cube (indices 16 to 231).
const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];

fn rgb(c: Color) -> Option<(u8, u8, u8)> {
    match c {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i) if i < 16 => Some(ANSI[usize::from(i)].1),
        Color::Indexed(i) if i < 232 => {
            let i = usize::from(i - 16);
            Some((CUBE[i / 36], CUBE[i / 6 % 6], CUBE[i % 6]))
        }
        Color::Indexed(i) => {
            let v = 8 + 10 * (i - 232);
            Some((v, v, v))
        }
        _ => None,
    }
}

fn distance(a: (u8, u8, u8), b: (u8, u8, u8)) -> u32 {
    let d = |x: u8, y: u8| (i32::from(x) - i32::from(y)).unsigned_abs().pow(2);
    d(a.0, b.0) + d(a.1, b.1) + d(a.2, b.2)
}

/// The nearest of the 256 xterm colours: the closest cube entry or grey step.
pub fn to_256(c: Color) -> Color {
    let Color::Rgb(r, g, b) = c else { return c };
    let level = |v: u8| {
        (0..6)
            .min_by_key(|&i| (i32::from(CUBE[i]) - i32::from(v)).abs())
            .unwrap()
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = (CUBE[ri], CUBE[gi], CUBE[bi]);
    let mean = (u32::from(r) + u32::from(g) + u32::from(b)) / 3;
    let step = (mean.saturating_sub(3) / 10).min(23) as u8;
    let grey = 8 + 10 * step;
    if distance((grey, grey, grey), (r, g, b)) < distance(cube, (r, g, b)) {
        Color::Indexed(232 + step)
    } else {
        Color::Indexed((16 + 36 * ri + 6 * gi + bi) as u8)
    }
}

/// The nearest of the 16 ANSI colours by hue rather than by distance, which would
/// turn a theme's soft pastels into grey: low saturation is a grey by lightness;
/// otherwise the hue picks the colour and brightness picks its light variant.
pub fn to_16(c: Color) -> Color {
    let Some((r, g, b)) = rgb(c) else { return c };
    if matches!(c, Color::Indexed(i) if i < 16) {
        return c;
    }
    let (r, g, b) = (f32::from(r), f32::from(g), f32::from(b));
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let chroma = max - min;
    if max < 64.0 {
        return Color::Black;
    }
    if chroma / max < 0.25 {
        let light = (max + min) / 2.0;
        return match light {
            l if l < 48.0 => Color::Black,
            l if l < 160.0 => Color::DarkGray,
            l if l < 235.0 => Color::Gray,
            _ => Color::White,
        };
    }
    let hue = if max == r {
        60.0 * ((g - b) / chroma).rem_euclid(6.0)
    } else if max == g {
        60.0 * ((b - r) / chroma + 2.0)
    } else {
        60.0 * ((r - g) / chroma + 4.0)
    };
    let bright = max > 215.0;
    let pick = |normal, light| if bright { light } else { normal };
    match hue {
        h if !(20.0..330.0).contains(&h) => pick(Color::Red, Color::LightRed),
        h if h < 75.0 => pick(Color::Yellow, Color::LightYellow),
        h if h < 165.0 => pick(Color::Green, Color::LightGreen),
        h if h < 205.0 => pick(Color::Cyan, Color::LightCyan),
        h if h < 250.0 => pick(Color::Blue, Color::LightBlue),
        _ => pick(Color::Magenta, Color::LightMagenta),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_colours_keep_hue_and_brightness() {
        let c = |r, g, b| to_16(Color::Rgb(r, g, b));
        assert_eq!(c(255, 0, 0), Color::LightRed);
        assert_eq!(c(160, 0, 0), Color::Red);
        assert_eq!(c(250, 250, 250), Color::White);
        assert_eq!(c(80, 80, 80), Color::DarkGray);
        assert_eq!(c(20, 20, 24), Color::Black);
        assert_eq!(c(0, 0, 0), Color::Black);
        // dark's status colours: soft green, amber, pink-red, sky blue.
        assert_eq!(c(0x9e, 0xce, 0x6a), Color::Green);
        assert_eq!(c(0xe0, 0xaf, 0x68), Color::LightYellow);
        assert_eq!(c(0xf7, 0x76, 0x8e), Color::LightRed);
        assert_eq!(c(0x7d, 0xcf, 0xff), Color::LightCyan);
        assert_eq!(c(0xbb, 0x9a, 0xf7), Color::LightMagenta);
        // Named colours are already ANSI.
        assert_eq!(to_16(Color::Cyan), Color::Cyan);
        assert_eq!(to_16(Color::Reset), Color::Reset);
        assert_eq!(to_16(Color::Indexed(196)), Color::LightRed);
    }

    #[test]
    fn two_hundred_fifty_six_colours_use_the_cube_and_the_grey_ramp() {
        assert_eq!(to_256(Color::Rgb(255, 0, 0)), Color::Indexed(196));
        assert_eq!(to_256(Color::Rgb(0, 0, 0)), Color::Indexed(16));
        assert_eq!(to_256(Color::Rgb(128, 128, 128)), Color::Indexed(244));
        assert_eq!(to_256(Color::Rgb(0x7a, 0xa2, 0xf7)), Color::Indexed(111));
        assert_eq!(to_256(Color::Green), Color::Green);
        assert_eq!(to_256(Color::Indexed(42)), Color::Indexed(42));
    }
}
