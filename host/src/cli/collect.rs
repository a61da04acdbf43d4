//! `connector-host collect`: one proof type to a file or standard output, or every proof type
//! into a folder with a manifest of digests. A collect to a file keeps a checkpoint after
//! every page; a failure or Ctrl-C leaves it, and `--resume` continues from it. Every proof
//! carries its provenance; with `--sign-key` it is signed.

use std::path::{Path, PathBuf};
use std::time::Instant;

use connector_runtime::CallError;
use connector_runtime::types::{ConnectorError, ProofType};
use connector_runtime::{
    CollectOptions, CollectRequest, CollectStats, Progress, Runtime, Tenant, collect_proof, fields_of,
};
use evidence_proof::signature::MANIFEST_SCHEME;
use evidence_proof::{
    self as proof, AccountInfo, ConnectorInfo, Format, HostInfo, ProofMeta, ProofSummary, ProofWriter,
    Provenance, Resumption, SignatureBlock, SigningKey, Value, Verdict, output,
};
use serde::{Deserialize, Serialize};

use super::component::Loader;
use super::target::Target;
use super::{Ui, exit};
use connector_runtime::checkpoint::{self, CheckpointedSink, Identity, PageObserver};

/// What to collect.
pub enum What {
    One { id: String, output: Option<PathBuf> },
    All { dir: PathBuf },
}

/// How a collect vouches for its proofs.
pub struct Vouching {
    /// The private key to sign with (`--sign-key`).
    pub sign_key: Option<PathBuf>,
    /// Call `connect` first to record the account's role (`--record-role`).
    pub record_role: bool,
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    loader: &Loader,
    ui: &Ui,
    target: &Target,
    what: What,
    criteria: &[(String, String)],
    format: Format,
    resume: bool,
    vouching: &Vouching,
) -> u8 {
    if let (What::One { output: None, .. }, Some(_), Format::Jsonl | Format::Csv) =
        (&what, &vouching.sign_key, format)
    {
        ui.error(format!(
            "a signed {} proof needs --output FILE: its signature goes in FILE.proof.json",
            format.name()
        ));
        return exit::CONFIG;
    }
    let signer = match vouching.sign_key.as_deref().map(super::keygen::read_signing_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return exit::CONFIG;
        }
    };
    let (tenant, runtime) = match target.open(ui, loader) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let mut account = AccountInfo { login: Some(tenant.config.username.clone()), ..AccountInfo::default() };
    if vouching.record_role {
        // One connect: the calls `connect` makes, spent only when asked for.
        match runtime.connect(&tenant).await.result {
            Ok(a) => {
                account.login = Some(a.login);
                account.role_source = a.role.is_some().then(|| "connect".to_string());
                account.role = a.role;
            }
            Err(e) => {
                ui.error(format!("--record-role: connect failed: {e}"));
                return exit::code(&e);
            }
        }
    }
    let job = Job {
        runtime: &runtime,
        ui,
        tenant: &tenant,
        format,
        resume,
        connector: loader.connector_info(&runtime).await,
        account,
        signer,
    };
    match what {
        What::One { id, output } => {
            if resume && output.is_none() {
                ui.error("--resume continues a collect written to a file: give the same --output");
                return exit::CONFIG;
            }
            job.one(&id, criteria, output.as_deref(), resume).await.0
        }
        What::All { dir } => {
            if !criteria.is_empty() {
                ui.error("--criteria applies to one proof type; use --proof-type with it");
                return exit::CONFIG;
            }
            job.all(&dir).await
        }
    }
}

/// One collect run's settings.
pub struct Job<'a> {
    pub runtime: &'a Runtime,
    pub ui: &'a Ui,
    pub tenant: &'a Tenant,
    pub format: Format,
    pub resume: bool,
    /// The connector, for provenance.
    pub connector: ConnectorInfo,
    /// The account, for provenance (login; role when known).
    pub account: AccountInfo,
    /// Signs every proof when set.
    pub signer: Option<SigningKey>,
}

/// How one proof ended.
enum Outcome {
    Done(Box<(ProofSummary, CollectStats)>),
    Failed(u8),
}

impl Job<'_> {
    /// Collects one proof, continuing it from its checkpoint when `resume`; returns the exit
    /// code and, on success, its summary.
    pub async fn one(
        &self,
        id: &str,
        criteria: &[(String, String)],
        output: Option<&Path>,
        resume: bool,
    ) -> (u8, Option<(ProofSummary, CollectStats)>) {
        match self.one_outcome(id, criteria, output, resume).await {
            Outcome::Done(done) => (exit::OK, Some(*done)),
            Outcome::Failed(code) => (code, None),
        }
    }

    /// One proof; `resume` continues it from its checkpoint.
    async fn one_outcome(
        &self,
        id: &str,
        criteria: &[(String, String)],
        output: Option<&Path>,
        resume: bool,
    ) -> Outcome {
        let ui = self.ui;
        let proof = match find(self.runtime, ui, id).await {
            Ok(p) => p,
            Err(code) => return Outcome::Failed(code),
        };
        let identity = Identity {
            proof_type: proof.id.clone(),
            criteria: criteria.to_vec(),
            platform: self.tenant.config.platform.to_ascii_uppercase(),
            api_url: super::target::api_base(
                &self.tenant.config.platform,
                self.tenant.config.api_url.as_deref(),
            )
            .map(|b| b.url())
            .unwrap_or_default(),
            format: self.format.name().to_string(),
            login: self.tenant.config.username.clone(),
            component_sha256: self.runtime.info().component_sha256.clone(),
        };
        let destination = match output::resolve(output) {
            Ok(d) => d,
            Err(e) => {
                ui.error(format!("{e:#}"));
                return Outcome::Failed(exit::CONFIG);
            }
        };
        if resume && destination.file().is_none() {
            ui.error("--resume continues a collect written to a regular file: give the same --output");
            return Outcome::Failed(exit::CONFIG);
        }
        let resumable = destination.file();
        // Held until this proof's outcome is settled, checkpoint included.
        let _lock = match resumable.map(output::OutputLock::acquire).transpose() {
            Ok(lock) => lock,
            Err(e) => {
                ui.error(format!("{e:#}"));
                return Outcome::Failed(exit::CONFIG);
            }
        };
        let started = Instant::now();
        let (mut sink, cursor): (CheckpointedSink, Option<String>) = match resumable {
            Some(target) => match self.checkpointed(&proof, &identity, target, resume) {
                Ok(opened) => opened,
                Err(code) => return Outcome::Failed(code),
            },
            None => {
                let collected_at = connector_runtime::now_rfc3339();
                let meta =
                    meta_of(&proof, &identity, collected_at.clone(), self.runtime.declared_key(&proof));
                let writer = ProofWriter::create(output, self.format, &meta, &fields_of(&proof))
                    .and_then(|w| self.vouched(w, self.provenance(&collected_at)));
                match writer {
                    Ok(writer) => (
                        CheckpointedSink {
                            writer,
                            target: None,
                            identity: identity.clone(),
                            collected_at,
                            before: (0, 0),
                            saved: false,
                            signer: None,
                            observer: role_learner(&proof, &identity.login),
                        },
                        None,
                    ),
                    Err(e) => {
                        ui.error(format!("{e:#}"));
                        return Outcome::Failed(exit::HOST);
                    }
                }
            }
        };
        let bar = ui.spinner(&proof.id);
        let (ui2, bar2) = (ui.clone(), bar.clone());
        // The service as the component names itself (a 0.2.0 component cannot).
        let service = self.connector.service.clone().unwrap_or_else(|| "the service's".into());
        let mut on_progress = move |p: &Progress| match p {
            Progress::Page { pages, rows, .. } => {
                if let Some(b) = &bar2 {
                    b.set_message(format!("{rows} rows, {pages} pages"));
                }
            }
            Progress::Waiting { seconds, message } => {
                let text = format!("{service} rate limit: waiting {seconds}s, then resuming ({message})");
                match &bar2 {
                    Some(b) => b.println(text),
                    None => ui2.info(text),
                }
            }
        };
        let request = CollectRequest { proof: &proof, criteria, cursor };
        let options = CollectOptions::default();
        let collect =
            collect_proof(self.runtime, self.tenant, request, &mut sink, &options, &mut on_progress);
        let result = tokio::select! {
            r = collect => Some(r),
            _ = interrupted() => None,
        };
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        match result {
            Some(Ok(stats)) => {
                let before = sink.before;
                self.finished(&proof.id, sink.writer.finish(), stats, before, resumable, started)
            }
            Some(Err(e)) => {
                ui.error(format!("{}: {}", proof.id, e.error));
                let bad_cursor = matches!(&e.error, CallError::Connector(ConnectorError::InvalidCursor(_)));
                match resumable.filter(|_| bad_cursor && sink.before.0 > 0) {
                    // Resuming again would fail the same way: say how to start over instead.
                    Some(target) => ui.error(format!(
                        "{}: the checkpoint's cursor cannot continue this collect; delete {} and {} and \
                         collect again without --resume",
                        proof.id,
                        checkpoint::path_for(target).display(),
                        output::partial_path(target).display()
                    )),
                    None => self.keep_or_discard(sink, resumable, &proof.id, Some(e.stats.requests)),
                }
                Outcome::Failed(exit::code(&e.error))
            }
            None => {
                ui.error(format!("{}: interrupted", proof.id));
                self.keep_or_discard(sink, resumable, &proof.id, None);
                Outcome::Failed(exit::INTERRUPTED)
            }
        }
    }

    /// Reports a finished proof (or the failure to finish it).
    fn finished(
        &self,
        id: &str,
        finished: anyhow::Result<ProofSummary>,
        stats: CollectStats,
        (pages, requests): (u64, u64),
        resumable: Option<&Path>,
        started: Instant,
    ) -> Outcome {
        let ui = self.ui;
        match finished {
            Ok(summary) => {
                if let Some(target) = resumable {
                    checkpoint::discard(target, false);
                }
                for (code, message) in &summary.warnings {
                    ui.info(format!("warning [{code}]: {message}"));
                }
                ui.info(format!(
                    "{}: {} rows, {}, {} in {:.1}s{}; sha256 {}{}{}{}",
                    id,
                    summary.row_count,
                    count(pages + stats.pages, "page", "pages"),
                    count(requests + stats.requests, "request", "requests"),
                    started.elapsed().as_secs_f64(),
                    if pages > 0 { format!(" (resumed after page {pages})") } else { String::new() },
                    summary.sha256,
                    summary.path.as_ref().map(|p| format!(" → {}", p.display())).unwrap_or_default(),
                    summary
                        .sidecar
                        .as_ref()
                        .map(|p| format!(" (metadata in {})", p.display()))
                        .unwrap_or_default(),
                    summary.signed_by.as_ref().map(|k| format!("; signed by key {k}")).unwrap_or_default(),
                ));
                Outcome::Done(Box::new((summary, stats)))
            }
            Err(e) => {
                ui.error(format!("{e:#}"));
                Outcome::Failed(exit::HOST)
            }
        }
    }

    /// Opens the checkpointed writer for `target`: a new one, or, with --resume, the one its
    /// checkpoint describes (after checking it belongs to this run).
    fn checkpointed(
        &self,
        proof: &ProofType,
        identity: &Identity,
        target: &Path,
        resume: bool,
    ) -> Result<(CheckpointedSink, Option<String>), u8> {
        let ui = self.ui;
        let saved = checkpoint::load(target).map_err(|e| {
            ui.error(format!("{e:#}"));
            exit::CONFIG
        })?;
        let fail = |code: u8, message: String| {
            ui.error(message);
            code
        };
        match (resume, saved) {
            (true, Some(cp)) => {
                if let Some(why) = cp.mismatch(identity) {
                    return Err(fail(exit::CONFIG, format!("cannot resume {}: {why}", target.display())));
                }
                let signed_by = cp.vouched_by(self.signer.as_ref()).map_err(|why| {
                    fail(exit::CONFIG, format!("cannot resume {}: {why}", target.display()))
                })?;
                let meta =
                    meta_of(proof, identity, cp.collected_at.clone(), self.runtime.declared_key(proof));
                // What this run knows itself (connector, host, account and role) is its own, not
                // read back; the rest is the checkpoint's, and the resumption says how it was
                // vouched for. Pages and requests are totals.
                let mut resumed = cp.provenance.resumed.clone();
                resumed.push(Resumption {
                    at: connector_runtime::now_rfc3339(),
                    rows_from_partial: cp.writer.rows,
                    pages_before: cp.pages,
                    checkpoint_signed_by: signed_by,
                });
                let provenance = Provenance {
                    pages: cp.pages,
                    requests: cp.requests,
                    criteria_applied: cp.provenance.criteria_applied.clone(),
                    resumed,
                    ..self.provenance(&cp.provenance.started_at)
                };
                let writer = ProofWriter::resume(target, self.format, &meta, &fields_of(proof), &cp.writer)
                    .and_then(|w| self.vouched(w, provenance))
                    .map_err(|e| fail(exit::CONFIG, format!("cannot resume {}: {e:#}", target.display())))?;
                ui.info(format!(
                    "{}: resuming after page {} ({} rows kept in {})",
                    proof.id,
                    cp.pages,
                    cp.writer.rows,
                    output::partial_path(target).display()
                ));
                let sink = CheckpointedSink {
                    writer,
                    target: Some(target.to_path_buf()),
                    identity: identity.clone(),
                    collected_at: cp.collected_at.clone(),
                    before: (cp.pages, cp.requests),
                    saved: true,
                    signer: self.signer.clone(),
                    observer: role_learner(proof, &identity.login),
                };
                Ok((sink, Some(cp.next_cursor)))
            }
            (true, None) => Err(fail(
                exit::CONFIG,
                format!(
                    "there is no checkpoint beside {} to resume; run the collect without --resume",
                    target.display()
                ),
            )),
            (false, Some(_)) => Err(fail(
                exit::CONFIG,
                format!(
                    "an interrupted collect of {} is waiting in {}; continue it by adding --resume, or delete {} \
                     and {} to start over",
                    target.display(),
                    output::partial_path(target).display(),
                    checkpoint::path_for(target).display(),
                    output::partial_path(target).display()
                ),
            )),
            (false, None) => {
                let collected_at = connector_runtime::now_rfc3339();
                let meta = meta_of(proof, identity, collected_at.clone(), self.runtime.declared_key(proof));
                let writer = ProofWriter::create_resumable(target, self.format, &meta, &fields_of(proof))
                    .and_then(|w| self.vouched(w, self.provenance(&collected_at)))
                    .map_err(|e| fail(exit::HOST, format!("{e:#}")))?;
                let sink = CheckpointedSink {
                    writer,
                    target: Some(target.to_path_buf()),
                    identity: identity.clone(),
                    collected_at,
                    before: (0, 0),
                    saved: false,
                    signer: self.signer.clone(),
                    observer: role_learner(proof, &identity.login),
                };
                Ok((sink, None))
            }
        }
    }

    /// The provenance of a proof this run starts.
    fn provenance(&self, started_at: &str) -> Provenance {
        Provenance {
            connector: self.connector.clone(),
            host: host_info(),
            account: self.account.clone(),
            started_at: started_at.to_string(),
            ..Provenance::default()
        }
    }

    /// The writer with its provenance, and the signing key when signing.
    fn vouched(&self, mut writer: ProofWriter, provenance: Provenance) -> anyhow::Result<ProofWriter> {
        writer.set_provenance(provenance);
        if let Some(key) = &self.signer {
            writer.set_signer(key.clone())?;
        }
        Ok(writer)
    }

    /// After a failure: a checkpointed proof keeps its partial file and checkpoint (counting
    /// the requests of this run's failed calls, `requests` when known), and the user is told
    /// how to continue; anything else leaves nothing behind.
    fn keep_or_discard(
        &self,
        sink: CheckpointedSink,
        target: Option<&Path>,
        id: &str,
        requests: Option<u64>,
    ) {
        let (kept, before) = (sink.saved, sink.before);
        drop(sink);
        let Some(target) = target else { return };
        if !kept {
            checkpoint::discard(target, true);
            return;
        }
        match checkpoint::load(target) {
            Ok(Some(mut cp)) => {
                if let Some(n) = requests.map(|n| before.1 + n).filter(|n| *n > cp.requests) {
                    cp.requests = n;
                    cp.provenance.requests = n;
                    let _ = checkpoint::save(target, &cp, self.signer.as_ref());
                }
                self.ui.error(format!(
                    "{id}: {} rows from {} pages are kept in {}; to continue from page {}, run:\n  {}",
                    cp.writer.rows,
                    cp.pages,
                    output::partial_path(target).display(),
                    cp.pages + 1,
                    resume_command()
                ))
            }
            _ => checkpoint::discard(target, true),
        }
    }

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
            let text = |k: &str| entry.get(k).and_then(|v| v.as_str()).unwrap_or_default();
            let wanted = if key.is_some() { Verdict::Verified } else { Verdict::Unsigned };
            let kept = proof::verify_entry(dir, entry, key.as_ref()).is_ok_and(|v| v.verdict == wanted);
            if !kept {
                ui.info(format!(
                    "{}: {} is not the proof the earlier run completed; collecting it again",
                    text("proof_type"),
                    text("file")
                ));
            }
            kept
        });
        let mut worst = exit::OK;
        for t in &types {
            if run.done.iter().any(|e| e.get("proof_type").and_then(|v| v.as_str()) == Some(t.id.as_str())) {
                ui.info(format!("{}: complete in an earlier run, checked and kept", t.id));
                continue;
            }
            let path = dir.join(format!("{}.{}", t.id, self.format.extension()));
            // A resumed set continues the proof type that has a checkpoint; the others start anew.
            let resume = self.resume && checkpoint::path_for(&path).exists();
            let (code, summary) = self.one(&t.id, &[], Some(&path), resume).await;
            match summary {
                Some((s, stats)) => {
                    run.done.push(serde_json::json!({
                        "proof_type": t.id, "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
                        "rows": s.row_count, "pages": stats.pages, "sha256_rows": s.sha256,
                        "sha256_file": proof::file_sha256(&path).ok(), "warnings": s.warnings.len(),
                        "metadata": s.sidecar.as_ref().and_then(|p| p.file_name()).map(|f| f.to_string_lossy().into_owned()),
                        "sha256_metadata": s.sidecar.as_ref().and_then(|p| proof::file_sha256(p).ok()),
                        "signed_by": s.signed_by,
                    }));
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
                        .push(serde_json::json!({"proof_type": t.id, "error": format!("exit code {code}")}));
                    worst = worst.max(code);
                }
            }
        }
        let mut entries = run.done.clone();
        entries.extend(run.failed.iter().cloned());
        let mut manifest = serde_json::json!({
            "collected_at": run.collected_at,
            "platform": self.tenant.config.platform.to_ascii_uppercase(),
            "api_url": self.tenant.config.api_url,
            "format": self.format,
            "proofs": entries,
        });
        // Signed with the proofs' key: no proof can leave or join the set unnoticed.
        if let (Some(key), Some(members)) = (&self.signer, manifest.as_object_mut()) {
            match SignatureBlock::sign_under(
                MANIFEST_SCHEME,
                key,
                &proof::verify::manifest_statement(members),
            ) {
                Ok(block) => {
                    members.insert("signature".into(), block.to_json_under(MANIFEST_SCHEME));
                }
                Err(e) => {
                    ui.error(format!("signing the manifest: {e:#}"));
                    return exit::HOST;
                }
            }
        }
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
    done: Vec<serde_json::Value>,
    #[serde(skip)]
    failed: Vec<serde_json::Value>,
}

fn meta_of(
    proof: &ProofType,
    identity: &Identity,
    collected_at: String,
    key: Option<Vec<Vec<String>>>,
) -> ProofMeta {
    ProofMeta {
        proof_type: proof.id.clone(),
        title: proof.title.clone(),
        collected_at,
        platform: identity.platform.clone(),
        api_url: identity.api_url.clone(),
        criteria: identity.criteria.clone(),
        key,
    }
}

/// For a users proof: learns the account's role from the account's own row, with no extra
/// call (the role a proof was collected with is what an access review asks first).
fn role_learner(proof: &ProofType, login: &str) -> Option<PageObserver> {
    let position = |name: &str| proof.fields.iter().position(|f| f.name == name);
    let (login_at, role_at) = (position("login")?, position("role")?);
    if proof.id != "users" {
        return None;
    }
    let login = login.to_string();
    Some(Box::new(move |rows, provenance| {
        if provenance.account.role.is_some() {
            return;
        }
        let own = rows.iter().find(|r| matches!(&r[login_at], Value::Text(l) if *l == login));
        if let Some(Value::Text(role)) = own.map(|r| &r[role_at]) {
            provenance.account.role = Some(role.clone());
            provenance.account.role_source = Some("users-proof".into());
        }
    }))
}

/// This program, as provenance names it.
fn host_info() -> HostInfo {
    HostInfo { name: "connector-host".into(), version: env!("CARGO_PKG_VERSION").into() }
}

fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// This command line with `--resume`, for people to copy; proxy credentials are masked.
fn resume_command() -> String {
    let mut args: Vec<String> = std::env::args().collect();
    if let Some(first) = args.first_mut() {
        *first = "connector-host".into();
    }
    let mut masked = Vec::with_capacity(args.len() + 1);
    let mut after_proxy = false;
    for a in args {
        let a = if after_proxy || a.starts_with("--proxy=") { mask_userinfo(&a) } else { a };
        after_proxy = a == "--proxy";
        masked.push(a);
    }
    if !masked.iter().any(|a| a == "--resume") {
        masked.push("--resume".into());
    }
    masked.iter().map(|a| shell_word(a)).collect::<Vec<_>>().join(" ")
}

fn mask_userinfo(arg: &str) -> String {
    match (arg.find("://"), arg.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}***{}", &arg[..scheme + 3], &arg[at..]),
        _ => arg.to_string(),
    }
}

fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The proof type with this id, or a usage error listing the known ones.
async fn find(runtime: &Runtime, ui: &Ui, id: &str) -> Result<ProofType, u8> {
    let types = runtime.list_proof_types().await.map_err(|e| {
        ui.error(e.to_string());
        exit::code(&e)
    })?;
    let ids: Vec<String> = types.iter().map(|t| t.id.clone()).collect();
    types.into_iter().find(|t| t.id == id).ok_or_else(|| {
        ui.error(format!("unknown proof type '{id}'; known: {}", ids.join(", ")));
        exit::CONFIG
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_commands_mask_proxy_credentials_and_quote_what_the_shell_would_split() {
        assert_eq!(mask_userinfo("http://me:secret@proxy:3128"), "http://***@proxy:3128");
        assert_eq!(mask_userinfo("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(shell_word("states=OPEN,RESOLVED"), "states=OPEN,RESOLVED");
        assert_eq!(shell_word("os_pattern=^Windows 10"), "'os_pattern=^Windows 10'");
        assert_eq!(shell_word("it's"), "'it'\\''s'");
    }
}
