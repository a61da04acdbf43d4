//! Bounded-rate bodies (`SimConfig::body_rate`, `--body-rate`): the same bytes, their length
//! still announced, only sent no faster than the rate.

// The shared test client; this test uses only part of it.
use crate::common::http::{MANAGER, get};
use qualys_simulator::{SimConfig, Simulator, Sizes};

const PAGE: &str =
    "/api/5.0/fo/asset/host/?action=list&details=All&show_asset_id=1&show_tags=1&truncation_limit=40";

#[tokio::test]
async fn given_a_body_rate_when_a_page_is_served_then_the_same_bytes_arrive_with_their_length() {
    let config = SimConfig { sizes: Sizes { hosts: 40, ..Sizes::default() }, ..SimConfig::default() };
    let sim = Simulator::start(config).await.unwrap();
    let fast = get(sim.addr(), PAGE, MANAGER).await;
    // About 50 KB at 400 KB/s: several paced chunks.
    sim.configure(|c| c.body_rate = Some(400_000));
    let paced = get(sim.addr(), PAGE, MANAGER).await;
    assert_eq!(paced.status, 200);
    assert!(fast.body.len() > 40_000, "{} bytes", fast.body.len());
    assert!(
        paced.body == fast.body,
        "the paced body differs: {} vs {} bytes",
        paced.body.len(),
        fast.body.len()
    );
    assert_eq!(paced.header("content-length"), Some(fast.body.len().to_string().as_str()));
    assert_eq!(paced.header("transfer-encoding"), None);
}
