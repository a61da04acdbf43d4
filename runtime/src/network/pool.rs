//! Connections one tenant keeps open between its requests (HTTP/1.1 keep-alive), so the pages
//! of a proof travel over one TCP and TLS session instead of a handshake each (to a remote
//! platform, one to three round trips saved per page).
//!
//! A connection is reused only by the tenant that opened it, only under the same operator
//! policy (whose address checks it passed when it was opened), and only for the same scheme,
//! host and port. hyper marks a connection ready once the previous response was read to its
//! end; one whose body was dropped early, or that the server closed, is never handed out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use hyper::client::conn::http1::SendRequest;
use wasmtime_wasi_http::WasiBody;

/// How many connections a tenant keeps at most; Qualys runs two calls of a subscription at
/// once, so two per API server, a few servers at most.
const MAX_KEPT: usize = 4;

/// The connections a tenant's calls reuse. Clones share them; dropping the last clone closes
/// them. [`Connections::default`] starts with none.
#[derive(Clone, Default)]
pub struct Connections {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    kept: Mutex<Vec<Kept>>,
    opened: AtomicU64,
}

struct Kept {
    key: Key,
    sender: SendRequest<WasiBody>,
}

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
    /// Connections this tenant has opened so far (each request not served by a kept one).
    pub fn opened(&self) -> u64 {
        self.inner.opened.load(Ordering::Relaxed)
    }

    /// A kept connection for `key` that is ready for a request now; closed ones are dropped.
    pub(crate) fn take(&self, key: &Key) -> Option<SendRequest<WasiBody>> {
        let mut kept = self.inner.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|k| !k.sender.is_closed());
        let at = kept.iter().position(|k| k.key == *key && k.sender.is_ready())?;
        Some(kept.remove(at).sender)
    }

    /// Keeps a connection that has a request in flight: it is handed out again once hyper
    /// has read that response to its end. The oldest beyond [`MAX_KEPT`] is let go (it
    /// finishes its response, then closes).
    pub(crate) fn keep(&self, key: Key, sender: SendRequest<WasiBody>) {
        let mut kept = self.inner.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|k| !k.sender.is_closed());
        if kept.len() >= MAX_KEPT {
            kept.remove(0);
        }
        kept.push(Kept { key, sender });
    }

    pub(crate) fn count_opened(&self) {
        self.inner.opened.fetch_add(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.inner.kept.lock().map(|k| k.len()).unwrap_or(0);
        f.debug_struct("Connections").field("kept", &kept).field("opened", &self.opened()).finish()
    }
}
