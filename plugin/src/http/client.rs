//! The Qualys API client: every request of every proof type goes through [`Client::call`].
//!
//! - Auth: HTTP Basic on every call; `X-Requested-With` as API v2+ requires.
//! - Rate limits (Qualys API User Guide, "Rate and concurrency limits"): HTTP 409 with code
//!   1965 waits `X-RateLimit-ToWait-Sec`; code 1960 (concurrency) has no wait header and backs
//!   off on a timer. Short waits are ridden out here; long ones become `rate-limited`.
//! - Transient faults (5xx, connection reset, timeout, body cut short) retry with capped
//!   exponential back-off and full jitter, a bounded number of times. Other 4xx never retry.
//! - A response is parsed while it streams; a retry re-requests and re-parses the whole page,
//!   so a page is either complete or an error, never half.

use std::cell::Cell;
use std::io::{BufRead, Read};
use std::time::Duration;

use base64::Engine as _;
use qualys_platforms::ApiBase;

use super::{Method, Request, Response, Timeouts, Transport};
use crate::error::Error;
use crate::qualys_error;
use crate::xml;

/// How many times a transient fault is retried (so at most this + 1 attempts).
pub const MAX_RETRIES: u32 = 3;
/// First back-off delay; doubles each retry, capped by [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_secs(1);
/// Longest back-off delay between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// A retry starts only while less than this many first-byte timeouts have passed since the
/// call's first attempt. So a server that never answers is asked twice, not four times: with
/// the default 300 s first-byte timeout a hung server ends as a transport error after about
/// 600 s, well inside a host's default 900 s call deadline, instead of running into it.
pub const RETRY_WINDOW_TIMEOUTS: f64 = 1.5;
/// How many 409s one call rides out before handing the wait to the host.
pub const MAX_RATE_LIMIT_WAITS: u32 = 5;
/// Default longest wait ridden out in the component; longer waits return `rate-limited`.
pub const DEFAULT_MAX_INLINE_WAIT_SECS: u32 = 60;
/// First wait after a concurrency-limit 409 (no wait header is sent for it).
pub const CONCURRENCY_BACKOFF_SECS: u32 = 5;
/// Most of an error body that is read (error documents are small).
const ERROR_BODY_LIMIT: u64 = 64 * 1024;
/// Sent as `X-Requested-With`, and as the User-Agent.
pub const CLIENT_NAME: &str = "qualys-evidence-connector/0.1";

/// One API call, relative to the API server.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    /// Path and query, starting with '/'.
    pub path: String,
    /// Body and its content type (form parameters, or a QPS XML request).
    pub body: Option<(&'static str, Vec<u8>)>,
    /// A successful answer is CSV (the activity log), not XML; its errors are still XML.
    pub answers_csv: bool,
}

impl Call {
    /// A GET with query parameters.
    pub fn get(path: &str, params: &[(&str, &str)]) -> Call {
        let query = encode_form(params);
        let path = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
        Call { method: Method::Get, path, body: None, answers_csv: false }
    }

    /// A POST with form parameters in the body (long parameter lists never hit 414).
    pub fn post_form(path: &str, params: &[(&str, &str)]) -> Call {
        let body = encode_form(params).into_bytes();
        Call {
            method: Method::Post,
            path: path.to_string(),
            body: Some(("application/x-www-form-urlencoded", body)),
            answers_csv: false,
        }
    }

    /// The same call, whose successful answer is CSV.
    pub fn answering_csv(mut self) -> Call {
        self.answers_csv = true;
        self
    }

    /// A POST with an XML body (the QPS REST API).
    pub fn post_xml(path: &str, xml: String) -> Call {
        Call {
            method: Method::Post,
            path: path.to_string(),
            body: Some(("text/xml", xml.into_bytes())),
            answers_csv: false,
        }
    }
}

/// `application/x-www-form-urlencoded` encoding of parameters.
pub fn encode_form(params: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

/// The last rate-limit figures Qualys sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub rate_limit: Option<u32>,
    pub rate_remaining: Option<u32>,
    pub rate_window_secs: Option<u32>,
    pub concurrency_limit: Option<u32>,
    pub concurrency_running: Option<u32>,
}

/// The client for one collect or connect call; it keeps no state between calls.
pub struct Client<'t> {
    transport: &'t dyn Transport,
    base: ApiBase,
    authorization: String,
    timeouts: Timeouts,
    max_inline_wait: u32,
    limits: Cell<Limits>,
    requests: Cell<u32>,
}

enum Failure {
    Wait { seconds: u32, message: String },
    Fatal(Error),
}

impl<'t> Client<'t> {
    pub fn new(
        transport: &'t dyn Transport,
        base: ApiBase,
        username: &str,
        password: &str,
        timeouts: Timeouts,
        max_inline_wait: u32,
    ) -> Client<'t> {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
        Client {
            transport,
            base,
            authorization: format!("Basic {token}"),
            timeouts,
            max_inline_wait,
            limits: Cell::new(Limits::default()),
            requests: Cell::new(0),
        }
    }

    /// The API server this client talks to.
    pub fn base(&self) -> &ApiBase {
        &self.base
    }

    /// The rate-limit figures of the last response.
    pub fn limits(&self) -> Limits {
        self.limits.get()
    }

    /// The wall-clock time, epoch seconds.
    pub fn now(&self) -> i64 {
        self.transport.now()
    }

    /// How many HTTP requests this client sent.
    pub fn requests(&self) -> u32 {
        self.requests.get()
    }

    /// Makes a call and parses its successful body with `parse` while it streams. Retries
    /// transient faults and short rate-limit waits; everything else is a typed error.
    pub fn call<T>(
        &self,
        call: &Call,
        parse: &mut dyn FnMut(&mut dyn BufRead) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut retries = 0;
        let mut waits = 0;
        let mut concurrency_wait = CONCURRENCY_BACKOFF_SECS;
        let started = self.transport.monotonic_ms();
        let window_ms = (self.timeouts.first_byte.as_millis() as f64 * RETRY_WINDOW_TIMEOUTS) as u64;
        loop {
            match self.attempt(call, parse, &mut concurrency_wait) {
                Ok(v) => return Ok(v),
                Err(Failure::Wait { seconds, message }) => {
                    if seconds <= self.max_inline_wait && waits < MAX_RATE_LIMIT_WAITS {
                        waits += 1;
                        self.transport.sleep(Duration::from_secs(u64::from(seconds)));
                        continue;
                    }
                    return Err(Error::RateLimited {
                        retry_after_seconds: seconds.max(1),
                        resume_cursor: None,
                        message: format!(
                            "{message}. Qualys asks to wait {seconds}s; resume with the same cursor after that."
                        ),
                    });
                }
                Err(Failure::Fatal(e))
                    if e.is_transient()
                        && retries < MAX_RETRIES
                        && self.transport.monotonic_ms().saturating_sub(started) < window_ms =>
                {
                    let cap = (BASE_BACKOFF * 2u32.pow(retries)).min(MAX_BACKOFF);
                    let ms = self.transport.random_below(cap.as_millis() as u64 + 1);
                    retries += 1;
                    self.transport.sleep(Duration::from_millis(ms));
                }
                Err(Failure::Fatal(e)) => {
                    return Err(match e {
                        Error::Transport(m) | Error::Truncated(m) if retries > 0 => {
                            Error::Transport(format!(
                                "{m} (after {} attempts); check the network and that the API server is up, then try again",
                                retries + 1
                            ))
                        }
                        other => other,
                    });
                }
            }
        }
    }

    fn attempt<T>(
        &self,
        call: &Call,
        parse: &mut dyn FnMut(&mut dyn BufRead) -> Result<T, Error>,
        concurrency_wait: &mut u32,
    ) -> Result<T, Failure> {
        let request = self.request(call);
        self.requests.set(self.requests.get() + 1);
        let mut response = self.transport.send(&request, &self.timeouts).map_err(Failure::Fatal)?;
        self.read_limits(&response);
        // A body with a length or chunked framing that ended without an HTTP error arrived whole.
        let framed = response.header("content-length").is_some()
            || response
                .header("transfer-encoding")
                .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
        match response.status {
            200..=299 => {
                check_content_type(&response, call.answers_csv).map_err(Failure::Fatal)?;
                // `&mut *`: the parser calls the body reader per event; one dynamic dispatch, not two.
                match parse(&mut *response.body) {
                    Ok(v) => Ok(v),
                    Err(Error::Truncated(m)) if framed => Err(Failure::Fatal(Error::Malformed(m.replace(
                        "the connection was probably cut",
                        "the body arrived whole by its HTTP framing, so the server sent a cut document",
                    )))),
                    // Some /msp/ scripts report limits in a 200 body.
                    Err(Error::RateLimited { message, .. }) => Err(Failure::Wait {
                        seconds: self.wait_after_409(&response, concurrency_wait),
                        message,
                    }),
                    Err(e) => Err(Failure::Fatal(e)),
                }
            }
            409 => {
                let err = self.error_from_body(&mut response);
                let seconds = self.wait_after_409(&response, concurrency_wait);
                match err {
                    Error::RateLimited { message, .. } => Err(Failure::Wait { seconds, message }),
                    Error::Upstream { message, .. } => Err(Failure::Wait { seconds, message }),
                    other => Err(Failure::Fatal(other)),
                }
            }
            300..=399 => {
                let to = response.header("location").unwrap_or("(no location)").to_string();
                let hint = match self.base.same_origin_path(&to) {
                    Ok(_) => "check the API URL (a trailing path or http vs https)".to_string(),
                    Err(e) => format!(
                        "{e}; the connector never follows redirects off the API server, check the platform or API URL"
                    ),
                };
                Err(Failure::Fatal(Error::Upstream {
                    code: None,
                    http_status: Some(response.status),
                    message: format!("Qualys redirected the request to {to}: {hint}"),
                }))
            }
            401 => {
                let err = self.error_from_body(&mut response);
                Err(Failure::Fatal(match err {
                    e @ Error::Authentication(_) => e,
                    _ => Error::Authentication(qualys_error::AUTH_HELP.to_string()),
                }))
            }
            _ => Err(Failure::Fatal(self.error_from_body(&mut response))),
        }
    }

    fn request(&self, call: &Call) -> Request {
        let mut headers = vec![
            ("authorization", self.authorization.clone()),
            ("x-requested-with", CLIENT_NAME.to_string()),
            ("user-agent", CLIENT_NAME.to_string()),
            ("accept", "application/xml, text/xml".to_string()),
        ];
        if let Some((content_type, _)) = &call.body {
            headers.push(("content-type", (*content_type).to_string()));
        }
        Request {
            method: call.method,
            url: format!("{}{}", self.base.url(), call.path),
            headers,
            body: call.body.as_ref().map(|(_, b)| b.clone()),
        }
    }

    fn read_limits(&self, response: &Response<'_>) {
        let num = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u32>().ok());
        let mut limits = self.limits.get();
        let fresh = Limits {
            rate_limit: num("x-ratelimit-limit"),
            rate_remaining: num("x-ratelimit-remaining"),
            rate_window_secs: num("x-ratelimit-window-sec"),
            concurrency_limit: num("x-concurrency-limit-limit"),
            concurrency_running: num("x-concurrency-limit-running"),
        };
        macro_rules! keep {
            ($($f:ident),*) => { $( if fresh.$f.is_some() { limits.$f = fresh.$f; } )* };
        }
        keep!(rate_limit, rate_remaining, rate_window_secs, concurrency_limit, concurrency_running);
        self.limits.set(limits);
    }

    fn wait_after_409(&self, response: &Response<'_>, concurrency_wait: &mut u32) -> u32 {
        match response.header("x-ratelimit-towait-sec").and_then(|v| v.trim().parse::<u32>().ok()) {
            Some(seconds) => seconds,
            None => {
                // Concurrency limit: no header; back off 5, 10, 20 ... seconds.
                let s = *concurrency_wait;
                *concurrency_wait = (s * 2).min(MAX_BACKOFF.as_secs() as u32 * 4);
                s
            }
        }
    }

    /// Reads a (small) error body and turns it, with the status, into a typed error.
    fn error_from_body(&self, response: &mut Response<'_>) -> Error {
        let status = response.status;
        let mut limited = (&mut response.body).take(ERROR_BODY_LIMIT);
        let mut body = std::io::BufReader::new(&mut limited);
        match xml::read_error_body(&mut body, status) {
            Err(
                e @ (Error::Upstream { .. }
                | Error::Authentication(_)
                | Error::Permission(_)
                | Error::RateLimited { .. }),
            ) => match e {
                Error::Upstream { code, message, .. } => {
                    Error::Upstream { code, http_status: Some(status), message }
                }
                other => other,
            },
            _ => qualys_error::classify(None, &status_text(status), Some(status)),
        }
    }
}

fn status_text(status: u16) -> String {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found (check the API URL: it must be the API server, e.g. https://qualysapi.qualys.com)",
        414 => "URI Too Long",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable (Qualys may be in maintenance)",
        504 => "Gateway Timeout",
        _ => "unexpected status",
    };
    format!("HTTP {status} {reason}")
}

fn check_content_type(response: &Response<'_>, csv: bool) -> Result<(), Error> {
    match response.header("content-type") {
        None => Ok(()),
        Some(ct) if ct.to_ascii_lowercase().contains("xml") => Ok(()),
        // The CSV answer's content type is unverified: anything but HTML reaches the parser,
        // which tells CSV from an XML error document by the body itself.
        Some(ct) if csv && !ct.to_ascii_lowercase().contains("html") => Ok(()),
        Some(ct) if ct.to_ascii_lowercase().contains("html") => Err(Error::malformed(format!(
            "Qualys answered with an HTML page ({ct}) instead of XML; a proxy, firewall or \
             maintenance page is in the way, or the API URL points to the web UI"
        ))),
        Some(ct) => Err(Error::malformed(format!("expected an XML response, got content type {ct}"))),
    }
}
