//! The connector component this binary was built with (embedded, so the binary works alone
//! anywhere), or another one given with --plugin; compiled once and cached.

use std::path::PathBuf;

use connector_runtime::{CacheOutcome, NetworkPolicy, Runtime, RuntimeOptions};
use evidence_proof::ConnectorInfo;

use super::{Ui, exit};

/// The component built from this workspace's `plugin/` when the binary was built.
static EMBEDDED: &[u8] = include_bytes!(env!("CONNECTOR_COMPONENT"));

/// Where the component comes from and where its compiled form is cached.
#[derive(Debug, Clone)]
pub struct Loader {
    pub plugin: Option<PathBuf>,
    pub cache_dir: Option<PathBuf>,
}

impl Loader {
    /// Loads the component under the operator's network policy; on failure, reports it and
    /// returns the exit code.
    pub fn load(&self, ui: &Ui, network: NetworkPolicy) -> Result<Runtime, u8> {
        let cache_dir =
            self.cache_dir.clone().or_else(|| dirs::cache_dir().map(|d| d.join("qualys-evidence-connector")));
        let mut options = RuntimeOptions { cache_dir, network, ..RuntimeOptions::default() };
        options.engine.perf_map = std::env::var_os("CONNECTOR_HOST_PERFMAP").is_some();
        let loaded = match &self.plugin {
            Some(path) => Runtime::load(path, &options),
            None => Runtime::from_bytes(EMBEDDED, &options),
        };
        let runtime = loaded.map_err(|e| {
            ui.error(format!("{e:#}"));
            exit::HOST
        })?;
        if runtime.info().cache == CacheOutcome::Unwritable {
            ui.info(format!(
                "warning: the compile cache {} cannot be written; running uncached (each start compiles \
                 the connector again: give a writable --cache-dir to save that time)",
                options.cache_dir.as_deref().map(|d| d.display().to_string()).unwrap_or_default()
            ));
        }
        Ok(runtime)
    }

    /// The connector for a proof's provenance: as it describes itself (a 0.3.0 component);
    /// else its name and version from the component's own metadata when it has some (release
    /// artifacts do), else, for the embedded component, the package it was built from; else
    /// the file's name. The SHA-256 is the runtime's.
    pub async fn connector_info(&self, runtime: &Runtime) -> ConnectorInfo {
        let (name, version) = match &self.plugin {
            Some(path) => {
                let own = std::fs::read(path).ok().map(|b| metadata(&b)).unwrap_or_default();
                let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned());
                (own.0.or(stem), own.1)
            }
            None => {
                let own = metadata(EMBEDDED);
                (
                    own.0.or_else(|| Some("qualys-connector".into())),
                    own.1.or_else(|| Some(env!("CARGO_PKG_VERSION").into())),
                )
            }
        };
        runtime.connector_info(name, version).await
    }
}

/// The name and version in a component's metadata sections, when present.
fn metadata(component: &[u8]) -> (Option<String>, Option<String>) {
    match wasm_metadata::Payload::from_binary(component) {
        Ok(payload) => {
            let m = payload.metadata();
            (m.name.clone(), m.version.as_ref().map(ToString::to_string))
        }
        Err(_) => (None, None),
    }
}
