//! The config file's `[keys]` table: `action = ["key", ...]` replaces that action's
//! keys. A mistake names the file, the line and the key, and the defaults stay.
use super::keymap::{Action, Keymap};
use super::keys::KeyStroke;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A key as the file writes it, and on which line.
struct Written {
    stroke: KeyStroke,
    text: String,
    line: usize,
}

struct Override {
    action: Action,
    keys: Vec<Written>,
}

/// The default keymap with the file's `[keys]` applied; None when there is no `[keys]`.
pub fn read(file: &Path, text: &str) -> Option<Result<Keymap, String>> {
    let doc = DeTable::parse(text).ok()?;
    let table = doc.get_ref().get("keys")?;
    let line = |span: std::ops::Range<usize>| 1 + text[..span.start].matches('\n').count();
    let mut errors: Vec<(usize, String)> = Vec::new();
    let Some(entries) = table.get_ref().as_table() else {
        errors.push((
            line(table.span()),
            "keys: must be a table of action = [\"key\", ...]".into(),
        ));
        return Some(Err(report(file, errors)));
    };
    let mut overrides = Vec::new();
    for (name, value) in entries.iter() {
        let Some(action) = Action::from_name(name.get_ref()) else {
            errors.push((
                line(name.span()),
                format!(
                    "[keys] unknown action {:?} (the README lists them)",
                    name.get_ref()
                ),
            ));
            continue;
        };
        // One key may be written without the brackets.
        let items: Vec<&Spanned<DeValue>> = match value.get_ref() {
            DeValue::Array(a) => a.iter().collect(),
            _ => vec![value],
        };
        let mut keys = Vec::new();
        for item in items {
            let at = line(item.span());
            let Some(text) = item.get_ref().as_str() else {
                errors.push((
                    at,
                    format!(
                        "[keys] {}: keys are strings, like \"ctrl-r\"",
                        action.name()
                    ),
                ));
                continue;
            };
            match KeyStroke::parse(text) {
                Ok(stroke) => keys.push(Written {
                    stroke,
                    text: text.to_string(),
                    line: at,
                }),
                Err(e) => errors.push((at, format!("[keys] {}: {e}", action.name()))),
            }
        }
        overrides.push(Override { action, keys });
    }
    if errors.is_empty() {
        match apply(Keymap::default(), &overrides) {
            Ok(k) => return Some(Ok(k)),
            Err(e) => errors = e,
        }
    }
    Some(Err(report(file, errors)))
}

/// The first mistake in the file's order, for the status bar.
fn report(file: &Path, mut errors: Vec<(usize, String)>) -> String {
    errors.sort_by_key(|(line, _)| *line);
    let more = match errors.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    let (line, what) = errors.swap_remove(0);
    format!(
        "{}:{line}: {what}{more}; using the default keys",
        file.display()
    )
}

/// Replaces each overridden action's keys, keeping its pane and write flag. A key left
/// on two actions of the same pane (or both global) is a conflict.
fn apply(mut keymap: Keymap, overrides: &[Override]) -> Result<Keymap, Vec<(usize, String)>> {
    for o in overrides {
        for b in keymap.bindings.iter_mut().filter(|b| b.action == o.action) {
            b.keys = o.keys.iter().map(|w| w.stroke).collect();
        }
    }
    let written = |action: Action, stroke: KeyStroke| {
        overrides
            .iter()
            .filter(|o| o.action == action)
            .flat_map(|o| &o.keys)
            .find(|w| w.stroke == stroke)
    };
    let mut errors = Vec::new();
    let bs = &keymap.bindings;
    for (i, a) in bs.iter().enumerate() {
        for b in bs[i + 1..]
            .iter()
            .filter(|b| b.pane == a.pane && b.action != a.action)
        {
            for stroke in a.keys.iter().filter(|k| b.keys.contains(k)) {
                // Named where the file wrote it: the later line of the two, if both did.
                let Some(w) = [written(a.action, *stroke), written(b.action, *stroke)]
                    .into_iter()
                    .flatten()
                    .max_by_key(|w| w.line)
                else {
                    continue;
                };
                let scope = a.pane.map_or("everywhere".into(), |p| {
                    format!("in the {} pane", p.title())
                });
                errors.push((
                    w.line,
                    format!(
                        "[keys] {:?} is bound to both {} and {} ({scope})",
                        w.text,
                        a.action.name(),
                        b.action.name()
                    ),
                ));
            }
        }
    }
    if errors.is_empty() {
        Ok(keymap)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::state::Pane;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    const FILE: &str = "/home/me/.config/sextant/config.toml";

    fn keys(text: &str) -> Result<Keymap, String> {
        read(Path::new(FILE), text).expect("a [keys] table")
    }

    fn press(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn no_keys_table_means_no_change() {
        assert!(read(Path::new(FILE), "namespace = \"shop\"\n").is_none());
    }

    #[test]
    fn an_override_replaces_the_keys_and_keeps_pane_and_writes() {
        let k = keys(
            "namespace = \"shop\"\n\n[keys]\nrestart = [\"R\", \"ctrl-r\"]\n\
             quit = [\"q\", \"ctrl-q\"]\nsync = \"f5\"\n",
        )
        .unwrap();
        let at = |c, m, p| k.lookup(&press(c, m), p);
        let ctrl = KeyModifiers::CONTROL;
        assert_eq!(
            at(KeyCode::Char('r'), ctrl, Pane::Cluster),
            Some(Action::Restart)
        );
        // Restart stays a cluster-pane write.
        assert_eq!(at(KeyCode::Char('r'), ctrl, Pane::Git), None);
        assert!(k.is_write(Action::Restart));
        assert_eq!(at(KeyCode::Char('q'), ctrl, Pane::Git), Some(Action::Quit));
        assert_eq!(
            at(KeyCode::F(5), KeyModifiers::NONE, Pane::Git),
            Some(Action::Sync)
        );
        // `s` is no longer sync's.
        assert_eq!(at(KeyCode::Char('s'), KeyModifiers::NONE, Pane::Git), None);
        // The help lists the effective keys.
        let help = k.help(false);
        assert!(
            help.iter()
                .any(|(keys, what, _)| keys == "R C-r" && what.contains("restart"))
        );
        assert!(
            help.iter()
                .any(|(keys, what, _)| keys == "F5" && what.starts_with("sync"))
        );
    }

    #[test]
    fn an_unknown_action_names_file_line_and_action() {
        let e = keys("[keys]\nsync = [\"s\"]\nsynk = [\"x\"]\n").unwrap_err();
        assert!(e.starts_with(&format!("{FILE}:3: ")), "{e}");
        assert!(e.contains("unknown action \"synk\""), "{e}");
        assert!(e.ends_with("using the default keys"), "{e}");
    }

    #[test]
    fn an_unknown_key_names_file_line_and_key() {
        let e = keys("[keys]\nrestart = [\n  \"R\",\n  \"ctrl-rr\",\n]\n").unwrap_err();
        assert!(e.starts_with(&format!("{FILE}:4: ")), "{e}");
        assert!(e.contains("restart: unknown key \"ctrl-rr\""), "{e}");
        assert!(e.contains("pgdn"), "says what is allowed: {e}");
    }

    #[test]
    fn a_conflict_names_file_line_and_key() {
        // `j` is already Down's, everywhere.
        let e = keys("[keys]\n\nsync = [\"j\"]\n").unwrap_err();
        assert!(e.starts_with(&format!("{FILE}:3: ")), "{e}");
        assert!(
            e.contains("\"j\" is bound to both down and sync (everywhere)"),
            "{e}"
        );
        // Two overrides in one pane: the later line is named.
        let e = keys("[keys]\ndescribe = [\"x\"]\nyaml = [\"x\"]\n").unwrap_err();
        assert!(e.starts_with(&format!("{FILE}:3: ")), "{e}");
        assert!(e.contains("describe and yaml (in the Cluster pane)"), "{e}");
        // A pane key over a global one is not a conflict: it wins in its pane.
        assert!(keys("[keys]\ndescribe = [\"q\"]\n").is_ok());
    }

    #[test]
    fn several_mistakes_report_the_first_and_count_the_rest() {
        let e = keys("[keys]\nsync = [\"nope\"]\nfoo = [\"x\"]\npush = [3]\n").unwrap_err();
        assert!(e.starts_with(&format!("{FILE}:2: ")), "{e}");
        assert!(e.contains("(and 2 more)"), "{e}");
    }

    #[test]
    fn every_action_has_a_distinct_name_the_readme_lists() {
        let readme = include_str!("../../README.md");
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(*a));
            assert!(readme.contains(&format!("`{}`", a.name())), "{}", a.name());
        }
        assert_eq!(Action::from_name("next_pane"), Some(Action::NextPane));
    }
}
