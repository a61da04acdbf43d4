//! The connector component this binary was built with (embedded, so the binary works alone
//! anywhere), or another one given with --plugin; compiled once and cached.

use std::path::PathBuf;

use connector_runtime::{NetworkPolicy, Runtime, RuntimeOptions};

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
        loaded.map_err(|e| {
            ui.error(format!("{e:#}"));
            exit::HOST
        })
    }
}
