//! The UI task: owns the state, feeds messages to the reducer, hands commands to the
//! executor and draws only when something changed, at most 30 frames a second.
use crate::app::cluster::Key;
use crate::app::keymap::Keymap;
use crate::app::msg::Command;
use crate::app::state::Link;
use crate::app::{Msg, State, update};
use crate::config::Settings;
use crate::exec::{Executor, GitOps, Handles};
use crate::fault::Fault;
use crate::input::Input;
use crate::pace::Pacer;
use crate::sources;
use crate::terminal::Guard;
use crate::ui::{self, theme::Theme};
use ratatui::buffer::Buffer;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Timings the benchmark reads.
pub struct Report {
    pub first_complete_frame: Option<Duration>,
}

fn frame_interval(s: &Settings) -> Duration {
    if s.watch {
        Duration::from_secs(1)
    } else {
        Duration::from_millis(33)
    }
}

/// Starts the git, Prometheus and Portworx sources and returns the executor's handles;
/// the cluster connects through the executor, as a context switch does.
fn start_sources(settings: &Settings, tx: &mpsc::Sender<Msg>) -> Handles {
    let git = settings
        .repo
        .clone()
        .map(|p| sources::git::spawn(p, settings.path.clone(), tx.clone()));
    let graph = sources::prometheus::spawn(
        settings.prometheus.clone(),
        settings.prometheus_auth.clone(),
        settings.graphs == crate::config::default_graphs(),
        // Portworx may be found in the cluster later; rates for no volume cost little.
        true,
        tx.clone(),
    );
    let find = sources::px_discover::Find {
        kubeconfig: settings.kubeconfig.clone(),
        context: settings.context.clone(),
        read_only: settings.read_only,
    };
    let (storage, px) = sources::portworx::spawn(
        settings.portworx.clone(),
        settings.portworx_token.clone(),
        find,
        tx.clone(),
    );
    Handles {
        git,
        graph,
        storage,
        kubeconfig: settings.kubeconfig.clone(),
        gitops: GitOps {
            repo: settings.repo.clone(),
            path: settings.path.clone().unwrap_or_default(),
            app: settings.app.clone(),
        },
        px,
        audit: crate::audit::AuditLog::new(settings.audit_log.clone()),
    }
}

/// Sends the wall clock every `period` seconds, on the boundary, so ages stay right
/// without redrawing every second: a minute interactively, 10 s on a wall display,
/// where the time since each source answered must be current.
fn spawn_clock(tx: mpsc::Sender<Msg>, period: i64) {
    tokio::spawn(async move {
        loop {
            let now = chrono::Utc::now().timestamp();
            tokio::time::sleep(Duration::from_secs((period - now % period) as u64)).await;
            if tx
                .send(Msg::Tick(chrono::Utc::now().timestamp()))
                .await
                .is_err()
            {
                return;
            }
        }
    });
}

pub async fn run(settings: Settings, theme: Theme) -> anyhow::Result<Report> {
    let started = Instant::now();
    let keymap = settings.keymap.clone();
    let (tx, mut rx) = mpsc::channel::<Msg>(4096);
    let mut state = State::new(
        settings.read_only,
        settings.graphs.clone(),
        chrono::Utc::now().timestamp(),
    );
    if settings.repo.is_none() {
        state.git.link = Link::Off;
    }
    if settings.prometheus.is_none() {
        state.metrics.link = Link::Off;
    }
    state.ascii = settings.ascii;
    state.watch.on = settings.watch;
    // A bad `[keys]` did not stop sextant: it runs on the default keys and says why.
    state.flash = settings.config_problem.clone().map(|e| (false, e));
    crate::fault::arm_from_env();
    // Crash logs go next to the log file.
    let crash_dir = settings
        .log_file
        .parent()
        .map_or_else(std::env::temp_dir, |d| d.to_path_buf());
    crate::crash::install(crash_dir, tx.clone());
    let mut guard = Guard::enter(settings.mouse)?;
    let handles = start_sources(&settings, &tx);
    let exec = Executor::new(handles, !settings.read_only, tx.clone());
    exec.run(Command::SwitchScope {
        context: settings.context.clone(),
        scope: settings.scope.clone(),
    });
    spawn_clock(tx.clone(), if settings.watch { 10 } else { 60 });
    let size = guard.terminal.size()?;
    for cmd in update(&mut state, &keymap, Msg::Resize(size.width, size.height)) {
        exec.run(cmd);
    }
    let mut input = crate::input::spawn();
    let mut edits: Vec<Key> = Vec::new();
    let mut pacer = Pacer::new(frame_interval(&settings));
    let mut last_frame = None;
    let mut report = Report {
        first_complete_frame: None,
    };
    loop {
        // Draw when dirty, when the pacer allows: the frame interval after the last
        // frame, and resizes settled.
        let next_frame = pacer.next().unwrap_or_else(Instant::now);
        let msg = tokio::select! {
            ev = input.events.recv() => match ev {
                Some(Ok(ev)) => crate::input::message(ev, settings.watch),
                Some(Err(e)) => return Err(e.into()),
                None => break,
            },
            m = rx.recv() => m,
            _ = tokio::time::sleep_until(next_frame.into()), if state.dirty => None,
        };
        if let Some(m) = msg {
            let mut handle = |m: Msg, edits: &mut Vec<Key>| {
                if matches!(m, Msg::Resize(..)) {
                    pacer.resized(Instant::now());
                }
                let f12 = matches!(&m, Msg::Key(k) if k.code == crossterm::event::KeyCode::F(12));
                if f12 && crate::fault::fire(Fault::PanicUi) {
                    // On purpose the message quotes the Portworx token: the crash log and
                    // the screen must show it masked (tests/fault_terminal.rs).
                    let token = settings.portworx_token.clone().ok().flatten();
                    panic!(
                        "injected by SEXTANT_FAULT=panic-ui, holding the token {}",
                        token.as_ref().map_or("(none)", |t| t.expose())
                    );
                }
                for cmd in update(&mut state, &keymap, m) {
                    match cmd {
                        Command::Edit { key } => edits.push(key),
                        c => exec.run(c),
                    }
                }
            };
            handle(m, &mut edits);
            // Drain what is queued, terminal input too, before drawing, so a burst
            // costs one frame. Keys after one that opens the editor wait for it.
            while edits.is_empty() {
                match input.events.try_recv() {
                    Ok(Ok(ev)) => {
                        if let Some(m) = crate::input::message(ev, settings.watch) {
                            handle(m, &mut edits);
                        }
                    }
                    Ok(Err(e)) => return Err(e.into()),
                    Err(_) => break,
                }
            }
            while let Ok(m) = rx.try_recv() {
                handle(m, &mut edits);
            }
        }
        for key in edits.drain(..) {
            edit(&mut guard, &input, &settings, &mut state, &key)?;
            last_frame = None;
        }
        if state.quit {
            break;
        }
        if state.dirty && pacer.may_draw(Instant::now()) {
            let resizes = pacer.drawn(Instant::now());
            draw(
                &mut guard,
                &mut last_frame,
                &state,
                &theme,
                &keymap,
                resizes,
            )?;
            state.dirty = false;
            if report.first_complete_frame.is_none() && state.complete() {
                report.first_complete_frame = Some(started.elapsed());
                tracing::info!(
                    ms = started.elapsed().as_millis() as u64,
                    "first complete frame"
                );
                if settings.exit_after_first_frame {
                    break;
                }
            }
        }
    }
    drop(guard);
    Ok(report)
}

/// Hands the terminal to the editor on the object's manifest, then takes it back.
fn edit(
    guard: &mut Guard,
    input: &Input,
    settings: &Settings,
    state: &mut State,
    key: &Key,
) -> std::io::Result<()> {
    state.dirty = true;
    let (file, line) = match crate::edit::find(settings, key) {
        Ok(found) => found,
        Err(e) => {
            state.flash = Some((false, e));
            return Ok(());
        }
    };
    input.pause();
    let status = guard.suspend(|| crate::edit::command(&file, line).status());
    input.resume();
    state.flash = Some(match status? {
        Ok(s) if s.success() => (true, format!("edited {}: c commits it", file.display())),
        Ok(s) => (false, format!("the editor exited with {s}")),
        Err(e) => (false, format!("cannot run the editor: {e}")),
    });
    Ok(())
}

/// One frame inside a synchronized update, so terminals over SSH never show half a frame.
/// A frame identical to the last one written is dropped before any byte is sent: ratatui
/// writes colour resets and the cursor state even for an empty diff. After `resizes`
/// resize events every cell is written, even when the size ended where it began: the
/// terminal may have cut or reflowed the old frame in between.
fn draw(
    guard: &mut Guard,
    last: &mut Option<Buffer>,
    state: &State,
    theme: &Theme,
    keymap: &Keymap,
    resizes: usize,
) -> std::io::Result<()> {
    use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
    let t = &mut guard.terminal;
    if resizes > 0 {
        // The clear is inside the synchronized update too: no blank screen shows.
        crossterm::execute!(std::io::stdout(), BeginSynchronizedUpdate)?;
        let size = t.size()?;
        t.resize(size.into())?;
        *last = None;
    } else {
        t.autoresize()?;
    }
    let mut frame = t.get_frame();
    ui::draw(&mut frame, state, theme, keymap);
    let buf = t.current_buffer_mut();
    if last.as_ref() == Some(&*buf) {
        buf.reset();
        return Ok(());
    }
    *last = Some(buf.clone());
    let area = buf.area;
    if resizes == 0 {
        crossterm::execute!(std::io::stdout(), BeginSynchronizedUpdate)?;
    }
    let r = t.apply_buffer().map(|_| ());
    crossterm::execute!(std::io::stdout(), EndSynchronizedUpdate)?;
    // For the tests that count frames: SEXTANT_LOG=sextant::frame=debug.
    tracing::debug!(target: "sextant::frame", cols = area.width, rows = area.height, resizes, "frame");
    r
}
