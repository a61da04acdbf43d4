//! Runs evidence-connector components (such as the Qualys connector) for many tenants in a
//! wasmtime sandbox, and writes what they collect as proofs.
//!
//! - [`Runtime`]: one compiled component (precompiled artifacts cached on disk), on a shared
//!   or its own [`wasmtime::Engine`]; every call runs in a fresh store under the calling
//!   tenant's [`TenantPolicy`] (memory, CPU, deadline, response size, request budget).
//! - [`NetworkPolicy`]: the operator's rules for outbound HTTP, which no tenant can bend
//!   (allowed API hosts, address classes checked on every resolved address, proxy, trust
//!   anchors).
//! - [`Connections`]: the HTTP connections one tenant keeps open between its calls and
//!   reuses (never another tenant's), closed when idle.
//! - [`collect_proof`]: follows cursors to the end of a proof, riding out rate limits, and
//!   hands each page to a [`PageSink`] such as [`ProofWriter`] (JSON, JSON Lines, CSV with a
//!   SHA-256 of the canonical rows).
//!
//! The library has no command line, no simulator and no paths fixed at build time: the
//! embedder passes the component's bytes.

#![warn(missing_docs)]

pub mod bindings;
pub mod cache;
pub mod collect;
pub mod engine;
pub mod error;
pub mod network;
pub mod output;
pub mod policy;
pub mod proof;
pub mod reference;
pub mod runtime;
pub mod sandbox;

pub use bindings::types;
pub use collect::{
    CollectError, CollectOptions, CollectRequest, CollectStats, PageContext, PageSink, Progress,
    collect_proof,
};
pub use engine::EngineOptions;
pub use error::CallError;
pub use network::{AddressClass, Connections, NetworkPolicy, PolicyError, Refusal};
pub use output::{Format, ProofMeta, ProofSummary, ProofWriter, WriterState};
pub use policy::{Origin, TenantPolicy};
pub use proof::Provenance;
pub use runtime::{CacheOutcome, CallReport, LoadInfo, Runtime, RuntimeOptions, Tenant};

/// Current time as RFC 3339 UTC (seconds).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats any UTC time")
}
