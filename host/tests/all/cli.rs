//! The `connector-host` binary as a user runs it: exit codes, credentials, outputs.

use std::path::Path;
use std::process::{Command, Output};

use qualys_simulator::{Account, Fault, FaultRule, SimConfig, Simulator, Sizes};

const PASSWORD: &str = "cli-Secret-9876";

async fn sim() -> Simulator {
    let config = SimConfig {
        accounts: vec![Account::manager("cli_user", PASSWORD), Account::reader("cli_reader", PASSWORD)],
        sizes: Sizes { tickets: 1500, ..Sizes::default() },
        ..SimConfig::default()
    };
    Simulator::start(config).await.unwrap()
}

/// Runs the CLI; a run against the simulator (`--api-url`, on loopback) allows private
/// addresses, as its operator must.
fn run(args: &[&str], login: &str, password: &str) -> Output {
    let loopback = args.contains(&"--api-url").then_some("--allow-private-network");
    Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(args)
        .args(loopback)
        .env("QUALYS_USERNAME", login)
        .env("QUALYS_PASSWORD", password)
        .output()
        .expect("runs")
}

async fn run_async(args: Vec<String>, login: &'static str, password: &'static str) -> Output {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, login, password)
    })
    .await
    .unwrap()
}

fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn no_password_in(dir: &Path, outputs: &[&Output]) {
    for o in outputs {
        assert!(!all_output(o).contains(PASSWORD), "password printed");
    }
    for entry in walk(dir) {
        let text = std::fs::read(&entry).unwrap();
        assert!(!String::from_utf8_lossy(&text).contains(PASSWORD), "password in {}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_writes_a_json_proof_with_metadata_and_digest_and_never_the_password() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.json");
    let o = run_async(
        vec![
            "collect".into(),
            "--api-url".into(),
            sim.url(),
            "--proof-type".into(),
            "remediation-tickets".into(),
            "--criteria".into(),
            "states=OPEN".into(),
            "--output".into(),
            out.display().to_string(),
            "--verbose".into(),
        ],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert!(o.status.success(), "{}", all_output(&o));
    let proof: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for key in [
        "proof_type",
        "title",
        "collected_at",
        "platform",
        "api_url",
        "criteria",
        "fields",
        "rows",
        "row_count",
        "warnings",
        "sha256",
    ] {
        assert!(proof.get(key).is_some(), "{key}");
    }
    assert_eq!(proof["row_count"].as_u64().unwrap() as usize, proof["rows"].as_array().unwrap().len());
    assert!(proof["rows"].as_array().unwrap().iter().all(|r| r["state"] == "OPEN"));
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(log.contains("/msp/ticket_list.php status=200"), "verbose logs requests: {log}");
    assert!(log.contains("page kept") && log.contains("tenant=cli_user"), "and pages, by tenant: {log}");
    no_password_in(dir.path(), &[&o]);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_rows_in_json_jsonl_and_csv_have_the_same_digest() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for format in ["json", "jsonl", "csv"] {
        let out = dir.path().join(format!("users.{format}"));
        let o = run_async(
            vec![
                "collect".into(),
                "--api-url".into(),
                sim.url(),
                "--proof-type".into(),
                "users".into(),
                "--format".into(),
                format.into(),
                "--output".into(),
                out.display().to_string(),
            ],
            "cli_user",
            PASSWORD,
        )
        .await;
        assert!(o.status.success(), "{}", all_output(&o));
        let stderr = String::from_utf8_lossy(&o.stderr).to_string();
        digests.push(stderr.split("sha256 ").nth(1).unwrap()[..64].to_string());
    }
    assert!(digests.windows(2).all(|w| w[0] == w[1]), "{digests:?}");
    let csv = std::fs::read_to_string(dir.path().join("users.csv")).unwrap();
    assert!(csv.starts_with("login,user_id,"));
    assert_eq!(std::fs::read_to_string(dir.path().join("users.jsonl")).unwrap().lines().count(), 12);
}

#[tokio::test(flavor = "multi_thread")]
async fn exit_codes_say_what_went_wrong() {
    let sim = sim().await;
    let url = sim.url();
    let code = |o: &Output| o.status.code().unwrap();
    let o = run_async(
        vec!["collect".into(), "--api-url".into(), url.clone(), "--proof-type".into(), "users".into()],
        "cli_user",
        "wrong",
    )
    .await;
    assert_eq!(code(&o), 3, "authentication: {}", all_output(&o));
    assert!(o.stdout.is_empty(), "a failed collect prints no partial proof: {}", all_output(&o));
    let o = run_async(
        vec!["collect".into(), "--platform".into(), "MARS1".into(), "--proof-type".into(), "users".into()],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert_eq!(code(&o), 2, "configuration: {}", all_output(&o));
    let o = run_async(
        vec![
            "collect".into(),
            "--api-url".into(),
            url.clone(),
            "--proof-type".into(),
            "users".into(),
            "--criteria".into(),
            "x=1".into(),
        ],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert_eq!(code(&o), 2, "criteria: {}", all_output(&o));
    let o = run_async(
        vec![
            "collect".into(),
            "--api-url".into(),
            "http://127.0.0.1:9".into(),
            "--proof-type".into(),
            "users".into(),
        ],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert_eq!(code(&o), 6, "transport: {}", all_output(&o));
    let o = run_async(
        vec!["proof-types".into(), "--plugin".into(), "/nonexistent.wasm".into()],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert_eq!(code(&o), 1, "host: {}", all_output(&o));
    assert!(
        all_output(&o).contains("cannot read the connector component /nonexistent.wasm"),
        "{}",
        all_output(&o)
    );
    let lines: Vec<_> = String::from_utf8_lossy(&o.stderr).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 1, "one-line error: {lines:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_long_rate_limit_is_waited_out_by_the_cli_with_a_message() {
    let sim = sim().await;
    sim.add_fault(FaultRule::times("/msp/user_list.php", 1, Fault::RateLimit(2)));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("users.json");
    let o = run_async(
        vec![
            "collect".into(),
            "--api-url".into(),
            sim.url(),
            "--proof-type".into(),
            "users".into(),
            "--max-inline-wait".into(),
            "1".into(),
            "--output".into(),
            out.display().to_string(),
        ],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert!(o.status.success(), "{}", all_output(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("rate limit: waiting 2s"), "{}", all_output(&o));
    assert!(out.exists(), "the proof is written after the wait");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_collect_leaves_no_proof_under_its_name_only_its_partial_file_and_checkpoint() {
    let sim = sim().await;
    sim.add_fault(FaultRule { from: 1, ..FaultRule::always("/msp/ticket_list.php", Fault::MalformedXml) });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.json");
    let o = run_async(
        vec![
            "collect".into(),
            "--api-url".into(),
            sim.url(),
            "--proof-type".into(),
            "remediation-tickets".into(),
            "--output".into(),
            out.display().to_string(),
        ],
        "cli_user",
        PASSWORD,
    )
    .await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    let mut left: Vec<_> =
        walk(dir.path()).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["tickets.json.checkpoint", "tickets.json.partial"], "no proof under the final name");
    assert!(all_output(&o).contains("--resume"), "{}", all_output(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_all_writes_every_proof_and_a_manifest_of_digests() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("creds.toml");
    std::fs::write(&creds, format!("username = \"cli_user\"\npassword = \"{PASSWORD}\"\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = dir.path().join("out");
    let args = vec![
        "collect".to_string(),
        "--api-url".into(),
        sim.url(),
        "--all".into(),
        "--out-dir".into(),
        out.display().to_string(),
        "--credentials-file".into(),
        creds.display().to_string(),
    ];
    let o = run_async(args.clone(), "", "").await;
    assert_eq!(o.status.code(), Some(2), "a world-readable credentials file is refused: {}", all_output(&o));
    assert!(all_output(&o).contains("chmod 600"));
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o600)).unwrap();
    let o = run_async(args, "", "").await;
    assert!(o.status.success(), "{}", all_output(&o));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let proofs = manifest["proofs"].as_array().unwrap();
    assert_eq!(proofs.len(), crate::proof_type_count());
    for p in proofs {
        let file = out.join(p["file"].as_str().unwrap());
        let bytes = std::fs::read(&file).unwrap();
        use sha2::Digest;
        assert_eq!(p["sha256_file"].as_str().unwrap(), hex::encode(sha2::Sha256::digest(&bytes)));
    }
    std::fs::remove_file(&creds).unwrap();
    no_password_in(dir.path(), &[&o]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_loopback_api_url_is_refused_without_allow_private_network_and_the_message_names_the_flag() {
    let sim = sim().await;
    let o = Command::new(env!("CARGO_BIN_EXE_connector-host"))
        .args(["collect", "--api-url", &sim.url(), "--proof-type", "users"])
        .env("QUALYS_USERNAME", "cli_user")
        .env("QUALYS_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(8), "{}", all_output(&o));
    let text = all_output(&o);
    assert!(text.contains("loopback") && text.contains("--allow-private-network"), "{text}");
    assert!(sim.requests().is_empty(), "nothing reached the simulator");
    assert!(o.stdout.is_empty(), "no proof printed");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_binary_copied_alone_to_an_empty_folder_lists_proof_types_and_runs_the_demo() {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("connector-host");
    std::fs::copy(env!("CARGO_BIN_EXE_connector-host"), &binary).unwrap();
    let folder = dir.path().to_path_buf();
    let alone = move |args: &[&str]| {
        Command::new(&binary)
            .args(args)
            .current_dir(&folder)
            .env_clear()
            .env("HOME", &folder)
            .output()
            .expect("runs")
    };
    let o = alone(&["proof-types"]);
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("remediation-tickets"));
    let o = tokio::task::spawn_blocking(move || alone(&["demo", "--out", "proofs"])).await.unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    for id in ["assets", "users", "vm-scans", "pc-scans", "remediation-tickets"] {
        assert!(dir.path().join(format!("proofs/{id}.json")).is_file(), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_over_max_response_mib_is_denied_naming_the_limit_and_a_larger_limit_collects_it() {
    // Users come in one unpaged response: 5,000 users are a few MB.
    let config = SimConfig {
        accounts: vec![Account::manager("cli_user", PASSWORD)],
        sizes: Sizes { users: 5000, ..Sizes::default() },
        ..SimConfig::default()
    };
    let sim = Simulator::start(config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("users.jsonl");
    let collect = |limit: &str| -> Vec<String> {
        ["collect", "--api-url", &sim.url(), "--proof-type", "users", "--format", "jsonl", "--output"]
            .iter()
            .map(|s| s.to_string())
            .chain([out.display().to_string(), "--max-response-mib".into(), limit.into()])
            .collect()
    };
    let o = run_async(collect("1"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(8), "denied: {}", all_output(&o));
    let text = all_output(&o);
    assert!(text.contains("larger than the host allows") && text.contains("response limit"), "{text}");
    assert!(!text.contains(PASSWORD), "password printed");
    assert!(!out.exists(), "no proof from a response that was cut: {}", out.display());

    let o = run_async(collect("16"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 5000);

    let o = run_async(collect("0"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(2), "0 MiB is a usage error: {}", all_output(&o));
}

/// The CLI as `run` starts it, to configure further (working folder, standard output, env).
fn command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_connector-host"));
    c.args(args)
        .arg("--allow-private-network")
        .env("QUALYS_USERNAME", "cli_user")
        .env("QUALYS_PASSWORD", PASSWORD);
    c
}

fn tickets_to(sim: &Simulator, out: &str, format: &str) -> Vec<String> {
    [
        "collect",
        "--api-url",
        &sim.url(),
        "--proof-type",
        "remediation-tickets",
        "--format",
        format,
        "--output",
        out,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn output_dash_is_standard_output_as_in_every_unix_tool() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let args = tickets_to(&sim, "-", "jsonl");
    let o = tokio::task::spawn_blocking(move || {
        command(&args).current_dir(dir.path()).output().map(|o| (o, names_in(dir.path()))).unwrap()
    })
    .await
    .unwrap();
    let (o, left) = o;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1500, "the rows on standard output");
    assert!(left.is_empty(), "no file named '-' or anything else: {left:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_output_link_to_standard_output_writes_through_it_and_is_never_replaced() {
    let sim = sim().await;
    for (target, format) in [("/proc/self/fd/1", "json"), ("/dev/stdout", "jsonl")] {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join(format!("proof.{format}"));
        std::os::unix::fs::symlink(target, &link).unwrap();
        let captured = dir.path().join("captured");
        let stdout = std::fs::File::create(&captured).unwrap();
        let args = tickets_to(&sim, &link.display().to_string(), format);
        let o = tokio::task::spawn_blocking(move || command(&args).stdout(stdout).output().unwrap())
            .await
            .unwrap();
        assert_eq!(o.status.code(), Some(0), "{target}: {}", all_output(&o));
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(), "{target}: still a link");
        let written = std::fs::read_to_string(&captured).unwrap();
        assert!(written.contains("\"ticket_number\""), "{target}: the proof went to standard output");
        assert_eq!(
            names_in(dir.path()),
            ["captured", &format!("proof.{format}")],
            "{target}: no partial, checkpoint or sidecar"
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn an_output_link_to_a_regular_file_replaces_that_file_and_the_link_stays_a_link() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, "old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    let o = run_async(tickets_to(&sim, &link.display().to_string(), "json"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert!(std::fs::read_to_string(&real).unwrap().contains("\"ticket_number\""));
    assert_eq!(names_in(dir.path()), ["link.json", "real.json"]);

    // A link to nothing is refused: the proof is not created wherever it points.
    let dangling = dir.path().join("dangling.json");
    std::os::unix::fs::symlink("elsewhere/planted.json", &dangling).unwrap();
    std::fs::create_dir(dir.path().join("elsewhere")).unwrap();
    let o = run_async(tickets_to(&sim, &dangling.display().to_string(), "json"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(all_output(&o).contains("which does not exist"), "{}", all_output(&o));
    assert!(!dir.path().join("elsewhere/planted.json").exists());
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn a_link_planted_at_the_partial_or_checkpoint_name_is_never_followed() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = dir.path().join("tickets.jsonl");
    std::os::unix::fs::symlink(&victim, dir.path().join("tickets.jsonl.partial")).unwrap();
    let o = run_async(tickets_to(&sim, &out.display().to_string(), "jsonl"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious", "the link's target is untouched");
    assert!(std::fs::symlink_metadata(&out).unwrap().is_file(), "the proof is a file, not a link");
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1500);

    // A link planted as the checkpoint is not read through either.
    let out = dir.path().join("second.jsonl");
    std::os::unix::fs::symlink(&victim, dir.path().join("second.jsonl.checkpoint")).unwrap();
    let o = run_async(tickets_to(&sim, &out.display().to_string(), "jsonl"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(
        !all_output(&o).contains("precious") && all_output(&o).contains("is a symbolic link"),
        "{}",
        all_output(&o)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_collect_to_the_same_file_is_refused_while_the_first_holds_its_lock() {
    let sim = sim().await;
    // The second page takes two seconds (then a 504, retried): the first collect is mid-way.
    sim.add_fault(FaultRule { from: 1, ..FaultRule::times("/msp/ticket_list.php", 1, Fault::Hang(2000)) });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tickets.jsonl").display().to_string();
    let first = tokio::spawn(run_async(tickets_to(&sim, &out, "jsonl"), "cli_user", PASSWORD));
    let lock = format!("{out}.lock");
    let started = std::time::Instant::now();
    while !Path::new(&lock).exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "the first collect never locked");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let second = run_async(tickets_to(&sim, &out, "jsonl"), "cli_user", PASSWORD).await;
    assert_eq!(second.status.code(), Some(2), "{}", all_output(&second));
    assert!(all_output(&second).contains("another collect is writing"), "{}", all_output(&second));
    let first = first.await.unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", all_output(&first));
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 1500);
    assert_eq!(names_in(dir.path()), ["tickets.jsonl", "tickets.jsonl.proof.json"], "nothing stale");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_echoes_the_credentials_and_terminal_escapes_has_neither_reach_the_terminal() {
    use base64::Engine as _;
    let sim = sim().await;
    sim.add_fault(FaultRule::always("/msp/ticket_list.php", Fault::EchoCredentials));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.json").display().to_string();
    let o = run_async(tickets_to(&sim, &out, "json"), "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(5), "{}", all_output(&o));
    let said = all_output(&o);
    let token = base64::engine::general_purpose::STANDARD.encode(format!("cli_user:{PASSWORD}"));
    assert!(said.contains("Bad request from cli_user:***"), "the message itself is kept: {said}");
    assert!(!said.contains(PASSWORD) && !said.contains(&token), "{said}");
    assert!(!said.contains('\x1b') && !said.contains('\x07') && said.contains("\\u{1b}[2J"), "{said}");
    no_password_in(dir.path(), &[&o]);
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_credentials_are_never_printed() {
    let sim = sim().await;
    let mut args = tickets_to(&sim, "-", "json");
    args.extend(["--proxy".into(), "https://me:Proxy-Secret-77@127.0.0.1:9".into()]);
    let o = run_async(args, "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(all_output(&o).contains("me:***@127.0.0.1"), "{}", all_output(&o));
    assert!(!all_output(&o).contains("Proxy-Secret-77"), "{}", all_output(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cache_folder_that_cannot_be_written_is_a_warning_and_the_collect_runs_uncached() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "").unwrap();
    let cache = dir.path().join("file").join("cache").display().to_string();
    let mut args = tickets_to(&sim, "-", "jsonl");
    args.extend(["--cache-dir".into(), cache]);
    let o = run_async(args, "cli_user", PASSWORD).await;
    assert_eq!(o.status.code(), Some(0), "{}", all_output(&o));
    assert!(all_output(&o).contains("cannot be written; running uncached"), "{}", all_output(&o));
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().count(), 1500);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_rust_backtrace_set_a_network_error_is_still_one_readable_line_without_a_host_backtrace() {
    let sim = sim().await;
    sim.add_fault(FaultRule::always("/msp/ticket_list.php", Fault::Truncated));
    let args = tickets_to(&sim, "-", "json");
    let o = tokio::task::spawn_blocking(move || {
        command(&args).env("RUST_BACKTRACE", "1").env_remove("RUST_LIB_BACKTRACE").output().unwrap()
    })
    .await
    .unwrap();
    assert_eq!(o.status.code(), Some(6), "{}", all_output(&o));
    let said = String::from_utf8_lossy(&o.stderr);
    assert!(!said.contains("backtrace") && !said.contains("wasmtime_internal"), "{said}");
    assert!(said.contains("the connection broke while the response was being read"), "{said}");
}
