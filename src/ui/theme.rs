//! Themes: TOML files of semantic tokens. Bundled themes are embedded; a user theme in
//! ~/.config/sextant/themes overrides only what it names, through `inherits`.
use super::palette;
use crate::config::Colors;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::HashMap;
use std::str::FromStr;

pub const BUNDLED: [(&str, &str); 4] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "gruvbox-dark",
        include_str!("../../themes/gruvbox-dark.toml"),
    ),
];

/// The bundled names, for help and errors: "dark, light, …".
pub fn bundled_names() -> String {
    BUNDLED.map(|(n, _)| n).join(", ")
}

/// Every token the views use; each bundled theme must define all of them.
pub const TOKENS: &[&str] = &[
    "background",
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

/// Tokens that stand out by their background; without colour they are reversed.
const REVERSED_WITHOUT_COLOUR: &[&str] = &["selection", "mark.highlight", "statusbar.readonly"];

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
            .ok_or_else(|| {
                format!(
                    "no theme named {name:?}: the bundled themes are {}, or put {name}.toml in {}",
                    bundled_names(),
                    crate::config::config_dir()
                        .map_or("~/.config/sextant".into(), |d| d.display().to_string())
                        + "/themes"
                )
            })
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

    /// Fits every colour to what the terminal shows, once at load, so views never
    /// need to know the colour depth.
    pub fn downgrade(mut self, colors: Colors) -> Theme {
        let fit: fn(Color) -> Color = match colors {
            Colors::Auto | Colors::Truecolor => return self,
            Colors::Ansi256 => palette::to_256,
            Colors::Ansi16 => palette::to_16,
        };
        for style in self.styles.values_mut() {
            style.fg = style.fg.map(fit);
            style.bg = style.bg.map(fit);
            style.underline_color = style.underline_color.map(fit);
        }
        self
    }

    /// NO_COLOR (no-color.org): modifiers only. What a background marked is reversed,
    /// so the selection stays visible.
    pub fn without_colour(mut self) -> Theme {
        for (token, style) in self.styles.iter_mut() {
            let mut plain = Style::new().add_modifier(style.add_modifier);
            if REVERSED_WITHOUT_COLOUR.contains(&token.as_str()) {
                plain = plain.add_modifier(Modifier::REVERSED);
            }
            *style = plain;
        }
        self
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
        let e = Theme::load("nope").unwrap_err();
        assert!(e.contains("nope"), "{e}");
        for (name, _) in BUNDLED {
            assert!(e.contains(name), "{e}");
        }
    }

    #[test]
    fn downgrade_leaves_no_rgb_colour() {
        for (name, _) in BUNDLED {
            for colors in [Colors::Ansi16, Colors::Ansi256] {
                let t = Theme::bundled(name).unwrap().downgrade(colors);
                for token in TOKENS {
                    let s = t.style(token);
                    for c in [s.fg, s.bg].into_iter().flatten() {
                        assert!(!matches!(c, Color::Rgb(..)), "{name} {token} {colors:?}");
                    }
                }
            }
        }
        let t = Theme::bundled("dark").unwrap().downgrade(Colors::Ansi16);
        assert_eq!(t.style("status.error").fg, Some(Color::LightRed));
        assert!(
            t.style("status.error")
                .add_modifier
                .contains(Modifier::BOLD)
        );
        let same = Theme::bundled("dark").unwrap();
        let kept = Theme::bundled("dark").unwrap().downgrade(Colors::Truecolor);
        assert_eq!(kept.style("text"), same.style("text"));
    }

    #[test]
    fn without_colour_keeps_modifiers_and_reverses_the_selection() {
        for (name, _) in BUNDLED {
            let t = Theme::bundled(name).unwrap().without_colour();
            for token in TOKENS {
                let s = t.style(token);
                assert_eq!((s.fg, s.bg), (None, None), "{name} {token}");
            }
            assert!(
                t.style("selection")
                    .add_modifier
                    .contains(Modifier::REVERSED)
            );
        }
        let t = Theme::bundled("dark").unwrap().without_colour();
        assert!(
            t.style("status.error")
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert!(!t.style("text").add_modifier.contains(Modifier::REVERSED));
    }

    /// Every `style("…")` literal in the views, and every dotted literal of a token
    /// family (tokens also travel in tuples), must be a token: a typo would draw plain.
    #[test]
    fn views_use_only_known_tokens() {
        let families: Vec<&str> = TOKENS
            .iter()
            .map(|t| t.split('.').next().unwrap())
            .collect();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ui");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".rs") || name.contains("tests") || name == "theme.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap();
            for (i, lit) in code.split('"').enumerate() {
                let is_token_like = i % 2 == 1
                    && !lit.is_empty()
                    && lit
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.');
                let family = lit.split('.').next().unwrap_or("");
                if is_token_like && lit.contains('.') && families.contains(&family) {
                    seen += 1;
                    assert!(TOKENS.contains(&lit), "{name}: {lit:?} is not in TOKENS");
                }
            }
            for after in code.split("style(\"").skip(1) {
                let lit = after.split('"').next().unwrap();
                seen += 1;
                assert!(
                    TOKENS.contains(&lit),
                    "{name}: style({lit:?}) is not a token"
                );
            }
        }
        assert!(seen > 50, "only {seen} token literals found");
    }
}
