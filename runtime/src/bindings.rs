//! Host bindings of the current connector world, `evidence:connector@0.3.0` (generated from
//! `wit/`; earlier versions are in [`crate::adapter`]). WASI imports map to
//! wasmtime-wasi's own implementations; only the connector exports are generated here.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "evidence:connector/connector-world",
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

pub use evidence::connector::types;
pub use exports::evidence::connector::connector as api;

/// A page's rows and warnings as the proof crate takes them (moved, not copied).
pub struct PageData {
    /// The rows.
    pub rows: Vec<Vec<evidence_proof::Value>>,
    /// The warnings.
    pub warnings: Vec<evidence_proof::Warning>,
}

impl PageData {
    /// Converts a page's rows and warnings as the component returned them.
    pub fn from_wit(rows: Vec<Vec<types::Value>>, warnings: Vec<types::Warning>) -> PageData {
        PageData {
            rows: rows.into_iter().map(|r| r.into_iter().map(Into::into).collect()).collect(),
            warnings: warnings.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<types::Value> for evidence_proof::Value {
    fn from(v: types::Value) -> Self {
        use evidence_proof::Value as P;
        match v {
            types::Value::Null => P::Null,
            types::Value::Text(s) => P::Text(s),
            types::Value::Integer(n) => P::Integer(n),
            types::Value::Boolean(b) => P::Boolean(b),
            types::Value::Timestamp(s) => P::Timestamp(s),
            types::Value::TextList(l) => P::TextList(l),
        }
    }
}

impl From<types::Warning> for evidence_proof::Warning {
    fn from(w: types::Warning) -> Self {
        evidence_proof::Warning { code: w.code, message: w.message }
    }
}

impl From<types::FieldKind> for evidence_proof::FieldKind {
    fn from(k: types::FieldKind) -> Self {
        use evidence_proof::FieldKind as P;
        match k {
            types::FieldKind::Text => P::Text,
            types::FieldKind::Integer => P::Integer,
            types::FieldKind::Boolean => P::Boolean,
            types::FieldKind::Timestamp => P::Timestamp,
            types::FieldKind::TextList => P::TextList,
        }
    }
}

impl From<&types::Field> for evidence_proof::Field {
    fn from(f: &types::Field) -> Self {
        evidence_proof::Field {
            name: f.name.clone(),
            label: f.label.clone(),
            kind: f.kind.into(),
            description: f.description.clone(),
        }
    }
}

/// A proof type's fields as the proof crate takes them.
pub fn fields_of(proof: &types::ProofType) -> Vec<evidence_proof::Field> {
    proof.fields.iter().map(Into::into).collect()
}
