//! What durability costs: the same 100,000 tickets collected by `connector-host collect` (in a
//! child process) and by one `connector-worker` on Temporal with PostgreSQL; rows/s, CPU seconds
//! per 100,000 rows of each, and what the engine and the database spend per page. Prints
//! figures, asserts nothing. Needs `.ci/services` running. Run:
//! `cargo bench -p connector-worker --bench durable` (`-- --rows N` for another size).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use connector_worker::store::Store;
use qualys_simulator::{Account, SimConfig, Simulator, Sizes};

const LOGIN: &str = "bench_manager";
const PASSWORD: &str = "Bench-Secret-4410";

/// CPU seconds (user + system) of the processes whose command name is one of `names`, or of `pid`.
fn cpu_of(pid: Option<u32>, names: &[&str]) -> f64 {
    let ticks = |stat: &str| {
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        (n(11) + n(12)) / 100.0
    };
    let mut total = 0.0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(p) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let comm = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
        if Some(p) == pid || names.contains(&comm.trim_end()) {
            total += ticks(&std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default());
        }
    }
    total
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--cli-child") {
        // The CLI's collect in a process of its own: prints its CPU seconds last.
        let cli = <connector_host::cli::Cli as clap::Parser>::parse_from(&args[1..]);
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let code = rt.block_on(connector_host::cli::run(cli));
        println!("cpu {}", cpu_of(Some(std::process::id()), &[]));
        std::process::exit(i32::from(code));
    }
    let rows: u64 = args
        .iter()
        .position(|a| a == "--rows")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(100_000);
    let database = std::env::var("EVIDENCE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:55432/postgres".into());
    let temporal = std::env::var("EVIDENCE_TEST_TEMPORAL").unwrap_or_else(|_| "127.0.0.1:57233".into());
    let sim_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let config = SimConfig {
        accounts: vec![Account::manager(LOGIN, PASSWORD)],
        sizes: Sizes { tickets: rows, ..Sizes::default() },
        ..SimConfig::default()
    };
    let sim: Simulator = sim_rt.block_on(Simulator::start(config)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("bench.toml");
    std::fs::write(&creds, format!("username = \"{LOGIN}\"\npassword = \"{PASSWORD}\"\n")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    println!(
        "machine: {} cores; {rows} remediation tickets from the simulator on loopback",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    // 1. The CLI.
    let out = dir.path().join("cli.json");
    let started = Instant::now();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--cli-child", "--quiet", "collect", "--allow-private-network", "--api-url", &sim.url()])
        .args(["--credentials-file", creds.to_str().unwrap(), "--proof-type", "remediation-tickets"])
        .args(["--output", out.to_str().unwrap()])
        .output()
        .unwrap();
    let cli_secs = started.elapsed().as_secs_f64();
    assert!(child.status.success(), "{}", String::from_utf8_lossy(&child.stderr));
    let cli_cpu: f64 = String::from_utf8_lossy(&child.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("cpu ")?.parse().ok())
        .unwrap_or(f64::NAN);
    let per = |x: f64| x * 100_000.0 / rows as f64;
    println!(
        "connector-host collect: {:.2} s, {:.0} rows/s, CPU {:.2} s per 100,000 rows",
        cli_secs,
        rows as f64 / cli_secs,
        per(cli_cpu)
    );

    // 2. One worker, on Temporal and PostgreSQL.
    let queue = format!("bench-{}", std::process::id());
    let mut worker = Command::new(env!("CARGO_BIN_EXE_connector-worker"))
        .args(["run", "--temporal", &temporal, "--database", &database, "--task-queue", &queue])
        .args([
            "--secrets",
            dir.path().to_str().unwrap(),
            "--allow-private-network",
            "--allow-api-url",
            &sim.url(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Past its start (the component compiled or loaded from the cache) before counting.
    std::thread::sleep(Duration::from_secs(5));
    let services = ["temporal", "postgres"];
    let (worker_before, engine_before) = (cpu_of(Some(worker.id()), &[]), cpu_of(None, &services));
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_connector-worker"))
        .args(["start", "--tenant", "bench", "--api-url", &sim.url(), "--proof-type", "remediation-tickets"])
        .args(["--temporal", &temporal, "--database", &database, "--task-queue", &queue])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let run = String::from_utf8(run.stdout).unwrap().trim().to_string();
    let status = sim_rt.block_on(async {
        let store = Store::open(&database).await.unwrap();
        loop {
            let s = store.status(&run).await.unwrap();
            if s.state != "running" {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let worker_secs = started.elapsed().as_secs_f64();
    let (worker_cpu, engine_cpu) =
        (cpu_of(Some(worker.id()), &[]) - worker_before, cpu_of(None, &services) - engine_before);
    let _ = worker.kill();
    let _ = worker.wait();
    assert_eq!(status.state, "complete", "{status:?}");
    println!(
        "connector-worker: {:.2} s, {:.0} rows/s, worker CPU {:.2} s per 100,000 rows; {} pages",
        worker_secs,
        status.rows as f64 / worker_secs,
        per(worker_cpu),
        status.pages
    );
    let pages = status.pages.max(1) as f64;
    println!(
        "engine and store per page: {:.1} ms of wall time more than the CLI's, {:.1} ms CPU in the worker more, {:.1} ms CPU in Temporal's dev server and PostgreSQL",
        (worker_secs - cli_secs) * 1000.0 / pages,
        (worker_cpu - cli_cpu) * 1000.0 / pages,
        engine_cpu * 1000.0 / pages
    );
}
