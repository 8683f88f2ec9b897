//! Faults injected on purpose, for the end-to-end tests of what a panic leaves behind
//! (tests/fault_terminal.rs). A panic cannot be caused from outside the process, so the
//! hidden variable `SEXTANT_FAULT` asks for one:
//!
//! - `panic-ui`: the UI loop panics when F12 is pressed (no binding uses it);
//! - `panic-task`: the first describe or YAML fetch panics in its executor task.
//!
//! It is read once, at start; unset (always, outside those tests) nothing changes.
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    PanicUi,
    PanicTask,
}

static ARMED: OnceLock<Option<Fault>> = OnceLock::new();
static FIRED: AtomicBool = AtomicBool::new(false);

pub fn parse(value: &str) -> Option<Fault> {
    match value {
        "panic-ui" => Some(Fault::PanicUi),
        "panic-task" => Some(Fault::PanicTask),
        _ => None,
    }
}

/// Reads `SEXTANT_FAULT`; later calls change nothing.
pub fn arm_from_env() {
    ARMED.get_or_init(|| {
        std::env::var("SEXTANT_FAULT")
            .ok()
            .as_deref()
            .and_then(parse)
    });
}

/// Whether `fault` should happen now: true once, when it was asked for.
pub fn fire(fault: Fault) -> bool {
    ARMED.get().copied().flatten() == Some(fault) && !FIRED.swap(true, Ordering::SeqCst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_names_arm_a_fault() {
        assert_eq!(parse("panic-ui"), Some(Fault::PanicUi));
        assert_eq!(parse("panic-task"), Some(Fault::PanicTask));
        assert_eq!(parse(""), None);
        assert_eq!(parse("panic"), None);
        // Never armed in the unit tests: nothing fires.
        assert!(!fire(Fault::PanicUi) && !fire(Fault::PanicTask));
    }
}
