//! Clicks and the wheel. The panes and rows under the pointer come from `ui::layout`,
//! the same functions the views draw with, so a click lands where the eye sees it.
use super::msg::{Command, MouseKind};
use super::state::{Pane, State};
use super::{git, storage};
use crate::ui::layout;

/// Rows one wheel notch moves the selection.
pub const WHEEL_STEP: i64 = 3;

/// A dialog, the help or a line being typed has the keyboard: clicks would act behind it.
fn overlay(state: &State) -> bool {
    state.help
        || state.confirm.is_some()
        || state.input.is_some()
        || state.ops.open()
        || state.sync.commit.is_some()
        || state.sync.preview.is_some()
}

/// Returns whether it changed anything.
pub(super) fn event(
    state: &mut State,
    kind: MouseKind,
    col: u16,
    row: u16,
    out: &mut Vec<Command>,
) -> bool {
    if overlay(state) {
        return false;
    }
    if let Some(p) = layout::tab_at(state.cols, state.rows, col, row) {
        state.focus = p;
        return true;
    }
    let Some((pane, list_row)) = layout::hit(state, col, row) else {
        return false;
    };
    match kind {
        MouseKind::Click => {
            state.focus = pane;
            if let Some(i) = list_row {
                select(state, pane, i, out);
            }
        }
        MouseKind::WheelUp => scroll(state, pane, -WHEEL_STEP, out),
        MouseKind::WheelDown => scroll(state, pane, WHEEL_STEP, out),
    }
    true
}

/// Selects list row `i` of a pane; a click below the last row does nothing.
fn select(state: &mut State, pane: Pane, i: usize, out: &mut Vec<Command>) {
    match pane {
        Pane::Cluster => {
            if i < state.cluster.tree().len() {
                state.cluster.selected = i;
            }
        }
        Pane::Git => {
            if i < state.git.entries() {
                let delta = i as i64 - state.git.selected as i64;
                git::move_by(state, delta, out);
            }
        }
        Pane::Storage => {
            let lines = storage::table(state);
            let Some(at) = storage::selected_index(state, &lines) else {
                return;
            };
            if i < lines.len() {
                storage::move_by(state, i as i64 - at as i64);
            }
        }
        Pane::Metrics => {}
    }
}

/// The wheel moves the selection of the pane under the pointer, or scrolls its open
/// describe view or diff, as j/k would there.
fn scroll(state: &mut State, pane: Pane, delta: i64, out: &mut Vec<Command>) {
    if pane == Pane::Cluster
        && let Some(d) = state.cluster.detail.as_mut()
    {
        let len = d
            .lines
            .as_ref()
            .and_then(|l| l.as_ref().ok())
            .map_or(0, Vec::len);
        d.scroll = (d.scroll as i64 + delta).clamp(0, len.saturating_sub(1) as i64) as usize;
        return;
    }
    super::update::move_in(state, pane, delta, out);
}
