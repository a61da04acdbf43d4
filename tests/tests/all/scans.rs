//! List of VM Scans and List of PC Scans, end to end: explicit launch windows paged in
//! 30-day slices, criteria, and every field.

use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::data::scan;
use qualys_simulator::{SimConfig, Sizes};

fn sized(vm: u64, pc: u64) -> SimConfig {
    SimConfig { sizes: Sizes { vm_scans: vm, pc_scans: pc, ..Sizes::default() }, ..SimConfig::default() }
}

/// The refs the simulator holds in [from, to), for the proof type.
fn expected_refs(count: u64, pc: bool, from: i64, to: i64) -> Vec<String> {
    let mut refs: Vec<(i64, String)> = (0..count)
        .map(|i| scan(42, i, count, pc))
        .filter(|s| s.launched >= from && s.launched < to)
        .map(|s| (s.launched, s.reference))
        .collect();
    refs.sort();
    refs.into_iter().map(|(_, r)| r).collect()
}

fn refs(proof: &Collected) -> Vec<String> {
    let mut r: Vec<(String, String)> = proof
        .rows
        .iter()
        .map(|row| {
            (text(row, "launched_at").unwrap().to_string(), text(row, "scan_ref").unwrap().to_string())
        })
        .collect();
    r.sort();
    r.into_iter().map(|(_, s)| s).collect()
}

async fn year_window_is_complete(id: &str, pc: bool) {
    let sim = simulator(sized(400, 400)).await;
    let crit = criteria(&[("launched_after", "2025-01-01"), ("launched_before", "2026-01-01")]);
    let proof = collect(&tenant(&sim, "demo_manager"), id, &crit).await.unwrap();
    assert_eq!(proof.pages, 13, "365 days in 30-day slices");
    let from = 1_735_689_600; // 2025-01-01T00:00:00Z
    let to = 1_767_225_600; // 2026-01-01T00:00:00Z
    assert_eq!(refs(&proof), expected_refs(400, pc, from, to), "every scan of the window, once");
    assert!(
        proof.warnings.iter().any(|(c, m)| c == "collection-window" && m.contains("2025-01-01T00:00:00Z"))
    );
    // Every call named its window explicitly, so Qualys' 30-day default never applied.
    for r in sim.requests() {
        assert!(r.params.iter().any(|(k, _)| k == "launched_after_datetime"), "{r:?}");
        assert!(r.params.iter().any(|(k, _)| k == "launched_before_datetime"), "{r:?}");
    }
    assert_every_field_filled(&proof, id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_year_window_when_collecting_vm_scans_then_thirteen_slices_hold_every_scan_once() {
    year_window_is_complete("vm-scans", false).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_year_window_when_collecting_pc_scans_then_thirteen_slices_hold_every_scan_once() {
    year_window_is_complete("pc-scans", true).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn given_no_window_when_collecting_scans_then_the_last_ninety_days_are_collected_and_said() {
    let sim = simulator(sized(400, 400)).await;
    let proof = collect(&tenant(&sim, "demo_manager"), "vm-scans", &[]).await.unwrap();
    assert_eq!(proof.pages, 3);
    let (code, message) = &proof.warnings[0];
    assert_eq!(code, "collection-window");
    assert!(message.contains("launched_after"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_one_scan_or_none_in_the_window_when_collecting_then_one_row_or_none() {
    let sim = simulator(sized(1, 0)).await;
    let t = tenant(&sim, "demo_manager");
    let one = scan(42, 0, 1, false);
    let day = |e: i64| qualys_simulator::data::iso(e)[..10].to_string();
    let crit =
        criteria(&[("launched_after", &day(one.launched)), ("launched_before", &day(one.launched + 86_400))]);
    let proof = collect(&t, "vm-scans", &crit).await.unwrap();
    assert_eq!((proof.pages, proof.rows.len()), (1, 1));
    let empty = collect(&t, "pc-scans", &crit).await.unwrap();
    assert_eq!((empty.pages, empty.rows.len()), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn given_state_and_type_criteria_when_collecting_scans_then_only_matching_scans_arrive() {
    let sim = simulator(sized(600, 0)).await;
    let t = tenant(&sim, "demo_manager");
    let window = [("launched_after", "2025-01-01"), ("launched_before", "2026-11-01")];
    let all = collect(&t, "vm-scans", &criteria(&window)).await.unwrap();
    let mut with_state = window.to_vec();
    with_state.push(("state", "Finished,Error"));
    let finished = collect(&t, "vm-scans", &criteria(&with_state)).await.unwrap();
    assert!(!finished.rows.is_empty() && finished.rows.len() < all.rows.len());
    assert!(finished.rows.iter().all(|r| matches!(text(r, "state"), Some("Finished" | "Error"))));
    let mut with_type = window.to_vec();
    with_type.push(("type", "scheduled"));
    let scheduled = collect(&t, "vm-scans", &criteria(&with_type)).await.unwrap();
    assert!(!scheduled.rows.is_empty() && scheduled.rows.len() < all.rows.len());
    assert!(scheduled.rows.iter().all(|r| text(r, "type") == Some("Scheduled")));
}

#[tokio::test(flavor = "multi_thread")]
async fn given_invalid_scan_criteria_when_collecting_then_refused_before_any_request() {
    let sim = simulator(sized(10, 10)).await;
    let t = tenant(&sim, "demo_manager");
    let cases: &[&[(&str, &str)]] = &[
        &[("state", "Exploded")],
        &[("type", "Manual")],
        &[("launched_after", "tomorrow")],
        &[("launched_after", "2026-01-02"), ("launched_before", "2026-01-01")],
    ];
    for case in cases {
        for id in ["vm-scans", "pc-scans"] {
            let err = connector_error(page(&t, id, &criteria(case), None).await.unwrap_err());
            assert!(matches!(err, ConnectorError::InvalidCriteria(_)), "{id} {case:?}: {err:?}");
        }
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_page_states_the_exact_launch_window_applied_and_later_pages_state_nothing() {
    let sim = simulator(SimConfig::default()).await;
    let t = tenant(&sim, "demo_manager");
    let first = page(&t, "vm-scans", &criteria(&[("state", "Finished")]), None).await.unwrap();
    let applied: std::collections::HashMap<_, _> = first.applied_criteria.iter().cloned().collect();
    assert_eq!(applied.get("state").map(String::as_str), Some("Finished"));
    let (after, before) = (&applied["launched_after"], &applied["launched_before"]);
    assert!(after.ends_with('Z') && before.ends_with('Z') && after < before, "{after} .. {before}");
    let next = page(&t, "vm-scans", &criteria(&[("state", "Finished")]), first.next_cursor.as_deref())
        .await
        .unwrap();
    assert!(next.applied_criteria.is_empty());
}
