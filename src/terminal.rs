//! The terminal guard: raw mode and the alternate screen are restored on every exit,
//! normal, early (Drop) or by panic (hook).
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use std::io::{self, Stdout};

pub type Term = Terminal<CrosstermBackend<Stdout>>;

pub struct Guard {
    pub terminal: Term,
}

pub fn restore() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

impl Guard {
    pub fn enter() -> io::Result<Guard> {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            hook(info);
        }));
        terminal::enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        let terminal = Terminal::new(CrosstermBackend::new(out)).inspect_err(|_| restore())?;
        Ok(Guard { terminal })
    }
}

impl Guard {
    /// Gives the terminal to another program (an editor) and takes it back.
    pub fn suspend<T>(&mut self, f: impl FnOnce() -> T) -> io::Result<T> {
        restore();
        let out = f();
        terminal::enable_raw_mode()?;
        execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
        self.terminal.clear()?;
        Ok(out)
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}
