//! The document state machine: one event at a time, from the root to the rows, with error
//! documents and `ERROR` elements turned into typed errors.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::errors::SyntaxError;
use quick_xml::events::{BytesStart, Event};

use crate::error::Error;
use crate::model::{Kind, ProofSpec, Row, Value};
use crate::values;

use super::chunks::Chunks;
use super::error_documents;
use super::tree::{Target, Tree};
use super::{ANY_ROOT, Flow, MAX_DEPTH, MAX_TEXT_BYTES, NestedMap, Parsed, RecordMap, SideTable, Visitor};

/// An `ERROR` element found inside the document's normal root.
#[derive(Default)]
struct ErrorElement {
    number: Option<String>,
    text: String,
}

pub(super) struct Doc<'a> {
    reader: Reader<Chunks<'a>>,
    map: &'a RecordMap,
    spec: &'a ProofSpec,
    tree: Tree,
    /// Whether the map is one of Qualys' error documents (whose `ERROR` is no inner error).
    error_document: bool,
    max_rows: usize,
    /// The tree node of each open element; `None` below the first element the map does not
    /// name (nothing below it is read).
    stack: Vec<Option<usize>>,
    /// The root element's name as the document spells it (for messages).
    root_name: String,
    /// The first unmapped element on the stack and its depth (0: none), for messages.
    unmapped: String,
    unmapped_at: usize,
    row: Option<Row>,
    active: Option<(Target, usize)>,
    text: String,
    out: Parsed,
    /// Which of the map's required paths were seen.
    seen: Vec<bool>,
    /// An `ERROR` element inside the normal root, once one opened.
    error: Option<ErrorElement>,
    /// The values of the open group element (nested documents).
    group_row: Option<Row>,
    /// The index in the output of the open group's first record.
    group_start: usize,
    /// The capped field, its cut flag and the cap (nested documents).
    capped: Option<(usize, usize, usize)>,
    /// The capped field's text was longer than the cap.
    cut: bool,
    /// The open row of a side table: the table and its values.
    side_row: Option<(usize, Vec<Option<String>>)>,
    /// Asked about each record as it closes (nested documents).
    visit: Option<&'a mut Visitor<'a>>,
}

impl<'a> Doc<'a> {
    pub(super) fn new(
        body: &'a mut dyn BufRead,
        map: &'a RecordMap,
        spec: &'a ProofSpec,
        max_rows: usize,
    ) -> Result<Doc<'a>, Error> {
        let mut reader = Reader::from_reader(Chunks::new(body));
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Ok(Doc {
            reader,
            map,
            spec,
            tree: Tree::new(map, spec),
            error_document: error_documents::error_root(map.root).is_some(),
            max_rows,
            stack: Vec::with_capacity(16),
            root_name: String::new(),
            unmapped: String::new(),
            unmapped_at: 0,
            row: None,
            active: None,
            text: String::new(),
            out: Parsed {
                rows: Vec::new(),
                captures: vec![None; map.captures.len()],
                stopped: false,
                sides: Vec::new(),
            },
            seen: vec![false; map.required.len()],
            error: None,
            group_row: None,
            group_start: 0,
            capped: None,
            cut: false,
            side_row: None,
            visit: None,
        })
    }

    /// A reader of records and side tables.
    pub(super) fn with_sides(
        body: &'a mut dyn BufRead,
        map: &'a RecordMap,
        sides: &[SideTable],
        spec: &'a ProofSpec,
        max_rows: usize,
    ) -> Result<Doc<'a>, Error> {
        let mut doc = Doc::new(body, map, spec, max_rows)?;
        doc.tree = Tree::with_sides(map, sides, spec);
        doc.out.sides = vec![Vec::new(); sides.len()];
        Ok(doc)
    }

    /// A reader of a nested document; `visit` decides about each record (no other bound on
    /// the number of records: the visitor stops the page).
    pub(super) fn nested(
        body: &'a mut dyn BufRead,
        nested: &'a NestedMap,
        spec: &'a ProofSpec,
        visit: &'a mut Visitor<'a>,
    ) -> Result<Doc<'a>, Error> {
        let mut doc = Doc::new(body, &nested.map, spec, usize::MAX)?;
        doc.tree = Tree::nested(nested, spec);
        doc.capped =
            nested.capped.as_ref().map(|c| (spec.index(c.field), spec.index(c.cut_flag), c.max_bytes));
        doc.visit = Some(visit);
        Ok(doc)
    }

    pub(super) fn run(mut self, http_status: Option<u16>) -> Result<Parsed, Error> {
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
                    if self.in_capped() && t.xml10_content().trim().is_empty() {
                        // Layout around a verbatim CDATA section is not part of the value.
                    } else if self.active.is_some() {
                        let content = t.xml10_content();
                        self.push_text(&content)?;
                    } else if !seen_root && !t.xml10_content().trim().is_empty() {
                        return Err(not_xml(&t.xml10_content()));
                    }
                }
                Event::CData(t) => {
                    if self.in_capped() {
                        // Verbatim: the section's bytes as written, line endings included.
                        let raw = t.into_inner().into_owned();
                        self.push_text(&raw)?;
                    } else if self.active.is_some() {
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
            if self.out.stopped {
                // The visitor has the page it wants; the rest of the body is not read.
                return Ok(self.out);
            }
        }
        if !seen_root {
            return Err(Error::malformed(
                "the response body is empty or has no XML element; Qualys always answers with an XML document",
            ));
        }
        if !self.stack.is_empty() {
            // Ended mid-document: a cut connection, or a cut document (the client tells which).
            return Err(Error::Truncated(format!(
                "the response ended before the document was complete (inside <{}>); the connection was probably cut",
                self.path()
            )));
        }
        if let Some(error_kind) = error_documents::error_root(self.map.root) {
            return Err(error_documents::from_document(error_kind, self.map, &self.out, http_status));
        }
        if let Some(e) = self.error {
            let text = if e.text.trim().is_empty() { "no error text" } else { e.text.trim() };
            return Err(crate::qualys_error::classify(e.number.as_deref(), text, http_status));
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
        let node = match self.stack.last() {
            None => {
                self.open_root(name, seen_root)?;
                Some(0)
            }
            Some(Some(parent)) => self.tree.child(*parent, name),
            Some(None) => None,
        };
        if self.stack.len() >= MAX_DEPTH {
            return Err(Error::malformed(format!(
                "elements nest deeper than {MAX_DEPTH} levels; this is not a Qualys document"
            )));
        }
        self.stack.push(node);
        let depth = self.stack.len();
        let Some(n) = node else {
            if self.unmapped_at == 0 {
                self.unmapped.clear();
                self.unmapped.push_str(name);
                self.unmapped_at = depth;
            }
            if self.row.is_none() {
                self.maybe_error_element(e, name)?;
            }
            return Ok(());
        };
        if self.tree.nodes[n].record {
            if self.out.rows.len() >= self.max_rows {
                return Err(Error::malformed(format!(
                    "the page holds more than {} records, more than was asked for",
                    self.max_rows
                )));
            }
            // `resize_with` writes each Null in place; `vec![Value::Null; n]` clones it n times
            // through an out-of-line `Clone`.
            let row = match &self.group_row {
                Some(shared) => shared.clone(),
                None => {
                    let mut row = Vec::with_capacity(self.spec.fields.len());
                    row.resize_with(self.spec.fields.len(), || Value::Null);
                    row
                }
            };
            self.row = Some(row);
            self.cut = false;
            self.active = None;
            self.attributes(e, n)?;
        } else if self.row.is_some() {
            if let Some(target) = self.tree.nodes[n].text {
                self.active = Some((target, depth));
                self.text.clear();
            }
            self.attributes(e, n)?;
        } else {
            if let Some(t) = self.tree.nodes[n].side {
                if self.out.sides[t].len() >= self.max_rows {
                    return Err(Error::malformed(format!(
                        "the document's <{name}> list holds more than {} entries",
                        self.max_rows
                    )));
                }
                let width = self.tree.side_width(t);
                self.side_row = Some((t, vec![None; width]));
            }
            if self.tree.nodes[n].group {
                let mut row = Vec::with_capacity(self.spec.fields.len());
                row.resize_with(self.spec.fields.len(), || Value::Null);
                self.group_row = Some(row);
                self.group_start = self.out.rows.len();
            }
            if self.maybe_error_element(e, name)? {
                return Ok(());
            }
            if let Some(i) = self.tree.nodes[n].required {
                self.seen[i] = true;
            }
            if let Some(target) = self.tree.nodes[n].text {
                self.active = Some((target, depth));
                self.text.clear();
            }
            self.attributes(e, n)?;
        }
        Ok(())
    }

    /// The root element: the expected one, any root, or an error document (whose map then
    /// replaces the expected one).
    fn open_root(&mut self, name: &str, seen_root: &mut bool) -> Result<(), Error> {
        if *seen_root {
            return Err(Error::malformed(format!("a second root element <{name}> follows the document")));
        }
        *seen_root = true;
        self.root_name = name.to_string();
        if self.map.root == ANY_ROOT && error_documents::error_root(name).is_none() {
            // Any root: only an ERROR element inside it can make it an error.
        } else if name != self.map.root {
            // An error document (or something else) instead of the expected one.
            self.map = error_documents::map_for_root(name, self.map.root)?;
            self.tree = Tree::new(self.map, self.spec);
            self.error_document = error_documents::error_root(self.map.root).is_some();
            self.out.captures = vec![None; self.map.captures.len()];
            self.seen.clear();
        }
        Ok(())
    }

    /// An `ERROR` element below the root, outside the records, makes the document a failed
    /// call (the v1 API's `ERROR` inside the normal root), whatever else it holds.
    fn maybe_error_element(&mut self, e: &BytesStart<'_>, name: &str) -> Result<bool, Error> {
        if name != "ERROR" || self.stack.len() <= 1 || self.error.is_some() || self.error_document {
            return Ok(false);
        }
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
        Ok(true)
    }

    /// The attributes of a mapped element that the map reads (record columns or captures).
    fn attributes(&mut self, e: &BytesStart<'_>, node: usize) -> Result<(), Error> {
        if self.tree.nodes[node].attrs.is_empty() {
            return Ok(());
        }
        for attr in e.attributes() {
            let attr = attr.map_err(|err| Error::malformed(format!("bad attribute: {err}")))?;
            let key = attr.key.as_ref();
            let Some(&(_, target)) = self.tree.nodes[node].attrs.iter().find(|(name, _)| *name == key) else {
                continue;
            };
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| Error::malformed(format!("bad attribute value: {err}")))?;
            match target {
                Target::Column(i) => self.store_column(i, &value)?,
                Target::Capture(i) => self.out.captures[i] = Some(value.trim().to_string()),
                Target::Side(t, c) => self.store_side(t, c, &value),
                Target::Error => {}
            }
        }
        Ok(())
    }

    /// The path of the open element, "ROOT/A/B", for messages (elements below the first one
    /// the map does not name are shown as "…").
    fn path(&self) -> String {
        let mut path = String::new();
        for (i, node) in self.stack.iter().enumerate() {
            if i > 0 {
                path.push('/');
            }
            match node {
                Some(0) => path.push_str(&self.root_name),
                Some(n) => path.push_str(self.tree.nodes[*n].name),
                None if i + 1 == self.unmapped_at => path.push_str(&self.unmapped),
                None => {
                    path.push('…');
                    break;
                }
            }
        }
        path
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
                Target::Side(t, c) => self.store_side(t, c, &text),
                Target::Error => {
                    if let Some(e) = self.error.as_mut() {
                        e.text = text.trim().to_string();
                    }
                }
            }
            self.text = text;
        }
        // Records never nest (one opens only at the record's node), so the record's node
        // closing while a row is open is the record itself.
        if let Some(Some(n)) = self.stack.pop() {
            if self.tree.nodes[n].record
                && let Some(mut row) = self.row.take()
            {
                if let Some((_, flag, _)) = self.capped
                    && self.cut
                {
                    row[flag] = Value::Boolean(true);
                }
                match self.visit.as_mut().map(|visit| visit(&row)).transpose()? {
                    None | Some(Flow::Keep) => self.out.rows.push(row),
                    Some(Flow::Skip) => {}
                    Some(Flow::Stop) => {
                        self.out.rows.push(row);
                        self.out.stopped = true;
                    }
                    Some(Flow::Defer) => self.out.stopped = true,
                }
            } else if self.tree.nodes[n].side.is_some()
                && let Some((t, row)) = self.side_row.take()
            {
                self.out.sides[t].push(row);
            } else if self.tree.nodes[n].group
                && let Some(shared) = self.group_row.take()
            {
                // A group value written after the group's records (the DTDs put them first)
                // still reaches every record of the group.
                for row in &mut self.out.rows[self.group_start..] {
                    for (slot, value) in row.iter_mut().zip(&shared) {
                        if *slot == Value::Null && *value != Value::Null {
                            *slot = value.clone();
                        }
                    }
                }
            }
        }
        if self.unmapped_at == depth {
            self.unmapped_at = 0;
        }
        Ok(())
    }

    fn store_column(&mut self, i: usize, text: &str) -> Result<(), Error> {
        let field = &self.spec.fields[i];
        if self.row.is_none() && self.group_row.is_none() {
            return Ok(());
        }
        let verbatim = self.capped.is_some_and(|(f, _, _)| f == i);
        let text = if verbatim { text } else { trim(text) };
        let value = values::convert(field.kind, text)
            .map_err(|why| Error::malformed(format!("<{}> for field {}: {why}", self.path(), field.name)))?;
        let Some(row) = self.row.as_mut().or(self.group_row.as_mut()) else { return Ok(()) };
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

    fn store_side(&mut self, table: usize, column: usize, text: &str) {
        if let Some((t, row)) = self.side_row.as_mut()
            && *t == table
            && row[column].is_none()
        {
            let text = text.trim();
            if !text.is_empty() {
                row[column] = Some(text.to_string());
            }
        }
    }

    /// Whether the open text is the capped field of a record.
    fn in_capped(&self) -> bool {
        matches!((self.active, self.capped), (Some((Target::Column(i), _)), Some((f, _, _))) if i == f)
            && self.row.is_some()
    }

    fn push_text(&mut self, s: &str) -> Result<(), Error> {
        if self.in_capped() {
            let max = self.capped.map_or(0, |c| c.2);
            let room = max.saturating_sub(self.text.len());
            if s.len() > room {
                let mut end = room;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                self.text.push_str(&s[..end]);
                self.cut = true;
            } else {
                self.text.push_str(s);
            }
            return Ok(());
        }
        if self.text.len() + s.len() > MAX_TEXT_BYTES {
            return Err(Error::malformed(format!(
                "<{}> holds more than {} bytes of text",
                self.path(),
                MAX_TEXT_BYTES
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
            quick_xml::Error::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                Error::malformed(format!("the response was refused while it was read: {io}"))
            }
            quick_xml::Error::Io(io) => Error::Transport(format!("reading the response failed: {io}")),
            // The body ended inside markup: a cut connection, or a cut document (the client tells).
            quick_xml::Error::Syntax(
                SyntaxError::UnclosedTag
                | SyntaxError::UnclosedCData
                | SyntaxError::UnclosedComment
                | SyntaxError::UnclosedPI
                | SyntaxError::UnclosedXmlDecl
                | SyntaxError::UnclosedDoctype
                | SyntaxError::UnclosedSingleQuotedAttributeValue
                | SyntaxError::UnclosedDoubleQuotedAttributeValue,
            ) if !self.stack.is_empty() => Error::Truncated(format!(
                "the response ended before the document was complete (inside <{}>); the connection was probably cut",
                self.path()
            )),
            other => Error::malformed(format!(
                "invalid XML at byte {} (inside <{}>): {other}",
                self.reader.buffer_position(),
                if self.stack.is_empty() { "document".to_string() } else { self.path() }
            )),
        }
    }
}

/// `str::trim`, without its char-by-char scan when the text starts and ends with a visible
/// ASCII character (nearly every Qualys value).
#[inline]
fn trim(text: &str) -> &str {
    match (text.as_bytes().first(), text.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => text,
        _ => text.trim(),
    }
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
