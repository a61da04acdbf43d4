//! List of Users, end to end: the real component in the real host against the simulator.

use connector_runtime::CallError;
use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::{SimConfig, Sizes};
use serde_json::json;

const THREE_USERS: &str = include_str!("../../../fixtures/qualys/user_list_three.xml");
const ONE_USER: &str = include_str!("../../../fixtures/qualys/user_list_single.xml");
const NO_USERS: &str = include_str!("../../../fixtures/qualys/user_list_empty.xml");

/// Collects the users proof from a simulator whose user list answers with `body`.
async fn collect_users_serving(body: &str) -> Result<Collected, CallError> {
    let sim = simulator(SimConfig::default()).await;
    sim.serve_fixture("/msp/user_list.php", 200, body);
    collect(&tenant(&sim, "demo_manager"), "users", &[]).await
}

#[tokio::test(flavor = "multi_thread")]
async fn given_three_users_with_cdata_entities_unicode_and_gaps_when_collecting_then_each_field_is_exact() {
    let proof = collect_users_serving(THREE_USERS).await.expect("collect");

    assert_eq!(proof.rows.len(), 3);
    let zoe = &proof.rows[0];
    assert_eq!(zoe["login"], json!("acme_zb"));
    assert_eq!(zoe["user_id"], json!("1234567"));
    assert_eq!(zoe["external_id"], json!("CN=Zoë Brontë,OU=Sec & Risk"));
    assert_eq!(zoe["first_name"], json!("Zoë"));
    assert_eq!(zoe["title"], json!("Head of \"Security\" & Risk"));
    assert_eq!(zoe["phone"], json!("+44 20 7946 0000"));
    assert_eq!(zoe["company"], json!("Acme <UK> Ltd"));
    assert_eq!(zoe["status"], json!("Active"));
    assert_eq!(zoe["role"], json!("Manager"));
    assert_eq!(zoe["creation_date"], json!("2021-03-04T05:06:07Z"));
    assert_eq!(zoe["last_login_date"], json!("2026-10-30T23:59:59Z"));
    assert_eq!(zoe["manager_poc"], json!(true));
    assert_eq!(zoe["unit_manager_poc"], json!(false));
    assert_eq!(zoe["ui_interface_style"], json!("standard_blue"));
    assert_eq!(zoe["asset_groups"], json!(null));

    let jose = &proof.rows[1];
    assert_eq!(jose["first_name"], json!("José"), "character reference");
    assert_eq!(jose["last_name"], json!("O'Brien & Sons"), "predefined entities");
    assert_eq!(jose["external_id"], json!(null), "empty element is null");
    assert_eq!(jose["title"], json!(null), "empty element is null");
    assert_eq!(jose["phone"], json!(null), "missing element is null");
    assert_eq!(jose["last_login_date"], json!(null), "missing date is null");
    assert_eq!(jose["business_unit"], json!("R&D <Lab>"));
    assert_eq!(jose["asset_groups"], json!(["Servers – London", "Workstations"]));

    let li = &proof.rows[2];
    assert_eq!(li["first_name"], json!("李"));
    assert_eq!(li["last_name"], json!("王"));
    assert_eq!(li["last_login_date"], json!(null), "empty date is null");
    assert_eq!(li["role"], json!("Unit Manager"));
    assert!(proof.warnings.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_generated_subscription_when_collecting_users_then_every_user_arrives_with_basic_auth_and_no_stray_calls()
 {
    let sim = simulator(SimConfig::default()).await;
    let proof = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.expect("collect");
    assert_eq!(proof.rows.len(), 12);
    assert_eq!(text(&proof.rows[0], "login"), Some("demo_manager"));
    assert_eq!(text(&proof.rows[0], "role"), Some("Manager"));
    let requests = sim.requests();
    assert_eq!(requests.len(), 1, "one call: {requests:?}");
    assert_eq!(requests[0].path, "/msp/user_list.php");
    assert_eq!(requests[0].login.as_deref(), Some("demo_manager"));
    assert!(requests[0].requested_with, "X-Requested-With is sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_wrong_password_when_collecting_then_an_authentication_error_names_every_cause() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.config.password = "wrong-password".into();
    let err = connector_error(collect(&t, "users", &[]).await.unwrap_err());
    let ConnectorError::Authentication(message) = err else { panic!("{err:?}") };
    for cause in ["password", "platform", "API access", "SSO"] {
        assert!(message.contains(cause), "message names {cause}: {message}");
    }
    assert!(!message.contains("wrong-password"));
    // The host keeps serving this tenant and others.
    let ok = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.expect("still up");
    assert_eq!(ok.rows.len(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_qualys_error_document_when_collecting_then_an_upstream_error_carries_its_code() {
    let err = connector_error(
        collect_users_serving(include_str!("../../../fixtures/qualys/user_list_generic_return_failed.xml"))
            .await
            .unwrap_err(),
    );
    let ConnectorError::Upstream(u) = err else { panic!("{err:?}") };
    assert_eq!(u.code.as_deref(), Some("999"));
    assert!(u.message.contains("Internal error"), "{}", u.message);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_malformed_body_when_collecting_then_a_malformed_response_error_and_the_host_stays_up() {
    let err = connector_error(
        collect_users_serving(include_str!("../../../fixtures/qualys/user_list_malformed.xml"))
            .await
            .unwrap_err(),
    );
    assert!(matches!(err, ConnectorError::MalformedResponse(_)), "{err:?}");
    // A good call right after, through the same runtime, works.
    let other = simulator(SimConfig::default()).await;
    assert_eq!(collect(&tenant(&other, "demo_manager"), "users", &[]).await.expect("ok").rows.len(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_an_unknown_proof_type_or_criterion_when_collecting_then_nothing_is_sent() {
    let sim = simulator(SimConfig::default()).await;
    let t = tenant(&sim, "demo_manager");
    let err = connector_error(page(&t, "no-such-proof", &[], None).await.unwrap_err());
    assert!(matches!(&err, ConnectorError::UnknownProofType(m) if m.contains("users")), "{err:?}");
    let err = connector_error(page(&t, "users", &criteria(&[("colour", "red")]), None).await.unwrap_err());
    assert!(matches!(&err, ConnectorError::InvalidCriteria(c) if c.criterion == "colour"), "{err:?}");
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_single_user_when_collecting_then_one_row_has_every_field() {
    let proof = collect_users_serving(ONE_USER).await.expect("collect");
    assert_eq!(proof.rows.len(), 1);
    let row = &proof.rows[0];
    let nulls: Vec<&String> = row.iter().filter(|(_, v)| v.is_null()).map(|(k, _)| k).collect();
    assert!(nulls.is_empty(), "every declared field is filled: {nulls:?} are null");
    assert_eq!(row["login"], json!("acme_as"));
    assert_eq!(row["asset_groups"], json!(["PCI"]));
    assert_eq!(row["unit_manager_poc"], json!(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn given_no_users_when_collecting_then_the_proof_is_complete_and_empty() {
    let proof = collect_users_serving(NO_USERS).await.expect("collect");
    assert!(proof.rows.is_empty());
    assert_eq!(proof.pages, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_user_without_a_login_within_dormant_after_days_is_dormant_counting_from_creation_if_never() {
    let sim =
        simulator(SimConfig { sizes: Sizes { users: 60, ..Sizes::default() }, ..SimConfig::default() }).await;
    let t = tenant(&sim, "demo_manager");
    // The simulator's dates are fixed and the clock is not: take the threshold from the data,
    // the median of the users' days since their last login (or creation).
    let first = page(&t, "users", &[], None).await.unwrap();
    let as_of = first
        .applied_criteria
        .iter()
        .find(|(k, _)| k == "dormancy_as_of")
        .map(|(_, v)| qualys_simulator::data::parse_iso(v).unwrap())
        .expect("the proof says when dormancy was measured");
    let proof = collect(&t, "users", &[]).await.unwrap();
    let days_of = |r: &serde_json::Map<String, serde_json::Value>| {
        let since = text(r, "last_login_date").or_else(|| text(r, "creation_date")).unwrap();
        (as_of - qualys_simulator::data::parse_iso(since).unwrap()).max(0) / 86_400
    };
    let mut all: Vec<i64> = proof.rows.iter().map(days_of).collect();
    all.sort_unstable();
    let threshold = all[all.len() / 2];
    let proof =
        collect(&t, "users", &criteria(&[("dormant_after_days", &threshold.to_string())])).await.unwrap();
    let (mut dormant, mut never) = (0, 0);
    for r in &proof.rows {
        never += usize::from(text(r, "last_login_date").is_none());
        let got = r["days_since_last_login"].as_i64().unwrap();
        assert!((got - days_of(r)).abs() <= 1, "{r:?}");
        assert_eq!(r["dormant"].as_bool(), Some(got > threshold), "{r:?}");
        dormant += usize::from(got > threshold);
    }
    assert!(
        dormant > 0 && dormant < proof.rows.len() && never > 0,
        "{dormant} dormant, {never} never logged in"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_echoes_the_password_into_a_row_gets_it_masked_in_the_proof_with_a_warning() {
    let echoed = ONE_USER.replace("<![CDATA[Ada]]>", &format!("<![CDATA[Ada {PASSWORD}]]>"));
    let proof = collect_users_serving(&echoed).await.expect("collect");
    assert_eq!(text(&proof.rows[0], "first_name"), Some("Ada ***"));
    let all = serde_json::to_string(&proof.rows).unwrap();
    assert!(!all.contains(PASSWORD), "{all}");
    assert!(proof.warnings.iter().any(|(code, m)| code == "secret-masked" && !m.contains(PASSWORD)));
}
