//! Connections one tenant keeps open between its requests (HTTP/1.1 keep-alive), so the pages
//! of a proof travel over one TCP and TLS session instead of a handshake each (to a remote
//! platform, one to three round trips saved per page).
//!
//! A connection is reused only by the tenant that opened it, only under the same operator
//! policy (whose address checks it passed when it was opened), and only for the same scheme,
//! host and port. hyper marks a connection ready once the previous response was read to its
//! end; one whose body was dropped early, or that the server closed, is never handed out.
//! One not reused within the idle timeout is closed, so a platform holding many quiet tenants
//! holds no sockets for them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use hyper::client::conn::http1::SendRequest;
use wasmtime_wasi_http::WasiBody;

/// How many connections a tenant keeps at most; Qualys runs two calls of a subscription at
/// once, so two per API server, a few servers at most.
const MAX_KEPT: usize = 4;

/// The connections a tenant's calls reuse. Clones share them; dropping the last clone closes
/// them. [`Connections::default`] starts with none and closes idle ones after
/// [`Connections::DEFAULT_IDLE_TIMEOUT`].
#[derive(Clone)]
pub struct Connections {
    inner: Arc<Inner>,
}

impl Default for Connections {
    fn default() -> Connections {
        Connections::with_idle_timeout(Connections::DEFAULT_IDLE_TIMEOUT)
    }
}

struct Inner {
    kept: Mutex<Vec<Kept>>,
    opened: AtomicU64,
    /// Serial number of the next connection kept (after each request it carries).
    serial: AtomicU64,
    idle: Duration,
}

struct Kept {
    key: Key,
    sender: SendRequest<WasiBody>,
    serial: u64,
    /// Set when the response it carries was read to its end.
    done: Arc<AtomicBool>,
}

/// Longest wait for hyper to mark a connection whose response was read to the end as ready
/// (it does so on the connection's own task, a moment after the body's last frame).
const READY_WAIT: Duration = Duration::from_millis(100);

/// What a connection may be reused for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Key {
    /// The operator policy's identity ([`super::Network::id`]).
    pub(crate) network: u64,
    pub(crate) https: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Connections {
    /// How long a kept connection waits for its next request before it is closed. Servers
    /// close idle connections themselves, often sooner (a closed one is never reused); this
    /// bounds what a tenant that went quiet holds open.
    pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);

    /// None yet; a kept connection that waits `idle` for its next request is closed.
    pub fn with_idle_timeout(idle: Duration) -> Connections {
        Connections {
            inner: Arc::new(Inner {
                kept: Mutex::new(Vec::new()),
                opened: AtomicU64::new(0),
                serial: AtomicU64::new(0),
                idle,
            }),
        }
    }

    /// Connections this tenant has opened so far (each request not served by a kept one).
    pub fn opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// Connections kept open now (idle, or reading a response).
    pub fn kept(&self) -> usize {
        let mut kept = self.inner.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|k| !k.sender.is_closed());
        kept.len()
    }

    /// A kept connection for `key` that is ready for a request, or whose response was read to
    /// its end (it is ready a moment later); closed ones are dropped. A connection still
    /// carrying another call's response is never waited for.
    pub(crate) async fn take(&self, key: &Key) -> Option<SendRequest<WasiBody>> {
        let mut sender = {
            let mut kept = self.inner.kept.lock().unwrap_or_else(|e| e.into_inner());
            kept.retain(|k| !k.sender.is_closed());
            let at = kept
                .iter()
                .position(|k| k.key == *key && k.sender.is_ready())
                .or_else(|| kept.iter().position(|k| k.key == *key && k.done.load(Ordering::Acquire)))?;
            kept.remove(at).sender
        };
        if !sender.is_ready() {
            tokio::time::timeout(READY_WAIT, sender.ready()).await.ok()?.ok()?;
        }
        Some(sender)
    }

    /// Keeps a connection that has a request in flight: it is handed out again once that
    /// response was read to its end, which the caller marks in the flag returned. The oldest
    /// beyond [`MAX_KEPT`] is let go (it finishes its response, then closes).
    pub(crate) fn keep(&self, key: Key, sender: SendRequest<WasiBody>) -> Arc<AtomicBool> {
        let serial = self.inner.serial.fetch_add(1, Ordering::Relaxed);
        let done = Arc::new(AtomicBool::new(false));
        {
            let mut kept = self.inner.kept.lock().unwrap_or_else(|e| e.into_inner());
            kept.retain(|k| !k.sender.is_closed());
            if kept.len() >= MAX_KEPT {
                kept.remove(0);
            }
            kept.push(Kept { key, sender, serial, done: done.clone() });
        }
        // The idle timer holds the pool weakly: a dropped tenant's connections close at once.
        let pool = Arc::downgrade(&self.inner);
        let idle = self.inner.idle;
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(idle).await;
                if !expire(&pool, serial) {
                    return;
                }
            }
        });
        done
    }

    pub(crate) fn count_opened(&self) {
        self.inner.opened.fetch_add(1, Ordering::Relaxed);
    }
}

/// Lets go of the connection kept as `serial` if it is idle (dropping its sender closes it);
/// true when it is still reading a response, so the timer should wait again.
fn expire(pool: &Weak<Inner>, serial: u64) -> bool {
    let Some(inner) = pool.upgrade() else { return false };
    let mut kept = inner.kept.lock().unwrap_or_else(|e| e.into_inner());
    let Some(at) = kept.iter().position(|k| k.serial == serial) else { return false };
    if !kept[at].sender.is_closed() && !kept[at].sender.is_ready() {
        return true;
    }
    kept.remove(at);
    false
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.inner.kept.lock().map(|k| k.len()).unwrap_or(0);
        f.debug_struct("Connections").field("kept", &kept).field("opened", &self.opened()).finish()
    }
}
