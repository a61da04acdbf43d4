//! Each XML mapping on a small sample document (in the workspace's `fixtures/qualys/`, each
//! citing its source kind: real capture, doc or sdk), natively: exact values, paging hints,
//! empty results and error mapping.

use qualys_connector::error::Error;
use qualys_connector::model::{Row, Value};
use qualys_connector::proofs::assets::Assets;
use qualys_connector::proofs::tickets::Tickets;
use qualys_connector::proofs::users::Users;
use qualys_connector::proofs::{self, vm_scans};

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/../fixtures/qualys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
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
fn a_host_list_page_maps_lists_and_reads_the_next_pages_id_min() {
    let body = fixture("host_list_with_warning.xml");
    let (rows, next) = Assets::parse_vm(&mut &body[..]).unwrap();
    assert_eq!(next, Some(100_010));
    let f = |r: &Row, n: &str| get("assets", r, n).clone();
    assert_eq!(f(&rows[0], "source"), text("vm"));
    assert_eq!(f(&rows[0], "tags"), Value::TextList(vec!["Prod & DMZ".into(), "PCI".into()]));
    assert_eq!(f(&rows[0], "asset_group_ids"), Value::TextList(vec!["700".into(), "701".into()]));
    assert_eq!(f(&rows[0], "comments"), text("Owner: \"Ops\" <ops@example.com>"));
    assert_eq!(f(&rows[0], "name"), text("host0.corp.example.com"));
    assert_eq!(f(&rows[1], "ip"), Value::Null);
    assert_eq!(f(&rows[1], "ipv6"), text("2001:db8::5"));
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
        // Derived when the proof is collected (at its time), not by the mapping.
        ("days_since_last_login", Value::Null),
        ("dormant", Value::Null),
    ];
    assert_eq!(actual, expected.iter().map(|(n, v)| (*n, v)).collect::<Vec<_>>());
}

#[test]
fn a_ticket_detection_carries_dns_netbios_service_and_fqdn_under_their_qualys_names() {
    let (rows, _) = Tickets::parse(&mut &fixture("ticket_list_truncated.xml")[..], 0).unwrap();
    let f = |r: &Row, n: &str| get("remediation-tickets", r, n).clone();
    assert_eq!(f(&rows[0], "dns"), text("web01.corp.example.com"));
    assert_eq!(f(&rows[0], "netbios"), text("WEB01"));
    assert_eq!(f(&rows[0], "service"), text("Web server"));
    assert_eq!(f(&rows[0], "fqdn"), text("web01.corp.example.com"));
    assert_eq!(f(&rows[0], "protocol"), text("tcp"));
    assert_eq!(f(&rows[1], "dns"), Value::Null, "an empty DNSNAME is null");
    assert_eq!(f(&rows[1], "netbios"), Value::Null);
}

#[test]
fn a_guide_style_next_page_url_yields_only_its_id_min_whatever_host_and_version_it_names() {
    let (rows, next) = Assets::parse_vm(&mut &fixture("host_list_guide_next_page.xml")[..]).unwrap();
    assert_eq!(next, Some(5002));
    assert_eq!(rows.len(), 1);
    let f = |n: &str| get("assets", &rows[0], n).clone();
    assert_eq!(f("dns"), text("alpha.example.com"), "CDATA and text around it are trimmed");
    assert_eq!(f("os"), text("Linux 3.x"));
}

#[test]
fn next_page_urls_without_a_usable_id_min_are_malformed() {
    for url in ["https://x/api/5.0/fo/asset/host/?action=list", "?id_min=abc", ""] {
        let err = qualys_connector::proofs::assets::id_min_of(url).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{url:?}: {err:?}");
    }
    assert_eq!(
        qualys_connector::proofs::assets::id_min_of("  \n https://h/api/4.0/x?a=1&id_min=42#f \n").unwrap(),
        42
    );
}

#[test]
fn an_empty_host_list_with_comments_around_the_root_is_an_empty_last_page() {
    let (rows, next) = Assets::parse_vm(&mut &fixture("host_list_empty.xml")[..]).unwrap();
    assert!(rows.is_empty());
    assert_eq!(next, None);
}

#[test]
fn newer_host_list_fields_are_mapped_and_unknown_elements_ignored() {
    let (rows, _) = Assets::parse_vm(&mut &fixture("host_list_newer_fields.xml")[..]).unwrap();
    let f = |r: &Row, n: &str| get("assets", r, n).clone();
    assert_eq!(f(&rows[0], "trurisk_score"), Value::Integer(612));
    assert_eq!(f(&rows[0], "asset_criticality_score"), Value::Integer(4));
    assert_eq!(f(&rows[0], "first_found_at"), ts("2025-01-15T08:30:00Z"));
    assert_eq!(f(&rows[0], "last_activity_at"), ts("2026-10-31T22:10:05Z"));
    assert_eq!(f(&rows[0], "tags"), Value::TextList(vec!["Databases".into()]));
    assert_eq!(f(&rows[0], "cloud_provider"), text("AWS"));
    assert_eq!(f(&rows[1], "trurisk_score"), Value::Integer(377), "older outputs: ASSET_RISK_SCORE");
    assert_eq!(f(&rows[1], "last_activity_at"), ts("2026-09-01T00:00:00Z"));
    assert_eq!(f(&rows[1], "asset_criticality_score"), Value::Null, "absent fields are null");
}

#[test]
fn an_empty_qps_answer_is_empty_and_a_success_without_records_or_count_is_not() {
    let (rows, last) = Assets::parse_qps(&mut &fixture("hostasset_empty.xml")[..]).unwrap();
    assert!(rows.is_empty());
    assert_eq!(last, None);
    for body in [
        "<ServiceResponse><responseCode>SUCCESS</responseCode></ServiceResponse>",
        "<ServiceResponse><responseCode>SUCCESS</responseCode><count>3</count></ServiceResponse>",
        "<ServiceResponse><count>0</count></ServiceResponse>",
    ] {
        let err = Assets::parse_qps(&mut body.as_bytes()).unwrap_err();
        assert!(matches!(err, Error::Malformed(_)), "{body}: {err:?}");
    }
}

#[test]
fn an_error_element_inside_a_v1_root_is_a_typed_error_never_an_empty_list() {
    let err = Users::parse(&mut &fixture("user_list_error_in_root.xml")[..]).unwrap_err();
    assert!(
        matches!(&err, Error::Permission(m) if m.contains("Insufficient privileges") && m.contains("2003")),
        "{err:?}"
    );
    let err = Tickets::parse(&mut &fixture("ticket_list_error_in_root.xml")[..], 0).unwrap_err();
    assert!(matches!(&err, Error::Upstream { code: Some(c), .. } if c == "1905"), "{err:?}");
    // Even after records: a document that reports an error is not a result.
    let mixed = "<USER_LIST_OUTPUT><USER_LIST><USER><USER_LOGIN>a</USER_LOGIN></USER></USER_LIST>\
                 <ERROR number=\"999\">Internal error</ERROR></USER_LIST_OUTPUT>";
    assert!(matches!(Users::parse(&mut mixed.as_bytes()), Err(Error::Upstream { .. })));
}

#[test]
fn zero_rows_come_only_from_the_documented_empty_shape() {
    assert!(Tickets::parse(&mut &fixture("ticket_list_empty.xml")[..], 0).unwrap().0.is_empty());
    assert!(vm_scans::PROOF.parse(&mut &fixture("scan_list_empty.xml")[..]).unwrap().is_empty());
    assert!(Users::parse(&mut &fixture("user_list_empty.xml")[..]).unwrap().is_empty());
    type RowCount = fn(&[u8]) -> Result<usize, Error>;
    let not_empty_shapes: [(&str, RowCount); 4] = [
        ("<USER_LIST_OUTPUT/>", |b| Users::parse(&mut &b[..]).map(|r| r.len())),
        ("<REMEDIATION_TICKETS></REMEDIATION_TICKETS>", |b| {
            Tickets::parse(&mut &b[..], 0).map(|r| r.0.len())
        }),
        ("<SCAN_LIST_OUTPUT><RESPONSE/></SCAN_LIST_OUTPUT>", |b| {
            vm_scans::PROOF.parse(&mut &b[..]).map(|r| r.len())
        }),
        ("<HOST_LIST_OUTPUT></HOST_LIST_OUTPUT>", |b| Assets::parse_vm(&mut &b[..]).map(|r| r.0.len())),
    ];
    for (body, parse) in not_empty_shapes {
        let err = parse(body.as_bytes()).unwrap_err();
        assert!(matches!(&err, Error::Malformed(m) if m.contains("documented shape")), "{body}: {err:?}");
    }
}

#[test]
fn account_and_request_errors_are_typed_whatever_the_http_status_and_declaration() {
    // HTTP 200 SIMPLE_RETURN 2001: an expired account (real).
    let err = Users::parse(&mut &fixture("simple_return_expired_200.xml")[..]).unwrap_err();
    assert!(
        matches!(&err, Error::Authentication(m) if m.contains("expired") && m.contains("re-activate")),
        "{err:?}"
    );
    // No XML declaration, DOCTYPE first (real).
    let err = Assets::parse_vm(&mut &fixture("simple_return_bad_parameter_400.xml")[..]).unwrap_err();
    assert!(matches!(&err, Error::Upstream { code: Some(c), .. } if c == "1905"), "{err:?}");
    // GENERIC_RETURN 2007 (sdk): the caller's IP is not allowed.
    let err = Users::parse(&mut &fixture("generic_return_ip_not_allowed.xml")[..]).unwrap_err();
    assert!(matches!(&err, Error::Authentication(m) if m.contains("IP address")), "{err:?}");
}

#[test]
fn whitespace_comment_or_attribute_bloat_is_refused_as_it_streams_in_not_buffered_whole() {
    use qualys_connector::xml::MAX_RUN_BYTES;
    let doc = String::from_utf8(fixture("user_list.xml")).unwrap();
    let at = doc.find("<USER_LIST>").expect("a user list") + "<USER_LIST>".len();
    let bloat = MAX_RUN_BYTES + 1;
    for (what, filler) in [
        ("whitespace", " ".repeat(bloat)),
        ("comment", format!("<!--{}-->", "c".repeat(bloat))),
        ("attribute", format!("<PAD a=\"{}\"/>", "a".repeat(bloat))),
    ] {
        let body = format!("{}{filler}{}", &doc[..at], &doc[at..]);
        match Users::parse(&mut body.as_bytes()) {
            Err(Error::Malformed(m)) => assert!(m.contains("without markup"), "{what}: {m}"),
            other => panic!("{what}: {other:?}"),
        }
    }
    // The same document without bloat reads.
    assert!(Users::parse(&mut doc.as_bytes()).is_ok());
}

#[test]
fn a_detection_list_page_gives_a_row_a_detection_with_its_hosts_values_and_reads_id_min() {
    use qualys_connector::proofs::Position;
    use qualys_connector::proofs::vulnerabilities::parse_page;
    let v = "vulnerabilities";
    let (rows, next) = parse_page(&mut &fixture("detection_list.xml")[..], true).unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(next, Some(Position::From { id: 100_006 }), "id_min of a URL naming another host and version");
    assert_eq!(get(v, &rows[0], "host_id"), &Value::Integer(100_000));
    assert_eq!(get(v, &rows[1], "host_id"), &Value::Integer(100_000), "host values on every detection");
    assert_eq!(get(v, &rows[1], "dns"), &text("web01.corp.example.com"));
    assert_eq!(get(v, &rows[0], "qds"), &Value::Integer(95));
    assert_eq!(get(v, &rows[0], "ssl"), &Value::Boolean(true));
    assert_eq!(get(v, &rows[1], "port"), &Value::Null);
    assert_eq!(
        get(v, &rows[0], "results"),
        &text(
            "Package\tInstalled Version\tRequired Version\nopenssl\t3.0.1\t3.0.7\n\nPath: &quot;/usr/lib/x86_64&quot; &gt; ok"
        )
    );
    assert_eq!(get(v, &rows[0], "results_truncated"), &Value::Boolean(false));
    assert_eq!(get(v, &rows[2], "netbios"), &text("FILESRV"));
    assert_eq!(get(v, &rows[2], "last_reopened_at"), &ts("2026-04-01T00:00:00Z"));
    // Without results asked for, none is kept.
    let (rows, _) = parse_page(&mut &fixture("detection_list.xml")[..], false).unwrap();
    assert_eq!(get(v, &rows[0], "results"), &Value::Null);
    assert_eq!(get(v, &rows[0], "results_truncated"), &Value::Null);
    // The documented empty answer is zero rows; a body without DATETIME is not.
    let (rows, next) = parse_page(&mut &fixture("detection_list_empty.xml")[..], false).unwrap();
    assert!(rows.is_empty() && next.is_none());
    let err = parse_page(
        &mut &b"<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE/></HOST_LIST_VM_DETECTION_OUTPUT>"[..],
        false,
    );
    assert!(matches!(err, Err(Error::Malformed(_))), "{err:?}");
}
