//! `connector-host demo`: the bundled simulator on a free loopback port, then connect and
//! collect every proof type through the real component, with a summary table.

use std::path::Path;

use connector_runtime::CallError;
use evidence_proof::{AccountInfo, Format};
use evidence_render::document::DocumentKind;
use qualys_simulator::{SimConfig, Simulator};

use super::collect::Job;
use super::component::Loader;
use super::network::NetworkArgs;
use super::target::tenant_for;
use super::{Ui, exit};
use connector_runtime::checkpoint;

pub async fn run(loader: &Loader, ui: &Ui, out: &Path) -> u8 {
    let sim = match Simulator::start(SimConfig::default()).await {
        Ok(s) => s,
        Err(e) => {
            ui.error(format!("cannot start the simulator: {e:#}"));
            return exit::HOST;
        }
    };
    let url = sim.url();
    ui.info(format!("Qualys simulator listening on {url}"));
    // The simulator is on loopback: the demo allows its host and private addresses itself.
    let network =
        NetworkArgs { allow_private_network: true, ..NetworkArgs::default() }.policy(Some("127.0.0.1"));
    let network = match network {
        Ok(n) => n,
        Err(e) => {
            ui.error(format!("{e:#}"));
            return exit::HOST;
        }
    };
    let runtime = match loader.load(ui, network) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let runtime = &runtime;
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
        // The demo always starts over: an earlier demo's interrupted collect is dropped.
        checkpoint::discard(&path, true);
        let job = Job {
            runtime,
            ui,
            tenant: &tenant,
            format: Format::Json,
            document: None,
            resume: false,
            connector: loader.connector_info(runtime).await,
            account: AccountInfo { login: Some(tenant.config.username.clone()), ..AccountInfo::default() },
            signer: None,
            store: None,
        };
        let (mut code, summary) = job.one(&t.id, &[], Some(&path), false).await;
        // Each proof also as the PDF an auditor reads (the JSON proof attached inside).
        let pdf = out.join(format!("{}.pdf", t.id));
        if summary.is_some() {
            code = code.max(job.render(&t.id, &path, &pdf, DocumentKind::Pdf).await);
        }
        worst = worst.max(code);
        rows.push(match summary {
            Some((s, stats)) => format!(
                "{:<22} {:>7} {:>6} {:>9}  {}  {} {}",
                t.id,
                s.row_count,
                stats.pages,
                s.warnings.len(),
                &s.sha256[..16],
                path.display(),
                pdf.display()
            ),
            None => format!("{:<22} failed (exit code {code})", t.id),
        });
    }
    println!();
    println!("{:<22} {:>7} {:>6} {:>9}  {:<16}  files", "proof type", "rows", "pages", "warnings", "sha256");
    for r in rows {
        println!("{r}");
    }

    // What a user with a broken set-up sees, so the diagnoses are visible too.
    println!();
    println!("Diagnoses for accounts with set-up problems (simulated):");
    for login in ["demo_reader", "demo_sso", "demo_locked", "demo_expired"] {
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

/// Error text for a call error in the demo's table.
fn short(e: &CallError) -> String {
    let s = e.to_string();
    match s.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}
