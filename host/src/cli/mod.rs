//! The command line: arguments, commands, progress and messages.

pub mod credentials;
mod demo;
pub mod exit;

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use connector_host::types::{Config, FieldKind, ProofType};
use connector_host::{
    CallError, CollectOptions, CollectRequest, Format, Progress, ProofMeta, ProofWriter, Runtime,
    RuntimeOptions, Tenant, TenantPolicy, collect_proof, output, policy,
};
use indicatif::{ProgressBar, ProgressStyle};
use sha2::Digest as _;

const EXAMPLES: &str = "\
Examples:
  connector-host demo
  connector-host proof-types
  QUALYS_USERNAME=me QUALYS_PASSWORD=... connector-host connect --platform US2
  connector-host collect --platform EU1 --proof-type remediation-tickets \\
      --criteria states=OPEN,RESOLVED --criteria severities=4,5 --format csv --output tickets.csv
  connector-host collect --platform US1 --all --out-dir proofs/ --credentials-file ~/.qualys.toml

Credentials come from QUALYS_USERNAME and QUALYS_PASSWORD, or --credentials-file; never from flags.";

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
    /// The connector component (default: the one this workspace builds).
    #[arg(long, global = true, value_name = "PATH")]
    plugin: Option<PathBuf>,
    /// Where precompiled components are cached (default: target/connector-cache beside the plugin).
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
        target: Target,
    },
    /// Collect a proof (every page) and write it.
    Collect {
        #[command(flatten)]
        target: Target,
        /// The proof type id (see `proof-types`).
        #[arg(long, required_unless_present = "all", conflicts_with = "all")]
        proof_type: Option<String>,
        /// Collect every proof type into --out-dir, with a manifest.json of digests.
        #[arg(long)]
        all: bool,
        /// A criterion, NAME=VALUE; repeat for more.
        #[arg(long = "criteria", value_name = "NAME=VALUE", value_parser = parse_criterion)]
        criteria: Vec<(String, String)>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Json)]
        format: Format,
        /// Output file (default: standard output).
        #[arg(long, short, conflicts_with = "all")]
        output: Option<PathBuf>,
        /// Output folder for --all.
        #[arg(long, default_value = "proofs", requires = "all")]
        out_dir: PathBuf,
    },
    /// Start the bundled Qualys simulator and collect every proof type from it.
    Demo {
        /// Where the proofs go.
        #[arg(long, default_value = "proofs")]
        out: PathBuf,
    },
}

/// Which Qualys, and as whom.
#[derive(Args, Debug, Clone)]
struct Target {
    /// Qualys platform: AE1, AU1, CA1, EU1, EU2, EU3, IN1, KSA1, UK1, US1, US2, US3, US4.
    #[arg(long, default_value = "US1")]
    platform: String,
    /// Custom API URL (private cloud platform, simulator); overrides the platform's URL.
    #[arg(long, value_name = "URL")]
    api_url: Option<String>,
    /// A file with the credentials (TOML or KEY=VALUE), readable only by you.
    #[arg(long, value_name = "FILE")]
    credentials_file: Option<PathBuf>,
    /// Longest Qualys rate-limit wait the connector rides out inside one call; longer waits
    /// come back to the CLI, which waits and resumes.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    max_inline_wait: u32,
}

fn parse_criterion(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("'{s}' is not NAME=VALUE"))
}

/// Messages to the person at the terminal.
#[derive(Clone)]
pub struct Ui {
    quiet: bool,
    verbose: bool,
    interactive: bool,
}

impl Ui {
    fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    fn error(&self, msg: impl AsRef<str>) {
        eprintln!("error: {}", msg.as_ref());
    }
}

/// Runs a command; returns the exit code.
pub async fn run(cli: Cli) -> u8 {
    let ui = Ui { quiet: cli.quiet, verbose: cli.verbose, interactive: std::io::stderr().is_terminal() };
    let plugin = cli.plugin.clone().unwrap_or_else(|| PathBuf::from(connector_host::DEFAULT_PLUGIN));
    let cache_dir = cli.cache_dir.clone().or_else(|| default_cache_dir(&plugin));
    let options = RuntimeOptions { cache_dir, ..RuntimeOptions::default() };
    let runtime = match Runtime::load(&plugin, &options) {
        Ok(r) => r,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return exit::HOST;
        }
    };
    match cli.command {
        Command::ProofTypes { json, markdown } => proof_types(&runtime, &ui, json, markdown).await,
        Command::Connect { target } => match tenant(&target, &ui) {
            Ok(t) => connect(&runtime, &ui, &t).await,
            Err(code) => code,
        },
        Command::Collect { target, proof_type, all, criteria, format, output, out_dir } => {
            let t = match tenant(&target, &ui) {
                Ok(t) => t,
                Err(code) => return code,
            };
            if all {
                collect_all(&runtime, &ui, &t, &criteria, format, &out_dir).await
            } else {
                let id = proof_type.expect("clap requires it");
                collect_one(&runtime, &ui, &t, &id, &criteria, format, output.as_deref()).await.0
            }
        }
        Command::Demo { out } => demo::run(&runtime, &ui, &out).await,
    }
}

fn default_cache_dir(plugin: &Path) -> Option<PathBuf> {
    // target/plugin/wasm32-wasip2/release/x.wasm → target/connector-cache
    let target = plugin.ancestors().nth(4)?;
    Some(target.join("connector-cache"))
}

fn tenant(target: &Target, ui: &Ui) -> Result<Tenant, u8> {
    let creds = credentials::load(target.credentials_file.as_deref()).map_err(|e| {
        ui.error(format!("{e:#}"));
        exit::CONFIG
    })?;
    let mut t = tenant_for(&target.platform, target.api_url.as_deref(), creds.username, creds.password, ui)?;
    t.config.max_inline_wait_seconds = Some(target.max_inline_wait);
    Ok(t)
}

fn tenant_for(
    platform: &str,
    api_url: Option<&str>,
    username: String,
    password: String,
    ui: &Ui,
) -> Result<Tenant, u8> {
    let policy = TenantPolicy::for_platform(platform, api_url).map_err(|e| {
        ui.error(e.to_string());
        exit::CONFIG
    })?;
    let config = Config {
        platform: platform.to_string(),
        api_url: api_url.map(str::to_string),
        username,
        password,
        timeouts: None,
        max_inline_wait_seconds: None,
    };
    let observer: Option<connector_host::sandbox::RequestObserver> = ui.verbose.then(|| {
        Arc::new(|e: &connector_host::sandbox::RequestEvent| {
            let status = e.status.map_or_else(|| "---".to_string(), |s| s.to_string());
            let note = e.error.as_deref().map(|m| format!(" ({m})")).unwrap_or_default();
            eprintln!("{} {} {} {}ms{}", e.method, e.target, status, e.duration.as_millis(), note);
        }) as connector_host::sandbox::RequestObserver
    });
    Ok(Tenant { config, policy, observer })
}

fn kind_label(k: FieldKind) -> &'static str {
    output::kind_name(k)
}

async fn proof_types(runtime: &Runtime, ui: &Ui, json: bool, markdown: bool) -> u8 {
    let types = match runtime.list_proof_types().await {
        Ok(t) => t,
        Err(e) => {
            ui.error(e.to_string());
            return exit::code(&e);
        }
    };
    if json {
        let value: Vec<_> = types.iter().map(proof_type_json).collect();
        println!("{}", serde_json::to_string_pretty(&value).expect("json"));
    } else if markdown {
        print!("{}", connector_host::reference::markdown(&types));
    } else {
        for t in &types {
            println!("{:<22} {}", t.id, t.title);
            println!(
                "{:<22} fields: {}",
                "",
                t.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(", ")
            );
            if !t.criteria.is_empty() {
                println!(
                    "{:<22} criteria: {}",
                    "",
                    t.criteria.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
    exit::OK
}

fn proof_type_json(t: &ProofType) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "title": t.title, "description": t.description,
        "fields": t.fields.iter().map(|f| serde_json::json!({"name": f.name, "label": f.label, "kind": kind_label(f.kind), "description": f.description})).collect::<Vec<_>>(),
        "criteria": t.criteria.iter().map(|c| serde_json::json!({"name": c.name, "kind": kind_label(c.kind), "required": c.required, "allowed_values": c.allowed_values, "default": c.default_value, "description": c.description})).collect::<Vec<_>>(),
    })
}

async fn connect(runtime: &Runtime, ui: &Ui, tenant: &Tenant) -> u8 {
    let report = runtime.connect(tenant).await;
    match report.result {
        Ok(a) => {
            println!(
                "connected as {} ({}) on {} — {}",
                a.login,
                a.role.as_deref().unwrap_or("role unknown"),
                a.platform,
                a.api_url
            );
            if let Some(bu) = &a.business_unit {
                println!("business unit: {bu}");
            }
            for p in &a.proof_access {
                let access = match p.access {
                    connector_host::types::Access::Full => "yes",
                    connector_host::types::Access::Partial => "partly",
                    connector_host::types::Access::None => "no",
                };
                println!("  {:<22} {:<7} {}", p.proof_type_id, access, p.reason.as_deref().unwrap_or(""));
            }
            for w in &a.warnings {
                ui.info(format!("warning [{}]: {}", w.code, w.message));
            }
            exit::OK
        }
        Err(e) => {
            ui.error(e.to_string());
            exit::code(&e)
        }
    }
}

/// Collects one proof; returns the exit code and, on success, its summary.
async fn collect_one(
    runtime: &Runtime,
    ui: &Ui,
    tenant: &Tenant,
    id: &str,
    criteria: &[(String, String)],
    format: Format,
    output: Option<&Path>,
) -> (u8, Option<(output::ProofSummary, connector_host::CollectStats)>) {
    let types = match runtime.list_proof_types().await {
        Ok(t) => t,
        Err(e) => {
            ui.error(e.to_string());
            return (exit::code(&e), None);
        }
    };
    let Some(proof) = types.iter().find(|t| t.id == id) else {
        let ids: Vec<_> = types.iter().map(|t| t.id.as_str()).collect();
        ui.error(format!("unknown proof type '{id}'; known: {}", ids.join(", ")));
        return (exit::CONFIG, None);
    };
    let api_url = policy::resolve_api(&tenant.config.platform, tenant.config.api_url.as_deref())
        .map(|b| b.url())
        .unwrap_or_default();
    let meta = ProofMeta {
        proof_type: proof.id.clone(),
        title: proof.title.clone(),
        collected_at: connector_host::now_rfc3339(),
        platform: tenant.config.platform.to_ascii_uppercase(),
        api_url,
        criteria: criteria.to_vec(),
    };
    let mut writer = match ProofWriter::create(output, format, &meta, &proof.fields) {
        Ok(w) => w,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return (exit::HOST, None);
        }
    };
    let bar = (ui.interactive && !ui.quiet).then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]").expect("template"));
        b.set_prefix(proof.id.clone());
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    let ui2 = ui.clone();
    let bar2 = bar.clone();
    let mut on_progress = move |p: &Progress| match p {
        Progress::Page { pages, rows } => {
            if let Some(b) = &bar2 {
                b.set_message(format!("{rows} rows, {pages} pages"));
            }
        }
        Progress::Waiting { seconds, message } => {
            let text = format!("Qualys rate limit: waiting {seconds}s, then resuming ({message})");
            match &bar2 {
                Some(b) => b.println(text),
                None => ui2.info(text),
            }
        }
    };
    let started = Instant::now();
    let request = CollectRequest { proof, criteria, cursor: None };
    let result =
        collect_proof(runtime, tenant, request, &mut writer, &CollectOptions::default(), &mut on_progress)
            .await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    match result {
        Ok(stats) => match writer.finish() {
            Ok(summary) => {
                for (code, message) in &summary.warnings {
                    ui.info(format!("warning [{code}]: {message}"));
                }
                ui.info(format!(
                    "{}: {} rows, {} pages, {} requests in {:.1}s; sha256 {}{}",
                    proof.id,
                    summary.row_count,
                    stats.pages,
                    stats.requests,
                    started.elapsed().as_secs_f64(),
                    summary.sha256,
                    summary.path.as_ref().map(|p| format!(" → {}", p.display())).unwrap_or_default()
                ));
                (exit::OK, Some((summary, stats)))
            }
            Err(e) => {
                ui.error(format!("{e:#}"));
                (exit::HOST, None)
            }
        },
        // The writer is dropped without finishing: its temporary file is removed, and no
        // partial proof appears under the output name.
        Err(e) => {
            ui.error(format!("{}: {e}", proof.id));
            (exit::code(&e), None)
        }
    }
}

async fn collect_all(
    runtime: &Runtime,
    ui: &Ui,
    tenant: &Tenant,
    criteria: &[(String, String)],
    format: Format,
    dir: &Path,
) -> u8 {
    let types = match runtime.list_proof_types().await {
        Ok(t) => t,
        Err(e) => {
            ui.error(e.to_string());
            return exit::code(&e);
        }
    };
    if !criteria.is_empty() {
        ui.error("--criteria applies to one proof type; use --proof-type with it");
        return exit::CONFIG;
    }
    let mut entries = Vec::new();
    let mut worst = exit::OK;
    for t in &types {
        let path = dir.join(format!("{}.{}", t.id, format.extension()));
        let (code, summary) = collect_one(runtime, ui, tenant, &t.id, &[], format, Some(&path)).await;
        match summary {
            Some((s, stats)) => entries.push(serde_json::json!({
                "proof_type": t.id, "file": path.file_name().map(|f| f.to_string_lossy().into_owned()),
                "rows": s.row_count, "pages": stats.pages, "sha256_rows": s.sha256,
                "sha256_file": file_digest(&path), "warnings": s.warnings.len(),
            })),
            None => {
                entries.push(serde_json::json!({"proof_type": t.id, "error": format!("exit code {code}")}));
                worst = worst.max(code);
            }
        }
    }
    let manifest = serde_json::json!({
        "collected_at": connector_host::now_rfc3339(),
        "platform": tenant.config.platform.to_ascii_uppercase(),
        "api_url": tenant.config.api_url,
        "format": format,
        "proofs": entries,
    });
    let text = serde_json::to_vec_pretty(&manifest).expect("json");
    if let Err(e) = output::write_atomic(&dir.join("manifest.json"), &text) {
        ui.error(format!("{e:#}"));
        return exit::HOST;
    }
    worst
}

fn file_digest(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| hex::encode(sha2::Sha256::digest(&b)))
}

/// Error text for a call error in the demo's table.
fn short(e: &CallError) -> String {
    let s = e.to_string();
    if s.len() > 160 {
        format!("{}…", &s[..s.char_indices().nth(160).map_or(s.len(), |(i, _)| i)])
    } else {
        s
    }
}
