//! Builds the connector component for wasm32-wasip2 so that `cargo run` and `cargo test` always
//! have the component the workspace describes.

use std::path::PathBuf;

include!("../build-support/wasm_guest.rs");

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest.parent().expect("host/ is in the workspace").to_path_buf();
    for dir in [
        "plugin/src",
        "plugin/Cargo.toml",
        "platforms/src",
        "wit",
        "Cargo.lock",
        "build-support",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=CONNECTOR_SKIP_PLUGIN_BUILD");
    if std::env::var_os("CONNECTOR_SKIP_PLUGIN_BUILD").is_some() {
        return;
    }
    build_wasm_guest(&root, "qualys-connector");
}
