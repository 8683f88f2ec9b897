//! Clicks and the wheel through the reducer, in a 100 x 41 terminal: the cluster pane is
//! columns 0-54, rows 0-21 (its header on row 1, the tree from row 2), git is columns
//! 55-99 above, metrics and storage share rows 22-39 below.
use super::msg::{GitEvent, MouseKind, Msg, StorageEvent};
use super::state::{Pane, PxCluster};
use super::tests::{Harness, ch, commits, repo, volumes};

fn click(col: u16, row: u16) -> Msg {
    Msg::Mouse {
        kind: MouseKind::Click,
        col,
        row,
    }
}

fn wheel(down: bool, col: u16, row: u16) -> Msg {
    let kind = if down {
        MouseKind::WheelDown
    } else {
        MouseKind::WheelUp
    };
    Msg::Mouse { kind, col, row }
}

fn sized() -> Harness {
    let mut h = Harness::new(false, 0).with_cluster();
    h.send(Msg::Resize(100, 41));
    h
}

fn with_history(h: &mut Harness, n: usize) {
    h.send(Msg::Git(GitEvent::Opened(repo(&format!("{:040x}", 0)))));
    h.send(Msg::Git(GitEvent::Page {
        from: 0,
        commits: commits(0, n),
        more: false,
    }));
}

#[test]
fn a_click_focuses_the_pane_under_the_pointer() {
    let mut h = sized();
    for (col, row, pane) in [
        (70, 5, Pane::Git),
        (10, 30, Pane::Metrics),
        (80, 30, Pane::Storage),
        (54, 21, Pane::Cluster),
    ] {
        h.send(click(col, row));
        assert_eq!(h.state.focus, pane, "click at {col},{row}");
    }
    // The status bar is no pane.
    h.send(click(70, 40));
    assert_eq!(h.state.focus, Pane::Cluster);
}

#[test]
fn a_click_selects_the_tree_row_under_it() {
    let mut h = sized();
    h.select_web();
    assert_eq!(h.names(), ["monitoring", "shop", "db", "web"]);
    h.send(click(70, 5));
    h.send(click(10, 3));
    assert_eq!(h.state.focus, Pane::Cluster);
    assert_eq!(h.selected_name(), "shop");
    // The header and the border select nothing; below the last row neither.
    for row in [0, 1, 12] {
        h.send(click(10, row));
        assert_eq!(h.selected_name(), "shop", "row {row}");
    }
    h.send(click(10, 5));
    assert_eq!(h.selected_name(), "web");
}

#[test]
fn a_click_in_a_scrolled_history_selects_what_is_drawn_there() {
    let mut h = sized();
    with_history(&mut h, 50);
    h.send(click(70, 5));
    assert_eq!(h.state.git.selected, 3, "no scroll: row 5 is entry 3");
    // 19 rows show: with entry 30 selected the list starts at entry 12.
    h.state.git.selected = 30;
    h.send(click(70, 2));
    assert_eq!(h.state.git.selected, 12);
}

#[test]
fn a_click_selects_a_volume() {
    let mut h = sized();
    h.send(Msg::Storage(StorageEvent::Data {
        nodes: Ok(vec![]),
        cluster: PxCluster {
            name: "px-sim".into(),
            status: "STATUS_OK".into(),
        },
        volumes: volumes(5),
    }));
    // The table's header is on row 23, its first volume on row 24.
    h.send(click(60, 26));
    assert_eq!(h.state.focus, Pane::Storage);
    assert_eq!(h.state.storage.selected, 2);
    assert!(h.state.storage.selected_id.is_some());
}

#[test]
fn the_wheel_moves_the_selection_of_the_pane_under_it_by_three() {
    let mut h = sized();
    h.select_web();
    h.send(click(70, 5));
    h.quietly([ch('g')]);
    assert_eq!(h.state.git.selected, 0);
    // Over the cluster pane, while git has the focus: from web (row 3) to the top.
    h.send(wheel(false, 10, 10));
    assert_eq!(h.selected_name(), "monitoring");
    h.send(wheel(false, 10, 10));
    assert_eq!(h.selected_name(), "monitoring", "stops at the top");
    h.send(wheel(true, 10, 10));
    assert_eq!(h.selected_name(), "web");
    h.send(wheel(true, 10, 10));
    assert_eq!(h.selected_name(), "web", "stops at the bottom");
    assert_eq!(
        h.state.focus,
        Pane::Git,
        "the wheel does not move the focus"
    );
    with_history(&mut h, 50);
    h.send(wheel(true, 70, 10));
    h.send(wheel(true, 70, 10));
    assert_eq!(h.state.git.selected, 6);
}

#[test]
fn clicks_are_ignored_while_the_help_or_a_dialog_is_open() {
    let mut h = sized();
    h.quietly([ch('?')]);
    assert!(h.state.help);
    h.send(click(70, 5));
    h.send(wheel(true, 10, 5));
    assert_eq!(h.state.focus, Pane::Cluster);
    assert_eq!(h.state.cluster.selected, 0);
    assert!(h.state.help, "still open");
    h.quietly([ch('?')]);
    h.quietly([ch('/')]);
    h.send(click(70, 5));
    assert_eq!(h.state.focus, Pane::Cluster, "typing a filter");
}

#[test]
fn a_click_on_a_tab_of_a_small_terminal_focuses_that_pane() {
    use super::msg::{MouseKind, Msg};
    use super::state::Pane;
    let mut s = super::State::new(false, Vec::new(), 0);
    let k = super::keymap::Keymap::default();
    super::update(&mut s, &k, Msg::Resize(60, 20));
    // " Cluster " is columns 0-8, " Git " 9-13, " Metrics " 14-22, " Storage " 23-31.
    for (col, want) in [
        (10, Pane::Git),
        (20, Pane::Metrics),
        (25, Pane::Storage),
        (3, Pane::Cluster),
    ] {
        super::update(
            &mut s,
            &k,
            Msg::Mouse {
                kind: MouseKind::Click,
                col,
                row: 0,
            },
        );
        assert_eq!(s.focus, want, "column {col}");
    }
    // A big terminal has no tabs: the top row is the cluster pane's border.
    super::update(&mut s, &k, Msg::Resize(160, 45));
    super::update(
        &mut s,
        &k,
        Msg::Mouse {
            kind: MouseKind::Click,
            col: 150,
            row: 0,
        },
    );
    assert_eq!(s.focus, Pane::Git, "the git pane's border, top right");
}
