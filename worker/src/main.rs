//! `connector-worker`: run collects on Temporal with proofs in PostgreSQL.

use std::path::PathBuf;
use std::str::FromStr as _;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use connector_host::cli::Ui;
use connector_host::cli::component::Loader;
use connector_host::cli::network::NetworkArgs;
use connector_host::cli::target::{api_base, tenant_for};
use connector_runtime::NetworkPolicy;
use connector_worker::secrets::{FolderSecrets, valid_tenant};
use connector_worker::store::{RunMeta, Store, StoredField};
use connector_worker::workflow::{CollectActivities, CollectInput, CollectWorkflow};
use connector_worker::{TASK_QUEUE, new_run_id};
use evidence_proof::Format;
use temporalio_client::schedules::{CreateScheduleOptions, ScheduleAction, ScheduleSpec};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, WorkflowStartOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};

/// Durable collects: a Temporal worker, and the commands a platform scripts.
#[derive(Parser)]
#[command(name = "connector-worker", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the engine and the store are.
#[derive(clap::Args, Clone)]
struct Services {
    /// Temporal's frontend, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7233")]
    temporal: String,
    /// The proof store, a PostgreSQL URL (default: DATABASE_URL; never printed).
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    database: String,
    /// The task queue.
    #[arg(long, default_value = TASK_QUEUE)]
    task_queue: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run a worker: collects pages of the workflows on the task queue.
    Run {
        #[command(flatten)]
        services: Services,
        /// A folder of the CLI's credentials files, one a tenant: TENANT.toml (mode 0600).
        #[arg(long, value_name = "DIR")]
        secrets: PathBuf,
        /// Also allow this API URL's host (a private cloud platform, the simulator).
        #[arg(long = "allow-api-url", value_name = "URL")]
        allow_api_urls: Vec<String>,
        /// Longest rate-limit wait a call rides out itself; longer ones park the workflow on a
        /// durable timer.
        #[arg(long, value_name = "SECONDS", default_value_t = 10)]
        max_inline_wait: u32,
        #[command(flatten)]
        network: NetworkArgs,
    },
    /// Start a collect; prints its run id.
    Start {
        #[command(flatten)]
        services: Services,
        #[command(flatten)]
        what: What,
    },
    /// Collect on a Temporal Schedule: every interval (`--every 1d`, `12h`, `30m`, `90s`), the
    /// first run at once; prints the schedule's id. Each run's id is its workflow id.
    Schedule {
        #[command(flatten)]
        services: Services,
        #[command(flatten)]
        what: What,
        /// How often.
        #[arg(long, value_parser = every)]
        every: std::time::Duration,
    },
    /// Where a run stands (from the proof store).
    Status {
        /// The run id `start` printed.
        run: String,
        /// The proof store, a PostgreSQL URL (default: DATABASE_URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
        database: String,
    },
    /// Write a complete run's proof: the same bytes `connector-host collect` writes for the
    /// same rows, with the same digest.
    Export {
        /// The run id.
        run: String,
        /// The proof store, a PostgreSQL URL (default: DATABASE_URL).
        #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
        database: String,
        /// json, jsonl or csv; pdf or xlsx render the JSON proof as a document.
        #[arg(long, default_value = "json")]
        format: String,
        /// The file to write.
        #[arg(long)]
        output: PathBuf,
        /// Sign the proof (and a document's sidecar) with this Ed25519 private key.
        #[arg(long, value_name = "KEY")]
        sign_key: Option<PathBuf>,
    },
}

/// What to collect, for whom.
#[derive(clap::Args)]
struct What {
    /// The tenant (names its credentials in the workers' secret folder).
    #[arg(long)]
    tenant: String,
    /// Platform code.
    #[arg(long, default_value = "US1")]
    platform: String,
    /// Custom API URL.
    #[arg(long)]
    api_url: Option<String>,
    /// Proof type id.
    #[arg(long)]
    proof_type: String,
    /// A criterion, NAME=VALUE; repeat for more.
    #[arg(long = "criteria", value_name = "NAME=VALUE", value_parser = criterion)]
    criteria: Vec<(String, String)>,
    /// Pages a workflow run collects before it continues as new, keeping its history small
    /// (default 200).
    #[arg(long, default_value_t = 0, hide_default_value = true)]
    pages_per_run: u32,
}

impl What {
    /// The workflow's input (no run id yet): the proof type checked against the component,
    /// which also gives its title, fields and key.
    async fn input(&self) -> anyhow::Result<CollectInput> {
        let What { tenant, platform, api_url, proof_type, criteria, pages_per_run } = self;
        anyhow::ensure!(valid_tenant(tenant), "'{tenant}' is not a tenant id (letters, digits, -, _ and .)");
        let base = api_base(platform, api_url.as_deref()).map_err(|e| anyhow::anyhow!(e))?;
        let loader = Loader { plugin: None, cache_dir: None };
        let runtime = loader
            .load(&Ui::new(true, false), NetworkPolicy::deny_all())
            .map_err(|code| anyhow::anyhow!("the component did not load ({code})"))?;
        let types = runtime.list_proof_types().await?;
        let proof = types.iter().find(|t| t.id == *proof_type).with_context(|| {
            format!(
                "unknown proof type '{proof_type}'; known: {}",
                types.iter().map(|t| t.id.as_str()).collect::<Vec<_>>().join(", ")
            )
        })?;
        let fields = connector_runtime::fields_of(proof).iter().map(StoredField::of).collect();
        Ok(CollectInput {
            run_id: String::new(),
            tenant: tenant.clone(),
            platform: platform.clone(),
            api_url: api_url.clone(),
            proof_type: proof_type.clone(),
            criteria: criteria.clone(),
            next_seq: 0,
            pages_per_run: *pages_per_run,
            cursor: None,
            meta: RunMeta {
                title: proof.title.clone(),
                fields,
                key: runtime.declared_key(proof),
                collected_at: String::new(),
                api_url: base.url(),
            },
        })
    }
}

/// An interval: a number and a unit, `d`, `h`, `m` or `s`.
fn every(s: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n.parse().map_err(|_| format!("'{s}' is not an interval such as 1d, 12h, 30m or 90s"))?;
    let secs = match unit {
        "d" => n * 86_400,
        "h" => n * 3_600,
        "m" => n * 60,
        "s" | "" => n,
        _ => return Err(format!("'{s}' is not an interval such as 1d, 12h, 30m or 90s")),
    };
    if secs == 0 {
        return Err("the interval must be longer than nothing".into());
    }
    Ok(std::time::Duration::from_secs(secs))
}

fn criterion(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .ok_or_else(|| format!("'{s}' is not NAME=VALUE"))
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_ansi(terminal).with_target(false).init();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn client(temporal: &str) -> anyhow::Result<Client> {
    let url = temporalio_client::Url::from_str(&format!("http://{temporal}")).context("--temporal")?;
    let connection = Connection::connect(ConnectionOptions::new(url).build())
        .await
        .with_context(|| format!("cannot reach Temporal at {temporal}"))?;
    Ok(Client::new(connection, ClientOptions::new("default").build())?)
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { services, secrets, allow_api_urls, max_inline_wait, network } => {
            let mut policy = network.policy(None)?;
            for url in &allow_api_urls {
                let base = api_base("US1", Some(url)).map_err(|e| anyhow::anyhow!(e))?;
                policy = policy.allow_host(&base.host)?;
            }
            let loader = Loader { plugin: None, cache_dir: None };
            let ui = Ui::new(true, false);
            let runtime = loader
                .load(&ui, policy)
                .map_err(|code| anyhow::anyhow!("the component did not load ({code})"))?;
            let connector = loader.connector_info(&runtime).await;
            let store = Arc::new(Store::open(&services.database).await?);
            let activities = CollectActivities {
                runtime,
                store,
                secrets: Arc::new(FolderSecrets { dir: secrets }),
                connector,
                max_inline_wait,
                tenant: Box::new(|platform, api_url, username, password| {
                    api_base(platform, api_url).map_err(|e| anyhow::anyhow!(e))?;
                    tenant_for(platform, api_url, username, password, &Ui::new(true, false))
                        .map_err(|_| anyhow::anyhow!("unknown platform or bad API URL"))
                }),
            };
            let engine = Runtime::from_current_tokio(Default::default())?;
            let options = WorkerOptions::new(services.task_queue.as_str())
                .register_workflow::<CollectWorkflow>()?
                .register_workflow::<connector_worker::account::AccountWorkflow>()?
                .register_activities(activities)
                .build();
            let mut worker = Worker::new(&engine, client(&services.temporal).await?, options)?;
            tracing::info!(task_queue = %services.task_queue, "worker started");
            worker.run().await?;
            Ok(())
        }
        Command::Start { services, what } => {
            let mut input = what.input().await?;
            let run_id = new_run_id(&input.tenant, &input.proof_type);
            input.run_id = run_id.clone();
            input.meta.collected_at = evidence_proof::now_rfc3339();
            // Recorded now, so `status` knows the run at once (the workflow's first activity
            // records it again, changing nothing).
            let store = Store::open(&services.database).await?;
            store.create_run(&input.new_run()).await?;
            client(&services.temporal)
                .await?
                .start_workflow(
                    CollectWorkflow::run,
                    input,
                    WorkflowStartOptions::new(services.task_queue.as_str(), run_id.as_str()).build(),
                )
                .await?;
            println!("{run_id}");
            Ok(())
        }
        Command::Schedule { services, what, every } => {
            let input = what.input().await?;
            let id = format!("schedule-{}-{}", input.tenant, input.proof_type);
            let workflow_id = format!("{}-{}", input.proof_type, input.tenant);
            let options = CreateScheduleOptions::builder()
                .action(ScheduleAction::start_workflow(
                    CollectWorkflow::run,
                    input,
                    services.task_queue.as_str(),
                    workflow_id,
                ))
                .spec(ScheduleSpec::from_interval(every))
                .trigger_immediately(true)
                .build();
            client(&services.temporal).await?.create_schedule(id.as_str(), options).await?;
            println!("{id}");
            Ok(())
        }
        Command::Status { run, database } => {
            let status = Store::open(&database).await?.status(&run).await?;
            println!("{}", serde_json::to_string_pretty(&status)?);
            Ok(())
        }
        Command::Export { run, database, format, output, sign_key } => {
            let store = Store::open(&database).await?;
            let signer =
                sign_key.as_deref().map(connector_host::cli::keygen::read_signing_key).transpose()?;
            let document = match format.as_str() {
                "pdf" => Some(evidence_render::document::DocumentKind::Pdf),
                "xlsx" => Some(evidence_render::document::DocumentKind::Xlsx),
                _ => None,
            };
            let proof_format: Format = if document.is_some() {
                Format::Json
            } else {
                format.parse().map_err(|e: String| anyhow::anyhow!(e))?
            };
            let target = match document {
                Some(_) => connector_host::cli::collect::document_source(&output),
                None => output.clone(),
            };
            let summary = store.export(&run, proof_format, Some(&target), signer.as_ref()).await?;
            if let Some(kind) = document {
                let ui = Ui::new(false, false);
                let code =
                    connector_host::cli::render::write(&ui, &target, kind, &output, None, signer.as_ref());
                anyhow::ensure!(code == 0, "rendering {} failed (exit code {code})", output.display());
                if kind == evidence_render::document::DocumentKind::Pdf {
                    let _ = std::fs::remove_file(&target);
                }
            }
            eprintln!("{run}: {} rows, sha256 {} → {}", summary.row_count, summary.sha256, output.display());
            Ok(())
        }
    }
}
