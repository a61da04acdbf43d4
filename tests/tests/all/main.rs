//! The product's promises, end to end: the real component in the real host against the
//! simulator on loopback. One test binary (it links wasmtime once), a module per area.

mod activity_log;
mod artifact;
mod assets;
mod checklist;
mod connect;
mod connections;
mod embedding;
mod faults;
mod limits;
mod network;
mod page_pipeline;
mod pc_posture;
mod rate_limits;
mod readme;
mod resume;
mod sandbox;
mod scans;
mod tenants;
mod tickets;
mod users;
mod vulnerabilities;
