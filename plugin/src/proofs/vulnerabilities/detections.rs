//! The detection list: the request, and the page read detection by detection with the page's
//! bounds and the resumption inside a host (see the parent module).

use std::io::BufRead;

use super::{FIELDS, MAX_PAGE_BYTES, MAX_PAGE_ROWS, MAX_RESULTS_BYTES, OPEN_STATUSES, SPEC, idx};
use crate::criteria::Criteria;
use crate::endpoints;
use crate::error::Error;
use crate::http::client::Call;
use crate::model::{Row, Value};
use crate::proofs::Position;
use crate::xml::{self, Capped, Flow, NestedMap, RecordMap};

static MAP: NestedMap = NestedMap {
    map: RecordMap {
        root: "HOST_LIST_VM_DETECTION_OUTPUT",
        record: "RESPONSE/HOST_LIST/HOST/DETECTION_LIST/DETECTION",
        columns: &[
            ("QID", "qid"),
            ("TYPE", "type"),
            ("SEVERITY", "severity"),
            ("PORT", "port"),
            ("PROTOCOL", "protocol"),
            ("FQDN", "fqdn"),
            ("SSL", "ssl"),
            ("INSTANCE", "instance"),
            ("RESULTS", "results"),
            ("STATUS", "status"),
            ("FIRST_FOUND_DATETIME", "first_found_at"),
            ("LAST_FOUND_DATETIME", "last_found_at"),
            ("QDS", "qds"),
            ("TIMES_FOUND", "times_found"),
            ("LAST_TEST_DATETIME", "last_test_at"),
            ("LAST_FIXED_DATETIME", "last_fixed_at"),
            ("LAST_REOPENED_DATETIME", "last_reopened_at"),
            ("IS_IGNORED", "is_ignored"),
            ("IS_DISABLED", "is_disabled"),
        ],
        captures: &["RESPONSE/WARNING/CODE", "RESPONSE/WARNING/URL"],
        // RESPONSE (DATETIME, HOST_LIST?, WARNING?); empty: DATETIME only (real).
        required: &["RESPONSE/DATETIME"],
    },
    group: "RESPONSE/HOST_LIST/HOST",
    group_columns: &[
        ("ID", "host_id"),
        ("ASSET_ID", "asset_id"),
        ("IP", "ip"),
        ("IPV6", "ipv6"),
        ("TRACKING_METHOD", "tracking_method"),
        ("OS", "os"),
        ("DNS", "dns"),
        ("NETBIOS", "netbios"),
    ],
    capped: Some(Capped { field: "results", cut_flag: "results_truncated", max_bytes: MAX_RESULTS_BYTES }),
};

/// The detection-list request of a page: every criterion sent explicitly, never left to a
/// server default, on the configured API server.
pub fn call(criteria: &Criteria, page_size: usize, at: &Position) -> Call {
    let limit = page_size.to_string();
    let id_min = match at {
        Position::From { id } | Position::Within { id, .. } => Some(id.to_string()),
        _ => None,
    };
    let types = criteria.list("types");
    let vuln_type = match (types.contains(&"Confirmed"), types.contains(&"Potential")) {
        (true, false) => Some("confirmed"),
        (false, true) => Some("potential"),
        _ => None,
    };
    let flag = |name: &str| if criteria.flag(name) == Some(true) { "1" } else { "0" };
    let mut params: Vec<(&str, &str)> = vec![
        ("action", "list"),
        ("output_format", "XML"),
        ("show_asset_id", "1"),
        ("show_qds", "1"),
        ("truncation_limit", &limit),
        ("status", criteria.get("statuses").unwrap_or(OPEN_STATUSES)),
        ("severities", criteria.get("severities").unwrap_or("1,2,3,4,5")),
        ("show_igs", if types.contains(&"Info") { "1" } else { "0" }),
        ("include_ignored", flag("include_ignored")),
        ("include_disabled", flag("include_disabled")),
        ("show_results", flag("include_results")),
    ];
    if let Some(t) = vuln_type {
        params.push(("include_vuln_type", t));
    }
    if let Some(since) = criteria.get("detection_updated_since") {
        params.push(("detection_updated_since", since));
    }
    if let Some(qids) = criteria.get("qids") {
        params.push(("qids", qids));
    }
    if let Some(id) = &id_min {
        params.push(("id_min", id));
    }
    Call::post_form(endpoints::DETECTION_LIST, &params)
}

/// The probe: one host, one small QID (6, "DNS Host Name"), no results.
pub fn probe_call() -> Call {
    Call::post_form(
        endpoints::DETECTION_LIST,
        &[
            ("action", "list"),
            ("truncation_limit", "1"),
            ("show_results", "0"),
            ("qids", "6"),
            ("show_igs", "1"),
        ],
    )
}

/// Reads a probe answer: any well-formed detection list (stopped after its first detection).
pub fn parse_probe(body: &mut dyn BufRead) -> Result<(), Error> {
    xml::read_nested(body, &MAP, &SPEC, &mut |_| Ok(Flow::Stop)).map(|_| ())
}

/// One page: its rows (host values copied into each detection) and where the next begins.
#[derive(Debug)]
pub struct Page {
    pub rows: Vec<Row>,
    pub next: Option<Position>,
}

/// The digest that identifies a detection within its host, checked when a page resumes
/// inside a host.
fn check_of(row: &Row) -> u64 {
    let key: Row = SPEC.key[0].iter().map(|f| row[idx(f)].clone()).collect();
    crate::paging::row_digest(&key)
}

/// Reads one page from `at`. Stops at [`MAX_PAGE_ROWS`] detections or about
/// [`MAX_PAGE_BYTES`] of values, inside a host if need be.
pub fn parse(body: &mut dyn BufRead, at: &Position, results: bool) -> Result<Page, Error> {
    let (host_id, results_at, cut_at) = (idx("host_id"), idx("results"), idx("results_truncated"));
    // Resuming inside a host: its first `skip` detections were delivered.
    let resume = match at {
        Position::Within { id, skip, check } => Some((*id, *skip, *check)),
        _ => None,
    };
    let mut passed = 0u32;
    let mut current: Option<(i64, u32)> = None;
    let mut rows = 0usize;
    let mut bytes = 0usize;
    let mut stop_at = None;
    // The last detection kept: its host and its place in the host (its digest is taken once,
    // from the page's last row, when a page stops inside a host).
    let mut last: Option<(i64, u32)> = None;
    let changed = |id: i64, why: &str| {
        Error::malformed(format!(
            "host {id}'s detections changed between two pages of this collect ({why}); the pages \
             cannot be joined without dropping or doubling detections. Collect again"
        ))
    };
    let mut visit = |row: &Row| -> Result<Flow, Error> {
        let Value::Integer(h) = row[host_id] else {
            return Err(Error::malformed("a HOST of the detection list has no ID before its DETECTION_LIST"));
        };
        let n = match current {
            Some((id, n)) if id == h => n + 1,
            _ => 1,
        };
        current = Some((h, n));
        if let Some((id, skip, check)) = resume
            && passed < skip
        {
            if h != id {
                return Err(changed(id, "it no longer lists as many detections"));
            }
            passed += 1;
            if passed == skip && check_of(row) != check {
                return Err(changed(id, "the last detection delivered is not where it was"));
            }
            return Ok(Flow::Skip);
        }
        // The page is full: this detection starts the next one, inside its host or at it.
        if rows >= MAX_PAGE_ROWS || bytes >= MAX_PAGE_BYTES {
            stop_at = Some(match last {
                Some((id, skip)) if id == h => Position::Within { id, skip, check: 0 },
                _ => Position::From { id: h },
            });
            return Ok(Flow::Defer);
        }
        rows += 1;
        bytes += size_of(row);
        last = Some((h, n));
        Ok(Flow::Keep)
    };
    let parsed = xml::read_nested(body, &MAP, &SPEC, &mut visit)?;
    if let Some((id, skip, _)) = resume
        && passed < skip
    {
        return Err(changed(id, "it no longer lists as many detections"));
    }
    let next = if parsed.stopped {
        // A page stopped inside a host resumes after its last row, which it names by digest.
        match (stop_at, parsed.rows.last()) {
            (Some(Position::Within { id, skip, .. }), Some(row)) => {
                Some(Position::Within { id, skip, check: check_of(row) })
            }
            (other, _) => other,
        }
    } else {
        crate::paging::next_named(
            parsed.capture(&MAP.map, "RESPONSE/WARNING/CODE"),
            parsed.capture(&MAP.map, "RESPONSE/WARNING/URL"),
            "id_min",
            "detection list",
        )?
        .map(|id| Position::From { id })
    };
    let mut out = parsed.rows;
    if results {
        for row in &mut out {
            if row[cut_at] == Value::Null {
                row[cut_at] = Value::Boolean(false);
            }
        }
    } else {
        for row in &mut out {
            row[results_at] = Value::Null;
        }
    }
    Ok(Page { rows: out, next })
}

/// About what a row takes in memory.
fn size_of(row: &Row) -> usize {
    debug_assert_eq!(row.len(), FIELDS.len());
    row.iter()
        .map(|v| match v {
            Value::Text(s) | Value::Timestamp(s) => 24 + s.len(),
            Value::TextList(l) => 24 + l.iter().map(|s| 24 + s.len()).sum::<usize>(),
            _ => 24,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(host: i64, qids: &[i64]) -> String {
        let detections: String = qids
            .iter()
            .map(|q| {
                format!("<DETECTION><QID>{q}</QID><TYPE>Confirmed</TYPE><STATUS>Active</STATUS></DETECTION>")
            })
            .collect();
        format!(
            "<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME><HOST_LIST>\
             <HOST><ID>{host}</ID><DETECTION_LIST>{detections}</DETECTION_LIST></HOST>\
             </HOST_LIST></RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>"
        )
    }

    fn check(host: i64, qid: i64) -> u64 {
        let mut row = vec![Value::Null; FIELDS.len()];
        row[idx("host_id")] = Value::Integer(host);
        row[idx("qid")] = Value::Integer(qid);
        check_of(&row)
    }

    #[test]
    fn a_page_resumed_inside_a_host_passes_over_what_was_delivered() {
        let at = Position::Within { id: 7, skip: 2, check: check(7, 2) };
        let page = parse(&mut doc(7, &[1, 2, 3, 4]).as_bytes(), &at, false).unwrap();
        let qids: Vec<&Value> = page.rows.iter().map(|r| &r[idx("qid")]).collect();
        assert_eq!(qids, [&Value::Integer(3), &Value::Integer(4)]);
        assert_eq!(page.next, None);
    }

    #[test]
    fn a_host_whose_detections_changed_between_pages_stops_the_collect_naming_it() {
        for (qids, at) in [
            // Another detection where the last delivered one was.
            (&[1, 9, 3][..], Position::Within { id: 7, skip: 2, check: check(7, 2) }),
            // Fewer detections than were delivered.
            (&[1][..], Position::Within { id: 7, skip: 2, check: check(7, 2) }),
        ] {
            let err = parse(&mut doc(7, qids).as_bytes(), &at, false).unwrap_err();
            assert!(matches!(&err, Error::Malformed(m) if m.contains("host 7")), "{err:?}");
        }
        // The host is gone: the answer starts at a later one.
        let at = Position::Within { id: 5, skip: 1, check: check(5, 1) };
        let err = parse(&mut doc(7, &[1]).as_bytes(), &at, false).unwrap_err();
        assert!(matches!(&err, Error::Malformed(m) if m.contains("host 5")), "{err:?}");
    }

    #[test]
    fn a_host_value_written_after_its_detections_still_reaches_them() {
        let xml = "<HOST_LIST_VM_DETECTION_OUTPUT><RESPONSE><DATETIME>2026-11-01T12:00:00Z</DATETIME>\
                   <HOST_LIST><HOST><ID>7</ID><DETECTION_LIST><DETECTION><QID>1</QID><TYPE>Info</TYPE>\
                   </DETECTION></DETECTION_LIST><DNS>late.example.com</DNS></HOST></HOST_LIST>\
                   </RESPONSE></HOST_LIST_VM_DETECTION_OUTPUT>";
        let page = parse(&mut xml.as_bytes(), &Position::Start, false).unwrap();
        assert_eq!(page.rows[0][idx("dns")], Value::Text("late.example.com".into()));
    }
}
