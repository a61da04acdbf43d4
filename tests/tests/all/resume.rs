//! An embedder resumes a collect with the library alone: `connector_runtime::checkpoint` keeps
//! the rows so far and where to continue, and a resumed proof is the uninterrupted one, row for
//! row, recording that it was resumed.

use connector_runtime::checkpoint::{self, CheckpointedSink, Identity};
use connector_runtime::evidence_proof::{Format, ProofMeta, ProofWriter, Provenance};
use connector_runtime::{CollectOptions, CollectRequest, collect_proof, fields_of};
use connector_tests::*;
use qualys_simulator::{SimConfig, Sizes};

fn identity(t: &connector_runtime::Tenant) -> Identity {
    Identity {
        proof_type: "remediation-tickets".into(),
        criteria: Vec::new(),
        platform: "US1".into(),
        api_url: t.config.api_url.clone().unwrap(),
        format: "jsonl".into(),
        login: t.config.username.clone(),
        component_sha256: runtime().info().component_sha256.clone(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collect_stopped_after_two_pages_resumes_from_its_checkpoint_to_the_uninterrupted_rows() {
    let sim =
        simulator(SimConfig { sizes: Sizes { tickets: 4500, ..Sizes::default() }, ..SimConfig::default() })
            .await;
    let t = tenant(&sim, "demo_manager");
    let clean = collect(&t, "remediation-tickets", &[]).await.unwrap();
    let proof = proof_type("remediation-tickets").await;
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("tickets.jsonl");
    let meta = ProofMeta {
        proof_type: proof.id.clone(),
        title: proof.title.clone(),
        collected_at: "2026-12-06T00:00:00Z".into(),
        platform: "US1".into(),
        api_url: t.config.api_url.clone().unwrap(),
        criteria: Vec::new(),
        key: Some(proof.key.clone()),
    };
    let fields = fields_of(&proof);

    // Two pages, then the collect stops (as a worker's batch would).
    let writer = ProofWriter::create_resumable(&target, Format::Jsonl, &meta, &fields).unwrap();
    let mut sink = CheckpointedSink {
        writer,
        target: Some(target.clone()),
        identity: identity(&t),
        collected_at: meta.collected_at.clone(),
        before: (0, 0),
        saved: false,
        signer: None,
        observer: None,
    };
    let options = CollectOptions { max_pages: Some(2), ..CollectOptions::default() };
    let request = CollectRequest { proof: &proof, criteria: &[], cursor: None };
    let stats = collect_proof(runtime(), &t, request, &mut sink, &options, &mut |_| {}).await.unwrap();
    assert_eq!(stats.pages, 2);
    drop(sink);
    assert!(!target.exists() && checkpoint::path_for(&target).exists());

    // Resumed from the checkpoint alone.
    let cp = checkpoint::load(&target).unwrap().expect("a checkpoint");
    assert_eq!(cp.mismatch(&identity(&t)), None);
    assert_eq!(cp.vouched_by(None), Ok(None), "unsigned, and said so");
    let mut writer = ProofWriter::resume(&target, Format::Jsonl, &meta, &fields, &cp.writer).unwrap();
    writer.set_provenance(Provenance { pages: cp.pages, requests: cp.requests, ..cp.provenance.clone() });
    let mut sink = CheckpointedSink {
        writer,
        target: Some(target.clone()),
        identity: identity(&t),
        collected_at: cp.collected_at.clone(),
        before: (cp.pages, cp.requests),
        saved: true,
        signer: None,
        observer: None,
    };
    let request = CollectRequest { proof: &proof, criteria: &[], cursor: Some(cp.next_cursor.clone()) };
    collect_proof(runtime(), &t, request, &mut sink, &CollectOptions::default(), &mut |_| {}).await.unwrap();
    let summary = sink.writer.finish().unwrap();
    checkpoint::discard(&target, false);
    assert_eq!(summary.row_count, clean.rows.len() as u64);
    assert_eq!(summary.sha256, clean.sha256, "the uninterrupted proof's rows");
    assert!(!checkpoint::path_for(&target).exists());
}
