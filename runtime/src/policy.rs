//! Per-tenant limits: how much one tenant's calls may use, and which of the operator's
//! allowed origins this tenant may reach (its own API server, usually).

use std::time::Duration;

use crate::network::PolicyError;

/// An origin a tenant may reach: scheme, host and port, all three matched exactly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// True for https.
    pub https: bool,
    /// Lower-case host name or IP literal (IPv6 with brackets).
    pub host: String,
    /// Port, explicit or the scheme's default.
    pub port: u16,
}

impl Origin {
    /// Parses the origin of an `http(s)://host[:port][/path]` URL.
    pub fn parse(url: &str) -> Result<Origin, PolicyError> {
        let uri: http::Uri =
            url.trim().parse().map_err(|e| PolicyError(format!("'{url}' is not a URL: {e}")))?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(PolicyError(format!(
                    "'{url}' must start with https:// (or http:// for loopback)"
                )));
            }
        };
        let host = uri
            .host()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| PolicyError(format!("'{url}' has no host")))?
            .to_ascii_lowercase();
        let host = if host.contains(':') && !host.starts_with('[') { format!("[{host}]") } else { host };
        Ok(Origin { https, host, port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }) })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", if self.https { "https" } else { "http" }, self.host, self.port)
    }
}

/// What one tenant's calls may do. Every limit has a default sized for Qualys proofs.
#[derive(Debug, Clone)]
pub struct TenantPolicy {
    /// Origins this tenant's calls may reach, within the operator's network policy; requests
    /// to any other origin are refused before connecting.
    pub allowed_origins: Vec<Origin>,
    /// Largest linear memory of the component, in bytes.
    pub max_memory_bytes: usize,
    /// CPU budget per call, as time spent running guest code (measured in epoch ticks).
    pub cpu_budget: Duration,
    /// Wall-clock deadline per call, waiting included.
    pub call_deadline: Duration,
    /// Largest response body the component may receive, in bytes.
    pub max_response_bytes: u64,
    /// Most HTTP requests one call may send.
    pub max_requests_per_call: u32,
    /// Longest HTTP timeout the component may set (connect, first byte, between bytes).
    pub max_http_timeout: Duration,
}

/// Default largest linear memory: 256 MiB.
pub const DEFAULT_MAX_MEMORY: usize = 256 << 20;
/// Default CPU budget per call.
pub const DEFAULT_CPU_BUDGET: Duration = Duration::from_secs(60);
/// Default wall-clock deadline per call: above the plugin's longest HTTP timeout plus retries.
pub const DEFAULT_CALL_DEADLINE: Duration = Duration::from_secs(15 * 60);
/// Default largest response body: 64 MiB (a 1,000-host page with all details is a few MB).
pub const DEFAULT_MAX_RESPONSE: u64 = 64 << 20;
/// Default most requests per call (a page, its retries, and connect's probes).
pub const DEFAULT_MAX_REQUESTS: u32 = 64;
/// Default longest HTTP timeout.
pub const DEFAULT_MAX_HTTP_TIMEOUT: Duration = Duration::from_secs(600);

impl TenantPolicy {
    /// The default limits, reaching nothing.
    pub fn deny_all() -> TenantPolicy {
        TenantPolicy {
            allowed_origins: Vec::new(),
            max_memory_bytes: DEFAULT_MAX_MEMORY,
            cpu_budget: DEFAULT_CPU_BUDGET,
            call_deadline: DEFAULT_CALL_DEADLINE,
            max_response_bytes: DEFAULT_MAX_RESPONSE,
            max_requests_per_call: DEFAULT_MAX_REQUESTS,
            max_http_timeout: DEFAULT_MAX_HTTP_TIMEOUT,
        }
    }

    /// The default limits, reaching one origin (the tenant's API server).
    pub fn for_origin(origin: Origin) -> TenantPolicy {
        TenantPolicy { allowed_origins: vec![origin], ..TenantPolicy::deny_all() }
    }

    /// Whether a request to this origin is allowed for the tenant.
    pub fn allows(&self, origin: &Origin) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_with_default_ports_and_bracketed_ipv6() {
        let o = Origin::parse("https://QualysAPI.qualys.com/").unwrap();
        assert_eq!(o.to_string(), "https://qualysapi.qualys.com:443");
        assert_eq!(Origin::parse("http://[::1]:8080").unwrap().to_string(), "http://[::1]:8080");
        assert!(Origin::parse("ftp://x").is_err());
        assert!(Origin::parse("qualysapi.qualys.com").is_err());
    }
}
