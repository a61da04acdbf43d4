//! `dist`: the release folder.
//!
//! ```text
//! dist/
//!   qualys_connector.wasm          the component, with its name, version, description and
//!                                  source in its own metadata
//!   qualys_connector.wasm.sha256   `sha256sum` format: `sha256sum -c` checks it
//!   wit/                           the published world (root) and, in deps/, the contract and WASI
//!   manifest.json                  name, version, worlds, imports, exports, sha256, size
//! ```

use std::fs;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{build, imports, metadata, wit};

const COMPONENT: &str = "qualys_connector.wasm";

pub fn run(out: &Path) -> Result<()> {
    let started = Instant::now();
    let root = build::workspace_root();
    let out = if out.is_absolute() { out.to_path_buf() } else { root.join(out) };

    println!(
        "building the component: cargo build -p {} --target wasm32-wasip2 --release --target-dir target/plugin",
        build::PACKAGE
    );
    let built = build::component(&root);
    let raw = fs::read(&built).with_context(|| format!("reading {}", built.display()))?;
    let info = build::package_info(&root)?;
    let component = metadata::embed(&raw, &info)?;

    fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    // A release folder inside the workspace is never committed by accident.
    fs::write(out.join(".gitignore"), "*\n").context("writing .gitignore")?;
    // Nothing of an older release may stay next to a new one that failed its check.
    for stale in [COMPONENT, &format!("{COMPONENT}.sha256"), "manifest.json"] {
        match fs::remove_file(out.join(stale)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(e).with_context(|| format!("removing the old {stale}"));
            }
            _ => {}
        }
    }
    let published = wit::assemble(&root, &out.join("wit"))?;
    let report = imports::check(&component, &published)
        .with_context(|| format!("{} fails the import check", built.display()))?;

    let sha256 = hex::encode(Sha256::digest(&component));
    write(&out.join(COMPONENT), &component)?;
    write(&out.join(format!("{COMPONENT}.sha256")), format!("{sha256}  {COMPONENT}\n").as_bytes())?;
    let manifest = json!({
        "name": info.name,
        "version": info.version,
        "description": info.description,
        "license": info.license,
        "repository": info.repository,
        "revision": info.revision,
        "component": COMPONENT,
        "size": component.len(),
        "sha256": sha256,
        "target": "wasm32-wasip2",
        "wit": "wit",
        "wit_package": published.contract_package,
        "world": published.contract_world,
        "published_world": published.world_id,
        "imports": report.imports,
        "exports": report.exports,
    });
    let mut text = serde_json::to_string_pretty(&manifest).expect("JSON values serialise");
    text.push('\n');
    write(&out.join("manifest.json"), text.as_bytes())?;

    report.print(&published.world_id);
    println!("metadata:");
    for (key, value) in metadata::show(&component)? {
        println!("  {key}: {value}");
    }
    if info.repository.is_none() {
        println!(
            "note: no source URL in the metadata: set `repository` in plugin/Cargo.toml (or a git \
             remote `origin` with a network URL; a local path is not recorded); the revision is \
             recorded"
        );
    }
    println!(
        "wrote {} ({} bytes, sha256 {sha256}), {COMPONENT}.sha256, wit/ and manifest.json in {:.1}s",
        out.join(COMPONENT).display(),
        component.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes through a temporary name, so a reader never sees half a file.
fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".partial");
    let tmp = std::path::PathBuf::from(tmp);
    fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
}
