//! What changed between two proofs of the same proof type: rows added, removed, and changed
//! (with each changed field's old and new value), matched by the proof type's natural key.
//!
//! Memory stays bounded whatever the proofs' size: each proof's rows are sorted by key with an
//! external sort ([`super::sort`]: chunks of at most a budget, spilled to temporary files) and
//! the two sorted streams are merged. Works across formats: rows are compared as canonical rows.
//!
//! Keys ([`KeyRule`]): one field (a user's login, a ticket's number, a scan's reference), several
//! together (a composite key), none (a log: rows are compared as multisets), or the
//! first present of two (an asset's asset id, else its host id). Rows whose key is null are
//! matched only with identical rows. With two key fields, rows left unmatched by the first
//! are matched by the second when one of the two lacks the first (an asset that gained or lost
//! its asset id); those pairs are reported after the others. Duplicate keys within a proof
//! (none is expected) are paired in order and counted.

use std::path::PathBuf;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::file::ProofFile;
use super::sort::{Record, Sorted, Sorter};
use crate::model::Field;
use crate::output::readback::ReadError;

/// How rows are matched: a proof type's natural key as its connector declares it
/// ([`KeyRule::from_declared`]), or as a person names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRule {
    /// By the values of these fields together (one field: a login, a ticket number; several:
    /// a detection's host, QID and port).
    Fields(Vec<String>),
    /// By `primary` when present, else by `secondary`.
    Either {
        /// The key field used when present.
        primary: String,
        /// The key field used when `primary` is null.
        secondary: String,
    },
    /// Rows have no identity of their own (a log): a row matches only an identical row, and
    /// each copy counts (the proofs are compared as multisets).
    WholeRow,
}

impl KeyRule {
    /// One field.
    pub fn field(name: &str) -> KeyRule {
        KeyRule::Fields(vec![name.to_string()])
    }

    /// The rule for a declared natural key (candidate keys in order of preference, WIT
    /// `proof-type.key`): none is [`KeyRule::WholeRow`], one is [`KeyRule::Fields`], two
    /// single-field ones are [`KeyRule::Either`]. Other shapes are refused, naming them.
    pub fn from_declared(candidates: &[Vec<String>]) -> anyhow::Result<KeyRule> {
        match candidates {
            [] => Ok(KeyRule::WholeRow),
            [one] if !one.is_empty() => Ok(KeyRule::Fields(one.clone())),
            [a, b] if a.len() == 1 && b.len() == 1 => {
                Ok(KeyRule::Either { primary: a[0].clone(), secondary: b[0].clone() })
            }
            other => anyhow::bail!(
                "diff matches rows by one key or by two one-field alternatives, not by {other:?}: name a key with --key"
            ),
        }
    }

    /// The key fields.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            KeyRule::Fields(f) => f.iter().map(String::as_str).collect(),
            KeyRule::Either { primary, secondary } => vec![primary, secondary],
            KeyRule::WholeRow => Vec::new(),
        }
    }

    /// In words.
    pub fn describe(&self) -> String {
        match self {
            KeyRule::Fields(f) => f.join(" + "),
            KeyRule::Either { primary, secondary } => format!("{primary}, else {secondary}"),
            KeyRule::WholeRow => "whole rows (no key: identical rows are matched, each copy counted)".into(),
        }
    }
}

/// One proof to compare.
#[derive(Debug, Clone)]
pub struct DiffInput {
    /// Where it is.
    pub file: ProofFile,
    /// Proof type and fields for a rows file without its sidecar (recognised by the caller).
    pub fallback: Option<(String, Vec<Field>)>,
}

/// Limits of a diff.
#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// Memory for sorting, in bytes (about the diff's peak above its baseline).
    pub memory_budget: usize,
    /// Where sorted runs are spilled (the system's temporary folder when `None`).
    pub temp_dir: Option<PathBuf>,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { memory_budget: 64 << 20, temp_dir: None }
    }
}

/// One side of a diff.
#[derive(Debug, Clone)]
pub struct Side {
    /// The file.
    pub path: String,
    /// Its format's name.
    pub format: &'static str,
    /// When it was collected, when its metadata says.
    pub collected_at: Option<String>,
    /// Rows read.
    pub rows: u64,
    /// SHA-256 of its canonical rows, recomputed.
    pub sha256: String,
}

/// What is compared.
#[derive(Debug, Clone)]
pub struct DiffHeader {
    /// The proof type of both.
    pub proof_type: String,
    /// How rows are matched.
    pub key: KeyRule,
    /// The older proof.
    pub old: Side,
    /// The newer proof.
    pub new: Side,
    /// Fields only the old proof has (not compared).
    pub only_old: Vec<String>,
    /// Fields only the new proof has (not compared).
    pub only_new: Vec<String>,
}

/// A field's change.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Its old value.
    pub old: Value,
    /// Its new value.
    pub new: Value,
}

/// One row's change. A key is the key fields' names and values (empty for a row without one).
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A row only the new proof has.
    Added {
        /// Its key.
        key: Vec<(String, Value)>,
        /// The row.
        row: Map<String, Value>,
    },
    /// A row only the old proof has.
    Removed {
        /// Its key.
        key: Vec<(String, Value)>,
        /// The row.
        row: Map<String, Value>,
    },
    /// A row both have, with different values.
    Changed {
        /// Its key.
        key: Vec<(String, Value)>,
        /// The fields that differ.
        fields: Vec<FieldChange>,
    },
}

/// The counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffSummary {
    /// Rows added.
    pub added: u64,
    /// Rows removed.
    pub removed: u64,
    /// Rows changed.
    pub changed: u64,
    /// Rows alike in both.
    pub unchanged: u64,
    /// Rows of the old proof whose key an earlier row of it already had (paired in order).
    pub duplicate_keys_old: u64,
    /// Rows of the new proof whose key an earlier row of it already had (paired in order).
    pub duplicate_keys_new: u64,
}

/// Receives a diff as it is found.
pub trait DiffSink {
    /// Before the first change.
    fn begin(&mut self, header: &DiffHeader) -> anyhow::Result<()>;
    /// Each change.
    fn change(&mut self, change: &Change) -> anyhow::Result<()>;
    /// After the last.
    fn end(&mut self, summary: &DiffSummary) -> anyhow::Result<()>;
}

/// Why a diff could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DiffError {
    /// The two proofs are of different proof types.
    #[error(
        "{old_path} is a {old} proof and {new_path} a {new} proof: only proofs of the same proof type can be compared"
    )]
    DifferentTypes {
        /// The old proof's type.
        old: String,
        /// The new proof's type.
        new: String,
        /// The old file.
        old_path: String,
        /// The new file.
        new_path: String,
    },
    /// A proof's rows do not match the digest its metadata states: it changed after it was
    /// written, and any difference found would be that change, not the service's.
    #[error(
        "{path}: its {rows} rows have SHA-256 {found}, but the proof states {stated}: it was changed after collection (run verify on it); nothing was compared"
    )]
    DigestMismatch {
        /// The file.
        path: String,
        /// Rows read.
        rows: u64,
        /// The digest recomputed.
        found: String,
        /// What the metadata states (row count and digest).
        stated: String,
    },
    /// A proof cannot be read as one.
    #[error("{path}: {error:#}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        error: anyhow::Error,
    },
    /// Anything else (temporary files, the sink).
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// Chooses how rows are matched from a proof type's id, its fields and the natural key the
/// proofs declare.
pub type KeyChooser<'a> = dyn Fn(&str, &[Field], Option<&[Vec<String>]>) -> anyhow::Result<KeyRule> + 'a;

/// Declared keys as proofs record them: candidate keys, each a list of field names.
type DeclaredKey = Option<Vec<Vec<String>>>;

/// Compares `old` and `new`, matching rows by the key `key_rule` gives for their proof type,
/// its fields and the natural key the proofs declare (the old one's, else the new one's; `None`
/// for proofs written without one).
pub fn diff(
    old: &DiffInput,
    new: &DiffInput,
    key_rule: &KeyChooser<'_>,
    options: &DiffOptions,
    sink: &mut dyn DiffSink,
) -> Result<DiffSummary, DiffError> {
    let (old_type, old_fields, old_key) = identify(old)?;
    let (new_type, new_fields, new_key) = identify(new)?;
    if old_type != new_type {
        return Err(DiffError::DifferentTypes {
            old: old_type,
            new: new_type,
            old_path: old.file.display(),
            new_path: new.file.display(),
        });
    }
    let declared = old_key.or(new_key);
    let rule = key_rule(&old_type, &old_fields, declared.as_deref()).map_err(DiffError::Other)?;
    for (input, fields) in [(old, &old_fields), (new, &new_fields)] {
        for k in rule.fields() {
            if !fields.iter().any(|f| f.name == k) {
                return Err(DiffError::Unreadable {
                    path: input.file.display(),
                    error: anyhow::anyhow!("it has no `{k}` field to match rows by"),
                });
            }
        }
    }
    let budget = options.memory_budget;
    let (old_side, mut old_rows) = sort_side(old, &rule, budget / 2, options)?;
    let (new_side, mut new_rows) = sort_side(new, &rule, budget / 2, options)?;
    let names = |f: &[Field]| f.iter().map(|f| f.name.clone()).collect::<Vec<_>>();
    let (old_names, new_names) = (names(&old_fields), names(&new_fields));
    let header = DiffHeader {
        proof_type: old_type,
        key: rule.clone(),
        only_old: old_names.iter().filter(|n| !new_names.contains(n)).cloned().collect(),
        only_new: new_names.iter().filter(|n| !old_names.contains(n)).cloned().collect(),
        old: old_side,
        new: new_side,
    };
    let common: Vec<String> = new_names.iter().filter(|n| old_names.contains(n)).cloned().collect();
    sink.begin(&header)?;

    let mut merger = Merger { rule: &rule, common: &common, sink, summary: DiffSummary::default() };
    let second = match &rule {
        KeyRule::Either { secondary, .. } => Some(secondary.as_str()),
        KeyRule::Fields(_) | KeyRule::WholeRow => None,
    };
    let mut left_old = Sorter::new(budget / 8, options.temp_dir.clone());
    let mut left_new = Sorter::new(budget / 8, options.temp_dir.clone());
    let io = |e: std::io::Error| DiffError::Other(anyhow::Error::new(e).context("sorting rows"));
    let (mut last_old, mut last_new): (Option<Vec<u8>>, Option<Vec<u8>>) = (None, None);
    loop {
        let order = match (old_rows.peek_key(), new_rows.peek_key()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(a), Some(b)) => a.cmp(b),
        };
        let (a, b) = match order {
            std::cmp::Ordering::Less => (old_rows.take().map_err(io)?, None),
            std::cmp::Ordering::Greater => (None, new_rows.take().map_err(io)?),
            std::cmp::Ordering::Equal => (old_rows.take().map_err(io)?, new_rows.take().map_err(io)?),
        };
        for (record, last, count) in [
            (&a, &mut last_old, &mut merger.summary.duplicate_keys_old),
            (&b, &mut last_new, &mut merger.summary.duplicate_keys_new),
        ] {
            if let Some((key, _)) = record {
                // Identical rows of a proof without a key are distinct events, not duplicates.
                if rule != KeyRule::WholeRow && last.as_deref() == Some(key.as_slice()) {
                    *count += 1;
                }
                *last = Some(key.clone());
            }
        }
        match (a, b) {
            (Some((_, a)), Some((_, b))) => merger.pair(&a, &b, None)?,
            (Some((_, row)), None) => {
                let parsed = parse(&row)?;
                match second.and_then(|s| key_bytes(b'2', parsed.get(s))) {
                    Some(k) => left_old.push(k, row).map_err(io)?,
                    None => merger.emit_lone(false, parsed)?,
                }
            }
            (None, Some((_, row))) => {
                let parsed = parse(&row)?;
                match second.and_then(|s| key_bytes(b'2', parsed.get(s))) {
                    Some(k) => left_new.push(k, row).map_err(io)?,
                    None => merger.emit_lone(true, parsed)?,
                }
            }
            (None, None) => unreachable!("a side was peeked"),
        }
    }
    if let KeyRule::Either { primary, secondary } = &rule {
        merger.reconcile(
            left_old.finish().map_err(io)?,
            left_new.finish().map_err(io)?,
            primary,
            secondary,
        )?;
    }
    let summary = merger.summary.clone();
    merger.sink.end(&summary)?;
    Ok(summary)
}

/// The proof type, fields and declared key of an input, from its metadata or the caller's
/// fallback.
fn identify(input: &DiffInput) -> Result<(String, Vec<Field>, DeclaredKey), DiffError> {
    let unreadable = |error: anyhow::Error| DiffError::Unreadable { path: input.file.display(), error };
    let head = input.file.head().map_err(|e| unreadable(anyhow::anyhow!(e)))?;
    match (head, &input.fallback) {
        (Some(head), _) => {
            let proof_type = head
                .get("proof_type")
                .and_then(Value::as_str)
                .ok_or_else(|| unreadable(anyhow::anyhow!("its metadata names no proof_type")))?;
            let fields = crate::output::readback::fields_of(&head).map_err(unreadable)?;
            let key =
                match head.get("key") {
                    None => None,
                    Some(k) => Some(serde_json::from_value::<Vec<Vec<String>>>(k.clone()).map_err(|e| {
                        unreadable(anyhow::anyhow!("its key is not a list of field lists: {e}"))
                    })?),
                };
            Ok((proof_type.to_string(), fields, key))
        }
        (None, Some((t, f))) => Ok((t.clone(), f.clone(), None)),
        (None, None) => Err(unreadable(anyhow::anyhow!(
            "it has no {} beside it, and its fields are not those of a known proof type",
            super::file::SIDECAR_SUFFIX
        ))),
    }
}

/// Reads one proof into a sorter, keyed by the rule.
fn sort_side(
    input: &DiffInput,
    rule: &KeyRule,
    budget: usize,
    options: &DiffOptions,
) -> Result<(Side, Sorted), DiffError> {
    let mut sorter = Sorter::new(budget, options.temp_dir.clone());
    let fallback_fields = input.fallback.as_ref().map(|(_, f)| f.as_slice());
    let names = rule.fields();
    let read = input.file.read(fallback_fields, &mut |_, _| Ok(()), &mut |row| {
        let values = key_values(row, &names)?;
        let key = row_key(rule, &values, row);
        sorter.push(key, row.to_vec())?;
        Ok(())
    });
    let unreadable = |error: anyhow::Error| DiffError::Unreadable { path: input.file.display(), error };
    let read = match read {
        Ok(r) => r,
        Err(ReadError::Metadata(e) | ReadError::Rows(e)) => return Err(unreadable(e)),
    };
    // Checked before any change is reported: a proof edited after collection is refused. A rows
    // file that lost its sidecar states nothing to check against.
    if let Some(metadata) = &read.metadata {
        let stated_rows = metadata.get("row_count").and_then(Value::as_u64);
        let stated_sha = metadata.get("sha256").and_then(Value::as_str);
        if stated_rows != Some(read.rows) || stated_sha != Some(read.sha256.as_str()) {
            return Err(DiffError::DigestMismatch {
                path: input.file.display(),
                rows: read.rows,
                found: read.sha256.clone(),
                stated: format!(
                    "{} rows with {}",
                    stated_rows.map_or("no count of".to_string(), |n| n.to_string()),
                    stated_sha.unwrap_or("no digest")
                ),
            });
        }
    }
    let sorted =
        sorter.finish().map_err(|e| unreadable(anyhow::Error::new(e).context("sorting its rows")))?;
    let side = Side {
        path: input.file.display(),
        format: input.file.format.name(),
        collected_at: read
            .metadata
            .as_ref()
            .and_then(|m| m.get("collected_at"))
            .and_then(Value::as_str)
            .map(str::to_string),
        rows: read.rows,
        sha256: read.sha256,
    };
    Ok((side, sorted))
}

/// The values of the key fields `names` in a canonical row (the other members are skipped
/// without being decoded).
fn key_values(row: &[u8], names: &[&str]) -> anyhow::Result<Vec<Option<Value>>> {
    struct Keys<'n>(&'n [&'n str]);
    impl<'de> serde::de::Visitor<'de> for Keys<'_> {
        type Value = Vec<Option<Value>>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a row object")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = vec![None; self.0.len()];
            while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
                match self.0.iter().position(|n| *n == name) {
                    Some(i) => found[i] = Some(map.next_value::<Value>()?),
                    None => {
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
            }
            Ok(found)
        }
    }
    /// A member name, borrowed from the row when it has no escapes.
    struct Name<'de>(std::borrow::Cow<'de, str>);
    impl<'de> serde::Deserialize<'de> for Name<'de> {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Name<'de>;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a member name")
                }
                fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Name<'de>, E> {
                    Ok(Name(v.into()))
                }
                fn visit_str<E>(self, v: &str) -> Result<Name<'de>, E> {
                    Ok(Name(v.to_string().into()))
                }
            }
            d.deserialize_str(V)
        }
    }
    use serde::Deserializer as _;
    Ok(serde_json::Deserializer::from_slice(row).deserialize_map(Keys(names))?)
}

/// The sort key of a row: its key fields' values (tagged `1`; for [`KeyRule::Either`], the
/// second field's tagged `2` when the first is null), else its content (tagged `9`: it matches
/// only an identical row). `values` are the rule's key fields' values, in [`KeyRule::fields`]
/// order.
fn row_key(rule: &KeyRule, values: &[Option<Value>], bytes: &[u8]) -> Vec<u8> {
    let found = match rule {
        KeyRule::Fields(names) if names.len() == 1 => key_bytes(b'1', values[0].as_ref()),
        KeyRule::Fields(_) => composite_key(values),
        KeyRule::Either { .. } => {
            key_bytes(b'1', values[0].as_ref()).or_else(|| key_bytes(b'2', values[1].as_ref()))
        }
        KeyRule::WholeRow => None,
    };
    found.unwrap_or_else(|| {
        let mut k = vec![b'9'];
        k.extend_from_slice(&Sha256::digest(bytes));
        k
    })
}

/// A composite key: each field's value, escaped so that no value runs into the next (a zero
/// byte becomes 0,255; each value ends with 0,0) and the order of the first field comes first;
/// a null is a value of its own. `None` when every field is null.
fn composite_key(values: &[Option<Value>]) -> Option<Vec<u8>> {
    if values.iter().all(|v| v.as_ref().is_none_or(Value::is_null)) {
        return None;
    }
    let mut out = vec![b'1'];
    for v in values {
        let part = key_bytes(b'v', v.as_ref()).unwrap_or_else(|| vec![b'N']);
        for b in part {
            out.push(b);
            if b == 0 {
                out.push(255);
            }
        }
        out.extend_from_slice(&[0, 0]);
    }
    Some(out)
}

/// A key value as bytes that sort as the values do (integers numerically, texts by bytes).
fn key_bytes(tag: u8, value: Option<&Value>) -> Option<Vec<u8>> {
    let mut out = vec![tag];
    match value? {
        Value::Null => return None,
        Value::Number(n) if n.as_i64().is_some() => {
            out.push(b'I');
            let biased = (n.as_i64().expect("checked") as u64) ^ (1 << 63);
            out.extend_from_slice(&biased.to_be_bytes());
        }
        Value::String(s) => {
            out.push(b'S');
            out.extend_from_slice(s.as_bytes());
        }
        other => {
            out.push(b'J');
            out.extend_from_slice(other.to_string().as_bytes());
        }
    }
    Some(out)
}

fn parse(row: &[u8]) -> Result<Map<String, Value>, DiffError> {
    serde_json::from_slice(row)
        .map_err(|e| DiffError::Other(anyhow::anyhow!("a sorted row is not an object: {e}")))
}

struct Merger<'a> {
    rule: &'a KeyRule,
    common: &'a [String],
    sink: &'a mut dyn DiffSink,
    summary: DiffSummary,
}

impl Merger<'_> {
    /// The key shown for a row.
    fn key_of(&self, row: &Map<String, Value>) -> Vec<(String, Value)> {
        let present = |f: &str| row.get(f).filter(|v| !v.is_null()).map(|v| (f.to_string(), v.clone()));
        match self.rule {
            KeyRule::Fields(names) if names.len() == 1 => present(&names[0]).into_iter().collect(),
            KeyRule::Fields(names) => {
                if names.iter().all(|f| present(f).is_none()) {
                    return Vec::new();
                }
                names.iter().map(|f| (f.clone(), row.get(f).cloned().unwrap_or(Value::Null))).collect()
            }
            KeyRule::Either { primary, secondary } => {
                present(primary).or_else(|| present(secondary)).into_iter().collect()
            }
            KeyRule::WholeRow => Vec::new(),
        }
    }

    /// Two rows matched by key: changed or alike. `key_field` names the key when the pair was
    /// matched by the second key field.
    fn pair(&mut self, old: &[u8], new: &[u8], key_field: Option<&str>) -> Result<(), DiffError> {
        if old == new {
            self.summary.unchanged += 1;
            return Ok(());
        }
        let (a, b) = (parse(old)?, parse(new)?);
        let fields: Vec<FieldChange> = self
            .common
            .iter()
            .filter_map(|f| {
                let (x, y) = (a.get(f).unwrap_or(&Value::Null), b.get(f).unwrap_or(&Value::Null));
                (x != y).then(|| FieldChange { field: f.clone(), old: x.clone(), new: y.clone() })
            })
            .collect();
        if fields.is_empty() {
            self.summary.unchanged += 1;
            return Ok(());
        }
        self.summary.changed += 1;
        let key = match key_field {
            Some(f) => vec![(f.to_string(), b.get(f).cloned().unwrap_or(Value::Null))],
            None => self.key_of(&b),
        };
        self.sink.change(&Change::Changed { key, fields })?;
        Ok(())
    }

    fn emit_lone(&mut self, added: bool, row: Map<String, Value>) -> Result<(), DiffError> {
        let key = self.key_of(&row);
        let change = if added {
            self.summary.added += 1;
            Change::Added { key, row }
        } else {
            self.summary.removed += 1;
            Change::Removed { key, row }
        };
        self.sink.change(&change)?;
        Ok(())
    }

    /// Rows unmatched by the first key field, matched by the second when one of the two lacks
    /// the first; the rest are removed or added.
    fn reconcile(
        &mut self,
        mut old: Sorted,
        mut new: Sorted,
        primary: &str,
        secondary: &str,
    ) -> Result<(), DiffError> {
        let io = |e: std::io::Error| DiffError::Other(anyhow::Error::new(e).context("sorting rows"));
        loop {
            let key = match (old.peek_key(), new.peek_key()) {
                (None, None) => return Ok(()),
                (Some(a), None) => a.to_vec(),
                (None, Some(b)) => b.to_vec(),
                (Some(a), Some(b)) => a.min(b).to_vec(),
            };
            let group = |s: &mut Sorted| -> std::io::Result<Vec<Record>> {
                let mut g = Vec::new();
                while s.peek_key() == Some(key.as_slice()) {
                    g.extend(s.take()?);
                }
                Ok(g)
            };
            let (olds, news) = (group(&mut old).map_err(io)?, group(&mut new).map_err(io)?);
            let lacks = |row: &Map<String, Value>| row.get(primary).is_none_or(Value::is_null);
            let news: Vec<(Vec<u8>, Map<String, Value>)> =
                news.into_iter().map(|(_, r)| parse(&r).map(|p| (r, p))).collect::<Result<_, _>>()?;
            let mut taken = vec![false; news.len()];
            for (_, row) in olds {
                let parsed = parse(&row)?;
                let partner = (0..news.len()).find(|&i| !taken[i] && (lacks(&parsed) || lacks(&news[i].1)));
                match partner {
                    Some(i) => {
                        taken[i] = true;
                        self.pair(&row, &news[i].0, Some(secondary))?;
                    }
                    None => self.emit_lone(false, parsed)?,
                }
            }
            for (i, (_, parsed)) in news.into_iter().enumerate() {
                if !taken[i] {
                    self.emit_lone(true, parsed)?;
                }
            }
        }
    }
}
