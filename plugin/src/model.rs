//! Plain Rust types of the connector contract; `lib.rs` converts them to and from WIT.

/// The kind of a field's (or criterion's) values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Integer,
    Boolean,
    Timestamp,
    TextList,
}

/// One column of a proof.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub label: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

/// Shorthand for declaring a field in a proof type's table.
pub const fn field(
    name: &'static str,
    label: &'static str,
    kind: Kind,
    description: &'static str,
) -> FieldSpec {
    FieldSpec { name, label, kind, description }
}

/// One filter a proof type accepts.
#[derive(Debug, Clone, Copy)]
pub struct CriterionSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub allowed: &'static [&'static str],
    pub default: Option<&'static str>,
    pub description: &'static str,
}

/// What `list-proof-types` says about one proof type.
#[derive(Debug, Clone, Copy)]
pub struct ProofSpec {
    pub id: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    pub fields: &'static [FieldSpec],
    pub criteria: &'static [CriterionSpec],
    /// Its natural key: candidate keys in order of preference, each the fields that together
    /// identify a row (WIT `proof-type.key`); empty for rows without an identity of their own.
    pub key: &'static [&'static [&'static str]],
}

impl ProofSpec {
    /// The position of a field by name; a proof type's own table, so a miss is a bug.
    pub fn index(&self, name: &str) -> usize {
        self.fields
            .iter()
            .position(|f| f.name == name)
            .unwrap_or_else(|| panic!("proof type {} has no field {name}", self.id))
    }
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Null,
    Text(String),
    Integer(i64),
    Boolean(bool),
    Timestamp(String),
    TextList(Vec<String>),
}

/// A row: values aligned with the proof type's fields.
pub type Row = Vec<Value>;

/// Something worth knowing about a usable result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
}

/// One page of a proof.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub rows: Vec<Row>,
    pub next_cursor: Option<String>,
    pub warnings: Vec<Warning>,
    /// Criteria as applied, on the first page only.
    pub applied_criteria: Vec<(String, String)>,
}

/// Whether an account can collect a proof type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Full,
    Partial,
    None,
}

/// What `connect` found for one proof type.
#[derive(Debug, Clone)]
pub struct ProofAccess {
    pub proof_type: &'static str,
    pub access: Access,
    pub reason: Option<String>,
}

/// Who is connected.
#[derive(Debug, Clone)]
pub struct Account {
    pub login: String,
    pub role: Option<String>,
    pub business_unit: Option<String>,
    pub platform: String,
    pub api_url: String,
    pub proof_access: Vec<ProofAccess>,
    pub warnings: Vec<Warning>,
}
