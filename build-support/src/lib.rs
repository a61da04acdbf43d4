//! The one place that builds this workspace's components, for the build scripts of `host/`
//! (the connector it embeds) and `tests/` (the connector and the hostile guest): one workspace
//! package for wasm32-wasip2 in a nested cargo, with its own target dir so cargo's lock on the
//! outer one is not held twice (wasmtime's test-programs do the same).

/// Builds `package` for wasm32-wasip2 (release) into `<root>/target/plugin`, or panics with
/// an actionable message.
pub fn build_wasm_guest(root: &std::path::Path, package: &str) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.current_dir(root)
        .args(["build", "-p", package, "--target", "wasm32-wasip2", "--release"])
        .arg("--target-dir")
        .arg(root.join("target/plugin"));
    // Do not leak the outer build's settings (clippy's wrapper, host RUSTFLAGS, profile).
    if let Some(remaps) = registry_remaps() {
        cmd.arg("--config").arg(format!("target.wasm32-wasip2.rustflags=[{remaps}]"));
    }
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

/// `--remap-path-prefix` flags (a TOML list's items, added to `.cargo/config.toml`'s) that
/// shorten the registry sources' paths in panic locations to `crate-version/src/...`: the
/// component names no builder's home directory, and does not change with where cargo's home
/// or the workspace is.
fn registry_remaps() -> Option<String> {
    let home = cargo_home()?;
    let mut flags: Vec<String> = std::fs::read_dir(home.join("registry/src"))
        .ok()?
        .flatten()
        .filter_map(|dir| dir.path().to_str().map(str::to_string))
        // A TOML literal string cannot hold a quote; such a path keeps its full name.
        .filter(|path| !path.contains('\'') && !path.contains('\n'))
        .map(|path| format!("'--remap-path-prefix={path}/='"))
        .collect();
    flags.sort();
    (!flags.is_empty()).then(|| flags.join(", "))
}

/// Cargo's home: `CARGO_HOME`, else `~/.cargo`.
pub fn cargo_home() -> Option<std::path::PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")))
}
