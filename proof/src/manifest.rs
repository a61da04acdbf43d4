//! A set of proofs collected together (`connector-host collect --all`): the manifest that lists
//! each proof with the digests of its files and rows, and the proof types that could not be
//! collected. Signed, it vouches for which proofs the set holds ([`crate::verify_set`]).

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::output::ProofSummary;
use crate::signature::{MANIFEST_SCHEME, SignatureBlock};
use crate::verify::{file_sha256, manifest_statement};

/// One proof of a set, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Its proof type.
    pub proof_type: String,
    /// The proof's file name, in the set's folder.
    pub file: String,
    /// Rows.
    pub rows: u64,
    /// Pages collected.
    pub pages: u64,
    /// SHA-256 of the canonical rows.
    pub sha256_rows: String,
    /// SHA-256 of the proof file's bytes.
    pub sha256_file: Option<String>,
    /// Warnings the proof carries.
    pub warnings: u64,
    /// The sidecar holding a JSON Lines or CSV proof's metadata, in the set's folder.
    pub metadata: Option<String>,
    /// SHA-256 of the sidecar's bytes.
    pub sha256_metadata: Option<String>,
    /// The id of the key the proof is signed with.
    pub signed_by: Option<String>,
    /// Documents rendered from the proof for people (PDF, Excel), with their digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<DocumentEntry>,
}

/// A document rendered from a proof of the set, as the manifest lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocumentEntry {
    /// Its file name, in the set's folder.
    pub file: String,
    /// SHA-256 of its bytes.
    pub sha256_file: Option<String>,
    /// Its sidecar's file name.
    pub metadata: Option<String>,
    /// SHA-256 of the sidecar's bytes.
    pub sha256_metadata: Option<String>,
}

impl DocumentEntry {
    /// The entry of a document just written to `path` (its sidecar, if any, beside it).
    pub fn of(path: &Path) -> DocumentEntry {
        let sidecar = crate::sidecar_path(path);
        let name = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned());
        DocumentEntry {
            file: name(path).unwrap_or_default(),
            sha256_file: file_sha256(path).ok(),
            metadata: sidecar.is_file().then(|| name(&sidecar)).flatten(),
            sha256_metadata: file_sha256(&sidecar).ok(),
        }
    }
}

impl ManifestEntry {
    /// The entry of a proof just written to `path` (its sidecar, if any, beside it).
    pub fn of(proof_type: &str, path: &Path, summary: &ProofSummary, pages: u64) -> ManifestEntry {
        let name = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned());
        ManifestEntry {
            proof_type: proof_type.to_string(),
            file: name(path).unwrap_or_default(),
            rows: summary.row_count,
            pages,
            sha256_rows: summary.sha256.clone(),
            sha256_file: file_sha256(path).ok(),
            warnings: summary.warnings.len() as u64,
            metadata: summary.sidecar.as_deref().and_then(name),
            sha256_metadata: summary.sidecar.as_deref().and_then(|p| file_sha256(p).ok()),
            signed_by: summary.signed_by.clone(),
            documents: Vec::new(),
        }
    }
}

/// A proof type the set could not collect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotCollected {
    /// Its proof type.
    pub proof_type: String,
    /// Why.
    pub error: String,
}

/// A set's manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// When the set's collection started, RFC 3339 UTC.
    pub collected_at: String,
    /// Platform code.
    pub platform: String,
    /// API server URL, when one was given.
    pub api_url: Option<String>,
    /// The proofs' format name.
    pub format: String,
    /// The proofs collected.
    pub proofs: Vec<ManifestEntry>,
    /// The proof types not collected.
    pub not_collected: Vec<NotCollected>,
}

impl Manifest {
    /// The manifest as written: the proofs and the proof types not collected in one `proofs`
    /// list, signed under [`MANIFEST_SCHEME`] when a key is given.
    pub fn to_json(&self, signer: Option<&ed25519_dalek::SigningKey>) -> anyhow::Result<Value> {
        let mut entries: Vec<Value> =
            self.proofs.iter().map(serde_json::to_value).collect::<Result<_, _>>()?;
        entries.extend(self.not_collected.iter().map(serde_json::to_value).collect::<Result<Vec<_>, _>>()?);
        let mut members = Map::new();
        members.insert("collected_at".into(), self.collected_at.clone().into());
        members.insert("platform".into(), self.platform.clone().into());
        members.insert("api_url".into(), self.api_url.clone().into());
        members.insert("format".into(), self.format.clone().into());
        members.insert("proofs".into(), entries.into());
        if let Some(key) = signer {
            let block = SignatureBlock::sign_under(MANIFEST_SCHEME, key, &manifest_statement(&members))?;
            members.insert("signature".into(), block.to_json_under(MANIFEST_SCHEME));
        }
        Ok(Value::Object(members))
    }
}
