//! Fault injection: what a broken proxy, a failing Qualys or a hostile server would send.
//! A rule picks requests by path prefix and by their index; a fault either replaces the
//! whole response or transforms the normal one.

use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::errors::{
    INTERNAL_ERROR, error_in_root, generic_return, service_error, simple_return, unauthorized,
};
use crate::server::{SimBody, xml_response};

/// One kind of fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Syntactically broken XML (a mismatched end tag) with status 200; a complete body of the
    /// path's normal root element.
    MalformedXml,
    /// The normal body's length announced, then the connection closes two thirds of the way in,
    /// in the middle of an element: a cut connection.
    Truncated,
    /// A complete HTTP response whose `Content-Length` matches its body, but the document in it
    /// is cut in the middle of an element: a server that sent a cut document.
    CutDocument,
    /// An HTML error page with status 200 (a proxy or captive portal).
    HtmlPage,
    /// The normal body with `Content-Type: application/json`.
    WrongContentType,
    /// Status 200 and an empty body.
    EmptyBody,
    /// Invalid UTF-8 bytes inside the document.
    NonUtf8,
    /// `Content-Length` announces 2 GB; a few bytes follow, then the connection closes.
    HugeAnnounced,
    /// An actual body of this many bytes (a valid document padded with comments of 1 KiB).
    HugeBody(u64),
    /// A valid document with one comment of this many bytes in it: bloat without markup.
    CommentBloat(u64),
    /// An entity-expansion ("billion laughs") document.
    EntityBomb,
    /// A document referencing an external entity (`file:///etc/passwd`).
    ExternalEntity,
    /// 10,000 nested elements.
    DeepNesting,
    /// The normal body, one byte every `ms` milliseconds.
    SlowDrip(u64),
    /// Half the normal body, then the connection is reset.
    ResetMidBody,
    /// This HTTP status with a short HTML body (500, 502, 503, 504...); 401 answers like
    /// Qualys' bad-credentials SIMPLE_RETURN.
    Status(u16),
    /// HTTP 200 with the error document of the path's API family: SIMPLE_RETURN code 999 on
    /// `/api/`, GENERIC_RETURN number 999 on `/msp/`, ServiceResponse INVALID_REQUEST on `/qps/`.
    ErrorDocument,
    /// HTTP 200 with the path's normal root holding only `<ERROR number="999">` (user list,
    /// ticket list, about); [`Fault::ErrorDocument`] on other paths.
    ErrorInRoot,
    /// HTTP 200, `Content-Type: text/xml`, and a plain-text body.
    NotXml,
    /// 409 rate limit (code 1965) asking to wait this many seconds.
    RateLimit(u32),
    /// 409 concurrency limit (code 1960), no wait header.
    Concurrency,
    /// A 302 redirect to another host.
    RedirectOffHost,
    /// No answer at all for this long (a hung server).
    Hang(u64),
    /// The normal answer after this many milliseconds (a slow server; the call counts as
    /// running against the account's concurrency meanwhile).
    Delay(u64),
    /// Next-page URL naming a hostile host (proof-type routes apply it); harmless to a client that
    /// only reads `id_min` from it.
    NextUrlOtherHost,
    /// Next-page URL equal to the current one (proof-type routes apply it).
    NextUrlRepeat,
    /// Paging that repeats the previous page's records (proof-type routes apply it).
    RepeatRecords,
    /// Paging that skips ahead (proof-type routes apply it).
    SkipRecords,
    /// Paging whose next page starts at the previous page's last record, inclusive, so that one
    /// record is on both pages (proof-type routes apply it).
    RepeatLast,
    /// The page's first two records of this element swapped: a server that does not sort.
    SwapRecords(String),
    /// The page's first record of this element written twice.
    DoubleRecord(String),
    /// A 400 SIMPLE_RETURN whose text echoes the request's Basic credentials, decoded and as
    /// sent, and holds a terminal escape sequence: a server that reflects what it was sent.
    EchoCredentials,
    /// The page's first element of this name removed (a record without its key, when the
    /// element is the key).
    RemoveElement(String),
}

/// Which requests a fault hits.
#[derive(Debug, Clone)]
pub struct FaultRule {
    /// Path prefix the request must have ("" for every path).
    pub path: String,
    /// Hit only requests whose index (0-based, across the simulator) is at least this.
    pub from: u64,
    /// Hit at most this many requests (`None`: every one from `from` on).
    pub count: Option<u64>,
    /// The fault.
    pub fault: Fault,
    /// Internal counter of hits; shared through the simulator's config.
    pub hits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl FaultRule {
    /// A fault on every request under `path`.
    pub fn always(path: &str, fault: Fault) -> FaultRule {
        FaultRule { path: path.into(), from: 0, count: None, fault, hits: Default::default() }
    }

    /// A fault on the next `count` requests under `path`.
    pub fn times(path: &str, count: u64, fault: Fault) -> FaultRule {
        FaultRule { count: Some(count), ..FaultRule::always(path, fault) }
    }
}

/// The rule hitting this request, if any; counts the hit.
pub fn matching<'a>(rules: &'a [FaultRule], path: &str, index: u64) -> Option<&'a FaultRule> {
    use std::sync::atomic::Ordering;
    let rule = rules.iter().find(|r| {
        path.starts_with(&r.path)
            && index >= r.from
            && r.count.is_none_or(|c| r.hits.load(Ordering::SeqCst) < c)
    })?;
    Some(rule)
}

fn count_hit(rule: &FaultRule) {
    rule.hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// A minimal document of the path's normal root, split around one text leaf, so that document
/// faults reach the parser of the right proof type: `prefix` ends with the leaf's start tag,
/// `suffix` begins with its end tag.
struct Skeleton {
    root: &'static str,
    leaf: &'static str,
    prefix: &'static str,
    suffix: &'static str,
}

// Each skeleton follows the documented content model of its root (see `routes` for sources);
// the values are the simulator's own.
const SKELETONS: &[Skeleton] = &[
    Skeleton {
        root: "HOST_LIST_OUTPUT",
        leaf: "DNS",
        prefix: "<HOST_LIST_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><HOST_LIST><HOST><ID>100000</ID><DNS>",
        suffix: "</DNS></HOST></HOST_LIST></RESPONSE></HOST_LIST_OUTPUT>",
    },
    Skeleton {
        root: "SCAN_LIST_OUTPUT",
        leaf: "TITLE",
        prefix: "<SCAN_LIST_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><SCAN_LIST><SCAN><REF>scan/1793534400.00001</REF><TYPE>API</TYPE><TITLE>",
        suffix: "</TITLE></SCAN></SCAN_LIST></RESPONSE></SCAN_LIST_OUTPUT>",
    },
    Skeleton {
        root: "ServiceResponse",
        leaf: "name",
        prefix: "<ServiceResponse><responseCode>SUCCESS</responseCode><count>1</count><hasMoreRecords>false</hasMoreRecords><data><HostAsset><id>3000000</id><name>",
        suffix: "</name></HostAsset></data></ServiceResponse>",
    },
    Skeleton {
        root: "REMEDIATION_TICKETS",
        leaf: "DNSNAME",
        prefix: "<REMEDIATION_TICKETS><HEADER><USER_LOGIN>demo_manager</USER_LOGIN><COMPANY>Example Corp</COMPANY><DATETIME>2026-11-01T12:00:00Z</DATETIME></HEADER><TICKET_LIST><TICKET><NUMBER>10000</NUMBER><CREATION_DATETIME>2026-01-01T00:00:00Z</CREATION_DATETIME><CURRENT_STATE>OPEN</CURRENT_STATE><INVALID>0</INVALID><DETECTION><IP>10.0.0.1</IP><DNSNAME>",
        suffix: "</DNSNAME></DETECTION></TICKET></TICKET_LIST></REMEDIATION_TICKETS>",
    },
    Skeleton {
        root: "USER_LIST_OUTPUT",
        leaf: "USER_LOGIN",
        prefix: "<USER_LIST_OUTPUT><USER_LIST><USER><USER_LOGIN>",
        suffix: "</USER_LOGIN></USER></USER_LIST></USER_LIST_OUTPUT>",
    },
    Skeleton {
        root: "HOST_LIST_VM_DETECTION_OUTPUT",
        leaf: "OS",
        prefix: "<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><HOST_LIST><HOST><ID>100000</ID><OS>",
        suffix: "</OS><DETECTION_LIST><DETECTION><QID>10001</QID><TYPE>Confirmed</TYPE></DETECTION></DETECTION_LIST></HOST></HOST_LIST></RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>",
    },
    Skeleton {
        root: "KNOWLEDGE_BASE_VULN_LIST_OUTPUT",
        leaf: "TITLE",
        prefix: "<KNOWLEDGE_BASE_VULN_LIST_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><VULN_LIST><VULN><QID>10001</QID><VULN_TYPE>Vulnerability</VULN_TYPE><SEVERITY_LEVEL>3</SEVERITY_LEVEL><TITLE>",
        suffix: "</TITLE><PUBLISHED_DATETIME>2024-03-12T08:00:00Z</PUBLISHED_DATETIME><PATCHABLE>1</PATCHABLE><DISCOVERY><REMOTE>1</REMOTE></DISCOVERY></VULN></VULN_LIST></RESPONSE></KNOWLEDGE_BASE_VULN_LIST_OUTPUT>",
    },
    // CSV answers have no root element: a document fault on them is an XML document where CSV
    // was expected, which a client must refuse all the same.
    Skeleton { root: crate::routes::CSV_ROOT, leaf: "TEXT", prefix: "<CSV><TEXT>", suffix: "</TEXT></CSV>" },
    Skeleton {
        root: "POLICY_LIST_OUTPUT",
        leaf: "TITLE",
        prefix: "<POLICY_LIST_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><POLICY_LIST><POLICY><ID>700000</ID><TITLE>",
        suffix: "</TITLE></POLICY></POLICY_LIST></RESPONSE></POLICY_LIST_OUTPUT>",
    },
    Skeleton {
        root: "POSTURE_INFO_LIST_OUTPUT",
        leaf: "STATUS",
        prefix: "<POSTURE_INFO_LIST_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><INFO_LIST><INFO><ID>1</ID><HOST_ID>100000</HOST_ID><CONTROL_ID>1000</CONTROL_ID><STATUS>",
        suffix: "</STATUS></INFO></INFO_LIST></RESPONSE></POSTURE_INFO_LIST_OUTPUT>",
    },
    Skeleton {
        root: "ABOUT",
        leaf: "API-VERSION",
        prefix: "<ABOUT><API-VERSION>",
        suffix: "</API-VERSION></ABOUT>",
    },
];

/// The skeleton of the path's root; a user list for paths the simulator does not serve.
fn skeleton(path: &str) -> &'static Skeleton {
    let root = crate::routes::root_element(path).unwrap_or("USER_LIST_OUTPUT");
    SKELETONS.iter().find(|s| s.root == root).unwrap_or_else(|| {
        panic!("no fault skeleton for <{root}>: add one to SKELETONS in simulator/src/faults.rs")
    })
}

/// The error document of the path's API family, with HTTP 200 (fault `error-document`).
fn error_document(path: &str, base: &str) -> Response<SimBody> {
    if path.starts_with("/msp/") {
        // sdk: GENERIC_RETURN / RETURN status="FAILED" (see `errors::generic_return`).
        generic_return(200, 999, INTERNAL_ERROR, base)
    } else if path.starts_with("/qps/") {
        // real: QPS errors are HTTP 200 ServiceResponses (see `errors::service_error`).
        service_error(
            "INVALID_REQUEST",
            INTERNAL_ERROR,
            "Retry later; contact Qualys support if it persists.",
        )
    } else {
        // doc: SIMPLE_RETURN (see `errors::simple_return`); code 999 is the simulator's own.
        simple_return(200, 999, INTERNAL_ERROR, base)
    }
}

/// The path's normal root holding only `ERROR` (fault `error-in-root`); other paths fall back to
/// [`error_document`].
fn error_in_root_of(path: &str, base: &str) -> Response<SimBody> {
    let dtd = match path {
        "/msp/user_list.php" => "user_list_output.dtd",
        "/msp/ticket_list.php" => "ticket_list_output.dtd",
        "/msp/about.php" => "about.dtd",
        _ => return error_document(path, base),
    };
    let root = crate::routes::root_element(path).expect("served path");
    // sdk + doc: v1 errors sit inside the normal root (see `errors::error_in_root`).
    error_in_root(root, &format!("{base}/{dtd}"), 999, INTERNAL_ERROR)
}

/// Faults that replace the exchange; `None` for faults that transform the normal response.
/// `path` picks the document shape (root element, API family) of document faults.
pub async fn respond(fault: &Fault, path: &str, base: &str) -> Option<Response<SimBody>> {
    let body = |ct: &str, status: u16, b: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", ct)
            .body(SimBody::Full(Some(Bytes::from(b))))
            .expect("valid")
    };
    const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    let sk = skeleton(path);
    // The skeleton with `payload` as the leaf's text, complete to the root's end tag.
    let doc = |head: &str, payload: &[u8]| -> Vec<u8> {
        let mut b = Vec::from(DECL.as_bytes());
        b.extend_from_slice(head.as_bytes());
        b.extend_from_slice(sk.prefix.as_bytes());
        b.extend_from_slice(payload);
        b.extend_from_slice(sk.suffix.as_bytes());
        b.push(b'\n');
        b
    };
    // unverified, by design: the document faults are synthetic (what a broken proxy, gateway or
    // server could send), wrapped in the path's documented root so they reach the right parser;
    // lines citing another source say so.
    Some(match fault {
        // A complete body whose leaf is closed by the wrong end tag.
        Fault::MalformedXml => {
            let mut b = Vec::from(DECL.as_bytes());
            b.extend_from_slice(sk.prefix.as_bytes());
            b.extend_from_slice(b"a");
            b.extend_from_slice(sk.suffix.replacen(&format!("</{}>", sk.leaf), "</MISMATCHED_END_TAG>", 1).as_bytes());
            b.push(b'\n');
            body("text/xml", 200, b)
        }
        Fault::HtmlPage => body("text/html", 200, b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Maintenance</h1></body></html>".to_vec()),
        Fault::EmptyBody => body("text/xml", 200, Vec::new()),
        Fault::NotXml => body("text/xml", 200, b"Internal Server Error\n".to_vec()),
        Fault::NonUtf8 => body("text/xml", 200, doc("", b"\xff\xfe\xfd")),
        Fault::EntityBomb => {
            let mut s = format!("<!DOCTYPE {} [<!ENTITY lol \"lol\">", sk.root);
            for i in 1..10 {
                let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
                s.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
            }
            s.push_str("]>\n");
            body("text/xml", 200, doc(&s, b"&lol9;"))
        }
        Fault::ExternalEntity => {
            let head = format!("<!DOCTYPE {} [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n", sk.root);
            body("text/xml", 200, doc(&head, b"&xxe;"))
        }
        Fault::DeepNesting => {
            let nest = format!("{}{}", "<A>".repeat(10_000), "</A>".repeat(10_000));
            body("text/xml", 200, doc("", nest.as_bytes()))
        }
        Fault::HugeAnnounced => {
            let (tx, rx) = mpsc::channel(4);
            let head = format!("{DECL}{}", sk.prefix);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Bytes::from(head))).await;
                // Let the first bytes reach the client before the connection closes.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(Err(std::io::Error::other("connection closed"))).await;
            });
            Response::builder().status(200).header("content-type", "text/xml").header("content-length", "2000000000").body(SimBody::Stream(rx)).expect("valid")
        }
        Fault::ErrorDocument => error_document(path, base),
        Fault::ErrorInRoot => error_in_root_of(path, base),
        // unverified: Qualys' 401 body (see `errors::unauthorized`).
        Fault::Status(401) => unauthorized(),
        // unverified: a gateway's short HTML page.
        Fault::Status(code) => body("text/html", *code, format!("<html><body><h1>{code}</h1>Error from the simulated gateway</body></html>").into_bytes()),
        // real: 409 with code 1965 and X-RateLimit-ToWait-Sec.
        Fault::RateLimit(wait) => {
            let mut r = simple_return(409, 1965, &format!("This API cannot be run again for another {wait} seconds."), base);
            r.headers_mut().insert("x-ratelimit-towait-sec", (*wait).into());
            r
        }
        // real: 409 with code 1960 and no wait header; the text is unverified.
        Fault::Concurrency => simple_return(409, 1960, "Concurrency limit of 2 reached. Please try again later.", base),
        Fault::RedirectOffHost => Response::builder().status(302).header("location", "https://evil.example.com/msp/user_list.php").body(SimBody::Full(None)).expect("valid"),
        Fault::Hang(ms) => {
            tokio::time::sleep(Duration::from_millis(*ms)).await;
            xml_response(504, "<html>timeout</html>".into())
        }
        _ => return None,
    })
}

/// Faults applied to the normal response.
pub async fn transform(fault: &Fault, response: Response<SimBody>, _base: &str) -> Response<SimBody> {
    let (mut parts, body) = response.into_parts();
    let bytes = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let full = |parts: http::response::Parts, b: Bytes| Response::from_parts(parts, SimBody::Full(Some(b)));
    match fault {
        Fault::Truncated => {
            let cut = bytes.slice(..bytes.len() * 2 / 3);
            parts.headers.insert("content-length", bytes.len().to_string().parse().expect("a number"));
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(async move {
                let _ = tx.send(Ok(cut)).await;
            });
            Response::from_parts(parts, SimBody::Stream(rx))
        }
        Fault::CutDocument => {
            let cut = bytes.len() * 2 / 3;
            parts.headers.insert("content-length", cut.to_string().parse().expect("a number"));
            full(parts, bytes.slice(..cut))
        }
        Fault::WrongContentType => {
            parts.headers.insert("content-type", "application/json".parse().expect("valid"));
            full(parts, bytes)
        }
        Fault::HugeBody(size) | Fault::CommentBloat(size) => {
            let size = *size;
            // 1 MiB of padding: many comments of 1 KiB each, or the inside of one comment.
            let chunk = match fault {
                Fault::HugeBody(_) => Bytes::from(format!("<!--{}-->", "x".repeat(1017)).repeat(1024)),
                _ => Bytes::from(vec![b'x'; 1 << 20]),
            };
            let (open, close) = if matches!(fault, Fault::HugeBody(_)) { ("", "") } else { ("<!--", "-->") };
            let (tx, rx) = mpsc::channel(8);
            tokio::spawn(async move {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                // Pad inside the root element, so the document stays valid.
                let at = text.rfind("</").unwrap_or(text.len());
                let _ = tx.send(Ok(Bytes::from(text[..at].to_string() + open))).await;
                let mut sent = 0u64;
                while sent < size {
                    if tx.send(Ok(chunk.clone())).await.is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                }
                let _ = tx.send(Ok(Bytes::from(close.to_string() + &text[at..]))).await;
            });
            parts.headers.remove("content-length");
            Response::from_parts(parts, SimBody::Stream(rx))
        }
        Fault::SlowDrip(ms) => {
            let ms = *ms;
            let (tx, rx) = mpsc::channel(1);
            tokio::spawn(async move {
                for b in bytes.iter() {
                    if tx.send(Ok(Bytes::copy_from_slice(&[*b]))).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
            });
            parts.headers.remove("content-length");
            Response::from_parts(parts, SimBody::Stream(rx))
        }
        Fault::SwapRecords(name) | Fault::DoubleRecord(name) | Fault::RemoveElement(name) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            parts.headers.remove("content-length");
            full(parts, Bytes::from(edit_records(fault, name, text)))
        }
        Fault::ResetMidBody => {
            let (tx, rx) = mpsc::channel(2);
            let half = bytes.slice(..bytes.len() / 2);
            tokio::spawn(async move {
                let _ = tx.send(Ok(half)).await;
                let _ = tx.send(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset"))).await;
            });
            parts.headers.remove("content-length");
            Response::from_parts(parts, SimBody::Stream(rx))
        }
        _ => full(parts, bytes),
    }
}

/// Marks a rule as hit (for faults that routes apply themselves).
pub fn hit(rule: &FaultRule) {
    count_hit(rule);
}

impl std::str::FromStr for FaultRule {
    type Err = String;

    /// `KIND[:ARG][@PATH][*COUNT]`, e.g. `status:503@/msp/*2`, `slow-drip:1000`, `truncated@/api/`.
    fn from_str(spec: &str) -> Result<FaultRule, String> {
        let (spec, count) = match spec.rsplit_once('*') {
            Some((s, n)) => (s, Some(n.parse::<u64>().map_err(|_| format!("bad count in {spec:?}"))?)),
            None => (spec, None),
        };
        let (kind, path) = spec.split_once('@').unwrap_or((spec, ""));
        let (name, arg) = kind.split_once(':').unwrap_or((kind, ""));
        let text_arg = |default: &str| if arg.is_empty() { default } else { arg }.to_string();
        let num = |default: u64| -> Result<u64, String> {
            if arg.is_empty() {
                Ok(default)
            } else {
                arg.parse().map_err(|_| format!("bad number in {spec:?}"))
            }
        };
        let fault = match name {
            "malformed-xml" => Fault::MalformedXml,
            "truncated" => Fault::Truncated,
            "html" => Fault::HtmlPage,
            "wrong-content-type" => Fault::WrongContentType,
            "empty" => Fault::EmptyBody,
            "non-utf8" => Fault::NonUtf8,
            "huge-announced" => Fault::HugeAnnounced,
            "huge-body" => Fault::HugeBody(num(100 << 20)?),
            "comment-bloat" => Fault::CommentBloat(num(20 << 20)?),
            "entity-bomb" => Fault::EntityBomb,
            "external-entity" => Fault::ExternalEntity,
            "deep-nesting" => Fault::DeepNesting,
            "slow-drip" => Fault::SlowDrip(num(1000)?),
            "reset" => Fault::ResetMidBody,
            "status" => Fault::Status(num(503)? as u16),
            "rate-limit" => Fault::RateLimit(num(60)? as u32),
            "concurrency" => Fault::Concurrency,
            "redirect" => Fault::RedirectOffHost,
            "hang" => Fault::Hang(num(60_000)?),
            "delay" => Fault::Delay(num(500)?),
            "next-url-other-host" => Fault::NextUrlOtherHost,
            "next-url-repeat" => Fault::NextUrlRepeat,
            "repeat-records" => Fault::RepeatRecords,
            "skip-records" => Fault::SkipRecords,
            "repeat-last" => Fault::RepeatLast,
            "cut-document" => Fault::CutDocument,
            "echo-credentials" => Fault::EchoCredentials,
            "swap-records" => Fault::SwapRecords(text_arg("TICKET")),
            "double-record" => Fault::DoubleRecord(text_arg("TICKET")),
            "remove-element" => Fault::RemoveElement(text_arg("NUMBER")),
            "error-document" => Fault::ErrorDocument,
            "error-in-root" => Fault::ErrorInRoot,
            "not-xml" => Fault::NotXml,
            other => return Err(format!("unknown fault {other:?}")),
        };
        Ok(FaultRule { path: path.to_string(), count, ..FaultRule::always("", fault) })
    }
}

/// The element `<name>…</name>` starting at or after `from`, as a byte range.
fn element(text: &str, name: &str, from: usize) -> Option<std::ops::Range<usize>> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = from + text[from..].find(&open)?;
    let end = start + text[start..].find(&close)? + close.len();
    Some(start..end)
}

/// A record-level edit of a document (see [`Fault::SwapRecords`] and its siblings); a document
/// without the element is left as it is.
fn edit_records(fault: &Fault, name: &str, text: String) -> String {
    let Some(first) = element(&text, name, 0) else { return text };
    match fault {
        Fault::SwapRecords(_) => match element(&text, name, first.end) {
            Some(second) => [
                &text[..first.start],
                &text[second.clone()],
                &text[first.end..second.start],
                &text[first.clone()],
                &text[second.end..],
            ]
            .concat(),
            None => text,
        },
        Fault::DoubleRecord(_) => [&text[..first.end], &text[first.clone()], &text[first.end..]].concat(),
        _ => [&text[..first.start], &text[first.end..]].concat(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_with_argument_path_and_count() {
        let r: FaultRule = "status:502@/msp/*2".parse().unwrap();
        assert_eq!((r.fault, r.path.as_str(), r.count), (Fault::Status(502), "/msp/", Some(2)));
        let r: FaultRule = "slow-drip".parse().unwrap();
        assert_eq!((r.fault, r.path.as_str(), r.count), (Fault::SlowDrip(1000), "", None));
        assert!("melt-down".parse::<FaultRule>().is_err());
        for (spec, fault) in [
            ("error-document", Fault::ErrorDocument),
            ("error-in-root", Fault::ErrorInRoot),
            ("not-xml", Fault::NotXml),
        ] {
            assert_eq!(spec.parse::<FaultRule>().unwrap().fault, fault);
        }
        assert!("status:abc".parse::<FaultRule>().is_err());
        let doc = "<L><T><N>1</N></T><T><N>2</N></T></L>".to_string();
        let edit = |f: Fault| edit_records(&f, "T", doc.clone());
        assert_eq!(edit(Fault::SwapRecords("T".into())), "<L><T><N>2</N></T><T><N>1</N></T></L>");
        assert_eq!(
            edit(Fault::DoubleRecord("T".into())),
            "<L><T><N>1</N></T><T><N>1</N></T><T><N>2</N></T></L>"
        );
        assert_eq!(
            edit_records(&Fault::RemoveElement("N".into()), "N", doc.clone()),
            "<L><T></T><T><N>2</N></T></L>"
        );
    }
}

#[cfg(test)]
mod skeleton_tests {
    /// Every route's document can be broken on purpose: a new route without a skeleton fails
    /// here instead of in the middle of a fault scenario.
    #[test]
    fn every_registered_route_has_a_fault_skeleton() {
        for route in crate::routes::REGISTRY {
            let s = super::skeleton(route.path);
            assert_eq!(s.root, route.root, "{}", route.path);
        }
    }
}
