//! `/api/3.0/fo/knowledge_base/vuln/?action=list` (Qualys API (VM, PC) User Guide,
//! "KnowledgeBase"): the vulnerabilities whose QIDs `ids` names; QIDs it does not know are
//! simply absent (doc).

use http::Response;

use crate::data::kb_entry;
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

// doc: parameters of the KnowledgeBase call.
const PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "details",
    "ids",
    "id_min",
    "id_max",
    "is_patchable",
    "last_modified_after",
    "last_modified_before",
    "published_after",
    "published_before",
    "discovery_method",
    "show_disabled_flag",
    "show_qid_change_log",
    "show_supported_modules_info",
];

/// `/api/3.0/fo/knowledge_base/vuln/`, answered with `KNOWLEDGE_BASE_VULN_LIST_OUTPUT`.
pub static ROUTE: super::Route = super::Route {
    path: "/api/3.0/fo/knowledge_base/vuln/",
    root: "KNOWLEDGE_BASE_VULN_LIST_OUTPUT",
    serve: vuln_list,
};

pub fn vuln_list(_config: &SimConfig, req: &ApiRequest, _fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, PARAMS) {
        return r;
    }
    // The long texts of details=All (DIAGNOSIS, SOLUTION…) are not served: their place among
    // VULN's children is not in the field notes, and the connector does not read them.
    let details = req.param("details").unwrap_or("Basic");
    if !["Basic", "All", "None"].contains(&details) {
        return super::bad_value(req, "details", details);
    }
    let mut ids: Vec<u64> = Vec::new();
    for part in req.param("ids").unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match part.parse::<u64>() {
            Ok(n) => ids.push(n),
            Err(_) => return super::bad_value(req, "ids", part),
        }
    }
    ids.sort_unstable();
    ids.dedup();
    // Shape: doc (KNOWLEDGE_BASE_VULN_LIST_OUTPUT (REQUEST?, RESPONSE (DATETIME,
    // (VULN_LIST|ID_SET)?, WARNING?)); VULN: QID, VULN_TYPE, SEVERITY_LEVEL, TITLE, CATEGORY?,
    // …, PUBLISHED_DATETIME, …, PATCHABLE, …, CVE_LIST? (CVE (ID, URL))+, …, CVSS?, CVSS_V3?
    // (BASE?, TEMPORAL?, …), …, DISCOVERY, …). real: a comment may follow the root.
    let mut x = Xml::with_doctype(
        "KNOWLEDGE_BASE_VULN_LIST_OUTPUT",
        &format!("{}/api/3.0/fo/knowledge_base/vuln/knowledge_base_vuln_list_output.dtd", req.base_url),
    );
    x.open("KNOWLEDGE_BASE_VULN_LIST_OUTPUT").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    let mut any = false;
    for qid in ids {
        let Some((title, cves, cvss3)) = kb_entry(qid) else { continue };
        if !any {
            x.open("VULN_LIST");
            any = true;
        }
        x.open("VULN");
        x.text("QID", &qid.to_string());
        x.text("VULN_TYPE", "Vulnerability");
        x.text("SEVERITY_LEVEL", &(1 + qid % 5).to_string());
        x.cdata("TITLE", &title);
        x.text("CATEGORY", "General remote services");
        x.text("PUBLISHED_DATETIME", "2024-03-12T08:00:00Z");
        x.text("PATCHABLE", "1");
        if !cves.is_empty() {
            x.open("CVE_LIST");
            for c in &cves {
                x.open("CVE")
                    .cdata("ID", c)
                    .cdata("URL", &format!("http://cve.mitre.org/cgi-bin/cvename.cgi?name={c}"))
                    .close("CVE");
            }
            x.close("CVE_LIST");
        }
        if let Some(base) = &cvss3 {
            x.open("CVSS_V3").text("BASE", base).text("TEMPORAL", base).close("CVSS_V3");
        }
        x.open("DISCOVERY").text("REMOTE", "1").close("DISCOVERY");
        x.close("VULN");
    }
    if any {
        x.close("VULN_LIST");
    }
    x.close("RESPONSE").close("KNOWLEDGE_BASE_VULN_LIST_OUTPUT");
    // real: a keep-alive comment may follow the root of a KnowledgeBase answer.
    x.comment("keep-alive");
    xml_response(200, x.out)
}
