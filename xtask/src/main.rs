//! Release tasks for the connector component.
//!
//! `cargo run -p xtask -- dist [--out DIR]` builds the release component and writes one folder
//! a platform can take as it is: the `.wasm` (with name, version, description and source in its
//! own metadata), its SHA-256, the WIT it implements and a `manifest.json`. On the way it
//! checks that the component imports nothing the published world does not declare.
//!
//! `cargo run -p xtask -- check-imports FILE.wasm` runs that check alone on any component.

mod build;
mod dist;
mod imports;
mod metadata;
mod wit;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Release tasks for the Qualys connector component")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the release component and write it, its SHA-256, its WIT and a manifest into one
    /// folder; fails if the component imports anything the published world does not declare.
    Dist {
        /// The release folder (created; files of the same names are replaced).
        #[arg(long, default_value = "dist")]
        out: PathBuf,
    },
    /// Check a component's imports and exports against the published world, and list them.
    CheckImports {
        /// The component (`.wasm`) to check.
        component: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Dist { out } => dist::run(&out),
        Command::CheckImports { component } => check_file(&component),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn check_file(component: &std::path::Path) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(component).map_err(|e| anyhow::anyhow!("reading {}: {e}", component.display()))?;
    let scratch = std::env::temp_dir().join(format!("xtask-wit-{}", std::process::id()));
    let result = (|| {
        let published = wit::assemble(&build::workspace_root(), &scratch)?;
        let report = imports::check(&bytes, &published)?;
        report.print(&published.world_id);
        Ok(())
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    result
}
