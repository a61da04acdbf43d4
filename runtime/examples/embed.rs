//! Embedding the connector runtime: one operator policy, one tenant, one collect, the proof
//! written as JSON Lines.
//!
//! ```sh
//! QUALYS_USERNAME=... QUALYS_PASSWORD=... cargo run -p connector-runtime --example embed -- \
//!     qualys_connector.wasm https://qualysapi.qualys.com users
//! ```
//! A loopback or private API URL (the simulator) also needs `--allow-private-network` last.

use std::path::Path;

use connector_runtime::evidence_proof::{Format, ProofMeta, ProofSummary, ProofWriter};
use connector_runtime::types::Config;
use connector_runtime::{
    CollectOptions, CollectRequest, Connections, NetworkPolicy, Origin, Runtime, RuntimeOptions, Tenant,
    TenantPolicy, collect_proof, fields_of,
};

/// Collects one proof type from `api_url` as `username` into `output` (stdout when `None`).
pub async fn run(
    component: &Path,
    api_url: &str,
    proof_type_id: &str,
    (username, password): (String, String),
    allow_private_network: bool,
    output: Option<&Path>,
) -> anyhow::Result<ProofSummary> {
    // The operator's policy: this API host only, public addresses unless told otherwise.
    let origin = Origin::parse(api_url)?;
    let mut network = NetworkPolicy::deny_all().allow_host(&origin.host)?;
    if allow_private_network {
        network = network.allow_private_network();
    }
    let runtime = Runtime::load(component, &RuntimeOptions { network, ..RuntimeOptions::default() })?;

    // One tenant: its config goes to the component; its policy bounds the calls.
    let config = Config {
        platform: "CUSTOM".into(),
        api_url: Some(api_url.into()),
        username,
        password,
        timeouts: None,
        max_inline_wait_seconds: None,
    };
    let tenant = Tenant {
        config,
        policy: TenantPolicy::for_origin(origin),
        name: "example".into(),
        connections: Connections::default(),
    };

    let types = runtime.list_proof_types().await?;
    let proof =
        types.iter().find(|t| t.id == proof_type_id).ok_or_else(|| anyhow::anyhow!("no {proof_type_id}"))?;
    let meta = ProofMeta {
        proof_type: proof.id.clone(),
        title: proof.title.clone(),
        collected_at: connector_runtime::now_rfc3339(),
        platform: "CUSTOM".into(),
        api_url: api_url.into(),
        criteria: Vec::new(),
        key: runtime.declared_key(proof),
    };
    let mut writer = ProofWriter::create(output, Format::Jsonl, &meta, &fields_of(proof))?;
    let request = CollectRequest { proof, criteria: &[], cursor: None };
    collect_proof(&runtime, &tenant, request, &mut writer, &CollectOptions::default(), &mut |_| {})
        .await
        .map_err(|e| anyhow::anyhow!("{} (resume from cursor {:?})", e.error, e.stats.next_cursor))?;
    writer.finish()
}

#[allow(dead_code, reason = "the tests call `run`, not `main`")]
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [component, api_url, proof_type_id, rest @ ..] = args.as_slice() else {
        anyhow::bail!("usage: embed COMPONENT.wasm API_URL PROOF_TYPE [--allow-private-network]");
    };
    let credentials = (std::env::var("QUALYS_USERNAME")?, std::env::var("QUALYS_PASSWORD")?);
    let private = rest.iter().any(|a| a == "--allow-private-network");
    let summary = run(Path::new(component), api_url, proof_type_id, credentials, private, None).await?;
    eprintln!("{} rows, sha256 {}", summary.row_count, summary.sha256);
    Ok(())
}
