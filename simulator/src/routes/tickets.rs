//! `/msp/ticket_list.php` (Qualys API v1 User Guide, "Ticket List"; ticket_list_output.dtd).
//! At most 1,000 tickets per call in ticket-number order; `TRUNCATION last="N"` when more match.
//! Without `states` only OPEN tickets are listed (sdk: one public client reports it; unverified
//! either way), so a connector that forgets to send the states it means is caught.

use http::Response;

use crate::data::{account_seed, cves, iso, parse_iso, real_now, ticket_on};
use crate::errors::error_in_root;
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

// doc: the parameters of ticket_list.php (Qualys API v1 User Guide).
const PARAMS: &[&str] = &[
    "ticket_numbers",
    "since_ticket_number",
    "until_ticket_number",
    "ticket_assignee",
    "overdue",
    "invalid",
    "states",
    "modified_since_datetime",
    "unmodified_since_datetime",
    "ips",
    "asset_groups",
    "dns_contains",
    "netbios_contains",
    "vuln_severities",
    "potential_vuln_severities",
    "qids",
    "vuln_title_contains",
    "vuln_details_contains",
    "vendor_ref_contains",
    "show_vuln_details",
];

/// Qualys' per-call maximum (doc).
pub const LIMIT: usize = 1000;

/// `/msp/ticket_list.php`, answered with `REMEDIATION_TICKETS`.
pub static ROUTE: super::Route =
    super::Route { path: "/msp/ticket_list.php", root: "REMEDIATION_TICKETS", serve: ticket_list };

pub fn ticket_list(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::unknown_params(req, PARAMS) {
        return r;
    }
    // Shape: sdk + doc (v1 errors inside the normal root, HTTP 200); number and text unverified.
    if !req.account.vm_module {
        return error_in_root(
            "REMEDIATION_TICKETS",
            &format!("{}/ticket_list_output.dtd", req.base_url),
            2003,
            "Insufficient privileges: the Manage VM module is required.",
        );
    }
    let num = |name: &str| -> Result<Option<u64>, Response<SimBody>> {
        match req.param(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| super::bad_value(req, name, v)),
        }
    };
    let (since, until) = match (num("since_ticket_number"), num("until_ticket_number")) {
        (Ok(a), Ok(b)) => (a.unwrap_or(0), b.unwrap_or(u64::MAX)),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    // sdk/unverified: without `states`, only OPEN tickets.
    let states: Vec<&str> = req.param("states").map_or_else(|| vec!["OPEN"], |s| s.split(',').collect());
    if let Some(bad) = states.iter().find(|s| !["OPEN", "RESOLVED", "CLOSED", "IGNORED"].contains(s)) {
        return super::bad_value(req, "states", bad);
    }
    let severities: Option<Vec<u8>> = match req.param("vuln_severities") {
        None => None,
        Some(v) => match v.split(',').map(|s| s.parse::<u8>().ok().filter(|n| (1..=5).contains(n))).collect()
        {
            Some(list) => Some(list),
            None => return super::bad_value(req, "vuln_severities", v),
        },
    };
    let modified_since = match req.param("modified_since_datetime") {
        None => None,
        Some(v) => match parse_iso(v) {
            Some(t) => Some(t),
            None => return super::bad_value(req, "modified_since_datetime", v),
        },
    };
    let overdue = match req.param("overdue") {
        None => None,
        Some("1") => Some(true),
        Some("0") => Some(false),
        Some(v) => return super::bad_value(req, "overdue", v),
    };
    let now = real_now();
    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);

    // Shape: doc (ticket_list_output.dtd, "Ticket List"): REMEDIATION_TICKETS (HEADER (USER_LOGIN,
    // COMPANY, DATETIME, WHERE?), TICKET_LIST?, TRUNCATION?), TRUNCATION last="N" the root's last
    // child, N the page's last ticket NUMBER.
    let mut x = Xml::with_doctype("REMEDIATION_TICKETS", &format!("{}/ticket_list_output.dtd", req.base_url));
    x.open("REMEDIATION_TICKETS").open("HEADER");
    x.text("USER_LOGIN", &req.account.login)
        .cdata("COMPANY", "Example Corp")
        .text("DATETIME", &crate::data::now_qualys());
    x.close("HEADER");
    let mut returned = 0;
    let mut last = None;
    let mut truncated = false;
    let mut listed = false;
    // A fault that repeats records starts one page back.
    let since = match fault {
        Some(Fault::RepeatRecords) if since > 0 => since.saturating_sub(2 * LIMIT as u64 + 10),
        // The previous page's last ticket again: `since` is one past it.
        Some(Fault::RepeatLast) if since > 0 => since - 1,
        _ => since,
    };
    // Ticket numbers are 10,000 + 3i + i%2: start just below `since` instead of at 0.
    let first = since.saturating_sub(10_000) / 3;
    for i in first.saturating_sub(1)..config.sizes.tickets {
        let t = ticket_on(seed, i, config.sizes.tickets, config.day);
        if t.number < since || t.number > until {
            continue;
        }
        if !states.contains(&t.state)
            || severities.as_ref().is_some_and(|s| !s.contains(&t.severity))
            || modified_since.is_some_and(|m| t.modified() < m)
            || overdue.is_some_and(|o| t.overdue(now) != o)
        {
            continue;
        }
        if returned == LIMIT {
            truncated = true;
            break;
        }
        if !listed {
            x.open("TICKET_LIST");
            listed = true;
        }
        write_ticket(&mut x, &t);
        x.flush(req);
        returned += 1;
        last = Some(t.number);
    }
    if listed {
        x.close("TICKET_LIST");
    }
    if truncated && let Some(last) = last {
        // doc: TRUNCATION last="N" as the root's last child (its text is the simulator's own).
        // A broken server may claim a later last ticket than it sent: a chain that skips.
        let last = if fault == Some(&Fault::SkipRecords) { last + 30 } else { last };
        x.raw(&format!("<TRUNCATION last=\"{last}\">Truncated after {LIMIT} records</TRUNCATION>\n"));
    }
    x.close("REMEDIATION_TICKETS");
    xml_response(200, x.out)
}

/// A service name for a detection's port (the simulator's own names; any text is plausible).
fn service(port: u16) -> &'static str {
    match port {
        22 => "SSH",
        3389 => "Remote Desktop",
        _ => "Web Server",
    }
}

// Shape: doc (TICKET: NUMBER, CREATION_DATETIME, DUE_DATETIME, CURRENT_STATE, CURRENT_STATUS,
// INVALID, ASSIGNEE (NAME, EMAIL, LOGIN), DETECTION, STATS, HISTORY_LIST, VULNINFO, DETAILS).
// DETECTION holds IP, DNSNAME, NBHNAME, SERVICE, then PORT, PROTOCOL, FQDN where present (doc and
// every public parser; not DNS / NETBIOS). STATS as in the notes; LAST_RESOLVED_DATETIME is
// unverified. VULNINFO: TITLE, TYPE, QID, SEVERITY, STANDARD_SEVERITY, CVE_ID_LIST (doc). The
// HISTORY children are the simulator's reading of the DTD (unverified). CURRENT_STATUS and
// DETAILS are not written (the values are not recorded in the notes).
fn write_ticket(x: &mut Xml, t: &crate::data::Ticket) {
    x.open("TICKET");
    x.text("NUMBER", &t.number.to_string());
    x.text("CREATION_DATETIME", &iso(t.created));
    x.opt_text("DUE_DATETIME", t.due.map(iso).as_deref());
    x.text("CURRENT_STATE", t.state);
    x.text("INVALID", if t.invalid { "1" } else { "0" });
    x.open("ASSIGNEE")
        .cdata("NAME", &t.assignee.1)
        .cdata("EMAIL", &t.assignee.2)
        .text("LOGIN", &t.assignee.0)
        .close("ASSIGNEE");
    x.open("DETECTION");
    x.text("IP", &t.ip);
    x.opt_cdata("DNSNAME", t.dns.as_deref());
    x.opt_cdata("NBHNAME", t.netbios.as_deref());
    x.opt_text("SERVICE", t.port.map(service));
    x.opt_text("PORT", t.port.map(|p| p.to_string()).as_deref());
    x.opt_text("PROTOCOL", t.protocol);
    x.opt_cdata("FQDN", t.dns.as_deref());
    x.close("DETECTION");
    x.open("STATS");
    x.text("FIRST_FOUND_DATETIME", &iso(t.first_found));
    x.text("LAST_FOUND_DATETIME", &iso(t.last_found));
    x.text("LAST_SCAN_DATETIME", &iso(t.last_scan));
    x.text("TIMES_FOUND", &t.times_found.to_string());
    x.text("TIMES_NOT_FOUND", "0");
    x.text("LAST_OPEN_DATETIME", &iso(t.created));
    x.opt_text("LAST_RESOLVED_DATETIME", t.resolved.map(iso).as_deref());
    x.opt_text("LAST_CLOSED_DATETIME", t.closed.map(iso).as_deref());
    x.close("STATS");
    x.open("HISTORY_LIST");
    for (when, old, new) in &t.history {
        x.open("HISTORY");
        x.text("DATETIME", &iso(*when));
        x.text("ACTOR", &t.assignee.0);
        x.open("STATE");
        if !old.is_empty() {
            x.text("OLD", old);
        }
        x.text("NEW", new).close("STATE");
        x.cdata("COMMENT", &format!("State changed to {new}; see ]]> handling & notes"));
        x.close("HISTORY");
    }
    x.close("HISTORY_LIST");
    x.open("VULNINFO");
    x.cdata("TITLE", t.title);
    x.text("TYPE", t.vuln_type).text("QID", &t.qid.to_string()).text("SEVERITY", &t.severity.to_string());
    x.text("STANDARD_SEVERITY", &t.severity.to_string());
    let cve_ids = cves(t.qid);
    if !cve_ids.is_empty() {
        x.open("CVE_ID_LIST");
        for id in cve_ids {
            x.text("CVE_ID", id);
        }
        x.close("CVE_ID_LIST");
    }
    x.close("VULNINFO");
    x.close("TICKET");
}
