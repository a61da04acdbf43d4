//! `collect --all`: every proof type into a folder, with a manifest of their digests (signed
//! with the proofs' key), resumable: the manifest's own checkpoint lists the proofs complete.

use std::path::Path;

use evidence_proof::{Manifest, ManifestEntry, NotCollected, Verdict, output};
use serde::{Deserialize, Serialize};

use super::*;

impl Job<'_> {
    /// Every proof type into `dir`, with a manifest of digests. With --resume, proof types
    /// already complete are kept and the interrupted one continues.
    pub async fn all(&self, dir: &Path) -> u8 {
        let ui = self.ui;
        let types = match self.runtime.list_proof_types().await {
            Ok(t) => t,
            Err(e) => {
                ui.error(e.to_string());
                return exit::code(&e);
            }
        };
        let manifest_path = dir.join("manifest.json");
        let mut run = match self.all_checkpoint(&manifest_path) {
            Ok(r) => r,
            Err(code) => return code,
        };
        // What the earlier run recorded as complete is read back from disk: each is kept only if
        // its file still holds the proof recorded, and verifies (under the signing key when
        // signing); otherwise it is collected again.
        let key = self.signer.as_ref().map(SigningKey::verifying_key);
        run.done.retain(|entry| {
            let wanted = if key.is_some() { Verdict::Verified } else { Verdict::Unsigned };
            let kept = proof::verify_entry(dir, entry, key.as_ref()).is_ok_and(|v| v.verdict == wanted);
            if !kept {
                ui.info(format!(
                    "{}: {} is not the proof the earlier run completed; collecting it again",
                    entry.proof_type, entry.file
                ));
            }
            kept
        });
        let mut worst = exit::OK;
        for t in &types {
            if run.done.iter().any(|e| e.proof_type == t.id) {
                ui.info(format!("{}: complete in an earlier run, checked and kept", t.id));
                continue;
            }
            let path = dir.join(format!("{}.{}", t.id, self.format.extension()));
            // A resumed set continues the proof type that has a checkpoint; the others start anew.
            let resume = self.resume && checkpoint::path_for(&path).exists();
            let (code, summary) = self.one(&t.id, &[], Some(&path), resume).await;
            // The document beside the proof, listed with it: the set vouches for both.
            let summary = match (summary, self.document) {
                (Some(done), Some(kind)) => {
                    let document = dir.join(format!("{}.{}", t.id, kind.name()));
                    match self.render(&t.id, &path, &document, kind).await {
                        exit::OK => Some((done, Some(document))),
                        failed => {
                            worst = worst.max(failed);
                            Some((done, None))
                        }
                    }
                }
                (done, _) => done.map(|d| (d, None)),
            };
            match summary {
                Some(((s, stats), document)) => {
                    let mut entry = ManifestEntry::of(&t.id, &path, &s, stats.pages);
                    if let Some(d) = document {
                        entry.documents.push(evidence_proof::manifest::DocumentEntry::of(&d));
                    }
                    run.done.push(entry);
                    if let Err(e) = output::write_atomic(
                        &checkpoint::path_for(&manifest_path),
                        &serde_json::to_vec_pretty(&run).expect("json"),
                    ) {
                        ui.error(format!("{e:#}"));
                        return exit::HOST;
                    }
                }
                None if code == exit::INTERRUPTED || checkpoint::path_for(&path).exists() => {
                    // The rest would fail alike or was not asked for; resume later.
                    return code;
                }
                None => {
                    run.failed
                        .push(NotCollected { proof_type: t.id.clone(), error: format!("exit code {code}") });
                    worst = worst.max(code);
                }
            }
        }
        // Signed with the proofs' key: no proof can leave or join the set unnoticed.
        let manifest = Manifest {
            collected_at: run.collected_at,
            platform: run.platform,
            api_url: run.api_url,
            format: run.format,
            proofs: run.done,
            not_collected: run.failed,
        };
        let manifest = match manifest.to_json(self.signer.as_ref()) {
            Ok(m) => m,
            Err(e) => {
                ui.error(format!("signing the manifest: {e:#}"));
                return exit::HOST;
            }
        };
        let text = serde_json::to_vec_pretty(&manifest).expect("json");
        if let Err(e) = output::write_atomic(&manifest_path, &text) {
            ui.error(format!("{e:#}"));
            return exit::HOST;
        }
        let _ = std::fs::remove_file(checkpoint::path_for(&manifest_path));
        worst
    }

    /// The `--all` run's own checkpoint (`manifest.json.checkpoint`): the proof types already
    /// complete, so a resumed run keeps them.
    fn all_checkpoint(&self, manifest: &Path) -> Result<AllRun, u8> {
        let path = checkpoint::path_for(manifest);
        let fresh = AllRun {
            collected_at: connector_runtime::now_rfc3339(),
            platform: self.tenant.config.platform.to_ascii_uppercase(),
            api_url: self.tenant.config.api_url.clone(),
            format: self.format.name().to_string(),
            done: Vec::new(),
            failed: Vec::new(),
        };
        let saved: Option<AllRun> = std::fs::read(&path).ok().and_then(|b| serde_json::from_slice(&b).ok());
        match (self.resume, saved) {
            (true, Some(run)) => {
                if run.platform != fresh.platform
                    || run.api_url != fresh.api_url
                    || run.format != fresh.format
                {
                    self.ui.error(format!(
                        "cannot resume: {} was written for platform {} ({}), format {}",
                        path.display(),
                        run.platform,
                        run.api_url.as_deref().unwrap_or("its API server"),
                        run.format
                    ));
                    return Err(exit::CONFIG);
                }
                Ok(AllRun { failed: Vec::new(), ..run })
            }
            (false, Some(_)) => {
                self.ui.error(format!(
                    "an interrupted collect --all is waiting in {}; continue it by adding --resume, or delete \
                     its checkpoint files to start over",
                    path.parent().unwrap_or(Path::new(".")).display()
                ));
                Err(exit::CONFIG)
            }
            (_, None) => Ok(fresh),
        }
    }
}

/// Where a `collect --all` run stands.
#[derive(Debug, Serialize, Deserialize)]
struct AllRun {
    collected_at: String,
    platform: String,
    api_url: Option<String>,
    format: String,
    /// Manifest entries of the proof types complete so far.
    done: Vec<ManifestEntry>,
    #[serde(skip)]
    failed: Vec<NotCollected>,
}
