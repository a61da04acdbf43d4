//! Runs evidence-connector components (such as the Qualys connector) per tenant in a
//! wasmtime sandbox: only HTTPS to the tenant's allowed hosts, bounded memory, CPU and time,
//! and proofs written as JSON, JSON Lines or CSV.

#![warn(missing_docs)]

pub mod bindings;
pub mod collect;
pub mod error;
pub mod output;
pub mod policy;
pub mod reference;
pub mod runtime;
pub mod sandbox;

pub use bindings::types;
pub use collect::{CollectOptions, CollectRequest, CollectStats, Progress, collect_proof};
pub use error::CallError;
pub use output::{Format, ProofMeta, ProofSummary, ProofWriter};
pub use policy::{Origin, TenantPolicy};
pub use runtime::{CacheOutcome, CallReport, LoadInfo, Runtime, RuntimeOptions, Tenant};

/// Where the workspace builds the connector component.
pub const DEFAULT_PLUGIN: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/../target/plugin/wasm32-wasip2/release/qualys_connector.wasm");

/// Current time as RFC 3339 UTC (seconds).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats any UTC time")
}
