//! The reducer's git part: history paging, sync marks, the working-tree entry and the
//! diff viewer. Pure, like the rest of the reducer.
use super::diff::DiffTarget;
use super::msg::{Command, GitEvent};
use super::state::{DiffView, Entry, GitState, Link, State, git_pane_size};

use super::update::PAGE_STEP;
use std::sync::Arc;

pub(super) fn event(state: &mut State, ev: GitEvent) {
    let g = &mut state.git;
    state.dirty = true;
    match ev {
        GitEvent::Opened(info) => {
            // A new HEAD: the history is reloaded from the top.
            if g.repo.as_ref().map(|r| &r.head) != Some(&info.head) {
                g.commits.clear();
                g.selected = 0;
            }
            // Up only with its first page: the first complete frame shows history.
            g.repo = Some(info);
        }
        GitEvent::Page {
            from,
            commits,
            more,
        } => {
            g.commits.truncate(from);
            g.commits.extend(commits);
            g.more = more;
            g.loading = false;
            g.link = Link::Up;
        }
        GitEvent::Failed(e) => {
            g.loading = false;
            g.link = Link::Down(e);
        }
        GitEvent::Synced(record) => g.synced = record,
        GitEvent::WorkTree(files) => {
            // The cursor stays on its commit when the entry above it comes or goes.
            let before = g.offset();
            g.worktree = files;
            if g.selected > 0 {
                g.selected = g.selected + g.offset() - before;
            }
        }
        GitEvent::Diff { target, result } => {
            if let Some(v) = g.diff.as_mut().filter(|v| v.target == target) {
                v.diff = Some(result);
            }
        }
        GitEvent::DiffMore {
            target,
            from,
            result,
        } => {
            if let Some(v) = g.diff.as_mut().filter(|v| v.target == target) {
                v.loading = false;
                match (v.diff.as_mut(), result) {
                    (Some(Ok(d)), Ok(page)) if d.bytes() == from && d.more => {
                        // The file list above the diff grows: the same line stays on top.
                        let head = d.head();
                        let d = Arc::make_mut(d);
                        d.extend(&page.text);
                        d.more = page.more;
                        if v.top >= head {
                            v.top += d.head() - head;
                        }
                    }
                    (Some(Ok(d)), Err(e)) => {
                        Arc::make_mut(d).more = false;
                        state.flash = Some((false, format!("the rest of the diff: {e}")));
                    }
                    _ => {}
                }
            }
        }
    }
    g.synced_row = g
        .synced
        .as_ref()
        .and_then(|s| g.commits.iter().position(|c| c.id == s.commit));
    g.selected = g.selected.min(g.entries().saturating_sub(1));
}

/// j/k, pages, g/G: scroll an open diff, else move through the history and load the
/// next page when the cursor nears the end of what is loaded.
pub(super) fn move_by(state: &mut State, delta: i64, out: &mut Vec<Command>) {
    let (width, height) = pane_size(state);
    let body = height.saturating_sub(2) as usize;
    let g = &mut state.git;
    let split = g.split_at(width);
    if let Some(v) = g.diff.as_mut() {
        let Some(Ok(d)) = &v.diff else { return };
        // The update passes ±PAGE_STEP for a page: in a diff a page is a screenful.
        let delta = if delta.abs() == PAGE_STEP as i64 {
            delta.signum() * body.max(1) as i64
        } else {
            delta
        };
        // Positions are kept in the unified layout, so `w` keeps the place.
        let at = if split { d.to_split(v.top) } else { v.top };
        let last = d.len(split).saturating_sub(body);
        let to = clamp_move(at, last + 1, delta);
        v.top = if split { d.to_unified(to) } else { to };
        // A long diff comes a page at a time: the next when two screens are left.
        if d.more && !v.loading && to + body * 3 >= d.len(split) {
            v.loading = true;
            out.push(Command::MoreDiff {
                target: v.target.clone(),
                from: d.bytes(),
            });
        }
        return;
    }
    g.selected = clamp_move(g.selected, g.entries(), delta);
    let seen = g.selected.saturating_sub(g.offset());
    if g.more && !g.loading && seen + PAGE_STEP * 2 >= g.commits.len() {
        g.loading = true;
        out.push(Command::LoadCommits {
            from: g.commits.len(),
        });
    }
}

/// The git pane's width and height, as ui::draw lays it out.
fn pane_size(state: &State) -> (u16, u16) {
    let zoomed = state.zoomed() && state.focus == super::state::Pane::Git;
    git_pane_size(state.cols, state.rows, zoomed)
}

pub(super) fn open_diff(state: &mut State, out: &mut Vec<Command>) {
    let g = &mut state.git;
    if g.diff.is_some() {
        return;
    }
    let (target, title) = match g.entry(g.selected) {
        Some(Entry::WorkTree(n)) => (DiffTarget::WorkTree, format!("working tree ({n} files)")),
        Some(Entry::Commit(c)) => (
            DiffTarget::Commit(c.id.clone()),
            format!("{} {}", crate::engine::short(&c.id, 7), c.summary),
        ),
        None => return,
    };
    g.diff = Some(DiffView {
        target: target.clone(),
        title,
        diff: None,
        top: 0,
        loading: false,
    });
    out.push(Command::LoadDiff(target));
}

pub(super) fn close_diff(g: &mut GitState) {
    g.diff = None;
}

/// `]` and `[`: the next or previous file's header to the top, as far as the last
/// screenful allows.
pub(super) fn jump_file(state: &mut State, forward: bool) {
    let (width, height) = pane_size(state);
    let body = height.saturating_sub(2) as usize;
    let split = state.git.split_at(width);
    let Some(v) = state.git.diff.as_mut() else {
        return;
    };
    let Some(Ok(d)) = &v.diff else { return };
    let top = v.top;
    let next = if forward {
        d.file_starts().find(|&p| p > top)
    } else {
        d.file_starts().filter(|&p| p < top).last()
    };
    if let Some(p) = next {
        let last = d.len(split).saturating_sub(body);
        v.top = if split {
            d.to_unified(d.to_split(p).min(last))
        } else {
            p.min(last)
        };
    }
}

fn clamp_move(at: usize, len: usize, delta: i64) -> usize {
    if len == 0 {
        return 0;
    }
    (at as i64).saturating_add(delta).clamp(0, len as i64 - 1) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::diff::{Diff, DiffPage};

    const PAGE_1: &str =
        "diff --git a/a.yaml b/a.yaml\n--- a/a.yaml\n+++ b/a.yaml\n@@ -1,2 +1,2 @@\n-a: 1\n";
    const PAGE_2: &str = "+a: 2\n diff: end\n";

    /// A diff view whose first page says more follows.
    fn viewing() -> (State, DiffTarget) {
        let mut s = State::new(false, Vec::new(), 0);
        let target = DiffTarget::Commit("a".repeat(40));
        let mut d = Diff::parse(PAGE_1.into());
        d.more = true;
        s.git.diff = Some(DiffView {
            target: target.clone(),
            title: "t".into(),
            diff: Some(Ok(Arc::new(d))),
            top: 0,
            loading: true,
        });
        (s, target)
    }

    fn more(target: &DiffTarget, from: usize, result: Result<DiffPage, String>) -> GitEvent {
        GitEvent::DiffMore {
            target: target.clone(),
            from,
            result,
        }
    }

    fn shown(s: &State) -> &Diff {
        s.git
            .diff
            .as_ref()
            .unwrap()
            .diff
            .as_ref()
            .unwrap()
            .as_ref()
            .unwrap()
    }

    #[test]
    fn a_page_joins_only_where_the_diff_ends_and_pairs_across_the_join() {
        let (mut s, target) = viewing();
        let page = |t: &str, more| {
            Ok(DiffPage {
                text: t.into(),
                more,
            })
        };
        // For another diff, or not where this one ends: dropped.
        let other = DiffTarget::WorkTree;
        event(&mut s, more(&other, PAGE_1.len(), page(PAGE_2, false)));
        event(&mut s, more(&target, 3, page(PAGE_2, false)));
        assert_eq!(shown(&s).bytes(), PAGE_1.len());
        event(&mut s, more(&target, PAGE_1.len(), page(PAGE_2, false)));
        let whole = Diff::parse(format!("{PAGE_1}{PAGE_2}"));
        assert!(*shown(&s) == whole, "{:?}", shown(&s));
        assert!(!s.git.diff.as_ref().unwrap().loading);
        // The removed line on page one faces the added line on page two.
        assert_eq!(shown(&s).rows[4].left, Some(4));
        assert_eq!(shown(&s).rows[4].right, Some(5));
    }

    #[test]
    fn a_page_that_fails_keeps_what_was_loaded_and_says_why() {
        let (mut s, target) = viewing();
        event(&mut s, more(&target, PAGE_1.len(), Err("gone".into())));
        assert_eq!(shown(&s).bytes(), PAGE_1.len());
        assert!(!shown(&s).more, "no more is asked for");
        assert_eq!(
            s.flash,
            Some((false, "the rest of the diff: gone".to_string()))
        );
    }
}
