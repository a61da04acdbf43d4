//! Account Activity, end to end through the real component: the CSV wrapper and footer, pages
//! by `id_max`, identical lines kept, every criterion sent, the default window recorded.

use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::data::parse_iso;
use qualys_simulator::{SimConfig, Sizes};

const LOG: &str = "/api/2.0/fo/activity_log/";

fn sized(activity: u64) -> SimConfig {
    SimConfig { sizes: Sizes { activity, ..Sizes::default() }, ..SimConfig::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_entry_arrives_once_newest_first_across_pages_with_identical_lines_kept() {
    let sim = simulator(sized(2500)).await;
    let t = tenant(&sim, "demo_manager");
    let proof = collect(&t, "activity-log", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 2500, "every entry, identical ones included");
    assert_eq!(proof.pages, 3);
    let dates: Vec<i64> = proof.rows.iter().map(|r| parse_iso(text(r, "date").unwrap()).unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let identical = proof.rows.windows(2).filter(|w| w[0] == w[1]).count();
    assert_eq!(identical, 100, "every 25th entry repeats the one before it, and both are kept");
    let asked: Vec<Option<String>> = sim
        .requests()
        .into_iter()
        .filter(|r| r.path == LOG)
        .map(|r| r.params.into_iter().find(|(k, _)| k == "id_max").map(|(_, v)| v))
        .collect();
    assert_eq!(asked.len(), 3);
    assert!(asked[0].is_none() && asked[1].is_some() && asked[2].is_some(), "{asked:?}");
    assert!(proof.rows.iter().any(|r| r["user_ip"].is_null()), "N/A is no address");
    assert_every_field_filled(&proof, "activity-log").await;
    assert!(proof.warnings.is_empty(), "{:?}", proof.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_default_window_starts_90_days_back_is_recorded_in_the_proof_and_every_filter_is_sent() {
    let sim = simulator(sized(50)).await;
    let t = tenant(&sim, "demo_manager");
    let first = page(&t, "activity-log", &[], None).await.unwrap();
    let since = first
        .applied_criteria
        .iter()
        .find(|(k, _)| k == "since")
        .map(|(_, v)| v.clone())
        .expect("since applied");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    // The start of the day 90 days ago: every collect of a day asks for the same window.
    assert_eq!(parse_iso(&since).unwrap(), now / 86_400 * 86_400 - 90 * 86_400, "{since}");
    let sent = sim.requests().into_iter().find(|r| r.path == LOG).unwrap().params;
    assert!(sent.contains(&("since_datetime".to_string(), since)));

    let sim = simulator(sized(400)).await;
    let t = tenant(&sim, "demo_manager");
    let crit = criteria(&[
        ("since", "2026-10-01"),
        ("until", "2026-11-02T00:00:00Z"),
        ("user_name", "api_user"),
        ("action", "request"),
        ("module", "auth"),
        ("page_size", "50"),
    ]);
    let proof = collect(&t, "activity-log", &crit).await.unwrap();
    assert!(!proof.rows.is_empty());
    for r in &proof.rows {
        assert_eq!(
            (text(r, "user_name"), text(r, "action"), text(r, "module")),
            (Some("api_user"), Some("request"), Some("auth"))
        );
    }
    let sent = sim.requests().into_iter().find(|r| r.path == LOG).unwrap().params;
    for (k, v) in [
        ("since_datetime", "2026-10-01T00:00:00Z"),
        ("until_datetime", "2026-11-02T00:00:00Z"),
        ("username", "api_user"),
        ("user_action", "request"),
        ("truncation_limit", "50"),
        ("output_format", "CSV"),
    ] {
        assert!(sent.iter().any(|(n, x)| n == k && x == v), "{k}={v} in {sent:?}");
    }
    assert!(
        !sent.iter().any(|(n, _)| n == "module"),
        "no module filter is documented: applied by the connector"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_shape_is_read_wrapper_footer_identical_lines_and_all() {
    let sim = simulator(sized(5)).await;
    sim.serve_fixture(LOG, 200, include_str!("../../../fixtures/qualys/activity_log.csv"));
    let t = tenant(&sim, "demo_manager");
    let first = page(&t, "activity-log", &[], None).await.unwrap();
    assert_eq!(first.rows.len(), 4);
    assert_eq!(
        format!("{:?}", first.rows[0]),
        format!("{:?}", first.rows[1]),
        "two API calls in the same second: two rows"
    );
    assert!(first.next_cursor.is_some(), "the footer's WARNING 1980 names the next page");
    // The same page again would not move the cursor back: the id_max it gives is kept.
    let second = page(&t, "activity-log", &[], first.next_cursor.as_deref()).await;
    let err = connector_error(second.unwrap_err());
    assert!(
        matches!(&err, ConnectorError::MalformedResponse(m) if m.contains("does not move forward")),
        "{err:?}"
    );
}
