//! CSI VolumeSnapshots of a workload's claims, labelled so the storage pane, the
//! metrics markers and a later restore know what they were taken of and at which commit.

/// The workload a snapshot was taken of (its name; the kind is in WORKLOAD_KIND_LABEL).
pub const WORKLOAD_LABEL: &str = "sextant.dev/workload";
/// `StatefulSet` or `Deployment`.
pub const WORKLOAD_KIND_LABEL: &str = "sextant.dev/workload-kind";
/// Full SHA of the commit the cluster was synced to when the snapshot was taken.
pub const COMMIT_LABEL: &str = "sextant.dev/commit";
/// Why it was taken: `manual`, `pre-restore` or `pre-sync`.
pub const REASON_LABEL: &str = "sextant.dev/reason";
/// Snapshots taken together (one per claim) share this value.
pub const SET_LABEL: &str = "sextant.dev/set";
