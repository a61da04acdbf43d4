//! The operator's network policy from the command line and the environment. Whoever runs the
//! CLI is the operator: the 13 platforms' API servers are allowed; `--api-url` adds its host;
//! private and loopback addresses need `--allow-private-network`; `--proxy` (or HTTPS_PROXY,
//! with NO_PROXY) tunnels https through an HTTP proxy; `--ca-file` adds trust anchors.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use connector_runtime::NetworkPolicy;

/// Network flags.
#[derive(Args, Debug, Clone, Default)]
pub struct NetworkArgs {
    /// Allow loopback, private, link-local and other non-public addresses (the simulator,
    /// a private cloud platform on an internal network).
    #[arg(long)]
    pub allow_private_network: bool,
    /// HTTP proxy for https requests, http://host:port (default: HTTPS_PROXY; NO_PROXY lists
    /// destinations reached directly).
    #[arg(long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Trust the certificate authorities in this PEM file too (a private platform's own CA).
    #[arg(long = "ca-file", value_name = "PEM")]
    pub ca_files: Vec<PathBuf>,
}

impl NetworkArgs {
    /// The policy: the platforms' API servers, `extra_host` (from --api-url), and the flags.
    /// The proxy this run uses: `--proxy`, else the environment's.
    pub fn proxy_url(&self) -> Option<String> {
        self.proxy.clone().or_else(|| env(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]))
    }

    pub fn policy(&self, extra_host: Option<&str>) -> anyhow::Result<NetworkPolicy> {
        let platforms = qualys_platforms::PLATFORMS.iter().filter_map(|p| p.api_url.strip_prefix("https://"));
        let mut policy = NetworkPolicy::deny_all().allow_hosts(platforms)?;
        if let Some(host) = extra_host {
            policy = policy.allow_host(host)?;
        }
        if self.allow_private_network {
            policy = policy.allow_private_network();
        }
        if let Some(url) = self.proxy_url() {
            policy = policy.proxy(&url, &env(&["NO_PROXY", "no_proxy"]).unwrap_or_default())?;
        }
        for file in &self.ca_files {
            let pem = std::fs::read(file).with_context(|| format!("reading --ca-file {}", file.display()))?;
            policy = policy
                .add_trust_anchors_pem(&pem)
                .with_context(|| format!("--ca-file {}", file.display()))?;
        }
        Ok(policy)
    }
}

/// The first of these environment variables that is set and not empty.
fn env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// The secret part of a proxy URL's user info: the password, or the whole user info when it
/// has none (a token as user name).
pub fn proxy_secret(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find('/').unwrap_or(rest.len())];
    let userinfo = &authority[..authority.rfind('@')?];
    let secret = userinfo.split_once(':').map_or(userinfo, |(_, password)| password);
    (!secret.is_empty()).then_some(secret)
}
