//! HTTPS for the simulator. Real Qualys API servers are HTTPS-only (doc: every API server URL
//! Qualys publishes, on its "Identify your Qualys platform" page and in its API user guides, is
//! `https://qualysapi...`; no plain-HTTP endpoint is documented), so a client's TLS path (its
//! trust anchors, a proxy's CONNECT tunnel) is tested against this mode, not against plain
//! HTTP. Each simulator makes its own certificate authority at start-up and a server
//! certificate it issues for `localhost`, `127.0.0.1`, `::1` and any extra names; the CA
//! certificate (PEM) is what a client must trust.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Serve HTTPS instead of plain HTTP.
#[derive(Debug, Clone, Default)]
pub struct SimTls {
    /// Where to write the CA certificate as PEM (for `connector-host --ca-file`, or a
    /// `NetworkPolicy::add_trust_anchors_pem`); [`crate::Simulator::ca_pem`] has it too.
    pub ca_out: Option<PathBuf>,
    /// Names the server certificate covers besides `localhost`, `127.0.0.1` and `::1`: host
    /// names or IP literals that a test routes to the simulator (an injected resolver or
    /// connector), so that the TLS name check passes for them.
    pub extra_names: Vec<String>,
}

/// The server side of TLS, and the PEM of the CA that issued its certificate.
pub(crate) struct Tls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub ca_pem: String,
}

/// The names every simulator certificate covers.
const NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

impl Tls {
    /// A fresh CA, a server certificate it issues, and a TLS acceptor serving it; writes the
    /// CA's PEM to `ca_out` when one is named.
    pub(crate) fn new(config: &SimTls) -> anyhow::Result<Tls> {
        let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(DnType::CommonName, "Qualys simulator test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate()?)?;

        let names: Vec<String> =
            NAMES.iter().map(|n| n.to_string()).chain(config.extra_names.iter().cloned()).collect();
        let mut params = CertificateParams::new(names).context("a certificate name is not valid")?;
        params.distinguished_name.push(DnType::CommonName, "localhost");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &ca)?;

        let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        server.alpn_protocols = vec![b"http/1.1".to_vec()];

        let ca_pem = ca.pem();
        if let Some(path) = &config.ca_out {
            std::fs::write(path, &ca_pem)
                .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
        }
        Ok(Tls { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server)), ca_pem })
    }
}
