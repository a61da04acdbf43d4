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

use super::{Resume, SourcePage};
use crate::criteria::Criteria;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, field};

use super::{ProofType, memo_has, memo_value, memo_with};

mod qps;
mod vm;

pub use vm::id_min_of;

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
/// The memo entry holding the instant coverage is measured at (`asof=EPOCH`).
const MEMO_AS_OF: &str = "asof";

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
    field(
        "days_since_last_scan",
        "Days since last scan",
        Integer,
        "Derived: calendar days (UTC) from the day of last_vuln_scan_at to the collection day; null if never scanned.",
    ),
    field(
        "days_since_agent_check_in",
        "Days since agent check-in",
        Integer,
        "Derived: calendar days (UTC) from the day of agent_last_checked_in_at to the collection day; null without an agent.",
    ),
    field(
        "scan_stale",
        "Scan stale",
        Boolean,
        "Derived: neither a vulnerability scan nor an agent check-in within stale_after_days.",
    ),
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
        name: "stale_after_days",
        kind: Integer,
        required: false,
        allowed: &[],
        default: Some("30"),
        description: "An asset is scan_stale when neither its last vulnerability scan nor its agent's \
                      last check-in is this recent (days, 1 to 3650).",
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

    /// The `stale_after_days` criterion, within 1..=3650.
    fn stale_after(criteria: &Criteria) -> Result<i64, Error> {
        criteria.bounded("stale_after_days", 30, 1..=3650, " days")
    }

    /// The host list page size the criteria ask for, within 1..=[`MAX_VM_PAGE_SIZE`].
    pub fn page_size(criteria: &Criteria) -> Result<usize, Error> {
        let n = criteria.bounded("page_size", VM_PAGE_SIZE as i64, 1..=MAX_VM_PAGE_SIZE as i64, "")?;
        Ok(n as usize)
    }
}

/// Fills the scan-coverage fields of an asset row measured at `as_of`.
fn coverage(row: &mut Row, as_of: i64, stale_after_days: i64) {
    let days_since = |name: &str| match &row[idx(name)] {
        Value::Timestamp(t) => crate::values::to_epoch(t).map(|t| crate::values::days_between(t, as_of)),
        _ => None,
    };
    let scan = days_since("last_vuln_scan_at");
    let agent = days_since("agent_last_checked_in_at");
    let recent = |d: Option<i64>| d.is_some_and(|d| d <= stale_after_days);
    row[idx("days_since_last_scan")] = scan.map_or(Value::Null, Value::Integer);
    row[idx("days_since_agent_check_in")] = agent.map_or(Value::Null, Value::Integer);
    row[idx("scan_stale")] = Value::Boolean(!recent(scan) && !recent(agent));
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

    fn key(&self, source: u8) -> &'static [&'static str] {
        if source == SOURCE_QPS { &["asset_id"] } else { &["host_id"] }
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
        let stale_after = Self::stale_after(criteria)?;
        // Coverage is measured at one instant for the whole proof: the first page's.
        let as_of =
            memo_value(at.memo, MEMO_AS_OF).and_then(|t| t.parse().ok()).unwrap_or_else(|| client.now());
        let mut page = match at.source {
            SOURCE_QPS => self.fetch_qps(client, criteria, at),
            SOURCE_VM => self.fetch_vm(client, criteria, at),
            other => Err(Error::Internal(format!("assets has no source {other}"))),
        }?;
        for row in &mut page.rows {
            coverage(row, as_of, stale_after);
        }
        if memo_value(at.memo, MEMO_AS_OF).is_none() {
            let memo = page.memo.take().or_else(|| at.memo.map(str::to_string));
            page.memo = Some(memo_with(memo.as_deref(), &format!("{MEMO_AS_OF}={as_of}")));
            page.applied.push(("coverage_as_of", crate::values::from_epoch(as_of)));
        }
        Ok(page)
    }
}
