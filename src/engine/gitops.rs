//! Git writes of the engine: revert commits for roll back, commits of edited
//! manifests, and pushes. Conflicts and rejections are reported, never forced.
use crate::engine::worktree::IndexLock;
pub use crate::engine::worktree::{RepoPath, changed_files, list, require_clean};
use crate::exec::Writer;
use git2::{ErrorCode, Oid, Repository, Signature};

fn err(e: git2::Error) -> String {
    e.message().to_string()
}

/// Who is acting, from git config (user.name), else $USER.
pub fn identity(repo: &Repository) -> String {
    repo.signature()
        .ok()
        .and_then(|s| s.name().ok().map(String::from))
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

fn signature(repo: &Repository) -> Result<Signature<'static>, String> {
    repo.signature()
        .map(|s| s.to_owned())
        .map_err(|e| format!("no git identity: set user.name and user.email ({})", err(e)))
}

/// Full SHA of a revision.
pub fn resolve(repo: &Repository, rev: &str) -> Result<String, String> {
    repo.revparse_single(rev)
        .and_then(|o| o.peel_to_commit())
        .map(|c| c.id().to_string())
        .map_err(|e| format!("{rev}: {}", err(e)))
}

/// Makes a commit on top of HEAD that undoes `sha`, and moves the working tree to
/// it. Refuses on a detached HEAD or a working tree with edits (listed, never
/// stashed), and when the revert conflicts with what came after.
pub fn revert(repo: &Repository, _w: &Writer, sha: &str) -> Result<String, String> {
    require_clean(repo, "roll back")?;
    let target = repo
        .revparse_single(sha)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| format!("{sha}: {}", err(e)))?;
    let lock = IndexLock::take(repo)?;
    let head = repo.head().and_then(|h| h.peel_to_commit()).map_err(err)?;
    if target.parent_count() != 1 {
        return Err(format!(
            "{}: only commits with one parent can be rolled back",
            crate::engine::short(&target.id().to_string(), 8)
        ));
    }
    let mut index = repo.revert_commit(&target, &head, 0, None).map_err(err)?;
    if index.has_conflicts() {
        let files: Vec<String> = index
            .conflicts()
            .map_err(err)?
            .filter_map(|c| c.ok())
            .filter_map(|c| c.our.or(c.their).or(c.ancestor))
            .map(|e| String::from_utf8_lossy(&e.path).into_owned())
            .collect();
        return Err(format!(
            "rolling back {} conflicts with later commits in {}: revert it by hand",
            crate::engine::short(&target.id().to_string(), 8),
            files.join(", ")
        ));
    }
    let tree_id = index.write_tree_to(repo).map_err(err)?;
    let tree = repo.find_tree(tree_id).map_err(err)?;
    let sig = signature(repo)?;
    let subject = target.summary().ok().flatten().unwrap_or("").to_string();
    let message = format!(
        "Revert \"{subject}\"\n\nThis reverts commit {}.\nRolled back with sextant by {}.\n",
        target.id(),
        sig.name().unwrap_or("?")
    );
    let oid = repo
        .commit(None, &sig, &sig, &message, &tree, &[&head])
        .map_err(err)?;
    // The working tree moves first (safe: never over local edits; the index is ours
    // to write once the branch has moved), then the branch, compare-and-swap.
    let mut co = git2::build::CheckoutBuilder::new();
    co.safe().update_index(false);
    repo.checkout_tree(tree.as_object(), Some(&mut co))
        .map_err(err)?;
    if let Err(e) = move_head(repo, Some(head.id()), oid, &format!("revert: {subject}")) {
        let back = put_back(repo, &head.tree().map_err(err)?, &tree);
        return Err(match back {
            Ok(()) => e,
            Err(b) => {
                format!("{e}; putting the reverted files back failed too ({b}): run git status")
            }
        });
    }
    let mut index = repo.index().map_err(err)?;
    index
        .read_tree(&tree)
        .map_err(err)
        .and_then(|_| lock.write(repo, &index))
        .map_err(|e| unwritten_index(oid, &e))?;
    Ok(oid.to_string())
}

/// Undoes a revert's checkout when its branch could not move: the tree was clean, so
/// each file it changed goes back to `head`'s content, and each it added goes away.
fn put_back(repo: &Repository, head: &git2::Tree, reverted: &git2::Tree) -> Result<(), String> {
    let root = repo.workdir().ok_or("no working tree")?;
    let diff = repo
        .diff_tree_to_tree(Some(reverted), Some(head), None)
        .map_err(err)?;
    for d in diff.deltas() {
        let file = d.new_file();
        let Some(path) = file.path().or(d.old_file().path()) else {
            continue;
        };
        let at = root.join(path);
        if file.id().is_zero() {
            std::fs::remove_file(&at).map_err(|e| format!("{}: {e}", at.display()))?;
        } else {
            let blob = repo.find_blob(file.id()).map_err(err)?;
            std::fs::write(&at, blob.content()).map_err(|e| format!("{}: {e}", at.display()))?;
        }
    }
    Ok(())
}

fn unwritten_index(oid: Oid, e: &str) -> String {
    format!(
        "committed {} but could not update the index ({e}): run git status before anything else",
        crate::engine::short(&oid.to_string(), 8),
    )
}

/// Moves HEAD's branch (or a detached HEAD) from `old` to `new` only if it still
/// points at `old`: a compare-and-swap, so a commit another program made meanwhile is
/// never lost.
fn move_head(repo: &Repository, old: Option<Oid>, new: Oid, log: &str) -> Result<(), String> {
    let head = repo.find_reference("HEAD").map_err(err)?;
    let name = match head.symbolic_target_bytes() {
        Some(b) => std::str::from_utf8(b)
            .map_err(|_| "the branch's name is not UTF-8: commit with git itself")?
            .to_string(),
        None => "HEAD".to_string(),
    };
    let moved = match old {
        Some(old) => repo.reference_matching(&name, new, true, old, log),
        None => repo.reference(&name, new, false, log),
    };
    match moved {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.code(), ErrorCode::Modified | ErrorCode::Exists) => {
            let now = repo.refname_to_id(&name).ok();
            Err(moved_meanwhile(&name, old, now))
        }
        Err(e) => Err(format!("{name}: {}", err(e))),
    }
}

fn moved_meanwhile(name: &str, was: Option<Oid>, now: Option<Oid>) -> String {
    let sha = |o: Option<Oid>| {
        o.map(|o| crate::engine::short(&o.to_string(), 8).to_string())
            .unwrap_or_else(|| "nothing".into())
    };
    format!(
        "{} moved from {} to {} since you started: another program committed. Nothing was committed and your changes are still in the working tree; look at the new commit and try again",
        name.trim_start_matches("refs/heads/"),
        sha(was),
        sha(now)
    )
}

/// Commits the given working-tree files (added, changed or deleted) on HEAD as it is.
pub fn commit(
    repo: &Repository,
    w: &Writer,
    files: &[RepoPath],
    message: &str,
) -> Result<String, String> {
    commit_on(repo, w, None, files, message)
}

/// Commits the given working-tree files (added, changed or deleted) on `head`, the
/// commit HEAD was at when the user chose them (None: HEAD as it is). If another
/// program has committed since, nothing is committed and that is reported.
pub fn commit_on(
    repo: &Repository,
    _w: &Writer,
    head: Option<&str>,
    files: &[RepoPath],
    message: &str,
) -> Result<String, String> {
    if message.trim().is_empty() {
        return Err("an empty commit message".into());
    }
    if files.is_empty() {
        return Err("nothing to commit".into());
    }
    let root = repo
        .workdir()
        .ok_or("a bare repository has no working tree")?
        .to_path_buf();
    let lock = IndexLock::take(repo)?;
    let now = repo.head().ok().and_then(|h| h.target());
    if let Some(h) = head
        && now.map(|o| o.to_string()).as_deref() != Some(h)
    {
        return Err(moved_meanwhile("HEAD", Oid::from_str(h).ok(), now));
    }
    let parent = now.map(|o| repo.find_commit(o)).transpose().map_err(err)?;
    let mut index = repo.index().map_err(err)?;
    let made = (|| {
        // The commit is HEAD's tree with these files only, as `git commit -- files`
        // makes it: what else is staged (by the user or another program) stays staged.
        let mut only = git2::Index::new().map_err(err)?;
        if let Some(p) = &parent {
            only.read_tree(&p.tree().map_err(err)?).map_err(err)?;
        }
        for f in files {
            let p = f.to_path();
            let failed = |e: git2::Error| format!("{f}: {}", err(e));
            if root.join(&p).symlink_metadata().is_ok() {
                index.add_path(&p).map_err(failed)?;
                let entry = index.get_path(&p, 0).ok_or(format!("{f}: not staged"))?;
                only.add(&entry).map_err(failed)?;
            } else {
                index.remove_path(&p).map_err(failed)?;
                only.remove_path(&p).map_err(failed)?;
            }
        }
        let tree = repo
            .find_tree(only.write_tree_to(repo).map_err(err)?)
            .map_err(err)?;
        let sig = signature(repo)?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let oid = repo
            .commit(None, &sig, &sig, message, &tree, &parents)
            .map_err(err)?;
        let summary = message.lines().next().unwrap_or("");
        move_head(repo, now, oid, &format!("commit: {summary}"))?;
        Ok(oid)
    })();
    let oid = match made {
        Ok(oid) => oid,
        Err(e) => {
            // What was staged in memory goes: the index file was never written.
            let _ = index.read(true);
            return Err(e);
        }
    };
    lock.write(repo, &index)
        .map_err(|e| unwritten_index(oid, &e))?;
    Ok(oid.to_string())
}

/// Pushes the current branch to `origin` with what git2 supports: the ssh agent,
/// the credential helper, default credentials. A rejected push is explained.
pub fn push(repo: &Repository, _w: &Writer) -> Result<String, String> {
    let head = repo.head().map_err(err)?;
    let branch = match head.shorthand() {
        Ok(b) if head.is_branch() => b.to_string(),
        _ => return Err("HEAD is not on a branch".into()),
    };
    let mut remote = repo
        .find_remote("origin")
        .map_err(|_| "no remote named origin".to_string())?;
    let config = repo.config().map_err(err)?;
    let mut rejected: Option<String> = None;
    let mut tried_agent = false;
    let mut cb = git2::RemoteCallbacks::new();
    cb.credentials(|url, user, allowed| {
        if allowed.is_ssh_key() && !tried_agent {
            tried_agent = true;
            return git2::Cred::ssh_key_from_agent(user.unwrap_or("git"));
        }
        if allowed.is_user_pass_plaintext() {
            return git2::Cred::credential_helper(&config, url, user);
        }
        git2::Cred::default()
    });
    cb.push_update_reference(|_, status| {
        if let Some(s) = status {
            rejected = Some(s.to_string());
        }
        Ok(())
    });
    let mut opts = git2::PushOptions::new();
    opts.remote_callbacks(cb);
    let spec = format!("refs/heads/{branch}:refs/heads/{branch}");
    let pushed = remote.push(&[spec.as_str()], Some(&mut opts));
    drop(opts);
    match pushed {
        Err(e) if e.code() == git2::ErrorCode::NotFastForward => Err(format!(
            "push of {branch} rejected: the remote has commits this clone lacks; pull and try again"
        )),
        Err(e) => Err(format!("push of {branch} failed: {}", err(e))),
        Ok(()) => match rejected {
            Some(why) if why.contains("fast-forward") || why.contains("fetch first") => {
                Err(format!(
                    "push of {branch} rejected ({why}): the remote has commits this clone lacks; pull and try again"
                ))
            }
            // A hook or a protected branch: what the remote said is all there is to say.
            Some(why) => Err(format!(
                "push of {branch} rejected by the remote ({why}); your commit stays here, unpushed"
            )),
            None => Ok(format!("pushed {branch} to origin")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commit_files(
        repo: &Repository,
        files: &[(&str, Option<&str>)],
        parent: Option<&git2::Commit>,
    ) -> Oid {
        let root = repo.workdir().unwrap().to_path_buf();
        let mut index = repo.index().unwrap();
        for (name, text) in files {
            match text {
                Some(t) => {
                    std::fs::write(root.join(name), t).unwrap();
                    index.add_path(std::path::Path::new(name)).unwrap();
                }
                None => {
                    std::fs::remove_file(root.join(name)).unwrap();
                    index.remove_path(std::path::Path::new(name)).unwrap();
                }
            }
        }
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("T", "t@example.com").unwrap();
        let parents: Vec<&git2::Commit> = parent.into_iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &parents)
            .unwrap()
    }

    #[test]
    fn put_back_restores_changed_files_and_removes_added_ones() {
        let dir = std::env::temp_dir().join(format!("sextant-putback-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let repo = Repository::init(&dir).unwrap();
        let a = commit_files(&repo, &[("f", Some("old")), ("gone", Some("x"))], None);
        let a = repo.find_commit(a).unwrap();
        let b = commit_files(
            &repo,
            &[("f", Some("new")), ("added", Some("y")), ("gone", None)],
            Some(&a),
        );
        let b = repo.find_commit(b).unwrap();
        // The working tree holds b's files; a's is what must come back.
        put_back(&repo, &a.tree().unwrap(), &b.tree().unwrap()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "old");
        assert_eq!(std::fs::read_to_string(dir.join("gone")).unwrap(), "x");
        assert!(!dir.join("added").exists());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
