//! The component's own metadata: its name (component-name section), a `producers` entry, and
//! the OCI-style custom sections `wasm-tools metadata show` reads (version, description,
//! licenses, source, revision), written with the Bytecode Alliance's `wasm-metadata` crate.

use anyhow::{Context, Result};
use wasm_metadata::{
    AddMetadata, AddMetadataField, Description, Licenses, Payload, Revision, Source, Version,
};

use crate::build::PackageInfo;

/// Returns `component` with `info` in its outermost component's metadata.
pub fn embed(component: &[u8], info: &PackageInfo) -> Result<Vec<u8>> {
    let mut add = AddMetadata::default();
    add.name = AddMetadataField::Set(info.name.clone());
    add.version = AddMetadataField::Set(Version::new(info.version.clone()));
    add.description = AddMetadataField::Set(Description::new(info.description.clone()));
    add.processed_by = vec![("xtask dist".to_string(), env!("CARGO_PKG_VERSION").to_string())];
    if let Some(license) = &info.license {
        add.licenses = AddMetadataField::Set(
            Licenses::new(license)
                .with_context(|| format!("license `{license}` is not an SPDX expression"))?,
        );
    }
    if let Some(repository) = &info.repository {
        add.source = AddMetadataField::Set(
            Source::new(repository).with_context(|| format!("repository `{repository}` is not a URL"))?,
        );
    }
    if let Some(revision) = &info.revision {
        add.revision = AddMetadataField::Set(Revision::new(revision.clone()));
    }
    add.to_wasm(component).context("writing the component's metadata")
}

/// The outermost component's metadata, as `wasm-tools metadata show` reads it, one line each.
pub fn show(component: &[u8]) -> Result<Vec<(String, String)>> {
    let payload = Payload::from_binary(component).context("reading the component's metadata")?;
    let m = payload.metadata();
    let mut lines = Vec::new();
    let mut push = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            lines.push((key.to_string(), value));
        }
    };
    push("name", m.name.clone());
    push("version", m.version.as_ref().map(ToString::to_string));
    push("description", m.description.as_ref().map(ToString::to_string));
    push("licenses", m.licenses.as_ref().map(ToString::to_string));
    push("source", m.source.as_ref().map(ToString::to_string));
    push("revision", m.revision.as_ref().map(ToString::to_string));
    if let Some(producers) = &m.producers {
        for (field, values) in producers.iter() {
            let values: Vec<String> =
                values.iter().map(|(name, version)| format!("{name} {version}")).collect();
            push(&format!("producers {field}"), Some(values.join(", ")));
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_package_fields_when_embedded_then_metadata_show_reads_them_back() {
        let info = PackageInfo {
            name: "qualys-connector".into(),
            version: "1.2.3".into(),
            description: "Collects proof.".into(),
            license: Some("Apache-2.0".into()),
            repository: Some("https://example.org/connector".into()),
            revision: Some("0123abc-dirty".into()),
        };
        // The smallest component: the component preamble and nothing else.
        let empty = [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00];

        let lines = show(&embed(&empty, &info).unwrap()).unwrap();

        let get = |key: &str| lines.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("name"), Some("qualys-connector"));
        assert_eq!(get("version"), Some("1.2.3"));
        assert_eq!(get("description"), Some("Collects proof."));
        assert_eq!(get("licenses"), Some("Apache-2.0"));
        assert_eq!(get("source"), Some("https://example.org/connector"));
        assert_eq!(get("revision"), Some("0123abc-dirty"));
        assert!(get("producers processed-by").is_some_and(|v| v.starts_with("xtask dist ")), "{lines:?}");
    }
}
