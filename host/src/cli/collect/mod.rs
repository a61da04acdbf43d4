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
use evidence_proof::{
    self as proof, AccountInfo, ConnectorInfo, Format, HostInfo, ProofMeta, ProofSummary, ProofWriter,
    Provenance, Resumption, SigningKey, Value, output,
};

use evidence_render::document::DocumentKind;

use super::component::Loader;
use super::target::Target;
use super::{Ui, exit};

mod all;
mod resume;
mod store;

use connector_runtime::checkpoint::{self, CheckpointedSink, Identity, PageObserver};
use resume::interrupted;

/// What `collect --format` asks for: a proof format, and a document rendered from a JSON proof.
#[derive(Debug, Clone, Copy)]
pub struct OutputFormat {
    /// The proof's format.
    pub proof: Format,
    /// The document for people, when one is asked for (the proof is then JSON).
    pub document: Option<DocumentKind>,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<OutputFormat, String> {
        match s.to_ascii_lowercase().as_str() {
            "pdf" => Ok(OutputFormat { proof: Format::Json, document: Some(DocumentKind::Pdf) }),
            "xlsx" => Ok(OutputFormat { proof: Format::Json, document: Some(DocumentKind::Xlsx) }),
            other => other
                .parse()
                .map(|proof| OutputFormat { proof, document: None })
                .map_err(|_| format!("unknown format '{other}'; use json, jsonl, csv, pdf or xlsx")),
        }
    }
}

/// The JSON proof a document is rendered from: `FILE.json` beside `FILE.pdf` or `FILE.xlsx`.
pub fn document_source(document: &Path) -> PathBuf {
    let mut name = document.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}

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
    /// The proof store to keep each proof in too (`--database`).
    pub database: Option<String>,
}

#[allow(clippy::too_many_arguments)]
pub async fn run(
    loader: &Loader,
    ui: &Ui,
    target: &Target,
    what: What,
    criteria: &[(String, String)],
    format: OutputFormat,
    resume: bool,
    vouching: &Vouching,
) -> u8 {
    let OutputFormat { proof: format, document } = format;
    if let (What::One { output: None, .. }, Some(kind)) = (&what, document) {
        ui.error(format!("a {} document needs --output FILE (its sidecar goes beside it)", kind.name()));
        return exit::CONFIG;
    }
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
    if vouching.database.is_some() && resume {
        ui.error("--database keeps a collect page by page from its start: it cannot join a resumed one");
        return exit::CONFIG;
    }
    // The database URL's password (user:password@host) is masked in every line printed.
    let db_password = vouching.database.as_deref().and_then(|url| {
        let authority = url.split_once("://")?.1.split('/').next()?;
        Some(authority.rsplit_once('@')?.0.split_once(':')?.1).filter(|p| !p.is_empty())
    });
    if let Some(secret) = db_password {
        ui.keep_secret(secret);
    }
    let store = match &vouching.database {
        Some(url) => match evidence_store::Store::open(url).await {
            Ok(s) => Some(std::sync::Arc::new(s)),
            Err(e) => {
                ui.error(format!("{e:#}"));
                return exit::CONFIG;
            }
        },
        None => None,
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
        document,
        resume,
        connector: loader.connector_info(&runtime).await,
        account,
        signer,
        store,
    };
    match what {
        What::One { id, output } => {
            if resume && output.is_none() {
                ui.error("--resume continues a collect written to a file: give the same --output");
                return exit::CONFIG;
            }
            match (document, output) {
                (Some(kind), Some(output)) => job.one_document(&id, criteria, &output, kind, resume).await.0,
                (_, output) => job.one(&id, criteria, output.as_deref(), resume).await.0,
            }
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
    /// A document rendered from each proof, when asked for.
    pub document: Option<DocumentKind>,
    pub resume: bool,
    /// The connector, for provenance.
    pub connector: ConnectorInfo,
    /// The account, for provenance (login; role when known).
    pub account: AccountInfo,
    /// Signs every proof when set.
    pub signer: Option<SigningKey>,
    /// Keeps every proof in this store too, when set.
    pub store: Option<std::sync::Arc<evidence_store::Store>>,
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

    /// One proof rendered as a document at `output`: collected as JSON into `FILE.json` beside
    /// it (resumable like any collect), then rendered with its sidecar. A PDF attaches the proof,
    /// so `FILE.json` is removed; a workbook does not, so it stays. A render that fails keeps the
    /// proof and says how to render it again.
    pub async fn one_document(
        &self,
        id: &str,
        criteria: &[(String, String)],
        output: &Path,
        kind: DocumentKind,
        resume: bool,
    ) -> (u8, Option<(ProofSummary, CollectStats)>) {
        let source = document_source(output);
        let (code, done) = self.one(id, criteria, Some(&source), resume).await;
        if done.is_none() {
            return (code, None);
        }
        let code = self.render(id, &source, output, kind).await;
        if code != exit::OK {
            self.ui.error(format!(
                "{id}: the proof is kept in {}; render it again with `connector-host render {} --format {} --output {}`",
                source.display(),
                source.display(),
                kind.name(),
                output.display()
            ));
            return (code, None);
        }
        if kind == DocumentKind::Pdf
            && let Err(e) = std::fs::remove_file(&source)
        {
            self.ui.error(format!("removing {} (the PDF attaches it): {e}", source.display()));
        }
        (exit::OK, done)
    }

    /// Renders the proof at `source` as a document at `output`, with its sidecar.
    pub async fn render(&self, id: &str, source: &Path, output: &Path, kind: DocumentKind) -> u8 {
        let description = match self.runtime.list_proof_types().await {
            Ok(types) => types.into_iter().find(|t| t.id == id).map(|t| t.description),
            Err(_) => None,
        };
        super::render::write(self.ui, source, kind, output, description, self.signer.as_ref())
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
        let kept = match &self.store {
            Some(store) => match self.store_run(store, &proof, &identity, criteria).await {
                Ok(run) => Some(store::Kept::new(store.clone(), run, fields_of(&proof))),
                Err(e) => {
                    ui.error(format!("the proof store: {e:#}"));
                    return Outcome::Failed(exit::HOST);
                }
            },
            None => None,
        };
        let mut teed = store::Tee { sink: &mut sink, kept };
        let collect =
            collect_proof(self.runtime, self.tenant, request, &mut teed, &options, &mut on_progress);
        let result = tokio::select! {
            r = collect => Some(r),
            _ = interrupted() => None,
        };
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        let kept = teed.kept.take();
        match result {
            Some(Ok(stats)) => {
                let before = sink.before;
                let finished = sink.writer.finish();
                if let (Some(kept), Ok(summary)) = (&kept, &finished) {
                    match kept.complete(&summary.provenance).await {
                        Ok(sha) if sha == summary.sha256 => {
                            ui.info(format!("{}: kept in the proof store as run {}", proof.id, kept.run_id()))
                        }
                        Ok(sha) => ui.error(format!(
                            "{}: the proof store's rows of run {} have digest {sha}, the proof {}",
                            proof.id,
                            kept.run_id(),
                            summary.sha256
                        )),
                        Err(e) => ui.error(format!("{}: the proof store: {e:#}", proof.id)),
                    }
                }
                self.finished(&proof.id, finished, stats, before, resumable, started)
            }
            Some(Err(e)) => {
                ui.error(format!("{}: {}", proof.id, e.error));
                if let Some(kept) = &kept {
                    let _ = kept.fail(e.error.kind(), &e.error.to_string()).await;
                }
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

    /// Records a new run in the proof store for this collect; returns its id.
    async fn store_run(
        &self,
        store: &evidence_store::Store,
        proof: &ProofType,
        identity: &Identity,
        criteria: &[(String, String)],
    ) -> anyhow::Result<String> {
        let run_id = store::run_id(&self.tenant.config.username, &proof.id);
        let fields = fields_of(proof).iter().map(evidence_store::StoredField::of).collect();
        store
            .create_run(&evidence_store::NewRun {
                run_id: run_id.clone(),
                tenant: "cli".into(),
                platform: identity.platform.clone(),
                api_url: self.tenant.config.api_url.clone(),
                proof_type: proof.id.clone(),
                criteria: criteria.to_vec(),
                meta: evidence_store::RunMeta {
                    title: proof.title.clone(),
                    fields,
                    key: self.runtime.declared_key(proof),
                    collected_at: connector_runtime::now_rfc3339(),
                    api_url: identity.api_url.clone(),
                },
            })
            .await?;
        Ok(run_id)
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
