//! Per-tenant sandbox policy: where the component may connect, and how much it may use.

use std::time::Duration;

use qualys_platforms::{ApiBase, Scheme};

/// An origin the component may reach: scheme, host and port, all three matched exactly.
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
    /// The origin of an API base URL.
    pub fn of(base: &ApiBase) -> Origin {
        Origin { https: base.scheme == Scheme::Https, host: base.host.clone(), port: base.effective_port() }
    }

    /// Parses `https://host[:port]` (http only for loopback), with the fix in the error.
    pub fn parse(url: &str) -> Result<Origin, PolicyError> {
        ApiBase::parse(url).map(|b| Origin::of(&b)).map_err(|e| PolicyError(e.0))
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", if self.https { "https" } else { "http" }, self.host, self.port)
    }
}

/// A policy that cannot be used, with what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid tenant policy: {0}")]
pub struct PolicyError(pub String);

/// What one tenant's calls may do. Every limit has a default sized for Qualys proofs.
#[derive(Debug, Clone)]
pub struct TenantPolicy {
    /// Origins the component may send requests to; everything else is refused before connecting.
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
    /// The default policy for an API server: only its origin is reachable.
    pub fn for_api(base: &ApiBase) -> TenantPolicy {
        TenantPolicy {
            allowed_origins: vec![Origin::of(base)],
            max_memory_bytes: DEFAULT_MAX_MEMORY,
            cpu_budget: DEFAULT_CPU_BUDGET,
            call_deadline: DEFAULT_CALL_DEADLINE,
            max_response_bytes: DEFAULT_MAX_RESPONSE,
            max_requests_per_call: DEFAULT_MAX_REQUESTS,
            max_http_timeout: DEFAULT_MAX_HTTP_TIMEOUT,
        }
    }

    /// The default policy for a platform code or custom API URL, as the connector will route
    /// it: the platform's API server (which also serves the Cloud Agent QPS API) or the URL.
    pub fn for_platform(platform: &str, api_url: Option<&str>) -> Result<TenantPolicy, PolicyError> {
        let base = resolve_api(platform, api_url)?;
        Ok(TenantPolicy::for_api(&base))
    }

    /// Whether a request to this origin is allowed.
    pub fn allows(&self, origin: &Origin) -> bool {
        self.allowed_origins.iter().any(|o| o == origin)
    }
}

/// The API base URL for a platform code or a custom URL (the custom URL wins).
pub fn resolve_api(platform: &str, api_url: Option<&str>) -> Result<ApiBase, PolicyError> {
    match api_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => ApiBase::parse(url).map_err(|e| PolicyError(e.0)),
        None => {
            let p = qualys_platforms::find(platform).ok_or_else(|| {
                PolicyError(format!(
                    "unknown platform '{platform}'; use one of {}, or --api-url",
                    qualys_platforms::codes()
                ))
            })?;
            ApiBase::parse(p.api_url).map_err(|e| PolicyError(e.0))
        }
    }
}
