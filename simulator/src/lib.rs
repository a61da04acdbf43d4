//! A fake Qualys API on loopback, for tests and demos, kept faithful to the project's field notes
//! (`qualys-field-notes.md`): it serves the documented XML shapes (DOCTYPE lines, comments around
//! the root, CDATA with surrounding whitespace, RESPONSE/DATETIME, WARNING/TRUNCATION paging,
//! QPS ServiceResponse), answers errors the way each API family does (SIMPLE_RETURN on /api/,
//! GENERIC_RETURN or `ERROR` inside the normal root on /msp/, HTTP 200 ServiceResponse on /qps/),
//! checks Basic auth and `X-Requested-With` (on /api/ only), rejects unknown parameters, sends
//! Qualys' rate-limit headers (not on /qps/), and can inject faults. Data sets are generated from
//! a seed. Each response shape cites its source next to the code that builds it: `real` (a
//! recorded response of a live server), `doc` (Qualys documentation or DTD), `sdk` (what public
//! clients parse) or `unverified`; `tests/conformance.rs` checks every route against the
//! documented content models. Plain HTTP by default; with `SimConfig::tls` (`--tls`) it serves
//! HTTPS as real Qualys does, with a certificate from a CA of its own (`tls`).

// Routes return early with ready HTTP responses; boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod accounts;
pub mod data;
pub mod errors;
pub mod faults;
mod rng;
mod routes;
pub mod server;
pub mod tls;
pub mod xmlw;

pub use accounts::{Account, AccountState};
pub use data::Sizes;
pub use faults::{Fault, FaultRule};
/// The routes the simulator serves, and the root element each answers with (used by the
/// registry-wide checks).
pub use routes::{CSV_ROOT, REGISTRY as ROUTES, Route, root_element};
pub use server::{Fixture, RateLimit, RequestRecord, SimConfig, Simulator};
pub use tls::SimTls;
