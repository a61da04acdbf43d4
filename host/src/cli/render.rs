//! `connector-host render`: an existing proof as a document for people, without Qualys.

use std::path::Path;

use super::{Ui, exit};

/// Formats `render` writes.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum RenderFormat {
    /// An Excel workbook: the rows as typed cells, the metadata on a second sheet.
    Xlsx,
}

pub fn run(ui: &Ui, proof: &Path, format: RenderFormat, output: &Path) -> u8 {
    let RenderFormat::Xlsx = format;
    match evidence_render::render_xlsx(proof, output) {
        Ok(r) => {
            ui.info(format!(
                "{}: {} rows rendered to {} (rows' sha256 {})",
                proof.display(),
                r.rows,
                output.display(),
                r.sha256
            ));
            exit::OK
        }
        Err(e) if e.downcast_ref::<evidence_render::RowsChanged>().is_some() => {
            ui.error(format!("{}: {e:#}", proof.display()));
            exit::ROWS_CHANGED
        }
        Err(e) => {
            ui.error(format!("cannot render {}: {e:#}", proof.display()));
            exit::CONFIG
        }
    }
}
