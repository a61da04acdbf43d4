//! Each tenant limit ends the offending call with a clear error and leaves the host, and the
//! other tenants, running.

use std::time::Duration;

use connector_runtime::types::{ConnectorError, Value};
use connector_runtime::{CacheOutcome, CallError, Runtime, RuntimeOptions};
use connector_tests::*;
use qualys_simulator::{Fault, FaultRule, SimConfig};

#[tokio::test(flavor = "multi_thread")]
async fn given_an_endless_loop_when_the_cpu_budget_runs_out_then_the_call_stops_and_a_neighbour_is_unaffected()
 {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.policy.cpu_budget = Duration::from_millis(500);
    let neighbour = tenant(&sim, "demo_manager");
    let (looping, fine) = tokio::join!(
        hostile().collect_page(&t, "loop", &[], None),
        hostile().collect_page(&neighbour, "ok", &[], None),
    );
    assert!(matches!(looping.result, Err(CallError::CpuBudget(_))), "{:?}", looping.result);
    assert!(fine.result.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_an_endless_loop_when_the_wall_clock_deadline_passes_first_then_the_call_stops() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.policy.call_deadline = Duration::from_millis(300);
    let r = hostile().collect_page(&t, "loop", &[], None).await;
    assert!(matches!(r.result, Err(CallError::Deadline(_))), "{:?}", r.result);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_hung_server_when_the_call_deadline_passes_then_the_connector_call_stops() {
    let sim = simulator(SimConfig::default()).await;
    sim.add_fault(FaultRule::always("/msp/", Fault::Hang(20_000)));
    let mut t = tenant(&sim, "demo_manager");
    t.policy.call_deadline = Duration::from_secs(1);
    let r = runtime().collect_page(&t, "users", &[], None).await;
    assert!(matches!(r.result, Err(CallError::Deadline(_))), "{:?}", r.result);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_memory_hog_when_it_outgrows_the_tenant_limit_then_the_call_stops_with_a_memory_error() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.policy.max_memory_bytes = 64 << 20;
    let r = hostile().collect_page(&t, "oom", &[], None).await;
    assert!(matches!(r.result, Err(CallError::Memory(_))), "{:?}", r.result);
    assert!(hostile().collect_page(&t, "ok", &[], None).await.result.is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_body_larger_than_allowed_when_collecting_then_the_sandbox_refusal_says_so() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.policy.max_response_bytes = 2_000;
    let err = connector_error(runtime().collect_page(&t, "users", &[], None).await.result.unwrap_err());
    assert!(
        matches!(&err, ConnectorError::Denied(m) if m.contains("larger than the host allows")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_request_budget_when_a_component_sends_more_then_the_extra_requests_are_refused() {
    let sim = simulator(SimConfig::default()).await;
    let mut t = tenant(&sim, "demo_manager");
    t.policy.max_requests_per_call = 3;
    let crit = criteria(&[("authority", &sim.addr().to_string()), ("n", "5")]);
    let page = hostile().collect_page(&t, "many-requests", &crit, None).await.result.expect("returns");
    let Value::Text(out) = &page.rows[0][0] else { panic!() };
    let outcomes: Vec<&str> = out.split('|').collect();
    assert_eq!(outcomes.len(), 5);
    assert!(outcomes[..3].iter().all(|o| o.starts_with("status")), "{outcomes:?}");
    assert!(outcomes[3..].iter().all(|o| o.contains("HttpRequestDenied")), "{outcomes:?}");
    assert_eq!(sim.requests().len(), 3);
}

#[test]
fn given_a_cache_dir_when_loading_twice_then_miss_then_hit_and_a_corrupt_artifact_is_recompiled() {
    let dir = tempfile::tempdir().unwrap();
    let options = RuntimeOptions { cache_dir: Some(dir.path().to_path_buf()), ..RuntimeOptions::default() };
    let plugin = std::path::Path::new(COMPONENT);
    assert_eq!(Runtime::load(plugin, &options).unwrap().info().cache, CacheOutcome::Miss);
    assert_eq!(Runtime::load(plugin, &options).unwrap().info().cache, CacheOutcome::Hit);
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "cwasm") {
            let mut bytes = std::fs::read(&path).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0xff;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let reloaded = Runtime::load(plugin, &options).unwrap();
    assert_eq!(reloaded.info().cache, CacheOutcome::Stale);
    assert_eq!(Runtime::load(plugin, &options).unwrap().info().cache, CacheOutcome::Hit);
    // Another component never loads this one's artifact: the key is the component's hash.
    let other = Runtime::load(std::path::Path::new(env!("HOSTILE_GUEST")), &options).unwrap();
    assert_eq!(other.info().cache, CacheOutcome::Miss);
}

#[test]
fn given_a_cache_dir_that_cannot_be_written_when_loading_then_the_component_runs_uncached() {
    let dir = tempfile::tempdir().unwrap();
    // A folder under a plain file can never be created (a read-only folder would not stop root).
    std::fs::write(dir.path().join("file"), "").unwrap();
    let cache_dir = dir.path().join("file").join("cache");
    let options = RuntimeOptions { cache_dir: Some(cache_dir), ..RuntimeOptions::default() };
    let runtime =
        Runtime::load(std::path::Path::new(COMPONENT), &options).expect("the cache only saves time");
    assert_eq!(runtime.info().cache, CacheOutcome::Unwritable);
}

#[test]
fn given_a_missing_plugin_file_when_loading_then_the_error_says_how_to_build_it() {
    let err =
        Runtime::load(std::path::Path::new("/nonexistent/x.wasm"), &RuntimeOptions::default()).err().unwrap();
    assert!(
        format!("{err:#}").contains("cannot read the connector component /nonexistent/x.wasm"),
        "{err:#}"
    );
}
