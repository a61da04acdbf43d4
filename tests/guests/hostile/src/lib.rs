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

    fn describe() -> bindings::evidence::connector::types::About {
        bindings::evidence::connector::types::About {
            name: "hostile-guest".into(),
            version: "0".into(),
            service: "nothing".into(),
        }
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
            // Leaves a tenant's secret in linear memory: on the heap, and in a static (data
            // segment), stored XOR 0x5A so the plain marker in the criteria never matches.
            "leave-secret" => {
                let secret = disguised(&arg("marker"));
                // 6 MiB: past the pages a pool slot keeps resident, into those it releases.
                let copies = (6 << 20) / secret.len().max(1);
                let heap: &'static mut Vec<u8> = Box::leak(Box::new(secret.repeat(copies)));
                std::hint::black_box(&heap);
                // SAFETY: single-threaded guest; only this arm writes the static.
                unsafe { LEFT_BEHIND[..secret.len()].copy_from_slice(&secret) };
                std::hint::black_box(&raw const LEFT_BEHIND);
                let found = if memory_holds(&secret) { "FOUND" } else { "clean" };
                report(format!("left; in this instance: {found}"))
            }
            // Scans all of linear memory for a secret an earlier call may have left.
            "find-secret" => {
                let needle = disguised(&arg("marker"));
                // Grow memory as far as the leaver did, so the pages it wrote are scanned too.
                let room = vec![0u8; 8 << 20];
                std::hint::black_box(&room);
                report(if memory_holds(&needle) { "FOUND".into() } else { "clean".into() })
            }
            "panic" => panic!("deliberate panic; password {}", config.password),
            "ok" => report("fine".into()),
            other => Err(ConnectorError::InvalidConfig(format!("unknown misbehaviour {other}"))),
        }
    }
}

/// Where `leave-secret` copies its secret in the module's data (bss) segment.
static mut LEFT_BEHIND: [u8; 256] = [0; 256];

/// The marker as it is written to memory: each byte XOR 0x5A.
fn disguised(marker: &str) -> Vec<u8> {
    marker.bytes().map(|b| b ^ 0x5a).collect()
}

/// Whether `needle` occurs anywhere in linear memory other than in `needle` itself.
#[cfg(target_arch = "wasm32")]
fn memory_holds(needle: &[u8]) -> bool {
    let size = core::arch::wasm32::memory_size(0) * 65536;
    let own = needle.as_ptr() as usize;
    if needle.is_empty() {
        return false;
    }
    // Address 0 is never read (a null pointer in Rust); everything else is plain memory.
    (1..size.saturating_sub(needle.len())).any(|at| {
        at != own
            // SAFETY: every address below memory_size is readable linear memory.
            && (0..needle.len()).all(|i| unsafe { core::ptr::read_volatile((at + i) as *const u8) } == needle[i])
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn memory_holds(_needle: &[u8]) -> bool {
    false
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Hostile with_types_in bindings);
