//! `POST /qps/rest/2.0/search/am/hostasset` (Qualys Asset Management and Tagging API v2,
//! "Search Host Assets"): a ServiceRequest with Criteria filters; pages with `hasMoreRecords`
//! and `lastId`. Accounts without Asset Management rights get `UNAUTHORIZED`. Errors are HTTP
//! 200 ServiceResponses (real); `X-Requested-With` is not required (the QPS documentation's
//! examples do not send it) and no X-RateLimit headers are sent (real).

use http::Response;

use crate::data::{account_seed, agent, iso};
use crate::errors::{qps_unauthorized, service_error};
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

/// Searchable fields this simulator understands (a subset of the documented ones; doc).
const FIELDS: &[&str] = &["id", "trackingMethod", "qwebHostId", "name", "os", "lastVulnScan"];

/// `/qps/rest/2.0/search/am/hostasset`, answered with `ServiceResponse`.
pub static ROUTE: super::Route = super::Route {
    path: "/qps/rest/2.0/search/am/hostasset",
    root: "ServiceResponse",
    serve: |config, req, _| search_hostasset(config, req),
};

pub fn search_hostasset(config: &SimConfig, req: &ApiRequest) -> Response<SimBody> {
    // unverified: QPS' answer to a GET on a search endpoint.
    if req.method != "POST" {
        return service_error(
            "INVALID_REQUEST",
            "Method not allowed; use POST",
            "Send a ServiceRequest with POST.",
        );
    }
    // real: UNAUTHORIZED, "You are not authorized to access the application through the API."
    if !req.account.qps_access {
        return qps_unauthorized();
    }
    let body = String::from_utf8_lossy(&req.body);
    let criteria_re =
        regex_lite::Regex::new(r#"<Criteria field="([^"]+)" operator="([^"]+)">([^<]*)</Criteria>"#)
            .expect("valid regex");
    let mut after: Option<u64> = None;
    let mut tracking: Option<String> = None;
    for c in criteria_re.captures_iter(&body) {
        let (field, op, value) = (&c[1], &c[2], &c[3]);
        // real: INVALID_REQUEST as the responseCode; the texts are the simulator's own.
        if !FIELDS.contains(&field) {
            return service_error(
                "INVALID_REQUEST",
                &format!("Invalid field: {field}"),
                "Use a searchable field of HostAsset.",
            );
        }
        match (field, op) {
            ("id", "GREATER") => match value.parse() {
                Ok(n) => after = Some(n),
                Err(_) => {
                    return service_error("INVALID_REQUEST", &format!("Invalid value for id: {value}"), "");
                }
            },
            ("trackingMethod", "EQUALS") => tracking = Some(value.to_string()),
            _ => {}
        }
    }
    let limit = regex_lite::Regex::new(r"<limitResults>(\d+)</limitResults>")
        .expect("valid regex")
        .captures(&body)
        .and_then(|c| c[1].parse::<usize>().ok())
        .unwrap_or(100)
        .min(1000); // doc: 100 records by default, at most 1,000

    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);
    let sizes = &config.sizes;
    let mut assets = Vec::new();
    let mut more = false;
    for j in 0..sizes.agents {
        let a = agent(seed, sizes, j);
        if after.is_some_and(|id| a.id <= id) || tracking.as_deref().is_some_and(|t| t != "QAGENT") {
            continue;
        }
        if assets.len() == limit {
            more = true;
            break;
        }
        assets.push(a);
    }
    // Shape: real (ServiceResponse (responseCode, count, hasMoreRecords, lastId, data)); next page
    // with `<Criteria field="id" operator="GREATER">lastId</Criteria>`, GREATER strict (doc).
    // real: an empty result is `<count>0</count>` with no hasMoreRecords and no data.
    let mut x = Xml::default();
    x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.raw("<ServiceResponse xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:noNamespaceSchemaLocation=\"");
    x.raw(&format!("{}/qps/xsd/2.0/am/hostasset.xsd\">\n", req.base_url));
    x.text("responseCode", "SUCCESS");
    x.text("count", &assets.len().to_string());
    if assets.is_empty() {
        x.close("ServiceResponse");
        return xml_response(200, x.out);
    }
    x.text("hasMoreRecords", if more { "true" } else { "false" });
    if let Some(last) = assets.last() {
        x.text("lastId", &last.id.to_string());
    }
    x.open("data");
    for a in &assets {
        // Shape: doc (HostAsset fields of the Asset Management API guide; the order is the
        // simulator's, a reader must not depend on it).
        x.open("HostAsset");
        x.text("id", &a.id.to_string());
        x.cdata("name", &a.name);
        x.text("created", &iso(a.created));
        x.text("modified", &iso(a.last_checked_in));
        x.text("type", "HOST");
        x.open("tags").open("list");
        for (id, name) in &a.tags {
            x.open("TagSimple").text("id", &id.to_string()).cdata("name", name).close("TagSimple");
        }
        x.close("list").close("tags");
        x.text("sourceInfo", "");
        if let Some(h) = a.qweb_host_id {
            x.text("qwebHostId", &h.to_string());
        }
        x.opt_text("lastComplianceScan", a.last_compliance_scan.map(iso).as_deref());
        x.opt_text("lastVulnScan", a.last_vuln_scan.map(iso).as_deref());
        x.opt_cdata("dnsHostName", a.dns.as_deref());
        x.cdata("os", &a.os);
        x.open("agentInfo");
        x.text("agentVersion", &a.version).text("agentId", &a.agent_id).text("status", a.status);
        x.text("lastCheckedIn", &iso(a.last_checked_in)).text("platform", a.platform);
        x.text("activatedModule", "AGENT_VM,AGENT_PC");
        x.close("agentInfo");
        x.opt_cdata("netbiosName", a.netbios.as_deref());
        x.open("networkInterface").open("list").open("HostAssetInterface");
        x.text("address", &a.address).close("HostAssetInterface").close("list").close("networkInterface");
        x.text("trackingMethod", "QAGENT");
        x.text("address", &a.address);
        x.close("HostAsset");
        x.flush(req);
    }
    x.close("data").close("ServiceResponse");
    xml_response(200, x.out)
}
