//! `connector-host render`: an existing proof as a document for people, without Qualys; and the
//! documents `collect --format pdf|xlsx` writes.

use std::path::Path;

use connector_runtime::NetworkPolicy;
use evidence_proof::SigningKey;
use evidence_render::document::{self, DocumentKind};

use super::component::Loader;
use super::{Ui, exit};

/// Formats `render` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RenderFormat {
    /// An Excel workbook: the rows as typed cells, the metadata on a second sheet.
    Xlsx,
    /// A PDF/A-3u document: provenance, summaries, the rows, and the proof attached.
    Pdf,
}

impl RenderFormat {
    fn kind(self) -> DocumentKind {
        match self {
            RenderFormat::Xlsx => DocumentKind::Xlsx,
            RenderFormat::Pdf => DocumentKind::Pdf,
        }
    }
}

pub async fn run(
    loader: &Loader,
    ui: &Ui,
    proof: &Path,
    format: RenderFormat,
    output: &Path,
    sign_key: Option<&Path>,
) -> u8 {
    let signer = match sign_key.map(super::keygen::read_signing_key).transpose() {
        Ok(k) => k,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return exit::CONFIG;
        }
    };
    let description = describe(loader, ui, proof).await;
    write(ui, proof, format.kind(), output, description, signer.as_ref())
}

/// The proof type's description from the component (proofs carry the title only); none when
/// the component cannot say (another connector's proof, an unreadable proof).
async fn describe(loader: &Loader, ui: &Ui, proof: &Path) -> Option<String> {
    let id =
        evidence_proof::ProofFile::locate(proof).ok()?.head().ok()??.get("proof_type")?.as_str()?.to_string();
    let quiet = Ui::new(true, ui.verbose);
    let runtime = loader.load(&quiet, NetworkPolicy::deny_all()).ok()?;
    let types = runtime.list_proof_types().await.ok()?;
    types.into_iter().find(|t| t.id == id).map(|t| t.description)
}

/// Renders `proof` as a `kind` document at `output`, with its sidecar (signed with `signer`)
/// when `output` is a regular file; reports what was written. The exit code: 10 for a proof
/// whose rows do not match its digest.
pub fn write(
    ui: &Ui,
    proof: &Path,
    kind: DocumentKind,
    output: &Path,
    description: Option<String>,
    signer: Option<&SigningKey>,
) -> u8 {
    let rendered = match kind {
        DocumentKind::Xlsx => evidence_render::render_xlsx(proof, output),
        DocumentKind::Pdf => {
            let options = evidence_render::PdfOptions {
                description,
                creator: format!("connector-host {}", env!("CARGO_PKG_VERSION")),
                ..Default::default()
            };
            evidence_render::render_pdf(proof, output, &options)
        }
    };
    let r = match rendered {
        Ok(r) => r,
        Err(e) if e.downcast_ref::<evidence_render::RowsChanged>().is_some() => {
            ui.error(format!("{}: {e:#}", proof.display()));
            return exit::ROWS_CHANGED;
        }
        Err(e) => {
            ui.error(format!("cannot render {}: {e:#}", proof.display()));
            return exit::CONFIG;
        }
    };
    let written = match evidence_proof::output::resolve(Some(output)) {
        Ok(evidence_proof::Destination::File(target)) => {
            match document::write_sidecar(&target, kind, r.metadata.as_ref(), &r.attachments, signer) {
                Ok(s) => format!(
                    " (sidecar {}{})",
                    s.display(),
                    signer
                        .map(|k| format!(
                            ", signed by key {}",
                            evidence_proof::signature::key_id(&k.verifying_key())
                        ))
                        .unwrap_or_default()
                ),
                Err(e) => {
                    ui.error(format!("writing the sidecar of {}: {e:#}", output.display()));
                    return exit::HOST;
                }
            }
        }
        _ => String::new(),
    };
    ui.info(format!(
        "{}: {} rows rendered to {}{} (rows' sha256 {}){written}",
        proof.display(),
        r.rows,
        output.display(),
        r.pages.map(|p| format!(", {p} pages")).unwrap_or_default(),
        r.sha256
    ));
    exit::OK
}
