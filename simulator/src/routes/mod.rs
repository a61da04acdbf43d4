//! Routing to the simulated API scripts, and the parameter rules they share.

mod about;
mod activity_log;
mod compliance;
mod detections;
mod hosts;
mod knowledge_base;
mod qps;
mod scans;
mod tickets;
mod users;

use http::Response;

pub use activity_log::CSV_ROOT;

use crate::errors::{generic_return, simple_return};
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig};
use crate::xmlw::Xml;

/// One path the simulator serves: declared once, in its route file, and listed in [`REGISTRY`].
pub struct Route {
    /// The path, as the connector calls it (`/msp/about.php`).
    pub path: &'static str,
    /// The root element of the document it normally answers; fault documents use it so that
    /// they reach the parser of that proof type, and the tests its content model.
    pub root: &'static str,
    /// Answers one request (after authentication, limits and request-level faults).
    pub serve: fn(&SimConfig, &ApiRequest, Option<&Fault>) -> Response<SimBody>,
}

/// Every route: adding a source to the simulator is a route file and a line here.
pub static REGISTRY: &[&Route] = &[
    &about::ROUTE,
    &tickets::ROUTE,
    &hosts::ROUTE,
    &qps::ROUTE,
    &scans::VM_ROUTE,
    &scans::PC_ROUTE,
    &users::ROUTE,
    &detections::ROUTE,
    &knowledge_base::ROUTE,
    &activity_log::ROUTE,
    &compliance::POLICY_ROUTE,
    &compliance::POSTURE_ROUTE,
];

/// Answers a request by its route; an unknown path gets a 404.
pub fn route(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    match REGISTRY.iter().find(|r| r.path == req.path) {
        Some(r) => (r.serve)(config, req, fault),
        // unverified: what Qualys answers for an unknown script; an HTML 404 is a guess.
        None => Response::builder()
            .status(404)
            .header("content-type", "text/html")
            .body(SimBody::Full(Some(
                format!("<html><body>404 Not Found: {}</body></html>", req.path).into(),
            )))
            .expect("valid"),
    }
}

/// The root element of the document a path normally answers (`None` for paths the simulator
/// does not serve).
pub fn root_element(path: &str) -> Option<&'static str> {
    REGISTRY.iter().find(|r| r.path == path).map(|r| r.root)
}

/// Refuses parameters a script does not know: API v2 answers SIMPLE_RETURN code 1905 with HTTP
/// 400 (real); v1 `/msp/` scripts a GENERIC_RETURN (unverified: shape, number and status).
pub fn unknown_params(req: &ApiRequest, allowed: &[&str]) -> Option<Response<SimBody>> {
    let unknown: Vec<&str> =
        req.params.iter().map(|(k, _)| k.as_str()).filter(|k| !allowed.contains(k)).collect();
    if unknown.is_empty() {
        return None;
    }
    let text = format!("Unrecognized parameter(s): {}", unknown.join(", "));
    Some(if req.path.starts_with("/msp/") {
        generic_return(400, 999, &text, &req.base_url)
    } else {
        simple_return(400, 1905, &text, &req.base_url)
    })
}

/// Checks what every `/api/` list call shares: known parameters and `action=list` (code 1903
/// for a missing action is unverified); `None` when the request may go on.
pub fn api_list_call(req: &ApiRequest, params: &[&str]) -> Option<Response<SimBody>> {
    if let Some(r) = unknown_params(req, params) {
        return Some(r);
    }
    (req.param("action") != Some("list"))
        .then(|| simple_return(400, 1903, "Missing required parameter(s): action", &req.base_url))
}

/// Refuses an account without the Manage VM module (unverified: status, code and text).
pub fn needs_vm_module(req: &ApiRequest) -> Option<Response<SimBody>> {
    (!req.account.vm_module).then(|| {
        simple_return(
            403,
            2000,
            "Access Denied: the Manage VM module is not enabled for this user.",
            &req.base_url,
        )
    })
}

/// The URL of a list's next page as Qualys writes it: the request's parameters with `param`
/// set to `next`, on Qualys' own `host` and the given `path` (doc: the guide's sample names
/// another host and API version than the call made); a hostile host under the fault
/// `next-url-other-host`.
pub fn next_page_url(
    req: &ApiRequest,
    fault: Option<&Fault>,
    param: &str,
    next: u64,
    host: &str,
    path: &str,
) -> String {
    let host = if fault == Some(&Fault::NextUrlOtherHost) { "https://evil.example.com" } else { host };
    let mut params: Vec<(String, String)> = req.params.iter().filter(|(k, _)| k != param).cloned().collect();
    params.push((param.into(), next.to_string()));
    let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
    format!("{host}{path}?{query}")
}

/// A `WARNING` code 1980 naming the next page (doc: WARNING (CODE?, TEXT, URL?); the URL's
/// CDATA surrounded by whitespace and newlines as in the guide's sample).
pub fn next_page_warning(x: &mut Xml, listed: usize, url: &str) {
    x.open("WARNING");
    x.text("CODE", "1980");
    x.text("TEXT", &format!("{listed} record limit exceeded. Use URL to get next batch of results."));
    x.cdata_spaced("URL", url);
    x.close("WARNING");
}

/// Refuses a bad parameter value: code 1905 with HTTP 400 on API v2 (real for bad parameters);
/// a GENERIC_RETURN on v1 (unverified).
pub fn bad_value(req: &ApiRequest, name: &str, value: &str) -> Response<SimBody> {
    let text = format!("Parameter {name} has invalid value: {value}");
    if req.path.starts_with("/msp/") {
        generic_return(400, 999, &text, &req.base_url)
    } else {
        simple_return(400, 1905, &text, &req.base_url)
    }
}
