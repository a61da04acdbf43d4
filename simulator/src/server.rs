//! The HTTP(S) server: Basic auth and account states, the `X-Requested-With` rule (on /api/ only),
//! rate/concurrency limits with Qualys' headers (not on /qps/), fault injection, and routing to
//! the API scripts. Error documents live in `errors`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Instant;

use base64::Engine as _;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, watch};

use crate::accounts::{Account, AccountState, default_accounts};
use crate::data::Sizes;
use crate::errors::qps_invalid_credentials;
pub use crate::errors::{generic_return, simple_return, unauthorized};
use crate::faults::{self, FaultRule};
use crate::routes;
use crate::tls::{SimTls, Tls};

/// How a simulator is set up.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seed of every generated data set.
    pub seed: u64,
    /// How many records of each kind each account sees.
    pub sizes: Sizes,
    /// Known accounts.
    pub accounts: Vec<Account>,
    /// Faults to inject.
    pub faults: Vec<FaultRule>,
    /// Calls allowed per account and window before 409 code 1965 (`None`: unlimited).
    pub rate_limit: Option<RateLimit>,
    /// Calls one account may run at once before 409 code 1960 (`None`: unlimited).
    pub concurrency_limit: Option<u32>,
    /// Port to listen on (0: any free port).
    pub port: u16,
    /// Per-account data: when true each login sees its own data set (seeded by login).
    pub per_account_data: bool,
    /// Exact documents to serve instead of generated data (Qualys samples, test fixtures).
    pub fixtures: Vec<Fixture>,
    /// Serve HTTPS, as real Qualys does, with a certificate from a CA made at start-up
    /// (`None`: plain HTTP, the default).
    pub tls: Option<SimTls>,
    /// The data day: 0 is the data set as generated; a later day changes known users and
    /// tickets (`data::user_indices` says which), for tests of what changed between collects.
    pub day: u32,
    /// Send every response body at most this many bytes per second, as a server across the
    /// internet does (`None`: as fast as loopback allows, the default). The body is generated
    /// first, then paced; its length is still announced.
    pub body_rate: Option<u64>,
}

/// An exact response served, after authentication, for every request to a path.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The request path, e.g. `/msp/user_list.php`.
    pub path: String,
    /// HTTP status.
    pub status: u16,
    /// The body, as it would come from Qualys.
    pub body: String,
}

/// A rate limit: `calls` per `window_secs`.
#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub calls: u32,
    pub window_secs: u32,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            sizes: Sizes::default(),
            accounts: default_accounts(),
            faults: Vec::new(),
            rate_limit: None,
            concurrency_limit: None,
            port: 0,
            per_account_data: false,
            fixtures: Vec::new(),
            tls: None,
            day: 0,
            body_rate: None,
        }
    }
}

/// One request as the simulator saw it (for tests to check what was sent).
#[derive(Debug, Clone)]
pub struct RequestRecord {
    pub method: String,
    pub path: String,
    /// Query and form parameters, in order.
    pub params: Vec<(String, String)>,
    /// The login of the Basic credentials, if any were sent.
    pub login: Option<String>,
    /// Whether `X-Requested-With` was sent.
    pub requested_with: bool,
    /// The `Host` header as sent.
    pub host_header: Option<String>,
    /// Status answered.
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

/// A parsed request handed to a route.
pub struct ApiRequest {
    pub method: String,
    pub path: String,
    pub params: Vec<(String, String)>,
    /// The raw body (QPS XML requests).
    pub body: Bytes,
    pub account: Account,
    /// `http://127.0.0.1:PORT` (`https://` in TLS mode), for next-page URLs.
    pub base_url: String,
    /// Index of this request among all the simulator served (0-based).
    pub index: u64,
    /// Where a list route sends its document while still writing it, when the response may
    /// stream (`None`: the route's whole response is sent once it is written).
    pub stream: Option<Arc<Streamer>>,
}

impl ApiRequest {
    /// The first value of a parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

pub(crate) struct State {
    pub config: Mutex<SimConfig>,
    pub log: Mutex<Vec<RequestRecord>>,
    pub counter: AtomicU64,
    calls: Mutex<HashMap<String, (Instant, u32)>>,
    running: Mutex<HashMap<String, u32>>,
    /// The most calls each account ever had running at once.
    peak: Mutex<HashMap<String, u32>>,
    pub base_url: String,
}

/// A running simulator; stops when dropped.
pub struct Simulator {
    addr: SocketAddr,
    state: Arc<State>,
    ca_pem: Option<String>,
    _shutdown: watch::Sender<()>,
}

impl Simulator {
    /// Starts a simulator on 127.0.0.1 (HTTPS when `config.tls` is set).
    pub async fn start(config: SimConfig) -> anyhow::Result<Simulator> {
        let tls = config.tls.as_ref().map(Tls::new).transpose()?;
        let listener = TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        let state = Arc::new(State {
            config: Mutex::new(config),
            log: Mutex::new(Vec::new()),
            counter: AtomicU64::new(0),
            calls: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
            peak: Mutex::new(HashMap::new()),
            base_url: format!("{scheme}://{addr}"),
        });
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        let acceptor = tls.map(|t| t.acceptor);
        // Dropping the simulator drops the sender: the listener and every open connection
        // (kept-alive ones too, as a stopped server's are) end.
        let (tx, rx) = watch::channel(());
        let st = state.clone();
        tokio::spawn(async move {
            let mut stopped = rx.clone();
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        // As HTTP servers do: a response's last partial segment is not held back
                        // until the client acknowledges the previous ones (Nagle's algorithm
                        // against delayed ACKs stalled paced bodies for 40 ms).
                        let _ = stream.set_nodelay(true);
                        let st = st.clone();
                        let acceptor = acceptor.clone();
                        let mut conn_stopped = rx.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| handle(st.clone(), req));
                            let http = hyper::server::conn::http1::Builder::new();
                            let serve = async {
                                match acceptor {
                                    // A client that does not trust the CA ends the handshake:
                                    // no request is served or recorded.
                                    Some(acceptor) => {
                                        if let Ok(stream) = acceptor.accept(stream).await {
                                            let _ = http.serve_connection(TokioIo::new(stream), service).await;
                                        }
                                    }
                                    None => {
                                        let _ = http.serve_connection(TokioIo::new(stream), service).await;
                                    }
                                }
                            };
                            tokio::select! {
                                _ = serve => {}
                                _ = conn_stopped.changed() => {}
                            }
                        });
                    }
                }
            }
        });
        Ok(Simulator { addr, state, ca_pem, _shutdown: tx })
    }

    /// The API base URL: `http://127.0.0.1:PORT`, or `https://127.0.0.1:PORT` in TLS mode.
    pub fn url(&self) -> String {
        self.state.base_url.clone()
    }

    /// In TLS mode, the PEM of the CA certificate a client must trust; `None` for plain HTTP.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The most calls `login` ever had running at once (the API families Qualys limits).
    pub fn peak_running(&self, login: &str) -> u32 {
        self.state.peak.lock().expect("peak").get(login).copied().unwrap_or(0)
    }

    /// Every request served so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.state.log.lock().expect("log").clone()
    }

    /// Adds a fault rule.
    pub fn add_fault(&self, rule: FaultRule) {
        self.state.config.lock().expect("config").faults.push(rule);
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state.config.lock().expect("config").faults.clear();
    }

    /// Serves `body` with `status` for every request to `path`.
    pub fn serve_fixture(&self, path: &str, status: u16, body: &str) {
        let f = Fixture { path: path.into(), status, body: body.into() };
        self.state.config.lock().expect("config").fixtures.push(f);
    }

    /// Adds an account.
    pub fn add_account(&self, account: Account) {
        self.state.config.lock().expect("config").accounts.push(account);
    }

    /// Changes the configuration in place.
    pub fn configure(&self, f: impl FnOnce(&mut SimConfig)) {
        f(&mut self.state.config.lock().expect("config"));
    }
}

/// The response body type: whole, or streamed (slow drips, resets, huge bodies), or paced
/// (a whole body sent at a bounded rate, its length announced).
pub enum SimBody {
    Full(Option<Bytes>),
    Stream(mpsc::Receiver<Result<Bytes, std::io::Error>>),
    Paced { rx: mpsc::Receiver<Bytes>, len: u64 },
}

/// Bytes sent at a time by a paced body.
const PACED_CHUNK: usize = 16 * 1024;

impl SimBody {
    /// This body sent at `rate` bytes per second (whole bodies only; streamed ones keep their
    /// own pace).
    fn paced(self, rate: u64) -> SimBody {
        let SimBody::Full(Some(bytes)) = self else { return self };
        let (tx, rx) = mpsc::channel(4);
        let len = bytes.len() as u64;
        tokio::spawn(async move {
            let started = tokio::time::Instant::now();
            let mut sent = 0u64;
            for start in (0..bytes.len()).step_by(PACED_CHUNK) {
                let chunk = bytes.slice(start..(start + PACED_CHUNK).min(bytes.len()));
                sent += chunk.len() as u64;
                if tx.send(chunk).await.is_err() {
                    return;
                }
                // On a schedule from the first byte, so timer granularity does not add up.
                let due = std::time::Duration::from_secs_f64(sent as f64 / rate.max(1) as f64);
                tokio::time::sleep_until(started + due).await;
            }
        });
        SimBody::Paced { rx, len }
    }
}

impl Body for SimBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            SimBody::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            SimBody::Stream(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
            SimBody::Paced { rx, .. } => rx.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self {
            SimBody::Full(Some(b)) => hyper::body::SizeHint::with_exact(b.len() as u64),
            SimBody::Full(None) => hyper::body::SizeHint::with_exact(0),
            SimBody::Stream(_) => hyper::body::SizeHint::default(),
            SimBody::Paced { len, .. } => hyper::body::SizeHint::with_exact(*len),
        }
    }
}

/// Bytes a streamed document collects before they are sent as one chunk.
const STREAM_CHUNK: usize = 64 * 1024;

/// A list document sent while it is written (HTTP/1.1 chunked, no length announced), so the
/// client reads and parses the first records while the server generates the rest, as a server
/// that streams its output does. Used only when no fault and no bounded rate applies: faults
/// rewrite whole bodies and a paced body announces its length. unverified: whether Qualys
/// sends its pages chunked or with a length (the field notes say neither); clients read both.
pub struct Streamer {
    /// The response head, sent on the first chunk (or the whole response if none was sent).
    head: Mutex<Option<oneshot::Sender<Response<SimBody>>>>,
    body: Mutex<Option<mpsc::Receiver<Result<Bytes, std::io::Error>>>>,
    tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
}

impl Streamer {
    fn new() -> (Arc<Streamer>, oneshot::Receiver<Response<SimBody>>) {
        let (head_tx, head_rx) = oneshot::channel();
        let (tx, rx) = mpsc::channel(4);
        let streamer = Streamer { head: Mutex::new(Some(head_tx)), body: Mutex::new(Some(rx)), tx };
        (Arc::new(streamer), head_rx)
    }

    /// Sends `out` once it holds a chunk's worth. Only a route that is writing a successful
    /// (HTTP 200) document calls this: the head goes out with the first chunk.
    pub fn flush(&self, out: &mut String) {
        if out.len() < STREAM_CHUNK {
            return;
        }
        if let Some(head) = self.head.lock().expect("head").take()
            && let Some(rx) = self.body.lock().expect("body").take()
        {
            let _ = head.send(xml_head(200).body(SimBody::Stream(rx)).expect("valid response"));
        }
        // The client may have gone: the rest is generated and dropped (one page at most).
        let _ = self.tx.blocking_send(Ok(Bytes::from(std::mem::take(out))));
    }

    /// Ends the route's response: the whole of it if nothing was streamed, else its last bytes.
    fn finish(&self, response: Response<SimBody>) {
        match self.head.lock().expect("head").take() {
            Some(head) => {
                let _ = head.send(response);
            }
            None => {
                debug_assert_eq!(response.status(), 200, "only successful documents stream");
                if let SimBody::Full(Some(rest)) = response.into_body() {
                    let _ = self.tx.blocking_send(Ok(rest));
                }
            }
        }
    }
}

fn xml_head(status: u16) -> http::response::Builder {
    Response::builder().status(status).header("content-type", "text/xml;charset=UTF-8")
}

/// A response with an XML body.
pub fn xml_response(status: u16, body: String) -> Response<SimBody> {
    xml_head(status).body(SimBody::Full(Some(Bytes::from(body)))).expect("valid response")
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Result<Response<SimBody>, Infallible> {
    let index = state.counter.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let path = parts.uri.path().to_string();
    let mut params: Vec<(String, String)> = parts
        .uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let is_form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        params.extend(form_urlencoded::parse(&body).into_owned());
    }
    let credentials = parts
        .headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|t| base64::engine::general_purpose::STANDARD.decode(t.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_string(), p.to_string())));
    let requested_with = parts.headers.contains_key("x-requested-with");
    let mut record = RequestRecord {
        method: parts.method.to_string(),
        path: path.clone(),
        params: params.clone(),
        login: credentials.as_ref().map(|(u, _)| u.clone()),
        requested_with,
        host_header: parts.headers.get("host").and_then(|v| v.to_str().ok()).map(str::to_string),
        status: 0,
        at: Instant::now(),
    };

    let config = state.config.lock().expect("config").clone();
    let base = state.base_url.clone();
    let qps = path.starts_with("/qps/");
    let fault = faults::matching(&config.faults, &path, index).cloned();
    if let Some(rule) = &fault {
        faults::hit(rule);
    }
    let response = 'resp: {
        // Faults that replace the whole exchange come first, as a proxy or a broken server would.
        if let Some(rule) = &fault
            && let Some(resp) = faults::respond(&rule.fault, &path, &base).await
        {
            break 'resp resp;
        }
        // unverified, by design: a hostile or broken server reflecting the credentials.
        if let Some(rule) = &fault
            && rule.fault == faults::Fault::EchoCredentials
        {
            let (login, password) = credentials.clone().unwrap_or_default();
            let token = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
            let text = format!(
                "Bad request from {login}:{password} (Authorization: Basic {token}) \x1b[2J\x1b]0;owned\x07"
            );
            break 'resp crate::errors::simple_return(400, 999, &text, &base);
        }
        // QPS answers its own way (real: HTTP 200 ServiceResponse INVALID_CREDENTIALS); API v1/v2
        // with a 401 SIMPLE_RETURN (unverified, see `errors::unauthorized`).
        let refuse = || if qps { qps_invalid_credentials() } else { unauthorized() };
        let Some((login, password)) = credentials else {
            break 'resp refuse();
        };
        let Some(account) =
            config.accounts.iter().find(|a| a.login == login && a.password == password).cloned()
        else {
            break 'resp refuse();
        };
        match account.state {
            // unverified: what Qualys answers an SSO user or a user without API access; the
            // simulator refuses them like a bad password, so the client cannot tell.
            AccountState::SsoEnabled | AccountState::NoApiAccess => break 'resp refuse(),
            // unverified: codes 2002-2004 for locked/inactive accounts, their texts and status.
            AccountState::Locked => {
                break 'resp simple_return(
                    401,
                    2002,
                    "User account is locked. Please contact your Qualys Manager.",
                    &base,
                );
            }
            AccountState::Inactive => {
                break 'resp simple_return(
                    401,
                    2003,
                    "User account is inactive. Please contact your Qualys Manager.",
                    &base,
                );
            }
            // real: recorded expired-account response: HTTP 200, SIMPLE_RETURN code 2001.
            AccountState::Expired => {
                break 'resp simple_return(200, 2001, "This account has expired.", &base);
            }
            // sdk: GENERIC_RETURN RETURN status="FAILED" number="2007"; the text and the HTTP
            // status (200) are unverified.
            AccountState::IpNotAllowed => {
                break 'resp generic_return(
                    200,
                    2007,
                    "Your IP address is not in the list of secure IPs. Please contact your Qualys account manager.",
                    &base,
                );
            }
            AccountState::Active => {}
        }
        // doc: `X-Requested-With` is required on API v2+ calls (/api/). The QPS documentation's
        // examples do not send it, so /qps/ does not require it; /msp/ (v1) never did. The code
        // and text of the refusal are unverified.
        if path.starts_with("/api/") && !requested_with {
            break 'resp simple_return(400, 1907, "X-Requested-With header is required", &base);
        }
        // real: QPS responses carry no X-RateLimit headers, so the API v2 limits (real: 409
        // codes 1965/1960 with those headers) are not applied to /qps/; QPS' own limits are not
        // simulated. Whether /msp/ scripts count against them is unverified (they do here).
        if let Some(limit) = config.rate_limit.filter(|_| !qps) {
            let mut calls = state.calls.lock().expect("calls");
            let entry = calls.entry(account.login.clone()).or_insert((Instant::now(), 0));
            let elapsed = entry.0.elapsed().as_secs() as u32;
            if elapsed >= limit.window_secs {
                *entry = (Instant::now(), 0);
            }
            // real: HTTP 409 (Qualys' throttle, not 429) with code 1965 and X-RateLimit-ToWait-Sec;
            // the text is unverified.
            if entry.1 >= limit.calls {
                let wait = limit.window_secs.saturating_sub(elapsed).max(1);
                let mut r = simple_return(
                    409,
                    1965,
                    &format!("This API cannot be run again for another {wait} seconds."),
                    &base,
                );
                r.headers_mut().insert("x-ratelimit-towait-sec", wait.into());
                break 'resp r;
            }
            entry.1 += 1;
        }
        let running = if qps {
            0
        } else {
            let mut running = state.running.lock().expect("running");
            let n = running.entry(account.login.clone()).or_insert(0);
            *n += 1;
            let mut peak = state.peak.lock().expect("peak");
            let p = peak.entry(account.login.clone()).or_insert(0);
            *p = (*p).max(*n);
            *n
        };
        if let Some(max) = config.concurrency_limit
            && running > max
        {
            decrement(&state, &account.login);
            // real: HTTP 409 code 1960 with no wait header; the text is unverified.
            break 'resp simple_return(
                409,
                1960,
                &format!("Concurrency limit of {max} reached. Please try again later."),
                &base,
            );
        }
        // A slow server: the call counts as running while it waits.
        if let Some(faults::Fault::Delay(ms)) = fault.as_ref().map(|r| &r.fault) {
            tokio::time::sleep(std::time::Duration::from_millis(*ms)).await;
        }
        let api = ApiRequest {
            method: parts.method.to_string(),
            path: path.clone(),
            params,
            body,
            account: account.clone(),
            base_url: base.clone(),
            index,
            stream: None,
        };
        // The response, and whether its call still counts as running here (a streamed page's
        // count ends in its generator).
        let (mut resp, running) = match config.fixtures.iter().find(|f| f.path == path) {
            Some(f) => (xml_response(f.status, f.body.clone()), !qps),
            None if fault.is_none() && config.body_rate.is_none() => {
                let (streamer, head) = Streamer::new();
                let api = ApiRequest { stream: Some(streamer.clone()), ..api };
                let config = config.clone();
                let (state, login) = (state.clone(), account.login.clone());
                // A streamed call runs until its document is complete, not until its first
                // chunk: it ends before its last bytes go out, so a client holding them may
                // call again at once. unverified: how Qualys counts a call still sending.
                tokio::task::spawn_blocking(move || {
                    let response = routes::route(&config, &api, None);
                    if !qps {
                        decrement(&state, &login);
                    }
                    streamer.finish(response)
                });
                let resp = match head.await {
                    Ok(resp) => resp,
                    Err(_) => simple_return(500, 999, "The simulator's route failed.", &base),
                };
                (resp, false)
            }
            None => (routes::route(&config, &api, fault.as_ref().map(|r| &r.fault)), !qps),
        };
        if running {
            decrement(&state, &account.login);
        }
        if let Some(rule) = &fault {
            resp = faults::transform(&rule.fault, resp, &base).await;
        }
        resp
    };
    let mut response = match config.body_rate {
        Some(rate) => response.map(|body| body.paced(rate)),
        None => response,
    };
    if !qps {
        add_limit_headers(&state, &config, &mut response, record.login.as_deref(), &path);
    }
    record.status = response.status().as_u16();
    state.log.lock().expect("log").push(record);
    Ok(response)
}

fn decrement(state: &State, login: &str) {
    if let Some(n) = state.running.lock().expect("running").get_mut(login) {
        *n = n.saturating_sub(1);
    }
}

/// Qualys' limit headers. real: every /api/2.0+ response carries X-RateLimit-Limit (300),
/// X-RateLimit-Window-Sec (3600), X-RateLimit-Remaining, X-RateLimit-ToWait-Sec,
/// X-Concurrency-Limit-Limit (2) and X-Concurrency-Limit-Running; the concurrency refusal (1960)
/// has no wait header (real). Whether /msp/ scripts send them: unverified (sent here, without
/// the wait header). QPS responses carry none (real), so this is not called for /qps/.
fn add_limit_headers(
    state: &State,
    config: &SimConfig,
    response: &mut Response<SimBody>,
    login: Option<&str>,
    path: &str,
) {
    let (limit, window) = config.rate_limit.map_or((300, 3600), |l| (l.calls, l.window_secs));
    let used = login.and_then(|l| state.calls.lock().expect("calls").get(l).map(|e| e.1)).unwrap_or(0);
    let running = login.and_then(|l| state.running.lock().expect("running").get(l).copied()).unwrap_or(0);
    let is_409 = response.status() == 409;
    let h = response.headers_mut();
    h.insert("x-ratelimit-limit", limit.into());
    h.insert("x-ratelimit-window-sec", window.into());
    h.insert("x-ratelimit-remaining", limit.saturating_sub(used).into());
    h.insert("x-concurrency-limit-limit", config.concurrency_limit.unwrap_or(2).into());
    h.insert("x-concurrency-limit-running", running.into());
    // A 409 without the header is the concurrency refusal, which has none.
    if path.starts_with("/api/") && !is_409 && !h.contains_key("x-ratelimit-towait-sec") {
        h.insert("x-ratelimit-towait-sec", 0.into());
    }
}
