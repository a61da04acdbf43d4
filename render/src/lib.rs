//! Evidence proofs rendered for the people who read them. Today: an Excel workbook whose first
//! sheet holds the rows as typed cells (timestamps as dates, integers as numbers, booleans,
//! lists joined; text always as text, so a value starting with `=` is never a formula), with
//! a frozen header, filters and sensible widths, and whose second sheet holds the proof's
//! metadata and provenance. Rows stream through in constant memory; past Excel's row limit the
//! render is refused, naming the formats that hold more.

mod xlsx;

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
}
