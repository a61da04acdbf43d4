//! A faithful fake Qualys API on loopback, for tests and demos. It serves the documented XML
//! shapes (DOCTYPE lines, CDATA, RESPONSE/DATETIME, WARNING/TRUNCATION paging, QPS
//! ServiceResponse), checks Basic auth and `X-Requested-With`, rejects unknown parameters, sends
//! Qualys' rate-limit headers, and can inject faults. Data sets are generated from a seed.

// Routes return early with ready HTTP responses; boxing them would only add noise.
#![allow(clippy::result_large_err)]

pub mod accounts;
pub mod data;
pub mod faults;
mod rng;
mod routes;
pub mod server;
pub mod xmlw;

pub use accounts::{Account, AccountState};
pub use data::Sizes;
pub use faults::{Fault, FaultRule};
pub use server::{Fixture, RateLimit, RequestRecord, SimConfig, Simulator};
