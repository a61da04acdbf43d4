//! The WIT of a release: one self-contained folder whose root package is the published world
//! (`wit/published/published.wit`), with the contract (`wit/connector.wit`) and the vendored
//! WASI packages in its `deps/`. The import check reads that folder, so what is shipped is
//! what was checked.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_parser::{Resolve, WorldId};

/// The release WIT, parsed.
pub struct Published {
    pub resolve: Resolve,
    /// The published world: the contract plus what Rust's standard library imports.
    pub world: WorldId,
    /// Its full name, e.g. `evidence:published/published-world@0.2.0`.
    pub world_id: String,
    /// The contract's package, e.g. `evidence:connector@0.2.0`.
    pub contract_package: String,
    /// The contract's world, e.g. `evidence:connector/connector-world@0.2.0`.
    pub contract_world: String,
}

/// The world the plugin is generated from (`wit_bindgen::generate!` in plugin/src/lib.rs).
const CONTRACT_WORLD: &str = "connector-world";

/// Writes the release WIT folder `out` from the workspace's `wit/` and parses it.
pub fn assemble(root: &Path, out: &Path) -> Result<Published> {
    let wit = root.join("wit");
    if out.exists() {
        fs::remove_dir_all(out).with_context(|| format!("removing the old {}", out.display()))?;
    }
    let deps = out.join("deps");
    fs::create_dir_all(&deps).with_context(|| format!("creating {}", deps.display()))?;
    copy(&wit.join("published/published.wit"), &out.join("published.wit"))?;
    copy(&wit.join("connector.wit"), &deps.join("connector.wit"))?;
    let mut vendored: Vec<_> = fs::read_dir(wit.join("deps"))
        .context("reading wit/deps")?
        .collect::<Result<_, _>>()
        .context("reading wit/deps")?;
    vendored.sort_by_key(|e| e.file_name());
    for entry in vendored {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wit") {
            copy(&path, &deps.join(entry.file_name()))?;
        } else {
            bail!("{}: only single-file WIT packages are expected in wit/deps", path.display());
        }
    }

    // The contract's names come from the workspace's own WIT, as the plugin reads it.
    let mut contract = Resolve::new();
    let (contract_pkg, _) = contract.push_dir(&wit).context("parsing wit/")?;
    let contract_world_id = contract.select_world(&[contract_pkg], Some(CONTRACT_WORLD))?;
    let contract_package = contract.packages[contract_pkg].name.to_string();
    let contract_world = world_name(&contract, contract_world_id);

    let mut resolve = Resolve::new();
    let (pkg, _) =
        resolve.push_dir(out).with_context(|| format!("parsing the release WIT {}", out.display()))?;
    let world = resolve
        .select_world(&[pkg], None)
        .context("wit/published/published.wit must hold exactly one world")?;
    let world_id = world_name(&resolve, world);
    Ok(Published { resolve, world, world_id, contract_package, contract_world })
}

/// `namespace:package/world@version`.
pub fn world_name(resolve: &Resolve, world: WorldId) -> String {
    let w = &resolve.worlds[world];
    let pkg = &resolve.packages[w.package.expect("a parsed world belongs to a package")].name;
    match &pkg.version {
        Some(v) => format!("{}:{}/{}@{v}", pkg.namespace, pkg.name, w.name),
        None => format!("{}:{}/{}", pkg.namespace, pkg.name, w.name),
    }
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}
