//! Checking a proof: its rows against its digest, its metadata against its signature, and the
//! signature's key against the one the auditor trusts.

use std::path::Path;

use ed25519_dalek::VerifyingKey;
use serde_json::{Map, Value};

use super::file::{ProofFile, SIDECAR_SUFFIX};
use super::signature::{SignatureBlock, key_id};
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
