//! Helpers of the simulator's integration tests.

pub mod content_model;
pub mod http;
pub mod models;
