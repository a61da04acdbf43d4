//! A connector that puts a network round trip between the host and a loopback server, as a
//! server across the internet has: connecting waits one round trip (TCP's handshake), and every
//! byte the server sends arrives one round trip after it was sent, so each exchange (a TLS
//! handshake flight, a request and its response) costs one round trip. Bandwidth is not
//! limited. For the benchmark; it connects to loopback only.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use connector_runtime::network::{BoxFuture, Connector, Io};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

/// Loopback TCP with `rtt` added to every round trip.
pub struct Latency {
    pub rtt: Duration,
}

impl Connector for Latency {
    fn connect(&self, address: SocketAddr) -> BoxFuture<'static, io::Result<Box<dyn Io>>> {
        assert!(address.ip().is_loopback(), "the latency connector reaches loopback only, not {address}");
        let rtt = self.rtt;
        Box::pin(async move {
            tokio::time::sleep(rtt).await;
            let stream = tokio::net::TcpStream::connect(address).await?;
            stream.set_nodelay(true)?;
            let (mut read, write) = stream.into_split();
            let (tx, rx) = mpsc::unbounded_channel();
            // Reads as the bytes come and releases each read one round trip later.
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    match read.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if tx.send((Instant::now() + rtt, buf[..n].to_vec())).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
            let delayed = Delayed {
                write,
                arriving: rx,
                ready: VecDeque::new(),
                current: None,
                timer: Box::pin(tokio::time::sleep(Duration::ZERO)),
            };
            Ok(Box::new(delayed) as Box<dyn Io>)
        })
    }
}

struct Delayed {
    write: OwnedWriteHalf,
    arriving: mpsc::UnboundedReceiver<(Instant, Vec<u8>)>,
    ready: VecDeque<u8>,
    /// The next read from the server and when it may be handed over.
    current: Option<(Instant, Vec<u8>)>,
    timer: Pin<Box<Sleep>>,
}

impl AsyncRead for Delayed {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(out.remaining());
                let (a, b) = this.ready.as_slices();
                let from_a = n.min(a.len());
                out.put_slice(&a[..from_a]);
                out.put_slice(&b[..n - from_a]);
                this.ready.drain(..n);
                return Poll::Ready(Ok(()));
            }
            if this.current.is_none() {
                match this.arriving.poll_recv(cx) {
                    Poll::Ready(Some(item)) => this.current = Some(item),
                    // The server closed the connection: end of stream.
                    Poll::Ready(None) => return Poll::Ready(Ok(())),
                    Poll::Pending => return Poll::Pending,
                }
            }
            let at = this.current.as_ref().map(|(at, _)| *at).expect("set above");
            if Instant::now() < at {
                this.timer.as_mut().reset(at);
                if this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
            }
            let (_, bytes) = this.current.take().expect("set above");
            this.ready.extend(bytes);
        }
    }
}

impl AsyncWrite for Delayed {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.write).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.write).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.write).poll_shutdown(cx)
    }
}
