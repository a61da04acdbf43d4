//! `/api/5.0/fo/asset/host/?action=list` (Qualys API (VM, PC) User Guide, "Host List";
//! host_list_output.dtd). Pages by ascending host ID: when more hosts match than
//! `truncation_limit` (default 1,000), `WARNING` code 1980 gives the next page's URL with
//! `id_min`, written as the guide's sample shows it: on Qualys' own host and another API
//! version, so only a client that reads `id_min` and builds its own request gets the next page.

use http::Response;

use crate::data::{Sizes, account_seed, host, host_id, iso, parse_iso};
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::{Xml, escape};

/// The host the guide's sample next-page URL names (the US1 production API server), not the
/// simulator's address.
const SAMPLE_URL_HOST: &str = "https://qualysapi.qualys.com";

// doc: the parameters of the Host List call (Qualys API (VM, PC) User Guide).
const PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "show_asset_id",
    "details",
    "os_pattern",
    "truncation_limit",
    "ips",
    "ipv6",
    "ag_ids",
    "ag_titles",
    "ids",
    "id_min",
    "id_max",
    "network_ids",
    "compliance_enabled",
    "no_vm_scan_since",
    "no_compliance_scan_since",
    "vm_scan_since",
    "compliance_scan_since",
    "vm_processed_before",
    "vm_processed_after",
    "vm_scan_date_before",
    "vm_scan_date_after",
    "vm_auth_scan_date_before",
    "vm_auth_scan_date_after",
    "scap_scan_since",
    "no_scap_scan_since",
    "use_tags",
    "tag_set_by",
    "tag_include_selector",
    "tag_exclude_selector",
    "tag_set_include",
    "tag_set_exclude",
    "show_tags",
    "show_ars",
    "ars_min",
    "ars_max",
    "show_trurisk",
    "host_metadata",
    "host_metadata_fields",
    "show_cloud_tags",
    "cloud_tag_fields",
    "show_qds",
    "qds_min",
    "qds_max",
];

/// `/api/5.0/fo/asset/host/`, answered with `HOST_LIST_OUTPUT`.
pub static ROUTE: super::Route =
    super::Route { path: "/api/5.0/fo/asset/host/", root: "HOST_LIST_OUTPUT", serve: host_list };

pub fn host_list(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, PARAMS).or_else(|| super::needs_vm_module(req)) {
        return r;
    }
    let limit = match req.param("truncation_limit").map(str::parse::<u64>) {
        None => 1000,
        Some(Ok(0)) => u64::MAX,
        Some(Ok(n)) if n <= 1_000_000 => n,
        Some(_) => {
            return super::bad_value(req, "truncation_limit", req.param("truncation_limit").unwrap_or(""));
        }
    };
    let id_min = match req.param("id_min").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return super::bad_value(req, "id_min", req.param("id_min").unwrap_or("")),
    };
    let os = match req
        .param("os_pattern")
        .map(|p| regex_lite::RegexBuilder::new(p).case_insensitive(true).build())
    {
        None => None,
        Some(Ok(re)) => Some(re),
        Some(Err(_)) => return super::bad_value(req, "os_pattern", req.param("os_pattern").unwrap_or("")),
    };
    let since = match req.param("vm_scan_since").map(parse_iso) {
        None => None,
        Some(Some(t)) => Some(t),
        Some(None) => {
            return super::bad_value(req, "vm_scan_since", req.param("vm_scan_since").unwrap_or(""));
        }
    };
    let all = req.param("details") == Some("All");
    let show_asset_id = req.param("show_asset_id") == Some("1");
    let show_tags = req.param("show_tags") == Some("1");
    let show_trurisk = req.param("show_trurisk") == Some("1");
    let sizes: &Sizes = &config.sizes;
    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);

    // Shape: doc (host_list_output.dtd, Qualys API (VM, PC) User Guide "Host List"):
    // HOST_LIST_OUTPUT (REQUEST?, RESPONSE (DATETIME, (HOST_LIST|ID_SET)?, WARNING?, GLOSSARY?)).
    // real: an empty list is a RESPONSE holding only DATETIME (no HOST_LIST).
    let mut x = Xml::with_doctype(
        "HOST_LIST_OUTPUT",
        &format!("{}/api/5.0/fo/asset/host/host_list_output.dtd", req.base_url),
    );
    // real: comments may stand before the root element (evaluation-version notices); the text is
    // the simulator's own.
    x.comment("This is an evaluation version of the Qualys API; data may be incomplete.");
    x.open("HOST_LIST_OUTPUT").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    let start = id_min.saturating_sub(100_000).div_ceil(5);
    let mut ids: Vec<u64> = Vec::new();
    let mut more = None;
    for i in start..sizes.hosts {
        if host_id(i) < id_min {
            continue;
        }
        let h = host(seed, sizes, i);
        if os.as_ref().is_some_and(|re| !re.is_match(&h.os))
            || since.is_some_and(|s| h.last_vuln_scan.is_none_or(|t| t < s))
        {
            continue;
        }
        if ids.len() as u64 == limit {
            more = Some(h.id);
            break;
        }
        if ids.is_empty() {
            x.open("HOST_LIST");
        }
        ids.push(h.id);
        write_host(&mut x, &h, Show { all, asset_id: show_asset_id, tags: show_tags, trurisk: show_trurisk });
        x.flush(req);
    }
    if !ids.is_empty() {
        x.close("HOST_LIST");
    }
    if let Some(next_id) = more {
        let next_id = match fault {
            Some(Fault::RepeatRecords) => ids[ids.len().saturating_sub(10)],
            Some(Fault::RepeatLast) => ids[ids.len() - 1],
            Some(Fault::SkipRecords) => next_id + 50 * 5,
            Some(Fault::NextUrlRepeat) => id_min,
            _ => next_id,
        };
        // doc: the guide's sample URL names another host and API version than the call made;
        // following it literally leaves the simulator (and /api/4.0/ is not served here).
        let path = req.path.replacen("/api/5.0/", "/api/4.0/", 1);
        let url = super::next_page_url(req, fault, "id_min", next_id, SAMPLE_URL_HOST, &path);
        super::next_page_warning(&mut x, ids.len(), &url);
    }
    x.close("RESPONSE").close("HOST_LIST_OUTPUT");
    // real: comments may also follow the root element; the text is remembered from Qualys
    // outputs (unverified).
    x.comment(
        "CONFIDENTIAL AND PROPRIETARY INFORMATION. Qualys provides the QualysGuard Service \"As Is,\" without any warranty of any kind. Qualys makes no warranty that the information contained in this report is complete or error-free. Copyright 2026, Qualys, Inc. //",
    );
    xml_response(200, x.out)
}

/// Which optional parts of a HOST the request asked for.
#[derive(Clone, Copy)]
struct Show {
    all: bool,
    asset_id: bool,
    tags: bool,
    trurisk: bool,
}

// Shape: doc (host_list_output.dtd HOST children, in order: ID, ASSET_ID?, IP?, IPV6?,
// ASSET_RISK_SCORE?, ASSET_CRITICALITY_SCORE?, ARS_FACTORS?, TRACKING_METHOD?, NETWORK_ID?, DNS?,
// DNS_DATA?, CLOUD_PROVIDER?, ..., NETBIOS?, OS?, QG_HOSTID?, TAGS?, ..., LAST_VULN_SCAN_DATETIME?,
// ..., OWNER?, COMMENTS?, USER_DEF?, ASSET_GROUP_IDS?); sdk (2025 outputs): TRURISK_SCORE in place
// of ASSET_RISK_SCORE, and LAST_BOOT?, SERIAL_NUMBER?, HARDWARE_UUID?, FIRST_FOUND_DATE?,
// LAST_ACTIVITY?, AGENT_STATUS?, CLOUD_AGENT_RUNNING_ON? after QG_HOSTID. The DNS_DATA and TAGS
// children are the simulator's reading of the DTD (unverified).
fn write_host(x: &mut Xml, h: &crate::data::Host, show: Show) {
    x.open("HOST");
    x.text("ID", &h.id.to_string());
    if show.asset_id {
        x.text("ASSET_ID", &h.asset_id.to_string());
    }
    x.opt_text("IP", h.ip.as_deref());
    x.opt_text("IPV6", h.ipv6.as_deref());
    if show.trurisk {
        x.text("TRURISK_SCORE", &h.trurisk.to_string());
        x.text("ASSET_CRITICALITY_SCORE", &h.criticality.to_string());
    }
    x.text("TRACKING_METHOD", h.tracking);
    x.text("NETWORK_ID", "0");
    if show.all {
        x.opt_cdata("DNS", h.dns.as_deref());
        if let Some(dns) = &h.dns {
            let (host, domain) = dns.split_once('.').unwrap_or((dns, ""));
            x.open("DNS_DATA")
                .cdata("HOSTNAME", host)
                .cdata("DOMAIN", domain)
                .cdata("FQDN", dns)
                .close("DNS_DATA");
        }
        x.opt_text("CLOUD_PROVIDER", h.cloud_provider);
        x.opt_cdata("NETBIOS", h.netbios.as_deref());
        x.cdata("OS", &h.os);
        x.text("QG_HOSTID", &format!("{:08x}-qg", h.id));
        x.text("FIRST_FOUND_DATE", &iso(h.first_found));
        x.text("LAST_ACTIVITY", &iso(h.last_activity));
        if show.tags && !h.tags.is_empty() {
            x.open("TAGS");
            for (id, name) in &h.tags {
                x.open("TAG").text("TAG_ID", &id.to_string()).cdata("NAME", name).close("TAG");
            }
            x.close("TAGS");
        }
        x.opt_text("LAST_VULN_SCAN_DATETIME", h.last_vuln_scan.map(iso).as_deref());
        x.opt_text("LAST_VM_SCANNED_DATE", h.last_vm_scanned.map(iso).as_deref());
        if h.last_vm_scanned.is_some() {
            x.text("LAST_VM_SCANNED_DURATION", "412");
        }
        x.opt_text("LAST_VM_AUTH_SCANNED_DATE", h.last_auth_scanned.map(iso).as_deref());
        x.opt_text("LAST_COMPLIANCE_SCAN_DATETIME", h.last_compliance_scan.map(iso).as_deref());
        x.opt_text("OWNER", h.owner.as_deref());
        x.opt_cdata("COMMENTS", h.comments.as_deref());
        if !h.asset_groups.is_empty() {
            let ids: Vec<String> = h.asset_groups.iter().map(u64::to_string).collect();
            x.raw(&format!("<ASSET_GROUP_IDS>{}</ASSET_GROUP_IDS>\n", escape(&ids.join(","))));
        }
    }
    x.close("HOST");
}
