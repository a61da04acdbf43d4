//! List of Assets: Cloud Agent assets (Asset Management QPS API) and VM hosts (host list),
//! merged so that each asset appears once.
//!
//! Sources:
//! - VM hosts: Qualys API (VM, PC) User Guide, "Host List" — `/api/5.0/fo/asset/host/?action=list`
//!   with `details=All`, `show_asset_id=1`, `show_tags=1`, `truncation_limit`; host_list_output.dtd:
//!   HOST_LIST_OUTPUT > RESPONSE > (DATETIME, HOST_LIST > HOST*, WARNING?). When more hosts match,
//!   `WARNING` code 1980 carries the next page's `URL` (with `id_min`), followed as returned
//!   after checking it stays on the API server.
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

/// VM hosts per page: Qualys' default truncation limit (bounded memory, few calls).
pub const VM_PAGE_SIZE: usize = 1000;
/// Cloud Agent assets per page: the QPS maximum.
pub const QPS_PAGE_SIZE: usize = 1000;

const SOURCE_QPS: u8 = 0;
const SOURCE_VM: u8 = 1;
const MEMO_QPS_DENIED: &str = "qps-denied";
const MEMO_QPS_SKIPPED: &str = "qps-skipped";

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
];

static SPEC: ProofSpec = ProofSpec {
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
    ],
    captures: &["RESPONSE/WARNING/CODE", "RESPONSE/WARNING/URL"],
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
        "hasMoreRecords",
        "lastId",
        "responseErrorDetails/errorMessage",
        "responseErrorDetails/errorResolution",
    ],
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

    /// The first VM host list call.
    pub fn vm_call(criteria: &Criteria) -> Call {
        let limit = VM_PAGE_SIZE.to_string();
        let mut params: Vec<(&str, &str)> = vec![
            ("action", "list"),
            ("details", "All"),
            ("show_asset_id", "1"),
            ("show_tags", "1"),
            ("truncation_limit", &limit),
        ];
        if let Some(p) = criteria.get("os_pattern") {
            params.push(("os_pattern", p));
        }
        // Documented format YYYY-MM-DD[THH:MM:SSZ]; the criterion is already RFC 3339 UTC.
        if let Some(s) = criteria.get("vm_scan_since") {
            params.push(("vm_scan_since", s));
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

    /// Parses a host list page: rows, and the next page's path when Qualys gave one.
    pub fn parse_vm(
        body: &mut dyn BufRead,
        client_base: &qualys_platforms::ApiBase,
    ) -> Result<(Vec<Row>, Option<String>), Error> {
        let parsed = xml::read_records(body, &VM_MAP, &SPEC, None, VM_PAGE_SIZE * 2)?;
        let next =
            match (
                parsed.capture(&VM_MAP, "RESPONSE/WARNING/CODE"),
                parsed.capture(&VM_MAP, "RESPONSE/WARNING/URL"),
            ) {
                (Some("1980"), Some(url)) => Some(client_base.same_origin_path(url).map_err(|e| {
                    Error::malformed(format!("the host list's next-page URL was refused: {e}"))
                })?),
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
        let call = match at.position {
            Position::Url { u } => Call::get_path(u),
            _ => Self::vm_call(criteria),
        };
        let base = client.base().clone();
        let (rows, next) = client.call(&call, &mut |body| Self::parse_vm(body, &base))?;
        let agents_listed = Self::wants_agents(criteria) && at.memo.is_none();
        let wanted = criteria.get("tracking_method");
        let rows = rows
            .into_iter()
            .filter(|r| {
                let method = text(r, "tracking_method").unwrap_or_default();
                // Agent-tracked hosts were listed as Cloud Agent assets already.
                !(agents_listed && method == "AGENT") && wanted.is_none_or(|w| w == method)
            })
            .collect();
        Ok(SourcePage { rows, next: next.map(|u| Position::Url { u }), ..SourcePage::default() })
    }
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

    fn sources(&self) -> u8 {
        2
    }

    fn ordered_key(&self, source: u8) -> Option<&'static str> {
        Some(if source == SOURCE_QPS { "asset_id" } else { "host_id" })
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        let base = client.base().clone();
        let vm = Call::get(
            endpoints::HOST_LIST,
            &[("action", "list"), ("details", "Basic"), ("truncation_limit", "1")],
        );
        client.call(&vm, &mut |body| Self::parse_vm(body, &base))?;
        match client.call(&Self::qps_call(None, 1), &mut |body| Self::parse_qps(body)) {
            Ok(_) => Ok(super::Probe::Full),
            Err(Error::Permission(why)) => Ok(super::Probe::Partial(format!(
                "VM hosts only: the Asset Management API refused Cloud Agent assets ({why}). {QPS_SETUP}"
            ))),
            Err(e) => Err(e),
        }
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        match at.source {
            SOURCE_QPS => self.fetch_qps(client, criteria, at),
            SOURCE_VM => self.fetch_vm(client, criteria, at),
            other => Err(Error::Internal(format!("assets has no source {other}"))),
        }
    }
}
