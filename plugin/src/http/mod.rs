//! Outbound HTTP: the transport seam and the one Qualys client (auth, headers, retries,
//! rate limits, error mapping). Proof types describe a call; they never touch HTTP.

pub mod client;
pub mod wasi;

use std::io::BufRead;
use std::time::Duration;

use crate::error::Error;

/// HTTP method of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

/// A request as the transport sends it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// Absolute URL, already checked against the configured API server.
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

/// A response whose body is read as it arrives.
pub struct Response<'a> {
    pub status: u16,
    /// Header names lower-cased.
    pub headers: Vec<(String, String)>,
    pub body: Box<dyn BufRead + 'a>,
}

impl Response<'_> {
    /// The first value of a header, by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Request timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_byte: Duration,
    pub between_bytes: Duration,
}

impl Default for Timeouts {
    /// Generous by design: Qualys takes minutes to start large host lists, and connectors that
    /// used short timeouts failed in the field.
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(30),
            first_byte: Duration::from_secs(300),
            between_bytes: Duration::from_secs(120),
        }
    }
}

/// What the client needs from the outside world: send a request, wait, and a little randomness.
pub trait Transport {
    /// Sends one request and returns the response with its body unread.
    fn send(&self, request: &Request, timeouts: &Timeouts) -> Result<Response<'_>, Error>;
    /// Waits without spinning.
    fn sleep(&self, duration: Duration);
    /// A random number in `0..bound` for back-off jitter.
    fn random_below(&self, bound: u64) -> u64;
    /// The wall-clock time, in seconds since the Unix epoch.
    fn now(&self) -> i64;
    /// A monotonic clock, in milliseconds from an arbitrary origin.
    fn monotonic_ms(&self) -> u64;
}
