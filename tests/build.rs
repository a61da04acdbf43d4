//! Builds the hostile test guest for wasm32-wasip2 (the connector component itself is built
//! by connector-host's build script). Same separate target dir as the host's nested build.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.parent().expect("tests/ is in the workspace").to_path_buf();
    for dir in ["tests/guests/hostile/src", "tests/guests/hostile/Cargo.toml", "wit"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    let target = root.join("target/plugin");
    println!(
        "cargo:rustc-env=HOSTILE_GUEST={}",
        target.join("wasm32-wasip2/release/hostile_guest.wasm").display()
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "-p", "hostile-guest", "--target", "wasm32-wasip2", "--release"])
        .arg("--target-dir")
        .arg(&target);
    for var in [
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("running cargo to build the hostile guest");
    assert!(status.success(), "building the hostile guest failed; run `rustup target add wasm32-wasip2`");
}
