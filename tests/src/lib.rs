//! The end-to-end harness: the real component in the real host, against the simulator on
//! loopback. Each test starts its own simulator; the compiled component is shared.

pub mod latency;
pub mod proxy;

use std::sync::OnceLock;

use connector_runtime::evidence_proof::{Format, ProofMeta, ProofWriter};
use connector_runtime::types::{Config, ConnectorError, Page, ProofType};
use connector_runtime::{
    AddressClass, CallError, CollectOptions, Connections, NetworkPolicy, Origin, Runtime, RuntimeOptions,
    Tenant, TenantPolicy, fields_of,
};
use qualys_simulator::{SimConfig, Simulator};
use serde_json::Value as Json;

/// Password of every simulated account in the tests (searched for in outputs).
pub const PASSWORD: &str = "s3cr3t-Pa55word!";

/// The connector component, built by this crate's build script from `plugin/`.
pub const COMPONENT: &str = env!("CONNECTOR_COMPONENT");

/// The operator policy of the tests: the simulator's loopback host, and nothing else.
pub fn loopback_policy() -> NetworkPolicy {
    NetworkPolicy::deny_all()
        .allow_host("127.0.0.1")
        .expect("valid host")
        .allow_address_class(AddressClass::Loopback)
}

/// Runtime options with the tests' compiled-component cache and `network` as operator policy.
pub fn options(network: NetworkPolicy) -> RuntimeOptions {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/connector-cache");
    RuntimeOptions { cache_dir: Some(dir), network, ..RuntimeOptions::default() }
}

/// The connector component under `network`, compiled (or loaded from the cache) now.
pub fn runtime_with(network: NetworkPolicy) -> Runtime {
    Runtime::load(std::path::Path::new(COMPONENT), &options(network)).expect("the connector component loads")
}

/// The connector component under the loopback policy, compiled once per test binary.
pub fn runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| runtime_with(loopback_policy()))
}

/// The hostile test guest, compiled once per test binary.
pub fn hostile() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        let options = RuntimeOptions { network: loopback_policy(), ..RuntimeOptions::default() };
        Runtime::load(std::path::Path::new(env!("HOSTILE_GUEST")), &options).expect("the hostile guest loads")
    })
}

/// A simulator whose accounts all use [`PASSWORD`].
pub async fn simulator(mut config: SimConfig) -> Simulator {
    for a in &mut config.accounts {
        a.password = PASSWORD.to_string();
    }
    Simulator::start(config).await.expect("simulator starts")
}

/// A tenant of the simulator logging in as `login`, with the default policy.
pub fn tenant(sim: &Simulator, login: &str) -> Tenant {
    let url = sim.url();
    Tenant {
        config: Config {
            platform: "US1".into(),
            api_url: Some(url.clone()),
            username: login.into(),
            password: PASSWORD.into(),
            timeouts: None,
            max_inline_wait_seconds: None,
        },
        policy: TenantPolicy::for_origin(Origin::parse(&url).expect("valid URL")),
        name: login.into(),
        connections: Connections::default(),
    }
}

/// Criteria from pairs.
pub fn criteria(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A proof type's declaration.
pub async fn proof_type(id: &str) -> ProofType {
    runtime()
        .list_proof_types()
        .await
        .expect("list-proof-types")
        .into_iter()
        .find(|t| t.id == id)
        .unwrap_or_else(|| panic!("no proof type {id}"))
}

/// A collected proof: the rows as JSON objects, the warnings, the page count and the digest.
#[derive(Debug)]
pub struct Collected {
    pub rows: Vec<serde_json::Map<String, Json>>,
    pub warnings: Vec<(String, String)>,
    pub pages: u64,
    pub sha256: String,
    pub next_cursor: Option<String>,
    /// The guest's peak linear memory over the collect.
    pub peak_memory_bytes: usize,
}

/// Collects a whole proof (or `max_pages` of it, from `cursor`) through the host's loop and
/// JSON Lines writer, then reads the rows back.
pub async fn collect_from(
    tenant: &Tenant,
    id: &str,
    criteria: &[(String, String)],
    cursor: Option<String>,
    max_pages: Option<u64>,
) -> Result<Collected, CallError> {
    let proof = proof_type(id).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("proof.jsonl");
    let meta = ProofMeta {
        proof_type: id.into(),
        title: proof.title.clone(),
        collected_at: connector_runtime::now_rfc3339(),
        platform: "US1".into(),
        api_url: tenant.config.api_url.clone().unwrap_or_default(),
        criteria: criteria.to_vec(),
        key: Some(proof.key.clone()),
    };
    let mut writer =
        ProofWriter::create(Some(&path), Format::Jsonl, &meta, &fields_of(&proof)).expect("writer");
    let options = CollectOptions { max_pages, ..CollectOptions::default() };
    let stats = connector_runtime::collect_proof(
        runtime(),
        tenant,
        connector_runtime::CollectRequest { proof: &proof, criteria, cursor },
        &mut writer,
        &options,
        &mut |_| {},
    )
    .await
    .map_err(|e| e.error)?;
    let summary = writer.finish().expect("finish");
    let text = std::fs::read_to_string(&path).expect("read proof");
    let rows = text
        .lines()
        .map(|l| match serde_json::from_str::<Json>(l).expect("row is JSON") {
            Json::Object(m) => m,
            other => panic!("row is not an object: {other}"),
        })
        .collect();
    Ok(Collected {
        rows,
        warnings: summary.warnings,
        pages: stats.pages,
        sha256: summary.sha256,
        next_cursor: stats.next_cursor,
        peak_memory_bytes: stats.peak_memory_bytes,
    })
}

/// Collects a whole proof.
pub async fn collect(
    tenant: &Tenant,
    id: &str,
    criteria: &[(String, String)],
) -> Result<Collected, CallError> {
    collect_from(tenant, id, criteria, None, None).await
}

/// One page, straight from the component.
pub async fn page(
    tenant: &Tenant,
    id: &str,
    criteria: &[(String, String)],
    cursor: Option<&str>,
) -> Result<Page, CallError> {
    runtime().collect_page(tenant, id, criteria, cursor).await.result
}

/// The connector error inside a call error (panics on any other kind, naming it).
pub fn connector_error(e: CallError) -> ConnectorError {
    match e {
        CallError::Connector(c) => c,
        other => panic!("expected a connector error, got {other:?}"),
    }
}

/// A JSON field of a row as text.
pub fn text<'a>(row: &'a serde_json::Map<String, Json>, field: &str) -> Option<&'a str> {
    row.get(field).and_then(Json::as_str)
}

/// Asserts every declared field of the proof type has a non-null value in at least one row.
pub async fn assert_every_field_filled(proof: &Collected, id: &str) {
    let declared = proof_type(id).await;
    for f in &declared.fields {
        assert!(
            proof.rows.iter().any(|r| r.get(&f.name).is_some_and(|v| !v.is_null())),
            "field {} of {id} is never filled",
            f.name
        );
    }
}

/// The integer values of a field across rows.
pub fn ints(proof: &Collected, field: &str) -> Vec<i64> {
    proof.rows.iter().filter_map(|r| r.get(field).and_then(Json::as_i64)).collect()
}

/// The library's `tracing` events as a platform's pipeline would receive them, captured for
/// tests: each event's fields, with the `tenant` of the span it happened in.
pub mod logs {
    use std::sync::{Mutex, OnceLock};

    use tracing::field::{Field, Visit};
    use tracing_subscriber::layer::{Context, SubscriberExt as _};
    use tracing_subscriber::registry::LookupSpan;
    use tracing_subscriber::util::SubscriberInitExt as _;

    /// One captured event.
    #[derive(Debug, Clone)]
    pub struct Event {
        /// The `tenant` of its span (empty outside one).
        pub tenant: String,
        /// Its fields, `message` included, as text.
        pub fields: Vec<(String, String)>,
    }

    impl Event {
        /// A field's text.
        pub fn get(&self, name: &str) -> Option<&str> {
            self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
        }
    }

    static EVENTS: Mutex<Vec<Event>> = Mutex::new(Vec::new());

    struct Fields(Vec<(String, String)>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push((field.name().to_string(), format!("{value:?}")));
        }

        fn record_str(&mut self, field: &Field, value: &str) {
            self.0.push((field.name().to_string(), value.to_string()));
        }
    }

    struct TenantOf(String);

    struct Capture;

    impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            id: &tracing::span::Id,
            ctx: Context<'_, S>,
        ) {
            let mut fields = Fields(Vec::new());
            attrs.record(&mut fields);
            if let (Some((_, tenant)), Some(span)) =
                (fields.0.iter().find(|(k, _)| k == "tenant"), ctx.span(id))
            {
                span.extensions_mut().insert(TenantOf(tenant.clone()));
            }
        }

        fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
            let mut fields = Fields(Vec::new());
            event.record(&mut fields);
            let tenant = ctx
                .event_scope(event)
                .and_then(|scope| {
                    scope.from_root().find_map(|s| s.extensions().get::<TenantOf>().map(|t| t.0.clone()))
                })
                .unwrap_or_default();
            EVENTS.lock().expect("events").push(Event { tenant, fields: fields.0 });
        }
    }

    /// Starts capturing (once for the test binary).
    pub fn capture() {
        static ONCE: OnceLock<()> = OnceLock::new();
        ONCE.get_or_init(|| {
            let _ = tracing_subscriber::registry().with(Capture).try_init();
        });
    }

    /// The events captured for `tenant` so far.
    pub fn of(tenant: &str) -> Vec<Event> {
        EVENTS.lock().expect("events").iter().filter(|e| e.tenant == tenant).cloned().collect()
    }
}
