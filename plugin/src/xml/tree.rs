//! The record map as a trie of element names: which element (or attribute) below a record
//! fills which field, and which paths outside the records are captured.

use crate::model::ProofSpec;

use super::{NestedMap, RecordMap, SideTable};

#[derive(Clone, Copy)]
pub(super) enum Target {
    Column(usize),
    Capture(usize),
    /// The text of an `ERROR` element inside a normal root (a failed v1 call).
    Error,
    /// Column `.1` of side table `.0` (a glossary the records refer to).
    Side(usize, usize),
}

/// One element of a map: the map's paths merged into a tree, so that each element of the
/// document is matched by one lookup among its parent's mapped children, and every element
/// below an unmapped one is skipped without any lookup.
pub(super) struct Node {
    pub(super) name: &'static str,
    children: Children,
    /// Where the element's text goes.
    pub(super) text: Option<Target>,
    /// Where its attributes go, by attribute name.
    pub(super) attrs: Vec<(&'static str, Target)>,
    /// Index in the map's required paths.
    pub(super) required: Option<usize>,
    /// The repeated record element.
    pub(super) record: bool,
    /// The element that encloses records and holds values they share (a host around its
    /// detections).
    pub(super) group: bool,
    /// The repeated element of a side table (by index).
    pub(super) side: Option<usize>,
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
pub(super) struct Tree {
    pub(super) nodes: Vec<Node>,
    /// Columns of each side table.
    side_widths: Vec<usize>,
}

impl Tree {
    pub(super) fn new(map: &RecordMap, spec: &ProofSpec) -> Tree {
        let mut tree = Tree { nodes: vec![Node::new(map.root)], side_widths: Vec::new() };
        let record = if map.record.is_empty() { None } else { Some(tree.walk(0, map.record).0) };
        if let Some(r) = record {
            tree.nodes[r].record = true;
            for (path, field) in map.columns {
                tree.set(r, path, Target::Column(spec.index(field)));
            }
        }
        tree.add_captures(map);
        tree
    }

    /// The tree of a [`NestedMap`]: its record map, plus the group element and the columns
    /// read below it (outside the records).
    pub(super) fn nested(nested: &NestedMap, spec: &ProofSpec) -> Tree {
        let mut tree = Tree::new(&nested.map, spec);
        let (group, _) = tree.walk(0, nested.group);
        tree.nodes[group].group = true;
        for (path, field) in nested.group_columns {
            tree.set(group, path, Target::Column(spec.index(field)));
        }
        tree
    }

    /// The tree of a record map with side tables: each table's repeated element and the
    /// columns read below it.
    pub(super) fn with_sides(map: &RecordMap, sides: &[SideTable], spec: &ProofSpec) -> Tree {
        let mut tree = Tree::new(map, spec);
        for (t, side) in sides.iter().enumerate() {
            let (node, _) = tree.walk(0, side.record);
            tree.nodes[node].side = Some(t);
            for (c, path) in side.columns.iter().enumerate() {
                tree.set(node, path, Target::Side(t, c));
            }
            tree.side_widths.push(side.columns.len());
        }
        tree
    }

    fn add_captures(&mut self, map: &RecordMap) {
        for (i, path) in map.captures.iter().enumerate() {
            self.set(0, path, Target::Capture(i));
        }
        for (i, path) in map.required.iter().enumerate() {
            let (node, _) = self.walk(0, path);
            self.nodes[node].required = Some(i);
        }
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

    /// How many columns side table `t` has.
    pub(super) fn side_width(&self, t: usize) -> usize {
        self.side_widths.get(t).copied().unwrap_or(0)
    }

    /// The mapped child of `parent` named `name`.
    #[inline]
    pub(super) fn child(&self, parent: usize, name: &str) -> Option<usize> {
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
            group: false,
            side: None,
        }
    }
}
