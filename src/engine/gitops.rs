//! Git writes of the engine: revert commits for roll back, commits of edited
//! manifests, and pushes. Conflicts and rejections are reported, never forced.
use crate::exec::Writer;
use git2::{Repository, Signature, StatusOptions};

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

/// Files that differ from HEAD in the working tree: tracked changes, and untracked
/// manifests only, as the git pane counts them; a stray `.env` is never swept in.
pub fn changed_files(repo: &Repository) -> Result<Vec<String>, String> {
    let mut opts = StatusOptions::new();
    opts.include_untracked(true).recurse_untracked_dirs(true);
    let statuses = repo.statuses(Some(&mut opts)).map_err(err)?;
    Ok(statuses
        .iter()
        .filter(|s| !s.status().is_ignored())
        .filter_map(|s| {
            let path = s.path().ok()?.to_string();
            let manifest = path.ends_with(".yaml") || path.ends_with(".yml");
            (!s.status().is_wt_new() || manifest).then_some(path)
        })
        .collect())
}

/// Makes a commit on top of HEAD that undoes `sha`, and moves the working tree to
/// it. Refuses when the change would touch files with uncommitted edits, or when the
/// revert conflicts with what came after.
pub fn revert(repo: &Repository, _w: &Writer, sha: &str) -> Result<String, String> {
    let target = repo
        .revparse_single(sha)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| format!("{sha}: {}", err(e)))?;
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
    let dirty = changed_files(repo)?;
    let tree_id = index.write_tree_to(repo).map_err(err)?;
    let tree = repo.find_tree(tree_id).map_err(err)?;
    let touched = repo
        .diff_tree_to_tree(Some(&head.tree().map_err(err)?), Some(&tree), None)
        .map_err(err)?;
    let clash: Vec<String> = touched
        .deltas()
        .filter_map(|d| d.new_file().path().map(|p| p.display().to_string()))
        .filter(|p| dirty.contains(p))
        .collect();
    if !clash.is_empty() {
        return Err(format!(
            "uncommitted changes in {}: commit or discard them first",
            clash.join(", ")
        ));
    }
    let sig = signature(repo)?;
    let subject = target.summary().ok().flatten().unwrap_or("").to_string();
    let message = format!(
        "Revert \"{subject}\"\n\nThis reverts commit {}.\nRolled back with sextant by {}.\n",
        target.id(),
        sig.name().unwrap_or("?")
    );
    // The working tree and index move first (safe: never over local edits), then HEAD.
    let mut co = git2::build::CheckoutBuilder::new();
    co.safe();
    repo.checkout_tree(tree.as_object(), Some(&mut co))
        .map_err(err)?;
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, &message, &tree, &[&head])
        .map_err(err)?;
    Ok(oid.to_string())
}

/// Commits the given working-tree files (added, changed or deleted) on HEAD.
pub fn commit(
    repo: &Repository,
    _w: &Writer,
    files: &[String],
    message: &str,
) -> Result<String, String> {
    if message.trim().is_empty() {
        return Err("an empty commit message".into());
    }
    if files.is_empty() {
        return Err("nothing to commit".into());
    }
    let mut index = repo.index().map_err(err)?;
    let root = repo
        .workdir()
        .ok_or("a bare repository has no working tree")?;
    for f in files {
        if root.join(f).exists() {
            index.add_path(std::path::Path::new(f)).map_err(err)?;
        } else {
            index.remove_path(std::path::Path::new(f)).map_err(err)?;
        }
    }
    index.write().map_err(err)?;
    let tree = repo
        .find_tree(index.write_tree().map_err(err)?)
        .map_err(err)?;
    let sig = signature(repo)?;
    let parent = repo.head().and_then(|h| h.peel_to_commit()).ok();
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo
        .commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)
        .map_err(err)?;
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
            Some(why) => Err(format!(
                "push of {branch} rejected ({why}): the remote has commits this clone lacks; pull and try again"
            )),
            None => Ok(format!("pushed {branch} to origin")),
        },
    }
}
