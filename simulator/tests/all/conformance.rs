//! Conformance: every document the simulator serves follows the content models of the project's
//! field notes (`qualys-field-notes.md`), written below as data, and shows the quirks the notes
//! record for real Qualys responses. Requests go over loopback to a real simulator.
//!
//! Models cite their source kind like the notes do: doc (Qualys documentation or DTD), sdk
//! (public clients), real (recorded responses), unverified. Where the notes list children
//! without saying which are optional, the optionality chosen here is marked "(chosen)".

use std::net::SocketAddr;

use crate::common::content_model::Schema;
use crate::common::http::{MANAGER, Reply, get, post_xml, send};
use crate::common::models::*;
use qualys_simulator::{Account, Fault, FaultRule, SimConfig, Simulator, Sizes};
use quick_xml::Reader;
use quick_xml::events::Event;

// ---------------------------------------------------------------------------------------------
// Helpers.

const HOSTS: &str = "/api/5.0/fo/asset/host/";
const USERS: &str = "/msp/user_list.php";
const TICKETS: &str = "/msp/ticket_list.php";
const ABOUT: &str = "/msp/about.php";
const VM_SCANS: &str = "/api/3.0/fo/scan/";
const PC_SCANS: &str = "/api/2.0/fo/scan/compliance/";
const QPS: &str = "/qps/rest/2.0/search/am/hostasset";
const ALL_STATES: &str = "states=OPEN,RESOLVED,CLOSED,IGNORED";

/// A Scanner: user_list.php refuses it.
const SCANNER: (&str, &str) = ("demo_scanner", "demo-password");
/// A Manager without the VM module: ticket_list.php refuses it.
const NO_VM: (&str, &str) = ("demo_novm", "demo-password");

fn sizes(n: u64) -> Sizes {
    Sizes::uniform(n)
}

async fn start(sizes: Sizes) -> Simulator {
    let mut config = SimConfig { sizes, ..SimConfig::default() };
    config.accounts.push(Account { role: "Scanner".into(), ..Account::manager(SCANNER.0, SCANNER.1) });
    config.accounts.push(Account { vm_module: false, ..Account::manager(NO_VM.0, NO_VM.1) });
    Simulator::start(config).await.expect("simulator starts")
}

/// The trimmed text of every element called `name`, in document order.
fn texts(xml: &str, name: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let (mut out, mut depth, mut current) = (Vec::new(), 0usize, String::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) if e.name().as_ref() == name => {
                depth += 1;
                current.clear();
            }
            Event::Empty(e) if e.name().as_ref() == name => out.push(String::new()),
            Event::End(e) if e.name().as_ref() == name => {
                depth -= 1;
                out.push(current.trim().to_string());
            }
            Event::Text(t) if depth > 0 => current.push_str(&t.xml10_content()),
            Event::CData(c) if depth > 0 => current.push_str(&c),
            Event::Eof => return out,
            _ => {}
        }
    }
}

/// The value of a query parameter in a URL.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded_pairs(query).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn form_urlencoded_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%2C", ",").replace("%2c", ",")))
        .collect()
}

/// The element names of the root's children, in order.
fn root_children(xml: &str) -> Vec<String> {
    let mut reader = Reader::from_str(xml);
    let (mut depth, mut out) = (0usize, Vec::new());
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) => {
                if depth == 1 {
                    out.push(e.name().as_ref().to_string());
                }
                depth += 1;
            }
            Event::Empty(e) if depth == 1 => out.push(e.name().as_ref().to_string()),
            Event::End(_) => depth -= 1,
            Event::Eof => return out,
            _ => {}
        }
    }
}

fn attr(xml: &str, element: &str, name: &str) -> Option<String> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == element => {
                return e.attributes().flatten().find(|a| a.key.as_ref() == name).map(|a| {
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0).expect("attribute").into_owned()
                });
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

#[track_caller]
fn assert_ok(what: &str, reply: &Reply) {
    assert_eq!(reply.status, 200, "{what}: HTTP {}\n{}", reply.status, reply.text());
}

/// Every host list page from the first, following `id_min` the way a connector must: read it
/// from the WARNING's URL and ask the simulator itself with the same parameters.
async fn host_pages(addr: SocketAddr, query: &str) -> Vec<String> {
    let mut pages = Vec::new();
    let mut target = format!("{HOSTS}?{query}");
    loop {
        let reply = get(addr, &target, MANAGER).await;
        assert_ok(&target, &reply);
        let body = reply.text();
        let urls = texts(&body, "URL");
        pages.push(body);
        let Some(url) = urls.first() else { return pages };
        let id_min = query_param(url, "id_min").expect("the next-page URL holds id_min");
        target = format!("{HOSTS}?{query}&id_min={id_min}");
        assert!(pages.len() < 50, "host list paging does not end");
    }
}

const HOST_QUERY: &str =
    "action=list&details=All&show_asset_id=1&show_tags=1&show_trurisk=1&truncation_limit=40";

// ---------------------------------------------------------------------------------------------
// The models have teeth: shapes the simulator used to serve, from the same memory as the
// connector, are rejected.

#[test]
fn the_models_reject_the_shapes_the_simulator_used_to_serve() {
    let cases: [(Schema, &str, &str); 5] = [
        (
            tickets_model(),
            "<REMEDIATION_TICKETS><HEADER><USER_LOGIN>u</USER_LOGIN><COMPANY>c</COMPANY><DATETIME>d</DATETIME></HEADER>\
             <TICKET_LIST><TICKET><NUMBER>1</NUMBER><CREATION_DATETIME>d</CREATION_DATETIME><CURRENT_STATE>OPEN</CURRENT_STATE>\
             <INVALID>0</INVALID><DETECTION><IP>10.0.0.1</IP><DNS>h</DNS><NETBIOS>H</NETBIOS></DETECTION></TICKET></TICKET_LIST>\
             </REMEDIATION_TICKETS>",
            "/REMEDIATION_TICKETS/TICKET_LIST/TICKET/DETECTION: children [IP, DNS, NETBIOS]",
        ),
        (
            tickets_model(),
            "<REMEDIATION_TICKETS><HEADER><USER_LOGIN>u</USER_LOGIN><COMPANY>c</COMPANY><DATETIME>d</DATETIME></HEADER>\
             <TRUNCATION last=\"1\">t</TRUNCATION><TICKET_LIST><TICKET/></TICKET_LIST></REMEDIATION_TICKETS>",
            "unexpected <TICKET_LIST>",
        ),
        (
            users_model(),
            "<USER_LIST_OUTPUT><RESPONSE><USER_LIST/></RESPONSE></USER_LIST_OUTPUT>",
            "/USER_LIST_OUTPUT: children [RESPONSE]",
        ),
        (
            host_list_model(),
            "<HOST_LIST_OUTPUT><RESPONSE><DATETIME>d</DATETIME><HOST_LIST><HOST><ID>1</ID><TRACKING_METHOD>IP</TRACKING_METHOD>\
             <TRURISK_SCORE>5</TRURISK_SCORE></HOST></HOST_LIST></RESPONSE></HOST_LIST_OUTPUT>",
            "unexpected <TRURISK_SCORE>",
        ),
        (
            scans_model(),
            "<SCAN_LIST_OUTPUT><RESPONSE><DATETIME>d</DATETIME><SCAN_LIST><SCAN><REF>r</REF><TITLE>t</TITLE></SCAN>\
             </SCAN_LIST></RESPONSE></SCAN_LIST_OUTPUT>",
            "/SCAN_LIST_OUTPUT/RESPONSE/SCAN_LIST/SCAN: children [REF, TITLE]",
        ),
    ];
    for (model, doc, expected) in cases {
        let violations = model.violations(doc);
        assert!(violations.iter().any(|v| v.contains(expected)), "expected {expected:?} in {violations:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Host list.

#[tokio::test]
async fn every_host_list_page_follows_the_documented_content_model() {
    for n in [0, 1, 95] {
        let sim = start(sizes(n)).await;
        let pages = host_pages(sim.addr(), HOST_QUERY).await;
        assert_eq!(pages.len() as u64, n.div_ceil(40).max(1), "{n} hosts");
        let mut ids = Vec::new();
        for (i, page) in pages.iter().enumerate() {
            host_list_model().assert_valid(&format!("host list page {} of {n} hosts", i + 1), page);
            ids.extend(texts(page, "ID"));
            // show_trurisk=1 and details=All: every host carries the scores and the 2025 dates.
            let hosts = texts(page, "TRACKING_METHOD").len();
            for field in ["TRURISK_SCORE", "ASSET_CRITICALITY_SCORE", "FIRST_FOUND_DATE", "LAST_ACTIVITY"] {
                assert_eq!(texts(page, field).len(), hosts, "{field} on page {}", i + 1);
            }
            for score in texts(page, "TRURISK_SCORE") {
                assert!(score.parse::<u16>().is_ok_and(|s| s <= 1000), "TRURISK_SCORE {score}");
            }
            for score in texts(page, "ASSET_CRITICALITY_SCORE") {
                assert!(score.parse::<u8>().is_ok_and(|s| (1..=5).contains(&s)), "criticality {score}");
            }
            let last = i + 1 == pages.len();
            assert_eq!(texts(page, "WARNING").is_empty(), last, "a WARNING on every page but the last");
        }
        let unique: std::collections::BTreeSet<_> = ids.iter().collect();
        assert_eq!((ids.len() as u64, unique.len() as u64), (n, n), "each host exactly once");
    }
}

#[tokio::test]
async fn an_empty_host_list_is_a_response_holding_only_its_datetime() {
    let sim = start(sizes(0)).await;
    let reply = get(sim.addr(), &format!("{HOSTS}?action=list"), MANAGER).await;
    assert_ok("empty host list", &reply);
    let body = reply.text();
    host_list_model().assert_valid("empty host list", &body);
    assert!(!body.contains("<HOST_LIST>"), "{body}");
    assert!(body.contains("<RESPONSE><DATETIME>") && body.contains("</DATETIME>\n</RESPONSE>"), "{body}");
}

#[tokio::test]
async fn the_next_page_url_is_written_like_the_guides_sample_and_cannot_be_followed_literally() {
    let sim = start(sizes(95)).await;
    let reply = get(sim.addr(), &format!("{HOSTS}?{HOST_QUERY}"), MANAGER).await;
    let body = reply.text();
    let raw = &body[body.find("<URL>").expect("a URL")..body.find("</URL>").expect("a URL end") + 6];
    // doc: CDATA surrounded by whitespace and newlines.
    assert!(raw.starts_with("<URL>\n  <![CDATA[") && raw.ends_with("]]>\n</URL>"), "{raw}");
    let url = &texts(&body, "URL")[0];
    // doc: another host and another API version than the call made.
    assert!(url.starts_with("https://qualysapi.qualys.com/api/4.0/fo/asset/host/?"), "{url}");
    assert!(!url.contains(&sim.addr().to_string()), "{url}");
    assert_eq!(query_param(url, "id_min").as_deref(), Some("100200"), "{url}");
    assert_eq!(query_param(url, "truncation_limit").as_deref(), Some("40"), "{url}");
    // Following its path on the simulator gets no host list.
    let path = &url["https://qualysapi.qualys.com".len()..];
    let literal = get(sim.addr(), path, MANAGER).await;
    assert_ne!(literal.status, 200, "the literal next-page URL must not work");
}

#[tokio::test]
async fn paging_faults_change_the_id_min_the_url_gives() {
    let sim = start(sizes(95)).await;
    let first = format!("{HOSTS}?{HOST_QUERY}");
    for (fault, id_min) in [
        (Fault::NextUrlRepeat, "0"),
        (Fault::SkipRecords, "100450"),
        (Fault::RepeatRecords, "100150"),
        (Fault::NextUrlOtherHost, "100200"),
    ] {
        sim.clear_faults();
        sim.add_fault(FaultRule::always(HOSTS, fault.clone()));
        let body = get(sim.addr(), &first, MANAGER).await.text();
        host_list_model().assert_valid(&format!("{fault:?} page"), &body);
        let url = &texts(&body, "URL")[0];
        assert_eq!(query_param(url, "id_min").as_deref(), Some(id_min), "{fault:?}: {url}");
        let host = if fault == Fault::NextUrlOtherHost {
            "https://evil.example.com/"
        } else {
            "https://qualysapi.qualys.com/"
        };
        assert!(url.starts_with(host), "{fault:?}: {url}");
    }
}

#[tokio::test]
async fn host_and_user_lists_carry_a_comment_before_the_root() {
    let sim = start(sizes(3)).await;
    for (target, root) in
        [(format!("{HOSTS}?action=list"), "<HOST_LIST_OUTPUT>"), (USERS.to_string(), "<USER_LIST_OUTPUT>")]
    {
        let body = get(sim.addr(), &target, MANAGER).await.text();
        let doctype = body.find("<!DOCTYPE").expect("a DOCTYPE");
        let comment = body.find("<!--").expect("a comment");
        assert!(doctype < comment && comment < body.find(root).expect("the root"), "{body}");
    }
}

// ---------------------------------------------------------------------------------------------
// Users.

#[tokio::test]
async fn every_user_list_follows_the_documented_content_model() {
    for n in [0, 1, 12] {
        let sim = start(sizes(n)).await;
        for login in [MANAGER, ("demo_reader", "demo-password")] {
            let reply = get(sim.addr(), USERS, login).await;
            assert_ok(USERS, &reply);
            let body = reply.text();
            users_model().assert_valid(&format!("user list of {} ({n} users)", login.0), &body);
            assert!(texts(&body, "USER_LOGIN").contains(&login.0.to_string()), "the caller is listed");
        }
    }
}

#[tokio::test]
async fn a_refused_user_list_is_an_error_inside_the_normal_root_with_http_200() {
    let sim = start(sizes(5)).await;
    let reply = get(sim.addr(), USERS, SCANNER).await;
    assert_ok("refused user list", &reply);
    let body = reply.text();
    users_model().assert_valid("refused user list", &body);
    assert_eq!(root_children(&body), ["ERROR"]);
    assert_eq!(attr(&body, "ERROR", "number").as_deref(), Some("2003"));
}

// ---------------------------------------------------------------------------------------------
// Tickets.

#[tokio::test]
async fn every_ticket_page_follows_the_documented_content_model() {
    let sim = start(Sizes { tickets: 2500, ..sizes(3) }).await;
    let mut since = 0u64;
    let mut seen = 0;
    for page in 1.. {
        let target = format!("{TICKETS}?{ALL_STATES}&since_ticket_number={since}");
        let reply = get(sim.addr(), &target, MANAGER).await;
        assert_ok(&target, &reply);
        let body = reply.text();
        tickets_model().assert_valid(&format!("ticket page {page}"), &body);
        let numbers = texts(&body, "NUMBER");
        seen += numbers.len();
        // Every detection uses the documented names, never DNS / NETBIOS.
        assert!(!body.contains("<DNS>") && !body.contains("<NETBIOS>"));
        match attr(&body, "TRUNCATION", "last") {
            Some(last) => {
                // doc: TRUNCATION is the root's last child and names the page's last NUMBER.
                assert_eq!(root_children(&body).last().map(String::as_str), Some("TRUNCATION"));
                assert_eq!(numbers.last(), Some(&last), "page {page}");
                since = last.parse::<u64>().expect("a number") + 1;
            }
            None => break,
        }
    }
    assert_eq!(seen, 2500);
    let body = get(sim.addr(), &format!("{TICKETS}?{ALL_STATES}"), MANAGER).await.text();
    for name in ["DNSNAME", "NBHNAME", "SERVICE", "PORT", "PROTOCOL", "FQDN"] {
        assert!(!texts(&body, name).is_empty(), "some detection carries {name}");
    }
}

#[tokio::test]
async fn an_empty_ticket_list_follows_the_documented_content_model() {
    let sim = start(sizes(0)).await;
    let reply = get(sim.addr(), &format!("{TICKETS}?{ALL_STATES}"), MANAGER).await;
    assert_ok("empty ticket list", &reply);
    let body = reply.text();
    tickets_model().assert_valid("empty ticket list", &body);
    assert_eq!(root_children(&body), ["HEADER"]);
}

#[tokio::test]
async fn tickets_asked_for_without_states_are_all_open() {
    let sim = start(Sizes { tickets: 300, ..sizes(1) }).await;
    let body = get(sim.addr(), TICKETS, MANAGER).await.text();
    tickets_model().assert_valid("tickets without states", &body);
    let states = texts(&body, "CURRENT_STATE");
    assert!(!states.is_empty() && states.iter().all(|s| s == "OPEN"), "{states:?}");
    let all = get(sim.addr(), &format!("{TICKETS}?{ALL_STATES}"), MANAGER).await.text();
    assert!(texts(&all, "CURRENT_STATE").len() > states.len(), "other states exist when asked for");
}

#[tokio::test]
async fn a_refused_ticket_list_is_an_error_inside_the_normal_root_with_http_200() {
    let sim = start(sizes(5)).await;
    let reply = get(sim.addr(), &format!("{TICKETS}?{ALL_STATES}"), NO_VM).await;
    assert_ok("refused ticket list", &reply);
    let body = reply.text();
    tickets_model().assert_valid("refused ticket list", &body);
    assert_eq!(root_children(&body), ["ERROR"]);
    assert!(attr(&body, "ERROR", "number").is_some());
}

// ---------------------------------------------------------------------------------------------
// Scans.

#[tokio::test]
async fn vm_and_pc_scan_lists_follow_the_documented_content_model() {
    for n in [0, 40] {
        let sim = start(sizes(n)).await;
        for path in [VM_SCANS, PC_SCANS] {
            for window in ["", "&launched_after_datetime=2000-01-01"] {
                let target = format!("{path}?action=list{window}");
                let reply = get(sim.addr(), &target, MANAGER).await;
                assert_ok(&target, &reply);
                let body = reply.text();
                scans_model().assert_valid(&format!("{target} ({n} scans)"), &body);
                let listed = texts(&body, "REF").len() as u64;
                if window.is_empty() {
                    // doc: without a window, only the last 30 days (40 scans span two years).
                    assert!(listed < n.max(1), "{target}: {listed} of {n}");
                } else {
                    assert_eq!(listed, n, "{target}");
                }
                if n > 0 && !window.is_empty() {
                    // doc: CDATA surrounded by whitespace and newlines.
                    assert!(body.contains("<TITLE>\n  <![CDATA["), "{target}");
                    assert!(body.contains("<TARGET>\n  <![CDATA["), "{target}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// QPS.

fn qps_request(limit: u32, after: Option<&str>) -> String {
    let criteria = after
        .map(|id| format!("<filters><Criteria field=\"id\" operator=\"GREATER\">{id}</Criteria></filters>"));
    format!(
        "<ServiceRequest>{}<preferences><limitResults>{limit}</limitResults></preferences></ServiceRequest>",
        criteria.unwrap_or_default()
    )
}

#[tokio::test]
async fn every_qps_search_page_follows_the_documented_content_model() {
    let sim = start(sizes(25)).await;
    let (mut after, mut seen) = (None::<String>, 0);
    for page in 1.. {
        // No X-Requested-With on /qps/ (the QPS documentation's examples do not send it).
        let reply = post_xml(sim.addr(), QPS, MANAGER, &qps_request(10, after.as_deref())).await;
        assert_ok("QPS search", &reply);
        assert!(reply.headers.iter().all(|(k, _)| !k.to_ascii_lowercase().starts_with("x-ratelimit")));
        let body = reply.text();
        qps_model().assert_valid(&format!("QPS page {page}"), &body);
        assert_eq!(texts(&body, "responseCode"), ["SUCCESS"]);
        seen += texts(&body, "HostAsset").len();
        if texts(&body, "hasMoreRecords") != ["true"] {
            break;
        }
        after = texts(&body, "lastId").pop();
    }
    assert_eq!(seen, 25);
}

#[tokio::test]
async fn an_empty_qps_search_has_count_zero_and_neither_more_records_nor_data() {
    let sim = start(sizes(0)).await;
    let reply = post_xml(sim.addr(), QPS, MANAGER, &qps_request(100, None)).await;
    assert_ok("empty QPS search", &reply);
    let body = reply.text();
    qps_model().assert_valid("empty QPS search", &body);
    assert_eq!(root_children(&body), ["responseCode", "count"]);
    assert_eq!(texts(&body, "count"), ["0"]);
}

#[tokio::test]
async fn qps_refusals_are_http_200_service_responses_with_error_details() {
    let sim = start(sizes(5)).await;
    for (login, code) in [
        (("demo_reader", "demo-password"), "UNAUTHORIZED"),
        (("demo_manager", "wrong"), "INVALID_CREDENTIALS"),
    ] {
        let reply = post_xml(sim.addr(), QPS, login, &qps_request(10, None)).await;
        assert_ok(code, &reply);
        let body = reply.text();
        qps_model().assert_valid(code, &body);
        assert_eq!(texts(&body, "responseCode"), [code]);
        assert_eq!(root_children(&body), ["responseCode", "responseErrorDetails"]);
    }
    let body =
        post_xml(sim.addr(), QPS, ("demo_reader", "demo-password"), &qps_request(1, None)).await.text();
    assert_eq!(
        texts(&body, "errorMessage"),
        ["You are not authorized to access the application through the API."]
    );
}

// ---------------------------------------------------------------------------------------------
// Errors and account states.

#[tokio::test]
async fn a_bad_parameter_is_an_http_400_simple_return_without_xml_declaration() {
    let sim = start(sizes(1)).await;
    let reply = get(sim.addr(), &format!("{HOSTS}?action=list&bogus=1"), MANAGER).await;
    assert_eq!(reply.status, 400);
    let body = reply.text();
    simple_return_model().assert_valid("bad parameter", &body);
    assert!(body.starts_with("<!DOCTYPE SIMPLE_RETURN"), "{body}");
    assert!(!body.contains("<?xml"), "{body}");
    assert_eq!(texts(&body, "CODE"), ["1905"]);
}

#[tokio::test]
async fn an_expired_account_is_an_http_200_simple_return_with_code_2001() {
    let sim = start(sizes(1)).await;
    for target in [ABOUT.to_string(), format!("{HOSTS}?action=list")] {
        let reply = get(sim.addr(), &target, ("demo_expired", "demo-password")).await;
        assert_ok("expired", &reply);
        let body = reply.text();
        simple_return_model().assert_valid("expired account", &body);
        assert_eq!(texts(&body, "CODE"), ["2001"]);
        assert_eq!(texts(&body, "TEXT"), ["This account has expired."]);
    }
}

#[tokio::test]
async fn an_ip_outside_the_secure_list_is_a_generic_return_numbered_2007() {
    let sim = start(sizes(1)).await;
    let body = get(sim.addr(), ABOUT, ("demo_ipblocked", "demo-password")).await.text();
    generic_return_model().assert_valid("IP not allowed", &body);
    assert_eq!(attr(&body, "RETURN", "status").as_deref(), Some("FAILED"));
    assert_eq!(attr(&body, "RETURN", "number").as_deref(), Some("2007"));
}

#[tokio::test]
async fn bad_credentials_and_the_401_fault_are_http_401_simple_returns_with_code_2000() {
    let sim = start(sizes(1)).await;
    let reply = get(sim.addr(), ABOUT, ("demo_manager", "wrong")).await;
    assert_eq!(reply.status, 401);
    simple_return_model().assert_valid("bad password", &reply.text());
    sim.add_fault(FaultRule::always(ABOUT, Fault::Status(401)));
    let fault = get(sim.addr(), ABOUT, MANAGER).await;
    assert_eq!(fault.status, 401);
    simple_return_model().assert_valid("status:401 fault", &fault.text());
    assert_eq!(texts(&fault.text(), "CODE"), ["2000"]);
}

#[tokio::test]
async fn api_calls_need_x_requested_with_and_v1_and_qps_calls_do_not() {
    let sim = start(sizes(1)).await;
    let bare = send(sim.addr(), "GET", &format!("{HOSTS}?action=list"), Some(MANAGER), &[], b"").await;
    assert_eq!(bare.status, 400, "{}", bare.text());
    simple_return_model().assert_valid("missing X-Requested-With", &bare.text());
    assert_ok("about without the header", &send(sim.addr(), "GET", ABOUT, Some(MANAGER), &[], b"").await);
    let qps = send(sim.addr(), "POST", QPS, Some(MANAGER), &[], qps_request(5, None).as_bytes()).await;
    assert_eq!(texts(&qps.text(), "responseCode"), ["SUCCESS"]);
}

// ---------------------------------------------------------------------------------------------
// Fault documents.

#[tokio::test]
async fn every_error_document_fault_follows_its_api_familys_model() {
    let sim = start(sizes(3)).await;
    let cases: [(&str, Schema); 3] =
        [(HOSTS, simple_return_model()), (USERS, generic_return_model()), (QPS, qps_model())];
    for (path, model) in cases {
        sim.clear_faults();
        sim.add_fault(FaultRule::always(path, Fault::ErrorDocument));
        let reply = if path == QPS {
            post_xml(sim.addr(), QPS, MANAGER, &qps_request(10, None)).await
        } else {
            get(sim.addr(), &format!("{path}?action=list"), MANAGER).await
        };
        assert_ok(path, &reply);
        let body = reply.text();
        model.assert_valid(&format!("error-document on {path}"), &body);
        assert!(body.contains("Internal error. Please contact customer support.") || path == QPS, "{body}");
    }
    let body = post_xml(sim.addr(), QPS, MANAGER, "").await.text();
    assert_eq!(texts(&body, "responseCode"), ["INVALID_REQUEST"]);
    assert_eq!(root_children(&body), ["responseCode", "responseErrorDetails"]);
}

#[tokio::test]
async fn every_error_in_root_fault_is_the_paths_root_holding_only_an_error() {
    let sim = start(sizes(3)).await;
    let cases: [(&str, Schema); 3] =
        [(USERS, users_model()), (TICKETS, tickets_model()), (ABOUT, about_model())];
    for (path, model) in cases {
        sim.clear_faults();
        sim.add_fault(FaultRule::always(path, Fault::ErrorInRoot));
        let reply = get(sim.addr(), path, MANAGER).await;
        assert_ok(path, &reply);
        let body = reply.text();
        model.assert_valid(&format!("error-in-root on {path}"), &body);
        assert_eq!(root_children(&body), ["ERROR"], "{path}");
        assert_eq!(attr(&body, "ERROR", "number").as_deref(), Some("999"));
        assert_eq!(texts(&body, "ERROR"), ["Internal error. Please contact customer support."]);
    }
    // Elsewhere it falls back to the family's error document.
    sim.clear_faults();
    sim.add_fault(FaultRule::always(HOSTS, Fault::ErrorInRoot));
    let body = get(sim.addr(), &format!("{HOSTS}?action=list"), MANAGER).await.text();
    simple_return_model().assert_valid("error-in-root on the host list", &body);
}

#[tokio::test]
async fn document_faults_use_the_paths_root_element() {
    let sim = start(sizes(3)).await;
    let roots = [
        (format!("{HOSTS}?action=list"), "HOST_LIST_OUTPUT"),
        (format!("{VM_SCANS}?action=list"), "SCAN_LIST_OUTPUT"),
        (format!("{PC_SCANS}?action=list"), "SCAN_LIST_OUTPUT"),
        (QPS.to_string(), "ServiceResponse"),
        (TICKETS.to_string(), "REMEDIATION_TICKETS"),
        (USERS.to_string(), "USER_LIST_OUTPUT"),
        (ABOUT.to_string(), "ABOUT"),
    ];
    for fault in [
        Fault::MalformedXml,
        Fault::NonUtf8,
        Fault::EntityBomb,
        Fault::ExternalEntity,
        Fault::DeepNesting,
        Fault::HugeAnnounced,
    ] {
        sim.clear_faults();
        sim.add_fault(FaultRule::always("", fault.clone()));
        for (target, root) in &roots {
            let reply = get(sim.addr(), target, MANAGER).await;
            let body = reply.text();
            assert!(body.contains(&format!("<{root}>")), "{fault:?} on {target}: {body:.300}");
            if fault == Fault::HugeAnnounced {
                continue;
            }
            assert!(body.ends_with(&format!("</{root}>\n")), "{fault:?} on {target}: a complete body");
            if fault == Fault::MalformedXml {
                let mut reader = Reader::from_str(&body);
                let error = loop {
                    match reader.read_event() {
                        Err(e) => break e.to_string(),
                        Ok(Event::Eof) => panic!("malformed-xml on {target} parsed"),
                        Ok(_) => {}
                    }
                };
                assert!(error.contains("MISMATCHED_END_TAG"), "{target}: {error}");
            }
        }
    }
}

#[tokio::test]
async fn the_not_xml_fault_is_plain_text_served_as_xml_with_http_200() {
    let sim = start(sizes(1)).await;
    sim.add_fault(FaultRule::always("", Fault::NotXml));
    let reply = get(sim.addr(), USERS, MANAGER).await;
    assert_ok("not-xml", &reply);
    assert_eq!(reply.header("content-type"), Some("text/xml"));
    assert_eq!(reply.text(), "Internal Server Error\n");
}

#[test]
fn every_route_the_simulator_serves_has_a_documented_content_model() {
    // CSV answers have no elements; their shape is checked by the activity log's tests below.
    for route in qualys_simulator::ROUTES.iter().filter(|r| r.root != qualys_simulator::CSV_ROOT) {
        assert!(
            for_root(route.root).is_some(),
            "{}: no content model for {} in common/models.rs",
            route.path,
            route.root
        );
    }
}

// Detection list and KnowledgeBase.

const DETECTIONS: &str = "/api/5.0/fo/asset/host/vm/detection/";
const KB: &str = "/api/3.0/fo/knowledge_base/vuln/";

/// Every page of the detection list for `query`, following `id_min` as a client must.
async fn detection_pages(addr: SocketAddr, query: &str) -> Vec<String> {
    let mut pages = Vec::new();
    let mut id_min = None::<String>;
    loop {
        let target = match &id_min {
            Some(id) => format!("{DETECTIONS}?{query}&id_min={id}"),
            None => format!("{DETECTIONS}?{query}"),
        };
        let reply = get(addr, &target, MANAGER).await;
        assert_ok("detection list", &reply);
        let body = reply.text();
        id_min = texts(&body, "URL")
            .first()
            .and_then(|u| u.split(['?', '&']).find_map(|p| p.strip_prefix("id_min=")).map(str::to_string));
        pages.push(body);
        if id_min.is_none() {
            return pages;
        }
    }
}

#[tokio::test]
async fn every_detection_list_page_follows_the_documented_content_model() {
    let query = "action=list&truncation_limit=40&status=New,Active,Re-Opened,Fixed&show_igs=1\
                 &include_ignored=1&include_disabled=1&show_results=1&show_qds=1&show_asset_id=1";
    for n in [0, 1, 95] {
        let sim = start(Sizes { hosts: n, detections: 4, ..sizes(n) }).await;
        let pages = detection_pages(sim.addr(), query).await;
        assert_eq!(pages.len() as u64, n.div_ceil(40).max(1), "{n} hosts");
        let mut detections = 0;
        for (i, page) in pages.iter().enumerate() {
            detections_model().assert_valid(&format!("detection page {} of {n} hosts", i + 1), page);
            detections += texts(page, "QID").len();
            // real: RESULTS is CDATA with tabs and literal entity-like text.
            assert!(
                texts(page, "RESULTS").is_empty() || page.contains("<![CDATA[Package\t"),
                "page {}",
                i + 1
            );
            if n == 0 {
                assert!(!page.contains("<HOST_LIST>"), "an empty answer holds DATETIME only");
            }
        }
        assert_eq!(detections as u64, n * 4, "every detection of every host");
    }
}

#[tokio::test]
async fn the_knowledge_base_answers_the_qids_it_knows_and_leaves_out_the_others() {
    let sim = start(sizes(1)).await;
    let reply =
        get(sim.addr(), &format!("{KB}?action=list&details=All&ids=10001,376806,999999999"), MANAGER).await;
    assert_ok("knowledge base", &reply);
    let body = reply.text();
    knowledge_base_model().assert_valid("knowledge base", &body);
    let qids: Vec<String> = texts(&body, "QID");
    assert_eq!(qids, ["10001", "376806"], "unknown QIDs are absent");
    let none = get(sim.addr(), &format!("{KB}?action=list&ids=999999999"), MANAGER).await;
    knowledge_base_model().assert_valid("empty knowledge base answer", &none.text());
    assert!(!none.text().contains("<VULN_LIST>"));
}

// Activity log (CSV).

const ACTIVITY: &str = "/api/2.0/fo/activity_log/";

#[tokio::test]
async fn the_activity_log_is_wrapped_csv_with_lf_markers_crlf_rows_and_a_footer_naming_id_max() {
    let sim = start(Sizes { activity: 30, ..sizes(0) }).await;
    let reply = get(sim.addr(), &format!("{ACTIVITY}?action=list&truncation_limit=20"), MANAGER).await;
    assert_ok("activity log", &reply);
    let body = reply.text();
    assert!(body.starts_with("----BEGIN_RESPONSE_BODY_CSV\n\"Date\",\"Action\",\"Module\",\"Details\",\"User Name\",\"User Role\",\"User IP\"\r\n"));
    assert!(body.contains("\r\n----END_RESPONSE_BODY_CSV\n----BEGIN_RESPONSE_FOOTER_CSV\nWARNING\n\"CODE\",\"TEXT\",\"URL\"\r\n\"1980\""));
    assert!(body.ends_with("----END_RESPONSE_FOOTER_CSV\n"));
    let id_max: u64 = body.split("id_max=").nth(1).unwrap().split('"').next().unwrap().parse().unwrap();
    let rest =
        get(sim.addr(), &format!("{ACTIVITY}?action=list&truncation_limit=20&id_max={id_max}"), MANAGER)
            .await;
    let rest = rest.text();
    assert!(!rest.contains("FOOTER"), "the last page has no footer");
    let rows = |b: &str| b.matches("\r\n").count() - 1;
    assert_eq!(rows(&body) - 2 + rows(&rest), 30, "every entry once across the pages (footer lines aside)");
    // An empty log keeps the wrapper and the header.
    let empty = start(Sizes { activity: 0, ..sizes(0) }).await;
    let reply = get(empty.addr(), &format!("{ACTIVITY}?action=list"), MANAGER).await;
    assert_eq!(reply.text(), include_str!("../../../fixtures/qualys/activity_log_empty.csv"));
}

// Policy compliance.

#[tokio::test]
async fn policy_lists_and_posture_pages_follow_their_content_models_and_page_by_id_min() {
    let sim = start(Sizes { policies: 2, posture: 45, hosts: 10, ..sizes(0) }).await;
    let policies = get(sim.addr(), "/api/2.0/fo/compliance/policy/?action=list", MANAGER).await;
    assert_ok("policy list", &policies);
    policy_list_model().assert_valid("policy list", &policies.text());
    let ids = texts(&policies.text(), "ID");
    assert_eq!(ids.len(), 2);
    let mut records = 0;
    let mut id_min = None::<String>;
    loop {
        let target = match &id_min {
            Some(id) => format!(
                "/api/2.0/fo/compliance/posture/info/?action=list&policy_id={}&truncation_limit=20&id_min={id}",
                ids[0]
            ),
            None => format!(
                "/api/2.0/fo/compliance/posture/info/?action=list&policy_id={}&truncation_limit=20",
                ids[0]
            ),
        };
        let reply = get(sim.addr(), &target, MANAGER).await;
        assert_ok("posture", &reply);
        let body = reply.text();
        posture_model().assert_valid("posture page", &body);
        records += body.matches("<INFO>").count();
        assert!(
            body.find("<GLOSSARY>").is_some_and(|g| g > body.rfind("</INFO>").unwrap()),
            "glossary after the records"
        );
        id_min =
            texts(&body, "URL").first().and_then(|u| u.split("id_min=").nth(1).map(|v| v.trim().to_string()));
        if id_min.is_none() {
            break;
        }
    }
    assert_eq!(records, 45, "every record of the policy once");
    let empty = start(Sizes { policies: 0, ..sizes(0) }).await;
    let reply = get(empty.addr(), "/api/2.0/fo/compliance/policy/?action=list", MANAGER).await;
    policy_list_model().assert_valid("empty policy list", &reply.text());
    assert!(!reply.text().contains("<POLICY_LIST>"));
}
