//! The library as a platform embeds it: the README's example program, run against the
//! simulator, writes the same proof the harness does.

#[path = "../../../runtime/examples/embed.rs"]
mod embed;

use connector_tests::*;
use qualys_simulator::SimConfig;

#[tokio::test(flavor = "multi_thread")]
async fn the_embedding_example_collects_the_same_proof_as_the_host_loop() {
    let sim = simulator(SimConfig::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("users.jsonl");
    let credentials = ("demo_manager".to_string(), PASSWORD.to_string());
    let summary =
        embed::run(std::path::Path::new(COMPONENT), &sim.url(), "users", credentials, true, Some(&out))
            .await
            .expect("the example collects");
    let expected = collect(&tenant(&sim, "demo_manager"), "users", &[]).await.unwrap();
    assert_eq!(summary.row_count, expected.rows.len() as u64);
    assert_eq!(summary.sha256, expected.sha256);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), expected.rows.len());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedding_example_refuses_a_loopback_api_server_unless_told_to_allow_private_networks() {
    let sim = simulator(SimConfig::default()).await;
    let credentials = ("demo_manager".to_string(), PASSWORD.to_string());
    let err = embed::run(std::path::Path::new(COMPONENT), &sim.url(), "users", credentials, false, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn two_components_on_the_platforms_own_engine_each_run_their_calls() {
    let mut config = wasmtime::Config::new();
    connector_runtime::engine::configure(&mut config);
    let engine = wasmtime::Engine::new(&config).expect("the platform's engine");
    let connector = std::fs::read(COMPONENT).unwrap();
    let hostile = std::fs::read(env!("HOSTILE_GUEST")).unwrap();
    let qualys =
        connector_runtime::Runtime::with_engine(&engine, &connector, &options(loopback_policy())).unwrap();
    // One epoch ticker per engine is enough; the second runtime relies on the first's.
    let other = connector_runtime::Runtime::with_engine(
        &engine,
        &hostile,
        &connector_runtime::RuntimeOptions { tick_epochs: false, ..options(loopback_policy()) },
    )
    .unwrap();
    assert!(
        wasmtime::Engine::same(qualys.engine(), &engine) && wasmtime::Engine::same(other.engine(), &engine)
    );
    let sim = simulator(SimConfig::default()).await;
    let t = tenant(&sim, "demo_manager");
    let page = qualys.collect_page(&t, "users", &[], None).await.result.expect("the connector collects");
    assert_eq!(page.rows.len(), 12);
    // The hostile guest's endless loop is stopped by its CPU budget: the shared engine's epochs
    // advance, ticked by the first runtime.
    let mut limited = t.clone();
    limited.policy.cpu_budget = std::time::Duration::from_millis(500);
    let looping = other.collect_page(&limited, "loop", &[], None).await;
    assert!(
        matches!(looping.result, Err(connector_runtime::CallError::CpuBudget(_))),
        "{:?}",
        looping.result
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_says_which_contract_it_speaks_and_a_released_0_2_0_one_runs_through_its_adapter() {
    use connector_runtime::{Contract, Runtime};
    let current = runtime();
    assert_eq!(current.info().contract, Contract::V0_3);
    let about = current.describe().await.unwrap().expect("0.3.0 describes itself");
    assert_eq!((about.name.as_str(), about.service.as_str()), ("qualys-connector", "Qualys"));

    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/components/qualys_connector-0.2.0.wasm"
    ))
    .unwrap();
    let released = Runtime::from_bytes(&bytes, &options(loopback_policy())).unwrap();
    assert_eq!(released.info().contract, Contract::V0_2);
    assert!(released.describe().await.unwrap().is_none(), "0.2.0 cannot describe itself");
    let old_types = released.list_proof_types().await.unwrap();
    let new_types = current.list_proof_types().await.unwrap();
    // The released artifact's proof types are still the first ones; later releases add more.
    assert_eq!(
        old_types.iter().map(|t| &t.id).collect::<Vec<_>>(),
        new_types.iter().take(old_types.len()).map(|t| &t.id).collect::<Vec<_>>()
    );
    assert_eq!(old_types.len(), 5);
    for t in &old_types {
        assert!(t.key.is_empty() && released.declared_key(t).is_none(), "{}: no key is made up", t.id);
    }
    for t in &new_types {
        assert_eq!(current.declared_key(t).as_ref(), Some(&t.key));
    }

    let sim = simulator(SimConfig::default()).await;
    let tenant = tenant(&sim, "demo_manager");
    let account = released.connect(&tenant).await.result.unwrap();
    assert_eq!(account.login, "demo_manager");
}
