//! Streaming XML → rows, shared by every proof type.
//!
//! A proof type declares a [`RecordMap`]: the document's root element, the path of the
//! repeated record element, which element (or attribute) below a record fills which field,
//! and which values outside the records to capture (paging hints). The body is read as it
//! arrives, one event at a time, so memory is bounded by the page's rows, not the body size.
//! No DTD is ever read and only the five predefined entities and character references are
//! resolved, so entity-expansion bombs and external entities are refused, not expanded.

use std::io::BufRead;

use crate::error::Error;
use crate::model::{ProofSpec, Row};

mod chunks;
mod doc;
pub mod error_documents;
mod tree;

pub use chunks::MAX_RUN_BYTES;
use doc::Doc;

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

/// A document whose records are nested in groups that hold values every record of the group
/// shares (the detection list: detections inside their host). A record's row starts as a copy
/// of its group's values read so far; the documents this serves put the group's own values
/// before its records (per their DTD).
pub struct NestedMap {
    /// The records, their columns, captures and required paths.
    pub map: RecordMap,
    /// Path of the group element below the root; records lie below it.
    pub group: &'static str,
    /// (path below the group element, field name) for the shared values.
    pub group_columns: &'static [(&'static str, &'static str)],
    /// A text field kept verbatim (CDATA as written, untrimmed) and cut at a size.
    pub capped: Option<Capped>,
}

/// A field whose text is kept byte for byte up to `max_bytes`, with a flag field set when the
/// text was longer and cut (at a character boundary).
pub struct Capped {
    pub field: &'static str,
    pub cut_flag: &'static str,
    pub max_bytes: usize,
}

/// What a nested read does with a record it has just read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep it and read on.
    Keep,
    /// Leave it out (already delivered by an earlier page) and read on.
    Skip,
    /// Keep it and stop reading: the page is full.
    Stop,
    /// Leave it for the next page and stop reading: the page was full before it.
    Defer,
}

/// Decides about each record of a nested read as it closes.
pub type Visitor<'v> = dyn FnMut(&Row) -> Result<Flow, Error> + 'v;

/// Reads a nested document, asking `visit` about each record as it closes. A read that
/// `visit` stops returns with [`Parsed::stopped`] set, without reading the rest of the body.
pub fn read_nested(
    body: &mut dyn BufRead,
    nested: &NestedMap,
    spec: &ProofSpec,
    visit: &mut Visitor<'_>,
) -> Result<Parsed, Error> {
    Doc::nested(body, nested, spec, visit)?.run(None)
}

/// A table read beside the records (a glossary of hosts or controls the records refer to by
/// id): every element at `record`, its `columns` (paths below it) as text.
pub struct SideTable {
    pub record: &'static str,
    pub columns: &'static [&'static str],
}

/// Reads a document's records and its side tables (in [`Parsed::sides`], one list of rows of
/// text per table); the side tables are bounded like the records, by `max_rows` each.
pub fn read_with_sides(
    body: &mut dyn BufRead,
    map: &RecordMap,
    sides: &[SideTable],
    spec: &ProofSpec,
    max_rows: usize,
) -> Result<Parsed, Error> {
    Doc::with_sides(body, map, sides, spec, max_rows)?.run(None)
}

/// The root name that accepts any document (for reading error bodies of unknown shape).
pub const ANY_ROOT: &str = "*";

/// The result of reading one document.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<Row>,
    /// Captured values, aligned with [`RecordMap::captures`].
    pub captures: Vec<Option<String>>,
    /// A nested read stopped before the end of the document (see [`Flow::Stop`]).
    pub stopped: bool,
    /// The rows of each side table, in document order (see [`read_with_sides`]).
    pub sides: Vec<Vec<Vec<Option<String>>>>,
}

impl Parsed {
    /// The captured value of a path declared in the map's captures.
    pub fn capture(&self, map: &RecordMap, path: &str) -> Option<&str> {
        let i = map.captures.iter().position(|c| *c == path)?;
        self.captures.get(i)?.as_deref()
    }
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
        ProofSpec { id: "", title: "", description: "", fields: &[], criteria: &[], key: &[] };
    Doc::new(body, map, &NO_FIELDS, 0)?.run(http_status)
}

/// Reads an error body of any shape: an error document, or any root holding an `ERROR`
/// element, becomes its typed error; `Ok` means the body named no error.
pub fn read_error_body(body: &mut dyn BufRead, http_status: u16) -> Result<(), Error> {
    static ANY: RecordMap = RecordMap::captures_only(ANY_ROOT, &[]);
    read_captures(body, &ANY, Some(http_status)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{FieldSpec, Kind, Value, field};

    static FIELDS: &[FieldSpec] = &[
        field("login", "Login", Kind::Text, ""),
        field("id", "Id", Kind::Integer, ""),
        field("tags", "Tags", Kind::TextList, ""),
        field("kind", "Kind", Kind::Text, ""),
    ];
    static SPEC: ProofSpec =
        ProofSpec { id: "t", title: "", description: "", fields: FIELDS, criteria: &[], key: &[] };
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
    fn a_body_that_ends_inside_the_document_is_truncated_for_the_client_to_judge_by_its_framing() {
        let err = parse("<OUT><LIST><ITEM><LOGIN>a</LOG").unwrap_err();
        assert!(matches!(err, Error::Truncated(_) | Error::Malformed(_)), "{err:?}");
        let err = parse("<OUT><LIST><ITEM><LOGIN>a</LOGIN>").unwrap_err();
        assert!(matches!(err, Error::Truncated(_)), "{err:?}");
        assert!(err.is_transient(), "without framing it may be a cut connection");
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
