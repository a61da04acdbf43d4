//! `connector-host verify`: recomputes a proof's row digest from its rows, checks its metadata
//! against its signature and the signature's key against `--public-key`. The exit code says
//! which check failed (see `exit`).

use std::path::Path;

use connector_runtime::proof::{self, Verdict, signature};

use super::{Ui, exit};

pub fn run(ui: &Ui, proof_path: &Path, public_key: Option<&Path>) -> u8 {
    let trusted = match public_key.map(read_public_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return exit::CONFIG;
        }
    };
    let v = match proof::verify(proof_path, trusted.as_ref()) {
        Ok(v) => v,
        Err(e) => {
            ui.error(format!("cannot verify {}: {e:#}", proof_path.display()));
            return exit::CONFIG;
        }
    };
    let code = match v.verdict {
        Verdict::Verified => exit::OK,
        Verdict::RowsChanged => exit::ROWS_CHANGED,
        Verdict::MetadataChanged => exit::METADATA_CHANGED,
        Verdict::WrongKey => exit::WRONG_KEY,
        Verdict::Unsigned => exit::UNSIGNED,
        Verdict::Untrusted => exit::UNTRUSTED,
    };
    let what = v.proof_type.as_deref().unwrap_or("proof");
    if code == exit::OK {
        println!("{}: {what}: {}", proof_path.display(), v.reason);
    } else {
        // The verdict goes to standard output for scripts, and the failure to standard error.
        println!("{}: {what}: {}", proof_path.display(), v.reason);
        ui.error(format!("{} does not verify (exit code {code})", proof_path.display()));
    }
    code
}

fn read_public_key(path: &Path) -> anyhow::Result<proof::VerifyingKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the public key {}: {e}", path.display()))?;
    signature::read_public_pem(&text).map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))
}
