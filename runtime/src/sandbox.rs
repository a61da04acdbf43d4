//! The store of one call: an empty WASI context (no files, no environment, no sockets, no
//! inherited stdio) and the HTTP hook that enforces the tenant's limits and the operator's
//! network policy before anything is connected.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::p2::bindings::http::types::ErrorCode;
use wasmtime_wasi_http::{
    Error as HttpError, RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView,
};

use crate::network::{Connections, Network, Refusal, SendError, send_request};
use crate::policy::{Origin, TenantPolicy};

/// Counters of one call, shared with the hook.
#[derive(Debug, Default)]
pub struct CallStats {
    /// Requests the component sent (refused ones included).
    pub requests: AtomicU32,
    /// Response body bytes handed to the component.
    pub bytes_received: AtomicU64,
    /// Requests refused by the tenant's or the operator's policy.
    pub refused: AtomicU32,
    /// Why the last request was refused, and what would allow it.
    pub refusal: std::sync::Mutex<Option<String>>,
}

/// The `T` of each call's `Store`.
pub struct TenantState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: SandboxHooks,
    pub(crate) limits: Limiter,
    /// Epoch ticks of guest execution left in this call's CPU budget.
    pub(crate) cpu_ticks_left: u64,
    pub(crate) stderr: MemoryOutputPipe,
}

/// Largest guest stderr kept (panic messages), in bytes.
const STDERR_CAPTURE: usize = 8 * 1024;

impl TenantState {
    /// A fresh state for one call under `policy`.
    pub(crate) fn new(
        policy: &TenantPolicy,
        network: Arc<Network>,
        cpu_ticks: u64,
        stats: Arc<CallStats>,
        connections: Connections,
    ) -> TenantState {
        let stderr = MemoryOutputPipe::new(STDERR_CAPTURE);
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .socket_addr_check(|_, _| Box::pin(async { false }))
            .build();
        let limits = Limiter { max_memory: policy.max_memory_bytes, peak_memory: 0 };
        TenantState {
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            hooks: SandboxHooks { policy: policy.clone(), network, stats, connections },
            limits,
            cpu_ticks_left: cpu_ticks,
            stderr,
        }
    }

    /// What the guest wrote to stderr (a panic message, usually), lossily decoded.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).trim().to_string()
    }
}

/// The component tried to grow its memory past the tenant's limit.
#[derive(Debug)]
pub(crate) struct MemoryLimitExceeded;

impl std::fmt::Display for MemoryLimitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("memory limit exceeded")
    }
}

impl std::error::Error for MemoryLimitExceeded {}

/// Enforces the tenant's memory limit (trapping, so the call ends at once) and records the
/// peak linear memory, which the benchmark reports.
pub(crate) struct Limiter {
    max_memory: usize,
    pub(crate) peak_memory: usize,
}

/// Most table elements a component may grow to (function tables of small components).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            return Err(wasmtime::Error::new(MemoryLimitExceeded));
        }
        self.peak_memory = self.peak_memory.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _max: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        16
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

impl WasiView for TenantState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for TenantState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.hooks }
    }
}

/// Enforces the tenant policy and the operator's network policy on every outgoing request,
/// before any connection is made.
struct SandboxHooks {
    policy: TenantPolicy,
    network: Arc<Network>,
    stats: Arc<CallStats>,
    connections: Connections,
}

impl SandboxHooks {
    fn refuse(&self, refusal: &Refusal) {
        self.stats.refused.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut last) = self.stats.refusal.lock() {
            *last = Some(refusal.to_string());
        }
    }
}

type IoFuture = Box<dyn Future<Output = Result<(), HttpError>> + Send>;

impl WasiHttpHooks for SandboxHooks {
    /// hyper's errors in words the connector can act on: a connection closed or reset before
    /// the response was complete is a cut connection (worth a retry), not "not valid HTTP".
    fn p2_error_from_hyper(&mut self, err: &hyper::Error) -> ErrorCode {
        use std::error::Error as _;
        let mut io_kind = None;
        let mut source = err.source();
        while let Some(e) = source {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                io_kind = Some(io.kind());
                break;
            }
            source = e.source();
        }
        let cut = matches!(
            io_kind,
            Some(
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        );
        if err.is_timeout() {
            ErrorCode::HttpResponseTimeout
        } else if cut
            || err.is_incomplete_message()
            || err.is_canceled()
            || err.is_closed()
            || err.is_body_write_aborted()
        {
            ErrorCode::ConnectionTerminated
        } else {
            ErrorCode::HttpProtocolError
        }
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: IoFuture,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, IoFuture), HttpError>> + Send> {
        drop(fut);
        let method = request.method().to_string();
        let uri = request.uri().clone();
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let host = uri.host().unwrap_or("").to_ascii_lowercase();
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let origin = Origin { https, host, port };
        let target = format!("{origin}{}", uri.path());
        let n = self.stats.requests.fetch_add(1, Ordering::Relaxed) + 1;

        // The target is the URI's own authority, checked here and by the network policy;
        // wasmtime sets the Host header from it and forbids the guest to set one, so no
        // header can steer the connection.
        let refusal = if n > self.policy.max_requests_per_call {
            Some(Refusal::RequestBudget { max: self.policy.max_requests_per_call })
        } else if !self.policy.allows(&origin) {
            Some(Refusal::NotTenantOrigin { origin: origin.to_string() })
        } else {
            None
        };
        if let Some(refusal) = refusal {
            self.refuse(&refusal);
            tracing::info!(target: "connector_runtime::http", %method, %target, error = %refusal, "request refused");
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }

        let cap = self.policy.max_http_timeout;
        let clamp = |d: Option<Duration>| Some(d.map_or(cap, |d| d.min(cap)));
        let options = RequestOptions {
            connect_timeout: clamp(options.and_then(|o| o.connect_timeout)),
            first_byte_timeout: clamp(options.and_then(|o| o.first_byte_timeout)),
            between_bytes_timeout: clamp(options.and_then(|o| o.between_bytes_timeout)),
        };
        let max_body = self.policy.max_response_bytes;
        let stats = self.stats.clone();
        let network = self.network.clone();
        let connections = self.connections.clone();
        // The request runs on a task of its own: it logs in the calling tenant's span.
        let span = tracing::Span::current();
        Box::new(tracing::Instrument::instrument(
            async move {
                let started = Instant::now();
                let result = send_request(network, connections, request, options).await;
                let duration = started.elapsed();
                // One event a request: never headers, bodies or the query string.
                let ms = duration.as_millis() as u64;
                match result {
                    Ok((response, io)) => {
                        let status = response.status().as_u16();
                        tracing::info!(target: "connector_runtime::http", %method, %target, status, duration_ms = ms, "request");
                        if let Some(len) = response.body().size_hint().exact()
                            && len > max_body
                        {
                            return Err(HttpError::HttpResponseBodySize(Some(len)));
                        }
                        let response = response.map(|body| {
                            LimitedBody { inner: body, remaining: max_body, stats }.boxed_unsync()
                        });
                        Ok((response, io))
                    }
                    Err(SendError::Refused(refusal)) => {
                        stats.refused.fetch_add(1, Ordering::Relaxed);
                        if let Ok(mut last) = stats.refusal.lock() {
                            *last = Some(refusal.to_string());
                        }
                        tracing::info!(target: "connector_runtime::http", %method, %target, error = %refusal, "request refused");
                        Err(HttpError::HttpRequestDenied)
                    }
                    Err(SendError::Failed(e)) => {
                        tracing::info!(target: "connector_runtime::http", %method, %target, error = %e, duration_ms = ms, "request failed");
                        Err(e)
                    }
                }
            },
            span,
        ))
    }
}

/// A response body that fails once more than the allowed bytes arrive.
struct LimitedBody {
    inner: WasiBody,
    remaining: u64,
    stats: Arc<CallStats>,
}

impl Body for LimitedBody {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    let len = data.len() as u64;
                    if len > self.remaining {
                        self.remaining = 0;
                        return Poll::Ready(Some(Err(HttpError::HttpResponseBodySize(None))));
                    }
                    self.remaining -= len;
                    self.stats.bytes_received.fetch_add(len, Ordering::Relaxed);
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
