//! One engine per process, the component compiled once (and cached on disk), and a fresh,
//! limited store for every call.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline};

use crate::bindings::types::{Account, Config as ConnectorConfig, ConnectorError, Page, ProofType};
use crate::bindings::{ConnectorWorld, ConnectorWorldPre};
use crate::error::CallError;
use crate::policy::TenantPolicy;
use crate::sandbox::{CallStats, RequestObserver, TenantState};

/// How often the engine's epoch advances; the unit of CPU accounting and of preemption.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How the runtime is set up.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Where precompiled components are cached; `None` compiles on every start.
    pub cache_dir: Option<PathBuf>,
    /// Use the pooling instance allocator (faster instantiation; reserves address space).
    pub pooling: bool,
    /// Instances the pool holds at once (the most concurrent calls), when pooling.
    pub pool_instances: u32,
    /// Largest linear memory any tenant may be given, when pooling.
    pub pool_max_memory: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            cache_dir: None,
            pooling: true,
            pool_instances: 128,
            pool_max_memory: crate::policy::DEFAULT_MAX_MEMORY,
        }
    }
}

/// What happened with the precompiled-component cache at load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// No cache directory: compiled in memory.
    Disabled,
    /// Compiled, then stored in the cache.
    Miss,
    /// Loaded the precompiled artifact.
    Hit,
    /// An artifact was there but failed its checks; recompiled and replaced it.
    Stale,
}

/// Facts about how the component was loaded.
#[derive(Debug, Clone)]
pub struct LoadInfo {
    /// Cache outcome.
    pub cache: CacheOutcome,
    /// Time to compile or to load the precompiled artifact.
    pub load_time: Duration,
    /// SHA-256 of the component bytes.
    pub component_sha256: String,
    /// Size of the component in bytes.
    pub component_bytes: usize,
}

/// The loaded connector, ready to run calls for any number of tenants at once.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    pre: ConnectorWorldPre<TenantState>,
    info: LoadInfo,
    _ticker: Arc<Ticker>,
}

/// One tenant's call settings: the connector config and the sandbox policy.
#[derive(Clone)]
pub struct Tenant {
    /// The config passed to the connector (platform, URL, credentials, timeouts).
    pub config: ConnectorConfig,
    /// What the sandbox lets this tenant's calls do.
    pub policy: TenantPolicy,
    /// Receives each request event (never credentials); `None` for none.
    pub observer: Option<RequestObserver>,
}

impl std::fmt::Debug for Tenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the config: it holds the password.
        f.debug_struct("Tenant")
            .field("platform", &self.config.platform)
            .field("api_url", &self.config.api_url)
            .field("username", &self.config.username)
            .field("policy", &self.policy)
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

impl Runtime {
    /// Loads a component file; fails with how to build it when the file is missing.
    pub fn load(path: &Path, options: &RuntimeOptions) -> anyhow::Result<Runtime> {
        let bytes = std::fs::read(path).with_context(|| {
            format!(
                "cannot read the connector component {}; build it with \
                 `cargo build -p qualys-connector --target wasm32-wasip2 --release` \
                 (after `rustup target add wasm32-wasip2`), or pass --plugin PATH",
                path.display()
            )
        })?;
        Runtime::from_bytes(&bytes, options)
    }

    /// Loads a component from bytes.
    pub fn from_bytes(bytes: &[u8], options: &RuntimeOptions) -> anyhow::Result<Runtime> {
        let engine = make_engine(options)?;
        let started = Instant::now();
        let (component, cache) = load_component(&engine, bytes, options.cache_dir.as_deref())?;
        let load_time = started.elapsed();
        let mut linker: Linker<TenantState> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(to_anyhow)?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker).map_err(to_anyhow)?;
        let instance_pre = linker.instantiate_pre(&component).map_err(to_anyhow)?;
        let pre = ConnectorWorldPre::new(instance_pre).map_err(to_anyhow)?;
        let info = LoadInfo {
            cache,
            load_time,
            component_sha256: hex::encode(Sha256::digest(bytes)),
            component_bytes: bytes.len(),
        };
        let ticker = Ticker::start(engine.clone());
        Ok(Runtime { engine, pre, info, _ticker: Arc::new(ticker) })
    }

    /// How the component was loaded.
    pub fn info(&self) -> &LoadInfo {
        &self.info
    }

    /// The engine, for embedders that compile other components alongside.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The proof types the connector offers. Runs with no network at all.
    pub async fn list_proof_types(&self) -> Result<Vec<ProofType>, CallError> {
        let policy = TenantPolicy {
            allowed_origins: Vec::new(),
            ..TenantPolicy::for_api(
                &qualys_platforms::ApiBase::parse("https://invalid.invalid").expect("valid"),
            )
        };
        let tenant = Tenant { config: empty_config(), policy, observer: None };
        self.call(&tenant, async |w, s| {
            w.evidence_connector_connector().call_list_proof_types(s).await.map(Ok)
        })
        .await
        .result
    }

    /// Checks a tenant's credentials and what it can collect.
    pub async fn connect(&self, tenant: &Tenant) -> CallReport<Account> {
        let config = tenant.config.clone();
        self.call(tenant, async move |w, s| w.evidence_connector_connector().call_connect(s, &config).await)
            .await
    }

    /// Collects one page of a proof for a tenant.
    pub async fn collect_page(
        &self,
        tenant: &Tenant,
        proof_type: &str,
        criteria: &[(String, String)],
        cursor: Option<&str>,
    ) -> CallReport<Page> {
        let config = tenant.config.clone();
        self.call(tenant, async move |w, s| {
            w.evidence_connector_connector().call_collect(s, &config, proof_type, criteria, cursor).await
        })
        .await
    }

    /// Times `n` fresh stores plus instantiations, without calling anything (for benchmarks).
    pub async fn time_instantiation(&self, n: u32) -> Result<Duration, CallError> {
        let policy = TenantPolicy::for_api(
            &qualys_platforms::ApiBase::parse("https://invalid.invalid").expect("valid"),
        );
        let started = Instant::now();
        for _ in 0..n {
            let state = TenantState::new(&policy, 1000, Arc::new(CallStats::default()), None);
            let mut store = Store::new(&self.engine, state);
            store.limiter(|s| &mut s.limits);
            store.set_epoch_deadline(1000);
            self.pre.instantiate_async(&mut store).await.map_err(|e| CallError::Host(format!("{e:?}")))?;
        }
        Ok(started.elapsed())
    }

    /// Runs one export in a fresh store under the tenant's limits.
    async fn call<R>(
        &self,
        tenant: &Tenant,
        f: impl AsyncFnOnce(
            &ConnectorWorld,
            &mut Store<TenantState>,
        ) -> wasmtime::Result<Result<R, ConnectorError>>,
    ) -> CallReport<R> {
        let policy = &tenant.policy;
        let stats = Arc::new(CallStats::default());
        let ticks = (policy.cpu_budget.as_millis() / EPOCH_TICK.as_millis()).max(1) as u64;
        let state = TenantState::new(policy, ticks, stats.clone(), tenant.observer.clone());
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
            let world = self.pre.instantiate_async(&mut store).await?;
            f(&world, &mut store).await
        };
        let outcome = tokio::time::timeout(policy.call_deadline, run).await;
        let result = match outcome {
            Err(_) => Err(CallError::Deadline(policy.call_deadline)),
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(connector_error))) => Err(CallError::Connector(connector_error)),
            Ok(Err(trap)) => Err(classify_trap(&trap, &store, tenant)),
        };
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
    CallError::Trap(scrub(&message, &tenant.config))
}

/// Removes the tenant's password (raw and inside a Basic token) from a message.
pub fn scrub(text: &str, config: &ConnectorConfig) -> String {
    use base64::Engine as _;
    let mut out = text.to_string();
    if !config.password.is_empty() {
        let token = base64::engine::general_purpose::STANDARD
            .encode(format!("{}:{}", config.username, config.password));
        out = out.replace(&token, "***").replace(&config.password, "***");
    }
    out
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

fn to_anyhow(e: wasmtime::Error) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// The engine: async, epoch interruption for CPU accounting, optimising Cranelift, and the
/// pooling allocator when asked (falls back to on-demand when the pool cannot be reserved).
fn make_engine(options: &RuntimeOptions) -> anyhow::Result<Engine> {
    let mut config = base_config();
    if options.pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(options.pool_instances)
            .total_core_instances(options.pool_instances * 4)
            .total_memories(options.pool_instances * 4)
            .total_tables(options.pool_instances * 4)
            .total_stacks(options.pool_instances)
            .max_memory_size(options.pool_max_memory);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if let Ok(engine) = Engine::new(&config) {
            return Ok(engine);
        }
        config = base_config();
    }
    Engine::new(&config).map_err(to_anyhow)
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    if std::env::var_os("CONNECTOR_HOST_PERFMAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Compiles the component, or loads it from the cache. The cache key is the component's
/// SHA-256 plus the engine's compatibility hash, so an artifact built by another wasmtime or
/// with other settings is never even opened; an artifact whose own checksum does not match is
/// recompiled.
fn load_component(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, CacheOutcome)> {
    let compile = || Component::new(engine, bytes).map_err(to_anyhow).context("compiling the component");
    let Some(dir) = cache_dir else { return Ok((compile()?, CacheOutcome::Disabled)) };
    let key = cache_key(engine, bytes);
    let artifact = dir.join(format!("{key}.cwasm"));
    let checksum = dir.join(format!("{key}.sha256"));
    let mut outcome = CacheOutcome::Miss;
    if let (Ok(data), Ok(sum)) = (std::fs::read(&artifact), std::fs::read_to_string(&checksum)) {
        if hex::encode(Sha256::digest(&data)) == sum.trim() {
            // SAFETY: the artifact was written by this host for this engine configuration (its
            // key says so) and its checksum matches what was written.
            if let Ok(component) = unsafe { Component::deserialize(engine, &data) } {
                return Ok((component, CacheOutcome::Hit));
            }
        }
        outcome = CacheOutcome::Stale;
    } else if artifact.exists() {
        outcome = CacheOutcome::Stale;
    }
    let component = compile()?;
    let data = component.serialize().map_err(to_anyhow)?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating cache dir {}", dir.display()))?;
    crate::output::write_atomic(&artifact, &data)?;
    crate::output::write_atomic(&checksum, hex::encode(Sha256::digest(&data)).as_bytes())?;
    Ok((component, outcome))
}

/// The cache key of a component for an engine.
pub fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    struct ShaHasher(Sha256);
    impl Hasher for ShaHasher {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut h = ShaHasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut h);
    let engine_hash = hex::encode(h.0.finalize());
    let component_hash = hex::encode(Sha256::digest(bytes));
    format!("{}-{}", &component_hash[..24], &engine_hash[..16])
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    fn start(engine: Engine) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .expect("spawning the epoch thread");
        Ticker { stop }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
