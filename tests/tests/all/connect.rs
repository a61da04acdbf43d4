//! `connect` tells a user exactly what is wrong with their set-up, each diagnosis through the
//! real component against the simulator (or the sandbox, for platforms).

use connector_runtime::types::{Access, ConnectorError};
use connector_runtime::{CallError, Origin, TenantPolicy};
use connector_tests::*;
use qualys_simulator::{Account, AccountState, SimConfig};

async fn connect_err(sim: &qualys_simulator::Simulator, login: &str) -> ConnectorError {
    connector_error(runtime().connect(&tenant(sim, login)).await.result.unwrap_err())
}

fn access_of(a: &connector_runtime::types::Account, id: &str) -> (Access, String) {
    let p = a.proof_access.iter().find(|p| p.proof_type_id == id).unwrap();
    (p.access, p.reason.clone().unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_manager_when_connecting_then_login_role_platform_and_full_access_to_every_proof_type() {
    let sim = simulator(SimConfig::default()).await;
    let a = runtime().connect(&tenant(&sim, "demo_manager")).await.result.unwrap();
    assert_eq!(a.login, "demo_manager");
    assert_eq!(a.role.as_deref(), Some("Manager"));
    assert_eq!(a.business_unit.as_deref(), Some("Unassigned"));
    assert_eq!(a.platform, "US1");
    assert_eq!(a.api_url, sim.url());
    let ids: Vec<_> = a.proof_access.iter().map(|p| p.proof_type_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "assets",
            "users",
            "vm-scans",
            "pc-scans",
            "remediation-tickets",
            "vulnerabilities",
            "activity-log",
            "pc-posture"
        ]
    );
    assert!(a.proof_access.iter().all(|p| p.access == Access::Full), "{:?}", a.proof_access);
    assert!(a.warnings.is_empty());
    assert_eq!(sim.requests()[0].path, "/msp/about.php", "credentials checked with the cheapest call first");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_reader_without_asset_management_rights_when_connecting_then_assets_are_partial_and_the_roles_are_named()
 {
    let sim = simulator(SimConfig::default()).await;
    let a = runtime().connect(&tenant(&sim, "demo_reader")).await.result.unwrap();
    assert_eq!(a.role.as_deref(), Some("Reader"));
    let (level, reason) = access_of(&a, "assets");
    assert_eq!(level, Access::Partial);
    for role in ["READER", "Reporting Reader", "Unified Dashboard User", "VM User"] {
        assert!(reason.contains(role), "{reason}");
    }
    let (level, reason) = access_of(&a, "users");
    assert_eq!(level, Access::Partial);
    assert!(reason.contains("Manager"), "{reason}");
    assert!(a.warnings.iter().any(|w| w.message.starts_with("assets:")));
    // The activity log is a Manager's: the reason names the role to use, not the module rights.
    let (level, reason) = access_of(&a, "activity-log");
    assert_eq!(level, Access::None);
    assert!(reason.contains("Manager role") && !reason.contains("Manage VM"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_missing_modules_when_connecting_then_the_blocked_proof_types_name_the_module_and_the_minimum_user()
 {
    let mut no_pc = Account::manager("no_pc", PASSWORD);
    no_pc.pc_module = false;
    let mut no_vm = Account::manager("no_vm", PASSWORD);
    no_vm.vm_module = false;
    let sim = simulator(SimConfig { accounts: vec![no_pc, no_vm], ..SimConfig::default() }).await;
    let a = runtime().connect(&tenant(&sim, "no_pc")).await.result.unwrap();
    for id in ["pc-scans", "pc-posture"] {
        let (level, reason) = access_of(&a, id);
        assert_eq!(level, Access::None, "{id}");
        assert!(
            reason.contains("Manage PC/SCA") && reason.contains("Reader with API access"),
            "{id}: {reason}"
        );
    }
    assert_eq!(access_of(&a, "vm-scans").0, Access::Full);
    let a = runtime().connect(&tenant(&sim, "no_vm")).await.result.unwrap();
    for id in ["assets", "vm-scans", "remediation-tickets", "vulnerabilities"] {
        let (level, reason) = access_of(&a, id);
        assert_eq!(level, Access::None, "{id}");
        assert!(reason.contains("Manage VM"), "{id}: {reason}");
    }
    assert_eq!(access_of(&a, "pc-scans").0, Access::Full);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_wrong_password_sso_or_no_api_access_when_connecting_then_one_authentication_error_lists_every_fix()
 {
    let sim = simulator(SimConfig::default()).await;
    for login in ["demo_sso", "demo_noapi"] {
        let err = connect_err(&sim, login).await;
        let ConnectorError::Authentication(m) = &err else { panic!("{login}: {err:?}") };
        for fix in ["password", "platform", "API access", "SSO", "service account"] {
            assert!(m.contains(fix), "{login}: {fix}: {m}");
        }
    }
    let mut t = tenant(&sim, "demo_manager");
    t.config.password = "wrong".into();
    let err = connector_error(runtime().connect(&t).await.result.unwrap_err());
    assert!(matches!(err, ConnectorError::Authentication(_)));
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_locked_inactive_or_expired_account_when_connecting_then_the_message_says_to_reactivate_it() {
    let sim = simulator(SimConfig::default()).await;
    for (login, word) in
        [("demo_locked", "locked"), ("demo_inactive", "inactive"), ("demo_expired", "expired")]
    {
        let err = connect_err(&sim, login).await;
        let ConnectorError::Authentication(m) = &err else { panic!("{login}: {err:?}") };
        assert!(m.contains(word) && m.contains("re-activate"), "{login}: {m}");
        assert!(!m.contains(".."), "Qualys' sentence and the advice join cleanly: {m}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_an_unreachable_host_or_a_tls_failure_when_connecting_then_a_transport_error_says_so() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    let closed = "http://127.0.0.1:9".to_string();
    t.config.api_url = Some(closed.clone());
    t.policy = TenantPolicy::for_origin(Origin::parse(&closed).unwrap());
    let err = connector_error(runtime().connect(&t).await.result.unwrap_err());
    assert!(matches!(&err, ConnectorError::Transport(m) if m.contains("refused")), "{err:?}");

    // https to a plain-http server: the TLS handshake fails.
    let tls = format!("https://{}", sim.addr());
    t.config.api_url = Some(tls.clone());
    t.policy = TenantPolicy::for_origin(Origin::parse(&tls).unwrap());
    t.config.timeouts = Some(connector_runtime::types::Timeouts {
        connect_ms: 2000,
        first_byte_ms: 2000,
        between_bytes_ms: 2000,
    });
    let err = connector_error(runtime().connect(&t).await.result.unwrap_err());
    assert!(
        matches!(&err, ConnectorError::Transport(m) if m.contains("TLS") || m.contains("connection")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn given_an_unknown_platform_or_a_plain_http_url_when_connecting_then_invalid_config_names_the_fix() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.config.api_url = None;
    t.config.platform = "MARS1".into();
    let err = connector_error(runtime().connect(&t).await.result.unwrap_err());
    assert!(
        matches!(&err, ConnectorError::InvalidConfig(m) if m.contains("US1") && m.contains("KSA1")),
        "{err:?}"
    );
    t.config.api_url = Some("http://qualysapi.example.com".into());
    let err = connector_error(runtime().connect(&t).await.result.unwrap_err());
    assert!(matches!(&err, ConnectorError::InvalidConfig(m) if m.contains("https")), "{err:?}");
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_each_of_the_thirteen_platform_codes_when_connecting_then_the_component_calls_that_platforms_api_server()
 {
    let expected = [
        ("AE1", "qualysapi.qg1.apps.qualys.ae"),
        ("AU1", "qualysapi.qg1.apps.qualys.com.au"),
        ("CA1", "qualysapi.qg1.apps.qualys.ca"),
        ("EU1", "qualysapi.qualys.eu"),
        ("EU2", "qualysapi.qg2.apps.qualys.eu"),
        ("EU3", "qualysapi.qg3.apps.qualys.it"),
        ("IN1", "qualysapi.qg1.apps.qualys.in"),
        ("KSA1", "qualysapi.qg1.apps.qualysksa.com"),
        ("UK1", "qualysapi.qg1.apps.qualys.co.uk"),
        ("US1", "qualysapi.qualys.com"),
        ("US2", "qualysapi.qg2.apps.qualys.com"),
        ("US3", "qualysapi.qg3.apps.qualys.com"),
        ("US4", "qualysapi.qg4.apps.qualys.com"),
    ];
    let sim = simulator(SimConfig::default()).await;
    for (code, host) in expected {
        logs::capture();
        let mut t = tenant(&sim, "demo_manager");
        t.name = format!("platform-{code}");
        t.config.api_url = None;
        t.config.platform = code.to_lowercase();
        // The tenant may reach its platform's API server; the operator's policy of these tests
        // allows loopback only, so the request is seen and refused before any lookup, never sent.
        let platform = qualys_platforms::find(code).unwrap();
        t.policy = TenantPolicy::for_origin(Origin::parse(platform.api_url).unwrap());
        let err = runtime().connect(&t).await.result.unwrap_err();
        let CallError::Connector(ConnectorError::Denied(why)) = &err else { panic!("{code}: {err:?}") };
        assert!(why.contains(host) && why.contains("allowed API hosts"), "{code}: {why}");
        // The platform's tracing events name the request the sandbox refused.
        let events = logs::of(&t.name);
        let refused = events.iter().find(|e| e.get("message") == Some("request refused")).expect("logged");
        assert_eq!(
            refused.get("target"),
            Some(format!("https://{host}:443/msp/about.php").as_str()),
            "{code}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_deactivated_account_state_list_then_every_state_is_diagnosed() {
    // Guards the simulator's account states against drifting from the diagnoses above.
    for state in [
        AccountState::SsoEnabled,
        AccountState::NoApiAccess,
        AccountState::Locked,
        AccountState::Inactive,
        AccountState::Expired,
        AccountState::IpNotAllowed,
    ] {
        let sim = simulator(SimConfig {
            accounts: vec![Account::manager("x", PASSWORD).with_state(state)],
            ..SimConfig::default()
        })
        .await;
        let err = connect_err(&sim, "x").await;
        assert!(matches!(err, ConnectorError::Authentication(_)), "{state:?}: {err:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_password_of_100_kb_when_connecting_or_collecting_then_it_is_an_invalid_config_error_not_a_crash()
 {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.config.password = "p".repeat(100 * 1024);
    for result in [
        runtime().connect(&t).await.result.map(|_| ()),
        runtime().collect_page(&t, "users", &[], None).await.result.map(|_| ()),
    ] {
        match result.unwrap_err() {
            CallError::Connector(ConnectorError::InvalidConfig(m)) => {
                assert!(m.contains("password is 102400 bytes long") && !m.contains("ppp"), "{m}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(sim.requests().is_empty(), "nothing sent");
}
