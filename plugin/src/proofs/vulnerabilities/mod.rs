//! Vulnerabilities (host detections): the VM host detection list, one row per detection, with
//! titles, CVEs and CVSS v3 from the KnowledgeBase and an SLA measured on every row.
//!
//! Sources:
//! - Detections: Qualys API (VM, PC) User Guide, "Host List Detection" —
//!   `/api/5.0/fo/asset/host/vm/detection/?action=list`, asked with a POST form. Shape (doc:
//!   the detection DTD's content model, quoted in public code and in the field notes):
//!   HOST_LIST_VM_DETECTION_OUTPUT > RESPONSE > (DATETIME, HOST_LIST?, WARNING?); HOST holds
//!   ID, ASSET_ID?, IP?, IPV6?, TRACKING_METHOD?, …, OS?, …, DNS?, …, NETBIOS?, …, then
//!   DETECTION_LIST > DETECTION (QID, TYPE, SEVERITY?, PORT?, PROTOCOL?, FQDN?, SSL?,
//!   INSTANCE?, RESULTS?, STATUS?, FIRST_FOUND_DATETIME?, …). An empty answer is RESPONSE with
//!   DATETIME only (real). `truncation_limit` counts hosts (doc); the next page is a WARNING
//!   1980 whose URL carries `id_min` (doc, sdk), read exactly as the host list's.
//! - Titles, CVEs, CVSS v3: "KnowledgeBase" — `/api/3.0/fo/knowledge_base/vuln/?action=list`
//!   with `ids=` the page's QIDs (sdk), one call per page of detections. `details=All`: the
//!   guide says Basic holds "basic elements plus CVSS Base and Temporal scores" without
//!   saying whether the CVE list is one of them, and All is documented to hold every detail.
//!   A QID the KnowledgeBase does not return is simply absent (doc): its rows keep a null
//!   title, with a warning naming it.
//!
//! Memory: a page of the proof holds at most [`MAX_PAGE_ROWS`] detections and about
//! [`MAX_PAGE_BYTES`] of their values, whatever one host holds: a page that fills up inside a
//! host ends there, and the next one asks again from that host's id and passes over the
//! detections already delivered, checking that the last of them is the one it delivered
//! (otherwise the host changed between the calls and the collect stops, naming it). RESULTS
//! (CDATA holding tabs and literal entity-like text, real) is kept byte for byte, cut at
//! [`MAX_RESULTS_BYTES`] with `results_truncated` set.

use super::{Position, ProofType, Resume, SourcePage};
use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::Client;
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, Warning, field};

mod detections;
mod knowledge_base;
mod sla;

pub use sla::{Sla, derive};

/// Hosts per detection-list call at most, by default (Qualys' own default).
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Hosts the first call asks for at most, before the density of detections is known.
pub const FIRST_CALL_HOSTS: usize = 100;
/// Largest `page_size` accepted (the connector's own bound, as for the host list).
pub const MAX_PAGE_SIZE: usize = 10_000;
/// Detections in one page of the proof at most.
pub const MAX_PAGE_ROWS: usize = 10_000;
/// About how many bytes of values one page of the proof holds at most.
pub const MAX_PAGE_BYTES: usize = 16 << 20;
/// RESULTS kept per detection.
pub const MAX_RESULTS_BYTES: usize = 64 * 1024;

/// The SLA policy applied when none is given: critical 15 and high 30 days follow CISA's
/// BOD 19-02; medium, low and minimal are common policy practice.
pub const DEFAULT_SLA: &str = "5=15,4=30,3=90,2=180,1=365";
/// Statuses collected when none are named: every one not yet fixed.
const OPEN_STATUSES: &str = "New,Active,Re-Opened";

static FIELDS: &[FieldSpec] = &[
    field("host_id", "Host ID", Integer, "HOST/ID: the VM host's id."),
    field("asset_id", "Asset ID", Integer, "HOST/ASSET_ID."),
    field("ip", "IP", Text, "HOST/IP."),
    field("ipv6", "IPv6", Text, "HOST/IPV6."),
    field("dns", "DNS name", Text, "HOST/DNS."),
    field("netbios", "NetBIOS name", Text, "HOST/NETBIOS."),
    field("os", "Operating system", Text, "HOST/OS."),
    field("tracking_method", "Tracking method", Text, "HOST/TRACKING_METHOD: IP, DNS, NETBIOS, AGENT, EC2…"),
    field("qid", "QID", Integer, "DETECTION/QID: the Qualys vulnerability id."),
    field("title", "Title", Text, "KnowledgeBase VULN/TITLE; null when the KnowledgeBase has no such QID."),
    field("type", "Type", Text, "DETECTION/TYPE: Confirmed, Potential or Info."),
    field("severity", "Severity", Integer, "DETECTION/SEVERITY: 1 (minimal) to 5 (urgent)."),
    field("port", "Port", Integer, "DETECTION/PORT, when the detection is on a port."),
    field("protocol", "Protocol", Text, "DETECTION/PROTOCOL."),
    field("ssl", "SSL", Boolean, "DETECTION/SSL: found over SSL/TLS."),
    field("fqdn", "FQDN", Text, "DETECTION/FQDN, when Qualys sends it."),
    field("instance", "Instance", Text, "DETECTION/INSTANCE, when Qualys sends it."),
    field("status", "Status", Text, "DETECTION/STATUS: New, Active, Re-Opened or Fixed."),
    field("first_found_at", "First found", Timestamp, "DETECTION/FIRST_FOUND_DATETIME."),
    field("last_found_at", "Last found", Timestamp, "DETECTION/LAST_FOUND_DATETIME."),
    field("last_test_at", "Last tested", Timestamp, "DETECTION/LAST_TEST_DATETIME."),
    field("last_fixed_at", "Last fixed", Timestamp, "DETECTION/LAST_FIXED_DATETIME."),
    field("last_reopened_at", "Last reopened", Timestamp, "DETECTION/LAST_REOPENED_DATETIME."),
    field("times_found", "Times found", Integer, "DETECTION/TIMES_FOUND."),
    field("is_ignored", "Ignored", Boolean, "DETECTION/IS_IGNORED."),
    field("is_disabled", "Disabled", Boolean, "DETECTION/IS_DISABLED."),
    field("qds", "QDS", Integer, "DETECTION/QDS: Qualys Detection Score, 1 to 100, when sent."),
    field("cve_ids", "CVEs", TextList, "KnowledgeBase VULN/CVE_LIST/CVE/ID."),
    field("cvss3_base", "CVSS v3 base", Text, "KnowledgeBase VULN/CVSS_V3/BASE, as Qualys writes it."),
    field(
        "sla_days",
        "SLA (days)",
        Integer,
        "Derived: the days the sla_days policy gives this severity; null when it gives none.",
    ),
    field("due_at", "Due", Timestamp, "Derived: first_found_at plus sla_days."),
    field(
        "overdue",
        "Overdue",
        Boolean,
        "Derived: not fixed and past due at collection time (sla_as_of), or fixed after its due time.",
    ),
    field(
        "days_open",
        "Days open",
        Integer,
        "Derived: calendar days (UTC) from the day first found to the day fixed (status Fixed), else to the collection day.",
    ),
    field(
        "results",
        "Results",
        Text,
        "DETECTION/RESULTS byte for byte (include_results=true), cut at 64 KiB.",
    ),
    field(
        "results_truncated",
        "Results cut",
        Boolean,
        "true when RESULTS was longer than 64 KiB and cut; null when results were not asked for.",
    ),
];

static CRITERIA: &[CriterionSpec] = &[
    CriterionSpec {
        name: "statuses",
        kind: TextList,
        required: false,
        allowed: &["New", "Active", "Re-Opened", "Fixed"],
        default: Some(OPEN_STATUSES),
        description: "Detection statuses to list (sent as `status`); Fixed on request.",
    },
    CriterionSpec {
        name: "severities",
        kind: TextList,
        required: false,
        allowed: &["1", "2", "3", "4", "5"],
        default: Some("1,2,3,4,5"),
        description: "Severities to list (comma-separated, 1 to 5); always sent.",
    },
    CriterionSpec {
        name: "types",
        kind: TextList,
        required: false,
        allowed: &["Confirmed", "Potential", "Info"],
        default: Some("Confirmed,Potential"),
        description: "Detection types: Confirmed and Potential by default; Info (information \
                      gathered) adds `show_igs=1`.",
    },
    CriterionSpec {
        name: "include_ignored",
        kind: Boolean,
        required: false,
        allowed: &[],
        default: Some("false"),
        description: "List ignored detections too (always sent as include_ignored=0 or 1).",
    },
    CriterionSpec {
        name: "include_disabled",
        kind: Boolean,
        required: false,
        allowed: &[],
        default: Some("false"),
        description: "List disabled detections too (always sent as include_disabled=0 or 1).",
    },
    CriterionSpec {
        name: "detection_updated_since",
        kind: Timestamp,
        required: false,
        allowed: &[],
        default: None,
        description: "Only detections updated at or after this date.",
    },
    CriterionSpec {
        name: "qids",
        kind: TextList,
        required: false,
        allowed: &[],
        default: None,
        description: "Only these QIDs (comma-separated numbers).",
    },
    CriterionSpec {
        name: "include_results",
        kind: Boolean,
        required: false,
        allowed: &[],
        default: Some("false"),
        description: "Add each detection's RESULTS (scan output; can be very large), kept byte for \
                      byte up to 64 KiB a detection.",
    },
    CriterionSpec {
        name: "sla_days",
        kind: Text,
        required: false,
        allowed: &[],
        default: Some(DEFAULT_SLA),
        description: "Days to fix by severity, SEVERITY=DAYS pairs (default 5=15,4=30,3=90,2=180,\
                      1=365: critical and high as CISA BOD 19-02). A severity left out has no SLA.",
    },
    CriterionSpec {
        name: "page_size",
        kind: Integer,
        required: false,
        allowed: &[],
        default: Some("1000"),
        description: "Hosts per detection-list call at most (Qualys' truncation_limit counts hosts), \
                      1 to 10,000. A page of the proof holds at most 10,000 detections whatever the \
                      hosts hold: the first call asks for 100 hosts at most, the next ones for as \
                      many as fill a page (never more than this), and a host with more continues on \
                      the next page.",
    },
];

static SPEC: ProofSpec = ProofSpec {
    key: &[&["host_id", "qid", "port", "protocol", "ssl"]],
    id: "vulnerabilities",
    title: "Vulnerabilities (host detections)",
    description: "Every vulnerability Qualys detected on a host, with its status, dates, title, CVEs \
                  and CVSS, and whether it was fixed within the SLA for its severity.",
    fields: FIELDS,
    criteria: CRITERIA,
};

fn idx(name: &str) -> usize {
    SPEC.index(name)
}

/// The proof type.
pub struct Vulnerabilities;

impl Vulnerabilities {
    /// Hosts per call, within 1..=[`MAX_PAGE_SIZE`].
    pub fn page_size(criteria: &Criteria) -> Result<usize, Error> {
        let n = criteria.bounded("page_size", DEFAULT_PAGE_SIZE as i64, 1..=MAX_PAGE_SIZE as i64, "")?;
        Ok(n as usize)
    }

    fn qids(criteria: &Criteria) -> Result<(), Error> {
        for q in criteria.list("qids") {
            if q.parse::<u64>().is_err() {
                return Err(Error::criteria("qids", format!("{q:?} is not a QID (a whole number)")));
            }
        }
        Ok(())
    }

    /// A number the memo carries (`asof=EPOCH,density=ROWS_PER_HOST`).
    fn memo_number(memo: Option<&str>, name: &str) -> Option<i64> {
        super::memo_value(memo, name)?.parse().ok()
    }

    /// Hosts to ask for: `page_size` at most, fewer when the hosts seen so far hold so many
    /// detections that a larger answer would be cut at [`MAX_PAGE_ROWS`] and read again (the
    /// page's memo keeps the detections a host held on the previous page).
    fn hosts_per_call(page_size: usize, density: Option<i64>) -> usize {
        match density {
            Some(d) if d > 0 => page_size.min((MAX_PAGE_ROWS as i64 / d).max(1) as usize),
            // Before anything is known of the hosts, a small first call: a dense subscription
            // would fill a page with a fraction of a large one and discard the rest.
            _ => page_size.min(FIRST_CALL_HOSTS),
        }
    }
}

impl ProofType for Vulnerabilities {
    fn spec(&self) -> &'static ProofSpec {
        &SPEC
    }

    fn endpoints(&self) -> &'static [&'static str] {
        &[crate::endpoints::DETECTION_LIST]
    }

    fn lookups(&self) -> &'static [&'static str] {
        &[crate::endpoints::KNOWLEDGE_BASE]
    }

    fn key(&self, _source: u8) -> &'static [&'static str] {
        SPEC.key[0]
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        client.call(&detections::probe_call(), &mut |body| detections::parse_probe(body))?;
        client.call(&knowledge_base::call(&[6]), &mut |body| knowledge_base::parse(body, 1).map(|_| ()))?;
        Ok(super::Probe::Full)
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        let page_size = Self::page_size(criteria)?;
        Self::qids(criteria)?;
        let sla = Sla::parse(criteria.get("sla_days").unwrap_or(DEFAULT_SLA))?;
        let results = criteria.flag("include_results") == Some(true);
        // The SLA is measured at one instant for the whole proof: the first page's.
        let as_of = Self::memo_number(at.memo, "asof").unwrap_or_else(|| client.now());
        let density = Self::memo_number(at.memo, "density");
        let call = detections::call(criteria, Self::hosts_per_call(page_size, density), at.position);
        let page = client.call(&call, &mut |body| detections::parse(body, at.position, results))?;
        let mut rows = page.rows;
        let mut warnings = Vec::new();
        // Detections a host held on this page, rounded up (the next call's size follows it).
        let host = idx("host_id");
        let hosts =
            rows.windows(2).filter(|w| w[0][host] != w[1][host]).count() + usize::from(!rows.is_empty());
        let density = if hosts > 0 { Some(rows.len().div_ceil(hosts) as i64) } else { density };

        // One KnowledgeBase call for the page's distinct QIDs, never one per detection.
        let qid = idx("qid");
        let mut qids: Vec<i64> =
            rows.iter().filter_map(|r| if let Value::Integer(q) = r[qid] { Some(q) } else { None }).collect();
        qids.sort_unstable();
        qids.dedup();
        if !qids.is_empty() {
            let kb = client
                .call(&knowledge_base::call(&qids), &mut |body| knowledge_base::parse(body, qids.len()))?;
            let missing = knowledge_base::join(&mut rows, &kb);
            if !missing.is_empty() {
                let shown: Vec<String> = missing.iter().take(20).map(i64::to_string).collect();
                let more = missing.len().saturating_sub(20);
                warnings.push(Warning {
                    code: "kb-missing-qids",
                    message: format!(
                        "the KnowledgeBase returned no entry for QID {}{}; their detections are kept \
                         with no title, CVEs or CVSS",
                        shown.join(", "),
                        if more > 0 { format!(" and {more} more") } else { String::new() }
                    ),
                });
            }
        }
        let cut = if results { sla::cut_results(&rows) } else { 0 };
        if cut > 0 {
            warnings.push(Warning {
                code: "results-truncated",
                message: format!(
                    "{cut} detection(s) had RESULTS longer than {} KiB; each was cut there \
                     (results_truncated is true on those rows)",
                    MAX_RESULTS_BYTES / 1024
                ),
            });
        }
        for row in &mut rows {
            derive(row, &sla, as_of);
        }
        let first = matches!(at.position, Position::Start);
        Ok(SourcePage {
            rows,
            next: page.next,
            warnings,
            memo: Some(match density {
                Some(d) => format!("asof={as_of},density={d}"),
                None => format!("asof={as_of}"),
            }),
            applied: if first { vec![("sla_as_of", crate::values::from_epoch(as_of))] } else { Vec::new() },
        })
    }
}

/// Rows as the tests and the benchmark see them: parse one detection-list page.
pub fn parse_page(
    body: &mut dyn std::io::BufRead,
    results: bool,
) -> Result<(Vec<Row>, Option<Position>), Error> {
    detections::parse(body, &Position::Start, results).map(|p| (p.rows, p.next))
}
