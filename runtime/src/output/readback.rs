//! Reading a proof file back: its canonical rows, in the order written, for every format.
//! Used to resume an interrupted proof (the digest state is rebuilt from the rows already on
//! disk), and to recompute a finished proof's digest. Streams: memory is one row.

use std::io::{BufRead, Read};

use anyhow::{Context as _, bail, ensure};
use sha2::{Digest, Sha256};

use super::{Format, canonical_row};
use crate::bindings::types::{Field, FieldKind, Value};

/// Where the rows of a JSON proof start: the header is pretty JSON whose strings escape
/// quotes, so this exact text cannot occur inside it.
pub(crate) const JSON_ROWS_MARKER: &[u8] = b",\n  \"rows\": [";

/// Calls `on_row` with each row's canonical bytes (compact JSON, keys in field order).
pub fn read_canonical_rows(
    input: &mut dyn BufRead,
    format: Format,
    fields: &[Field],
    on_row: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut line = Vec::with_capacity(4096);
    match format {
        Format::Jsonl => loop {
            line.clear();
            if input.read_until(b'\n', &mut line)? == 0 {
                return Ok(());
            }
            let row = line.strip_suffix(b"\n").context("a JSON Lines row is cut short")?;
            on_row(row)?;
        },
        Format::Json => {
            skip_past(input, JSON_ROWS_MARKER)?;
            loop {
                line.clear();
                if input.read_until(b'\n', &mut line)? == 0 {
                    return Ok(());
                }
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                if text.is_empty() {
                    continue;
                }
                // Rows are `    {...}` lines, each but the last followed by a comma; the
                // trailer (`  ],`) ends them.
                let Some(row) = text.strip_prefix(b"    {") else { return Ok(()) };
                let row = row.strip_suffix(b",").unwrap_or(row);
                let mut canonical = Vec::with_capacity(row.len() + 1);
                canonical.push(b'{');
                canonical.extend_from_slice(row);
                on_row(&canonical)?;
            }
        }
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
            let header: Vec<String> = reader.headers()?.iter().map(str::to_string).collect();
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            ensure!(header == names, "the CSV header is not this proof type's fields");
            let mut values = Vec::with_capacity(fields.len());
            let mut record = csv::StringRecord::new();
            while reader.read_record(&mut record)? {
                values.clear();
                for (field, cell) in fields.iter().zip(record.iter()) {
                    values.push(
                        cell_value(field.kind, cell).with_context(|| format!("CSV field {}", field.name))?,
                    );
                }
                ensure!(
                    values.len() == fields.len(),
                    "a CSV row has {} cells for {} fields",
                    values.len(),
                    fields.len()
                );
                line.clear();
                canonical_row(fields, &values, &mut line);
                on_row(&line)?;
            }
            Ok(())
        }
    }
}

/// The number of rows and the canonical-rows SHA-256 of a complete proof file.
pub fn digest(input: &mut dyn BufRead, format: Format, fields: &[Field]) -> anyhow::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let rows = hash_rows(input, format, fields, &mut hasher)?;
    hasher.update(b"]");
    Ok((rows, hex::encode(hasher.finalize())))
}

/// Feeds `[` and the rows, comma-separated, to `hasher` (the digest's definition, without the
/// closing bracket); returns the row count.
pub(crate) fn hash_rows(
    input: &mut dyn BufRead,
    format: Format,
    fields: &[Field],
    hasher: &mut Sha256,
) -> anyhow::Result<u64> {
    hasher.update(b"[");
    let mut rows = 0u64;
    read_canonical_rows(input, format, fields, &mut |row| {
        if rows > 0 {
            hasher.update(b",");
        }
        hasher.update(row);
        rows += 1;
        Ok(())
    })?;
    Ok(rows)
}

/// A CSV cell back as the value the writer wrote (its field kind says how).
fn cell_value(kind: FieldKind, cell: &str) -> anyhow::Result<Value> {
    if cell.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match kind {
        FieldKind::Text => Value::Text(cell.to_string()),
        FieldKind::Timestamp => Value::Timestamp(cell.to_string()),
        FieldKind::Integer => {
            Value::Integer(cell.parse().with_context(|| format!("{cell:?} is not a whole number"))?)
        }
        FieldKind::Boolean => match cell {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            other => bail!("{other:?} is not true or false"),
        },
        FieldKind::TextList => {
            Value::TextList(serde_json::from_str(cell).context("not a JSON list of texts")?)
        }
    })
}

/// Reads until just after `marker`.
fn skip_past(input: &mut dyn BufRead, marker: &[u8]) -> anyhow::Result<()> {
    let mut matched = 0;
    let mut byte = [0u8; 1];
    loop {
        if input.read(&mut byte)? == 0 {
            bail!("this is not a JSON proof: it has no rows array");
        }
        matched = if byte[0] == marker[matched] {
            matched + 1
        } else if byte[0] == marker[0] {
            1
        } else {
            0
        };
        if matched == marker.len() {
            return Ok(());
        }
    }
}

/// A reader that hashes every byte it hands out (the proof file's own SHA-256).
pub(crate) struct HashingReader<R> {
    pub(crate) inner: R,
    pub(crate) hasher: Sha256,
    pub(crate) bytes: u64,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}
