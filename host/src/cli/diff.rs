//! `connector-host diff OLD NEW`: rows added, removed and changed between two proofs of the
//! same proof type, matched by the proof type's natural key; a table for people or JSON for
//! machines, streamed as found. Memory is bounded (external sort; `--memory`).

use std::io::Write;
use std::path::PathBuf;

use connector_runtime::NetworkPolicy;
use evidence_proof::diff::{self, Change, DiffError, DiffHeader, DiffSink, DiffSummary};
use evidence_proof::{DiffInput, DiffOptions, Field, KeyRule, ProofFile, file};
use serde_json::{Value, json};

use super::component::Loader;
use super::{Ui, exit};

/// How a diff is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// A table for people.
    Table,
    /// One JSON object for machines.
    Json,
}

/// The flags of `diff`.
pub struct Args {
    pub old: PathBuf,
    pub new: PathBuf,
    pub format: DiffFormat,
    pub key: Option<String>,
    pub memory_mib: usize,
    pub temp_dir: Option<PathBuf>,
}

pub async fn run(loader: &Loader, ui: &Ui, args: &Args) -> u8 {
    let mut inputs = Vec::new();
    for path in [&args.old, &args.new] {
        match ProofFile::locate(path) {
            Ok(file) => inputs.push(DiffInput { file, fallback: None }),
            Err(e) => {
                ui.error(format!("{e:#}"));
                return exit::CONFIG;
            }
        }
    }
    // The component's proof types: for a JSON Lines or CSV file that lost its sidecar
    // (recognised by its fields), and for the key of proofs written before proofs recorded it.
    let needs_types =
        inputs.iter().any(|i| i.file.sidecar.is_none() && i.file.format != evidence_proof::Format::Json)
            || (args.key.is_none() && inputs.iter().any(|i| !declares_key(&i.file)));
    let types = if needs_types {
        match loader.load(ui, NetworkPolicy::deny_all()) {
            Ok(r) => r.list_proof_types().await.unwrap_or_default(),
            Err(code) => return code,
        }
    } else {
        Vec::new()
    };
    for input in inputs
        .iter_mut()
        .filter(|i| i.file.sidecar.is_none() && i.file.format != evidence_proof::Format::Json)
    {
        let names = file::first_field_names(&input.file).unwrap_or_default();
        input.fallback = types
            .iter()
            .find(|t| t.fields.iter().map(|f| f.name.as_str()).eq(names.iter().map(String::as_str)))
            .map(|t| (t.id.clone(), connector_runtime::fields_of(t)));
        if let Some((id, _)) = &input.fallback {
            ui.info(format!(
                "{} has no {}; its fields are those of {id}",
                input.file.display(),
                file::SIDECAR_SUFFIX
            ));
        }
    }
    let key_override = args.key.clone();
    let rule = move |proof_type: &str,
                     _: &[Field],
                     declared: Option<&[Vec<String>]>|
          -> anyhow::Result<KeyRule> {
        if let Some(k) = &key_override {
            return Ok(KeyRule::Fields(k.split(',').map(|f| f.trim().to_string()).collect()));
        }
        if let Some(declared) = declared {
            return KeyRule::from_declared(declared);
        }
        // A proof written before proofs recorded their key: the connector's declaration.
        match types.iter().find(|t| t.id == proof_type) {
            Some(t) if !t.key.is_empty() => KeyRule::from_declared(&t.key),
            _ => anyhow::bail!(
                "the proofs do not say how rows of {proof_type} are identified, and this connector declares no natural key for it; name one with --key FIELD[,FIELD...]"
            ),
        }
    };
    let options =
        DiffOptions { memory_budget: args.memory_mib.max(1) << 20, temp_dir: args.temp_dir.clone() };
    let stdout = std::io::stdout();
    let out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let mut sink: Box<dyn DiffSink> = match args.format {
        DiffFormat::Table => Box::new(Table { out, rows: 0 }),
        DiffFormat::Json => Box::new(JsonOut { out, first: true }),
    };
    match diff::diff(&inputs[0], &inputs[1], &rule, &options, sink.as_mut()) {
        Ok(_) => exit::OK,
        Err(e @ (DiffError::DifferentTypes { .. } | DiffError::Unreadable { .. })) => {
            ui.error(format!("cannot compare: {e}"));
            exit::CONFIG
        }
        Err(e @ DiffError::DigestMismatch { .. }) => {
            ui.error(format!("cannot compare: {e}"));
            exit::ROWS_CHANGED
        }
        Err(DiffError::Other(e)) if is_broken_pipe(&e) => exit::OK,
        Err(DiffError::Other(e)) => {
            ui.error(format!("{e:#}"));
            if e.to_string().contains("natural key") { exit::CONFIG } else { exit::HOST }
        }
    }
}

/// Whether a proof's metadata records its natural key (proofs written before 0.3.0 do not).
fn declares_key(file: &ProofFile) -> bool {
    matches!(file.head(), Ok(Some(head)) if head.contains_key("key"))
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn key_text(key: &[(String, Value)]) -> String {
    if key.is_empty() {
        return "(no key)".into();
    }
    key.iter().map(|(k, v)| format!("{k}={}", cell(v))).collect::<Vec<_>>().join(" ")
}

fn key_json(key: &[(String, Value)]) -> Value {
    Value::Object(key.iter().cloned().collect())
}

/// A value in a table cell: texts as they are, null as `-`, others as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn clip(s: &str, width: usize) -> String {
    let s = s.replace(['\n', '\r', '\t'], " ");
    if s.chars().count() <= width {
        return s;
    }
    let mut out: String = s.chars().take(width - 1).collect();
    out.push('…');
    out
}

fn side_text(s: &diff::Side) -> String {
    format!(
        "{} ({}, {} rows)",
        s.path,
        s.collected_at.as_deref().unwrap_or("collected at an unknown time"),
        s.rows
    )
}

struct Table<W: Write> {
    out: W,
    rows: u64,
}

impl<W: Write> DiffSink for Table<W> {
    fn begin(&mut self, h: &DiffHeader) -> anyhow::Result<()> {
        self.line(format!("{}: {} → {}", h.proof_type, side_text(&h.old), side_text(&h.new)))?;
        writeln!(self.out, "rows matched by {}", h.key.describe())?;
        if !h.only_old.is_empty() || !h.only_new.is_empty() {
            writeln!(
                self.out,
                "fields not compared: only in the old proof: {}; only in the new: {}",
                if h.only_old.is_empty() { "none".into() } else { h.only_old.join(", ") },
                if h.only_new.is_empty() { "none".into() } else { h.only_new.join(", ") }
            )?;
        }
        writeln!(self.out)?;
        writeln!(self.out, "{:<8} {:<28} {:<26} {:<32} new", "change", "key", "field", "old")?;
        Ok(())
    }

    fn change(&mut self, c: &Change) -> anyhow::Result<()> {
        self.rows += 1;
        match c {
            Change::Added { key, .. } => self.line(format!("{:<8} {}", "added", key_text(key)))?,
            Change::Removed { key, .. } => self.line(format!("{:<8} {}", "removed", key_text(key)))?,
            Change::Changed { key, fields } => {
                for (i, f) in fields.iter().enumerate() {
                    let (what, key) =
                        if i == 0 { ("changed", clip(&key_text(key), 28)) } else { ("", String::new()) };
                    self.line(format!(
                        "{what:<8} {key:<28} {:<26} {:<32} {}",
                        clip(&f.field, 26),
                        clip(&cell(&f.old), 32),
                        clip(&cell(&f.new), 32)
                    ))?;
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, s: &DiffSummary) -> anyhow::Result<()> {
        if self.rows == 0 {
            writeln!(self.out, "(no differences)")?;
        }
        writeln!(self.out)?;
        writeln!(
            self.out,
            "{} added, {} removed, {} changed, {} unchanged",
            s.added, s.removed, s.changed, s.unchanged
        )?;
        if s.duplicate_keys_old + s.duplicate_keys_new > 0 {
            writeln!(
                self.out,
                "warning: duplicate keys (paired in order): {} in the old proof, {} in the new",
                s.duplicate_keys_old, s.duplicate_keys_new
            )?;
        }
        self.out.flush()?;
        Ok(())
    }
}

impl<W: Write> Table<W> {
    /// One line of the table, with what came from the proofs made safe for a terminal.
    fn line(&mut self, text: String) -> anyhow::Result<()> {
        writeln!(self.out, "{}", super::ui::for_terminal(&text))?;
        Ok(())
    }
}

/// One JSON object, streamed: the header's members, `changes`, then `summary`.
struct JsonOut<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> DiffSink for JsonOut<W> {
    fn begin(&mut self, h: &DiffHeader) -> anyhow::Result<()> {
        let side = |s: &diff::Side| json!({"path": s.path, "format": s.format, "collected_at": s.collected_at, "rows": s.rows, "sha256": s.sha256});
        let head = json!({
            "proof_type": h.proof_type,
            "key": h.key.fields(),
            "old": side(&h.old),
            "new": side(&h.new),
            "fields_only_in_old": h.only_old,
            "fields_only_in_new": h.only_new,
        });
        let text = serde_json::to_string_pretty(&head)?;
        self.out.write_all(&text.as_bytes()[..text.len() - 2])?;
        self.out.write_all(b",\n  \"changes\": [")?;
        Ok(())
    }

    fn change(&mut self, c: &Change) -> anyhow::Result<()> {
        let value = match c {
            Change::Added { key, row } => json!({"change": "added", "key": key_json(key), "row": row}),
            Change::Removed { key, row } => json!({"change": "removed", "key": key_json(key), "row": row}),
            Change::Changed { key, fields } => json!({
                "change": "changed",
                "key": key_json(key),
                "fields": fields.iter().map(|f| json!({"field": f.field, "old": f.old, "new": f.new})).collect::<Vec<_>>(),
            }),
        };
        self.out.write_all(if self.first { b"\n    " } else { b",\n    " })?;
        self.first = false;
        serde_json::to_writer(&mut self.out, &value)?;
        Ok(())
    }

    fn end(&mut self, s: &DiffSummary) -> anyhow::Result<()> {
        let summary = json!({
            "added": s.added, "removed": s.removed, "changed": s.changed, "unchanged": s.unchanged,
            "duplicate_keys_old": s.duplicate_keys_old, "duplicate_keys_new": s.duplicate_keys_new,
        });
        write!(self.out, "{}],\n  \"summary\": {}\n}}\n", if self.first { "" } else { "\n  " }, summary)?;
        self.out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_proof_type_of_the_embedded_component_declares_a_key_diff_can_match_by() {
        let cache = tempfile::tempdir().unwrap();
        let runtime = Loader { plugin: None, cache_dir: Some(cache.path().to_path_buf()) }
            .load(&Ui::new(true, false), NetworkPolicy::deny_all())
            .expect("the embedded component loads");
        let types = runtime.list_proof_types().await.unwrap();
        assert!(types.len() >= 5);
        for t in types {
            let rule = KeyRule::from_declared(&t.key).unwrap_or_else(|e| panic!("{}: {e}", t.id));
            // Only a log (no key declared) is compared as a multiset of whole rows.
            assert_eq!(rule == KeyRule::WholeRow, t.key.is_empty(), "{}", t.id);
            for field in rule.fields() {
                assert!(
                    t.fields.iter().any(|f| f.name == field),
                    "{}: key field {field} is one of its fields",
                    t.id
                );
            }
        }
    }

    use evidence_proof::diff::FieldChange;

    #[test]
    fn rows_shown_in_the_table_cannot_drive_the_terminal() {
        let mut table = Table { out: Vec::new(), rows: 0 };
        let key = vec![("login".to_string(), json!("eve\u{1b}]0;title\u{7}"))];
        table.change(&Change::Added { key: key.clone(), row: Default::default() }).unwrap();
        let change = FieldChange {
            field: "role".into(),
            old: json!("Reader"),
            new: json!("\u{1b}[2JManager\u{202e}"),
        };
        table.change(&Change::Changed { key, fields: vec![change] }).unwrap();
        let shown = String::from_utf8(table.out).unwrap();
        assert!(!shown.contains(['\u{1b}', '\u{7}', '\u{202e}']), "{shown:?}");
        assert!(shown.contains("eve\\u{1b}]0;title\\u{7}") && shown.contains("\\u{1b}[2JManager"), "{shown}");
    }
}
