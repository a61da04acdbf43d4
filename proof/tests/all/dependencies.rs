//! A tool that only writes, verifies or diffs proofs links no sandbox and no network stack.

#[test]
fn the_proof_crate_links_no_wasmtime_network_or_command_line_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--offline", "-p", "evidence-proof", "--edges", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"ed25519-dalek"), "the tree was read: {tree}");
    for forbidden in ["wasmtime", "wasmtime-wasi", "hyper", "tokio", "rustls", "connector-runtime", "clap"] {
        assert!(!crates.contains(&forbidden), "{forbidden} is in the proof crate's dependency tree");
    }
}
