//! The transport inside the component: WASI HTTP `outgoing-handler`, a monotonic-clock
//! pollable for waits, and WASI random for jitter. The response body is handed to the parser
//! as a reader over the incoming stream, so it is never buffered whole.

use std::io::{self, BufRead, Read};
use std::time::Duration;

use super::{Method, Request, Response, Timeouts, Transport};
use crate::bindings::wasi::clocks::{monotonic_clock, wall_clock};
use crate::bindings::wasi::http::outgoing_handler;
use crate::bindings::wasi::http::types::http_error_code;
use crate::bindings::wasi::http::types::{
    ErrorCode, Fields, IncomingBody, IncomingResponse, Method as WasiMethod, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use crate::bindings::wasi::io::error::Error as IoError;
use crate::bindings::wasi::io::streams::{InputStream, StreamError};
use crate::bindings::wasi::random::random;
use crate::error::Error;

/// Most bytes asked of the response stream per read. The host answers with what it has
/// (at most one network frame), so this only caps how much one read can hand over.
const CHUNK: u64 = 64 * 1024;

/// WASI HTTP, as the host allows it.
pub struct WasiTransport;

impl Transport for WasiTransport {
    fn send(&self, request: &Request, timeouts: &Timeouts) -> Result<Response<'_>, Error> {
        let (scheme, rest) = if let Some(rest) = request.url.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = request.url.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else {
            return Err(Error::Internal(format!("not an http(s) URL: {}", request.url)));
        };
        let split = rest.find('/').unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);

        let entries: Vec<(String, Vec<u8>)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
            .collect();
        let headers = Fields::from_list(&entries)
            .map_err(|e| Error::Internal(format!("request headers refused: {e:?}")))?;
        let outgoing = OutgoingRequest::new(headers);
        let method = match request.method {
            Method::Get => WasiMethod::Get,
            Method::Post => WasiMethod::Post,
        };
        let bad = |what: &str| Error::Internal(format!("the host refused the request's {what}"));
        outgoing.set_method(&method).map_err(|()| bad("method"))?;
        outgoing.set_scheme(Some(&scheme)).map_err(|()| bad("scheme"))?;
        outgoing.set_authority(Some(authority)).map_err(|()| bad("authority"))?;
        outgoing
            .set_path_with_query(Some(if path.is_empty() { "/" } else { path }))
            .map_err(|()| bad("path"))?;
        let body = outgoing.body().map_err(|()| bad("body"))?;

        let options = RequestOptions::new();
        // A host may not support every option; the host's own limits then apply.
        let _ = options.set_connect_timeout(Some(nanos(timeouts.connect)));
        let _ = options.set_first_byte_timeout(Some(nanos(timeouts.first_byte)));
        let _ = options.set_between_bytes_timeout(Some(nanos(timeouts.between_bytes)));

        let pending = outgoing_handler::handle(outgoing, Some(options)).map_err(transport_error)?;
        if let Some(bytes) = &request.body {
            let stream = body.write().map_err(|()| bad("body stream"))?;
            for chunk in bytes.chunks(4096) {
                stream.blocking_write_and_flush(chunk).map_err(|e| {
                    Error::Transport(format!("sending the request body failed: {}", write_failure(&e)))
                })?;
            }
            drop(stream);
        }
        // Finish the body before waiting, or the server never sees a complete request.
        OutgoingBody::finish(body, None).map_err(transport_error)?;

        let pollable = pending.subscribe();
        pollable.block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(transport_error(code)),
            Some(Err(())) => return Err(Error::Internal("response taken twice".into())),
            None => return Err(Error::Internal("response not ready after waiting".into())),
        };
        let status = response.status();
        let headers = response
            .headers()
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
            .collect();
        let incoming = response.consume().map_err(|()| bad("response body"))?;
        let stream = incoming.stream().map_err(|()| bad("response stream"))?;
        let reader = BodyReader {
            chunk: Vec::new(),
            pos: 0,
            stream: Some(stream),
            body: Some(incoming),
            _response: response,
        };
        Ok(Response { status, headers, body: Box::new(reader) as Box<dyn BufRead> })
    }

    fn sleep(&self, duration: Duration) {
        monotonic_clock::subscribe_duration(nanos(duration)).block();
    }

    fn random_below(&self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { random::get_random_u64() % bound }
    }

    fn now(&self) -> i64 {
        i64::try_from(wall_clock::now().seconds).unwrap_or(i64::MAX)
    }

    fn monotonic_ms(&self) -> u64 {
        monotonic_clock::now() / 1_000_000
    }
}

/// Reads the incoming body stream. Each read hands over a buffer the host filled (the
/// canonical ABI allocates it in our memory); the reader serves it in place, without copying
/// it into a buffer of its own. Fields drop in declaration order: the stream before its body,
/// the body before its response, as WASI requires of child resources.
struct BodyReader {
    /// The last chunk read, served from `pos`.
    chunk: Vec<u8>,
    pos: usize,
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    _response: IncomingResponse,
}

impl BodyReader {
    /// The next chunk of the body; `None` at its end.
    fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let Some(stream) = &self.stream else { return Ok(None) };
        match stream.blocking_read(CHUNK) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(StreamError::Closed) => {
                self.stream = None;
                if let Some(body) = self.body.take() {
                    // Surfaces an error the host saw after the last byte (e.g. body too large).
                    let trailers = IncomingBody::finish(body);
                    trailers.subscribe().block();
                    if let Some(Ok(Err(code))) = trailers.get() {
                        let kind = match code {
                            ErrorCode::HttpResponseBodySize(_) => io::ErrorKind::PermissionDenied,
                            _ => io::ErrorKind::Other,
                        };
                        return Err(io::Error::new(kind, describe(&code)));
                    }
                }
                Ok(None)
            }
            Err(StreamError::LastOperationFailed(e)) => {
                self.stream = None;
                Err(read_failure(&e))
            }
        }
    }
}

impl BufRead for BodyReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.chunk.len() {
            match self.next_chunk()? {
                Some(chunk) => (self.chunk, self.pos) = (chunk, 0),
                None => {
                    (self.chunk, self.pos) = (Vec::new(), 0);
                    break;
                }
            }
        }
        Ok(&self.chunk[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.chunk.len());
    }
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

/// A failed read of the response body. The host refusing the body's size is its policy, final
/// (`PermissionDenied`: never retried). Anything else is a transport fault the client retries
/// (`Other`), whatever the host's error code says or fails to say: a reset, a cut, a timeout,
/// a code that does not fit, no code at all. Hosts differ here (jco's preview2-shim, for one,
/// has no code for a reset mid-body), and the fault is the same to the connector.
fn read_failure(e: &IoError) -> io::Error {
    let detail = e.to_debug_string();
    match http_error_code(e) {
        Some(code @ ErrorCode::HttpResponseBodySize(_)) => {
            io::Error::new(io::ErrorKind::PermissionDenied, describe(&code))
        }
        // Some hosts report the size refusal only as text.
        None if detail.contains("body size exceeds limit") => {
            io::Error::new(io::ErrorKind::PermissionDenied, describe(&ErrorCode::HttpResponseBodySize(None)))
        }
        Some(code) => io::Error::other(describe(&code)),
        None => {
            io::Error::other(with_detail("the connection broke while the response was being read", &detail))
        }
    }
}

/// Why writing the request body failed, in words.
fn write_failure(e: &StreamError) -> String {
    match e {
        StreamError::Closed => {
            "the API server closed the connection while the request was being sent".to_string()
        }
        StreamError::LastOperationFailed(e) => match http_error_code(e) {
            Some(code) => describe(&code),
            None => {
                with_detail("the connection broke while the request was being sent", &e.to_debug_string())
            }
        },
    }
}

/// `what`, with the host's own words about it when it has any.
/// `what (detail)`. A host's error text is its own debug form, which may run on with a host
/// backtrace: only its first line is kept, and at most 300 bytes of it.
fn with_detail(what: &str, detail: &str) -> String {
    let mut detail = detail.lines().next().unwrap_or("").trim();
    if detail.len() > 300 {
        let mut end = 300;
        while !detail.is_char_boundary(end) {
            end -= 1;
        }
        detail = &detail[..end];
    }
    if detail.is_empty() { what.to_string() } else { format!("{what} ({detail})") }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

fn transport_error(code: ErrorCode) -> Error {
    match code {
        ErrorCode::HttpRequestDenied | ErrorCode::HttpResponseBodySize(_) => Error::Denied(describe(&code)),
        // The same handshake fails the same way again: not worth a retry.
        ErrorCode::TlsCertificateError | ErrorCode::TlsAlertReceived(_) | ErrorCode::TlsProtocolError => {
            Error::TransportFinal(describe(&code))
        }
        other => Error::Transport(describe(&other)),
    }
}

fn describe(code: &ErrorCode) -> String {
    match code {
        // The host adds why (its policy knows; the component does not).
        ErrorCode::HttpRequestDenied => "the host's sandbox refused the request".to_string(),
        ErrorCode::DnsError(e) => format!(
            "the API server's name could not be resolved ({}); check the platform or API URL",
            e.rcode.clone().unwrap_or_default()
        ),
        ErrorCode::ConnectionRefused => "the API server refused the connection".to_string(),
        ErrorCode::ConnectionTimeout => "connecting to the API server timed out".to_string(),
        ErrorCode::ConnectionReadTimeout => "the API server stopped sending data (timeout)".to_string(),
        ErrorCode::ConnectionTerminated => {
            "the connection was cut: the API server closed or reset it before the response was complete"
                .to_string()
        }
        ErrorCode::TlsCertificateError => "the API server's TLS certificate was not accepted: it is not \
            signed by an authority the host trusts for this name (a TLS-inspecting proxy, or a private \
            platform's own authority, which the host can add as a trust anchor; or a wrong API URL)"
            .to_string(),
        ErrorCode::TlsAlertReceived(_) | ErrorCode::TlsProtocolError => {
            "the TLS handshake with the API server failed (a TLS-inspecting proxy, or a wrong API URL)"
                .to_string()
        }
        ErrorCode::HttpResponseTimeout => "the API server did not answer in time".to_string(),
        ErrorCode::HttpResponseBodySize(_) => {
            "the response is larger than the host allows for one response; ask for smaller pages \
             where the proof type has a page_size criterion, or ask the operator to raise the host's \
             response limit"
                .to_string()
        }
        ErrorCode::DnsTimeout => "resolving the API server's name timed out".to_string(),
        ErrorCode::DestinationNotFound => {
            "the API server was not found; check the platform or API URL".to_string()
        }
        ErrorCode::DestinationUnavailable => "the API server is unavailable".to_string(),
        ErrorCode::DestinationIpProhibited => {
            "the host does not allow connections to the API server's address \
            (check the platform or API URL, or the host's network policy)"
                .to_string()
        }
        ErrorCode::DestinationIpUnroutable => {
            "the API server's address cannot be reached (no route)".to_string()
        }
        ErrorCode::ConnectionWriteTimeout => "sending the request to the API server timed out".to_string(),
        ErrorCode::ConnectionLimitReached => "the host's limit of open connections was reached".to_string(),
        ErrorCode::HttpRequestLengthRequired
        | ErrorCode::HttpRequestBodySize(_)
        | ErrorCode::HttpRequestMethodInvalid
        | ErrorCode::HttpRequestUriInvalid
        | ErrorCode::HttpRequestUriTooLong
        | ErrorCode::HttpRequestHeaderSectionSize(_)
        | ErrorCode::HttpRequestHeaderSize(_)
        | ErrorCode::HttpRequestTrailerSectionSize(_)
        | ErrorCode::HttpRequestTrailerSize(_) => {
            "the request was refused before it was sent: its URL, headers or body are not \
             acceptable to HTTP (a bug in the connector)"
                .to_string()
        }
        ErrorCode::HttpResponseIncomplete => "the response ended before it was complete".to_string(),
        ErrorCode::HttpResponseHeaderSectionSize(_)
        | ErrorCode::HttpResponseHeaderSize(_)
        | ErrorCode::HttpResponseTrailerSectionSize(_)
        | ErrorCode::HttpResponseTrailerSize(_) => {
            "the response's headers are larger than the host's HTTP client accepts".to_string()
        }
        ErrorCode::HttpResponseTransferCoding(coding) | ErrorCode::HttpResponseContentCoding(coding) => {
            with_detail(
                "the response is encoded in a way the host cannot read",
                coding.as_deref().unwrap_or(""),
            )
        }
        ErrorCode::HttpUpgradeFailed | ErrorCode::HttpProtocolError => {
            "the API server's answer is not valid HTTP".to_string()
        }
        ErrorCode::LoopDetected => "the request went round in a loop between proxies".to_string(),
        ErrorCode::ConfigurationError => "the host's HTTP client is misconfigured".to_string(),
        ErrorCode::InternalError(detail) => {
            with_detail("the host's HTTP client failed", detail.as_deref().unwrap_or(""))
        }
    }
}
