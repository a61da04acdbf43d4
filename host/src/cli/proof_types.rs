//! `connector-host proof-types`: what the connector can collect.

use connector_runtime::NetworkPolicy;
use connector_runtime::types::ProofType;
use evidence_proof::output::kind_name;

use super::component::Loader;
use super::{Ui, exit};

pub async fn run(loader: &Loader, ui: &Ui, json: bool, markdown: bool) -> u8 {
    let runtime = match loader.load(ui, NetworkPolicy::deny_all()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let types = match runtime.list_proof_types().await {
        Ok(t) => t,
        Err(e) => {
            ui.error(e.to_string());
            return exit::code(&e);
        }
    };
    let text = if json {
        // A 0.2.0 component declares no keys: `null`, never an empty list (which means "rows
        // have no identity").
        let value: Vec<_> = types.iter().map(|t| proof_type_json(t, runtime.declared_key(t))).collect();
        serde_json::to_string_pretty(&value).expect("json") + "\n"
    } else if markdown {
        connector_runtime::reference::markdown(&types)
    } else {
        let mut s = String::new();
        for t in &types {
            s += &format!("{:<22} {}\n", t.id, t.title);
            if let Some(key) = runtime.declared_key(t).filter(|k| !k.is_empty()) {
                let key: Vec<_> = key.iter().map(|c| c.join(" + ")).collect();
                s += &format!("{:<22} key: {}\n", "", key.join(", else "));
            }
            let fields: Vec<_> = t.fields.iter().map(|f| f.name.as_str()).collect();
            s += &format!("{:<22} fields: {}\n", "", fields.join(", "));
            if !t.criteria.is_empty() {
                let criteria: Vec<_> = t.criteria.iter().map(|c| c.name.as_str()).collect();
                s += &format!("{:<22} criteria: {}\n", "", criteria.join(", "));
            }
        }
        s
    };
    // A reader that stops early (`| head`) is not an error worth a panic.
    match std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            ui.error(format!("writing to standard output: {e}"));
            exit::HOST
        }
        _ => exit::OK,
    }
}

fn proof_type_json(t: &ProofType, key: Option<Vec<Vec<String>>>) -> serde_json::Value {
    serde_json::json!({
        "id": t.id, "title": t.title, "description": t.description, "key": key,
        "fields": t.fields.iter().map(|f| serde_json::json!({"name": f.name, "label": f.label, "kind": kind_name(f.kind.into()), "description": f.description})).collect::<Vec<_>>(),
        "criteria": t.criteria.iter().map(|c| serde_json::json!({"name": c.name, "kind": kind_name(c.kind.into()), "required": c.required, "allowed_values": c.allowed_values, "default": c.default_value, "description": c.description})).collect::<Vec<_>>(),
    })
}
