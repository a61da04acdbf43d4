//! The sandbox holds: no host but the tenant's API server, no files, no environment, no
//! sockets; a misbehaving component ends its own call and nothing else.

use connector_runtime::types::{ConnectorError, Value};
use connector_runtime::{CallError, Origin};
use connector_tests::*;
use qualys_simulator::SimConfig;

fn only_text(page: connector_runtime::types::Page) -> String {
    match &page.rows[0][0] {
        Value::Text(t) => t.clone(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_policy_for_another_host_when_the_connector_calls_its_api_url_then_the_host_refuses_before_connecting()
 {
    let target = simulator(SimConfig::default()).await;
    let allowed = simulator(SimConfig::default()).await;
    let mut t = tenant(&target, "demo_manager");
    t.policy.allowed_origins = vec![Origin::parse(&allowed.url()).unwrap()];
    let err = connector_error(collect(&t, "users", &[]).await.unwrap_err());
    let ConnectorError::Denied(message) = err else { panic!("{err:?}") };
    assert!(message.contains("sandbox") && message.contains("allowed_origins"), "{message}");
    assert!(target.requests().is_empty(), "no request reached the refused host");
    assert!(allowed.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_hostile_component_when_it_reaches_for_files_env_and_sockets_then_it_gets_nothing() {
    let sim = simulator(SimConfig::default()).await;
    let t = tenant(&sim, "demo_manager");
    let run = |what: &'static str, crit: Vec<(String, String)>| {
        let t = t.clone();
        async move { only_text(hostile().collect_page(&t, what, &crit, None).await.result.expect(what)) }
    };
    let read = run("read-file", vec![]).await;
    assert!(read.starts_with("denied"), "{read}");
    let list = run("list-dir", vec![]).await;
    assert!(list.starts_with("denied"), "{list}");
    assert_eq!(run("env", vec![]).await, "0 variables");
    let addr = sim.addr().to_string();
    let socket = run("socket", criteria(&[("addr", &addr)])).await;
    assert!(socket.starts_with("denied"), "{socket}");
    assert!(sim.requests().is_empty(), "no socket reached the server");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_hostile_component_when_it_calls_a_host_off_the_list_or_forges_the_host_header_then_it_is_refused()
 {
    let allowed = simulator(SimConfig::default()).await;
    let other = simulator(SimConfig::default()).await;
    let t = tenant(&allowed, "demo_manager");
    let page = hostile()
        .collect_page(&t, "http", &criteria(&[("authority", &other.addr().to_string())]), None)
        .await;
    let out = only_text(page.result.expect("call returns"));
    assert!(out.contains("HttpRequestDenied"), "{out}");
    assert!(other.requests().is_empty());

    // CVE-2024-32980 shape: an allowed authority with a forged Host header must not steer
    // the request, and the guest may not set Host at all.
    let forged = criteria(&[("authority", &allowed.addr().to_string()), ("host", &other.addr().to_string())]);
    let out =
        only_text(hostile().collect_page(&t, "host-header", &forged, None).await.result.expect("returns"));
    assert_eq!(out, "headers refused: HeaderError::Forbidden", "the guest may not set Host");
    assert!(other.requests().is_empty(), "the forged Host reached nobody else");
    for r in allowed.requests() {
        assert_eq!(r.host_header.as_deref(), Some(allowed.addr().to_string().as_str()));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_panicking_component_when_called_then_the_call_ends_as_a_trap_without_the_password() {
    let sim = simulator(SimConfig::default()).await;
    let t = tenant(&sim, "demo_manager");
    let err = hostile().collect_page(&t, "panic", &[], None).await.result.unwrap_err();
    let CallError::Trap(message) = &err else { panic!("{err:?}") };
    assert!(message.contains("deliberate panic"), "{message}");
    assert!(!message.contains(PASSWORD), "password scrubbed: {message}");
    let err = hostile().connect(&t).await.result.unwrap_err();
    assert!(!err.to_string().contains(PASSWORD), "{err}");
    // The same runtime runs the next call normally.
    let ok = hostile().collect_page(&t, "ok", &[], None).await.result.expect("ok");
    assert_eq!(only_text(ok), "fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_tenant_that_leaves_a_secret_in_memory_when_the_next_call_scans_all_memory_then_it_finds_nothing()
 {
    let sim = simulator(SimConfig::default()).await;
    let (a, b) = (tenant(&sim, "demo_manager"), tenant(&sim, "demo_reader"));
    let marker = format!("tenant-a-secret-{}", std::process::id());
    let crit = criteria(&[("marker", &marker)]);
    // The scan works: the call that leaves the secret finds it in its own memory.
    let left =
        only_text(hostile().collect_page(&a, "leave-secret", &crit, None).await.result.expect("leaves"));
    assert_eq!(left, "left; in this instance: FOUND");
    // Later calls reuse the pool slot (its memory partly kept resident and reset in place)
    // and see none of it, whichever tenant makes them.
    for t in [&b, &a] {
        let found =
            only_text(hostile().collect_page(t, "find-secret", &crit, None).await.result.expect("scans"));
        assert_eq!(found, "clean");
    }
}
