//! Runs evidence-connector components (such as the Qualys connector) for many tenants in a
//! wasmtime sandbox, and writes what they collect as proofs.
//!
//! - [`Runtime`]: one compiled component (precompiled artifacts cached on disk), on a shared
//!   or its own [`wasmtime::Engine`]; every call runs in a fresh store under the calling
//!   tenant's [`TenantPolicy`] (memory, CPU, deadline, response size, request budget).
//! - [`NetworkPolicy`]: the operator's rules for outbound HTTP, which no tenant can bend
//!   (allowed API hosts, address classes checked on every resolved address, proxy, trust
//!   anchors).
//! - [`checkpoint`]: a collect to a file that survives interruption: the rows so far in
//!   `FILE.partial`, where to continue in `FILE.checkpoint` (signed with the proof's key), and
//!   the checks a resume makes before it trusts either.
//! - [`Connections`]: the HTTP connections one tenant keeps open between its calls and
//!   reuses (never another tenant's), closed when idle.
//! - [`collect_proof`]: follows cursors to the end of a proof, riding out rate limits, and
//!   hands each page to a [`PageSink`], such as the proof crate's
//!   [`evidence_proof::ProofWriter`] (JSON, JSON Lines, CSV with a SHA-256 of the canonical
//!   rows). Proof files, signatures, verification and diffs live in [`evidence_proof`], which
//!   links no wasmtime; it is re-exported here so that an embedder uses the same version.
//!
//! The library has no command line, no simulator and no paths fixed at build time: the
//! embedder passes the component's bytes.

#![warn(missing_docs)]

pub mod adapter;
pub mod bindings;
pub mod cache;
pub mod checkpoint;
pub mod collect;
pub mod engine;
pub mod error;
pub mod network;
pub mod policy;
pub mod reference;
pub mod runtime;
pub mod sandbox;

pub use adapter::Contract;
pub use bindings::fields_of;
pub use bindings::types;
pub use collect::{CollectError, CollectOptions, CollectRequest, CollectStats, Progress, collect_proof};
pub use engine::EngineOptions;
pub use error::CallError;
pub use evidence_proof;
pub use evidence_proof::{PageContext, PageSink, now_rfc3339};
pub use network::{AddressClass, Connections, NetworkPolicy, PolicyError, Refusal};
pub use policy::{Origin, TenantPolicy};
pub use runtime::{
    CacheOutcome, CallReport, LoadInfo, Runtime, RuntimeOptions, Tenant, basic_token, scrub, secret_forms,
};
