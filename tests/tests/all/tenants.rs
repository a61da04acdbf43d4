//! Many tenants at once: each gets exactly its own data, and a misbehaving tenant (slow
//! server, huge body, wrong credentials) affects no other.

use std::time::Duration;

use connector_runtime::CallError;
use connector_runtime::types::ConnectorError;
use connector_tests::*;
use qualys_simulator::{Account, Fault, FaultRule, SimConfig, Sizes};

const TENANTS: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn given_fifty_tenants_and_three_misbehaving_when_all_collect_at_once_then_each_gets_exactly_its_own_data()
 {
    let accounts: Vec<Account> =
        (0..TENANTS).map(|i| Account::manager(&format!("tenant_{i:02}"), PASSWORD)).collect();
    let config = SimConfig {
        accounts,
        per_account_data: true,
        sizes: Sizes { users: 20, ..Sizes::default() },
        ..SimConfig::default()
    };
    let sim = simulator(config.clone()).await;
    // Misbehaving neighbours, each with its own server.
    let slow = simulator(config.clone()).await;
    slow.add_fault(FaultRule::always("/msp/", Fault::SlowDrip(5)));
    let huge = simulator(config.clone()).await;
    huge.add_fault(FaultRule::always("/msp/", Fault::HugeBody(64 << 20)));

    let mut calls = Vec::new();
    for i in 0..TENANTS {
        let t = tenant(&sim, &format!("tenant_{i:02}"));
        calls.push(tokio::spawn(async move { (i, collect(&t, "users", &[]).await) }));
    }
    let mut wrong = tenant(&sim, "tenant_00");
    wrong.config.password = "not-it".into();
    let mut slow_t = tenant(&slow, "tenant_01");
    slow_t.policy.call_deadline = Duration::from_secs(2);
    let mut huge_t = tenant(&huge, "tenant_02");
    huge_t.policy.max_response_bytes = 1 << 20;
    let bad = tokio::spawn(async move {
        tokio::join!(
            collect(&wrong, "users", &[]),
            collect(&slow_t, "users", &[]),
            collect(&huge_t, "users", &[])
        )
    });

    for call in calls {
        let (i, result) = call.await.unwrap();
        let proof = result.unwrap_or_else(|e| panic!("tenant {i}: {e}"));
        assert_eq!(proof.rows.len(), 20, "tenant {i}");
        assert_eq!(
            text(&proof.rows[0], "login"),
            Some(format!("tenant_{i:02}").as_str()),
            "tenant {i} sees itself first"
        );
        // Same data again, alone: identical digest, so nothing leaked between tenants.
        let again = collect(&tenant(&sim, &format!("tenant_{i:02}")), "users", &[]).await.unwrap();
        assert_eq!(again.sha256, proof.sha256, "tenant {i}");
    }
    let (wrong, slow, huge) = bad.await.unwrap();
    assert!(matches!(wrong, Err(CallError::Connector(ConnectorError::Authentication(_)))), "{wrong:?}");
    assert!(matches!(slow, Err(CallError::Deadline(_))), "{slow:?}");
    assert!(matches!(huge, Err(CallError::Connector(ConnectorError::Denied(_)))), "{huge:?}");

    // Digests differ between tenants: each has its own data set.
    let a = collect(&tenant(&sim, "tenant_10"), "users", &[]).await.unwrap();
    let b = collect(&tenant(&sim, "tenant_11"), "users", &[]).await.unwrap();
    assert_ne!(a.sha256, b.sha256);
    // Every request to the shared server carried its own tenant's login.
    assert!(sim.requests().iter().all(|r| r.login.as_deref().is_some_and(|l| l.starts_with("tenant_"))));
}
