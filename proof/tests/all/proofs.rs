//! Proofs an auditor can trust: provenance in every format, signatures that catch a changed
//! row, a changed metadata field or another key, and diffs by natural key across formats.

use std::path::{Path, PathBuf};

use evidence_proof::PageContext;
use evidence_proof::PageSink as _;
use evidence_proof::diff::{Change, DiffHeader, DiffSink, DiffSummary, FieldChange};
use evidence_proof::{
    AccountInfo, DiffInput, DiffOptions, KeyRule, ProofFile, Provenance, Verdict, signature, verify,
};
use evidence_proof::{Field, FieldKind, Value};
use evidence_proof::{Format, ProofMeta, ProofWriter};
use serde_json::json;

fn field(name: &str, kind: FieldKind) -> Field {
    Field { name: name.into(), label: name.into(), kind, description: String::new() }
}

fn ticket_fields() -> Vec<Field> {
    vec![
        field("ticket_number", FieldKind::Integer),
        field("state", FieldKind::Text),
        field("tags", FieldKind::TextList),
        field("overdue", FieldKind::Boolean),
    ]
}

fn ticket(n: i64, state: &str) -> Vec<Value> {
    vec![
        Value::Integer(n),
        Value::Text(state.into()),
        Value::TextList(vec!["a \"quoted\" tag".into(), "é".into()]),
        Value::Boolean(n % 2 == 0),
    ]
}

fn meta(proof_type: &str) -> ProofMeta {
    ProofMeta {
        proof_type: proof_type.into(),
        title: "A proof".into(),
        collected_at: "2026-11-20T08:00:00Z".into(),
        platform: "US1".into(),
        api_url: "https://qualysapi.qualys.com".into(),
        criteria: vec![("states".into(), "OPEN,RESOLVED".into())],
        key: declared_key(proof_type),
    }
}

/// The natural key each proof type of these tests declares, as a connector would.
fn declared_key(proof_type: &str) -> Option<Vec<Vec<String>>> {
    let key = |k: &[&[&str]]| Some(k.iter().map(|c| c.iter().map(|f| f.to_string()).collect()).collect());
    match proof_type {
        "assets" => key(&[&["asset_id"], &["host_id"]]),
        "detections" => key(&[&["host_id", "qid", "port"]]),
        "log" => key(&[]),
        _ => None,
    }
}

/// Matches rows by the key the proofs declare, as `connector-host diff` does without `--key`.
fn declared(_: &str, _: &[Field], key: Option<&[Vec<String>]>) -> anyhow::Result<KeyRule> {
    KeyRule::from_declared(key.expect("the proofs declare their key"))
}

/// Writes a proof page by page as a collect does; returns its path.
fn write(
    dir: &Path,
    name: &str,
    format: Format,
    proof_type: &str,
    fields: &[Field],
    rows: &[Vec<Value>],
    key: Option<&evidence_proof::SigningKey>,
) -> PathBuf {
    let path = dir.join(name);
    let mut w = ProofWriter::create(Some(&path), format, &meta(proof_type), fields).unwrap();
    w.set_provenance(Provenance {
        account: AccountInfo { login: Some("auditor_1".into()), ..AccountInfo::default() },
        started_at: "2026-11-20T08:00:00Z".into(),
        ..Provenance::default()
    });
    if let Some(k) = key {
        w.set_signer(k.clone()).unwrap();
    }
    let applied = vec![("states".to_string(), "OPEN,RESOLVED".to_string())];
    for (i, page) in rows.chunks(2).enumerate() {
        let at = PageContext {
            next_cursor: None,
            pages: i as u64 + 1,
            rows: 0,
            requests: 2 * (i as u64 + 1),
            applied_criteria: if i == 0 { &applied } else { &[] },
        };
        w.write_page(page, &[], &at).unwrap();
    }
    w.finish().unwrap();
    path
}

fn rows() -> Vec<Vec<Value>> {
    (0..5).map(|i| ticket(10_000 + i, "OPEN")).collect()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn every_format_carries_provenance_and_a_signed_proof_verifies_with_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = signature::generate().unwrap();
    for (name, format) in [("t.json", Format::Json), ("t.jsonl", Format::Jsonl), ("t.csv", Format::Csv)] {
        let path =
            write(dir.path(), name, format, "remediation-tickets", &ticket_fields(), &rows(), Some(&key));
        let meta_path =
            if format == Format::Json { path.clone() } else { evidence_proof::sidecar_path(&path) };
        let metadata: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
        let p = &metadata["provenance"];
        assert_eq!(p["criteria_applied"], json!([{"name": "states", "value": "OPEN,RESOLVED"}]), "{name}");
        assert_eq!((p["pages"].as_u64(), p["requests"].as_u64()), (Some(3), Some(6)), "{name}");
        assert_eq!(p["account"]["login"], "auditor_1");
        assert!(p["finished_at"].is_string() && p["started_at"] == "2026-11-20T08:00:00Z");
        assert_eq!(metadata["format"], format.name());
        assert!(!metadata.to_string().contains("PRIVATE"), "no private key in any output");

        let v = verify(&path, Some(&key.verifying_key())).unwrap();
        assert_eq!(v.verdict, Verdict::Verified, "{name}: {}", v.reason);
        assert_eq!(v.rows, 5);
        // The sidecar names the same proof.
        if format != Format::Json {
            assert_eq!(verify(&meta_path, Some(&key.verifying_key())).unwrap().verdict, Verdict::Verified);
        }
    }
}

#[test]
fn a_changed_row_a_changed_metadata_field_another_key_and_no_signature_each_fail_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    let key = signature::generate().unwrap();
    let trusted = key.verifying_key();
    for (ext, format) in [("json", Format::Json), ("jsonl", Format::Jsonl), ("csv", Format::Csv)] {
        let fields = ticket_fields();
        let signed =
            |name: &str| write(dir.path(), name, format, "remediation-tickets", &fields, &rows(), Some(&key));

        let row = signed(&format!("row.{ext}"));
        edit(&row, "10003", "10033");
        let v = verify(&row, Some(&trusted)).unwrap();
        assert_eq!(v.verdict, Verdict::RowsChanged, "{ext}: {}", v.reason);
        assert!(v.reason.starts_with("rows changed"), "{}", v.reason);

        let meta = signed(&format!("meta.{ext}"));
        let meta_file =
            if format == Format::Json { meta.clone() } else { evidence_proof::sidecar_path(&meta) };
        edit(&meta_file, "\"US1\"", "\"EU1\"");
        let v = verify(&meta, Some(&trusted)).unwrap();
        assert_eq!(v.verdict, Verdict::MetadataChanged, "{ext}: {}", v.reason);

        let other = signature::generate().unwrap();
        let wrong = signed(&format!("wrong.{ext}"));
        let v = verify(&wrong, Some(&other.verifying_key())).unwrap();
        assert_eq!(v.verdict, Verdict::WrongKey, "{ext}: {}", v.reason);
        let v = verify(&wrong, None).unwrap();
        assert_eq!(v.verdict, Verdict::Untrusted, "{ext}: without a trusted key: {}", v.reason);

        // A forged block: another key's name and public key over this signature's value.
        let forged = signed(&format!("forged.{ext}"));
        let forged_meta =
            if format == Format::Json { forged.clone() } else { evidence_proof::sidecar_path(&forged) };
        let mut doc: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&forged_meta).unwrap()).unwrap();
        let other_block = signature::SignatureBlock::sign(&other, &serde_json::Map::new()).unwrap().to_json();
        doc["signature"]["key_id"] = other_block["key_id"].clone();
        doc["signature"]["public_key"] = other_block["public_key"].clone();
        std::fs::write(&forged_meta, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
        for trusting in [Some(trusted), Some(other.verifying_key()), None] {
            let v = verify(&forged, trusting.as_ref()).unwrap();
            assert_eq!(v.verdict, Verdict::MetadataChanged, "{ext}: {}", v.reason);
            assert!(v.reason.starts_with("signature invalid"), "{}", v.reason);
            assert!(v.key_id.is_none(), "not 'signed by' anyone");
        }

        let unsigned = write(
            dir.path(),
            &format!("unsigned.{ext}"),
            format,
            "remediation-tickets",
            &fields,
            &rows(),
            None,
        );
        let v = verify(&unsigned, Some(&trusted)).unwrap();
        assert_eq!(v.verdict, Verdict::Unsigned, "{ext}: {}", v.reason);
    }
}

#[test]
fn a_json_proof_reformatted_without_changing_a_value_still_verifies_but_a_duplicated_member_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let key = signature::generate().unwrap();
    let path = write(
        dir.path(),
        "t.json",
        Format::Json,
        "remediation-tickets",
        &ticket_fields(),
        &rows(),
        Some(&key),
    );
    let value: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::write(&path, serde_json::to_vec(&value).unwrap()).unwrap();
    assert_eq!(verify(&path, Some(&key.verifying_key())).unwrap().verdict, Verdict::Verified);

    // A second `state` in a row: readers that keep the first and readers that keep the last
    // would see different rows; the proof is refused.
    edit(&path, "\"state\":\"OPEN\"", "\"state\":\"OPEN\",\"state\":\"CLOSED\"");
    assert_eq!(verify(&path, Some(&key.verifying_key())).unwrap().verdict, Verdict::RowsChanged);
}

#[derive(Default)]
struct Collected {
    header: Option<DiffHeader>,
    changes: Vec<Change>,
    summary: Option<DiffSummary>,
}

impl DiffSink for Collected {
    fn begin(&mut self, header: &DiffHeader) -> anyhow::Result<()> {
        self.header = Some(header.clone());
        Ok(())
    }
    fn change(&mut self, change: &Change) -> anyhow::Result<()> {
        self.changes.push(change.clone());
        Ok(())
    }
    fn end(&mut self, summary: &DiffSummary) -> anyhow::Result<()> {
        self.summary = Some(summary.clone());
        Ok(())
    }
}

fn input(path: &Path) -> DiffInput {
    DiffInput { file: ProofFile::locate(path).unwrap(), fallback: None }
}

fn tickets_key(_: &str, _: &[Field], _: Option<&[Vec<String>]>) -> anyhow::Result<KeyRule> {
    Ok(KeyRule::field("ticket_number"))
}

#[test]
fn a_diff_across_formats_reports_rows_added_removed_and_changed_by_key_in_any_order_and_budget() {
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<_> = (0..300).map(|i| ticket(10_000 + i, "OPEN")).collect();
    // New: rows in another order, ticket 10,007 resolved, 10,010 gone, 20,000 new.
    let mut new: Vec<_> =
        old.iter().rev().filter(|r| !matches!(r[0], Value::Integer(10_010))).cloned().collect();
    for r in new.iter_mut() {
        if matches!(r[0], Value::Integer(10_007)) {
            r[1] = Value::Text("RESOLVED".into());
        }
    }
    new.push(ticket(20_000, "OPEN"));
    let old_path =
        write(dir.path(), "old.csv", Format::Csv, "remediation-tickets", &ticket_fields(), &old, None);
    let new_path =
        write(dir.path(), "new.json", Format::Json, "remediation-tickets", &ticket_fields(), &new, None);
    // A budget small enough to spill many runs, and one that keeps everything in memory.
    for budget in [1, 64 << 20] {
        let mut got = Collected::default();
        let options = DiffOptions { memory_budget: budget, temp_dir: Some(dir.path().to_path_buf()) };
        let summary = evidence_proof::diff::diff(
            &input(&old_path),
            &input(&new_path),
            &tickets_key,
            &options,
            &mut got,
        )
        .unwrap();
        assert_eq!((summary.added, summary.removed, summary.changed, summary.unchanged), (1, 1, 1, 298));
        let key = |n: i64| vec![("ticket_number".to_string(), json!(n))];
        assert!(got.changes.contains(&Change::Changed {
            key: key(10_007),
            fields: vec![FieldChange { field: "state".into(), old: json!("OPEN"), new: json!("RESOLVED") }],
        }));
        assert!(got.changes.iter().any(|c| matches!(c, Change::Removed { key: k, .. } if *k == key(10_010))));
        assert!(got.changes.iter().any(|c| matches!(c, Change::Added { key: k, .. } if *k == key(20_000))));
        let header = got.header.unwrap();
        assert_eq!((header.old.format, header.new.format), ("csv", "json"));
    }
}

#[test]
fn assets_match_by_asset_id_else_host_id_and_an_asset_that_gains_its_asset_id_is_one_change() {
    let fields = vec![
        field("source", FieldKind::Text),
        field("host_id", FieldKind::Integer),
        field("asset_id", FieldKind::Integer),
        field("os", FieldKind::Text),
    ];
    let asset = |host: Option<i64>, asset: Option<i64>, os: &str| {
        vec![
            Value::Text("vm".into()),
            host.map_or(Value::Null, Value::Integer),
            asset.map_or(Value::Null, Value::Integer),
            Value::Text(os.into()),
        ]
    };
    let old = vec![
        asset(Some(1), Some(101), "Linux"), // unchanged
        asset(Some(2), None, "Windows"),    // gains asset id 102
        asset(None, Some(103), "macOS"),    // agent only; gains host id 3, OS updated
        asset(Some(4), None, "BSD"),        // host only, removed
        asset(Some(5), Some(105), "IOS"),   // replaced by another asset on host 5
    ];
    let new = vec![
        asset(Some(1), Some(101), "Linux"),
        asset(Some(2), Some(102), "Windows"),
        asset(Some(3), Some(103), "macOS 15"),
        asset(Some(5), Some(205), "IOS"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let old_path = write(dir.path(), "old.jsonl", Format::Jsonl, "assets", &fields, &old, None);
    let new_path = write(dir.path(), "new.jsonl", Format::Jsonl, "assets", &fields, &new, None);
    let rule = declared;
    let mut got = Collected::default();
    let summary = evidence_proof::diff::diff(
        &input(&old_path),
        &input(&new_path),
        &rule,
        &DiffOptions::default(),
        &mut got,
    )
    .unwrap();
    assert_eq!(
        (summary.added, summary.removed, summary.changed, summary.unchanged),
        (1, 2, 2, 1),
        "{:#?}",
        got.changes
    );
    assert!(got.changes.contains(&Change::Changed {
        key: vec![("host_id".into(), json!(2))],
        fields: vec![FieldChange { field: "asset_id".into(), old: json!(null), new: json!(102) }],
    }));
    assert!(got.changes.contains(&Change::Changed {
        key: vec![("asset_id".into(), json!(103))],
        fields: vec![
            FieldChange { field: "host_id".into(), old: json!(null), new: json!(3) },
            FieldChange { field: "os".into(), old: json!("macOS"), new: json!("macOS 15") },
        ],
    }));
}

#[test]
fn a_diff_of_two_proof_types_is_refused_before_reading_their_rows() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(dir.path(), "a.json", Format::Json, "remediation-tickets", &ticket_fields(), &rows(), None);
    let b = write(dir.path(), "b.csv", Format::Csv, "users", &ticket_fields(), &rows(), None);
    let err = evidence_proof::diff::diff(
        &input(&a),
        &input(&b),
        &tickets_key,
        &DiffOptions::default(),
        &mut Collected::default(),
    )
    .unwrap_err();
    assert!(matches!(err, evidence_proof::diff::DiffError::DifferentTypes { .. }), "{err}");
    assert!(err.to_string().contains("remediation-tickets proof") && err.to_string().contains("users proof"));
}

#[test]
fn a_csv_cell_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text_and_every_format_keeps_one_digest()
{
    let dir = tempfile::tempdir().unwrap();
    let hostile =
        ["=HYPERLINK(\"http://x\")", "+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "'quoted", "'=both", "plain"];
    let rows: Vec<Vec<Value>> = hostile.iter().enumerate().map(|(i, s)| ticket(i as i64 - 1, s)).collect();
    let mut digests = Vec::new();
    for (name, format) in [("f.json", Format::Json), ("f.jsonl", Format::Jsonl), ("f.csv", Format::Csv)] {
        let path = write(dir.path(), name, format, "remediation-tickets", &ticket_fields(), &rows, None);
        let v = verify(&path, None).unwrap();
        assert_eq!(v.verdict, Verdict::Unsigned, "{name}: {}", v.reason);
        digests.push(v.sha256.clone());
        if format == Format::Csv {
            let mut reader = csv::Reader::from_path(&path).unwrap();
            let states: Vec<String> = reader.records().map(|r| r.unwrap()[1].to_string()).collect();
            for (cell, value) in states.iter().zip(hostile) {
                if value == "plain" {
                    assert_eq!(cell, value);
                } else {
                    assert_eq!(cell, &format!("'{value}"), "guarded: {value:?}");
                }
            }
            let numbers: Vec<String> =
                csv::Reader::from_path(&path).unwrap().records().map(|r| r.unwrap()[0].to_string()).collect();
            assert_eq!(numbers[0], "-1", "numbers are numbers, not formulas");
        }
    }
    assert!(
        digests.windows(2).all(|d| d[0] == d[1]),
        "one digest over the values in every format: {digests:?}"
    );
}

#[test]
fn a_proof_file_with_a_line_longer_than_the_bound_is_refused_while_reading_by_verify_and_diff() {
    use evidence_proof::output::readback::MAX_LINE_BYTES;
    let dir = tempfile::tempdir().unwrap();
    for (name, format) in [("long.jsonl", Format::Jsonl), ("long.json", Format::Json)] {
        let path = write(dir.path(), name, format, "remediation-tickets", &ticket_fields(), &rows(), None);
        // One more row whose text runs past the bound, with no line feed anywhere in it.
        let mut text = std::fs::read_to_string(&path).unwrap();
        let long = format!("{{\"ticket_number\":1,\"state\":\"{}\"", "x".repeat(MAX_LINE_BYTES + 1));
        match format {
            Format::Jsonl => text.push_str(&long),
            _ => text = text.replacen("\n    {", &format!("\n    {long}}},\n    {{"), 1),
        }
        std::fs::write(&path, text).unwrap();
        let v = verify(&path, None).unwrap();
        assert_ne!(v.verdict, Verdict::Unsigned, "{name}: {}", v.reason);
        assert!(v.reason.contains("a line longer than 16 MiB"), "{name}: {}", v.reason);
        let input = |p: &Path| DiffInput { file: ProofFile::locate(p).unwrap(), fallback: None };
        let rule = |_: &str, _: &[Field], _: Option<&[Vec<String>]>| Ok(KeyRule::field("ticket_number"));
        let err = evidence_proof::diff::diff(
            &input(&path),
            &input(&path),
            &rule,
            &DiffOptions { memory_budget: 16 << 20, temp_dir: None },
            &mut Collected::default(),
        )
        .expect_err("refused");
        assert!(format!("{err:#}").contains("a line longer than 16 MiB"), "{name}: {err:#}");
    }
}

#[test]
fn a_composite_key_matches_rows_by_all_its_fields_and_a_keyless_proof_is_compared_as_a_multiset() {
    let dir = tempfile::tempdir().unwrap();
    let fields = vec![
        field("host_id", FieldKind::Integer),
        field("qid", FieldKind::Integer),
        field("port", FieldKind::Integer),
        field("status", FieldKind::Text),
    ];
    let d = |host: i64, qid: i64, port: Option<i64>, status: &str| {
        vec![
            Value::Integer(host),
            Value::Integer(qid),
            port.map_or(Value::Null, Value::Integer),
            Value::Text(status.into()),
        ]
    };
    // The same QID on two ports of one host is two detections; a null port is a port of its own.
    let old = vec![d(1, 100, Some(443), "Active"), d(1, 100, Some(8443), "Active"), d(1, 100, None, "New")];
    let new = vec![d(1, 100, Some(443), "Fixed"), d(1, 100, None, "New"), d(2, 100, Some(443), "New")];
    let old_path = write(dir.path(), "old.jsonl", Format::Jsonl, "detections", &fields, &old, None);
    let new_path = write(dir.path(), "new.csv", Format::Csv, "detections", &fields, &new, None);
    let mut got = Collected::default();
    let summary = evidence_proof::diff::diff(
        &input(&old_path),
        &input(&new_path),
        &declared,
        &DiffOptions::default(),
        &mut got,
    )
    .unwrap();
    assert_eq!(got.header.unwrap().key, KeyRule::Fields(vec!["host_id".into(), "qid".into(), "port".into()]));
    assert_eq!((summary.added, summary.removed, summary.changed, summary.unchanged), (1, 1, 1, 1));
    assert!(got.changes.contains(&Change::Changed {
        key: vec![("host_id".into(), json!(1)), ("qid".into(), json!(100)), ("port".into(), json!(443))],
        fields: vec![FieldChange { field: "status".into(), old: json!("Active"), new: json!("Fixed") }],
    }));

    // A log: identical lines are distinct events; three copies against two is one removed.
    let fields = vec![field("date", FieldKind::Timestamp), field("action", FieldKind::Text)];
    let line = |at: &str, action: &str| vec![Value::Timestamp(at.into()), Value::Text(action.into())];
    let same = line("2026-11-20T08:00:00Z", "request");
    let old = vec![same.clone(), same.clone(), same.clone(), line("2026-11-20T07:00:00Z", "login")];
    let new = vec![same.clone(), same.clone(), line("2026-11-20T07:00:00Z", "login")];
    let old_path = write(dir.path(), "old-log.jsonl", Format::Jsonl, "log", &fields, &old, None);
    let new_path = write(dir.path(), "new-log.jsonl", Format::Jsonl, "log", &fields, &new, None);
    let mut got = Collected::default();
    let summary = evidence_proof::diff::diff(
        &input(&old_path),
        &input(&new_path),
        &declared,
        &DiffOptions::default(),
        &mut got,
    )
    .unwrap();
    assert_eq!(got.header.unwrap().key, KeyRule::WholeRow);
    assert_eq!((summary.added, summary.removed, summary.changed, summary.unchanged), (0, 1, 0, 3));
    assert_eq!((summary.duplicate_keys_old, summary.duplicate_keys_new), (0, 0), "copies are not duplicates");
}

#[test]
fn a_declared_key_diff_cannot_match_by_is_refused_by_name() {
    let err = KeyRule::from_declared(&[vec!["a".into(), "b".into()], vec!["c".into()]]).unwrap_err();
    assert!(err.to_string().contains("--key"), "{err}");
}
