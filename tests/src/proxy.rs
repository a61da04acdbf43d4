//! A small HTTP CONNECT proxy on loopback, for tests of the operator's proxy setting. It records
//! the request line of every request it sees, supports only CONNECT (anything else is answered
//! 405), tunnels bytes both ways, and can refuse every tunnel with 403. It tunnels to loopback
//! destinations only (`127.0.0.0/8`, `[::1]`, `localhost`, never resolved), so no test can
//! send traffic anywhere else through it; other destinations are answered 403.
//!
//! Only tokio and std: the CLI tests include this file as a module of their own.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// What the proxy does with a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyMode {
    /// Opens the tunnel (to a loopback destination).
    Tunnel,
    /// Answers every request `403 Forbidden`, as a proxy whose rules refuse the destination.
    Refuse,
}

/// A running proxy; stops accepting when dropped.
pub struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    _shutdown: oneshot::Sender<()>,
}

/// Largest request head the proxy reads.
const MAX_HEAD: usize = 16 * 1024;

impl Proxy {
    /// Starts a proxy on 127.0.0.1, any free port.
    pub async fn start(mode: ProxyMode) -> Proxy {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("the proxy binds on loopback");
        let addr = listener.local_addr().expect("bound address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (tx, mut rx) = oneshot::channel::<()>();
        let log = seen.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = &mut rx => break,
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        tokio::spawn(serve(client, mode, log.clone()));
                    }
                }
            }
        });
        Proxy { addr, seen, _shutdown: tx }
    }

    /// The proxy's URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request line of every request seen so far (`CONNECT 127.0.0.1:443 HTTP/1.1`).
    pub fn request_lines(&self) -> Vec<String> {
        self.seen.lock().expect("log").clone()
    }
}

/// One client connection: read the head, record its request line, then tunnel or refuse.
async fn serve(mut client: TcpStream, mode: ProxyMode, log: Arc<Mutex<Vec<String>>>) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > MAX_HEAD {
            return;
        }
        match client.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    };
    let text = String::from_utf8_lossy(&head[..end]).into_owned();
    let line = text.lines().next().unwrap_or_default().to_string();
    log.lock().expect("log").push(line.clone());
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    if method != "CONNECT" {
        let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n").await;
        return;
    }
    if mode == ProxyMode::Refuse {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
        return;
    }
    let Some(destination) = loopback_destination(target) else {
        let _ = client.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    let Ok(mut upstream) = TcpStream::connect(destination).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
        return;
    };
    if client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await.is_err() {
        return;
    }
    // Bytes the client sent after the head belong to the tunnel.
    if upstream.write_all(&head[end..]).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// The socket address of a CONNECT target (`host:port`, `[v6]:port`) when it is on loopback;
/// `localhost` is taken as 127.0.0.1 without resolving anything.
fn loopback_destination(target: &str) -> Option<SocketAddr> {
    let (host, port) = target.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse().ok()?
    };
    ip.is_loopback().then_some(SocketAddr::new(ip, port))
}
