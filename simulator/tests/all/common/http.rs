//! A minimal HTTP/1.1 client over loopback TCP: one request per connection (`Connection:
//! close`), Basic auth, `X-Requested-With` on /api/ calls (doc: required on API v2+), chunked or
//! length-delimited bodies. Enough to see exactly what the simulator writes.

use std::net::SocketAddr;

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The default working account.
pub const MANAGER: (&str, &str) = ("demo_manager", "demo-password");

/// An HTTP answer.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// `GET target` as `login`, with `X-Requested-With` on /api/ targets.
pub async fn get(addr: SocketAddr, target: &str, login: (&str, &str)) -> Reply {
    send(addr, "GET", target, Some(login), requested_with(target), b"").await
}

/// `POST target` with an XML body as `login` (QPS), with `X-Requested-With` on /api/ targets.
pub async fn post_xml(addr: SocketAddr, target: &str, login: (&str, &str), body: &str) -> Reply {
    let mut headers = vec![("Content-Type", "text/xml")];
    headers.extend_from_slice(requested_with(target));
    send(addr, "POST", target, Some(login), &headers, body.as_bytes()).await
}

/// doc: `X-Requested-With` is required on API v2+ calls.
fn requested_with(target: &str) -> &'static [(&'static str, &'static str)] {
    if target.starts_with("/api/") { &[("X-Requested-With", "conformance-test")] } else { &[] }
}

/// Exactly this request (no headers added but Host, Connection, Authorization and
/// Content-Length). Reads until the server closes; a reset or an aborted body ends the read and
/// keeps what arrived.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    login: Option<(&str, &str)>,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let head = request_head(addr, method, target, login, headers, body.len());
    let mut stream = TcpStream::connect(addr).await.expect("connect to the simulator");
    stream.write_all(head.as_bytes()).await.expect("send");
    stream.write_all(body).await.expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    parse(&raw)
}

/// The head of a request: Host, `Connection: close`, Authorization when logged in, `headers`
/// and Content-Length.
pub fn request_head(
    addr: SocketAddr,
    method: &str,
    target: &str,
    login: Option<(&str, &str)>,
    headers: &[(&str, &str)],
    body_len: usize,
) -> String {
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some((user, password)) = login {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        head.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {body_len}\r\n\r\n"));
    head
}

fn parse(raw: &[u8]) -> Reply {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_vec() };
    Reply { status, headers, body }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = String::from_utf8_lossy(&rest[..eol]);
        let Ok(size) = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16) else { break };
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = rest.get(end + 2..).unwrap_or(&[]);
    }
    out
}
