//! Proofs an auditor can trust, as a user runs the CLI: keygen, collect --sign-key, verify
//! with its exit codes, and diff of two collects from a simulator whose data moved on by a
//! known set of changes.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qualys_simulator::data::{ticket, ticket_on, user, user_indices, user_role_changed};
use qualys_simulator::{Account, SimConfig, Simulator, Sizes};
use serde_json::Value;

const PASSWORD: &str = "proofs-Secret-5150";
const LOGIN: &str = "auditee";
const TICKETS: u64 = 1500;
const USERS: u64 = 12;
const DAY: u32 = 7;

async fn sim(day: u32) -> Simulator {
    let config = SimConfig {
        accounts: vec![Account::manager(LOGIN, PASSWORD)],
        sizes: Sizes { tickets: TICKETS, users: USERS, ..Sizes::default() },
        day,
        ..SimConfig::default()
    };
    Simulator::start(config).await.unwrap()
}

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(args)
        .env("QUALYS_USERNAME", LOGIN)
        .env("QUALYS_PASSWORD", PASSWORD)
        .output()
        .expect("runs")
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || cli(&args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Collects a proof type from `sim` into `out`, with more flags.
async fn collect(sim: &Simulator, proof_type: &str, format: &str, out: &Path, more: &[&str]) -> Output {
    let mut args: Vec<String> =
        ["collect", "--api-url", &sim.url(), "--allow-private-network", "--proof-type"]
            .iter()
            .map(|a| a.to_string())
            .collect();
    args.extend([proof_type.into(), "--format".into(), format.into(), "--output".into(), s(out)]);
    args.extend(more.iter().map(|a| a.to_string()));
    let o = run(args).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    o
}

fn keygen(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(name);
    let o = cli(&["keygen", "--out", &s(&key)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    (key.clone(), PathBuf::from(format!("{}.pub", key.display())))
}

fn verify(proof: &Path, public: Option<&Path>) -> Output {
    let mut args = vec!["verify".to_string(), s(proof)];
    if let Some(p) = public {
        args.extend(["--public-key".into(), s(p)]);
    }
    cli(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn edit(path: &Path, from: &str, to: &str) {
    let t = std::fs::read_to_string(path).unwrap();
    assert!(t.contains(from), "{from} in {}", path.display());
    std::fs::write(path, t.replacen(from, to, 1)).unwrap();
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "signing.key");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read_to_string(&key).unwrap().starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(std::fs::read_to_string(&public).unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let before = std::fs::read(&key).unwrap();
    let o = cli(&["keygen", "--out", &s(&key)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--force"), "{}", text(&o));
    assert_eq!(std::fs::read(&key).unwrap(), before, "the key is kept");

    // A signing key others can read is refused before anything is collected.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = cli(&["collect", "--proof-type", "users", "--output", "u.json", "--sign-key", &s(&key)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("chmod 600"), "{}", text(&o));
    // A signed JSON Lines proof needs a file for its sidecar.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = cli(&["collect", "--proof-type", "users", "--format", "jsonl", "--sign-key", &s(&key)]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--output"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_proof_verifies_and_a_changed_row_metadata_field_key_or_missing_signature_each_has_its_exit_code()
 {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "signing.key");
    let (_, other_public) = keygen(dir.path(), "other.key");
    for format in ["json", "jsonl", "csv"] {
        let signed = |name: &str| dir.path().join(format!("{name}.{format}"));
        let metadata_of = |p: &Path| {
            if format == "json" {
                p.to_path_buf()
            } else {
                PathBuf::from(format!("{}.proof.json", p.display()))
            }
        };
        let good = signed("good");
        let o = collect(&sim, "remediation-tickets", format, &good, &["--sign-key", &s(&key)]).await;
        assert!(text(&o).contains("signed by key"), "{}", text(&o));
        let o = verify(&good, Some(&public));
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        assert!(String::from_utf8_lossy(&o.stdout).contains("verified"), "{}", text(&o));

        // One ticket's state changed in the rows.
        let row = signed("row");
        std::fs::copy(&good, &row).unwrap();
        if format != "json" {
            std::fs::copy(metadata_of(&good), metadata_of(&row)).unwrap();
        }
        let from = if format == "csv" { ",OPEN," } else { "\"state\":\"OPEN\"" };
        let to = if format == "csv" { ",CLOSED," } else { "\"state\":\"CLOSED\"" };
        edit(&row, from, to);
        let o = verify(&row, Some(&public));
        assert_eq!(o.status.code(), Some(10), "{format}: {}", text(&o));
        assert!(text(&o).contains("rows changed"), "{}", text(&o));

        // One metadata field changed: the platform.
        let meta = signed("meta");
        std::fs::copy(&good, &meta).unwrap();
        if format != "json" {
            std::fs::copy(metadata_of(&good), metadata_of(&meta)).unwrap();
        }
        edit(&metadata_of(&meta), "\"platform\": \"US1\"", "\"platform\": \"EU1\"");
        let o = verify(&meta, Some(&public));
        assert_eq!(o.status.code(), Some(11), "{format}: {}", text(&o));
        assert!(text(&o).contains("metadata changed"), "{}", text(&o));

        let o = verify(&good, Some(&other_public));
        assert_eq!(o.status.code(), Some(12), "{format}: {}", text(&o));
        assert!(text(&o).contains("wrong key"), "{}", text(&o));

        let o = verify(&good, None);
        assert_eq!(o.status.code(), Some(14), "{format}: {}", text(&o));
        assert!(text(&o).contains("--public-key"), "{}", text(&o));

        let unsigned = signed("unsigned");
        collect(&sim, "remediation-tickets", format, &unsigned, &[]).await;
        let o = verify(&unsigned, Some(&public));
        assert_eq!(o.status.code(), Some(13), "{format}: {}", text(&o));
        assert!(text(&o).contains("unsigned"), "{}", text(&o));
    }
    // Neither the private key nor the password is in any output.
    let private = std::fs::read_to_string(&key).unwrap();
    let secret_line = private.lines().nth(1).unwrap().to_string();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let p = entry.unwrap().path();
        if p == key || p.extension().is_some_and(|e| e == "key") {
            continue;
        }
        let t = String::from_utf8_lossy(&std::fs::read(&p).unwrap()).into_owned();
        assert!(!t.contains(&secret_line) && !t.contains("PRIVATE KEY"), "private key in {}", p.display());
        assert!(!t.contains(PASSWORD), "password in {}", p.display());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_provenance_names_connector_account_role_criteria_applied_times_and_counts() {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.jsonl");
    collect(
        &sim,
        "remediation-tickets",
        "jsonl",
        &out,
        &["--criteria", "states=OPEN,RESOLVED", "--record-role"],
    )
    .await;
    let meta: Value =
        serde_json::from_slice(&std::fs::read(format!("{}.proof.json", out.display())).unwrap()).unwrap();
    let p = &meta["provenance"];
    assert_eq!(p["connector"]["name"], "qualys-connector");
    assert_eq!(p["connector"]["component_sha256"].as_str().unwrap().len(), 64);
    assert_eq!(p["account"]["login"], LOGIN);
    assert_eq!(
        (&p["account"]["role"], &p["account"]["role_source"]),
        (&Value::from("Manager"), &Value::from("connect"))
    );
    assert_eq!(meta["criteria"], serde_json::json!([{"name": "states", "value": "OPEN,RESOLVED"}]));
    assert_eq!(p["criteria_applied"][0], serde_json::json!({"name": "states", "value": "OPEN,RESOLVED"}));
    assert!(p["started_at"].as_str().unwrap() <= p["finished_at"].as_str().unwrap());
    assert!(
        p["pages"].as_u64().unwrap() >= 1 && p["requests"].as_u64().unwrap() >= p["pages"].as_u64().unwrap()
    );
    assert_eq!(
        meta["row_count"].as_u64().unwrap(),
        std::fs::read_to_string(&out).unwrap().lines().count() as u64
    );

    // Without --record-role, a users proof still knows the role: from the account's own row.
    let users = dir.path().join("users.json");
    collect(&sim, "users", "json", &users, &[]).await;
    let proof: Value = serde_json::from_slice(&std::fs::read(&users).unwrap()).unwrap();
    assert_eq!(proof["provenance"]["account"]["role_source"], "users-proof");
    assert_eq!(proof["provenance"]["account"]["role"], "Manager");
}

/// `diff --format json` of two proofs.
async fn diff_json(old: &Path, new: &Path) -> Value {
    let o = run(vec!["diff".into(), s(old), s(new), "--format".into(), "json".into()]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

fn keys(changes: &[Value], kind: &str, field: &str) -> BTreeSet<String> {
    changes.iter().filter(|c| c["change"] == kind).map(|c| c["key"][field].to_string()).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_diff_of_a_collect_a_week_later_reports_exactly_the_tickets_that_moved_and_the_users_that_came_went_or_changed_role()
 {
    let (last_week, today) = (sim(0).await, sim(DAY).await);
    let dir = tempfile::tempdir().unwrap();
    // Across formats: last week's proof in JSON, today's in CSV.
    let (old, new) = (dir.path().join("tickets-last-week.json"), dir.path().join("tickets-today.csv"));
    collect(&last_week, "remediation-tickets", "json", &old, &[]).await;
    collect(&today, "remediation-tickets", "csv", &new, &[]).await;
    let d = diff_json(&old, &new).await;
    assert_eq!(d["proof_type"], "remediation-tickets");
    let changes = d["changes"].as_array().unwrap();
    let mut expected = BTreeSet::new();
    for i in 0..TICKETS {
        let (before, after) = (ticket(42, i, TICKETS), ticket_on(42, i, TICKETS, DAY));
        if before.state != after.state {
            expected.insert(before.number.to_string());
            let c = changes.iter().find(|c| c["key"]["ticket_number"] == before.number).expect("reported");
            let state =
                c["fields"].as_array().unwrap().iter().find(|f| f["field"] == "state").expect("state");
            assert_eq!(
                (state["old"].as_str(), state["new"].as_str()),
                (Some(before.state), Some(after.state))
            );
        }
    }
    assert_eq!(expected.len(), 30, "the day's rule moves one ticket in 50");
    let changed = keys(changes, "changed", "ticket_number");
    assert!(
        changed.is_superset(&expected),
        "missing: {:?}",
        expected.difference(&changed).collect::<Vec<_>>()
    );
    // `overdue` is evaluated at the real time of each collect: a due time passing between the
    // two collects is a true change too, and the only other one allowed.
    for c in changes.iter().filter(|c| !expected.contains(&c["key"]["ticket_number"].to_string())) {
        let fields: Vec<_> = c["fields"].as_array().unwrap().iter().map(|f| f["field"].clone()).collect();
        assert_eq!(fields, [Value::from("overdue")], "unexpected change {c}");
    }
    assert_eq!((d["summary"]["added"].as_u64(), d["summary"]["removed"].as_u64()), (Some(0), Some(0)));

    let (old, new) = (dir.path().join("users-last-week.jsonl"), dir.path().join("users-today.json"));
    collect(&last_week, "users", "jsonl", &old, &[]).await;
    collect(&today, "users", "json", &new, &[]).await;
    let d = diff_json(&old, &new).await;
    let changes = d["changes"].as_array().unwrap();
    let login = |i: u64| Value::from(user(42, LOGIN, "Manager", "Unassigned", i).login).to_string();
    let now: BTreeSet<u64> = user_indices(USERS, DAY).collect();
    let removed: BTreeSet<String> = (0..USERS).filter(|i| !now.contains(i)).map(login).collect();
    let added: BTreeSet<String> = (USERS..USERS + u64::from(DAY)).map(login).collect();
    let role: BTreeSet<String> =
        (0..USERS).filter(|&i| now.contains(&i) && user_role_changed(i, DAY)).map(login).collect();
    assert!(!removed.is_empty() && !role.is_empty() && added.len() == DAY as usize);
    assert_eq!(keys(changes, "removed", "login"), removed);
    assert_eq!(keys(changes, "added", "login"), added);
    assert_eq!(keys(changes, "changed", "login"), role);
    for c in changes.iter().filter(|c| c["change"] == "changed") {
        assert_eq!(c["fields"].as_array().unwrap().len(), 1, "only the role: {c}");
        assert_eq!(c["fields"][0]["field"], "role");
    }

    // The table says the same for people.
    let o = run(vec!["diff".into(), s(&old), s(&new)]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        table.contains(&format!("{} added, {} removed, {} changed", added.len(), removed.len(), role.len())),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_diff_of_two_proof_types_is_refused_with_both_named() {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let (users, tickets) = (dir.path().join("users.json"), dir.path().join("tickets.csv"));
    collect(&sim, "users", "json", &users, &[]).await;
    collect(&sim, "remediation-tickets", "csv", &tickets, &[]).await;
    let o = run(vec!["diff".into(), s(&users), s(&tickets)]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("users proof") && said.contains("remediation-tickets proof"), "{said}");
    assert!(o.stdout.is_empty(), "nothing half-printed: {said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_diff_refuses_a_proof_whose_rows_no_longer_match_its_digest_before_reporting_any_change() {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.jsonl"), dir.path().join("new.json"));
    collect(&sim, "users", "jsonl", &old, &[]).await;
    collect(&sim, "users", "json", &new, &[]).await;
    edit(&new, "\"Manager\"", "\"Reader\"");
    let o = run(vec!["diff".into(), s(&old), s(&new)]).await;
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(text(&o).contains("changed after collection") && text(&o).contains("new.json"), "{}", text(&o));
    assert!(o.stdout.is_empty(), "no change reported: {}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_set_from_collect_all_verifies_whole_and_fails_when_a_proof_is_removed_swapped_or_the_manifest_edited()
 {
    let (sim, sim_a_week_later) = (sim(0).await, sim(DAY).await);
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "set.key");
    let set = dir.path().join("set");
    let o = run(vec![
        "collect".into(),
        "--api-url".into(),
        sim.url(),
        "--allow-private-network".into(),
        "--all".into(),
        "--format".into(),
        "jsonl".into(),
        "--out-dir".into(),
        s(&set),
        "--sign-key".into(),
        s(&key),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let manifest: Value = serde_json::from_slice(&std::fs::read(set.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["signature"]["scheme"], "evidence-manifest-v1");
    let o = verify(&set, Some(&public));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).lines().count(),
        1 + crate::proof_type_count(),
        "the manifest and every proof: {}",
        text(&o)
    );

    let sidecar = |p: &Path| PathBuf::from(format!("{}.proof.json", p.display()));
    // A proof removed from the set.
    let users = set.join("users.jsonl");
    let kept = std::fs::read(&users).unwrap();
    let kept_sidecar = dir.path().join("kept-sidecar");
    std::fs::copy(sidecar(&users), &kept_sidecar).unwrap();
    std::fs::remove_file(&users).unwrap();
    let o = verify(&set.join("manifest.json"), Some(&public));
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(text(&o).contains("users.jsonl: missing"), "{}", text(&o));
    // Swapped for another signed proof of the same type (an older collect).
    let other = dir.path().join("other-users.jsonl");
    collect(&sim_a_week_later, "users", "jsonl", &other, &["--sign-key", &s(&key)]).await;
    std::fs::copy(&other, &users).unwrap();
    std::fs::copy(sidecar(&other), sidecar(&users)).unwrap();
    let o = verify(&set, Some(&public));
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    std::fs::write(&users, &kept).unwrap();
    let o = verify(&set, Some(&public));
    assert_eq!(o.status.code(), Some(11), "the sidecar is still the other proof's: {}", text(&o));
    std::fs::copy(&kept_sidecar, sidecar(&users)).unwrap();
    assert_eq!(verify(&set, Some(&public)).status.code(), Some(0), "restored");
    // The manifest edited to drop the proof: its signature no longer holds.
    let mut edited = manifest.clone();
    edited["proofs"].as_array_mut().unwrap().retain(|p| p["proof_type"] != "users");
    std::fs::write(set.join("manifest.json"), serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
    let o = verify(&set, Some(&public));
    assert_eq!(o.status.code(), Some(11), "{}", text(&o));
    assert!(text(&o).contains("signature invalid"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_diff_of_two_activity_logs_a_day_apart_counts_identical_lines_as_the_events_they_are() {
    let (yesterday, today) = (sim(0).await, sim(1).await);
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("activity-yesterday.jsonl"), dir.path().join("activity-today.csv"));
    collect(&yesterday, "activity-log", "jsonl", &old, &[]).await;
    collect(&today, "activity-log", "csv", &new, &[]).await;
    // The log has no key: identical lines are distinct events, kept and compared as a multiset.
    let lines = std::fs::read_to_string(&old).unwrap();
    let distinct: BTreeSet<&str> = lines.lines().collect();
    assert!(distinct.len() < lines.lines().count(), "the simulator's log holds identical lines");
    let d = diff_json(&old, &new).await;
    assert_eq!(d["proof_type"], "activity-log");
    let changes = d["changes"].as_array().unwrap();
    let count = |kind: &str| changes.iter().filter(|c| c["change"] == kind).count();
    // A day adds 40 entries at the top; the simulator's log keeps its size, so the 40 oldest
    // leave it.
    assert_eq!((count("added"), count("removed"), count("changed")), (40, 40, 0), "{d:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn render_turns_a_collected_proof_into_an_excel_workbook_and_refuses_a_changed_one() {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let proof = dir.path().join("users.jsonl");
    collect(&sim, "users", "jsonl", &proof, &[]).await;
    let out = dir.path().join("users.xlsx");
    let o =
        run(vec!["render".into(), s(&proof), "--format".into(), "xlsx".into(), "--output".into(), s(&out)])
            .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"PK"), "an Excel file is a zip");
    assert!(
        text(&o).contains(&format!("{USERS} rows")) || text(&o).contains("rows rendered"),
        "{}",
        text(&o)
    );

    let changed = std::fs::read_to_string(&proof).unwrap().replacen("Manager", "Reader", 1);
    std::fs::write(&proof, changed).unwrap();
    let again = dir.path().join("changed.xlsx");
    let o =
        run(vec!["render".into(), s(&proof), "--format".into(), "xlsx".into(), "--output".into(), s(&again)])
            .await;
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(!again.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_as_pdf_writes_a_signed_pdf_carrying_its_proof_that_verifies_until_one_byte_changes() {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "pdf.key");
    let pdf = dir.path().join("tickets.pdf");
    collect(&sim, "remediation-tickets", "pdf", &pdf, &["--sign-key", &s(&key)]).await;
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"));
    assert!(dir.path().join("tickets.pdf.proof.json").is_file(), "the sidecar is beside it");
    assert!(!dir.path().join("tickets.pdf.json").exists(), "the JSON proof is inside the PDF, not beside it");
    let o = verify(&pdf, Some(&public));
    assert_eq!(o.status.code(), Some(0), "the PDF and its attached proof, both signed: {}", text(&o));
    assert!(text(&o).contains(&format!("{TICKETS} rows match")), "{}", text(&o));
    // The attachment is a proof `verify` accepts on its own, signed by the same key.
    let saved = dir.path().join("attached.json");
    let o = Command::new("pdfdetach").args(["-save", "1", "-o", &s(&saved), &s(&pdf)]).output().unwrap();
    assert!(o.status.success());
    assert_eq!(verify(&saved, Some(&public)).status.code(), Some(0));

    let mut bytes = std::fs::read(&pdf).unwrap();
    let at = bytes.len() / 3;
    bytes[at] = bytes[at].wrapping_add(1);
    std::fs::write(&pdf, &bytes).unwrap();
    let o = verify(&pdf, Some(&public));
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(text(&o).contains("document changed"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_as_xlsx_keeps_the_json_proof_beside_the_workbook_and_a_set_lists_its_documents() {
    let sim = sim(0).await;
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path(), "doc.key");
    let book = dir.path().join("users.xlsx");
    collect(&sim, "users", "xlsx", &book, &["--sign-key", &s(&key)]).await;
    assert!(std::fs::read(&book).unwrap().starts_with(b"PK"));
    let proof = dir.path().join("users.xlsx.json");
    assert_eq!(verify(&proof, Some(&public)).status.code(), Some(0), "the proof it shows stays beside it");
    let o = verify(&book, Some(&public));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // A set as PDFs: every JSON proof and its PDF, both in the signed manifest.
    let set = dir.path().join("set");
    let o = run(vec![
        "collect".into(),
        "--api-url".into(),
        sim.url(),
        "--allow-private-network".into(),
        "--all".into(),
        "--format".into(),
        "pdf".into(),
        "--out-dir".into(),
        s(&set),
        "--sign-key".into(),
        s(&key),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let manifest: Value = serde_json::from_slice(&std::fs::read(set.join("manifest.json")).unwrap()).unwrap();
    for p in manifest["proofs"].as_array().unwrap() {
        let id = p["proof_type"].as_str().unwrap();
        assert_eq!(p["documents"][0]["file"], format!("{id}.pdf"), "{p:#}");
        assert_eq!(verify(&set.join(format!("{id}.pdf")), Some(&public)).status.code(), Some(0), "{id}.pdf");
    }
    assert_eq!(verify(&set, Some(&public)).status.code(), Some(0));
    std::fs::write(set.join("users.pdf"), b"%PDF-1.7 not the one").unwrap();
    let o = verify(&set, Some(&public));
    assert_eq!(o.status.code(), Some(10), "{}", text(&o));
    assert!(text(&o).contains("document changed: users.pdf"), "{}", text(&o));
}
