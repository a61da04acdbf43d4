//! Account Activity: `/api/2.0/fo/activity_log/?action=list`, the subscription's activity log
//! (logins, API use, changes to users and settings), as an access review needs it.
//!
//! Source: Qualys API (VM, PC) User Guide, "Activity Log". The answer is **CSV**, not XML (doc,
//! real), wrapped (real): a line `----BEGIN_RESPONSE_BODY_CSV`, the header
//! `"Date","Action","Module","Details","User Name","User Role","User IP"` and the rows,
//! `----END_RESPONSE_BODY_CSV`; when truncated, a footer `----BEGIN_RESPONSE_FOOTER_CSV`,
//! `WARNING`, `"CODE","TEXT","URL"`, one row with code 1980 and the next page's URL,
//! `----END_RESPONSE_FOOTER_CSV`. Marker lines end in LF, rows in CRLF (real). The log runs
//! newest first and the next page's URL carries `id_max` (real): only that number is read, the
//! request is built here. Errors are XML documents (a failed call is never a proof). Filters
//! (doc, names as the field notes give them, unverified against the guide's text):
//! `since_datetime`, `until_datetime`, `username`, `user_action`, `truncation_limit`; the
//! guide documents no module filter, so `module` is applied by the connector to the rows (and
//! the proof says so in its applied criteria). Identical rows are real, distinct events (two
//! API calls in the same second, real): every one is kept, and the proof declares no key, so
//! `diff` compares the log as a multiset.

use std::io::BufRead;

use super::{Position, ProofType, Resume, SourcePage};
use crate::criteria::Criteria;
use crate::csv::Records;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, FieldSpec, Kind::*, ProofSpec, Row, Value, field};
use crate::values;

/// Who may read the activity log: the guide's wording is not in the field notes, so this is
/// what the connector tells a refused account (unverified).
pub const ACTIVITY_RIGHTS: &str = "The activity log is shown to Managers (Unit Managers see their \
unit's): collect it with a service account of the Manager role, with API access.";

/// Entries per call by default.
pub const DEFAULT_PAGE_SIZE: usize = 1000;
/// Largest `page_size` accepted (the connector's own bound; a page is held in memory).
pub const MAX_PAGE_SIZE: usize = 10_000;
/// Days of log collected when `since` is not given.
const DEFAULT_DAYS: i64 = 90;

/// The columns of the log, as Qualys names them (real), and the fields they fill.
const COLUMNS: [(&str, &str); 7] = [
    ("Date", "date"),
    ("Action", "action"),
    ("Module", "module"),
    ("Details", "details"),
    ("User Name", "user_name"),
    ("User Role", "user_role"),
    ("User IP", "user_ip"),
];

static FIELDS: &[FieldSpec] = &[
    field("date", "Date", Timestamp, "Date: when it happened, UTC."),
    field("action", "Action", Text, "Action: e.g. login, request, finished, update."),
    field("module", "Module", Text, "Module: e.g. auth, report, account."),
    field("details", "Details", Text, "Details: what was done (the API call, the setting changed)."),
    field("user_name", "User name", Text, "User Name: the login that did it."),
    field("user_role", "User role", Text, "User Role."),
    field("user_ip", "User IP", Text, "User IP; null where Qualys writes N/A."),
];

static CRITERIA: &[CriterionSpec] = &[
    CriterionSpec {
        name: "since",
        kind: Timestamp,
        required: false,
        allowed: &[],
        default: None,
        description: "Entries at or after this date (sent as since_datetime); 90 days before the \
                      collect when not given, recorded in the applied criteria.",
    },
    CriterionSpec {
        name: "until",
        kind: Timestamp,
        required: false,
        allowed: &[],
        default: None,
        description: "Entries at or before this date (sent as until_datetime).",
    },
    CriterionSpec {
        name: "user_name",
        kind: Text,
        required: false,
        allowed: &[],
        default: None,
        description: "Only this login's entries (sent as username).",
    },
    CriterionSpec {
        name: "action",
        kind: Text,
        required: false,
        allowed: &[],
        default: None,
        description: "Only this action (sent as user_action), e.g. login.",
    },
    CriterionSpec {
        name: "module",
        kind: Text,
        required: false,
        allowed: &[],
        default: None,
        description: "Only this module (e.g. auth). Qualys documents no such filter: the connector \
                      applies it to the rows it receives.",
    },
    CriterionSpec {
        name: "page_size",
        kind: Integer,
        required: false,
        allowed: &[],
        default: Some("1000"),
        description: "Entries per call (truncation_limit), 1 to 10,000.",
    },
];

static SPEC: ProofSpec = ProofSpec {
    // A log: identical entries are distinct events, so rows have no identity of their own.
    key: &[],
    id: "activity-log",
    title: "Account Activity",
    description: "The subscription's activity log, newest first: logins, API calls, changes to users \
                  and settings, with who did it, their role and address.",
    fields: FIELDS,
    criteria: CRITERIA,
};

/// The proof type.
pub struct ActivityLog;

impl ActivityLog {
    fn page_size(criteria: &Criteria) -> Result<usize, Error> {
        let n = criteria.bounded("page_size", DEFAULT_PAGE_SIZE as i64, 1..=MAX_PAGE_SIZE as i64, "")?;
        Ok(n as usize)
    }

    /// The request of a page: every filter the guide documents, sent explicitly.
    pub fn call(criteria: &Criteria, since: &str, page_size: usize, id_max: Option<i64>) -> Call {
        let limit = page_size.to_string();
        let id_max = id_max.map(|id| id.to_string());
        let mut params: Vec<(&str, &str)> = vec![
            ("action", "list"),
            ("output_format", "CSV"),
            ("truncation_limit", &limit),
            ("since_datetime", since),
        ];
        if let Some(until) = criteria.get("until") {
            params.push(("until_datetime", until));
        }
        if let Some(user) = criteria.get("user_name") {
            params.push(("username", user));
        }
        if let Some(action) = criteria.get("action") {
            params.push(("user_action", action));
        }
        if let Some(id) = &id_max {
            params.push(("id_max", id));
        }
        Call::post_form(crate::endpoints::ACTIVITY_LOG, &params).answering_csv()
    }
}

/// One page of the log: its rows (newest first) and the next page's `id_max`.
pub fn parse(body: &mut dyn BufRead, max_rows: usize) -> Result<(Vec<Row>, Option<i64>), Error> {
    // An XML document where CSV was expected is an error document (or not Qualys' answer).
    let first = loop {
        let buf =
            body.fill_buf().map_err(|e| Error::Transport(format!("reading the response failed: {e}")))?;
        match buf.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(i) => {
                let b = buf[i];
                body.consume(i);
                break Some(b);
            }
            None if buf.is_empty() => break None,
            None => {
                let n = buf.len();
                body.consume(n);
            }
        }
    };
    match first {
        Some(b'<') => {
            crate::xml::read_error_body(body, 200)?;
            return Err(Error::malformed(
                "the activity log answered an XML document that is not an error: CSV was expected",
            ));
        }
        None => return Err(Error::malformed("the activity log's response is empty: not CSV")),
        Some(_) => {}
    }
    let mut records = Records::new(body);
    let not_csv = |what: &str| {
        Error::malformed(format!(
            "the activity log's response is not the documented CSV ({what}); it must start with \
             ----BEGIN_RESPONSE_BODY_CSV and the header line"
        ))
    };
    match records.next_record()? {
        Some(r) if is_marker(&r, "----BEGIN_RESPONSE_BODY_CSV") => {}
        Some(r) => {
            let start: String = r.join(",").chars().take(60).collect();
            return Err(not_csv(&format!("not CSV: it starts with {start:?}")));
        }
        None => return Err(not_csv("it is empty")),
    }
    let header = records.next_record()?.ok_or_else(|| not_csv("no header line"))?;
    let at: Vec<usize> = COLUMNS
        .iter()
        .map(|(name, _)| {
            header
                .iter()
                .position(|h| h.trim() == *name)
                .ok_or_else(|| not_csv(&format!("no column {name:?}")))
        })
        .collect::<Result<_, _>>()?;
    let mut rows = Vec::new();
    loop {
        let Some(record) = records.next_record()? else {
            return Err(Error::Truncated(
                "the activity log's CSV ended before ----END_RESPONSE_BODY_CSV; the connection was probably cut".into(),
            ));
        };
        if is_marker(&record, "----END_RESPONSE_BODY_CSV") {
            break;
        }
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if record.len() != header.len() {
            return Err(Error::malformed(format!(
                "an activity log row has {} fields where the header has {}",
                record.len(),
                header.len()
            )));
        }
        if rows.len() >= max_rows {
            return Err(Error::malformed(format!(
                "the page holds more than {max_rows} entries, more than was asked for"
            )));
        }
        rows.push(row_of(&record, &at)?);
    }
    let next = footer(&mut records)?;
    Ok((rows, next))
}

fn is_marker(record: &[String], marker: &str) -> bool {
    record.len() == 1 && record[0].trim() == marker
}

fn row_of(record: &[String], at: &[usize]) -> Result<Row, Error> {
    let mut row = Vec::with_capacity(FIELDS.len());
    for (i, field) in FIELDS.iter().enumerate() {
        let text = record[at[i]].trim();
        let value = match (field.name, text) {
            ("user_ip", "N/A") => Value::Null,
            _ => values::convert(field.kind, text)
                .map_err(|why| Error::malformed(format!("activity log column {:?}: {why}", COLUMNS[i].0)))?,
        };
        row.push(value);
    }
    Ok(row)
}

/// The footer, when there is one: its WARNING 1980 gives the next page's `id_max`.
fn footer(records: &mut Records<'_>) -> Result<Option<i64>, Error> {
    let Some(first) = records.next_record()? else { return Ok(None) };
    if !is_marker(&first, "----BEGIN_RESPONSE_FOOTER_CSV") {
        return Err(Error::malformed(
            "the activity log's CSV has something after ----END_RESPONSE_BODY_CSV that is not its footer",
        ));
    }
    let mut next = None;
    let mut header: Option<Vec<String>> = None;
    while let Some(record) = records.next_record()? {
        if is_marker(&record, "----END_RESPONSE_FOOTER_CSV") {
            return Ok(next);
        }
        if is_marker(&record, "WARNING") || (record.len() == 1 && record[0].is_empty()) {
            continue;
        }
        let Some(h) = &header else {
            header = Some(record);
            continue;
        };
        let col = |name: &str| {
            h.iter().position(|c| c.trim() == name).and_then(|i| record.get(i)).map(|v| v.trim())
        };
        if col("CODE") == Some("1980") {
            let url =
                col("URL").ok_or_else(|| Error::malformed("the activity log's WARNING 1980 has no URL"))?;
            next = Some(crate::paging::url_number(url, "id_max", "activity log")?);
        }
    }
    Err(Error::Truncated("the activity log's footer ended before ----END_RESPONSE_FOOTER_CSV".into()))
}

impl ProofType for ActivityLog {
    fn spec(&self) -> &'static ProofSpec {
        &SPEC
    }

    fn endpoints(&self) -> &'static [&'static str] {
        &[crate::endpoints::ACTIVITY_LOG]
    }

    fn key(&self, _source: u8) -> &'static [&'static str] {
        &[]
    }

    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        let since = values::from_epoch(client.now() - 86_400);
        let call = Call::post_form(
            crate::endpoints::ACTIVITY_LOG,
            &[
                ("action", "list"),
                ("output_format", "CSV"),
                ("truncation_limit", "1"),
                ("since_datetime", &since),
            ],
        )
        .answering_csv();
        match client.call(&call, &mut |body| parse(body, 2)) {
            Ok(_) => Ok(super::Probe::Full),
            // The shared minimum rights (a Reader can collect the rest) would mislead here.
            Err(Error::Permission(why)) => {
                let why = why.replace(crate::qualys_error::MIN_RIGHTS, "").replace("  ", " ");
                Ok(super::Probe::Refused(format!("{} {ACTIVITY_RIGHTS}", why.trim())))
            }
            Err(e) => Err(e),
        }
    }

    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        let page_size = Self::page_size(criteria)?;
        // `since` defaults to 90 days before the first page, kept for every later page.
        let since = match (criteria.get("since"), super::memo_value(at.memo, "since")) {
            (Some(s), _) => s.to_string(),
            (None, Some(s)) => s.to_string(),
            // From the start of the day, 90 days back: the same window for every collect of a day.
            (None, None) => values::from_epoch(values::day_start(client.now()) - DEFAULT_DAYS * 86_400),
        };
        let id_max = match at.position {
            Position::Before { id } => Some(*id),
            _ => None,
        };
        let call = Self::call(criteria, &since, page_size, id_max);
        let (mut rows, next) = client.call(&call, &mut |body| parse(body, page_size * 2))?;
        if let Some(module) = criteria.get("module") {
            let m = SPEC.index("module");
            rows.retain(|r| matches!(&r[m], Value::Text(t) if t.eq_ignore_ascii_case(module)));
        }
        let first = matches!(at.position, Position::Start);
        Ok(SourcePage {
            rows,
            next: next.map(|id| Position::Before { id }),
            memo: (first && criteria.get("since").is_none()).then(|| format!("since={since}")),
            applied: if first && criteria.get("since").is_none() {
                vec![("since", since)]
            } else {
                Vec::new()
            },
            ..SourcePage::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "----BEGIN_RESPONSE_BODY_CSV\n\"Date\",\"Action\",\"Module\",\"Details\",\"User Name\",\"User Role\",\"User IP\"\r\n\
\"2026-11-30T10:00:01Z\",\"request\",\"auth\",\"API: /api/2.0/fo/scan/\",\"api_user\",\"Manager\",\"10.0.0.5\"\r\n\
\"2026-11-30T10:00:01Z\",\"request\",\"auth\",\"API: /api/2.0/fo/scan/\",\"api_user\",\"Manager\",\"10.0.0.5\"\r\n\
\"2026-11-29T08:00:00Z\",\"login\",\"auth\",\"user_logged in\",\"alice\",\"Reader\",\"N/A\"\r\n\
----END_RESPONSE_BODY_CSV\n----BEGIN_RESPONSE_FOOTER_CSV\nWARNING\n\"CODE\",\"TEXT\",\"URL\"\r\n\
\"1980\",\"3 record limit exceeded. Use URL to get next batch of results.\",\"https://qualysapi.qualys.com/api/2.0/fo/activity_log/?action=list&truncation_limit=3&id_max=4411\"\r\n\
----END_RESPONSE_FOOTER_CSV\n";

    #[test]
    fn a_wrapped_page_with_identical_lines_and_a_footer_is_read() {
        let (rows, next) = parse(&mut PAGE.as_bytes(), 10).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0], rows[1], "identical lines are distinct events, both kept");
        assert_eq!(rows[2][SPEC.index("user_ip")], Value::Null);
        assert_eq!(rows[0][SPEC.index("date")], Value::Timestamp("2026-11-30T10:00:01Z".into()));
        assert_eq!(next, Some(4411));
    }

    #[test]
    fn a_body_that_is_not_the_documented_csv_is_malformed_and_a_cut_one_truncated() {
        for bad in ["Internal Server Error\n", "\"a\",\"b\"\r\n", ""] {
            assert!(matches!(parse(&mut bad.as_bytes(), 10), Err(Error::Malformed(_))), "{bad:?}");
        }
        let cut = &PAGE[..PAGE.find("----END_RESPONSE_BODY_CSV").unwrap()];
        assert!(matches!(parse(&mut cut.as_bytes(), 10), Err(Error::Truncated(_))));
    }
}
