//! Where the panes and their list rows are on screen. Pure functions of the state, used
//! by the views to draw and by the reducer to know what a click hit, so both agree.
use crate::app::State;
use crate::app::cluster::Connection;
use crate::app::state::{Link, Pane, StorageState};
use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest terminal that shows a pane: its tab line, border, header, a few rows
/// and the status bar. Below it only a notice is drawn, and nothing takes clicks.
pub const MIN_COLS: u16 = 30;
pub const MIN_ROWS: u16 = 8;

pub fn too_small(cols: u16, rows: u16) -> bool {
    cols < MIN_COLS || rows < MIN_ROWS
}

/// The panes in a terminal of `cols` x `rows`, above the status bar. Zoomed, the
/// focused pane has it all; in a small terminal it has all but the tabs' line; in one
/// too small, there are none.
pub fn layout(cols: u16, rows: u16, zoom: bool, focus: Pane) -> Vec<(Pane, Rect)> {
    if too_small(cols, rows) {
        return Vec::new();
    }
    let [main, _bar] = Layout::vertical([Constraint::Min(1), Constraint::Length(1)])
        .areas(Rect::new(0, 0, cols, rows));
    // A small terminal shows one pane under a line of tabs.
    if crate::app::state::tabbed(cols, rows) {
        let [_tabs, rest] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(main);
        return vec![(focus, rest)];
    }
    if zoom {
        return vec![(focus, main)];
    }
    let [top, bottom] =
        Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(main);
    let [tl, tr] =
        Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(top);
    let [bl, br] =
        Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(bottom);
    vec![
        (Pane::Cluster, tl),
        (Pane::Git, tr),
        (Pane::Metrics, bl),
        (Pane::Storage, br),
    ]
}

/// The tabs of a small terminal, on the top row: each pane and its columns.
pub fn tabs() -> Vec<(Pane, u16, u16)> {
    let mut x = 0;
    Pane::ALL
        .iter()
        .map(|&p| {
            let w = p.title().len() as u16 + 2;
            x += w;
            (p, x - w, w)
        })
        .collect()
}

/// The tab under column `col` of the top row, in a small terminal.
pub fn tab_at(cols: u16, rows: u16, col: u16, row: u16) -> Option<Pane> {
    if row != 0 || !crate::app::state::tabbed(cols, rows) || too_small(cols, rows) {
        return None;
    }
    tabs()
        .into_iter()
        .find(|(_, x, w)| (*x..x + w).contains(&col))
        .map(|(p, _, _)| p)
}

/// The first row on screen of a list `height` rows high scrolled to keep `selected` in
/// view: the selection sits on the last row once it is past the first screenful.
pub fn first_row(selected: usize, height: usize) -> usize {
    (selected + 1).saturating_sub(height.max(1))
}

/// The cluster pane inside its border: watch errors, the tree table, Warning events.
pub fn cluster_parts(s: &State, inner: Rect) -> [Rect; 3] {
    let height = if !s.cluster.failing().is_empty() {
        3.min(inner.height / 2)
    } else {
        0
    };
    let [err, rest] =
        Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(inner);
    // The warnings strip takes up to a quarter of the pane, only when there are any.
    let warn_height = (s.cluster.warnings.len() as u16).min(rest.height / 4);
    let [table, warn] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(warn_height)]).areas(rest);
    [err, table, warn]
}

/// Node lines in the storage pane: None for none, else whether each node gets its own
/// line (when there is room) rather than one line for all.
pub fn node_lines(st: &StorageState, inner: Rect) -> Option<bool> {
    if st.nodes.is_empty() || inner.height < 4 {
        return None;
    }
    Some(inner.height as usize >= st.nodes.len() + 6 && inner.width >= 60)
}

/// The storage pane inside its border: the node summary, then the volume table.
pub fn storage_parts(st: &StorageState, inner: Rect) -> [Rect; 2] {
    let nodes = match node_lines(st, inner) {
        None => 0,
        Some(true) => st.nodes.len(),
        Some(false) => 1,
    } + usize::from(st.nodes_error.is_some());
    Layout::vertical([Constraint::Length(nodes as u16), Constraint::Min(0)]).areas(inner)
}

/// A list's rows on screen, below its header, and the index of the top one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ListRows {
    pub area: Rect,
    pub first: usize,
}

impl ListRows {
    /// The list index on screen row `row`, if a row of the list is there.
    pub fn at(&self, row: u16) -> Option<usize> {
        let r = row.checked_sub(self.area.y)?;
        (r < self.area.height).then_some(self.first + r as usize)
    }
}

fn below_header(table: Rect, selected: usize) -> ListRows {
    let area = Rect {
        y: table.y.saturating_add(1),
        height: table.height.saturating_sub(1),
        ..table
    };
    ListRows {
        area,
        first: first_row(selected, area.height as usize),
    }
}

/// The list a pane at `area` shows (tree, history or volumes), when it shows one.
pub fn list_rows(s: &State, pane: Pane, area: Rect) -> Option<ListRows> {
    let inner = area.inner(ratatui::layout::Margin::new(1, 1));
    match pane {
        Pane::Cluster => {
            let c = &s.cluster;
            if c.detail.is_some() || matches!(c.connection, Connection::Failed(_)) {
                return None;
            }
            Some(below_header(cluster_parts(s, inner)[1], c.selected))
        }
        Pane::Git => {
            let g = &s.git;
            let notice = (g.repo.is_none() || g.commits.is_empty()) && g.link != Link::Up;
            if g.diff.is_some() || notice {
                return None;
            }
            // The table has the block: the header is the first line inside the border.
            Some(below_header(inner, g.selected))
        }
        Pane::Storage => {
            let st = &s.storage;
            if st.details || st.cluster.is_none() && st.link != Link::Up {
                return None;
            }
            let lines = crate::app::storage::table(s);
            let selected = crate::app::storage::selected_index(s, &lines).unwrap_or(0);
            Some(below_header(storage_parts(st, inner)[1], selected))
        }
        Pane::Metrics => None,
    }
}

/// The pane under a terminal cell, and its list row there if it has one.
pub fn hit(s: &State, col: u16, row: u16) -> Option<(Pane, Option<usize>)> {
    let (pane, area) = layout(s.cols, s.rows, s.zoom, s.focus)
        .into_iter()
        .find(|(_, r)| r.contains((col, row).into()))?;
    let inside = area.inner(ratatui::layout::Margin::new(1, 1));
    let row_hit = list_rows(s, pane, area)
        .filter(|_| inside.contains((col, row).into()))
        .and_then(|l| l.at(row));
    Some((pane, row_hit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_panes_tile_the_screen_and_zoom_gives_one() {
        let panes = layout(100, 41, false, Pane::Cluster);
        assert_eq!(panes.len(), 4);
        assert_eq!(panes[0], (Pane::Cluster, Rect::new(0, 0, 55, 22)));
        assert_eq!(panes[3].0, Pane::Storage);
        let cells: u32 = panes.iter().map(|(_, r)| r.area()).sum();
        assert_eq!(cells, 100 * 40, "the status bar is the last row");
        assert_eq!(
            layout(100, 41, true, Pane::Git),
            vec![(Pane::Git, Rect::new(0, 0, 100, 40))]
        );
    }

    #[test]
    fn the_first_row_keeps_the_selection_on_screen() {
        assert_eq!(first_row(0, 10), 0);
        assert_eq!(first_row(9, 10), 0);
        assert_eq!(first_row(10, 10), 1);
        assert_eq!(first_row(3, 0), 3);
        let rows = ListRows {
            area: Rect::new(1, 5, 10, 4),
            first: 2,
        };
        assert_eq!(rows.at(4), None);
        assert_eq!(rows.at(5), Some(2));
        assert_eq!(rows.at(8), Some(5));
        assert_eq!(rows.at(9), None);
    }
}
