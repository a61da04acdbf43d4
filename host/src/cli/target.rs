//! Which Qualys, as whom, and through which network: the flags shared by `connect` and
//! `collect`, turned into a tenant and the operator's network policy.

use std::path::PathBuf;

use clap::Args;
use connector_runtime::types::Config;
use connector_runtime::{Connections, NetworkPolicy, Origin, Runtime, Tenant, TenantPolicy};
use qualys_platforms::ApiBase;

use super::component::Loader;
use super::{Ui, credentials, exit, network};

/// Which Qualys, and as whom.
#[derive(Args, Debug, Clone)]
pub struct Target {
    /// Qualys platform: AE1, AU1, CA1, EU1, EU2, EU3, IN1, KSA1, UK1, US1, US2, US3, US4.
    #[arg(long, default_value = "US1")]
    pub platform: String,
    /// Custom API URL (private cloud platform, simulator); overrides the platform's URL and
    /// adds its host to the allowed API hosts.
    #[arg(long, value_name = "URL")]
    pub api_url: Option<String>,
    /// A file with the credentials (TOML or KEY=VALUE), readable only by you.
    #[arg(long, value_name = "FILE")]
    pub credentials_file: Option<PathBuf>,
    /// Longest Qualys rate-limit wait the connector rides out inside one call; longer waits
    /// come back to the CLI, which waits and resumes.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub max_inline_wait: u32,
    /// Largest response the connector may receive in one call, in MiB. Users come in one
    /// unpaged response (about 1.4 KB a user), so subscriptions past some 45,000 users need more.
    #[arg(long, value_name = "MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub max_response_mib: u64,
    #[command(flatten)]
    pub network: network::NetworkArgs,
}

impl Target {
    /// The API server the connector will call, as it will route it.
    pub fn api_base(&self) -> Result<ApiBase, String> {
        api_base(&self.platform, self.api_url.as_deref())
    }

    /// The tenant (credentials from the environment or the file) for this target.
    pub fn tenant(&self, ui: &Ui) -> Result<Tenant, u8> {
        let creds = credentials::load(self.credentials_file.as_deref()).map_err(|e| {
            ui.error(format!("{e:#}"));
            exit::CONFIG
        })?;
        ui.keep_credentials(&creds.username, &creds.password);
        let mut t = tenant_for(&self.platform, self.api_url.as_deref(), creds.username, creds.password, ui)?;
        t.config.max_inline_wait_seconds = Some(self.max_inline_wait);
        t.policy.max_response_bytes = self.max_response_mib << 20;
        Ok(t)
    }

    /// The tenant, and the component loaded under this run's network policy: what `connect`
    /// and `collect` start from (the exit code is returned once the error is shown).
    pub fn open(&self, ui: &Ui, loader: &Loader) -> Result<(Tenant, Runtime), u8> {
        let tenant = self.tenant(ui)?;
        let runtime = loader.load(ui, self.network_policy(ui)?)?;
        Ok((tenant, runtime))
    }

    /// The operator's network policy for this run.
    pub fn network_policy(&self, ui: &Ui) -> Result<NetworkPolicy, u8> {
        let base = self.api_base().map_err(|e| {
            ui.error(e);
            exit::CONFIG
        })?;
        if let Some(secret) = self.network.proxy_url().as_deref().and_then(network::proxy_secret) {
            ui.keep_secret(secret);
        }
        self.network.policy(self.api_url.as_ref().map(|_| base.host.as_str())).map_err(|e| {
            ui.error(format!("{e:#}"));
            exit::CONFIG
        })
    }
}

/// The API base URL for a platform code or a custom URL (the custom URL wins).
pub fn api_base(platform: &str, api_url: Option<&str>) -> Result<ApiBase, String> {
    match api_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => ApiBase::parse(url).map_err(|e| e.0),
        None => {
            let p = qualys_platforms::find(platform).ok_or_else(|| {
                format!(
                    "unknown platform '{platform}'; use one of {}, or --api-url",
                    qualys_platforms::codes()
                )
            })?;
            ApiBase::parse(p.api_url).map_err(|e| e.0)
        }
    }
}

/// A tenant of `platform` (or `api_url`) with these credentials; it may reach its own API
/// server only.
pub fn tenant_for(
    platform: &str,
    api_url: Option<&str>,
    username: String,
    password: String,
    ui: &Ui,
) -> Result<Tenant, u8> {
    let origin = api_base(platform, api_url).and_then(|b| Origin::parse(&b.url()).map_err(|e| e.0));
    let origin = origin.map_err(|e| {
        ui.error(e);
        exit::CONFIG
    })?;
    let config = Config {
        platform: platform.to_string(),
        api_url: api_url.map(str::to_string),
        username,
        password,
        timeouts: None,
        max_inline_wait_seconds: None,
    };
    Ok(Tenant {
        // Logs name the tenant by its login (never the password); --verbose shows them.
        name: config.username.clone(),
        config,
        policy: TenantPolicy::for_origin(origin),
        connections: Connections::default(),
    })
}
