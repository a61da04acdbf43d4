//! What the release is made from: the workspace, its release component build, the plugin's
//! package fields and the source revision.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

// `build_wasm_guest`: the same nested cargo build the host's and the tests' build scripts run
// (same target dir, same environment clean-up), so a component they built is reused as it is.
include!("../../build-support/wasm_guest.rs");

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
    /// Where the source is published (`repository` in plugin/Cargo.toml, else the git remote).
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
        repository: text("repository").or_else(|| git(root, &["remote", "get-url", "origin"])),
        revision: revision(root),
    })
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
