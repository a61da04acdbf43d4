//! The operator's network flags as a user runs them: `--ca-file` against the simulator in TLS
//! mode, `--proxy` and HTTPS_PROXY/NO_PROXY through a CONNECT proxy on loopback, and the usage
//! errors of a bad CA file or proxy URL. (A loopback `--api-url` without
//! `--allow-private-network` is in `cli.rs`.) All traffic stays on 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use qualys_simulator::{Account, SimConfig, SimTls, Simulator};

// The end-to-end tests' CONNECT proxy (tokio and std only), shared as a source file.
#[path = "../../../tests/src/proxy.rs"]
mod proxy;

use proxy::{Proxy, ProxyMode};

const LOGIN: &str = "net_user";
const PASSWORD: &str = "net-Secret-2468";

/// Every proxy variable the CLI reads; removed from each run unless a test sets it.
const PROXY_VARS: [&str; 6] =
    ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"];

/// A simulator serving HTTPS, its CA certificate written to `dir/ca.pem`.
async fn tls_sim(dir: &Path) -> (Simulator, PathBuf) {
    let ca = dir.join("ca.pem");
    let config = SimConfig {
        accounts: vec![Account::manager(LOGIN, PASSWORD)],
        tls: Some(SimTls { ca_out: Some(ca.clone()), ..SimTls::default() }),
        ..SimConfig::default()
    };
    (Simulator::start(config).await.unwrap(), ca)
}

/// `connector-host collect --proof-type users --output dir/users.json` plus `args`, with
/// `env` as the only proxy variables, on the blocking pool (the simulator and the proxy keep
/// serving).
async fn collect_users(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let out = dir.join("users.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_connector-host"));
    cmd.args(["collect", "--proof-type", "users", "--output"]).arg(&out).args(args);
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(env.iter().copied()).env("QUALYS_USERNAME", LOGIN).env("QUALYS_PASSWORD", PASSWORD);
    tokio::task::spawn_blocking(move || cmd.output().expect("runs")).await.unwrap()
}

/// Collects users from the TLS simulator, trusting its CA, through `proxy`.
async fn collect_through_proxy(dir: &Path, sim: &Simulator, ca: &Path, proxy: &str) -> Output {
    collect_users(
        dir,
        &["--api-url", &sim.url(), "--allow-private-network", "--ca-file", path(ca), "--proxy", proxy],
        &[],
    )
    .await
}

fn all_output(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The rows of the written proof.
fn rows(dir: &Path) -> usize {
    let proof: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("users.json")).unwrap()).unwrap();
    proof["rows"].as_array().unwrap().len()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn given_the_tls_simulator_and_its_ca_file_when_collecting_then_the_proof_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let o = collect_users(
        dir.path(),
        &["--api-url", &sim.url(), "--allow-private-network", "--ca-file", path(&ca)],
        &[],
    )
    .await;
    assert!(o.status.success(), "{}", all_output(&o));
    assert!(rows(dir.path()) > 0);
    assert!(!sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_the_tls_simulator_without_its_ca_file_when_collecting_then_it_exits_6_with_a_tls_error() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _) = tls_sim(dir.path()).await;
    let o = collect_users(dir.path(), &["--api-url", &sim.url(), "--allow-private-network"], &[]).await;
    assert_eq!(o.status.code(), Some(6), "{}", all_output(&o));
    assert!(all_output(&o).contains("TLS"), "{}", all_output(&o));
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
    assert!(!dir.path().join("users.json").exists(), "no proof file");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_localhost_api_url_without_allow_private_network_when_collecting_then_it_exits_8_naming_the_flag()
 {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let url = format!("https://localhost:{}", sim.addr().port());
    let o = collect_users(dir.path(), &["--api-url", &url, "--ca-file", path(&ca)], &[]).await;
    assert_eq!(o.status.code(), Some(8), "{}", all_output(&o));
    let text = all_output(&o);
    assert!(text.contains("'localhost' resolves to") && text.contains("loopback"), "{text}");
    assert!(text.contains("--allow-private-network"), "{text}");
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_the_proxy_flag_when_collecting_from_the_tls_simulator_then_the_proxy_sees_only_connect_to_it()
{
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let o = collect_through_proxy(dir.path(), &sim, &ca, &proxy.url()).await;
    assert!(o.status.success(), "{}", all_output(&o));
    assert!(rows(dir.path()) > 0);
    let connect = format!("CONNECT 127.0.0.1:{} HTTP/1.1", sim.addr().port());
    let lines = proxy.request_lines();
    assert!(!lines.is_empty() && lines.iter().all(|l| *l == connect), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_https_proxy_in_the_environment_when_collecting_then_the_tunnel_goes_through_it() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let o = collect_users(
        dir.path(),
        &["--api-url", &sim.url(), "--allow-private-network", "--ca-file", path(&ca)],
        &[("HTTPS_PROXY", &proxy.url())],
    )
    .await;
    assert!(o.status.success(), "{}", all_output(&o));
    let connect = format!("CONNECT 127.0.0.1:{} HTTP/1.1", sim.addr().port());
    let lines = proxy.request_lines();
    assert!(!lines.is_empty() && lines.iter().all(|l| *l == connect), "{lines:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn given_https_proxy_and_no_proxy_naming_the_api_server_when_collecting_then_the_proxy_is_bypassed() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let proxy = Proxy::start(ProxyMode::Tunnel).await;
    let o = collect_users(
        dir.path(),
        &["--api-url", &sim.url(), "--allow-private-network", "--ca-file", path(&ca)],
        &[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", "localhost,127.0.0.1")],
    )
    .await;
    assert!(o.status.success(), "{}", all_output(&o));
    assert!(rows(dir.path()) > 0);
    assert!(proxy.request_lines().is_empty(), "{:?}", proxy.request_lines());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_proxy_that_refuses_the_tunnel_when_collecting_then_it_exits_6_naming_the_proxy_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let proxy = Proxy::start(ProxyMode::Refuse).await;
    let o = collect_through_proxy(dir.path(), &sim, &ca, &proxy.url()).await;
    assert_eq!(o.status.code(), Some(6), "{}", all_output(&o));
    assert!(all_output(&o).contains("proxy refused the tunnel"), "{}", all_output(&o));
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_ca_file_that_is_not_pem_when_collecting_then_it_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _) = tls_sim(dir.path()).await;
    let bad = dir.path().join("not-a-certificate.txt");
    std::fs::write(&bad, "this is not a certificate\n").unwrap();
    let o = collect_users(
        dir.path(),
        &["--api-url", &sim.url(), "--allow-private-network", "--ca-file", path(&bad)],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(all_output(&o).contains(path(&bad)), "{}", all_output(&o));
    assert!(sim.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_missing_ca_file_when_collecting_then_it_is_a_usage_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, _) = tls_sim(dir.path()).await;
    let missing = dir.path().join("missing.pem");
    let o = collect_users(
        dir.path(),
        &["--api-url", &sim.url(), "--allow-private-network", "--ca-file", path(&missing)],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(all_output(&o).contains(path(&missing)), "{}", all_output(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn given_a_proxy_url_that_is_not_http_when_collecting_then_it_is_a_usage_error_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let (sim, ca) = tls_sim(dir.path()).await;
    let o = collect_through_proxy(dir.path(), &sim, &ca, "https://127.0.0.1:9").await;
    assert_eq!(o.status.code(), Some(2), "{}", all_output(&o));
    assert!(all_output(&o).contains("https://127.0.0.1:9"), "{}", all_output(&o));
    assert!(sim.requests().is_empty());
}
