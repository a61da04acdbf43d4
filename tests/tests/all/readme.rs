//! The proof-type reference (`docs/proof-types.md`) is generated from `list-proof-types`; this
//! keeps it current.

use connector_runtime::reference::{BEGIN, END, markdown};
use connector_tests::runtime;

#[tokio::test(flavor = "multi_thread")]
async fn the_proof_type_reference_lists_exactly_the_proof_types_the_component_declares() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/proof-types.md")).unwrap();
    let start = readme.find(BEGIN).expect("docs/proof-types.md has the begin marker") + BEGIN.len();
    let end = readme.find(END).expect("docs/proof-types.md has the end marker");
    let generated = markdown(&runtime().list_proof_types().await.unwrap());
    assert_eq!(
        readme[start..end].trim(),
        generated.trim(),
        "docs/proof-types.md is stale: paste the output of `cargo run -p connector-host -- proof-types --markdown` between the markers"
    );
    for id in [
        "assets",
        "users",
        "vm-scans",
        "pc-scans",
        "remediation-tickets",
        "vulnerabilities",
        "activity-log",
        "pc-posture",
    ] {
        assert!(generated.contains(&format!("### `{id}`")), "{id}");
    }
}
