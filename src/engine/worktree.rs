//! The working tree as the git writes see it: paths exactly as git stores them, the
//! index lock git itself takes, and the clean tree that sync and roll back require.
use git2::{Repository, StatusOptions};
use std::fmt;
use std::path::PathBuf;

fn err(e: git2::Error) -> String {
    e.message().to_string()
}

/// A path in the repository exactly as git stores it: bytes, not always UTF-8 (Linux
/// allows any byte but `/` and NUL). Shown lossily; staged and compared by its bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoPath(Vec<u8>);

// Bytes that are not UTF-8 are printed escaped (\xe9), so a test failure shows them.
impl fmt::Debug for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RepoPath(\"{}\")", self.0.escape_ascii())
    }
}

impl RepoPath {
    pub fn from_bytes(b: &[u8]) -> RepoPath {
        RepoPath(b.to_vec())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The path for git2 and the file system, relative to the working tree.
    pub fn to_path(&self) -> PathBuf {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&self.0))
        }
        #[cfg(not(unix))]
        PathBuf::from(String::from_utf8_lossy(&self.0).into_owned())
    }

    pub fn is_manifest(&self) -> bool {
        self.0.ends_with(b".yaml") || self.0.ends_with(b".yml")
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

impl From<&str> for RepoPath {
    fn from(s: &str) -> RepoPath {
        RepoPath(s.as_bytes().to_vec())
    }
}

impl From<String> for RepoPath {
    fn from(s: String) -> RepoPath {
        RepoPath(s.into_bytes())
    }
}

impl PartialEq<str> for RepoPath {
    fn eq(&self, s: &str) -> bool {
        self.0 == s.as_bytes()
    }
}

impl PartialEq<&str> for RepoPath {
    fn eq(&self, s: &&str) -> bool {
        self.0 == s.as_bytes()
    }
}

impl PartialEq<String> for RepoPath {
    fn eq(&self, s: &String) -> bool {
        self.0 == s.as_bytes()
    }
}

/// Files that differ from HEAD in the working tree: tracked changes, and untracked
/// manifests only, as the git pane counts them; a stray `.env` is never swept in.
/// Status compares sizes and times first, so a huge untracked file is not read.
pub fn changed_files(repo: &Repository) -> Result<Vec<RepoPath>, String> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let statuses = repo.statuses(Some(&mut opts)).map_err(err)?;
    Ok(statuses
        .iter()
        .filter(|s| !s.status().is_ignored())
        .map(|s| (RepoPath::from_bytes(s.path_bytes()), s.status()))
        .filter(|(p, st)| !st.is_wt_new() || p.is_manifest())
        .map(|(p, _)| p)
        .collect())
}

/// A list of paths for a message, cut after `n`.
pub fn list(paths: &[RepoPath], n: usize) -> String {
    let mut s: Vec<String> = paths.iter().take(n).map(|p| p.to_string()).collect();
    if paths.len() > n {
        s.push(format!("and {} more", paths.len() - n));
    }
    s.join(", ")
}

/// Sync and roll back act on commits, so the working tree must hold no edits that
/// would look synced or be swept into a revert, and HEAD must be on a branch. Refuses
/// with the paths; never stashes them.
pub fn require_clean(repo: &Repository, doing: &str) -> Result<(), String> {
    if repo.head_detached().map_err(err)? {
        let at = repo
            .head()
            .ok()
            .and_then(|h| h.target())
            .map(|o| o.to_string())
            .unwrap_or_default();
        return Err(format!(
            "{doing} refused: HEAD is detached at {}; check out a branch (git switch <branch>) and try again",
            super::short(&at, 8)
        ));
    }
    let dirty = changed_files(repo)?;
    if !dirty.is_empty() {
        return Err(format!(
            "{doing} refused: uncommitted changes in {}; commit or discard them first (sextant does not stash them)",
            list(&dirty, 20)
        ));
    }
    Ok(())
}

/// `index.lock`, taken the way git takes it (create, never overwrite) and held while
/// sextant changes the index and the branch, so that no other git program changes
/// them meanwhile. A lock already there is reported, never removed.
pub struct IndexLock(PathBuf);

impl IndexLock {
    pub fn take(repo: &Repository) -> Result<IndexLock, String> {
        let path = repo.path().join("index.lock");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => Ok(IndexLock(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
                "{} exists: another git program is running, or one stopped and left it behind; nothing was changed. Once no git program runs in this repository, remove that file and try again",
                path.display()
            )),
            Err(e) => Err(format!("cannot lock the index ({}): {e}", path.display())),
        }
    }
}

impl IndexLock {
    /// Writes `index` as the repository's index while the lock is held: to a file
    /// beside it, then renamed over it, so no other git program sees half of it.
    pub fn write(&self, repo: &Repository, index: &git2::Index) -> Result<(), String> {
        let dir = repo.path();
        let tmp = dir.join("sextant-index.tmp");
        let failed = |e: String| format!("writing the index {}: {e}", dir.join("index").display());
        let mut out = git2::Index::open(&tmp).map_err(|e| failed(err(e)))?;
        out.clear().map_err(|e| failed(err(e)))?;
        for entry in index.iter() {
            out.add(&entry).map_err(|e| failed(err(e)))?;
        }
        out.write().map_err(|e| failed(err(e)))?;
        std::fs::rename(&tmp, dir.join("index")).map_err(|e| failed(e.to_string()))
    }
}

impl Drop for IndexLock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
