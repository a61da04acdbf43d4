//! Each XML mapping on a small sample document (in `fixtures/`, shaped after the Qualys DTDs
//! cited in each proof type's file), natively: exact values, paging hints and error mapping.

use qualys_connector::error::Error;
use qualys_connector::model::{Row, Value};
use qualys_connector::proofs::assets::Assets;
use qualys_connector::proofs::tickets::Tickets;
use qualys_connector::proofs::users::Users;
use qualys_connector::proofs::{self, vm_scans};
use qualys_platforms::ApiBase;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn get<'a>(proof: &str, row: &'a Row, field: &str) -> &'a Value {
    &row[proofs::find(proof).unwrap().spec().index(field)]
}

fn text(s: &str) -> Value {
    Value::Text(s.into())
}

fn ts(s: &str) -> Value {
    Value::Timestamp(s.into())
}

#[test]
fn a_ticket_list_page_maps_every_field_derives_the_rest_and_reads_truncation() {
    let now = 1_793_534_400; // 2026-11-01T12:00:00Z
    let (rows, last) = Tickets::parse(&mut &fixture("ticket_list_truncated.xml")[..], now).unwrap();
    assert_eq!(last, Some(10024));
    assert_eq!(rows.len(), 2);
    let f = |r: &Row, n: &str| get("remediation-tickets", r, n).clone();
    let r = &rows[0];
    assert_eq!(f(r, "ticket_number"), Value::Integer(10021));
    assert_eq!(f(r, "state"), text("RESOLVED"));
    assert_eq!(f(r, "severity"), Value::Integer(5));
    assert_eq!(f(r, "assignee_name"), text("Zoë Brontë"));
    assert_eq!(f(r, "port"), Value::Integer(443));
    assert_eq!(f(r, "last_modified_at"), ts("2026-02-12T08:00:00Z"), "latest history entry");
    assert_eq!(f(r, "time_to_resolution_seconds"), Value::Integer(33 * 86_400));
    assert_eq!(f(r, "overdue"), Value::Boolean(true), "resolved after its due date");
    let open = &rows[1];
    assert_eq!(f(open, "assignee_login"), Value::Null);
    assert_eq!(f(open, "last_modified_at"), ts("2026-03-01T00:00:00Z"), "no history: creation time");
    assert_eq!(f(open, "time_to_resolution_seconds"), Value::Null);
    assert_eq!(f(open, "overdue"), Value::Boolean(true), "open past its due date");
}

#[test]
fn a_host_list_page_maps_lists_and_follows_only_a_same_origin_next_url() {
    let body = fixture("host_list_with_warning.xml");
    let base = ApiBase::parse("https://qualysapi.qualys.com").unwrap();
    let (rows, next) = Assets::parse_vm(&mut &body[..], &base).unwrap();
    assert_eq!(
        next.as_deref(),
        Some("/api/5.0/fo/asset/host/?action=list&details=All&truncation_limit=2&id_min=100010")
    );
    let f = |r: &Row, n: &str| get("assets", r, n).clone();
    assert_eq!(f(&rows[0], "source"), text("vm"));
    assert_eq!(f(&rows[0], "tags"), Value::TextList(vec!["Prod & DMZ".into(), "PCI".into()]));
    assert_eq!(f(&rows[0], "asset_group_ids"), Value::TextList(vec!["700".into(), "701".into()]));
    assert_eq!(f(&rows[0], "comments"), text("Owner: \"Ops\" <ops@example.com>"));
    assert_eq!(f(&rows[0], "name"), text("host0.corp.example.com"));
    assert_eq!(f(&rows[1], "ip"), Value::Null);
    assert_eq!(f(&rows[1], "ipv6"), text("2001:db8::5"));
    let elsewhere = ApiBase::parse("https://qualysapi.qg2.apps.qualys.com").unwrap();
    let err = Assets::parse_vm(&mut &body[..], &elsewhere).unwrap_err();
    assert!(matches!(err, Error::Malformed(m) if m.contains("next-page URL was refused")));
}

#[test]
fn a_qps_page_maps_agent_details_and_an_unauthorized_answer_is_a_permission_error() {
    let (rows, last) = Assets::parse_qps(&mut &fixture("hostasset_search.xml")[..]).unwrap();
    assert_eq!(last, Some(3_000_007));
    let f = |n: &str| get("assets", &rows[0], n).clone();
    assert_eq!(f("source"), text("cloud_agent"));
    assert_eq!(f("host_id"), Value::Integer(100_005));
    assert_eq!(f("ip"), text("192.168.0.2"));
    assert_eq!(f("agent_version"), text("6.1.0.28"));
    assert_eq!(f("agent_last_checked_in_at"), ts("2026-10-30T09:00:00Z"));
    assert_eq!(f("tags"), Value::TextList(vec!["Cloud Agent".into()]));
    let err = Assets::parse_qps(&mut &fixture("hostasset_unauthorized.xml")[..]).unwrap_err();
    assert!(matches!(err, Error::Permission(m) if m.contains("Not Authorized")));
}

#[test]
fn a_scan_list_maps_state_profile_and_groups() {
    let rows = vm_scans::PROOF.parse(&mut &fixture("scan_list.xml")[..]).unwrap();
    assert_eq!(rows.len(), 2);
    let f = |r: &Row, n: &str| get("vm-scans", r, n).clone();
    assert_eq!(f(&rows[0], "title"), text("Weekly – Servers & DMZ"));
    assert_eq!(f(&rows[0], "processed"), Value::Boolean(true));
    assert_eq!(f(&rows[0], "option_profile_default"), Value::Boolean(true));
    assert_eq!(f(&rows[0], "asset_groups"), Value::TextList(vec!["DMZ".into()]));
    assert_eq!(f(&rows[1], "duration"), text("Pending"));
    assert_eq!(f(&rows[1], "sub_state"), text("No_Vuln"));
    assert_eq!(f(&rows[1], "asset_groups"), Value::Null);
}

#[test]
fn a_user_list_maps_three_users() {
    let rows = Users::parse(&mut &fixture("user_list.xml")[..]).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(get("users", &rows[1], "last_name"), &text("O'Brien & Sons"));
}

#[test]
fn a_user_list_with_no_users_is_an_empty_page_not_an_error() {
    let rows = Users::parse(&mut &fixture("user_list_empty.xml")[..]).unwrap();
    assert!(rows.is_empty());
}

#[test]
fn a_single_user_maps_every_field_and_ignores_elements_the_proof_does_not_declare() {
    let rows = Users::parse(&mut &fixture("user_list_single.xml")[..]).unwrap();
    assert_eq!(rows.len(), 1);
    let fields = proofs::find("users").unwrap().spec().fields;
    assert_eq!(rows[0].len(), fields.len());
    let actual: Vec<(&str, &Value)> = fields.iter().map(|f| f.name).zip(rows[0].iter()).collect();
    let expected: Vec<(&str, Value)> = vec![
        ("login", text("acme_as")),
        ("user_id", text("7654321")),
        ("external_id", text("uid=asmith,ou=people")),
        ("first_name", text("Ada")),
        ("last_name", text("Smith")),
        ("title", text("Auditor")),
        ("email", text("ada@example.com")),
        ("phone", text("+1 555 0100")),
        ("company", text("Acme")),
        ("status", text("Active")),
        ("role", text("Auditor")),
        ("business_unit", text("Compliance")),
        ("creation_date", ts("2020-02-29T10:20:30Z")),
        ("last_login_date", ts("2026-11-01T08:00:00Z")),
        ("manager_poc", Value::Boolean(false)),
        ("unit_manager_poc", Value::Boolean(true)),
        ("ui_interface_style", text("standard_navy")),
        ("asset_groups", Value::TextList(vec!["PCI".into()])),
    ];
    assert_eq!(actual, expected.iter().map(|(n, v)| (*n, v)).collect::<Vec<_>>());
}
