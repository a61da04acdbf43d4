//! The PDF: PDF/A-3u (archival, text extractable, attachments allowed) with a first page of
//! provenance, the proof type's summaries, the rows, and the proof itself attached.
//!
//! The proof is copied to a private folder first and every pass reads that copy, so what is
//! drawn, counted and attached is one and the same. Pass one measures columns and counts the
//! summaries; pass two counts pages (a render past [`MAX_PAGES`] stops there, before drawing);
//! pass three draws.

mod draw;
pub mod text;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use evidence_proof::{Field, FieldKind, ProofFile};
use serde_json::{Map, Value};

use crate::summary::{self, Summary, Tally};
use crate::{Rendered, RowsChanged};
pub use text::{FontSources, NoFont};

/// Pages a PDF of rows may have: past it a person cannot use the document (and an auditor who
/// needs every row of a larger proof filters the Excel workbook or the JSON Lines).
pub const MAX_PAGES: u64 = 10_000;

/// How to render a PDF.
#[derive(Debug, Clone)]
pub struct PdfOptions {
    /// The proof type's description, for the first page (proofs carry its title, not this).
    pub description: Option<String>,
    /// Where fonts for scripts the embedded font lacks come from.
    pub fonts: FontSources,
    /// Most pages allowed (default [`MAX_PAGES`]).
    pub max_pages: u64,
    /// Who renders, for the document's metadata (e.g. "connector-host 0.1.0").
    pub creator: String,
}

impl Default for PdfOptions {
    fn default() -> Self {
        PdfOptions {
            description: None,
            fonts: FontSources { system: true, folders: Vec::new() },
            max_pages: MAX_PAGES,
            creator: format!("evidence-render {}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// The rows need more pages than a PDF of this library holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooManyPages {
    /// Rows of the proof.
    pub rows: u64,
    /// The bound.
    pub max_pages: u64,
}

impl std::fmt::Display for TooManyPages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the proof's {} rows need more than {} pages, more than a person can use as a PDF; render it as \
             xlsx (up to {} rows, with filters), keep it as JSON Lines or CSV, or collect less with criteria",
            self.rows,
            self.max_pages,
            crate::MAX_ROWS
        )
    }
}

impl std::error::Error for TooManyPages {}

/// The largest proof file a PDF attaches (the document holds it in memory while it is written).
pub const MAX_PROOF_BYTES: u64 = 1 << 30;

/// A field as the PDF shows it.
#[derive(Debug, Clone)]
pub(crate) struct Column {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
}

/// What pass one learnt.
pub(crate) struct Survey {
    pub columns: Vec<Column>,
    pub metadata: Option<Map<String, Value>>,
    pub rows: u64,
    pub sha256: String,
    /// Widest value of each column, in points at the body size (capped).
    pub natural: Vec<f32>,
    /// Widest word (text between spaces) of each column, capped: the column is not made
    /// narrower, so dates and addresses are not broken inside.
    pub token: Vec<f32>,
    pub summaries: Vec<(Summary, Tally)>,
}

/// Renders the proof at `proof` (JSON, or JSON Lines or CSV with its sidecar) as a PDF/A-3u
/// document at `out`, written under a temporary name and renamed when complete.
pub fn render_pdf(proof: &Path, out: &Path, options: &PdfOptions) -> anyhow::Result<Rendered> {
    let copy =
        tempfile::Builder::new().prefix("evidence-render-").tempdir().context("creating a private folder")?;
    let (file, attachments) = private_copy(proof, copy.path())?;
    let mut fonts = text::Fonts::new(&options.fonts)?;
    let survey = survey(&file, &mut fonts)?;
    let layout = draw::Layout::choose(&survey, &mut fonts)?;
    let row_pages = draw::count_pages(&file, &survey, &layout, &mut fonts, options.max_pages)?;
    let front = 1 + survey.summaries.len().div_ceil(draw::SUMMARIES_PER_PAGE) as u64;
    let total = front + row_pages.max(1);
    let mut files = Vec::new();
    for (name, path) in attachments {
        files.push((name, std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?));
    }
    let bytes = draw::document(&file, &survey, &layout, &mut fonts, options, &files, total)?;
    crate::save_bytes(out, ".pdf", &bytes)?;
    Ok(Rendered {
        rows: survey.rows,
        sha256: survey.sha256,
        with_metadata: survey.metadata.is_some(),
        pages: Some(total),
        attachments: files.iter().map(|(n, b)| (n.clone(), crate::document::sha256_hex(b))).collect(),
        metadata: survey.metadata,
    })
}

/// Copies the proof's files into `dir` (refusing what is not a regular file or is too large),
/// and returns the copy and the attachments' names and paths.
fn private_copy(proof: &Path, dir: &Path) -> anyhow::Result<(ProofFile, Vec<(String, PathBuf)>)> {
    let found = ProofFile::locate(proof)?;
    let mut names = Vec::new();
    for source in std::iter::once(&found.rows).chain(found.sidecar.as_ref()) {
        let name =
            source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "proof".into());
        let mut input =
            std::fs::File::open(source).with_context(|| format!("opening {}", source.display()))?;
        let meta = input.metadata()?;
        anyhow::ensure!(meta.is_file(), "{} is not a regular file", source.display());
        anyhow::ensure!(
            meta.len() <= MAX_PROOF_BYTES,
            "{} is larger than {} MiB, more than a PDF attaches; render it as xlsx or keep it as it is",
            source.display(),
            MAX_PROOF_BYTES >> 20
        );
        let target = dir.join(&name);
        let mut output = std::fs::File::create(&target)?;
        std::io::copy(&mut input, &mut output).with_context(|| format!("copying {}", source.display()))?;
        names.push((name, target));
    }
    let copied = ProofFile {
        rows: names[0].1.clone(),
        format: found.format,
        sidecar: names.get(1).map(|(_, p)| p.clone()),
    };
    Ok((copied, names))
}

/// A value as the PDF shows it: lists joined, no control characters but line breaks.
pub(crate) fn shown(kind: FieldKind, value: &Value) -> String {
    let text = match (kind, value) {
        (_, Value::Null) => return String::new(),
        // RFC 3339 allows a space for the `T`: the date and time read apart, and wrap apart.
        (FieldKind::Timestamp, Value::String(t)) if t.len() > 10 && t.as_bytes()[10] == b'T' => {
            format!("{} {}", &t[..10], &t[11..])
        }
        (_, Value::Array(items)) => items.iter().map(crate::plain).collect::<Vec<_>>().join("; "),
        (_, other) => crate::plain(other),
    };
    if text.chars().any(|c| c.is_control() && c != '\n') {
        text.chars().map(|c| if c.is_control() && c != '\n' { ' ' } else { c }).collect()
    } else {
        text
    }
}

/// Pass one: columns, widths, summaries and the digest check.
fn survey(file: &ProofFile, fonts: &mut text::Fonts) -> anyhow::Result<Survey> {
    // Both callbacks share what the head told: one cell of state.
    let state = std::cell::RefCell::new((
        Vec::<Column>::new(),
        Vec::<f32>::new(),
        Vec::<f32>::new(),
        Vec::<(Summary, Tally)>::new(),
    ));
    let mut failure: Option<anyhow::Error> = None;
    let mut on_head = |head: Option<&Map<String, Value>>, fields: &[Field]| {
        let (columns, natural, token, summaries) = &mut *state.borrow_mut();
        let labels: Map<String, Value> = head
            .and_then(|h| h.get("fields"))
            .and_then(Value::as_array)
            .map(|fs| {
                fs.iter()
                    .filter_map(|f| Some((f.get("name")?.as_str()?.to_string(), f.get("label")?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        for f in fields {
            let label = labels.get(&f.name).and_then(Value::as_str).unwrap_or(&f.name).to_string();
            columns.push(Column { name: f.name.clone(), label, kind: f.kind });
            natural.push(0.0);
            token.push(0.0);
        }
        let proof_type = head.and_then(|h| h.get("proof_type")).and_then(Value::as_str).unwrap_or_default();
        for s in summary::declared(proof_type) {
            if s.fields().iter().all(|n| fields.iter().any(|f| f.name == *n)) {
                summaries.push((*s, Tally::default()));
            }
        }
        Ok(())
    };
    let mut on_row = |bytes: &[u8]| -> anyhow::Result<()> {
        let (columns, natural, token, summaries) = &mut *state.borrow_mut();
        let row: Map<String, Value> =
            serde_json::from_slice(bytes).context("a row of the proof is not JSON")?;
        for (c, column) in columns.iter().enumerate() {
            let value = shown(column.kind, row.get(&column.name).unwrap_or(&Value::Null));
            // The widest line a value would show, up to the widest column there is.
            let widest = value
                .lines()
                .map(|l| l.chars().take(200).collect::<String>())
                .try_fold(0.0f32, |w, l| fonts.width(&l, draw::BODY, false).map(|x| w.max(x)));
            let word = value
                .split([' ', '\n'])
                .filter(|w| w.len() > 1)
                .map(|w| w.chars().take(40).collect::<String>())
                .try_fold(0.0f32, |m, w| fonts.width(&w, draw::BODY, false).map(|x| m.max(x)));
            match widest.and_then(|w| Ok((w, word?))) {
                Ok((w, t)) => {
                    natural[c] = natural[c].max(w.min(draw::WIDEST));
                    token[c] = token[c].max(t.min(draw::WIDEST_WORD));
                }
                Err(e) => {
                    failure.get_or_insert(anyhow::Error::new(e).context(format!("field {}", column.name)));
                }
            }
        }
        for (s, tally) in summaries.iter_mut() {
            tally.add(s, &row);
        }
        Ok(())
    };
    let read = file.read(None, &mut on_head, &mut on_row).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(e) = failure {
        return Err(e);
    }
    let (columns, natural, token, summaries) = state.into_inner();
    if let Some(stated) = read.metadata.as_ref().and_then(|m| m.get("sha256")).and_then(Value::as_str)
        && stated != read.sha256
    {
        return Err(RowsChanged { stated: stated.to_string(), read: read.sha256.clone() }.into());
    }
    Ok(Survey {
        columns,
        metadata: read.metadata,
        rows: read.rows,
        sha256: read.sha256,
        natural,
        token,
        summaries,
    })
}
