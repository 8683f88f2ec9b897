//! One key with its modifiers, as the keymap stores it, the config file writes it
//! (`ctrl-r`, `pgdn`, `G`) and the help overlay shows it.
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyStroke {
    pub code: KeyCode,
    /// Only CONTROL, ALT and SHIFT; SHIFT only with keys that have no upper case.
    pub mods: KeyModifiers,
}

impl From<KeyCode> for KeyStroke {
    fn from(code: KeyCode) -> Self {
        KeyStroke {
            code,
            mods: KeyModifiers::NONE,
        }
    }
}

/// What the config file may name, for error messages.
pub const SYNTAX: &str = "a character, enter, esc, tab, backtab, space, up, down, left, right, \
     pgup, pgdn, home, end or f1..f12, after ctrl-, alt- or shift- if needed";

impl KeyStroke {
    /// The stroke a key event is looked up as. Terminals send `G` with SHIFT and
    /// Shift-Tab as BackTab with SHIFT: the code already says it, so SHIFT is dropped.
    pub fn from_event(key: &KeyEvent) -> Self {
        let wanted = KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT;
        let mut mods = key.modifiers & wanted;
        if matches!(key.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        KeyStroke {
            code: key.code,
            mods,
        }
    }

    /// Parses the config syntax: `s`, `R`, `enter`, `pgdn`, `f5`, `ctrl-r`, `alt-x`,
    /// `shift-x` (the same as `X`), `shift-up`.
    pub fn parse(text: &str) -> Result<KeyStroke, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        // A lone `-` is the minus key, and `ctrl--` is Ctrl with it.
        while rest.chars().count() > 1 {
            let lower = rest.to_ascii_lowercase();
            let (m, len) = if lower.starts_with("ctrl-") {
                (KeyModifiers::CONTROL, 5)
            } else if lower.starts_with("alt-") {
                (KeyModifiers::ALT, 4)
            } else if lower.starts_with("shift-") {
                (KeyModifiers::SHIFT, 6)
            } else {
                break;
            };
            mods |= m;
            rest = &rest[len..];
        }
        let code = key_code(rest).ok_or_else(|| format!("unknown key {text:?} (use {SYNTAX})"))?;
        let stroke = match code {
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) => {
                if !c.is_alphabetic() {
                    return Err(format!(
                        "unknown key {text:?}: shift- goes with letters and named keys; \
                         write the character itself"
                    ));
                }
                mods.remove(KeyModifiers::SHIFT);
                KeyStroke {
                    code: KeyCode::Char(c.to_uppercase().next().unwrap_or(c)),
                    mods,
                }
            }
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => {
                mods.remove(KeyModifiers::SHIFT);
                KeyStroke {
                    code: KeyCode::BackTab,
                    mods,
                }
            }
            code => KeyStroke { code, mods },
        };
        if stroke.mods == KeyModifiers::CONTROL && stroke.code == KeyCode::Char('c') {
            return Err(format!("{text:?}: Ctrl-C always quits and cannot be bound"));
        }
        Ok(stroke)
    }

    /// How the help overlay shows it: `C-r`, `M-x`, `S-↑`, `PgDn`.
    pub fn name(&self) -> String {
        let mut out = String::new();
        for (m, prefix) in [
            (KeyModifiers::CONTROL, "C-"),
            (KeyModifiers::ALT, "M-"),
            (KeyModifiers::SHIFT, "S-"),
        ] {
            if self.mods.contains(m) {
                out.push_str(prefix);
            }
        }
        out.push_str(&code_name(self.code));
        out
    }
}

fn key_code(name: &str) -> Option<KeyCode> {
    let mut chars = name.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        return Some(KeyCode::Char(c));
    }
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "enter" => KeyCode::Enter,
        "esc" => KeyCode::Esc,
        "tab" => KeyCode::Tab,
        "backtab" => KeyCode::BackTab,
        "space" => KeyCode::Char(' '),
        "up" => KeyCode::Up,
        "down" => KeyCode::Down,
        "left" => KeyCode::Left,
        "right" => KeyCode::Right,
        "pgup" => KeyCode::PageUp,
        "pgdn" => KeyCode::PageDown,
        "home" => KeyCode::Home,
        "end" => KeyCode::End,
        f => match f.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            Some(n @ 1..=12) => KeyCode::F(n),
            _ => return None,
        },
    })
}

fn code_name(k: KeyCode) -> String {
    match k {
        KeyCode::Char(' ') => "Space".into(),
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
        KeyCode::F(n) => format!("F{n}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(code: KeyCode, mods: KeyModifiers) -> KeyStroke {
        KeyStroke { code, mods }
    }

    #[test]
    fn every_key_form_parses() {
        use KeyCode::*;
        let none = KeyModifiers::NONE;
        let cases = [
            ("s", k(Char('s'), none)),
            ("R", k(Char('R'), none)),
            ("-", k(Char('-'), none)),
            ("/", k(Char('/'), none)),
            ("enter", k(Enter, none)),
            ("Esc", k(Esc, none)),
            ("tab", k(Tab, none)),
            ("backtab", k(BackTab, none)),
            ("space", k(Char(' '), none)),
            ("up", k(Up, none)),
            ("down", k(Down, none)),
            ("left", k(Left, none)),
            ("right", k(Right, none)),
            ("pgup", k(PageUp, none)),
            ("pgdn", k(PageDown, none)),
            ("home", k(Home, none)),
            ("end", k(End, none)),
            ("f1", k(F(1), none)),
            ("F12", k(F(12), none)),
            ("ctrl-r", k(Char('r'), KeyModifiers::CONTROL)),
            ("ctrl--", k(Char('-'), KeyModifiers::CONTROL)),
            ("alt-x", k(Char('x'), KeyModifiers::ALT)),
            (
                "ctrl-alt-x",
                k(Char('x'), KeyModifiers::CONTROL | KeyModifiers::ALT),
            ),
            ("shift-x", k(Char('X'), none)),
            ("shift-tab", k(BackTab, none)),
            ("shift-up", k(Up, KeyModifiers::SHIFT)),
            ("ctrl-pgdn", k(PageDown, KeyModifiers::CONTROL)),
        ];
        for (text, want) in cases {
            assert_eq!(KeyStroke::parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn bad_keys_say_which_and_what_is_allowed() {
        for bad in ["", "f13", "f0", "pagedown", "ctrl-", "hyper-x", "shift-1"] {
            let e = KeyStroke::parse(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        assert!(KeyStroke::parse("pagedown").unwrap_err().contains("pgdn"));
        assert!(
            KeyStroke::parse("ctrl-c")
                .unwrap_err()
                .contains("always quits")
        );
    }

    #[test]
    fn events_match_what_the_config_writes() {
        let ev = |c, m| KeyStroke::from_event(&KeyEvent::new(c, m));
        assert_eq!(
            ev(KeyCode::Char('G'), KeyModifiers::SHIFT),
            KeyStroke::parse("G").unwrap()
        );
        assert_eq!(
            ev(KeyCode::BackTab, KeyModifiers::SHIFT),
            KeyStroke::parse("shift-tab").unwrap()
        );
        assert_eq!(
            ev(KeyCode::Char('r'), KeyModifiers::CONTROL),
            KeyStroke::parse("ctrl-r").unwrap()
        );
        assert_ne!(
            ev(KeyCode::Char('r'), KeyModifiers::CONTROL),
            KeyStroke::parse("r").unwrap()
        );
    }

    #[test]
    fn names_for_the_help() {
        let name = |t| KeyStroke::parse(t).unwrap().name();
        assert_eq!(name("ctrl-r"), "C-r");
        assert_eq!(name("alt-x"), "M-x");
        assert_eq!(name("shift-up"), "S-↑");
        assert_eq!(name("f5"), "F5");
        assert_eq!(name("pgdn"), "PgDn");
        assert_eq!(name("backtab"), "S-Tab");
    }
}
