//! Compiling the component once: precompiled artifacts cached on disk, keyed by the
//! component's SHA-256 and the engine's compatibility hash, checksummed before use.

use std::hash::Hasher;
use std::path::Path;

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::to_anyhow;

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

/// Compiles the component, or loads it from the cache. An artifact built by another wasmtime
/// or with other settings has another key and is never opened; one whose own checksum does
/// not match is recompiled.
pub fn load_component(
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
