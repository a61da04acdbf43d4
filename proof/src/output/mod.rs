//! Proof files: JSON, JSON Lines or CSV, written row by row as pages arrive, with a SHA-256 of
//! the canonical rows, and made visible only when complete (temp file + rename). A resumable
//! proof is written to `FILE.partial`, which survives a failure and can be continued.
//!
//! Canonical rows, the input of `sha256`: the compact JSON array of row objects, each object's
//! keys in the proof type's field order, values as in the JSON proof. The digest is the same
//! whatever the output format, so a CSV and a JSON proof of the same rows agree.
//!
//! Every proof written to a file carries its metadata and [`Provenance`]: inside the JSON
//! proof (after the rows), or in the sidecar `FILE.proof.json` of a JSON Lines or CSV proof;
//! with a signing key ([`ProofWriter::set_signer`]), a signature over them (see
//! the crate root). Standard output and devices carry a JSON proof's metadata only.

pub mod readback;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Field, FieldKind, Value, Warning};
use crate::sink::{PageContext, PageSink};
use crate::{Provenance, SignatureBlock, SigningKey};

/// Output format of a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// One JSON object with metadata, rows, row_count, warnings and sha256.
    Json,
    /// One row object per line.
    Jsonl,
    /// A header of field names, then one line per row (lists as JSON arrays).
    Csv,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "csv" => Ok(Format::Csv),
            other => Err(format!("unknown format '{other}'; use json, jsonl or csv")),
        }
    }
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Json, Format::Jsonl, Format::Csv];

    /// The format's name (as [`std::str::FromStr`] reads it).
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
        }
    }
}

/// Who, what and when of a proof.
#[derive(Debug, Clone, Serialize)]
pub struct ProofMeta {
    /// Proof type id.
    pub proof_type: String,
    /// Proof type title.
    pub title: String,
    /// When collection started, RFC 3339 UTC.
    pub collected_at: String,
    /// Platform code.
    pub platform: String,
    /// API server URL.
    pub api_url: String,
    /// Criteria as given.
    pub criteria: Vec<(String, String)>,
    /// The proof type's natural key as its connector declares it (candidate keys in order of
    /// preference; empty: rows have no identity); `None` when the connector does not declare
    /// one (a 0.2.0 component), and the metadata then has no `key`.
    pub key: Option<Vec<Vec<String>>>,
}

/// What a finished proof file holds.
#[derive(Debug, Clone, Serialize)]
pub struct ProofSummary {
    /// Rows written.
    pub row_count: u64,
    /// SHA-256 of the canonical rows.
    pub sha256: String,
    /// Where the proof was written (`None` for standard output).
    pub path: Option<PathBuf>,
    /// Warnings, de-duplicated.
    pub warnings: Vec<(String, String)>,
    /// The provenance written with the proof.
    pub provenance: Provenance,
    /// The id of the key the proof is signed with, when signed.
    pub signed_by: Option<String>,
    /// The sidecar holding the metadata of a JSON Lines or CSV proof file.
    pub sidecar: Option<PathBuf>,
}

/// How far a resumable proof got: what its partial file holds. Persist it beside the file
/// (it holds no credentials) and pass it to [`ProofWriter::resume`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct WriterState {
    /// Bytes of the partial file that hold whole rows.
    pub bytes: u64,
    /// Rows in those bytes.
    pub rows: u64,
    /// SHA-256 of those bytes (a partial file that changed since is not resumed).
    pub file_sha256: String,
    /// SHA-256 of the last row's canonical bytes (`None` before the first row): a resume
    /// re-derives it from the partial file, so the rows there must end where the cursor
    /// continues.
    pub last_row_sha256: Option<String>,
    /// Warnings so far.
    pub warnings: Vec<(String, String)>,
}

/// What a CSV text cell may not start with unguarded (see `csv_cell`).
pub(crate) const CSV_FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\''];

/// The partial file of a resumable proof at `target`: `target` + `.partial`.
pub fn partial_path(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Where a proof goes once its `--output` path is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Standard output: no path, `-`, or a name for this process's own standard output
    /// (`/dev/stdout`, `/proc/self/fd/1`, `/dev/fd/1`, or a link to one of them).
    Stdout,
    /// A device, FIFO, socket or another open descriptor: written in place, never replaced,
    /// with no partial file, checkpoint, lock or sidecar beside it.
    InPlace(PathBuf),
    /// A regular file (or a name not yet taken). When the path given was a symbolic link to a
    /// regular file, this is the file the link names, so that the proof replaces that file and
    /// the link stays a link.
    File(PathBuf),
}

impl Destination {
    /// The regular file written, if the destination is one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Destination::File(p) => Some(p),
            _ => None,
        }
    }
}

/// How many links a path may pass through (as the kernel's own limit).
const MAX_LINKS: usize = 40;

/// Resolves where a proof given as `path` goes (see [`Destination`]). Links are followed one
/// by one, so that a name for an open descriptor is recognised before the kernel turns it into
/// the name of the file behind it. A folder, and a link to nothing, are refused.
pub fn resolve(path: Option<&Path>) -> anyhow::Result<Destination> {
    let Some(given) = path.filter(|p| p.as_os_str() != "-") else { return Ok(Destination::Stdout) };
    let mut at = given.to_path_buf();
    for _ in 0..MAX_LINKS {
        if names_stdout(&at) {
            return Ok(Destination::Stdout);
        }
        if names_descriptor(&at) {
            return Ok(Destination::InPlace(given.to_path_buf()));
        }
        let meta = match std::fs::symlink_metadata(&at) {
            Ok(m) => m,
            // A new file, unless a link led here: a link to nothing is refused, not followed
            // to create a file wherever it points.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && at == given => {
                return Ok(Destination::File(at));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "{} is a link to {}, which does not exist; give the file itself",
                given.display(),
                at.display()
            ),
            Err(e) => return Err(e).with_context(|| format!("looking at {}", at.display())),
        };
        if meta.is_dir() {
            anyhow::bail!("{} is a folder; give a file name", given.display());
        }
        if meta.is_file() {
            return Ok(Destination::File(at));
        }
        if !meta.file_type().is_symlink() {
            return Ok(Destination::InPlace(given.to_path_buf()));
        }
        let next = std::fs::read_link(&at).with_context(|| format!("reading the link {}", at.display()))?;
        at = match at.parent() {
            Some(dir) if next.is_relative() => dir.join(next),
            _ => next,
        };
    }
    anyhow::bail!("{} passes through more than {MAX_LINKS} links", given.display())
}

/// Whether `path` names this process's standard output.
fn names_stdout(path: &Path) -> bool {
    let own = format!("/proc/{}/fd/1", std::process::id());
    ["/dev/stdout", "/proc/self/fd/1", "/proc/thread-self/fd/1", "/dev/fd/1", own.as_str()]
        .iter()
        .any(|p| path == Path::new(p))
}

/// Whether `path` names an open descriptor (`/dev/fd/N`, `/proc/PID/fd/N`, `/dev/stderr`).
fn names_descriptor(path: &Path) -> bool {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    matches!(
        parts.as_slice(),
        ["/", "dev", "stderr" | "stdin"] | ["/", "dev", "fd", _] | ["/", "proc", _, "fd", _]
    ) || matches!(parts.as_slice(), ["/", "proc", _, "task", _, "fd", _])
}

/// Opens options that refuse to follow a symbolic link in the last component.
fn no_follow(options: &mut std::fs::OpenOptions) -> &mut std::fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
}

/// Opens `path` for reading without following a link at its last component.
pub fn open_no_follow(path: &Path) -> std::io::Result<File> {
    no_follow(std::fs::OpenOptions::new().read(true)).open(path)
}

/// Creates `path` anew: whatever stands at the name (a stale file, or a link planted there) is
/// removed, never followed, and the file is created exclusively (`O_EXCL`).
fn create_fresh(path: &Path) -> anyhow::Result<File> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("removing the stale {}", path.display())),
    }
    no_follow(std::fs::OpenOptions::new().read(true).write(true).create_new(true))
        .open(path)
        .with_context(|| format!("creating {}", path.display()))
}

/// An exclusive lock on a proof file being written: `FILE.lock`, held until dropped (then
/// removed). A second collect to the same file is refused while the first runs, instead of
/// both writing one partial file.
#[derive(Debug)]
pub struct OutputLock {
    path: PathBuf,
    _file: File,
}

impl OutputLock {
    /// Takes the lock for `target`, or says who holds it.
    pub fn acquire(target: &Path) -> anyhow::Result<OutputLock> {
        let mut path = target.as_os_str().to_owned();
        path.push(".lock");
        let path = PathBuf::from(path);
        create_parent(target)?;
        // A holder that finishes removes the file; one locked after its removal is retried.
        for _ in 0..8 {
            let file = no_follow(std::fs::OpenOptions::new().read(true).write(true).create(true))
                .open(&path)
                .with_context(|| format!("opening the lock {}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
                    "another collect is writing {} (it holds {}); wait for it to finish, or write to another file",
                    target.display(),
                    path.display()
                ),
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(e).with_context(|| format!("locking {}", path.display()));
                }
            }
            if same_file(&file, &path) {
                return Ok(OutputLock { path, _file: file });
            }
        }
        anyhow::bail!("could not lock {}: it keeps being replaced", path.display())
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Removed while still held, so that no one can lock the name this holder leaves.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the open `file` is the one now at `path` (not a removed or replaced one).
fn same_file(file: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (file.metadata(), std::fs::symlink_metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        true
    }
}

enum Sink {
    File {
        temp: tempfile::NamedTempFile,
        target: PathBuf,
    },
    /// `target.partial`, kept when the writer is dropped unfinished, renamed when finished.
    Partial {
        partial: PathBuf,
        target: PathBuf,
    },
    /// An existing device or pipe (`/dev/null`, a FIFO): written in place, never replaced.
    Special(PathBuf),
    Stdout,
}

/// A proof being written.
pub struct ProofWriter {
    format: Format,
    fields: Vec<Field>,
    /// JSON and JSON Lines write here; CSV writes through `csv`, which owns the writer.
    out: Option<BufWriter<Box<dyn Write + Send>>>,
    sink: Sink,
    hasher: Sha256,
    rows: u64,
    warnings: Vec<(String, String)>,
    line: Vec<u8>,
    csv: Option<csv::Writer<BufWriter<Box<dyn Write + Send>>>>,
    /// Cleared when the writer is dropped unfinished: see [`Gate`].
    open: Arc<AtomicBool>,
    /// Bytes written to the file and their hash (resumable proofs only).
    written: Option<Arc<Mutex<(u64, Sha256)>>>,
    /// The metadata written before the rows (JSON) or in the sidecar: proof type, title,
    /// collected_at, platform, api_url, format, criteria, fields.
    head: serde_json::Map<String, serde_json::Value>,
    provenance: Provenance,
    /// Pages and requests of earlier runs, counted in `provenance` (see `set_provenance`).
    before: (u64, u64),
    signer: Option<SigningKey>,
}

impl ProofWriter {
    /// Starts a proof at `path` (standard output when `None`); the file appears only on
    /// [`ProofWriter::finish`].
    pub fn create(
        path: Option<&Path>,
        format: Format,
        meta: &ProofMeta,
        fields: &[Field],
    ) -> anyhow::Result<ProofWriter> {
        let (out, sink): (Box<dyn Write + Send>, Sink) = match resolve(path)? {
            Destination::InPlace(target) => {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&target)
                    .with_context(|| format!("opening {}", target.display()))?;
                (Box::new(file), Sink::Special(target))
            }
            Destination::File(target) => {
                let dir = create_parent(&target)?;
                let temp = tempfile::Builder::new()
                    .prefix(".partial-")
                    .tempfile_in(dir)
                    .with_context(|| format!("creating a temporary file in {}", dir.display()))?;
                let file: File = temp.reopen()?;
                (Box::new(file), Sink::File { temp, target })
            }
            Destination::Stdout => (Box::new(std::io::stdout()), Sink::Stdout),
        };
        let mut w = ProofWriter::assemble(out, sink, format, fields, None, head_of(meta, format, fields));
        w.provenance.started_at = meta.collected_at.clone();
        w.hasher.update(b"[");
        w.write_head(fields)?;
        Ok(w)
    }

    /// Starts a resumable proof at `target`: rows go to `target.partial`, which stays when the
    /// collect fails; [`ProofWriter::checkpoint`] says how far it got.
    pub fn create_resumable(
        target: &Path,
        format: Format,
        meta: &ProofMeta,
        fields: &[Field],
    ) -> anyhow::Result<ProofWriter> {
        anyhow::ensure!(
            resolve(Some(target))? == Destination::File(target.to_path_buf()),
            "{} is not a regular file; give the file itself (see output::resolve)",
            target.display()
        );
        create_parent(target)?;
        let partial = partial_path(target);
        let file = create_fresh(&partial)?;
        let written = Arc::new(Mutex::new((0, Sha256::new())));
        let sink = Sink::Partial { partial, target: target.to_path_buf() };
        let mut w = ProofWriter::assemble(
            Box::new(file),
            sink,
            format,
            fields,
            Some(written),
            head_of(meta, format, fields),
        );
        w.provenance.started_at = meta.collected_at.clone();
        w.hasher.update(b"[");
        w.write_head(fields)?;
        Ok(w)
    }

    /// Continues a resumable proof from `state`: the partial file is cut back to the rows the
    /// state counts (anything written after it is dropped), checked against the state's hash,
    /// and read back to rebuild the digest; new rows are appended. Refuses a partial file that
    /// is missing, shorter, or different. `meta` is the proof's as it started (a JSON proof's
    /// is read back from its file and must agree); give the provenance so far with
    /// [`ProofWriter::set_provenance`].
    pub fn resume(
        target: &Path,
        format: Format,
        meta: &ProofMeta,
        fields: &[Field],
        state: &WriterState,
    ) -> anyhow::Result<ProofWriter> {
        let partial = partial_path(target);
        let file = no_follow(std::fs::OpenOptions::new().read(true).write(true))
            .open(&partial)
            .with_context(|| format!("opening {} to resume", partial.display()))?;
        anyhow::ensure!(
            file.metadata()?.is_file(),
            "{} is not a regular file; start the collect again",
            partial.display()
        );
        let len = file.metadata()?.len();
        anyhow::ensure!(
            len >= state.bytes,
            "{} holds {len} bytes, fewer than the {} its checkpoint counts; start the collect again",
            partial.display(),
            state.bytes
        );
        file.set_len(state.bytes)?;
        let mut reading = readback::HashingReader {
            inner: readback::LineBound::new(&file),
            hasher: Sha256::new(),
            bytes: 0,
        };
        let mut hasher = Sha256::new();
        let read =
            readback::hash_rows(&mut std::io::BufReader::new(&mut reading), format, fields, &mut hasher)
                .with_context(|| format!("reading back {}", partial.display()))?;
        let file_sha256 = hex::encode(reading.hasher.clone().finalize());
        anyhow::ensure!(
            reading.bytes == state.bytes
                && file_sha256 == state.file_sha256
                && read.rows == state.rows
                && read.last_row_sha256() == state.last_row_sha256,
            "{} changed since its checkpoint (expected {} rows in {} bytes, ending with the row the \
             checkpoint names); start the collect again",
            partial.display(),
            state.rows,
            state.bytes
        );
        let rows = read.rows;
        let head = head_of(meta, format, fields);
        if format == Format::Json {
            std::io::Seek::seek(&mut &file, std::io::SeekFrom::Start(0))?;
            let written_head = readback::json_head(&mut std::io::BufReader::new(&file))
                .with_context(|| format!("reading back the head of {}", partial.display()))?;
            anyhow::ensure!(
                written_head == head,
                "{} was started for other metadata than this run's; start the collect again",
                partial.display()
            );
        }
        let written = Arc::new(Mutex::new((reading.bytes, reading.hasher)));
        let mut append = file;
        std::io::Seek::seek(&mut append, std::io::SeekFrom::End(0))?;
        let sink = Sink::Partial { partial, target: target.to_path_buf() };
        let mut w = ProofWriter::assemble(Box::new(append), sink, format, fields, Some(written), head);
        w.provenance.started_at = meta.collected_at.clone();
        w.hasher = hasher;
        w.rows = rows;
        w.line = read.last_row;
        w.warnings = state.warnings.clone();
        if format == Format::Csv {
            let out = w.out.take().expect("set by assemble");
            w.csv = Some(csv::WriterBuilder::new().has_headers(false).from_writer(out));
        }
        Ok(w)
    }

    /// Flushes what was written and says how far the resumable proof got. `None` for proofs
    /// that are not resumable.
    pub fn checkpoint(&mut self) -> anyhow::Result<Option<WriterState>> {
        let Some(written) = self.written.clone() else { return Ok(None) };
        match (self.csv.as_mut(), self.out.as_mut()) {
            (Some(c), _) => c.flush()?,
            (None, Some(out)) => out.flush()?,
            (None, None) => anyhow::bail!("proof writer used after it failed"),
        }
        let (bytes, hasher) = &*written.lock().map_err(|_| anyhow::anyhow!("writer state poisoned"))?;
        Ok(Some(WriterState {
            bytes: *bytes,
            rows: self.rows,
            file_sha256: hex::encode(hasher.clone().finalize()),
            // `line` still holds the last row's canonical bytes: no digest on the row path.
            last_row_sha256: (self.rows > 0).then(|| hex::encode(Sha256::digest(&self.line))),
            warnings: self.warnings.clone(),
        }))
    }

    fn assemble(
        out: Box<dyn Write + Send>,
        sink: Sink,
        format: Format,
        fields: &[Field],
        written: Option<Arc<Mutex<(u64, Sha256)>>>,
        head: serde_json::Map<String, serde_json::Value>,
    ) -> ProofWriter {
        let open = Arc::new(AtomicBool::new(true));
        let out: Box<dyn Write + Send> =
            Box::new(Gate { inner: out, open: open.clone(), written: written.clone() });
        ProofWriter {
            format,
            fields: fields.to_vec(),
            out: Some(BufWriter::with_capacity(256 * 1024, out)),
            open,
            sink,
            hasher: Sha256::new(),
            rows: 0,
            warnings: Vec::new(),
            line: Vec::with_capacity(4096),
            csv: None,
            written,
            head,
            provenance: Provenance::default(),
            before: (0, 0),
            signer: None,
        }
    }

    /// Sets the provenance so far: the connector, host and account, and for a resumed proof
    /// the criteria applied, start time, pages and requests of the earlier runs (pages and
    /// requests of this run are added to them as pages arrive).
    pub fn set_provenance(&mut self, provenance: Provenance) {
        self.before = (provenance.pages, provenance.requests);
        self.provenance = provenance;
    }

    /// The provenance so far.
    pub fn provenance(&self) -> &Provenance {
        &self.provenance
    }

    /// The provenance so far, to complete (e.g. the account's role once known).
    pub fn provenance_mut(&mut self) -> &mut Provenance {
        &mut self.provenance
    }

    /// Signs the proof with `key` when it is finished. A JSON Lines or CSV proof must go to a
    /// regular file: its signature goes in the sidecar.
    pub fn set_signer(&mut self, key: SigningKey) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.format == Format::Json || matches!(self.sink, Sink::File { .. } | Sink::Partial { .. }),
            "a signed {} proof needs an output file: its signature goes in FILE.proof.json",
            self.format.name()
        );
        self.signer = Some(key);
        Ok(())
    }

    fn write_head(&mut self, fields: &[Field]) -> anyhow::Result<()> {
        let out = self.out.as_mut().expect("set by assemble");
        match self.format {
            Format::Json => {
                let text = serde_json::to_string_pretty(&self.head)?;
                // Open the object, then stream rows into it.
                out.write_all(&text.as_bytes()[..text.len() - 2])?;
                out.write_all(readback::JSON_ROWS_MARKER)?;
            }
            Format::Jsonl => {}
            Format::Csv => {
                let mut c = csv::Writer::from_writer(self.out.take().expect("set above"));
                c.write_record(fields.iter().map(|f| f.name.as_str()))?;
                self.csv = Some(c);
            }
        }
        Ok(())
    }

    /// Appends rows (values aligned with the fields).
    pub fn write_rows(&mut self, rows: &[Vec<Value>]) -> anyhow::Result<()> {
        for row in rows {
            anyhow::ensure!(
                row.len() == self.fields.len(),
                "the connector returned a row of {} values for {} fields",
                row.len(),
                self.fields.len()
            );
            self.line.clear();
            canonical_row(&self.fields, row, &mut self.line);
            if self.rows > 0 {
                self.hasher.update(b",");
            }
            self.hasher.update(&self.line);
            match (self.format, self.out.as_mut(), self.csv.as_mut()) {
                (Format::Json, Some(out), _) => {
                    out.write_all(if self.rows == 0 { b"\n    " } else { b",\n    " })?;
                    out.write_all(&self.line)?;
                }
                (Format::Jsonl, Some(out), _) => {
                    out.write_all(&self.line)?;
                    out.write_all(b"\n")?;
                }
                (Format::Csv, _, Some(c)) => c.write_record(row.iter().map(csv_cell))?,
                _ => anyhow::bail!("proof writer used after it failed"),
            }
            self.rows += 1;
        }
        Ok(())
    }

    /// Records warnings; identical ones are kept once.
    pub fn add_warnings(&mut self, warnings: &[Warning]) {
        for w in warnings {
            let pair = (w.code.clone(), w.message.clone());
            if !self.warnings.contains(&pair) {
                self.warnings.push(pair);
            }
        }
    }

    /// Rows written so far.
    pub fn row_count(&self) -> u64 {
        self.rows
    }

    /// Writes the trailer (with the provenance, and the signature when signing) and makes the
    /// proof visible under its name; a JSON Lines or CSV proof file gets its sidecar.
    pub fn finish(mut self) -> anyhow::Result<ProofSummary> {
        self.hasher.update(b"]");
        let sha256 = hex::encode(self.hasher.clone().finalize());
        if self.provenance.finished_at.is_none() {
            self.provenance.finished_at = Some(crate::now_rfc3339());
        }
        let warnings: Vec<_> = self
            .warnings
            .iter()
            .map(|(code, message)| serde_json::json!({"code": code, "message": message}))
            .collect();
        let mut tail = serde_json::Map::new();
        tail.insert("row_count".into(), self.rows.into());
        tail.insert("warnings".into(), warnings.into());
        tail.insert("sha256".into(), sha256.clone().into());
        tail.insert("provenance".into(), self.provenance.to_json());
        let mut statement = self.head.clone();
        statement.extend(tail.clone());
        let signature = match &self.signer {
            Some(key) => Some(SignatureBlock::sign(key, &statement)?),
            None => None,
        };
        if let Some(s) = &signature {
            tail.insert("signature".into(), s.to_json());
            statement.insert("signature".into(), s.to_json());
        }
        let mut out = match self.csv.take() {
            Some(c) => c.into_inner().map_err(|e| anyhow::anyhow!("writing CSV: {}", e.error()))?,
            None => self.out.take().expect("writer present"),
        };
        if self.format == Format::Json {
            // The tail's members, indented as the head's: `],` closes the rows.
            let text = serde_json::to_string_pretty(&tail)?;
            let members = &text[2..text.len() - 1];
            let tail = format!("{}],\n{members}}}\n", if self.rows > 0 { "\n  " } else { "" });
            out.write_all(tail.as_bytes())?;
        }
        out.flush()?;
        drop(out);
        let (path, regular) = match std::mem::replace(&mut self.sink, Sink::Stdout) {
            Sink::File { temp, target } => {
                temp.as_file().sync_all()?;
                make_readable(temp.as_file())?;
                temp.persist(&target).with_context(|| format!("writing {}", target.display()))?;
                (Some(target), true)
            }
            Sink::Partial { partial, target } => {
                open_no_follow(&partial)?.sync_all()?;
                std::fs::rename(&partial, &target)
                    .with_context(|| format!("writing {}", target.display()))?;
                (Some(target), true)
            }
            Sink::Special(target) => (Some(target), false),
            Sink::Stdout => (None, false),
        };
        let sidecar = match (&path, self.format) {
            (Some(target), Format::Jsonl | Format::Csv) if regular => {
                let sidecar = crate::sidecar_path(target);
                let text = serde_json::to_string_pretty(&statement)? + "\n";
                write_atomic(&sidecar, text.as_bytes())?;
                Some(sidecar)
            }
            _ => None,
        };
        Ok(ProofSummary {
            row_count: self.rows,
            sha256,
            path,
            warnings: std::mem::take(&mut self.warnings),
            provenance: self.provenance.clone(),
            signed_by: signature.map(|s| s.key_id),
            sidecar,
        })
    }
}

impl PageSink for ProofWriter {
    /// Writes the rows and warnings, and keeps the provenance current: the criteria applied
    /// (from the proof's first page), pages and requests.
    fn write_page(
        &mut self,
        rows: &[Vec<Value>],
        warnings: &[Warning],
        at: &PageContext<'_>,
    ) -> anyhow::Result<()> {
        let first_of_proof = self.rows == 0 && at.pages == 1;
        self.write_rows(rows)?;
        self.add_warnings(warnings);
        if first_of_proof && self.provenance.criteria_applied.is_none() {
            self.provenance.criteria_applied = Some(at.applied_criteria.to_vec());
        }
        self.provenance.pages = self.before.0 + at.pages;
        self.provenance.requests = self.before.1 + at.requests;
        Ok(())
    }
}

impl Drop for ProofWriter {
    /// An unfinished proof (the collect failed): what is still buffered is discarded, not
    /// flushed, so a collect that fails early (bad login, bad criteria) prints nothing on
    /// standard output, and a temporary file is removed without a last write.
    fn drop(&mut self) {
        self.open.store(false, Ordering::Relaxed);
    }
}

/// The sink behind the buffers; once closed it swallows what the buffers flush on drop. For
/// resumable proofs it counts and hashes what reached the file.
struct Gate {
    inner: Box<dyn Write + Send>,
    open: Arc<AtomicBool>,
    written: Option<Arc<Mutex<(u64, Sha256)>>>,
}

impl Write for Gate {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.open.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        let n = self.inner.write(buf)?;
        if let Some(written) = &self.written
            && let Ok(mut w) = written.lock()
        {
            w.0 += n as u64;
            w.1.update(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.open.load(Ordering::Relaxed) { self.inner.flush() } else { Ok(()) }
    }
}

fn create_parent(target: &Path) -> anyhow::Result<&Path> {
    let dir = target.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Writes `data` to `path` atomically: a temporary file in the same folder, then a rename. A
/// link standing at `path` is replaced, never followed; a device or FIFO standing there itself
/// is written in place.
pub fn write_atomic(path: &Path, data: &[u8]) -> anyhow::Result<()> {
    if std::fs::symlink_metadata(path)
        .is_ok_and(|m| !m.is_file() && !m.is_dir() && !m.file_type().is_symlink())
    {
        return no_follow(std::fs::OpenOptions::new().write(true))
            .open(path)
            .and_then(|mut f| f.write_all(data))
            .with_context(|| format!("writing {}", path.display()));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new().prefix(".partial-").tempfile_in(dir)?;
    temp.write_all(data)?;
    temp.as_file().sync_all()?;
    make_readable(temp.as_file())?;
    temp.persist(path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Proofs are evidence, not secrets: readable like any file the user writes (temp files are 0600).
fn make_readable(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

/// The metadata before the rows: proof type, title, collected_at, platform, api_url, format,
/// criteria (as given), fields, and the natural key when declared.
fn head_of(meta: &ProofMeta, format: Format, fields: &[Field]) -> serde_json::Map<String, serde_json::Value> {
    let head = serde_json::json!({
        "proof_type": meta.proof_type,
        "title": meta.title,
        "collected_at": meta.collected_at,
        "platform": meta.platform,
        "api_url": meta.api_url,
        "format": format.name(),
        "criteria": meta.criteria.iter().map(|(k, v)| serde_json::json!({"name": k, "value": v})).collect::<Vec<_>>(),
        "fields": fields.iter().map(|f| serde_json::json!({"name": f.name, "label": f.label, "kind": kind_name(f.kind)})).collect::<Vec<_>>(),
    });
    match head {
        serde_json::Value::Object(mut map) => {
            if let Some(key) = &meta.key {
                map.insert("key".into(), serde_json::json!(key));
            }
            map
        }
        _ => unreachable!("an object"),
    }
}

/// The stable name of a field kind.
pub fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Integer => "integer",
        FieldKind::Boolean => "boolean",
        FieldKind::Timestamp => "timestamp",
        FieldKind::TextList => "list",
    }
}

/// Appends the compact JSON object of a row, keys in field order.
pub fn canonical_row(fields: &[Field], row: &[Value], out: &mut Vec<u8>) {
    out.push(b'{');
    for (i, (field, value)) in fields.iter().zip(row).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut *out, &field.name).expect("writing to a Vec");
        out.push(b':');
        match value {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Text(s) | Value::Timestamp(s) => serde_json::to_writer(&mut *out, s).expect("vec"),
            Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
            Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::TextList(l) => serde_json::to_writer(&mut *out, l).expect("vec"),
        }
    }
    out.push(b'}');
}

/// A canonical row read back into values aligned with `fields` (the inverse of
/// [`canonical_row`]: writing them again gives the same bytes).
pub fn row_values(fields: &[Field], canonical: &[u8]) -> anyhow::Result<Vec<Value>> {
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(canonical)
        .map_err(|e| anyhow::anyhow!("a stored row is not a JSON object: {e}"))?;
    anyhow::ensure!(
        object.len() == fields.len(),
        "a stored row has {} values for {} fields",
        object.len(),
        fields.len()
    );
    fields
        .iter()
        .map(|f| {
            let v = object.get(&f.name).ok_or_else(|| anyhow::anyhow!("a stored row has no {}", f.name))?;
            Ok(match (f.kind, v) {
                (_, serde_json::Value::Null) => Value::Null,
                (FieldKind::Text, serde_json::Value::String(s)) => Value::Text(s.clone()),
                (FieldKind::Timestamp, serde_json::Value::String(s)) => Value::Timestamp(s.clone()),
                (FieldKind::Integer, serde_json::Value::Number(n)) if n.is_i64() => {
                    Value::Integer(n.as_i64().unwrap_or_default())
                }
                (FieldKind::Boolean, serde_json::Value::Bool(b)) => Value::Boolean(*b),
                (FieldKind::TextList, serde_json::Value::Array(items)) => Value::TextList(
                    items
                        .iter()
                        .map(|i| {
                            i.as_str()
                                .map(str::to_string)
                                .ok_or_else(|| anyhow::anyhow!("{}: not a text list", f.name))
                        })
                        .collect::<anyhow::Result<_>>()?,
                ),
                (kind, other) => anyhow::bail!("{}: {other} is not a {kind:?} value", f.name),
            })
        })
        .collect()
}

/// A value as JSON, for embedders.
pub fn value_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Text(s) | Value::Timestamp(s) => s.clone().into(),
        Value::Integer(n) => (*n).into(),
        Value::Boolean(b) => (*b).into(),
        Value::TextList(l) => l.clone().into(),
    }
}

/// A CSV cell. A text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
/// `@`, tab or carriage return, as OWASP's CSV injection guidance lists them) is written with a
/// leading `'`, which spreadsheets show as text; so is a text that starts with `'` itself, so
/// that reading back strips exactly one. The digest covers the values, not the cells.
fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Text(s) if s.starts_with(CSV_FORMULA_STARTS) => format!("'{s}"),
        Value::Text(s) | Value::Timestamp(s) => s.clone(),
        Value::Integer(n) => n.to_string(),
        Value::Boolean(b) => b.to_string(),
        Value::TextList(l) => serde_json::to_string(l).expect("strings serialise"),
    }
}
