//! The reducer: state + message → state changes + commands. Pure: no IO, no clock.
use super::cluster::{Connection, Detail, Health, Kind, KindStatus, ObjRow};
use super::git;
use super::keymap::{Action, Keymap};
use super::metrics;
use super::mouse;
use super::msg::{ClusterEvent, Command, MetricsEvent, Msg, SyncEvent, View, WriteIntent};
use super::ops;
use super::state::{Confirm, Input, Link, Pane, State};
use super::storage;
use super::sync;
use super::tree::Item;
use crate::config::Scope;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// How many commits a history page holds.
pub const PAGE: usize = 200;
pub(super) const PAGE_STEP: usize = 10;

pub fn update(state: &mut State, keymap: &Keymap, msg: Msg) -> Vec<Command> {
    stamp(state, &msg);
    let mut out = Vec::new();
    match msg {
        Msg::Key(key) => {
            key_pressed(state, keymap, key, &mut out);
            metrics::follow_selection(state, &mut out);
        }
        Msg::Mouse { kind, col, row } => {
            if mouse::event(state, kind, col, row, &mut out) {
                state.dirty = true;
                metrics::follow_selection(state, &mut out);
            }
        }
        Msg::Resize(cols, rows) => {
            state.dirty = true;
            state.cols = cols;
            state.rows = rows;
            graph_for_size(state, cols, &mut out);
        }
        Msg::Tick(now) => {
            state.now = now;
            state.dirty = true;
            rotate(state, &mut out);
            // Kinds the tree does not watch (StorageClass, CRDs) can drift too.
            if state.git.repo.is_some() {
                out.push(Command::CheckDrift);
            }
        }
        Msg::Cluster(ev) => {
            if sync::affects_drift(state, &ev) {
                out.push(Command::CheckDrift);
            }
            // A (re)list can change what the selection scopes the panels to, as at
            // start, before any key; single events are too frequent to look each time.
            let listed = matches!(ev, ClusterEvent::Listed(..));
            // A restore a stopped sextant left half done is offered first thing.
            if matches!(ev, ClusterEvent::Connected { .. }) {
                out.push(Command::FindUnfinished);
            }
            cluster_event(state, ev);
            if listed {
                metrics::follow_selection(state, &mut out);
            }
        }
        Msg::Sync(ev) => {
            if let SyncEvent::Progress(id, line) = &ev {
                ops::progress(state, *id, line);
            }
            sync::event(state, ev)
        }
        Msg::Git(ev) => git::event(state, ev),
        Msg::Metrics(MetricsEvent::Extra(extra)) => {
            // New panels go first: ask again, for the index the poller echoes moved.
            let m = &mut state.metrics;
            let new: Vec<_> = extra
                .into_iter()
                .filter(|g| !m.graphs.contains(g))
                .collect();
            let n = new.len();
            m.graphs.splice(0..0, new);
            m.current += n;
            m.shown = m.shown.map(|s| s + n);
            state.dirty = true;
            metrics::show(state, &mut out);
        }
        Msg::Metrics(ev) => metrics_event(state, ev),
        Msg::Storage(ev) => storage::event(state, ev),
        Msg::Done(id, result) => {
            state.pending.remove(&id);
            sync::done(state, id, &result, &mut out);
            ops::done(state, id, &result, &mut out);
            state.flash = Some(match result {
                Ok(s) => (true, s),
                Err(e) => (false, e),
            });
            state.dirty = true;
        }
        Msg::Fault(text) => {
            state.flash = Some((false, text));
            state.dirty = true;
        }
    }
    out
}

/// The plot width the metrics pane gets in a terminal of this size.
pub fn graph_width(cols: u16, zoomed: bool) -> u16 {
    let pane = if zoomed { cols } else { cols * 45 / 100 };
    pane.saturating_sub(12).max(10)
}

fn graph_for_size(state: &mut State, cols: u16, out: &mut Vec<Command>) {
    let width = graph_width(cols, state.zoomed() && state.focus == Pane::Metrics);
    // Only a real change of width asks for new data: the step follows the width.
    if width != state.metrics.width && !state.metrics.graphs.is_empty() {
        state.metrics.width = width;
        metrics::show(state, out);
    }
}

fn key_pressed(state: &mut State, keymap: &Keymap, key: KeyEvent, out: &mut Vec<Command>) {
    if key.kind == KeyEventKind::Release {
        return;
    }
    let was_dirty = state.dirty;
    state.dirty = true;
    // Raw mode swallows SIGINT: Ctrl-C quits from anywhere, dialogs included.
    if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
        state.quit = true;
        return;
    }
    // Keys go to the topmost layer, in the order the view draws them.
    if let Some(confirm) = state.confirm.take() {
        match key.code {
            KeyCode::Char('y') | KeyCode::Enter => {
                if let WriteIntent::Revert { restore, .. } = &confirm.intent {
                    state.sync.paired = restore.clone();
                }
                run_write(state, confirm.intent, out);
            }
            KeyCode::Char('n') | KeyCode::Esc | KeyCode::Char('q') => {
                state.flash = Some((true, "cancelled".into()))
            }
            _ => state.confirm = Some(confirm),
        }
        return;
    }
    if state.ops.open() {
        if let Some(intent) = ops::key(state, key, out)
            && let Some(id) = run_write(state, intent, out)
        {
            ops::started(state, id);
        }
        return;
    }
    if state.sync.commit.is_some() {
        if let Some(intent) = sync::commit_key(state, key) {
            run_write(state, intent, out);
        }
        return;
    }
    if state.sync.preview.is_some() {
        if let Some(intent) = sync::preview_key(state, key) {
            let id = run_write(state, intent, out);
            if let (Some(p), Some(id)) = (state.sync.preview.as_mut(), id) {
                p.running = Some(id);
            }
        }
        return;
    }
    if state.help {
        // Whatever keys open the help and quit also close it.
        let closes = matches!(
            keymap.lookup(&key, state.focus),
            Some(Action::Help | Action::Quit)
        );
        if key.code == KeyCode::Esc || closes {
            state.help = false;
        }
        return;
    }
    if let Some(input) = state.input.take() {
        typed(state, input, key, out);
        return;
    }
    if state.cluster.detail.is_some() && state.focus == Pane::Cluster && detail_key(state, key, out)
    {
        return;
    }
    if key.code == KeyCode::Esc && state.focus == Pane::Git && state.git.diff.is_some() {
        git::close_diff(&mut state.git);
        return;
    }
    if key.code == KeyCode::Esc && state.focus == Pane::Storage && storage::close_details(state) {
        return;
    }
    if key.code == KeyCode::Esc {
        state.zoom = false;
        state.flash = None;
        state.cluster.filter.clear();
        storage::set_filter(state, "");
        graph_for_size(state, state.cols, out);
        return;
    }
    let Some(action) = keymap.lookup(&key, state.focus) else {
        // Nothing changed, but a redraw asked for earlier still stands.
        state.dirty = was_dirty;
        return;
    };
    if keymap.is_write(action) && state.read_only {
        state.flash = Some((false, "read-only mode: writes are disabled".into()));
        return;
    }
    // Snapshot and restore ask `ops::refusal`, which says this and more.
    let cluster_write = matches!(action, Action::Restart | Action::Sync | Action::Rollback);
    if let Some(why) = state.cluster.writes_blocked().filter(|_| cluster_write) {
        state.flash = Some((false, why));
        return;
    }
    match action {
        Action::Quit => state.quit = true,
        Action::Help => state.help = true,
        Action::NextPane | Action::PrevPane => {
            let i = Pane::ALL
                .iter()
                .position(|p| *p == state.focus)
                .unwrap_or(0);
            let n = Pane::ALL.len();
            let next = if action == Action::NextPane {
                (i + 1) % n
            } else {
                (i + n - 1) % n
            };
            state.focus = Pane::ALL[next];
            graph_for_size(state, state.cols, out);
        }
        Action::Zoom => {
            state.zoom = !state.zoom;
            graph_for_size(state, state.cols, out);
        }
        Action::Up => move_by(state, -1, out),
        Action::Down => move_by(state, 1, out),
        Action::PageUp => move_by(state, -(PAGE_STEP as i64), out),
        Action::PageDown => move_by(state, PAGE_STEP as i64, out),
        Action::Top => move_by(state, i64::MIN / 2, out),
        Action::Bottom => move_by(state, i64::MAX / 2, out),
        Action::Expand | Action::Collapse => {
            expand(state, action == Action::Expand, key.code == KeyCode::Enter)
        }
        Action::NextGraph | Action::PrevGraph => {
            let n = state.metrics.graphs.len();
            if n > 0 {
                let c = state.metrics.current;
                state.metrics.current = if action == Action::NextGraph {
                    (c + 1) % n
                } else {
                    (c + n - 1) % n
                };
                metrics::show(state, out);
            }
        }
        Action::Refresh if ops::ask_restore(state, out) => {}
        Action::Refresh => {
            out.push(Command::RefreshStorage);
            if !state.metrics.graphs.is_empty() {
                metrics::show(state, out);
            }
        }
        Action::Describe | Action::Yaml => {
            let view = if action == Action::Describe {
                View::Describe
            } else {
                View::Yaml
            };
            open_detail(state, view, out);
        }
        Action::Filter => {
            let text = if state.focus == Pane::Storage {
                &state.storage.filter
            } else {
                &state.cluster.filter
            };
            state.input = Some(Input {
                command: false,
                text: text.clone(),
            })
        }
        Action::Details => storage::toggle_details(state),
        Action::Sort => storage::cycle_sort(state),
        Action::CommandLine => {
            state.input = Some(Input {
                command: true,
                text: String::new(),
            })
        }
        Action::ZoomIn | Action::ZoomOut => metrics::zoom(state, action == Action::ZoomOut, out),
        Action::NextMark | Action::PrevMark => {
            metrics::step_marker(state, action == Action::NextMark)
        }
        Action::OpenMark => metrics::open_marker(state, out),
        Action::NextUnhealthy => {
            let tree = state.cluster.tree();
            let n = tree.len();
            let from = state.cluster.selected;
            let next = (1..=n)
                .map(|i| (from + i) % n.max(1))
                .find(|&i| !matches!(tree[i].health, Health::Healthy) && tree[i].item == Item::Row);
            match next {
                Some(i) => state.cluster.selected = i,
                None => state.flash = Some((true, "nothing unhealthy in view".into())),
            }
        }
        Action::OpenDiff => git::open_diff(state, out),
        Action::CloseDiff => git::close_diff(&mut state.git),
        Action::NextFile | Action::PrevFile => git::jump_file(state, action == Action::NextFile),
        Action::SplitDiff => state.git.split = !state.git.split,
        Action::Sync => sync::ask_plan(state, sync::sync_target(state), out),
        Action::Rollback => sync::ask_rollback(state),
        Action::Snapshot => ops::ask_snapshot(state),
        Action::Commit => {
            state.sync.waiting = Some("listing changed files".into());
            out.push(Command::ListChanges);
        }
        Action::Push => {
            state.confirm = Some(Confirm {
                intent: WriteIntent::Push,
            })
        }
        Action::Edit => match state.cluster.tree().get(state.cluster.selected) {
            Some(line) if line.item == Item::Row && !line.key.2.is_empty() => {
                out.push(Command::Edit {
                    key: line.key.clone(),
                })
            }
            _ => state.flash = Some((false, "select an object to edit its manifest".into())),
        },
        Action::Restart => {
            let tree = state.cluster.tree();
            match tree.get(state.cluster.selected) {
                Some(line) if line.key.0.is_workload() => {
                    let (kind, namespace, name) = line.key.clone();
                    state.confirm = Some(Confirm {
                        intent: WriteIntent::Restart {
                            kind,
                            namespace,
                            name,
                        },
                    });
                }
                _ => {
                    state.flash = Some((
                        false,
                        "select a Deployment, StatefulSet or DaemonSet to restart".into(),
                    ))
                }
            }
        }
    }
}

/// Opens the describe or YAML view of the selected object and asks for it.
fn open_detail(state: &mut State, view: View, out: &mut Vec<Command>) {
    let tree = state.cluster.tree();
    match tree.get(state.cluster.selected) {
        Some(line) if line.item != Item::Row || line.key.2.is_empty() => {}
        Some(line) => {
            let key = line.key.clone();
            state.cluster.detail = Some(Detail {
                key: key.clone(),
                view,
                lines: None,
                scroll: 0,
            });
            out.push(Command::Fetch { key, view });
        }
        None => {}
    }
}

/// Keys while a describe or YAML view is open. Returns false for keys it leaves to the
/// keymap (Tab, q, ?, ...).
fn detail_key(state: &mut State, key: KeyEvent, out: &mut Vec<Command>) -> bool {
    let Some(d) = state.cluster.detail.as_mut() else {
        return false;
    };
    let len = d
        .lines
        .as_ref()
        .and_then(|l| l.as_ref().ok())
        .map_or(0, Vec::len);
    match key.code {
        KeyCode::Esc => state.cluster.detail = None,
        KeyCode::Char('j') | KeyCode::Down => d.scroll = clamp_move(d.scroll, len, 1),
        KeyCode::Char('k') | KeyCode::Up => d.scroll = clamp_move(d.scroll, len, -1),
        KeyCode::PageDown | KeyCode::Char('f') | KeyCode::Char(' ') => {
            d.scroll = clamp_move(d.scroll, len, 20)
        }
        KeyCode::PageUp | KeyCode::Char('b') => d.scroll = clamp_move(d.scroll, len, -20),
        KeyCode::Char('g') | KeyCode::Home => d.scroll = 0,
        KeyCode::Char('G') | KeyCode::End => d.scroll = len.saturating_sub(1),
        KeyCode::Char(c @ ('d' | 'y')) => {
            let view = if c == 'd' { View::Describe } else { View::Yaml };
            let key = d.key.clone();
            *d = Detail {
                key: key.clone(),
                view,
                lines: None,
                scroll: 0,
            };
            out.push(Command::Fetch { key, view });
        }
        _ => return false,
    }
    true
}

/// A key while the `/` filter or a `:` command is being typed.
fn typed(state: &mut State, mut input: Input, key: KeyEvent, out: &mut Vec<Command>) {
    match key.code {
        KeyCode::Esc => {
            match (input.command, state.focus) {
                (true, _) => {}
                (false, Pane::Storage) => storage::set_filter(state, ""),
                (false, _) => state.cluster.filter.clear(),
            }
            return;
        }
        KeyCode::Enter => {
            if input.command {
                run_command(state, input.text.trim(), out);
            }
            return;
        }
        KeyCode::Backspace => {
            input.text.pop();
        }
        KeyCode::Char(c) => input.text.push(c),
        _ => {}
    }
    // The filter applies as it is typed.
    match (input.command, state.focus) {
        (true, _) => {}
        (false, Pane::Storage) => storage::set_filter(state, &input.text),
        (false, _) => {
            state.cluster.filter = input.text.clone();
            state.cluster.selected = 0;
        }
    }
    state.input = Some(input);
}

/// `:ns NAME`, `:ns all`, `:ctx NAME`, `:q`.
fn run_command(state: &mut State, text: &str, out: &mut Vec<Command>) {
    // `:q <promql>` adds a panel; the rest of the line is the query, spaces and all.
    if let Some(q) = text
        .trim()
        .strip_prefix("q ")
        .map(str::trim)
        .filter(|q| !q.is_empty())
    {
        state.focus = Pane::Metrics;
        metrics::add_query(state, q, out);
        return;
    }
    let mut words = text.split_whitespace();
    let (verb, arg) = (words.next().unwrap_or(""), words.next());
    let connected_context = match &state.cluster.connection {
        Connection::Connected { context, .. } => Some(context.clone()),
        _ => None,
    };
    let switch = match (verb, arg) {
        ("ns" | "namespace", Some("all")) => Some((connected_context, Scope::All)),
        ("ns" | "namespace", Some(ns)) => {
            Some((connected_context, Scope::Namespace(ns.to_string())))
        }
        ("ctx" | "context", Some(ctx)) => Some((Some(ctx.to_string()), Scope::FromContext)),
        ("q" | "quit", None) => {
            state.quit = true;
            None
        }
        _ => {
            state.flash = Some((
                false,
                format!("unknown command :{text} (try :ns NAME, :ns all, :ctx NAME)"),
            ));
            None
        }
    };
    if let Some((context, scope)) = switch {
        let c = &mut state.cluster;
        c.clear();
        c.expanded.clear();
        c.selected = 0;
        c.connection = Connection::Connecting;
        out.push(Command::SwitchScope { context, scope });
    }
}

/// Hands a confirmed write to the executor; its id, unless read-only refused it.
fn run_write(state: &mut State, intent: WriteIntent, out: &mut Vec<Command>) -> Option<u64> {
    if state.read_only {
        state.flash = Some((false, "read-only mode: writes are disabled".into()));
        return None;
    }
    let id = state.next_id;
    state.next_id += 1;
    state.pending.insert(id, intent.describe());
    out.push(Command::Write { id, intent });
    Some(id)
}

fn clamp_move(selected: usize, len: usize, delta: i64) -> usize {
    if len == 0 {
        return 0;
    }
    (selected as i64)
        .saturating_add(delta)
        .clamp(0, len as i64 - 1) as usize
}

fn move_by(state: &mut State, delta: i64, out: &mut Vec<Command>) {
    move_in(state, state.focus, delta, out)
}

/// Moves the selection of a pane, focused or not (the wheel scrolls the pane under it).
pub(super) fn move_in(state: &mut State, pane: Pane, delta: i64, out: &mut Vec<Command>) {
    match pane {
        Pane::Cluster => {
            let len = state.cluster.tree().len();
            state.cluster.selected = clamp_move(state.cluster.selected, len, delta);
        }
        Pane::Git => git::move_by(state, delta, out),
        Pane::Storage => storage::move_by(state, delta),
        Pane::Metrics => {}
    }
}

fn expand(state: &mut State, open: bool, toggle: bool) {
    let tree = state.cluster.tree();
    let Some(line) = tree.get(state.cluster.selected) else {
        return;
    };
    let selected = state.cluster.selected;
    let c = &mut state.cluster;
    if toggle && line.expanded {
        c.expanded.remove(&line.key);
    } else if open && line.expandable {
        c.expanded.insert(line.key.clone());
    } else if !open {
        if line.expanded {
            c.expanded.remove(&line.key);
        } else if let Some(parent) = tree[..selected].iter().rposition(|l| l.depth < line.depth) {
            // h on a leaf goes to its parent, as in a file tree.
            c.selected = parent;
        }
    }
}

/// Drift, plans and the record belong to the cluster they came from. A running sync
/// keeps its window, so its outcome is still seen.
fn forget_sync(s: &mut sync::SyncState, g: &mut super::state::GitState) {
    let running = s.preview.take().filter(|p| p.running.is_some());
    *s = sync::SyncState {
        preview: running,
        commit: s.commit.take(),
        ..Default::default()
    };
    g.synced = None;
    g.synced_row = None;
}

fn cluster_event(state: &mut State, ev: ClusterEvent) {
    let c = &mut state.cluster;
    // The cursor stays on its object when lines appear or go above it.
    let selected = c
        .tree()
        .get(c.selected)
        .map(|l| (l.key.clone(), l.item.clone()));
    state.dirty = true;
    match ev {
        ClusterEvent::Connected {
            context,
            server,
            namespace,
        } => {
            // Anything the old scope's watchers sent is queued before this.
            c.clear();
            forget_sync(&mut state.sync, &mut state.git);
            c.connection = Connection::Connected { context, server };
            c.namespace = namespace.clone();
            if let Some(ns) = namespace {
                c.expanded.insert((Kind::Namespace, String::new(), ns));
            }
        }
        ClusterEvent::ConfigFailed(e) => {
            c.clear();
            forget_sync(&mut state.sync, &mut state.git);
            c.connection = Connection::Failed(e);
        }
        ClusterEvent::Listed(kind, rows) => {
            c.rows.retain(|k, _| k.0 != kind);
            c.rows.extend(rows.into_iter().map(|r| (r.key(), r)));
            c.kinds.insert(kind, KindStatus::Ready);
        }
        ClusterEvent::Applied(row) => {
            c.kinds.insert(row.kind(), KindStatus::Ready);
            c.rows.insert(row.key(), row);
        }
        ClusterEvent::Deleted(kind, ns, name) => {
            c.rows.remove(&(kind, ns, name));
        }
        ClusterEvent::WatchFailed(kind, e, at) => {
            c.kinds.insert(kind, KindStatus::Error(e));
            c.stale_since.get_or_insert(at);
        }
        ClusterEvent::Forbidden(kind) => {
            c.kinds.insert(kind, KindStatus::Forbidden);
            c.rows.retain(|k, _| k.0 != kind);
            // A user who may not list namespaces still works in their own.
            if let (Kind::Namespace, Some(ns)) = (kind, &c.namespace) {
                let row = ObjRow {
                    kind: Some(Kind::Namespace),
                    name: ns.clone(),
                    detail: "(namespaces forbidden)".into(),
                    ..Default::default()
                };
                c.rows.insert(row.key(), row);
            }
        }
        ClusterEvent::NotServed(kind) => {
            c.kinds.insert(kind, KindStatus::NotServed);
        }
        ClusterEvent::Detail { key, view, result } => {
            if let Some(d) = c.detail.as_mut().filter(|d| d.key == key && d.view == view) {
                d.lines = Some(result);
            }
        }
        ClusterEvent::WarningsListed(ws) => {
            c.warnings.clear();
            for w in ws {
                c.add_warning(w);
            }
        }
        ClusterEvent::Warning(w) => c.add_warning(w),
    }
    if c.failing().is_empty() {
        c.stale_since = None;
    }
    let tree = c.tree();
    c.selected = selected
        .and_then(|(k, item)| tree.iter().position(|l| l.key == k && l.item == item))
        .unwrap_or(c.selected)
        .min(tree.len().saturating_sub(1));
}

fn metrics_event(state: &mut State, ev: MetricsEvent) {
    let m = &mut state.metrics;
    match ev {
        // A refresh within the same step brings the same points: no frame.
        MetricsEvent::Data {
            graph,
            start,
            end,
            step,
            series,
            left_out,
        } if m.link == Link::Up
            && m.error.is_none()
            && m.shown == Some(graph)
            && m.start == start
            && m.end == end
            && m.step == step
            && m.left_out == left_out
            && m.series == series => {}
        MetricsEvent::Data {
            graph,
            start,
            end,
            step,
            series,
            left_out,
        } => {
            m.shown = Some(graph);
            m.start = start;
            m.end = end;
            m.step = step;
            m.error = None;
            m.series = series;
            m.left_out = left_out;
            m.link = Link::Up;
            state.dirty = true;
        }
        MetricsEvent::Failed(e) => {
            state.dirty |= m.link != Link::Down(e.clone());
            m.link = Link::Down(e);
        }
        // Prometheus is fine; this panel's query is not. Its last data stays.
        MetricsEvent::QueryFailed { graph, error } if graph == m.current => {
            state.dirty |= m.error.as_ref() != Some(&error) || m.link != Link::Up;
            m.error = Some(error);
            m.link = Link::Up;
        }
        MetricsEvent::QueryFailed { .. } => {}
        // Handled in `update`, which can ask for the panel again.
        MetricsEvent::Extra(_) => {}
    }
}

/// Watch mode: when each source last answered, and the cluster link.
fn stamp(state: &mut State, msg: &Msg) {
    use super::watch::Source;
    let now = state.now;
    let w = &mut state.watch;
    match msg {
        Msg::Cluster(ClusterEvent::ConfigFailed(e)) => w.kube_link = Link::Down(e.clone()),
        Msg::Cluster(ClusterEvent::WatchFailed(_, e, _)) => w.kube_link = Link::Down(e.clone()),
        Msg::Cluster(ClusterEvent::Detail { .. }) => {}
        Msg::Cluster(_) => {
            w.kube_link = Link::Up;
            w.answered(Source::Kube, now);
        }
        Msg::Git(super::msg::GitEvent::Failed(_)) => {}
        Msg::Git(_) => w.answered(Source::Git, now),
        Msg::Metrics(MetricsEvent::Data { .. }) => w.answered(Source::Prometheus, now),
        Msg::Storage(super::msg::StorageEvent::Data { .. }) => w.answered(Source::Portworx, now),
        _ => {}
    }
}

/// Watch mode: the next graph every ROTATE_EVERY seconds, so a wall shows them all.
fn rotate(state: &mut State, out: &mut Vec<Command>) {
    let w = &mut state.watch;
    let n = state.metrics.graphs.len();
    if !w.on || n < 2 || state.now - w.rotated < super::watch::ROTATE_EVERY {
        return;
    }
    w.rotated = state.now;
    state.metrics.current = (state.metrics.current + 1) % n;
    metrics::show(state, out);
}
