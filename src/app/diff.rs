//! A parsed unified diff: the changed files, an index of its lines and the rows of the
//! side-by-side layout. The first page is built off the UI thread; a long diff grows
//! a page at a time as it is scrolled, so a 50 MB diff is never held whole. Views draw
//! only the rows on screen, so a 5 MB diff costs no more per frame than a small one.
use std::fmt;

/// What a diff is of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffTarget {
    /// A commit against its first parent (full SHA).
    Commit(String),
    /// Uncommitted changes against HEAD, untracked YAML files included.
    WorkTree,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// `diff --git`, `---` and `+++` lines.
    File,
    /// `index`, mode, rename and "no newline" lines.
    Meta,
    Hunk,
    Context,
    Add,
    Del,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffLine {
    pub kind: LineKind,
    start: usize,
    end: usize,
    /// Line numbers in the old and new file (0 outside hunks).
    pub old: u32,
    pub new: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileChange {
    /// A (added), M, D or R (renamed).
    pub status: char,
    pub path: String,
    pub old_path: Option<String>,
    pub added: usize,
    pub removed: usize,
    /// Index of its `diff --git` line.
    pub line: usize,
}

/// One row of the side-by-side layout: old on the left, new on the right. A row with
/// the same line on both sides is context, or a header spanning the width.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SideRow {
    pub left: Option<usize>,
    pub right: Option<usize>,
}

/// More of a diff's text, cut at a line's end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffPage {
    pub text: String,
    /// Whether text follows this page.
    pub more: bool,
}

#[derive(Clone, Default, PartialEq, Eq)]
pub struct Diff {
    pub files: Vec<FileChange>,
    text: String,
    pub lines: Vec<DiffLine>,
    pub rows: Vec<SideRow>,
    /// For each line, the side-by-side row that shows it.
    row_of: Vec<usize>,
    /// Whether the text goes on beyond what is here (the next page starts at `bytes()`).
    pub more: bool,
    /// Where the parse stands at the end of the text, for the next page.
    in_hunk: bool,
    old: u32,
    new: u32,
    /// Rows that later lines cannot change; the run of removed lines after them may
    /// still be faced by added lines on the next page.
    settled: usize,
    dels: Vec<usize>,
    adds: Vec<usize>,
}

// A 5 MB diff must not flood a debug print.
impl fmt::Debug for Diff {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "Diff({} files, {} lines, {} bytes{})",
            self.files.len(),
            self.lines.len(),
            self.text.len(),
            if self.more { ", more to load" } else { "" }
        )
    }
}

impl Diff {
    /// Parses git's unified diff text (as `git diff` or libgit2 prints it).
    pub fn parse(text: String) -> Diff {
        let mut d = Diff::default();
        d.extend(&text);
        d
    }

    /// Parses the next page of the text, as if it had been there from the start.
    pub fn extend(&mut self, more: &str) {
        let first = self.lines.len();
        let mut start = self.text.len();
        self.text.push_str(more);
        let text = std::mem::take(&mut self.text);
        for raw in text[start..].split_inclusive('\n') {
            let end = start + raw.trim_end_matches(['\n', '\r']).len();
            let line = self.line(&text[start..end], start, end);
            start += raw.len();
            self.lines.push(line);
        }
        self.text = text;
        self.pair(first);
    }

    /// Classifies one line, counting it into its file.
    fn line(&mut self, l: &str, start: usize, end: usize) -> DiffLine {
        let mut line = DiffLine {
            kind: LineKind::Meta,
            start,
            end,
            old: 0,
            new: 0,
        };
        if let Some(paths) = l.strip_prefix("diff --git ") {
            self.in_hunk = false;
            line.kind = LineKind::File;
            // "a/x b/x": the new path follows the last " b/"; ---/+++ refine it. Git
            // quotes a name that is not plain ("b/caf\351.yaml").
            let path = match paths.rfind(" \"b/") {
                Some(i) if paths.ends_with('"') => shown_path(&paths[i + 1..]),
                _ => paths
                    .rfind(" b/")
                    .map_or(paths, |i| &paths[i + 1..])
                    .to_string(),
            };
            let path = path.strip_prefix("b/").map(String::from).unwrap_or(path);
            self.files.push(FileChange {
                status: 'M',
                path,
                old_path: None,
                added: 0,
                removed: 0,
                line: self.lines.len(),
            });
        } else if l.starts_with("@@") {
            self.in_hunk = true;
            line.kind = LineKind::Hunk;
            (self.old, self.new) = hunk_starts(l);
        } else if self.in_hunk {
            let file = self.files.last_mut();
            match l.as_bytes().first() {
                Some(b'+') => {
                    line.kind = LineKind::Add;
                    line.new = self.new;
                    self.new += 1;
                    if let Some(f) = file {
                        f.added += 1;
                    }
                }
                Some(b'-') => {
                    line.kind = LineKind::Del;
                    line.old = self.old;
                    self.old += 1;
                    if let Some(f) = file {
                        f.removed += 1;
                    }
                }
                Some(b'\\') => {}
                _ => {
                    line.kind = LineKind::Context;
                    (line.old, line.new) = (self.old, self.new);
                    self.old += 1;
                    self.new += 1;
                }
            }
        } else if let Some(f) = self.files.last_mut() {
            header_line(f, l, &mut line);
        }
        line
    }

    /// Builds the side-by-side rows of lines `first..`: a run of removed lines faces
    /// the added lines that follow it. A run still open at the end of the text is laid
    /// out for now and laid out again when the next page continues it.
    fn pair(&mut self, first: usize) {
        self.rows.truncate(self.settled);
        self.row_of.resize(self.lines.len(), 0);
        for i in first..self.lines.len() {
            match self.lines[i].kind {
                LineKind::Del => {
                    if !self.adds.is_empty() {
                        self.flush();
                    }
                    self.dels.push(i);
                }
                // With no removed lines to face, an added line's row is final.
                LineKind::Add if self.dels.is_empty() => self.push_row(None, Some(i)),
                LineKind::Add => self.adds.push(i),
                _ => {
                    self.flush();
                    self.push_row(Some(i), Some(i));
                }
            }
        }
        let (dels, adds) = (self.dels.clone(), self.adds.clone());
        self.flush();
        self.settled = self.rows.len() - dels.len().max(adds.len());
        (self.dels, self.adds) = (dels, adds);
    }

    fn flush(&mut self) {
        let (dels, adds) = (
            std::mem::take(&mut self.dels),
            std::mem::take(&mut self.adds),
        );
        for i in 0..dels.len().max(adds.len()) {
            self.push_row(dels.get(i).copied(), adds.get(i).copied());
        }
        self.settled = self.rows.len();
    }

    fn push_row(&mut self, left: Option<usize>, right: Option<usize>) {
        for l in left.iter().chain(right.iter()) {
            self.row_of[*l] = self.rows.len();
        }
        self.rows.push(SideRow { left, right });
        self.settled = self.rows.len();
    }

    /// The text of line `i`, its +/-/space marker included.
    pub fn text(&self, i: usize) -> &str {
        let l = &self.lines[i];
        &self.text[l.start..l.end]
    }

    pub fn bytes(&self) -> usize {
        self.text.len()
    }

    /// The file line `i` belongs to.
    pub fn file_of(&self, i: usize) -> Option<&FileChange> {
        let n = self.files.partition_point(|f| f.line <= i);
        n.checked_sub(1).map(|k| &self.files[k])
    }

    /// Rows before the diff itself: a summary line, then one per file.
    pub fn head(&self) -> usize {
        self.files.len() + 1
    }

    /// How many rows the view scrolls over in either layout.
    pub fn len(&self, split: bool) -> usize {
        self.head()
            + if split {
                self.rows.len()
            } else {
                self.lines.len()
            }
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// A position in the unified layout → the side-by-side row showing it.
    pub fn to_split(&self, pos: usize) -> usize {
        let head = self.head();
        match pos.checked_sub(head) {
            Some(i) if i < self.row_of.len() => head + self.row_of[i],
            Some(_) => self.len(true).saturating_sub(1),
            None => pos,
        }
    }

    /// A side-by-side row → the first unified position it shows.
    pub fn to_unified(&self, pos: usize) -> usize {
        let head = self.head();
        match pos.checked_sub(head).and_then(|r| self.rows.get(r)) {
            Some(r) => head + r.left.or(r.right).unwrap_or(0),
            None if pos < head => pos,
            None => self.len(false).saturating_sub(1),
        }
    }

    /// Unified positions where each file's diff starts.
    pub fn file_starts(&self) -> impl Iterator<Item = usize> + '_ {
        self.files.iter().map(|f| self.head() + f.line)
    }
}

/// `@@ -a,b +c,d @@` → (a, c).
fn hunk_starts(l: &str) -> (u32, u32) {
    let mut it = l.split_whitespace().skip(1);
    let num = |s: Option<&str>| {
        s.and_then(|s| s.get(1..))
            .and_then(|s| s.split(',').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    };
    (num(it.next()), num(it.next()))
}

/// A line between `diff --git` and the first hunk.
fn header_line(f: &mut FileChange, l: &str, line: &mut DiffLine) {
    if l.starts_with("new file mode") {
        f.status = 'A';
    } else if l.starts_with("deleted file mode") {
        f.status = 'D';
    } else if let Some(p) = l.strip_prefix("rename from ") {
        f.status = 'R';
        f.old_path = Some(shown_path(p));
    } else if let Some(p) = l.strip_prefix("rename to ") {
        f.path = shown_path(p);
    } else if l.starts_with("--- ") {
        line.kind = LineKind::File;
    } else if let Some(p) = l.strip_prefix("+++ ") {
        line.kind = LineKind::File;
        if let Some(p) = shown_path(p).strip_prefix("b/") {
            f.path = p.to_string();
        }
    }
}

/// A path as git prints it in a diff, for the screen: a quoted one ("caf\351.yaml",
/// for names that are not plain UTF-8) is unquoted, and bytes that are not UTF-8
/// become U+FFFD.
fn shown_path(p: &str) -> String {
    unquote(p).map_or_else(
        || p.to_string(),
        |b| String::from_utf8_lossy(&b).into_owned(),
    )
}

/// Git's C-style quoting undone: `"a\tb\351"` → the bytes; None if not quoted.
fn unquote(p: &str) -> Option<Vec<u8>> {
    let inner = p.strip_prefix('"')?.strip_suffix('"')?.as_bytes();
    let mut out = Vec::with_capacity(inner.len());
    let mut i = 0;
    while i < inner.len() {
        let c = inner[i];
        i += 1;
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let e = *inner.get(i)?;
        i += 1;
        out.push(match e {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'0'..=b'7' => {
                let digits = inner.get(i - 1..i + 2)?;
                i += 2;
                let s = std::str::from_utf8(digits).ok()?;
                u8::from_str_radix(s, 8).ok()?
            }
            other => other,
        });
    }
    Some(out)
}

/// Whether a YAML document declares a StatefulSet or a PersistentVolumeClaim, or has
/// volumeClaimTemplates: the changes that touch data, not just pods.
pub fn declares_stateful(yaml: &str) -> bool {
    yaml.lines().any(|l| {
        let l = l.trim_start().trim_start_matches("- ").trim_start();
        if l.starts_with("volumeClaimTemplates:") {
            return true;
        }
        let Some(v) = l.strip_prefix("kind:") else {
            return false;
        };
        let v = v.split(" #").next().unwrap_or("").trim();
        let v = v.trim_matches(|c| c == '"' || c == '\'');
        v == "StatefulSet" || v == "PersistentVolumeClaim"
    })
}

pub fn is_yaml(path: &str) -> bool {
    path.ends_with(".yaml") || path.ends_with(".yml")
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
diff --git a/apps/db.yaml b/apps/db.yaml
index 1111111..2222222 100644
--- a/apps/db.yaml
+++ b/apps/db.yaml
@@ -1,4 +1,4 @@
 kind: StatefulSet
-replicas: 1
-image: db:1
+replicas: 3
+image: db:2
+extra: yes
 name: db
diff --git a/apps/new.yaml b/apps/new.yaml
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/apps/new.yaml
@@ -0,0 +1 @@
+kind: Service
\\ No newline at end of file
diff --git a/old name.yaml b/new name.yaml
similarity index 90%
rename from old name.yaml
rename to new name.yaml
diff --git a/gone.yaml b/gone.yaml
deleted file mode 100644
index 4444444..0000000
--- a/gone.yaml
+++ /dev/null
@@ -1 +0,0 @@
-kind: Secret
";

    #[test]
    fn files_statuses_and_counts() {
        let d = Diff::parse(TEXT.into());
        let files: Vec<_> = d
            .files
            .iter()
            .map(|f| (f.status, f.path.as_str(), f.added, f.removed))
            .collect();
        assert_eq!(
            files,
            [
                ('M', "apps/db.yaml", 3, 2),
                ('A', "apps/new.yaml", 1, 0),
                ('R', "new name.yaml", 0, 0),
                ('D', "gone.yaml", 0, 1),
            ]
        );
        assert_eq!(d.files[2].old_path.as_deref(), Some("old name.yaml"));
        assert_eq!(d.lines.len(), TEXT.lines().count());
        assert_eq!(d.text(5), " kind: StatefulSet");
        assert_eq!(d.file_of(5).unwrap().path, "apps/db.yaml");
        assert_eq!(d.file_of(14).unwrap().path, "apps/new.yaml");
    }

    #[test]
    fn kinds_and_line_numbers() {
        let d = Diff::parse(TEXT.into());
        let kinds: Vec<LineKind> = d.lines[..11].iter().map(|l| l.kind).collect();
        use LineKind::*;
        assert_eq!(
            kinds,
            [
                File, Meta, File, File, Hunk, Context, Del, Del, Add, Add, Add
            ]
        );
        assert_eq!((d.lines[5].old, d.lines[5].new), (1, 1));
        assert_eq!(d.lines[7].old, 3);
        assert_eq!(d.lines[10].new, 4);
        assert_eq!((d.lines[11].old, d.lines[11].new), (4, 5));
        // "\ No newline" is not a line of either file.
        assert_eq!(d.lines[19].kind, Meta);
    }

    #[test]
    fn a_removed_line_that_looks_like_a_header_stays_removed() {
        let d = Diff::parse(
            "diff --git a/x.yaml b/x.yaml\n--- a/x.yaml\n+++ b/x.yaml\n@@ -1,2 +1 @@\n--- \n-- a\n+b\n"
                .into(),
        );
        let kinds: Vec<LineKind> = d.lines.iter().map(|l| l.kind).collect();
        use LineKind::*;
        assert_eq!(kinds, [File, File, File, Hunk, Del, Del, Add]);
        assert_eq!((d.files[0].added, d.files[0].removed), (1, 2));
    }

    #[test]
    fn side_by_side_pairs_removed_with_added_lines() {
        let d = Diff::parse(TEXT.into());
        let r = |l: Option<usize>, r: Option<usize>| SideRow { left: l, right: r };
        // The first hunk: context, two removed facing three added, context.
        assert_eq!(
            &d.rows[4..10],
            [
                r(Some(4), Some(4)),
                r(Some(5), Some(5)),
                r(Some(6), Some(8)),
                r(Some(7), Some(9)),
                r(None, Some(10)),
                r(Some(11), Some(11)),
            ]
        );
        assert_eq!(d.len(false) - d.len(true), 2);
        // Positions map both ways; the head rows are the same in both layouts.
        let head = d.head();
        assert_eq!(d.to_split(head + 8), head + 6);
        assert_eq!(d.to_unified(head + 6), head + 6);
        assert_eq!(d.to_unified(head + 8), head + 10);
        assert_eq!(d.to_split(2), 2);
        assert_eq!(d.to_split(usize::MAX / 2), d.len(true) - 1);
        assert_eq!(
            d.file_starts().collect::<Vec<_>>(),
            [head, head + 12, head + 20, head + 24]
        );
    }

    #[test]
    fn a_diff_parsed_a_page_at_a_time_is_the_diff_parsed_whole() {
        let whole = Diff::parse(TEXT.into());
        // Every cut at a line's end, including inside a run of removed lines that
        // the next page's added lines face.
        let ends: Vec<usize> = TEXT.match_indices('\n').map(|(i, _)| i + 1).collect();
        for &cut in &ends {
            for &cut2 in ends.iter().filter(|&&c| c > cut) {
                let mut d = Diff::parse(TEXT[..cut].into());
                d.extend(&TEXT[cut..cut2]);
                d.extend(&TEXT[cut2..]);
                assert!(d == whole, "cut at {cut} and {cut2}: {d:?}");
            }
        }
    }

    #[test]
    fn quoted_paths_are_unquoted_and_shown_lossily() {
        let d = Diff::parse(
            "diff --git \"a/caf\\351.yaml\" \"b/caf\\351.yaml\"\nnew file mode 100644\n--- /dev/null\n+++ \"b/caf\\351.yaml\"\n@@ -0,0 +1 @@\n+a: 1\n\
             diff --git a/x.yaml \"b/tab\\there.yaml\"\nsimilarity index 100%\nrename from x.yaml\nrename to \"tab\\there.yaml\"\n"
                .into(),
        );
        let files: Vec<(char, &str)> = d
            .files
            .iter()
            .map(|f| (f.status, f.path.as_str()))
            .collect();
        assert_eq!(files, [('A', "caf\u{fffd}.yaml"), ('R', "tab\there.yaml")]);
        assert_eq!(d.files[1].old_path.as_deref(), Some("x.yaml"));
        assert_eq!(unquote("\"\\303\\251\""), Some("é".as_bytes().to_vec()));
        assert_eq!(unquote("plain"), None);
        assert_eq!(unquote("\"cut\\"), None);
    }

    #[test]
    fn an_empty_diff_has_only_its_summary_row() {
        let d = Diff::parse(String::new());
        assert!(d.is_empty());
        assert_eq!(d.len(false), 1);
        assert_eq!(d.len(true), 1);
        assert_eq!(d.to_unified(5), 0);
    }

    #[test]
    fn stateful_kinds() {
        assert!(declares_stateful(
            "apiVersion: apps/v1\nkind: StatefulSet\n"
        ));
        assert!(declares_stateful(
            "kind: \"PersistentVolumeClaim\" # data\n"
        ));
        assert!(declares_stateful(
            "kind: List\nitems:\n- kind: PersistentVolumeClaim\n"
        ));
        assert!(declares_stateful(
            "kind: Thing\nspec:\n  volumeClaimTemplates:\n  - x\n"
        ));
        assert!(!declares_stateful(
            "kind: Deployment\n# kind: StatefulSet\n"
        ));
        assert!(!declares_stateful("kind: StatefulSetLike\n"));
        assert!(!declares_stateful("metadata:\n  name: kind: StatefulSet\n"));
    }
}
