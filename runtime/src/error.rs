//! Errors of the host library: the connector's own typed error, or what the sandbox did.

use crate::bindings::types::ConnectorError;

/// Why a call into a connector failed.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The connector returned a typed error.
    #[error("{}", describe(.0))]
    Connector(ConnectorError),
    /// The guest trapped (a bug or a panic in the connector); the host and other tenants are fine.
    #[error("the connector crashed: {0}")]
    Trap(String),
    /// The call ran past its wall-clock deadline and was stopped.
    #[error("the call ran longer than its {0:?} deadline and was stopped")]
    Deadline(std::time::Duration),
    /// The call used up its CPU budget and was stopped.
    #[error("the connector used more than its {0:?} CPU budget and was stopped")]
    CpuBudget(std::time::Duration),
    /// The component tried to grow its memory past the tenant's limit.
    #[error("the connector needed more than the tenant's {0} bytes of memory and was stopped")]
    Memory(usize),
    /// The host could not set up the call or keep its results (instantiation, writing pages).
    #[error("the host failed {context}: {source}")]
    Host {
        /// What the host was doing.
        context: String,
        /// Why it failed.
        #[source]
        source: BoxError,
    },
}

/// An error kept with its chain.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl CallError {
    /// A host failure while doing `context`.
    pub fn host(context: &str, source: impl Into<BoxError>) -> CallError {
        CallError::Host { context: context.to_string(), source: source.into() }
    }
}

/// A wasmtime error as an `anyhow` error, keeping its message chain.
pub(crate) fn to_anyhow(e: wasmtime::Error) -> anyhow::Error {
    anyhow::Error::from_boxed(e.into_boxed_dyn_error())
}

impl CallError {
    /// A short, stable name of the error kind (for exit codes, logs and summaries).
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Connector(e) => match e {
                ConnectorError::InvalidConfig(_) => "invalid-config",
                ConnectorError::InvalidCriteria(_) => "invalid-criteria",
                ConnectorError::UnknownProofType(_) => "unknown-proof-type",
                ConnectorError::InvalidCursor(_) => "invalid-cursor",
                ConnectorError::Denied(_) => "denied",
                ConnectorError::Authentication(_) => "authentication",
                ConnectorError::Permission(_) => "permission",
                ConnectorError::RateLimited(_) => "rate-limited",
                ConnectorError::Upstream(_) => "upstream",
                ConnectorError::Transport(_) => "transport",
                ConnectorError::MalformedResponse(_) => "malformed-response",
                ConnectorError::Internal(_) => "internal",
            },
            CallError::Trap(_) => "trap",
            CallError::Deadline(_) => "deadline",
            CallError::CpuBudget(_) => "cpu-budget",
            CallError::Memory(_) => "memory-limit",
            CallError::Host { .. } => "host",
        }
    }
}

/// A one-line description of a connector error, for people.
pub fn describe(e: &ConnectorError) -> String {
    match e {
        ConnectorError::InvalidConfig(m) => format!("invalid configuration: {m}"),
        ConnectorError::InvalidCriteria(c) => format!("invalid criterion '{}': {}", c.criterion, c.message),
        ConnectorError::UnknownProofType(m) => format!("unknown proof type: {m}"),
        ConnectorError::InvalidCursor(m) => format!("invalid cursor: {m}"),
        ConnectorError::Denied(m) => format!("refused by the sandbox's network policy: {m}"),
        ConnectorError::Authentication(m) => format!("authentication failed: {m}"),
        ConnectorError::Permission(m) => format!("permission denied: {m}"),
        ConnectorError::RateLimited(r) => {
            format!("rate limited, retry after {}s: {}", r.retry_after_seconds, r.message)
        }
        ConnectorError::Upstream(u) => {
            let mut s = "the service answered with an error".to_string();
            if let Some(code) = &u.code {
                s.push_str(&format!(" {code}"));
            }
            if let Some(status) = u.http_status {
                s.push_str(&format!(" (HTTP {status})"));
            }
            format!("{s}: {}", u.message)
        }
        ConnectorError::Transport(m) => format!("could not reach the service: {m}"),
        ConnectorError::MalformedResponse(m) => {
            format!("the service sent a response that could not be read: {m}")
        }
        ConnectorError::Internal(m) => format!("connector bug: {m}"),
    }
}
