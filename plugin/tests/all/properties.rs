//! Property tests (the fuzz targets): no input makes a mapping, the cursor decoder or the date
//! parser panic; each returns a value or a typed error. CI runs the default number of cases;
//! a longer, bounded run: `PROPTEST_CASES=200000 cargo test -p qualys-connector --test properties --release`.
//! Any failure proptest finds is saved under `proptest-regressions/` and replayed first.

use proptest::prelude::*;
use qualys_connector::criteria::Criteria;
use qualys_connector::paging::check_cursor;
use qualys_connector::proofs::assets::Assets;
use qualys_connector::proofs::tickets::Tickets;
use qualys_connector::proofs::users::Users;
use qualys_connector::proofs::{pc_scans, vm_scans};
use qualys_connector::values;

const FIXTURES: &[&str] = &[
    include_str!("../../../fixtures/qualys/ticket_list_truncated.xml"),
    include_str!("../../../fixtures/qualys/host_list_with_warning.xml"),
    include_str!("../../../fixtures/qualys/hostasset_search.xml"),
    include_str!("../../../fixtures/qualys/scan_list.xml"),
    include_str!("../../../fixtures/qualys/user_list.xml"),
    include_str!("../../../fixtures/qualys/host_list_newer_fields.xml"),
    include_str!("../../../fixtures/qualys/host_list_guide_next_page.xml"),
    include_str!("../../../fixtures/qualys/user_list_error_in_root.xml"),
];

fn parse_all(bytes: &[u8]) {
    let _ = Tickets::parse(&mut &bytes[..], 0);
    let _ = Assets::parse_vm(&mut &bytes[..]);
    let _ = Assets::parse_qps(&mut &bytes[..]);
    let _ = vm_scans::PROOF.parse(&mut &bytes[..]);
    let _ = pc_scans::PROOF.parse(&mut &bytes[..]);
    let _ = Users::parse(&mut &bytes[..]);
}

/// A fixture with a few bytes changed, cut, or spliced: near-valid documents reach deep.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    (
        0..FIXTURES.len(),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..8),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(i, edits, cut)| {
            let mut b = FIXTURES[i].as_bytes().to_vec();
            for (at, byte) in edits {
                let at = at.index(b.len());
                b[at] = byte;
            }
            let keep = cut.index(b.len() + 1);
            if keep > b.len() / 2 {
                b.truncate(keep);
            }
            b
        })
}

proptest! {
    #[test]
    fn no_byte_string_makes_a_mapping_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        parse_all(&bytes);
    }

    #[test]
    fn no_mutated_qualys_document_makes_a_mapping_panic(bytes in mutated()) {
        parse_all(&bytes);
    }

    #[test]
    fn no_cursor_text_makes_the_decoder_panic(text in ".{0,300}") {
        let criteria = Criteria::default();
        let _ = check_cursor(&text, "assets", &criteria, 2);
    }

    #[test]
    fn every_date_the_parser_accepts_round_trips(text in "[0-9TZ:+ .-]{0,30}") {
        if let Ok(Some(ts)) = values::timestamp(&text) {
            let epoch = values::to_epoch(&ts).expect("a normalised date parses again");
            prop_assert_eq!(values::from_epoch(epoch), ts);
        }
    }
}
