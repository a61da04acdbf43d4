//! Compiling the component once: precompiled artifacts cached on disk, keyed by the
//! component's SHA-256 and the engine's compatibility hash, checked before use, and mapped
//! into memory rather than read and copied.
//!
//! Each artifact `KEY.cwasm` has a record `KEY.sha256`: the artifact's SHA-256 and, on a
//! second line, the identity of the file as written (device, inode, length, modification and
//! status-change times). A start whose artifact still has that identity, and whose last change
//! is older than [`SETTLED`], maps it at once; any other (the file was rewritten, replaced,
//! copied, touched, changed too recently for its timestamps to tell, or the record is from an
//! older host) first checks the whole artifact against the SHA-256, then records the identity
//! it found. User space cannot set the status-change time, so a file changed in place is always
//! checked in full. What is no longer caught is what only a checksum on every start catches:
//! bits rotting on disk under an unchanged file. Checking 1.8 MB on every start cost more than
//! everything else a start does (see the README's Performance section). The artifact is native
//! code: whoever can write this folder can run code as the host, record or not; the record
//! guards against accidents, not against them.

use std::hash::Hasher;
use std::path::Path;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::error::to_anyhow;

/// How old an artifact's last change must be before its identity alone is trusted: file
/// timestamps advance in ticks of a few milliseconds, so a file changed twice within one tick
/// could show the same times both times.
pub const SETTLED: Duration = Duration::from_secs(2);

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
    /// Compiled in memory: the cache directory could not be written (missing and not
    /// creatable, read-only, full). The cache only saves time, so this is no failure.
    Unwritable,
}

/// Compiles the component, or loads it from the cache. An artifact built by another wasmtime
/// or with other settings has another key and is never opened; one whose checksum does not
/// match is recompiled.
pub fn load_component(
    engine: &Engine,
    bytes: &[u8],
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, CacheOutcome)> {
    load(engine, bytes, &hex::encode(Sha256::digest(bytes)), cache_dir)
}

/// [`load_component`] for a component whose SHA-256 (hex) the caller has already computed.
pub(crate) fn load(
    engine: &Engine,
    bytes: &[u8],
    component_sha256: &str,
    cache_dir: Option<&Path>,
) -> anyhow::Result<(Component, CacheOutcome)> {
    let compile = || Component::new(engine, bytes).map_err(to_anyhow).context("compiling the component");
    let Some(dir) = cache_dir else { return Ok((compile()?, CacheOutcome::Disabled)) };
    let key = key_for(engine, component_sha256);
    let artifact = dir.join(format!("{key}.cwasm"));
    let record_path = dir.join(format!("{key}.sha256"));
    let mut outcome = CacheOutcome::Miss;
    if let (Ok(record), Ok(meta)) = (std::fs::read_to_string(&record_path), std::fs::metadata(&artifact)) {
        let (sum, written) = record.split_once('\n').unwrap_or((record.as_str(), ""));
        let found = identity(&meta);
        let trusted = found.as_deref().is_some_and(|f| f == written.trim()) && settled(&meta);
        let intact = trusted
            || std::fs::read(&artifact).is_ok_and(|data| hex::encode(Sha256::digest(&data)) == sum.trim());
        if intact {
            // SAFETY: the artifact was written by this host for this engine configuration (its
            // key says so), and it is the file as written or matches the checksum written with it.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &artifact) } {
                if !trusted && let Some(found) = found.filter(|f| f != written.trim()) {
                    // Checked in full: the next start need not (a failed write only costs that).
                    let record = format!("{}\n{found}\n", sum.trim());
                    let _ = evidence_proof::output::write_atomic(&record_path, record.as_bytes());
                }
                return Ok((component, CacheOutcome::Hit));
            }
        }
        outcome = CacheOutcome::Stale;
    } else if artifact.exists() {
        outcome = CacheOutcome::Stale;
    }
    let component = compile()?;
    let stored = (|| -> anyhow::Result<()> {
        let data = component.serialize().map_err(to_anyhow)?;
        std::fs::create_dir_all(dir).with_context(|| format!("creating cache dir {}", dir.display()))?;
        evidence_proof::output::write_atomic(&artifact, &data)?;
        let found = std::fs::metadata(&artifact).ok().and_then(|m| identity(&m)).unwrap_or_default();
        let record = format!("{}\n{found}\n", hex::encode(Sha256::digest(&data)));
        evidence_proof::output::write_atomic(&record_path, record.as_bytes())
    })();
    match stored {
        Ok(()) => Ok((component, outcome)),
        // No record without its artifact: the next start compiles again.
        Err(_) => {
            let _ = std::fs::remove_file(&record_path);
            Ok((component, CacheOutcome::Unwritable))
        }
    }
}

/// The identity of a file as written: anything that rewrites, replaces or touches it changes
/// it. `None` where there is no status-change time to rely on: the artifact is then always
/// checked in full.
fn identity(meta: &std::fs::Metadata) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some(format!(
            "{}:{}:{}:{}.{}:{}.{}",
            meta.dev(),
            meta.ino(),
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec()
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Whether the file's last change (content or metadata) is older than [`SETTLED`].
fn settled(meta: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let changed = SystemTime::UNIX_EPOCH
            + Duration::from_secs(meta.ctime().max(0) as u64)
            + Duration::from_nanos(meta.ctime_nsec().max(0) as u64);
        SystemTime::now().duration_since(changed).is_ok_and(|age| age >= SETTLED)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        false
    }
}

/// The cache key of a component for an engine.
pub fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    key_for(engine, &hex::encode(Sha256::digest(bytes)))
}

fn key_for(engine: &Engine, component_sha256: &str) -> String {
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
    format!("{}-{}", &component_sha256[..24], &engine_hash[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_file_rewritten_in_place_after_it_settled_is_not_the_file_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("artifact.cwasm");
        std::fs::write(&path, b"compiled code").unwrap();
        assert!(!settled(&std::fs::metadata(&path).unwrap()), "just written: checked in full");
        std::thread::sleep(SETTLED + Duration::from_millis(100));
        let recorded = std::fs::metadata(&path).unwrap();
        assert!(settled(&recorded));
        // Same length, same inode: only the times tell, and user space cannot set ctime back.
        std::fs::write(&path, b"compiled cod3").unwrap();
        let changed = std::fs::metadata(&path).unwrap();
        assert_ne!(identity(&recorded), identity(&changed));
        assert!(!settled(&changed));
    }
}
