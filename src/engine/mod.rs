//! The GitOps engine: manifests from git, drift, sync plans, apply, roll back.
//! No UI code: the TUI (through the executor) and the command line share it.
pub mod compare;
pub mod gitops;
pub mod manifests;
pub mod plan;
pub mod px;
pub mod record;
pub mod restore;
pub mod restore_run;
pub mod rollout;
pub mod snapshot;
pub mod stork;
pub mod sync;
pub mod target;
pub mod workload;
pub mod worktree;

/// The first `n` characters of a SHA, or all of it when shorter or not ASCII.
pub fn short(sha: &str, n: usize) -> &str {
    sha.get(..n).unwrap_or(sha)
}
