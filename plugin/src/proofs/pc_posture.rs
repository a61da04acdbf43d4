//! Policy Compliance Posture: whether each control of each policy passes on each host.
//!
//! Sources:
//! - Policies: "Compliance Policy List" — `/api/2.0/fo/compliance/policy/?action=list` (doc),
//!   asked once, on the first page, when the `policy_ids` criterion names none: every policy
//!   the account sees, in ascending id, kept in the cursor (so a collect of hundreds of policies
//!   spends one call on the list, not one per policy).
//! - Posture: "Compliance Posture Information" — `/api/2.0/fo/compliance/posture/info/?action=list`
//!   with `policy_id` (doc), one policy at a time: only one policy at a time keeps truncation
//!   (`truncation_limit`, 5,000 records by default per a public client; `policy_ids` of up to 10
//!   policies disables it, doc as reported, which would make a page as large as ten policies'
//!   posture: memory bounded by the page rules it out). Records are INFO_LIST/INFO (ID, HOST_ID,
//!   CONTROL_ID, STATUS, EVALUATION_DATE… — public code that reads real answers); the hosts and
//!   controls they name are in the answer's GLOSSARY (HOST_LIST/HOST: ID, IP, DNS, OS;
//!   CONTROL_LIST/CONTROL: ID, STATEMENT — the same public code), after the records: the page's
//!   records are held (bounded by the page) and joined when the glossary has been read. The next
//!   page of a policy is WARNING/URL's `id_min` (the same public code), as the host list's.
//! - Unverified, read when present and null otherwise: TECHNOLOGY_ID, INSTANCE,
//!   POSTURE_MODIFIED_DATE, EXCEPTION/STATUS of an INFO; CONTROL/CRITICALITY/LABEL;
//!   GLOSSARY/TECHNOLOGY_LIST/TECHNOLOGY (ID, NAME); RESPONSE/POLICY/TITLE for the policy's
//!   title (else the policy list's, on the first policy).

use std::collections::HashMap;
use std::io::BufRead;

use super::{Position, ProofType, Resume, SourcePage};
use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, field};
use crate::xml::{self, RecordMap, SideTable};

/// Records per call by default (a public client's reading of the guide).
pub const DEFAULT_PAGE_SIZE: usize = 5000;
/// Largest `page_size` accepted (the connector's own bound: a page is held in memory).
pub const MAX_PAGE_SIZE: usize = 10_000;
/// Policies a cursor can carry: ids of up to 10 digits and a separator each, base64 in a
/// cursor bounded at 16 KiB.
pub const MAX_POLICIES: usize = 1000;

static FIELDS: &[FieldSpec] = &[
    field("policy_id", "Policy ID", Integer, "The compliance policy's id."),
    field("policy_title", "Policy", Text, "RESPONSE/POLICY/TITLE when sent (unverified), else null."),
    field("control_id", "Control ID", Integer, "INFO/CONTROL_ID."),
    field("control_statement", "Control", Text, "GLOSSARY/CONTROL_LIST/CONTROL/STATEMENT."),
    field("criticality", "Criticality", Text, "GLOSSARY CONTROL/CRITICALITY/LABEL when sent (unverified)."),
    field("technology", "Technology", Text, "GLOSSARY TECHNOLOGY/NAME of INFO/TECHNOLOGY_ID when sent."),
    field("host_id", "Host ID", Integer, "INFO/HOST_ID."),
    field("ip", "IP", Text, "GLOSSARY/HOST_LIST/HOST/IP."),
    field("dns", "DNS name", Text, "GLOSSARY HOST/DNS."),
    field("os", "Operating system", Text, "GLOSSARY HOST/OS."),
    field("instance", "Instance", Text, "INFO/INSTANCE when sent (e.g. a database instance)."),
    field("status", "Status", Text, "INFO/STATUS: Passed, Failed or Error."),
    field("evaluated_at", "Evaluated", Timestamp, "INFO/EVALUATION_DATE."),
    field("posture_modified_at", "Posture modified", Timestamp, "INFO/POSTURE_MODIFIED_DATE when sent."),
    field("exception", "Exception", Text, "INFO/EXCEPTION/STATUS when sent (unverified)."),
    field("posture_id", "Posture ID", Integer, "INFO/ID: Qualys' id of the record."),
];

static CRITERIA: &[CriterionSpec] = &[
    CriterionSpec {
        name: "policy_ids",
        kind: TextList,
        required: false,
        allowed: &[],
        default: None,
        description: "Only these policies (comma-separated ids); default every policy the account sees.",
    },
    CriterionSpec {
        name: "statuses",
        kind: TextList,
        required: false,
        allowed: &["Passed", "Failed", "Error"],
        default: Some("Passed,Failed,Error"),
        description: "Control results to list. One status is sent as `status`; two are asked for \
                      all and filtered by the connector (a public client documents one value).",
    },
    CriterionSpec {
        name: "criticalities",
        kind: TextList,
        required: false,
        allowed: &["MINIMAL", "MEDIUM", "SERIOUS", "CRITICAL", "URGENT"],
        default: None,
        description: "Only controls of these criticalities (sent as criticality_labels).",
    },
    CriterionSpec {
        name: "page_size",
        kind: Integer,
        required: false,
        allowed: &[],
        default: Some("5000"),
        description: "Posture records per call (truncation_limit), 1 to 10,000.",
    },
];

static SPEC: ProofSpec = ProofSpec {
    key: &[&["policy_id", "host_id", "control_id", "instance"]],
    id: "pc-posture",
    title: "Policy Compliance Posture",
    description: "Whether each control of each compliance policy passes on each host: the control, \
                  its criticality, the host, the result and when it was evaluated.",
    fields: FIELDS,
    criteria: CRITERIA,
};

static MAP: RecordMap = RecordMap {
    root: "POSTURE_INFO_LIST_OUTPUT",
    record: "RESPONSE/INFO_LIST/INFO",
    columns: &[
        ("ID", "posture_id"),
        ("HOST_ID", "host_id"),
        ("CONTROL_ID", "control_id"),
        ("TECHNOLOGY_ID", "technology"),
        ("INSTANCE", "instance"),
        ("STATUS", "status"),
        ("EVALUATION_DATE", "evaluated_at"),
        ("POSTURE_MODIFIED_DATE", "posture_modified_at"),
        ("EXCEPTION/STATUS", "exception"),
    ],
    captures: &["RESPONSE/WARNING/CODE", "RESPONSE/WARNING/URL", "RESPONSE/POLICY/TITLE"],
    required: &["RESPONSE/DATETIME"],
};

const HOSTS: usize = 0;
const CONTROLS: usize = 1;
const TECHNOLOGIES: usize = 2;
static SIDES: &[SideTable] = &[
    SideTable { record: "RESPONSE/GLOSSARY/HOST_LIST/HOST", columns: &["ID", "IP", "DNS", "OS"] },
    SideTable {
        record: "RESPONSE/GLOSSARY/CONTROL_LIST/CONTROL",
        columns: &["ID", "STATEMENT", "CRITICALITY/LABEL"],
    },
    SideTable { record: "RESPONSE/GLOSSARY/TECHNOLOGY_LIST/TECHNOLOGY", columns: &["ID", "NAME"] },
];

static POLICY_FIELDS: &[FieldSpec] = &[field("id", "", Integer, ""), field("title", "", Text, "")];
static POLICY_SPEC: ProofSpec = ProofSpec {
    id: "policies",
    title: "Policies",
    description: "",
    fields: POLICY_FIELDS,
    criteria: &[],
    key: &[],
};
static POLICY_MAP: RecordMap = RecordMap {
    root: "POLICY_LIST_OUTPUT",
    record: "RESPONSE/POLICY_LIST/POLICY",
    columns: &[("ID", "id"), ("TITLE", "title")],
    captures: &[],
    required: &["RESPONSE/DATETIME"],
};

/// The proof type.
pub struct PcPosture;

/// The policy list request.
pub fn policy_call() -> Call {
    Call::post_form(crate::endpoints::POLICY_LIST, &[("action", "list"), ("details", "Basic")])
}

/// Reads the policy list: (id, title) in ascending id.
pub fn parse_policies(body: &mut dyn BufRead) -> Result<Vec<(i64, Option<String>)>, Error> {
    let parsed = xml::read_records(body, &POLICY_MAP, &POLICY_SPEC, None, 100_000)?;
    let mut out = Vec::with_capacity(parsed.rows.len());
    for row in parsed.rows {
        let Value::Integer(id) = row[0] else {
            return Err(Error::malformed("a compliance POLICY has no ID"));
        };
        let title = if let Value::Text(t) = &row[1] { Some(t.clone()) } else { None };
        out.push((id, title));
    }
    out.sort_by_key(|p| p.0);
    out.dedup_by_key(|p| p.0);
    Ok(out)
}

impl PcPosture {
    fn page_size(criteria: &Criteria) -> Result<usize, Error> {
        Ok(criteria.bounded("page_size", DEFAULT_PAGE_SIZE as i64, 1..=MAX_PAGE_SIZE as i64, "")? as usize)
    }

    /// The posture request of one policy's page.
    pub fn call(criteria: &Criteria, policy: i64, page_size: usize, id_min: Option<i64>) -> Call {
        let (policy, limit) = (policy.to_string(), page_size.to_string());
        let id_min = id_min.map(|i| i.to_string());
        let mut params: Vec<(&str, &str)> = vec![
            ("action", "list"),
            ("policy_id", &policy),
            ("details", "All"),
            ("truncation_limit", &limit),
        ];
        let statuses = criteria.list("statuses");
        if statuses.len() == 1 {
            params.push(("status", statuses[0]));
        }
        if let Some(c) = criteria.get("criticalities") {
            params.push(("criticality_labels", c));
        }
        if let Some(id) = &id_min {
            params.push(("id_min", id));
        }
        Call::post_form(crate::endpoints::POSTURE_INFO, &params)
    }

    fn policy_ids(criteria: &Criteria) -> Result<Option<Vec<i64>>, Error> {
        let given = criteria.list("policy_ids");
        if given.is_empty() {
            return Ok(None);
        }
        let mut ids = given
            .iter()
            .map(|p| {
                p.parse::<i64>()
                    .map_err(|_| Error::criteria("policy_ids", format!("{p:?} is not a policy id")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        ids.sort_unstable();
        ids.dedup();
        Ok(Some(ids))
    }
}

/// One posture page: rows joined with the glossary, and the next `id_min`.
pub fn parse_posture(
    body: &mut dyn BufRead,
    policy: i64,
    max_rows: usize,
) -> Result<(Vec<Row>, Option<i64>), Error> {
    let mut parsed = xml::read_with_sides(body, &MAP, SIDES, &SPEC, max_rows)?;
    let mut rows = std::mem::take(&mut parsed.rows);
    let next = crate::paging::next_named(
        parsed.capture(&MAP, "RESPONSE/WARNING/CODE"),
        parsed.capture(&MAP, "RESPONSE/WARNING/URL"),
        "id_min",
        "posture list",
    )?;
    let title = parsed.capture(&MAP, "RESPONSE/POLICY/TITLE").map(str::to_string);
    let table = |t: usize| -> HashMap<&str, &Vec<Option<String>>> {
        parsed.sides[t].iter().filter_map(|r| Some((r[0].as_deref()?, r))).collect()
    };
    let (hosts, controls, technologies) = (table(HOSTS), table(CONTROLS), table(TECHNOLOGIES));
    let at = |name: &str| SPEC.index(name);
    let text = |v: Option<&Option<String>>| v.and_then(|x| x.clone()).map_or(Value::Null, Value::Text);
    for row in &mut rows {
        row[at("policy_id")] = Value::Integer(policy);
        row[at("policy_title")] = title.clone().map_or(Value::Null, Value::Text);
        let key = |v: &Value| match v {
            Value::Integer(n) => Some(n.to_string()),
            Value::Text(s) => Some(s.clone()),
            _ => None,
        };
        if let Some(h) = key(&row[at("host_id")]).and_then(|h| hosts.get(h.as_str()).copied()) {
            row[at("ip")] = text(h.get(1));
            row[at("dns")] = text(h.get(2));
            row[at("os")] = text(h.get(3));
        }
        if let Some(c) = key(&row[at("control_id")]).and_then(|c| controls.get(c.as_str()).copied()) {
            row[at("control_statement")] = text(c.get(1));
            row[at("criticality")] = text(c.get(2));
        }
        // TECHNOLOGY_ID is read into `technology` and replaced by its name when the glossary
        // has it.
        if let Some(t) = key(&row[at("technology")]).and_then(|t| technologies.get(t.as_str()).copied()) {
            row[at("technology")] = text(t.get(1));
        }
    }
    Ok((rows, next))
}

impl ProofType for PcPosture {
    fn spec(&self) -> &'static ProofSpec {
        &SPEC
    }

    fn endpoints(&self) -> &'static [&'static str] {
        &[crate::endpoints::POSTURE_INFO]
    }

    fn lookups(&self) -> &'static [&'static str] {
        &[crate::endpoints::POLICY_LIST]
    }

    fn key(&self, _source: u8) -> &'static [&'static str] {
        SPEC.key[0]
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        client.call(&policy_call(), &mut |body| parse_policies(body)).map(|_| super::Probe::Full)
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        let page_size = Self::page_size(criteria)?;
        let given = Self::policy_ids(criteria)?;
        // The policies to page through: the criterion's, else the list fetched on the first
        // page and carried in the memo.
        let mut memo = None;
        let policies: Vec<i64> = match (&given, at.position, at.memo) {
            (Some(ids), _, _) => ids.clone(),
            (None, Position::Start, _) => {
                let listed = client.call(&policy_call(), &mut |body| parse_policies(body))?;
                if listed.len() > MAX_POLICIES {
                    return Err(Error::criteria(
                        "policy_ids",
                        format!(
                            "the account sees {} policies, more than one collect can page through \
                             ({MAX_POLICIES}); name the policies to collect, in several collects",
                            listed.len()
                        ),
                    ));
                }
                let ids: Vec<i64> = listed.iter().map(|p| p.0).collect();
                memo = Some(ids.iter().map(i64::to_string).collect::<Vec<_>>().join("."));
                ids
            }
            (None, _, Some(m)) => m
                .split('.')
                .filter(|s| !s.is_empty())
                .map(|s| s.parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    Error::InvalidCursor("the cursor's policy list is unreadable; start again".into())
                })?,
            (None, _, None) => {
                return Err(Error::InvalidCursor(
                    "the cursor lost its policy list; start the collect again".into(),
                ));
            }
        };
        let (part, id_min) = match at.position {
            Position::Start => (0usize, None),
            Position::Part { part, id } => (*part as usize, (*id > 0).then_some(*id)),
            other => return Err(Error::Internal(format!("pc-posture cannot resume at {other}"))),
        };
        let Some(&policy) = policies.get(part) else {
            // No policy at all: an empty proof.
            return Ok(SourcePage { memo, ..SourcePage::default() });
        };
        let (mut rows, next) = client
            .call(&Self::call(criteria, policy, page_size, id_min), &mut |body| {
                parse_posture(body, policy, page_size * 2)
            })?;
        let statuses = criteria.list("statuses");
        if statuses.len() == 2 {
            let s = SPEC.index("status");
            rows.retain(
                |r| matches!(&r[s], Value::Text(t) if statuses.iter().any(|x| x.eq_ignore_ascii_case(t))),
            );
        }
        let next = match next {
            Some(id) => Some(Position::Part { part: part as u32, id }),
            None if part + 1 < policies.len() => Some(Position::Part { part: part as u32 + 1, id: 0 }),
            None => None,
        };
        Ok(SourcePage { rows, next, memo, ..SourcePage::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The most policies a collect pages through fit in a cursor, with ids of ten digits.
    #[test]
    fn a_cursor_carries_the_largest_policy_list() {
        let memo: Vec<String> = (0..MAX_POLICIES as i64).map(|i| (9_000_000_000 + i).to_string()).collect();
        let criteria = crate::criteria::validate(&SPEC, &[]).unwrap();
        let cursor = crate::paging::cursor_for_tests(
            &SPEC,
            &criteria,
            Position::Part { part: 999, id: 1 },
            &memo.join("."),
        );
        assert!(
            crate::paging::check_cursor(&cursor, SPEC.id, &criteria, 1).is_ok(),
            "{} bytes",
            cursor.len()
        );
    }
}
