//! Test support for sextant: a Portworx OpenStorage SDK simulator and a node agent
//! that plays kubelet and storage provisioner through the Kubernetes API, as kwok does.
pub mod agent;
pub mod px;
pub mod snapshotter;
pub mod stork;
