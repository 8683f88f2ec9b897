//! The git pane against real repositories made with the git command line in temporary
//! folders: stateful marks, the working-tree entry, commit diffs, and the worker as the
//! TUI runs it (with a bare remote to pull a new HEAD from).
use sextant::app::diff::{DiffTarget, LineKind};
use sextant::app::keymap::Keymap;
use sextant::app::msg::GitEvent;
use sextant::app::state::Pane;
use sextant::app::{Msg, State, update};
use sextant::sources::git::{self, GitRequest};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A folder that is removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir =
            std::env::temp_dir().join(format!("sextant-git-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(dir: &Path, args: &[&str]) -> String {
    run_at(dir, args, None)
}

/// `git args` with the author and committer dates at `time` (unix seconds) if given.
fn run_at(dir: &Path, args: &[&str], time: Option<i64>) -> String {
    let mut cmd = Command::new("git");
    if let Some(t) = time {
        cmd.env("GIT_AUTHOR_DATE", format!("{t} +0000"))
            .env("GIT_COMMITTER_DATE", format!("{t} +0000"));
    }
    let out = cmd
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Ada Lovelace")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada Lovelace")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn write(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Stages everything and commits; returns the new SHA.
fn commit(dir: &Path, message: &str) -> String {
    run(dir, &["add", "-A"]);
    run(dir, &["commit", "-q", "-m", message]);
    run(dir, &["rev-parse", "HEAD"])
}

fn init(dir: &Path) {
    run(dir, &["init", "-q", "-b", "main"]);
}

const WEB: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n";
const DB: &str =
    "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 1\n";
const CLAIM: &str = "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n";

/// Six commits; the second, fourth and fifth touch stateful workloads.
fn shop(dir: &Path) -> Vec<String> {
    init(dir);
    write(dir, "apps/web.yaml", WEB);
    let c1 = commit(dir, "web");
    write(dir, "apps/db.yaml", DB);
    let c2 = commit(dir, "db");
    write(
        dir,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 2"),
    );
    let c3 = commit(dir, "web: two replicas");
    write(dir, "apps/claim.yml", CLAIM);
    let c4 = commit(dir, "a claim");
    std::fs::remove_file(dir.join("apps/db.yaml")).unwrap();
    let c5 = commit(dir, "db: removed");
    // Not YAML: talk of a StatefulSet in a README is not a stateful change.
    write(dir, "README.md", "kind: StatefulSet\n");
    let c6 = commit(dir, "readme");
    vec![c6, c5, c4, c3, c2, c1]
}

#[test]
fn stateful_marks_fall_on_the_commits_that_change_stateful_manifests() {
    let s = Scratch::new("marks");
    let shas = shop(&s.0);
    let repo = git2::Repository::open(&s.0).unwrap();
    let (rows, more) = git::history(&repo, None, 0, 200).unwrap();
    assert!(!more);
    let got: Vec<(&str, bool)> = rows
        .iter()
        .map(|r| (r.summary.as_str(), r.stateful))
        .collect();
    assert_eq!(
        got,
        [
            ("readme", false),
            ("db: removed", true),
            ("a claim", true),
            ("web: two replicas", false),
            ("db", true),
            ("web", false),
        ]
    );
    assert_eq!(rows.iter().map(|r| r.id.clone()).collect::<Vec<_>>(), shas);
    assert!(
        rows.iter()
            .all(|r| r.author == "Ada Lovelace" && r.time > 0)
    );
    // Under apps/ only: the README commit is not listed; pages still line up.
    let (rows, more) = git::history(&repo, Some("apps"), 1, 2).unwrap();
    assert!(more);
    let got: Vec<&str> = rows.iter().map(|r| r.summary.as_str()).collect();
    assert_eq!(got, ["a claim", "web: two replicas"]);
}

#[test]
fn history_with_a_merge_is_newest_first_and_lists_each_commit_once() {
    let s = Scratch::new("merge");
    let dir = &s.0;
    init(dir);
    // Times in 2023, which git reads as unix seconds.
    let at = |args: &[&str], t: i64| run_at(dir, args, Some(1_700_000_000 + t));
    write(dir, "a.yaml", "a: 1\n");
    at(&["add", "-A"], 0);
    at(&["commit", "-qm", "c1"], 1_000);
    at(&["checkout", "-qb", "side"], 0);
    write(dir, "b.yaml", "b: 1\n");
    at(&["add", "-A"], 0);
    at(&["commit", "-qm", "s1"], 2_000);
    at(&["checkout", "-q", "main"], 0);
    write(dir, "a.yaml", "a: 2\n");
    at(&["add", "-A"], 0);
    at(&["commit", "-qm", "c2"], 3_000);
    at(
        &["merge", "-q", "--no-edit", "-m", "merge side", "side"],
        4_000,
    );
    let repo = git2::Repository::open(dir).unwrap();
    let (rows, _) = git::history(&repo, None, 0, 10).unwrap();
    let got: Vec<(&str, i64)> = rows
        .iter()
        .map(|r| (r.summary.as_str(), r.time - 1_700_000_000))
        .collect();
    assert_eq!(
        got,
        [
            ("merge side", 4_000),
            ("c2", 3_000),
            ("s1", 2_000),
            ("c1", 1_000)
        ]
    );
    // Pages cut the same order.
    let (rows, more) = git::history(&repo, None, 1, 2).unwrap();
    assert!(more);
    assert_eq!(rows[0].summary, "c2");
    assert_eq!(rows[1].summary, "s1");
}

#[test]
fn the_working_tree_entry_counts_changes_and_untracked_yaml_only() {
    let s = Scratch::new("worktree");
    shop(&s.0);
    let repo = git2::Repository::open(&s.0).unwrap();
    assert_eq!(git::worktree_files(&repo, None).unwrap(), 0);
    write(
        &s.0,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 5"),
    );
    assert_eq!(git::worktree_files(&repo, None).unwrap(), 1);
    write(&s.0, "apps/cache.yaml", DB.replace("db", "cache").as_str());
    assert_eq!(git::worktree_files(&repo, None).unwrap(), 2);
    // Untracked files that are not YAML are left out; staged ones count.
    write(&s.0, "notes.txt", "scratch\n");
    assert_eq!(git::worktree_files(&repo, None).unwrap(), 2);
    write(&s.0, "docs/runbook.md", "# runbook\n");
    run(&s.0, &["add", "docs/runbook.md"]);
    assert_eq!(git::worktree_files(&repo, None).unwrap(), 3);
    assert_eq!(git::worktree_files(&repo, Some("apps")).unwrap(), 2);

    let d = git::diff(&repo, &DiffTarget::WorkTree, None).unwrap();
    let files: Vec<(char, &str, usize, usize)> = d
        .files
        .iter()
        .map(|f| (f.status, f.path.as_str(), f.added, f.removed))
        .collect();
    assert_eq!(
        files,
        [
            ('A', "apps/cache.yaml", 6, 0),
            ('M', "apps/web.yaml", 1, 1),
            ('A', "docs/runbook.md", 1, 0),
        ]
    );
    let text: Vec<&str> = (0..d.lines.len()).map(|i| d.text(i)).collect();
    assert!(text.contains(&"-  replicas: 2"), "{text:?}");
    assert!(text.contains(&"+  replicas: 5"), "{text:?}");
    assert!(text.contains(&"+kind: StatefulSet"), "{text:?}");
}

#[test]
fn a_commit_diff_lists_its_files_and_lines() {
    let s = Scratch::new("diff");
    let dir = &s.0;
    init(dir);
    write(dir, "apps/web.yaml", WEB);
    write(dir, "apps/db.yaml", DB);
    write(dir, "apps/old.yaml", "kind: ConfigMap\n");
    write(
        dir,
        "apps/settings.yaml",
        "kind: ConfigMap\ndata:\n  a: \"1\"\n  b: \"2\"\n  c: \"3\"\n  d: \"4\"\n",
    );
    commit(dir, "first");
    write(
        dir,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 3"),
    );
    write(
        dir,
        "apps/svc.yaml",
        "kind: Service\nmetadata:\n  name: web\n",
    );
    std::fs::remove_file(dir.join("apps/old.yaml")).unwrap();
    run(dir, &["mv", "apps/settings.yaml", "apps/config.yaml"]);
    let sha = commit(dir, "second");
    let repo = git2::Repository::open(dir).unwrap();
    let d = git::diff(&repo, &DiffTarget::Commit(sha.clone()), None).unwrap();
    let files: Vec<(char, &str, usize, usize)> = d
        .files
        .iter()
        .map(|f| (f.status, f.path.as_str(), f.added, f.removed))
        .collect();
    assert_eq!(
        files,
        [
            ('R', "apps/config.yaml", 0, 0),
            ('D', "apps/old.yaml", 0, 1),
            ('A', "apps/svc.yaml", 3, 0),
            ('M', "apps/web.yaml", 1, 1),
        ]
    );
    assert_eq!(d.files[0].old_path.as_deref(), Some("apps/settings.yaml"));
    // The changed line, with its kind and its number in the old and new file.
    let find = |t: &str| (0..d.lines.len()).find(|&i| d.text(i) == t).unwrap();
    let del = find("-  replicas: 1");
    let add = find("+  replicas: 3");
    assert_eq!(d.lines[del].kind, LineKind::Del);
    assert_eq!(d.lines[add].kind, LineKind::Add);
    assert_eq!((d.lines[del].old, d.lines[add].new), (6, 6));
    assert_eq!(d.file_of(add).unwrap().path, "apps/web.yaml");
    // Side by side, the new line faces the old one.
    let row = d.rows.iter().find(|r| r.left == Some(del)).unwrap();
    assert_eq!(row.right, Some(add));
    // Under a path, only its files; an unknown commit is an error that says so.
    let d = git::diff(&repo, &DiffTarget::Commit(sha), Some("apps/svc.yaml")).unwrap();
    assert_eq!(d.files.len(), 1);
    let e = git::diff(&repo, &DiffTarget::Commit("1".repeat(40)), None).unwrap_err();
    assert!(e.contains("1111111111"), "{e}");
}

async fn next_git(rx: &mut tokio::sync::mpsc::Receiver<Msg>) -> GitEvent {
    match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
        Ok(Some(Msg::Git(ev))) => ev,
        other => panic!("no git event: {other:?}"),
    }
}

/// Feeds the worker's events to the reducer until `done` holds.
async fn settle(
    state: &mut State,
    rx: &mut tokio::sync::mpsc::Receiver<Msg>,
    done: impl Fn(&State) -> bool,
) {
    let keymap = Keymap::default();
    while !done(state) {
        let ev = next_git(rx).await;
        let cmds = update(state, &keymap, Msg::Git(ev));
        assert!(cmds.is_empty(), "events asked for {cmds:?}");
    }
}

#[tokio::test]
async fn the_worker_follows_a_pulled_head_the_working_tree_and_opens_diffs() {
    let s = Scratch::new("worker");
    let (remote, dev, ops) = (s.0.join("remote.git"), s.0.join("dev"), s.0.join("ops"));
    std::fs::create_dir_all(&remote).unwrap();
    run(&remote, &["init", "-q", "--bare", "-b", "main"]);
    std::fs::create_dir_all(&dev).unwrap();
    let shas = shop(&dev);
    run(&dev, &["remote", "add", "origin", remote.to_str().unwrap()]);
    run(&dev, &["push", "-q", "origin", "main"]);
    run(&s.0, &["clone", "-q", remote.to_str().unwrap(), "ops"]);

    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let requests = git::spawn(ops.clone(), None, tx);
    let mut state = State::new(true, Vec::new(), 0);
    settle(&mut state, &mut rx, |s| {
        s.git.commits.len() == 6 && s.git.link == sextant::app::state::Link::Up
    })
    .await;
    assert_eq!(state.git.repo.as_ref().unwrap().head, shas[0]);
    assert!(state.git.repo.as_ref().unwrap().remote.is_some());

    // The cluster is synced to "web: two replicas": two commits are pending.
    let record = sextant::engine::record::SyncRecord {
        commit: shas[3].clone(),
        ..Default::default()
    };
    update(
        &mut state,
        &Keymap::default(),
        Msg::Git(GitEvent::Synced(Some(record))),
    );
    assert_eq!(state.git.synced_row, Some(3));

    // A new commit pushed elsewhere and pulled here: the history reloads.
    write(&dev, "apps/db.yaml", DB);
    let c7 = commit(&dev, "db: back");
    run(&dev, &["push", "-q", "origin", "main"]);
    run(&ops, &["pull", "-q", "--ff-only"]);
    settle(&mut state, &mut rx, |s| {
        s.git.commits.first().is_some_and(|c| c.id == c7)
    })
    .await;
    assert!(state.git.commits[0].stateful);
    assert_eq!(state.git.synced_row, Some(4), "one more pending");

    // A change in the working tree: its entry appears first.
    write(&ops, "apps/web.yaml", "kind: Deployment\n");
    settle(&mut state, &mut rx, |s| s.git.worktree == 1).await;
    assert_eq!(state.git.entries(), 8);

    // Enter on it asks the worker for its diff, which fills the view.
    let keymap = Keymap::default();
    state.focus = Pane::Git;
    state.git.selected = 0;
    let cmds = update(
        &mut state,
        &keymap,
        Msg::Key(crossterm::event::KeyCode::Enter.into()),
    );
    let [sextant::app::Command::LoadDiff(target)] = cmds.as_slice() else {
        panic!("{cmds:?}");
    };
    assert_eq!(*target, DiffTarget::WorkTree);
    requests.send(GitRequest::Diff(target.clone())).unwrap();
    settle(&mut state, &mut rx, |s| {
        s.git.diff.as_ref().is_some_and(|v| v.diff.is_some())
    })
    .await;
    let v = state.git.diff.as_ref().unwrap();
    let d = v.diff.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(d.files.len(), 1);
    assert_eq!(d.files[0].path, "apps/web.yaml");
    // Only "kind: Deployment" is left of its six lines.
    assert_eq!((d.files[0].added, d.files[0].removed), (0, 5));
}

/// A Secret in the repository shows which keys a commit changes, never their values,
/// in a commit's diff and in the working tree's.
#[test]
fn secret_values_never_reach_the_diff_viewer() {
    let s = Scratch::new("secret");
    let dir = &s.0;
    init(dir);
    let secret = |pw: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {pw}\n  user: admin\n"
        )
    };
    write(dir, "apps/db-secret.yaml", &secret("hunter2"));
    write(dir, "apps/web.yaml", WEB);
    let first = commit(dir, "first");
    write(dir, "apps/db-secret.yaml", &secret("correct-horse"));
    let second = commit(dir, "rotate");
    write(dir, "apps/db-secret.yaml", &secret("tr0ub4dor"));
    let repo = git2::Repository::open(dir).unwrap();
    for target in [
        DiffTarget::Commit(first),
        DiffTarget::Commit(second),
        DiffTarget::WorkTree,
    ] {
        let d = git::diff(&repo, &target, None).unwrap();
        let text: Vec<&str> = (0..d.lines.len()).map(|i| d.text(i)).collect();
        let all = text.join("\n");
        for value in ["hunter2", "correct-horse", "tr0ub4dor", "admin"] {
            assert!(!all.contains(value), "{target:?} shows {value}:\n{all}");
        }
        assert!(all.contains("password: (redacted)"), "{all}");
    }
    // Other manifests are untouched.
    let d = git::diff(
        &repo,
        &DiffTarget::Commit(run(dir, &["rev-parse", "HEAD~1"])),
        None,
    )
    .unwrap();
    let all: Vec<&str> = (0..d.lines.len()).map(|i| d.text(i)).collect();
    assert!(all.join("\n").contains("+  replicas: 1"));
}
