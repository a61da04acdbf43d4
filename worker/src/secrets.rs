//! Where a worker finds a tenant's credentials: never in a workflow's input, history or the
//! database, only here, read when an activity needs them.

use std::path::PathBuf;

use anyhow::Context as _;

/// A user name and password.
pub struct Credentials {
    /// The API user's login.
    pub username: String,
    /// Its password.
    pub password: String,
}

/// The operator's source of tenants' credentials.
pub trait SecretSource: Send + Sync {
    /// The credentials of `tenant`.
    fn credentials(&self, tenant: &str) -> anyhow::Result<Credentials>;
}

/// A folder of the CLI's credentials files, one a tenant: `DIR/TENANT.toml` (or `.env`), each
/// readable only by its owner.
pub struct FolderSecrets {
    /// The folder.
    pub dir: PathBuf,
}

/// Whether a tenant id may name a file: letters, digits, `-`, `_` and `.` (not first), 1 to 128.
pub fn valid_tenant(tenant: &str) -> bool {
    (1..=128).contains(&tenant.len())
        && !tenant.starts_with('.')
        && tenant.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

impl SecretSource for FolderSecrets {
    fn credentials(&self, tenant: &str) -> anyhow::Result<Credentials> {
        anyhow::ensure!(valid_tenant(tenant), "'{tenant}' is not a tenant id (letters, digits, -, _ and .)");
        let path = ["toml", "env"]
            .iter()
            .map(|ext| self.dir.join(format!("{tenant}.{ext}")))
            .find(|p| p.is_file())
            .with_context(|| format!("no credentials for tenant {tenant} in {}", self.dir.display()))?;
        let c = connector_host::cli::credentials::from_file(&path)?;
        Ok(Credentials { username: c.username, password: c.password })
    }
}
