//! sextant: a terminal cockpit for GitOps-managed, stateful Kubernetes applications.
//! Sources send messages; one state is changed by a pure reducer; views only draw;
//! an executor runs commands. See shared/STYLE.md.
pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod crash;
pub mod edit;
pub mod engine;
pub mod exec;
pub mod fault;
pub mod input;
pub mod memory;
pub mod pace;
pub mod run;
pub mod scrub;
pub mod sources;
pub mod terminal;
pub mod ui;
