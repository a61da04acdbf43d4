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
    /// Write a perf map so `perf` names guest functions (for profiling).
    pub perf_map: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            pooling: true,
            pool_instances: 128,
            pool_max_memory: crate::policy::DEFAULT_MAX_MEMORY,
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
            .max_memory_size(options.pool_max_memory);
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
