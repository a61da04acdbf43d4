//! Sending one outgoing request under the operator's policy: check the host, resolve once,
//! check every address, connect to a checked one (or tunnel through the operator's proxy),
//! TLS with the policy's roots, then HTTP/1.1 with the request's timeouts.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use http::uri::Scheme;
use http_body::Body;
use hyper::client::conn::http1::SendRequest;
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody};

use super::pool::{Connections, Key};
use super::{NetworkPolicy, PolicyError, Refusal};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte stream a request can travel over.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// Resolves a host name to addresses; every answer is checked before use.
pub trait Resolver: Send + Sync + 'static {
    /// The addresses of `host` (a name, never an IP literal) at `port`.
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>>;
}

/// Opens a connection to an address that has passed the policy.
pub trait Connector: Send + Sync + 'static {
    /// A connected stream to `address`.
    fn connect(&self, address: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Io>>>;
}

/// The system resolver (`getaddrinfo`, on tokio's blocking pool).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn resolve(&self, host: &str, port: u16) -> BoxFuture<'static, io::Result<Vec<SocketAddr>>> {
        let host = host.to_string();
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), port)).await?.collect()) })
    }
}

/// Plain TCP.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpConnector;

impl Connector for TcpConnector {
    fn connect(&self, address: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Io>>> {
        Box::pin(async move {
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            Ok(Box::new(stream) as Box<dyn Io>)
        })
    }
}

/// The policy made ready for use: TLS configuration and proxy matcher built once.
pub(crate) struct Network {
    /// Unique per policy made ready, so a kept connection is reused only under the policy it
    /// was checked against.
    pub(crate) id: u64,
    pub(crate) policy: NetworkPolicy,
    tls: tokio_rustls::TlsConnector,
    proxy: Option<Matcher>,
}

impl Network {
    pub(crate) fn new(policy: NetworkPolicy) -> Result<Network, PolicyError> {
        let mut roots = rustls::RootCertStore::empty();
        if policy.platform_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for cert in &policy.trust_anchors {
            roots.add(cert.clone()).map_err(|e| PolicyError(format!("a trust anchor was refused: {e}")))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| PolicyError(format!("TLS set-up failed: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let proxy = policy
            .proxy
            .as_ref()
            .map(|p| Matcher::builder().https(p.url.clone()).no(p.no_proxy.clone()).build());
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Ok(Network { id, policy, tls: tokio_rustls::TlsConnector::from(Arc::new(config)), proxy })
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

/// What a refused or failed request reports to the sandbox (for the call's error message).
pub(crate) enum SendError {
    Refused(Refusal),
    Failed(HttpError),
}

impl From<HttpError> for SendError {
    fn from(e: HttpError) -> Self {
        SendError::Failed(e)
    }
}

/// Sends `request` under the network policy, over one of the tenant's kept connections when
/// one is ready, else over a new one. Refusals happen before any socket is opened.
pub(crate) async fn send_request(
    network: Arc<Network>,
    connections: Connections,
    mut request: http::Request<WasiBody>,
    options: RequestOptions,
) -> Result<(http::Response<WasiBody>, IoFuture), SendError> {
    let uri = request.uri().clone();
    let https = uri.scheme() == Some(&Scheme::HTTPS);
    let host = uri.host().ok_or(HttpError::HttpRequestUriInvalid)?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host).to_string();
    let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
    network.policy.check_host(&host).map_err(SendError::Refused)?;
    let first_byte = options.first_byte_timeout.unwrap_or(Duration::from_secs(600));
    let between_bytes =
        options.between_bytes_timeout.unwrap_or(Duration::from_secs(600)).max(Duration::from_nanos(1));

    // The request line carries the path only; the Host header comes from the URI's authority.
    *request.uri_mut() = http::Uri::builder()
        .path_and_query(uri.path_and_query().map_or("/", |p| p.as_str()))
        .build()
        .map_err(|_| HttpError::HttpRequestUriInvalid)?;

    let key = Key { network: network.id, https, host, port };
    let (sender, response) = 'sent: {
        let request = match connections.take(&key).await {
            Some(mut sender) => {
                match tokio::time::timeout(first_byte, sender.try_send_request(request)).await {
                    Err(_) => return Err(HttpError::ConnectionReadTimeout.into()),
                    Ok(Ok(response)) => break 'sent (sender, response),
                    // The server closed the kept connection before the request went out: it goes
                    // over a new one.
                    Ok(Err(mut e)) => match e.take_message() {
                        Some(request) => request,
                        None => return Err(HttpError::from(e.into_error()).into()),
                    },
                }
            }
            None => request,
        };
        let mut sender = open(&network, &connections, &key, &uri, &options).await?;
        let response = tokio::time::timeout(first_byte, sender.send_request(request))
            .await
            .map_err(|_| HttpError::ConnectionReadTimeout)?
            .map_err(HttpError::from)?;
        (sender, response)
    };
    let done = connections.keep(key, sender);

    let mut interval = tokio::time::interval(between_bytes);
    interval.reset();
    let response = response.map(|incoming| {
        http_body_util::BodyExt::boxed_unsync(TimedBody { incoming, timeout: interval, done })
    });
    // The connection is driven by its own task (it outlives this response when kept); its
    // failures reach the guest through the response and its body.
    let io: IoFuture = Box::new(async { Ok(()) });
    Ok((response, io))
}

/// Opens a connection for `key` under the policy.
async fn open(
    network: &Network,
    connections: &Connections,
    key: &Key,
    uri: &http::Uri,
    options: &RequestOptions,
) -> Result<SendRequest<WasiBody>, SendError> {
    let (https, host, port) = (key.https, key.host.as_str(), key.port);
    let policy = &network.policy;
    let literal: Option<IpAddr> = host.parse().ok();
    let connect_timeout = options.connect_timeout.unwrap_or(Duration::from_secs(600));

    let proxy = network.proxy.as_ref().filter(|_| https).and_then(|m| m.intercept(uri));
    let (stream, tls_name): (Box<dyn Io>, _) = match proxy {
        Some(intercept) => {
            // The destination is resolved by the proxy; an IP literal is still checked here.
            if let Some(ip) = literal {
                policy.check_address(host, ip).map_err(SendError::Refused)?;
            }
            let name = https.then(|| server_name(host, literal, None)).transpose()?;
            let tunnel = tunnel(policy, &intercept, host, port);
            let stream = tokio::time::timeout(connect_timeout, tunnel)
                .await
                .map_err(|_| HttpError::ConnectionTimeout)??;
            (stream, name)
        }
        None => {
            let addresses = match literal {
                Some(ip) => vec![SocketAddr::new(ip, port)],
                None => {
                    let resolve = policy.resolver.resolve(host, port);
                    match tokio::time::timeout(connect_timeout, resolve).await {
                        Err(_) => return Err(HttpError::DnsTimeout.into()),
                        Ok(Err(e)) => {
                            return Err(
                                HttpError::DnsError { rcode: Some(e.to_string()), info_code: None }.into()
                            );
                        }
                        Ok(Ok(a)) if a.is_empty() => return Err(HttpError::DestinationNotFound.into()),
                        Ok(Ok(a)) => a,
                    }
                }
            };
            let checked = checked_addresses(policy, host, &addresses, https)?;
            let name = https.then(|| server_name(host, literal, Some(checked[0].ip()))).transpose()?;
            let connect = connect_any(policy, &checked);
            let stream = tokio::time::timeout(connect_timeout, connect)
                .await
                .map_err(|_| HttpError::ConnectionTimeout)??;
            (stream, name)
        }
    };
    let stream: Box<dyn Io> = if let Some(name) = tls_name {
        let handshake = network.tls.connect(name, stream);
        let tls = tokio::time::timeout(connect_timeout, handshake)
            .await
            .map_err(|_| HttpError::ConnectionTimeout)?
            .map_err(tls_error)?;
        Box::new(tls)
    } else {
        stream
    };
    let (sender, conn) = tokio::time::timeout(
        connect_timeout,
        hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream)),
    )
    .await
    .map_err(|_| HttpError::ConnectionTimeout)?
    .map_err(HttpError::from)?;
    connections.count_opened();
    // Runs until the server closes the connection or the last sender (kept or in flight) is
    // gone and its response is read or dropped.
    tokio::spawn(conn);
    Ok(sender)
}

/// The name the server's certificate is checked against, known before connecting: a host that
/// cannot be one (an all-numeric name such as `2130706433`, which the system resolver reads as
/// an IPv4 address but no certificate can name) fails here, saying what to use instead, rather
/// than after a connection was opened and as if the request were malformed.
fn server_name(
    host: &str,
    literal: Option<IpAddr>,
    resolved: Option<IpAddr>,
) -> Result<ServerName<'static>, HttpError> {
    if let Some(ip) = literal {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.to_string()).map_err(|_| {
        let instead = resolved.map(|ip| format!(" ({ip})")).unwrap_or_default();
        HttpError::InternalError(Some(format!(
            "'{host}' is not a DNS name a TLS certificate can be checked against; use the API \
             server's DNS name or its IP address{instead}"
        )))
    })
}

/// The resolved addresses the policy allows, in resolver order; refuses when none is left,
/// and refuses plain HTTP to anything but loopback.
fn checked_addresses(
    policy: &NetworkPolicy,
    host: &str,
    addresses: &[SocketAddr],
    https: bool,
) -> Result<Vec<SocketAddr>, SendError> {
    let mut first_refusal = None;
    let mut allowed = Vec::new();
    for a in addresses {
        match policy.check_address(host, a.ip()) {
            Ok(()) => allowed.push(*a),
            Err(r) => {
                first_refusal.get_or_insert(r);
            }
        }
    }
    if allowed.is_empty() {
        return Err(SendError::Refused(first_refusal.expect("at least one address was refused")));
    }
    if !https && allowed.iter().any(|a| !a.ip().is_loopback() && !is_mapped_loopback(a.ip())) {
        return Err(SendError::Refused(Refusal::PlainHttp { host: host.to_string() }));
    }
    Ok(allowed)
}

fn is_mapped_loopback(ip: IpAddr) -> bool {
    matches!(ip, IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
}

/// Connects to the first address that accepts.
async fn connect_any(policy: &NetworkPolicy, addresses: &[SocketAddr]) -> Result<Box<dyn Io>, SendError> {
    let mut last = None;
    for a in addresses {
        match policy.connector.connect(*a).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
    }
    let e = last.expect("addresses is not empty");
    Err(SendError::Failed(match e.kind() {
        io::ErrorKind::ConnectionRefused => HttpError::ConnectionRefused,
        io::ErrorKind::TimedOut => HttpError::ConnectionTimeout,
        _ => HttpError::Connect(e),
    }))
}

/// Opens a CONNECT tunnel to `host:port` through the operator's proxy.
async fn tunnel(
    policy: &NetworkPolicy,
    intercept: &hyper_util::client::proxy::matcher::Intercept,
    host: &str,
    port: u16,
) -> Result<Box<dyn Io>, SendError> {
    let proxy = intercept.uri();
    let proxy_host = proxy.host().ok_or(HttpError::ConfigurationError)?;
    let proxy_host = proxy_host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(proxy_host);
    let proxy_port = proxy.port_u16().unwrap_or(80);
    let addresses = match proxy_host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, proxy_port)],
        Err(_) => policy
            .resolver
            .resolve(proxy_host, proxy_port)
            .await
            .map_err(|e| HttpError::DnsError { rcode: Some(format!("proxy: {e}")), info_code: None })?,
    };
    // The proxy is the operator's own: its address is not subject to the address classes.
    let stream = connect_any(policy, &addresses).await?;
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .handshake(TokioIo::new(stream))
        .await
        .map_err(HttpError::from)?;
    let conn = tokio::spawn(conn.with_upgrades());
    let authority = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    let mut connect = http::Request::builder()
        .method(http::Method::CONNECT)
        .uri(authority.as_str())
        .header(http::header::HOST, authority.as_str());
    if let Some(auth) = intercept.basic_auth() {
        connect = connect.header(http::header::PROXY_AUTHORIZATION, auth.clone());
    }
    let connect =
        connect.body(http_body_util::Empty::<Bytes>::new()).map_err(|_| HttpError::HttpRequestUriInvalid)?;
    let response = sender.send_request(connect).await.map_err(HttpError::from)?;
    if !response.status().is_success() {
        conn.abort();
        return Err(SendError::Failed(HttpError::InternalError(Some(format!(
            "the proxy refused the tunnel to {authority}: HTTP {}",
            response.status()
        )))));
    }
    let upgraded = hyper::upgrade::on(response).await.map_err(HttpError::from)?;
    Ok(Box::new(TokioIo::new(upgraded)))
}

fn tls_error(e: io::Error) -> HttpError {
    let text = e.to_string();
    if text.contains("certificate") || text.contains("UnknownIssuer") {
        HttpError::TlsCertificateError
    } else {
        HttpError::Tls(e)
    }
}

/// A response body that fails when the server stops sending for longer than allowed.
struct TimedBody {
    incoming: hyper::body::Incoming,
    timeout: tokio::time::Interval,
    /// Set once the body was read to its end: its connection may carry the next request.
    done: Arc<AtomicBool>,
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.incoming).poll_frame(cx) {
            Poll::Ready(None) => {
                self.done.store(true, Ordering::Release);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(if e.is_timeout() {
                HttpError::HttpResponseTimeout
            } else {
                HttpError::from(e)
            }))),
            Poll::Ready(Some(Ok(frame))) => {
                self.timeout.reset();
                if self.incoming.is_end_stream() {
                    self.done.store(true, Ordering::Release);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Pending => {
                ready!(self.timeout.poll_tick(cx));
                Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout)))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.incoming.size_hint()
    }
}
