//! authcmp: replay scripted sign-in and request workloads against session
//! and JWT strategies, and compare store load, cookie size, verify latency,
//! revocation and profile staleness.
//!
//! Data flows scenario -> workload -> engine -> strategy -> store ->
//! metrics -> report, a module each.

pub mod calibrate;
pub mod cli;
pub mod compare;
pub mod cookie;
pub mod engine;
pub mod interrupt;
pub mod limits;
pub mod load;
pub mod metrics;
pub mod report;
pub mod scaffold;
pub mod scenario;
pub mod store;
pub mod strategy;
pub mod sweep;
pub mod time;
pub mod token;
pub mod wheel;
pub mod workload;
