//! Fault injection: what a broken proxy, a failing Qualys or a hostile server would send.
//! A rule picks requests by path prefix and by their index; a fault either replaces the
//! whole response or transforms the normal one.

use std::time::Duration;

use bytes::Bytes;
use http::Response;
use http_body_util::BodyExt;
use tokio::sync::mpsc;

use crate::server::{SimBody, simple_return, xml_response};

/// One kind of fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Syntactically broken XML with status 200.
    MalformedXml,
    /// The normal body cut in the middle of an element (the connection closes cleanly).
    Truncated,
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
    /// An actual body of this many bytes (a valid document padded with a huge comment).
    HugeBody(u64),
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
    /// This HTTP status with a short HTML body (500, 502, 503, 504...).
    Status(u16),
    /// 409 rate limit (code 1965) asking to wait this many seconds.
    RateLimit(u32),
    /// 409 concurrency limit (code 1960), no wait header.
    Concurrency,
    /// A 302 redirect to another host.
    RedirectOffHost,
    /// No answer at all for this long (a hung server).
    Hang(u64),
    /// Next-page URL pointing at another host (proof-type routes apply it).
    NextUrlOtherHost,
    /// Next-page URL equal to the current one (proof-type routes apply it).
    NextUrlRepeat,
    /// Paging that repeats the previous page's records (proof-type routes apply it).
    RepeatRecords,
    /// Paging that skips ahead (proof-type routes apply it).
    SkipRecords,
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

/// Faults that replace the exchange; `None` for faults that transform the normal response.
pub async fn respond(fault: &Fault, base: &str) -> Option<Response<SimBody>> {
    let body = |ct: &str, status: u16, b: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", ct)
            .body(SimBody::Full(Some(Bytes::from(b))))
            .expect("valid")
    };
    Some(match fault {
        Fault::MalformedXml => body("text/xml", 200, b"<?xml version=\"1.0\"?><USER_LIST_OUTPUT><RESPONSE><USER_LIST><USER><USER_LOGIN>a</USER_LIST></RESPONSE>".to_vec()),
        Fault::HtmlPage => body("text/html", 200, b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body><h1>Maintenance</h1></body></html>".to_vec()),
        Fault::EmptyBody => body("text/xml", 200, Vec::new()),
        Fault::NonUtf8 => body("text/xml", 200, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?><USER_LIST_OUTPUT><RESPONSE><USER_LIST><USER><USER_LOGIN>\xff\xfe\xfd</USER_LOGIN></USER></USER_LIST></RESPONSE></USER_LIST_OUTPUT>".to_vec()),
        Fault::EntityBomb => {
            let mut s = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">");
            for i in 1..10 {
                let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
                s.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
            }
            s.push_str("]>\n<USER_LIST_OUTPUT><RESPONSE><USER_LIST><USER><USER_LOGIN>&lol9;</USER_LOGIN></USER></USER_LIST></RESPONSE></USER_LIST_OUTPUT>");
            body("text/xml", 200, s.into_bytes())
        }
        Fault::ExternalEntity => body("text/xml", 200, b"<?xml version=\"1.0\"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n<USER_LIST_OUTPUT><RESPONSE><USER_LIST><USER><USER_LOGIN>&xxe;</USER_LOGIN></USER></USER_LIST></RESPONSE></USER_LIST_OUTPUT>".to_vec()),
        Fault::DeepNesting => {
            let s = format!("<?xml version=\"1.0\"?><USER_LIST_OUTPUT>{}{}</USER_LIST_OUTPUT>", "<A>".repeat(10_000), "</A>".repeat(10_000));
            body("text/xml", 200, s.into_bytes())
        }
        Fault::HugeAnnounced => {
            let (tx, rx) = mpsc::channel(4);
            tokio::spawn(async move {
                let _ = tx.send(Ok(Bytes::from_static(b"<?xml version=\"1.0\"?><USER_LIST_OUTPUT>"))).await;
                let _ = tx.send(Err(std::io::Error::other("connection closed"))).await;
            });
            Response::builder().status(200).header("content-type", "text/xml").header("content-length", "2000000000").body(SimBody::Stream(rx)).expect("valid")
        }
        Fault::Status(code) => body("text/html", *code, format!("<html><body><h1>{code}</h1>Error from the simulated gateway</body></html>").into_bytes()),
        Fault::RateLimit(wait) => {
            let mut r = simple_return(409, 1965, &format!("This API cannot be run again for another {wait} seconds."), base);
            r.headers_mut().insert("x-ratelimit-towait-sec", (*wait).into());
            r
        }
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
            let cut = bytes.len() * 2 / 3;
            parts.headers.remove("content-length");
            full(parts, bytes.slice(..cut))
        }
        Fault::WrongContentType => {
            parts.headers.insert("content-type", "application/json".parse().expect("valid"));
            full(parts, bytes)
        }
        Fault::HugeBody(size) => {
            let size = *size;
            let (tx, rx) = mpsc::channel(8);
            tokio::spawn(async move {
                let text = String::from_utf8_lossy(&bytes).into_owned();
                // Pad inside the root element with a comment, so the document stays valid.
                let at = text.rfind("</").unwrap_or(text.len());
                let _ = tx.send(Ok(Bytes::from(text[..at].to_string() + "<!--"))).await;
                let chunk = Bytes::from(vec![b'x'; 1 << 20]);
                let mut sent = 0u64;
                while sent < size {
                    if tx.send(Ok(chunk.clone())).await.is_err() {
                        return;
                    }
                    sent += chunk.len() as u64;
                }
                let _ = tx.send(Ok(Bytes::from("-->".to_string() + &text[at..]))).await;
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
            "next-url-other-host" => Fault::NextUrlOtherHost,
            "next-url-repeat" => Fault::NextUrlRepeat,
            "repeat-records" => Fault::RepeatRecords,
            "skip-records" => Fault::SkipRecords,
            other => return Err(format!("unknown fault {other:?}")),
        };
        Ok(FaultRule { path: path.to_string(), count, ..FaultRule::always("", fault) })
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
        assert!("status:abc".parse::<FaultRule>().is_err());
    }
}
