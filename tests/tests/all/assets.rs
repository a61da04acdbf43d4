//! List of Assets, end to end: Cloud Agent (QPS) and VM host pages, the merge rule, criteria,
//! and the permission warning when the QPS API is refused.

use std::collections::HashSet;

use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::data::{agent, agents_with_vm, host};
use qualys_simulator::{SimConfig, Sizes};
use serde_json::json;

fn sized(hosts: u64, agents: u64) -> SimConfig {
    SimConfig { sizes: Sizes { hosts, agents, ..Sizes::default() }, ..SimConfig::default() }
}

fn source_count(proof: &Collected, source: &str) -> usize {
    proof.rows.iter().filter(|r| text(r, "source") == Some(source)).count()
}

#[tokio::test(flavor = "multi_thread")]
async fn given_vm_hosts_and_cloud_agents_over_several_pages_when_collecting_then_each_asset_appears_once() {
    let config = sized(2500, 1500);
    let sizes = config.sizes;
    let sim = simulator(config).await;
    let proof = collect(&tenant(&sim, "demo_manager"), "assets", &[]).await.unwrap();
    let merged = agents_with_vm(&sizes) as usize;
    assert_eq!(proof.pages, 2 + 3, "two QPS pages, three host list pages");
    assert_eq!(source_count(&proof, "cloud_agent"), 1500);
    assert_eq!(source_count(&proof, "vm"), 2500 - merged, "agent-tracked hosts appear as their agent row");
    let host_ids: Vec<i64> = ints(&proof, "host_id");
    let unique: HashSet<_> = host_ids.iter().collect();
    assert_eq!(unique.len(), host_ids.len(), "no host twice");
    let asset_ids: Vec<i64> = ints(&proof, "asset_id");
    assert_eq!(asset_ids.iter().collect::<HashSet<_>>().len(), asset_ids.len(), "no asset twice");
    // The merged rows carry the VM host id and the agent's details.
    let first = &proof.rows[0];
    assert_eq!(first["source"], json!("cloud_agent"));
    assert_eq!(first["host_id"], json!(host(42, &sizes, 0).id));
    assert_eq!(first["agent_id"], json!(agent(42, &sizes, 0).agent_id));
    assert!(proof.warnings.is_empty(), "{:?}", proof.warnings);
    assert_every_field_filled(&proof, "assets").await;
    // QPS calls page by id; host list calls follow the WARNING URL with id_min.
    let requests = sim.requests();
    assert_eq!(requests.iter().filter(|r| r.path.starts_with("/qps/")).count(), 2);
    assert!(
        requests
            .iter()
            .filter(|r| r.path.contains("/asset/host/"))
            .skip(1)
            .all(|r| r.params.iter().any(|(k, _)| k == "id_min"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn given_an_account_without_qps_rights_when_collecting_assets_then_vm_hosts_arrive_with_a_warning_naming_the_roles()
 {
    let config = sized(300, 60);
    let sim = simulator(config).await;
    let proof = collect(&tenant(&sim, "demo_reader"), "assets", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 300, "every VM host, agent-tracked ones included");
    assert_eq!(source_count(&proof, "cloud_agent"), 0);
    let (code, message) = &proof.warnings[0];
    assert_eq!(code, "cloud-agent-permission");
    for role in ["Manager", "READER", "Reporting Reader", "Unified Dashboard User", "VM User"] {
        assert!(message.contains(role), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_one_host_or_none_when_collecting_assets_then_one_row_or_none() {
    let one = simulator(sized(1, 0)).await;
    let proof = collect(&tenant(&one, "demo_manager"), "assets", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 1);
    let none = simulator(sized(0, 0)).await;
    let proof = collect(&tenant(&none, "demo_manager"), "assets", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_each_asset_criterion_when_collecting_then_only_matching_assets_arrive() {
    let sim = simulator(sized(600, 150)).await;
    let t = tenant(&sim, "demo_manager");
    let all = collect(&t, "assets", &[]).await.unwrap();

    let no_agents = collect(&t, "assets", &criteria(&[("include_cloud_agents", "false")])).await.unwrap();
    assert_eq!(no_agents.rows.len(), 600);
    assert_eq!(source_count(&no_agents, "cloud_agent"), 0);
    assert!(!sim.requests().iter().rev().take(1).any(|r| r.path.starts_with("/qps/")));

    let by_ip = collect(&t, "assets", &criteria(&[("tracking_method", "ip")])).await.unwrap();
    assert!(!by_ip.rows.is_empty());
    assert!(by_ip.rows.iter().all(|r| text(r, "tracking_method") == Some("IP")));

    let agents = collect(&t, "assets", &criteria(&[("tracking_method", "AGENT")])).await.unwrap();
    assert_eq!(agents.rows.len(), 150);
    assert!(agents.rows.iter().all(|r| text(r, "source") == Some("cloud_agent")));

    let windows = collect(&t, "assets", &criteria(&[("os_pattern", "^Windows")])).await.unwrap();
    assert!(!windows.rows.is_empty() && windows.rows.len() < all.rows.len());
    assert!(
        windows.rows.iter().all(|r| text(r, "os").unwrap().starts_with("Windows")),
        "both sources filtered"
    );
    assert!(source_count(&windows, "cloud_agent") > 0 && source_count(&windows, "vm") > 0);

    let recent = collect(&t, "assets", &criteria(&[("vm_scan_since", "2026-06-01")])).await.unwrap();
    assert!(!recent.rows.is_empty() && recent.rows.len() < all.rows.len());
    assert!(
        recent.rows.iter().all(|r| text(r, "last_vuln_scan_at").is_some_and(|t| t >= "2026-06-01T00:00:00Z"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_page_size_when_collecting_assets_then_host_list_calls_ask_for_it_and_every_host_arrives_once()
 {
    let sim = simulator(sized(2500, 0)).await;
    let proof =
        collect(&tenant(&sim, "demo_manager"), "assets", &criteria(&[("page_size", "400")])).await.unwrap();
    assert_eq!(proof.rows.len(), 2500);
    let host_ids: HashSet<i64> = ints(&proof, "host_id").into_iter().collect();
    assert_eq!(host_ids.len(), 2500, "no host twice, none lost at a page boundary");
    let host_calls: Vec<_> = sim.requests().into_iter().filter(|r| r.path.contains("/asset/host/")).collect();
    assert_eq!(host_calls.len(), 7, "2,500 hosts at 400 a page");
    for call in &host_calls {
        assert!(call.params.iter().any(|(k, v)| k == "truncation_limit" && v == "400"), "{:?}", call.params);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_invalid_asset_criteria_when_collecting_then_refused_before_any_request() {
    let sim = simulator(sized(10, 10)).await;
    let t = tenant(&sim, "demo_manager");
    for (name, value) in [
        ("tracking_method", "PIGEON"),
        ("os_pattern", "(unclosed"),
        ("include_cloud_agents", "perhaps"),
        ("vm_scan_since", "last year"),
        ("page_size", "0"),
        ("page_size", "10001"),
        ("page_size", "ten"),
    ] {
        let err = connector_error(page(&t, "assets", &criteria(&[(name, value)]), None).await.unwrap_err());
        let ConnectorError::InvalidCriteria(c) = err else { panic!("{name}: {err:?}") };
        assert_eq!(c.criterion, name);
    }
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_cursor_saved_mid_way_when_resuming_assets_then_rows_match_one_uninterrupted_run() {
    let sim = simulator(sized(2500, 1500)).await;
    let t = tenant(&sim, "demo_manager");
    let whole = collect(&t, "assets", &[]).await.unwrap();
    for stop in [1, 2, 3] {
        let first = collect_from(&t, "assets", &[], None, Some(stop)).await.unwrap();
        let rest = collect_from(&t, "assets", &[], first.next_cursor.clone(), None).await.unwrap();
        let mut joined = first.rows.clone();
        joined.extend(rest.rows);
        assert_eq!(joined, whole.rows, "stopped after page {stop}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn scan_coverage_is_measured_once_for_the_proof_and_an_asset_without_a_recent_scan_or_check_in_is_stale()
 {
    let sim = simulator(sized(1500, 300)).await;
    let t = tenant(&sim, "demo_manager");
    let crit = criteria(&[("stale_after_days", "45")]);
    let first = page(&t, "assets", &crit, None).await.unwrap();
    let as_of = first
        .applied_criteria
        .iter()
        .find(|(k, _)| k == "coverage_as_of")
        .map(|(_, v)| qualys_simulator::data::parse_iso(v).unwrap())
        .expect("the proof says when coverage was measured");
    let proof = collect(&t, "assets", &crit).await.unwrap();
    let days = |r: &serde_json::Map<String, serde_json::Value>, at: &str| {
        text(r, at).map(|t| (as_of - qualys_simulator::data::parse_iso(t).unwrap()).max(0) / 86_400)
    };
    let (mut stale, mut fresh) = (0, 0);
    for r in &proof.rows {
        // A later collect measures a few seconds later: allow a day's edge either way.
        let scan = days(r, "last_vuln_scan_at");
        let agent = days(r, "agent_last_checked_in_at");
        let got_scan = r["days_since_last_scan"].as_i64();
        assert!(
            scan.zip(got_scan).is_none_or(|(a, b)| (a - b).abs() <= 1)
                && scan.is_some() == got_scan.is_some(),
            "{r:?}"
        );
        let recent = |d: Option<i64>| d.is_some_and(|d| d <= 45);
        let expected = !recent(got_scan) && !recent(r["days_since_agent_check_in"].as_i64());
        assert_eq!(r["scan_stale"].as_bool(), Some(expected), "{r:?}");
        assert_eq!(agent.is_some(), r["days_since_agent_check_in"].as_i64().is_some(), "{r:?}");
        if expected { stale += 1 } else { fresh += 1 }
    }
    assert!(stale > 0 && fresh > 0, "both kinds in the data: {stale} stale, {fresh} fresh");
    let err =
        connector_error(page(&t, "assets", &criteria(&[("stale_after_days", "0")]), None).await.unwrap_err());
    assert!(
        matches!(&err, ConnectorError::InvalidCriteria(c) if c.criterion == "stale_after_days"),
        "{err:?}"
    );
}
