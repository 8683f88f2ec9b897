//! The GitOps engine: manifests from git, drift, sync plans, apply, roll back.
//! No UI code: the TUI (through the executor) and the command line share it.
pub mod compare;
pub mod gitops;
pub mod manifests;
pub mod plan;
pub mod record;
pub mod rollout;
pub mod sync;
pub mod target;
