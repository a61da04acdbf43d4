//! Policy compliance: `/api/2.0/fo/compliance/policy/?action=list` (the policies) and
//! `/api/2.0/fo/compliance/posture/info/?action=list` (control results of one policy), Qualys
//! API (VM, PC) User Guide. Posture records are INFO_LIST/INFO, the hosts and controls they
//! name are in the answer's GLOSSARY after them, and a truncated answer's WARNING/URL carries
//! `id_min` (public code that reads real answers: sdk). `truncation_limit` defaults to 5,000
//! (sdk). Elements marked unverified below are the simulator's reading, not a confirmed shape.

use http::Response;

use crate::data::{account_seed, control, host, iso, policy, posture};
use crate::errors::simple_return;
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

// doc/sdk: parameters of the policy list.
const POLICY_PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "details",
    "ids",
    "id_min",
    "id_max",
    "updated_after",
    "updated_before",
    "is_locked",
];
// sdk: parameters of the posture list.
const POSTURE_PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "policy_id",
    "policy_ids",
    "output_format",
    "details",
    "hide_evidence",
    "show_extended_evidence",
    "include_dp_name",
    "show_remediation_info",
    "truncation_limit",
    "ips",
    "host_ids",
    "control_ids",
    "status",
    "status_changes_since",
    "evaluation_date",
    "asset_group_ids",
    "criticality_labels",
    "criticality_values",
    "id_min",
];

/// `/api/2.0/fo/compliance/policy/`, answered with `POLICY_LIST_OUTPUT`.
pub static POLICY_ROUTE: super::Route =
    super::Route { path: "/api/2.0/fo/compliance/policy/", root: "POLICY_LIST_OUTPUT", serve: policy_list };

/// `/api/2.0/fo/compliance/posture/info/`, answered with `POSTURE_INFO_LIST_OUTPUT`.
pub static POSTURE_ROUTE: super::Route = super::Route {
    path: "/api/2.0/fo/compliance/posture/info/",
    root: "POSTURE_INFO_LIST_OUTPUT",
    serve: posture_list,
};

fn needs_pc(req: &ApiRequest) -> Option<Response<SimBody>> {
    // unverified: status, code and text of the refusal.
    (!req.account.pc_module).then(|| {
        simple_return(
            403,
            2000,
            "Access Denied: the Manage PC/SCA module is not enabled for this user.",
            &req.base_url,
        )
    })
}

pub fn policy_list(config: &SimConfig, req: &ApiRequest, _fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, POLICY_PARAMS).or_else(|| needs_pc(req)) {
        return r;
    }
    // Shape: doc (POLICY_LIST_OUTPUT (REQUEST?, RESPONSE (DATETIME, POLICY_LIST?))); POLICY's
    // children beyond ID and TITLE unverified, not served.
    let mut x = Xml::with_doctype(
        "POLICY_LIST_OUTPUT",
        &format!("{}/api/2.0/fo/compliance/policy/policy_list_output.dtd", req.base_url),
    );
    x.open("POLICY_LIST_OUTPUT").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    if config.sizes.policies > 0 {
        x.open("POLICY_LIST");
        for p in 0..config.sizes.policies {
            let (id, title) = policy(p);
            x.open("POLICY").text("ID", &id.to_string()).cdata("TITLE", &title).close("POLICY");
        }
        x.close("POLICY_LIST");
    }
    x.close("RESPONSE").close("POLICY_LIST_OUTPUT");
    xml_response(200, x.out)
}

pub fn posture_list(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, POSTURE_PARAMS).or_else(|| needs_pc(req)) {
        return r;
    }
    let bad = |name: &str| super::bad_value(req, name, req.param(name).unwrap_or(""));
    let Some(policy_id) = req.param("policy_id").and_then(|p| p.parse::<u64>().ok()) else {
        return simple_return(400, 1903, "Missing required parameter(s): policy_id", &req.base_url);
    };
    let Some(p) = (0..config.sizes.policies).find(|p| policy(*p).0 == policy_id) else {
        return bad("policy_id");
    };
    let limit = match req.param("truncation_limit").map(str::parse::<u64>) {
        None => 5000,
        Some(Ok(0)) => u64::MAX,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad("truncation_limit"),
    };
    let id_min = match req.param("id_min").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad("id_min"),
    };
    let status = req.param("status");
    if status.is_some_and(|s| !["Passed", "Failed", "Error"].contains(&s)) {
        return bad("status");
    }
    let labels: Option<Vec<&str>> = req.param("criticality_labels").map(|l| l.split(',').collect());
    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);
    let n = config.sizes.posture;
    let first = id_min.saturating_sub(50_000_000 * (p + 1));
    let mut x = Xml::with_doctype(
        "POSTURE_INFO_LIST_OUTPUT",
        &format!("{}/api/2.0/fo/compliance/posture/info/posture_info_list_output.dtd", req.base_url),
    );
    x.open("POSTURE_INFO_LIST_OUTPUT").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    // unverified: the policy's own element and its place.
    x.open("POLICY").text("ID", &policy_id.to_string()).cdata("TITLE", &policy(p).1).close("POLICY");
    let (mut listed, mut more) = (Vec::new(), None);
    for k in first..n {
        let rec = posture(seed, p, k);
        if rec.id < id_min || status.is_some_and(|s| s != rec.status) {
            continue;
        }
        if labels.as_ref().is_some_and(|l| !l.contains(&control(rec.control).1)) {
            continue;
        }
        if listed.len() as u64 == limit {
            more = Some(rec.id);
            break;
        }
        listed.push(rec);
    }
    if !listed.is_empty() {
        x.open("INFO_LIST");
        for r in &listed {
            x.open("INFO");
            x.text("ID", &r.id.to_string());
            x.text("HOST_ID", &crate::data::host_id(r.host).to_string());
            x.text("CONTROL_ID", &r.control.to_string());
            // unverified: TECHNOLOGY_ID and POSTURE_MODIFIED_DATE.
            x.text("TECHNOLOGY_ID", &r.technology.to_string());
            x.text("STATUS", r.status);
            x.text("EVALUATION_DATE", &iso(r.evaluated));
            x.text("POSTURE_MODIFIED_DATE", &iso(r.modified));
            x.close("INFO");
        }
        x.close("INFO_LIST");
    }
    if let Some(next) = more {
        let next = if fault == Some(&Fault::NextUrlRepeat) { id_min.max(1) } else { next };
        let url = super::next_page_url(req, fault, "id_min", next, "https://qualysapi.qualys.com", &req.path);
        super::next_page_warning(&mut x, listed.len(), &url);
    }
    if !listed.is_empty() {
        // sdk: the glossary of the hosts and controls the records name, after them.
        x.open("GLOSSARY");
        let mut hosts: Vec<u64> = listed.iter().map(|r| r.host).collect();
        hosts.dedup();
        x.open("HOST_LIST");
        for i in hosts {
            let h = host(seed, &config.sizes, i);
            x.open("HOST").text("ID", &h.id.to_string());
            x.opt_text("IP", h.ip.as_deref());
            x.opt_cdata("DNS", h.dns.as_deref());
            x.cdata("OS", &h.os);
            x.close("HOST");
        }
        x.close("HOST_LIST");
        let mut controls: Vec<u64> = listed.iter().map(|r| r.control).collect();
        controls.sort_unstable();
        controls.dedup();
        x.open("CONTROL_LIST");
        for c in controls {
            let (statement, label) = control(c);
            x.open("CONTROL").text("ID", &c.to_string()).cdata("STATEMENT", &statement);
            // unverified: CRITICALITY (LABEL, VALUE).
            x.open("CRITICALITY").text("LABEL", label).text("VALUE", "3").close("CRITICALITY");
            x.close("CONTROL");
        }
        x.close("CONTROL_LIST");
        // unverified: TECHNOLOGY_LIST (TECHNOLOGY (ID, NAME)).
        x.open("TECHNOLOGY_LIST");
        x.open("TECHNOLOGY")
            .text("ID", &(40 + p % 3).to_string())
            .cdata("NAME", ["Windows Server 2019", "Ubuntu 22.04", "Oracle 19c"][(p % 3) as usize])
            .close("TECHNOLOGY");
        x.close("TECHNOLOGY_LIST");
        x.close("GLOSSARY");
    }
    x.close("RESPONSE").close("POSTURE_INFO_LIST_OUTPUT");
    xml_response(200, x.out)
}
