//! `connector-host connect`: who is connected, and what they can collect.

use connector_runtime::types::Access;

use super::component::Loader;
use super::target::Target;
use super::{Ui, exit};

pub async fn run(loader: &Loader, ui: &Ui, target: &Target) -> u8 {
    let (tenant, runtime) = match target.open(ui, loader) {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    match runtime.connect(&tenant).await.result {
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
                    Access::Full => "yes",
                    Access::Partial => "partly",
                    Access::None => "no",
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
