//! The Kubernetes manifests of a commit, read from git objects without a checkout,
//! or of the working tree to preview edits. A bad file or document is reported and
//! skipped; it never hides the rest. Sizes and alias expansion are bounded (`limits`).
pub mod limits;

use limits::{Count, Limits};
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use serde_yaml::Value as Yaml;

/// One object from a manifest file.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// Path relative to the repository root, '/'-separated.
    pub file: String,
    /// 1-based line where the document starts (its first non-comment, non-'---' line).
    pub line: usize,
    /// The object as JSON (a mapping with apiVersion, kind, metadata.name).
    pub obj: Json,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ManifestError {
    pub file: String,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// One line, without a location.
    pub message: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Manifests {
    /// Full SHA the manifests were read at ("" for the working tree).
    pub commit: String,
    /// In file order (files sorted by path), then document order.
    pub objects: Vec<Manifest>,
    pub errors: Vec<ManifestError>,
}

impl ManifestError {
    /// "apps/x.yaml:12: message", or "apps/x.yaml: message" without a line.
    pub fn to_string_line(&self) -> String {
        match self.line {
            Some(line) => format!("{}:{}: {}", self.file, line, self.message),
            None => format!("{}: {}", self.file, self.message),
        }
    }
}

/// What a walk finds: a file to read (through a handle) or a Helm chart to report.
enum Found<H> {
    File(String, H),
    Chart(String),
}

/// Every .yaml/.yml file under `path` ("" or "." for all) of the commit `rev`.
pub fn read(repo: &git2::Repository, rev: &str, path: &str) -> Result<Manifests, String> {
    let commit = repo
        .revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| format!("revision {rev:?} not found: {}", e.message()))?;
    let sha = commit.id().to_string();
    let root = commit
        .tree()
        .map_err(|e| format!("tree of {sha} not readable: {}", e.message()))?;
    let dir = clean_dir(path)?;
    let tree_at = |p: &str| -> Option<git2::Tree<'_>> {
        if p.is_empty() {
            return Some(root.clone());
        }
        let entry = root.get_path(Path::new(p)).ok()?;
        entry.to_object(repo).ok()?.into_tree().ok()
    };
    let mut found = Vec::new();
    let above = chart_above(&dir, |p| {
        tree_at(p).is_some_and(|t| t.get_name("Chart.yaml").is_some())
    });
    if let Some(chart) = above {
        found.push(Found::Chart(chart));
    } else if let Some(tree) = tree_at(&dir) {
        walk_tree(repo, &tree, &dir, &mut found)
            .map_err(|e| format!("reading {rev} ({sha}): {}", e.message()))?;
    } else {
        let entry = root
            .get_path(Path::new(&dir))
            .map_err(|_| format!("path {dir:?} not found at {rev} ({sha})"))?;
        if entry.kind() == Some(git2::ObjectType::Blob) && is_candidate(&dir) {
            found.push(Found::File(dir.clone(), entry.id()));
        }
    }
    let mut out = Manifests {
        commit: sha,
        ..Manifests::default()
    };
    let odb = repo
        .odb()
        .map_err(|e| format!("git objects not readable: {}", e.message()))?;
    // The size comes from the object's header: a huge blob is refused unread.
    let size = |oid: &git2::Oid| {
        odb.read_header(*oid)
            .map(|(n, _)| n as u64)
            .map_err(|e| format!("blob not readable: {}", e.message()))
    };
    let read = |oid: &git2::Oid| {
        repo.find_blob(*oid)
            .map(|b| b.content().to_vec())
            .map_err(|e| format!("blob not readable: {}", e.message()))
    };
    load(found, &mut out, &Limits::DEFAULT, size, read);
    Ok(out)
}

/// The same for the working tree (uncommitted files); files git ignores are skipped.
pub fn read_worktree(root: &Path, path: &str) -> Result<Manifests, String> {
    let dir = clean_dir(path)?;
    let start = root.join(&dir);
    let meta = std::fs::metadata(&start)
        .map_err(|e| format!("path {:?} not found in {}: {e}", dir, root.display()))?;
    // Ignored files never reach a commit, so a preview must not show them either.
    let repo = git2::Repository::open(root).ok();
    let ignored = |p: &str| {
        repo.as_ref()
            .is_some_and(|r| r.is_path_ignored(p).unwrap_or(false))
    };
    let mut found = Vec::new();
    if let Some(chart) = chart_above(&dir, |p| root.join(p).join("Chart.yaml").is_file()) {
        found.push(Found::Chart(chart));
    } else if meta.is_dir() {
        walk_dir(root, &dir, &ignored, &mut found)?;
    } else if is_candidate(&dir) && !ignored(&dir) {
        found.push(Found::File(dir.clone(), start));
    }
    let mut out = Manifests::default();
    let size = |p: &PathBuf| {
        std::fs::metadata(p)
            .map(|m| m.len())
            .map_err(|e| format!("not readable: {e}"))
    };
    let read = |p: &PathBuf| std::fs::read(p).map_err(|e| format!("not readable: {e}"));
    load(found, &mut out, &Limits::DEFAULT, size, read);
    Ok(out)
}

/// Parses one file's text: its objects and its errors, lines relative to the file.
pub fn parse_file(file: &str, text: &str) -> (Vec<Manifest>, Vec<ManifestError>) {
    parse_limited(file, text, &Limits::DEFAULT, &mut 0)
}

/// The same within `limits`; `values` counts the values kept so far (aliases expanded).
fn parse_limited(
    file: &str,
    text: &str,
    limits: &Limits,
    values: &mut usize,
) -> (Vec<Manifest>, Vec<ManifestError>) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    for doc in split_documents(text) {
        let Some(first) = doc.first else { continue };
        let error = |line: usize, message: String| ManifestError {
            file: file.to_string(),
            line: Some(line),
            message,
        };
        // The parser counts lines from the start of the document, not the file.
        if let Err((line, message)) = within(doc.text, limits, values) {
            errors.push(error(line.map_or(first, |l| doc.start + l - 1), message));
            continue;
        }
        match parse_document(doc.text) {
            Ok(Json::Null) => {}
            Ok(value) => {
                let (mut found, mut wrong) = (Vec::new(), Vec::new());
                collect(value, "", &mut found, &mut wrong);
                objects.extend(found.into_iter().map(|obj| Manifest {
                    file: file.to_string(),
                    line: first,
                    obj,
                }));
                errors.extend(wrong.into_iter().map(|m| error(first, m)));
            }
            // The parser counts lines from the start of the document, not the file.
            Err((Some(line), message)) => errors.push(error(doc.start + line - 1, message)),
            Err((None, message)) => errors.push(error(first, message)),
        }
    }
    (objects, errors)
}

/// Checks a document's size and counts its values before anything is built; the
/// count is added to `values` when it fits.
fn within(text: &str, limits: &Limits, values: &mut usize) -> Result<(), (Option<usize>, String)> {
    if text.len() > limits.document_bytes {
        return Err((
            None,
            format!(
                "a document of {} is over {}, the most the API server takes in one request",
                limits::size(text.len() as u64),
                limits::size(limits.document_bytes as u64)
            ),
        ));
    }
    let left = limits.values.saturating_sub(*values);
    let aliases = limits::alias_budget(text.len());
    match limits::count_values(text, aliases.min(left)) {
        Ok(n) => {
            *values += n;
            Ok(())
        }
        Err(Count::Yaml(e)) => Err(yaml_error(e)),
        Err(Count::Over { .. }) if aliases < left => Err((
            None,
            format!("aliases expand to more than {aliases} values: refused as an alias bomb"),
        )),
        Err(Count::Over { .. }) => Err((
            None,
            format!(
                "the manifests pass {} values (aliases expanded), the most read for one commit: \
                 sync smaller parts with --path",
                limits.values
            ),
        )),
    }
}

/// "", "." and "./" mean the whole repository; ".." may not leave it.
fn clean_dir(path: &str) -> Result<String, String> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(format!("path {path:?} leaves the repository"));
    }
    Ok(parts.join("/"))
}

/// The nearest proper ancestor of `dir` that is a Helm chart, if any.
fn chart_above(dir: &str, is_chart: impl Fn(&str) -> bool) -> Option<String> {
    if dir.is_empty() {
        return None;
    }
    let mut prefixes = vec![""];
    prefixes.extend(dir.match_indices('/').map(|(i, _)| &dir[..i]));
    prefixes
        .into_iter()
        .find(|p| is_chart(p))
        .map(str::to_string)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_kustomization(path: &str) -> bool {
    matches!(
        file_name(path),
        "kustomization.yaml" | "kustomization.yml" | "Kustomization"
    )
}

fn is_candidate(path: &str) -> bool {
    let lower = file_name(path).to_ascii_lowercase();
    lower.ends_with(".yaml") || lower.ends_with(".yml") || is_kustomization(path)
}

fn walk_tree(
    repo: &git2::Repository,
    tree: &git2::Tree,
    dir: &str,
    found: &mut Vec<Found<git2::Oid>>,
) -> Result<(), git2::Error> {
    // A chart's templates are not YAML until rendered.
    if tree.get_name("Chart.yaml").is_some() {
        found.push(Found::Chart(dir.to_string()));
        return Ok(());
    }
    for entry in tree.iter() {
        // Names that are not UTF-8 cannot be Kubernetes manifests anyone edits here.
        let Ok(name) = entry.name() else { continue };
        let path = join(dir, name);
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                walk_tree(repo, &repo.find_tree(entry.id())?, &path, found)?
            }
            // Symlinks are blobs holding a target path, not YAML.
            Some(git2::ObjectType::Blob) if entry.filemode() != 0o120000 && is_candidate(&path) => {
                found.push(Found::File(path, entry.id()))
            }
            _ => {}
        }
    }
    Ok(())
}

fn walk_dir(
    root: &Path,
    dir: &str,
    ignored: &dyn Fn(&str) -> bool,
    found: &mut Vec<Found<PathBuf>>,
) -> Result<(), String> {
    let full = root.join(dir);
    if full.join("Chart.yaml").is_file() {
        found.push(Found::Chart(dir.to_string()));
        return Ok(());
    }
    let entries = std::fs::read_dir(&full).map_err(|e| format!("{}: {e}", full.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", full.display()))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name == ".git" {
            continue;
        }
        let path = join(dir, name);
        // Symlinks are skipped, as in git trees, so a preview matches the commit.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() && !ignored(&format!("{path}/")) {
            walk_dir(root, &path, ignored, found)?;
        } else if kind.is_file() && is_candidate(&path) && !ignored(&path) {
            found.push(Found::File(path, entry.path()));
        }
    }
    Ok(())
}

/// Reads and parses what a walk found, in path order, within `limits`: a file that
/// would take the commit past its size is refused unread, by name.
fn load<H>(
    mut found: Vec<Found<H>>,
    out: &mut Manifests,
    limits: &Limits,
    size: impl Fn(&H) -> Result<u64, String>,
    read: impl Fn(&H) -> Result<Vec<u8>, String>,
) {
    let (mut bytes, mut values) = (0u64, 0usize);
    let path = |f: &Found<H>| match f {
        Found::File(p, _) | Found::Chart(p) => p.clone(),
    };
    found.sort_by_key(path);
    let error = |file: &str, line, message: &str| ManifestError {
        file: file.to_string(),
        line,
        message: message.to_string(),
    };
    for f in found {
        match f {
            Found::Chart(dir) => {
                let dir = if dir.is_empty() { ".".to_string() } else { dir };
                out.errors
                    .push(error(&dir, None, "Helm chart is not supported yet"));
            }
            Found::File(file, _) if is_kustomization(&file) => {
                out.errors
                    .push(error(&file, None, "kustomize is not supported yet"));
            }
            Found::File(file, handle) => match size(&handle).and_then(|n| {
                fits(n, bytes, limits)?;
                bytes += n;
                read(&handle)
            }) {
                Err(message) => out.errors.push(error(&file, None, &message)),
                Ok(bytes) => match std::str::from_utf8(&bytes) {
                    Err(e) => {
                        let valid = &bytes[..e.valid_up_to()];
                        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
                        let message = "not UTF-8 text (a binary file?)";
                        out.errors.push(error(&file, Some(line), message));
                    }
                    Ok(text) => {
                        let (objects, errors) = parse_limited(&file, text, limits, &mut values);
                        out.objects.extend(objects);
                        out.errors.extend(errors);
                    }
                },
            },
        }
    }
}

/// Whether a file of `n` bytes fits after `used` bytes of manifests.
fn fits(n: u64, used: u64, limits: &Limits) -> Result<(), String> {
    if used + n <= limits.commit_bytes {
        return Ok(());
    }
    let max = limits::size(limits.commit_bytes);
    Err(if n > limits.commit_bytes {
        format!(
            "{} is over {max}, the most read for one commit (as Argo CD's default): \
             split it, or sync its parts with --path",
            limits::size(n)
        )
    } else {
        format!(
            "not read: with it the manifests would total {}, over {max} for one commit \
             (as Argo CD's default); sync smaller parts with --path",
            limits::size(used + n)
        )
    })
}

/// A document's text between separators, with where it starts in the file.
struct Document<'a> {
    text: &'a str,
    /// 1-based file line of the text's first line.
    start: usize,
    /// 1-based file line of the first content line; None for an empty document.
    first: Option<usize>,
}

/// Splits on `---` lines ourselves, so one bad document does not hide the others.
fn split_documents(text: &str) -> Vec<Document<'_>> {
    let mut docs = Vec::new();
    let (mut from, mut start, mut first) = (0, 1, None);
    let mut offset = 0;
    for (i, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim_end_matches(['\n', '\r']);
        if is_separator(bare) {
            docs.push(Document {
                text: &text[from..offset],
                start,
                first,
            });
            (from, start, first) = (offset + line.len(), i + 2, None);
        } else if first.is_none() && is_content(bare) {
            first = Some(i + 1);
        }
        offset += line.len();
    }
    docs.push(Document {
        text: &text[from..],
        start,
        first,
    });
    docs
}

/// Not blank, not a comment, not a lone `...` (document end) marker.
fn is_content(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && !line.starts_with('#') && line != "..."
}

/// `---`, optionally followed by spaces and a comment.
fn is_separator(line: &str) -> bool {
    line.strip_prefix("---").is_some_and(|rest| {
        let after = rest.trim_start_matches([' ', '\t']);
        after.is_empty() || (after.starts_with('#') && after.len() < rest.len())
    })
}

/// One document as JSON; an error has the document-relative line when the parser knows it.
fn parse_document(text: &str) -> Result<Json, (Option<usize>, String)> {
    let mut yaml: Yaml = serde_yaml::from_str(text).map_err(yaml_error)?;
    yaml.apply_merge().map_err(yaml_error)?;
    to_json(yaml, "").map_err(|m| (None, m))
}

/// The parser's message with its document-relative line, when it knows it.
fn yaml_error(e: serde_yaml::Error) -> (Option<usize>, String) {
    (e.location().map(|l| l.line()), strip_marks(&e.to_string()))
}

/// Drops " at line N column M" and " at position N": they count from the document
/// start, and the file line is reported on its own.
fn strip_marks(message: &str) -> String {
    let mut out = message.replace('\n', " ");
    for marker in [" at line ", " at position "] {
        while let Some(at) = out.find(marker) {
            let rest = &out[at + marker.len()..];
            let mut end = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if let Some(col) = rest[end..].strip_prefix(" column ") {
                end += " column ".len()
                    + (col.len() - col.trim_start_matches(|c: char| c.is_ascii_digit()).len());
            }
            if end == 0 {
                break;
            }
            out.replace_range(at..at + marker.len() + end, "");
        }
    }
    out
}

fn to_json(yaml: Yaml, path: &str) -> Result<Json, String> {
    Ok(match yaml {
        Yaml::Null => Json::Null,
        Yaml::Bool(b) => Json::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Json::from(i)
            } else if let Some(u) = n.as_u64() {
                Json::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Json::Number)
                    .ok_or_else(|| format!("{}: {n} is not a JSON number", at(path)))?
            }
        }
        Yaml::String(s) => Json::String(s),
        Yaml::Sequence(items) => Json::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(map) => {
            let mut obj = serde_json::Map::new();
            for (k, v) in map {
                let Yaml::String(key) = k else {
                    return Err(format!(
                        "{}: key {} is not a string",
                        at(path),
                        describe(&k)
                    ));
                };
                let value = to_json(v, &join_key(path, &key))?;
                obj.insert(key, value);
            }
            Json::Object(obj)
        }
        // Custom tags (!Ref and the like) mean nothing to Kubernetes: keep the value.
        Yaml::Tagged(tagged) => to_json(tagged.value, path)?,
    })
}

/// A value's path for messages: "document" at the top, "items[2]" or "spec.ports[0]" below.
fn at(path: &str) -> &str {
    if path.is_empty() { "document" } else { path }
}

fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn describe(yaml: &Yaml) -> String {
    match yaml {
        Yaml::Null => "null".to_string(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        Yaml::String(s) => format!("{s:?}"),
        Yaml::Sequence(_) => "a sequence".to_string(),
        Yaml::Mapping(_) => "a mapping".to_string(),
        Yaml::Tagged(t) => describe(&t.value),
    }
}

fn kind_of(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a sequence",
        Json::Object(_) => "a mapping",
    }
}

/// The objects in a document (itself, or a List's items) into `out`; what is wrong
/// with each into `errors`, so one bad item does not hide the others.
fn collect(value: Json, path: &str, out: &mut Vec<Json>, errors: &mut Vec<String>) {
    if !value.is_object() {
        errors.push(format!(
            "{} is {}, not a mapping",
            at(path),
            kind_of(&value)
        ));
        return;
    }
    let kind = value["kind"].as_str().unwrap_or_default();
    if kind.ends_with("List")
        && let Json::Object(mut map) = value.clone()
        && let Some(Json::Array(items)) = map.remove("items")
    {
        for (i, item) in items.into_iter().enumerate() {
            collect(
                item,
                &format!("{}[{i}]", join_key(path, "items")),
                out,
                errors,
            );
        }
        return;
    }
    if kind == "List" {
        errors.push(format!("{}: List without an items sequence", at(path)));
        return;
    }
    let missing: Vec<&str> = [
        ("apiVersion", "/apiVersion"),
        ("kind", "/kind"),
        ("metadata.name", "/metadata/name"),
    ]
    .into_iter()
    .filter(|(_, ptr)| {
        value
            .pointer(ptr)
            .and_then(Json::as_str)
            .is_none_or(str::is_empty)
    })
    .map(|(name, _)| name)
    .collect();
    if missing.is_empty() {
        out.push(value);
    } else {
        errors.push(format!("{}: missing {}", at(path), missing.join(", ")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(objects: &[Manifest]) -> Vec<(String, usize, String, String)> {
        objects
            .iter()
            .map(|m| {
                let kind = m.obj["kind"].as_str().unwrap_or_default().to_string();
                let name = m.obj["metadata"]["name"].as_str().unwrap_or_default();
                (m.file.clone(), m.line, kind, name.to_string())
            })
            .collect()
    }

    fn lines(errors: &[ManifestError]) -> Vec<String> {
        errors.iter().map(ManifestError::to_string_line).collect()
    }

    fn row(file: &str, line: usize, kind: &str, name: &str) -> (String, usize, String, String) {
        (file.to_string(), line, kind.to_string(), name.to_string())
    }

    #[test]
    fn documents_comments_and_empty_documents() {
        let text = "\
# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  enabled: yes
  count: 3
---   # trailing comment
# only a comment

---
...
---
apiVersion: v1
kind: Service
metadata: {name: b}
";
        let (objects, errors) = parse_file("x.yaml", text);
        assert_eq!(errors, vec![]);
        assert_eq!(
            names(&objects),
            vec![
                row("x.yaml", 3, "ConfigMap", "a"),
                row("x.yaml", 16, "Service", "b")
            ]
        );
        assert_eq!(objects[0].obj["data"]["enabled"], "yes");
        assert_eq!(objects[0].obj["data"]["count"], 3);
    }

    #[test]
    fn separators_need_the_whole_line() {
        assert!(is_separator("---"));
        assert!(is_separator("---  "));
        assert!(is_separator("--- # next"));
        assert!(!is_separator("---#x"));
        assert!(!is_separator("----"));
        assert!(!is_separator(" ---"));
        assert!(!is_separator("--- a: 1"));
    }

    #[test]
    fn bad_document_is_reported_at_its_file_line_and_hides_nothing() {
        let text = "\
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b: c
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
";
        let (objects, errors) = parse_file("apps/x.yaml", text);
        assert_eq!(
            names(&objects),
            vec![
                row("apps/x.yaml", 1, "ConfigMap", "a"),
                row("apps/x.yaml", 10, "ConfigMap", "c")
            ]
        );
        assert_eq!(
            lines(&errors),
            vec!["apps/x.yaml:8: mapping values are not allowed in this context"]
        );
    }

    #[test]
    fn windows_line_endings_and_a_byte_order_mark() {
        let text = "\u{feff}apiVersion: v1\r\nkind: A\r\nmetadata: {name: a}\r\n---\r\n\
                    apiVersion: v1\r\nkind: B\r\nmetadata: {name: b}\r\n";
        let (objects, errors) = parse_file("w.yaml", text);
        assert_eq!(errors, vec![]);
        assert_eq!(
            names(&objects),
            vec![row("w.yaml", 1, "A", "a"), row("w.yaml", 5, "B", "b")]
        );
    }

    #[test]
    fn missing_fields_are_named() {
        let text = "\
apiVersion: v1
metadata: {}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: 7}
---
kind: ConfigMap
metadata: {name: ok}
";
        let (objects, errors) = parse_file("m.yaml", text);
        assert_eq!(objects, vec![]);
        assert_eq!(
            lines(&errors),
            vec![
                "m.yaml:1: document: missing kind, metadata.name",
                "m.yaml:4: document: missing metadata.name",
                "m.yaml:8: document: missing apiVersion",
            ]
        );
    }

    #[test]
    fn lists_expand_into_their_items() {
        let text = "\
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}
- {kind: ConfigMap, metadata: {name: b}}
- {apiVersion: v1, kind: Secret, metadata: {name: c}}
---
apiVersion: v1
kind: ServiceList
items:
- {apiVersion: v1, kind: Service, metadata: {name: d}}
---
apiVersion: v1
kind: List
";
        let (objects, errors) = parse_file("l.yaml", text);
        assert_eq!(
            names(&objects),
            vec![
                row("l.yaml", 1, "ConfigMap", "a"),
                row("l.yaml", 1, "Secret", "c"),
                row("l.yaml", 8, "Service", "d"),
            ]
        );
        assert_eq!(
            lines(&errors),
            vec![
                "l.yaml:1: items[1]: missing apiVersion",
                "l.yaml:13: document: List without an items sequence",
            ]
        );
    }

    #[test]
    fn non_mappings_and_non_string_keys_are_errors() {
        let text = "\
- a
- b
---
just a string
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  labels:
    1: one
";
        let (objects, errors) = parse_file("n.yaml", text);
        assert_eq!(objects, vec![]);
        assert_eq!(
            lines(&errors),
            vec![
                "n.yaml:1: document is a sequence, not a mapping",
                "n.yaml:4: document is a string, not a mapping",
                "n.yaml:6: metadata.labels: key 1 is not a string",
            ]
        );
    }

    #[test]
    fn anchors_merge_keys_and_tags_resolve() {
        let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  labels: &common {app: web}
  annotations:
    <<: *common
    note: !custom kept
";
        let (objects, errors) = parse_file("a.yaml", text);
        assert_eq!(errors, vec![]);
        let meta = &objects[0].obj["metadata"];
        assert_eq!(meta["annotations"]["app"], "web");
        assert_eq!(meta["annotations"]["note"], "kept");
    }

    fn billion_laughs() -> String {
        let mut t = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lol}\ndata:\n");
        t.push_str(
            "  a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
        for w in names.windows(2) {
            let refs = vec![format!("*{}", w[0]); 9].join(",");
            t.push_str(&format!("  {}: &{} [{refs}]\n", w[1], w[1]));
        }
        t
    }

    /// An anchor of `width` values referenced `refs` times: under serde_yaml's
    /// repetition limit, but 10 million values from 52 KB at (1000, 10000).
    fn quadratic_bomb(width: usize, refs: usize) -> String {
        let mut t = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: q}\n");
        t.push_str(&format!("x: &a [{}x]\ndata:\n", "x,".repeat(width)));
        t.push_str(&"- *a\n".repeat(refs));
        t
    }

    #[test]
    fn alias_bombs_are_refused_at_their_line_and_the_next_document_reads() {
        for bomb in [billion_laughs(), quadratic_bomb(1000, 10_000)] {
            let text = format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: ok}}\n---\n{bomb}---\n\
                 apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: after}}\n"
            );
            let (objects, errors) = parse_file("apps/bomb.yaml", &text);
            let names: Vec<_> = names(&objects).into_iter().map(|r| r.3).collect();
            assert_eq!(names, ["ok", "after"]);
            assert_eq!(errors.len(), 1, "{errors:?}");
            let line = lines(&errors).remove(0);
            assert!(
                line.starts_with("apps/bomb.yaml:5: ") && line.contains("alias bomb"),
                "{line}"
            );
        }
    }

    #[test]
    fn aliases_within_reason_still_expand() {
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: m}\n");
        text.push_str("x: &d {a: 1, b: 2, c: [1, 2, 3]}\ndata:\n");
        for i in 0..200 {
            text.push_str(&format!("  k{i}: {{<<: *d, i: {i}}}\n"));
        }
        let (objects, errors) = parse_file("m.yaml", &text);
        assert_eq!(errors, vec![]);
        assert_eq!(objects[0].obj["data"]["k199"]["c"][2], 3);
    }

    fn small() -> Limits {
        Limits {
            commit_bytes: 1000,
            document_bytes: 300,
            values: 60,
        }
    }

    fn config_map(name: &str, pad: usize) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: \"{}\"}}\n",
            "x".repeat(pad)
        )
    }

    /// Loads in-memory files within `limits`; returns what was read and the files
    /// whose bytes were fetched.
    fn load_texts(files: &[(&str, String)], limits: &Limits) -> (Manifests, Vec<String>) {
        let fetched = std::cell::RefCell::new(Vec::new());
        let found = files
            .iter()
            .map(|(f, t)| Found::File(f.to_string(), (f.to_string(), t.clone())))
            .collect();
        let mut out = Manifests::default();
        let size = |h: &(String, String)| Ok(h.1.len() as u64);
        let read = |h: &(String, String)| {
            fetched.borrow_mut().push(h.0.clone());
            Ok(h.1.clone().into_bytes())
        };
        load(found, &mut out, limits, size, read);
        (out, fetched.into_inner())
    }

    #[test]
    fn a_file_past_the_commit_size_is_refused_unread_and_named() {
        let files = [
            ("a.yaml", config_map("a", 100)),
            ("b-huge.yaml", config_map("b", 2000)),
            ("c.yaml", config_map("c", 500)),
            ("d.yaml", config_map("d", 300)),
        ];
        let limits = Limits {
            document_bytes: 1000,
            ..small()
        };
        let (m, fetched) = load_texts(&files, &limits);
        assert_eq!(fetched, ["a.yaml", "c.yaml"], "over the limit: never read");
        let got: Vec<_> = names(&m.objects).into_iter().map(|r| r.3).collect();
        assert_eq!(got, ["a", "c"]);
        let errors = lines(&m.errors);
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(
            errors[0]
                .starts_with("b-huge.yaml: 2 KiB is over 1000 bytes, the most read for one commit"),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with("d.yaml: not read: with it the manifests would total 1 KiB"),
            "{}",
            errors[1]
        );
    }

    #[test]
    fn a_document_too_big_for_the_api_server_is_refused_at_its_line() {
        let text = format!("{}---\n{}", config_map("a", 10), config_map("big", 400));
        let (objects, errors) = parse_limited("x.yaml", &text, &small(), &mut 0);
        assert_eq!(objects.len(), 1);
        assert_eq!(
            lines(&errors),
            [
                "x.yaml:6: a document of 467 bytes is over 300 bytes, the most the API server takes in one request"
            ]
        );
    }

    #[test]
    fn values_are_counted_across_files_of_a_commit() {
        // Each ConfigMap has 13 values: five fit in 65, and a refused one counts nothing.
        let files: Vec<(String, String)> = (0..7)
            .map(|i| (format!("{i}.yaml"), config_map(&format!("c{i}"), 1)))
            .collect();
        let files: Vec<(&str, String)> =
            files.iter().map(|(f, t)| (f.as_str(), t.clone())).collect();
        let limits = Limits {
            commit_bytes: 100_000,
            document_bytes: 100_000,
            values: 65,
        };
        let (m, _) = load_texts(&files, &limits);
        assert_eq!(m.objects.len(), 5);
        let errors = lines(&m.errors);
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].starts_with("5.yaml:1: the manifests pass 65 values"),
            "{errors:?}"
        );
    }

    /// A directory under the system temp dir, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("sextant-manifests-{}-{name}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn write(&self, path: &str, content: &[u8]) {
            let full = self.0.join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, content).unwrap();
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn commit_all(repo: &git2::Repository, message: &str) -> git2::Oid {
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("test", "test@example.com").unwrap();
        let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    fn web(replicas: u32) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n\
             ---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
        )
    }

    /// Two commits: v1 with a bad file, a binary, a kustomization and a chart; v2
    /// scales web, adds a namespace and deletes the bad file.
    fn two_versions(scratch: &Scratch) -> (git2::Repository, git2::Oid, git2::Oid) {
        let repo = git2::Repository::init(&scratch.0).unwrap();
        scratch.write("apps/web.yaml", web(1).as_bytes());
        scratch.write(
            "apps/broken.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: name: x\n",
        );
        scratch.write("apps/kustomization.yaml", b"resources: [web.yaml]\n");
        scratch.write("apps/blob.yaml", b"a: 1\nb: \xff\xfe\n");
        scratch.write("charts/db/Chart.yaml", b"apiVersion: v2\nname: db\n");
        scratch.write("charts/db/templates/sts.yaml", b"{{ .Values.x }}: {\n");
        scratch.write("README.md", b"# not yaml\n");
        let v1 = commit_all(&repo, "v1");
        scratch.write("apps/web.yaml", web(2).as_bytes());
        scratch.write(
            "infra/ns.yml",
            b"apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
        );
        std::fs::remove_file(scratch.0.join("apps/broken.yaml")).unwrap();
        let v2 = commit_all(&repo, "v2");
        (repo, v1, v2)
    }

    #[test]
    fn reads_any_commit_without_a_checkout() {
        let scratch = Scratch::new("commits");
        let (repo, v1, v2) = two_versions(&scratch);

        let old = read(&repo, "HEAD~1", "").unwrap();
        assert_eq!(old.commit, v1.to_string());
        assert_eq!(
            names(&old.objects),
            vec![
                row("apps/web.yaml", 1, "Deployment", "web"),
                row("apps/web.yaml", 8, "Service", "web"),
            ]
        );
        assert_eq!(old.objects[0].obj["spec"]["replicas"], 1);
        assert_eq!(
            lines(&old.errors),
            vec![
                "apps/blob.yaml:2: not UTF-8 text (a binary file?)",
                "apps/broken.yaml:3: mapping values are not allowed in this context",
                "apps/kustomization.yaml: kustomize is not supported yet",
                "charts/db: Helm chart is not supported yet",
            ]
        );
        assert_eq!(read(&repo, &v1.to_string(), ".").unwrap(), old);

        let new = read(&repo, "HEAD", "").unwrap();
        assert_eq!(new.commit, v2.to_string());
        assert_eq!(new.objects[0].obj["spec"]["replicas"], 2);
        assert_eq!(
            names(&new.objects)[2],
            row("infra/ns.yml", 1, "Namespace", "apps")
        );
        assert_eq!(new.errors.len(), 3);

        repo.branch("release", &repo.find_commit(v1).unwrap(), false)
            .unwrap();
        assert_eq!(read(&repo, "release", "").unwrap().commit, v1.to_string());
    }

    #[test]
    fn a_path_limits_what_is_read() {
        let scratch = Scratch::new("paths");
        let (repo, _, _) = two_versions(&scratch);

        let infra = read(&repo, "HEAD", "./infra/").unwrap();
        assert_eq!(
            names(&infra.objects),
            vec![row("infra/ns.yml", 1, "Namespace", "apps")]
        );
        assert_eq!(infra.errors, vec![]);

        let file = read(&repo, "HEAD", "apps/web.yaml").unwrap();
        assert_eq!(file.objects.len(), 2);
        assert_eq!(file.errors, vec![]);

        let inside_chart = read(&repo, "HEAD", "charts/db/templates").unwrap();
        assert_eq!(inside_chart.objects, vec![]);
        assert_eq!(
            lines(&inside_chart.errors),
            vec!["charts/db: Helm chart is not supported yet"]
        );
    }

    #[test]
    fn unknown_revisions_and_paths_are_errors() {
        let scratch = Scratch::new("unknown");
        let (repo, _, _) = two_versions(&scratch);
        let rev = read(&repo, "no-such-branch", "").unwrap_err();
        assert!(rev.contains("no-such-branch"), "{rev}");
        let path = read(&repo, "HEAD", "apps/nope").unwrap_err();
        assert!(path.contains("apps/nope"), "{path}");
        assert!(read(&repo, "HEAD", "../elsewhere").is_err());
        assert!(read_worktree(&scratch.0, "apps/nope").is_err());
    }

    #[test]
    fn the_worktree_shows_uncommitted_files_but_not_ignored_ones() {
        let scratch = Scratch::new("worktree");
        let (_repo, _, _) = two_versions(&scratch);
        scratch.write(".gitignore", b"out/\n");
        scratch.write(
            "out/x.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        );
        scratch.write(
            "apps/new.yaml",
            b"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
        );

        let tree = read_worktree(&scratch.0, "").unwrap();
        assert_eq!(tree.commit, "");
        assert_eq!(
            names(&tree.objects),
            vec![
                row("apps/new.yaml", 1, "Secret", "s"),
                row("apps/web.yaml", 1, "Deployment", "web"),
                row("apps/web.yaml", 8, "Service", "web"),
                row("infra/ns.yml", 1, "Namespace", "apps"),
            ]
        );
        assert_eq!(
            lines(&tree.errors),
            vec![
                "apps/blob.yaml:2: not UTF-8 text (a binary file?)",
                "apps/kustomization.yaml: kustomize is not supported yet",
                "charts/db: Helm chart is not supported yet",
            ]
        );
        let apps = read_worktree(&scratch.0, "apps").unwrap();
        assert_eq!(apps.objects.len(), 3);
    }
}
