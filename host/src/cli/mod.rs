//! The command line: arguments and the dispatch to one module per subcommand.

pub mod collect;
pub mod component;
mod connect;
pub mod credentials;
mod demo;
mod diff;
pub mod exit;
pub mod keygen;
pub mod network;
mod proof_types;
pub mod render;
pub mod target;
pub mod ui;
mod verify;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
  connector-host keygen --out signing.key
  connector-host collect --platform US1 --proof-type users --output users.json --sign-key signing.key
  connector-host verify users.json --public-key signing.key.pub
  connector-host diff users-last-week.json users.json

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
        /// Output format: json, jsonl or csv (proofs), or pdf or xlsx (documents for people, each
        /// with its sidecar; a PDF attaches the JSON proof, an Excel workbook keeps it beside it as
        /// FILE.json; with --all every JSON proof stays in the folder, listed in the manifest).
        #[arg(long, default_value = "json", value_parser = parse_format)]
        format: collect::OutputFormat,
        /// Output file; `-` or none for standard output. Devices, pipes and links to them are
        /// written in place, with no partial file, checkpoint or sidecar.
        #[arg(long, short, conflicts_with = "all")]
        output: Option<PathBuf>,
        /// Output folder for --all.
        #[arg(long, default_value = "proofs", requires = "all")]
        out_dir: PathBuf,
        /// Continue an interrupted collect from the checkpoint beside --output (or in
        /// --out-dir with --all), after checking it is the same proof, criteria and platform.
        #[arg(long)]
        resume: bool,
        /// Sign each proof with this Ed25519 private key (from `keygen`; readable only by you).
        /// The signature covers the metadata and the row digest.
        #[arg(long, value_name = "KEY")]
        sign_key: Option<PathBuf>,
        /// Record the account's role in the provenance by calling `connect` once first (it
        /// spends the Qualys API calls `connect` makes). Without it the role is recorded only
        /// when the run already has it: from the account's own row of a users proof.
        #[arg(long)]
        record_role: bool,
        /// Also keep each proof, page by page, in this PostgreSQL proof store (the worker's;
        /// default: none). Prints the run id; `connector-worker export RUN` writes the same proof.
        #[arg(long, value_name = "URL", env = "EVIDENCE_DATABASE_URL", hide_env_values = true)]
        database: Option<String>,
    },
    /// Write an Ed25519 key pair for signing proofs: KEY (private, mode 0600) and KEY.pub.
    Keygen {
        /// The private key file; the public key goes to KEY.pub.
        #[arg(long, value_name = "KEY")]
        out: PathBuf,
        /// Replace an existing key pair.
        #[arg(long)]
        force: bool,
    },
    /// Check a proof: its rows against its digest, its metadata against its signature, and the
    /// signature against the signer's public key. Exit codes: 0 verified, 10 rows changed,
    /// 11 metadata changed, 12 wrong key, 13 unsigned, 14 signed but no --public-key given.
    Verify {
        /// A JSON proof, a JSON Lines or CSV proof (its FILE.proof.json beside it), a PDF or Excel
        /// document (its FILE.proof.json beside it; a PDF's attached proof is checked too), or
        /// such a sidecar.
        proof: PathBuf,
        /// The signer's public key (KEY.pub from `keygen`).
        #[arg(long, value_name = "KEY.pub")]
        public_key: Option<PathBuf>,
    },
    /// Render an existing proof for people, without Qualys: `pdf`, a PDF/A-3u document with the
    /// provenance, summaries and rows, and the proof attached; `xlsx`, an Excel workbook with the
    /// rows as typed cells and the metadata on a second sheet. Each gets a sidecar
    /// FILE.proof.json (its digest; signed with --sign-key) that `verify` checks. A proof whose
    /// rows do not match its digest is not rendered (exit code 10).
    Render {
        /// A JSON proof, or a JSON Lines or CSV proof with its FILE.proof.json beside it.
        proof: PathBuf,
        /// The document to write.
        #[arg(long, value_enum)]
        format: render::RenderFormat,
        /// Where to write it.
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
        /// Sign the document's sidecar with this Ed25519 private key (from `keygen`).
        #[arg(long, value_name = "KEY")]
        sign_key: Option<PathBuf>,
    },
    /// Compare two proofs of the same proof type: rows added, removed and changed, by key.
    Diff {
        /// The older proof (JSON, JSON Lines or CSV).
        old: PathBuf,
        /// The newer proof (any of the three formats).
        new: PathBuf,
        /// table for people, json for machines.
        #[arg(long, value_enum, default_value = "table")]
        format: diff::DiffFormat,
        /// Match rows by these fields (comma-separated, together) instead of the natural key the
        /// proofs or the connector declare.
        #[arg(long, value_name = "FIELD[,FIELD...]")]
        key: Option<String>,
        /// Memory for sorting rows, in MiB (larger proofs are sorted in chunks on disk).
        #[arg(long, value_name = "MIB", default_value_t = 64)]
        memory: usize,
        /// Where sorted chunks go (default: the system's temporary folder).
        #[arg(long, value_name = "DIR")]
        temp_dir: Option<PathBuf>,
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

fn parse_format(s: &str) -> Result<collect::OutputFormat, String> {
    s.parse()
}

/// Runs a command; returns the exit code.
pub async fn run(cli: Cli) -> u8 {
    let ui = Ui::new(cli.quiet, cli.verbose);
    ui.install_log();
    let loader = component::Loader { plugin: cli.plugin.clone(), cache_dir: cli.cache_dir.clone() };
    match cli.command {
        Command::ProofTypes { json, markdown } => proof_types::run(&loader, &ui, json, markdown).await,
        Command::Connect { target } => connect::run(&loader, &ui, &target).await,
        Command::Collect {
            target,
            proof_type,
            all,
            criteria,
            format,
            output,
            out_dir,
            resume,
            sign_key,
            record_role,
            database,
        } => {
            let what = match proof_type {
                Some(id) if !all => {
                    collect::What::One { id, output: output.filter(|p| p.as_os_str() != "-") }
                }
                _ => collect::What::All { dir: out_dir },
            };
            let vouching = collect::Vouching { sign_key, record_role, database };
            collect::run(&loader, &ui, &target, what, &criteria, format, resume, &vouching).await
        }
        Command::Keygen { out, force } => keygen::run(&ui, &out, force),
        Command::Verify { proof, public_key } => verify::run(&ui, &proof, public_key.as_deref()),
        Command::Render { proof, format, output, sign_key } => {
            render::run(&loader, &ui, &proof, format, &output, sign_key.as_deref()).await
        }
        Command::Diff { old, new, format, key, memory, temp_dir } => {
            let args = diff::Args { old, new, format, key, memory_mib: memory, temp_dir };
            diff::run(&loader, &ui, &args).await
        }
        Command::Demo { out } => demo::run(&loader, &ui, &out).await,
    }
}
