//! Terminal input on a thread of its own, which can be paused while an external
//! editor owns the terminal (crossterm's EventStream would keep reading stdin and
//! steal the editor's first keys).
use crossterm::event::{self, Event};
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
