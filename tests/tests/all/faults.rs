//! The fault matrix: every fault a proxy, a failing Qualys or a hostile server can produce
//! ends in the exact typed error (or a retry that then succeeds), and a complete proof is
//! exactly complete.

use std::time::Duration;

use connector_runtime::CallError;
use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::{Fault, FaultRule, SimConfig, Sizes};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Malformed,
    Denied,
    Transport,
    Upstream(u16),
    Deadline,
}

fn kind_of(e: &CallError) -> Option<Kind> {
    Some(match e {
        CallError::Connector(ConnectorError::MalformedResponse(_)) => Kind::Malformed,
        CallError::Connector(ConnectorError::Transport(_)) => Kind::Transport,
        CallError::Connector(ConnectorError::Denied(_)) => Kind::Denied,
        CallError::Connector(ConnectorError::Upstream(u)) => Kind::Upstream(u.http_status?),
        CallError::Deadline(_) => Kind::Deadline,
        _ => return None,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn given_each_broken_response_when_collecting_then_the_exact_error_kind_arrives_and_the_host_stays_up()
{
    let matrix = [
        (Fault::MalformedXml, Kind::Malformed, "invalid XML"),
        (Fault::HtmlPage, Kind::Malformed, "HTML"),
        (Fault::WrongContentType, Kind::Malformed, "content type"),
        (Fault::EmptyBody, Kind::Malformed, "empty"),
        (Fault::NonUtf8, Kind::Malformed, "invalid XML"),
        (Fault::EntityBomb, Kind::Malformed, "entity"),
        (Fault::ExternalEntity, Kind::Malformed, "entity"),
        (Fault::DeepNesting, Kind::Malformed, "nest"),
        (Fault::Truncated, Kind::Transport, "the connection broke while the response was being read"),
        (Fault::CutDocument, Kind::Malformed, "the server sent a cut document"),
        (Fault::ResetMidBody, Kind::Transport, ""),
        (Fault::HugeAnnounced, Kind::Denied, "larger than the host allows"),
        (Fault::HugeBody(100 << 20), Kind::Denied, "larger than the host allows"),
        (Fault::CommentBloat(20 << 20), Kind::Malformed, "without markup"),
        (Fault::Status(500), Kind::Upstream(500), "HTTP 500"),
        (Fault::Status(502), Kind::Upstream(502), "HTTP 502"),
        (Fault::Status(503), Kind::Upstream(503), "HTTP 503"),
        (Fault::Status(504), Kind::Upstream(504), "HTTP 504"),
        (Fault::RedirectOffHost, Kind::Upstream(302), "never follows redirects"),
        (Fault::SlowDrip(1000), Kind::Deadline, ""),
    ];
    for (fault, expected, words) in matrix {
        let sim = simulator(SimConfig::default()).await;
        sim.add_fault(FaultRule::always("/msp/user_list.php", fault.clone()));
        let mut t = tenant(&sim, "demo_manager");
        t.policy.call_deadline = Duration::from_secs(20);
        if fault == Fault::SlowDrip(1000) {
            t.policy.call_deadline = Duration::from_secs(3);
        }
        let report = runtime().collect_page(&t, "users", &[], None).await;
        let err = report.result.expect_err(&format!("{fault:?} must fail"));
        assert_eq!(kind_of(&err), Some(expected), "{fault:?}: {err:?}");
        assert!(err.to_string().contains(words), "{fault:?}: {err}");
        assert!(report.peak_memory_bytes <= t.policy.max_memory_bytes, "{fault:?}");
        // Transient kinds were retried (bounded); the others were not.
        let tries = sim.requests().len();
        match expected {
            Kind::Transport => assert_eq!(tries, 4, "{fault:?}"),
            Kind::Upstream(s) if s >= 500 => assert_eq!(tries, 4, "{fault:?}"),
            Kind::Deadline => {}
            _ => assert_eq!(tries, 1, "{fault:?} is not retried"),
        }
    }
    // After all that, the same runtime collects normally.
    let sim = simulator(SimConfig::default()).await;
    assert_eq!(collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap().rows.len(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_one_transient_fault_of_each_kind_when_collecting_then_the_retry_succeeds() {
    for fault in
        [Fault::Truncated, Fault::ResetMidBody, Fault::Status(500), Fault::Status(504), Fault::RateLimit(1)]
    {
        let sim = simulator(SimConfig::default()).await;
        sim.add_fault(FaultRule::times("/msp/user_list.php", 1, fault.clone()));
        let proof = collect(&tenant(&sim, "demo_manager"), "users", &[])
            .await
            .unwrap_or_else(|e| panic!("{fault:?}: {e}"));
        assert_eq!(proof.rows.len(), 12, "{fault:?}");
        assert_eq!(sim.requests().len(), 2, "{fault:?}");
    }
}

fn hosts(n: u64) -> SimConfig {
    SimConfig { sizes: Sizes { hosts: n, agents: 0, tickets: n, ..Sizes::default() }, ..SimConfig::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_next_page_url_naming_another_host_when_paging_then_only_its_id_min_is_used_on_the_configured_server()
 {
    let sim = simulator(hosts(2500)).await;
    sim.add_fault(FaultRule::always("/api/5.0/fo/asset/host/", Fault::NextUrlOtherHost));
    let clean = simulator(hosts(2500)).await;
    let expected = collect(&tenant(&clean, "demo_manager"), "assets", &[]).await.unwrap();
    let proof = collect(&tenant(&sim, "demo_manager"), "assets", &[]).await.unwrap();
    assert_eq!(proof.sha256, expected.sha256, "the same proof as with same-host URLs");
    let host_calls: Vec<_> = sim.requests().into_iter().filter(|r| r.path.contains("/asset/host/")).collect();
    assert_eq!(host_calls.len(), 3);
    let origin = sim.url().trim_start_matches("http://").to_string();
    assert!(host_calls.iter().all(|r| r.host_header.as_deref() == Some(origin.as_str())));
    assert!(
        host_calls.iter().all(|r| r.path == "/api/5.0/fo/asset/host/"),
        "the version in use, not the URL's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_next_page_url_that_repeats_when_paging_then_the_loop_stops_with_an_error() {
    let sim = simulator(hosts(2500)).await;
    sim.add_fault(FaultRule {
        from: 2,
        ..FaultRule::always("/api/5.0/fo/asset/host/", Fault::NextUrlRepeat)
    });
    let err = collect(&tenant(&sim, "demo_manager"), "assets", &[]).await.unwrap_err();
    assert_eq!(kind_of(&err), Some(Kind::Malformed), "{err:?}");
    assert!(err.to_string().contains("does not move forward"), "{err}");
    assert!(sim.requests().len() < 10, "no endless loop");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_next_page_that_starts_at_the_last_record_when_collecting_then_that_record_is_kept_once_and_named()
 {
    for (id, path, key) in [
        ("remediation-tickets", "/msp/ticket_list.php", "ticket_number"),
        ("assets", "/api/5.0/fo/asset/host/", "host_id"),
    ] {
        let clean_sim = simulator(hosts(2500)).await;
        let clean = collect(&tenant(&clean_sim, "demo_manager"), id, &[]).await.unwrap();
        let sim = simulator(hosts(2500)).await;
        sim.add_fault(FaultRule::times(path, 2, Fault::RepeatLast));
        let proof = collect(&tenant(&sim, "demo_manager"), id, &[]).await.unwrap();
        assert_eq!(proof.rows, clean.rows, "{id}: nothing doubled, nothing lost");
        assert_eq!(proof.sha256, clean.sha256);
        let (_, message) = proof.warnings.iter().find(|(c, _)| c == "duplicate-records").expect("a warning");
        assert!(message.starts_with("1 record(s)"), "starts with the count: {message}");
        let repeated = ints(&clean, key)[999];
        assert!(message.contains(&format!("{key} {repeated}")), "names the record: {message}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_pages_that_overlap_further_back_when_collecting_then_the_collect_fails_naming_the_records_instead_of_dropping_them()
 {
    for (id, path) in [("remediation-tickets", "/msp/ticket_list.php"), ("assets", "/api/5.0/fo/asset/host/")]
    {
        let sim = simulator(hosts(2500)).await;
        sim.add_fault(FaultRule::times(path, 2, Fault::RepeatRecords));
        let err = collect(&tenant(&sim, "demo_manager"), id, &[]).await.unwrap_err();
        assert_eq!(kind_of(&err), Some(Kind::Malformed), "{id}: {err:?}");
        assert!(err.to_string().contains("the pages overlap"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_records_out_of_order_within_a_page_when_collecting_then_every_record_is_kept() {
    for (id, path, record) in [
        ("remediation-tickets", "/msp/ticket_list.php", "TICKET"),
        ("assets", "/api/5.0/fo/asset/host/", "HOST"),
    ] {
        let clean_sim = simulator(hosts(2500)).await;
        let clean = collect(&tenant(&clean_sim, "demo_manager"), id, &[]).await.unwrap();
        let sim = simulator(hosts(2500)).await;
        sim.add_fault(FaultRule::times(path, 1, Fault::SwapRecords(record.into())));
        let proof = collect(&tenant(&sim, "demo_manager"), id, &[]).await.unwrap();
        assert_eq!(proof.rows.len(), clean.rows.len(), "{id}: no record dropped");
        let mut got = proof.rows.clone();
        assert!(got != clean.rows, "{id}: the rows are in the server's order");
        got.swap(0, 1);
        assert!(got == clean.rows, "{id}: the same records, the first two swapped back");
        assert!(proof.warnings.iter().all(|(c, _)| !c.starts_with("duplicate")), "{:?}", proof.warnings);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_user_listed_twice_in_one_response_when_collecting_then_the_repeat_is_dropped_counted_and_named()
 {
    let clean_sim = simulator(SimConfig::default()).await;
    let clean = collect(&tenant(&clean_sim, "demo_manager"), "users", &[]).await.unwrap();
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::times("/msp/user_list.php", 1, Fault::DoubleRecord("USER".into())));
    let proof = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap();
    assert!(proof.rows == clean.rows, "one row per user");
    let (_, message) = proof.warnings.iter().find(|(c, _)| c == "duplicate-records").expect("a warning");
    let login = text(&proof.rows[0], "login").unwrap();
    assert!(message.starts_with("1 record(s)") && message.contains(&format!("login {login}")), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_record_without_its_key_when_collecting_then_the_page_is_refused_as_malformed() {
    for (id, path, key) in [
        ("remediation-tickets", "/msp/ticket_list.php", "NUMBER"),
        ("users", "/msp/user_list.php", "USER_LOGIN"),
    ] {
        let sim = simulator(hosts(2500)).await;
        sim.add_fault(FaultRule::times(path, 1, Fault::RemoveElement(key.into())));
        let err = collect(&tenant(&sim, "demo_manager"), id, &[]).await.unwrap_err();
        assert_eq!(kind_of(&err), Some(Kind::Malformed), "{id}: {err:?}");
        assert!(err.to_string().contains("record 1 of the page has no"), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_ticket_chain_that_skips_when_paging_then_a_malformed_response_error_names_it() {
    let sim = simulator(hosts(2500)).await;
    sim.add_fault(FaultRule::always("/msp/ticket_list.php", Fault::SkipRecords));
    let err = collect(&tenant(&sim, "demo_manager"), "remediation-tickets", &[]).await.unwrap_err();
    assert_eq!(kind_of(&err), Some(Kind::Malformed), "{err:?}");
    assert!(err.to_string().contains("TRUNCATION"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_random_transient_faults_over_fifty_pages_when_collecting_then_the_proof_equals_a_clean_run_row_for_row()
 {
    let config = SimConfig { sizes: Sizes { tickets: 50_000, ..Sizes::default() }, ..SimConfig::default() };
    let clean_sim = simulator(config.clone()).await;
    let t = tenant(&clean_sim, "demo_manager");
    let clean = collect(&t, "remediation-tickets", &[]).await.unwrap();
    assert_eq!(clean.rows.len(), 50_000);
    assert!(clean.pages >= 50);

    let sim = simulator(config).await;
    let kinds =
        [Fault::Status(503), Fault::ResetMidBody, Fault::Truncated, Fault::Status(502), Fault::RateLimit(1)];
    // A deterministic spread of faults: request indexes from a fixed LCG.
    let mut x: u64 = 7;
    let mut rules = Vec::new();
    for k in 0..15 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let at = (x >> 33) % 50;
        let rule = FaultRule {
            from: at,
            ..FaultRule::times("/msp/ticket_list.php", 1, kinds[k % kinds.len()].clone())
        };
        rules.push(rule.clone());
        sim.add_fault(rule);
    }
    let faulty = collect(&tenant(&sim, "demo_manager"), "remediation-tickets", &[]).await.unwrap();
    assert_eq!(faulty.rows.len(), clean.rows.len());
    assert!(faulty.rows == clean.rows, "row for row");
    assert_eq!(faulty.sha256, clean.sha256);
    let fired: u64 = rules.iter().map(|r| r.hits.load(std::sync::atomic::Ordering::SeqCst)).sum();
    assert_eq!(fired, 15, "every fault was injected");
    assert_eq!(sim.requests().len() as u64, faulty.pages + fired, "each fault cost exactly one retry");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_server_that_echoes_the_credentials_when_collecting_then_the_typed_error_carries_none_of_them()
 {
    use base64::Engine as _;
    let sim = simulator(hosts(10)).await;
    sim.add_fault(FaultRule::always("/msp/ticket_list.php", Fault::EchoCredentials));
    let t = tenant(&sim, "demo_manager");
    let err = collect(&t, "remediation-tickets", &[]).await.unwrap_err();
    let text = format!("{err} {err:?}");
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", t.config.username, t.config.password));
    assert!(text.contains("Bad request from demo_manager:***"), "{text}");
    assert!(!text.contains(&t.config.password) && !text.contains(&token), "{text}");
}

/// A server on loopback that accepts each connection and closes it without reading the request
/// or answering, so the kernel resets it; at most `n` connections, then it stops.
fn resetting_server(n: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Let the request arrive: closing with it unread makes the kernel send a reset.
            std::thread::sleep(Duration::from_millis(50));
            drop(stream);
        }
    });
    (url, accepted)
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_server_that_resets_without_answering_when_collecting_then_it_is_a_retried_transport_error_named_as_such()
 {
    let sim = simulator(SimConfig::default()).await;
    let (url, accepted) = resetting_server(8);
    let mut t = tenant(&sim, "demo_manager");
    t.config.api_url = Some(url.clone());
    t.policy = connector_runtime::TenantPolicy::for_origin(connector_runtime::Origin::parse(&url).unwrap());
    let err = runtime().collect_page(&t, "users", &[], None).await.result.unwrap_err();
    assert_eq!(kind_of(&err), Some(Kind::Transport), "{err:?}");
    let said = err.to_string();
    assert!(!said.contains("not valid HTTP"), "{said}");
    assert!(said.contains("closed or reset") && said.contains("after 4 attempts"), "{said}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_server_that_never_answers_when_collecting_then_it_ends_as_a_transport_error_after_two_attempts_inside_the_deadline()
 {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::always("/msp/user_list.php", Fault::Hang(30_000)));
    let mut t = tenant(&sim, "demo_manager");
    // The default timeouts scaled down from 300 s to 1 s; the deadline keeps its distance.
    t.config.timeouts = Some(connector_runtime::types::Timeouts {
        connect_ms: 1000,
        first_byte_ms: 1000,
        between_bytes_ms: 1000,
    });
    // Two attempts of 1 s and a back-off of at most 1 s fit; four attempts would not.
    t.policy.call_deadline = Duration::from_secs(5);
    let err = runtime().collect_page(&t, "users", &[], None).await.result.unwrap_err();
    assert_eq!(kind_of(&err), Some(Kind::Transport), "a network error, not the deadline: {err:?}");
    let said = err.to_string();
    assert!(said.contains("(timeout) (after 2 attempts); check the network"), "{said}");
}

#[test]
fn the_default_timeouts_and_retries_end_a_hung_call_well_before_the_default_deadline() {
    use qualys_connector::http::client::{MAX_BACKOFF, RETRY_WINDOW_TIMEOUTS};
    let first_byte = qualys_connector::http::Timeouts::default().first_byte;
    // The last retry starts inside the window (after a back-off) and waits one first-byte timeout.
    let worst = first_byte.mul_f64(RETRY_WINDOW_TIMEOUTS) + MAX_BACKOFF + first_byte;
    let deadline = connector_runtime::TenantPolicy::for_origin(
        connector_runtime::Origin::parse("https://qualysapi.qualys.com").unwrap(),
    )
    .call_deadline;
    assert!(worst < deadline, "{worst:?} must end before {deadline:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_48_mib_comment_inside_a_response_when_collecting_then_it_is_refused_as_it_streams_in_with_memory_bounded_by_the_run_limit()
 {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::always("/msp/user_list.php", Fault::CommentBloat(48 << 20)));
    let t = tenant(&sim, "demo_manager");
    let report = runtime().collect_page(&t, "users", &[], None).await;
    let err = report.result.expect_err("refused");
    assert_eq!(kind_of(&err), Some(Kind::Malformed), "{err:?}");
    assert!(err.to_string().contains("8 MiB without markup"), "{err}");
    assert_eq!(sim.requests().len(), 1, "not retried");
    // The parser never held the 48 MiB comment: its buffer stops growing at the 8 MiB run limit
    // (28 MB measured, with the buffer's last reallocation and the component's own memory).
    assert!(report.peak_memory_bytes < 32 << 20, "guest peak {} bytes", report.peak_memory_bytes);
}
