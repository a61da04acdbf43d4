//! The library as a platform embeds it: the README's example program, run against the
//! simulator, writes the same proof the harness does.

#[path = "../../runtime/examples/embed.rs"]
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
