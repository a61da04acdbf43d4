//! Reading a proof file back: its canonical rows, in the order written, for every format.
//! Used to resume an interrupted proof (the digest state is rebuilt from the rows already on
//! disk), and to recompute a finished proof's digest. Streams: memory is one row.

use std::io::{BufRead, Read};

use anyhow::{Context as _, bail, ensure};
use sha2::{Digest, Sha256};

use super::{Format, canonical_row};
use crate::model::{Field, FieldKind, Value};

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
    let read = hash_rows(input, format, fields, &mut hasher)?;
    hasher.update(b"]");
    Ok((read.rows, hex::encode(hasher.finalize())))
}

/// What [`hash_rows`] read.
pub(crate) struct RowsRead {
    /// How many rows.
    pub rows: u64,
    /// The last row's canonical bytes (empty when there is none).
    pub last_row: Vec<u8>,
}

impl RowsRead {
    /// SHA-256 of the last row's canonical bytes, when there is one.
    pub fn last_row_sha256(&self) -> Option<String> {
        (self.rows > 0).then(|| hex::encode(Sha256::digest(&self.last_row)))
    }
}

/// Feeds `[` and the rows, comma-separated, to `hasher` (the digest's definition, without the
/// closing bracket); returns the row count and the last row's digest.
pub(crate) fn hash_rows(
    input: &mut dyn BufRead,
    format: Format,
    fields: &[Field],
    hasher: &mut Sha256,
) -> anyhow::Result<RowsRead> {
    hasher.update(b"[");
    let mut rows = 0u64;
    let mut last = Vec::new();
    read_canonical_rows(input, format, fields, &mut |row| {
        if rows > 0 {
            hasher.update(b",");
        }
        hasher.update(row);
        last.clear();
        last.extend_from_slice(row);
        rows += 1;
        Ok(())
    })?;
    Ok(RowsRead { rows, last_row: last })
}

/// A CSV cell back as the value the writer wrote (its field kind says how).
fn cell_value(kind: FieldKind, cell: &str) -> anyhow::Result<Value> {
    if cell.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match kind {
        // The writer guards a text that starts like a formula with one `'`.
        FieldKind::Text => match cell.strip_prefix('\'') {
            Some(text) if text.starts_with(super::CSV_FORMULA_STARTS) => Value::Text(text.to_string()),
            _ => Value::Text(cell.to_string()),
        },
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

/// The members a JSON proof holds before its rows, read from the start of a file this writer
/// wrote (complete or partial).
pub(crate) fn json_head(
    input: &mut dyn BufRead,
) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    let mut bytes = Vec::with_capacity(8192);
    while !bytes.ends_with(JSON_ROWS_MARKER) {
        ensure!(input.read_until(b'[', &mut bytes)? > 0, "this is not a JSON proof: it has no rows array");
    }
    bytes.truncate(bytes.len() - JSON_ROWS_MARKER.len());
    bytes.extend_from_slice(b"\n}");
    parse_strict_object(&bytes)
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

/// The longest line a proof file may hold. A row this tool writes is a few KB; a file with a
/// longer line is refused while it is read, so that memory stays bounded whatever a file holds.
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// A reader that fails once more than [`MAX_LINE_BYTES`] arrive without a line feed, so that
/// no reader above it buffers a line (or a JSON token) without bound.
pub struct LineBound<R> {
    inner: R,
    run: usize,
}

impl<R> LineBound<R> {
    /// Bounds the lines of `inner`.
    pub fn new(inner: R) -> LineBound<R> {
        LineBound { inner, run: 0 }
    }
}

impl<R: Read> Read for LineBound<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        // The first segment continues the line running into this read; the last one runs on
        // into the next read (it is the first segment when there is no line feed).
        let mut segments = buf[..n].split(|b| *b == b'\n');
        let mut longest = self.run + segments.next().map_or(0, <[u8]>::len);
        self.run = longest;
        for segment in segments {
            longest = longest.max(segment.len());
            self.run = segment.len();
        }
        if longest > MAX_LINE_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "a line longer than {} MiB: not a proof this tool reads (it writes one row a line)",
                    MAX_LINE_BYTES >> 20
                ),
            ));
        }
        Ok(n)
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

/// The kind named as proofs name it (`text`, `integer`, `boolean`, `timestamp`, `list`).
pub fn kind_from_name(name: &str) -> Option<FieldKind> {
    Some(match name {
        "text" => FieldKind::Text,
        "integer" => FieldKind::Integer,
        "boolean" => FieldKind::Boolean,
        "timestamp" => FieldKind::Timestamp,
        "list" => FieldKind::TextList,
        _ => return None,
    })
}

/// The fields a proof's metadata declares (`fields`: name, label, kind).
pub fn fields_of(metadata: &serde_json::Map<String, serde_json::Value>) -> anyhow::Result<Vec<Field>> {
    let list = metadata.get("fields").and_then(|f| f.as_array()).context("the proof has no `fields` list")?;
    list.iter()
        .enumerate()
        .map(|(i, f)| {
            let text = |k: &str| f.get(k).and_then(|v| v.as_str());
            let name = text("name").with_context(|| format!("field {} has no name", i + 1))?;
            let kind = text("kind")
                .and_then(kind_from_name)
                .with_context(|| format!("field {name} has no known kind"))?;
            Ok(Field {
                name: name.into(),
                label: text("label").unwrap_or(name).into(),
                kind,
                description: String::new(),
            })
        })
        .collect()
}

/// Reads a complete JSON proof, whatever its whitespace or member order (`fields` must come
/// before `rows`): `on_head` gets every member read before `rows` once the rows begin, then
/// `on_row` each row as canonical bytes. A row must hold each field exactly once and nothing
/// else. Returns every member but `rows`. With `stop_at_rows`, stops after `on_head` and
/// returns the members before `rows`.
pub fn read_json_proof(
    input: &mut dyn Read,
    stop_at_rows: bool,
    on_head: &mut dyn FnMut(&serde_json::Map<String, serde_json::Value>) -> anyhow::Result<()>,
    on_row: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
) -> Result<serde_json::Map<String, serde_json::Value>, ReadError> {
    use serde::Deserializer as _;
    let mut state = JsonProofState { stop_at_rows, on_head, on_row, failure: None, stopped: None };
    let mut de = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(256 * 1024, input));
    let outcome = de.deserialize_map(JsonProofVisitor { state: &mut state });
    if let Some(head) = state.stopped.take() {
        return Ok(head);
    }
    if let Some(failure) = state.failure.take() {
        return Err(failure);
    }
    let members = outcome.map_err(|e| ReadError::Metadata(anyhow::anyhow!("not a JSON proof: {e}")))?;
    de.end().map_err(|e| ReadError::Metadata(anyhow::anyhow!("text after the proof: {e}")))?;
    Ok(members)
}

/// Why a complete proof could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The metadata (anything but the rows) is missing, malformed or refused by `on_head`.
    #[error("{0:#}")]
    Metadata(anyhow::Error),
    /// A row is malformed, or `on_row` refused it.
    #[error("{0:#}")]
    Rows(anyhow::Error),
}

/// Reads the rows of a complete JSON Lines or CSV proof as canonical bytes. JSON Lines rows are
/// parsed and written canonically (each field exactly once, nothing else), so whitespace and
/// member order do not matter; CSV cells are read back by their field's kind.
pub fn read_rows(
    input: &mut dyn BufRead,
    format: Format,
    fields: &[Field],
    on_row: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
) -> anyhow::Result<u64> {
    let mut count = 0u64;
    match format {
        Format::Json => bail!("a JSON proof's rows are read with read_json_proof"),
        Format::Csv => {
            read_canonical_rows(input, format, fields, &mut |row| {
                count += 1;
                on_row(row).with_context(|| format!("row {count}"))
            })?;
        }
        Format::Jsonl => {
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            let mut line = Vec::with_capacity(4096);
            let mut canonical = Vec::with_capacity(4096);
            loop {
                line.clear();
                if input.read_until(b'\n', &mut line)? == 0 {
                    return Ok(count);
                }
                count += 1;
                let text = line.strip_suffix(b"\n").unwrap_or(&line);
                canonical.clear();
                let mut de = serde_json::Deserializer::from_slice(text);
                serde::de::DeserializeSeed::deserialize(
                    RowSeed { names: &names, out: &mut canonical },
                    &mut de,
                )
                .and_then(|()| de.end())
                .with_context(|| format!("row {count} is not a row of this proof"))?;
                on_row(&canonical).with_context(|| format!("row {count}"))?;
            }
        }
    }
    Ok(count)
}

struct JsonProofState<'a> {
    stop_at_rows: bool,
    on_head: &'a mut dyn FnMut(&serde_json::Map<String, serde_json::Value>) -> anyhow::Result<()>,
    on_row: &'a mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
    failure: Option<ReadError>,
    stopped: Option<serde_json::Map<String, serde_json::Value>>,
}

struct JsonProofVisitor<'s, 'a> {
    state: &'s mut JsonProofState<'a>,
}

impl<'de> serde::de::Visitor<'de> for JsonProofVisitor<'_, '_> {
    type Value = serde_json::Map<String, serde_json::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a proof object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error as _;
        let state = self.state;
        let mut members = serde_json::Map::new();
        let mut rows_seen = false;
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) || (key == "rows" && rows_seen) {
                state.failure =
                    Some(ReadError::Metadata(anyhow::anyhow!("the member `{key}` appears twice")));
                return Err(A::Error::custom("duplicate member"));
            }
            if key != "rows" {
                let StrictValue(value) = map.next_value()?;
                members.insert(key, value);
                continue;
            }
            rows_seen = true;
            let fields = match fields_of(&members) {
                Ok(f) => f,
                Err(e) => {
                    state.failure = Some(ReadError::Metadata(e.context("`fields` must come before `rows`")));
                    return Err(A::Error::custom("no fields"));
                }
            };
            if let Err(e) = (state.on_head)(&members) {
                state.failure = Some(ReadError::Metadata(e));
                return Err(A::Error::custom("refused"));
            }
            if state.stop_at_rows {
                state.stopped = Some(members);
                return Err(A::Error::custom("stopped at the rows"));
            }
            let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
            let rows = RowsSeed { names: &names, on_row: &mut *state.on_row, failure: &mut state.failure };
            map.next_value_seed(rows)?;
        }
        if !rows_seen {
            state.failure = Some(ReadError::Metadata(anyhow::anyhow!("the proof has no `rows`")));
            return Err(A::Error::custom("no rows"));
        }
        Ok(members)
    }
}

struct RowsSeed<'n, 'a> {
    names: &'n [&'n str],
    on_row: &'a mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
    failure: &'a mut Option<ReadError>,
}

impl<'de> serde::de::DeserializeSeed<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RowsSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of rows")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        let mut canonical = Vec::with_capacity(4096);
        let mut count = 0u64;
        loop {
            canonical.clear();
            let seed = RowSeed { names: self.names, out: &mut canonical };
            match seq.next_element_seed(seed) {
                Ok(Some(())) => {}
                Ok(None) => return Ok(()),
                Err(e) => {
                    *self.failure = Some(ReadError::Rows(anyhow::anyhow!("row {}: {e}", count + 1)));
                    return Err(e);
                }
            }
            count += 1;
            if let Err(e) = (self.on_row)(&canonical) {
                *self.failure = Some(ReadError::Rows(e.context(format!("row {count}"))));
                return Err(A::Error::custom("refused"));
            }
        }
    }
}

/// One row object, written canonically into `out`: each field exactly once, in field order.
struct RowSeed<'n, 'o> {
    names: &'n [&'n str],
    out: &'o mut Vec<u8>,
}

impl<'de> serde::de::DeserializeSeed<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for RowSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a row object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        use serde::de::Error as _;
        let mut slots: Vec<Option<serde_json::Value>> = vec![None; self.names.len()];
        while let Some(key) = map.next_key::<String>()? {
            let Some(i) = self.names.iter().position(|n| *n == key) else {
                return Err(A::Error::custom(format!("`{key}` is not a field of this proof")));
            };
            if slots[i].is_some() {
                return Err(A::Error::custom(format!("`{key}` appears twice")));
            }
            slots[i] = Some(map.next_value()?);
        }
        self.out.push(b'{');
        for (i, (name, slot)) in self.names.iter().zip(&slots).enumerate() {
            let Some(value) = slot else {
                return Err(A::Error::custom(format!("the field `{name}` is missing")));
            };
            if i > 0 {
                self.out.push(b',');
            }
            serde_json::to_writer(&mut *self.out, name).map_err(A::Error::custom)?;
            self.out.push(b':');
            serde_json::to_writer(&mut *self.out, value).map_err(A::Error::custom)?;
        }
        self.out.push(b'}');
        Ok(())
    }
}

/// A JSON value in which no object names a member twice, at any depth (a document that does is
/// read differently by different readers, so proofs refuse it).
pub struct StrictValue(pub serde_json::Value);

impl<'de> serde::Deserialize<'de> for StrictValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<StrictValue, D::Error> {
        d.deserialize_any(StrictVisitor).map(StrictValue)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = serde_json::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_i64<E>(self, v: i64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_u64<E>(self, v: u64) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_f64<E>(self, v: f64) -> Result<serde_json::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_string<E>(self, v: String) -> Result<serde_json::Value, E> {
        Ok(v.into())
    }

    fn visit_unit<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_none<E>(self) -> Result<serde_json::Value, E> {
        Ok(serde_json::Value::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<serde_json::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(items.into())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<serde_json::Value, A::Error> {
        use serde::de::Error as _;
        let mut members = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if members.contains_key(&key) {
                return Err(A::Error::custom(format!("the member `{key}` appears twice")));
            }
            let StrictValue(v) = map.next_value()?;
            members.insert(key, v);
        }
        Ok(members.into())
    }
}

/// Parses a JSON object in which no member appears twice, at any depth.
pub fn parse_strict_object(bytes: &[u8]) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_slice::<StrictValue>(bytes)?.0 {
        serde_json::Value::Object(map) => Ok(map),
        _ => bail!("not a JSON object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_longer_than_the_bound_fails_the_read_and_shorter_lines_pass() {
        let mut long = b"head\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE_BYTES + 1));
        let mut out = Vec::new();
        let err = std::io::BufReader::new(LineBound::new(&long[..])).read_to_end(&mut out).unwrap_err();
        assert!(err.to_string().contains("a line longer than 16 MiB"), "{err}");
        // A long line whose line feed arrives within the same read is caught too.
        let mut inside = vec![b'z'; MAX_LINE_BYTES + 10];
        inside.push(b'\n');
        let err = LineBound::new(&inside[..]).read(&mut vec![0; inside.len()]).unwrap_err();
        assert!(err.to_string().contains("a line longer"), "{err}");
        let mut lines = b"a\n".repeat(1000);
        lines.extend(std::iter::repeat_n(b'y', MAX_LINE_BYTES));
        out.clear();
        std::io::BufReader::new(LineBound::new(&lines[..])).read_to_end(&mut out).unwrap();
        assert_eq!(out, lines);
    }
}
