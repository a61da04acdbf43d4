//! The scenario checklist, run on every source of every proof type in the plugin's registry:
//! one page, many pages, empty, an error document with HTTP 200, `ERROR` inside the root (v1
//! API), 401, 409 then retried, 500 then retried, malformed XML, and a body that is not XML.
//!
//! Sources come from `qualys_connector::proofs::REGISTRY` itself; a proof type without a
//! profile below fails every test here, so a new proof type cannot skip the checklist.

use connector_runtime::CallError;
use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_connector::proofs::REGISTRY;
use qualys_simulator::{Fault, FaultRule, SimConfig, Simulator, Sizes};
use serde_json::Value as Json;

/// How one source is exercised.
struct Source {
    /// Endpoint path, as the registry declares it.
    path: &'static str,
    /// Simulator data with `n` records for this source (and none for the others).
    sizes: fn(u64) -> Sizes,
    /// Records per page (`None`: the API answers in one response, not paged).
    page: Option<u64>,
    /// The documented empty answer (a fixture citing its source kind).
    empty: &'static str,
    /// Which rows come from this source: (field, value), or all rows.
    rows: Option<(&'static str, &'static str)>,
    /// The natural key of its rows (one of the proof type's declared candidate keys).
    key: &'static [&'static str],
    /// API v1 (`/msp/`): a failed call may be an `ERROR` element inside the normal root.
    v1: bool,
    /// The source answers CSV (its errors are still XML documents).
    csv: bool,
    /// Every record the source holds becomes a row (false where the proof leaves some out by
    /// design: agent-tracked VM hosts are listed as Cloud Agent assets; scans outside the window).
    all_records: bool,
}

/// How one proof type is exercised.
struct Profile {
    sources: Vec<Source>,
    /// Criteria for a collect whose sources each answer one page.
    one_page: &'static [(&'static str, &'static str)],
    /// Criteria for a collect whose sources answer several pages.
    many_pages: &'static [(&'static str, &'static str)],
}

fn only(f: impl FnOnce(&mut Sizes)) -> Sizes {
    let mut s = Sizes::uniform(0);
    f(&mut s);
    s
}

const EMPTY_USERS: &str = include_str!("../../../fixtures/qualys/user_list_empty.xml");
const EMPTY_HOSTS: &str = include_str!("../../../fixtures/qualys/host_list_empty.xml");
const EMPTY_ASSETS: &str = include_str!("../../../fixtures/qualys/hostasset_empty.xml");
const EMPTY_SCANS: &str = include_str!("../../../fixtures/qualys/scan_list_empty.xml");
const EMPTY_TICKETS: &str = include_str!("../../../fixtures/qualys/ticket_list_empty.xml");
const EMPTY_ACTIVITY: &str = include_str!("../../../fixtures/qualys/activity_log_empty.csv");
const EMPTY_POSTURE: &str = include_str!("../../../fixtures/qualys/posture_info_empty.xml");
const EMPTY_DETECTIONS: &str = include_str!("../../../fixtures/qualys/detection_list_empty.xml");

/// Scans are spread over the 730 days before the simulator's clock (2026-11-01); windows are
/// collected in 30-day slices, one page each.
const SCANS_ONE_SLICE: &[(&str, &str)] =
    &[("launched_after", "2026-10-05T00:00:00Z"), ("launched_before", "2026-11-02T00:00:00Z")];
const SCANS_FIVE_SLICES: &[(&str, &str)] =
    &[("launched_after", "2026-06-05T00:00:00Z"), ("launched_before", "2026-11-02T00:00:00Z")];

/// Every detection the simulator holds: every status, type, ignored and disabled.
const VULNS_EVERY_DETECTION: &[(&str, &str)] = &[
    ("statuses", "New,Active,Re-Opened,Fixed"),
    ("types", "Confirmed,Potential,Info"),
    ("include_ignored", "true"),
    ("include_disabled", "true"),
    ("page_size", "100"),
];

fn profile(id: &str) -> Profile {
    match id {
        "users" => Profile {
            sources: vec![Source {
                path: "/msp/user_list.php",
                sizes: |n| only(|s| s.users = n),
                page: None,
                empty: EMPTY_USERS,
                rows: None,
                key: &["login"],
                v1: true,
                csv: false,
                all_records: true,
            }],
            one_page: &[],
            many_pages: &[],
        },
        "assets" => Profile {
            sources: vec![
                Source {
                    path: "/qps/rest/2.0/search/am/hostasset",
                    sizes: |n| only(|s| s.agents = n),
                    page: Some(1000),
                    empty: EMPTY_ASSETS,
                    rows: Some(("source", "cloud_agent")),
                    key: &["asset_id"],
                    v1: false,
                    csv: false,
                    all_records: true,
                },
                Source {
                    path: "/api/5.0/fo/asset/host/",
                    sizes: |n| only(|s| s.hosts = n),
                    page: Some(1000),
                    empty: EMPTY_HOSTS,
                    rows: Some(("source", "vm")),
                    key: &["host_id"],
                    v1: false,
                    csv: false,
                    all_records: false,
                },
            ],
            one_page: &[],
            many_pages: &[],
        },
        "vm-scans" => Profile {
            sources: vec![Source {
                path: "/api/3.0/fo/scan/",
                sizes: |n| only(|s| s.vm_scans = n),
                page: Some(30),
                empty: EMPTY_SCANS,
                rows: None,
                key: &["scan_ref"],
                v1: false,
                csv: false,
                all_records: false,
            }],
            one_page: SCANS_ONE_SLICE,
            many_pages: SCANS_FIVE_SLICES,
        },
        "pc-scans" => Profile {
            sources: vec![Source {
                path: "/api/2.0/fo/scan/compliance/",
                sizes: |n| only(|s| s.pc_scans = n),
                page: Some(30),
                empty: EMPTY_SCANS,
                rows: None,
                key: &["scan_ref"],
                v1: false,
                csv: false,
                all_records: false,
            }],
            one_page: SCANS_ONE_SLICE,
            many_pages: SCANS_FIVE_SLICES,
        },
        "remediation-tickets" => Profile {
            sources: vec![Source {
                path: "/msp/ticket_list.php",
                sizes: |n| only(|s| s.tickets = n),
                page: Some(1000),
                empty: EMPTY_TICKETS,
                rows: None,
                key: &["ticket_number"],
                v1: true,
                csv: false,
                all_records: true,
            }],
            one_page: &[],
            many_pages: &[],
        },
        "vulnerabilities" => Profile {
            sources: vec![Source {
                path: "/api/5.0/fo/asset/host/vm/detection/",
                // n hosts with three detections each; the criteria list every one.
                sizes: |n| {
                    only(|s| {
                        s.hosts = n;
                        s.detections = 3;
                    })
                },
                page: Some(100),
                empty: EMPTY_DETECTIONS,
                rows: None,
                key: &["host_id", "qid", "port", "protocol", "ssl"],
                v1: false,
                csv: false,
                // Hosts are the API's records here; rows are their detections.
                all_records: false,
            }],
            one_page: VULNS_EVERY_DETECTION,
            many_pages: VULNS_EVERY_DETECTION,
        },
        "pc-posture" => Profile {
            sources: vec![Source {
                path: "/api/2.0/fo/compliance/posture/info/",
                sizes: |n| {
                    only(|s| {
                        s.policies = 1;
                        s.posture = n;
                    })
                },
                page: Some(5000),
                empty: EMPTY_POSTURE,
                rows: None,
                key: &["policy_id", "host_id", "control_id", "instance"],
                v1: false,
                csv: false,
                all_records: true,
            }],
            one_page: &[],
            many_pages: &[],
        },
        "activity-log" => Profile {
            sources: vec![Source {
                path: "/api/2.0/fo/activity_log/",
                sizes: |n| only(|s| s.activity = n),
                page: Some(1000),
                empty: EMPTY_ACTIVITY,
                rows: None,
                // A log: no key, identical lines are distinct events.
                key: &[],
                v1: false,
                csv: true,
                all_records: true,
            }],
            one_page: &[],
            many_pages: &[],
        },
        other => panic!(
            "proof type '{other}' has no checklist profile: add its sources to tests/tests/all/checklist.rs"
        ),
    }
}

/// Every (proof type, profile) of the registry, checked against the registry's own sources.
fn registry() -> Vec<(&'static str, Profile)> {
    REGISTRY
        .iter()
        .map(|p| {
            let id = p.spec().id;
            let profile = profile(id);
            let declared: Vec<&str> = profile.sources.iter().map(|s| s.path).collect();
            assert_eq!(declared, p.endpoints(), "{id}: the checklist's sources differ from the registry's");
            (id, profile)
        })
        .collect()
}

/// Records per source for a one-page run: scans need more so that one slice holds some.
fn one_page_records(source: &Source) -> u64 {
    match source.page {
        Some(30) => 365,
        _ => 7,
    }
}

fn rows_of<'a>(proof: &'a Collected, source: &Source) -> Vec<&'a serde_json::Map<String, Json>> {
    proof
        .rows
        .iter()
        .filter(|r| source.rows.is_none_or(|(f, v)| r.get(f).and_then(Json::as_str) == Some(v)))
        .collect()
}

fn keys(proof: &Collected, source: &Source) -> Vec<String> {
    rows_of(proof, source)
        .iter()
        .map(|r| {
            let parts: Vec<String> =
                source.key.iter().map(|k| r.get(*k).map(Json::to_string).unwrap_or_default()).collect();
            parts.join("|")
        })
        .collect()
}

fn requests_to(sim: &Simulator, path: &str) -> usize {
    sim.requests().iter().filter(|r| r.path == path).count()
}

async fn sim_for(source: &Source, n: u64) -> Simulator {
    simulator(SimConfig { sizes: (source.sizes)(n), ..SimConfig::default() }).await
}

/// Runs `check` on every source of every proof type, naming the source in any failure.
async fn for_every_source(check: impl AsyncFn(&str, &[(String, String)], &Source)) {
    for (id, profile) in registry() {
        for source in &profile.sources {
            check(id, &criteria(profile.one_page), source).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_source_collects_one_page_in_one_request() {
    for_every_source(async |id, crit, source| {
        let sim = sim_for(source, one_page_records(source)).await;
        let proof = collect(&tenant(&sim, "demo_manager"), id, crit)
            .await
            .unwrap_or_else(|e| panic!("{id} {}: {e}", source.path));
        assert!(!rows_of(&proof, source).is_empty(), "{id} {}: no rows", source.path);
        assert_eq!(requests_to(&sim, source.path), 1, "{id} {}", source.path);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_paged_source_collects_many_pages_with_each_record_once() {
    for (id, profile) in registry() {
        for source in &profile.sources {
            let n = match source.page {
                Some(30) => 365,
                Some(page) => page * 2 + page / 2,
                // Not paged by the API: a large list still arrives whole, in one request.
                None => 500,
            };
            let sim = sim_for(source, n).await;
            let proof = collect(&tenant(&sim, "demo_manager"), id, &criteria(profile.many_pages))
                .await
                .unwrap_or_else(|e| panic!("{id} {}: {e}", source.path));
            let keys = keys(&proof, source);
            if !source.key.is_empty() {
                let mut unique = keys.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), keys.len(), "{id} {}: a record appears twice", source.path);
            }
            let expected_requests = match source.page {
                Some(30) => 5,
                Some(page) => n.div_ceil(page) as usize,
                None => 1,
            };
            assert_eq!(requests_to(&sim, source.path), expected_requests, "{id} {}", source.path);
            if source.all_records {
                assert_eq!(keys.len() as u64, n, "{id} {}: every record, once", source.path);
            } else {
                assert!(!keys.is_empty(), "{id} {}", source.path);
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_source_turns_the_documented_empty_answer_into_zero_rows() {
    for_every_source(async |id, crit, source| {
        let sim = sim_for(source, 5).await;
        sim.serve_fixture(source.path, 200, source.empty);
        let proof = collect(&tenant(&sim, "demo_manager"), id, crit)
            .await
            .unwrap_or_else(|e| panic!("{id} {}: {e}", source.path));
        assert_eq!(rows_of(&proof, source).len(), 0, "{id} {}", source.path);
    })
    .await;
}

/// Collects with `fault` on the source's path and returns the connector error it ends in.
async fn failing(id: &str, crit: &[(String, String)], source: &Source, fault: Fault) -> ConnectorError {
    let sim = sim_for(source, 5).await;
    sim.add_fault(FaultRule::always(source.path, fault.clone()));
    let err = collect(&tenant(&sim, "demo_manager"), id, crit)
        .await
        .map(|p| p.rows.len())
        .expect_err(&format!("{id} {} with {fault:?} must fail, not become a proof", source.path));
    match err {
        CallError::Connector(c) => c,
        other => panic!("{id} {} with {fault:?}: expected a connector error, got {other:?}", source.path),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_document_with_http_200_from_any_source_is_an_upstream_error_never_a_proof() {
    for_every_source(async |id, crit, source| {
        let err = failing(id, crit, source, Fault::ErrorDocument).await;
        assert!(
            matches!(&err, ConnectorError::Upstream(u) if u.code.is_some()),
            "{id} {}: {err:?}",
            source.path
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_error_inside_the_root_of_any_v1_source_is_an_upstream_error_never_a_proof() {
    let mut checked = 0;
    for (id, profile) in registry() {
        for source in profile.sources.iter().filter(|s| s.v1) {
            let err = failing(id, &criteria(profile.one_page), source, Fault::ErrorInRoot).await;
            assert!(
                matches!(&err, ConnectorError::Upstream(u) if u.code.as_deref() == Some("999")),
                "{id} {}: {err:?}",
                source.path
            );
            checked += 1;
        }
    }
    assert!(checked >= 2, "users and tickets are v1 sources");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_from_any_source_is_an_authentication_error() {
    for_every_source(async |id, crit, source| {
        let err = failing(id, crit, source, Fault::Status(401)).await;
        assert!(
            matches!(&err, ConnectorError::Authentication(m) if m.contains("SSO")),
            "{id} {}: {err:?}",
            source.path
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_xml_from_any_source_is_a_malformed_response() {
    for_every_source(async |id, crit, source| {
        let err = failing(id, crit, source, Fault::MalformedXml).await;
        assert!(matches!(&err, ConnectorError::MalformedResponse(_)), "{id} {}: {err:?}", source.path);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_xml_from_any_source_is_a_malformed_response() {
    for_every_source(async |id, crit, source| {
        let err = failing(id, crit, source, Fault::NotXml).await;
        let expected = if source.csv { "not CSV" } else { "not XML" };
        assert!(
            matches!(&err, ConnectorError::MalformedResponse(m) if m.contains(expected)),
            "{id} {}: {err:?}",
            source.path
        );
    })
    .await;
}

/// Collects once cleanly and once with one `fault` on the source's path: the same records,
/// and exactly one more request to that path.
async fn retried(id: &str, crit: &[(String, String)], source: &Source, fault: Fault) {
    let n = one_page_records(source);
    let clean_sim = sim_for(source, n).await;
    let clean = collect(&tenant(&clean_sim, "demo_manager"), id, crit).await.expect("clean run");
    let sim = sim_for(source, n).await;
    sim.add_fault(FaultRule::times(source.path, 1, fault.clone()));
    let proof = collect(&tenant(&sim, "demo_manager"), id, crit)
        .await
        .unwrap_or_else(|e| panic!("{id} {} after one {fault:?}: {e}", source.path));
    assert_eq!(keys(&proof, source), keys(&clean, source), "{id} {}", source.path);
    assert_eq!(
        requests_to(&sim, source.path),
        requests_to(&clean_sim, source.path) + 1,
        "{id} {}: one retry",
        source.path
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_409_from_any_source_is_waited_out_and_the_page_retried() {
    for_every_source(async |id, crit, source| retried(id, crit, source, Fault::RateLimit(1)).await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_from_any_source_is_retried() {
    for_every_source(async |id, crit, source| retried(id, crit, source, Fault::Status(500)).await).await;
}

/// What is expected of a lookup endpoint: its documented empty answer (a fixture citing its
/// source kind), how many times a three-page collect calls it, and how many of the 15 records
/// a collect keeps when it answers empty (`None`: all of them).
fn lookup_expect(path: &str) -> (&'static str, usize, Option<usize>) {
    match path {
        // Once a page, to complete the page's rows; an empty answer leaves them incomplete.
        "/api/3.0/fo/knowledge_base/vuln/" => {
            (include_str!("../../../fixtures/qualys/knowledge_base_empty.xml"), 3, None)
        }
        // Once a collect, for what to page through; no policy means no posture.
        "/api/2.0/fo/compliance/policy/" => {
            (include_str!("../../../fixtures/qualys/policy_list_empty.xml"), 1, Some(0))
        }
        other => panic!("lookup {other} has no expectations in tests/tests/all/checklist.rs (lookup_expect)"),
    }
}

/// Every lookup (an endpoint called once per page to complete its rows) of every proof type,
/// as a source of the fault scenarios, with its proof type's first source's data.
/// A lookup to exercise: its proof type, the criteria of a one-page run, and the lookup as a
/// source.
type Lookup = (&'static str, Vec<(String, String)>, Source);

fn lookups() -> Vec<Lookup> {
    let mut out = Vec::new();
    for (id, profile) in registry() {
        let proof = REGISTRY.iter().find(|p| p.spec().id == id).expect("registered");
        let first = &profile.sources[0];
        for path in proof.lookups() {
            let source = Source {
                path,
                sizes: first.sizes,
                page: first.page,
                empty: lookup_expect(path).0,
                rows: first.rows,
                key: first.key,
                v1: false,
                csv: false,
                all_records: false,
            };
            out.push((id, criteria(profile.one_page), source));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_lookup_is_called_as_often_as_it_says_and_its_failures_fail_the_collect() {
    let all = lookups();
    assert!(all.len() >= 2, "the KnowledgeBase and the policy list");
    for (id, crit, lookup) in &all {
        let (_, calls, rows_when_empty) = lookup_expect(lookup.path);
        // Three pages.
        let n = lookup.page.unwrap_or(7) * 2 + 1;
        let sim = sim_for(lookup, n).await;
        let proof = collect(&tenant(&sim, "demo_manager"), id, crit).await.expect("clean run");
        assert_eq!(proof.pages, 3, "{id} {}", lookup.path);
        assert_eq!(requests_to(&sim, lookup.path), calls, "{id} {}", lookup.path);

        // The documented empty answer: every row kept with a warning, or none at all.
        let sim = sim_for(lookup, 5).await;
        sim.serve_fixture(lookup.path, 200, lookup.empty);
        let proof = collect(&tenant(&sim, "demo_manager"), id, crit).await.expect("empty lookup");
        match rows_when_empty {
            None => {
                assert_eq!(proof.rows.len(), 15, "{id} {}: every row kept", lookup.path);
                assert!(!proof.warnings.is_empty(), "{id} {}: a warning says what is missing", lookup.path);
            }
            Some(rows) => assert_eq!(proof.rows.len(), rows, "{id} {}", lookup.path),
        }

        let err = failing(id, crit, lookup, Fault::ErrorDocument).await;
        assert!(
            matches!(&err, ConnectorError::Upstream(u) if u.code.is_some()),
            "{id} {}: {err:?}",
            lookup.path
        );
        let err = failing(id, crit, lookup, Fault::Status(401)).await;
        assert!(matches!(&err, ConnectorError::Authentication(_)), "{id} {}: {err:?}", lookup.path);
        let err = failing(id, crit, lookup, Fault::MalformedXml).await;
        assert!(matches!(&err, ConnectorError::MalformedResponse(_)), "{id} {}: {err:?}", lookup.path);
        let err = failing(id, crit, lookup, Fault::NotXml).await;
        assert!(matches!(&err, ConnectorError::MalformedResponse(_)), "{id} {}: {err:?}", lookup.path);
        retried(id, crit, lookup, Fault::RateLimit(1)).await;
        retried(id, crit, lookup, Fault::Status(500)).await;
    }
}

/// The root element of a fixture document: its first element, past the prolog and comments.
fn fixture_root(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let at = rest.find('<')?;
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        return Some(rest[..end].to_string());
    }
}

/// The simulator's content models (its conformance tests check every document it serves).
#[path = "../../../simulator/tests/all/common/content_model.rs"]
#[allow(dead_code)]
mod content_model;
#[path = "../../../simulator/tests/all/common/models.rs"]
#[allow(dead_code)]
mod models;

#[test]
fn every_registered_proof_type_has_its_key_a_simulator_route_a_fixture_with_its_content_model_and_a_checklist_profile_for_each_source()
 {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/qualys");
    let fixtures: Vec<(String, String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            let text = (path.extension()? == "xml").then(|| std::fs::read_to_string(&path).unwrap())?;
            let name = path.file_name()?.to_string_lossy().into_owned();
            Some((name, fixture_root(&text)?, text))
        })
        .collect();
    for proof in qualys_connector::proofs::REGISTRY {
        let spec = proof.spec();
        // What its PDF summarises: declared, and made of its fields (a flag of a boolean one).
        let summaries = evidence_render::summary::declared(spec.id);
        assert!(!summaries.is_empty(), "{}: no summary declared in render/src/summary.rs", spec.id);
        for s in summaries {
            for name in s.fields() {
                assert!(
                    spec.fields.iter().any(|f| f.name == name),
                    "{}: summary '{}' names {name}, not a field",
                    spec.id,
                    s.title
                );
            }
            if let evidence_render::summary::Split::Flag(flag, _) = s.split {
                let kind = spec.fields.iter().find(|f| f.name == flag).map(|f| format!("{:?}", f.kind));
                assert_eq!(
                    kind.as_deref(),
                    Some("Boolean"),
                    "{}: summary '{}' flags a boolean field",
                    spec.id,
                    s.title
                );
            }
        }
        let profile = profile(spec.id);
        assert_eq!(
            profile.sources.len(),
            usize::from(proof.sources()),
            "{}: a checklist source for each",
            spec.id
        );
        let lookups = proof.lookups().iter().map(|l| (None, l));
        for (source, endpoint) in
            proof.endpoints().iter().enumerate().map(|(i, e)| (Some(i), e)).chain(lookups)
        {
            if let Some(source) = source {
                let key = proof.key(source as u8);
                assert!(
                    (spec.key.is_empty() && key.is_empty())
                        || (spec.key.contains(&key)
                            && key.iter().all(|k| spec.fields.iter().any(|f| f.name == *k))),
                    "{}: its key {key:?} is a declared key made of its fields (or none, for a log)",
                    spec.id
                );
            }
            let root = qualys_simulator::root_element(endpoint)
                .unwrap_or_else(|| panic!("{}: the simulator serves no route for {endpoint}", spec.id));
            if root == qualys_simulator::CSV_ROOT {
                // CSV has no elements: a fixture in the documented wrapper stands for the model.
                let csv = std::fs::read_dir(&dir)
                    .unwrap()
                    .filter_map(|e| std::fs::read_to_string(e.unwrap().path()).ok().filter(|_| true))
                    .any(|t| {
                        t.starts_with("----BEGIN_RESPONSE_BODY_CSV\n")
                            && t.contains("\n----END_RESPONSE_BODY_CSV\n")
                    });
                assert!(csv, "{}: no CSV fixture in fixtures/qualys/ answers {endpoint}", spec.id);
                continue;
            }
            let model = models::for_root(root).unwrap_or_else(|| {
                panic!("{}: no content model for {root} (simulator/tests/all/common/models.rs)", spec.id)
            });
            let answering: Vec<_> = fixtures.iter().filter(|(_, r, _)| r == root).collect();
            assert!(
                !answering.is_empty(),
                "{}: no fixture in fixtures/qualys/ answers {endpoint} (root element {root})",
                spec.id
            );
            // A fixture follows its content model, unless it says why not: an invented body, or
            // a shape beyond the model that the connector must still accept.
            for (name, _, text) in &answering {
                let violations = model.violations(text);
                let excused =
                    text.contains("<!-- source: invented") || text.contains("beyond the content model:");
                assert!(
                    violations.is_empty() || excused,
                    "{}: fixture {name} breaks the content model of {root} without saying why: {violations:#?}",
                    spec.id
                );
            }
            assert!(
                answering.iter().any(|(_, _, text)| model.violations(text).is_empty()),
                "{}: no fixture answering {endpoint} follows the content model of {root}",
                spec.id
            );
        }
    }
}
