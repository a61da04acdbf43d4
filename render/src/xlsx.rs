//! The Excel workbook.

use std::path::Path;

use anyhow::Context;
use evidence_proof::{FieldKind, ProofFile};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde_json::{Map, Value};

use crate::{Rendered, plain};

/// Data rows a worksheet holds: Excel's 1,048,576 rows less the header.
pub const MAX_ROWS: u64 = 1_048_575;
/// Widest column, in characters (Excel's own limit is 255; wider cells wrap in a reader's eye).
const MAX_WIDTH: usize = 60;
/// Longest text a cell holds (Excel's limit); longer values are cut with a note in the cell.
const MAX_CELL_CHARS: usize = 32_767;
/// Integers Excel's doubles hold exactly; larger ones are written as text.
const EXACT_INTEGER: i64 = 1 << 53;

/// What the callbacks of a read share.
struct State<'w> {
    sheet: &'w mut Worksheet,
    widths: Vec<usize>,
    kinds: Vec<(String, FieldKind)>,
    row: u32,
}

/// Renders the proof at `proof` (JSON, JSON Lines or CSV with its sidecar) as an Excel workbook
/// at `out`, written under a temporary name and renamed when complete.
pub fn render_xlsx(proof: &Path, out: &Path) -> anyhow::Result<Rendered> {
    let file = ProofFile::locate(proof)?;
    // A sidecar states the row count: a proof too large is refused before any row is written
    // (a JSON proof states it after its rows, where the guard in the row loop stops it).
    let stated = file.head().ok().flatten().and_then(|h| h.get("row_count").and_then(Value::as_u64));
    if let Some(rows) = stated.filter(|r| *r > MAX_ROWS) {
        return Err(too_many(rows));
    }
    let mut workbook = Workbook::new();
    let header = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name("Rows")?;
    // Both callbacks write the sheet and share what the head told: one cell of state.
    let state = std::cell::RefCell::new(State { sheet, widths: Vec::new(), kinds: Vec::new(), row: 0 });
    let mut on_head = |head: Option<&Map<String, Value>>, fields: &[evidence_proof::Field]| {
        let s = &mut *state.borrow_mut();
        let _ = head;
        for (c, f) in fields.iter().enumerate() {
            s.sheet.write_string_with_format(0, c as u16, &f.name, &header)?;
            s.widths.push(f.name.chars().count());
            s.kinds.push((f.name.clone(), f.kind));
        }
        Ok(())
    };
    let mut on_row = |bytes: &[u8]| -> anyhow::Result<()> {
        let s = &mut *state.borrow_mut();
        if u64::from(s.row) >= MAX_ROWS {
            return Err(too_many(u64::from(s.row) + 1));
        }
        s.row += 1;
        let row: Map<String, Value> =
            serde_json::from_slice(bytes).context("a row of the proof is not JSON")?;
        for c in 0..s.kinds.len() {
            let value = row.get(&s.kinds[c].0).unwrap_or(&Value::Null);
            let shown = write_cell(s.sheet, s.row, c as u16, s.kinds[c].1, value, &date)?;
            s.widths[c] = s.widths[c].max(shown);
        }
        Ok(())
    };
    let read = file.read(None, &mut on_head, &mut on_row).map_err(|e| anyhow::anyhow!("{e}"))?;
    let State { widths, kinds, row: row_index, .. } = state.into_inner();
    // Every member but the rows, the tail of a JSON proof (digest, provenance) included.
    let metadata = read.metadata.clone();
    if let Some(stated) = metadata.as_ref().and_then(|m| m.get("sha256")).and_then(Value::as_str)
        && stated != read.sha256
    {
        return Err(crate::RowsChanged { stated: stated.to_string(), read: read.sha256.clone() }.into());
    }
    let columns = kinds.len();
    let sheet = workbook.worksheet_from_name("Rows")?;
    if columns > 0 {
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofilter(0, 0, row_index, (columns - 1) as u16)?;
        for (c, w) in widths.iter().enumerate() {
            sheet.set_column_width(c as u16, (*w).clamp(8, MAX_WIDTH) as f64 + 2.0)?;
        }
    }
    let about = workbook.add_worksheet();
    about.set_name("Proof")?;
    write_metadata(about, metadata.as_ref(), &read, &header)?;

    save(&mut workbook, out)?;
    Ok(Rendered {
        rows: read.rows,
        sha256: read.sha256,
        with_metadata: metadata.is_some(),
        pages: None,
        attachments: Vec::new(),
        metadata,
    })
}

/// Writes the workbook where `out` says (see [`crate::save_with`]).
fn save(workbook: &mut Workbook, out: &Path) -> anyhow::Result<()> {
    let cell = std::cell::RefCell::new(workbook);
    crate::save_with(
        out,
        ".xlsx",
        |file| Ok(cell.borrow_mut().save_to_writer(file)?),
        // A zip is written with seeks: a pipe or device gets the finished file's bytes (the
        // compressed workbook, held once in memory).
        || Ok(cell.borrow_mut().save_to_buffer()?),
    )
}

/// The refusal of a proof with more rows than a worksheet holds.
fn too_many(rows: u64) -> anyhow::Error {
    anyhow::anyhow!(
        "the proof has {rows} rows or more, more than the {MAX_ROWS} an Excel worksheet holds; keep it as JSON \
         Lines or CSV (or JSON), which hold any number, or collect less with criteria"
    )
}

/// Writes one value as the cell its kind calls for; returns how many characters it shows.
fn write_cell(
    sheet: &mut Worksheet,
    row: u32,
    col: u16,
    kind: FieldKind,
    value: &Value,
    date: &Format,
) -> Result<usize, XlsxError> {
    match (kind, value) {
        (_, Value::Null) => Ok(0),
        (FieldKind::Integer, Value::Number(n)) if n.as_i64().is_some_and(|i| i.abs() < EXACT_INTEGER) => {
            let i = n.as_i64().unwrap_or_default();
            sheet.write_number(row, col, i as f64)?;
            Ok(i.to_string().len())
        }
        (FieldKind::Boolean, Value::Bool(b)) => {
            sheet.write_boolean(row, col, *b)?;
            Ok(5)
        }
        (FieldKind::Timestamp, Value::String(t)) => match timestamp(t) {
            Some(dt) => {
                sheet.write_datetime_with_format(row, col, &dt, date)?;
                Ok(19)
            }
            None => text(sheet, row, col, t),
        },
        (FieldKind::TextList, Value::Array(items)) => {
            let joined: Vec<String> = items.iter().map(plain).collect();
            text(sheet, row, col, &joined.join("; "))
        }
        (_, other) => text(sheet, row, col, &plain(other)),
    }
}

/// A string cell, never a formula, cut at Excel's cell limit with a note saying so.
fn text(sheet: &mut Worksheet, row: u32, col: u16, value: &str) -> Result<usize, XlsxError> {
    let chars = value.chars().count();
    if chars > MAX_CELL_CHARS {
        let note = format!(" […cut: {chars} characters, see the JSON proof]");
        let keep: String = value.chars().take(MAX_CELL_CHARS - note.chars().count()).collect();
        sheet.write_string(row, col, format!("{keep}{note}"))?;
    } else {
        sheet.write_string(row, col, value)?;
    }
    Ok(value.lines().map(|l| l.chars().count()).max().unwrap_or(0))
}

/// An RFC 3339 UTC timestamp (`2026-11-01T12:00:00Z`) as an Excel date and time.
fn timestamp(text: &str) -> Option<ExcelDateTime> {
    let t = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()?;
    ExcelDateTime::from_timestamp(t.unix_timestamp()).ok()
}

/// The second sheet: the proof's metadata and provenance as name and value, nested members
/// named by their path (`provenance.account.login`), and the digest recomputed from the rows.
fn write_metadata(
    sheet: &mut Worksheet,
    metadata: Option<&Map<String, Value>>,
    read: &evidence_proof::file::ProofRead,
    bold: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(0, 0, "name", bold)?;
    sheet.write_string_with_format(0, 1, "value", bold)?;
    let mut lines: Vec<(String, String)> = Vec::new();
    match metadata {
        Some(m) => {
            for (k, v) in m {
                if k != "fields" {
                    flatten(k, v, &mut lines);
                }
            }
        }
        None => lines.push(("metadata".into(), "none: a rows file without its sidecar".into())),
    }
    lines.push(("rows (read back)".into(), read.rows.to_string()));
    lines.push(("sha256 (recomputed from the rows)".into(), read.sha256.clone()));
    let mut width = 10;
    for (i, (k, v)) in lines.iter().enumerate() {
        let r = i as u32 + 1;
        sheet.write_string(r, 0, k)?;
        text(sheet, r, 1, v)?;
        width = width.max(k.chars().count());
    }
    sheet.set_column_width(0, width.min(MAX_WIDTH) as f64 + 2.0)?;
    sheet.set_column_width(1, 80)?;
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, v) in m {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        // Criteria: `{name, value}` pairs, shown as `criteria.NAME`.
        Value::Array(items)
            if !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("name").is_some_and(Value::is_string) && i.get("value").is_some()) =>
        {
            for i in items {
                flatten(&format!("{prefix}.{}", plain(&i["name"])), &i["value"], out);
            }
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            out.push((prefix.to_string(), items.iter().map(plain).collect::<Vec<_>>().join("; ")));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                flatten(&format!("{prefix}[{}]", i + 1), item, out);
            }
        }
        other => out.push((prefix.to_string(), plain(other))),
    }
}
