// Shared by the build scripts of `host/` and `tests/` (pulled in with `include!`): builds one
// workspace package for wasm32-wasip2 in a nested cargo, with its own target dir so cargo's
// lock on the outer one is not held twice (wasmtime's test-programs do the same).

/// Builds `package` for wasm32-wasip2 (release) into `<root>/target/plugin`, or panics with
/// an actionable message.
fn build_wasm_guest(root: &std::path::Path, package: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "-p", package, "--target", "wasm32-wasip2", "--release"])
        .arg("--target-dir")
        .arg(root.join("target/plugin"));
    // Do not leak the outer build's settings (clippy's wrapper, host RUSTFLAGS, profile).
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().unwrap_or_else(|e| panic!("running cargo to build {package}: {e}"));
    assert!(
        status.success(),
        "building {package} for wasm32-wasip2 failed; if the target is missing, run \
         `rustup target add wasm32-wasip2` (the README's commands do this)"
    );
}
