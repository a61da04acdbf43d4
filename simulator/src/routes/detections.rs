//! `/api/5.0/fo/asset/host/vm/detection/?action=list` (Qualys API (VM, PC) User Guide, "Host
//! List Detection"). Lists the VM hosts that have detections matching the request, in
//! ascending host ID, each with its DETECTION_LIST; `truncation_limit` counts hosts (doc), and
//! when more match, `WARNING` code 1980 gives the next page's URL with `id_min` (doc, sdk),
//! written like the host list's (Qualys' own host, another API version).

use http::Response;

use crate::data::{Detection, Sizes, account_seed, detection, host, host_id, iso, parse_iso};
use crate::faults::Fault;
use crate::server::{ApiRequest, SimBody, SimConfig, xml_response};
use crate::xmlw::Xml;

// doc: parameters of the Host List Detection call (Qualys API (VM, PC) User Guide); those a
// connector sends plus the common filters.
const PARAMS: &[&str] = &[
    "action",
    "echo_request",
    "output_format",
    "show_asset_id",
    "show_qds",
    "show_qds_factors",
    "truncation_limit",
    "ids",
    "id_min",
    "id_max",
    "ips",
    "ag_ids",
    "qids",
    "severities",
    "status",
    "show_igs",
    "include_ignored",
    "include_disabled",
    "include_vuln_type",
    "show_results",
    "detection_updated_since",
    "detection_updated_before",
    "detection_processed_after",
    "vm_scan_since",
    "use_tags",
    "tag_set_by",
    "tag_include_selector",
    "tag_set_include",
    "active_kernels_only",
    "arf_kernel_filter",
    "host_metadata",
    "show_tags",
];

/// `/api/5.0/fo/asset/host/vm/detection/`, answered with `HOST_LIST_VM_DETECTION_OUTPUT`.
pub static ROUTE: super::Route = super::Route {
    path: "/api/5.0/fo/asset/host/vm/detection/",
    root: "HOST_LIST_VM_DETECTION_OUTPUT",
    serve: detection_list,
};

/// The filters of one request.
struct Filter {
    statuses: Vec<String>,
    severities: Vec<u8>,
    igs: bool,
    ignored: bool,
    disabled: bool,
    vuln_type: Option<String>,
    qids: Option<Vec<u64>>,
    updated_since: Option<i64>,
}

impl Filter {
    fn keeps(&self, d: &Detection) -> bool {
        self.statuses.iter().any(|s| s.eq_ignore_ascii_case(d.status))
            && self.severities.contains(&d.severity)
            && (self.igs || d.vuln_type != "Info")
            && (self.ignored || !d.ignored)
            && (self.disabled || !d.disabled)
            && self
                .vuln_type
                .as_ref()
                .is_none_or(|t| t.eq_ignore_ascii_case(d.vuln_type) || d.vuln_type == "Info")
            && self.qids.as_ref().is_none_or(|q| q.contains(&d.qid))
            && self.updated_since.is_none_or(|t| d.last_found.max(d.last_fixed.unwrap_or(0)) >= t)
    }
}

pub fn detection_list(config: &SimConfig, req: &ApiRequest, fault: Option<&Fault>) -> Response<SimBody> {
    if let Some(r) = super::api_list_call(req, PARAMS).or_else(|| super::needs_vm_module(req)) {
        return r;
    }
    let bad = |name: &str| super::bad_value(req, name, req.param(name).unwrap_or(""));
    let limit = match req.param("truncation_limit").map(str::parse::<u64>) {
        None => 1000,
        Some(Ok(0)) => u64::MAX,
        Some(Ok(n)) if n <= 1_000_000 => n,
        Some(_) => return bad("truncation_limit"),
    };
    let id_min = match req.param("id_min").map(str::parse::<u64>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return bad("id_min"),
    };
    let list = |name: &str| -> Option<Vec<String>> {
        req.param(name)
            .map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    };
    // doc: the default status filter is New, Active, Re-Opened (Fixed only when asked).
    let statuses = list("status").unwrap_or_else(|| vec!["New".into(), "Active".into(), "Re-Opened".into()]);
    if statuses
        .iter()
        .any(|s| !["New", "Active", "Re-Opened", "Fixed"].iter().any(|k| k.eq_ignore_ascii_case(s)))
    {
        return bad("status");
    }
    let severities = match list("severities") {
        None => vec![1, 2, 3, 4, 5],
        Some(items) => {
            match items.iter().map(|s| s.parse::<u8>().ok().filter(|n| (1..=5).contains(n))).collect() {
                Some(v) => v,
                None => return bad("severities"),
            }
        }
    };
    let qids = match list("qids") {
        None => None,
        Some(items) => match items.iter().map(|s| s.parse::<u64>().ok()).collect() {
            Some(v) => Some(v),
            None => return bad("qids"),
        },
    };
    let updated_since = match req.param("detection_updated_since").map(parse_iso) {
        None => None,
        Some(Some(t)) => Some(t),
        Some(None) => return bad("detection_updated_since"),
    };
    let flag = |name: &str, default: bool| req.param(name).map_or(default, |v| v == "1");
    let filter = Filter {
        statuses,
        severities,
        igs: flag("show_igs", false),
        ignored: flag("include_ignored", false),
        disabled: flag("include_disabled", false),
        vuln_type: req.param("include_vuln_type").map(str::to_string),
        qids,
        updated_since,
    };
    // doc: RESULTS is shown unless show_results=0 (unverified for API 5.0: sent explicitly).
    let results = flag("show_results", true);
    let qds = flag("show_qds", false);
    let asset_id = flag("show_asset_id", false);
    let sizes: &Sizes = &config.sizes;
    let seed = account_seed(config.seed, &req.account.login, config.per_account_data);

    // Shape: doc (the detection DTD: HOST_LIST_VM_DETECTION_OUTPUT (REQUEST?, RESPONSE
    // (DATETIME, HOST_LIST?, WARNING?))); real: an empty answer holds DATETIME only; the
    // DOCTYPE path is the 2023 one (real).
    let mut x = Xml::with_doctype(
        "HOST_LIST_VM_DETECTION_OUTPUT",
        &format!("{}/api/5.0/fo/asset/host/vm/detection/dtd/output.dtd", req.base_url),
    );
    x.open("HOST_LIST_VM_DETECTION_OUTPUT").open("RESPONSE");
    x.text("DATETIME", &crate::data::now_qualys());
    let start = id_min.saturating_sub(100_000).div_ceil(5);
    let mut listed = 0u64;
    let mut last = None;
    let mut more = None;
    let mut kept: Vec<Detection> = Vec::new();
    for i in start..sizes.hosts {
        if host_id(i) < id_min {
            continue;
        }
        kept.clear();
        kept.extend((0..sizes.detections).map(|j| detection(seed, i, j)).filter(|d| filter.keeps(d)));
        if kept.is_empty() {
            continue;
        }
        if listed == limit {
            more = Some(host_id(i));
            break;
        }
        if listed == 0 {
            x.open("HOST_LIST");
        }
        listed += 1;
        last = Some(host_id(i));
        write_host(&mut x, &host(seed, sizes, i), &kept, Show { results, qds, asset_id });
        x.flush(req);
    }
    if listed > 0 {
        x.close("HOST_LIST");
    }
    if let Some(next_id) = more {
        let next_id = match fault {
            Some(Fault::NextUrlRepeat) => id_min,
            Some(Fault::RepeatLast) => last.unwrap_or(next_id),
            _ => next_id,
        };
        // Shape: doc, sdk (WARNING CODE 1980 with a CDATA URL, as the host list).
        let path = req.path.replacen("/api/5.0/", "/api/2.0/", 1);
        let url = super::next_page_url(req, fault, "id_min", next_id, "https://qualysapi.qualys.com", &path);
        super::next_page_warning(&mut x, listed as usize, &url);
    }
    x.close("RESPONSE").close("HOST_LIST_VM_DETECTION_OUTPUT");
    xml_response(200, x.out)
}

#[derive(Clone, Copy)]
struct Show {
    results: bool,
    qds: bool,
    asset_id: bool,
}

// Shape: doc (the detection DTD's HOST: ID, ASSET_ID?, IP?, IPV6?, TRACKING_METHOD?,
// NETWORK_ID?, OS?, OS_CPE?, DNS?, DNS_DATA?, …, NETBIOS?, QG_HOSTID?, LAST_SCAN_DATETIME?,
// LAST_VM_SCANNED_DATE?, …, DETECTION_LIST; DETECTION: QID, TYPE, SEVERITY?, PORT?, PROTOCOL?,
// FQDN?, SSL?, INSTANCE?, RESULTS?, STATUS?, FIRST_FOUND_DATETIME?, LAST_FOUND_DATETIME?, QDS?,
// QDS_FACTORS?, TIMES_FOUND?, LAST_TEST_DATETIME?, LAST_UPDATE_DATETIME?, LAST_FIXED_DATETIME?,
// FIRST_REOPENED_DATETIME?, LAST_REOPENED_DATETIME?, TIMES_REOPENED?, SERVICE?, IS_IGNORED?,
// IS_DISABLED?, …, LAST_PROCESSED_DATETIME?). real: a comment may stand inside a HOST.
fn write_host(x: &mut Xml, h: &crate::data::Host, detections: &[Detection], show: Show) {
    x.open("HOST");
    x.text("ID", &h.id.to_string());
    if show.asset_id {
        x.text("ASSET_ID", &h.asset_id.to_string());
    }
    x.opt_text("IP", h.ip.as_deref());
    x.opt_text("IPV6", h.ipv6.as_deref());
    // real: the detection list says AGENT where the Asset Management API says QAGENT.
    x.text("TRACKING_METHOD", h.tracking);
    x.text("NETWORK_ID", "0");
    x.cdata("OS", &h.os);
    x.opt_cdata("DNS", h.dns.as_deref());
    x.opt_cdata("NETBIOS", h.netbios.as_deref());
    if h.id.is_multiple_of(7) {
        x.comment("The QG_HOSTID element is deprecated; use ASSET_ID.");
    }
    x.text("QG_HOSTID", &format!("{:08x}-qg", h.id));
    x.opt_text("LAST_SCAN_DATETIME", h.last_vuln_scan.map(iso).as_deref());
    x.opt_text("LAST_VM_SCANNED_DATE", h.last_vm_scanned.map(iso).as_deref());
    x.open("DETECTION_LIST");
    for d in detections {
        x.open("DETECTION");
        x.text("QID", &d.qid.to_string());
        x.text("TYPE", d.vuln_type);
        x.text("SEVERITY", &d.severity.to_string());
        if let Some(p) = d.port {
            x.text("PORT", &p.to_string());
        }
        x.opt_text("PROTOCOL", d.protocol);
        x.text("SSL", if d.ssl { "1" } else { "0" });
        if show.results {
            x.cdata("RESULTS", &d.results);
        }
        x.text("STATUS", d.status);
        x.text("FIRST_FOUND_DATETIME", &iso(d.first_found));
        x.text("LAST_FOUND_DATETIME", &iso(d.last_found));
        if show.qds {
            x.open_attrs("QDS", &[("severity", qds_severity(d.qds))]);
            x.out.push_str(&d.qds.to_string());
            x.close("QDS");
        }
        x.text("TIMES_FOUND", &d.times_found.to_string());
        x.text("LAST_TEST_DATETIME", &iso(d.last_test));
        x.text("LAST_UPDATE_DATETIME", &iso(d.last_test));
        x.opt_text("LAST_FIXED_DATETIME", d.last_fixed.map(iso).as_deref());
        x.opt_text("LAST_REOPENED_DATETIME", d.last_reopened.map(iso).as_deref());
        x.text("IS_IGNORED", if d.ignored { "1" } else { "0" });
        x.text("IS_DISABLED", if d.disabled { "1" } else { "0" });
        x.text("LAST_PROCESSED_DATETIME", &iso(d.last_test));
        x.close("DETECTION");
    }
    x.close("DETECTION_LIST");
    x.close("HOST");
}

fn qds_severity(qds: u8) -> &'static str {
    match qds {
        90.. => "CRITICAL",
        70..=89 => "HIGH",
        40..=69 => "MEDIUM",
        _ => "LOW",
    }
}
