//! A tenant's requests reuse its kept connections (HTTP/1.1 keep-alive): the pages of a proof
//! travel over one connection, another tenant never gets it, one that went away while kept is
//! replaced, with no page lost, and one left idle past its timeout is closed. Connections are counted by an injected `Connector`
//! that opens real loopback sockets to the simulator.

use std::io;
use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use connector_runtime::network::{BoxFuture, Connector, Io};
use connector_runtime::{Connections, Runtime, Tenant};
use connector_tests::*;
use qualys_simulator::{SimConfig, Simulator};

const LOGIN: &str = "demo_manager";

/// Opens loopback sockets, counting them and keeping a handle that can shut each down.
#[derive(Default)]
struct CountingConnector {
    opened: Mutex<Vec<std::net::TcpStream>>,
}

impl CountingConnector {
    fn count(&self) -> usize {
        self.opened.lock().unwrap().len()
    }

    /// Shuts every socket opened so far, as a server closing its idle connections does.
    fn shut_all(&self) {
        for s in self.opened.lock().unwrap().iter() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// A connector shared between the runtime and the test.
struct Shared(Arc<CountingConnector>);

impl Connector for Shared {
    fn connect(&self, address: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Io>>> {
        assert!(address.ip().is_loopback(), "tests connect to loopback only, not {address}");
        let counter = self.0.clone();
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            let handle = std::net::TcpStream::from(stream.as_fd().try_clone_to_owned()?);
            counter.opened.lock().unwrap().push(handle);
            Ok(Box::new(stream) as Box<dyn Io>)
        })
    }
}

fn counted_runtime() -> (Runtime, Arc<CountingConnector>) {
    let counter = Arc::new(CountingConnector::default());
    (runtime_with(loopback_policy().with_connector(Arc::new(Shared(counter.clone())))), counter)
}

/// Every page of `id`, following cursors; returns the row count and the requests sent.
async fn collect_pages(rt: &Runtime, t: &Tenant, id: &str) -> (usize, u32) {
    let (mut rows, mut requests, mut cursor) = (0, 0, None::<String>);
    loop {
        let report = rt.collect_page(t, id, &[], cursor.as_deref()).await;
        requests += report.requests;
        let page = report.result.unwrap_or_else(|e| panic!("{id}: {e:?}"));
        rows += page.rows.len();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (rows, requests),
        }
    }
}

async fn sim() -> Simulator {
    simulator(SimConfig::default()).await
}

#[tokio::test]
async fn given_a_proof_of_several_pages_when_collected_then_every_page_travels_over_one_connection() {
    let sim = sim().await;
    let (rt, counter) = counted_runtime();
    let t = tenant(&sim, LOGIN);
    let (rows, requests) = collect_pages(&rt, &t, "remediation-tickets").await;
    assert_eq!(rows, 2500);
    assert!(requests >= 3, "2,500 tickets take three pages of 1,000: {requests} requests");
    assert_eq!(counter.count(), 1, "{requests} requests opened {} connections", counter.count());
    assert_eq!(t.connections.opened(), 1);
}

#[tokio::test]
async fn given_two_tenants_of_one_server_when_each_collects_then_neither_reuses_the_others_connection() {
    let sim = sim().await;
    let (rt, counter) = counted_runtime();
    let (a, b) = (tenant(&sim, LOGIN), tenant(&sim, LOGIN));
    collect_pages(&rt, &a, "users").await;
    collect_pages(&rt, &b, "users").await;
    assert_eq!(counter.count(), 2, "each tenant opens its own connection");
    assert_eq!((a.connections.opened(), b.connections.opened()), (1, 1));

    // A clone of a tenant is the same tenant: it shares the kept connection.
    let a_again = Tenant { connections: a.connections.clone(), ..tenant(&sim, LOGIN) };
    collect_pages(&rt, &a_again, "users").await;
    assert_eq!(counter.count(), 2);
}

#[tokio::test]
async fn given_a_kept_connection_that_was_closed_while_idle_when_the_next_page_is_asked_then_a_new_one_serves_it()
 {
    let sim = sim().await;
    let (rt, counter) = counted_runtime();
    let t = tenant(&sim, LOGIN);
    let first = rt.collect_page(&t, "remediation-tickets", &[], None).await.result.expect("first page");
    assert_eq!(counter.count(), 1);

    counter.shut_all();
    // Give the connection's task a moment to read the end of the stream (an ordering wait,
    // not a timing assertion: a request that still found it open would be retried).
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;

    let mut rows = first.rows.len();
    let mut cursor = first.next_cursor;
    while let Some(c) = cursor {
        let page = rt.collect_page(&t, "remediation-tickets", &[], Some(&c)).await.result.expect("next page");
        rows += page.rows.len();
        cursor = page.next_cursor;
    }
    assert_eq!(rows, 2500, "no page lost to the closed connection");
    assert_eq!(counter.count(), 2, "one new connection replaced the closed one");
}

#[tokio::test]
async fn given_a_kept_connection_left_idle_past_its_timeout_then_it_is_closed_and_the_next_page_opens_a_new_one()
 {
    let sim = sim().await;
    let (rt, counter) = counted_runtime();
    let t = Tenant {
        connections: Connections::with_idle_timeout(Duration::from_millis(20)),
        ..tenant(&sim, LOGIN)
    };
    let first = rt.collect_page(&t, "remediation-tickets", &[], None).await.result.expect("first page");
    assert_eq!(counter.count(), 1);

    // Waits for the idle timer (bounded; the assertion is on what happened, not on when).
    let deadline = Instant::now() + Duration::from_secs(10);
    while t.connections.kept() > 0 {
        assert!(Instant::now() < deadline, "the idle connection was never closed");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let next = first.next_cursor.expect("2,500 tickets take several pages");
    let page =
        rt.collect_page(&t, "remediation-tickets", &[], Some(&next)).await.result.expect("second page");
    assert_eq!(page.rows.len(), 1000);
    assert_eq!(counter.count(), 2, "the closed idle connection was not reused");
}

#[tokio::test]
async fn given_a_tenant_that_keeps_collecting_then_its_connection_stays_open_between_pages() {
    let sim = sim().await;
    let (rt, counter) = counted_runtime();
    let t = tenant(&sim, LOGIN);
    collect_pages(&rt, &t, "remediation-tickets").await;
    assert_eq!(t.connections.kept(), 1, "the default idle timeout keeps the connection for the next call");
    collect_pages(&rt, &t, "users").await;
    assert_eq!(counter.count(), 1);
}
