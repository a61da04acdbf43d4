//! `evidence:connector@0.2.0`, adapted to the current contract. What changed since: a proof
//! type declares its natural key, and a connector describes itself (`describe`). Everything
//! else — config, account, page, errors — is the same type in both, and the component model
//! checks types by structure, so those calls use the current bindings' types unchanged
//! (checked when the component is loaded, by [`ConnectorWorldPre::new`]).

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    // The frozen contract and the WASI packages it uses, each pushed after those it needs.
    path: [
        "../wit/deps/io.wit",
        "../wit/deps/clocks.wit",
        "../wit/deps/random.wit",
        "../wit/deps/filesystem.wit",
        "../wit/deps/sockets.wit",
        "../wit/deps/cli.wit",
        "../wit/deps/http.wit",
        "../wit/published/connector-0.2.0.wit",
    ],
    world: "evidence:connector/connector-world@0.2.0",
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

use crate::bindings::types as current;
pub use evidence::connector::types::ProofType;

/// A 0.2.0 proof type as the current contract describes it: with no declared key (a host
/// falls back to `--key`, or matches whole rows).
pub fn proof_type(p: ProofType) -> current::ProofType {
    current::ProofType {
        id: p.id,
        title: p.title,
        description: p.description,
        fields: p.fields.into_iter().map(field).collect(),
        criteria: p.criteria.into_iter().map(criterion).collect(),
        key: Vec::new(),
    }
}

fn kind(k: evidence::connector::types::FieldKind) -> current::FieldKind {
    use evidence::connector::types::FieldKind as K;
    match k {
        K::Text => current::FieldKind::Text,
        K::Integer => current::FieldKind::Integer,
        K::Boolean => current::FieldKind::Boolean,
        K::Timestamp => current::FieldKind::Timestamp,
        K::TextList => current::FieldKind::TextList,
    }
}

fn field(f: evidence::connector::types::Field) -> current::Field {
    current::Field { name: f.name, label: f.label, kind: kind(f.kind), description: f.description }
}

fn criterion(c: evidence::connector::types::Criterion) -> current::Criterion {
    current::Criterion {
        name: c.name,
        kind: kind(c.kind),
        required: c.required,
        allowed_values: c.allowed_values,
        default_value: c.default_value,
        description: c.description,
    }
}
