//! Sources own their clients and only send messages.
pub mod describe;
pub mod git;
pub mod kube;
pub mod kubeconfig;
pub mod objects;
pub mod portworx;
pub mod prometheus;
pub mod px_discover;
pub mod px_rates;
pub mod px_wire;
pub mod redact;
pub mod rows;
