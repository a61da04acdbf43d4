//! `connector-host demo`: the bundled simulator on a free loopback port, then connect and
//! collect every proof type through the real component, with a summary table.

use std::path::Path;

use connector_host::{Format, Runtime};
use qualys_simulator::{SimConfig, Simulator};

use super::{Ui, collect_one, exit, short, tenant_for};

pub async fn run(runtime: &Runtime, ui: &Ui, out: &Path) -> u8 {
    let sim = match Simulator::start(SimConfig::default()).await {
        Ok(s) => s,
        Err(e) => {
            ui.error(format!("cannot start the simulator: {e:#}"));
            return exit::HOST;
        }
    };
    let url = sim.url();
    ui.info(format!("Qualys simulator listening on {url}"));
    let Ok(tenant) = tenant_for("US1", Some(&url), "demo_manager".into(), "demo-password".into(), ui) else {
        return exit::CONFIG;
    };

    let report = runtime.connect(&tenant).await;
    match &report.result {
        Ok(a) => println!(
            "connected as {} ({}) — {}",
            a.login,
            a.role.as_deref().unwrap_or("role unknown"),
            a.api_url
        ),
        Err(e) => {
            ui.error(format!("connect failed: {e}"));
            return exit::code(e);
        }
    }

    let types = match runtime.list_proof_types().await {
        Ok(t) => t,
        Err(e) => {
            ui.error(e.to_string());
            return exit::code(&e);
        }
    };
    let mut rows = Vec::new();
    let mut worst = exit::OK;
    for t in &types {
        let path = out.join(format!("{}.json", t.id));
        let (code, summary) = collect_one(runtime, ui, &tenant, &t.id, &[], Format::Json, Some(&path)).await;
        worst = worst.max(code);
        rows.push(match summary {
            Some((s, stats)) => format!(
                "{:<22} {:>7} {:>6} {:>9}  {}  {}",
                t.id,
                s.row_count,
                stats.pages,
                s.warnings.len(),
                &s.sha256[..16],
                path.display()
            ),
            None => format!("{:<22} failed (exit code {code})", t.id),
        });
    }
    println!();
    println!("{:<22} {:>7} {:>6} {:>9}  {:<16}  file", "proof type", "rows", "pages", "warnings", "sha256");
    for r in rows {
        println!("{r}");
    }

    // What a user with a broken set-up sees, so the diagnoses are visible too.
    println!();
    println!("Diagnoses for accounts with set-up problems (simulated):");
    for login in ["demo_reader", "demo_sso", "demo_locked"] {
        let Ok(t) = tenant_for("US1", Some(&url), login.into(), "demo-password".into(), ui) else { continue };
        match runtime.connect(&t).await.result {
            Ok(a) => {
                let warnings: Vec<_> = a.warnings.iter().map(|w| w.code.clone()).collect();
                println!(
                    "  {login:<14} connected ({}); warnings: {}",
                    a.role.as_deref().unwrap_or("?"),
                    if warnings.is_empty() { "none".into() } else { warnings.join(", ") }
                );
            }
            Err(e) => println!("  {login:<14} {}", short(&e)),
        }
    }
    worst
}
