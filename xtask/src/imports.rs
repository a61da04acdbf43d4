//! The import check: a component may import only what the published world declares, and must
//! export what it promises. Names first (so a stray import is named), then the types, with the
//! same test `wasm-tools component targets` runs (`wit_component::targets`: the component must
//! instantiate where a component of the world's type is expected).

use std::collections::BTreeSet;

use anyhow::{Context, Result, bail};
use wit_component::DecodedWasm;
use wit_parser::{Resolve, WorldId};

use crate::wit::Published;

/// What a component imports and exports, by WIT name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub imports: Vec<String>,
    pub exports: Vec<String>,
}

impl Report {
    pub fn print(&self, world_id: &str) {
        println!("imports ({}), all declared by {world_id}:", self.imports.len());
        for name in &self.imports {
            println!("  {name}");
        }
        println!("exports:");
        for name in &self.exports {
            println!("  {name}");
        }
    }
}

/// Checks `component` against the published world.
pub fn check(component: &[u8], published: &Published) -> Result<Report> {
    let (resolve, world) = match wit_component::decode(component).context("decoding the component")? {
        DecodedWasm::Component(resolve, world) => (resolve, world),
        DecodedWasm::WitPackage(..) => bail!("this is a WIT package, not a component"),
    };
    let report = Report {
        imports: names(&resolve, world, Side::Imports),
        exports: names(&resolve, world, Side::Exports),
    };

    let declared: BTreeSet<String> =
        names(&published.resolve, published.world, Side::Imports).into_iter().collect();
    let undeclared: Vec<&String> = report.imports.iter().filter(|i| !declared.contains(*i)).collect();
    if !undeclared.is_empty() {
        bail!(
            "the component imports {}, which the published world {} does not declare: a host \
             that provides that world would fail to instantiate it. Remove what pulls the \
             import in, or, if the host must now provide it, declare it in \
             wit/published/published.wit and say so in the release notes",
            list(&undeclared),
            published.world_id
        );
    }
    let exported: BTreeSet<&String> = report.exports.iter().collect();
    let promised = names(&published.resolve, published.world, Side::Exports);
    let missing: Vec<&String> = promised.iter().filter(|e| !exported.contains(e)).collect();
    if !missing.is_empty() {
        bail!("the component does not export {}, which {} promises", list(&missing), published.world_id);
    }

    wit_component::targets(&published.resolve, published.world, component).with_context(|| {
        format!(
            "the component's imports and exports are those of {} by name, but not by type \
             (an interface differs from the published WIT)",
            published.world_id
        )
    })?;
    Ok(report)
}

#[derive(Clone, Copy)]
enum Side {
    Imports,
    Exports,
}

fn names(resolve: &Resolve, world: WorldId, side: Side) -> Vec<String> {
    let w = &resolve.worlds[world];
    let items = match side {
        Side::Imports => &w.imports,
        Side::Exports => &w.exports,
    };
    items.keys().map(|key| resolve.name_world_key(key)).collect()
}

fn list(names: &[&String]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use wit_component::{ComponentEncoder, StringEncoding};
    use wit_parser::ManglingAndAbi;

    use super::*;
    use crate::build::workspace_root;
    use crate::wit;

    fn published() -> (tempfile::TempDir, Published) {
        let dir = tempfile::tempdir().unwrap();
        let published = wit::assemble(&workspace_root(), &dir.path().join("wit")).unwrap();
        (dir, published)
    }

    /// A component made from nothing but WIT: a dummy core module for `world`, encoded as a
    /// component. It imports every function of every interface the world imports.
    fn component_of(resolve: &Resolve, world: WorldId) -> Vec<u8> {
        let mut module = wit_component::dummy_module(resolve, world, ManglingAndAbi::Standard32);
        wit_component::embed_component_metadata(&mut module, resolve, world, StringEncoding::UTF8).unwrap();
        ComponentEncoder::default().module(&module).unwrap().validate(true).encode().unwrap()
    }

    /// The published world with `extra` added, as a world of another package.
    fn world_with(published: &mut Published, extra: &str) -> WorldId {
        let source = format!(
            "package test:extra;\n\
             world with-extra {{\n  include {};\n  {extra}\n}}\n",
            published.world_id
        );
        let pkg = published.resolve.push_str("with-extra.wit", &source).unwrap();
        published.resolve.select_world(&[pkg], Some("with-extra")).unwrap()
    }

    #[test]
    fn given_a_component_of_the_published_world_when_checked_then_it_passes_with_every_import_listed() {
        let (_dir, published) = published();
        let component = component_of(&published.resolve, published.world);

        let report = check(&component, &published).unwrap();

        let has = |prefix: &str| report.imports.iter().any(|i| i.starts_with(prefix));
        assert!(has("wasi:http/outgoing-handler@0.2."), "{report:?}");
        assert!(has("wasi:cli/environment@0.2."), "{report:?}");
        assert!(has("wasi:random/insecure-seed@0.2."), "{report:?}");
        assert_eq!(report.exports.len(), 1, "{report:?}");
        assert!(report.exports[0].starts_with("evidence:connector/connector@"), "{report:?}");
    }

    #[test]
    fn given_a_component_with_an_undeclared_import_when_checked_then_it_fails_naming_the_import() {
        let (_dir, mut published) = published();
        let world = world_with(&mut published, "import wasi:sockets/tcp@0.2.12;");
        let component = component_of(&published.resolve, world);

        let err = check(&component, &published).unwrap_err().to_string();

        assert!(err.contains("`wasi:sockets/tcp@0.2.12`"), "{err}");
        assert!(err.contains("does not declare"), "{err}");
        // What came with it (`wasi:sockets/network`) is named too; nothing declared is.
        assert!(err.contains("`wasi:sockets/network@0.2.12`"), "{err}");
        assert!(!err.contains("wasi:http"), "{err}");
    }

    #[test]
    fn given_a_component_with_an_undeclared_function_import_when_checked_then_it_fails_naming_it() {
        let (_dir, mut published) = published();
        let world = world_with(&mut published, "import read-file: func(path: string) -> list<u8>;");
        let component = component_of(&published.resolve, world);

        let err = check(&component, &published).unwrap_err().to_string();

        assert!(err.contains("`read-file`"), "{err}");
    }

    #[test]
    fn given_a_component_of_the_bare_contract_when_checked_then_it_passes() {
        // A component that needs less than the published world (no Rust std imports) is fine.
        let (_dir, published) = published();
        let contract = published.contract_world.clone();
        let pkg =
            published.resolve.packages.iter().find(|(_, p)| p.name.to_string() == published.contract_package);
        let (pkg, _) = pkg.expect("the contract package is in the release WIT");
        let world = published.resolve.select_world(&[pkg], Some(&contract)).unwrap();
        let component = component_of(&published.resolve, world);

        let report = check(&component, &published).unwrap();

        assert!(!report.imports.iter().any(|i| i.starts_with("wasi:cli/")));
    }

    #[test]
    fn given_a_component_whose_export_differs_in_type_when_checked_then_the_type_check_fails() {
        let (_dir, published) = published();
        // Right names, wrong types: the contract's interface with another signature.
        let mut other = Resolve::new();
        let pkg = other
            .push_str(
                "other.wit",
                &format!(
                    "package {};\n\
                     interface connector {{ list-proof-types: func() -> string; }}\n\
                     world other {{ export connector; }}\n",
                    published.contract_package
                ),
            )
            .unwrap();
        let world = other.select_world(&[pkg], Some("other")).unwrap();
        let component = component_of(&other, world);

        let err = format!("{:#}", check(&component, &published).unwrap_err());

        assert!(err.contains("not by type"), "{err}");
    }

    #[test]
    fn given_the_release_wit_when_assembled_then_it_names_the_contract_and_published_worlds() {
        let (dir, published) = published();

        assert!(published.world_id.starts_with("evidence:published/published-world@"));
        assert!(published.contract_package.starts_with("evidence:connector@"));
        assert!(published.contract_world.starts_with("evidence:connector/connector-world@"));
        assert!(dir.path().join("wit/published.wit").is_file());
        assert!(dir.path().join("wit/deps/connector.wit").is_file());
        assert!(dir.path().join("wit/deps/http.wit").is_file());
    }
}
