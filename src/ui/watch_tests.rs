//! Watch mode drawn: the freshness line, the tiles and their colours, small screens.
use super::tests::{Screen, find, screen_text};
use crate::app::msg::{Msg, SyncEvent};
use crate::app::sync::{Drift, Mark};

fn watching() -> Screen {
    let mut s = Screen::new(true);
    s.everything();
    s.state.watch.on = true;
    s.state.now += 5;
    s
}

#[test]
fn the_wall_shows_tiles_sources_and_the_graph() {
    let mut s = watching();
    s.send([Msg::Sync(SyncEvent::Drift(Ok(vec![Drift {
        kind: "Deployment".into(),
        namespace: "shop".into(),
        name: "web".into(),
        mark: Mark::Drifted,
        changes: Vec::new(),
    }])))]);
    let b = s.draw_at(160, 45);
    let text = screen_text(&b);
    for want in [
        "sextant watch · kind-sextant",
        "kube",
        "live, changed just now",
        "prom",
        "px",
        "SYNC",
        "! DRIFT",
        "1 object",
        "Deployment web",
        "WORKLOADS",
        "VOLUMES",
        "SNAPSHOTS",
        "Latest warnings",
    ] {
        assert!(text.contains(want), "{want:?} on the wall:\n{text}");
    }
    // A drifted app is a warning, in the warning colour.
    let at = find(&b, "! DRIFT");
    assert_eq!(b[at].style().fg, s.style("status.warn").fg);
}

#[test]
fn a_source_that_stopped_answering_is_called_stale() {
    let mut s = watching();
    s.state.now += 600;
    let text = screen_text(&s.draw_at(160, 45));
    assert!(text.contains("stale: 10m ago"), "{text}");
}

#[test]
fn small_walls_stack_the_tiles_and_do_not_panic() {
    let s = watching();
    for (w, h) in [(80, 24), (60, 20), (20, 5), (1, 1)] {
        let b = s.draw_at(w, h);
        if w >= 60 {
            let text = screen_text(&b);
            assert!(
                text.contains("SYNC") && text.contains("SNAPSHOTS"),
                "{w}x{h}:\n{text}"
            );
        }
    }
}

#[test]
fn a_60x20_terminal_shows_one_pane_with_tabs_and_tab_moves() {
    let mut s = Screen::new(false);
    s.everything();
    let b = s.draw_at(60, 20);
    let text = screen_text(&b);
    assert!(text.contains(" Cluster  Git  Metrics  Storage "), "{text}");
    assert!(text.contains("Cluster kind-sextant"), "{text}");
    assert!(
        !text.contains("Git shop-deploy"),
        "one pane at a time:\n{text}"
    );
    assert_eq!(b[(1, 0)].symbol(), "C");
    assert_eq!(
        b[(1, 0)].style().bg,
        s.style("selection").bg,
        "the focused tab"
    );
    s.keys("\t");
    let text = screen_text(&s.draw_at(60, 20));
    assert!(text.contains("Git shop-deploy"), "{text}");
    // 80x24 still has room for the four panes.
    let text = screen_text(&s.draw_at(80, 24));
    assert!(
        text.contains("Cluster kind-sextant") && text.contains("Storage"),
        "{text}"
    );
    assert!(!text.contains("Tab: next"), "{text}");
}

#[test]
fn the_wall_in_plain_ascii_has_no_other_character() {
    let mut s = watching();
    s.state.ascii = true;
    let b = s.draw_at(120, 40);
    for y in 0..b.area.height {
        for x in 0..b.area.width {
            let sym = b[(x, y)].symbol();
            assert!(sym.is_ascii(), "{sym:?} at {x},{y}:\n{}", screen_text(&b));
        }
    }
    assert!(screen_text(&b).contains("SNAPSHOTS"));
}
