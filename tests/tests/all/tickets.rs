//! VM Remediation Tickets, end to end: TRUNCATION paging, criteria, derived fields, cursors.

use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::{SimConfig, Sizes};
use serde_json::json;

fn sized(tickets: u64) -> SimConfig {
    SimConfig { sizes: Sizes { tickets, ..Sizes::default() }, ..SimConfig::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_three_truncated_pages_when_collecting_tickets_then_each_of_2500_arrives_once_in_order() {
    let sim = simulator(sized(2500)).await;
    let proof = collect(&tenant(&sim, "demo_manager"), "remediation-tickets", &[]).await.unwrap();
    assert_eq!(proof.pages, 3);
    let numbers = ints(&proof, "ticket_number");
    assert_eq!(numbers.len(), 2500);
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "strictly ascending, so no repeats");
    let calls: Vec<_> = sim.requests().into_iter().map(|r| r.params).collect();
    assert_eq!(calls.len(), 3);
    assert!(!calls[0].iter().any(|(k, _)| k == "since_ticket_number"));
    let since: i64 = calls[1].iter().find(|(k, _)| k == "since_ticket_number").unwrap().1.parse().unwrap();
    assert_eq!(since, numbers[999] + 1, "next call starts after TRUNCATION last");
    // No page depends on Qualys' default states (OPEN only, per a public client).
    for call in &calls {
        let states = call.iter().find(|(k, _)| k == "states").map(|(_, v)| v.as_str());
        assert_eq!(states, Some("OPEN,RESOLVED,CLOSED,IGNORED"));
    }
    let states: std::collections::HashSet<_> = proof.rows.iter().filter_map(|r| text(r, "state")).collect();
    assert_eq!(states.len(), 4, "every state arrives: {states:?}");
    assert!(proof.rows.iter().any(|r| text(r, "dns").is_some() && text(r, "netbios").is_some()));
    assert!(proof.warnings.is_empty(), "{:?}", proof.warnings);
    assert_every_field_filled(&proof, "remediation-tickets").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn given_one_ticket_or_none_when_collecting_then_one_page_with_one_row_or_an_empty_proof() {
    let one = simulator(sized(1)).await;
    let proof = collect(&tenant(&one, "demo_manager"), "remediation-tickets", &[]).await.unwrap();
    assert_eq!((proof.pages, proof.rows.len()), (1, 1));
    let none = simulator(sized(0)).await;
    let proof = collect(&tenant(&none, "demo_manager"), "remediation-tickets", &[]).await.unwrap();
    assert_eq!((proof.pages, proof.rows.len()), (1, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn given_each_criterion_when_collecting_tickets_then_only_matching_tickets_arrive() {
    let sim = simulator(sized(1500)).await;
    let t = tenant(&sim, "demo_manager");
    let all = collect(&t, "remediation-tickets", &[]).await.unwrap();

    let open = collect(&t, "remediation-tickets", &criteria(&[("states", "open,ignored")])).await.unwrap();
    assert!(!open.rows.is_empty() && open.rows.len() < all.rows.len());
    assert!(open.rows.iter().all(|r| matches!(text(r, "state"), Some("OPEN" | "IGNORED"))));

    let severe = collect(&t, "remediation-tickets", &criteria(&[("severities", "4,5")])).await.unwrap();
    assert!(!severe.rows.is_empty() && severe.rows.len() < all.rows.len());
    assert!(ints(&severe, "severity").iter().all(|s| *s >= 4));

    let since = "2026-01-01";
    let recent = collect(&t, "remediation-tickets", &criteria(&[("modified_since", since)])).await.unwrap();
    assert!(!recent.rows.is_empty() && recent.rows.len() < all.rows.len());
    assert!(recent.rows.iter().all(|r| text(r, "last_modified_at").unwrap() >= "2026-01-01T00:00:00Z"));

    let overdue = collect(&t, "remediation-tickets", &criteria(&[("overdue", "true")])).await.unwrap();
    assert!(!overdue.rows.is_empty() && overdue.rows.len() < all.rows.len());
    assert!(
        overdue.rows.iter().all(|r| r["overdue"] == json!(true)),
        "derived overdue agrees with Qualys' filter"
    );
    let on_time = collect(&t, "remediation-tickets", &criteria(&[("overdue", "false")])).await.unwrap();
    assert_eq!(on_time.rows.len() + overdue.rows.len(), all.rows.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_resolved_and_open_tickets_when_collecting_then_time_to_resolution_and_overdue_are_derived() {
    let sim = simulator(sized(300)).await;
    let proof = collect(&tenant(&sim, "demo_manager"), "remediation-tickets", &[]).await.unwrap();
    for r in &proof.rows {
        let state = text(r, "state").unwrap();
        let ttr = &r["time_to_resolution_seconds"];
        if state == "OPEN" {
            assert!(ttr.is_null(), "open tickets have no time to resolution");
        } else if state == "RESOLVED" || state == "CLOSED" {
            assert!(ttr.as_i64().unwrap() > 0, "{r:?}");
        }
        assert!(text(r, "last_modified_at").unwrap() >= text(r, "created_at").unwrap());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_invalid_ticket_criteria_when_collecting_then_refused_before_any_request() {
    let sim = simulator(sized(10)).await;
    let t = tenant(&sim, "demo_manager");
    for (name, value) in [
        ("states", "FIXED"),
        ("severities", "9"),
        ("modified_since", "soon"),
        ("overdue", "maybe"),
        ("colour", "red"),
    ] {
        let err = connector_error(
            page(&t, "remediation-tickets", &criteria(&[(name, value)]), None).await.unwrap_err(),
        );
        let ConnectorError::InvalidCriteria(c) = err else { panic!("{name}: {err:?}") };
        assert_eq!(c.criterion, name);
        assert!(!c.message.is_empty());
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_cursor_saved_after_page_two_when_resuming_in_a_new_instance_then_rows_match_one_uninterrupted_run()
 {
    let sim = simulator(sized(2500)).await;
    let t = tenant(&sim, "demo_manager");
    let whole = collect(&t, "remediation-tickets", &[]).await.unwrap();
    let first = collect_from(&t, "remediation-tickets", &[], None, Some(2)).await.unwrap();
    assert_eq!(first.pages, 2);
    let cursor = first.next_cursor.clone().expect("a cursor after page 2");
    let rest = collect_from(&t, "remediation-tickets", &[], Some(cursor), None).await.unwrap();
    let mut joined = first.rows.clone();
    joined.extend(rest.rows);
    assert_eq!(joined, whole.rows);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_cursor_from_other_criteria_when_resuming_then_it_is_refused() {
    let sim = simulator(sized(2500)).await;
    let t = tenant(&sim, "demo_manager");
    let first = collect_from(&t, "remediation-tickets", &[], None, Some(1)).await.unwrap();
    let cursor = first.next_cursor.unwrap();
    let err = connector_error(
        page(&t, "remediation-tickets", &criteria(&[("states", "OPEN")]), Some(&cursor)).await.unwrap_err(),
    );
    assert!(matches!(&err, ConnectorError::InvalidCursor(m) if m.contains("cursor")), "{err:?}");
    let err = connector_error(page(&t, "users", &[], Some(&cursor)).await.unwrap_err());
    assert!(matches!(&err, ConnectorError::InvalidCursor(m) if m.contains("cursor")), "{err:?}");
    let err = connector_error(page(&t, "remediation-tickets", &[], Some("garbage!")).await.unwrap_err());
    assert!(matches!(&err, ConnectorError::InvalidCursor(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_first_page_states_the_ticket_states_sent_even_when_none_were_given() {
    let sim = simulator(sized(10)).await;
    let first = page(&tenant(&sim, "demo_manager"), "remediation-tickets", &[], None).await.unwrap();
    assert!(
        first.applied_criteria.contains(&("states".to_string(), "OPEN,RESOLVED,CLOSED,IGNORED".to_string())),
        "{:?}",
        first.applied_criteria
    );
}
