//! Components already handed to platforms keep working: the released 0.2.0 artifact (kept as
//! a fixture) and the 0.3.0 component this binary embeds both collect every proof type, and
//! `diff` needs no `--key` for the proofs of either.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qualys_simulator::{Account, SimConfig, Simulator};

const PASSWORD: &str = "released-Secret-5150";

/// `evidence:connector@0.2.0`, as `xtask dist` built it at fc3999e.
fn released_0_2_0() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/components/qualys_connector-0.2.0.wasm")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(args)
        .env("QUALYS_USERNAME", "released_user")
        .env("QUALYS_PASSWORD", PASSWORD)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_released_0_2_0_component_and_the_current_one_both_collect_every_proof_type_and_diff_without_a_key()
{
    let sim = Simulator::start(SimConfig {
        accounts: vec![Account::manager("released_user", PASSWORD)],
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let released = released_0_2_0();
    for (name, plugin) in [("0.3.0", None), ("0.2.0", Some(released.display().to_string()))] {
        let out = dir.path().join(name);
        let (url, out_text) = (sim.url(), out.display().to_string());
        let mut args =
            vec!["collect", "--api-url", &url, "--allow-private-network", "--all", "--out-dir", &out_text];
        if let Some(p) = &plugin {
            args.extend(["--plugin", p]);
        }
        let o = tokio::task::block_in_place(|| run(&args));
        assert!(o.status.success(), "{name}: {}", text(&o));
        let manifest = json(&out.join("manifest.json"));
        let proofs = manifest["proofs"].as_array().unwrap();
        // 0.2.0 was released with five proof types; this build has every registered one.
        let expected = if plugin.is_some() { 5 } else { crate::proof_type_count() };
        assert_eq!(proofs.len(), expected, "{name}: every proof type");
        for entry in proofs {
            let file = out.join(entry["file"].as_str().unwrap());
            let proof = json(&file);
            let connector = &proof["provenance"]["connector"];
            assert!(proof["row_count"].as_u64().unwrap() > 0, "{name}: {} has rows", file.display());
            if plugin.is_none() {
                // The component names itself and its service, and declares each proof's key.
                assert_eq!(connector["service"], "Qualys", "{name}");
                assert_eq!(connector["name"], "qualys-connector", "{name}");
                // A log declares none: identical rows are distinct events.
                let log = proof["proof_type"] == "activity-log";
                assert!(
                    proof["key"].as_array().is_some_and(|k| k.is_empty() == log),
                    "{name}: {}",
                    proof["key"]
                );
            } else {
                // A 0.2.0 component cannot say either: nothing is made up for it.
                assert!(connector["service"].is_null(), "{name}: {connector}");
                assert!(proof.get("key").is_none(), "{name}: no key recorded for a 0.2.0 component");
            }
            let file_text = file.display().to_string();
            let o =
                tokio::task::block_in_place(|| run(&["diff", &file_text, &file_text, "--format", "json"]));
            assert!(o.status.success(), "{name}: diff of {file_text} without --key: {}", text(&o));
            let diff: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(diff["summary"]["unchanged"], proof["row_count"], "{name}: {file_text}");
        }
    }
}
