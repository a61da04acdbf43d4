//! A proof on disk: a JSON proof (metadata and rows in one object), or a JSON Lines or CSV
//! rows file with its metadata in the sidecar `FILE.proof.json`.

use std::io::BufReader;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::Field;
use crate::output::Format;
use crate::output::readback::{self, ReadError};

/// The sidecar of a JSON Lines or CSV proof: `FILE` + `.proof.json`.
pub fn sidecar_path(rows: &Path) -> PathBuf {
    let mut name = rows.as_os_str().to_owned();
    name.push(SIDECAR_SUFFIX);
    PathBuf::from(name)
}

/// What a sidecar's name ends with.
pub const SIDECAR_SUFFIX: &str = ".proof.json";

/// Called with a proof's metadata known before its rows (if any) and its fields.
pub type OnHead<'a> = dyn FnMut(Option<&Map<String, Value>>, &[Field]) -> anyhow::Result<()> + 'a;

/// Where a proof's rows and metadata are.
#[derive(Debug, Clone)]
pub struct ProofFile {
    /// The file holding the rows (the proof itself for JSON).
    pub rows: PathBuf,
    /// Its format.
    pub format: Format,
    /// The sidecar holding the metadata of a JSON Lines or CSV proof, when it exists.
    pub sidecar: Option<PathBuf>,
}

/// A proof read to its end.
#[derive(Debug, Clone)]
pub struct ProofRead {
    /// Every member but `rows` (JSON proof) or the sidecar; `None` for a rows file without one.
    pub metadata: Option<Map<String, Value>>,
    /// The fields the rows were read with.
    pub fields: Vec<Field>,
    /// Rows read.
    pub rows: u64,
    /// SHA-256 of the canonical rows, recomputed from the file.
    pub sha256: String,
}

impl ProofFile {
    /// Finds the rows and metadata of the proof named by `path`: a JSON proof, a JSON Lines or
    /// CSV file (with `FILE.proof.json` beside it when there is one), or such a sidecar.
    pub fn locate(path: &Path) -> anyhow::Result<ProofFile> {
        let text = path.to_string_lossy();
        let (rows, sidecar) = match text.strip_suffix(SIDECAR_SUFFIX) {
            Some(rows) => (PathBuf::from(rows), Some(path.to_path_buf())),
            None => {
                let sidecar = sidecar_path(path);
                (path.to_path_buf(), sidecar.is_file().then_some(sidecar))
            }
        };
        anyhow::ensure!(rows.exists(), "{} does not exist", rows.display());
        let declared = match &sidecar {
            Some(s) => read_sidecar(s)?.get("format").and_then(Value::as_str).map(str::to_string),
            None => None,
        };
        let format = match declared {
            Some(f) => f.parse().map_err(|e: String| anyhow::anyhow!("{}: {e}", sidecar_name(&sidecar)))?,
            None => match rows.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
                Some("json") => Format::Json,
                Some("jsonl" | "ndjson") => Format::Jsonl,
                Some("csv") => Format::Csv,
                _ => anyhow::bail!(
                    "cannot tell the format of {}: name it .json, .jsonl or .csv, or keep its {} beside it",
                    rows.display(),
                    SIDECAR_SUFFIX
                ),
            },
        };
        anyhow::ensure!(
            format != Format::Json || sidecar.is_none() || text.ends_with(SIDECAR_SUFFIX),
            "{} is a JSON proof; its metadata is inside it",
            rows.display()
        );
        Ok(ProofFile { rows, format, sidecar: if format == Format::Json { None } else { sidecar } })
    }

    /// The metadata known without reading the rows: a JSON proof's members before `rows`, or
    /// the whole sidecar; `None` for a rows file without a sidecar.
    pub fn head(&self) -> Result<Option<Map<String, Value>>, ReadError> {
        match (&self.sidecar, self.format) {
            (Some(s), _) => read_sidecar(s).map(Some).map_err(ReadError::Metadata),
            (None, Format::Json) => {
                let mut file = std::fs::File::open(&self.rows)
                    .map(readback::LineBound::new)
                    .with_context(|| format!("opening {}", self.rows.display()))
                    .map_err(ReadError::Metadata)?;
                readback::read_json_proof(&mut file, true, &mut |_| Ok(()), &mut |_| Ok(())).map(Some)
            }
            (None, _) => Ok(None),
        }
    }

    /// Reads the proof to its end: `on_head` gets the metadata known before the rows (see
    /// [`ProofFile::head`]) and the fields, `on_row` each row's canonical bytes. A rows file
    /// without a sidecar is read with `fields` (an error without them).
    pub fn read(
        &self,
        fields: Option<&[Field]>,
        on_head: &mut OnHead<'_>,
        on_row: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
    ) -> Result<ProofRead, ReadError> {
        let mut hasher = Sha256::new();
        hasher.update(b"[");
        let mut rows = 0u64;
        let mut hashing = |row: &[u8]| {
            if rows > 0 {
                hasher.update(b",");
            }
            hasher.update(row);
            rows += 1;
            on_row(row)
        };
        let open = |p: &Path| {
            std::fs::File::open(p)
                .map(readback::LineBound::new)
                .with_context(|| format!("opening {}", p.display()))
                .map_err(ReadError::Metadata)
        };
        let (metadata, fields) = if self.format == Format::Json {
            let mut read_fields = Vec::new();
            let members = readback::read_json_proof(
                &mut open(&self.rows)?,
                false,
                &mut |head| {
                    read_fields = readback::fields_of(head)?;
                    on_head(Some(head), &read_fields)
                },
                &mut hashing,
            )?;
            (Some(members), read_fields)
        } else {
            let metadata = self.head()?;
            let fields = match (&metadata, fields) {
                (Some(m), _) => readback::fields_of(m).map_err(ReadError::Metadata)?,
                (None, Some(f)) => f.to_vec(),
                (None, None) => {
                    return Err(ReadError::Metadata(anyhow::anyhow!(
                        "{} has no {} beside it: its proof type and fields are unknown",
                        self.rows.display(),
                        SIDECAR_SUFFIX
                    )));
                }
            };
            on_head(metadata.as_ref(), &fields).map_err(ReadError::Metadata)?;
            let mut input = BufReader::with_capacity(256 * 1024, open(&self.rows)?);
            readback::read_rows(&mut input, self.format, &fields, &mut hashing)
                .with_context(|| format!("reading {}", self.rows.display()))
                .map_err(ReadError::Rows)?;
            (metadata, fields)
        };
        hasher.update(b"]");
        Ok(ProofRead { metadata, fields, rows, sha256: hex::encode(hasher.finalize()) })
    }

    /// How to name this proof to people.
    pub fn display(&self) -> String {
        self.rows.display().to_string()
    }
}

fn sidecar_name(sidecar: &Option<PathBuf>) -> String {
    sidecar.as_ref().map(|s| s.display().to_string()).unwrap_or_default()
}

/// A sidecar's object (no member twice, at any depth).
fn read_sidecar(path: &Path) -> anyhow::Result<Map<String, Value>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    // Metadata is a few KB; a larger file is not read whole.
    file.take(readback::MAX_LINE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    anyhow::ensure!(
        bytes.len() <= readback::MAX_LINE_BYTES,
        "{} is larger than {} MiB: not a proof's metadata",
        path.display(),
        readback::MAX_LINE_BYTES >> 20
    );
    readback::parse_strict_object(&bytes)
        .with_context(|| format!("{} is not a proof's metadata", path.display()))
}

/// The first row's field names of a JSON Lines file, or a CSV file's header: to recognise the
/// proof type of a rows file that has lost its sidecar.
pub fn first_field_names(file: &ProofFile) -> anyhow::Result<Vec<String>> {
    use std::io::BufRead as _;
    let mut input = BufReader::new(readback::LineBound::new(std::fs::File::open(&file.rows)?));
    match file.format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(input);
            Ok(reader.headers()?.iter().map(str::to_string).collect())
        }
        Format::Jsonl => {
            let mut line = String::new();
            input.read_line(&mut line)?;
            if line.trim().is_empty() {
                return Ok(Vec::new());
            }
            let row: Map<String, Value> =
                serde_json::from_str(&line).context("the first row is not an object")?;
            Ok(row.keys().cloned().collect())
        }
        Format::Json => {
            Ok(readback::fields_of(&file.head()?.unwrap_or_default())?.into_iter().map(|f| f.name).collect())
        }
    }
}
