//! The `connector-host` binary as a user runs it, one test binary with a module per area.

mod cli;
mod network_cli;
mod proofs;
mod released;
mod resume;

/// How many proof types the built-in component lists (`proof-types --json`), so that tests of
/// `collect --all` follow the registry instead of a number.
pub fn proof_type_count() -> usize {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["proof-types", "--json"])
        .output()
        .expect("the CLI runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("proof-types --json is JSON");
    list.as_array().expect("a list of proof types").len()
}
