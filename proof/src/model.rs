//! What a proof is made of: fields, values and warnings, as a connector declares and returns
//! them (the WIT `field`, `field-kind`, `value` and `warning`, as plain Rust types).

/// The kind of a field's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldKind {
    /// Text.
    Text,
    /// A whole number.
    Integer,
    /// True or false.
    Boolean,
    /// An RFC 3339 UTC time, as text.
    Timestamp,
    /// A list of texts.
    TextList,
}

/// One column of a proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The stable name (a row's key for this value).
    pub name: String,
    /// What people read.
    pub label: String,
    /// The kind of its values.
    pub kind: FieldKind,
    /// What it holds and where it comes from.
    pub description: String,
}

/// One value of a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// No value.
    Null,
    /// Text.
    Text(String),
    /// A whole number.
    Integer(i64),
    /// True or false.
    Boolean(bool),
    /// An RFC 3339 UTC time.
    Timestamp(String),
    /// A list of texts.
    TextList(Vec<String>),
}

/// Something worth knowing about a usable result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// A stable code.
    pub code: String,
    /// What a person should know.
    pub message: String,
}
