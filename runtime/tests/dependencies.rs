//! What a platform embeds is a library: no command line, progress bars, simulator or
//! configuration-file crates in its dependency tree.

#[test]
fn the_library_depends_on_no_cli_simulator_or_progress_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["tree", "--offline", "-p", "connector-runtime", "--edges", "normal", "--prefix", "none"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert!(crates.contains(&"wasmtime"), "the tree was read: {tree}");
    for forbidden in ["clap", "indicatif", "qualys-simulator", "qualys-platforms", "toml", "connector-host"] {
        assert!(!crates.contains(&forbidden), "{forbidden} is in the library's dependency tree");
    }
}
