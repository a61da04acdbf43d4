//! A rendered document's sidecar, and its check.
//!
//! A PDF or Excel document gets a sidecar `FILE.proof.json`, as a JSON Lines or CSV proof does:
//! the document's own digest and size, the proof's metadata it was rendered from (row count and
//! row digest included) and, for a PDF, the digest of each attached file; signed under
//! [`DOCUMENT_SCHEME`] when a key is given. [`verify_document`] checks the file's bytes against
//! the sidecar, the sidecar's signature, and a PDF's attached proof as `verify` checks any proof.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use evidence_proof::signature::{SignatureBlock, key_id};
use evidence_proof::{SigningKey, Verdict, Verification, VerifyingKey, sidecar_path};
use serde_json::{Map, Value, json};
use sha2::Digest as _;

/// The scheme a document sidecar's signature is made under: never valid for a proof, a set or
/// a checkpoint.
pub const DOCUMENT_SCHEME: &str = "evidence-document-v1";
/// Largest sidecar read.
const MAX_SIDECAR: u64 = 16 << 20;

/// The kinds of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// PDF/A-3u with the proof attached.
    Pdf,
    /// An Excel workbook.
    Xlsx,
}

impl DocumentKind {
    /// Its name, as sidecars and `--format` write it.
    pub fn name(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Xlsx => "xlsx",
        }
    }

    /// The kind a file name says (`.pdf`, `.xlsx`, or such a file's sidecar).
    pub fn of_path(path: &Path) -> Option<DocumentKind> {
        let name = path.to_string_lossy().to_ascii_lowercase();
        let name = name.strip_suffix(evidence_proof::file::SIDECAR_SUFFIX).unwrap_or(&name);
        if name.ends_with(".pdf") {
            Some(DocumentKind::Pdf)
        } else if name.ends_with(".xlsx") {
            Some(DocumentKind::Xlsx)
        } else {
            None
        }
    }
}

/// SHA-256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Writes the sidecar of the document at `document` (a regular file): its digest, the proof
/// metadata it shows (`proof`: every member but the rows), the attached files' names and digests,
/// signed with `signer` when given. Returns the sidecar's path.
pub fn write_sidecar(
    document: &Path,
    kind: DocumentKind,
    proof: Option<&Map<String, Value>>,
    attachments: &[(String, String)],
    signer: Option<&SigningKey>,
) -> anyhow::Result<PathBuf> {
    let file_sha256 =
        evidence_proof::file_sha256(document).with_context(|| format!("reading {}", document.display()))?;
    let bytes = std::fs::metadata(document)?.len();
    let mut statement = Map::new();
    statement.insert(
        "document".into(),
        json!({
            "format": kind.name(),
            "file": document.file_name().map(|n| n.to_string_lossy().into_owned()),
            "bytes": bytes,
            "sha256": file_sha256,
        }),
    );
    statement.insert(
        "attachments".into(),
        Value::Array(attachments.iter().map(|(n, d)| json!({"name": n, "sha256": d})).collect()),
    );
    statement.insert("rendered_at".into(), Value::String(evidence_proof::now_rfc3339()));
    statement.insert("proof".into(), proof.cloned().map_or(Value::Null, Value::Object));
    if let Some(key) = signer {
        let block = SignatureBlock::sign_under(DOCUMENT_SCHEME, key, &statement)?;
        statement.insert("signature".into(), block.to_json_under(DOCUMENT_SCHEME));
    }
    let sidecar = sidecar_path(document);
    let mut text = serde_json::to_string_pretty(&Value::Object(statement))?;
    text.push('\n');
    crate::save_bytes(&sidecar, ".proof.json", text.as_bytes())?;
    Ok(sidecar)
}

/// The files attached to a PDF, by name, each at most `limit` bytes.
pub fn pdf_attachments(pdf: &[u8], limit: usize) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let options = lopdf::LoadOptions { max_decompressed_size: Some(limit), ..Default::default() };
    let doc = lopdf::Document::load_mem_with_options(pdf, options).context("not a readable PDF")?;
    let catalog = doc.catalog().context("the PDF has no catalog")?;
    let Ok(names) = catalog.get_deref(b"Names", &doc).and_then(|n| n.as_dict()) else {
        return Ok(Vec::new());
    };
    let Ok(files) = names.get_deref(b"EmbeddedFiles", &doc).and_then(|n| n.as_dict()) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let mut queue = vec![files];
    // A name tree: leaves hold `Names` pairs, inner nodes `Kids`.
    while let Some(node) = queue.pop() {
        if let Ok(kids) = node.get_deref(b"Kids", &doc).and_then(|k| k.as_array()) {
            for kid in kids {
                queue.push(doc.dereference(kid)?.1.as_dict()?);
            }
        }
        if let Ok(pairs) = node.get_deref(b"Names", &doc).and_then(|k| k.as_array()) {
            for pair in pairs.chunks(2) {
                let [name, spec] = pair else { continue };
                let name = String::from_utf8_lossy(doc.dereference(name)?.1.as_str()?).into_owned();
                let spec = doc.dereference(spec)?.1.as_dict()?;
                let ef = spec.get_deref(b"EF", &doc)?.as_dict()?;
                let stream = ef.get_deref(b"F", &doc)?.as_stream()?;
                let data = stream
                    .decompressed_content_with_limit(limit)
                    .with_context(|| format!("attachment {name}"))?;
                out.push((name, data));
            }
        }
    }
    Ok(out)
}

/// The worse of two verdicts.
fn worst(a: Verdict, b: Verdict) -> Verdict {
    if b.severity() > a.severity() { b } else { a }
}

/// Checks a rendered document named by `path` (the document or its sidecar): its bytes against
/// the sidecar's digest, the sidecar's signature and key, and for a PDF the attached proof
/// (digest, rows, signature) and that it is the proof the sidecar names.
pub fn verify_document(path: &Path, trusted: Option<&VerifyingKey>) -> anyhow::Result<Verification> {
    let kind = DocumentKind::of_path(path).context("not a .pdf or .xlsx document")?;
    let text = path.to_string_lossy();
    let document = match text.strip_suffix(evidence_proof::file::SIDECAR_SUFFIX) {
        Some(d) => PathBuf::from(d),
        None => path.to_path_buf(),
    };
    let bytes = std::fs::read(&document).with_context(|| format!("reading {}", document.display()))?;
    let digest = sha256_hex(&bytes);
    let mut v = Verification {
        verdict: Verdict::Verified,
        reason: String::new(),
        proof_type: None,
        rows: 0,
        sha256: String::new(),
        key_id: None,
    };
    let mut reasons: Vec<String> = Vec::new();
    let sidecar_file = sidecar_path(&document);
    let sidecar: Option<Map<String, Value>> = if sidecar_file.is_file() {
        let mut raw = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::fs::File::open(&sidecar_file)?, MAX_SIDECAR),
            &mut raw,
        )?;
        match serde_json::from_slice::<Value>(&raw) {
            Ok(Value::Object(m)) => Some(m),
            _ => {
                v.verdict = Verdict::MetadataChanged;
                reasons.push(format!(
                    "metadata changed: {} is not a document's sidecar",
                    sidecar_file.display()
                ));
                None
            }
        }
    } else {
        v.verdict = Verdict::MetadataChanged;
        reasons.push(format!(
            "{} has no {} beside it: nothing vouches for this document's bytes",
            document.display(),
            evidence_proof::file::SIDECAR_SUFFIX
        ));
        None
    };
    if let Some(side) = &sidecar {
        let stated = side.get("document").and_then(|d| d.get("sha256")).and_then(Value::as_str);
        if stated != Some(digest.as_str()) {
            v.verdict = worst(v.verdict, Verdict::RowsChanged);
            reasons.push(format!(
                "document changed: its SHA-256 is {digest}, its sidecar states {}",
                stated.unwrap_or("none")
            ));
        }
        v.proof_type =
            side.get("proof").and_then(|p| p.get("proof_type")).and_then(Value::as_str).map(str::to_string);
        let mut statement = side.clone();
        match statement.remove("signature") {
            None => {
                v.verdict = worst(v.verdict, Verdict::Unsigned);
                reasons.push("unsigned: no signature vouches for the sidecar".into());
            }
            Some(sig) => match SignatureBlock::from_json_under(DOCUMENT_SCHEME, &sig) {
                Err(e) => {
                    v.verdict = worst(v.verdict, Verdict::MetadataChanged);
                    reasons.push(format!("metadata changed: {e:#}"));
                }
                Ok(block) if !block.holds_under(DOCUMENT_SCHEME, &statement, &block.public_key)? => {
                    v.verdict = worst(v.verdict, Verdict::MetadataChanged);
                    reasons.push(format!(
                        "signature invalid: the sidecar is not what key {} signed",
                        block.key_id
                    ));
                }
                Ok(block) => {
                    v.key_id = Some(block.key_id.clone());
                    match trusted {
                        Some(k) if *k != block.public_key => {
                            v.verdict = worst(v.verdict, Verdict::WrongKey);
                            reasons.push(format!(
                                "wrong key: signed by {}, not by {}",
                                block.key_id,
                                key_id(k)
                            ));
                        }
                        Some(_) => {
                            reasons.push(format!("the document's sidecar is signed by key {}", block.key_id))
                        }
                        None => {
                            v.verdict = worst(v.verdict, Verdict::Untrusted);
                            reasons.push(format!(
                                "signed by key {}, not checked against a trusted key (pass --public-key)",
                                block.key_id
                            ));
                        }
                    }
                }
            },
        }
    }
    if kind == DocumentKind::Pdf {
        let attached = attached_proof(&bytes, sidecar.as_ref(), trusted)?;
        v.verdict = worst(v.verdict, attached.0.verdict);
        v.rows = attached.0.rows;
        v.sha256 = attached.0.sha256.clone();
        v.proof_type = v.proof_type.or(attached.0.proof_type.clone());
        reasons.push(attached.1);
    } else if let Some(p) = sidecar.as_ref().and_then(|s| s.get("proof")) {
        v.rows = p.get("row_count").and_then(Value::as_u64).unwrap_or(0);
        v.sha256 = p.get("sha256").and_then(Value::as_str).unwrap_or_default().to_string();
    }
    if v.verdict == Verdict::Verified {
        reasons.insert(0, format!("verified: the document's bytes are the ones written (SHA-256 {digest})"));
    }
    v.reason = reasons.join("; ");
    Ok(v)
}

/// The PDF's attached proof, checked: against the sidecar's digests, then as a proof.
fn attached_proof(
    pdf: &[u8],
    sidecar: Option<&Map<String, Value>>,
    trusted: Option<&VerifyingKey>,
) -> anyhow::Result<(Verification, String)> {
    let fail = |verdict: Verdict, reason: String| {
        let v = Verification {
            verdict,
            reason: reason.clone(),
            proof_type: None,
            rows: 0,
            sha256: String::new(),
            key_id: None,
        };
        Ok((v, reason))
    };
    let files = match pdf_attachments(pdf, crate::MAX_PROOF_BYTES as usize) {
        Ok(f) => f,
        Err(e) => return fail(Verdict::RowsChanged, format!("the attached proof cannot be read: {e:#}")),
    };
    if files.is_empty() {
        return fail(Verdict::RowsChanged, "the PDF has no attached proof".into());
    }
    if let Some(listed) = sidecar.and_then(|s| s.get("attachments")).and_then(Value::as_array) {
        for item in listed {
            let name = item.get("name").and_then(Value::as_str).unwrap_or_default();
            let stated = item.get("sha256").and_then(Value::as_str).unwrap_or_default();
            match files.iter().find(|f| f.0 == name) {
                Some((_, data)) if sha256_hex(data) == stated => {}
                Some(_) => {
                    return fail(
                        Verdict::RowsChanged,
                        format!("attached {name} is not the file the sidecar names"),
                    );
                }
                None => return fail(Verdict::RowsChanged, format!("attached {name} is missing")),
            }
        }
    }
    // The proof is checked as `verify` checks any proof, from a private copy.
    let dir = tempfile::Builder::new().prefix("evidence-verify-").tempdir()?;
    let mut first = None;
    for (name, data) in &files {
        let safe: String =
            name.chars().filter(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_')).collect();
        anyhow::ensure!(
            !safe.is_empty() && !safe.starts_with('.'),
            "an attachment's name is not a file name"
        );
        let p = dir.path().join(&safe);
        std::fs::write(&p, data)?;
        if !safe.ends_with(evidence_proof::file::SIDECAR_SUFFIX) && first.is_none() {
            first = Some(p);
        }
    }
    let Some(proof) = first else {
        return fail(Verdict::RowsChanged, "the PDF has no attached proof".into());
    };
    let v = evidence_proof::verify(&proof, trusted)?;
    if let Some(stated) =
        sidecar.and_then(|s| s.get("proof")).and_then(|p| p.get("sha256")).and_then(Value::as_str)
        && stated != v.sha256
    {
        return fail(
            Verdict::RowsChanged,
            "the attached proof's rows are not the ones the sidecar names".into(),
        );
    }
    let reason = format!("attached proof: {}", v.reason);
    Ok((v, reason))
}
