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
        ProofSpec { id: "", title: "", description: "", fields: &[], criteria: &[], key: &[] };
    Doc::new(body, map, &NO_FIELDS, 0)?.run(http_status)
}

/// Reads an error body of any shape: an error document, or any root holding an `ERROR`
/// element, becomes its typed error; `Ok` means the body named no error.
pub fn read_error_body(body: &mut dyn BufRead, http_status: u16) -> Result<(), Error> {
    static ANY: RecordMap = RecordMap::captures_only(ANY_ROOT, &[]);
    read_captures(body, &ANY, Some(http_status)).map(|_| ())
}

/// The body as quick-xml reads it. quick-xml calls `fill_buf` and `consume` several times
/// per event; on the caller's `&mut dyn BufRead` each is an indirect call that cannot be
/// inlined (in wasm a `call_indirect` with its checks). Copying each chunk of the body into a
/// buffer of our own makes those calls direct and inlinable, for one dynamic call and one bulk
/// copy per chunk instead of several dynamic calls per event.
///
/// It also bounds what quick-xml would buffer for one event: whitespace, a comment, an
/// attribute list or a text run longer than [`MAX_RUN_BYTES`] without a `<` is refused as it
/// streams in, instead of growing the parser's buffer to the size of the response.
struct Chunks<'a> {
    inner: &'a mut dyn BufRead,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Bytes taken since the last `<`.
    run: usize,
}

/// The longest run of a document without a `<` (twice the longest text kept, [`MAX_TEXT_BYTES`]).
pub const MAX_RUN_BYTES: usize = 2 * MAX_TEXT_BYTES;

/// Bytes taken from the body at a time (the transport reads 64 KiB at a time too).
const CHUNK: usize = 64 * 1024;

impl<'a> Chunks<'a> {
    fn new(inner: &'a mut dyn BufRead) -> Chunks<'a> {
        Chunks { inner, buf: Vec::new(), pos: 0, len: 0, run: 0 }
    }

    /// Takes the next chunk; kept out of line so that `fill_buf` inlines into quick-xml.
    #[inline(never)]
    fn refill(&mut self) -> std::io::Result<()> {
        let available = self.inner.fill_buf()?;
        let n = available.len().min(CHUNK);
        if self.buf.len() < n {
            self.buf.resize(CHUNK.min(n.next_power_of_two()), 0);
        }
        self.buf[..n].copy_from_slice(&available[..n]);
        self.inner.consume(n);
        (self.pos, self.len) = (0, n);
        // The run ending at this chunk's first `<` is checked before a later `<` restarts it.
        let chunk = &self.buf[..n];
        let ended = match chunk.iter().position(|b| *b == b'<') {
            Some(first) => {
                let ended = self.run + first;
                self.run = n - 1 - chunk.iter().rposition(|b| *b == b'<').unwrap_or(first);
                ended
            }
            None => {
                self.run += n;
                self.run
            }
        };
        if ended > MAX_RUN_BYTES {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "more than {} MiB without markup (whitespace, a comment, an attribute list or text): \
                     not an answer Qualys gives",
                    MAX_RUN_BYTES >> 20
                ),
            ));
        }
        Ok(())
    }
}

impl std::io::Read for Chunks<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Chunks<'_> {
    #[inline]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if self.pos == self.len {
            self.refill()?;
        }
        Ok(&self.buf[self.pos..self.len])
    }

    #[inline]
    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.len);
    }
}

/// One element of a map: the map's paths merged into a tree, so that each element of the
/// document is matched by one lookup among its parent's mapped children, and every element
/// below an unmapped one is skipped without any lookup.
struct Node {
    name: &'static str,
    children: Children,
    /// Where the element's text goes.
    text: Option<Target>,
    /// Where its attributes go, by attribute name.
    attrs: Vec<(&'static str, Target)>,
    /// Index in the map's required paths.
    required: Option<usize>,
    /// The repeated record element.
    record: bool,
}

/// The mapped children of a node: a small open-addressing table keyed by [`NameKey`], so
/// that a lookup is a hash, a probe or two and at most one compare of a name's tail, however
/// many children the node has (a host list's HOST has 23 mapped ones, and documents carry as
/// many more that are not mapped, each of which must be looked up to be found missing).
#[derive(Default)]
struct Children {
    /// Power-of-two slots of (key, node); node `usize::MAX` marks an empty slot.
    slots: Vec<(NameKey, usize)>,
    len: usize,
}

/// A name's length and first 8 bytes: equal keys mean equal names up to 8 bytes long, and
/// equal length and start for longer ones (whose tails are then compared).
#[derive(Clone, Copy, PartialEq, Eq)]
struct NameKey {
    head: u64,
    len: usize,
}

impl NameKey {
    #[inline]
    fn of(name: &[u8]) -> NameKey {
        let n = name.len();
        let word = |b: &[u8]| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let head = if n >= 8 {
            u64::from_le_bytes([name[0], name[1], name[2], name[3], name[4], name[5], name[6], name[7]])
        } else if n >= 4 {
            // Two overlapping words: the bytes they share are the same bytes at the same places.
            word(name) | word(&name[n - 4..]) << (8 * (n - 4))
        } else {
            name.iter().enumerate().fold(0, |k, (i, b)| k | u64::from(*b) << (8 * i))
        };
        NameKey { head, len: n }
    }

    #[inline]
    fn slot(&self, mask: usize) -> usize {
        // Fibonacci hashing of the head and the length; the top bits are the best mixed.
        let h = (self.head ^ (self.len as u64).rotate_left(56)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> 40) as usize & mask
    }
}

impl Children {
    fn insert(&mut self, key: NameKey, node: usize) {
        if (self.len + 1) * 2 > self.slots.len() {
            let old = std::mem::take(&mut self.slots);
            self.slots = vec![(NameKey { head: 0, len: 0 }, usize::MAX); (old.len() * 2).max(4)];
            self.len = 0;
            for (k, n) in old.into_iter().filter(|(_, n)| *n != usize::MAX) {
                self.insert(k, n);
            }
        }
        let mask = self.slots.len() - 1;
        let mut i = key.slot(mask);
        while self.slots[i].1 != usize::MAX {
            i = (i + 1) & mask;
        }
        self.slots[i] = (key, node);
        self.len += 1;
    }

    #[inline]
    fn find(&self, key: NameKey, name: &[u8], nodes: &[Node]) -> Option<usize> {
        if self.len == 0 {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = key.slot(mask);
        loop {
            let (k, node) = self.slots[i];
            if node == usize::MAX {
                return None;
            }
            if k == key && (key.len <= 8 || nodes[node].name.as_bytes()[8..] == name[8..]) {
                return Some(node);
            }
            i = (i + 1) & mask;
        }
    }
}

/// The tree of a [`RecordMap`]; node 0 is the root element.
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn new(map: &RecordMap, spec: &ProofSpec) -> Tree {
        let mut tree = Tree { nodes: vec![Node::new(map.root)] };
        let record = if map.record.is_empty() { None } else { Some(tree.walk(0, map.record).0) };
        if let Some(r) = record {
            tree.nodes[r].record = true;
            for (path, field) in map.columns {
                tree.set(r, path, Target::Column(spec.index(field)));
            }
        }
        for (i, path) in map.captures.iter().enumerate() {
            tree.set(0, path, Target::Capture(i));
        }
        for (i, path) in map.required.iter().enumerate() {
            let (node, _) = tree.walk(0, path);
            tree.nodes[node].required = Some(i);
        }
        tree
    }

    /// The node of `path` below `from` (made as needed), and the attribute it ends in, if any.
    fn walk(&mut self, from: usize, path: &'static str) -> (usize, Option<&'static str>) {
        let mut node = from;
        if path.is_empty() {
            return (node, None);
        }
        for part in path.split('/') {
            if let Some(attr) = part.strip_prefix('@') {
                return (node, Some(attr));
            }
            node = match self.child(node, part) {
                Some(child) => child,
                None => {
                    self.nodes.push(Node::new(part));
                    let child = self.nodes.len() - 1;
                    self.nodes[node].children.insert(NameKey::of(part.as_bytes()), child);
                    child
                }
            };
        }
        (node, None)
    }

    fn set(&mut self, from: usize, path: &'static str, target: Target) {
        match self.walk(from, path) {
            (node, Some(attr)) => self.nodes[node].attrs.push((attr, target)),
            (node, None) => self.nodes[node].text = Some(target),
        }
    }

    /// The mapped child of `parent` named `name`.
    #[inline]
    fn child(&self, parent: usize, name: &str) -> Option<usize> {
        let name = name.as_bytes();
        self.nodes[parent].children.find(NameKey::of(name), name, &self.nodes)
    }
}

impl Node {
    fn new(name: &'static str) -> Node {
        Node {
            name,
            children: Children::default(),
            text: None,
            attrs: Vec::new(),
            required: None,
            record: false,
        }
    }
}

struct Doc<'a> {
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
}

impl<'a> Doc<'a> {
    fn new(
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
            error_document: qualys_error::error_root(map.root).is_some(),
            max_rows,
            stack: Vec::with_capacity(16),
            root_name: String::new(),
            unmapped: String::new(),
            unmapped_at: 0,
            row: None,
            active: None,
            text: String::new(),
            out: Parsed { rows: Vec::new(), captures: vec![None; map.captures.len()] },
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
            // Ended mid-document: a cut connection, or a cut document (the client tells which).
            return Err(Error::Truncated(format!(
                "the response ended before the document was complete (inside <{}>); the connection was probably cut",
                self.path()
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
            let mut row = Vec::with_capacity(self.spec.fields.len());
            row.resize_with(self.spec.fields.len(), || Value::Null);
            self.row = Some(row);
            self.active = None;
            self.attributes(e, n)?;
        } else if self.row.is_some() {
            if let Some(target) = self.tree.nodes[n].text {
                self.active = Some((target, depth));
                self.text.clear();
            }
            self.attributes(e, n)?;
        } else {
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
        if self.map.root == ANY_ROOT && qualys_error::error_root(name).is_none() {
            // Any root: only an ERROR element inside it can make it an error.
        } else if name != self.map.root {
            // An error document (or something else) instead of the expected one.
            self.map = qualys_error::map_for_root(name, self.map.root)?;
            self.tree = Tree::new(self.map, self.spec);
            self.error_document = qualys_error::error_root(self.map.root).is_some();
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
        if let Some(Some(n)) = self.stack.pop()
            && self.tree.nodes[n].record
            && let Some(row) = self.row.take()
        {
            self.out.rows.push(row);
        }
        if self.unmapped_at == depth {
            self.unmapped_at = 0;
        }
        Ok(())
    }

    fn store_column(&mut self, i: usize, text: &str) -> Result<(), Error> {
        let field = &self.spec.fields[i];
        if self.row.is_none() {
            return Ok(());
        }
        let value = values::convert(field.kind, trim(text))
            .map_err(|why| Error::malformed(format!("<{}> for field {}: {why}", self.path(), field.name)))?;
        let Some(row) = self.row.as_mut() else { return Ok(()) };
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
