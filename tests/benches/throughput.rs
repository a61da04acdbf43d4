//! The benchmark: is the connector limited by the network or by itself? Prints figures, asserts
//! nothing. Run: `cargo bench -p connector-tests --bench throughput` (add `-- --quick` for a
//! smaller run). Everything runs on loopback against the simulator, which runs on a tokio
//! runtime of its own (threads `qualys-sim`) so that the host's CPU time can be told apart.
//!
//! 1. start: component size, compile, precompiled load, instantiate; list-proof-types calls/s.
//! 2. memory: guest peak linear memory and host peak RSS at 10k, 100k and 1M tickets, and for
//!    assets at the largest host-list page size.
//! 3. throughput on loopback: the transfer limit (the same pages fetched with a plain HTTP/1.1
//!    client, bodies discarded), native parse (the plugin's own parsing and mapping code,
//!    compiled natively, on those bodies) and the component end to end (`collect_proof`
//!    through the real component in the real host, rows written to JSON Lines), with the
//!    host's CPU seconds per 100,000 rows.
//! 4. bounded rate: transfer limit and component when the server sends bodies at a bounded
//!    rate, as a server across the internet does.
//! 5. calls per 100,000 records, per proof type, at the default and the largest page size.
//! 6. HTTPS: tickets page by page over the tenant's kept connection, and over a new
//!    connection (TCP and TLS handshake) per page, on loopback and with a round trip added.
//! 7. detections: the vulnerabilities proof from 10,000 to 1,000,000 detections (50 a host):
//!    component against native rows/s, guest peak memory, calls per 100,000 detections.
//! 8. render: every proof type at 10,000 and 100,000 records to PDF and Excel, each render in a
//!    child process: seconds, rows/s, peak resident memory, pages and file size.
//!
//! Options: `--quick` (20,000 rows, one run per figure, no 1M-row run); `--only
//! start,memory,throughput,rate,calls,tls,detections,render`; `--rate BYTES_PER_SEC` (section 4, default 20 MB/s);
//! `--rtt-ms MS` (section 6, default 25);
//! `--profile assets|tickets|native-assets|native-tickets|instantiate` runs one collect (or
//! parse, or `BENCH_ROWS` instantiations) of `BENCH_ROWS` rows (default 100,000) with a perf
//! map, for `perf record`. `BENCH_COMPONENT`
//! names another component file to run (for before/after comparisons).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use base64::prelude::*;
use connector_runtime::evidence_proof::{Format, ProofMeta, ProofWriter};
use connector_runtime::{CollectRequest, Runtime, RuntimeOptions, Tenant, fields_of};
use connector_tests::{PASSWORD, tenant};
use qualys_connector::proofs::assets::Assets;
use qualys_connector::proofs::tickets::Tickets;
use qualys_connector::proofs::vulnerabilities;
use qualys_simulator::{SimConfig, Simulator, Sizes};

/// Thread name of the simulator's runtime: its CPU time is not the host's.
const SIM_THREADS: &str = "qualys-sim";

struct Args {
    quick: bool,
    only: Option<Vec<String>>,
    rate: u64,
    /// Round trip added in the HTTPS section.
    rtt: std::time::Duration,
    profile: Option<String>,
}

impl Args {
    fn parse() -> Args {
        let args: Vec<String> = std::env::args().collect();
        let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
        Args {
            quick: args.iter().any(|a| a == "--quick"),
            only: value("--only").map(|v| v.split(',').map(str::to_string).collect()),
            rate: value("--rate").and_then(|v| v.parse().ok()).unwrap_or(20_000_000),
            rtt: std::time::Duration::from_millis(
                value("--rtt-ms").and_then(|v| v.parse().ok()).unwrap_or(25),
            ),
            profile: value("--profile"),
        }
    }

    fn runs(&self, section: &str) -> bool {
        self.only.as_ref().is_none_or(|o| o.iter().any(|s| s == section))
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--render-child") {
        return render_child(&argv[2], std::path::Path::new(&argv[3]), std::path::Path::new(&argv[4]));
    }
    let args = Args::parse();
    let host = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let sim = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(SIM_THREADS)
        .enable_all()
        .build()
        .unwrap();
    let bench = Bench { sim_rt: sim.handle().clone(), component: component_bytes() };
    match &args.profile {
        Some(what) => host.block_on(bench.profile(what)),
        None => host.block_on(bench.run(&args)),
    }
}

/// One render, timed, with this process's peak resident memory; prints one line.
fn render_child(format: &str, proof: &std::path::Path, out: &std::path::Path) {
    let started = Instant::now();
    let result = match format {
        "pdf" => evidence_render::render_pdf(proof, out, &evidence_render::PdfOptions::default()),
        _ => evidence_render::render_xlsx(proof, out),
    };
    let secs = started.elapsed().as_secs_f64();
    match result {
        Ok(r) => println!(
            "{secs:.2} s, {:.0} rows/s, peak RSS {:.0} MiB{}",
            r.rows as f64 / secs,
            peak_rss_mb(),
            r.pages.map(|p| format!(", {p} pages")).unwrap_or_default()
        ),
        Err(e) => {
            let why = format!("{e:#}");
            println!(
                "refused after {secs:.2} s (peak RSS {:.0} MiB): {}",
                peak_rss_mb(),
                why.split(';').next().unwrap_or(&why)
            );
        }
    }
}

fn component_bytes() -> Vec<u8> {
    let path = std::env::var("BENCH_COMPONENT").unwrap_or_else(|_| connector_tests::COMPONENT.to_string());
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading the component {path}: {e}"))
}

struct Bench {
    sim_rt: tokio::runtime::Handle,
    component: Vec<u8>,
}

/// CPU seconds (user + system) of this process and of the simulator's threads; /proc counts
/// in clock ticks (1/100 s), so runs of a second or more are needed for 1 % resolution.
#[derive(Clone, Copy)]
struct Cpu {
    process: f64,
    sim: f64,
}

impl Cpu {
    fn now() -> Cpu {
        let ticks = |stat: &str| -> f64 {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<&str> = rest.split_whitespace().collect();
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            (n(11) + n(12)) / 100.0
        };
        let process = ticks(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default());
        let mut sim = 0.0;
        for task in std::fs::read_dir("/proc/self/task").into_iter().flatten().flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if comm.trim_end().starts_with(SIM_THREADS) {
                sim += ticks(&std::fs::read_to_string(task.path().join("stat")).unwrap_or_default());
            }
        }
        Cpu { process, sim }
    }

    /// (host, simulator) CPU seconds since `self`.
    fn since(self) -> (f64, f64) {
        let now = Cpu::now();
        let sim = now.sim - self.sim;
        (now.process - self.process - sim, sim)
    }
}

struct Fetched {
    pages: usize,
    bytes: usize,
    secs: f64,
    bodies: Vec<Vec<u8>>,
}

/// A plain HTTP/1.1 GET or POST on loopback; returns the body.
/// One request, the body read to the connection's close: HTTP/1.0, so a body the server streams
/// without announcing its length comes close-delimited rather than chunked.
fn http(addr: &str, method: &str, path: &str, body: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = BASE64_STANDARD.encode(format!("demo_manager:{PASSWORD}"));
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nX-Requested-With: bench\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    raw.split_off(split)
}

fn between<'a>(hay: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let i = hay.find(start)? + start.len();
    let j = hay[i..].find(end)? + i;
    Some(&hay[i..j])
}

/// Fetches every host list page the way the connector asks for them (the same parameters,
/// `id_min` read from the WARNING URL by substring search, no XML parse).
fn fetch_hosts(addr: &str, page_size: u64) -> Fetched {
    let started = Instant::now();
    let first = format!(
        "/api/5.0/fo/asset/host/?action=list&details=All&show_asset_id=1&show_tags=1\
         &truncation_limit={page_size}&show_trurisk=1"
    );
    let mut path = first.clone();
    let mut bodies = Vec::new();
    loop {
        let body = http(addr, "GET", &path, "");
        let text = String::from_utf8_lossy(&body).into_owned();
        bodies.push(body);
        match between(&text, "id_min=", "]]>") {
            Some(id) => path = format!("{first}&id_min={}", id.trim()),
            None => break,
        }
    }
    Fetched {
        pages: bodies.len(),
        bytes: bodies.iter().map(Vec::len).sum(),
        secs: started.elapsed().as_secs_f64(),
        bodies,
    }
}

/// Fetches every ticket page, following TRUNCATION by substring search.
fn fetch_tickets(addr: &str) -> Fetched {
    let started = Instant::now();
    let mut bodies = Vec::new();
    const STATES: &str = "states=OPEN%2CRESOLVED%2CCLOSED%2CIGNORED";
    let mut form = STATES.to_string();
    loop {
        let body = http(addr, "POST", "/msp/ticket_list.php", &form);
        let text = String::from_utf8_lossy(&body).into_owned();
        bodies.push(body);
        match between(&text, "<TRUNCATION last=\"", "\"") {
            Some(last) => form = format!("since_ticket_number={}&{STATES}", last.parse::<u64>().unwrap() + 1),
            None => break,
        }
    }
    Fetched {
        pages: bodies.len(),
        bytes: bodies.iter().map(Vec::len).sum(),
        secs: started.elapsed().as_secs_f64(),
        bodies,
    }
}

fn fetch(addr: &str, what: Set) -> Fetched {
    match what {
        Set::Assets => fetch_hosts(addr, 1000),
        Set::Tickets => fetch_tickets(addr),
    }
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Set {
    Assets,
    Tickets,
}

impl Set {
    fn name(self) -> &'static str {
        match self {
            Set::Assets => "assets",
            Set::Tickets => "tickets",
        }
    }

    fn proof_type(self) -> &'static str {
        match self {
            Set::Assets => "assets",
            Set::Tickets => "remediation-tickets",
        }
    }

    fn criteria(self, page_size: Option<u64>) -> Vec<(String, String)> {
        let mut c = Vec::new();
        if self == Set::Assets {
            c.push(("include_cloud_agents".to_string(), "false".to_string()));
            if let Some(size) = page_size {
                c.push(("page_size".to_string(), size.to_string()));
            }
        }
        c
    }

    fn sizes(self, n: u64) -> Sizes {
        match self {
            Set::Assets => Sizes { hosts: n, agents: 0, ..Sizes::default() },
            Set::Tickets => Sizes { tickets: n, ..Sizes::default() },
        }
    }

    fn parse_native(self, body: &[u8]) -> usize {
        match self {
            Set::Assets => Assets::parse_vm(&mut &body[..]).unwrap().0.len(),
            Set::Tickets => Tickets::parse(&mut &body[..], 0).unwrap().0.len(),
        }
    }
}

/// What one collect through the component did.
struct Collected {
    rows: u64,
    pages: u64,
    requests: u64,
    /// Connections opened for them (the rest reused the tenant's kept one).
    connections: u64,
    secs: f64,
    host_cpu: f64,
    sim_cpu: f64,
    peak_guest: usize,
    sha256: String,
}

/// Median, and the spread as (min, max).
/// Every page of the tickets proof, one `collect_page` each: over `t`'s kept connection, or
/// over a new connection per page (each page then has a tenant whose connections are new).
/// Returns rows/s, seconds a page and CPU seconds (host and simulator) a page.
async fn page_by_page(runtime: &Runtime, t: &Tenant, new_connection_per_page: bool) -> (f64, f64, f64) {
    let (mut rows, mut pages, mut cursor) = (0u64, 0u64, None::<String>);
    let cpu = Cpu::now();
    let started = Instant::now();
    loop {
        let fresh;
        let page_tenant = if new_connection_per_page {
            fresh = Tenant { connections: Default::default(), ..t.clone() };
            &fresh
        } else {
            t
        };
        let page = runtime
            .collect_page(page_tenant, Set::Tickets.proof_type(), &[], cursor.as_deref())
            .await
            .result
            .expect("an HTTPS page");
        rows += page.rows.len() as u64;
        pages += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (host_cpu, sim_cpu) = cpu.since();
    (rows as f64 / secs, secs / pages as f64, (host_cpu + sim_cpu) / pages as f64)
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn spread(v: Vec<f64>, unit: &str, scale: f64, decimals: usize) -> String {
    let (m, lo, hi) = stats(v.clone());
    if v.len() == 1 {
        format!("{:.*} {unit}", decimals, m * scale)
    } else {
        format!(
            "{:.*} {unit} ({:.*}–{:.*}, {} runs)",
            decimals,
            m * scale,
            decimals,
            lo * scale,
            decimals,
            hi * scale,
            v.len()
        )
    }
}

impl Bench {
    fn runtime(&self, perf_map: bool) -> Runtime {
        let mut options = connector_tests::options(connector_tests::loopback_policy());
        options.engine.perf_map = perf_map;
        Runtime::from_bytes(&self.component, &options).expect("the component loads")
    }

    /// A simulator on its own runtime.
    async fn simulator(&self, config: SimConfig) -> Simulator {
        self.sim_rt.spawn(connector_tests::simulator(config)).await.expect("simulator starts")
    }

    /// Collects a whole proof of one of the benchmark's data sets.
    async fn collect(
        &self,
        runtime: &Runtime,
        tenant: &Tenant,
        set: Set,
        page_size: Option<u64>,
    ) -> Collected {
        self.collect_id(runtime, tenant, set.proof_type(), set.criteria(page_size)).await
    }

    /// Collects a whole proof through the component into a JSON Lines file.
    async fn collect_id(
        &self,
        runtime: &Runtime,
        tenant: &Tenant,
        id: &str,
        criteria: Vec<(String, String)>,
    ) -> Collected {
        let dir = tempfile::tempdir().unwrap();
        self.collect_into(runtime, tenant, id, criteria, &dir.path().join("p.jsonl"), Format::Jsonl).await
    }

    /// Collects a whole proof through the component into `path`.
    async fn collect_into(
        &self,
        runtime: &Runtime,
        tenant: &Tenant,
        id: &str,
        criteria: Vec<(String, String)>,
        path: &std::path::Path,
        format: Format,
    ) -> Collected {
        let proof = runtime.list_proof_types().await.unwrap().into_iter().find(|p| p.id == id).unwrap();
        let meta = ProofMeta {
            proof_type: proof.id.clone(),
            title: proof.title.clone(),
            collected_at: "2026-11-01T00:00:00Z".into(),
            platform: "US1".into(),
            api_url: tenant.config.api_url.clone().unwrap_or_default(),
            criteria: criteria.clone(),
            key: Some(proof.key.clone()),
        };
        let mut writer = ProofWriter::create(Some(path), format, &meta, &fields_of(&proof)).unwrap();
        let opened = tenant.connections.opened();
        let cpu = Cpu::now();
        let started = Instant::now();
        let request = CollectRequest { proof: &proof, criteria: &criteria, cursor: None };
        let stats = connector_runtime::collect_proof(
            runtime,
            tenant,
            request,
            &mut writer,
            &Default::default(),
            &mut |_| {},
        )
        .await
        .unwrap();
        let summary = writer.finish().unwrap();
        let secs = started.elapsed().as_secs_f64();
        let (host_cpu, sim_cpu) = cpu.since();
        Collected {
            rows: stats.rows,
            pages: stats.pages,
            requests: stats.requests,
            connections: tenant.connections.opened() - opened,
            secs,
            host_cpu,
            sim_cpu,
            peak_guest: stats.peak_memory_bytes,
            sha256: summary.sha256,
        }
    }

    /// One collect (or native parse) for `perf record`, with a perf map.
    async fn profile(&self, what: &str) {
        let n: u64 = std::env::var("BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
        if what == "instantiate" {
            let runtime = self.runtime(true);
            let t = runtime.time_instantiation(n as u32).await.unwrap();
            println!("instantiate: {:.2} µs", t.as_secs_f64() * 1e6 / n as f64);
            return;
        }
        let (native, name) = match what.strip_prefix("native-") {
            Some(rest) => (true, rest),
            None => (false, what),
        };
        let set = if name == "assets" { Set::Assets } else { Set::Tickets };
        let sim = self.simulator(SimConfig { sizes: set.sizes(n), ..SimConfig::default() }).await;
        if native {
            let addr = sim.addr().to_string();
            let fetched = tokio::task::spawn_blocking(move || fetch(&addr, set)).await.unwrap();
            let t = Instant::now();
            for _ in 0..5 {
                for body in &fetched.bodies {
                    set.parse_native(body);
                }
            }
            println!("native {name}: {:.0} rows/s", 5.0 * n as f64 / t.elapsed().as_secs_f64());
            return;
        }
        let runtime = self.runtime(true);
        let c = self.collect(&runtime, &tenant(&sim, "demo_manager"), set, None).await;
        println!(
            "{name}: {} rows in {:.2} s = {:.0} rows/s; host CPU {:.2} s; sha256 {}",
            c.rows,
            c.secs,
            c.rows as f64 / c.secs,
            c.host_cpu,
            c.sha256
        );
    }

    async fn run(&self, args: &Args) {
        println!(
            "machine: {} cores; {}",
            std::thread::available_parallelism().map_or(0, |n| n.get()),
            if args.quick { "quick run" } else { "full run" }
        );
        let runtime = self.runtime(false);
        if args.runs("start") {
            self.start(&runtime, args.quick).await;
        }
        if args.runs("memory") {
            self.memory(&runtime, args.quick).await;
        }
        if args.runs("throughput") {
            self.throughput(&runtime, args.quick).await;
        }
        if args.runs("rate") {
            self.rate(&runtime, args.rate, args.quick).await;
        }
        if args.runs("calls") {
            self.calls(&runtime, args.quick).await;
        }
        if args.runs("tls") {
            self.tls(args.quick, args.rtt).await;
        }
        if args.runs("detections") {
            self.detections(&runtime, args.quick).await;
        }
        if args.runs("render") {
            self.render(&runtime, args.quick).await;
        }
    }

    /// Every proof type collected from the simulator at 10,000 and 100,000 records of each
    /// kind, then rendered to PDF and to Excel in a child process of its own (this program,
    /// `--render-child`), so that its peak resident memory is the render's alone.
    async fn render(&self, runtime: &Runtime, quick: bool) {
        let sizes: &[u64] = if quick { &[10_000] } else { &[10_000, 100_000] };
        println!("\n8. render: JSON proof to PDF and to Excel, each in a child process (time, peak RSS)");
        for &n in sizes {
            let sim = self.simulator(SimConfig { sizes: Sizes::uniform(n), ..SimConfig::default() }).await;
            let mut t = tenant(&sim, "demo_manager");
            // The users list is one unpaged answer: 100,000 users are some 140 MB of it.
            t.policy.max_response_bytes = 1 << 30;
            t.policy.call_deadline = std::time::Duration::from_secs(600);
            let dir = tempfile::tempdir().unwrap();
            for proof in runtime.list_proof_types().await.unwrap() {
                let mut criteria = Vec::new();
                if proof.criteria.iter().any(|c| c.name == "launched_after") {
                    criteria.push(("launched_after".to_string(), "2000-01-01T00:00:00Z".to_string()));
                }
                let json = dir.path().join(format!("{}.json", proof.id));
                let c = self.collect_into(runtime, &t, &proof.id, criteria, &json, Format::Json).await;
                for format in ["pdf", "xlsx"] {
                    let out = dir.path().join(format!("{}.{format}", proof.id));
                    let child = std::process::Command::new(std::env::current_exe().unwrap())
                        .args(["--render-child", format, json.to_str().unwrap(), out.to_str().unwrap()])
                        .output()
                        .unwrap();
                    let said = String::from_utf8_lossy(&child.stdout).trim().to_string();
                    let bytes = std::fs::metadata(&out).map_or(0, |m| m.len());
                    println!(
                        "  {:<20} {:>7} rows  {format:<4} {said}{}",
                        proof.id,
                        c.rows,
                        if bytes > 0 { format!(", {:.1} MB", bytes as f64 / 1e6) } else { String::new() }
                    );
                }
            }
        }
    }

    /// The vulnerabilities proof on detection data sets of 50 detections a host: component
    /// against native rows/s, guest peak memory from 10,000 to 1,000,000 detections, and calls
    /// per 100,000 detections with and without the KnowledgeBase calls.
    async fn detections(&self, runtime: &Runtime, quick: bool) {
        const PER_HOST: u64 = 50;
        let sizes: &[u64] = if quick { &[10_000, 100_000] } else { &[10_000, 100_000, 1_000_000] };
        println!(
            "\n== detections: vulnerabilities, {PER_HOST} detections a host, hosts a call as the connector sizes them =="
        );
        println!(
            "{:>9} {:>7} {:>6} {:>9} {:>9} {:>12} {:>12} {:>11} {:>9}",
            "rows",
            "hosts",
            "pages",
            "det.calls",
            "KB calls",
            "component",
            "native",
            "guest peak",
            "per 100k"
        );
        let every = vec![
            ("statuses".to_string(), "New,Active,Re-Opened,Fixed".to_string()),
            ("types".to_string(), "Confirmed,Potential,Info".to_string()),
            ("include_ignored".to_string(), "true".to_string()),
            ("include_disabled".to_string(), "true".to_string()),
        ];
        for &n in sizes {
            let hosts = n / PER_HOST;
            let sim = self
                .simulator(SimConfig {
                    sizes: Sizes { hosts, detections: PER_HOST, ..Sizes::default() },
                    ..SimConfig::default()
                })
                .await;
            let c = self
                .collect_id(runtime, &tenant(&sim, "demo_manager"), "vulnerabilities", every.clone())
                .await;
            assert_eq!(c.rows, n);
            let requests = sim.requests();
            let det = requests.iter().filter(|r| r.path == "/api/5.0/fo/asset/host/vm/detection/").count();
            let kb = requests.iter().filter(|r| r.path == "/api/3.0/fo/knowledge_base/vuln/").count();
            // Native: the same detection pages fetched with a plain client, parsed by the
            // plugin's code compiled natively (no KnowledgeBase join, no SLA).
            let addr = sim.addr().to_string();
            let (native_rows, native_secs) = tokio::task::spawn_blocking(move || {
                let form = "action=list&show_asset_id=1&show_qds=1&truncation_limit=100&status=New%2CActive%2CRe-Opened%2CFixed&severities=1%2C2%2C3%2C4%2C5&show_igs=1&include_ignored=1&include_disabled=1&show_results=0";
                let (mut rows, mut parse) = (0usize, 0f64);
                let mut id_min = None::<String>;
                loop {
                    let body = match &id_min {
                        Some(id) => http(&addr, "POST", "/api/5.0/fo/asset/host/vm/detection/", &format!("{form}&id_min={id}")),
                        None => http(&addr, "POST", "/api/5.0/fo/asset/host/vm/detection/", form),
                    };
                    let t = Instant::now();
                    let (page, next) = vulnerabilities::parse_page(&mut &body[..], false).unwrap();
                    parse += t.elapsed().as_secs_f64();
                    rows += page.len();
                    match next {
                        Some(qualys_connector::proofs::Position::From { id }) => id_min = Some(id.to_string()),
                        None => break,
                        Some(other) => panic!("a plain page ends at a host: {other:?}"),
                    }
                }
                (rows, parse)
            })
            .await
            .unwrap();
            assert_eq!(native_rows as u64, n);
            println!(
                "{:>9} {:>7} {:>6} {:>9} {:>9} {:>7.0} row/s {:>7.0} row/s {:>7.2} MiB {:>4.0}+{:<4.0}",
                c.rows,
                hosts,
                c.pages,
                det,
                kb,
                c.rows as f64 / c.secs,
                n as f64 / native_secs,
                c.peak_guest as f64 / 1048576.0,
                det as f64 / n as f64 * 100_000.0,
                kb as f64 / n as f64 * 100_000.0,
            );
        }
        println!("(per 100k: detection-list calls + KnowledgeBase calls; without titles only the first)");
    }

    /// Tickets over HTTPS, page by page: the tenant's kept connection against a new connection
    /// (TCP and TLS handshake) for every page, alternating; on loopback (the handshakes' CPU)
    /// and with a round trip of `rtt` added by the connector, as a server across the internet
    /// has (each new connection then also waits for TCP's and TLS's round trips).
    async fn tls(&self, quick: bool, rtt: std::time::Duration) {
        let n: u64 = if quick { 10_000 } else { 20_000 };
        let sim = self
            .simulator(SimConfig {
                sizes: Set::Tickets.sizes(n),
                tls: Some(qualys_simulator::SimTls::default()),
                ..SimConfig::default()
            })
            .await;
        let ca = sim.ca_pem().expect("a TLS simulator has a CA").as_bytes();
        for rtt in [std::time::Duration::ZERO, rtt] {
            let mut network =
                connector_tests::loopback_policy().add_trust_anchors_pem(ca).expect("the CA is PEM");
            if !rtt.is_zero() {
                network =
                    network.with_connector(std::sync::Arc::new(connector_tests::latency::Latency { rtt }));
            }
            let runtime = Runtime::from_bytes(&self.component, &connector_tests::options(network)).unwrap();
            let path = if rtt.is_zero() {
                "loopback".to_string()
            } else {
                format!("{} ms round trip", rtt.as_millis())
            };
            println!("\n== HTTPS, {path}: {n} tickets page by page, kept connection vs one per page ==");
            let (mut kept, mut fresh) = (Vec::new(), Vec::new());
            for _ in 0..if quick { 2 } else { 3 } {
                kept.push(page_by_page(&runtime, &tenant(&sim, "demo_manager"), false).await);
                fresh.push(page_by_page(&runtime, &tenant(&sim, "demo_manager"), true).await);
            }
            for (label, runs) in [("kept connection", &kept), ("new connection per page", &fresh)] {
                println!(
                    "{label:<24} {:>7.0} rows/s, {:>6.2} ms a page, CPU (host + simulator) {:.2} ms a page",
                    stats(runs.iter().map(|r| r.0).collect()).0,
                    stats(runs.iter().map(|r| r.1).collect()).0 * 1e3,
                    stats(runs.iter().map(|r| r.2).collect()).0 * 1e3,
                );
            }
        }
    }

    async fn start(&self, runtime: &Runtime, quick: bool) {
        let mut inst = Vec::new();
        for _ in 0..5 {
            inst.push((runtime.time_instantiation(2000).await.unwrap() / 2000).as_secs_f64());
        }
        let t = Instant::now();
        Runtime::from_bytes(
            &self.component,
            &RuntimeOptions { cache_dir: None, ..RuntimeOptions::default() },
        )
        .unwrap();
        let compile = t.elapsed();
        let dir = tempfile::tempdir().unwrap();
        let cached = RuntimeOptions {
            cache_dir: Some(dir.path().to_path_buf()),
            network: connector_tests::loopback_policy(),
            ..RuntimeOptions::default()
        };
        Runtime::from_bytes(&self.component, &cached).unwrap();
        // A host starts long after its artifact was written; one changed within the last
        // moments is checked in full (`connector_runtime::cache::SETTLED`).
        std::thread::sleep(connector_runtime::cache::SETTLED + std::time::Duration::from_millis(100));
        let engine = runtime.engine().clone();
        let (mut loads, mut ready) = (Vec::new(), Vec::new());
        for _ in 0..if quick { 5 } else { 20 } {
            let t = Instant::now();
            let r = Runtime::with_engine(
                &engine,
                &self.component,
                &RuntimeOptions { tick_epochs: false, ..cached.clone() },
            )
            .unwrap();
            ready.push(t.elapsed().as_secs_f64());
            assert_eq!(r.info().cache, connector_runtime::CacheOutcome::Hit);
            loads.push(r.info().load_time.as_secs_f64());
        }
        println!("\n== start ==");
        println!("component size           {:>10} bytes", self.component.len());
        println!("compile (Component::new) {:>10.1} ms", compile.as_secs_f64() * 1e3);
        println!("precompiled load         {}", spread(loads, "ms", 1e3, 2));
        println!("runtime ready (engine given; hash, load, link) {}", spread(ready, "ms", 1e3, 2));
        println!("instantiate (warm)       {}", spread(inst, "µs", 1e6, 1));
        for tenants in [1usize, 8, 64] {
            let calls = 2000;
            let t = Instant::now();
            let mut tasks = Vec::new();
            for _ in 0..tenants {
                let r = runtime.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..calls / tenants {
                        r.list_proof_types().await.unwrap();
                    }
                }));
            }
            for task in tasks {
                task.await.unwrap();
            }
            println!(
                "list-proof-types, {tenants:>2} concurrent tenants: {:>8.0} calls/s",
                (calls / tenants * tenants) as f64 / t.elapsed().as_secs_f64()
            );
        }
    }

    async fn memory(&self, runtime: &Runtime, quick: bool) {
        println!("\n== memory ==");
        println!(
            "{:<34} {:>9} {:>7} {:>18} {:>14}",
            "proof", "rows", "pages", "guest peak memory", "host peak RSS"
        );
        let sizes: &[u64] = if quick { &[10_000, 100_000] } else { &[10_000, 100_000, 1_000_000] };
        let runs =
            sizes.iter().map(|&n| (Set::Tickets, n, None)).chain([(Set::Assets, 100_000, Some(10_000))]);
        for (set, rows, page_size) in runs {
            let sim = self.simulator(SimConfig { sizes: set.sizes(rows), ..SimConfig::default() }).await;
            let c = self.collect(runtime, &tenant(&sim, "demo_manager"), set, page_size).await;
            let label = match page_size {
                Some(p) => format!("{} ({p} per page)", set.name()),
                None => format!("{} (1,000 per page)", set.name()),
            };
            println!(
                "{label:<34} {:>9} {:>7} {:>14.2} MiB {:>10.1} MiB",
                c.rows,
                c.pages,
                c.peak_guest as f64 / 1048576.0,
                peak_rss_mb()
            );
        }
    }

    async fn throughput(&self, runtime: &Runtime, quick: bool) {
        let n: u64 = if quick { 20_000 } else { 100_000 };
        let runs = if quick { 1 } else { 3 };
        println!(
            "\n== throughput on loopback, {n} VM hosts (details=All) and {n} tickets, {runs} run(s) each =="
        );
        let mut ratios = Vec::new();
        for set in [Set::Assets, Set::Tickets] {
            let sim = self.simulator(SimConfig { sizes: set.sizes(n), ..SimConfig::default() }).await;
            let addr = sim.addr().to_string();
            let (mut transfer, mut native, mut component, mut cpu, mut sim_cpu) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let mut shape = (0, 0);
            for _ in 0..runs {
                let a = addr.clone();
                let fetched = tokio::task::spawn_blocking(move || fetch(&a, set)).await.unwrap();
                shape = (fetched.pages, fetched.bytes);
                transfer.push(n as f64 / fetched.secs);
                let t = Instant::now();
                let parsed: usize = fetched.bodies.iter().map(|b| set.parse_native(b)).sum();
                native.push(n as f64 / t.elapsed().as_secs_f64());
                assert_eq!(parsed as u64, n);
            }
            let mut digest = String::new();
            for _ in 0..runs {
                let c = self.collect(runtime, &tenant(&sim, "demo_manager"), set, None).await;
                assert_eq!(c.rows, n);
                component.push(n as f64 / c.secs);
                cpu.push(c.host_cpu / n as f64 * 100_000.0);
                sim_cpu.push(c.sim_cpu / n as f64 * 100_000.0);
                digest = c.sha256;
            }
            println!("{} ({} pages, {:.1} MB):", set.name(), shape.0, shape.1 as f64 / 1e6);
            println!("  transfer limit           {}", spread(transfer.clone(), "rows/s", 1.0, 0));
            println!("  native parse             {}", spread(native.clone(), "rows/s", 1.0, 0));
            println!("  component, end to end   {}", spread(component.clone(), "rows/s", 1.0, 0));
            println!("  host CPU per 100k rows   {}", spread(cpu, "s", 1.0, 2));
            println!("  (simulator CPU per 100k  {})", spread(sim_cpu, "s", 1.0, 2));
            println!("  proof sha256             {digest}");
            let (t, nat, c) = (stats(transfer).0, stats(native).0, stats(component).0);
            ratios.push((set, c / t, c / nat));
        }
        println!("\n== ratios (medians) ==");
        for (set, vs_transfer, vs_native) in ratios {
            println!(
                "{:<8} component/transfer {vs_transfer:.2}   component/native {vs_native:.2}",
                set.name()
            );
        }
    }

    async fn rate(&self, runtime: &Runtime, rate: u64, quick: bool) {
        let n: u64 = if quick { 10_000 } else { 30_000 };
        println!("\n== bounded rate: bodies sent at {:.0} MB/s, {n} rows ==", rate as f64 / 1e6);
        for set in [Set::Assets, Set::Tickets] {
            let sim = self
                .simulator(SimConfig { sizes: set.sizes(n), body_rate: Some(rate), ..SimConfig::default() })
                .await;
            let addr = sim.addr().to_string();
            let fetched = tokio::task::spawn_blocking(move || fetch(&addr, set)).await.unwrap();
            let transfer = n as f64 / fetched.secs;
            let c = self.collect(runtime, &tenant(&sim, "demo_manager"), set, None).await;
            let component = n as f64 / c.secs;
            println!(
                "{:<8} transfer limit {:>7.0} rows/s ({:.1} MB/s)   component {:>7.0} rows/s   component/transfer {:.2}",
                set.name(),
                transfer,
                fetched.bytes as f64 / 1e6 / fetched.secs,
                component,
                component / transfer
            );
        }
    }

    /// Calls per 100,000 records for every proof type the component lists, at its default page
    /// size and, where a `page_size` criterion exists, at the largest value it accepts.
    async fn calls(&self, runtime: &Runtime, quick: bool) {
        let n = if quick { 20_000 } else { 100_000 };
        println!("\n== calls per 100,000 records ({n} records of each kind, users at most 10,000) ==");
        let sim = self
            .simulator(SimConfig {
                // Users come in one unpaged response: 10,000 users (a large subscription) stay within
                // the host's default 64 MiB response limit; 100,000 would not.
                sizes: Sizes { users: n.min(10_000), ..Sizes::uniform(n) },
                ..SimConfig::default()
            })
            .await;
        let t = tenant(&sim, "demo_manager");
        for proof in runtime.list_proof_types().await.unwrap() {
            let mut runs = vec![("default".to_string(), Vec::new())];
            if proof.criteria.iter().any(|c| c.name == "page_size") {
                // The plugin's own bound (the WIT carries no range); a new paged proof type
                // names its bound here.
                let largest = match proof.id.as_str() {
                    "assets" => qualys_connector::proofs::assets::MAX_VM_PAGE_SIZE,
                    "vulnerabilities" => vulnerabilities::MAX_PAGE_SIZE,
                    "activity-log" => qualys_connector::proofs::activity_log::MAX_PAGE_SIZE,
                    "pc-posture" => qualys_connector::proofs::pc_posture::MAX_PAGE_SIZE,
                    other => {
                        panic!("{other} has a page_size criterion: add its largest value to the benchmark")
                    }
                };
                runs.push((
                    format!("page_size={largest}"),
                    vec![("page_size".to_string(), largest.to_string())],
                ));
            }
            for (label, criteria) in runs {
                let c = self.collect_id(runtime, &t, &proof.id, criteria).await;
                println!(
                    "{:<20} {:<17} {:>5} calls, {} new connection(s), for {:>6} rows ({:>5.0} per 100,000), {:.2} s, guest peak {:.1} MiB",
                    proof.id,
                    label,
                    c.requests,
                    c.connections,
                    c.rows,
                    c.requests as f64 / c.rows.max(1) as f64 * 100_000.0,
                    c.secs,
                    c.peak_guest as f64 / 1048576.0
                );
            }
        }
        println!(
            "(users: /msp/user_list.php has no paging, one call whatever the count; scan lists: one call \
             per 30-day launch window, whatever the number of scans, 3 for the 90-day default)"
        );
    }
}
