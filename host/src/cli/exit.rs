//! Exit codes, one per kind of failure a script may want to act on (documented in the README).

use connector_runtime::CallError;
use connector_runtime::types::ConnectorError;

/// Success.
pub const OK: u8 = 0;
/// The host itself failed (cannot read the plugin, cannot write the output).
pub const HOST: u8 = 1;
/// Usage or configuration: bad flags, unknown platform, invalid criteria.
pub const CONFIG: u8 = 2;
/// Authentication or permission: fix the Qualys account.
pub const AUTH: u8 = 3;
/// Rate limited and the wait was longer than allowed: run again later.
pub const RATE_LIMITED: u8 = 4;
/// Qualys answered with an error, or with something unreadable.
pub const UPSTREAM: u8 = 5;
/// Qualys could not be reached (network, TLS, timeout, sandbox refusal).
pub const TRANSPORT: u8 = 6;
/// The connector failed in its sandbox (crash, deadline, CPU or memory limit, bug).
pub const SANDBOX: u8 = 7;
/// The operator's network policy refused a request (origin or address not allowed, body budget).
pub const DENIED: u8 = 8;
/// `verify`: the rows do not match the proof's digest or row count.
pub const ROWS_CHANGED: u8 = 10;
/// `verify`: the metadata is missing, damaged, or not what was signed.
pub const METADATA_CHANGED: u8 = 11;
/// `verify`: signed, by another key than `--public-key`.
pub const WRONG_KEY: u8 = 12;
/// `verify`: the rows match the digest, but the proof is not signed.
pub const UNSIGNED: u8 = 13;
/// `verify`: intact and signed, but no `--public-key` was given to say by whom.
pub const UNTRUSTED: u8 = 14;
/// Interrupted by Ctrl-C or SIGTERM (128 + SIGINT, as shells report it); a checkpoint is kept.
pub const INTERRUPTED: u8 = 130;

/// The exit code of a call error.
pub fn code(e: &CallError) -> u8 {
    match e {
        CallError::Connector(c) => match c {
            ConnectorError::InvalidConfig(_)
            | ConnectorError::InvalidCriteria(_)
            | ConnectorError::UnknownProofType(_)
            | ConnectorError::InvalidCursor(_) => CONFIG,
            ConnectorError::Denied(_) => DENIED,
            ConnectorError::Authentication(_) | ConnectorError::Permission(_) => AUTH,
            ConnectorError::RateLimited(_) => RATE_LIMITED,
            ConnectorError::Upstream(_) | ConnectorError::MalformedResponse(_) => UPSTREAM,
            ConnectorError::Transport(_) => TRANSPORT,
            ConnectorError::Internal(_) => SANDBOX,
        },
        CallError::Trap(_) | CallError::Deadline(_) | CallError::CpuBudget(_) | CallError::Memory(_) => {
            SANDBOX
        }
        CallError::Host { .. } => HOST,
    }
}
