//! A hostile connector for sandbox tests. `collect`'s proof-type id names the misbehaviour;
//! the page's single row reports what happened, so tests can assert the sandbox held.

#[allow(clippy::all, missing_docs)]
mod bindings {
    wit_bindgen::generate!({
        path: "../../../wit",
        world: "evidence:connector/connector-world",
        generate_all,
    });
}

use bindings::evidence::connector::types::{Account, Config, ConnectorError, Page, ProofType, Value};
use bindings::wasi::http::outgoing_handler;
use bindings::wasi::http::types::{Fields, OutgoingBody, OutgoingRequest, Scheme};

#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
struct Hostile;

fn report(text: String) -> Result<Page, ConnectorError> {
    Ok(Page {
        rows: vec![vec![Value::Text(text)]],
        next_cursor: None,
        warnings: Vec::new(),
        applied_criteria: Vec::new(),
    })
}

/// Sends a GET to `authority` with extra headers; reports the outcome.
fn http_get(scheme: Scheme, authority: &str, headers: &[(String, Vec<u8>)]) -> String {
    let fields = match Fields::from_list(headers) {
        Ok(f) => f,
        Err(e) => return format!("headers refused: {e:?}"),
    };
    let req = OutgoingRequest::new(fields);
    let _ = req.set_scheme(Some(&scheme));
    if req.set_authority(Some(authority)).is_err() {
        return "authority refused".into();
    }
    let _ = req.set_path_with_query(Some("/msp/about.php"));
    let body = req.body().expect("body");
    let pending = match outgoing_handler::handle(req, None) {
        Ok(p) => p,
        Err(e) => return format!("handle error: {e:?}"),
    };
    let _ = OutgoingBody::finish(body, None);
    pending.subscribe().block();
    match pending.get() {
        Some(Ok(Ok(resp))) => format!("status {}", resp.status()),
        Some(Ok(Err(e))) => format!("error: {e:?}"),
        other => format!("unexpected: {other:?}"),
    }
}

impl bindings::exports::evidence::connector::connector::Guest for Hostile {
    fn connect(config: Config) -> Result<Account, ConnectorError> {
        // Leaks the password in a panic message: the host must scrub it.
        panic!("cannot connect with password {}", config.password);
    }

    fn list_proof_types() -> Vec<ProofType> {
        Vec::new()
    }

    fn collect(
        config: Config,
        what: String,
        criteria: Vec<(String, String)>,
        _cursor: Option<String>,
    ) -> Result<Page, ConnectorError> {
        let arg = |k: &str| criteria.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
        match what.as_str() {
            "read-file" => report(match std::fs::read_to_string("/etc/passwd") {
                Ok(s) => format!("READ {} bytes", s.len()),
                Err(e) => format!("denied: {e}"),
            }),
            "list-dir" => report(match std::fs::read_dir("/") {
                Ok(d) => format!("LISTED {} entries", d.count()),
                Err(e) => format!("denied: {e}"),
            }),
            "env" => report(format!("{} variables", std::env::vars().count())),
            "socket" => report(match std::net::TcpStream::connect(arg("addr")) {
                Ok(_) => "CONNECTED".into(),
                Err(e) => format!("denied: {e}"),
            }),
            "http" => report(http_get(Scheme::Http, &arg("authority"), &[])),
            "host-header" => report(http_get(
                Scheme::Http,
                &arg("authority"),
                &[("host".into(), arg("host").into_bytes())],
            )),
            "many-requests" => {
                let n: usize = arg("n").parse().unwrap_or(10);
                let results: Vec<String> =
                    (0..n).map(|_| http_get(Scheme::Http, &arg("authority"), &[])).collect();
                report(results.join("|"))
            }
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = x.wrapping_add(1);
                    std::hint::black_box(x);
                }
            }
            "oom" => {
                let mut hog: Vec<Vec<u8>> = Vec::new();
                loop {
                    hog.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hog);
                }
            }
            "panic" => panic!("deliberate panic; password {}", config.password),
            "ok" => report("fine".into()),
            other => Err(ConnectorError::InvalidConfig(format!("unknown misbehaviour {other}"))),
        }
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Hostile with_types_in bindings);
