//! The connector's one error type: each case is something a host can act on, and carries a
//! message a person can act on. Messages never contain credentials.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    InvalidConfig(String),
    InvalidCriteria {
        criterion: String,
        message: String,
    },
    UnknownProofType(String),
    InvalidCursor(String),
    Authentication(String),
    Permission(String),
    RateLimited {
        retry_after_seconds: u32,
        resume_cursor: Option<String>,
        message: String,
    },
    Upstream {
        code: Option<String>,
        http_status: Option<u16>,
        message: String,
    },
    Transport(String),
    /// The body ended cleanly in the middle of the document. Without HTTP framing (no length,
    /// not chunked) that is a cut connection, worth a retry; with it, the body arrived whole and
    /// the server sent a cut document: the client turns it into [`Error::Malformed`].
    Truncated(String),
    /// A transport failure that a retry cannot mend (a TLS certificate the host does not trust).
    TransportFinal(String),
    /// The host's sandbox refused the request by its own policy; never retried.
    Denied(String),
    Malformed(String),
    Internal(String),
}

impl Error {
    pub fn criteria(criterion: &str, message: impl Into<String>) -> Error {
        Error::InvalidCriteria { criterion: criterion.to_string(), message: message.into() }
    }

    pub fn malformed(message: impl Into<String>) -> Error {
        Error::Malformed(message.into())
    }

    /// Adds where the failure happened (proof type, page) in front of the message.
    pub fn context(self, what: &str) -> Error {
        let pre = |m: String| format!("{what}: {m}");
        match self {
            Error::Transport(m) => Error::Transport(pre(m)),
            Error::Truncated(m) => Error::Truncated(pre(m)),
            Error::TransportFinal(m) => Error::TransportFinal(pre(m)),
            Error::Denied(m) => Error::Denied(pre(m)),
            Error::Malformed(m) => Error::Malformed(pre(m)),
            Error::Internal(m) => Error::Internal(pre(m)),
            other => other,
        }
    }

    /// Whether trying the same request again may succeed (a transient network or server fault).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Transport(_) | Error::Truncated(_) => true,
            Error::Upstream { http_status: Some(s), .. } => matches!(s, 500 | 502 | 503 | 504),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidConfig(m) => write!(f, "invalid config: {m}"),
            Error::InvalidCriteria { criterion, message } => {
                write!(f, "invalid criterion '{criterion}': {message}")
            }
            Error::UnknownProofType(m) => write!(f, "unknown proof type: {m}"),
            Error::InvalidCursor(m) => write!(f, "invalid cursor: {m}"),
            Error::Authentication(m) => write!(f, "authentication failed: {m}"),
            Error::Permission(m) => write!(f, "permission denied: {m}"),
            Error::RateLimited { retry_after_seconds, message, .. } => {
                write!(f, "rate limited (retry after {retry_after_seconds}s): {message}")
            }
            Error::Upstream { code, http_status, message } => {
                write!(f, "Qualys error")?;
                if let Some(code) = code {
                    write!(f, " {code}")?;
                }
                if let Some(status) = http_status {
                    write!(f, " (HTTP {status})")?;
                }
                write!(f, ": {message}")
            }
            Error::Transport(m) | Error::Truncated(m) | Error::TransportFinal(m) => {
                write!(f, "transport error: {m}")
            }
            Error::Denied(m) => write!(f, "refused by the host's sandbox: {m}"),
            Error::Malformed(m) => write!(f, "malformed response: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
        }
    }
}

impl std::error::Error for Error {}
