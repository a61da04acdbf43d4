//! The operator's network policy, end to end through the real component: every non-public
//! address class is refused unless the operator allows it, however the address is spelled or
//! reached (IP literal, a name that resolves to it, IPv4-mapped IPv6, a decimal IP); hosts off
//! the allowed patterns are refused before resolving; the tenant's own origins still narrow
//! what the operator allows; TLS with the operator's trust anchors; the operator's CONNECT
//! proxy and NO_PROXY.
//!
//! Traffic goes to 127.0.0.0/8 only. A refusal of any other address is proven with an injected
//! `Connector` that records what it is asked for and opens no socket (and an injected
//! `Resolver` for names, which never asks any DNS server).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use connector_runtime::network::{BoxFuture, Connector, Io, Resolver, SystemResolver};
use connector_runtime::types::{ConnectorError, Page};
use connector_runtime::{AddressClass, CallError, NetworkPolicy, Origin, Runtime, Tenant, TenantPolicy};
use connector_tests::proxy::{Proxy, ProxyMode};
use connector_tests::*;
use qualys_simulator::{SimConfig, SimTls, Simulator};

const LOGIN: &str = "demo_manager";

/// The operator's policy: exactly these hosts and these non-public classes.
fn policy(hosts: &[&str], classes: &[AddressClass]) -> NetworkPolicy {
    let p = NetworkPolicy::deny_all().allow_hosts(hosts.iter().copied()).expect("valid host patterns");
    classes.iter().fold(p, |p, c| p.allow_address_class(*c))
}

/// A tenant of `sim` whose API URL is `url` (another way of reaching the simulator, or an
/// address an injected connector stands in for); its own origin is that URL's.
fn tenant_at(sim: &Simulator, url: &str) -> Tenant {
    let mut t = tenant(sim, LOGIN);
    t.config.api_url = Some(url.to_string());
    t.policy = TenantPolicy::for_origin(Origin::parse(url).expect("valid URL"));
    t
}

/// One page of the users proof, through `rt`.
async fn users(rt: &Runtime, t: &Tenant) -> Result<Page, CallError> {
    rt.collect_page(t, "users", &[], None).await.result
}

/// The refusal's message; panics on anything but a `denied` error.
fn denied(result: Result<Page, CallError>) -> String {
    match result {
        Err(CallError::Connector(ConnectorError::Denied(message))) => message,
        other => panic!("expected a denied error, got {other:?}"),
    }
}

/// The transport error's message; panics on anything else.
fn transport(result: Result<Page, CallError>) -> String {
    match result {
        Err(CallError::Connector(ConnectorError::Transport(message))) => message,
        other => panic!("expected a transport error, got {other:?}"),
    }
}

/// Asserts the message names the class and the setting that would allow it.
fn names_the_class(message: &str, class: AddressClass) {
    assert!(message.contains(&format!(" {class} address")), "{message}");
    assert!(
        message.contains("allow_address_class") && message.contains("--allow-private-network"),
        "{message}"
    );
}

/// A simulator serving HTTPS whose certificate also covers `extra_names`.
async fn tls_simulator(extra_names: &[&str]) -> Simulator {
    let tls =
        SimTls { extra_names: extra_names.iter().map(|n| n.to_string()).collect(), ..SimTls::default() };
    simulator(SimConfig { tls: Some(tls), ..SimConfig::default() }).await
}

/// The simulator's CA certificate, to trust.
fn ca(sim: &Simulator) -> &[u8] {
    sim.ca_pem().expect("a TLS simulator").as_bytes()
}

/// A connector that records every address it is asked to connect to. It opens no socket, or,
/// given a loopback stand-in, connects there instead (so an allowed private address can be
/// shown reaching the simulator without any traffic leaving loopback).
#[derive(Default)]
struct RecordingConnector {
    asked: Mutex<Vec<SocketAddr>>,
    stand_in: Option<SocketAddr>,
}

impl RecordingConnector {
    fn refusing() -> Arc<RecordingConnector> {
        Arc::new(RecordingConnector::default())
    }

    fn standing_in_with(sim: &Simulator) -> Arc<RecordingConnector> {
        assert!(sim.addr().ip().is_loopback());
        Arc::new(RecordingConnector { stand_in: Some(sim.addr()), ..RecordingConnector::default() })
    }

    fn asked(&self) -> Vec<SocketAddr> {
        self.asked.lock().unwrap().clone()
    }
}

impl Connector for RecordingConnector {
    fn connect(&self, address: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Io>>> {
        self.asked.lock().unwrap().push(address);
        let stand_in = self.stand_in;
        Box::pin(async move {
            match stand_in {
                Some(to) => Ok(Box::new(tokio::net::TcpStream::connect(to).await?) as Box<dyn Io>),
                None => Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    "the test connector opens no socket",
                )),
            }
        })
    }
}

/// A resolver with fixed answers that records every name it is asked; unknown names are not
/// found (no DNS server is ever asked).
struct FixedResolver {
    answers: Vec<(&'static str, IpAddr)>,
    asked: Mutex<Vec<String>>,
}

impl FixedResolver {
    fn new(answers: &[(&'static str, &str)]) -> Arc<FixedResolver> {
        let answers = answers.iter().map(|(n, ip)| (*n, ip.parse().expect("an IP"))).collect();
        Arc::new(FixedResolver { answers, asked: Mutex::new(Vec::new()) })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl Resolver for FixedResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        self.asked.lock().unwrap().push(host.to_string());
        let found: Vec<SocketAddr> = self
            .answers
            .iter()
            .filter(|(n, _)| *n == host)
            .map(|(_, ip)| SocketAddr::new(*ip, port))
            .collect();
        Box::pin(async move {
            if found.is_empty() {
                Err(io::Error::new(io::ErrorKind::NotFound, "not a test name"))
            } else {
                Ok(found)
            }
        })
    }
}

/// The system resolver, for names it answers without any DNS server: `localhost` (from
/// /etc/hosts, which nsswitch reads first) and all-digit names, which glibc's getaddrinfo
/// parses itself as a numeric IPv4 address (inet_aton: `2130706433` is 127.0.0.1). Any other
/// name fails the test instead of reaching DNS.
struct LocalSystemResolver;

impl Resolver for LocalSystemResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let local = host == "localhost" || (!host.is_empty() && host.bytes().all(|b| b.is_ascii_digit()));
        assert!(local, "'{host}' would need a DNS server");
        SystemResolver.resolve(host, port)
    }
}

// ---- loopback, however it is spelled ----

#[tokio::test]
async fn given_127_0_0_1_allowed_as_a_host_but_not_the_loopback_class_when_collecting_then_it_is_refused_naming_the_class_before_connecting()
 {
    let sim = simulator(SimConfig::default()).await;
    let rt = runtime_with(policy(&["127.0.0.1"], &[]));
    let message = denied(users(&rt, &tenant(&sim, LOGIN)).await);
    names_the_class(&message, AddressClass::Loopback);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test]
async fn given_127_0_0_1_and_the_loopback_class_allowed_when_collecting_then_the_simulator_answers() {
    let sim = simulator(SimConfig::default()).await;
    let rt = runtime_with(policy(&["127.0.0.1"], &[AddressClass::Loopback]));
    let page = users(&rt, &tenant(&sim, LOGIN)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    assert!(!sim.requests().is_empty());
}

#[tokio::test]
async fn given_a_name_that_resolves_to_loopback_when_collecting_then_it_is_refused_before_connecting() {
    let sim = simulator(SimConfig::default()).await;
    let rt = runtime_with(policy(&["localhost"], &[]).with_resolver(Arc::new(LocalSystemResolver)));
    let url = format!("http://localhost:{}", sim.addr().port());
    let message = denied(users(&rt, &tenant_at(&sim, &url)).await);
    assert!(message.contains("'localhost' resolves to"), "{message}");
    names_the_class(&message, AddressClass::Loopback);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test]
async fn given_a_name_that_resolves_to_loopback_and_the_loopback_class_allowed_when_collecting_then_the_simulator_answers()
 {
    let sim = simulator(SimConfig::default()).await;
    let rt = runtime_with(
        policy(&["localhost"], &[AddressClass::Loopback]).with_resolver(Arc::new(LocalSystemResolver)),
    );
    let url = format!("http://localhost:{}", sim.addr().port());
    let page = users(&rt, &tenant_at(&sim, &url)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    assert!(!sim.requests().is_empty());
}

#[tokio::test]
async fn given_an_ipv4_mapped_ipv6_loopback_literal_when_collecting_then_it_is_refused_as_loopback_before_connecting()
 {
    let sim = tls_simulator(&["::ffff:127.0.0.1"]).await;
    let rt = runtime_with(policy(&["[::ffff:127.0.0.1]"], &[]).add_trust_anchors_pem(ca(&sim)).unwrap());
    let url = format!("https://[::ffff:127.0.0.1]:{}", sim.addr().port());
    let message = denied(users(&rt, &tenant_at(&sim, &url)).await);
    names_the_class(&message, AddressClass::Loopback);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test]
async fn given_an_ipv4_mapped_ipv6_loopback_literal_and_the_loopback_class_allowed_when_collecting_then_the_simulator_answers()
 {
    let sim = tls_simulator(&["::ffff:127.0.0.1"]).await;
    let rt = runtime_with(
        policy(&["[::ffff:127.0.0.1]"], &[AddressClass::Loopback]).add_trust_anchors_pem(ca(&sim)).unwrap(),
    );
    let url = format!("https://[::ffff:127.0.0.1]:{}", sim.addr().port());
    let page = users(&rt, &tenant_at(&sim, &url)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    assert!(!sim.requests().is_empty());
}

#[tokio::test]
async fn given_a_decimal_ip_that_the_system_resolver_turns_into_127_0_0_1_when_collecting_then_it_is_refused_as_loopback_before_connecting()
 {
    let sim = tls_simulator(&[]).await;
    let rt = runtime_with(
        policy(&["2130706433"], &[])
            .add_trust_anchors_pem(ca(&sim))
            .unwrap()
            .with_resolver(Arc::new(LocalSystemResolver)),
    );
    let url = format!("https://2130706433:{}", sim.addr().port());
    let message = denied(users(&rt, &tenant_at(&sim, &url)).await);
    assert!(message.contains("'2130706433' resolves to 127.0.0.1"), "{message}");
    names_the_class(&message, AddressClass::Loopback);
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

/// Neither scheme can complete here: the connector sends plain http only to loopback host
/// names, and no certificate can name `2130706433` (rustls refuses an all-numeric name as a
/// TLS server name). What the loopback class changes is that the address check passes; the
/// host then says, before connecting, that the name cannot be verified and what to use.
#[tokio::test]
async fn given_a_decimal_ip_and_the_loopback_class_allowed_when_collecting_then_the_address_passes_and_tls_naming_fails_with_the_dotted_address_to_use()
 {
    let sim = tls_simulator(&[]).await;
    let rt = runtime_with(
        policy(&["2130706433"], &[AddressClass::Loopback])
            .add_trust_anchors_pem(ca(&sim))
            .unwrap()
            .with_resolver(Arc::new(LocalSystemResolver)),
    );
    let url = format!("https://2130706433:{}", sim.addr().port());
    let message = transport(users(&rt, &tenant_at(&sim, &url)).await);
    assert!(
        message.contains("'2130706433' is not a DNS name a TLS certificate can be checked against"),
        "{message}"
    );
    assert!(message.contains("(127.0.0.1)") && !message.contains("loopback"), "{message}");
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

// ---- every other non-public class, proven without sending anything ----

/// An address of each non-public class but loopback, as a URL host, with its class.
const NON_PUBLIC: [(&str, AddressClass); 12] = [
    // IPv6 addresses that carry an IPv4 one: local-use NAT64, 6to4, Teredo.
    ("[64:ff9b:1::a00:1]", AddressClass::Private),
    ("[2002:a9fe:a9fe::1]", AddressClass::LinkLocal),
    ("[2001:0:a00:1::1]", AddressClass::Private),
    ("10.1.2.3", AddressClass::Private),
    ("172.16.0.1", AddressClass::Private),
    ("192.168.1.1", AddressClass::Private),
    ("169.254.169.254", AddressClass::LinkLocal),
    ("[fd00::1]", AddressClass::UniqueLocal),
    ("0.0.0.0", AddressClass::Unspecified),
    ("[::]", AddressClass::Unspecified),
    ("224.0.0.1", AddressClass::Multicast),
    ("[ff02::1]", AddressClass::Multicast),
];

#[tokio::test]
async fn given_a_private_link_local_unique_local_unspecified_or_multicast_address_when_collecting_then_it_is_refused_naming_its_class_and_no_connection_is_attempted()
 {
    let sim = simulator(SimConfig::default()).await;
    let connector = RecordingConnector::refusing();
    let hosts: Vec<&str> = NON_PUBLIC.iter().map(|(h, _)| *h).collect();
    // Loopback is allowed, as on a test machine: it must not open any other class.
    let rt = runtime_with(policy(&hosts, &[AddressClass::Loopback]).with_connector(connector.clone()));
    for (host, class) in NON_PUBLIC {
        let message = denied(users(&rt, &tenant_at(&sim, &format!("https://{host}"))).await);
        names_the_class(&message, class);
        assert!(connector.asked().is_empty(), "{host}: the connector was asked for {:?}", connector.asked());
    }
}

#[tokio::test]
async fn given_the_operator_allows_an_address_class_when_collecting_from_an_address_of_it_then_the_connection_goes_to_that_address()
 {
    let names: Vec<&str> =
        NON_PUBLIC.iter().map(|(h, _)| h.trim_start_matches('[').trim_end_matches(']')).collect();
    let sim = tls_simulator(&names).await;
    for (host, class) in NON_PUBLIC {
        // Only this class; the test connector stands in for the address with the simulator.
        let connector = RecordingConnector::standing_in_with(&sim);
        let rt = runtime_with(
            policy(&[host], &[class])
                .add_trust_anchors_pem(ca(&sim))
                .unwrap()
                .with_connector(connector.clone()),
        );
        let page = users(&rt, &tenant_at(&sim, &format!("https://{host}"))).await;
        let page = page.unwrap_or_else(|e| panic!("{host}: {e:?}"));
        assert!(!page.rows.is_empty(), "{host}");
        let want: SocketAddr = format!("{host}:443").parse().unwrap();
        assert!(!connector.asked().is_empty(), "{host}");
        assert!(connector.asked().iter().all(|a| *a == want), "{host}: {:?}", connector.asked());
    }
}

#[tokio::test]
async fn given_a_public_looking_name_that_resolves_to_a_private_address_when_collecting_then_it_is_refused_and_no_connection_is_attempted()
 {
    let sim = simulator(SimConfig::default()).await;
    let resolver = FixedResolver::new(&[("api.example.test", "10.1.2.3")]);
    let connector = RecordingConnector::refusing();
    let rt = runtime_with(
        policy(&["api.example.test"], &[AddressClass::Loopback])
            .with_resolver(resolver.clone())
            .with_connector(connector.clone()),
    );
    let message = denied(users(&rt, &tenant_at(&sim, "https://api.example.test")).await);
    assert!(message.contains("'api.example.test' resolves to 10.1.2.3, a private address"), "{message}");
    names_the_class(&message, AddressClass::Private);
    assert_eq!(resolver.asked(), ["api.example.test"]);
    assert!(connector.asked().is_empty(), "{:?}", connector.asked());
}

#[tokio::test]
async fn given_an_injected_resolver_that_maps_a_name_to_127_0_0_1_and_the_loopback_class_allowed_when_collecting_then_the_simulator_answers()
 {
    let sim = tls_simulator(&["api.example.test"]).await;
    let resolver = FixedResolver::new(&[("api.example.test", "127.0.0.1")]);
    let rt = runtime_with(
        policy(&["api.example.test"], &[AddressClass::Loopback])
            .add_trust_anchors_pem(ca(&sim))
            .unwrap()
            .with_resolver(resolver.clone()),
    );
    let url = format!("https://api.example.test:{}", sim.addr().port());
    let page = users(&rt, &tenant_at(&sim, &url)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    assert!(resolver.asked().iter().all(|n| n == "api.example.test") && !resolver.asked().is_empty());
    let host = format!("api.example.test:{}", sim.addr().port());
    assert!(
        sim.requests().iter().all(|r| r.host_header.as_deref() == Some(host.as_str())),
        "{:?}",
        sim.requests()
    );
}

#[tokio::test]
async fn given_a_host_outside_the_allowed_patterns_when_collecting_then_it_is_refused_before_any_resolution()
{
    let sim = simulator(SimConfig::default()).await;
    let resolver = FixedResolver::new(&[("other.example.test", "127.0.0.1")]);
    let connector = RecordingConnector::refusing();
    let rt = runtime_with(
        policy(&["api.example.test", "*.qualys.example"], &AddressClass::ALL)
            .with_resolver(resolver.clone())
            .with_connector(connector.clone()),
    );
    let message = denied(users(&rt, &tenant_at(&sim, "https://other.example.test")).await);
    assert!(
        message.contains("'other.example.test' is not one of the operator's allowed API hosts"),
        "{message}"
    );
    assert!(message.contains("allow_host"), "{message}");
    assert!(resolver.asked().is_empty(), "{:?}", resolver.asked());
    assert!(connector.asked().is_empty(), "{:?}", connector.asked());
}

#[tokio::test]
async fn given_an_operator_that_allows_the_origin_when_the_tenant_policy_names_another_then_it_is_still_refused()
 {
    let sim = simulator(SimConfig::default()).await;
    let other = simulator(SimConfig::default()).await;
    let rt = runtime_with(NetworkPolicy::deny_all().allow_host("127.0.0.1").unwrap().allow_private_network());
    let mut t = tenant(&sim, LOGIN);
    t.policy.allowed_origins = vec![Origin::parse(&other.url()).unwrap()];
    let message = denied(users(&rt, &t).await);
    assert!(message.contains("TenantPolicy::allowed_origins"), "{message}");
    assert!(message.contains(&format!("127.0.0.1:{}", sim.addr().port())), "{message}");
    assert!(sim.requests().is_empty() && other.requests().is_empty());
}

// ---- TLS ----

#[tokio::test]
async fn given_the_tls_simulator_when_its_ca_is_not_trusted_then_the_collect_fails_with_a_tls_transport_error()
 {
    let sim = tls_simulator(&[]).await;
    let rt = runtime_with(loopback_policy());
    let message = transport(users(&rt, &tenant(&sim, LOGIN)).await);
    assert!(message.contains("TLS"), "{message}");
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test]
async fn given_the_tls_simulator_when_the_operator_trusts_its_ca_then_the_collect_succeeds_over_https() {
    let sim = tls_simulator(&[]).await;
    assert!(sim.url().starts_with("https://127.0.0.1:"), "{}", sim.url());
    let rt = runtime_with(loopback_policy().add_trust_anchors_pem(ca(&sim)).unwrap());
    let page = users(&rt, &tenant(&sim, LOGIN)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    assert!(!sim.requests().is_empty());
}

// ---- the operator's proxy ----

#[tokio::test]
async fn given_a_proxy_when_collecting_from_the_tls_simulator_then_the_proxy_sees_only_connect_to_the_allowed_origin()
 {
    let sim = tls_simulator(&[]).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let rt = runtime_with(
        loopback_policy().add_trust_anchors_pem(ca(&sim)).unwrap().proxy(&proxy.url(), "").unwrap(),
    );
    let page = users(&rt, &tenant(&sim, LOGIN)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    let lines = proxy.request_lines();
    let connect = format!("CONNECT 127.0.0.1:{} HTTP/1.1", sim.addr().port());
    assert!(!lines.is_empty() && lines.iter().all(|l| *l == connect), "{lines:?}");
    assert!(!sim.requests().is_empty());
}

#[tokio::test]
async fn given_a_proxy_and_the_destination_in_no_proxy_when_collecting_then_the_proxy_sees_nothing() {
    let sim = tls_simulator(&[]).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let rt = runtime_with(
        loopback_policy()
            .add_trust_anchors_pem(ca(&sim))
            .unwrap()
            .proxy(&proxy.url(), "localhost, 127.0.0.1")
            .unwrap(),
    );
    let page = users(&rt, &tenant(&sim, LOGIN)).await.expect("collect succeeds");
    assert!(!page.rows.is_empty());
    assert!(proxy.request_lines().is_empty(), "{:?}", proxy.request_lines());
    assert!(!sim.requests().is_empty());
}

#[tokio::test]
async fn given_a_proxy_that_refuses_the_tunnel_when_collecting_then_the_collect_fails_with_a_transport_error_naming_the_proxy()
 {
    let sim = tls_simulator(&[]).await;
    let proxy = Proxy::start(ProxyMode::Refuse).await;
    let rt = runtime_with(
        loopback_policy().add_trust_anchors_pem(ca(&sim)).unwrap().proxy(&proxy.url(), "").unwrap(),
    );
    let message = transport(users(&rt, &tenant(&sim, LOGIN)).await);
    assert!(message.contains("proxy refused the tunnel") && message.contains("403"), "{message}");
    assert!(!proxy.request_lines().is_empty());
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test]
async fn given_a_proxy_when_the_destination_is_outside_the_allowed_hosts_then_it_is_refused_before_contacting_the_proxy()
 {
    let sim = tls_simulator(&[]).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let rt = runtime_with(
        loopback_policy().add_trust_anchors_pem(ca(&sim)).unwrap().proxy(&proxy.url(), "").unwrap(),
    );
    let url = format!("https://localhost:{}", sim.addr().port());
    let message = denied(users(&rt, &tenant_at(&sim, &url)).await);
    assert!(message.contains("'localhost' is not one of the operator's allowed API hosts"), "{message}");
    assert!(proxy.request_lines().is_empty(), "{:?}", proxy.request_lines());
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn given_a_proxy_when_the_destination_is_a_private_ip_literal_then_it_is_refused_before_contacting_the_proxy()
 {
    let sim = simulator(SimConfig::default()).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let rt = runtime_with(policy(&["10.1.2.3"], &[AddressClass::Loopback]).proxy(&proxy.url(), "").unwrap());
    let message = denied(users(&rt, &tenant_at(&sim, "https://10.1.2.3")).await);
    names_the_class(&message, AddressClass::Private);
    assert!(proxy.request_lines().is_empty(), "{:?}", proxy.request_lines());
}
