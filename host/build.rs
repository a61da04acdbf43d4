//! Builds the connector component for wasm32-wasip2 and hands its path to the CLI, which
//! embeds it (`include_bytes!`), so the binary alone works anywhere.

use std::path::PathBuf;

use wasm_guest_build::build_wasm_guest;

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
    let component = root.join("target/plugin/wasm32-wasip2/release/qualys_connector.wasm");
    println!("cargo:rerun-if-env-changed=CONNECTOR_SKIP_PLUGIN_BUILD");
    if std::env::var_os("CONNECTOR_SKIP_PLUGIN_BUILD").is_none() {
        build_wasm_guest(&root, "qualys-connector");
    }
    assert!(
        component.exists(),
        "the connector component {} is missing; unset CONNECTOR_SKIP_PLUGIN_BUILD to build it",
        component.display()
    );
    println!("cargo:rerun-if-changed={}", component.display());
    println!("cargo:rustc-env=CONNECTOR_COMPONENT={}", component.display());
}
