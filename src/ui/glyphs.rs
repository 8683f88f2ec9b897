//! ASCII mode (`--ascii`): for terminals or fonts without box drawing, braille or
//! symbols. The chart draws its own plain raster; everything else is drawn as usual and
//! then each cell outside ASCII is replaced from one table. Doing it last, in one place,
//! also covers text from the cluster and git, which may hold any character.
use ratatui::buffer::Buffer;

/// The ASCII stand-in for a character; `?` for one the table does not know.
pub fn ascii_for(c: char) -> char {
    match c {
        c if c.is_ascii() => c,
        // Borders: thick and double lines (the focused pane, dialogs) stay distinct.
        '━' | '═' => '=',
        '─' | '┄' | '┈' | '╌' => '-',
        '│' | '┃' | '║' | '┆' | '┊' | '╎' | '▏' => '|',
        '\u{2500}'..='\u{257f}' => '+',
        // Tree and list markers.
        '▸' | '►' | '→' => '>',
        '◂' | '◄' | '←' => '<',
        '▾' | '▼' | '↓' => 'v',
        '↑' | '▴' => '^',
        // Link, sync and git marks.
        '●' => '*',
        '○' => 'o',
        '◌' => '.',
        '✖' | '✗' => 'x',
        '✓' => '=',
        '≠' => '~',
        '⊘' => '/',
        '◆' => '@',
        '■' => '#',
        '↺' | '⟳' => '@',
        '✎' => '%',
        '⚑' | '⚠' => '!',
        // Punctuation in text.
        '·' => '-',
        '…' => '~',
        '–' | '—' => '-',
        'µ' => 'u',
        '×' => 'x',
        _ => '?',
    }
}

/// Replaces every cell outside ASCII; a wide character's second cell is already blank.
pub fn to_ascii(buf: &mut Buffer) {
    for cell in buf.content.iter_mut() {
        let symbol = cell.symbol();
        if symbol.is_ascii() {
            continue;
        }
        let mut chars = symbol.chars();
        let c = match (chars.next(), chars.next()) {
            (Some(c), None) => ascii_for(c),
            _ => '?',
        };
        cell.set_char(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every non-ASCII character in the code of the views and the app (comments and
    /// tests aside) has a stand-in of its own, not `?`.
    #[test]
    fn every_glyph_the_ui_draws_has_a_stand_in() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut seen = 0;
        for dir in ["ui", "app"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().to_string();
                if !name.ends_with(".rs") || name.contains("tests") || name == "glyphs.rs" {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap();
                for line in code.lines() {
                    let line = line.split("// ").next().unwrap();
                    for c in line.chars().filter(|c| !c.is_ascii()) {
                        seen += 1;
                        assert_ne!(ascii_for(c), '?', "{name}: {c:?} has no ASCII stand-in");
                    }
                }
            }
        }
        assert!(seen > 20, "only {seen} glyphs found");
    }

    #[test]
    fn borders_become_plus_minus_and_bar() {
        let round: String = "╭─╮│╰╯".chars().map(ascii_for).collect();
        assert_eq!(round, "+-+|++");
        let thick: String = "┏━┓┃┗┛".chars().map(ascii_for).collect();
        assert_eq!(thick, "+=+|++");
        assert_eq!(ascii_for('é'), '?');
        assert_eq!(ascii_for('\u{2847}'), '?');
    }
}
