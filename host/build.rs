//! Builds the connector component for wasm32-wasip2 so that `cargo run` and `cargo test` always
//! have the component the workspace describes (wasmtime's test-programs do the same). The
//! nested build uses its own target dir so cargo's lock on the outer one is not held twice.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.parent().expect("host/ is in the workspace").to_path_buf();
    for dir in ["plugin/src", "plugin/Cargo.toml", "platforms/src", "wit", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=CONNECTOR_SKIP_PLUGIN_BUILD");
    if std::env::var_os("CONNECTOR_SKIP_PLUGIN_BUILD").is_some() {
        return;
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "-p", "qualys-connector", "--target", "wasm32-wasip2", "--release"])
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
    let status = cmd.status().expect("running cargo to build the connector component");
    if !status.success() {
        panic!(
            "building the connector component failed; if the target is missing, run \
             `rustup target add wasm32-wasip2` (the README's commands do this)"
        );
    }
}
