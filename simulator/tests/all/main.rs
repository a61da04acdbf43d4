//! The simulator against what Qualys documents and what its clients need: one test binary,
//! a module per area; `common` holds the shared HTTP client and content models.

mod body_rate;
mod common;
mod conformance;
mod streaming;
mod tls;
