//! The git source: a worker thread owns the repository (git2 blocks), answers history
//! and diff requests, and notices when HEAD moves or the working tree changes.
use super::redact;
use crate::app::Msg;
use crate::app::diff::{Diff, DiffPage, DiffTarget, declares_stateful, is_yaml};
use crate::app::msg::GitEvent;
use crate::app::state::{CommitRow, RepoInfo};
use crate::app::update::PAGE;
use git2::{Delta, DiffFindOptions, DiffOptions, Oid, Repository};
use std::collections::{BinaryHeap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

pub enum GitRequest {
    LoadCommits {
        from: usize,
    },
    /// A diff's first page.
    Diff(DiffTarget),
    /// The diff's text from byte `from` on.
    MoreDiff {
        target: DiffTarget,
        from: usize,
    },
}

/// Diffs stop growing here; what follows is dropped with a note.
const MAX_DIFF_BYTES: usize = 64 << 20;
/// A diff is sent a page at a time, as the viewer scrolls: about this many bytes.
pub const DIFF_PAGE: usize = 1 << 20;
/// Bigger blobs are not read to decide whether a commit is stateful.
const MAX_SCAN_BYTES: usize = 1 << 20;
/// Bigger files are shown as binary and never read: a 700 MB dump in the working
/// tree costs nothing (libgit2's default is 512 MiB).
const MAX_FILE_BYTES: u64 = 64 << 20;

fn msg(e: git2::Error) -> String {
    e.message().to_string()
}

pub fn repo_info(repo: &Repository) -> Result<RepoInfo, String> {
    let head = repo.head().map_err(|e| format!("no HEAD: {}", msg(e)))?;
    let branch = head.shorthand().unwrap_or("(detached)").to_string();
    let oid = head.target().map(|o| o.to_string()).unwrap_or_default();
    let remote = repo
        .find_remote("origin")
        .ok()
        .and_then(|r| r.url().ok().map(String::from));
    let path = repo
        .workdir()
        .unwrap_or_else(|| repo.path())
        .display()
        .to_string();
    Ok(RepoInfo {
        path: path.trim_end_matches('/').to_string(),
        branch,
        head: oid,
        remote,
    })
}

fn pathspec(path: Option<&str>) -> Option<&str> {
    path.filter(|p| !p.is_empty() && *p != ".")
}

/// A commit's changes against its first parent, under `path` when given.
fn commit_diff<'r>(
    repo: &'r Repository,
    commit: &git2::Commit,
    path: Option<&str>,
) -> Result<git2::Diff<'r>, git2::Error> {
    let tree = commit.tree()?;
    let parent = if commit.parent_count() > 0 {
        Some(commit.parent(0)?.tree()?)
    } else {
        None
    };
    let mut opts = DiffOptions::new();
    opts.max_size(MAX_FILE_BYTES as i64);
    if let Some(p) = pathspec(path) {
        opts.pathspec(p);
    }
    repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))
}

/// Whether a changed YAML file declares a stateful workload, before or after.
fn touches_stateful(repo: &Repository, diff: &git2::Diff) -> bool {
    diff.deltas().any(|d| {
        let yaml = [d.old_file().path(), d.new_file().path()]
            .iter()
            .flatten()
            .any(|p| is_yaml(&p.to_string_lossy()));
        yaml && [d.old_file().id(), d.new_file().id()].iter().any(|id| {
            !id.is_zero()
                && repo.find_blob(*id).is_ok_and(|b| {
                    let c = b.content();
                    let c = &c[..c.len().min(MAX_SCAN_BYTES)];
                    declares_stateful(&String::from_utf8_lossy(c))
                })
        })
    })
}

/// HEAD's history newest first by commit time, as `git log` shows it, one commit at a
/// time. libgit2's own time sort reads the whole history first (600 ms before the
/// first commit of a 100,000-commit repository); this reads only what is shown.
struct TimeWalk<'r> {
    repo: &'r Repository,
    queue: BinaryHeap<(i64, Oid)>,
    queued: HashSet<Oid>,
}

impl<'r> TimeWalk<'r> {
    fn from_head(repo: &'r Repository) -> Option<TimeWalk<'r>> {
        let head = repo.head().ok()?.peel_to_commit().ok()?;
        let mut walk = TimeWalk {
            repo,
            queue: BinaryHeap::new(),
            queued: HashSet::new(),
        };
        walk.queued.insert(head.id());
        walk.queue.push((head.time().seconds(), head.id()));
        Some(walk)
    }

    fn next_commit(&mut self) -> Result<Option<git2::Commit<'r>>, git2::Error> {
        let Some((_, oid)) = self.queue.pop() else {
            return Ok(None);
        };
        let commit = self.repo.find_commit(oid)?;
        for parent in commit.parents() {
            if self.queued.insert(parent.id()) {
                self.queue.push((parent.time().seconds(), parent.id()));
            }
        }
        Ok(Some(commit))
    }
}

/// `count` commits of HEAD's history starting at position `from`, newest first, only
/// those touching `path` when given; and whether more follow.
pub fn history(
    repo: &Repository,
    path: Option<&str>,
    from: usize,
    count: usize,
) -> Result<(Vec<CommitRow>, bool), String> {
    let Some(mut walk) = TimeWalk::from_head(repo) else {
        return Ok((Vec::new(), false)); // an empty repository
    };
    let mut out = Vec::with_capacity(count);
    let mut seen = 0usize;
    while let Some(commit) = walk.next_commit().map_err(msg)? {
        let diff = if pathspec(path).is_some() {
            let diff = commit_diff(repo, &commit, path).map_err(msg)?;
            if diff.deltas().len() == 0 {
                continue;
            }
            Some(diff)
        } else {
            None
        };
        seen += 1;
        if seen <= from {
            continue;
        }
        if out.len() == count {
            return Ok((out, true));
        }
        let diff = match diff {
            Some(d) => d,
            None => commit_diff(repo, &commit, path).map_err(msg)?,
        };
        let author = commit.author();
        out.push(CommitRow {
            id: commit.id().to_string(),
            author: author.name().unwrap_or("?").to_string(),
            time: commit.time().seconds(),
            summary: commit.summary().ok().flatten().unwrap_or("").to_string(),
            stateful: touches_stateful(repo, &diff),
        });
    }
    Ok((out, false))
}

/// Uncommitted changes against HEAD (staged or not), untracked YAML files included.
fn worktree_diff<'r>(repo: &'r Repository, path: Option<&str>) -> Result<git2::Diff<'r>, String> {
    let head = repo.head().ok().and_then(|h| h.peel_to_tree().ok());
    let mut opts = DiffOptions::new();
    opts.include_untracked(true)
        .recurse_untracked_dirs(true)
        .show_untracked_content(true)
        .max_size(MAX_FILE_BYTES as i64);
    if let Some(p) = pathspec(path) {
        opts.pathspec(p);
    }
    let mut diff = repo
        .diff_tree_to_workdir_with_index(head.as_ref(), Some(&mut opts))
        .map_err(msg)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .map_err(msg)?;
    Ok(diff)
}

/// Untracked files count only when they are YAML: build output is not a change.
fn shown(delta: &git2::DiffDelta) -> bool {
    delta.status() != Delta::Untracked
        || delta
            .new_file()
            .path()
            .is_some_and(|p| is_yaml(&p.to_string_lossy()))
}

/// How many files the working tree changes.
pub fn worktree_files(repo: &Repository, path: Option<&str>) -> Result<usize, String> {
    Ok(worktree_diff(repo, path)?
        .deltas()
        .filter(|d| shown(d))
        .count())
}

/// The deltas of a commit (against its first parent) or of the working tree.
fn deltas<'r>(
    repo: &'r Repository,
    target: &DiffTarget,
    path: Option<&str>,
) -> Result<git2::Diff<'r>, String> {
    Ok(match target {
        DiffTarget::WorkTree => worktree_diff(repo, path)?,
        DiffTarget::Commit(sha) => {
            let oid = Oid::from_str(sha).map_err(msg)?;
            let commit = repo
                .find_commit(oid)
                .map_err(|e| format!("commit {sha}: {}", msg(e)))?;
            let mut diff = commit_diff(repo, &commit, path).map_err(msg)?;
            diff.find_similar(Some(DiffFindOptions::new().renames(true)))
                .map_err(msg)?;
            diff
        }
    })
}

/// The text of the diff being viewed, made only as far as it has been asked for:
/// patches are made file by file, and what was sent is dropped.
pub struct DiffText {
    target: DiffTarget,
    /// Where `text` starts in the whole diff.
    base: usize,
    text: String,
    /// The next delta to make a patch of; None once the diff is all made.
    next: Option<usize>,
}

impl DiffText {
    pub fn new(target: DiffTarget) -> DiffText {
        DiffText {
            target,
            base: 0,
            text: String::new(),
            next: Some(0),
        }
    }

    /// Bytes of text held: made and not yet sent.
    pub fn held(&self) -> usize {
        self.text.len()
    }

    /// Makes patches until the text reaches byte `to` of the diff, or its end.
    fn fill(&mut self, repo: &Repository, path: Option<&str>, to: usize) -> Result<(), String> {
        let Some(mut i) = self.next else {
            return Ok(());
        };
        if self.base + self.text.len() >= to {
            return Ok(());
        }
        let diff = deltas(repo, &self.target, path)?;
        let n = diff.deltas().len();
        while i < n && self.base + self.text.len() < to {
            let delta = diff.get_delta(i).expect("a delta below the count");
            i += 1;
            if !shown(&delta) {
                continue;
            }
            if self.base + self.text.len() > MAX_DIFF_BYTES {
                self.text
                    .push_str("\\ diff cut here: it is larger than 64 MiB\n");
                i = n;
                break;
            }
            if let Some(mut patch) = git2::Patch::from_diff(&diff, i - 1).map_err(msg)? {
                let buf = patch.to_buf().map_err(msg)?;
                let (old, new) = (
                    secrets_in(repo, &delta.old_file(), false),
                    secrets_in(repo, &delta.new_file(), true),
                );
                self.text.push_str(&redact::mask_patch(
                    &String::from_utf8_lossy(&buf),
                    &old,
                    &new,
                ));
            }
        }
        self.next = (i < n).then_some(i);
        Ok(())
    }

    /// Up to `size` bytes of the diff from byte `from`, cut after a line; None when
    /// `from` is not where the text held starts or ends.
    fn page(
        &mut self,
        repo: &Repository,
        path: Option<&str>,
        from: usize,
        size: usize,
    ) -> Result<Option<DiffPage>, String> {
        if from < self.base || from > self.base + self.text.len() {
            return Ok(None);
        }
        self.text.drain(..from - self.base);
        self.base = from;
        self.fill(repo, path, from.saturating_add(size))?;
        let end = line_end(&self.text, size);
        Ok(Some(DiffPage {
            text: self.text[..end].to_string(),
            more: end < self.text.len() || self.next.is_some(),
        }))
    }
}

/// The end of the last whole line within `size` bytes (or of the first line, when
/// it alone is longer).
fn line_end(text: &str, size: usize) -> usize {
    if text.len() <= size {
        return text.len();
    }
    let b = text.as_bytes();
    match b[..size].iter().rposition(|&c| c == b'\n') {
        Some(i) => i + 1,
        None => b[size..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(text.len(), |i| size + i + 1),
    }
}

/// The page of `target`'s diff from byte `from`, from `held` when it can serve it.
pub fn diff_page(
    repo: &Repository,
    held: &mut Option<DiffText>,
    target: &DiffTarget,
    path: Option<&str>,
    from: usize,
    size: usize,
) -> Result<DiffPage, String> {
    if let Some(t) = held.as_mut().filter(|t| t.target == *target)
        && let Some(p) = t.page(repo, path, from, size)?
    {
        return Ok(p);
    }
    // Made again from the start: another diff was opened meanwhile.
    let t = held.insert(DiffText::new(target.clone()));
    t.fill(repo, path, from)?;
    t.page(repo, path, from, size)?
        .ok_or_else(|| format!("the diff is shorter than {from} bytes now"))
}

/// The first page of a diff, parsed.
fn first_page(
    repo: &Repository,
    held: &mut Option<DiffText>,
    target: &DiffTarget,
    path: Option<&str>,
) -> Result<Diff, String> {
    *held = None;
    let p = diff_page(repo, held, target, path, 0, DIFF_PAGE)?;
    let mut d = Diff::parse(p.text);
    d.more = p.more;
    Ok(d)
}

/// The whole unified diff of a commit (against its first parent) or of the working
/// tree, up to 64 MiB.
pub fn diff(repo: &Repository, target: &DiffTarget, path: Option<&str>) -> Result<Diff, String> {
    let mut held = None;
    diff_page(repo, &mut held, target, path, 0, usize::MAX).map(|p| Diff::parse(p.text))
}

/// Lines of one side of a delta that hold Secret values: from its blob, or for the
/// working tree's side, from the file.
fn secrets_in(
    repo: &Repository,
    f: &git2::DiffFile,
    worktree_side: bool,
) -> std::collections::HashSet<usize> {
    // A file this big is shown as binary: no line of it is on screen.
    if f.size() > MAX_FILE_BYTES {
        return Default::default();
    }
    let from_blob = (!f.id().is_zero())
        .then(|| repo.find_blob(f.id()).ok())
        .flatten()
        .map(|b| String::from_utf8_lossy(b.content()).into_owned());
    let text = from_blob.or_else(|| {
        let path = f.path()?;
        worktree_side
            .then(|| std::fs::read_to_string(repo.workdir()?.join(path)).ok())
            .flatten()
    });
    text.map(|t| redact::secret_lines(&t)).unwrap_or_default()
}

/// Starts the worker; it sends the repository, the first page, and a new first page
/// whenever HEAD moves.
pub fn spawn(
    path: PathBuf,
    subdir: Option<String>,
    tx: Sender<Msg>,
) -> std_mpsc::Sender<GitRequest> {
    let (req_tx, req_rx) = std_mpsc::channel();
    std::thread::Builder::new()
        .name("git".into())
        .spawn(move || worker(&path, subdir.as_deref(), &req_rx, &tx))
        .expect("spawning the git thread");
    req_tx
}

fn worker(
    path: &Path,
    subdir: Option<&str>,
    requests: &std_mpsc::Receiver<GitRequest>,
    tx: &Sender<Msg>,
) {
    let send = |ev| tx.blocking_send(Msg::Git(ev)).is_ok();
    let mut head = String::new();
    let mut worktree = None;
    // The diff being viewed, made as far as it has been scrolled.
    let mut held: Option<DiffText> = None;
    loop {
        // Reopened each round so that changes made by other programs are seen.
        let repo = match Repository::discover(path) {
            Ok(r) => r,
            Err(e) => {
                if !send(GitEvent::Failed(format!("{}: {}", path.display(), msg(e)))) {
                    return;
                }
                std::thread::sleep(Duration::from_secs(5));
                continue;
            }
        };
        match repo_info(&repo) {
            Ok(info) if info.head != head => {
                head = info.head.clone();
                if !send(GitEvent::Opened(info)) {
                    return;
                }
                let ev = match history(&repo, subdir, 0, PAGE) {
                    Ok((commits, more)) => GitEvent::Page {
                        from: 0,
                        commits,
                        more,
                    },
                    Err(e) => GitEvent::Failed(e),
                };
                if !send(ev) {
                    return;
                }
            }
            Ok(_) => {}
            Err(e) if head != "!" => {
                head = "!".into();
                if !send(GitEvent::Failed(format!("{}: {e}", path.display()))) {
                    return;
                }
            }
            Err(_) => {}
        }
        // Only a change costs a message (and a frame).
        if let Ok(n) = worktree_files(&repo, subdir)
            && worktree != Some(n)
        {
            worktree = Some(n);
            if !send(GitEvent::WorkTree(n)) {
                return;
            }
        }
        match requests.recv_timeout(Duration::from_secs(2)) {
            Ok(GitRequest::LoadCommits { from }) => {
                let ev = match history(&repo, subdir, from, PAGE) {
                    Ok((commits, more)) => GitEvent::Page {
                        from,
                        commits,
                        more,
                    },
                    Err(e) => GitEvent::Failed(e),
                };
                if !send(ev) {
                    return;
                }
            }
            Ok(GitRequest::Diff(target)) => {
                let result = first_page(&repo, &mut held, &target, subdir).map(Arc::new);
                if !send(GitEvent::Diff { target, result }) {
                    return;
                }
            }
            Ok(GitRequest::MoreDiff { target, from }) => {
                let result = diff_page(&repo, &mut held, &target, subdir, from, DIFF_PAGE);
                if !send(GitEvent::DiffMore {
                    target,
                    from,
                    result,
                }) {
                    return;
                }
            }
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
