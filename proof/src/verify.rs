//! Checking a proof: its rows against its digest, its metadata against its signature, and the
//! signature's key against the one the auditor trusts.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};

use super::file::{ProofFile, SIDECAR_SUFFIX};
use super::signature::{MANIFEST_SCHEME, SignatureBlock, key_id};
use crate::output::readback::ReadError;

/// What verification found, worst first after the success.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The rows match the digest, and the metadata (digest included) is signed by the trusted key.
    Verified,
    /// The rows do not match the proof's digest or row count, or cannot be read.
    RowsChanged,
    /// The metadata is missing, damaged, or not what was signed.
    MetadataChanged,
    /// The proof is signed, by another key than the trusted one.
    WrongKey,
    /// The rows match the digest, but nothing signs the metadata.
    Unsigned,
    /// The signature holds under the key the proof names, but no trusted key was given to check
    /// who that is.
    Untrusted,
}

impl Verdict {
    /// How bad, for the worst of a set: 0 for verified, up to 5 for changed rows.
    pub fn severity(self) -> u8 {
        match self {
            Verdict::Verified => 0,
            Verdict::Untrusted => 1,
            Verdict::Unsigned => 2,
            Verdict::WrongKey => 3,
            Verdict::MetadataChanged => 4,
            Verdict::RowsChanged => 5,
        }
    }
}

/// The outcome, with the reason in words.
#[derive(Debug, Clone)]
pub struct Verification {
    /// What was found.
    pub verdict: Verdict,
    /// Why, for people.
    pub reason: String,
    /// The proof type, when the metadata names it.
    pub proof_type: Option<String>,
    /// Rows read from the file.
    pub rows: u64,
    /// SHA-256 of the canonical rows read from the file.
    pub sha256: String,
    /// The id of the key the proof is signed with, when signed.
    pub key_id: Option<String>,
}

/// Verifies the proof named by `path` (a JSON proof, a JSON Lines or CSV file with its sidecar,
/// or the sidecar). An error means the proof could not be found or opened at all.
pub fn verify(path: &Path, trusted: Option<&VerifyingKey>) -> anyhow::Result<Verification> {
    let file = ProofFile::locate(path)?;
    let mut outcome = Verification {
        verdict: Verdict::MetadataChanged,
        reason: String::new(),
        proof_type: None,
        rows: 0,
        sha256: String::new(),
        key_id: None,
    };
    let done = |mut o: Verification, verdict: Verdict, reason: String| {
        o.verdict = verdict;
        o.reason = reason;
        Ok(o)
    };
    if file.format != crate::Format::Json && file.sidecar.is_none() {
        let reason = format!(
            "{} has no {SIDECAR_SUFFIX} beside it: the metadata and signature of this proof are missing",
            file.display()
        );
        return done(outcome, Verdict::MetadataChanged, reason);
    }
    let read = match file.read(None, &mut |_, _| Ok(()), &mut |_| Ok(())) {
        Ok(r) => r,
        Err(ReadError::Rows(e)) => {
            return done(
                outcome,
                Verdict::RowsChanged,
                format!("rows changed: the rows cannot be read ({e:#})"),
            );
        }
        Err(ReadError::Metadata(e)) => {
            return done(outcome, Verdict::MetadataChanged, format!("metadata changed: {e:#}"));
        }
    };
    outcome.rows = read.rows;
    outcome.sha256 = read.sha256.clone();
    let metadata = read.metadata.unwrap_or_default();
    outcome.proof_type = metadata.get("proof_type").and_then(Value::as_str).map(str::to_string);
    let (Some(stated_rows), Some(stated_sha)) =
        (metadata.get("row_count").and_then(Value::as_u64), metadata.get("sha256").and_then(Value::as_str))
    else {
        return done(
            outcome,
            Verdict::MetadataChanged,
            "metadata changed: it has no row_count or sha256".into(),
        );
    };
    if stated_sha != read.sha256 || stated_rows != read.rows {
        let reason = format!(
            "rows changed: the file's {} rows have SHA-256 {}, the proof states {} rows with {}",
            read.rows, read.sha256, stated_rows, stated_sha
        );
        return done(outcome, Verdict::RowsChanged, reason);
    }
    if let Some(declared) = metadata.get("format").and_then(Value::as_str)
        && declared != file.format.name()
    {
        let reason =
            format!("metadata changed: it declares format {declared}, the file is {}", file.format.name());
        return done(outcome, Verdict::MetadataChanged, reason);
    }
    let mut statement: Map<String, Value> = metadata;
    let Some(signature) = statement.remove("signature") else {
        let reason = format!(
            "unsigned: the {} rows match the proof's digest, but no signature vouches for its metadata",
            read.rows
        );
        return done(outcome, Verdict::Unsigned, reason);
    };
    let block = match SignatureBlock::from_json(&signature) {
        Ok(b) => b,
        Err(e) => return done(outcome, Verdict::MetadataChanged, format!("metadata changed: {e:#}")),
    };
    // First whether the signature holds at all, under the key it names: a forged block naming
    // another key is an invalid signature, not a proof "signed by" that key.
    if !block.holds(&statement, &block.public_key)? {
        let reason = format!(
            "signature invalid: it does not hold under the key it names ({}): the metadata changed, or the \
             signature was forged (the row digest is part of the metadata: rows changed together with \
             their digest read the same way)",
            block.key_id
        );
        return done(outcome, Verdict::MetadataChanged, reason);
    }
    outcome.key_id = Some(block.key_id.clone());
    if let Some(key) = trusted
        && *key != block.public_key
    {
        let reason = format!(
            "wrong key: the proof is signed by key {}, not by the key given ({})",
            block.key_id,
            key_id(key)
        );
        return done(outcome, Verdict::WrongKey, reason);
    }
    match trusted {
        Some(_) => {
            let reason = format!(
                "verified: {} rows match their digest {}, and the metadata is signed by key {}",
                read.rows, read.sha256, block.key_id
            );
            done(outcome, Verdict::Verified, reason)
        }
        None => {
            let reason = format!(
                "not checked against a trusted key: the proof is intact and signed by key {}, but who holds \
                 that key is unknown; pass --public-key with the signer's KEY.pub",
                block.key_id
            );
            done(outcome, Verdict::Untrusted, reason)
        }
    }
}

/// What checking a set (`collect --all`: a folder of proofs and its `manifest.json`) found.
#[derive(Debug, Clone)]
pub struct SetVerification {
    /// The manifest's own verdict: its signature under [`MANIFEST_SCHEME`], and the trusted key.
    pub manifest: Verification,
    /// Each listed proof's file name and verdict, in the manifest's order; a listed proof that
    /// is missing, or whose file or rows differ from the manifest's digests, is `RowsChanged`.
    pub proofs: Vec<(String, Verification)>,
    /// Proof types the manifest records as not collected, with why.
    pub not_collected: Vec<(String, String)>,
    /// The worst verdict of all.
    pub verdict: Verdict,
}

/// The manifest of a set, to sign or check: everything but `signature`.
pub fn manifest_statement(manifest: &Map<String, Value>) -> Map<String, Value> {
    let mut statement = manifest.clone();
    statement.remove("signature");
    statement
}

/// Checks a set of proofs: the manifest's signature, then each listed proof against the digests
/// the manifest gives (file and rows) and on its own ([`verify`]). A proof removed from the set,
/// replaced, or edited makes the set fail; so does a manifest that is changed or unsigned.
pub fn verify_set(manifest_path: &Path, trusted: Option<&VerifyingKey>) -> anyhow::Result<SetVerification> {
    use anyhow::Context as _;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let bytes =
        std::fs::read(manifest_path).with_context(|| format!("reading {}", manifest_path.display()))?;
    anyhow::ensure!(
        bytes.len() <= crate::output::readback::MAX_LINE_BYTES,
        "{} is too large to be a manifest",
        manifest_path.display()
    );
    let manifest = crate::output::readback::parse_strict_object(&bytes)
        .with_context(|| format!("{} is not a set's manifest", manifest_path.display()))?;
    let entries = manifest
        .get("proofs")
        .and_then(Value::as_array)
        .with_context(|| format!("{} lists no proofs", manifest_path.display()))?;
    let mut own = Verification {
        verdict: Verdict::Unsigned,
        reason: String::new(),
        proof_type: None,
        rows: entries.len() as u64,
        sha256: String::new(),
        key_id: None,
    };
    (own.verdict, own.reason) = match manifest.get("signature") {
        None => {
            (Verdict::Unsigned, "unsigned: no signature vouches for which proofs the set holds".to_string())
        }
        Some(signature) => match SignatureBlock::from_json_under(MANIFEST_SCHEME, signature) {
            Err(e) => (Verdict::MetadataChanged, format!("manifest changed: {e:#}")),
            Ok(block)
                if !block.holds_under(
                    MANIFEST_SCHEME,
                    &manifest_statement(&manifest),
                    &block.public_key,
                )? =>
            {
                (
                    Verdict::MetadataChanged,
                    format!(
                        "signature invalid: the manifest changed, or its signature does not hold under the key it names ({})",
                        block.key_id
                    ),
                )
            }
            Ok(block) => {
                own.key_id = Some(block.key_id.clone());
                match trusted {
                    Some(key) if *key != block.public_key => (
                        Verdict::WrongKey,
                        format!(
                            "wrong key: the manifest is signed by key {}, not by the key given ({})",
                            block.key_id,
                            key_id(key)
                        ),
                    ),
                    Some(_) => (Verdict::Verified, format!("the manifest is signed by key {}", block.key_id)),
                    None => (
                        Verdict::Untrusted,
                        format!(
                            "the manifest is signed by key {}, but no --public-key says whose",
                            block.key_id
                        ),
                    ),
                }
            }
        },
    };
    let mut proofs = Vec::new();
    let mut not_collected = Vec::new();
    for entry in entries {
        let text = |k: &str| entry.get(k).and_then(Value::as_str).map(str::to_string);
        match text("file") {
            Some(file) => {
                let verification = match serde_json::from_value::<crate::ManifestEntry>(entry.clone()) {
                    Ok(entry) => verify_entry(dir, &entry, trusted)?,
                    Err(e) => Verification {
                        verdict: Verdict::MetadataChanged,
                        reason: format!(
                            "manifest changed: its entry for {file} is not one a collect writes ({e})"
                        ),
                        proof_type: text("proof_type"),
                        rows: 0,
                        sha256: String::new(),
                        key_id: None,
                    },
                };
                proofs.push((file, verification));
            }
            None => not_collected.push((
                text("proof_type").unwrap_or_default(),
                text("error").unwrap_or_else(|| "no file".into()),
            )),
        }
    }
    let verdict = std::iter::once(own.verdict)
        .chain(proofs.iter().map(|(_, v)| v.verdict))
        .max_by_key(|v| v.severity())
        .unwrap_or(Verdict::Verified);
    Ok(SetVerification { manifest: own, proofs, not_collected, verdict })
}

/// Checks one proof a manifest lists (`entry`, in the set's folder `dir`): its file and sidecar
/// against the manifest's digests, then the proof on its own ([`verify`]) and its rows' digest
/// against the manifest's. A listed proof that is missing or differs is `RowsChanged`.
pub fn verify_entry(
    dir: &Path,
    entry: &crate::ManifestEntry,
    trusted: Option<&VerifyingKey>,
) -> anyhow::Result<Verification> {
    let file = entry.file.clone();
    let changed = |verdict: Verdict, reason: String| Verification {
        verdict,
        reason,
        proof_type: Some(entry.proof_type.clone()),
        rows: 0,
        sha256: String::new(),
        key_id: None,
    };
    // Names, not paths: the set is the manifest's folder.
    let name = |n: &str| !n.is_empty() && n != ".." && !n.contains(['/', '\\']);
    if !name(&file) {
        let reason = format!("manifest changed: `{file}` is not a file name in the set's folder");
        return Ok(changed(Verdict::RowsChanged, reason));
    }
    let path = dir.join(&file);
    let found = match file_sha256(&path) {
        Ok(found) => found,
        Err(e) => {
            let reason = format!("missing: the manifest lists it, but it cannot be read ({e})");
            return Ok(changed(Verdict::RowsChanged, reason));
        }
    };
    if entry.sha256_file.as_deref() != Some(found.as_str()) {
        let reason = "rows changed: the file is not the one the manifest lists (its SHA-256 differs)";
        return Ok(changed(Verdict::RowsChanged, reason.into()));
    }
    // A JSON Lines or CSV proof's metadata is its sidecar, listed with its own digest.
    let sidecar_found =
        entry.metadata.as_deref().filter(|m| name(m)).and_then(|m| file_sha256(&dir.join(m)).ok());
    if sidecar_found != entry.sha256_metadata {
        let reason = "metadata changed: its metadata file is not the one the manifest lists (missing, or its SHA-256 differs)";
        return Ok(changed(Verdict::MetadataChanged, reason.into()));
    }
    // Documents rendered from it: the files the manifest lists, byte for byte (`verify` of a
    // document checks what is inside it).
    for d in &entry.documents {
        let found = name(&d.file).then(|| file_sha256(&dir.join(&d.file)).ok()).flatten();
        let side = d.metadata.as_deref().filter(|m| name(m)).and_then(|m| file_sha256(&dir.join(m)).ok());
        if found.is_none() || found != d.sha256_file || side != d.sha256_metadata {
            let reason = format!(
                "document changed: {} is not the one the manifest lists (missing, or its SHA-256 or its sidecar's differs)",
                d.file
            );
            return Ok(changed(Verdict::RowsChanged, reason));
        }
    }
    let mut v = verify(&path, trusted)?;
    if v.verdict.severity() < Verdict::RowsChanged.severity() && entry.sha256_rows != v.sha256 {
        v.verdict = Verdict::RowsChanged;
        v.reason = "rows changed: its rows' digest is not the one the manifest lists".into();
    }
    Ok(v)
}

/// SHA-256 of a file's bytes, read in pieces.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}
