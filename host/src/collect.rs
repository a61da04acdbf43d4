//! Following cursors until a proof is complete, riding out rate limits the connector hands
//! back, and writing rows as each page arrives (memory bounded by one page).

use std::time::Duration;

use crate::bindings::types::{ConnectorError, ProofType};
use crate::error::CallError;
use crate::output::ProofWriter;
use crate::runtime::{Runtime, Tenant};

/// What happens during a collect, for progress displays and logs.
#[derive(Debug, Clone)]
pub enum Progress {
    /// A page arrived.
    Page {
        /// Pages so far.
        pages: u64,
        /// Rows so far.
        rows: u64,
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

/// How a collect ended.
#[derive(Debug, Clone, Default)]
pub struct CollectStats {
    /// Pages fetched.
    pub pages: u64,
    /// HTTP requests sent by the component.
    pub requests: u64,
    /// Response bytes received.
    pub bytes: u64,
    /// Rate-limit waits ridden out.
    pub waits: u32,
    /// Highest peak linear memory of the component over the calls, in bytes.
    pub peak_memory_bytes: usize,
    /// The cursor to resume from when stopped by `max_pages`; `None` when complete.
    pub next_cursor: Option<String>,
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

/// Collects every page of a proof, from the request's cursor, into `writer`.
pub async fn collect_proof(
    runtime: &Runtime,
    tenant: &Tenant,
    request: CollectRequest<'_>,
    writer: &mut ProofWriter,
    options: &CollectOptions,
    progress: &mut (dyn FnMut(&Progress) + Send),
) -> Result<CollectStats, CallError> {
    let CollectRequest { proof, criteria, mut cursor } = request;
    let mut stats = CollectStats::default();
    loop {
        let report = runtime.collect_page(tenant, &proof.id, criteria, cursor.as_deref()).await;
        stats.requests += u64::from(report.requests);
        stats.bytes += report.bytes_received;
        stats.peak_memory_bytes = stats.peak_memory_bytes.max(report.peak_memory_bytes);
        match report.result {
            Ok(page) => {
                writer
                    .write_rows(&page.rows)
                    .map_err(|e| CallError::Host(format!("writing the proof: {e:#}")))?;
                writer.add_warnings(&page.warnings);
                stats.pages += 1;
                progress(&Progress::Page { pages: stats.pages, rows: writer.row_count() });
                cursor = page.next_cursor;
                if cursor.is_none() {
                    return Ok(stats);
                }
                if options.max_pages.is_some_and(|max| stats.pages >= max) {
                    stats.next_cursor = cursor;
                    return Ok(stats);
                }
            }
            Err(CallError::Connector(ConnectorError::RateLimited(limit)))
                if stats.waits < options.max_rate_limit_waits
                    && Duration::from_secs(u64::from(limit.retry_after_seconds)) <= options.max_wait =>
            {
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
            Err(e) => return Err(e),
        }
    }
}
