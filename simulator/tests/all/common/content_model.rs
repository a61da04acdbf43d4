//! Documented XML content models as data, and a validator that checks a document against them.
//!
//! A [`Schema`] maps element names to content models written in DTD syntax:
//! `(A, B?, (C | D)*, E+)` for ordered children with occurrence, `#PCDATA` for a text-only leaf
//! (no child elements; text or CDATA, possibly empty), `EMPTY`, `ANY` (a subtree the notes do not
//! describe: not checked), and `ANY CONTAINING (a, b)` (any children in any order, these among
//! them; the subtree is not checked further). Unknown children are never allowed by an ordered
//! model. Violations name the element path, e.g. `/HOST_LIST_OUTPUT/RESPONSE/HOST_LIST/HOST[3]`.

use std::collections::{BTreeSet, HashMap};

use quick_xml::Reader;
use quick_xml::events::Event;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Occ {
    One,
    Opt,
    Star,
    Plus,
}

#[derive(Debug, Clone)]
enum Particle {
    Name(String, Occ),
    Seq(Vec<Particle>, Occ),
    Alt(Vec<Particle>, Occ),
}

#[derive(Debug, Clone)]
enum Content {
    Text,
    Empty,
    Any,
    AnyContaining(Vec<String>),
    Children(Particle),
}

/// The content models of one document type.
pub struct Schema {
    root: &'static str,
    models: HashMap<String, (Content, String)>,
    attrs: HashMap<String, Vec<&'static str>>,
}

impl Schema {
    /// A schema whose documents have this root element.
    pub fn new(root: &'static str) -> Schema {
        Schema { root, models: HashMap::new(), attrs: HashMap::new() }
    }

    /// Declares an element's content model (DTD syntax, see the module docs).
    pub fn element(mut self, name: &str, model: &str) -> Schema {
        let content = parse_content(model).unwrap_or_else(|e| panic!("model of {name}: {e}"));
        self.models.insert(name.to_string(), (content, squeeze(model)));
        self
    }

    /// Declares text-only leaves.
    pub fn text(mut self, names: &[&str]) -> Schema {
        for n in names {
            self.models.insert((*n).to_string(), (Content::Text, "#PCDATA".into()));
        }
        self
    }

    /// Declares subtrees the notes do not describe (not checked).
    pub fn any(mut self, names: &[&str]) -> Schema {
        for n in names {
            self.models.insert((*n).to_string(), (Content::Any, "ANY".into()));
        }
        self
    }

    /// Declares attributes an element must carry.
    pub fn required_attrs(mut self, name: &str, attrs: &[&'static str]) -> Schema {
        self.attrs.insert(name.to_string(), attrs.to_vec());
        self
    }

    /// Every violation of the document against the schema (empty when it conforms).
    pub fn violations(&self, xml: &str) -> Vec<String> {
        let mut v = Validation { schema: self, errors: Vec::new(), stack: Vec::new(), root_seen: false };
        v.run(xml);
        v.errors
    }

    /// Panics, naming every violation, unless the document conforms.
    #[track_caller]
    pub fn assert_valid(&self, what: &str, xml: &str) {
        let errors = self.violations(xml);
        assert!(
            errors.is_empty(),
            "{what} does not follow the documented {} model:\n  {}\n--- document (first 3000 bytes) ---\n{}",
            self.root,
            errors.iter().take(20).cloned().collect::<Vec<_>>().join("\n  "),
            &xml[..xml.len().min(3000)]
        );
    }
}

fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

// ---- Parsing DTD-style content models.

fn parse_content(model: &str) -> Result<Content, String> {
    let m = squeeze(model);
    match m.as_str() {
        "#PCDATA" | "(#PCDATA)" => return Ok(Content::Text),
        "EMPTY" => return Ok(Content::Empty),
        "ANY" => return Ok(Content::Any),
        _ => {}
    }
    if let Some(list) = m.strip_prefix("ANY CONTAINING") {
        let names = list.trim().trim_start_matches('(').trim_end_matches(')');
        return Ok(Content::AnyContaining(names.split(',').map(|n| n.trim().to_string()).collect()));
    }
    let mut p = ModelParser { s: m.as_bytes(), i: 0 };
    let particle = p.particle()?;
    p.ws();
    if p.i != p.s.len() {
        return Err(format!("trailing text at {}", p.i));
    }
    Ok(Content::Children(particle))
}

struct ModelParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl ModelParser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn occ(&mut self) -> Occ {
        let o = match self.s.get(self.i) {
            Some(b'?') => Occ::Opt,
            Some(b'*') => Occ::Star,
            Some(b'+') => Occ::Plus,
            _ => return Occ::One,
        };
        self.i += 1;
        o
    }

    fn particle(&mut self) -> Result<Particle, String> {
        self.ws();
        if self.s.get(self.i) == Some(&b'(') {
            self.i += 1;
            let mut items = vec![self.particle()?];
            self.ws();
            let sep = self.s.get(self.i).copied();
            while self.s.get(self.i).copied() == sep && matches!(sep, Some(b',') | Some(b'|')) {
                self.i += 1;
                items.push(self.particle()?);
                self.ws();
            }
            if self.s.get(self.i) != Some(&b')') {
                return Err(format!("expected ')' at {}", self.i));
            }
            self.i += 1;
            let occ = self.occ();
            Ok(if sep == Some(b'|') { Particle::Alt(items, occ) } else { Particle::Seq(items, occ) })
        } else {
            let start = self.i;
            while self.i < self.s.len()
                && (self.s[self.i].is_ascii_alphanumeric() || b"_-.:".contains(&self.s[self.i]))
            {
                self.i += 1;
            }
            if start == self.i {
                return Err(format!("expected a name at {}", self.i));
            }
            let name = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
            Ok(Particle::Name(name, self.occ()))
        }
    }
}

// ---- Matching a child list against a particle: the set of positions where a match can end.

fn ends(p: &Particle, names: &[String], start: usize, furthest: &mut usize) -> BTreeSet<usize> {
    let occ = match p {
        Particle::Name(_, o) | Particle::Seq(_, o) | Particle::Alt(_, o) => *o,
    };
    let once = |s: usize, furthest: &mut usize| -> BTreeSet<usize> {
        match p {
            Particle::Name(n, _) => {
                if names.get(s) == Some(n) {
                    *furthest = (*furthest).max(s + 1);
                    BTreeSet::from([s + 1])
                } else {
                    BTreeSet::new()
                }
            }
            Particle::Seq(items, _) => {
                let mut at = BTreeSet::from([s]);
                for item in items {
                    at = at.iter().flat_map(|&a| ends(item, names, a, furthest)).collect();
                    if at.is_empty() {
                        break;
                    }
                }
                at
            }
            Particle::Alt(items, _) => items.iter().flat_map(|item| ends(item, names, s, furthest)).collect(),
        }
    };
    match occ {
        Occ::One => once(start, furthest),
        Occ::Opt => {
            let mut r = once(start, furthest);
            r.insert(start);
            r
        }
        Occ::Star | Occ::Plus => {
            let mut reached = BTreeSet::new();
            if occ == Occ::Star {
                reached.insert(start);
            }
            let mut frontier = BTreeSet::from([start]);
            let mut seen = BTreeSet::from([start]);
            while !frontier.is_empty() {
                let next: BTreeSet<usize> = frontier.iter().flat_map(|&s| once(s, furthest)).collect();
                reached.extend(next.iter().copied());
                frontier = next.into_iter().filter(|n| seen.insert(*n)).collect();
            }
            reached
        }
    }
}

// ---- Walking a document.

struct Frame {
    name: String,
    path: String,
    children: Vec<String>,
    counts: HashMap<String, usize>,
    text: bool,
    /// Whether this element is checked against the schema (false under `ANY`).
    checked: bool,
}

struct Validation<'a> {
    schema: &'a Schema,
    errors: Vec<String>,
    stack: Vec<Frame>,
    root_seen: bool,
}

impl Validation<'_> {
    fn run(&mut self, xml: &str) {
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        loop {
            let pos = reader.buffer_position();
            match reader.read_event() {
                Err(e) => {
                    self.errors.push(format!("not well-formed XML near byte {pos}: {e}"));
                    return;
                }
                Ok(Event::Eof) => break,
                Ok(Event::Start(e)) => {
                    let name = e.name().as_ref().to_string();
                    let attrs = attr_names(&e);
                    self.open(name, &attrs);
                }
                Ok(Event::Empty(e)) => {
                    let name = e.name().as_ref().to_string();
                    let attrs = attr_names(&e);
                    self.open(name, &attrs);
                    self.close();
                }
                Ok(Event::End(_)) => self.close(),
                Ok(Event::Text(t)) => {
                    if !t.trim().is_empty() {
                        self.text();
                    }
                }
                Ok(Event::CData(_)) | Ok(Event::GeneralRef(_)) => self.text(),
                Ok(Event::DocType(d)) => {
                    let d = d.to_string();
                    if d.split_whitespace().next() != Some(self.schema.root) {
                        self.errors.push(format!("DOCTYPE names {d:?}, not {}", self.schema.root));
                    }
                }
                Ok(Event::Comment(_)) | Ok(Event::Decl(_)) | Ok(Event::PI(_)) => {}
            }
        }
        if !self.root_seen {
            self.errors.push(format!("no root element (expected <{}>)", self.schema.root));
        }
    }

    fn open(&mut self, name: String, attrs: &[String]) {
        let (path, checked) = match self.stack.last_mut() {
            None => {
                if self.root_seen {
                    self.errors.push(format!("a second root element <{name}>"));
                } else if name != self.schema.root {
                    self.errors.push(format!("root is <{name}>, expected <{}>", self.schema.root));
                }
                self.root_seen = true;
                (format!("/{name}"), true)
            }
            Some(parent) => {
                parent.children.push(name.clone());
                let n = parent.counts.entry(name.clone()).or_insert(0);
                *n += 1;
                let path = if *n > 1 {
                    format!("{}/{name}[{n}]", parent.path)
                } else {
                    format!("{}/{name}", parent.path)
                };
                // Only an ordered model's children are checked (a text-only or EMPTY parent
                // reports them itself; ANY subtrees are not described).
                let parent_opens_subtree = parent.checked
                    && matches!(
                        self.schema.models.get(&parent.name).map(|m| &m.0),
                        Some(Content::Children(_))
                    );
                (path, parent_opens_subtree)
            }
        };
        let mut checked = checked;
        if checked && !self.schema.models.contains_key(&name) {
            self.errors.push(format!("{path}: <{name}> has no documented model"));
            checked = false;
        }
        if checked && let Some(required) = self.schema.attrs.get(&name) {
            for a in required {
                if !attrs.iter().any(|x| x == a) {
                    self.errors.push(format!("{path}: missing attribute {a}"));
                }
            }
        }
        self.stack.push(Frame {
            name,
            path,
            children: Vec::new(),
            counts: HashMap::new(),
            text: false,
            checked,
        });
    }

    fn text(&mut self) {
        match self.stack.last_mut() {
            Some(f) => f.text = true,
            None => self.errors.push("text outside the root element".into()),
        }
    }

    fn close(&mut self) {
        let Some(f) = self.stack.pop() else { return };
        if !f.checked {
            return;
        }
        let (content, shown) = &self.schema.models[&f.name];
        match content {
            Content::Any => {}
            Content::Text => {
                if let Some(c) = f.children.first() {
                    self.errors.push(format!("{}: text-only element holds <{c}>", f.path));
                }
            }
            Content::Empty => {
                if !f.children.is_empty() || f.text {
                    self.errors.push(format!("{}: EMPTY element has content", f.path));
                }
            }
            Content::AnyContaining(required) => {
                for r in required {
                    if !f.children.contains(r) {
                        self.errors.push(format!("{}: required child <{r}> is missing", f.path));
                    }
                }
            }
            Content::Children(p) => {
                if f.text {
                    self.errors.push(format!("{}: text inside element-only content {shown}", f.path));
                }
                let mut furthest = 0;
                if !ends(p, &f.children, 0, &mut furthest).contains(&f.children.len()) {
                    let at = if furthest < f.children.len() {
                        format!("unexpected <{}> at child {}", f.children[furthest], furthest + 1)
                    } else {
                        "a required child is missing at the end".to_string()
                    };
                    self.errors.push(format!(
                        "{}: children [{}] do not follow {shown}: {at}",
                        f.path,
                        f.children.join(", ")
                    ));
                }
            }
        }
    }
}

fn attr_names(e: &quick_xml::events::BytesStart<'_>) -> Vec<String> {
    e.attributes().flatten().map(|a| a.key.as_ref().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        Schema::new("R").element("R", "(A, (B | C)?, D*, E+)").text(&["A", "B", "C", "D", "E"])
    }

    #[test]
    fn the_validator_accepts_conforming_documents_and_names_the_path_of_violations() {
        let s = schema();
        assert!(s.violations("<R><A/><C>x</C><E/><E/></R>").is_empty());
        assert!(s.violations("<!-- c --><R><A/><E/></R><!-- c -->").is_empty());
        let v = s.violations("<R><A/><E/><D/></R>");
        assert!(
            v[0].starts_with("/R: children [A, E, D]") && v[0].contains("unexpected <D> at child 3"),
            "{v:?}"
        );
        let v = s.violations("<R><A><B/></A><E/></R>");
        assert!(v[0].contains("/R/A: text-only element holds <B>"), "{v:?}");
        let v = s.violations("<R><A/></R>");
        assert!(v[0].contains("missing at the end"), "{v:?}");
        let v = s.violations("<R><A/><X/><E/></R>");
        assert!(v.iter().any(|e| e.contains("/R/X: <X> has no documented model")), "{v:?}");
        let v = s.violations("<R><A/><E></F></R>");
        assert!(v[0].contains("not well-formed"), "{v:?}");
        let v = s.violations("<Q/>");
        assert!(v[0].contains("root is <Q>"), "{v:?}");
    }
}
