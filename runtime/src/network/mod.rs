//! The operator's network policy: which API hosts any tenant's connector may reach, which
//! address classes, through which proxy, trusting which certificate authorities. It belongs
//! to whoever runs the host, never to a tenant: tenant config can only narrow it.
//!
//! Every request is checked twice: its host name against the allowed host patterns, then
//! every address the name resolves to against the allowed address classes. The connection
//! goes to a checked address; a refused request never opens a socket.

pub mod address;
mod pool;
mod send;

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

pub use address::{AddressClass, classify};
pub use pool::Connections;
pub use send::{BoxFuture, Connector, Io, Resolver, SystemResolver, TcpConnector};
pub(crate) use send::{Network, SendError, send_request};

/// Which network destinations connectors may reach. The default denies everything.
#[derive(Clone)]
pub struct NetworkPolicy {
    hosts: Vec<HostPattern>,
    classes: Vec<AddressClass>,
    proxy: Option<ProxySettings>,
    trust_anchors: Vec<CertificateDer<'static>>,
    platform_roots: bool,
    resolver: Arc<dyn Resolver>,
    connector: Arc<dyn Connector>,
}

/// An allowed host: exactly this name (or IP literal), or any name under a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    Exact(String),
    /// `*.example.com`: any name ending in `.example.com` (not `example.com` itself).
    Under(String),
}

/// An HTTP proxy for https destinations (tunnelled with CONNECT) and its bypass list.
#[derive(Debug, Clone)]
struct ProxySettings {
    url: String,
    no_proxy: String,
}

/// A setting that cannot be used, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network policy: {0}")]
pub struct PolicyError(pub String);

/// Why a request was refused, and the setting that would allow it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The host is not among the operator's allowed API hosts.
    HostNotAllowed {
        /// The host the connector asked for.
        host: String,
    },
    /// The host resolved only to addresses of classes the operator does not allow.
    AddressNotAllowed {
        /// The host the connector asked for.
        host: String,
        /// The first refused address.
        address: IpAddr,
        /// Its class.
        class: AddressClass,
    },
    /// Plain HTTP to an address that is not loopback.
    PlainHttp {
        /// The host the connector asked for.
        host: String,
    },
    /// The tenant's own allow-list does not name this origin.
    NotTenantOrigin {
        /// `scheme://host:port` of the request.
        origin: String,
    },
    /// The call sent more requests than the tenant's budget.
    RequestBudget {
        /// The budget.
        max: u32,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::HostNotAllowed { host } => write!(
                f,
                "'{host}' is not one of the operator's allowed API hosts; the operator can allow it \
                 with NetworkPolicy::allow_host (connector-host: --api-url adds its host)"
            ),
            Refusal::AddressNotAllowed { host, address, class } => {
                let a = if class.name().starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                // An IP literal is its own address; a name is shown with what it resolved to.
                if *host == address.to_string() {
                    write!(f, "'{host}' is {a} {class} address")?;
                } else {
                    write!(f, "'{host}' resolves to {address}, {a} {class} address")?;
                }
                write!(
                    f,
                    ", and the operator's network policy allows only public addresses; the operator can \
                     allow {class} addresses with NetworkPolicy::allow_address_class (connector-host: \
                     --allow-private-network)"
                )
            }
            Refusal::PlainHttp { host } => write!(
                f,
                "plain http to '{host}' is refused: http is allowed to loopback addresses only; use https"
            ),
            Refusal::NotTenantOrigin { origin } => write!(
                f,
                "{origin} is not in this tenant's allow-list (TenantPolicy::allowed_origins): only the \
                 tenant's own API server may be reached; check its platform or API URL"
            ),
            Refusal::RequestBudget { max } => {
                write!(f, "more than {max} requests in one call (TenantPolicy::max_requests_per_call)")
            }
        }
    }
}

impl Default for NetworkPolicy {
    fn default() -> Self {
        NetworkPolicy::deny_all()
    }
}

impl fmt::Debug for NetworkPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NetworkPolicy")
            .field("hosts", &self.hosts)
            .field("classes", &self.classes)
            .field("proxy", &self.proxy)
            .field("trust_anchors", &self.trust_anchors.len())
            .field("platform_roots", &self.platform_roots)
            .finish_non_exhaustive()
    }
}

impl NetworkPolicy {
    /// A policy that allows nothing: no host, only public addresses, no proxy, the platform's
    /// root certificates. Build up from here.
    pub fn deny_all() -> NetworkPolicy {
        NetworkPolicy {
            hosts: Vec::new(),
            classes: Vec::new(),
            proxy: None,
            trust_anchors: Vec::new(),
            platform_roots: true,
            resolver: Arc::new(SystemResolver),
            connector: Arc::new(TcpConnector),
        }
    }

    /// Allows a host: a name or IP literal (`qualysapi.qualys.com`, `10.0.0.5`, `[::1]`), or
    /// every name under a domain (`*.qualys.example`). Ports are not part of the pattern.
    pub fn allow_host(mut self, pattern: &str) -> Result<NetworkPolicy, PolicyError> {
        let p = pattern.trim().trim_end_matches('.').to_ascii_lowercase();
        let p = p.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(&p).to_string();
        let bad = |why: &str| PolicyError(format!("host pattern '{pattern}' {why}"));
        let parsed = match p.strip_prefix("*.") {
            Some(domain) if domain.contains('.') && !domain.contains('*') => {
                HostPattern::Under(format!(".{domain}"))
            }
            Some(_) => return Err(bad("needs a domain of at least two labels after '*.'")),
            None if p.is_empty() => return Err(bad("is empty")),
            None if p.contains(['*', '/', ' ', '@']) => {
                return Err(bad("is not a host name, an IP literal or '*.domain'"));
            }
            None => HostPattern::Exact(p),
        };
        if !self.hosts.contains(&parsed) {
            self.hosts.push(parsed);
        }
        Ok(self)
    }

    /// Allows several hosts (see [`NetworkPolicy::allow_host`]).
    pub fn allow_hosts<'a>(
        self,
        patterns: impl IntoIterator<Item = &'a str>,
    ) -> Result<NetworkPolicy, PolicyError> {
        patterns.into_iter().try_fold(self, NetworkPolicy::allow_host)
    }

    /// Allows addresses of a non-public class (by default only public addresses are reached).
    pub fn allow_address_class(mut self, class: AddressClass) -> NetworkPolicy {
        if !self.classes.contains(&class) {
            self.classes.push(class);
        }
        self
    }

    /// Allows every non-public address class: loopback, private, link-local, unique-local,
    /// unspecified and multicast.
    pub fn allow_private_network(self) -> NetworkPolicy {
        AddressClass::ALL.into_iter().fold(self, NetworkPolicy::allow_address_class)
    }

    /// Sends https requests through an HTTP proxy (`http://host:port`, optionally with
    /// `user:password@`), tunnelled with CONNECT; `no_proxy` lists destinations reached
    /// directly, as curl reads `NO_PROXY` (names and their subdomains, IPs, CIDR ranges, `*`).
    /// The proxy is the operator's own and is connected to whatever its address; the
    /// destination is still checked against the allowed hosts (and, for IP literals, classes).
    pub fn proxy(mut self, url: &str, no_proxy: &str) -> Result<NetworkPolicy, PolicyError> {
        let uri: http::Uri =
            url.trim().parse().map_err(|e| PolicyError(format!("proxy URL '{url}': {e}")))?;
        match uri.scheme_str() {
            Some("http") => {}
            _ => {
                return Err(PolicyError(format!(
                    "proxy URL '{url}' must be http://host:port (the tunnel to the API server is TLS itself)"
                )));
            }
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(PolicyError(format!("proxy URL '{url}' has no host")));
        }
        self.proxy = Some(ProxySettings { url: url.trim().to_string(), no_proxy: no_proxy.to_string() });
        Ok(self)
    }

    /// Trusts the certificate authorities in a PEM file's contents, besides the platform roots
    /// (for a private cloud platform's own CA).
    pub fn add_trust_anchors_pem(mut self, pem: &[u8]) -> Result<NetworkPolicy, PolicyError> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem)
            .collect::<Result<_, _>>()
            .map_err(|e| PolicyError(format!("the trust anchors are not valid PEM certificates: {e}")))?;
        if certs.is_empty() {
            return Err(PolicyError("the trust anchor file holds no PEM certificate".into()));
        }
        self.trust_anchors.extend(certs);
        Ok(self)
    }

    /// Whether the built-in platform roots (Mozilla's, as webpki-roots ships them) are trusted;
    /// on by default. Off: only the added trust anchors are.
    pub fn platform_roots(mut self, trust: bool) -> NetworkPolicy {
        self.platform_roots = trust;
        self
    }

    /// Resolves names with this resolver instead of the system's (tests, embedders with their
    /// own DNS). Its answers are checked like the system's.
    pub fn with_resolver(mut self, resolver: Arc<dyn Resolver>) -> NetworkPolicy {
        self.resolver = resolver;
        self
    }

    /// Opens connections with this connector instead of plain TCP (tests that prove a refusal
    /// opens no socket; embedders with their own sockets).
    pub fn with_connector(mut self, connector: Arc<dyn Connector>) -> NetworkPolicy {
        self.connector = connector;
        self
    }

    /// Whether the host (name or IP literal, without port) is an allowed API host.
    pub fn check_host(&self, host: &str) -> Result<(), Refusal> {
        let h = host.trim_end_matches('.').to_ascii_lowercase();
        let h = h.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(&h);
        let allowed = self.hosts.iter().any(|p| match p {
            HostPattern::Exact(e) => e == h,
            HostPattern::Under(suffix) => h.ends_with(suffix.as_str()) && h.len() > suffix.len(),
        });
        if allowed { Ok(()) } else { Err(Refusal::HostNotAllowed { host: h.to_string() }) }
    }

    /// Whether an address may be connected to.
    pub fn check_address(&self, host: &str, address: IpAddr) -> Result<(), Refusal> {
        match classify(address) {
            Some(class) if !self.classes.contains(&class) => {
                Err(Refusal::AddressNotAllowed { host: host.to_string(), address, class })
            }
            _ => Ok(()),
        }
    }

    /// The allowed host patterns, as given (for messages and manifests).
    pub fn allowed_hosts(&self) -> Vec<String> {
        self.hosts
            .iter()
            .map(|p| match p {
                HostPattern::Exact(h) => h.clone(),
                HostPattern::Under(s) => format!("*{s}"),
            })
            .collect()
    }

    /// The allowed non-public address classes.
    pub fn allowed_classes(&self) -> &[AddressClass] {
        &self.classes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_match_exact_names_and_subdomains_only() {
        let p = NetworkPolicy::deny_all()
            .allow_host("QualysAPI.qualys.com")
            .unwrap()
            .allow_host("*.private.example")
            .unwrap()
            .allow_host("[::1]")
            .unwrap();
        for ok in ["qualysapi.qualys.com", "qualysapi.qualys.com.", "api.private.example", "[::1]", "::1"] {
            assert!(p.check_host(ok).is_ok(), "{ok}");
        }
        for refused in ["qualys.com", "evil-qualysapi.qualys.com", "private.example", "127.0.0.1", "x"] {
            assert!(matches!(p.check_host(refused), Err(Refusal::HostNotAllowed { .. })), "{refused}");
        }
        assert!(NetworkPolicy::deny_all().check_host("qualysapi.qualys.com").is_err());
        for bad in ["", "*", "*.com", "a/b", "*.*.x"] {
            assert!(NetworkPolicy::deny_all().allow_host(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn addresses_are_refused_by_class_unless_the_operator_allows_it() {
        let p = NetworkPolicy::deny_all();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(p.check_address("h", ip("64.41.200.249")).is_ok());
        let err = p.check_address("h", ip("169.254.169.254")).unwrap_err();
        assert!(err.to_string().contains("link-local") && err.to_string().contains("allow_address_class"));
        let p = p.allow_address_class(AddressClass::Loopback);
        assert!(p.check_address("h", ip("127.0.0.1")).is_ok());
        assert!(p.check_address("h", ip("10.0.0.1")).is_err());
        let p = p.allow_private_network();
        assert!(p.check_address("h", ip("10.0.0.1")).is_ok());
    }

    #[test]
    fn an_address_refusal_says_whether_the_host_is_the_address_or_resolved_to_it() {
        let p = NetworkPolicy::deny_all();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let literal = p.check_address("10.1.2.3", ip("10.1.2.3")).unwrap_err().to_string();
        assert!(literal.starts_with("'10.1.2.3' is a private address, and"), "{literal}");
        let name = p.check_address("api.example.test", ip("0.0.0.0")).unwrap_err().to_string();
        assert!(name.starts_with("'api.example.test' resolves to 0.0.0.0, an unspecified"), "{name}");
    }

    #[test]
    fn proxies_must_be_http_urls_and_trust_anchors_pem() {
        assert!(NetworkPolicy::deny_all().proxy("http://proxy.corp:3128", "localhost").is_ok());
        assert!(NetworkPolicy::deny_all().proxy("https://proxy.corp:3128", "").is_err());
        assert!(NetworkPolicy::deny_all().proxy("proxy.corp:3128", "").is_err());
        assert!(NetworkPolicy::deny_all().add_trust_anchors_pem(b"not pem").is_err());
    }
}
