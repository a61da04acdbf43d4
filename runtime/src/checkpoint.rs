//! Checkpoints of collects written to a file: beside `FILE` the rows so far stay in
//! `FILE.partial` and `FILE.checkpoint` says where to continue (proof type, criteria,
//! platform, API URL, format, the next page's cursor, counts, warnings, and the provenance so
//! far: start time, criteria applied, login, role, connector; never credentials). Written
//! after every page; removed when the proof is complete.
//!
//! A checkpoint binds the partial file (length, digest, row count, last row), the cursor, the
//! counts and the metadata. A collect that signs its proof signs its checkpoint with the same
//! key (scheme [`CHECKPOINT_SCHEME`]), and a resume that signs refuses a checkpoint whose
//! signature does not hold for that key: a signed proof vouches only for rows this collector
//! fetched, or read back from a checkpoint it signed itself.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use evidence_proof::signature::CHECKPOINT_SCHEME;
use evidence_proof::{
    PageContext, PageSink, ProofWriter, Provenance, SignatureBlock, SigningKey, Value, Warning, WriterState,
    output,
};
use serde::{Deserialize, Serialize};

/// Format version of the checkpoint file (2: with the provenance so far; 3: the last row's
/// digest, and a signature when the proof is signed).
const VERSION: u32 = 3;

/// Where an interrupted collect stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Checkpoint {
    /// The checkpoint format's version.
    pub version: u32,
    /// The proof type id.
    pub proof_type: String,
    /// Criteria as given.
    pub criteria: Vec<(String, String)>,
    /// The platform code.
    pub platform: String,
    /// The API server's URL.
    pub api_url: String,
    /// The proof format's name.
    pub format: String,
    /// The login collecting.
    pub login: String,
    /// SHA-256 of the connector component collecting.
    pub component_sha256: String,
    /// When the collect started (the proof's `collected_at`).
    pub collected_at: String,
    /// The cursor of the next page to collect.
    pub next_cursor: String,
    /// Pages kept so far.
    pub pages: u64,
    /// Requests sent so far, failed ones included.
    pub requests: u64,
    /// What `FILE.partial` holds.
    pub writer: WriterState,
    /// The proof's provenance so far (its pages and requests are those above).
    pub provenance: Provenance,
    /// The signature over everything above ([`CHECKPOINT_SCHEME`]), when the proof is signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<serde_json::Value>,
}

/// What a run is, to check a checkpoint belongs to it.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The proof type id.
    pub proof_type: String,
    /// Criteria as given.
    pub criteria: Vec<(String, String)>,
    /// The platform code.
    pub platform: String,
    /// The API server's URL.
    pub api_url: String,
    /// The proof format's name.
    pub format: String,
    /// The login collecting.
    pub login: String,
    /// SHA-256 of the connector component collecting.
    pub component_sha256: String,
}

/// `FILE.checkpoint`.
pub fn path_for(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".checkpoint");
    PathBuf::from(name)
}

/// The checkpoint beside `target`, if there is one.
pub fn load(target: &Path) -> anyhow::Result<Option<Checkpoint>> {
    let path = path_for(target);
    if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
        anyhow::bail!(
            "{} is a symbolic link; a checkpoint is never read through a link. Remove it, and start the collect again",
            path.display()
        );
    }
    let text = match output::open_no_follow(&path).and_then(std::io::read_to_string) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let version = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["version"].as_u64());
    anyhow::ensure!(
        version == Some(u64::from(VERSION)),
        "{} was written by another version of this host; delete it and its .partial file, and start \
         the collect again",
        path.display()
    );
    let cp: Checkpoint = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a checkpoint this version can read", path.display()))?;
    anyhow::ensure!(cp.version == VERSION, "{} was written by another version", path.display());
    Ok(Some(cp))
}

/// Writes the checkpoint beside `target`, signed with `key` when given.
pub fn save(target: &Path, cp: &Checkpoint, key: Option<&SigningKey>) -> anyhow::Result<()> {
    let mut cp = cp.clone();
    cp.signature = match key {
        Some(key) => Some(
            SignatureBlock::sign_under(CHECKPOINT_SCHEME, key, &cp.statement()?)?
                .to_json_under(CHECKPOINT_SCHEME),
        ),
        None => None,
    };
    output::write_atomic(&path_for(target), &serde_json::to_vec_pretty(&cp)?)
}

/// Removes the checkpoint and, with `partial`, the partial file.
pub fn discard(target: &Path, partial: bool) {
    let _ = std::fs::remove_file(path_for(target));
    if partial {
        let _ = std::fs::remove_file(output::partial_path(target));
    }
}

impl Checkpoint {
    /// What the signature covers: the checkpoint as this version reads it, without `signature`.
    fn statement(&self) -> anyhow::Result<serde_json::Map<String, serde_json::Value>> {
        let mut value = serde_json::to_value(self)?;
        let map = value.as_object_mut().context("a checkpoint is an object")?;
        map.remove("signature");
        Ok(std::mem::take(map))
    }

    /// Checks the checkpoint's signature for a run signing with `key`; returns the key id it
    /// was signed with (`None` for a run that does not sign, whose resume records an unsigned
    /// checkpoint). The error says what to do.
    pub fn vouched_by(&self, key: Option<&SigningKey>) -> Result<Option<String>, String> {
        let Some(key) = key else { return Ok(None) };
        let public = key.verifying_key();
        let refuse = |why: &str| {
            format!(
                "{why}; a signed proof vouches only for rows this collector fetched or read back from a \
                 checkpoint it signed. Start the collect again (delete the .checkpoint and .partial files), \
                 or resume without --sign-key"
            )
        };
        let Some(value) = &self.signature else {
            return Err(refuse(
                "the checkpoint is not signed (the collect that wrote it ran without --sign-key)",
            ));
        };
        let block = SignatureBlock::from_json_under(CHECKPOINT_SCHEME, value)
            .map_err(|e| refuse(&format!("the checkpoint's signature is unreadable ({e})")))?;
        let statement = self.statement().map_err(|e| refuse(&e.to_string()))?;
        match block.holds_under(CHECKPOINT_SCHEME, &statement, &public) {
            Ok(true) if block.public_key == public => Ok(Some(block.key_id)),
            _ => Err(refuse(
                "the checkpoint's signature does not hold for this key: it was changed, or signed with another key",
            )),
        }
    }

    /// Why this checkpoint cannot continue `run`, naming what differs; `None` when it can.
    pub fn mismatch(&self, run: &Identity) -> Option<String> {
        let mut given = run.criteria.clone();
        let mut saved = self.criteria.clone();
        given.sort();
        saved.sort();
        let differs = [
            ("proof type", self.proof_type != run.proof_type, self.proof_type.clone()),
            ("criteria", saved != given, format_criteria(&self.criteria)),
            ("platform", !self.platform.eq_ignore_ascii_case(&run.platform), self.platform.clone()),
            ("API URL", self.api_url != run.api_url, self.api_url.clone()),
            ("format", self.format != run.format, self.format.clone()),
            ("login", self.login != run.login, self.login.clone()),
            (
                "connector component (sha256)",
                self.component_sha256 != run.component_sha256,
                self.component_sha256.clone(),
            ),
        ];
        differs.iter().find(|(_, differ, _)| *differ).map(|(what, _, saved)| {
            format!("the checkpoint was written for {what} {saved}; resume with the same {what}")
        })
    }
}

fn format_criteria(c: &[(String, String)]) -> String {
    if c.is_empty() {
        return "(none)".into();
    }
    c.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(" ")
}

/// Sees each page's rows before it is checkpointed, and may complete the provenance (e.g. the
/// account's role, when the rows name it).
pub type PageObserver = Box<dyn FnMut(&[Vec<Value>], &mut Provenance) + Send>;

/// The proof writer of a resumable collect: writes each page, lets an observer complete the
/// provenance, and, for a collect to a file, saves a checkpoint after every page it keeps.
pub struct CheckpointedSink {
    /// The proof being written.
    pub writer: ProofWriter,
    /// The proof file; `None` for standard output and devices (no checkpoint).
    pub target: Option<PathBuf>,
    /// What the run is.
    pub identity: Identity,
    /// When the collect started (the proof's `collected_at`).
    pub collected_at: String,
    /// Pages and requests of earlier runs of this proof (resumed).
    pub before: (u64, u64),
    /// Whether a checkpoint is on disk for this run.
    pub saved: bool,
    /// Signs each checkpoint when the proof is signed.
    pub signer: Option<SigningKey>,
    /// Sees each page's rows (see [`PageObserver`]).
    pub observer: Option<PageObserver>,
}

impl CheckpointedSink {
    /// The checkpoint for a collect that continues at `cursor`.
    pub fn checkpoint(&mut self, cursor: &str) -> anyhow::Result<Checkpoint> {
        let state = self.writer.checkpoint()?.context("the proof writer is not resumable")?;
        let provenance = self.writer.provenance().clone();
        Ok(Checkpoint {
            version: VERSION,
            proof_type: self.identity.proof_type.clone(),
            criteria: self.identity.criteria.clone(),
            platform: self.identity.platform.clone(),
            api_url: self.identity.api_url.clone(),
            format: self.identity.format.clone(),
            login: self.identity.login.clone(),
            component_sha256: self.identity.component_sha256.clone(),
            collected_at: self.collected_at.clone(),
            next_cursor: cursor.to_string(),
            pages: provenance.pages,
            requests: provenance.requests,
            writer: state,
            provenance,
            signature: None,
        })
    }
}

impl PageSink for CheckpointedSink {
    fn write_page(
        &mut self,
        rows: &[Vec<Value>],
        warnings: &[Warning],
        at: &PageContext<'_>,
    ) -> anyhow::Result<()> {
        self.writer.write_page(rows, warnings, at)?;
        if let Some(observe) = &mut self.observer {
            observe(rows, self.writer.provenance_mut());
        }
        let (Some(target), Some(cursor)) = (self.target.clone(), at.next_cursor) else { return Ok(()) };
        let cp = self.checkpoint(cursor)?;
        save(&target, &cp, self.signer.as_ref())?;
        self.saved = true;
        Ok(())
    }
}
