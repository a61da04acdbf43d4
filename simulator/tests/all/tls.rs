//! TLS mode: HTTPS with a certificate from the simulator's own CA, for the names clients use on
//! loopback; plain HTTP stays the default.

use std::sync::Arc;

use base64::Engine as _;
use qualys_simulator::{SimConfig, SimTls, Simulator};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn client(ca_pem: Option<&str>) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    if let Some(pem) = ca_pem {
        for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// GET /msp/about.php over TLS to the simulator, checking the certificate for `name`; the
/// status line, or the handshake's error.
async fn about(sim: &Simulator, ca_pem: Option<&str>, name: &str) -> Result<String, std::io::Error> {
    let tcp = TcpStream::connect(sim.addr()).await?;
    let name = ServerName::try_from(name.to_string()).unwrap();
    let mut tls = client(ca_pem).connect(name, tcp).await?;
    let auth = base64::engine::general_purpose::STANDARD.encode("demo_manager:demo-password");
    let request = format!(
        "GET /msp/about.php HTTP/1.1\r\nHost: {}\r\nAuthorization: Basic {auth}\r\nConnection: close\r\n\r\n",
        sim.addr()
    );
    tls.write_all(request.as_bytes()).await?;
    let mut reply = Vec::new();
    // The server may close without close_notify; what arrived is enough.
    let _ = tls.read_to_end(&mut reply).await;
    let text = String::from_utf8_lossy(&reply).into_owned();
    Ok(text.lines().next().unwrap_or_default().to_string())
}

async fn tls_sim(tls: SimTls) -> Simulator {
    Simulator::start(SimConfig { tls: Some(tls), ..SimConfig::default() }).await.unwrap()
}

#[tokio::test]
async fn given_tls_mode_when_a_client_trusts_the_ca_then_each_loopback_name_gets_the_api_over_https() {
    let sim = tls_sim(SimTls::default()).await;
    assert_eq!(sim.url(), format!("https://127.0.0.1:{}", sim.addr().port()));
    let ca = sim.ca_pem().expect("TLS mode has a CA").to_string();
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{ca}");
    for name in ["127.0.0.1", "localhost", "::1"] {
        let status = about(&sim, Some(&ca), name).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(status, "HTTP/1.1 200 OK", "{name}");
    }
    assert_eq!(sim.requests().len(), 3);
}

#[tokio::test]
async fn given_tls_mode_when_a_client_does_not_trust_the_ca_then_the_handshake_fails_and_nothing_is_served() {
    let sim = tls_sim(SimTls::default()).await;
    let err = about(&sim, None, "127.0.0.1").await.unwrap_err();
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    // Another CA (another simulator's) is no better.
    let other = tls_sim(SimTls::default()).await;
    let err = about(&sim, other.ca_pem(), "127.0.0.1").await.unwrap_err();
    assert!(err.to_string().to_lowercase().contains("certificate"), "{err}");
    assert!(sim.requests().is_empty());
}

#[tokio::test]
async fn given_extra_names_when_a_client_checks_them_then_the_certificate_covers_them_and_no_other() {
    let sim = tls_sim(SimTls {
        extra_names: vec!["api.example.test".into(), "10.1.2.3".into()],
        ..SimTls::default()
    })
    .await;
    let ca = sim.ca_pem().unwrap().to_string();
    for name in ["api.example.test", "10.1.2.3"] {
        assert_eq!(about(&sim, Some(&ca), name).await.unwrap(), "HTTP/1.1 200 OK", "{name}");
    }
    let err = about(&sim, Some(&ca), "other.example.test").await.unwrap_err();
    assert!(err.to_string().contains("not valid for name"), "{err}");
}

#[tokio::test]
async fn given_ca_out_when_started_then_the_ca_pem_is_written_to_that_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    let sim = tls_sim(SimTls { ca_out: Some(path.clone()), ..SimTls::default() }).await;
    assert_eq!(std::fs::read_to_string(&path).unwrap(), sim.ca_pem().unwrap());
}

#[tokio::test]
async fn given_the_default_config_then_the_simulator_serves_plain_http_without_a_ca() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    assert_eq!(sim.url(), format!("http://127.0.0.1:{}", sim.addr().port()));
    assert!(sim.ca_pem().is_none());
}

#[test]
fn given_tls_and_ca_out_flags_when_the_binary_starts_then_it_prints_an_https_url_and_writes_the_ca() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sim-ca.pem");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_qualys-simulator"))
        .args(["--tls", "--ca-out"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(first.starts_with("Qualys simulator on https://127.0.0.1:"), "{first}");
    assert!(second.contains(&path.display().to_string()), "{second}");
    let pem = std::fs::read_to_string(&path).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
}

#[test]
fn given_ca_out_without_tls_when_the_binary_starts_then_it_is_a_usage_error() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_qualys-simulator"))
        .args(["--ca-out", "/nonexistent/ca.pem"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--tls"), "{}", String::from_utf8_lossy(&o.stderr));
}
