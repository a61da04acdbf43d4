//! Qualys' limits and transient faults: 409s are waited out as Qualys asks, long waits come
//! back to the host with a cursor, 5xx retries, 4xx never retries, hung servers time out.

use std::time::Duration;

use connector_runtime::types::{ConnectorError, Timeouts};
use connector_runtime::{CallError, CollectOptions};
use connector_tests::*;
use qualys_simulator::{Fault, FaultRule, RateLimit, SimConfig, Sizes};

#[tokio::test(flavor = "multi_thread")]
async fn given_a_storm_of_three_409s_when_collecting_then_each_wait_is_the_one_qualys_asked_for_and_the_page_arrives()
 {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::times("/msp/user_list.php", 3, Fault::RateLimit(1)));
    let proof = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 12);
    let r = sim.requests();
    assert_eq!(r.iter().map(|r| r.status).collect::<Vec<_>>(), vec![409, 409, 409, 200]);
    for pair in r.windows(2) {
        assert!(
            pair[1].at.duration_since(pair[0].at) >= Duration::from_secs(1),
            "waited X-RateLimit-ToWait-Sec"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_long_rate_limit_wait_when_collecting_then_the_component_returns_rate_limited_with_a_cursor_and_the_host_resumes()
 {
    let sim =
        simulator(SimConfig { sizes: Sizes { tickets: 2500, ..Sizes::default() }, ..SimConfig::default() })
            .await;
    let mut t = tenant(&sim, "demo_manager");
    // Waits longer than 1 s go back to the host.
    t.config.max_inline_wait_seconds = Some(1);
    // Page 2 is rate limited for 2 s.
    sim.add_fault(FaultRule { from: 1, ..FaultRule::times("/msp/ticket_list.php", 1, Fault::RateLimit(2)) });
    let first = runtime().collect_page(&t, "remediation-tickets", &[], None).await.result.unwrap();
    let err = runtime()
        .collect_page(&t, "remediation-tickets", &[], first.next_cursor.as_deref())
        .await
        .result
        .unwrap_err();
    let CallError::Connector(ConnectorError::RateLimited(limit)) = err else { panic!("{err:?}") };
    assert_eq!(limit.retry_after_seconds, 2);
    assert_eq!(limit.resume_cursor, first.next_cursor, "resume from the page that was refused");

    // The host's loop (the CLI's) waits and resumes by itself.
    sim.add_fault(FaultRule { from: 3, ..FaultRule::times("/msp/ticket_list.php", 1, Fault::RateLimit(2)) });
    let proof = collect(&t, "remediation-tickets", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 2500);
    let _ = CollectOptions::default();
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_concurrency_409_without_a_wait_header_when_collecting_then_the_component_backs_off_and_succeeds()
 {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::times("/msp/user_list.php", 1, Fault::Concurrency));
    let proof = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 12);
    let r = sim.requests();
    assert_eq!(r.len(), 2);
    assert!(r[1].at.duration_since(r[0].at) >= Duration::from_secs(5), "backed off 5 s");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_the_subscription_rate_limit_when_the_window_is_used_up_then_the_host_is_told_how_long_to_wait()
{
    let limit = RateLimit { calls: 2, window_secs: 3600 };
    let sim = simulator(SimConfig { rate_limit: Some(limit), ..SimConfig::default() }).await;
    let t = tenant(&sim, "demo_manager");
    for _ in 0..2 {
        page(&t, "users", &[], None).await.unwrap();
    }
    let err = connector_error(page(&t, "users", &[], None).await.unwrap_err());
    let ConnectorError::RateLimited(r) = err else { panic!("{err:?}") };
    assert!(r.retry_after_seconds > 3500, "{}", r.retry_after_seconds);
    assert!(r.resume_cursor.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_few_calls_left_in_the_window_when_collecting_then_a_warning_says_so() {
    let sim = simulator(SimConfig {
        rate_limit: Some(RateLimit { calls: 10, window_secs: 3600 }),
        ..SimConfig::default()
    })
    .await;
    let t = tenant(&sim, "demo_manager");
    for _ in 0..9 {
        page(&t, "users", &[], None).await.unwrap();
    }
    let last = page(&t, "users", &[], None).await.unwrap();
    assert!(last.warnings.iter().any(|w| w.code == "rate-limit-low"), "{:?}", last.warnings);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_503_then_success_when_collecting_then_the_request_is_retried() {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::times("/msp/user_list.php", 1, Fault::Status(503)));
    let proof = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap();
    assert_eq!(proof.rows.len(), 12);
    assert_eq!(sim.requests().iter().map(|r| r.status).collect::<Vec<_>>(), vec![503, 200]);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_400_when_collecting_then_it_is_not_retried() {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::times("/msp/user_list.php", 5, Fault::Status(400)));
    let err = connector_error(collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap_err());
    assert!(matches!(&err, ConnectorError::Upstream(u) if u.http_status == Some(400)), "{err:?}");
    assert_eq!(sim.requests().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_persistent_502s_when_collecting_then_retries_are_bounded_and_the_error_is_upstream() {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::always("/msp/user_list.php", Fault::Status(502)));
    let err = connector_error(collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap_err());
    assert!(matches!(&err, ConnectorError::Upstream(u) if u.http_status == Some(502)), "{err:?}");
    assert_eq!(sim.requests().len(), 4, "one try and three retries");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_hung_server_when_the_first_byte_timeout_passes_then_a_transport_error_arrives_before_the_call_deadline()
 {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::always("/msp/user_list.php", Fault::Hang(60_000)));
    let mut t = tenant(&sim, "demo_manager");
    t.config.timeouts = Some(Timeouts { connect_ms: 1000, first_byte_ms: 300, between_bytes_ms: 300 });
    t.policy.call_deadline = Duration::from_secs(30);
    let err = collect(&t, "users", &[]).await.unwrap_err();
    let CallError::Connector(ConnectorError::Transport(m)) = &err else { panic!("{err:?}") };
    assert!(m.contains("did not answer in time") || m.contains("timed out") || m.contains("timeout"), "{m}");
}
