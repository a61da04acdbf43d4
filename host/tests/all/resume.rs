//! Long collections survive interruption: a collect to a file stopped by a server that goes
//! away, or by Ctrl-C, keeps its rows and a checkpoint, and `--resume` ends with exactly the
//! file and digest an uninterrupted run writes, in every format and for `--all`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use qualys_simulator::{Account, Fault, FaultRule, SimConfig, Simulator, Sizes};

const PASSWORD: &str = "resume-Secret-4242";
const TICKETS: &str = "/msp/ticket_list.php";

fn config(port: u16) -> SimConfig {
    SimConfig {
        accounts: vec![Account::manager("resumer", PASSWORD)],
        sizes: Sizes { tickets: 4500, hosts: 300, agents: 40, ..Sizes::default() },
        port,
        ..SimConfig::default()
    }
}

fn cli(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_connector-host"));
    c.args(args)
        .arg("--allow-private-network")
        .env("QUALYS_USERNAME", "resumer")
        .env("QUALYS_PASSWORD", PASSWORD);
    c
}

async fn run(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || cli(&args).output().expect("runs")).await.unwrap()
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn tickets_args(url: &str, format: &str, out: &Path) -> Vec<String> {
    ["collect", "--api-url", url, "--proof-type", "remediation-tickets", "--format", format, "--output"]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
}

/// `collect --all` in CSV into `out`.
fn all(url: &str, out: &Path) -> Vec<String> {
    ["collect", "--api-url", url, "--all", "--format", "csv", "--out-dir"]
        .iter()
        .map(|s| s.to_string())
        .chain([out.display().to_string()])
        .collect()
}

fn with(mut args: Vec<String>, more: &[&str]) -> Vec<String> {
    args.extend(more.iter().map(|s| s.to_string()));
    args
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", path.display()))
}

/// The file's text; in a JSON proof, what differs between two runs by design is blanked:
/// when its run started and finished, the simulator's port, and the requests sent (a resumed
/// run also counts the failed attempts before its interruption). Pages and everything else
/// must be equal.
fn comparable(path: &Path) -> String {
    let mut text = std::fs::read_to_string(path).unwrap();
    for key in ["\"collected_at\": \"", "\"api_url\": \"", "\"started_at\": \"", "\"finished_at\": \""] {
        if let Some(i) = text.find(key) {
            let start = i + key.len();
            let end = start + text[start..].find('"').unwrap();
            text.replace_range(start..end, "-");
        }
    }
    // The provenance's record of the resumption exists only in the resumed file.
    if let Some(i) = text.find(",\n    \"resumed\": [") {
        let end = i + text[i..].find("\n    ]").unwrap() + "\n    ]".len();
        text.replace_range(i..end, "");
    }
    if let Some(i) = text.find("\"requests\": ") {
        let start = i + "\"requests\": ".len();
        let end = start + text[start..].find(|c: char| !c.is_ascii_digit()).unwrap();
        text.replace_range(start..end, "-");
    }
    text
}

/// Whether two proofs (as `comparable` leaves them) are the same but for rows whose `overdue`
/// turned while the two were collected: it is evaluated when a row is collected, so a ticket
/// falling due between the uninterrupted run and the resumed pages differs there, and only there.
fn same_but_for_what_fell_due(resumed: &str, clean: &str, window: (i64, i64)) -> bool {
    let (a, b): (Vec<&str>, Vec<&str>) = (resumed.lines().collect(), clean.lines().collect());
    a.len() == b.len()
        && a.iter().zip(&b).all(|(x, y)| {
            x == y
                || (x.replace("true", "false") == y.replace("true", "false")
                    && timestamps(x).any(|t| (window.0..=window.1).contains(&t)))
        })
}

/// The RFC 3339 UTC timestamps in a line, as epoch seconds.
fn timestamps(line: &str) -> impl Iterator<Item = i64> + '_ {
    let b = line.as_bytes();
    (0..b.len().saturating_sub(19)).filter_map(move |i| {
        let t = line.get(i..i + 20)?;
        let shaped = t.as_bytes()[10] == b'T'
            && t.as_bytes()[19] == b'Z'
            && t.as_bytes()[..4].iter().all(u8::is_ascii_digit);
        shaped
            .then(|| time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok())
            .flatten()
            .map(|d| d.unix_timestamp())
    })
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A simulator on `port` again, once the stopped one has let go of it.
async fn restart(port: u16) -> Simulator {
    let started = Instant::now();
    loop {
        match Simulator::start(config(port)).await {
            Ok(sim) => return sim,
            Err(e) if started.elapsed() < Duration::from_secs(10) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("port {port} stays busy: {e}"),
        }
    }
}

/// Stops `sim` once it has answered `pages` ticket pages, while the CLI is collecting.
async fn stop_after(sim: Simulator, pages: usize) {
    let started = Instant::now();
    while sim.requests().iter().filter(|r| r.path == TICKETS && r.status == 200).count() < pages {
        assert!(started.elapsed() < Duration::from_secs(60), "the CLI never got to page {pages}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(sim);
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_server_that_stops_mid_collect_then_resume_ends_with_the_uninterrupted_file_in_every_format()
{
    for format in ["json", "jsonl", "csv"] {
        let dir = tempfile::tempdir().unwrap();
        let clean_sim = Simulator::start(config(0)).await.unwrap();
        let window_start = unix_now() - 1;
        let clean = dir.path().join(format!("clean.{format}"));
        let o = run(tickets_args(&clean_sim.url(), format, &clean)).await;
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));

        let sim = Simulator::start(config(0)).await.unwrap();
        let (url, port) = (sim.url(), sim.addr().port());
        let out = dir.path().join(format!("tickets.{format}"));
        let cli = tokio::spawn(run(tickets_args(&url, format, &out)));
        stop_after(sim, 2).await;
        let o = cli.await.unwrap();
        assert_eq!(o.status.code(), Some(6), "{format}: the server went away: {}", text(&o));
        let said = text(&o);
        assert!(said.contains("--resume") && said.contains("are kept in"), "{format}: {said}");
        assert!(
            !said.contains("StreamError") && !said.contains("ErrorCode"),
            "{format}: words, not debug names: {said}"
        );
        assert!(!out.exists(), "{format}: no proof under the final name");
        assert!(sibling(&out, ".partial").exists() && sibling(&out, ".checkpoint").exists());
        let checkpoint = std::fs::read_to_string(sibling(&out, ".checkpoint")).unwrap();
        assert!(!checkpoint.contains(PASSWORD), "no credentials in the checkpoint");

        let restarted = restart(port).await;
        let o = run(with(tickets_args(&url, format, &out), &["--resume"])).await;
        assert_eq!(o.status.code(), Some(0), "{format}: {}", text(&o));
        assert!(text(&o).contains("resumed after page"), "{}", text(&o));
        let window = (window_start, unix_now() + 1);
        let (resumed, uninterrupted) = (comparable(&out), comparable(&clean));
        assert!(
            resumed == uninterrupted || same_but_for_what_fell_due(&resumed, &uninterrupted, window),
            "{format}: the same file as an uninterrupted run"
        );
        assert!(!sibling(&out, ".partial").exists() && !sibling(&out, ".checkpoint").exists());
        let resumed_pages = restarted.requests().iter().filter(|r| r.path == TICKETS).count();
        assert!(resumed_pages < 5, "{format}: pages already kept were not fetched again ({resumed_pages})");
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn given_ctrl_c_mid_collect_then_the_checkpoint_is_kept_and_resume_completes_the_same_proof() {
    let dir = tempfile::tempdir().unwrap();
    let clean_sim = Simulator::start(config(0)).await.unwrap();
    let clean = dir.path().join("clean.jsonl");
    assert_eq!(run(tickets_args(&clean_sim.url(), "jsonl", &clean)).await.status.code(), Some(0));

    let sim = Simulator::start(config(0)).await.unwrap();
    // From the third page on the server takes its time: the CLI is waiting when Ctrl-C comes.
    sim.add_fault(FaultRule { from: 2, ..FaultRule::always(TICKETS, Fault::Hang(60_000)) });
    let (url, port) = (sim.url(), sim.addr().port());
    let out = dir.path().join("tickets.jsonl");
    let child = cli(&tickets_args(&url, "jsonl", &out))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Two pages answered (a request is logged once answered); the third is then pending.
    let started = Instant::now();
    while sim.requests().iter().filter(|r| r.path == TICKETS).count() < 2 {
        assert!(started.elapsed() < Duration::from_secs(60), "the CLI never got two pages");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    assert!(text(&o).contains("--resume"), "{}", text(&o));
    let checkpoint: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sibling(&out, ".checkpoint")).unwrap()).unwrap();
    assert_eq!(checkpoint["pages"], 2);
    drop(sim);

    let _restarted = restart(port).await;
    let o = run(with(tickets_args(&url, "jsonl", &out), &["--resume"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&clean).unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_collect_all_stopped_in_a_proof_then_resume_keeps_the_complete_ones_and_the_manifest_matches() {
    let dir = tempfile::tempdir().unwrap();
    let clean_sim = Simulator::start(config(0)).await.unwrap();
    let clean = dir.path().join("clean");
    assert_eq!(run(all(&clean_sim.url(), &clean)).await.status.code(), Some(0));

    let sim = Simulator::start(config(0)).await.unwrap();
    let (url, port) = (sim.url(), sim.addr().port());
    let out = dir.path().join("proofs");
    let cli = tokio::spawn(run(all(&url, &out)));
    stop_after(sim, 2).await;
    let o = cli.await.unwrap();
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(out.join("users.csv").exists(), "proof types before the interrupted one are complete");
    assert!(!out.join("manifest.json").exists());

    let restarted = restart(port).await;
    let o = run(with(all(&url, &out), &["--resume"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("complete in an earlier run, checked and kept"), "{}", text(&o));
    // Tickets were interrupted; vulnerabilities come after them in the registry's order.
    let after = [
        "/api/5.0/fo/asset/host/vm/detection/",
        "/api/3.0/fo/knowledge_base/vuln/",
        "/api/2.0/fo/activity_log/",
        "/api/2.0/fo/compliance/policy/",
        "/api/2.0/fo/compliance/posture/info/",
    ];
    assert!(
        restarted.requests().iter().all(|r| r.path == TICKETS || after.contains(&r.path.as_str())),
        "only the interrupted proof and the ones after it are collected"
    );
    let manifest = |d: &Path| -> Vec<(String, String)> {
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(d.join("manifest.json")).unwrap()).unwrap();
        let mut digests: Vec<(String, String)> = m["proofs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["proof_type"].as_str().unwrap().to_string(),
                    p["sha256_rows"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        digests.sort();
        digests
    };
    assert_eq!(manifest(&out), manifest(&clean));
    for id in ["assets", "users", "vm-scans", "pc-scans", "remediation-tickets"] {
        let name = format!("{id}.csv");
        assert_eq!(
            std::fs::read(out.join(&name)).unwrap(),
            std::fs::read(clean.join(&name)).unwrap(),
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resume_with_other_criteria_or_without_resume_is_refused_and_the_checkpoint_stays() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(config(0)).await.unwrap();
    sim.add_fault(FaultRule { from: 2, ..FaultRule::always(TICKETS, Fault::Status(400)) });
    let url = sim.url();
    let out = dir.path().join("tickets.json");
    let o = run(tickets_args(&url, "json", &out)).await;
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(sibling(&out, ".checkpoint").exists());

    let o = run(with(tickets_args(&url, "json", &out), &["--resume", "--criteria", "states=OPEN"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("criteria"), "{}", text(&o));
    let o = run(with(tickets_args(&url, "csv", &out), &["--resume"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("format"), "{}", text(&o));
    let o = run(tickets_args(&url, "json", &out)).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--resume"), "{}", text(&o));
    assert!(sibling(&out, ".checkpoint").exists() && sibling(&out, ".partial").exists(), "nothing was lost");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_collect_that_fails_on_its_first_page_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(config(0)).await.unwrap();
    sim.add_fault(FaultRule::always(TICKETS, Fault::Status(400)));
    let out = dir.path().join("tickets.jsonl");
    let o = run(tickets_args(&sim.url(), "jsonl", &out)).await;
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A collect of tickets to `out` that fails on its third page (400), leaving a checkpoint after
/// two pages; `more` are extra flags (`--sign-key KEY`).
async fn interrupted(sim: &Simulator, format: &str, out: &Path, more: &[&str]) {
    sim.add_fault(FaultRule { from: 2, ..FaultRule::always(TICKETS, Fault::Status(400)) });
    let o = run(with(tickets_args(&sim.url(), format, out), more)).await;
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    assert!(sibling(out, ".checkpoint").exists());
    sim.clear_faults();
}

/// The CLI for commands that reach no server (keygen, verify).
fn offline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_connector-host")).args(args).output().expect("runs")
}

fn keygen(dir: &Path) -> (String, String) {
    let key = dir.join("signing.key");
    let o = offline(&["keygen", "--out", &key.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    (key.display().to_string(), format!("{}.pub", key.display()))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn write_json(path: &Path, value: &serde_json::Value) {
    std::fs::write(path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
}

/// Cuts the partial file's last `n` JSON Lines rows; returns (bytes, sha256) of what is left.
fn cut_rows(partial: &Path, n: usize) -> (u64, String) {
    use sha2::Digest as _;
    let text = std::fs::read_to_string(partial).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let kept = lines[..lines.len() - n].iter().map(|l| format!("{l}\n")).collect::<String>();
    std::fs::write(partial, &kept).unwrap();
    (kept.len() as u64, hex::encode(sha2::Sha256::digest(kept.as_bytes())))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_resume_refuses_a_checkpoint_whose_cursor_counts_or_partial_file_were_changed() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(config(0)).await.unwrap();
    let (key, _) = keygen(dir.path());
    let out = dir.path().join("tickets.jsonl");
    interrupted(&sim, "jsonl", &out, &["--sign-key", &key]).await;
    let cp_path = sibling(&out, ".checkpoint");
    let original = read_json(&cp_path);
    assert_eq!(original["signature"]["scheme"], "evidence-checkpoint-v1", "the checkpoint is signed");
    let partial = sibling(&out, ".partial");
    let partial_bytes = std::fs::read(&partial).unwrap();

    type Tamper<'a> = Box<dyn Fn(&mut serde_json::Value) + 'a>;
    let tamperings: Vec<(&str, Tamper)> = vec![
        ("cursor moved", Box::new(|cp| cp["next_cursor"] = original["provenance"]["started_at"].clone())),
        ("pages", Box::new(|cp| cp["pages"] = 1.into())),
        ("role", Box::new(|cp| cp["provenance"]["account"]["role"] = "Manager".into())),
        ("criteria applied", Box::new(|cp| cp["provenance"]["criteria_applied"] = serde_json::json!([]))),
        ("collected at", Box::new(|cp| cp["collected_at"] = "2020-01-01T00:00:00Z".into())),
        ("warnings", Box::new(|cp| cp["writer"]["warnings"] = serde_json::json!([["x", "forged"]]))),
    ];
    for (what, tamper) in &tamperings {
        let mut cp = original.clone();
        tamper(&mut cp);
        write_json(&cp_path, &cp);
        let o = run(with(tickets_args(&sim.url(), "jsonl", &out), &["--resume", "--sign-key", &key])).await;
        assert_eq!(o.status.code(), Some(2), "{what}: {}", text(&o));
        assert!(text(&o).contains("signature does not hold"), "{what}: {}", text(&o));
        assert!(!out.exists(), "{what}: no proof");
    }

    // Rows cut from the partial file, and the checkpoint's file digest, length and count fixed.
    let (bytes, sha) = cut_rows(&partial, 100);
    let mut cp = original.clone();
    cp["writer"]["bytes"] = bytes.into();
    cp["writer"]["file_sha256"] = sha.into();
    cp["writer"]["rows"] = (original["writer"]["rows"].as_u64().unwrap() - 100).into();
    write_json(&cp_path, &cp);
    let o = run(with(tickets_args(&sim.url(), "jsonl", &out), &["--resume", "--sign-key", &key])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("signature does not hold"), "{}", text(&o));

    // Signed by another key: refused as well.
    std::fs::write(&partial, &partial_bytes).unwrap();
    write_json(&cp_path, &original);
    let other = tempfile::tempdir().unwrap();
    let (other_key, _) = keygen(other.path());
    let o = run(with(tickets_args(&sim.url(), "jsonl", &out), &["--resume", "--sign-key", &other_key])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("signature does not hold"), "{}", text(&o));
    assert!(sibling(&out, ".checkpoint").exists() && partial.exists(), "a refused resume keeps both");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signed_resume_refuses_a_checkpoint_written_without_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(config(0)).await.unwrap();
    let (key, _) = keygen(dir.path());
    let out = dir.path().join("tickets.json");
    interrupted(&sim, "json", &out, &[]).await;
    let o = run(with(tickets_args(&sim.url(), "json", &out), &["--resume", "--sign-key", &key])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("the checkpoint is not signed"), "{}", text(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_resume_refuses_rows_cut_from_the_partial_file_even_with_the_file_digest_and_count_fixed()
{
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(config(0)).await.unwrap();
    let out = dir.path().join("tickets.jsonl");
    interrupted(&sim, "jsonl", &out, &[]).await;
    let cp_path = sibling(&out, ".checkpoint");
    let original = read_json(&cp_path);
    let (bytes, sha) = cut_rows(&sibling(&out, ".partial"), 100);
    let mut cp = original.clone();
    cp["writer"]["bytes"] = bytes.into();
    cp["writer"]["file_sha256"] = sha.into();
    cp["writer"]["rows"] = (original["writer"]["rows"].as_u64().unwrap() - 100).into();
    write_json(&cp_path, &cp);
    let o = run(with(tickets_args(&sim.url(), "jsonl", &out), &["--resume"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("changed since its checkpoint"),
        "the last row no longer matches: {}",
        text(&o)
    );
    assert!(!out.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_proof_records_when_it_resumed_how_many_rows_came_from_disk_and_who_vouched_for_the_checkpoint()
 {
    let dir = tempfile::tempdir().unwrap();
    let (key, public) = keygen(dir.path());
    for (name, signing) in [("signed.json", true), ("unsigned.json", false)] {
        let sim = Simulator::start(config(0)).await.unwrap();
        let out = dir.path().join(name);
        let flags: &[&str] = if signing { &["--sign-key", &key] } else { &[] };
        interrupted(&sim, "json", &out, flags).await;
        let rows_before = read_json(&sibling(&out, ".checkpoint"))["writer"]["rows"].as_u64().unwrap();
        let o = run(with(with(tickets_args(&sim.url(), "json", &out), &["--resume"]), flags)).await;
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let proof = read_json(&out);
        let resumed = proof["provenance"]["resumed"].as_array().expect("a resumed proof says so");
        assert_eq!(resumed.len(), 1);
        assert_eq!(resumed[0]["rows_from_partial"], rows_before);
        assert_eq!(resumed[0]["pages_before"], 2);
        assert!(resumed[0]["at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(proof["row_count"], 4500);
        if signing {
            let key_id = proof["signature"]["key_id"].clone();
            assert_eq!(resumed[0]["checkpoint_signed_by"], key_id);
            let o = offline(&["verify", &out.display().to_string(), "--public-key", &public]);
            assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        } else {
            assert!(resumed[0]["checkpoint_signed_by"].is_null());
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_checkpoint_whose_cursor_the_connector_refuses_says_how_to_start_over_not_to_resume_again() {
    let dir = tempfile::tempdir().unwrap();
    let sim = Simulator::start(config(0)).await.unwrap();
    let out = dir.path().join("tickets.jsonl");
    interrupted(&sim, "jsonl", &out, &[]).await;
    let cp_path = sibling(&out, ".checkpoint");
    let mut cp = read_json(&cp_path);
    cp["next_cursor"] = "not-a-cursor".into();
    write_json(&cp_path, &cp);
    let o = run(with(tickets_args(&sim.url(), "jsonl", &out), &["--resume"])).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let said = text(&o);
    assert!(said.contains("cursor") && said.contains("collect again without --resume"), "{said}");
    assert!(!said.contains("to continue from page"), "no hint that fails the same way: {said}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resumed_collect_all_collects_again_a_proof_that_changed_on_disk_since_the_earlier_run() {
    let dir = tempfile::tempdir().unwrap();
    // Where the tickets proof starts, in requests: the proof types before it take the same calls.
    let clean_sim = Simulator::start(config(0)).await.unwrap();
    let clean = dir.path().join("clean");
    assert_eq!(run(all(&clean_sim.url(), &clean)).await.status.code(), Some(0));
    let first_ticket_call = clean_sim.requests().iter().position(|r| r.path == TICKETS).unwrap() as u64;

    let sim = Simulator::start(config(0)).await.unwrap();
    sim.add_fault(FaultRule {
        from: first_ticket_call + 1,
        ..FaultRule::always(TICKETS, Fault::Status(400))
    });
    let out = dir.path().join("proofs");
    let o = run(all(&sim.url(), &out)).await;
    assert_eq!(o.status.code(), Some(5), "{}", text(&o));
    sim.clear_faults();
    // An edited row in a proof the first run completed.
    let users = out.join("users.csv");
    let edited = std::fs::read_to_string(&users).unwrap().replacen("Manager", "Reader", 1);
    std::fs::write(&users, edited).unwrap();

    let o = run(with(all(&sim.url(), &out), &["--resume"])).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let said = text(&o);
    assert!(
        said.contains("users: users.csv is not the proof the earlier run completed; collecting it again"),
        "{said}"
    );
    assert!(said.contains("assets: complete in an earlier run, checked and kept"), "{said}");
    assert_eq!(std::fs::read(&users).unwrap(), std::fs::read(clean.join("users.csv")).unwrap());
}
