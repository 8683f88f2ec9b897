//! Keys as data: the reducer looks actions up here and the help overlay lists them.
use super::keys::KeyStroke;
use super::state::Pane;
use crossterm::event::{KeyCode, KeyEvent};

/// Defines the actions with the names the config file's `[keys]` table uses, in one place.
macro_rules! actions {
    ($($variant:ident = $name:literal,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &[Action] = &[$(Action::$variant,)*];

            /// The name in `[keys]`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    Quit = "quit",
    Help = "help",
    NextPane = "next_pane",
    PrevPane = "prev_pane",
    Zoom = "zoom",
    Up = "up",
    Down = "down",
    PageUp = "page_up",
    PageDown = "page_down",
    Top = "top",
    Bottom = "bottom",
    Expand = "expand",
    Collapse = "collapse",
    NextGraph = "next_graph",
    PrevGraph = "prev_graph",
    Refresh = "refresh",
    Restart = "restart",
    Describe = "describe",
    Yaml = "yaml",
    Filter = "filter",
    CommandLine = "command_line",
    NextUnhealthy = "next_unhealthy",
    ZoomIn = "zoom_in",
    ZoomOut = "zoom_out",
    NextMark = "next_mark",
    PrevMark = "prev_mark",
    OpenMark = "open_mark",
    Sync = "sync",
    Rollback = "rollback",
    Edit = "edit",
    Commit = "commit",
    Push = "push",
    Snapshot = "snapshot",
    OpenDiff = "open_diff",
    CloseDiff = "close_diff",
    SplitDiff = "split_diff",
    NextFile = "next_file",
    PrevFile = "prev_file",
    Details = "details",
    Sort = "sort",
}

impl Action {
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

#[derive(Clone, Debug)]
pub struct Binding {
    pub keys: Vec<KeyStroke>,
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
        keys: keys.iter().map(|&k| KeyStroke::from(k)).collect(),
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
        let stroke = KeyStroke::from_event(key);
        let hit = |b: &&Binding| b.keys.contains(&stroke);
        self.bindings
            .iter()
            .filter(hit)
            .find(|b| b.pane == Some(focus))
            .or_else(|| self.bindings.iter().filter(hit).find(|b| b.pane.is_none()))
            .map(|b| b.action)
    }

    /// The first key of an action, as the help shows it: for hints like "? help".
    pub fn first_key(&self, action: Action) -> Option<String> {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(KeyStroke::name)
    }

    pub fn is_write(&self, action: Action) -> bool {
        self.bindings.iter().any(|b| b.action == action && b.writes)
    }

    /// Lines for the help overlay: (keys, what, where), without writes in read-only mode.
    pub fn help(&self, read_only: bool) -> Vec<(String, &'static str, &'static str)> {
        self.bindings
            .iter()
            .filter(|b| !b.keys.is_empty())
            .filter(|b| !(read_only && b.writes))
            .map(|b| {
                let keys: Vec<String> = b.keys.iter().map(KeyStroke::name).collect();
                (keys.join(" "), b.help, b.pane.map_or("", Pane::title))
            })
            .collect()
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
                .any(|b| b.pane == Some(Pane::Git) && b.keys.contains(&KeyCode::Char(c).into()));
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
            let hit = k.bindings.iter().any(|b| {
                b.pane == Some(Pane::Storage) && b.keys.contains(&KeyCode::Char(c).into())
            });
            assert!(!hit, "{c} is bound in the storage pane");
        }
    }
}
