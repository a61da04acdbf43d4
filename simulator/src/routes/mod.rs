//! Routing to the simulated API scripts, and the parameter rules they share.

mod about;
mod hosts;
mod qps;
mod scans;
mod tickets;
mod users;

use http::Response;

use crate::errors::{generic_return, simple_return};
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig};

/// Serves one authenticated request.
pub fn route(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    match req.path.as_str() {
        "/msp/about.php" => about::about(req),
        "/msp/ticket_list.php" => tickets::ticket_list(config, req, fault),
        "/api/5.0/fo/asset/host/" => hosts::host_list(config, req, fault),
        "/qps/rest/2.0/search/am/hostasset" => qps::search_hostasset(config, req),
        "/api/3.0/fo/scan/" => scans::scan_list(config, req, false),
        "/api/2.0/fo/scan/compliance/" => scans::scan_list(config, req, true),
        "/msp/user_list.php" => users::user_list(config, req),
        // unverified: what Qualys answers for an unknown script; an HTML 404 is a guess.
        _ => Response::builder()
            .status(404)
            .header("content-type", "text/html")
            .body(SimBody::Full(Some(
                format!("<html><body>404 Not Found: {}</body></html>", req.path).into(),
            )))
            .expect("valid"),
    }
}

/// The root element of the document a path normally answers (`None` for paths the simulator
/// does not serve). Fault documents use it so they reach the parser of that proof type.
pub fn root_element(path: &str) -> Option<&'static str> {
    Some(match path {
        "/msp/about.php" => "ABOUT",
        "/msp/ticket_list.php" => "REMEDIATION_TICKETS",
        "/msp/user_list.php" => "USER_LIST_OUTPUT",
        p if p.starts_with("/qps/") => "ServiceResponse",
        p if p.starts_with("/api/") && p.contains("/fo/asset/host/") => "HOST_LIST_OUTPUT",
        p if p.starts_with("/api/") && p.contains("/fo/scan/") => "SCAN_LIST_OUTPUT",
        _ => return None,
    })
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
