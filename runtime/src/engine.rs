//! The wasmtime engine the connector runs on: component model, epoch interruption (CPU
//! accounting and preemption), optimising Cranelift, and the pooling allocator.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the engine's epoch advances; the unit of CPU accounting and of preemption.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How an engine of the runtime's own is built.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Use the pooling instance allocator (faster instantiation; reserves address space).
    pub pooling: bool,
    /// Instances the pool holds at once (the most concurrent calls), when pooling.
    pub pool_instances: u32,
    /// Largest linear memory any tenant may be given, when pooling.
    pub pool_max_memory: usize,
    /// Bytes of each pool slot's linear memory kept resident between instances and reset in
    /// place (only the pages written, found with `PAGEMAP_SCAN` on Linux 6.7 and later)
    /// instead of released: no page faults on the next instantiation, at the cost of up to
    /// this much resident memory per warm slot. 0 releases everything after each call.
    pub pool_keep_resident: usize,
    /// Write a perf map so `perf` names guest functions (for profiling).
    pub perf_map: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            pooling: true,
            pool_instances: 128,
            pool_max_memory: crate::policy::DEFAULT_MAX_MEMORY,
            // A call's guest dirties about 2.3 MiB (one page of 1,000 rows).
            pool_keep_resident: 4 << 20,
            perf_map: false,
        }
    }
}

/// Applies the settings a [`crate::Runtime`] needs to an embedder's own engine config:
/// the component model and epoch interruption (without it, CPU budgets are not enforced).
pub fn configure(config: &mut Config) {
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
}

/// Builds an engine: [`configure`]d, pooling when asked (falling back to on-demand
/// allocation where the pool's address space cannot be reserved).
pub fn new_engine(options: &EngineOptions) -> anyhow::Result<Engine> {
    let base = || {
        let mut config = Config::new();
        configure(&mut config);
        if options.perf_map {
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        config
    };
    if options.pooling {
        let mut config = base();
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(options.pool_instances)
            .total_core_instances(options.pool_instances * 4)
            .total_memories(options.pool_instances * 4)
            .total_tables(options.pool_instances * 4)
            .total_stacks(options.pool_instances)
            .max_memory_size(options.pool_max_memory)
            // Reset in place rather than madvise + fault back in: instantiation 38 -> 17-25 µs
            // measured. Wasmtime restores the memory's initial image either way, so nothing of
            // one tenant's call is visible to the next.
            .linear_memory_keep_resident(options.pool_keep_resident)
            .table_keep_resident(options.pool_keep_resident.min(64 << 10))
            .pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        if let Ok(engine) = Engine::new(&config) {
            return Ok(engine);
        }
    }
    Engine::new(&base()).map_err(crate::error::to_anyhow)
}

/// Advances an engine's epoch every [`EPOCH_TICK`] until dropped.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Ticker {
    pub(crate) fn start(engine: Engine) -> Ticker {
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
