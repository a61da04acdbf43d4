//! Builds the connector component and the hostile test guest for wasm32-wasip2 and exposes
//! their paths to the tests (as wasmtime's test-programs artifacts do).

use std::path::PathBuf;

use wasm_guest_build::build_wasm_guest;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.parent().expect("tests/ is in the workspace").to_path_buf();
    for dir in [
        "plugin/src",
        "plugin/Cargo.toml",
        "platforms/src",
        "Cargo.lock",
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
    println!(
        "cargo:rustc-env=CONNECTOR_COMPONENT={}",
        root.join("target/plugin/wasm32-wasip2/release/qualys_connector.wasm").display()
    );
    build_wasm_guest(&root, "hostile-guest");
    build_wasm_guest(&root, "qualys-connector");
}
