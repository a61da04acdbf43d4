//! VM Remediation Tickets: `/msp/ticket_list.php` (Qualys API v1).
//!
//! Source: Qualys API v1 User Guide, "Ticket List" (ticket_list.php) and its DTD
//! `ticket_list_output.dtd`: REMEDIATION_TICKETS > (HEADER, TICKET_LIST > TICKET*,
//! TRUNCATION?). At most 1,000 tickets per call, ordered by ticket number; when more match, a
//! `TRUNCATION last="N"` element names the last one returned and the next call asks
//! `since_ticket_number=N+1`. Filters: `states`, `modified_since_datetime`, `vuln_severities`,
//! `overdue` (all documented ticket_list.php parameters). `states` is always sent.
//! DETECTION holds IP, DNSNAME, NBHNAME, SERVICE, and PORT, PROTOCOL, FQDN in some outputs
//! (doc, and every public parser). A v1 error is an `ERROR` element inside the root (doc).

use super::{Position, Resume, SourcePage};
use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, field};
use crate::values;
use crate::xml::{self, RecordMap};

use super::ProofType;

/// Tickets per call: Qualys' maximum for ticket_list.php.
pub const PAGE_SIZE: usize = 1000;
/// Every ticket state ticket_list.php knows.
const STATES: [&str; 4] = ["OPEN", "RESOLVED", "CLOSED", "IGNORED"];
/// The `states` sent when the user names none.
const ALL_STATES: &str = "OPEN,RESOLVED,CLOSED,IGNORED";

static FIELDS: &[FieldSpec] = &[
    field("ticket_number", "Ticket", Integer, "NUMBER: the ticket's number."),
    field("state", "State", Text, "CURRENT_STATE: OPEN, RESOLVED, CLOSED or IGNORED."),
    field("invalid", "Invalid", Boolean, "INVALID: the ticket was marked invalid."),
    field(
        "severity",
        "Severity",
        Integer,
        "VULNINFO/SEVERITY: vulnerability level, 1 (minimal) to 5 (urgent).",
    ),
    field("qid", "QID", Integer, "VULNINFO/QID: the Qualys vulnerability id."),
    field("vuln_title", "Vulnerability", Text, "VULNINFO/TITLE."),
    field("vuln_type", "Type", Text, "VULNINFO/TYPE: VULN, POSS (potential) or IG (information)."),
    field("ip", "IP", Text, "DETECTION/IP: the affected host."),
    field("dns", "DNS name", Text, "DETECTION/DNSNAME: the host's DNS name."),
    field("netbios", "NetBIOS name", Text, "DETECTION/NBHNAME: the host's NetBIOS name."),
    field("fqdn", "FQDN", Text, "DETECTION/FQDN, in outputs that carry it."),
    field("service", "Service", Text, "DETECTION/SERVICE: the service the detection is on."),
    field("port", "Port", Integer, "DETECTION/PORT, when the detection is on a port."),
    field("protocol", "Protocol", Text, "DETECTION/PROTOCOL."),
    field("assignee_login", "Assignee", Text, "ASSIGNEE/LOGIN."),
    field("assignee_name", "Assignee name", Text, "ASSIGNEE/NAME."),
    field("assignee_email", "Assignee email", Text, "ASSIGNEE/EMAIL."),
    field("created_at", "Created", Timestamp, "CREATION_DATETIME, UTC."),
    field("due_at", "Due", Timestamp, "DUE_DATETIME, UTC."),
    field(
        "last_modified_at",
        "Last modified",
        Timestamp,
        "Latest HISTORY_LIST/HISTORY/DATETIME (else the creation time).",
    ),
    field("first_found_at", "First found", Timestamp, "STATS/FIRST_FOUND_DATETIME."),
    field("last_found_at", "Last found", Timestamp, "STATS/LAST_FOUND_DATETIME."),
    field("last_scan_at", "Last scan", Timestamp, "STATS/LAST_SCAN_DATETIME."),
    field("times_found", "Times found", Integer, "STATS/TIMES_FOUND."),
    field("resolved_at", "Resolved", Timestamp, "STATS/LAST_RESOLVED_DATETIME."),
    field("closed_at", "Closed", Timestamp, "STATS/LAST_CLOSED_DATETIME."),
    field(
        "time_to_resolution_seconds",
        "Time to resolution (s)",
        Integer,
        "Derived: from creation to resolution (or closing); null while the ticket is open.",
    ),
    field(
        "overdue",
        "Overdue",
        Boolean,
        "Derived: resolved after its due time, or still open past it (at collection time).",
    ),
];

static CRITERIA: &[CriterionSpec] = &[
    CriterionSpec {
        name: "states",
        kind: TextList,
        required: false,
        allowed: &STATES,
        default: Some(ALL_STATES),
        description: "Only tickets in these states (comma-separated). Always sent: all four when not \
                      given, so the proof never depends on Qualys' default (OPEN only, per a public client).",
    },
    CriterionSpec {
        name: "modified_since",
        kind: Timestamp,
        required: false,
        allowed: &[],
        default: None,
        description: "Only tickets modified at or after this date (YYYY-MM-DD or RFC 3339).",
    },
    CriterionSpec {
        name: "severities",
        kind: TextList,
        required: false,
        allowed: &["1", "2", "3", "4", "5"],
        default: None,
        description: "Only vulnerabilities of these severity levels (comma-separated, 1 to 5).",
    },
    CriterionSpec {
        name: "overdue",
        kind: Boolean,
        required: false,
        allowed: &[],
        default: None,
        description: "true: only overdue tickets; false: only tickets not overdue.",
    },
];

static SPEC: ProofSpec = ProofSpec {
    key: &[&["ticket_number"]],
    id: "remediation-tickets",
    title: "VM Remediation Tickets",
    description: "Vulnerability remediation tickets: level, state, assignee, due date, last \
                  modification, time to resolution and overdue status.",
    fields: FIELDS,
    criteria: CRITERIA,
};

static MAP: RecordMap = RecordMap {
    root: "REMEDIATION_TICKETS",
    record: "TICKET_LIST/TICKET",
    columns: &[
        ("NUMBER", "ticket_number"),
        ("CURRENT_STATE", "state"),
        ("INVALID", "invalid"),
        ("VULNINFO/SEVERITY", "severity"),
        ("VULNINFO/QID", "qid"),
        ("VULNINFO/TITLE", "vuln_title"),
        ("VULNINFO/TYPE", "vuln_type"),
        ("DETECTION/IP", "ip"),
        // Doc and every public parser: DNSNAME / NBHNAME, never DNS / NETBIOS.
        ("DETECTION/DNSNAME", "dns"),
        ("DETECTION/NBHNAME", "netbios"),
        ("DETECTION/FQDN", "fqdn"),
        ("DETECTION/SERVICE", "service"),
        ("DETECTION/PORT", "port"),
        ("DETECTION/PROTOCOL", "protocol"),
        ("ASSIGNEE/LOGIN", "assignee_login"),
        ("ASSIGNEE/NAME", "assignee_name"),
        ("ASSIGNEE/EMAIL", "assignee_email"),
        ("CREATION_DATETIME", "created_at"),
        ("DUE_DATETIME", "due_at"),
        ("HISTORY_LIST/HISTORY/DATETIME", "last_modified_at"),
        ("STATS/FIRST_FOUND_DATETIME", "first_found_at"),
        ("STATS/LAST_FOUND_DATETIME", "last_found_at"),
        ("STATS/LAST_SCAN_DATETIME", "last_scan_at"),
        ("STATS/TIMES_FOUND", "times_found"),
        ("STATS/LAST_RESOLVED_DATETIME", "resolved_at"),
        ("STATS/LAST_CLOSED_DATETIME", "closed_at"),
    ],
    captures: &["TRUNCATION/@last"],
    // REMEDIATION_TICKETS (ERROR | (HEADER, TICKET_LIST?, TRUNCATION?)).
    required: &["HEADER"],
};

pub struct Tickets;

impl Tickets {
    /// The request for the page after ticket `after` (the first page when `None`).
    pub fn call(criteria: &Criteria, after: Option<i64>) -> Call {
        let since = after.map(|n| (n + 1).to_string());
        let mut params: Vec<(&str, &str)> = Vec::new();
        if let Some(since) = &since {
            params.push(("since_ticket_number", since));
        }
        // The criterion defaults to every state, so `states` is always sent.
        params.push(("states", criteria.get("states").unwrap_or(ALL_STATES)));
        let modified = criteria.get("modified_since").map(str::to_string);
        if let Some(m) = &modified {
            params.push(("modified_since_datetime", m));
        }
        if let Some(s) = criteria.get("severities") {
            params.push(("vuln_severities", s));
        }
        match criteria.flag("overdue") {
            Some(true) => params.push(("overdue", "1")),
            Some(false) => params.push(("overdue", "0")),
            None => {}
        }
        Call::post_form(crate::endpoints::TICKET_LIST, &params)
    }

    /// Parses one ticket_list.php page; returns rows and the TRUNCATION `last` number.
    pub fn parse(body: &mut dyn std::io::BufRead, now: i64) -> Result<(Vec<Row>, Option<i64>), Error> {
        let parsed = xml::read_records(body, &MAP, &SPEC, None, PAGE_SIZE * 2)?;
        let last = match parsed.capture(&MAP, "TRUNCATION/@last") {
            Some(n) => Some(
                n.parse::<i64>()
                    .map_err(|_| Error::malformed(format!("TRUNCATION last={n:?} is not a ticket number")))?,
            ),
            None => None,
        };
        let mut rows = parsed.rows;
        let at = Columns::new();
        for row in &mut rows {
            derive(row, &at, now);
        }
        // TRUNCATION names the last ticket returned; anything else means a broken chain.
        let number = SPEC.index("ticket_number");
        let max = rows.iter().filter_map(|r| match r[number] {
            Value::Integer(n) => Some(n),
            _ => None,
        });
        if let (Some(last), Some(max)) = (last, max.max())
            && last != max
        {
            return Err(Error::malformed(format!(
                "TRUNCATION last={last} is not the page's last ticket ({max}); the paging chain is inconsistent"
            )));
        }
        Ok((rows, last))
    }
}

/// Positions of the fields [`derive`] reads and writes, looked up once per page.
struct Columns {
    state: usize,
    created: usize,
    due: usize,
    last_modified: usize,
    resolved: usize,
    closed: usize,
    time_to_resolution: usize,
    overdue: usize,
}

impl Columns {
    fn new() -> Columns {
        Columns {
            state: SPEC.index("state"),
            created: SPEC.index("created_at"),
            due: SPEC.index("due_at"),
            last_modified: SPEC.index("last_modified_at"),
            resolved: SPEC.index("resolved_at"),
            closed: SPEC.index("closed_at"),
            time_to_resolution: SPEC.index("time_to_resolution_seconds"),
            overdue: SPEC.index("overdue"),
        }
    }
}

/// Fills the derived fields: last modification, time to resolution, overdue.
fn derive(row: &mut Row, at: &Columns, now: i64) {
    let ts = |row: &Row, i: usize| match &row[i] {
        Value::Timestamp(t) => values::to_epoch(t),
        _ => None,
    };
    let created = ts(row, at.created);
    let due = ts(row, at.due);
    let resolved = ts(row, at.resolved).or_else(|| ts(row, at.closed));
    let still_open = matches!(&row[at.state], Value::Text(s) if s.eq_ignore_ascii_case("OPEN"));
    if row[at.last_modified] == Value::Null {
        row[at.last_modified] = row[at.created].clone();
    }
    row[at.time_to_resolution] = match (created, resolved, still_open) {
        (Some(c), Some(r), false) if r >= c => Value::Integer(r - c),
        _ => Value::Null,
    };
    row[at.overdue] = match due {
        None => Value::Boolean(false),
        Some(d) if still_open => Value::Boolean(now > d),
        Some(d) => Value::Boolean(resolved.is_some_and(|r| r > d)),
    };
}

impl ProofType for Tickets {
    fn spec(&self) -> &'static ProofSpec {
        &SPEC
    }

    fn endpoints(&self) -> &'static [&'static str] {
        &[crate::endpoints::TICKET_LIST]
    }

    fn key(&self, _source: u8) -> &'static [&'static str] {
        &["ticket_number"]
    }

    fn paged_by_key(&self, _source: u8) -> bool {
        true
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        // Tickets up to number 1: an (almost always) empty list, still checked for rights.
        let call = Call::post_form(
            crate::endpoints::TICKET_LIST,
            &[("until_ticket_number", "1"), ("states", ALL_STATES)],
        );
        let now = client.now();
        client.call(&call, &mut |body| Tickets::parse(body, now)).map(|_| super::Probe::Full)
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        let after = match at.position {
            Position::After { id } => Some(*id),
            _ => None,
        };
        let now = client.now();
        let (rows, last) =
            client.call(&Tickets::call(criteria, after), &mut |body| Tickets::parse(body, now))?;
        Ok(SourcePage { rows, next: last.map(|id| Position::After { id }), ..SourcePage::default() })
    }
}
