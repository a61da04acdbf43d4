//! The README's proof-type reference is generated from `list-proof-types`; this keeps it current.

use connector_runtime::reference::{BEGIN, END, markdown};
use connector_tests::runtime;

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_lists_exactly_the_proof_types_the_component_declares() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme.find(BEGIN).expect("README has the begin marker") + BEGIN.len();
    let end = readme.find(END).expect("README has the end marker");
    let generated = markdown(&runtime().list_proof_types().await.unwrap());
    assert_eq!(
        readme[start..end].trim(),
        generated.trim(),
        "README is stale: paste the output of `cargo run -p connector-host -- proof-types --markdown` between the markers"
    );
    for id in ["assets", "users", "vm-scans", "pc-scans", "remediation-tickets"] {
        assert!(generated.contains(&format!("### `{id}`")), "{id}");
    }
}
