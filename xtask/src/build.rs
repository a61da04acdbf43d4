//! What the release is made from: the workspace, its release component build, the plugin's
//! package fields and the source revision.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

// `build_wasm_guest`: the same nested cargo build the host's and the tests' build scripts run
// (same target dir, same environment clean-up), so a component they built is reused as it is.
use wasm_guest_build::build_wasm_guest;

/// The component's package.
pub const PACKAGE: &str = "qualys-connector";

/// The workspace root (xtask/ is one of its members).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask/ is in the workspace").to_path_buf()
}

/// Builds the release component (`cargo build -p qualys-connector --target wasm32-wasip2
/// --release --target-dir target/plugin`) and returns its path.
pub fn component(root: &Path) -> PathBuf {
    build_wasm_guest(root, PACKAGE);
    root.join("target/plugin/wasm32-wasip2/release/qualys_connector.wasm")
}

/// The fields of the component's package that go into its metadata and the manifest.
#[derive(Debug, Clone)]
pub struct PackageInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub license: Option<String>,
    /// Where the source is published (`repository` in plugin/Cargo.toml, else the git remote
    /// when it is a network URL).
    pub repository: Option<String>,
    /// The git commit built, with `-dirty` when the component's sources differ from it.
    pub revision: Option<String>,
}

/// Reads the plugin's package fields through `cargo metadata` (which resolves `workspace = true`).
pub fn package_info(root: &Path) -> Result<PackageInfo> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).context("reading cargo metadata")?;
    let package = meta["packages"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["name"] == PACKAGE))
        .with_context(|| format!("package {PACKAGE} is not in the workspace"))?;
    let text = |key: &str| package[key].as_str().map(str::to_string);
    Ok(PackageInfo {
        name: PACKAGE.to_string(),
        version: text("version").context("the plugin has no version")?,
        description: text("description")
            .context("plugin/Cargo.toml needs a description: it goes into the component's metadata")?,
        license: text("license"),
        repository: text("repository")
            .or_else(|| git(root, &["remote", "get-url", "origin"]).and_then(|r| published_source(&r))),
        revision: revision(root),
    })
}

/// The git remote as a source URL others can reach, or `None` for a local one (a path or
/// `file:` URL: a clean clone's remote is the directory it came from, which names nothing
/// published). Credentials in the remote (`https://user:token@host/...`) never reach the
/// metadata; `user@host:path` remotes become `ssh://host/path`.
pub fn published_source(remote: &str) -> Option<String> {
    let mut url = match url::Url::parse(remote) {
        Ok(url) => url,
        Err(_) => {
            // scp-like syntax: `[user@]host:path`, with no slash before the colon.
            let (host, path) = remote.split_once(':')?;
            let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
            if host.is_empty() || host.contains('/') || path.is_empty() {
                return None;
            }
            url::Url::parse(&format!("ssh://{host}/{}", path.trim_start_matches('/'))).ok()?
        }
    };
    if !matches!(url.scheme(), "https" | "http" | "ssh" | "git") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    url.set_username("").ok()?;
    url.set_password(None).ok()?;
    Some(url.to_string())
}

/// Every path whose change changes the component.
const SOURCES: &[&str] =
    &["plugin", "platforms", "wit", "build-support", "Cargo.toml", "Cargo.lock", ".cargo"];

fn revision(root: &Path) -> Option<String> {
    let commit = git(root, &["rev-parse", "HEAD"])?;
    let mut args = vec!["status", "--porcelain", "--untracked-files=no", "--"];
    args.extend_from_slice(SOURCES);
    let dirty = git(root, &args).is_some_and(|s| !s.is_empty());
    Some(if dirty { format!("{commit}-dirty") } else { commit })
}

fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").current_dir(root).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::published_source;

    #[test]
    fn given_a_local_clone_remote_when_read_then_no_source_is_recorded() {
        assert_eq!(published_source("/check/repo.git"), None);
        assert_eq!(published_source("../repo"), None);
        assert_eq!(published_source("file:///srv/git/repo.git"), None);
        assert_eq!(published_source("C:\\src\\repo"), None);
    }

    #[test]
    fn given_a_network_remote_when_read_then_it_is_recorded_without_credentials() {
        assert_eq!(
            published_source("https://ci:s3cret-token@git.example.org/team/connector.git").as_deref(),
            Some("https://git.example.org/team/connector.git")
        );
        assert_eq!(
            published_source("git@git.example.org:team/connector.git").as_deref(),
            Some("ssh://git.example.org/team/connector.git")
        );
    }
}
