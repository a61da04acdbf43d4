//! Durable collection past one machine: a Temporal worker that runs collects through
//! `connector-runtime`, one page an activity, with proofs kept in PostgreSQL.
//!
//! - [`workflow`]: the collect workflow (cursor and counts in its state, rate limits parked on
//!   durable timers, continue-as-new) and its activities.
//! - [`store`]: the proof store (runs, pages, rows) and the export of a run as a proof.
//! - [`account`]: one Qualys account's concurrency, shared by every collect that uses it.
//! - [`secrets`]: where a worker reads a tenant's credentials (never the engine or the database).

pub mod account;
pub mod secrets;
/// The proof store (crate `evidence-store`).
pub use evidence_store as store;
pub mod workflow;

/// The task queue collects run on unless told otherwise.
pub const TASK_QUEUE: &str = "evidence-collect";

/// A new run's id: the proof type, the tenant, the time and a random part.
pub fn new_run_id(tenant: &str, proof_type: &str) -> String {
    use std::hash::{BuildHasher, Hasher};
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    // RandomState is seeded from the OS: enough to tell two runs started in the same instant apart.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now.as_nanos());
    format!("{proof_type}-{tenant}-{}-{:08x}", now.as_millis(), h.finish() as u32)
}
