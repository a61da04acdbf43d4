//! `connector-host keygen`: an Ed25519 key pair to sign proofs with. The private key file is
//! created readable by its owner only (0600) and never overwritten unless asked; the public key
//! goes beside it as `KEY.pub`, to hand to auditors.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use evidence_proof::signature;

use super::{Ui, exit};

pub fn run(ui: &Ui, out: &Path, force: bool) -> u8 {
    match write_pair(out, force) {
        Ok((public, id)) => {
            ui.info(format!("private key: {} (mode 0600: keep it secret)", out.display()));
            ui.info(format!("public key:  {} (give it to whoever verifies your proofs)", public.display()));
            println!("key id {id}");
            exit::OK
        }
        Err((code, e)) => {
            ui.error(format!("{e:#}"));
            code
        }
    }
}

/// `KEY` + `.pub`.
pub fn public_path(private: &Path) -> PathBuf {
    let mut name = private.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

fn write_pair(out: &Path, force: bool) -> Result<(PathBuf, String), (u8, anyhow::Error)> {
    let public = public_path(out);
    for path in [out, public.as_path()] {
        if !force && std::fs::symlink_metadata(path).is_ok() {
            return Err((
                exit::CONFIG,
                anyhow::anyhow!("{} exists; keep it, or add --force to replace the key pair", path.display()),
            ));
        }
    }
    let host = |e: anyhow::Error| (exit::HOST, e);
    let key = signature::generate().map_err(host)?;
    let private_pem = signature::private_pem(&key).map_err(host)?;
    let public_pem = signature::public_pem(&key.verifying_key()).map_err(host)?;
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let written = (|| -> anyhow::Result<()> {
        std::fs::create_dir_all(dir)?;
        // A temporary file is created 0600 and renamed into place: the key is never readable
        // by others, not even for a moment.
        let mut temp = tempfile::Builder::new().prefix(".key-").tempfile_in(dir)?;
        temp.write_all(private_pem.as_bytes())?;
        temp.as_file().sync_all()?;
        temp.persist(out).map_err(|e| e.error)?;
        evidence_proof::output::write_atomic(&public, public_pem.as_bytes())?;
        Ok(())
    })();
    written.map_err(|e| (exit::HOST, e.context(format!("writing the key pair to {}", out.display()))))?;
    Ok((public, signature::key_id(&key.verifying_key())))
}

/// Reads the private key `--sign-key` names, refusing a file others can read.
pub fn read_signing_key(path: &Path) -> anyhow::Result<evidence_proof::SigningKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read the signing key {}: {e}", path.display()))?
            .permissions()
            .mode();
        anyhow::ensure!(
            mode & 0o077 == 0,
            "the signing key {} can be read by others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read the signing key {}: {e}", path.display()))?;
    signature::read_private_pem(&text).map_err(|e| anyhow::anyhow!("{}: {e:#}", path.display()))
}
