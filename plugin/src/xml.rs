//! Streaming XML → rows, shared by every proof type.
//!
//! A proof type declares a [`RecordMap`]: the document's root element, the path of the
//! repeated record element, which element (or attribute) below a record fills which field,
//! and which values outside the records to capture (paging hints). The body is read as it
//! arrives, one event at a time, so memory is bounded by the page's rows, not the body size.
//! No DTD is ever read and only the five predefined entities and character references are
//! resolved, so entity-expansion bombs and external entities are refused, not expanded.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::errors::SyntaxError;
use quick_xml::events::{BytesStart, Event};
// Column lookups happen for every element; keys are our own static paths, so no DoS-resistant
// hash is needed and Fx is several times cheaper than SipHash (measured in the benchmark).
use rustc_hash::FxHashMap;

use crate::error::Error;
use crate::model::{Kind, ProofSpec, Row, Value};
use crate::qualys_error;
use crate::values;

/// Deepest element nesting accepted; Qualys documents nest fewer than 10 levels.
pub const MAX_DEPTH: usize = 64;
/// Longest text accepted in one value (Qualys comments and descriptions are a few KB).
pub const MAX_TEXT_BYTES: usize = 4 << 20;

/// How a Qualys list document maps to rows.
pub struct RecordMap {
    /// The root element a successful response has.
    pub root: &'static str,
    /// Path of the repeated record element below the root ("" when there are no records).
    pub record: &'static str,
    /// (path below the record element, field name); a path ending in `@name` maps an attribute.
    pub columns: &'static [(&'static str, &'static str)],
    /// Paths below the root, outside the records, whose text is returned as captures.
    pub captures: &'static [&'static str],
    /// Paths below the root that every result document has, empty or not (per its DTD). A
    /// document without records must have them: zero rows are accepted only from the
    /// documented shape of an empty result, never from a document that merely has the root.
    pub required: &'static [&'static str],
}

impl RecordMap {
    /// A map for documents without records: only captures are read.
    pub const fn captures_only(root: &'static str, captures: &'static [&'static str]) -> RecordMap {
        RecordMap { root, record: "", columns: &[], captures, required: &[] }
    }
}

/// The root name that accepts any document (for reading error bodies of unknown shape).
pub const ANY_ROOT: &str = "*";

/// The result of reading one document.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    /// Captured values, aligned with [`RecordMap::captures`].
    pub captures: Vec<Option<String>>,
}

impl Parsed {
    /// The captured value of a path declared in the map's captures.
    pub fn capture(&self, map: &RecordMap, path: &str) -> Option<&str> {
        let i = map.captures.iter().position(|c| *c == path)?;
        self.captures.get(i)?.as_deref()
    }
}

#[derive(Clone, Copy)]
enum Target {
    Column(usize),
    Capture(usize),
    /// The text of an `ERROR` element inside a normal root (a failed v1 call).
    Error,
}

/// An `ERROR` element found inside the document's normal root.
#[derive(Default)]
struct ErrorElement {
    number: Option<String>,
    text: String,
}

/// Reads a whole document from `body` and maps it to rows. `max_rows` bounds memory when a
/// server ignores the requested page size. Error documents (SIMPLE_RETURN, GENERIC_RETURN,
/// ERROR) and an `ERROR` element outside the records become typed errors, whatever the HTTP
/// status; anything else that is not the expected root is malformed; a document without
/// records that lacks the map's required elements is malformed, never an empty result.
pub fn read_records(
    body: &mut dyn BufRead,
    map: &RecordMap,
    spec: &ProofSpec,
    http_status: Option<u16>,
    max_rows: usize,
) -> Result<Parsed, Error> {
    Doc::new(body, map, spec, max_rows)?.run(http_status)
}

/// Reads a document that only has captures (no records), e.g. a Qualys error or `about.php`.
pub fn read_captures(
    body: &mut dyn BufRead,
    map: &RecordMap,
    http_status: Option<u16>,
) -> Result<Parsed, Error> {
    static NO_FIELDS: ProofSpec =
        ProofSpec { id: "", title: "", description: "", fields: &[], criteria: &[] };
    Doc::new(body, map, &NO_FIELDS, 0)?.run(http_status)
}

/// Reads an error body of any shape: an error document, or any root holding an `ERROR`
/// element, becomes its typed error; `Ok` means the body named no error.
pub fn read_error_body(body: &mut dyn BufRead, http_status: u16) -> Result<(), Error> {
    static ANY: RecordMap = RecordMap::captures_only(ANY_ROOT, &[]);
    read_captures(body, &ANY, Some(http_status)).map(|_| ())
}

struct Doc<'a> {
    reader: Reader<&'a mut dyn BufRead>,
    map: &'a RecordMap,
    spec: &'a ProofSpec,
    columns: FxHashMap<&'static str, usize>,
    has_attr_columns: bool,
    max_rows: usize,
    /// Absolute path of the current element, "ROOT/A/B".
    path: String,
    /// Length of `path` before each open element, to pop in O(1).
    stack: Vec<usize>,
    record_path: String,
    /// Elements in `record_path`: most elements are rejected by depth without a compare.
    record_depth: usize,
    row: Option<Row>,
    active: Option<(Target, usize)>,
    text: String,
    out: Parsed,
    scratch: String,
    /// Which of the map's required paths were seen.
    seen: Vec<bool>,
    /// An `ERROR` element inside the normal root, once one opened.
    error: Option<ErrorElement>,
}

impl<'a> Doc<'a> {
    fn new(
        body: &'a mut dyn BufRead,
        map: &'a RecordMap,
        spec: &'a ProofSpec,
        max_rows: usize,
    ) -> Result<Doc<'a>, Error> {
        let mut columns = FxHashMap::with_capacity_and_hasher(map.columns.len(), Default::default());
        for (path, field) in map.columns {
            columns.insert(*path, spec.index(field));
        }
        let mut reader = Reader::from_reader(body);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Ok(Doc {
            reader,
            map,
            spec,
            has_attr_columns: map.columns.iter().any(|(p, _)| p.contains('@')),
            columns,
            max_rows,
            path: String::with_capacity(128),
            stack: Vec::with_capacity(16),
            record_path: record_path(map),
            record_depth: depth_of(map),
            row: None,
            active: None,
            text: String::new(),
            out: Parsed { rows: Vec::new(), captures: vec![None; map.captures.len()] },
            scratch: String::new(),
            seen: vec![false; map.required.len()],
            error: None,
        })
    }

    fn run(mut self, http_status: Option<u16>) -> Result<Parsed, Error> {
        let mut buf = Vec::with_capacity(8 * 1024);
        let mut seen_root = false;
        loop {
            let event = self.reader.read_event_into(&mut buf).map_err(|e| self.xml_error(e))?;
            match event {
                Event::Start(e) => {
                    self.open(&e, &mut seen_root)?;
                }
                Event::Empty(e) => {
                    self.open(&e, &mut seen_root)?;
                    self.close()?;
                }
                Event::End(_) => self.close()?,
                Event::Text(t) => {
                    if self.active.is_some() {
                        let content = t.xml10_content();
                        self.push_text(&content)?;
                    } else if !seen_root && !t.xml10_content().trim().is_empty() {
                        return Err(not_xml(&t.xml10_content()));
                    }
                }
                Event::CData(t) => {
                    if self.active.is_some() {
                        let content = t.xml10_content();
                        self.push_text(&content)?;
                    }
                }
                Event::GeneralRef(r) => {
                    let c = resolve_entity(&r)?;
                    if self.active.is_some() {
                        let mut tmp = [0u8; 4];
                        self.push_text(c.encode_utf8(&mut tmp))?;
                    }
                }
                Event::Eof => break,
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) | Event::DocType(_) => {}
            }
            buf.clear();
        }
        if !seen_root {
            return Err(Error::malformed(
                "the response body is empty or has no XML element; Qualys always answers with an XML document",
            ));
        }
        if !self.stack.is_empty() {
            // The connection ended mid-document: a network fault, so the request may be retried.
            return Err(Error::Transport(format!(
                "the response ended before the document was complete (inside <{}>); the connection was probably cut",
                self.path
            )));
        }
        if let Some(error_kind) = qualys_error::error_root(self.map.root) {
            return Err(qualys_error::from_document(error_kind, self.map, &self.out, http_status));
        }
        if let Some(e) = self.error {
            let text = if e.text.trim().is_empty() { "no error text" } else { e.text.trim() };
            return Err(qualys_error::classify(e.number.as_deref(), text, http_status));
        }
        if self.out.rows.is_empty()
            && let Some(i) = self.seen.iter().position(|seen| !seen)
        {
            return Err(Error::malformed(format!(
                "the <{}> document has no records and no <{}>: that is not the documented shape \
                 of an empty result, so it is not taken as one",
                self.map.root, self.map.required[i]
            )));
        }
        Ok(self.out)
    }

    fn open(&mut self, e: &BytesStart<'_>, seen_root: &mut bool) -> Result<(), Error> {
        let name = e.name();
        let name = name.as_ref();
        if self.stack.is_empty() {
            if *seen_root {
                return Err(Error::malformed(format!("a second root element <{name}> follows the document")));
            }
            *seen_root = true;
            if self.map.root == ANY_ROOT && qualys_error::error_root(name).is_none() {
                // Any root: only an ERROR element inside it can make it an error.
            } else if name != self.map.root {
                // An error document (or something else) instead of the expected one.
                self.map = qualys_error::map_for_root(name, self.map.root)?;
                self.columns.clear();
                self.has_attr_columns = false;
                self.record_path = record_path(self.map);
                self.record_depth = depth_of(self.map);
                self.out.captures = vec![None; self.map.captures.len()];
                self.seen.clear();
            }
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::malformed(format!(
                "elements nest deeper than {MAX_DEPTH} levels; this is not a Qualys document"
            )));
        }
        self.stack.push(self.path.len());
        if !self.path.is_empty() {
            self.path.push('/');
        }
        self.path.push_str(name);

        let record_len = self.record_path.len();
        if self.stack.len() == self.record_depth && self.path == self.record_path {
            if self.out.rows.len() >= self.max_rows {
                return Err(Error::malformed(format!(
                    "the page holds more than {} records, more than was asked for",
                    self.max_rows
                )));
            }
            self.row = Some(vec![Value::Null; self.spec.fields.len()]);
            self.active = None;
            if self.has_attr_columns {
                self.record_attributes(e, record_len)?;
            }
        } else if self.row.is_some() {
            let rel = &self.path[record_len + 1..];
            if let Some(&i) = self.columns.get(rel) {
                self.active = Some((Target::Column(i), self.stack.len()));
                self.text.clear();
            }
            if self.has_attr_columns {
                self.record_attributes(e, record_len)?;
            }
        } else {
            if name == "ERROR" && self.stack.len() > 1 && self.error.is_none() && !self.is_error_document() {
                // A failed call inside the normal root (the v1 API's `ERROR`): whatever else
                // the document holds, it is not a result.
                let mut found = ErrorElement::default();
                for attr in e.attributes() {
                    let attr = attr.map_err(|err| Error::malformed(format!("bad attribute: {err}")))?;
                    if attr.key.as_ref() == "number" {
                        let value = attr
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| Error::malformed(format!("bad attribute value: {err}")))?;
                        found.number = Some(value.trim().to_string());
                    }
                }
                self.error = Some(found);
                self.active = Some((Target::Error, self.stack.len()));
                self.text.clear();
                return Ok(());
            }
            let rel = self.rel_to_root();
            if let Some(i) = self.map.required.iter().position(|c| *c == rel) {
                self.seen[i] = true;
            }
            let rel = self.rel_to_root();
            if let Some(i) = self.map.captures.iter().position(|c| *c == rel) {
                self.active = Some((Target::Capture(i), self.stack.len()));
                self.text.clear();
            }
            self.capture_attributes(e)?;
        }
        Ok(())
    }

    fn is_error_document(&self) -> bool {
        qualys_error::error_root(self.map.root).is_some()
    }

    fn rel_to_root(&self) -> &str {
        let root = self.root_len();
        if self.path.len() > root { &self.path[root + 1..] } else { "" }
    }

    /// Length of the root element's name in `path` (the map's root, or any root).
    fn root_len(&self) -> usize {
        self.path.find('/').unwrap_or(self.path.len())
    }

    fn record_attributes(&mut self, e: &BytesStart<'_>, record_len: usize) -> Result<(), Error> {
        for attr in e.attributes() {
            let attr = attr.map_err(|err| Error::malformed(format!("bad attribute: {err}")))?;
            self.scratch.clear();
            if self.path.len() > record_len {
                self.scratch.push_str(&self.path[record_len + 1..]);
                self.scratch.push('/');
            }
            self.scratch.push('@');
            self.scratch.push_str(attr.key.as_ref());
            if let Some(&i) = self.columns.get(self.scratch.as_str()) {
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|err| Error::malformed(format!("bad attribute value: {err}")))?;
                self.store_column(i, &value)?;
            }
        }
        Ok(())
    }

    fn capture_attributes(&mut self, e: &BytesStart<'_>) -> Result<(), Error> {
        if !self.map.captures.iter().any(|c| c.contains('@')) {
            return Ok(());
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|err| Error::malformed(format!("bad attribute: {err}")))?;
            let rel = self.rel_to_root();
            let key = if rel.is_empty() {
                format!("@{}", attr.key.as_ref())
            } else {
                format!("{rel}/@{}", attr.key.as_ref())
            };
            if let Some(i) = self.map.captures.iter().position(|c| *c == key) {
                let value = attr
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map_err(|err| Error::malformed(format!("bad attribute value: {err}")))?;
                self.out.captures[i] = Some(value.trim().to_string());
            }
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), Error> {
        let depth = self.stack.len();
        if let Some((target, at)) = self.active
            && at == depth
        {
            self.active = None;
            let text = std::mem::take(&mut self.text);
            match target {
                Target::Column(i) => self.store_column(i, &text)?,
                Target::Capture(i) => {
                    let t = text.trim();
                    if !t.is_empty() && self.out.captures[i].is_none() {
                        self.out.captures[i] = Some(t.to_string());
                    }
                }
                Target::Error => {
                    if let Some(e) = self.error.as_mut() {
                        e.text = text.trim().to_string();
                    }
                }
            }
            self.text = text;
        }
        // Records never nest (one opened only where the path equals the record path), so the
        // element closing at the record's depth while a row is open is the record itself.
        if self.row.is_some() && self.stack.len() == self.record_depth {
            let row = self.row.take().expect("checked above");
            self.out.rows.push(row);
        }
        let len = self.stack.pop().unwrap_or(0);
        self.path.truncate(len);
        Ok(())
    }

    fn store_column(&mut self, i: usize, text: &str) -> Result<(), Error> {
        let field = &self.spec.fields[i];
        let Some(row) = self.row.as_mut() else { return Ok(()) };
        let value = values::convert(field.kind, text.trim())
            .map_err(|why| Error::malformed(format!("<{}> for field {}: {why}", self.path, field.name)))?;
        match (&mut row[i], value) {
            (_, Value::Null) => {}
            (Value::TextList(list), Value::TextList(more)) => list.extend(more),
            (slot @ Value::Null, value) => *slot = value,
            // A timestamp seen several times (e.g. a ticket's history) keeps the latest;
            // normalised RFC 3339 UTC strings order like the instants they name.
            (Value::Timestamp(old), Value::Timestamp(new)) if new > *old => {
                *old = new;
            }
            // Any other single-valued field seen twice keeps its first value.
            _ => {}
        }
        debug_assert!(field.kind != Kind::TextList || !matches!(row[i], Value::Text(_)));
        Ok(())
    }

    fn push_text(&mut self, s: &str) -> Result<(), Error> {
        if self.text.len() + s.len() > MAX_TEXT_BYTES {
            return Err(Error::malformed(format!(
                "<{}> holds more than {} bytes of text",
                self.path, MAX_TEXT_BYTES
            )));
        }
        self.text.push_str(s);
        Ok(())
    }

    fn xml_error(&self, e: quick_xml::Error) -> Error {
        match e {
            quick_xml::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
                Error::Denied(format!("reading the response stopped: {io}"))
            }
            quick_xml::Error::Io(io) => Error::Transport(format!("reading the response failed: {io}")),
            // The body ended inside markup: a cut connection, so the request may be retried.
            quick_xml::Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedPI
                | SyntaxError::UnclosedXmlDecl
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue,
            ) if !self.stack.is_empty() => Error::Transport(format!(
                "the response ended before the document was complete (inside <{}>); the connection was probably cut",
                self.path
            )),
            other => Error::malformed(format!(
                "invalid XML at byte {} (inside <{}>): {other}",
                self.reader.buffer_position(),
                if self.path.is_empty() { "document" } else { &self.path }
            )),
        }
    }
}

/// Elements in the record's absolute path; 0 (never matched) when the map has no records.
fn depth_of(map: &RecordMap) -> usize {
    if map.record.is_empty() { 0 } else { 2 + map.record.matches('/').count() }
}

fn record_path(map: &RecordMap) -> String {
    if map.record.is_empty() { String::new() } else { format!("{}/{}", map.root, map.record) }
}

/// Resolves `&name;`: only the predefined entities and character references exist here.
fn resolve_entity(r: &quick_xml::events::BytesRef<'_>) -> Result<char, Error> {
    if r.is_char_ref() {
        return r
            .resolve_char_ref()
            .ok()
            .flatten()
            .ok_or_else(|| Error::malformed("an invalid character reference"));
    }
    let name = r.xml10_content();
    match name.as_ref() {
        "amp" => Ok('&'),
        "lt" => Ok('<'),
        "gt" => Ok('>'),
        "quot" => Ok('"'),
        "apos" => Ok('\''),
        other => Err(Error::malformed(format!(
            "the document uses the entity &{other}; which is not an XML predefined entity; \
             entities declared in a DTD are never expanded (this protects against entity bombs)"
        ))),
    }
}

fn not_xml(text: &str) -> Error {
    let start: String = text.trim().chars().take(60).collect();
    Error::malformed(format!("the response is not XML (it starts with {start:?})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FieldSpec, field};

    static FIELDS: &[FieldSpec] = &[
        field("login", "Login", Kind::Text, ""),
        field("id", "Id", Kind::Integer, ""),
        field("tags", "Tags", Kind::TextList, ""),
        field("kind", "Kind", Kind::Text, ""),
    ];
    static SPEC: ProofSpec = ProofSpec { id: "t", title: "", description: "", fields: FIELDS, criteria: &[] };
    static MAP: RecordMap = RecordMap {
        root: "OUT",
        record: "LIST/ITEM",
        columns: &[("LOGIN", "login"), ("ID", "id"), ("TAGS/TAG/NAME", "tags"), ("@kind", "kind")],
        captures: &["WARNING/URL", "TRUNCATION/@last"],
        required: &["LIST"],
    };

    fn parse(xml: &str) -> Result<Parsed, Error> {
        read_records(&mut xml.as_bytes(), &MAP, &SPEC, Some(200), 100)
    }

    #[test]
    fn records_fields_lists_attributes_and_captures_are_read() {
        let xml = r#"<?xml version="1.0"?><!DOCTYPE OUT SYSTEM "x.dtd">
<OUT><LIST><ITEM kind="a"><LOGIN><![CDATA[Zoë & co]]></LOGIN><ID>7</ID>
<TAGS><TAG><NAME>x</NAME></TAG><TAG><NAME>y &amp; z</NAME></TAG></TAGS></ITEM>
<ITEM><LOGIN/></ITEM></LIST><WARNING><URL>https://h/p?a=1&amp;b=2</URL></WARNING>
<TRUNCATION last="9">t</TRUNCATION></OUT>"#;
        let p = parse(xml).unwrap();
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0][0], Value::Text("Zoë & co".into()));
        assert_eq!(p.rows[0][1], Value::Integer(7));
        assert_eq!(p.rows[0][2], Value::TextList(vec!["x".into(), "y & z".into()]));
        assert_eq!(p.rows[0][3], Value::Text("a".into()));
        assert_eq!(p.rows[1], vec![Value::Null; 4]);
        assert_eq!(p.capture(&MAP, "WARNING/URL"), Some("https://h/p?a=1&b=2"));
        assert_eq!(p.capture(&MAP, "TRUNCATION/@last"), Some("9"));
    }

    #[test]
    fn a_truncated_body_is_a_transport_error() {
        let err = parse("<OUT><LIST><ITEM><LOGIN>a</LOG").unwrap_err();
        assert!(matches!(err, Error::Transport(_) | Error::Malformed(_)), "{err:?}");
        let err = parse("<OUT><LIST><ITEM><LOGIN>a</LOGIN>").unwrap_err();
        assert!(matches!(err, Error::Transport(_)), "{err:?}");
    }

    #[test]
    fn html_empty_and_foreign_documents_are_malformed() {
        for body in ["", "   ", "<html><body>Bad gateway</body></html>", "oops", "<FOO/>"] {
            let err = parse(body).unwrap_err();
            assert!(matches!(err, Error::Malformed(_)), "{body}: {err:?}");
        }
    }

    #[test]
    fn entity_bombs_and_external_entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?><!DOCTYPE OUT [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>
<OUT><LIST><ITEM><LOGIN>&b;</LOGIN></ITEM></LIST></OUT>"#;
        assert!(matches!(parse(bomb), Err(Error::Malformed(m)) if m.contains("entity")));
        let xxe = r#"<!DOCTYPE OUT [<!ENTITY x SYSTEM "file:///etc/passwd">]><OUT><LIST><ITEM><LOGIN>&x;</LOGIN></ITEM></LIST></OUT>"#;
        assert!(matches!(parse(xxe), Err(Error::Malformed(_))));
    }

    #[test]
    fn deep_nesting_and_oversized_pages_are_refused() {
        let deep = format!("<OUT>{}", "<A>".repeat(10_000));
        assert!(matches!(parse(&deep), Err(Error::Malformed(m)) if m.contains("nest")));
        let many = format!("<OUT><LIST>{}</LIST></OUT>", "<ITEM/>".repeat(101));
        assert!(matches!(parse(&many), Err(Error::Malformed(m)) if m.contains("records")));
    }

    #[test]
    fn a_bad_integer_names_the_element_and_field() {
        let err = parse("<OUT><LIST><ITEM><ID>x1</ID></ITEM></LIST></OUT>").unwrap_err();
        assert!(matches!(&err, Error::Malformed(m) if m.contains("OUT/LIST/ITEM/ID") && m.contains("id")));
    }
}
