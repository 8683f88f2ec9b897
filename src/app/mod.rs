//! App state, messages and the pure reducer. No IO happens here.
pub mod cluster;
pub mod diff;
mod git;
pub mod keymap;
pub mod keymap_config;
pub mod keys;
pub mod marks;
pub mod metrics;
mod mouse;
pub mod msg;
pub mod ops;
pub mod state;
pub mod storage;
pub mod sync;
pub mod tree;
pub mod update;
pub mod watch;

pub use msg::{Command, Msg};
pub use state::State;
pub use update::update;
#[cfg(test)]
mod storage_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_mouse;
#[cfg(test)]
mod tests_ops;
