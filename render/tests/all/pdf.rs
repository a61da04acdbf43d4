//! PDFs read back with independent tools: poppler's `pdftotext` and `pdfdetach`, and `qpdf`.

use std::path::{Path, PathBuf};
use std::process::Command;

use evidence_proof::{Field, FieldKind, Format, ProofMeta, ProofWriter, Value};
use evidence_render::document::{DocumentKind, verify_document, write_sidecar};
use evidence_render::{FontSources, NoFont, PdfOptions, TooManyPages, render_pdf};

fn field(name: &str, label: &str, kind: FieldKind) -> Field {
    Field { name: name.into(), label: label.into(), kind, description: String::new() }
}

/// People whose names need four scripts, one of them right to left.
const NAMES: [(&str, &str); 5] = [
    ("zofia", "Zofia Łukasiewicz-Żółć"),
    ("alexandros", "Αλέξανδρος Παπαδόπουλος"),
    ("yamada", "山田太郎"),
    ("mohammed", "محمد عبد الله"),
    ("olga", "Ольга Иванова"),
];

fn meta(proof_type: &str, title: &str) -> ProofMeta {
    ProofMeta {
        proof_type: proof_type.into(),
        title: title.into(),
        collected_at: "2026-11-23T00:00:00Z".into(),
        platform: "US1".into(),
        api_url: "https://qualysapi.qualys.com".into(),
        criteria: vec![("dormant_after_days".into(), "90".into())],
        key: Some(vec![vec!["login".into()]]),
    }
}

/// A users proof of [`NAMES`] (and `extra` more plain rows), as JSON in `dir`.
fn users(dir: &Path, extra: usize) -> PathBuf {
    let fields = vec![
        field("login", "Login", FieldKind::Text),
        field("name", "Name", FieldKind::Text),
        field("role", "Role", FieldKind::Text),
        field("dormant", "Dormant", FieldKind::Boolean),
        field("last_login_date", "Last login", FieldKind::Timestamp),
        field("asset_groups", "Asset groups", FieldKind::TextList),
    ];
    let path = dir.join("users.json");
    let mut w =
        ProofWriter::create(Some(&path), Format::Json, &meta("users", "List of Users"), &fields).unwrap();
    let mut rows: Vec<Vec<Value>> = NAMES
        .iter()
        .enumerate()
        .map(|(i, (login, name))| {
            vec![
                Value::Text((*login).into()),
                Value::Text((*name).into()),
                Value::Text(if i % 2 == 0 { "Manager" } else { "Reader" }.into()),
                Value::Boolean(i == 1),
                Value::Timestamp(format!("2026-11-0{}T12:30:45Z", i + 1)),
                Value::TextList(vec!["PCI".into(), "DMZ".into()]),
            ]
        })
        .collect();
    for i in 0..extra {
        rows.push(vec![
            Value::Text(format!("user{i:05}")),
            Value::Text(format!("Plain User {i}")),
            Value::Text("Reader".into()),
            Value::Boolean(i % 3 == 0),
            Value::Null,
            Value::TextList(vec![]),
        ]);
    }
    w.write_rows(&rows).unwrap();
    w.finish().unwrap();
    path
}

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name).args(args).output().unwrap_or_else(|e| {
        panic!("{name} is needed by this test (Debian: poppler-utils or qpdf; .ci/deps installs them): {e}")
    })
}

fn text_of(pdf: &Path) -> String {
    let out = tool("pdftotext", &[pdf.to_str().unwrap(), "-"]);
    assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn pdftotext_finds_every_row_and_every_name_in_latin_greek_cyrillic_japanese_and_arabic() {
    let dir = tempfile::tempdir().unwrap();
    let proof = users(dir.path(), 0);
    let out = dir.path().join("users.pdf");
    let rendered = render_pdf(&proof, &out, &PdfOptions::default()).unwrap();
    assert_eq!(rendered.rows, NAMES.len() as u64);
    let text = text_of(&out);
    for (login, name) in NAMES {
        assert!(text.contains(login), "{login} is in the PDF's text");
        // Right-to-left text is drawn in visual order; pdftotext gives it back in logical order.
        assert!(text.contains(name), "{name} is in the PDF's text:\n{text}");
    }
    // The first page: provenance, the digest, the criteria; the pages numbered N of M.
    for expected in ["List of Users", "dormant_after_days = 90", &rendered.sha256, "unsigned", "Page 1 of "] {
        assert!(text.contains(expected), "{expected} is on the first page");
    }
    let pages = rendered.pages.unwrap();
    assert!(text.contains(&format!("Page {pages} of {pages}")));
    // The summary declared for users: by role, dormant marked.
    assert!(text.contains("Users by role, dormant marked"));
}

#[test]
fn qpdf_finds_no_error_and_the_attachment_is_the_json_proof_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let proof = users(dir.path(), 300);
    let out = dir.path().join("users.pdf");
    render_pdf(&proof, &out, &PdfOptions::default()).unwrap();
    let check = tool("qpdf", &["--check", s(&out)]);
    assert!(check.status.success(), "qpdf --check: {}", String::from_utf8_lossy(&check.stdout));
    let list = tool("pdfdetach", &["-list", s(&out)]);
    assert!(
        String::from_utf8_lossy(&list.stdout).contains("1: users.json"),
        "the proof is listed as attached"
    );
    let saved = dir.path().join("saved.json");
    assert!(tool("pdfdetach", &["-save", "1", "-o", s(&saved), s(&out)]).status.success());
    assert_eq!(std::fs::read(&saved).unwrap(), std::fs::read(&proof).unwrap());
    // The archival profile is declared in the document's XMP metadata.
    let bytes = std::fs::read(&out).unwrap();
    let xmp = String::from_utf8_lossy(&bytes);
    assert!(
        xmp.contains("<pdfaid:part>3</pdfaid:part>")
            && xmp.contains("<pdfaid:conformance>U</pdfaid:conformance>")
    );
}

#[test]
fn verify_checks_the_pdf_its_signed_sidecar_and_attachment_and_fails_after_one_byte_changes() {
    let dir = tempfile::tempdir().unwrap();
    let proof = users(dir.path(), 20);
    let out = dir.path().join("users.pdf");
    let r = render_pdf(&proof, &out, &PdfOptions::default()).unwrap();
    let key = evidence_proof::signature::generate().unwrap();
    write_sidecar(&out, DocumentKind::Pdf, r.metadata.as_ref(), &r.attachments, Some(&key)).unwrap();
    let trusted = key.verifying_key();
    let v = verify_document(&out, Some(&trusted)).unwrap();
    // The document is signed; the attached proof itself is not (the sidecar names its digest).
    assert_eq!(v.verdict, evidence_proof::Verdict::Unsigned, "{}", v.reason);
    assert!(v.reason.contains("signed by key"), "{}", v.reason);
    assert_eq!(v.rows, 25);
    let other = evidence_proof::signature::generate().unwrap().verifying_key();
    assert_eq!(verify_document(&out, Some(&other)).unwrap().verdict, evidence_proof::Verdict::WrongKey);

    let mut bytes = std::fs::read(&out).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&out, &bytes).unwrap();
    let v = verify_document(&out, Some(&trusted)).unwrap();
    assert_eq!(v.verdict, evidence_proof::Verdict::RowsChanged, "{}", v.reason);
    assert!(v.reason.contains("document changed"), "{}", v.reason);
}

#[test]
fn a_character_no_font_covers_fails_naming_its_script_and_the_package_to_install() {
    let dir = tempfile::tempdir().unwrap();
    let proof = users(dir.path(), 0);
    let out = dir.path().join("users.pdf");
    // Only the embedded font: Japanese has none.
    let options =
        PdfOptions { fonts: FontSources { system: false, folders: Vec::new() }, ..Default::default() };
    let e = render_pdf(&proof, &out, &options).unwrap_err();
    let missing = e.downcast_ref::<NoFont>().expect("a missing font is its own error");
    assert_eq!(missing.script, "Han");
    assert_eq!(missing.package, "fonts-noto-cjk");
    let message = format!("{e:#}");
    assert!(
        message.contains("Han script") && message.contains("apt-get install fonts-noto-cjk"),
        "{message}"
    );
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn rows_past_the_page_bound_are_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let proof = users(dir.path(), 2_000);
    let out = dir.path().join("users.pdf");
    let options = PdfOptions { max_pages: 10, ..Default::default() };
    let e = render_pdf(&proof, &out, &options).unwrap_err();
    assert!(e.downcast_ref::<TooManyPages>().is_some(), "{e:#}");
    assert!(format!("{e:#}").contains("xlsx"), "the refusal names a format that holds more");
    assert!(!out.exists());
}

#[test]
fn a_proof_whose_rows_changed_is_not_rendered_as_a_pdf() {
    let dir = tempfile::tempdir().unwrap();
    let proof = users(dir.path(), 0);
    let text = std::fs::read_to_string(&proof).unwrap().replace("Zofia", "Zosia");
    std::fs::write(&proof, text).unwrap();
    let out = dir.path().join("users.pdf");
    let e = render_pdf(&proof, &out, &PdfOptions::default()).unwrap_err();
    assert!(e.downcast_ref::<evidence_render::RowsChanged>().is_some(), "{e:#}");
    assert!(!out.exists());
}

#[test]
fn rows_too_wide_for_a_page_are_laid_out_one_block_each_with_long_values_cut_and_said_so() {
    let dir = tempfile::tempdir().unwrap();
    let fields: Vec<Field> =
        (0..30).map(|i| field(&format!("field_{i:02}"), &format!("Field {i}"), FieldKind::Text)).collect();
    let path = dir.path().join("wide.json");
    let mut w = ProofWriter::create(Some(&path), Format::Json, &meta("wide", "Wide rows"), &fields).unwrap();
    let long = "word ".repeat(2_000);
    let rows: Vec<Vec<Value>> = (0..3)
        .map(|r| {
            (0..30)
                .map(|c| Value::Text(if c == 29 { long.clone() } else { format!("r{r}c{c}-value") }))
                .collect()
        })
        .collect();
    w.write_rows(&rows).unwrap();
    w.finish().unwrap();
    let out = dir.path().join("wide.pdf");
    render_pdf(&path, &out, &PdfOptions::default()).unwrap();
    let text = text_of(&out);
    assert!(text.contains("one block each"), "the block layout says so");
    for r in 0..3 {
        for c in 0..29 {
            assert!(text.contains(&format!("r{r}c{c}-value")), "row {r} field {c} is shown");
        }
    }
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("10000 characters in all: the whole value is in the attached proof"));
}
