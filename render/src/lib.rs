//! Evidence proofs rendered for the people who read them.
//!
//! - An Excel workbook ([`render_xlsx`]) whose first sheet holds the rows as typed cells
//!   (timestamps as dates, integers as numbers, booleans, lists joined; text always as text, so
//!   a value starting with `=` is never a formula), with a frozen header, filters and sensible
//!   widths, and whose second sheet holds the proof's metadata and provenance. Rows stream
//!   through in constant memory; past Excel's row limit the render is refused, naming the
//!   formats that hold more.
//! - A PDF/A-3u document ([`render_pdf`]): a first page of provenance, the proof type's
//!   summaries as tables and bar charts, the rows (a table, or one block per record when they
//!   are too wide for a page), and the proof itself attached, so the PDF alone is checkable.
//! - A signed sidecar for either ([`document::write_sidecar`]) and its check
//!   ([`document::verify_document`]).

pub mod document;
mod pdf;
pub mod summary;
mod xlsx;

use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

pub use pdf::{FontSources, MAX_PAGES, MAX_PROOF_BYTES, NoFont, PdfOptions, TooManyPages, render_pdf};
pub use xlsx::{MAX_ROWS, render_xlsx};

/// The proof's rows do not match the digest its metadata states: it changed after it was
/// written, and is not rendered (a rendering would look as trustworthy as the original).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowsChanged {
    /// The digest the proof states.
    pub stated: String,
    /// The digest of the rows as read.
    pub read: String,
}

impl std::fmt::Display for RowsChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the proof's rows do not match its digest (stated {}, read {}): it changed after it was \
             written, so it is not rendered; run `verify` on it",
            self.stated, self.read
        )
    }
}

impl std::error::Error for RowsChanged {}

/// What a render wrote.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Rows written.
    pub rows: u64,
    /// SHA-256 of the proof's canonical rows, recomputed while reading them.
    pub sha256: String,
    /// Whether the proof's metadata was there to render (a rows file without its sidecar has
    /// none).
    pub with_metadata: bool,
    /// Pages of a PDF.
    pub pages: Option<u64>,
    /// Files attached to a PDF: name and SHA-256.
    pub attachments: Vec<(String, String)>,
    /// The proof's metadata (every member but the rows), for the document's sidecar.
    pub metadata: Option<serde_json::Map<String, Value>>,
}

/// A value as text: strings as they are, null as nothing, the rest as JSON.
pub(crate) fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Writes a document where `out` says, as the proof writer resolves outputs: a regular file is
/// written under a temporary name beside it (`write_file`), locked against a second writer, and
/// renamed when complete (a link to it stays a link); a device, pipe or standard output gets
/// the finished bytes (`bytes`) in place, never replaced.
pub(crate) fn save_with(
    out: &Path,
    suffix: &str,
    write_file: impl FnOnce(&std::fs::File) -> anyhow::Result<()>,
    bytes: impl FnOnce() -> anyhow::Result<Vec<u8>>,
) -> anyhow::Result<()> {
    use evidence_proof::Destination;
    match evidence_proof::output::resolve(Some(out))? {
        Destination::File(target) => {
            let _lock = evidence_proof::OutputLock::acquire(&target)?;
            let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let temp = tempfile::Builder::new()
                .prefix(".render-")
                .suffix(suffix)
                .tempfile_in(dir)
                .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
            write_file(temp.as_file()).with_context(|| format!("writing {}", out.display()))?;
            temp.as_file().sync_all()?;
            temp.persist(&target).with_context(|| format!("writing {}", out.display()))?;
        }
        Destination::InPlace(path) => {
            let bytes = bytes()?;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .with_context(|| format!("opening {}", path.display()))?;
            std::io::Write::write_all(&mut file, &bytes)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        Destination::Stdout => {
            let bytes = bytes()?;
            std::io::Write::write_all(&mut std::io::stdout().lock(), &bytes)
                .context("writing to standard output")?;
        }
    }
    Ok(())
}

/// [`save_with`] for bytes already in memory.
pub(crate) fn save_bytes(out: &Path, suffix: &str, bytes: &[u8]) -> anyhow::Result<()> {
    save_with(out, suffix, |mut f| Ok(std::io::Write::write_all(&mut f, bytes)?), || Ok(bytes.to_vec()))
}
