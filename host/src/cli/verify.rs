//! `connector-host verify`: recomputes a proof's row digest from its rows, checks its metadata
//! against its signature and the signature's key against `--public-key`. The exit code says
//! which check failed (see `exit`).

use std::path::Path;

use evidence_proof::{self as proof, Verdict, signature};

use super::{Ui, exit};

pub fn run(ui: &Ui, proof_path: &Path, public_key: Option<&Path>) -> u8 {
    let trusted = match public_key.map(read_public_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return exit::CONFIG;
        }
    };
    let manifest = if proof_path.is_dir() { Some(proof_path.join("manifest.json")) } else { None };
    if let Some(manifest) = manifest.or_else(|| {
        (proof_path.file_name().is_some_and(|n| n == "manifest.json")).then(|| proof_path.to_path_buf())
    }) {
        return set(ui, &manifest, trusted.as_ref());
    }
    let checked = match evidence_render::document::DocumentKind::of_path(proof_path) {
        Some(_) => evidence_render::document::verify_document(proof_path, trusted.as_ref()),
        None => proof::verify(proof_path, trusted.as_ref()),
    };
    let v = match checked {
        Ok(v) => v,
        Err(e) => {
            ui.error(format!("cannot verify {}: {e:#}", proof_path.display()));
            return exit::CONFIG;
        }
    };
    let code = code_of(v.verdict);
    let what = v.proof_type.as_deref().unwrap_or("proof");
    // The verdict goes to standard output for scripts (what came from the file made safe for a
    // terminal), and a failure to standard error too.
    println!("{}", ui.shown(&format!("{}: {what}: {}", proof_path.display(), v.reason)));
    if code != exit::OK {
        ui.error(format!("{} does not verify (exit code {code})", proof_path.display()));
    }
    code
}

fn code_of(verdict: Verdict) -> u8 {
    match verdict {
        Verdict::Verified => exit::OK,
        Verdict::RowsChanged => exit::ROWS_CHANGED,
        Verdict::MetadataChanged => exit::METADATA_CHANGED,
        Verdict::WrongKey => exit::WRONG_KEY,
        Verdict::Unsigned => exit::UNSIGNED,
        Verdict::Untrusted => exit::UNTRUSTED,
    }
}

/// A set (`collect --all`'s folder): the manifest, then each proof it lists; the exit code is
/// the worst verdict's.
fn set(ui: &Ui, manifest: &Path, trusted: Option<&proof::VerifyingKey>) -> u8 {
    let s = match proof::verify_set(manifest, trusted) {
        Ok(s) => s,
        Err(e) => {
            ui.error(format!("cannot verify the set {}: {e:#}", manifest.display()));
            return exit::CONFIG;
        }
    };
    let shown = |t: &str| ui.shown(t).into_owned();
    println!("{}: {}", manifest.display(), shown(&s.manifest.reason));
    for (file, v) in &s.proofs {
        println!("  {}: {}", shown(file), shown(&v.reason));
    }
    for (id, why) in &s.not_collected {
        println!("  {}: not collected ({})", shown(id), shown(why));
    }
    let code = code_of(s.verdict);
    if code != exit::OK {
        ui.error(format!("the set {} does not verify (exit code {code})", manifest.display()));
    }
    code
}

fn read_public_key(path: &Path) -> anyhow::Result<proof::VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the public key {}: {e}", path.display()))?;
    signature::read_public_pem(&text).map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))
}
