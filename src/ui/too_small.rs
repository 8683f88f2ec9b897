//! A terminal too small for any pane: one notice, centred, cut to what fits.
use super::layout::{MIN_COLS, MIN_ROWS};
use super::theme::Theme;
use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};

/// The notice's lines for a terminal of `cols` x `rows`.
pub fn notice(cols: u16, rows: u16) -> Vec<String> {
    vec![
        "terminal too small".into(),
        format!("{cols}x{rows}, need {MIN_COLS}x{MIN_ROWS}"),
        "q quits".into(),
    ]
}

pub fn draw(f: &mut Frame, theme: &Theme) {
    let area = f.area();
    if area.is_empty() {
        return;
    }
    let lines: Vec<Line> = notice(area.width, area.height)
        .into_iter()
        .map(Line::from)
        .collect();
    // Centred vertically when it fits; a line longer than the width wraps.
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let rect = Rect::new(area.x, area.y + top, area.width, area.height - top);
    f.render_widget(
        Paragraph::new(lines)
            .style(theme.style("status.warn"))
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::super::tests::{Screen, screen_text};
    use crate::app::msg::Msg;

    /// Every cell of the buffer as one string (screen_text cannot print a 0x0 buffer).
    fn cells(b: &ratatui::buffer::Buffer) -> String {
        b.content.iter().map(|c| c.symbol()).collect()
    }

    /// The full UI, with data in every pane, a dialog or help open, at 20x5, 1x1 and
    /// 0x0: no panic, no pane drawn, and the notice where there is room for it.
    #[test]
    fn tiny_terminals_draw_the_too_small_notice_and_never_panic() {
        for setup in ["", "?", "jR", "/carts"] {
            for watch in [false, true] {
                let mut s = Screen::new(false);
                s.everything().keys(setup);
                s.state.watch.on = watch;
                for (w, h) in [(20, 5), (1, 1), (0, 0), (0, 7), (200, 1)] {
                    s.send([Msg::Resize(w, h)]);
                    let b = s.draw_at(w, h);
                    assert_eq!((b.area.width, b.area.height), (w, h));
                    let all = cells(&b);
                    for pane in ["Cluster", "NAME", "Keys", "Confirm", "ctx:", "watch"] {
                        assert!(!all.contains(pane), "{w}x{h} {setup:?}: {pane} drawn");
                    }
                    if (w, h) == (20, 5) {
                        let text = screen_text(&b);
                        assert!(text.contains("terminal too small"), "{text}");
                        assert!(text.contains("20x5, need 30x8"), "{text}");
                        assert!(text.contains("q quits"), "{text}");
                    }
                    if (w, h) == (1, 1) {
                        assert_eq!(all, "t", "the notice's first letter");
                    }
                }
            }
        }
    }

    #[test]
    fn the_smallest_usable_terminal_shows_a_pane_and_a_click_on_a_tiny_one_hits_nothing() {
        let mut s = Screen::new(false);
        s.everything();
        let b = s.draw_at(30, 8);
        let text = screen_text(&b);
        assert!(!text.contains("too small"), "{text}");
        assert!(text.contains("Cluster") && text.contains("NAME"), "{text}");
        s.send([Msg::Resize(20, 5)]);
        let before = s.state.focus;
        for col in 0..20 {
            s.send([Msg::Mouse {
                kind: crate::app::msg::MouseKind::Click,
                col,
                row: 0,
            }]);
        }
        assert_eq!(s.state.focus, before, "no tab to click");
        assert!(crate::ui::layout::layout(20, 5, false, before).is_empty());
    }

    #[test]
    fn q_still_quits_a_too_small_terminal() {
        let mut s = Screen::new(false);
        s.everything().send([Msg::Resize(1, 1)]).keys("q");
        assert!(s.state.quit);
    }
}
