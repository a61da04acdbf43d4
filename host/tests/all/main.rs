//! The `connector-host` binary as a user runs it, one test binary with a module per area.

mod cli;
mod network_cli;
mod proofs;
mod released;
mod resume;
