//! Keys as data: the reducer looks actions up here and the help overlay lists them.
use super::state::Pane;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Quit,
    Help,
    NextPane,
    PrevPane,
    Zoom,
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Expand,
    Collapse,
    NextGraph,
    PrevGraph,
    Refresh,
    Restart,
    Describe,
    Yaml,
    Filter,
    CommandLine,
    NextUnhealthy,
    ZoomIn,
    ZoomOut,
    NextMark,
    PrevMark,
    OpenMark,
    Sync,
    Rollback,
    Edit,
    Commit,
    Push,
    Snapshot,
    OpenDiff,
    CloseDiff,
    SplitDiff,
    NextFile,
    PrevFile,
    Details,
    Sort,
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub keys: Vec<KeyCode>,
    pub action: Action,
    /// The pane it works in; None for everywhere.
    pub pane: Option<Pane>,
    /// Needs the write capability; hidden and refused in read-only mode.
    pub writes: bool,
    pub help: &'static str,
}

#[derive(Clone, Debug)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

fn b(keys: &[KeyCode], action: Action, pane: Option<Pane>, help: &'static str) -> Binding {
    Binding {
        keys: keys.to_vec(),
        action,
        pane,
        writes: false,
        help,
    }
}

impl Default for Keymap {
    fn default() -> Self {
        use KeyCode::*;
        let mut bindings = vec![
            b(&[Char('q')], Action::Quit, None, "quit"),
            b(&[Char('?')], Action::Help, None, "show or hide this help"),
            b(&[Tab], Action::NextPane, None, "focus the next pane"),
            b(
                &[BackTab],
                Action::PrevPane,
                None,
                "focus the previous pane",
            ),
            b(&[Char('z')], Action::Zoom, None, "zoom the focused pane"),
            b(&[Char('j'), Down], Action::Down, None, "move down"),
            b(&[Char('k'), Up], Action::Up, None, "move up"),
            b(&[PageDown, Char('f')], Action::PageDown, None, "page down"),
            b(&[PageUp, Char('b')], Action::PageUp, None, "page up"),
            b(&[Char('g'), Home], Action::Top, None, "go to the top"),
            b(&[Char('G'), End], Action::Bottom, None, "go to the bottom"),
            b(
                &[Enter, Char('l'), Right],
                Action::Expand,
                Some(Pane::Cluster),
                "expand (Enter toggles)",
            ),
            b(
                &[Char('h'), Left],
                Action::Collapse,
                Some(Pane::Cluster),
                "collapse",
            ),
            b(
                &[Char(']'), Char('l'), Right],
                Action::NextGraph,
                Some(Pane::Metrics),
                "next graph",
            ),
            b(
                &[Char('['), Char('h'), Left],
                Action::PrevGraph,
                Some(Pane::Metrics),
                "previous graph",
            ),
            b(
                &[Char('r')],
                Action::Refresh,
                None,
                "refresh metrics and storage now; on a snapshot: restore from it",
            ),
            b(
                &[Char('d')],
                Action::Describe,
                Some(Pane::Cluster),
                "describe the selected object",
            ),
            b(
                &[Char('y')],
                Action::Yaml,
                Some(Pane::Cluster),
                "YAML of the selected object (secrets redacted)",
            ),
            b(
                &[Char('/')],
                Action::Filter,
                Some(Pane::Cluster),
                "filter: name, l:key=value, s:unhealthy",
            ),
            b(
                &[Char('/')],
                Action::Filter,
                Some(Pane::Storage),
                "filter volumes: claim, PV, id, node, state",
            ),
            b(
                &[Enter],
                Action::Details,
                Some(Pane::Storage),
                "volume details and snapshots (Esc closes)",
            ),
            b(
                &[Char('o')],
                Action::Sort,
                Some(Pane::Storage),
                "sort volumes: claim, used%, size, state, snapshots",
            ),
            b(
                &[Char(':')],
                Action::CommandLine,
                None,
                "command: :ns NAME|all, :ctx NAME",
            ),
            b(
                &[Char('u')],
                Action::NextUnhealthy,
                Some(Pane::Cluster),
                "jump to the next unhealthy row",
            ),
            b(
                &[Enter, Char('l'), Right],
                Action::OpenDiff,
                Some(Pane::Git),
                "diff of the commit or working tree",
            ),
            b(
                &[Esc, Char('h'), Left],
                Action::CloseDiff,
                Some(Pane::Git),
                "close the diff; j/k g/G PgDn scroll",
            ),
            b(
                &[Char(']')],
                Action::NextFile,
                Some(Pane::Git),
                "diff: next file",
            ),
            b(
                &[Char('[')],
                Action::PrevFile,
                Some(Pane::Git),
                "diff: previous file",
            ),
            b(
                &[Char('w')],
                Action::SplitDiff,
                Some(Pane::Git),
                "diff: side by side (160+ columns)",
            ),
        ];
        bindings.extend([
            b(
                &[Char('+'), Char('=')],
                Action::ZoomIn,
                Some(Pane::Metrics),
                "graph: shorter range (5m 1h 6h 24h 7d)",
            ),
            b(
                &[Char('-')],
                Action::ZoomOut,
                Some(Pane::Metrics),
                "graph: longer range",
            ),
            b(
                &[Char('.')],
                Action::NextMark,
                Some(Pane::Metrics),
                "graph: next commit, sync or snapshot marker",
            ),
            b(
                &[Char(',')],
                Action::PrevMark,
                Some(Pane::Metrics),
                "graph: previous marker",
            ),
            b(
                &[Enter],
                Action::OpenMark,
                Some(Pane::Metrics),
                "graph: open the marked commit's diff in the git pane",
            ),
        ]);
        let writes = [
            (
                Char('R'),
                Action::Restart,
                Some(Pane::Cluster),
                "restart the selected workload",
            ),
            (
                Char('s'),
                Action::Sync,
                None,
                "sync: preview, then apply HEAD (the selected commit in git)",
            ),
            (
                Char('r'),
                Action::Rollback,
                Some(Pane::Git),
                "roll back the selected commit (revert, preview, sync)",
            ),
            (
                Char('e'),
                Action::Edit,
                Some(Pane::Cluster),
                "edit the selected object's manifest in $EDITOR",
            ),
            (
                Char('c'),
                Action::Commit,
                None,
                "commit the working tree's changes",
            ),
            (Char('P'), Action::Push, None, "push the branch to origin"),
            (
                Char('S'),
                Action::Snapshot,
                None,
                "snapshot the selected workload's (or volume's) claims",
            ),
        ];
        for (key, action, pane, help) in writes {
            bindings.push(Binding {
                writes: true,
                ..b(&[key], action, pane, help)
            });
        }
        Keymap { bindings }
    }
}

impl Keymap {
    /// The action for a key in the focused pane; pane bindings win over global ones.
    pub fn lookup(&self, key: &KeyEvent, focus: Pane) -> Option<Action> {
        if key.modifiers.contains(KeyModifiers::CONTROL) {
            return (key.code == KeyCode::Char('c')).then_some(Action::Quit);
        }
        let hit = |b: &&Binding| b.keys.contains(&key.code);
        self.bindings
            .iter()
            .filter(hit)
            .find(|b| b.pane == Some(focus))
            .or_else(|| self.bindings.iter().filter(hit).find(|b| b.pane.is_none()))
            .map(|b| b.action)
    }

    pub fn is_write(&self, action: Action) -> bool {
        self.bindings.iter().any(|b| b.action == action && b.writes)
    }

    /// Lines for the help overlay: (keys, what, where), without writes in read-only mode.
    pub fn help(&self, read_only: bool) -> Vec<(String, &'static str, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| !(read_only && b.writes))
            .map(|b| {
                let keys: Vec<String> = b.keys.iter().map(key_name).collect();
                (keys.join(" "), b.help, b.pane.map_or("", Pane::title))
            })
            .collect()
    }
}

pub fn key_name(k: &KeyCode) -> String {
    match k {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "S-Tab".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Left => "←".into(),
        KeyCode::Right => "→".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pane_bindings_win_and_help_hides_writes() {
        let k = Keymap::default();
        let key = |c| KeyEvent::from(KeyCode::Char(c));
        assert_eq!(k.lookup(&key('l'), Pane::Cluster), Some(Action::Expand));
        assert_eq!(k.lookup(&key('l'), Pane::Metrics), Some(Action::NextGraph));
        assert_eq!(k.lookup(&key('l'), Pane::Git), Some(Action::OpenDiff));
        assert_eq!(k.lookup(&key(']'), Pane::Git), Some(Action::NextFile));
        assert_eq!(k.lookup(&key(']'), Pane::Cluster), None);
        assert_eq!(k.lookup(&key('j'), Pane::Git), Some(Action::Down));
        assert!(k.help(false).iter().any(|(_, h, _)| h.contains("restart")));
        assert!(!k.help(true).iter().any(|(_, h, _)| h.contains("restart")));
        assert!(k.is_write(Action::Restart));
    }

    #[test]
    fn the_git_pane_leaves_the_engine_keys_free() {
        let k = Keymap::default();
        for c in ['s', 'S', 'c', 'P', 'e', 'x'] {
            let hit = k
                .bindings
                .iter()
                .any(|b| b.pane == Some(Pane::Git) && b.keys.contains(&KeyCode::Char(c)));
            assert!(!hit, "{c} is bound in the git pane");
        }
        assert_eq!(
            k.lookup(&KeyEvent::from(KeyCode::Char('r')), Pane::Git),
            Some(Action::Rollback),
            "r rolls the selected commit back in the git pane"
        );
        assert_eq!(
            k.lookup(&KeyEvent::from(KeyCode::Char('r')), Pane::Storage),
            Some(Action::Refresh),
            "r stays the refresh elsewhere"
        );
    }

    #[test]
    fn storage_keys_leave_the_snapshot_keys_free() {
        let k = Keymap::default();
        let at = |c: KeyCode, p| k.lookup(&KeyEvent::from(c), p);
        assert_eq!(at(KeyCode::Char('o'), Pane::Storage), Some(Action::Sort));
        assert_eq!(at(KeyCode::Char('o'), Pane::Cluster), None);
        assert_eq!(at(KeyCode::Enter, Pane::Storage), Some(Action::Details));
        assert_eq!(at(KeyCode::Char('/'), Pane::Storage), Some(Action::Filter));
        for c in ['r', 's', 'S'] {
            let hit = k
                .bindings
                .iter()
                .any(|b| b.pane == Some(Pane::Storage) && b.keys.contains(&KeyCode::Char(c)));
            assert!(!hit, "{c} is bound in the storage pane");
        }
    }
}
