//! Themes: TOML files of semantic tokens. Bundled themes are embedded; a user theme in
//! ~/.config/sextant/themes overrides only what it names, through `inherits`.
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

pub const BUNDLED: [(&str, &str); 2] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
];

/// Every token the views use; each bundled theme must define all of them.
pub const TOKENS: &[&str] = &[
    "text",
    "text.dim",
    "border",
    "border.focus",
    "title",
    "header",
    "selection",
    "status.ok",
    "status.progress",
    "status.warn",
    "status.error",
    "status.unknown",
    "statusbar",
    "statusbar.key",
    "statusbar.readonly",
    "help.key",
    "dialog",
    "dialog.border",
    "graph.axis",
    "graph.series.0",
    "graph.series.1",
    "graph.series.2",
    "graph.series.3",
    "graph.series.4",
    "graph.series.5",
    "graph.series.6",
    "graph.series.7",
    "mark.commit",
    "mark.sync",
    "mark.rollback",
    "mark.snapshot",
    "mark.highlight",
    "git.sha",
    "git.author",
    "git.date",
    "git.synced",
    "git.pending",
    "git.stateful",
    "git.worktree",
    "diff.add",
    "diff.del",
    "diff.add.line",
    "diff.del.line",
    "diff.hunk",
    "diff.file",
    "diff.meta",
    "yaml.key",
    "yaml.value",
    "yaml.comment",
];

#[derive(Deserialize)]
#[serde(untagged)]
enum TokenSpec {
    Fg(String),
    Full {
        fg: Option<String>,
        bg: Option<String>,
        #[serde(default)]
        modifiers: Vec<String>,
    },
}

#[derive(Deserialize)]
struct ThemeFile {
    #[allow(dead_code)]
    name: Option<String>,
    inherits: Option<String>,
    #[serde(default)]
    tokens: HashMap<String, TokenSpec>,
}

#[derive(Clone, Debug, Default)]
pub struct Theme {
    styles: HashMap<String, Style>,
}

fn color(s: &str) -> Result<Color, String> {
    Color::from_str(s).map_err(|_| format!("unknown colour {s:?}"))
}

fn modifier(s: &str) -> Result<Modifier, String> {
    Ok(match s {
        "bold" => Modifier::BOLD,
        "dim" => Modifier::DIM,
        "italic" => Modifier::ITALIC,
        "underlined" => Modifier::UNDERLINED,
        "reversed" => Modifier::REVERSED,
        other => return Err(format!("unknown modifier {other:?}")),
    })
}

impl Theme {
    /// Loads a theme by name: a user file first, then a bundled one.
    pub fn load(name: &str) -> Result<Theme, String> {
        Self::load_depth(name, 0)
    }

    /// A bundled theme only, whatever the user has: for tests and fallbacks.
    pub fn bundled(name: &str) -> Result<Theme, String> {
        let (_, text) = BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| format!("no bundled theme {name:?}"))?;
        Self::parse(text, Self::bundled)
    }

    fn source(name: &str) -> Result<(String, String), String> {
        if let Some(dir) = crate::config::config_dir() {
            let path = dir.join("themes").join(format!("{name}.toml"));
            if let Ok(text) = std::fs::read_to_string(&path) {
                return Ok((text, path.display().to_string()));
            }
        }
        BUNDLED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(n, t)| (t.to_string(), format!("bundled theme {n}")))
            .ok_or_else(|| format!("no theme named {name:?} (bundled: dark, light)"))
    }

    fn load_depth(name: &str, depth: u8) -> Result<Theme, String> {
        if depth > 4 {
            return Err(format!("theme {name}: `inherits` goes too deep"));
        }
        let (text, origin) = Self::source(name)?;
        Self::parse(&text, |parent| Self::load_depth(parent, depth + 1))
            .map_err(|e| format!("{origin}: {e}"))
    }

    pub fn parse(
        text: &str,
        parent: impl Fn(&str) -> Result<Theme, String>,
    ) -> Result<Theme, String> {
        let file: ThemeFile = toml::from_str(text)
            .map_err(|e| e.to_string().lines().collect::<Vec<_>>().join(" "))?;
        let mut theme = match &file.inherits {
            Some(p) => parent(p)?,
            None => Theme::default(),
        };
        for (token, spec) in file.tokens {
            let style = match spec {
                TokenSpec::Fg(fg) => {
                    Style::new().fg(color(&fg).map_err(|e| format!("{token}: {e}"))?)
                }
                TokenSpec::Full { fg, bg, modifiers } => {
                    let mut s = Style::new();
                    if let Some(fg) = fg {
                        s = s.fg(color(&fg).map_err(|e| format!("{token}: {e}"))?);
                    }
                    if let Some(bg) = bg {
                        s = s.bg(color(&bg).map_err(|e| format!("{token}: {e}"))?);
                    }
                    for m in modifiers {
                        s = s.add_modifier(modifier(&m).map_err(|e| format!("{token}: {e}"))?);
                    }
                    s
                }
            };
            theme.styles.insert(token, style);
        }
        Ok(theme)
    }

    /// The style of a token; an unknown token is plain, never a panic.
    pub fn style(&self, token: &str) -> Style {
        self.styles.get(token).copied().unwrap_or_default()
    }

    pub fn has(&self, token: &str) -> bool {
        self.styles.contains_key(token)
    }

    pub fn series(&self, i: usize) -> Style {
        self.style(&format!("graph.series.{}", i % 8))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_theme_defines_every_token() {
        for (name, _) in BUNDLED {
            let t = Theme::load(name).unwrap();
            for token in TOKENS {
                assert!(t.has(token), "theme {name} lacks {token}");
            }
        }
    }

    #[test]
    fn inherits_overrides_only_what_it_names() {
        let t = Theme::parse("inherits = \"dark\"\n[tokens]\n\"text\" = \"red\"", |p| {
            Theme::load(p)
        })
        .unwrap();
        assert_eq!(t.style("text").fg, Some(Color::Red));
        assert_eq!(
            t.style("status.ok"),
            Theme::load("dark").unwrap().style("status.ok")
        );
    }

    #[test]
    fn bad_colours_name_the_token() {
        let e = Theme::parse("[tokens]\n\"text\" = \"#zzzzzz\"", |_| unreachable!()).unwrap_err();
        assert!(e.contains("text"), "{e}");
        assert!(Theme::load("nope").unwrap_err().contains("nope"));
    }
}
