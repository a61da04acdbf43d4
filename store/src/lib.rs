//! A proof store in PostgreSQL: runs, pages and rows (schema in `migrations/`, applied with
//! refinery when the store opens). Writing a page twice — a retried activity — leaves one copy.
//! A run's proof is written out again with the same proof writer `connector-host collect`
//! uses, from the stored canonical rows, so the two are the same bytes for the same rows.

use std::path::Path;

use anyhow::Context as _;
use evidence_proof::output::{canonical_row, row_values};
use evidence_proof::{Field, Format, ProofMeta, ProofSummary, ProofWriter, Provenance, Value, Warning};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::Digest as _;
use tokio::sync::Mutex;

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// The advisory lock key the migrations are applied under.
const MIGRATION_LOCK: i64 = 0x6576_6964_656e_6365;

/// Rows fetched from the database at a time while a proof is exported: memory stays bounded.
const EXPORT_BATCH: i64 = 2_000;

/// A collect as the store keeps it, before its first page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewRun {
    /// The run's id (the workflow id).
    pub run_id: String,
    /// Who it is for (names the credentials in the secret source; never the credentials).
    pub tenant: String,
    /// Platform code.
    pub platform: String,
    /// Custom API URL.
    pub api_url: Option<String>,
    /// Proof type id.
    pub proof_type: String,
    /// Criteria as given.
    pub criteria: Vec<(String, String)>,
    /// Title, fields, key and collection time, for the proof writer.
    pub meta: RunMeta,
}

/// What a run's proof is written with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunMeta {
    /// The proof type's title.
    pub title: String,
    /// Its fields, in order.
    pub fields: Vec<StoredField>,
    /// Its declared key (`None` for a component that declares none).
    pub key: Option<Vec<Vec<String>>>,
    /// When the collect started, RFC 3339 UTC.
    pub collected_at: String,
    /// The API URL the proof names.
    pub api_url: String,
}

/// A field, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredField {
    /// Name.
    pub name: String,
    /// Label.
    pub label: String,
    /// Kind name (`text`, `integer`, …).
    pub kind: String,
}

impl StoredField {
    /// A field as stored (its description is the component's, not the proof's).
    pub fn of(f: &Field) -> StoredField {
        StoredField {
            name: f.name.clone(),
            label: f.label.clone(),
            kind: evidence_proof::output::kind_name(f.kind).to_string(),
        }
    }

    /// As the proof writer takes it.
    pub fn field(&self) -> anyhow::Result<Field> {
        let kind = evidence_proof::output::readback::kind_from_name(&self.kind)
            .with_context(|| format!("unknown field kind {}", self.kind))?;
        Ok(Field { name: self.name.clone(), label: self.label.clone(), kind, description: String::new() })
    }
}

/// One page to keep.
pub struct PageIn<'a> {
    /// Its sequence number in the run, from 0.
    pub seq: i64,
    /// The cursor it was collected from (`None`: the first page).
    pub cursor_in: Option<&'a str>,
    /// The cursor of the next page (`None`: the last).
    pub next_cursor: Option<&'a str>,
    /// Requests the page took.
    pub requests: i64,
    /// Its rows.
    pub rows: &'a [Vec<Value>],
    /// Its warnings.
    pub warnings: &'a [Warning],
    /// On the first page, the criteria as the connector applied them.
    pub applied_criteria: &'a [(String, String)],
}

/// A page already kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PageKept {
    /// Rows.
    pub rows: i64,
    /// The cursor of the next page.
    pub next_cursor: Option<String>,
}

/// Where a run stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunStatus {
    /// `running`, `complete` or `failed`.
    pub state: String,
    /// Proof type.
    pub proof_type: String,
    /// Tenant.
    pub tenant: String,
    /// Pages, rows and requests so far.
    pub pages: i64,
    /// Rows.
    pub rows: i64,
    /// Requests.
    pub requests: i64,
    /// The error kind and text of a failed run.
    pub error: Option<(String, String)>,
    /// The rows' digest, once complete.
    pub sha256: Option<String>,
}

/// The store.
pub struct Store {
    client: Mutex<tokio_postgres::Client>,
}

impl Store {
    /// Connects (the URL's password is never logged) and applies the migrations.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        let (mut client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to the proof store: {}", scrub_db_error(&e)))?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(error = %e, "proof store connection closed");
            }
        });
        // Workers and commands may open the store at the same moment: one applies the
        // migrations at a time (a session lock, released when done).
        client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK]).await?;
        let migrated = embedded::migrations::runner().run_async(&mut client).await;
        client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]).await?;
        migrated.map_err(|e| anyhow::anyhow!("applying the proof store's migrations: {e}"))?;
        Ok(Store { client: Mutex::new(client) })
    }

    /// Records a new run (once: a second call with the same id changes nothing).
    pub async fn create_run(&self, run: &NewRun) -> anyhow::Result<()> {
        let client = self.client.lock().await;
        client
            .execute(
                "INSERT INTO runs (run_id, tenant, platform, api_url, proof_type, criteria, meta)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_id) DO NOTHING",
                &[
                    &run.run_id,
                    &run.tenant,
                    &run.platform,
                    &run.api_url,
                    &run.proof_type,
                    &json!(run.criteria),
                    &serde_json::to_value(&run.meta)?,
                ],
            )
            .await?;
        Ok(())
    }

    /// The run's stored description.
    pub async fn run(&self, run_id: &str) -> anyhow::Result<NewRun> {
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                "SELECT tenant, platform, api_url, proof_type, criteria, meta FROM runs WHERE run_id = $1",
                &[&run_id],
            )
            .await?
            .with_context(|| format!("no run {run_id} in the proof store"))?;
        Ok(NewRun {
            run_id: run_id.to_string(),
            tenant: row.get(0),
            platform: row.get(1),
            api_url: row.get(2),
            proof_type: row.get(3),
            criteria: serde_json::from_value(row.get(4))?,
            meta: serde_json::from_value(row.get(5))?,
        })
    }

    /// The page `seq` of a run, when it is already kept.
    pub async fn page(&self, run_id: &str, seq: i64) -> anyhow::Result<Option<PageKept>> {
        let client = self.client.lock().await;
        let row = client
            .query_opt(
                "SELECT row_count, next_cursor FROM pages WHERE run_id = $1 AND seq = $2",
                &[&run_id, &seq],
            )
            .await?;
        Ok(row.map(|r| PageKept { rows: r.get(0), next_cursor: r.get(1) }))
    }

    /// Keeps a page and its rows in one transaction, and counts them in the run; a page already
    /// kept (a retried activity) is left as it is. Returns whether this call wrote it.
    pub async fn write_page(
        &self,
        run_id: &str,
        fields: &[Field],
        page: &PageIn<'_>,
    ) -> anyhow::Result<bool> {
        let mut line = Vec::with_capacity(1024);
        let mut texts = Vec::with_capacity(page.rows.len());
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"[");
        for (i, row) in page.rows.iter().enumerate() {
            line.clear();
            canonical_row(fields, row, &mut line);
            if i > 0 {
                hasher.update(b",");
            }
            hasher.update(&line);
            texts.push(String::from_utf8(line.clone())?);
        }
        hasher.update(b"]");
        let warnings: Vec<_> =
            page.warnings.iter().map(|w| json!({"code": w.code, "message": w.message})).collect();
        let mut client = self.client.lock().await;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                "INSERT INTO pages (run_id, seq, cursor_in, next_cursor, row_count, requests, warnings, sha256)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (run_id, seq) DO NOTHING",
                &[
                    &run_id,
                    &page.seq,
                    &page.cursor_in,
                    &page.next_cursor,
                    &(page.rows.len() as i64),
                    &page.requests,
                    &json!(warnings),
                    &hex::encode(hasher.finalize()),
                ],
            )
            .await?;
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let insert =
            tx.prepare("INSERT INTO proof_rows (run_id, seq, idx, row) VALUES ($1, $2, $3, $4)").await?;
        for (i, text) in texts.iter().enumerate() {
            tx.execute(&insert, &[&run_id, &page.seq, &(i as i32), text]).await?;
        }
        let applied = (page.seq == 0).then(|| json!(page.applied_criteria));
        tx.execute(
            "UPDATE runs SET pages = pages + 1, row_count = row_count + $2, requests = requests + $3,
                 criteria_applied = COALESCE(criteria_applied, $4) WHERE run_id = $1",
            &[&run_id, &(page.rows.len() as i64), &page.requests, &applied],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Marks a run failed with its error kind and text (credentials already scrubbed).
    pub async fn fail_run(&self, run_id: &str, kind: &str, message: &str) -> anyhow::Result<()> {
        let client = self.client.lock().await;
        client
            .execute(
                "UPDATE runs SET state = 'failed', error_kind = $2, error = $3, finished_at = now() WHERE run_id = $1",
                &[&run_id, &kind, &message],
            )
            .await?;
        Ok(())
    }

    /// Marks a run complete: its rows' digest, recomputed from the stored rows in order, and its
    /// provenance.
    pub async fn complete_run(&self, run_id: &str, provenance: &Provenance) -> anyhow::Result<String> {
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"[");
        let mut first = true;
        self.each_row(run_id, &mut |row: &str| {
            if !first {
                hasher.update(b",");
            }
            first = false;
            hasher.update(row.as_bytes());
            Ok(())
        })
        .await?;
        hasher.update(b"]");
        let sha = hex::encode(hasher.finalize());
        let client = self.client.lock().await;
        client
            .execute(
                "UPDATE runs SET state = 'complete', sha256 = $2, provenance = $3, finished_at = now() WHERE run_id = $1",
                &[&run_id, &sha, &serde_json::to_value(provenance)?],
            )
            .await?;
        Ok(sha)
    }

    /// Calls `f` with each stored row of a run, in order, a batch at a time.
    async fn each_row(
        &self,
        run_id: &str,
        f: &mut (dyn FnMut(&str) -> anyhow::Result<()> + Send),
    ) -> anyhow::Result<()> {
        let mut after: (i64, i32) = (-1, -1);
        loop {
            let rows = {
                let client = self.client.lock().await;
                client
                    .query(
                        "SELECT seq, idx, row FROM proof_rows WHERE run_id = $1 AND (seq, idx) > ($2, $3)
                         ORDER BY seq, idx LIMIT $4",
                        &[&run_id, &after.0, &after.1, &EXPORT_BATCH],
                    )
                    .await?
            };
            if rows.is_empty() {
                return Ok(());
            }
            for r in &rows {
                f(r.get::<_, &str>(2))?;
            }
            let last = rows.last().expect("not empty");
            after = (last.get(0), last.get(1));
        }
    }

    /// A tenant's runs, newest first: id and state.
    pub async fn runs_of(&self, tenant: &str) -> anyhow::Result<Vec<(String, String)>> {
        let client = self.client.lock().await;
        let rows = client
            .query("SELECT run_id, state FROM runs WHERE tenant = $1 ORDER BY created_at DESC", &[&tenant])
            .await?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// Where a run stands.
    pub async fn status(&self, run_id: &str) -> anyhow::Result<RunStatus> {
        let client = self.client.lock().await;
        let r = client
            .query_opt(
                "SELECT state, proof_type, tenant, pages, row_count, requests, error_kind, error, sha256
                 FROM runs WHERE run_id = $1",
                &[&run_id],
            )
            .await?
            .with_context(|| format!("no run {run_id} in the proof store"))?;
        let kind: Option<String> = r.get(6);
        Ok(RunStatus {
            state: r.get(0),
            proof_type: r.get(1),
            tenant: r.get(2),
            pages: r.get(3),
            rows: r.get(4),
            requests: r.get(5),
            error: kind.map(|k| (k, r.get::<_, Option<String>>(7).unwrap_or_default())),
            sha256: r.get(8),
        })
    }

    /// Writes a complete run's proof to `out` in `format` with the proof writer, from its
    /// stored rows; the digest is checked against the run's.
    pub async fn export(
        &self,
        run_id: &str,
        format: Format,
        out: Option<&Path>,
        signer: Option<&evidence_proof::SigningKey>,
    ) -> anyhow::Result<ProofSummary> {
        let run = self.run(run_id).await?;
        let (state, stated, provenance, applied, warnings) = {
            let client = self.client.lock().await;
            let r = client
                .query_one(
                    "SELECT state, sha256, provenance, criteria_applied FROM runs WHERE run_id = $1",
                    &[&run_id],
                )
                .await?;
            let w =
                client.query("SELECT warnings FROM pages WHERE run_id = $1 ORDER BY seq", &[&run_id]).await?;
            let state: String = r.get(0);
            let stated: Option<String> = r.get(1);
            let provenance: Option<serde_json::Value> = r.get(2);
            let applied: Option<serde_json::Value> = r.get(3);
            (
                state,
                stated,
                provenance,
                applied,
                w.iter().map(|r| r.get::<_, serde_json::Value>(0)).collect::<Vec<_>>(),
            )
        };
        anyhow::ensure!(state == "complete", "run {run_id} is {state}: only a complete run is exported");
        let fields: Vec<Field> =
            run.meta.fields.iter().map(StoredField::field).collect::<anyhow::Result<_>>()?;
        let meta = ProofMeta {
            proof_type: run.proof_type.clone(),
            title: run.meta.title.clone(),
            collected_at: run.meta.collected_at.clone(),
            platform: run.platform.to_ascii_uppercase(),
            api_url: run.meta.api_url.clone(),
            criteria: run.criteria.clone(),
            key: run.meta.key.clone(),
        };
        let mut writer = ProofWriter::create(out, format, &meta, &fields)?;
        let mut provenance: Provenance = match provenance {
            Some(p) => serde_json::from_value(p)?,
            None => Provenance::default(),
        };
        if provenance.criteria_applied.is_none() {
            provenance.criteria_applied = applied.map(serde_json::from_value).transpose()?;
        }
        writer.set_provenance(provenance);
        if let Some(key) = signer {
            writer.set_signer(key.clone())?;
        }
        for page in warnings {
            let page: Vec<Warning> = page
                .as_array()
                .into_iter()
                .flatten()
                .map(|w| Warning {
                    code: w["code"].as_str().unwrap_or_default().to_string(),
                    message: w["message"].as_str().unwrap_or_default().to_string(),
                })
                .collect();
            writer.add_warnings(&page);
        }
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(EXPORT_BATCH as usize);
        let read = self
            .each_row(run_id, &mut |row| {
                batch.push(row_values(&fields, row.as_bytes())?);
                if batch.len() == EXPORT_BATCH as usize {
                    writer.write_rows(&batch)?;
                    batch.clear();
                }
                Ok(())
            })
            .await;
        read?;
        writer.write_rows(&batch)?;
        let summary = writer.finish()?;
        anyhow::ensure!(
            stated.as_deref() == Some(summary.sha256.as_str()),
            "the stored rows of run {run_id} no longer match its digest ({} stated, {} read)",
            stated.unwrap_or_default(),
            summary.sha256
        );
        Ok(summary)
    }
}

/// A short digest of a login, for ids that need not spell it out.
pub fn login_digest(login: &str) -> String {
    hex::encode(sha2::Sha256::digest(login.as_bytes()))[..12].to_string()
}

/// A database error's text without the connection string (it may hold a password).
fn scrub_db_error(e: &tokio_postgres::Error) -> String {
    let text = e.to_string();
    match text.find("postgres://").or_else(|| text.find("postgresql://")) {
        Some(at) => format!("{}[connection string withheld]", &text[..at]),
        None => text,
    }
}
