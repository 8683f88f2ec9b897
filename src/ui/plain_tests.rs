//! Render tests of plain terminals: `--ascii` (every cell ASCII, borders of `+ - = |`)
//! and NO_COLOR (no colour, the selection reversed).
use super::tests::{Screen, screen_text};
use super::theme::Theme;
use crate::config::Colors;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

fn assert_all_ascii(b: &Buffer) {
    let screen = screen_text(b);
    for (i, cell) in b.content.iter().enumerate() {
        let (x, y) = (i as u16 % b.area.width, i as u16 / b.area.width);
        assert!(
            cell.symbol().is_ascii(),
            "{:?} at ({x}, {y}) in\n{screen}",
            cell.symbol()
        );
    }
}

#[test]
fn four_panes_in_ascii_mode_draw_only_ascii() {
    let mut s = Screen::new(false);
    s.state.ascii = true;
    // Open shop and its StatefulSet, as the four-pane snapshot does.
    s.everything().keys("j\nj\njjj");
    let b = s.draw();
    assert_all_ascii(&b);
    let screen = screen_text(&b);
    // The focused cluster pane has a double top rule; the others a single one.
    let top: String = b.content[..usize::from(b.area.width)]
        .iter()
        .map(|c| c.symbol())
        .collect();
    assert!(top.starts_with("+ Cluster "), "{top}");
    assert!(top.contains("=++ Git "), "{top}");
    assert!(top.ends_with("-+"), "{top}");
    assert!(screen.contains("v shop"), "{screen}");
    assert!(screen.contains(" - "), "the separator: {screen}");
    // Unicode mode still draws box drawing, so the replacement is ASCII mode's alone.
    s.state.ascii = false;
    assert!(screen_text(&s.draw()).contains('╭'));
}

#[test]
fn dialogs_and_help_in_ascii_mode_draw_only_ascii() {
    let mut s = Screen::new(false);
    s.state.ascii = true;
    s.everything().keys("?");
    assert_all_ascii(&s.draw());
    // The restart confirmation: a double-bordered dialog.
    let mut s = Screen::new(false);
    s.state.ascii = true;
    s.everything().keys("j\nGR");
    let b = s.draw();
    assert_all_ascii(&b);
    let screen = screen_text(&b);
    assert!(screen.contains("+ Confirm ===="), "{screen}");
    // The git and metrics panes focused and zoomed.
    for keys in ["\t", "\t\t", "\t\t\t", "\tz", "\t\tz"] {
        let mut s = Screen::new(true);
        s.state.ascii = true;
        s.everything().keys(keys);
        assert_all_ascii(&s.draw());
    }
}

#[test]
fn without_colour_no_cell_has_a_colour_and_the_selection_is_reversed() {
    let mut s = Screen::new(false);
    s.theme = Theme::bundled("dark").unwrap().without_colour();
    s.everything().keys("j\nj\njjj");
    let b = s.draw();
    for cell in &b.content {
        assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{cell:?}");
    }
    let reversed_rows = (0..b.area.height)
        .filter(|&y| b[(2, y)].modifier.contains(Modifier::REVERSED))
        .count();
    assert_eq!(
        reversed_rows,
        1,
        "only the selected row\n{}",
        screen_text(&b)
    );
}

#[test]
fn sixteen_colours_draw_only_ansi_colours() {
    for name in ["dark", "light", "high-contrast", "gruvbox-dark"] {
        let mut s = Screen::new(false);
        s.theme = Theme::bundled(name).unwrap().downgrade(Colors::Ansi16);
        s.everything().keys("j\nj\njjj");
        let b = s.draw();
        for cell in &b.content {
            for c in [cell.fg, cell.bg] {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{name}: {cell:?}"
                );
            }
        }
    }
}
