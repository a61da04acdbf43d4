//! List of Assets: Cloud Agent assets (Asset Management QPS API) and VM hosts (host list),
//! merged so that each asset appears once.
//!
//! Sources:
//! - VM hosts: Qualys API (VM, PC) User Guide, "Host List" — `/api/5.0/fo/asset/host/?action=list`
//!   with `details=All`, `show_asset_id=1`, `show_tags=1`, `truncation_limit`; host_list_output.dtd:
//!   HOST_LIST_OUTPUT > RESPONSE > (DATETIME, HOST_LIST > HOST*, WARNING?); an empty list has
//!   no HOST_LIST (real). When more hosts match, `WARNING` code 1980 carries a next-page `URL`
//!   (doc). The guide's own sample names another host and API version than the call made, so
//!   only its `id_min` is read: the next request is built here, on the configured API server,
//!   with the endpoint version in use and the same parameters. A server-given origin is never
//!   followed. The page size is the `page_size` criterion (`truncation_limit`; the guide documents
//!   pages larger than its default of 1,000 without naming a maximum, so 10,000 here is the
//!   connector's own bound, unverified with Qualys). `show_trurisk=1` adds TRURISK_SCORE and
//!   ASSET_CRITICALITY_SCORE; subscriptions that refuse the parameter (a public client notes
//!   some editions do) are asked again without it, with a warning.
//! - Cloud Agent assets: Qualys Asset Management and Tagging API v2 User Guide, "Search Host
//!   Assets" — `POST /qps/rest/2.0/search/am/hostasset` with a ServiceRequest; pages with
//!   `hasMoreRecords` / `lastId`, continued by `<Criteria field="id" operator="GREATER">`.
//!
//! Merge rule (each asset once): a VM host tracked by the Cloud Agent (TRACKING_METHOD AGENT)
//! is the same asset as the Cloud Agent asset whose `qwebHostId` is that host's ID. Cloud
//! Agent assets are listed first (source `cloud_agent`, carrying both ids and the agent's
//! details); VM hosts follow (source `vm`), leaving out AGENT-tracked hosts when the Cloud
//! Agent list was collected. If the account may not use the QPS API, the proof keeps every VM
//! host (AGENT-tracked ones included) and carries a warning naming the set-up needed.
//! Criteria the QPS API cannot express (OS pattern, last scan date) are applied by the
//! connector to the Cloud Agent rows, so both sources are filtered alike.

use std::io::BufRead;

use crate::criteria::Criteria;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, Warning, field};
use crate::paging::{Position, Resume, SourcePage};
use crate::xml::{self, RecordMap};

use super::ProofType;

/// VM hosts per page by default: Qualys' default truncation limit.
pub const VM_PAGE_SIZE: usize = 1000;
/// Largest VM page accepted: Qualys documents larger pages (e.g. 10,000) but not their maximum,
/// so this bound is the connector's own; a page holds its rows in the component's memory.
pub const MAX_VM_PAGE_SIZE: usize = 10_000;
/// Cloud Agent assets per page: the QPS maximum.
pub const QPS_PAGE_SIZE: usize = 1000;

const SOURCE_QPS: u8 = 0;
const SOURCE_VM: u8 = 1;
/// Memo flags carried in the cursor (comma-separated).
const MEMO_QPS_DENIED: &str = "qps-denied";
const MEMO_QPS_SKIPPED: &str = "qps-skipped";
const MEMO_NO_TRURISK: &str = "no-trurisk";

static FIELDS: &[FieldSpec] = &[
    field("source", "Source", Text, "vm (VM host list) or cloud_agent (Cloud Agent asset, QPS)."),
    field("host_id", "Host ID", Integer, "VM host ID (HOST/ID; HostAsset/qwebHostId)."),
    field("asset_id", "Asset ID", Integer, "Asset id (HOST/ASSET_ID; HostAsset/id)."),
    field("name", "Name", Text, "HostAsset/name; for VM hosts the DNS or NetBIOS name."),
    field("ip", "IP", Text, "IPv4 address (HOST/IP; HostAsset/address)."),
    field("ipv6", "IPv6", Text, "HOST/IPV6."),
    field("dns", "DNS name", Text, "HOST/DNS; HostAsset/dnsHostName."),
    field("netbios", "NetBIOS name", Text, "HOST/NETBIOS; HostAsset/netbiosName."),
    field("os", "Operating system", Text, "HOST/OS; HostAsset/os."),
    field(
        "tracking_method",
        "Tracking method",
        Text,
        "IP, DNS, NETBIOS, INSTANCE_ID, AGENT (VM) or QAGENT (Cloud Agent).",
    ),
    field("tags", "Tags", TextList, "Asset tag names (HOST/TAGS/TAG/NAME; HostAsset/tags)."),
    field("asset_group_ids", "Asset group IDs", TextList, "HOST/ASSET_GROUP_IDS."),
    field(
        "last_vuln_scan_at",
        "Last vulnerability scan",
        Timestamp,
        "HOST/LAST_VULN_SCAN_DATETIME; HostAsset/lastVulnScan.",
    ),
    field("last_vm_scanned_at", "Last VM scan (processed)", Timestamp, "HOST/LAST_VM_SCANNED_DATE."),
    field(
        "last_vm_auth_scanned_at",
        "Last authenticated VM scan",
        Timestamp,
        "HOST/LAST_VM_AUTH_SCANNED_DATE.",
    ),
    field(
        "last_compliance_scan_at",
        "Last compliance scan",
        Timestamp,
        "HOST/LAST_COMPLIANCE_SCAN_DATETIME; HostAsset/lastComplianceScan.",
    ),
    field("owner", "Owner", Text, "HOST/OWNER."),
    field("comments", "Comments", Text, "HOST/COMMENTS."),
    field("cloud_provider", "Cloud provider", Text, "HOST/CLOUD_PROVIDER."),
    field(
        "trurisk_score",
        "TruRisk score",
        Integer,
        "HOST/TRURISK_SCORE (ASSET_RISK_SCORE in older outputs): 0 to 1000, when Qualys sends it.",
    ),
    field(
        "asset_criticality_score",
        "Asset criticality",
        Integer,
        "HOST/ASSET_CRITICALITY_SCORE: 1 (low) to 5 (critical), when Qualys sends it.",
    ),
    field("first_found_at", "First found", Timestamp, "HOST/FIRST_FOUND_DATE, when Qualys sends it."),
    field(
        "last_activity_at",
        "Last activity",
        Timestamp,
        "HOST/LAST_ACTIVITY (or LAST_ACTIVITY_DATE), when Qualys sends it.",
    ),
    field("agent_id", "Agent ID", Text, "HostAsset/agentInfo/agentId."),
    field("agent_version", "Agent version", Text, "HostAsset/agentInfo/agentVersion."),
    field("agent_status", "Agent status", Text, "HostAsset/agentInfo/status."),
    field("agent_last_checked_in_at", "Agent last check-in", Timestamp, "HostAsset/agentInfo/lastCheckedIn."),
    field("agent_platform", "Agent platform", Text, "HostAsset/agentInfo/platform."),
    field("created_at", "Created", Timestamp, "HostAsset/created."),
];

static CRITERIA: &[CriterionSpec] = &[
    CriterionSpec {
        name: "tracking_method",
        kind: Text,
        required: false,
        allowed: &["IP", "DNS", "NETBIOS", "INSTANCE_ID", "AGENT"],
        default: None,
        description: "Only assets tracked this way; AGENT means Cloud Agent assets.",
    },
    CriterionSpec {
        name: "os_pattern",
        kind: Text,
        required: false,
        allowed: &[],
        default: None,
        description: "Only assets whose operating system matches this regular expression.",
    },
    CriterionSpec {
        name: "include_cloud_agents",
        kind: Boolean,
        required: false,
        allowed: &[],
        default: Some("true"),
        description: "Add Cloud Agent assets from the Asset Management API (needs its rights).",
    },
    CriterionSpec {
        name: "vm_scan_since",
        kind: Timestamp,
        required: false,
        allowed: &[],
        default: None,
        description: "Only assets scanned for vulnerabilities at or after this date.",
    },
    CriterionSpec {
        name: "page_size",
        kind: Integer,
        required: false,
        allowed: &[],
        default: Some("1000"),
        description: "VM hosts per host-list call (Qualys' truncation_limit), 1 to 10,000. Larger pages \
                      spend fewer of the account's API calls (300 an hour) and hold more rows in \
                      memory at once. Qualys documents pages larger than its default of 1,000 without \
                      naming a maximum: 10,000 is this connector's bound, unverified with Qualys. Cloud \
                      Agent assets always come 1,000 a call, the Asset Management API's maximum.",
    },
];

static SPEC: ProofSpec = ProofSpec {
    key: &[&["asset_id"], &["host_id"]],
    id: "assets",
    title: "List of Assets",
    description: "Every asset Qualys knows: VM hosts and Cloud Agent assets, merged so each asset \
                  appears once, with addresses, OS, tags, last scans and agent status.",
    fields: FIELDS,
    criteria: CRITERIA,
};

static VM_MAP: RecordMap = RecordMap {
    root: "HOST_LIST_OUTPUT",
    record: "RESPONSE/HOST_LIST/HOST",
    columns: &[
        ("ID", "host_id"),
        ("ASSET_ID", "asset_id"),
        ("IP", "ip"),
        ("IPV6", "ipv6"),
        ("TRACKING_METHOD", "tracking_method"),
        ("DNS", "dns"),
        ("NETBIOS", "netbios"),
        ("OS", "os"),
        ("TAGS/TAG/NAME", "tags"),
        ("ASSET_GROUP_IDS", "asset_group_ids"),
        ("LAST_VULN_SCAN_DATETIME", "last_vuln_scan_at"),
        ("LAST_VM_SCANNED_DATE", "last_vm_scanned_at"),
        ("LAST_VM_AUTH_SCANNED_DATE", "last_vm_auth_scanned_at"),
        ("LAST_COMPLIANCE_SCAN_DATETIME", "last_compliance_scan_at"),
        ("OWNER", "owner"),
        ("COMMENTS", "comments"),
        ("CLOUD_PROVIDER", "cloud_provider"),
        ("TRURISK_SCORE", "trurisk_score"),
        ("ASSET_RISK_SCORE", "trurisk_score"),
        ("ASSET_CRITICALITY_SCORE", "asset_criticality_score"),
        ("FIRST_FOUND_DATE", "first_found_at"),
        ("LAST_ACTIVITY", "last_activity_at"),
        ("LAST_ACTIVITY_DATE", "last_activity_at"),
    ],
    captures: &["RESPONSE/WARNING/CODE", "RESPONSE/WARNING/URL"],
    // RESPONSE (DATETIME, (HOST_LIST|ID_SET)?, WARNING?, GLOSSARY?); empty: DATETIME only (real).
    required: &["RESPONSE/DATETIME"],
};

static QPS_MAP: RecordMap = RecordMap {
    root: "ServiceResponse",
    record: "data/HostAsset",
    columns: &[
        ("id", "asset_id"),
        ("qwebHostId", "host_id"),
        ("name", "name"),
        ("address", "ip"),
        ("dnsHostName", "dns"),
        ("netbiosName", "netbios"),
        ("os", "os"),
        ("trackingMethod", "tracking_method"),
        ("tags/list/TagSimple/name", "tags"),
        ("lastVulnScan", "last_vuln_scan_at"),
        ("lastComplianceScan", "last_compliance_scan_at"),
        ("agentInfo/agentId", "agent_id"),
        ("agentInfo/agentVersion", "agent_version"),
        ("agentInfo/status", "agent_status"),
        ("agentInfo/lastCheckedIn", "agent_last_checked_in_at"),
        ("agentInfo/platform", "agent_platform"),
        ("created", "created_at"),
    ],
    captures: &[
        "responseCode",
        "count",
        "hasMoreRecords",
        "lastId",
        "responseErrorDetails/errorMessage",
        "responseErrorDetails/errorResolution",
    ],
    // Every answer, errors included, has a responseCode (real); an empty result is `count` 0
    // with no `data` (real), checked in `parse_qps`.
    required: &["responseCode"],
};

/// What an account needs for Cloud Agent assets.
pub const QPS_SETUP: &str = "Cloud Agent assets need the Asset Management API: use a Manager-type \
user limited to the roles READER, Reporting Reader, Unified Dashboard User and VM User, with \
view access to all objects (Users > edit user > Roles and Scopes).";

pub struct Assets;

fn idx(name: &str) -> usize {
    SPEC.index(name)
}

fn text(row: &Row, name: &str) -> Option<String> {
    match &row[idx(name)] {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn int(row: &Row, name: &str) -> Option<i64> {
    match &row[idx(name)] {
        Value::Integer(n) => Some(*n),
        _ => None,
    }
}

impl Assets {
    fn wants_agents(criteria: &Criteria) -> bool {
        criteria.flag("include_cloud_agents") != Some(false)
            && criteria.get("tracking_method").is_none_or(|t| t == "AGENT")
    }

    fn os_filter(criteria: &Criteria) -> Result<Option<regex_lite::Regex>, Error> {
        criteria
            .get("os_pattern")
            .map(|p| {
                regex_lite::RegexBuilder::new(p).case_insensitive(true).build().map_err(|e| {
                    Error::criteria("os_pattern", format!("is not a valid regular expression: {e}"))
                })
            })
            .transpose()
    }

    /// The host list page size the criteria ask for, within 1..=[`MAX_VM_PAGE_SIZE`].
    pub fn page_size(criteria: &Criteria) -> Result<usize, Error> {
        let Some(text) = criteria.get("page_size") else { return Ok(VM_PAGE_SIZE) };
        match text.parse::<usize>() {
            Ok(n) if (1..=MAX_VM_PAGE_SIZE).contains(&n) => Ok(n),
            _ => Err(Error::criteria(
                "page_size",
                format!("{text} is out of range; use 1 to {MAX_VM_PAGE_SIZE} (default {VM_PAGE_SIZE})"),
            )),
        }
    }

    /// A VM host list call of `page_size` hosts (from [`Self::page_size`]): the first page, or
    /// the page from `id_min` on. Every page is the same request with a different `id_min`,
    /// always on the configured API server.
    pub fn vm_call(criteria: &Criteria, page_size: usize, id_min: Option<i64>, trurisk: bool) -> Call {
        let limit = page_size.to_string();
        let id_min = id_min.map(|id| id.to_string());
        let mut params: Vec<(&str, &str)> = vec![
            ("action", "list"),
            ("details", "All"),
            ("show_asset_id", "1"),
            ("show_tags", "1"),
            ("truncation_limit", &limit),
        ];
        if trurisk {
            params.push(("show_trurisk", "1"));
        }
        if let Some(p) = criteria.get("os_pattern") {
            params.push(("os_pattern", p));
        }
        // Documented format YYYY-MM-DD[THH:MM:SSZ]; the criterion is already RFC 3339 UTC.
        if let Some(s) = criteria.get("vm_scan_since") {
            params.push(("vm_scan_since", s));
        }
        if let Some(id) = &id_min {
            params.push(("id_min", id));
        }
        Call::get(endpoints::HOST_LIST, &params)
    }

    /// The QPS search for up to `limit` Cloud Agent assets after `last_id`.
    pub fn qps_call(last_id: Option<i64>, limit: usize) -> Call {
        let mut body = String::from("<ServiceRequest><preferences>");
        body.push_str(&format!("<limitResults>{limit}</limitResults></preferences><filters>"));
        body.push_str("<Criteria field=\"trackingMethod\" operator=\"EQUALS\">QAGENT</Criteria>");
        if let Some(id) = last_id {
            body.push_str(&format!("<Criteria field=\"id\" operator=\"GREATER\">{id}</Criteria>"));
        }
        body.push_str("</filters></ServiceRequest>");
        Call::post_xml(endpoints::HOST_ASSET_SEARCH, body)
    }

    /// Parses a host list page of the default size: rows, and the next page's `id_min` when
    /// Qualys said more follow.
    pub fn parse_vm(body: &mut dyn BufRead) -> Result<(Vec<Row>, Option<i64>), Error> {
        Self::parse_vm_page(body, VM_PAGE_SIZE)
    }

    /// Parses a host list page asked for with `page_size`; a server that sends more than twice
    /// as many hosts is refused (memory stays bounded by the page size).
    pub fn parse_vm_page(body: &mut dyn BufRead, page_size: usize) -> Result<(Vec<Row>, Option<i64>), Error> {
        let parsed = xml::read_records(body, &VM_MAP, &SPEC, None, page_size * 2)?;
        let next = match (
            parsed.capture(&VM_MAP, "RESPONSE/WARNING/CODE"),
            parsed.capture(&VM_MAP, "RESPONSE/WARNING/URL"),
        ) {
            (Some("1980"), Some(url)) => Some(id_min_of(url)?),
            (Some("1980"), None) => {
                return Err(Error::malformed("host list WARNING 1980 without a next-page URL"));
            }
            _ => None,
        };
        let mut rows = parsed.rows;
        let (source, name, dns, netbios, groups) =
            (idx("source"), idx("name"), idx("dns"), idx("netbios"), idx("asset_group_ids"));
        for row in &mut rows {
            row[source] = Value::Text("vm".into());
            if row[name] == Value::Null {
                row[name] = row[dns].clone();
                if row[name] == Value::Null {
                    row[name] = row[netbios].clone();
                }
            }
            split_list(&mut row[groups]);
        }
        // No skip check on id_min: host IDs have gaps, so the next page may start anywhere
        // above this page's last ID. Repeats are caught by the paging loop's ordered key.
        Ok((rows, next))
    }

    /// Parses a QPS search page: rows, and the last id when more records follow.
    pub fn parse_qps(body: &mut dyn BufRead) -> Result<(Vec<Row>, Option<i64>), Error> {
        let parsed = xml::read_records(body, &QPS_MAP, &SPEC, None, QPS_PAGE_SIZE * 2)?;
        let code = parsed.capture(&QPS_MAP, "responseCode").unwrap_or("");
        if code != "SUCCESS" {
            let message = parsed
                .capture(&QPS_MAP, "responseErrorDetails/errorMessage")
                .unwrap_or("the Asset Management API refused the request")
                .to_string();
            return Err(match code {
                "UNAUTHORIZED" | "NOT_AUTHORIZED" | "INSUFFICIENT_PRIVILEGES" | "FORBIDDEN" => {
                    Error::Permission(format!("{message} ({code})"))
                }
                "INVALID_CREDENTIALS" => Error::Authentication(format!("{message} ({code})")),
                _ => Error::Upstream { code: Some(code.to_string()), http_status: None, message },
            });
        }
        // Zero rows only from the documented empty answer: count 0 (real: no data, no
        // hasMoreRecords). A SUCCESS that promises records and holds none is not a result.
        let count = parsed.capture(&QPS_MAP, "count");
        if parsed.rows.is_empty() && count.is_none_or(|c| c.trim() != "0") {
            return Err(Error::malformed(format!(
                "the Asset Management API answered SUCCESS without records and with count {}; \
                 an empty result has count 0",
                count.unwrap_or("missing")
            )));
        }
        let more = parsed.capture(&QPS_MAP, "hasMoreRecords").is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let last = match (more, parsed.capture(&QPS_MAP, "lastId")) {
            (true, Some(id)) => Some(
                id.parse::<i64>()
                    .map_err(|_| Error::malformed(format!("QPS lastId {id:?} is not a number")))?,
            ),
            (true, None) => return Err(Error::malformed("QPS hasMoreRecords=true without lastId")),
            (false, _) => None,
        };
        let mut rows = parsed.rows;
        for row in &mut rows {
            row[idx("source")] = Value::Text("cloud_agent".into());
        }
        if let (Some(last), Some(max)) = (last, rows.iter().filter_map(|r| int(r, "asset_id")).max())
            && last != max
        {
            return Err(Error::malformed(format!("QPS lastId {last} is not the page's last asset ({max})")));
        }
        Ok((rows, last))
    }

    fn fetch_qps(
        &self,
        client: &Client<'_>,
        criteria: &Criteria,
        at: &Resume<'_>,
    ) -> Result<SourcePage, Error> {
        if !Self::wants_agents(criteria) {
            return Ok(SourcePage { memo: Some(MEMO_QPS_SKIPPED.into()), ..SourcePage::default() });
        }
        let os = Self::os_filter(criteria)?;
        let last_id = match at.position {
            Position::After { id } => Some(*id),
            _ => None,
        };
        match client.call(&Self::qps_call(last_id, QPS_PAGE_SIZE), &mut |body| Self::parse_qps(body)) {
            Ok((rows, last)) => {
                let since = criteria.get("vm_scan_since").map(str::to_string);
                let rows = rows
                    .into_iter()
                    .filter(|r| os.as_ref().is_none_or(|re| text(r, "os").is_some_and(|o| re.is_match(&o))))
                    .filter(|r| match (&since, &r[idx("last_vuln_scan_at")]) {
                        (None, _) => true,
                        (Some(s), Value::Timestamp(t)) => t >= s,
                        (Some(_), _) => false,
                    })
                    .collect();
                Ok(SourcePage { rows, next: last.map(|id| Position::After { id }), ..SourcePage::default() })
            }
            Err(Error::Permission(why)) => Ok(SourcePage {
                warnings: vec![Warning {
                    code: "cloud-agent-permission",
                    message: format!(
                        "Cloud Agent assets are not included ({why}); VM hosts are, agent-tracked ones too. {QPS_SETUP}"
                    ),
                }],
                memo: Some(MEMO_QPS_DENIED.into()),
                ..SourcePage::default()
            }),
            Err(e) => Err(e),
        }
    }

    fn fetch_vm(
        &self,
        client: &Client<'_>,
        criteria: &Criteria,
        at: &Resume<'_>,
    ) -> Result<SourcePage, Error> {
        Self::os_filter(criteria)?;
        let page_size = Self::page_size(criteria)?;
        let id_min = match at.position {
            Position::From { id } => Some(*id),
            _ => None,
        };
        let mut trurisk = !memo_has(at.memo, MEMO_NO_TRURISK);
        let mut warnings = Vec::new();
        let mut memo = None;
        let (rows, next) = match client
            .call(&Self::vm_call(criteria, page_size, id_min, trurisk), &mut |body| {
                Self::parse_vm_page(body, page_size)
            }) {
            Err(e) if trurisk && refuses_trurisk(&e) => {
                trurisk = false;
                warnings.push(Warning {
                    code: "trurisk-unavailable",
                    message: format!(
                        "this subscription refused show_trurisk ({e}); assets are listed without \
                             trurisk_score and asset_criticality_score"
                    ),
                });
                memo = Some(memo_with(at.memo, MEMO_NO_TRURISK));
                client.call(&Self::vm_call(criteria, page_size, id_min, trurisk), &mut |body| {
                    Self::parse_vm_page(body, page_size)
                })?
            }
            other => other?,
        };
        let agents_listed = Self::wants_agents(criteria)
            && !memo_has(at.memo, MEMO_QPS_DENIED)
            && !memo_has(at.memo, MEMO_QPS_SKIPPED);
        let wanted = criteria.get("tracking_method");
        let rows = rows
            .into_iter()
            .filter(|r| {
                let method = text(r, "tracking_method").unwrap_or_default();
                // Agent-tracked hosts were listed as Cloud Agent assets already.
                !(agents_listed && method == "AGENT") && wanted.is_none_or(|w| w == method)
            })
            .collect();
        Ok(SourcePage {
            rows,
            next: next.map(|id| Position::From { id }),
            warnings,
            memo,
            applied: Vec::new(),
        })
    }
}

/// Whether a failed host list call refused the `show_trurisk` parameter itself.
fn refuses_trurisk(e: &Error) -> bool {
    matches!(e, Error::Upstream { message, .. } if message.to_ascii_lowercase().contains("show_trurisk"))
}

fn memo_has(memo: Option<&str>, flag: &str) -> bool {
    memo.is_some_and(|m| m.split(',').any(|f| f == flag))
}

fn memo_with(memo: Option<&str>, flag: &str) -> String {
    match memo {
        Some(m) if !m.is_empty() && !memo_has(Some(m), flag) => format!("{m},{flag}"),
        Some(m) if !m.is_empty() => m.to_string(),
        _ => flag.to_string(),
    }
}

/// The `id_min` of a host list next-page URL, as the guide writes it: any host, any API
/// version, whitespace around it. Only this number is used; the URL itself is never requested.
pub fn id_min_of(url: &str) -> Result<i64, Error> {
    let url = url.trim();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let value = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "id_min")
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            Error::malformed(format!("the host list's next-page URL has no id_min: {:?}", truncate(url)))
        })?;
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| Error::malformed(format!("the host list's next-page id_min {value:?} is not a host ID")))
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Splits a single comma-separated value ("1,2,3") into list items.
fn split_list(v: &mut Value) {
    if let Value::TextList(items) = v {
        *items = items
            .iter()
            .flat_map(|i| i.split(','))
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }
}

impl ProofType for Assets {
    fn spec(&self) -> &'static ProofSpec {
        &SPEC
    }

    fn endpoints(&self) -> &'static [&'static str] {
        // Indexed by SOURCE_QPS, SOURCE_VM.
        &[endpoints::HOST_ASSET_SEARCH, endpoints::HOST_LIST]
    }

    fn key(&self, source: u8) -> &'static str {
        if source == SOURCE_QPS { "asset_id" } else { "host_id" }
    }

    fn paged_by_key(&self, _source: u8) -> bool {
        true
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        let vm = Call::get(
            endpoints::HOST_LIST,
            &[("action", "list"), ("details", "Basic"), ("truncation_limit", "1")],
        );
        client.call(&vm, &mut |body| Self::parse_vm(body))?;
        match client.call(&Self::qps_call(None, 1), &mut |body| Self::parse_qps(body)) {
            Ok(_) => Ok(super::Probe::Full),
            Err(Error::Permission(why)) => Ok(super::Probe::Partial(format!(
                "VM hosts only: the Asset Management API refused Cloud Agent assets ({why}). {QPS_SETUP}"
            ))),
            Err(e) => Err(e),
        }
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        // Refused before any source is asked anything.
        Self::page_size(criteria)?;
        match at.source {
            SOURCE_QPS => self.fetch_qps(client, criteria, at),
            SOURCE_VM => self.fetch_vm(client, criteria, at),
            other => Err(Error::Internal(format!("assets has no source {other}"))),
        }
    }
}
