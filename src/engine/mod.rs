//! The GitOps engine: manifests from git, drift, sync plans, apply, roll back.
//! No UI code: the TUI (through the executor) and the command line share it.
pub mod manifests;
pub mod record;
