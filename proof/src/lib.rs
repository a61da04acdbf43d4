//! Evidence proofs, as files an auditor can trust: written row by row as pages arrive
//! ([`output::ProofWriter`]: JSON, JSON Lines, CSV), read back, with a canonical digest of the
//! rows, provenance, Ed25519 signatures, verification of a proof or a set, and diffs by key.
//! Nothing here runs a connector or touches the network: a tool that only verifies or diffs
//! proofs links this crate alone.
//!
//! **The statement** of a proof is its metadata: the JSON proof's object without `rows` and
//! `signature`, or the sidecar (`FILE.proof.json`) of a JSON Lines or CSV proof without
//! `signature`. It holds `proof_type`, `title`, `collected_at`, `platform`, `api_url`,
//! `format`, `criteria`, `fields`, `row_count`, `warnings`, `sha256` (the digest of the
//! canonical rows, see [`output`]) and `provenance` ([`Provenance`]). Every member is
//! covered, unknown ones included.
//!
//! **The signed bytes** ([`signature::signed_bytes`]): the ASCII text `evidence-proof-v1`, a
//! line feed, then the statement in canonical JSON ([`canonical`]: RFC 8785, members sorted,
//! no whitespace). The signature is Ed25519 (RFC 8032) over those bytes, written as the
//! `signature` member: `algorithm` (`ed25519`), `scheme` (`evidence-proof-v1`), `key_id` (hex
//! SHA-256 of the 32-byte public key), `public_key` and `value` (base64, 32 and 64 bytes).
//! The rows are covered through `sha256`.
//!
//! [`verify::verify`] recomputes the digest from the rows and checks the statement against the
//! signature and the signature's key against the trusted one; [`diff::diff`] compares two
//! proofs of the same proof type by key in bounded memory.

#![warn(missing_docs)]

pub mod canonical;
pub mod diff;
pub mod file;
pub mod manifest;
pub mod model;
pub mod output;
pub mod provenance;
pub mod signature;
pub mod sink;
pub mod sort;
pub mod verify;

pub use diff::{Change, DiffInput, DiffOptions, DiffSink, DiffSummary, KeyRule};
pub use file::{ProofFile, sidecar_path};
pub use manifest::{Manifest, ManifestEntry, NotCollected};
pub use provenance::{AccountInfo, ConnectorInfo, HostInfo, Provenance, Resumption};
pub use signature::SignatureBlock;
pub use verify::{SetVerification, Verdict, Verification, file_sha256, verify, verify_entry, verify_set};

/// Ed25519 keys, re-exported so embedders need no crate of their own to hold them.
pub use ed25519_dalek::{SigningKey, VerifyingKey};

pub use model::{Field, FieldKind, Value, Warning};
pub use output::{Destination, Format, OutputLock, ProofMeta, ProofSummary, ProofWriter, WriterState};
pub use sink::{PageContext, PageSink};

/// Current time as RFC 3339 UTC (seconds).
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("zero nanoseconds is valid")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("RFC 3339 formats any UTC time")
}
