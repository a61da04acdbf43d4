//! The component names no path of the machine that built it: not cargo's home (where the
//! registry sources are), not the workspace. Panic locations still name the source file.

use connector_tests::COMPONENT;

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn the_component_names_no_path_of_the_machine_that_built_it() {
    let bytes = std::fs::read(COMPONENT).expect("the component was built");
    let workspace = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the workspace")
        .canonicalize()
        .expect("the workspace exists");
    let cargo_home = wasm_guest_build::cargo_home().expect("cargo has a home");
    for path in [workspace, cargo_home] {
        let path = path.to_str().expect("a UTF-8 path");
        assert!(!contains(&bytes, path), "the component names {path}");
    }
    // The sources are still named, relative: a panic's location says where it happened.
    assert!(contains(&bytes, "quick-xml-0."), "registry sources named by crate and version");
    assert!(contains(&bytes, "plugin/src/paging.rs"), "the connector's own sources, relative");
}
