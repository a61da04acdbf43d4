//! List documents stream: a page larger than one chunk is sent while it is still being written
//! (chunked, no length), so a client parses the first records while the rest is generated.
//! Documents that fit in a chunk, and every body a fault or a bounded rate shapes, are sent
//! whole with their length.

// The shared test client; this test uses only part of it.
use crate::common::http::{MANAGER, Reply, get, request_head};
use qualys_simulator::{Fault, FaultRule, SimConfig, Simulator, Sizes};

const PAGE: &str = "/api/5.0/fo/asset/host/?action=list&details=All&show_asset_id=1&show_tags=1";

fn streamed(reply: &Reply) -> bool {
    reply.header("transfer-encoding") == Some("chunked") && reply.header("content-length").is_none()
}

async fn start(hosts: u64) -> Simulator {
    let config = SimConfig { sizes: Sizes { hosts, ..Sizes::default() }, ..SimConfig::default() };
    Simulator::start(config).await.unwrap()
}

#[tokio::test]
async fn a_host_list_page_larger_than_a_chunk_streams_and_ends_with_its_root() {
    let sim = start(1000).await;
    let reply = get(sim.addr(), &format!("{PAGE}&truncation_limit=500"), MANAGER).await;
    assert_eq!(reply.status, 200);
    assert!(streamed(&reply), "headers {:?}", reply.headers);
    assert!(reply.body.len() > 256 * 1024, "{} bytes: several chunks", reply.body.len());
    let text = reply.text();
    assert_eq!(text.matches("<HOST>").count(), 500);
    assert!(text.contains("</HOST_LIST_OUTPUT>"), "the whole document arrives");
    assert!(text.contains("id_min="), "the next page's URL after the records");
}

#[tokio::test]
async fn a_page_that_fits_in_a_chunk_and_error_documents_announce_their_length() {
    let sim = start(1000).await;
    let small = get(sim.addr(), &format!("{PAGE}&truncation_limit=5"), MANAGER).await;
    assert_eq!(small.header("content-length"), Some(small.body.len().to_string().as_str()));
    let refused = get(sim.addr(), &format!("{PAGE}&truncation_limit=x"), MANAGER).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("content-length"), Some(refused.body.len().to_string().as_str()));
}

#[tokio::test]
async fn a_page_a_fault_or_a_bounded_rate_shapes_is_sent_whole_with_its_length() {
    let sim = start(1000).await;
    let big = format!("{PAGE}&truncation_limit=500");
    sim.add_fault(FaultRule::always("/api/5.0/fo/asset/host/", Fault::RepeatRecords));
    let faulted = get(sim.addr(), &big, MANAGER).await;
    assert!(!streamed(&faulted), "headers {:?}", faulted.headers);
    assert_eq!(faulted.header("content-length"), Some(faulted.body.len().to_string().as_str()));
    sim.clear_faults();
    sim.configure(|c| c.body_rate = Some(50_000_000));
    let paced = get(sim.addr(), &big, MANAGER).await;
    assert!(!streamed(&paced), "headers {:?}", paced.headers);
    assert_eq!(paced.header("content-length"), Some(paced.body.len().to_string().as_str()));
}

#[tokio::test]
async fn a_streamed_page_counts_against_the_concurrency_limit_until_its_document_is_complete() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // 20,000 hosts (about 24 MB) are more than the socket buffers hold, so a client that reads
    // only the head keeps the page's generation, and so its call, running.
    let config = SimConfig {
        sizes: Sizes { hosts: 20_000, ..Sizes::default() },
        concurrency_limit: Some(1),
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.unwrap();
    let target = format!("{PAGE}&truncation_limit=20000");
    let mut first = tokio::net::TcpStream::connect(sim.addr()).await.unwrap();
    let head = request_head(sim.addr(), "GET", &target, Some(MANAGER), &[("X-Requested-With", "test")], 0);
    first.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"), "the first page streams");

    let second = get(sim.addr(), &format!("{PAGE}&truncation_limit=5"), MANAGER).await;
    assert_eq!(second.status, 409, "{}", second.text());
    assert!(second.text().contains("1960"), "the concurrency refusal: {}", second.text());

    // Once the first page was read to its end, its call is over.
    let mut total = n;
    loop {
        match first.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(k) => total += k,
        }
    }
    assert!(total > 20 * 1024 * 1024, "{total} bytes");
    let third = get(sim.addr(), &format!("{PAGE}&truncation_limit=5"), MANAGER).await;
    assert_eq!(third.status, 200, "{}", third.text());
}
