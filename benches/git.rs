//! Git pane benchmark on a generated 100,000-commit repository whose HEAD adds a 5 MB
//! file (devenv/bench-git.sh makes it): the worker's first page to the first frame,
//! then the 5 MB diff loaded and drawn, scrolled page by page and to its end.
//! Medians of RUNS runs (default 7). Run with `cargo bench --bench git`.
use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sextant::app::diff::DiffTarget;
use sextant::app::keymap::Keymap;
use sextant::app::msg::GitEvent;
use sextant::app::{Msg, State, update};
use sextant::sources::git;
use sextant::ui::{self, theme::Theme};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const W: u16 = 200;
const H: u16 = 50;

fn repo_path() -> PathBuf {
    if let Ok(p) = std::env::var("SEXTANT_BENCH_REPO") {
        return p.into();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/devenv/bench-git.sh");
    let out = std::process::Command::new(script)
        .arg("repo")
        .output()
        .expect("running devenv/bench-git.sh");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .expect("the script prints the repository")
        .into()
}

fn median(mut v: Vec<Duration>) -> String {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    format!(
        "median {:.1} ms (min {:.1}, max {:.1})",
        ms(v[v.len() / 2]),
        ms(v[0]),
        ms(v[v.len() - 1])
    )
}

struct Ui {
    state: State,
    keymap: Keymap,
    theme: Theme,
    term: Terminal<TestBackend>,
}

impl Ui {
    fn new() -> Ui {
        let mut state = State::new(true, Vec::new(), 0);
        let keymap = Keymap::default();
        update(&mut state, &keymap, Msg::Resize(W, H));
        Ui {
            state,
            keymap,
            theme: Theme::bundled("dark").unwrap(),
            term: Terminal::new(TestBackend::new(W, H)).unwrap(),
        }
    }
    fn send(&mut self, m: Msg) {
        update(&mut self.state, &self.keymap, m);
    }
    fn key(&mut self, k: KeyCode) {
        self.send(Msg::Key(k.into()));
    }
    fn draw(&mut self) {
        let (s, t, k) = (&self.state, &self.theme, &self.keymap);
        self.term.draw(|f| ui::draw(f, s, t, k)).unwrap();
    }
}

/// From starting the worker to the frame that shows the first page.
fn first_page(repo: &std::path::Path) -> (Duration, usize) {
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let _requests = git::spawn(repo.to_path_buf(), None, tx);
    let mut ui = Ui::new();
    ui.key(KeyCode::Tab);
    loop {
        let m = rt
            .block_on(async { tokio::time::timeout(Duration::from_secs(60), rx.recv()).await })
            .expect("the worker answers")
            .expect("the worker runs");
        let page = matches!(m, Msg::Git(GitEvent::Page { .. }));
        ui.send(m);
        if page {
            ui.draw();
            return (started.elapsed(), ui.state.git.commits.len());
        }
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` runs us with no argument.
    if !std::env::args().any(|a| a == "--bench") {
        println!("git bench: run with `cargo bench --bench git`");
        return;
    }
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(7);
    let path = repo_path();
    let repo = git2::Repository::open(&path).unwrap();
    let head = repo.head().unwrap().target().unwrap().to_string();
    println!("repository {} ({runs} runs)", path.display());
    let mut times = Vec::new();
    let mut shown = 0;
    for _ in 0..runs {
        let (t, n) = first_page(&path);
        times.push(t);
        shown = n;
    }
    println!(
        "first page ({shown} commits) from worker start to frame: {}",
        median(times)
    );

    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let repo = git2::Repository::open(&path).unwrap();
            git::history(&repo, None, 0, 200).unwrap();
            t.elapsed()
        })
        .collect();
    println!("history(): open and first 200 commits: {}", median(times));
    let times = (0..runs)
        .map(|_| {
            let t = Instant::now();
            git::history(&repo, None, 99_800, 200).unwrap();
            t.elapsed()
        })
        .collect();
    println!("history(): the last page (from 99,800): {}", median(times));

    let target = DiffTarget::Commit(head);
    let (mut load, mut first, mut pages, mut end) = (vec![], vec![], vec![], vec![]);
    let mut size = (0, 0);
    for _ in 0..runs {
        let mut ui = Ui::new();
        ui.key(KeyCode::Tab);
        ui.key(KeyCode::Char('z'));
        ui.send(Msg::Git(GitEvent::Page {
            from: 0,
            commits: git::history(&repo, None, 0, 1).unwrap().0,
            more: false,
        }));
        ui.key(KeyCode::Enter);
        let t = Instant::now();
        let d = git::diff(&repo, &target, None).unwrap();
        load.push(t.elapsed());
        size = (d.bytes(), d.lines.len());
        let t = Instant::now();
        ui.send(Msg::Git(GitEvent::Diff {
            target: target.clone(),
            result: Ok(Arc::new(d)),
        }));
        ui.draw();
        first.push(t.elapsed());
        // Forty pages down, a frame each.
        let t = Instant::now();
        for _ in 0..40 {
            ui.key(KeyCode::PageDown);
            ui.draw();
        }
        pages.push(t.elapsed() / 40);
        let t = Instant::now();
        ui.key(KeyCode::End);
        ui.draw();
        end.push(t.elapsed());
    }
    println!(
        "5 MB diff ({} bytes, {} lines): computed in the worker: {}",
        size.0,
        size.1,
        median(load)
    );
    println!(
        "5 MB diff: into the state and first frame ({W}x{H}): {}",
        median(first)
    );
    println!("5 MB diff: one page down and its frame: {}", median(pages));
    println!("5 MB diff: to the end and its frame: {}", median(end));
}
