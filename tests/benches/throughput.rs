//! The benchmark: is the connector limited by the network or by itself? Prints figures, asserts
//! nothing. Run: `cargo bench -p connector-tests --bench throughput` (add `-- --quick` for a
//! smaller run). Everything runs on loopback against the in-process simulator.
//!
//! 1. transfer limit: the same pages fetched with a plain HTTP/1.1 client, bodies discarded.
//! 2. native: the plugin's own parsing and mapping code, compiled natively, on those bodies.
//! 3. component: `collect` through the real component in the real host, rows written to JSONL.
//! 4. memory: component peak linear memory and host peak RSS at 10k, 100k and 1M rows.
//! 5. start: compile, precompiled load, instantiate; list-proof-types calls/s across tenants.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

use base64::prelude::*;
use connector_runtime::{Runtime, RuntimeOptions};
use connector_tests::{PASSWORD, collect, simulator, tenant};
use qualys_connector::proofs::assets::Assets;
use qualys_connector::proofs::tickets::Tickets;
use qualys_simulator::{SimConfig, Sizes};

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(quick));
}

struct Fetched {
    pages: usize,
    bytes: usize,
    secs: f64,
    bodies: Vec<Vec<u8>>,
}

/// A plain HTTP/1.1 GET or POST on loopback; returns the body.
fn http(addr: &str, method: &str, path: &str, body: &str) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = BASE64_STANDARD.encode(format!("demo_manager:{PASSWORD}"));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\nX-Requested-With: bench\r\n\
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
fn fetch_hosts(addr: &str) -> Fetched {
    let started = Instant::now();
    let first = "/api/5.0/fo/asset/host/?action=list&details=All&show_asset_id=1&show_tags=1\
                 &truncation_limit=1000&show_trurisk=1";
    let mut path = first.to_string();
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

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

async fn run(quick: bool) {
    let n: u64 = if quick { 20_000 } else { 100_000 };
    println!(
        "machine: {} cores; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if quick { "quick run" } else { "full run" }
    );

    // 5. Start-up.
    let plugin = std::fs::read(connector_tests::COMPONENT).expect("component built");
    let t = Instant::now();
    let compiled =
        Runtime::from_bytes(&plugin, &RuntimeOptions { cache_dir: None, ..RuntimeOptions::default() })
            .unwrap();
    let compile = t.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let cached = RuntimeOptions {
        cache_dir: Some(dir.path().to_path_buf()),
        network: connector_tests::loopback_policy(),
        ..RuntimeOptions::default()
    };
    Runtime::from_bytes(&plugin, &cached).unwrap();
    let runtime = Runtime::from_bytes(&plugin, &cached).unwrap();
    let load = runtime.info().load_time;
    let inst = runtime.time_instantiation(1000).await.unwrap() / 1000;
    drop(compiled);
    println!("\n== start ==");
    println!("component size          {:>10} bytes", plugin.len());
    println!("compile (Component::new){:>10.1} ms", compile.as_secs_f64() * 1e3);
    println!(
        "precompiled load        {:>10.2} ms  (cache {:?})",
        load.as_secs_f64() * 1e3,
        runtime.info().cache
    );
    println!("instantiate (warm)      {:>10.1} µs", inst.as_secs_f64() * 1e6);
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

    // 4. Memory, flat in proof size?
    println!("\n== memory (remediation tickets, 1,000 per page) ==");
    println!("{:>9} {:>7} {:>22} {:>18}", "rows", "pages", "guest peak memory", "host peak RSS");
    let sizes: &[u64] = if quick { &[10_000, 100_000] } else { &[10_000, 100_000, 1_000_000] };
    for &rows in sizes {
        let sim = simulator(SimConfig {
            sizes: Sizes { tickets: rows, ..Sizes::default() },
            ..SimConfig::default()
        })
        .await;
        let proof = connector_host_collect_memory(&runtime, &sim).await;
        println!(
            "{rows:>9} {:>7} {:>17.2} MiB {:>14.1} MiB",
            proof.0,
            proof.1 as f64 / 1048576.0,
            peak_rss_mb()
        );
    }

    // 1-3. Throughput.
    let sim = simulator(SimConfig {
        sizes: Sizes { hosts: n, agents: 0, tickets: n, ..Sizes::default() },
        ..SimConfig::default()
    })
    .await;
    let addr = sim.addr().to_string();
    println!("\n== throughput, {n} VM hosts (details=All) and {n} tickets ==");
    println!("{:<28} {:>8} {:>10} {:>10} {:>12}", "stage", "pages", "MB", "seconds", "rows/s");
    let mut rows_per_sec = Vec::new();
    for (what, fetched) in [
        (
            "assets",
            tokio::task::spawn_blocking({
                let a = addr.clone();
                move || fetch_hosts(&a)
            })
            .await
            .unwrap(),
        ),
        (
            "tickets",
            tokio::task::spawn_blocking({
                let a = addr.clone();
                move || fetch_tickets(&a)
            })
            .await
            .unwrap(),
        ),
    ] {
        let transfer = n as f64 / fetched.secs;
        println!(
            "{:<28} {:>8} {:>10.1} {:>10.2} {:>12.0}   ({:.0} pages/s, {:.0} MB/s)",
            format!("{what}: transfer limit"),
            fetched.pages,
            fetched.bytes as f64 / 1e6,
            fetched.secs,
            transfer,
            fetched.pages as f64 / fetched.secs,
            fetched.bytes as f64 / 1e6 / fetched.secs
        );
        let t = Instant::now();
        let mut parsed = 0usize;
        for body in &fetched.bodies {
            parsed += if what == "assets" {
                Assets::parse_vm(&mut &body[..]).unwrap().0.len()
            } else {
                Tickets::parse(&mut &body[..], 0).unwrap().0.len()
            };
        }
        let native_secs = t.elapsed().as_secs_f64();
        assert_eq!(parsed as u64, n);
        let native = n as f64 / native_secs;
        println!(
            "{:<28} {:>8} {:>10.1} {:>10.2} {:>12.0}",
            format!("{what}: native parse"),
            fetched.pages,
            fetched.bytes as f64 / 1e6,
            native_secs,
            native
        );
        drop(fetched);
        let ten = tenant(&sim, "demo_manager");
        let crit = if what == "assets" {
            vec![("include_cloud_agents".to_string(), "false".to_string())]
        } else {
            vec![]
        };
        let id = if what == "assets" { "assets" } else { "remediation-tickets" };
        let t = Instant::now();
        let proof = collect(&ten, id, &crit).await.unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(proof.rows.len() as u64, n);
        let component = n as f64 / secs;
        println!(
            "{:<28} {:>8} {:>10} {:>10.2} {:>12.0}",
            format!("{what}: component end to end"),
            proof.pages,
            "",
            secs,
            component
        );
        rows_per_sec.push((what, transfer, native, component));
    }
    println!("\n== ratios ==");
    for (what, transfer, native, component) in rows_per_sec {
        println!(
            "{what:<8} component/transfer {:.2}   component/native {:.2}",
            component / transfer,
            component / native
        );
    }
}

/// Collects all tickets through the component, rows written to a file; (pages, peak guest bytes).
async fn connector_host_collect_memory(runtime: &Runtime, sim: &qualys_simulator::Simulator) -> (u64, usize) {
    let t = tenant(sim, "demo_manager");
    let proof = connector_tests::proof_type("remediation-tickets").await;
    let dir = tempfile::tempdir().unwrap();
    let meta = connector_runtime::ProofMeta {
        proof_type: proof.id.clone(),
        title: proof.title.clone(),
        collected_at: connector_runtime::now_rfc3339(),
        platform: "US1".into(),
        api_url: sim.url(),
        criteria: vec![],
    };
    let mut writer = connector_runtime::ProofWriter::create(
        Some(&dir.path().join("p.jsonl")),
        connector_runtime::Format::Jsonl,
        &meta,
        &proof.fields,
    )
    .unwrap();
    let request = connector_runtime::CollectRequest { proof: &proof, criteria: &[], cursor: None };
    let stats =
        connector_runtime::collect_proof(runtime, &t, request, &mut writer, &Default::default(), &mut |_| {})
            .await
            .unwrap();
    writer.finish().unwrap();
    (stats.pages, stats.peak_memory_bytes)
}
