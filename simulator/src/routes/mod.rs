//! Routing to the simulated API scripts, and the parameter rules they share.

mod about;
mod hosts;
mod qps;
mod scans;
mod tickets;
mod users;

use http::Response;

use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig, generic_return, simple_return};

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
        _ => Response::builder()
            .status(404)
            .header("content-type", "text/html")
            .body(SimBody::Full(Some(
                format!("<html><body>404 Not Found: {}</body></html>", req.path).into(),
            )))
            .expect("valid"),
    }
}

/// Refuses parameters a script does not know, the way Qualys does: API v2 answers
/// SIMPLE_RETURN code 1905 (HTTP 400), v1 `/msp/` scripts a GENERIC_RETURN.
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

/// Refuses a bad parameter value with code 1905 (v2) or a GENERIC_RETURN (v1).
pub fn bad_value(req: &ApiRequest, name: &str, value: &str) -> Response<SimBody> {
    let text = format!("Parameter {name} has invalid value: {value}");
    if req.path.starts_with("/msp/") {
        generic_return(400, 999, &text, &req.base_url)
    } else {
        simple_return(400, 1905, &text, &req.base_url)
    }
}
