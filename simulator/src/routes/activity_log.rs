//! `/api/2.0/fo/activity_log/?action=list` (Qualys API (VM, PC) User Guide, "Activity Log"):
//! the account activity log as **CSV** (doc, real), newest first, wrapped in
//! `----BEGIN_RESPONSE_BODY_CSV` / `----END_RESPONSE_BODY_CSV` lines; when more entries match
//! than `truncation_limit`, a footer `----BEGIN_RESPONSE_FOOTER_CSV`, `WARNING`,
//! `"CODE","TEXT","URL"`, one row with code 1980 and a URL carrying `id_max`, then
//! `----END_RESPONSE_FOOTER_CSV` (real). Marker lines end in LF, CSV rows in CRLF (real).
//! Errors are XML documents like every /api/2.0/ call (doc).

use http::Response;

use crate::data::{ACTIVITY_TOP, Activity, account_seed, activity, iso, parse_iso};
use crate::errors::simple_return;
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig};

// doc (names as the field notes give them; unverified against the guide's text).
const PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "output_format",
    "truncation_limit",
    "since_datetime",
    "until_datetime",
    "username",
    "user_role",
    "user_action",
    "action_details",
    "id_max",
];

/// The pseudo root of CSV answers: they have no root element; fault documents and the tests
/// use it to know the route answers CSV.
pub const CSV_ROOT: &str = "CSV";

/// `/api/2.0/fo/activity_log/`, answered with CSV.
pub static ROUTE: super::Route =
    super::Route { path: "/api/2.0/fo/activity_log/", root: CSV_ROOT, serve: activity_log };

/// A CSV field, always quoted (real: every value of the log is quoted).
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

fn line(fields: &[&str]) -> String {
    let mut l = fields.iter().map(|f| quoted(f)).collect::<Vec<_>>().join(",");
    l.push_str("\r\n");
    l
}

pub fn activity_log(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, PARAMS) {
        return r;
    }
    // unverified: who may read the log, and how Qualys refuses others (status, code, text).
    if !["Manager", "Unit Manager"].contains(&req.account.role.as_str()) {
        return simple_return(
            403,
            2000,
            "Access Denied: the activity log is available to Managers only.",
            &req.base_url,
        );
    }
    let bad = |name: &str| super::bad_value(req, name, req.param(name).unwrap_or(""));
    if req.param("output_format").is_some_and(|f| f != "CSV") {
        return bad("output_format");
    }
    let limit = match req.param("truncation_limit").map(str::parse::<u64>) {
        None => 1000,
        Some(Ok(n)) if (1..=1_000_000).contains(&n) => n,
        Some(_) => return bad("truncation_limit"),
    };
    let time = |name: &str| -> Result<Option<i64>, Response<SimBody>> {
        match req.param(name).map(parse_iso) {
            None => Ok(None),
            Some(Some(t)) => Ok(Some(t)),
            Some(None) => Err(bad(name)),
        }
    };
    let (since, until) = match (time("since_datetime"), time("until_datetime")) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let id_max = match req.param("id_max").map(str::parse::<u64>) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return bad("id_max"),
    };
    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);
    let n = config.sizes.activity;
    let keeps = |a: &Activity| {
        since.is_none_or(|s| a.date >= s)
            && until.is_none_or(|u| a.date <= u)
            && req.param("username").is_none_or(|u| u == a.user_name)
            && req.param("user_action").is_none_or(|x| x == a.action)
            && req.param("user_role").is_none_or(|x| x == a.user_role)
    };
    let top = ACTIVITY_TOP + u64::from(config.day) * 40;
    let first = id_max.map_or(0, |id| top.saturating_sub(id));
    let mut out = String::from("----BEGIN_RESPONSE_BODY_CSV\n");
    out.push_str(&line(&["Date", "Action", "Module", "Details", "User Name", "User Role", "User IP"]));
    let mut listed = 0;
    let mut more = None;
    for k in first..n {
        let a = activity(seed, k, config.day);
        if !keeps(&a) {
            continue;
        }
        if listed == limit {
            more = Some(a.id);
            break;
        }
        listed += 1;
        let date = iso(a.date);
        out.push_str(&line(&[
            &date,
            a.action,
            a.module,
            &a.details,
            &a.user_name,
            a.user_role,
            a.user_ip.as_deref().unwrap_or("N/A"),
        ]));
    }
    out.push_str("----END_RESPONSE_BODY_CSV\n");
    if let Some(next) = more {
        let next = if fault == Some(&Fault::NextUrlRepeat) { id_max.unwrap_or(next) } else { next };
        let url = super::next_page_url(req, fault, "id_max", next, "https://qualysapi.qualys.com", &req.path);
        out.push_str("----BEGIN_RESPONSE_FOOTER_CSV\nWARNING\n");
        out.push_str(&line(&["CODE", "TEXT", "URL"]));
        out.push_str(&line(&[
            "1980",
            &format!("{listed} record limit exceeded. Use URL to get next batch of results."),
            &url,
        ]));
        out.push_str("----END_RESPONSE_FOOTER_CSV\n");
    }
    // unverified: the Content-Type of the CSV answer.
    Response::builder()
        .status(200)
        .header("content-type", "text/csv;charset=UTF-8")
        .body(SimBody::Full(Some(out.into())))
        .expect("valid")
}
