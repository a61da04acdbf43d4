//! Builds the hostile test guest for wasm32-wasip2 (the connector component itself is built
//! by connector-host's build script).

use std::path::PathBuf;

include!("../build-support/wasm_guest.rs");

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.parent().expect("tests/ is in the workspace").to_path_buf();
    for dir in [
        "tests/guests/hostile/src",
        "tests/guests/hostile/Cargo.toml",
        "wit",
        "build-support",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!(
        "cargo:rustc-env=HOSTILE_GUEST={}",
        root.join("target/plugin/wasm32-wasip2/release/hostile_guest.wasm").display()
    );
    build_wasm_guest(&root, "hostile-guest");
}
