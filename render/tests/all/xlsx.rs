use calamine::{Data, Reader, Xlsx, open_workbook};
use evidence_proof::{Field, FieldKind, Format, ProofMeta, ProofWriter, Value};

fn field(name: &str, kind: FieldKind) -> Field {
    Field { name: name.into(), label: name.into(), kind, description: String::new() }
}

fn fields() -> Vec<Field> {
    vec![
        field("login", FieldKind::Text),
        field("host_id", FieldKind::Integer),
        field("dormant", FieldKind::Boolean),
        field("last_login_date", FieldKind::Timestamp),
        field("asset_groups", FieldKind::TextList),
    ]
}

fn rows() -> Vec<Vec<Value>> {
    vec![
        vec![
            Value::Text("Zofia Łukasiewicz".into()),
            Value::Integer(100_005),
            Value::Boolean(true),
            Value::Timestamp("2026-11-01T12:30:45Z".into()),
            Value::TextList(vec!["PCI".into(), "Ελλάδα".into()]),
        ],
        vec![
            // A value a spreadsheet would take for a formula.
            Value::Text("=HYPERLINK(\"http://evil\",\"x\")".into()),
            Value::Integer(9_007_199_254_740_993),
            Value::Boolean(false),
            Value::Null,
            Value::TextList(vec![]),
        ],
        vec![
            Value::Text("山田太郎 / عبد الله".into()),
            Value::Null,
            Value::Null,
            Value::Timestamp("1999-12-31T23:59:59Z".into()),
            Value::Null,
        ],
    ]
}

/// A JSON proof of [`rows`], in `dir`.
fn proof(dir: &std::path::Path, format: Format) -> std::path::PathBuf {
    let path = dir.join(format!("users.{}", format.extension()));
    let meta = ProofMeta {
        proof_type: "users".into(),
        title: "List of Users".into(),
        collected_at: "2026-11-23T00:00:00Z".into(),
        platform: "US1".into(),
        api_url: "https://qualysapi.qualys.com".into(),
        criteria: vec![("dormant_after_days".into(), "90".into())],
        key: Some(vec![vec!["login".into()]]),
    };
    let mut w = ProofWriter::create(Some(&path), format, &meta, &fields()).unwrap();
    w.write_rows(&rows()).unwrap();
    w.finish().unwrap();
    path
}

#[test]
fn every_value_reads_back_with_its_type_and_formula_like_text_stays_text() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Json, Format::Jsonl, Format::Csv] {
        let source = proof(dir.path(), format);
        let out = dir.path().join(format!("users-{}.xlsx", format.name()));
        let rendered = evidence_render::render_xlsx(&source, &out).unwrap();
        assert_eq!(rendered.rows, 3);
        assert!(rendered.with_metadata);

        let mut book: Xlsx<_> = open_workbook(&out).unwrap();
        assert_eq!(book.sheet_names(), ["Rows", "Proof"]);
        let sheet = book.worksheet_range("Rows").unwrap();
        let cell = |r: usize, c: usize| sheet.get((r, c)).cloned().unwrap_or(Data::Empty);
        let header: Vec<Data> = (0..5).map(|c| cell(0, c)).collect();
        assert_eq!(header, fields().iter().map(|f| Data::String(f.name.clone())).collect::<Vec<_>>());
        assert_eq!(cell(1, 0), Data::String("Zofia Łukasiewicz".into()));
        assert_eq!(cell(1, 1), Data::Float(100_005.0), "integers are numbers");
        assert_eq!(cell(1, 2), Data::Bool(true));
        let Data::DateTime(when) = cell(1, 3) else { panic!("a timestamp is a date: {:?}", cell(1, 3)) };
        assert!(when.is_datetime());
        assert_eq!(when.to_ymd_hms_milli(), (2026, 11, 1, 12, 30, 45, 0));
        assert_eq!(cell(1, 4), Data::String("PCI; Ελλάδα".into()), "lists joined");
        assert_eq!(
            cell(2, 0),
            Data::String("=HYPERLINK(\"http://evil\",\"x\")".into()),
            "text, never a formula"
        );
        assert!(book.worksheet_formula("Rows").unwrap().used_cells().next().is_none(), "no formula at all");
        assert_eq!(cell(2, 1), Data::String("9007199254740993".into()), "beyond 2^53 as exact text");
        assert_eq!(cell(2, 3), Data::Empty, "null is an empty cell");
        assert_eq!(cell(3, 0), Data::String("山田太郎 / عبد الله".into()));

        let about = book.worksheet_range("Proof").unwrap();
        let value_of = |name: &str| {
            (0..about.height())
                .find(|r| about.get((*r, 0)) == Some(&Data::String(name.into())))
                .and_then(|r| about.get((r, 1)).cloned())
        };
        assert_eq!(value_of("proof_type"), Some(Data::String("users".into())));
        assert_eq!(
            value_of("sha256 (recomputed from the rows)"),
            Some(Data::String(rendered.sha256.clone()))
        );
        let names: Vec<String> =
            (0..about.height()).filter_map(|r| about.get((r, 0)).map(|d| d.to_string())).collect();
        assert_eq!(value_of("criteria.dormant_after_days"), Some(Data::String("90".into())), "{names:?}");
        assert_eq!(value_of("sha256"), Some(Data::String(rendered.sha256.clone())), "the proof's own digest");
        assert_eq!(value_of("row_count"), Some(Data::String("3".into())));
    }
}

#[test]
fn a_rows_file_without_its_metadata_is_refused_by_the_proof_reader() {
    let dir = tempfile::tempdir().unwrap();
    let source = proof(dir.path(), Format::Csv);
    std::fs::remove_file(evidence_proof::sidecar_path(&source)).unwrap();
    let err = evidence_render::render_xlsx(&source, &dir.path().join("x.xlsx")).unwrap_err();
    assert!(err.to_string().contains("proof.json"), "{err}");
    assert!(!dir.path().join("x.xlsx").exists(), "nothing half-written is left");
}

#[test]
fn a_proof_whose_rows_changed_is_not_rendered() {
    let dir = tempfile::tempdir().unwrap();
    let source = proof(dir.path(), Format::Jsonl);
    let text = std::fs::read_to_string(&source).unwrap().replace("Zofia", "Zofie");
    std::fs::write(&source, text).unwrap();
    let out = dir.path().join("x.xlsx");
    let err = evidence_render::render_xlsx(&source, &out).unwrap_err();
    assert!(err.downcast_ref::<evidence_render::RowsChanged>().is_some(), "{err:#}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn a_device_is_written_in_place_never_replaced_and_a_link_stays_a_link() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let source = proof(dir.path(), Format::Json);
    // A named pipe stands for a device: the workbook streams into it and it stays a pipe.
    let fifo = dir.path().join("out.pipe");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    evidence_render::render_xlsx(&source, &fifo).unwrap();
    assert!(reader.join().unwrap().starts_with(b"PK"));
    assert!(std::fs::symlink_metadata(&fifo).unwrap().file_type().is_fifo());
    // A link to a regular file: the file it names is replaced, the link stays a link.
    let target = dir.path().join("real.xlsx");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.xlsx");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    evidence_render::render_xlsx(&source, &link).unwrap();
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read(&target).unwrap().starts_with(b"PK"));
}

#[test]
fn a_proof_past_excels_row_limit_is_refused_naming_the_formats_that_hold_more() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    let meta = ProofMeta {
        proof_type: "activity-log".into(),
        title: "Activity log".into(),
        collected_at: "2026-11-23T00:00:00Z".into(),
        platform: "US1".into(),
        api_url: "https://qualysapi.qualys.com".into(),
        criteria: vec![],
        key: Some(vec![]),
    };
    let mut w =
        ProofWriter::create(Some(&path), Format::Jsonl, &meta, &[field("n", FieldKind::Integer)]).unwrap();
    let rows = evidence_render::MAX_ROWS + 1;
    for chunk in (0..rows).collect::<Vec<_>>().chunks(65_536) {
        let page: Vec<Vec<Value>> = chunk.iter().map(|n| vec![Value::Integer(*n as i64)]).collect();
        w.write_rows(&page).unwrap();
    }
    w.finish().unwrap();
    let out = dir.path().join("log.xlsx");
    let e = evidence_render::render_xlsx(&path, &out).unwrap_err().to_string();
    assert!(e.contains(&format!("{rows} rows")) && e.contains("JSON Lines or CSV"), "{e}");
    assert!(!out.exists(), "nothing is written");
}
