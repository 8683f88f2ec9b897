//! Issue 8, cases 8 to 10: bad input and faults in the git repository, against real
//! repositories with a bare remote made in temporary folders. sextant must keep
//! working and lose nothing: odd file names are committed exactly, a huge diff comes
//! a page at a time, a commit that races another program is refused, a stale lock is
//! named and left alone, a rejected push is an error, and sync and roll back refuse a
//! dirty tree or a detached HEAD without stashing anything.
//!
//! Timings are printed, never asserted.
mod common;

use common::{git, repo_with_remote, unique};
use crossterm::event::KeyCode;
use sextant::app::Msg;
use sextant::app::diff::{DiffTarget, LineKind};
use sextant::app::keymap::Keymap;
use sextant::app::msg::{Command, GitEvent, RepoPath, WriteIntent};
use sextant::app::state::Pane;
use sextant::app::{State, update};
use sextant::engine::gitops;
use sextant::exec::{Executor, GitOps, Handles, Writer};
use sextant::sources::git::{self as source, GitRequest};
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Notify, mpsc, watch};

/// A folder removed when the test ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("sextant-fault-{name}-{}", unique()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A clone of a bare remote with one commit of two manifests: (scratch, remote, work).
fn repo(name: &str) -> (Scratch, PathBuf, PathBuf) {
    let s = Scratch::new(name);
    let (remote, work) = repo_with_remote(&s.0);
    write(&work, "apps/web.yaml", WEB);
    write(&work, "apps/config.yaml", CONFIG);
    commit_all(&work, "first");
    git(&work, &["push", "-q", "origin", "main"]);
    (s, remote, work)
}

const WEB: &str =
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n";
const CONFIG: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: info\n";

fn write(dir: &Path, file: &str, text: &str) {
    let p = dir.join(file);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn commit_all(dir: &Path, message: &str) -> String {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    git(dir, &["rev-parse", "HEAD"])
}

fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"])
}

/// `git args` with raw (maybe not UTF-8) arguments; its raw output.
fn git_raw(dir: &Path, args: &[&OsStr]) -> Vec<u8> {
    let out = Process::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// NUL-separated output as byte strings.
fn nul_list(out: &[u8]) -> Vec<Vec<u8>> {
    out.split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

fn open(dir: &Path) -> git2::Repository {
    git2::Repository::open(dir).unwrap()
}

fn writer() -> Writer {
    Writer::grant(true).unwrap()
}

/// No stash was made: refs/stash does not exist and `git stash list` is empty.
fn assert_nothing_stashed(dir: &Path) {
    assert_eq!(git(dir, &["stash", "list"]), "");
    assert!(open(dir).find_reference("refs/stash").is_err());
}

/// The executor as the TUI builds it, on `dir`, with no cluster.
fn executor(dir: &Path, tx: mpsc::Sender<Msg>) -> Executor {
    let handles = Handles {
        git: None,
        graph: watch::channel(None).0,
        storage: Arc::new(Notify::new()),
        kubeconfig: None,
        gitops: GitOps {
            repo: Some(dir.to_path_buf()),
            path: String::new(),
            app: format!("fault-{}", unique()),
        },
        px: watch::channel(Err("no Portworx in this test".into())).1,
        audit: sextant::audit::AuditLog::new(dir.join("../audit.log")),
    };
    Executor::new(handles, true, tx)
}

/// Runs one write through the executor and returns how it ended.
async fn run_write(dir: &Path, intent: WriteIntent) -> Result<String, String> {
    let (tx, mut rx) = mpsc::channel(64);
    let exec = executor(dir, tx);
    exec.run(Command::Write { id: 7, intent });
    loop {
        let m = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the executor answers")
            .expect("the executor is alive");
        if let Msg::Done(7, r) = m {
            return r;
        }
    }
}

/// Bytes this thread has read through system calls so far (Linux).
fn thread_read_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
    io.lines()
        .find_map(|l| l.strip_prefix("rchar: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

// ---------------------------------------------------------------- case 8

/// Latin-1 names (not UTF-8) are listed, shown with U+FFFD, and committed by their
/// exact bytes: of two names that look the same, only the changed one is committed.
#[tokio::test]
async fn case_8_names_that_are_not_utf8_are_shown_lossily_and_committed_exactly() {
    let (_s, _remote, work) = repo("names");
    let cafe_e9 = b"apps/caf\xe9.yaml".as_slice();
    let cafe_e8 = b"apps/caf\xe8.yaml".as_slice();
    let fresh = b"apps/\xff\xfe-new.yaml".as_slice();
    let on_disk = |b: &[u8]| work.join(OsStr::from_bytes(b));
    std::fs::write(on_disk(cafe_e9), CONFIG).unwrap();
    std::fs::write(on_disk(cafe_e8), CONFIG).unwrap();
    let base = commit_all(&work, "two look-alike names");

    // One changed, one new, the look-alike untouched.
    std::fs::write(on_disk(cafe_e9), CONFIG.replace("info", "debug")).unwrap();
    std::fs::write(on_disk(fresh), WEB).unwrap();
    let repo = open(&work);
    let files = gitops::changed_files(&repo).unwrap();
    let bytes: Vec<&[u8]> = files.iter().map(RepoPath::as_bytes).collect();
    assert_eq!(bytes, [cafe_e9, fresh], "{files:?}");
    let shown: Vec<String> = files.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        shown,
        ["apps/caf\u{fffd}.yaml", "apps/\u{fffd}\u{fffd}-new.yaml"]
    );
    // The pane counts them, and the working tree's diff shows them lossily.
    assert_eq!(source::worktree_files(&repo, None).unwrap(), 2);
    let d = source::diff(&repo, &DiffTarget::WorkTree, None).unwrap();
    let paths: Vec<&str> = d.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(paths, shown);

    // Committed through the executor, as the commit dialog does.
    let r = run_write(
        &work,
        WriteIntent::Commit {
            files: files.clone(),
            message: "Odd names".into(),
            head: Some(base.clone()),
        },
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    let sha = head(&work);
    assert_ne!(sha, base);
    let changed = git_raw(
        &work,
        &[
            OsStr::new("diff-tree"),
            OsStr::new("--no-commit-id"),
            OsStr::new("--name-only"),
            OsStr::new("-r"),
            OsStr::new("-z"),
            OsStr::new(&sha),
        ],
    );
    assert_eq!(nul_list(&changed), [cafe_e9.to_vec(), fresh.to_vec()]);
    let blob = |p: &[u8]| {
        let mut spec = format!("{sha}:").into_bytes();
        spec.extend_from_slice(p);
        git_raw(&work, &[OsStr::new("show"), OsStr::from_bytes(&spec)])
    };
    assert_eq!(blob(cafe_e9), CONFIG.replace("info", "debug").as_bytes());
    assert_eq!(blob(cafe_e8), CONFIG.as_bytes());
    assert!(gitops::changed_files(&open(&work)).unwrap().is_empty());

    // A deletion by an odd name is committed exactly too.
    std::fs::remove_file(on_disk(cafe_e8)).unwrap();
    let files = gitops::changed_files(&open(&work)).unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].as_bytes(), cafe_e8);
    gitops::commit(&open(&work), &writer(), &files, "Drop one").unwrap();
    let tree = git_raw(
        &work,
        &[
            OsStr::new("ls-tree"),
            OsStr::new("-r"),
            OsStr::new("-z"),
            OsStr::new("--name-only"),
            OsStr::new("HEAD"),
        ],
    );
    let tree = nul_list(&tree);
    assert!(tree.contains(&cafe_e9.to_vec()) && !tree.contains(&cafe_e8.to_vec()));

    // The commit's own diff and the history read the odd names too.
    let d = source::diff(&open(&work), &DiffTarget::Commit(sha.clone()), None).unwrap();
    let paths: Vec<(char, &str)> = d
        .files
        .iter()
        .map(|f| (f.status, f.path.as_str()))
        .collect();
    assert_eq!(paths, [('M', shown[0].as_str()), ('A', shown[1].as_str())]);
    let (rows, _) = source::history(&open(&work), None, 0, 10).unwrap();
    assert_eq!(rows[1].id, sha);
}

/// A manifest of about `bytes` bytes: a ConfigMap with one key a line.
fn huge_manifest(bytes: usize) -> (String, usize) {
    let mut text =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n");
    let mut lines = 5;
    while text.len() < bytes {
        text.push_str(&format!(
            "  key{lines:08}: value-{lines:08}-padding-padding-padding\n"
        ));
        lines += 1;
    }
    (text, lines)
}

async fn next_git(rx: &mut mpsc::Receiver<Msg>) -> GitEvent {
    match tokio::time::timeout(Duration::from_secs(120), rx.recv()).await {
        Ok(Some(Msg::Git(ev))) => ev,
        other => panic!("no git event: {other:?}"),
    }
}

/// A 50 MB diff: the worker sends a first page of about a megabyte, answers a history
/// request right after it, and sends the rest a page at a time as the view scrolls.
/// All of it arrives, exactly; the state never holds more than what was scrolled to.
#[tokio::test]
async fn case_8_a_50_mb_diff_comes_a_page_at_a_time_and_the_worker_stays_responsive() {
    let (_s, _remote, work) = repo("bigdiff");
    let (text, lines) = huge_manifest(50 << 20);
    write(&work, "apps/huge.yaml", &text);
    let sha = commit_all(&work, "a 50 MB config map");
    drop(text);

    let (tx, mut rx) = mpsc::channel(64);
    let requests = source::spawn(work.clone(), None, tx);
    let keymap = Keymap::default();
    let mut state = State::new(true, Vec::new(), 0);
    while state.git.commits.len() < 2 {
        let ev = next_git(&mut rx).await;
        update(&mut state, &keymap, Msg::Git(ev));
    }
    assert_eq!(state.git.commits[0].id, sha);

    // Enter on the commit: the first page.
    state.focus = Pane::Git;
    state.git.selected = state.git.offset();
    let cmds = update(
        &mut state,
        &keymap,
        Msg::Key(crossterm::event::KeyCode::Enter.into()),
    );
    let [Command::LoadDiff(target)] = cmds.as_slice() else {
        panic!("{cmds:?}")
    };
    let asked = Instant::now();
    requests.send(GitRequest::Diff(target.clone())).unwrap();
    // A history request queued right behind it: answered once the page is out.
    requests.send(GitRequest::LoadCommits { from: 0 }).unwrap();
    let (mut first_page, mut history) = (None, None);
    while first_page.is_none() || history.is_none() {
        let ev = next_git(&mut rx).await;
        match &ev {
            GitEvent::Diff { .. } => first_page = Some(asked.elapsed()),
            GitEvent::Page { from: 0, .. } if first_page.is_some() => {
                history = Some(asked.elapsed())
            }
            _ => {}
        }
        update(&mut state, &keymap, Msg::Git(ev));
    }
    let held = |s: &State| {
        let v = s.git.diff.as_ref().unwrap();
        let d = v.diff.as_ref().unwrap().as_ref().unwrap();
        (d.bytes(), d.lines.len(), d.more)
    };
    let (bytes, _, more) = held(&state);
    eprintln!(
        "50 MB diff: first page {:?} after asking ({} KiB held in the state); history answered {:?} after asking",
        first_page.unwrap(),
        bytes >> 10,
        history.unwrap()
    );
    assert!(more, "a 50 MB diff is not sent whole");
    // What the worker keeps between pages: the patch of the file being read, less
    // what was sent (one file of 50 MB here: libgit2 makes a file's patch whole).
    let mut worker = None;
    let t = Instant::now();
    source::diff_page(
        &open(&work),
        &mut worker,
        target,
        None,
        0,
        source::DIFF_PAGE,
    )
    .unwrap();
    eprintln!(
        "50 MB diff: the worker holds {} MiB after the first page (made in {:?})",
        worker.as_ref().map_or(0, |w: &source::DiffText| w.held()) >> 20,
        t.elapsed()
    );
    assert!(
        bytes <= source::DIFF_PAGE,
        "{bytes} bytes in the first page"
    );

    // Scrolling to the end asks for one page at a time, each asked once.
    let (mut pages, mut peak, started) = (1, bytes, Instant::now());
    let mut reducer = Duration::ZERO;
    loop {
        let cmds = update(&mut state, &keymap, Msg::Key(KeyCode::Char('G').into()));
        let more = match cmds.as_slice() {
            [] => break,
            [Command::MoreDiff { target: t, from }] => {
                assert_eq!(t, target);
                assert_eq!(
                    *from,
                    held(&state).0,
                    "the next page starts where the last ended"
                );
                (t.clone(), *from)
            }
            other => panic!("{other:?}"),
        };
        // A second G while the page is on its way asks nothing more.
        assert!(update(&mut state, &keymap, Msg::Key(KeyCode::Char('G').into())).is_empty());
        requests
            .send(GitRequest::MoreDiff {
                target: more.0,
                from: more.1,
            })
            .unwrap();
        loop {
            let ev = next_git(&mut rx).await;
            let page = matches!(ev, GitEvent::DiffMore { .. });
            let t = Instant::now();
            update(&mut state, &keymap, Msg::Git(ev));
            if page {
                reducer += t.elapsed();
                break;
            }
        }
        pages += 1;
        let (b, _, _) = held(&state);
        assert!(b - peak <= source::DIFF_PAGE, "one page at a time");
        peak = b;
    }
    let v = state.git.diff.as_ref().unwrap();
    let d = v.diff.as_ref().unwrap().as_ref().unwrap();
    eprintln!(
        "50 MB diff: {pages} pages, {} MiB in all, the rest loaded in {:?} ({:?} of it in the reducer)",
        d.bytes() >> 20,
        started.elapsed(),
        reducer
    );
    // Nothing lost or doubled at the page joins.
    assert!(!d.more);
    assert_eq!(d.files.len(), 1);
    assert_eq!((d.files[0].added, d.files[0].removed), (lines, 0));
    let adds: Vec<usize> = (0..d.lines.len())
        .filter(|&i| d.lines[i].kind == LineKind::Add)
        .collect();
    assert_eq!(adds.len(), lines);
    for (n, &i) in adds.iter().enumerate() {
        assert_eq!(d.lines[i].new as usize, n + 1, "line {n} numbered in order");
    }
    assert_eq!(
        d.text(adds[5]),
        "+  key00000005: value-00000005-padding-padding-padding"
    );
    assert_eq!(
        d.text(*adds.last().unwrap()),
        format!(
            "+  key{:08}: value-{:08}-padding-padding-padding",
            lines - 1,
            lines - 1
        )
    );
    // Side by side, every added line has its own row.
    assert_eq!(d.rows.iter().filter(|r| r.left.is_none()).count(), lines);
}

/// When the file was last read, as the file system keeps it.
fn accessed(p: &Path) -> std::time::SystemTime {
    std::fs::metadata(p).unwrap().accessed().unwrap()
}

/// Sets a file's last read two days back: with relatime, the next read of any kind
/// (read or mmap) moves it again.
fn age_access(p: &Path) -> std::time::SystemTime {
    let past = std::time::SystemTime::now() - Duration::from_secs(2 * 86_400);
    let f = std::fs::File::options().write(true).open(p).unwrap();
    f.set_times(std::fs::FileTimes::new().set_accessed(past))
        .unwrap();
    accessed(p)
}

/// Two sparse 700 MB files in the working tree, untracked: a dump and a manifest.
/// The pane's count, the commit list, the refusal check and the working tree's diff
/// all answer without reading either; the manifest is shown as binary.
#[test]
fn case_8_a_700_mb_untracked_file_is_never_read() {
    let (_s, _remote, work) = repo("sparse");
    let (dump, manifest) = (work.join("dump.bin"), work.join("apps/huge.yaml"));
    for p in [&dump, &manifest] {
        let f = std::fs::File::create(p).unwrap();
        f.set_len(700 << 20).unwrap();
    }
    let aged = [age_access(&dump), age_access(&manifest)];
    let untouched = || [accessed(&dump), accessed(&manifest)] == aged;
    let repo = open(&work);
    let before = thread_read_bytes();

    let t = Instant::now();
    let n = source::worktree_files(&repo, None).unwrap();
    let count = t.elapsed();
    let t = Instant::now();
    let files = gitops::changed_files(&repo).unwrap();
    let status = t.elapsed();
    let t = Instant::now();
    let d = source::diff(&repo, &DiffTarget::WorkTree, None).unwrap();
    let diff = t.elapsed();
    let read = thread_read_bytes() - before;
    eprintln!(
        "700 MB untracked files: count {count:?}, status {status:?}, working tree diff {diff:?} ({} bytes of text); {} KiB read by this thread",
        d.bytes(),
        read >> 10
    );
    // The dump is build output: not counted; the manifest is a change.
    assert_eq!(n, 1);
    assert_eq!(files, ["apps/huge.yaml"]);
    assert_eq!(d.files.len(), 1);
    let text: Vec<&str> = (0..d.lines.len()).map(|i| d.text(i)).collect();
    assert!(
        text.iter().any(|l| l.starts_with("Binary files")),
        "{text:?}"
    );
    assert!(read < 16 << 20, "{read} bytes read");
    assert!(untouched(), "a 700 MB file was read");

    // With the manifest gone, the dump alone does not block a sync.
    std::fs::remove_file(&manifest).unwrap();
    gitops::require_clean(&open(&work), "sync").unwrap();
    assert_eq!(accessed(&dump), aged[0]);
    // The probe works: a read of one byte is seen.
    use std::io::Read;
    std::fs::File::open(&dump)
        .unwrap()
        .read_exact(&mut [0u8; 1])
        .unwrap();
    assert_ne!(accessed(&dump), aged[0], "the access time probe sees reads");
}

// ---------------------------------------------------------------- case 9

/// The user lists the changes (HEAD is read then); another program commits; the
/// user's commit is refused with both commits named, and nothing of either is lost.
#[tokio::test]
async fn case_9_a_commit_made_meanwhile_by_another_program_is_refused_and_kept() {
    let (_s, _remote, work) = repo("cas");
    let seen = head(&work);
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 3"),
    );
    let files = gitops::changed_files(&open(&work)).unwrap();
    assert_eq!(files, ["apps/web.yaml"]);

    // Another program commits a file of its own meanwhile.
    write(
        &work,
        "apps/other.yaml",
        CONFIG.replace("settings", "other").as_str(),
    );
    git(&work, &["add", "apps/other.yaml"]);
    git(&work, &["commit", "-q", "-m", "from another program"]);
    let theirs = head(&work);

    let intent = WriteIntent::Commit {
        files: files.clone(),
        message: "Three replicas".into(),
        head: Some(seen.clone()),
    };
    let e = run_write(&work, intent).await.unwrap_err();
    eprintln!("refused: {e}");
    assert!(e.contains("moved") && e.contains("another program"), "{e}");
    assert!(e.contains(&seen[..8]) && e.contains(&theirs[..8]), "{e}");
    // Their commit is HEAD; ours is still in the working tree, not even staged.
    assert_eq!(head(&work), theirs);
    assert_eq!(git(&work, &["diff", "--cached", "--name-only"]), "");
    assert_eq!(git(&work, &["diff", "--name-only"]), "apps/web.yaml");
    assert!(!work.join(".git/index.lock").exists());

    // Listed again on the new HEAD, it goes on top of theirs.
    let intent = WriteIntent::Commit {
        files,
        message: "Three replicas".into(),
        head: Some(theirs.clone()),
    };
    run_write(&work, intent).await.unwrap();
    assert_eq!(git(&work, &["rev-parse", "HEAD~1"]), theirs);
    assert_eq!(git(&work, &["status", "--porcelain"]), "");
    assert_eq!(
        git(&work, &["log", "--format=%s", "-3"]),
        "Three replicas\nfrom another program\nfirst"
    );
}

/// sextant and `git commit` in a loop at the same time, sextant pausing between
/// reading HEAD and committing as a user would: every commit either side reports made
/// is in the history, and sextant's failures are all reported conflicts or the lock.
#[test]
fn case_9_commits_racing_another_program_are_never_overwritten() {
    let (_s, _remote, work) = repo("race");
    const ROUNDS: usize = 25;
    let other = {
        let work = work.clone();
        std::thread::spawn(move || {
            let mut busy = 0;
            // A git command, again while sextant holds the lock.
            let mut run = |args: &[&str]| loop {
                let out = Process::new("git")
                    .args(["-c", "user.name=Other", "-c", "user.email=o@example.com"])
                    .args(args)
                    .current_dir(&work)
                    .output()
                    .unwrap();
                if out.status.success() {
                    return;
                }
                // sextant's lock, or git's own compare-and-swap on HEAD losing to
                // sextant's commit: git retries too.
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    err.contains("index.lock") || err.contains("cannot lock ref 'HEAD'"),
                    "git {args:?}: {err}"
                );
                busy += 1;
                std::thread::sleep(Duration::from_millis(3));
            };
            for i in 0..ROUNDS {
                let file = format!("theirs/{i}.yaml");
                write(&work, &file, &CONFIG.replace("settings", &format!("t{i}")));
                run(&["add", &file]);
                run(&["commit", "-q", "-m", &format!("theirs {i}"), "--", &file]);
                std::thread::sleep(Duration::from_millis(7));
            }
            busy
        })
    };
    let (mut ours, mut moved, mut locked) = (Vec::new(), 0, 0);
    for i in 0..ROUNDS {
        let file = format!("ours/{i}.yaml");
        write(&work, &file, &CONFIG.replace("settings", &format!("o{i}")));
        let mut tries = 0;
        loop {
            tries += 1;
            assert!(tries < 200, "round {i} never got through");
            let repo = open(&work);
            let seen = repo.head().unwrap().target().unwrap().to_string();
            // The user reads the dialog.
            std::thread::sleep(Duration::from_millis(5));
            match gitops::commit_on(
                &repo,
                &writer(),
                Some(&seen),
                &[file.as_str().into()],
                &format!("ours {i}"),
            ) {
                Ok(sha) => {
                    ours.push(sha);
                    break;
                }
                Err(e) if e.contains("another program committed") => moved += 1,
                Err(e) if e.contains("index.lock") => locked += 1,
                Err(e) => panic!("round {i}: {e}"),
            }
        }
    }
    let busy = other.join().unwrap();
    eprintln!(
        "race: {} commits each; sextant refused {moved} times (HEAD moved) and {locked} times (locked); git waited on the lock {busy} times",
        ROUNDS
    );
    let all: Vec<String> = git(&work, &["rev-list", "HEAD"])
        .lines()
        .map(String::from)
        .collect();
    for sha in &ours {
        assert!(all.contains(sha), "{sha} was lost");
    }
    assert_eq!(all.len(), 1 + 2 * ROUNDS);
    let mut subjects: Vec<String> = git(&work, &["log", "--format=%s"])
        .lines()
        .map(String::from)
        .collect();
    subjects.sort();
    let mut want: Vec<String> = (0..ROUNDS)
        .flat_map(|i| [format!("ours {i}"), format!("theirs {i}")])
        .chain(["first".to_string()])
        .collect();
    want.sort();
    assert_eq!(subjects, want, "each commit once");
    assert_eq!(git(&work, &["status", "--porcelain"]), "");
    git(&work, &["fsck", "--no-dangling"]);
}

/// A stale `.git/index.lock` (a git that crashed): commit and roll back stop with an
/// error naming the file; the lock, HEAD and the working tree are left as they were.
#[tokio::test]
async fn case_9_a_stale_index_lock_is_named_and_left_alone() {
    let (_s, _remote, work) = repo("lock");
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 2"),
    );
    let second = commit_all(&work, "two replicas");
    let lock = work.join(".git/index.lock");
    std::fs::write(&lock, b"left by a crashed git").unwrap();
    let lock_path = lock.display().to_string();

    // Roll back (the tree is clean).
    let e = gitops::revert(&open(&work), &writer(), &second).unwrap_err();
    eprintln!("roll back: {e}");
    assert!(
        e.contains(&lock_path) && e.contains("remove that file"),
        "{e}"
    );
    assert_eq!(head(&work), second);
    assert!(
        std::fs::read_to_string(work.join("apps/web.yaml"))
            .unwrap()
            .contains("replicas: 2")
    );

    // Commit, through the executor as the TUI runs it.
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 4"),
    );
    let files = gitops::changed_files(&open(&work)).unwrap();
    let e = run_write(
        &work,
        WriteIntent::Commit {
            files: files.clone(),
            message: "four".into(),
            head: Some(second.clone()),
        },
    )
    .await
    .unwrap_err();
    eprintln!("commit: {e}");
    assert!(e.contains(&lock_path), "{e}");
    assert_eq!(head(&work), second);
    assert_eq!(std::fs::read(&lock).unwrap(), b"left by a crashed git");
    assert!(
        std::fs::read_to_string(work.join("apps/web.yaml"))
            .unwrap()
            .contains("replicas: 4")
    );

    // Once the user removes it, the same commit goes through.
    std::fs::remove_file(&lock).unwrap();
    gitops::commit_on(&open(&work), &writer(), Some(&second), &files, "four").unwrap();
    assert_eq!(git(&work, &["status", "--porcelain"]), "");
}

/// `git daemon` serving the scratch folder on a free local port; killed on drop.
struct Daemon(std::process::Child);

impl Daemon {
    fn start(root: &Path) -> (Daemon, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // git-daemon itself, not `git daemon`: killing a wrapper would orphan it.
        let exec_path = git(root, &["--exec-path"]);
        let child = Process::new(Path::new(&exec_path).join("git-daemon"))
            .args(["--reuseaddr", "--export-all", "--enable=receive-pack"])
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--base-path={}", root.display()))
            .arg(root)
            .spawn()
            .unwrap();
        let daemon = Daemon(child);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (daemon, port);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("git daemon did not listen on {port}");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A remote whose pre-receive hook refuses every push (a protected branch), over the
/// git protocol so that the hook runs: the push is an error that says what the remote
/// said, through the executor too; the remote keeps its branch, the clone its commit.
#[tokio::test]
async fn case_9_a_push_the_remote_rejects_is_an_error_not_success() {
    let (s, remote, work) = repo("reject");
    let hook = remote.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'main is protected: open a merge request' >&2\nexit 1\n",
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&hook).unwrap().permissions(),
        0o755,
    );
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (_daemon, port) = Daemon::start(&s.0);
    git(
        &work,
        &[
            "remote",
            "set-url",
            "origin",
            &format!("git://127.0.0.1:{port}/remote.git"),
        ],
    );
    let before = git(&remote, &["rev-parse", "main"]);
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 2"),
    );
    let ours = commit_all(&work, "two replicas");

    let e = gitops::push(&open(&work), &writer()).unwrap_err();
    eprintln!("push: {e}");
    assert!(e.contains("rejected by the remote"), "{e}");
    assert!(
        !e.contains("pull"),
        "a hook's refusal is not a missing pull: {e}"
    );
    let e = run_write(&work, WriteIntent::Push).await.unwrap_err();
    assert!(e.contains("rejected"), "{e}");
    assert_eq!(git(&remote, &["rev-parse", "main"]), before);
    assert_eq!(head(&work), ours);

    // Without the hook the same push goes through: the daemon and the URL work.
    std::fs::remove_file(&hook).unwrap();
    assert_eq!(
        run_write(&work, WriteIntent::Push).await.unwrap(),
        "pushed main to origin"
    );
    assert_eq!(git(&remote, &["rev-parse", "main"]), ours);
}

/// The remote is ahead: the push through the executor is an error saying to pull
/// (tests/engine.rs covers the engine call), and the audit log says it failed.
#[tokio::test]
async fn case_9_a_push_behind_the_remote_is_an_error_in_the_audit_log_too() {
    let (s, remote, work) = repo("behind");
    let other = s.0.join("other");
    git(
        &s.0,
        &[
            "clone",
            "-q",
            remote.to_str().unwrap(),
            other.to_str().unwrap(),
        ],
    );
    write(&other, "apps/other.yaml", CONFIG);
    commit_all(&other, "from elsewhere");
    git(&other, &["push", "-q", "origin", "main"]);
    let theirs = git(&remote, &["rev-parse", "main"]);
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 2"),
    );
    commit_all(&work, "two replicas");

    let e = run_write(&work, WriteIntent::Push).await.unwrap_err();
    assert!(e.contains("rejected") && e.contains("pull"), "{e}");
    assert_eq!(git(&remote, &["rev-parse", "main"]), theirs);
    let log = std::fs::read_to_string(work.join("../audit.log")).unwrap();
    let last = log.lines().last().unwrap();
    eprintln!("audit: {last}");
    assert!(last.contains("push") && last.contains("rejected"), "{last}");
}

// ---------------------------------------------------------------- case 10

/// Edits of every kind in the working tree: a tracked file changed, one staged, an
/// untracked manifest, and build output (untracked, not a manifest: not an edit).
/// Returns the paths a refusal must list.
fn make_dirty(work: &Path) -> Vec<&'static str> {
    write(work, "apps/config.yaml", &CONFIG.replace("info", "debug"));
    write(work, "apps/staged.yaml", CONFIG);
    git(work, &["add", "apps/staged.yaml"]);
    write(work, "apps/new.yaml", WEB);
    write(work, "build/output.txt", "not a manifest\n");
    vec!["apps/config.yaml", "apps/new.yaml", "apps/staged.yaml"]
}

/// What `git status` says, to compare before and after a refusal.
fn status(work: &Path) -> String {
    git(work, &["status", "--porcelain", "--untracked-files=all"])
}

fn assert_lists(e: &str, paths: &[&str]) {
    for p in paths {
        assert!(e.contains(p), "{p} missing from: {e}");
    }
    assert!(!e.contains("build/output.txt"), "{e}");
}

/// A kubeconfig whose server nobody listens on: any cluster access fails.
fn nowhere_kubeconfig(dir: &Path) -> PathBuf {
    let p = dir.join("nowhere.kubeconfig");
    std::fs::write(
        &p,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: nowhere\n  cluster:\n    server: https://127.0.0.1:9\ncontexts:\n- name: nowhere\n  context: {cluster: nowhere, user: nobody, namespace: default}\ncurrent-context: nowhere\nusers:\n- name: nobody\n  user: {token: none}\n",
    )
    .unwrap();
    p
}

/// The command line on `work` against a cluster that is not there: (exit, stderr).
fn cli(work: &Path, args: &[&str]) -> (i32, String) {
    let kubeconfig = nowhere_kubeconfig(work.parent().unwrap());
    let out = Process::new(env!("CARGO_BIN_EXE_sextant"))
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--repo")
        .arg(work)
        .args(["--app", "fault"])
        .arg("--log-file")
        .arg(work.join("../sextant.log"))
        .args(args)
        .env("KUBECONFIG", "/nonexistent")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A sync of HEAD as the TUI's preview hands it to the executor.
fn sync_intent(commit: &str) -> WriteIntent {
    WriteIntent::Sync {
        plan: Box::new(sextant::engine::plan::Plan {
            app: "fault".into(),
            commit: commit.into(),
            ..Default::default()
        }),
        prune: false,
        force: false,
        snapshot_first: true,
    }
}

/// Roll back with edits in the working tree, even in files the revert does not
/// touch: refused with every edited path, nothing stashed, committed or changed.
#[tokio::test]
async fn case_10_roll_back_refuses_a_dirty_tree_with_its_paths_and_stashes_nothing() {
    let (_s, _remote, work) = repo("dirty-rollback");
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 2"),
    );
    let second = commit_all(&work, "two replicas");
    let paths = make_dirty(&work);
    let before = (status(&work), git(&work, &["diff", "HEAD"]));

    let e = gitops::revert(&open(&work), &writer(), &second).unwrap_err();
    eprintln!("roll back: {e}");
    assert!(
        e.contains("roll back refused") && e.contains("uncommitted changes"),
        "{e}"
    );
    assert_lists(&e, &paths);
    // Through the executor, as `r` in the git pane runs it.
    let intent = WriteIntent::Revert {
        sha: second.clone(),
        subject: "two replicas".into(),
        restore: Vec::new(),
    };
    let e = run_write(&work, intent).await.unwrap_err();
    assert_lists(&e, &paths);
    // And the command line: refused (exit 5) before it asks anything.
    let (code, err) = cli(&work, &["rollback", &second, "--yes"]);
    assert_eq!(code, 5, "{err}");
    assert_lists(&err, &paths);

    assert_eq!(head(&work), second);
    assert_eq!((status(&work), git(&work, &["diff", "HEAD"])), before);
    assert_nothing_stashed(&work);
}

/// Sync with edits in the working tree: refused with the paths before the cluster is
/// touched (there is none here; the refusal comes first), in the TUI and the command
/// line. A tree with only build output in it passes the check.
#[tokio::test]
async fn case_10_sync_refuses_a_dirty_tree_before_touching_the_cluster() {
    let (_s, _remote, work) = repo("dirty-sync");
    let at = head(&work);
    let paths = make_dirty(&work);
    let before = status(&work);

    let e = run_write(&work, sync_intent(&at)).await.unwrap_err();
    eprintln!("sync: {e}");
    assert!(e.contains("sync refused"), "{e}");
    assert_lists(&e, &paths);
    let (code, err) = cli(&work, &["sync", "--yes"]);
    assert_eq!(code, 5, "{err}");
    assert_lists(&err, &paths);
    // A dry run writes nothing, so it is not refused: it goes on to ask the cluster.
    let (code, err) = cli(&work, &["sync", "--dry-run"]);
    assert_ne!(code, 5, "{err}");
    assert_eq!(status(&work), before);
    assert_nothing_stashed(&work);

    // Committed, the tree is clean but for build output: the sync goes on to the
    // cluster, and fails only for want of one.
    for p in &paths {
        git(&work, &["add", p]);
    }
    git(&work, &["commit", "-q", "-m", "the edits"]);
    let e = run_write(&work, sync_intent(&head(&work)))
        .await
        .unwrap_err();
    assert!(e.contains("not connected to a cluster"), "{e}");
}

/// A detached HEAD: sync and roll back say so, in the TUI and the command line, and
/// leave HEAD where it is.
#[tokio::test]
async fn case_10_a_detached_head_is_refused_for_sync_and_roll_back() {
    let (_s, _remote, work) = repo("detached");
    write(
        &work,
        "apps/web.yaml",
        &WEB.replace("replicas: 1", "replicas: 2"),
    );
    let second = commit_all(&work, "two replicas");
    git(&work, &["checkout", "-q", "--detach", "HEAD"]);

    let e = gitops::revert(&open(&work), &writer(), &second).unwrap_err();
    eprintln!("roll back: {e}");
    assert!(e.contains("detached") && e.contains(&second[..8]), "{e}");
    let e = run_write(&work, sync_intent(&second)).await.unwrap_err();
    eprintln!("sync: {e}");
    assert!(e.contains("sync refused") && e.contains("detached"), "{e}");
    for args in [
        vec!["sync", "--yes"],
        vec!["rollback", second.as_str(), "--yes"],
    ] {
        let (code, err) = cli(&work, &args);
        assert_eq!(code, 5, "{args:?}: {err}");
        assert!(err.contains("detached"), "{err}");
    }
    assert_eq!(head(&work), second);
    assert!(open(&work).head_detached().unwrap());
    assert_eq!(status(&work), "");
    assert_nothing_stashed(&work);
}
