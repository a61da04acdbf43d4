//! The command line: arguments and the dispatch to one module per subcommand.

mod checkpoint;
mod collect;
mod component;
mod connect;
pub mod credentials;
mod demo;
pub mod exit;
mod network;
mod proof_types;
mod target;
mod ui;

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use connector_runtime::Format;

pub use ui::Ui;

const EXAMPLES: &str = "\
Examples:
  connector-host demo
  connector-host proof-types
  QUALYS_USERNAME=me QUALYS_PASSWORD=... connector-host connect --platform US2
  connector-host collect --platform EU1 --proof-type remediation-tickets \\
      --criteria states=OPEN,RESOLVED --criteria severities=4,5 --format csv --output tickets.csv
  connector-host collect --platform US1 --all --out-dir proofs/ --credentials-file ~/.qualys.toml
  connector-host collect --platform US1 --proof-type assets --output assets.json --resume

Credentials come from QUALYS_USERNAME and QUALYS_PASSWORD, or --credentials-file; never from flags.
Whoever runs the CLI is the operator: the 13 Qualys platforms' API servers are allowed, --api-url
adds its host, and private or loopback addresses need --allow-private-network.";

/// Collect compliance proof from Qualys through the sandboxed connector component.
#[derive(Parser, Debug)]
#[command(name = "connector-host", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print nothing but errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Log every request (method, URL path, status, duration; never credentials) to stderr.
    #[arg(long, short, global = true, conflicts_with = "quiet")]
    verbose: bool,
    /// A connector component to run instead of the one built into this binary.
    #[arg(long, global = true, value_name = "PATH")]
    plugin: Option<PathBuf>,
    /// Where precompiled components are cached (default: the user's cache folder).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// List the proof types the connector can collect, with fields and criteria.
    ProofTypes {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Print the README's Markdown reference of every proof type.
        #[arg(long, conflicts_with = "json")]
        markdown: bool,
    },
    /// Check the credentials and platform; say who is connected and what they can collect.
    Connect {
        #[command(flatten)]
        target: target::Target,
    },
    /// Collect a proof (every page) and write it.
    Collect {
        #[command(flatten)]
        target: target::Target,
        /// The proof type id (see `proof-types`).
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        proof_type: Option<String>,
        /// Collect every proof type into --out-dir, with a manifest.json of digests.
        #[arg(long)]
        all: bool,
        /// A criterion, NAME=VALUE; repeat for more.
        #[arg(long = "criteria", value_name = "NAME=VALUE", value_parser = parse_criterion)]
        criteria: Vec<(String, String)>,
        /// Output format: json, jsonl or csv.
        #[arg(long, default_value = "json", value_parser = parse_format)]
        format: Format,
        /// Output file (default: standard output).
        #[arg(long, short, conflicts_with = "all")]
        output: Option<PathBuf>,
        /// Output folder for --all.
        #[arg(long, default_value = "proofs", requires = "all")]
        out_dir: PathBuf,
        /// Continue an interrupted collect from the checkpoint beside --output (or in
        /// --out-dir with --all), after checking it is the same proof, criteria and platform.
        #[arg(long)]
        resume: bool,
    },
    /// Start the bundled Qualys simulator and collect every proof type from it.
    Demo {
        /// Where the proofs go.
        #[arg(long, default_value = "proofs")]
        out: PathBuf,
    },
}

fn parse_criterion(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{s}' is not NAME=VALUE"))
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

/// Runs a command; returns the exit code.
pub async fn run(cli: Cli) -> u8 {
    let ui = Ui::new(cli.quiet, cli.verbose);
    let loader = component::Loader { plugin: cli.plugin.clone(), cache_dir: cli.cache_dir.clone() };
    match cli.command {
        Command::ProofTypes { json, markdown } => proof_types::run(&loader, &ui, json, markdown).await,
        Command::Connect { target } => connect::run(&loader, &ui, &target).await,
        Command::Collect { target, proof_type, all, criteria, format, output, out_dir, resume } => {
            let what = match proof_type {
                Some(id) if !all => collect::What::One { id, output },
                _ => collect::What::All { dir: out_dir },
            };
            collect::run(&loader, &ui, &target, what, &criteria, format, resume).await
        }
        Command::Demo { out } => demo::run(&loader, &ui, &out).await,
    }
}
