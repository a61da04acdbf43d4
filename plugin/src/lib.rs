//! Qualys evidence connector: a WebAssembly component that collects compliance proof from
//! Qualys through WASI HTTP. This file only adapts between the WIT bindings and plain Rust
//! types; the logic lives in the modules below.

pub mod config;
pub mod connect;
pub mod criteria;
pub mod csv;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod model;
pub mod paging;
pub mod proofs;
pub mod qualys_error;
pub mod values;
pub mod xml;

#[allow(clippy::all, missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "evidence:connector/connector-world",
        generate_all,
    });
}

use bindings::evidence::connector::types as wit;
use bindings::exports::evidence::connector::connector::Guest;

use crate::error::Error;
use crate::http::client::Client;
use crate::http::wasi::WasiTransport;
use crate::model::{Access, Kind, Value};

/// Collects one page: validates config, proof type, criteria and cursor, then pages.
pub fn collect_with(
    transport: &dyn http::Transport,
    raw: &config::RawConfig<'_>,
    proof_type: &str,
    criteria: &[(String, String)],
    cursor: Option<&str>,
) -> Result<model::Page, Error> {
    let proof = proofs::find(proof_type)?;
    let criteria = criteria::validate(proof.spec(), criteria)?;
    let settings = config::validate(raw)?;
    let client = client_for(transport, &settings);
    paging::collect_page(proof, &client, &criteria, cursor)
}

/// Checks the account: validates config, then asks Qualys.
pub fn connect_with(
    transport: &dyn http::Transport,
    raw: &config::RawConfig<'_>,
) -> Result<model::Account, Error> {
    let settings = config::validate(raw)?;
    let client = client_for(transport, &settings);
    connect::connect(&client, &settings)
}

fn client_for<'t>(transport: &'t dyn http::Transport, s: &config::Settings) -> Client<'t> {
    Client::new(transport, s.base.clone(), &s.username, &s.password, s.timeouts, s.max_inline_wait)
}

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Component;

/// The service this connector collects from, as people name it.
pub const SERVICE: &str = "Qualys";

impl Guest for Component {
    fn describe() -> wit::About {
        wit::About {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            service: SERVICE.into(),
        }
    }

    fn connect(config: wit::Config) -> Result<wit::Account, wit::ConnectorError> {
        let raw = raw_config(&config);
        connect_with(&WasiTransport, &raw).map(account_to_wit).map_err(error_to_wit)
    }

    fn list_proof_types() -> Vec<wit::ProofType> {
        proofs::REGISTRY.iter().map(|p| spec_to_wit(p.spec())).collect()
    }

    fn collect(
        config: wit::Config,
        proof_type_id: String,
        criteria: Vec<(String, String)>,
        cursor: Option<String>,
    ) -> Result<wit::Page, wit::ConnectorError> {
        let raw = raw_config(&config);
        collect_with(&WasiTransport, &raw, &proof_type_id, &criteria, cursor.as_deref())
            .map(page_to_wit)
            .map_err(error_to_wit)
    }
}

// Exported only in the component: native builds (tests, benches) link the same code without
// the component's export symbols, whose names native linkers reject.
#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);

fn raw_config(c: &wit::Config) -> config::RawConfig<'_> {
    config::RawConfig {
        platform: &c.platform,
        api_url: c.api_url.as_deref(),
        username: &c.username,
        password: &c.password,
        timeouts_ms: c.timeouts.map(|t| (t.connect_ms, t.first_byte_ms, t.between_bytes_ms)),
        max_inline_wait: c.max_inline_wait_seconds,
    }
}

fn kind_to_wit(k: Kind) -> wit::FieldKind {
    match k {
        Kind::Text => wit::FieldKind::Text,
        Kind::Integer => wit::FieldKind::Integer,
        Kind::Boolean => wit::FieldKind::Boolean,
        Kind::Timestamp => wit::FieldKind::Timestamp,
        Kind::TextList => wit::FieldKind::TextList,
    }
}

fn spec_to_wit(s: &model::ProofSpec) -> wit::ProofType {
    wit::ProofType {
        id: s.id.into(),
        title: s.title.into(),
        description: s.description.into(),
        fields: s
            .fields
            .iter()
            .map(|f| wit::Field {
                name: f.name.into(),
                label: f.label.into(),
                kind: kind_to_wit(f.kind),
                description: f.description.into(),
            })
            .collect(),
        criteria: s
            .criteria
            .iter()
            .map(|c| wit::Criterion {
                name: c.name.into(),
                kind: kind_to_wit(c.kind),
                required: c.required,
                allowed_values: c.allowed.iter().map(|a| a.to_string()).collect(),
                default_value: c.default.map(Into::into),
                description: c.description.into(),
            })
            .collect(),
        key: s.key.iter().map(|k| k.iter().map(|f| f.to_string()).collect()).collect(),
    }
}

fn value_to_wit(v: Value) -> wit::Value {
    match v {
        Value::Null => wit::Value::Null,
        Value::Text(s) => wit::Value::Text(s),
        Value::Integer(n) => wit::Value::Integer(n),
        Value::Boolean(b) => wit::Value::Boolean(b),
        Value::Timestamp(t) => wit::Value::Timestamp(t),
        Value::TextList(l) => wit::Value::TextList(l),
    }
}

fn warning_to_wit(w: model::Warning) -> wit::Warning {
    wit::Warning { code: w.code.into(), message: w.message }
}

fn page_to_wit(p: model::Page) -> wit::Page {
    wit::Page {
        rows: p.rows.into_iter().map(|r| r.into_iter().map(value_to_wit).collect()).collect(),
        next_cursor: p.next_cursor,
        warnings: p.warnings.into_iter().map(warning_to_wit).collect(),
        applied_criteria: p.applied_criteria,
    }
}

fn account_to_wit(a: model::Account) -> wit::Account {
    wit::Account {
        login: a.login,
        role: a.role,
        business_unit: a.business_unit,
        platform: a.platform,
        api_url: a.api_url,
        proof_access: a
            .proof_access
            .into_iter()
            .map(|p| wit::ProofAccess {
                proof_type_id: p.proof_type.into(),
                access: match p.access {
                    Access::Full => wit::Access::Full,
                    Access::Partial => wit::Access::Partial,
                    Access::None => wit::Access::None,
                },
                reason: p.reason,
            })
            .collect(),
        warnings: a.warnings.into_iter().map(warning_to_wit).collect(),
    }
}

fn error_to_wit(e: Error) -> wit::ConnectorError {
    use wit::ConnectorError as W;
    match e {
        Error::InvalidConfig(m) => W::InvalidConfig(m),
        Error::InvalidCriteria { criterion, message } => {
            W::InvalidCriteria(wit::CriteriaError { criterion, message })
        }
        Error::Authentication(m) => W::Authentication(m),
        Error::Permission(m) => W::Permission(m),
        Error::RateLimited { retry_after_seconds, resume_cursor, message } => {
            W::RateLimited(wit::RateLimit { retry_after_seconds, resume_cursor, message })
        }
        Error::Upstream { code, http_status, message } => {
            W::Upstream(wit::UpstreamError { code, http_status, message })
        }
        Error::UnknownProofType(m) => W::UnknownProofType(m),
        Error::InvalidCursor(m) => W::InvalidCursor(m),
        Error::Transport(m) | Error::Truncated(m) | Error::TransportFinal(m) => W::Transport(m),
        Error::Denied(m) => W::Denied(m),
        Error::Malformed(m) => W::MalformedResponse(m),
        Error::Internal(m) => W::Internal(m),
    }
}
