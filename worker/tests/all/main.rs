//! Durable collects against the real engine and the real store: Temporal's dev server and
//! PostgreSQL on loopback (`.ci/services` starts both), workers run as this crate's binary, the
//! Qualys simulator in-process. A worker killed with `kill -9` mid-collect leaves its page to
//! another; a rate limit parks the workflow on a timer; a wrong password ends it at once; the
//! password is nowhere in the engine's history or the database; the exported proof's digest is
//! the CLI's.

mod store;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use connector_worker::store::{RunStatus, Store};
use qualys_simulator::{Account, Fault, FaultRule, SimConfig, Simulator, Sizes};

const LOGIN: &str = "worker_manager";
const PASSWORD: &str = "Wk-Secret-6612-pass";

/// The store's URL: EVIDENCE_TEST_DATABASE_URL, else `.ci/services`' cluster.
pub fn database() -> String {
    std::env::var("EVIDENCE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into())
}

/// Temporal's frontend: EVIDENCE_TEST_TEMPORAL, else `.ci/services`' dev server.
fn temporal() -> String {
    std::env::var("EVIDENCE_TEST_TEMPORAL").unwrap_or_else(|_| "127.0.0.1:57233".into())
}

/// Temporal's own CLI, to read a workflow's history through the engine's API.
fn temporal_cli() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools/temporal-1.9.1/bin/temporal")
}

/// A folder of credentials files, one tenant each.
fn secrets(tenants: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (tenant, password) in tenants {
        let path = dir.path().join(format!("{tenant}.toml"));
        std::fs::write(&path, format!("username = \"{LOGIN}\"\npassword = \"{password}\"\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    dir
}

/// A worker process, killed when dropped.
struct Worker(Child);

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn worker(queue: &str, secrets: &Path, sim: &Simulator, inline_wait: u32) -> Worker {
    let child = Command::new(env!("CARGO_BIN_EXE_connector-worker"))
        .args(["run", "--temporal", &temporal(), "--database", &database(), "--task-queue", queue])
        .args([
            "--secrets",
            secrets.to_str().unwrap(),
            "--allow-private-network",
            "--allow-api-url",
            &sim.url(),
        ])
        .args(["--max-inline-wait", &inline_wait.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the worker starts");
    Worker(child)
}

/// A task queue of the test's own, so tests running at once never take each other's work.
fn queue(name: &str) -> String {
    format!("test-{name}-{}", std::process::id())
}

fn start(queue: &str, tenant: &str, sim: &Simulator, proof_type: &str, criteria: &[&str]) -> String {
    let criteria: Vec<String> = criteria.iter().map(|c| format!("--criteria={c}")).collect();
    start_with(queue, tenant, sim, proof_type, &criteria.iter().map(String::as_str).collect::<Vec<_>>())
}

/// `start` with more flags.
fn start_with(queue: &str, tenant: &str, sim: &Simulator, proof_type: &str, more: &[&str]) -> String {
    let mut args = vec!["start", "--tenant", tenant, "--proof-type", proof_type];
    let url = sim.url();
    args.extend(["--api-url", &url]);
    args.extend(more);
    let out = Command::new(env!("CARGO_BIN_EXE_connector-worker"))
        .args(&args)
        .args(["--temporal", &temporal(), "--database", &database(), "--task-queue", queue])
        .output()
        .unwrap();
    assert!(out.status.success(), "start: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Waits until the run is no longer running (or `until` says so), up to `limit`.
async fn wait(store: &Store, run: &str, limit: Duration, until: impl Fn(&RunStatus) -> bool) -> RunStatus {
    let started = Instant::now();
    loop {
        let s = store.status(run).await.unwrap();
        if s.state != "running" || until(&s) {
            return s;
        }
        assert!(started.elapsed() < limit, "run {run} still {s:?} after {limit:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The workflow's whole history, as the engine's API gives it.
fn history(run: &str) -> String {
    let out = Command::new(temporal_cli())
        .args(["workflow", "show", "--workflow-id", run, "--address", &temporal(), "--output", "json"])
        .output()
        .expect("temporal's CLI (.ci/services installs it)");
    assert!(out.status.success(), "temporal workflow show: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Every stored value of a run, as text.
async fn database_text(run: &str) -> String {
    let (client, conn) = tokio_postgres::connect(&database(), tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    let mut text = String::new();
    for table in ["runs", "pages", "proof_rows"] {
        let rows = client
            .query(&format!("SELECT row_to_json(t)::text FROM {table} t WHERE run_id = $1"), &[&run])
            .await
            .unwrap();
        for r in rows {
            text.push_str(r.get::<_, &str>(0));
        }
    }
    text
}

async fn sim(tickets: u64, faults: Vec<FaultRule>) -> Simulator {
    let config = SimConfig {
        accounts: vec![Account::manager(LOGIN, PASSWORD)],
        sizes: Sizes { tickets, ..Sizes::default() },
        faults,
        ..SimConfig::default()
    };
    Simulator::start(config).await.unwrap()
}

/// The same proof collected by `connector-host collect`, in-process, with the tenant's file.
async fn cli_collect(
    sim: &Simulator,
    secrets: &Path,
    tenant: &str,
    proof_type: &str,
    criteria: &[&str],
    out: &Path,
    more: &[&str],
) {
    let creds = secrets.join(format!("{tenant}.toml"));
    let mut args =
        vec!["connector-host", "--quiet", "collect", "--allow-private-network", "--proof-type", proof_type];
    let url = sim.url();
    args.extend([
        "--api-url",
        &url,
        "--credentials-file",
        creds.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ]);
    for c in criteria {
        args.extend(["--criteria", c]);
    }
    args.extend(more);
    let cli = <connector_host::cli::Cli as clap::Parser>::parse_from(args);
    assert_eq!(connector_host::cli::run(cli).await, 0, "connector-host collect");
}

fn export(run: &str, format: &str, out: &Path) {
    let o = Command::new(env!("CARGO_BIN_EXE_connector-worker"))
        .args([
            "export",
            run,
            "--database",
            &database(),
            "--format",
            format,
            "--output",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "export: {}", String::from_utf8_lossy(&o.stderr));
}

fn proof(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workers_share_a_collect_one_is_killed_mid_collect_and_the_other_finishes_it_with_the_clis_digest()
 {
    let sim = sim(100_000, vec![]).await;
    let secrets = secrets(&[("acme", PASSWORD)]);
    let q = queue("kill");
    let mut first = worker(&q, secrets.path(), &sim, 10);
    let _second = worker(&q, secrets.path(), &sim, 10);
    let store = Store::open(&database()).await.unwrap();
    let run = start(&q, "acme", &sim, "remediation-tickets", &[]);
    let s = wait(&store, &run, Duration::from_secs(300), |s| s.pages >= 10).await;
    assert_eq!(s.state, "running", "killed mid-collect, not after: {s:?}");
    first.0.kill().unwrap(); // SIGKILL: no goodbye to the engine
    first.0.wait().unwrap();
    let s = wait(&store, &run, Duration::from_secs(600), |_| false).await;
    assert_eq!(s.state, "complete", "{s:?}");
    assert_eq!(s.rows, 100_000);

    let dir = tempfile::tempdir().unwrap();
    let (exported, collected) = (dir.path().join("exported.json"), dir.path().join("collected.json"));
    export(&run, "json", &exported);
    cli_collect(&sim, secrets.path(), "acme", "remediation-tickets", &[], &collected, &[]).await;
    let (e, c) = (proof(&exported), proof(&collected));
    assert_eq!(e["sha256"], c["sha256"], "the same rows in the same order");
    assert_eq!(e["row_count"], 100_000);
    assert_eq!(e["rows"], c["rows"]);
    assert_eq!(s.sha256.as_deref(), e["sha256"].as_str());
    // Both workers collected pages (the engine's history names the worker that started each).
    let history = history(&run);
    let identities: std::collections::BTreeSet<&str> = history
        .match_indices("\"identity\"")
        .filter_map(|(at, _)| history[at..].split('"').nth(3))
        .filter(|id| !id.is_empty())
        .collect();
    assert!(identities.len() >= 2, "pages went to both workers: {identities:?}");
    // What the engine and the store hold never has the password.
    assert!(!history.contains(PASSWORD), "the password is in the workflow history");
    assert!(!database_text(&run).await.contains(PASSWORD), "the password is in the database");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_ends_the_workflow_at_once_with_authentication_and_is_stored_nowhere() {
    let sim = sim(100, vec![]).await;
    let wrong = "Not-The-Password-771";
    let secrets = secrets(&[("wrong", wrong)]);
    let q = queue("auth");
    let _w = worker(&q, secrets.path(), &sim, 10);
    let store = Store::open(&database()).await.unwrap();
    let run = start(&q, "wrong", &sim, "users", &[]);
    let s = wait(&store, &run, Duration::from_secs(60), |_| false).await;
    assert_eq!(s.state, "failed");
    let (kind, message) = s.error.clone().unwrap();
    assert_eq!(kind, "authentication", "{message}");
    let calls = sim.requests().iter().filter(|r| r.path == "/msp/user_list.php").count();
    assert_eq!(calls, 1, "refused once, never retried");
    let history = history(&run);
    assert!(history.contains("authentication"), "the typed error ends the workflow");
    assert!(!history.contains(wrong) && !history.contains(PASSWORD));
    assert!(!database_text(&run).await.contains(wrong));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_collect_continues_as_new_carrying_its_cursor_and_loses_no_row() {
    let sim = sim(5_000, vec![]).await;
    let secrets = secrets(&[("long", PASSWORD)]);
    let q = queue("continue");
    let _w = worker(&q, secrets.path(), &sim, 10);
    let store = Store::open(&database()).await.unwrap();
    // Two pages a run: five pages take three runs of one workflow.
    let run = start_with(&q, "long", &sim, "remediation-tickets", &["--pages-per-run", "2"]);
    let s = wait(&store, &run, Duration::from_secs(120), |_| false).await;
    assert_eq!((s.state.as_str(), s.rows, s.pages), ("complete", 5_000, 5), "{s:?}");
    let out = Command::new(temporal_cli())
        .args([
            "workflow",
            "list",
            "--query",
            &format!("WorkflowId = '{run}'"),
            "--address",
            &temporal(),
            "--output",
            "json",
        ])
        .output()
        .unwrap();
    let runs = String::from_utf8_lossy(&out.stdout).matches("\"execution\"").count();
    assert_eq!(runs, 3, "one workflow, three runs: {}", String::from_utf8_lossy(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_rate_limit_parks_the_workflow_on_a_timer_and_it_resumes() {
    // The second page's call is refused with a 5-second wait; the worker rides out none itself.
    let rule = FaultRule { from: 1, ..FaultRule::times("/msp/ticket_list.php", 1, Fault::RateLimit(5)) };
    let sim = sim(3_000, vec![rule]).await;
    let secrets = secrets(&[("paced", PASSWORD)]);
    let q = queue("rate");
    let _w = worker(&q, secrets.path(), &sim, 0);
    let store = Store::open(&database()).await.unwrap();
    let run = start(&q, "paced", &sim, "remediation-tickets", &[]);
    let s = wait(&store, &run, Duration::from_secs(120), |_| false).await;
    assert_eq!(s.state, "complete", "{s:?}");
    assert_eq!(s.rows, 3_000);
    let calls = sim.requests().iter().filter(|r| r.path == "/msp/ticket_list.php").count();
    assert_eq!(calls, 4, "three pages and the refused call, asked again once");
    let history = history(&run);
    assert!(
        (history.contains("TimerStarted") || history.contains("TIMER_STARTED"))
            && (history.contains("TimerFired") || history.contains("TIMER_FIRED")),
        "a durable timer parked it, and fired"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_schedule_starts_a_collect_at_once_and_its_run_is_complete_in_the_store() {
    let sim = sim(1_500, vec![]).await;
    let tenant = format!("sched{}", std::process::id());
    let secrets = secrets(&[(tenant.as_str(), PASSWORD)]);
    let q = queue("schedule");
    let _w = worker(&q, secrets.path(), &sim, 10);
    let url = sim.url();
    let out = Command::new(env!("CARGO_BIN_EXE_connector-worker"))
        .args(["schedule", "--tenant", &tenant, "--proof-type", "remediation-tickets", "--api-url", &url])
        .args(["--every", "1d", "--temporal", &temporal(), "--database", &database(), "--task-queue", &q])
        .output()
        .unwrap();
    assert!(out.status.success(), "schedule: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("schedule-{tenant}-remediation-tickets")));
    let store = Store::open(&database()).await.unwrap();
    let started = Instant::now();
    let run = loop {
        let runs = store.runs_of(&tenant).await.unwrap();
        if let Some((id, _)) = runs.first() {
            break id.clone();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no scheduled run started");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let s = wait(&store, &run, Duration::from_secs(120), |_| false).await;
    assert_eq!((s.state.as_str(), s.rows), ("complete", 1_500), "{s:?}");
    assert!(
        run.starts_with(&format!("remediation-tickets-{tenant}")),
        "the run is the scheduled workflow: {run}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn three_tenants_on_one_qualys_account_never_run_more_than_two_calls_at_once() {
    // A slow server (300 ms a page), so that the collects' calls overlap.
    let sim = sim(6_000, vec![FaultRule::always("/msp/ticket_list.php", Fault::Delay(300))]).await;
    let tenants = ["shared-a", "shared-b", "shared-c"];
    let secrets = secrets(&tenants.map(|t| (t, PASSWORD)));
    let q = queue("shared");
    // Two workers, so that the three collects' pages run on several machines at once.
    let _w1 = worker(&q, secrets.path(), &sim, 10);
    let _w2 = worker(&q, secrets.path(), &sim, 10);
    let store = Store::open(&database()).await.unwrap();
    let runs: Vec<String> = tenants.iter().map(|t| start(&q, t, &sim, "remediation-tickets", &[])).collect();
    for run in &runs {
        let s = wait(&store, run, Duration::from_secs(300), |_| false).await;
        assert_eq!((s.state.as_str(), s.rows), ("complete", 6_000), "{s:?}");
    }
    let peak = sim.peak_running(LOGIN);
    assert!(peak <= 2, "the account had {peak} calls running at once");
    assert_eq!(peak, 2, "the collects did overlap, two at a time");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_can_keep_its_proof_in_the_store_and_the_worker_exports_the_same_proof() {
    let sim = sim(2_500, vec![]).await;
    let secrets = secrets(&[("cli-user", PASSWORD)]);
    let dir = tempfile::tempdir().unwrap();
    let collected = dir.path().join("users.jsonl");
    let store = Store::open(&database()).await.unwrap();
    let before: std::collections::BTreeSet<String> =
        store.runs_of("cli").await.unwrap().into_iter().map(|r| r.0).collect();
    let db = database();
    cli_collect(
        &sim,
        secrets.path(),
        "cli-user",
        "remediation-tickets",
        &[],
        &collected,
        &["--format", "jsonl", "--database", &db],
    )
    .await;
    let run = store
        .runs_of("cli")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.0)
        .find(|r| !before.contains(r) && r.starts_with("cli-remediation-tickets-"))
        .expect("the CLI's run is in the store");
    let s = store.status(&run).await.unwrap();
    assert_eq!((s.state.as_str(), s.rows, s.pages), ("complete", 2_500, 3), "{s:?}");
    let exported = dir.path().join("exported.jsonl");
    export(&run, "jsonl", &exported);
    assert_eq!(
        std::fs::read(&exported).unwrap(),
        std::fs::read(&collected).unwrap(),
        "the rows, byte for byte"
    );
    let sidecar = |p: &Path| proof(&PathBuf::from(format!("{}.proof.json", p.display())));
    assert_eq!(sidecar(&exported)["sha256"], sidecar(&collected)["sha256"]);
    assert!(!database_text(&run).await.contains(PASSWORD));
    // As a PDF for people, with its sidecar; the JSON proof is inside it, not beside it.
    let pdf = dir.path().join("tickets.pdf");
    export(&run, "pdf", &pdf);
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    assert!(
        dir.path().join("tickets.pdf.proof.json").is_file() && !dir.path().join("tickets.pdf.json").exists()
    );
}
