//! The loaded connector: one compiled component, instantiated in a fresh, limited store for
//! every call of every tenant.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Linker, Lower, TypedFunc,
};
use wasmtime::{Engine, Store, UpdateDeadline};

use crate::adapter::{Contract, v0_2};
use crate::bindings::ConnectorWorldPre;
use crate::bindings::types::{About, Account, Config as ConnectorConfig, ConnectorError, Page, ProofType};
use crate::engine::{EPOCH_TICK, EngineOptions, Ticker};
use crate::error::{CallError, to_anyhow};
use crate::network::{Connections, Network, NetworkPolicy};
use crate::policy::TenantPolicy;
use crate::sandbox::{CallStats, TenantState};

pub use crate::cache::CacheOutcome;
use evidence_proof::ConnectorInfo;

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where precompiled components are cached; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// The engine built when none is passed in ([`Runtime::with_engine`] ignores it).
    pub engine: EngineOptions,
    /// The operator's network policy for every tenant's calls (default: deny all).
    pub network: NetworkPolicy,
    /// Advance the engine's epoch every [`EPOCH_TICK`] from a thread of the runtime's own.
    /// Turn off only when the embedder already ticks this engine at that rate: CPU budgets
    /// and preemption count those ticks.
    pub tick_epochs: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cache_dir: None,
            engine: EngineOptions::default(),
            network: NetworkPolicy::deny_all(),
            tick_epochs: true,
        }
    }
}

/// Facts about how the component was loaded.
#[derive(Debug, Clone)]
pub struct LoadInfo {
    /// Cache outcome.
    pub cache: CacheOutcome,
    /// Time to compile, or to check and map the precompiled artifact (the component's SHA-256,
    /// which the load info holds whether or not there is a cache, is computed before).
    pub load_time: Duration,
    /// SHA-256 of the component bytes.
    pub component_sha256: String,
    /// Size of the component in bytes.
    pub component_bytes: usize,
    /// The contract version the component exports (an earlier one runs through its adapter).
    pub contract: Contract,
}

/// The loaded connector, ready to run calls for any number of tenants at once.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    pre: InstancePre<TenantState>,
    exports: Exports,
    info: LoadInfo,
    network: Arc<Network>,
    _ticker: Option<Arc<Ticker>>,
}

/// One tenant's call settings: the connector config and the sandbox policy.
#[derive(Clone)]
pub struct Tenant {
    /// The config passed to the connector (platform, URL, credentials, timeouts).
    pub config: ConnectorConfig,
    /// What the sandbox lets this tenant's calls do, within the operator's network policy.
    pub policy: TenantPolicy,
    /// How logs name this tenant (the platform's own id for it; never a credential). Every
    /// `tracing` span of its calls carries it as `tenant`.
    pub name: String,
    /// The connections this tenant's calls keep open and reuse; never shared with another
    /// tenant (give each its own `Connections::default()`).
    pub connections: Connections,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the config: it holds the password.
        f.debug_struct("Tenant")
            .field("name", &self.name)
            .field("platform", &self.config.platform)
            .field("api_url", &self.config.api_url)
            .field("username", &self.config.username)
            .field("policy", &self.policy)
            .field("connections", &self.connections)
            .finish_non_exhaustive()
    }
}

/// Outcome of one call with its counters.
#[derive(Debug)]
pub struct CallReport<T> {
    /// The call's result.
    pub result: Result<T, CallError>,
    /// Requests sent by the component in this call.
    pub requests: u32,
    /// Response bytes received in this call.
    pub bytes_received: u64,
    /// Peak linear memory of the component in this call, in bytes.
    pub peak_memory_bytes: usize,
}

/// The error a CPU budget exhaustion raises inside the store.
#[derive(Debug)]
struct CpuBudgetExceeded;

impl std::fmt::Display for CpuBudgetExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CPU budget exceeded")
    }
}

impl std::error::Error for CpuBudgetExceeded {}

/// The connector interface's functions, found once at load (where the bindings of its contract
/// version also check all their types).
#[derive(Clone)]
struct Exports {
    contract: Contract,
    connect: ComponentExportIndex,
    list_proof_types: ComponentExportIndex,
    collect: ComponentExportIndex,
    /// `None` before 0.3.0.
    describe: Option<ComponentExportIndex>,
}

impl Exports {
    fn find(pre: &InstancePre<TenantState>) -> anyhow::Result<Exports> {
        let component = pre.component();
        let contract = Contract::of(component).with_context(|| {
            let known: Vec<_> = Contract::ALL.iter().map(|c| c.interface()).collect();
            format!(
                "the component exports no connector interface this host runs (one of {})",
                known.join(", ")
            )
        })?;
        match contract {
            Contract::V0_3 => drop(ConnectorWorldPre::new(pre.clone()).map_err(to_anyhow)?),
            Contract::V0_2 => drop(v0_2::ConnectorWorldPre::new(pre.clone()).map_err(to_anyhow)?),
        }
        let interface = component.get_export_index(None, contract.interface()).context("checked above")?;
        let find = |name: &str| {
            component
                .get_export_index(Some(&interface), name)
                .with_context(|| format!("the component's connector interface has no {name}"))
        };
        Ok(Exports {
            contract,
            connect: find("connect")?,
            list_proof_types: find("list-proof-types")?,
            collect: find("collect")?,
            describe: match contract {
                Contract::V0_3 => Some(find("describe")?),
                Contract::V0_2 => None,
            },
        })
    }
}

/// `collect`'s parameters and results, as the canonical ABI lowers and lifts them.
type CollectParams<'a> = (&'a ConnectorConfig, &'a str, &'a [(String, String)], Option<&'a str>);
type CollectResults = (Result<Page, ConnectorError>,);

/// Calls one export of a fresh instance. Only that export's type is checked per call (the
/// bindings' loader checks all three on every instantiation: 8 % of it, measured), and its
/// post-return is not run: the instance is dropped right after the call, so the guest freeing
/// what it returned would be wasted work.
async fn invoke<P, R>(
    instance: &Instance,
    store: &mut Store<TenantState>,
    export: &ComponentExportIndex,
    params: P,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower + Send + Sync,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let func: TypedFunc<P, R> = instance.get_typed_func(&mut *store, export)?;
    func.call_async(&mut *store, params).await
}

impl Runtime {
    /// Loads a component file on an engine of its own.
    pub fn load(path: &Path, options: &RuntimeOptions) -> anyhow::Result<Runtime> {
        let bytes = std::fs::read(path)
            .with_context(|| format!("cannot read the connector component {}", path.display()))?;
        Runtime::from_bytes(&bytes, options)
    }

    /// Loads a component from its bytes on an engine of its own.
    pub fn from_bytes(bytes: &[u8], options: &RuntimeOptions) -> anyhow::Result<Runtime> {
        let engine = crate::engine::new_engine(&options.engine)?;
        Runtime::with_engine(&engine, bytes, options)
    }

    /// Loads a component on the embedder's engine, which must have been configured with
    /// [`crate::engine::configure`] (component model, epoch interruption).
    pub fn with_engine(engine: &Engine, bytes: &[u8], options: &RuntimeOptions) -> anyhow::Result<Runtime> {
        let network = Network::new(options.network.clone())?;
        // The component's identity: in the load info, and the key of its cached artifact.
        let component_sha256 = hex::encode(Sha256::digest(bytes));
        let started = Instant::now();
        let (component, cache) =
            crate::cache::load(engine, bytes, &component_sha256, options.cache_dir.as_deref())?;
        let load_time = started.elapsed();
        let mut linker: Linker<TenantState> = Linker::new(engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(to_anyhow)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(to_anyhow)?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(to_anyhow)
            .context("the component does not fit the connector world this host provides")?;
        let exports = Exports::find(&instance_pre)?;
        let info = LoadInfo {
            cache,
            load_time,
            component_sha256,
            component_bytes: bytes.len(),
            contract: exports.contract,
        };
        let ticker = options.tick_epochs.then(|| Arc::new(Ticker::start(engine.clone())));
        Ok(Runtime {
            engine: engine.clone(),
            pre: instance_pre,
            exports,
            info,
            network: Arc::new(network),
            _ticker: ticker,
        })
    }

    /// How the component was loaded.
    pub fn info(&self) -> &LoadInfo {
        &self.info
    }

    /// The component as a proof's provenance names it: its name, version and service as it
    /// describes itself, else (a 0.2.0 component) the name and version its embedder knows it
    /// by; and the SHA-256 of its bytes.
    pub async fn connector_info(&self, name: Option<String>, version: Option<String>) -> ConnectorInfo {
        let component_sha256 = Some(self.info.component_sha256.clone());
        match self.describe().await {
            Ok(Some(about)) => ConnectorInfo {
                name: Some(about.name),
                version: Some(about.version),
                service: Some(about.service),
                component_sha256,
            },
            _ => ConnectorInfo { name, version, service: None, component_sha256 },
        }
    }

    /// The engine, for embedders that compile other components alongside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The operator's network policy every call runs under.
    pub fn network_policy(&self) -> &NetworkPolicy {
        &self.network.policy
    }

    /// The proof types the connector offers. Runs with no network at all.
    pub async fn list_proof_types(&self) -> Result<Vec<ProofType>, CallError> {
        let tenant = Tenant {
            config: empty_config(),
            policy: TenantPolicy::deny_all(),
            name: String::new(),
            connections: Connections::default(),
        };
        let export = &self.exports.list_proof_types;
        match self.exports.contract {
            Contract::V0_3 => {
                self.call("list-proof-types", &tenant, async |i, s| {
                    invoke::<(), (Vec<ProofType>,)>(i, s, export, ()).await.map(|r| Ok(r.0))
                })
                .await
                .result
            }
            Contract::V0_2 => self
                .call("list-proof-types", &tenant, async |i, s| {
                    invoke::<(), (Vec<v0_2::ProofType>,)>(i, s, export, ()).await.map(|r| Ok(r.0))
                })
                .await
                .result
                .map(|types| types.into_iter().map(v0_2::proof_type).collect()),
        }
    }

    /// A proof type's natural key as its connector declares it, for a proof's metadata
    /// ([`evidence_proof::ProofMeta::key`]); `None` for a component of a contract before 0.3.0,
    /// whose proof types cannot declare one (their `key` is empty without meaning "no identity").
    pub fn declared_key(&self, proof: &ProofType) -> Option<Vec<Vec<String>>> {
        (self.exports.contract != Contract::V0_2).then(|| proof.key.clone())
    }

    /// What the connector says of itself: its name, version and the service it collects from;
    /// `None` for a component of a contract before 0.3.0, which cannot say. Runs with no network.
    pub async fn describe(&self) -> Result<Option<About>, CallError> {
        let Some(export) = &self.exports.describe else { return Ok(None) };
        let tenant = Tenant {
            config: empty_config(),
            policy: TenantPolicy::deny_all(),
            name: String::new(),
            connections: Connections::default(),
        };
        self.call("describe", &tenant, async |i, s| {
            invoke::<(), (About,)>(i, s, export, ()).await.map(|r| Ok(r.0))
        })
        .await
        .result
        .map(Some)
    }

    /// Checks a tenant's credentials and what it can collect.
    pub async fn connect(&self, tenant: &Tenant) -> CallReport<Account> {
        let (config, export) = (tenant.config.clone(), &self.exports.connect);
        self.call("connect", tenant, async move |i, s| {
            invoke::<(&ConnectorConfig,), (Result<Account, ConnectorError>,)>(i, s, export, (&config,))
                .await
                .map(|r| r.0)
        })
        .await
    }

    /// Collects one page of a proof for a tenant.
    pub async fn collect_page(
        &self,
        tenant: &Tenant,
        proof_type_id: &str,
        criteria: &[(String, String)],
        cursor: Option<&str>,
    ) -> CallReport<Page> {
        let (config, export) = (tenant.config.clone(), &self.exports.collect);
        let mut report = self
            .call("collect", tenant, async move |i, s| {
                let params = (&config, proof_type_id, criteria, cursor);
                invoke::<CollectParams<'_>, CollectResults>(i, s, export, params).await.map(|r| r.0)
            })
            .await;
        // A warning may quote the server, and a server may echo what it was sent: into a
        // warning, or into a row's text (a scan's output, a log line).
        if let Ok(page) = &mut report.result {
            for w in &mut page.warnings {
                w.message = scrub(&w.message, &tenant.config);
            }
            let masked = scrub_rows(&mut page.rows, &tenant.config);
            if masked > 0 {
                page.warnings.push(crate::bindings::types::Warning {
                    code: "secret-masked".into(),
                    message: format!(
                        "{masked} value(s) held the account's password as the server echoed it; it \
                         was replaced with *** in the proof"
                    ),
                });
            }
        }
        report
    }

    /// Times `n` fresh stores plus instantiations, each with the typed export a page call
    /// looks up, without calling anything (for benchmarks).
    pub async fn time_instantiation(&self, n: u32) -> Result<Duration, CallError> {
        let policy = TenantPolicy::deny_all();
        let started = Instant::now();
        for _ in 0..n {
            let state = TenantState::new(
                &policy,
                self.network.clone(),
                1000,
                Arc::new(CallStats::default()),
                Connections::default(),
            );
            let mut store = Store::new(&self.engine, state);
            store.limiter(|s| &mut s.limits);
            store.set_epoch_deadline(1000);
            let instantiated = async {
                let instance = self.pre.instantiate_async(&mut store).await?;
                instance
                    .get_typed_func::<CollectParams<'_>, CollectResults>(&mut store, &self.exports.collect)
            };
            instantiated.await.map_err(|e| CallError::host("instantiating", e))?;
        }
        Ok(started.elapsed())
    }

    /// Runs one export in a fresh store under the tenant's limits, in a `tracing` span naming
    /// the export and the tenant.
    async fn call<R>(
        &self,
        export: &'static str,
        tenant: &Tenant,
        f: impl AsyncFnOnce(&Instance, &mut Store<TenantState>) -> wasmtime::Result<Result<R, ConnectorError>>,
    ) -> CallReport<R> {
        let policy = &tenant.policy;
        let stats = Arc::new(CallStats::default());
        let ticks = (policy.cpu_budget.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        let state =
            TenantState::new(policy, self.network.clone(), ticks, stats.clone(), tenant.connections.clone());
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(|mut ctx| {
            let state = ctx.data_mut();
            if state.cpu_ticks_left == 0 {
                return Err(wasmtime::Error::new(CpuBudgetExceeded));
            }
            state.cpu_ticks_left -= 1;
            // Yield so other tenants on this thread run, and so the deadline can fire.
            Ok(UpdateDeadline::Yield(1))
        });

        let run = async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            f(&instance, &mut store).await
        };
        let span =
            tracing::info_span!("call", export, tenant = %tenant.name, platform = %tenant.config.platform);
        let started = Instant::now();
        let outcome =
            tracing::Instrument::instrument(tokio::time::timeout(policy.call_deadline, run), span.clone())
                .await;
        let result = match outcome {
            Err(_) => Err(CallError::Deadline(policy.call_deadline)),
            Ok(Ok(Ok(value))) => Ok(value),
            // The component only knows the sandbox said no; the host knows why and what to change.
            Ok(Ok(Err(ConnectorError::Denied(message)))) => {
                let why = stats.refusal.lock().ok().and_then(|r| r.clone());
                Err(CallError::Connector(ConnectorError::Denied(match why {
                    Some(why) => format!("{message}: {why}"),
                    None => message,
                })))
            }
            // A server may echo the credentials it was sent back in its error text.
            Ok(Ok(Err(connector_error))) => {
                Err(CallError::Connector(scrub_error(connector_error, &tenant.config)))
            }
            Ok(Err(trap)) => Err(classify_trap(&trap, &store, tenant)),
        };
        span.in_scope(|| {
            tracing::info!(
                requests = stats.requests.load(Ordering::Relaxed),
                bytes = stats.bytes_received.load(Ordering::Relaxed),
                duration_ms = started.elapsed().as_millis() as u64,
                outcome = match &result {
                    Ok(_) => "ok",
                    Err(CallError::Connector(_)) => "connector error",
                    Err(_) => "host or sandbox error",
                },
                "call finished"
            )
        });
        CallReport {
            result,
            requests: stats.requests.load(Ordering::Relaxed),
            bytes_received: stats.bytes_received.load(Ordering::Relaxed),
            peak_memory_bytes: store.data().limits.peak_memory,
        }
    }
}

fn classify_trap(trap: &wasmtime::Error, store: &Store<TenantState>, tenant: &Tenant) -> CallError {
    if trap.downcast_ref::<CpuBudgetExceeded>().is_some() {
        return CallError::CpuBudget(tenant.policy.cpu_budget);
    }
    if trap.downcast_ref::<crate::sandbox::MemoryLimitExceeded>().is_some() {
        return CallError::Memory(tenant.policy.max_memory_bytes);
    }
    let mut message = trap.to_string();
    let stderr = store.data().stderr_text();
    if !stderr.is_empty() {
        message.push_str(&format!(" (connector said: {stderr})"));
    }
    // The guest's own words may carry the tenant's secrets: scrubbed, and no source kept.
    CallError::Trap(scrub(&message, &tenant.config))
}

/// Removes the tenant's password from a message: raw, percent-encoded (as a form or URL
/// carries it), and inside a Basic token.
pub fn scrub(text: &str, config: &ConnectorConfig) -> String {
    let mut out = text.to_string();
    if !config.password.is_empty() {
        let token = basic_token(&config.username, &config.password);
        for secret in std::iter::once(token).chain(secret_forms(&config.password)) {
            out = out.replace(&secret, "***");
        }
    }
    out
}

/// Replaces the tenant's password, in every form it travels in, in the rows' text; returns how
/// many values held it. A row is data from the server, which may echo a request.
fn scrub_rows(rows: &mut [Vec<crate::bindings::types::Value>], config: &ConnectorConfig) -> usize {
    use crate::bindings::types::Value;
    if config.password.is_empty() {
        return 0;
    }
    let mut secrets: Vec<String> = secret_forms(&config.password).into();
    secrets.push(basic_token(&config.username, &config.password));
    let mut masked = 0;
    let mut mask = |text: &mut String| {
        if secrets.iter().any(|s| text.contains(s.as_str())) {
            for s in &secrets {
                *text = text.replace(s.as_str(), "***");
            }
            masked += 1;
        }
    };
    for row in rows.iter_mut() {
        for value in row.iter_mut() {
            match value {
                Value::Text(t) => mask(t),
                Value::TextList(items) => items.iter_mut().for_each(&mut mask),
                _ => {}
            }
        }
    }
    masked
}

/// The forms a secret travels in, and a server that echoes a request may quote it in: as given,
/// form-encoded (`+` for a space) and URL-encoded (`%20`).
pub fn secret_forms(secret: &str) -> [String; 3] {
    let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
    let url = form.replace('+', "%20");
    [secret.to_string(), form, url]
}

/// The Basic authorization token of a login, which carries its password.
pub fn basic_token(username: &str, password: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
}

/// A connector error with the tenant's password scrubbed from every text it carries.
fn scrub_error(e: ConnectorError, config: &ConnectorConfig) -> ConnectorError {
    let s = |m: String| scrub(&m, config);
    match e {
        ConnectorError::InvalidConfig(m) => ConnectorError::InvalidConfig(s(m)),
        ConnectorError::InvalidCriteria(mut c) => {
            c.message = s(c.message);
            c.criterion = s(c.criterion);
            ConnectorError::InvalidCriteria(c)
        }
        ConnectorError::UnknownProofType(m) => ConnectorError::UnknownProofType(s(m)),
        ConnectorError::InvalidCursor(m) => ConnectorError::InvalidCursor(s(m)),
        ConnectorError::Authentication(m) => ConnectorError::Authentication(s(m)),
        ConnectorError::Permission(m) => ConnectorError::Permission(s(m)),
        ConnectorError::RateLimited(mut r) => {
            r.message = s(r.message);
            ConnectorError::RateLimited(r)
        }
        ConnectorError::Upstream(mut u) => {
            u.message = s(u.message);
            u.code = u.code.map(s);
            ConnectorError::Upstream(u)
        }
        ConnectorError::Transport(m) => ConnectorError::Transport(s(m)),
        ConnectorError::Denied(m) => ConnectorError::Denied(s(m)),
        ConnectorError::MalformedResponse(m) => ConnectorError::MalformedResponse(s(m)),
        ConnectorError::Internal(m) => ConnectorError::Internal(s(m)),
    }
}

fn empty_config() -> ConnectorConfig {
    ConnectorConfig {
        platform: String::new(),
        api_url: None,
        username: String::new(),
        password: String::new(),
        timeouts: None,
        max_inline_wait_seconds: None,
    }
}
