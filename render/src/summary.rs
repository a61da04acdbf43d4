//! What a PDF summarises for each proof type: rows counted by one field, split by a flag or by
//! the values of another field, shown as a table and a bar chart. A proof type declares its
//! summaries here, once, beside its id; a workspace test fails when a registered proof type has
//! none or names a field it lacks.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

/// One summary of a proof type.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Its title, e.g. "Vulnerabilities by severity".
    pub title: &'static str,
    /// The field whose values make the groups (bars).
    pub group_by: &'static str,
    /// How each group's rows are split.
    pub split: Split,
    /// Groups shown first, in this order, when their values are known (e.g. criticalities).
    pub order: &'static [&'static str],
}

/// How a group's rows are split.
#[derive(Debug, Clone, Copy)]
pub enum Split {
    /// Not split: rows counted.
    Count,
    /// Rows whose boolean field is true, shown as the bar's marked part (field, its label).
    Flag(&'static str, &'static str),
    /// Rows counted by each value of another field (a stacked bar).
    Values(&'static str),
}

impl Summary {
    /// The fields it reads.
    pub fn fields(&self) -> Vec<&'static str> {
        match self.split {
            Split::Count => vec![self.group_by],
            Split::Flag(f, _) | Split::Values(f) => vec![self.group_by, f],
        }
    }
}

const fn by(title: &'static str, group_by: &'static str, split: Split) -> Summary {
    Summary { title, group_by, split, order: &[] }
}

const fn ordered(
    title: &'static str,
    group_by: &'static str,
    split: Split,
    order: &'static [&'static str],
) -> Summary {
    Summary { title, group_by, split, order }
}

/// The declarations, by proof type id.
const DECLARED: &[(&str, &[Summary])] = &[
    (
        "assets",
        &[by(
            "Assets scanned or stale, by tracking method",
            "tracking_method",
            Split::Flag("scan_stale", "stale"),
        )],
    ),
    ("users", &[by("Users by role, dormant marked", "role", Split::Flag("dormant", "dormant"))]),
    ("vm-scans", &[by("VM scans by state", "state", Split::Count)]),
    ("pc-scans", &[by("PC scans by state", "state", Split::Count)]),
    (
        "remediation-tickets",
        &[by("Tickets by state, overdue marked", "state", Split::Flag("overdue", "overdue"))],
    ),
    (
        "vulnerabilities",
        &[
            by("Vulnerabilities by severity, overdue marked", "severity", Split::Flag("overdue", "overdue")),
            by("Vulnerabilities by status", "status", Split::Flag("overdue", "overdue")),
        ],
    ),
    (
        "activity-log",
        &[by("Actions by module", "module", Split::Count), by("Actions by role", "user_role", Split::Count)],
    ),
    (
        "pc-posture",
        &[ordered(
            "Controls passed and failed, by criticality",
            "criticality",
            Split::Values("status"),
            &["URGENT", "CRITICAL", "SERIOUS", "MEDIUM", "MINIMAL"],
        )],
    ),
];

/// The summaries declared for a proof type (none for a type this crate does not know: its PDF
/// has the first page and the rows).
pub fn declared(proof_type: &str) -> &'static [Summary] {
    DECLARED.iter().find(|(id, _)| *id == proof_type).map_or(&[], |(_, s)| s)
}

/// Every proof type id with declared summaries.
pub fn declared_ids() -> impl Iterator<Item = &'static str> {
    DECLARED.iter().map(|(id, _)| *id)
}

/// Distinct groups counted one by one; beyond, rows count under "(other values)".
const MAX_GROUPS: usize = 10_000;
/// Bars shown; the rest are summed into one.
pub const SHOWN_GROUPS: usize = 12;

/// A summary's counts, gathered while the rows stream past.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    groups: HashMap<String, Group>,
    numeric: bool,
    seen: bool,
}

/// One group's counts.
#[derive(Debug, Clone, Default)]
pub struct Group {
    /// Rows in it.
    pub rows: u64,
    /// Rows flagged (a flag split).
    pub flagged: u64,
    /// Rows by value (a values split).
    pub values: BTreeMap<String, u64>,
}

/// A value as a group's name.
fn name(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "(none)".into(),
        Some(Value::String(s)) if s.is_empty() => "(none)".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        Some(Value::Array(a)) => a.iter().map(|v| name(Some(v))).collect::<Vec<_>>().join("; "),
        Some(other) => other.to_string(),
    }
}

impl Tally {
    /// Counts one row.
    pub fn add(&mut self, summary: &Summary, row: &Map<String, Value>) {
        let value = row.get(summary.group_by);
        let numeric = value.is_some_and(Value::is_number);
        self.numeric =
            if self.seen { self.numeric && (numeric || value.is_none_or(Value::is_null)) } else { numeric };
        self.seen = true;
        let mut key = name(value);
        if !self.groups.contains_key(&key) && self.groups.len() >= MAX_GROUPS {
            key = "(other values)".into();
        }
        let group = self.groups.entry(key).or_default();
        group.rows += 1;
        match summary.split {
            Split::Count => {}
            Split::Flag(f, _) => group.flagged += u64::from(row.get(f) == Some(&Value::Bool(true))),
            Split::Values(f) => *group.values.entry(name(row.get(f))).or_default() += 1,
        }
    }

    /// The groups to show, in order (numbers highest first, as severities read; other values by
    /// rows), the ones past [`SHOWN_GROUPS`] summed into one.
    pub fn shown(&self, summary: &Summary) -> Vec<(String, Group)> {
        let mut all: Vec<(String, Group)> = self.groups.iter().map(|(k, g)| (k.clone(), g.clone())).collect();
        let rank = |k: &str| summary.order.iter().position(|o| *o == k).unwrap_or(usize::MAX);
        if !summary.order.is_empty() {
            all.sort_by(|a, b| {
                rank(&a.0).cmp(&rank(&b.0)).then_with(|| b.1.rows.cmp(&a.1.rows)).then_with(|| a.0.cmp(&b.0))
            });
        } else if self.numeric {
            all.sort_by(|a, b| {
                let n = |s: &str| s.parse::<f64>().unwrap_or(f64::NEG_INFINITY);
                n(&b.0).total_cmp(&n(&a.0)).then_with(|| a.0.cmp(&b.0))
            });
        } else {
            all.sort_by(|a, b| b.1.rows.cmp(&a.1.rows).then_with(|| a.0.cmp(&b.0)));
        }
        if all.len() > SHOWN_GROUPS {
            let rest = all.split_off(SHOWN_GROUPS - 1);
            let mut other = Group::default();
            for (_, g) in &rest {
                other.rows += g.rows;
                other.flagged += g.flagged;
                for (v, n) in &g.values {
                    *other.values.entry(v.clone()).or_default() += n;
                }
            }
            all.push((format!("{} other values", rest.len()), other));
        }
        all
    }
}
