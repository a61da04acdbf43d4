//! `qualys-simulator`: a fake Qualys API on 127.0.0.1 for manual testing and demos.

use clap::Parser;
use qualys_simulator::{FaultRule, RateLimit, SimConfig, SimTls, Simulator, Sizes};

/// Serve a fake Qualys API on loopback, with generated data and optional faults.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Accounts: demo_manager / demo-password (Manager), demo_reader (no Cloud Agent \
rights), demo_sso, demo_noapi, demo_locked, demo_inactive, demo_expired, \
demo_ipblocked (IP not in the secure-IP list).\n\nFaults: KIND[:ARG][@PATH][*COUNT] with \
KIND one of malformed-xml, truncated, html, wrong-content-type, empty, non-utf8, huge-announced, huge-body:BYTES, \
entity-bomb, external-entity, deep-nesting, slow-drip:MS, reset, status:CODE, rate-limit:SECS, concurrency, \
redirect, hang:MS, next-url-other-host, next-url-repeat, repeat-records, skip-records, error-document (the \
API family's error document, HTTP 200), error-in-root (<ERROR> inside the path's root, HTTP 200), not-xml \
(plain text served as text/xml)."
)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Data day: 0 serves the data as generated; day N changes known users (some gone, some
    /// new, some with another role) and tickets (some move one state), as N days later.
    #[arg(long, default_value_t = 0)]
    day: u32,
    #[arg(long, default_value_t = 12)]
    users: u64,
    #[arg(long, default_value_t = 250)]
    hosts: u64,
    #[arg(long, default_value_t = 60)]
    agents: u64,
    #[arg(long, default_value_t = 40)]
    vm_scans: u64,
    #[arg(long, default_value_t = 25)]
    pc_scans: u64,
    #[arg(long, default_value_t = 2500)]
    tickets: u64,
    /// Inject a fault (repeatable).
    #[arg(long = "fault", value_parser = |s: &str| s.parse::<FaultRule>())]
    faults: Vec<FaultRule>,
    /// Calls per account per hour before HTTP 409 (code 1965).
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Calls one account may run at once before HTTP 409 (code 1960).
    #[arg(long)]
    concurrency_limit: Option<u32>,
    /// Serve HTTPS, as real Qualys does, with a certificate for localhost, 127.0.0.1 and ::1
    /// issued by a CA made at start-up (without --ca-out, its PEM is printed).
    #[arg(long)]
    tls: bool,
    /// Write the CA certificate (PEM) to this file, for `connector-host --ca-file FILE`.
    #[arg(long, value_name = "FILE", requires = "tls")]
    ca_out: Option<std::path::PathBuf>,
    /// Send response bodies at most this fast, as a server across the internet does (default:
    /// as fast as loopback allows).
    #[arg(long, value_name = "BYTES_PER_SEC")]
    body_rate: Option<u64>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    // A new kind of record takes its default size until it gets a flag: the update is for it.
    #[allow(clippy::needless_update)]
    let config = SimConfig {
        seed: a.seed,
        day: a.day,
        port: a.port,
        sizes: Sizes {
            users: a.users,
            hosts: a.hosts,
            agents: a.agents,
            vm_scans: a.vm_scans,
            pc_scans: a.pc_scans,
            tickets: a.tickets,
            ..Sizes::default()
        },
        faults: a.faults,
        rate_limit: a.rate_limit.map(|calls| RateLimit { calls, window_secs: 3600 }),
        concurrency_limit: a.concurrency_limit,
        tls: a.tls.then(|| SimTls { ca_out: a.ca_out.clone(), ..SimTls::default() }),
        body_rate: a.body_rate,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await?;
    println!("Qualys simulator on {} (Ctrl-C to stop)", sim.url());
    match (&a.ca_out, sim.ca_pem()) {
        (Some(path), Some(_)) => println!("CA certificate written to {}", path.display()),
        (None, Some(pem)) => print!("CA certificate (trust it with --ca-file):\n{pem}"),
        _ => {}
    }
    tokio::signal::ctrl_c().await?;
    Ok(())
}
