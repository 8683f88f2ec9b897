//! `e`: the manifest of a cluster object opened in the user's editor. The TUI hands
//! the terminal over and takes it back; the git pane then shows the change.
use crate::app::cluster::Key;
use crate::app::sync::api_kind;
use crate::config::Settings;
use crate::engine::manifests;
use std::path::PathBuf;
use std::process::Command;

/// The file and line of the object's manifest in the working tree.
/// A manifest without a namespace matches the object in any namespace.
pub fn find(settings: &Settings, key: &Key) -> Result<(PathBuf, usize), String> {
    let dir = settings.repo.as_ref().ok_or("no repository: pass --repo")?;
    let repo = git2::Repository::discover(dir).map_err(|e| e.message().to_string())?;
    let root = repo
        .workdir()
        .ok_or("a bare repository has no files to edit")?;
    let path = settings.path.clone().unwrap_or_default();
    let m = manifests::read_worktree(root, &path)?;
    let (kind, ns, name) = (api_kind(key.0), key.1.as_str(), key.2.as_str());
    m.objects
        .iter()
        .find(|o| {
            let on = o
                .obj
                .pointer("/metadata/namespace")
                .and_then(|v| v.as_str());
            o.obj["kind"] == kind
                && o.obj.pointer("/metadata/name").and_then(|v| v.as_str()) == Some(name)
                && (ns.is_empty() || on.is_none_or(|n| n == ns))
        })
        .map(|o| (root.join(&o.file), o.line))
        .ok_or_else(|| {
            format!(
                "{} {ns}/{name} is not in the repository's manifests",
                key.0.label()
            )
        })
}

/// $VISUAL, else $EDITOR, else vi; at the object's line when the editor takes `+N`.
pub fn command(file: &std::path::Path, line: usize) -> Command {
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi").to_string();
    let mut cmd = Command::new(&program);
    cmd.args(words);
    let base = std::path::Path::new(&program)
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    if ["vi", "vim", "nvim", "nano", "emacs", "micro", "kak"].contains(&base.as_str()) {
        cmd.arg(format!("+{line}"));
    }
    cmd.arg(file);
    cmd
}
