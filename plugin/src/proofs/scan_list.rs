//! What the two scan-list proof types share: a launch-date window, paged in slices.
//!
//! Qualys' scan lists return only the last 30 days unless a launch date range is given
//! (Qualys API User Guide, "Scan List": `launched_after_datetime`, `launched_before_datetime`).
//! A proof that silently covers 30 days when the user asked for a quarter is wrong, so every
//! call sends an explicit window: the criteria's, or by default the last
//! [`DEFAULT_WINDOW_DAYS`] days. The window is collected in slices of [`SLICE_DAYS`], one
//! page each, which bounds every response; the first page's warnings state the window used.

use super::{Position, Resume, SourcePage};
use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::{Call, Client};
use crate::model::{CriterionSpec, Kind, ProofSpec, Row, Value, Warning};
use crate::values;
use crate::xml::{self, RecordMap};

use super::ProofType;

/// Default window when `launched_after` is not given.
pub const DEFAULT_WINDOW_DAYS: i64 = 90;
/// Days per page.
pub const SLICE_DAYS: i64 = 30;
/// Bound on scans in one slice (memory guard; a busy subscription launches a few hundred a month).
pub const MAX_SCANS_PER_SLICE: usize = 50_000;

/// The criteria every scan list accepts.
const fn criteria(states: &'static [&'static str], types: &'static [&'static str]) -> [CriterionSpec; 4] {
    [
        CriterionSpec {
            name: "launched_after",
            kind: Kind::Timestamp,
            required: false,
            allowed: &[],
            default: None,
            description: "Only scans launched at or after this date (default: 90 days before collection).",
        },
        CriterionSpec {
            name: "launched_before",
            kind: Kind::Timestamp,
            required: false,
            allowed: &[],
            default: None,
            description: "Only scans launched before this date (default: the time of collection).",
        },
        CriterionSpec {
            name: "state",
            kind: Kind::TextList,
            required: false,
            allowed: states,
            default: None,
            description: "Only scans in these states (comma-separated).",
        },
        CriterionSpec {
            name: "type",
            kind: Kind::Text,
            required: false,
            allowed: types,
            default: None,
            description: "Only scans of this type.",
        },
    ]
}

/// One scan list: its path, extra parameters, mapping, and the field with the launch time.
pub struct ScanList {
    pub spec: &'static ProofSpec,
    /// Its one endpoint (a slice, as [`ProofType::endpoints`] returns it).
    pub endpoint: &'static [&'static str; 1],
    /// Fixed parameters of every call (e.g. `action=list`, `show_ags=1`).
    pub params: &'static [(&'static str, &'static str)],
    pub map: &'static RecordMap,
    /// The timestamp field holding the launch time.
    pub launched_field: &'static str,
}

impl ScanList {
    /// The window to collect: from the criteria, or the default ending now.
    fn window(&self, criteria: &Criteria, now: i64) -> Result<(i64, i64), Error> {
        let at = |name: &str| criteria.get(name).and_then(values::to_epoch);
        let to = at("launched_before").unwrap_or(now);
        let from = at("launched_after").unwrap_or(to - DEFAULT_WINDOW_DAYS * 86_400);
        if from >= to {
            return Err(Error::criteria("launched_after", "must be before launched_before"));
        }
        Ok((from, to))
    }

    /// Reads one scan list response (also used by tests, benchmarks and fuzzing).
    pub fn parse(&self, body: &mut dyn std::io::BufRead) -> Result<Vec<Row>, Error> {
        Ok(xml::read_records(body, self.map, self.spec, None, MAX_SCANS_PER_SLICE)?.rows)
    }

    fn call(&self, criteria: &Criteria, from: i64, end: i64) -> Call {
        // One second of margin each side; rows are filtered to the exact slice above.
        let after = values::from_epoch(from - 1);
        let before = values::from_epoch(end + 1);
        let mut params: Vec<(&str, &str)> = self.params.to_vec();
        params.push(("launched_after_datetime", &after));
        params.push(("launched_before_datetime", &before));
        if let Some(state) = criteria.get("state") {
            params.push(("state", state));
        }
        if let Some(t) = criteria.get("type") {
            params.push(("type", t));
        }
        Call::get(self.endpoint[0], &params)
    }
}

impl ProofType for ScanList {
    fn spec(&self) -> &'static ProofSpec {
        self.spec
    }

    fn key(&self, _source: u8) -> &'static [&'static str] {
        &["scan_ref"]
    }

    fn endpoints(&self) -> &'static [&'static str] {
        self.endpoint
    }

    /// Lists the last day's scans: small, and refused without the module.
    fn probe(&self, client: &Client<'_>) -> Result<super::Probe, Error> {
        let now = client.now();
        let call = self.call(&Criteria::default(), now - 86_400, now);
        client
            .call(&call, &mut |body| {
                xml::read_records(body, self.map, self.spec, None, MAX_SCANS_PER_SLICE).map(|_| ())
            })
            .map(|()| super::Probe::Full)
    }

    /// One slice of the window.
    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error> {
        let (from, to, first) = match at.position {
            Position::Window { from, to } => (*from, *to, false),
            _ => {
                let (f, t) = self.window(criteria, client.now())?;
                (f, t, true)
            }
        };
        let end = (from + SLICE_DAYS * 86_400).min(to);
        let call = self.call(criteria, from, end);
        let index = self.spec.index(self.launched_field);
        let rows = client.call(&call, &mut |body| self.parse(body))?;
        // Keep exactly [from, end): Qualys' boundary semantics then do not matter, and a scan
        // on a slice boundary lands in one slice only.
        let rows: Vec<Row> = rows
            .into_iter()
            .filter(|row| match &row[index] {
                Value::Timestamp(t) => values::to_epoch(t).is_some_and(|s| s >= from && s < end),
                _ => true,
            })
            .collect();
        let mut warnings = Vec::new();
        if first {
            warnings.push(Warning {
                code: "collection-window",
                message: format!(
                    "scans launched from {} to {} (UTC); set launched_after / launched_before for another period",
                    values::from_epoch(from),
                    values::from_epoch(to)
                ),
            });
        }
        let next = (end < to).then_some(Position::Window { from: end, to });
        let applied = if first {
            vec![("launched_after", values::from_epoch(from)), ("launched_before", values::from_epoch(to))]
        } else {
            Vec::new()
        };
        Ok(SourcePage { rows, next, warnings, memo: None, applied })
    }
}

/// The record map of a scan list: `SCAN_LIST_OUTPUT > RESPONSE > SCAN_LIST > SCAN`, with the
/// columns both lists share and the list's own (`own`, before them).
macro_rules! scan_map {
    ($($own:expr),* $(,)?) => {
        crate::xml::RecordMap {
            root: "SCAN_LIST_OUTPUT",
            record: "RESPONSE/SCAN_LIST/SCAN",
            columns: &[
                $($own,)*
                ("REF", "scan_ref"),
                ("TITLE", "title"),
                ("TYPE", "type"),
                ("USER_LOGIN", "user_login"),
                ("LAUNCH_DATETIME", "launched_at"),
                ("DURATION", "duration"),
                ("PROCESSED", "processed"),
                ("STATUS/STATE", "state"),
                ("STATUS/SUB_STATE", "sub_state"),
                ("TARGET", "target"),
                ("ASSET_GROUP_TITLE_LIST/ASSET_GROUP_TITLE", "asset_groups"),
                ("OPTION_PROFILE/TITLE", "option_profile"),
                ("OPTION_PROFILE/DEFAULT_FLAG", "option_profile_default"),
            ],
            captures: &[],
            // RESPONSE (DATETIME, SCAN_LIST?): an empty list has DATETIME and no SCAN_LIST.
            required: &["RESPONSE/DATETIME"],
        }
    };
}
pub(crate) use scan_map;

/// The fields of a scan list: `first` (before the reference), the fields both lists share, with
/// `after_duration` after the duration, and what `PROCESSED` says results went into.
macro_rules! scan_fields {
    (first: [$($first:expr),* $(,)?], after_duration: [$($after:expr),* $(,)?], processed_into: $into:literal) => {
        &[
            $($first,)*
            field("scan_ref", "Scan reference", Text, "REF: e.g. scan/1700000000.12345 (VM) or compliance/1700000000.12345 (PC)."),
            field("title", "Title", Text, "TITLE."),
            field("type", "Type", Text, "TYPE: On-Demand, Scheduled or API."),
            field("user_login", "Launched by", Text, "USER_LOGIN."),
            field("launched_at", "Launched", Timestamp, "LAUNCH_DATETIME, UTC."),
            field("duration", "Duration", Text, "DURATION: HH:MM:SS, or a word such as Pending."),
            $($after,)*
            field("processed", "Processed", Boolean, concat!("PROCESSED: results were processed into ", $into, ".")),
            field("state", "State", Text, "STATUS/STATE: Running, Paused, Canceled, Finished, Error, Queued..."),
            field("sub_state", "Sub-state", Text, "STATUS/SUB_STATE."),
            field("target", "Target", Text, "TARGET: the IPs or ranges scanned."),
            field("asset_groups", "Asset groups", TextList, "ASSET_GROUP_TITLE_LIST/ASSET_GROUP_TITLE."),
            field("option_profile", "Option profile", Text, "OPTION_PROFILE/TITLE."),
            field("option_profile_default", "Default profile", Boolean, "OPTION_PROFILE/DEFAULT_FLAG."),
        ]
    };
}
pub(crate) use scan_fields;

/// The states and types both scan lists document, and their criteria.
const STATES: &[&str] = &["Running", "Paused", "Canceled", "Finished", "Error", "Queued", "Loading"];
const TYPES: &[&str] = &["On-Demand", "Scheduled", "API"];
/// The criteria of both scan lists.
pub static CRITERIA: [CriterionSpec; 4] = criteria(STATES, TYPES);
