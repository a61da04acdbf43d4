//! `collect --database`: each page kept in the proof store as well as in the proof file, so
//! `connector-worker export` writes the same proof from the database.

use std::sync::Arc;

use evidence_proof::{Field, PageContext, PageSink, Provenance, Value, Warning};
use evidence_store::{PageIn, Store};

/// A run of the store this collect writes to, page by page.
pub struct Kept {
    store: Arc<Store>,
    run_id: String,
    fields: Vec<Field>,
    seq: i64,
    cursor: Option<String>,
    requests: u64,
}

impl Kept {
    pub fn new(store: Arc<Store>, run_id: String, fields: Vec<Field>) -> Kept {
        Kept { store, run_id, fields, seq: 0, cursor: None, requests: 0 }
    }

    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// Completes the run; returns the digest of its stored rows.
    pub async fn complete(&self, provenance: &Provenance) -> anyhow::Result<String> {
        self.store.complete_run(&self.run_id, provenance).await
    }

    /// Records the run as failed.
    pub async fn fail(&self, kind: &str, message: &str) -> anyhow::Result<()> {
        self.store.fail_run(&self.run_id, kind, message).await
    }
}

/// A new run id for the CLI: `cli-`, the proof type, the login's digest and the time.
pub fn run_id(login: &str, proof_type: &str) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let who = evidence_store::login_digest(login);
    format!("cli-{proof_type}-{who}-{}", now.as_micros())
}

/// The proof's sink, and the store after it.
pub struct Tee<'a> {
    pub sink: &'a mut dyn PageSink,
    pub kept: Option<Kept>,
}

impl PageSink for Tee<'_> {
    fn write_page(
        &mut self,
        rows: &[Vec<Value>],
        warnings: &[Warning],
        at: &PageContext<'_>,
    ) -> anyhow::Result<()> {
        self.sink.write_page(rows, warnings, at)?;
        let Some(k) = self.kept.as_mut() else { return Ok(()) };
        let page = PageIn {
            seq: k.seq,
            cursor_in: k.cursor.as_deref(),
            next_cursor: at.next_cursor,
            requests: (at.requests - k.requests) as i64,
            rows,
            warnings,
            applied_criteria: at.applied_criteria,
        };
        // The sink is called from the collect's task on the CLI's multi-threaded runtime.
        let handle = tokio::runtime::Handle::current();
        tokio::task::block_in_place(|| handle.block_on(k.store.write_page(&k.run_id, &k.fields, &page)))?;
        k.seq += 1;
        k.cursor = at.next_cursor.map(str::to_string);
        k.requests = at.requests;
        Ok(())
    }
}
