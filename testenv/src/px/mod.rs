//! A Portworx simulator that speaks the OpenStorage SDK REST gateway wire format
//! (shared/reference/portworx-api.md): proto field names, int64 as strings, omitted
//! zero values, enum names, grpc-gateway error bodies, bearer JWT auth.
pub mod api;
pub mod auth;
pub mod faults;
pub mod metrics;
pub mod model;
pub mod sim;
pub mod wire;
