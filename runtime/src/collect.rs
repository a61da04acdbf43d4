//! Following cursors until a proof is complete, riding out rate limits the connector hands
//! back, and handing each page to a sink as it arrives (memory bounded by one page). A
//! collect that fails keeps what it had: the cursor of the next page and the counts so far,
//! so the embedder can resume from there.

use std::sync::Arc;
use std::time::Duration;

use evidence_proof::{PageContext, PageSink};

use crate::bindings::types::{ConnectorError, Page, ProofType};
use crate::error::CallError;
use crate::runtime::{CallReport, Runtime, Tenant};

/// What happens during a collect, for progress displays and logs.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A page arrived and was written.
    Page {
        /// Pages so far.
        pages: u64,
        /// Rows so far.
        rows: u64,
        /// The cursor of the next page (`None`: the proof is complete). Persist it to resume.
        next_cursor: Option<String>,
    },
    /// Qualys' rate limit asked for a wait; the collect resumes by itself after it.
    Waiting {
        /// Seconds to wait.
        seconds: u32,
        /// Qualys' explanation.
        message: String,
    },
}

/// Limits of the cursor loop.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Most rate-limit waits ridden out in one collect before giving up.
    pub max_rate_limit_waits: u32,
    /// Longest single wait accepted; a longer one ends the collect with the rate-limit error.
    pub max_wait: Duration,
    /// Stop after this many pages (tests and resumable workers); `None` for all.
    pub max_pages: Option<u64>,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions { max_rate_limit_waits: 20, max_wait: Duration::from_secs(3600), max_pages: None }
    }
}

/// How far a collect got.
#[derive(Debug, Clone, Default)]
pub struct CollectStats {
    /// Pages fetched and written.
    pub pages: u64,
    /// Rows written.
    pub rows: u64,
    /// HTTP requests sent by the component (refused and retried ones included).
    pub requests: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Rate-limit waits ridden out.
    pub waits: u32,
    /// Highest peak linear memory of the component over the calls, in bytes.
    pub peak_memory_bytes: usize,
    /// The cursor of the next page: `None` when the proof is complete; set when the collect
    /// stopped at `max_pages`, or failed (the last good cursor to resume from).
    pub next_cursor: Option<String>,
}

/// A collect that failed, with everything needed to resume it later.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct CollectError {
    /// Why it stopped.
    #[source]
    pub error: CallError,
    /// Counts of what was collected and written before it stopped, and in `next_cursor` the
    /// cursor of the page that failed (`None` when the first page failed: start again).
    pub stats: CollectStats,
}

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectRequest<'a> {
    /// The proof type (from `list-proof-types`).
    pub proof: &'a ProofType,
    /// Criteria as NAME, VALUE pairs.
    pub criteria: &'a [(String, String)],
    /// Where to resume; `None` to start from the first page.
    pub cursor: Option<String>,
}

/// Collects every page of a proof, from the request's cursor, into `sink`.
///
/// Pages overlap: once a page has arrived, the call for the next one starts (on a task of its
/// own) before this page is handed to the sink, so the sink writes while the component fetches
/// and parses. The sink still sees every page in order, one at a time, and at most one call is
/// in flight (Qualys allows two per account). The next call is not started after the last page,
/// nor past `max_pages`; when the sink fails, the call in flight is stopped and the collect
/// reports the cursor of the page the sink could not keep, as before.
#[tracing::instrument(name = "collect", skip_all, fields(proof_type = %request.proof.id, tenant = %tenant.name))]
pub async fn collect_proof(
    runtime: &Runtime,
    tenant: &Tenant,
    request: CollectRequest<'_>,
    sink: &mut dyn PageSink,
    options: &CollectOptions,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<CollectStats, Box<CollectError>> {
    let CollectRequest { proof, criteria, mut cursor } = request;
    let fetcher = Fetcher {
        runtime: runtime.clone(),
        tenant: tenant.clone(),
        proof: Arc::from(proof.id.as_str()),
        criteria: Arc::from(criteria),
    };
    let mut stats = CollectStats::default();
    let mut next: Option<InFlight> = None;
    loop {
        let report = match next.take() {
            Some(call) => call.finish().await,
            None => fetcher.fetch(cursor.clone()).await,
        };
        stats.requests += u64::from(report.requests);
        stats.bytes += report.bytes_received;
        stats.peak_memory_bytes = stats.peak_memory_bytes.max(report.peak_memory_bytes);
        let fail = |error: CallError, mut stats: CollectStats, at: Option<String>| {
            stats.next_cursor = at;
            Err(Box::new(CollectError { error, stats }))
        };
        match report.result {
            Ok(page) => {
                let last_wanted = options.max_pages.is_some_and(|max| stats.pages + 1 >= max);
                if let Some(at) = page.next_cursor.as_ref().filter(|_| !last_wanted) {
                    next = Some(fetcher.start(at.clone()));
                }
                let Page { rows, next_cursor, warnings, applied_criteria } = page;
                let page = crate::bindings::PageData::from_wit(rows, warnings);
                let at = PageContext {
                    next_cursor: next_cursor.as_deref(),
                    pages: stats.pages + 1,
                    rows: stats.rows + page.rows.len() as u64,
                    requests: stats.requests,
                    applied_criteria: &applied_criteria,
                };
                if let Err(e) = sink.write_page(&page.rows, &page.warnings, &at) {
                    if let Some(call) = next.take() {
                        call.stop();
                    }
                    return fail(CallError::host("writing the proof", e), stats, cursor);
                }
                stats.pages += 1;
                stats.rows += page.rows.len() as u64;
                tracing::info!(
                    page = stats.pages,
                    rows = stats.rows,
                    requests = stats.requests,
                    last = next_cursor.is_none(),
                    "page kept"
                );
                progress(&Progress::Page {
                    pages: stats.pages,
                    rows: stats.rows,
                    next_cursor: next_cursor.clone(),
                });
                cursor = next_cursor;
                if cursor.is_none() {
                    return Ok(stats);
                }
                if last_wanted {
                    stats.next_cursor = cursor;
                    return Ok(stats);
                }
            }
            Err(CallError::Connector(ConnectorError::RateLimited(limit)))
                if stats.waits < options.max_rate_limit_waits
                    && Duration::from_secs(u64::from(limit.retry_after_seconds)) <= options.max_wait =>
            {
                tracing::info!(seconds = limit.retry_after_seconds, "rate limited: waiting, then resuming");
                stats.waits += 1;
                progress(&Progress::Waiting {
                    seconds: limit.retry_after_seconds,
                    message: limit.message.clone(),
                });
                tokio::time::sleep(Duration::from_secs(u64::from(limit.retry_after_seconds))).await;
                if limit.resume_cursor.is_some() {
                    cursor = limit.resume_cursor;
                }
            }
            Err(CallError::Connector(ConnectorError::RateLimited(limit))) => {
                let at = limit.resume_cursor.clone().or(cursor);
                return fail(CallError::Connector(ConnectorError::RateLimited(limit)), stats, at);
            }
            Err(e) => return fail(e, stats, cursor),
        }
    }
}

/// What a page call needs, owned, so the next page's call can run on a task of its own.
struct Fetcher {
    runtime: Runtime,
    tenant: Tenant,
    proof: Arc<str>,
    criteria: Arc<[(String, String)]>,
}

impl Fetcher {
    async fn fetch(&self, cursor: Option<String>) -> CallReport<Page> {
        self.runtime.collect_page(&self.tenant, &self.proof, &self.criteria, cursor.as_deref()).await
    }

    /// Starts the call for the page at `cursor` on a task of its own.
    fn start(&self, cursor: String) -> InFlight {
        let (runtime, tenant, proof, criteria) =
            (self.runtime.clone(), self.tenant.clone(), self.proof.clone(), self.criteria.clone());
        // The call runs on a task of its own, in the collect's span.
        let call = async move { runtime.collect_page(&tenant, &proof, &criteria, Some(&cursor)).await };
        InFlight(tokio::spawn(tracing::Instrument::in_current_span(call)))
    }
}

/// The call for the next page, running while the current page is written.
struct InFlight(tokio::task::JoinHandle<CallReport<Page>>);

impl InFlight {
    async fn finish(self) -> CallReport<Page> {
        match self.0.await {
            Ok(report) => report,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => CallReport {
                result: Err(CallError::host("collecting the next page", e)),
                requests: 0,
                bytes_received: 0,
                peak_memory_bytes: 0,
            },
        }
    }

    /// Stops the call: its store is dropped, and with it the request in flight.
    fn stop(self) {
        self.0.abort();
    }
}
