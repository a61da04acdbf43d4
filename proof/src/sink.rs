//! Where collected pages go: a proof file ([`crate::ProofWriter`]), a database, a queue.

use crate::model::{Value, Warning};

/// Takes a proof page by page, as a collect loop hands it over.
pub trait PageSink: Send {
    /// Takes one page's rows (values aligned with the proof type's fields) and warnings.
    /// `at` says where the collect stands once this page is kept: a sink that persists
    /// `at.next_cursor` together with the rows can resume the proof after a failure.
    fn write_page(
        &mut self,
        rows: &[Vec<Value>],
        warnings: &[Warning],
        at: &PageContext<'_>,
    ) -> anyhow::Result<()>;
}

/// Where the collect stands once a page is kept.
#[derive(Debug, Clone, Copy)]
pub struct PageContext<'a> {
    /// The cursor of the next page; `None` when this was the last.
    pub next_cursor: Option<&'a str>,
    /// Pages kept in this collect, this one included.
    pub pages: u64,
    /// Rows kept in this collect, this page's included.
    pub rows: u64,
    /// Requests sent in this collect so far.
    pub requests: u64,
    /// On the proof's first page, the criteria as the connector applied them; empty otherwise.
    pub applied_criteria: &'a [(String, String)],
}
