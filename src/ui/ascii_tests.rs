//! Render tests of `--ascii`: every cell plain ASCII, borders of `+ - = |`.
use super::tests::{Screen, screen_text};
use ratatui::buffer::Buffer;

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
