//! Scan lists: VM `/api/3.0/fo/scan/?action=list` and PC `/api/2.0/fo/scan/compliance/?action=list`
//! (Qualys API (VM, PC) User Guide, "Scan List", "Compliance Scan List"). Without a launch date
//! range, only the last 30 days are returned, as Qualys does.

use http::Response;

use crate::data::{NOW_EPOCH, account_seed, iso, parse_iso, scan};
use crate::errors::simple_return;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

// doc: the parameters of the Scan List and Compliance Scan List calls.
const VM_PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "scan_ref",
    "state",
    "processed",
    "type",
    "target",
    "user_login",
    "launched_after_datetime",
    "launched_before_datetime",
    "show_ags",
    "show_op",
    "show_status",
    "show_last",
    "pci_only",
    "ignore_target",
    "client_id",
    "client_name",
];
const PC_PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "scan_id",
    "scan_ref",
    "state",
    "processed",
    "type",
    "target",
    "user_login",
    "launched_after_datetime",
    "launched_before_datetime",
    "show_ags",
    "show_op",
    "show_status",
    "show_last",
    "client_id",
    "client_name",
];

/// `/api/3.0/fo/scan/` (VM scans), answered with `SCAN_LIST_OUTPUT`.
pub static VM_ROUTE: super::Route = super::Route {
    path: "/api/3.0/fo/scan/",
    root: "SCAN_LIST_OUTPUT",
    serve: |config, req, _| scan_list(config, req, false),
};

/// `/api/2.0/fo/scan/compliance/` (PC scans), answered with `SCAN_LIST_OUTPUT`.
pub static PC_ROUTE: super::Route = super::Route {
    path: "/api/2.0/fo/scan/compliance/",
    root: "SCAN_LIST_OUTPUT",
    serve: |config, req, _| scan_list(config, req, true),
};

/// Serves a scan list; `pc` picks the compliance variant.
pub fn scan_list(config: &SimConfig, req: &ApiRequest, pc: bool) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, if pc { PC_PARAMS } else { VM_PARAMS }) {
        return r;
    }
    // unverified: the module refusal (403, code 2000).
    if pc && !req.account.pc_module || !pc && !req.account.vm_module {
        let module = if pc { "Manage PC/SCA" } else { "Manage VM" };
        return simple_return(
            403,
            2000,
            &format!("Access Denied: the {module} module is not enabled for this user."),
            &req.base_url,
        );
    }
    let date = |name: &str| -> Result<Option<i64>, Response<SimBody>> {
        match req.param(name) {
            None => Ok(None),
            Some(v) => parse_iso(v).map(Some).ok_or_else(|| super::bad_value(req, name, v)),
        }
    };
    let (after, before) = match (date("launched_after_datetime"), date("launched_before_datetime")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    // doc: without a launch window only the last 30 days are listed.
    let after = after.unwrap_or(if before.is_none() { NOW_EPOCH - 30 * 86_400 } else { i64::MIN });
    let before = before.unwrap_or(i64::MAX);
    let states: Option<Vec<&str>> = req.param("state").map(|s| s.split(',').collect());
    let scan_type = req.param("type");
    let count = if pc { config.sizes.pc_scans } else { config.sizes.vm_scans };
    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);

    // Shape: doc (scan_list_output.dtd, "Scan List"): SCAN_LIST_OUTPUT (REQUEST?, RESPONSE
    // (DATETIME, SCAN_LIST?)); SCAN: ID?, REF, SCAN_TYPE?, TYPE, TITLE, CLIENT?, USER_LOGIN,
    // LAUNCH_DATETIME, DURATION, PROCESSING_PRIORITY?, PROCESSED, STATUS? (STATE, SUB_STATE?),
    // TARGET?, ASSET_GROUP_TITLE_LIST?, OPTION_PROFILE? (TITLE, DEFAULT_FLAG?). v3.0 keeps the
    // v2.0 shape (doc); the compliance list has the same one (doc). No paging (doc).
    let mut x =
        Xml::with_doctype("SCAN_LIST_OUTPUT", &format!("{}{}scan_list_output.dtd", req.base_url, req.path));
    x.open("SCAN_LIST_OUTPUT").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    let mut listed = false;
    // Newest first, as Qualys lists scans.
    for i in (0..count).rev() {
        let s = scan(seed, i, count, pc);
        if s.launched < after || s.launched > before {
            continue;
        }
        if states.as_ref().is_some_and(|st| !st.contains(&s.state))
            || scan_type.is_some_and(|t| t != s.scan_type)
        {
            continue;
        }
        if !listed {
            x.open("SCAN_LIST");
            listed = true;
        }
        x.open("SCAN");
        if pc {
            x.text("ID", &s.id.to_string());
        }
        x.text("REF", &s.reference);
        x.text("TYPE", s.scan_type);
        // doc: text values may be CDATA surrounded by whitespace and newlines (the guide's sample).
        x.cdata_spaced("TITLE", &s.title);
        x.text("USER_LOGIN", &s.user_login);
        x.text("LAUNCH_DATETIME", &iso(s.launched));
        x.text("DURATION", &s.duration);
        if !pc {
            x.text("PROCESSING_PRIORITY", s.priority);
        }
        x.text("PROCESSED", if s.processed { "1" } else { "0" });
        x.open("STATUS").text("STATE", s.state);
        x.opt_text("SUB_STATE", s.sub_state);
        x.close("STATUS");
        x.cdata_spaced("TARGET", &s.target);
        if !s.asset_groups.is_empty() {
            x.open("ASSET_GROUP_TITLE_LIST");
            for g in &s.asset_groups {
                x.cdata("ASSET_GROUP_TITLE", g);
            }
            x.close("ASSET_GROUP_TITLE_LIST");
        }
        x.open("OPTION_PROFILE").cdata("TITLE", s.option_profile);
        if s.default_profile {
            x.text("DEFAULT_FLAG", "1");
        }
        x.close("OPTION_PROFILE");
        x.close("SCAN");
    }
    if listed {
        x.close("SCAN_LIST");
    }
    x.close("RESPONSE").close("SCAN_LIST_OUTPUT");
    xml_response(200, x.out)
}
