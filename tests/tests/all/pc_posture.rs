//! Policy Compliance Posture, end to end through the real component: one policy list call,
//! pages across policies, the glossary joined into every row, every criterion sent.

use std::collections::HashSet;

use connector_tests::*;
use qualys_simulator::data::policy;
use qualys_simulator::{SimConfig, Sizes};

const POLICIES: &str = "/api/2.0/fo/compliance/policy/";
const POSTURE: &str = "/api/2.0/fo/compliance/posture/info/";

fn sized(policies: u64, posture: u64) -> SimConfig {
    SimConfig { sizes: Sizes { policies, posture, ..Sizes::default() }, ..SimConfig::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_control_result_of_every_policy_arrives_once_with_its_host_and_control_joined() {
    let sim = simulator(sized(3, 6000)).await;
    let proof = collect(&tenant(&sim, "demo_manager"), "pc-posture", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 18_000);
    assert_eq!(proof.pages, 6, "two pages of 5,000 records a policy");
    let requests = sim.requests();
    assert_eq!(requests.iter().filter(|r| r.path == POLICIES).count(), 1, "one policy list call");
    assert_eq!(requests.iter().filter(|r| r.path == POSTURE).count(), 6);
    let keys: HashSet<String> = proof
        .rows
        .iter()
        .map(|r| format!("{}|{}|{}|{}", r["policy_id"], r["host_id"], r["control_id"], r["instance"]))
        .collect();
    assert_eq!(keys.len(), proof.rows.len(), "each record once");
    let policies: HashSet<i64> = ints(&proof, "policy_id").into_iter().collect();
    assert_eq!(policies, (0..3).map(|p| policy(p).0 as i64).collect());
    for r in &proof.rows {
        for f in ["os", "control_statement", "criticality", "policy_title", "technology", "status"] {
            assert!(r[f].is_string(), "{f} joined: {r:?}");
        }
    }
    // IPv6-only hosts have no IPv4 address in the glossary; the others do.
    assert!(proof.rows.iter().filter(|r| r["ip"].is_string()).count() > proof.rows.len() / 2);
    assert!(proof.warnings.is_empty(), "{:?}", proof.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_criterion_is_sent_and_named_policies_need_no_policy_list() {
    let sim = simulator(sized(3, 300)).await;
    let t = tenant(&sim, "demo_manager");
    let second = policy(1).0.to_string();
    let crit = criteria(&[
        ("policy_ids", &second),
        ("statuses", "Failed"),
        ("criticalities", "SERIOUS,URGENT"),
        ("page_size", "50"),
    ]);
    let proof = collect(&t, "pc-posture", &crit).await.unwrap();
    assert!(!proof.rows.is_empty());
    assert!(proof.rows.iter().all(|r| text(r, "status") == Some("Failed")));
    assert!(proof.rows.iter().all(|r| matches!(text(r, "criticality"), Some("SERIOUS" | "URGENT"))));
    let requests = sim.requests();
    assert!(requests.iter().all(|r| r.path != POLICIES), "the policies were named");
    let sent = &requests.iter().find(|r| r.path == POSTURE).unwrap().params;
    for (k, v) in [
        ("policy_id", second.as_str()),
        ("status", "Failed"),
        ("criticality_labels", "SERIOUS,URGENT"),
        ("truncation_limit", "50"),
        ("details", "All"),
    ] {
        assert!(sent.iter().any(|(n, x)| n == k && x == v), "{k}={v} in {sent:?}");
    }
    // Two statuses: a public client documents one value, so all are asked for and filtered.
    let sim = simulator(sized(1, 300)).await;
    let t = tenant(&sim, "demo_manager");
    let proof = collect(&t, "pc-posture", &criteria(&[("statuses", "Failed,Error")])).await.unwrap();
    assert!(proof.rows.iter().all(|r| matches!(text(r, "status"), Some("Failed" | "Error"))));
    assert!(!sim.requests().iter().any(|r| r.params.iter().any(|(k, _)| k == "status")));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_recorded_shape_is_read_and_joined() {
    let sim = simulator(sized(1, 5)).await;
    sim.serve_fixture(POLICIES, 200, include_str!("../../../fixtures/qualys/policy_list.xml"));
    sim.serve_fixture(POSTURE, 200, include_str!("../../../fixtures/qualys/posture_info.xml"));
    let t = tenant(&sim, "demo_manager");
    let p = page(&t, "pc-posture", &[], None).await.unwrap();
    assert_eq!(p.rows.len(), 2);
    assert!(p.next_cursor.is_some(), "WARNING 1980 names the policy's next page");
    let asked = &sim.requests().into_iter().find(|r| r.path == POSTURE).unwrap().params;
    assert!(
        asked.contains(&("policy_id".to_string(), "700000".to_string())),
        "lowest policy id first: {asked:?}"
    );
    let proof = collect_from(&t, "pc-posture", &[], None, Some(1)).await.unwrap();
    let first = &proof.rows[0];
    assert_eq!(text(first, "control_statement"), Some("Status of the 'Minimum password length' setting"));
    assert_eq!(text(first, "criticality"), Some("SERIOUS"));
    assert_eq!(text(first, "technology"), Some("Windows Server 2019"));
    assert_eq!(text(first, "exception"), Some("Pending"));
    assert_eq!(text(first, "dns"), Some("web01.corp.example.com"));
    assert_eq!(text(&proof.rows[1], "dns"), None, "a host the glossary gives no DNS name");
    assert_eq!(text(first, "policy_title"), Some("CIS Benchmark Windows – «Level 1»"));
}
