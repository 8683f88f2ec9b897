//! The terminal guard: raw mode, the alternate screen and mouse capture are restored on
//! every exit, normal, early (Drop) or by a panic of the UI thread (`crash`'s hook, which
//! leaves the terminal alone when another thread panics: the UI goes on).
use crossterm::{cursor, event, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub struct Guard {
    pub terminal: Term,
    mouse: bool,
}

/// Whether sextant holds the terminal: restoring twice would leave the alternate screen
/// twice, and the second time terminals (xterm, tmux) move the cursor back to where it
/// was when sextant started, over what was printed since (a crash message).
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Safe to call when mouse capture was never on: turning it off is a no-op then.
/// Only the first call after taking the terminal does anything.
pub fn restore() {
    if !TAKEN.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = terminal::disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        event::DisableMouseCapture,
        terminal::LeaveAlternateScreen,
        cursor::Show
    );
}

fn take(mouse: bool) -> io::Result<()> {
    TAKEN.store(true, Ordering::SeqCst);
    terminal::enable_raw_mode()?;
    let mut out = io::stdout();
    execute!(out, terminal::EnterAlternateScreen, cursor::Hide)?;
    if mouse {
        execute!(out, event::EnableMouseCapture)?;
    }
    Ok(())
}

impl Guard {
    /// With `mouse`, clicks and the wheel come to sextant instead of the terminal.
    pub fn enter(mouse: bool) -> io::Result<Guard> {
        take(mouse).inspect_err(|_| restore())?;
        let terminal =
            Terminal::new(CrosstermBackend::new(io::stdout())).inspect_err(|_| restore())?;
        Ok(Guard { terminal, mouse })
    }
}

impl Guard {
    /// Gives the terminal to another program (an editor) and takes it back.
    pub fn suspend<T>(&mut self, f: impl FnOnce() -> T) -> io::Result<T> {
        restore();
        let out = f();
        take(self.mouse)?;
        self.terminal.clear()?;
        Ok(out)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
