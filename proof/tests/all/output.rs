//! Proof files: where they can be written, and what writing them must never do.

use std::io::Read;
use std::os::unix::fs::FileTypeExt;

use evidence_proof::{Field, FieldKind, Value};
use evidence_proof::{Format, ProofMeta, ProofWriter};

fn meta() -> ProofMeta {
    ProofMeta {
        proof_type: "users".into(),
        title: "List of Users".into(),
        collected_at: "2026-11-23T00:00:00Z".into(),
        platform: "US1".into(),
        api_url: "https://qualysapi.qualys.com".into(),
        criteria: vec![],
        key: Some(vec![vec!["login".into()]]),
    }
}

fn fields() -> Vec<Field> {
    vec![Field {
        name: "login".into(),
        label: "Login".into(),
        kind: FieldKind::Text,
        description: String::new(),
    }]
}

#[test]
fn writing_to_a_named_pipe_streams_into_it_and_leaves_it_a_pipe() {
    // `--output /dev/null` (or a pipe) must write in place: the temp-file-and-rename that
    // makes regular proof files atomic would replace the device with a plain file.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("proof.pipe");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(&fifo).unwrap().read_to_string(&mut text).unwrap();
            text
        })
    };
    let mut writer = ProofWriter::create(Some(&fifo), Format::Jsonl, &meta(), &fields()).unwrap();
    writer.write_rows(&[vec![Value::Text("acme_zb".into())]]).unwrap();
    let summary = writer.finish().unwrap();

    assert_eq!(reader.join().unwrap().trim(), r#"{"login":"acme_zb"}"#);
    assert_eq!(summary.row_count, 1);
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "still a pipe");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file left behind");
}

#[test]
fn a_regular_proof_file_appears_only_when_finished() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("users.json");
    let mut writer = ProofWriter::create(Some(&path), Format::Json, &meta(), &fields()).unwrap();
    writer.write_rows(&[vec![Value::Null]]).unwrap();
    assert!(!path.exists(), "not visible while being written");
    writer.finish().unwrap();
    let proof: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(proof["row_count"], 1);
    assert_eq!(proof["rows"][0]["login"], serde_json::Value::Null);
}

#[test]
fn a_proof_dropped_unfinished_writes_nothing_to_a_stream() {
    // Standard output and pipes cannot be rolled back like a temporary file: an early failure
    // (bad login, bad criteria) must leave them empty rather than holding a half proof.
    for format in [Format::Json, Format::Jsonl, Format::Csv] {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("proof.pipe");
        assert!(std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                std::fs::File::open(&fifo).unwrap().read_to_end(&mut bytes).unwrap();
                bytes
            })
        };
        let mut writer = ProofWriter::create(Some(&fifo), format, &meta(), &fields()).unwrap();
        writer.write_rows(&[vec![Value::Text("acme_zb".into())]]).unwrap();
        drop(writer);
        assert_eq!(reader.join().unwrap(), b"", "{format:?}");
    }
}
