//! Terminal input on a thread of its own, which can be paused while an external
//! editor owns the terminal (crossterm's EventStream would keep reading stdin and
//! steal the editor's first keys).
use crate::app::Msg;
use crate::app::msg::MouseKind;
use crossterm::event::{self, Event, KeyCode, MouseButton, MouseEventKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

pub struct Input {
    pub events: mpsc::UnboundedReceiver<std::io::Result<Event>>,
    paused: Arc<AtomicBool>,
    parked: Arc<AtomicBool>,
}

/// How long a read waits before looking at the pause flag again.
const POLL: Duration = Duration::from_millis(100);

pub fn spawn() -> Input {
    let (tx, events) = mpsc::unbounded_channel();
    let paused = Arc::new(AtomicBool::new(false));
    let parked = Arc::new(AtomicBool::new(false));
    let (p, k) = (paused.clone(), parked.clone());
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                if p.load(Ordering::SeqCst) {
                    k.store(true, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                k.store(false, Ordering::SeqCst);
                let ev = match event::poll(POLL) {
                    Ok(false) => continue,
                    Ok(true) => event::read(),
                    Err(e) => Err(e),
                };
                let failed = ev.is_err();
                if tx.send(ev).is_err() || failed {
                    return;
                }
            }
        })
        .expect("spawning the input thread");
    Input {
        events,
        paused,
        parked,
    }
}

/// The message a terminal event becomes, if any. In watch mode only `q` counts.
/// The only keys watch mode takes: q and Ctrl-C.
fn quits(k: &crossterm::event::KeyEvent) -> bool {
    use crossterm::event::KeyModifiers;
    k.code == KeyCode::Char('q')
        || (k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL))
}

pub fn message(ev: Event, watch: bool) -> Option<Msg> {
    match ev {
        Event::Key(k) if !watch || quits(&k) => Some(Msg::Key(k)),
        Event::Resize(w, h) => Some(Msg::Resize(w, h)),
        Event::Mouse(m) if !watch => {
            let kind = match m.kind {
                MouseEventKind::Down(MouseButton::Left) => MouseKind::Click,
                MouseEventKind::ScrollUp => MouseKind::WheelUp,
                MouseEventKind::ScrollDown => MouseKind::WheelDown,
                _ => return None,
            };
            Some(Msg::Mouse {
                kind,
                col: m.column,
                row: m.row,
            })
        }
        _ => None,
    }
}

impl Input {
    /// Stops reading the terminal; returns once the thread no longer reads.
    pub fn pause(&self) {
        // Cleared first, so an earlier pause's "parked" cannot answer for this one.
        self.parked.store(false, Ordering::SeqCst);
        self.paused.store(true, Ordering::SeqCst);
        for _ in 0..50 {
            if self.parked.load(Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyEvent, KeyModifiers, MouseEvent};

    fn mouse(kind: MouseEventKind) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column: 7,
            row: 3,
            modifiers: KeyModifiers::NONE,
        })
    }

    #[test]
    fn clicks_and_the_wheel_become_messages() {
        let click = message(mouse(MouseEventKind::Down(MouseButton::Left)), false);
        assert!(matches!(
            click,
            Some(Msg::Mouse {
                kind: MouseKind::Click,
                col: 7,
                row: 3
            })
        ));
        assert!(matches!(
            message(mouse(MouseEventKind::ScrollDown), false),
            Some(Msg::Mouse {
                kind: MouseKind::WheelDown,
                ..
            })
        ));
        assert!(message(mouse(MouseEventKind::Moved), false).is_none());
        assert!(message(mouse(MouseEventKind::Down(MouseButton::Right)), false).is_none());
        // A wall display takes no clicks, and only `q` of the keys.
        assert!(message(mouse(MouseEventKind::ScrollUp), true).is_none());
        let key = |c| Event::Key(KeyEvent::from(KeyCode::Char(c)));
        assert!(message(key('j'), true).is_none());
        assert!(matches!(message(key('q'), true), Some(Msg::Key(_))));
    }
}
