//! The git source: a worker thread owns the repository (git2 blocks), answers history
//! requests a page at a time, and notices when HEAD moves.
use crate::app::Msg;
use crate::app::msg::GitEvent;
use crate::app::state::{CommitRow, RepoInfo};
use crate::app::update::PAGE;
use git2::{DiffOptions, Repository, Sort};
use std::path::{Path, PathBuf};
use std::sync::mpsc as std_mpsc;
use std::time::Duration;
use tokio::sync::mpsc::Sender;

pub enum GitRequest {
    LoadCommits { from: usize },
}

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

/// Whether a commit changes anything under `path`.
fn touches(repo: &Repository, commit: &git2::Commit, path: &str) -> Result<bool, git2::Error> {
    let tree = commit.tree()?;
    let parent = if commit.parent_count() > 0 {
        Some(commit.parent(0)?.tree()?)
    } else {
        None
    };
    let mut opts = DiffOptions::new();
    opts.pathspec(path);
    let diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))?;
    Ok(diff.deltas().len() > 0)
}

/// `count` commits of HEAD's history starting at position `from`, newest first, only
/// those touching `path` when given; and whether more follow.
pub fn history(
    repo: &Repository,
    path: Option<&str>,
    from: usize,
    count: usize,
) -> Result<(Vec<CommitRow>, bool), String> {
    let mut walk = repo.revwalk().map_err(msg)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::TIME)
        .map_err(msg)?;
    if walk.push_head().is_err() {
        return Ok((Vec::new(), false)); // an empty repository
    }
    let mut out = Vec::with_capacity(count);
    let mut seen = 0usize;
    for oid in walk {
        let commit = repo.find_commit(oid.map_err(msg)?).map_err(msg)?;
        if let Some(p) = path.filter(|p| !p.is_empty() && *p != ".")
            && !touches(repo, &commit, p).map_err(msg)?
        {
            continue;
        }
        seen += 1;
        if seen <= from {
            continue;
        }
        if out.len() == count {
            return Ok((out, true));
        }
        let author = commit.author();
        out.push(CommitRow {
            id: commit.id().to_string(),
            author: author.name().unwrap_or("?").to_string(),
            time: commit.time().seconds(),
            summary: commit.summary().ok().flatten().unwrap_or("").to_string(),
        });
    }
    Ok((out, false))
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
            Err(std_mpsc::RecvTimeoutError::Timeout) => {}
            Err(std_mpsc::RecvTimeoutError::Disconnected) => return,
        }
    }
}
