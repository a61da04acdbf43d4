//! The SLA policy (`sla_days`) and the fields it derives: `sla_days`, `due_at`, `overdue`,
//! `days_open`.

use super::idx;
use crate::error::Error;
use crate::model::{Row, Value};
use crate::values;

const DAY: i64 = 86_400;

/// Days to fix by severity (index 0 is severity 1); `None`: no SLA for that severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sla([Option<i64>; 5]);

impl Sla {
    /// Parses `SEVERITY=DAYS` pairs, comma-separated (`5=15,4=30`).
    pub fn parse(text: &str) -> Result<Sla, Error> {
        let bad = |why: String| {
            Error::criteria(
                "sla_days",
                format!("{why}; write SEVERITY=DAYS pairs, e.g. {}", super::DEFAULT_SLA),
            )
        };
        let mut days = [None; 5];
        for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (sev, n) = pair.split_once('=').ok_or_else(|| bad(format!("{pair:?} has no '='")))?;
            let sev: usize = match sev.trim().parse() {
                Ok(s @ 1..=5) => s,
                _ => return Err(bad(format!("{sev:?} is not a severity from 1 to 5"))),
            };
            let n: i64 = match n.trim().parse() {
                Ok(n @ 1..=3650) => n,
                _ => return Err(bad(format!("{n:?} is not a number of days from 1 to 3650"))),
            };
            if days[sev - 1].replace(n).is_some() {
                return Err(bad(format!("severity {sev} is given twice")));
            }
        }
        if days.iter().all(Option::is_none) {
            return Err(bad("no severity has an SLA".to_string()));
        }
        Ok(Sla(days))
    }

    /// The days allowed for a severity.
    pub fn days(&self, severity: i64) -> Option<i64> {
        usize::try_from(severity).ok().filter(|s| (1..=5).contains(s)).and_then(|s| self.0[s - 1])
    }
}

/// Fills the SLA fields of a row measured at `as_of` (epoch seconds). A detection is fixed
/// when its status is Fixed (a re-opened one is not, whatever its last fix time says).
pub fn derive(row: &mut Row, sla: &Sla, as_of: i64) {
    let ts = |row: &Row, name: &str| match &row[idx(name)] {
        Value::Timestamp(t) => values::to_epoch(t),
        _ => None,
    };
    let first = ts(row, "first_found_at");
    let fixed = matches!(&row[idx("status")], Value::Text(s) if s.eq_ignore_ascii_case("Fixed"));
    let fixed_at = if fixed { ts(row, "last_fixed_at") } else { None };
    let days = match &row[idx("severity")] {
        Value::Integer(s) => sla.days(*s),
        _ => None,
    };
    let due = first.zip(days).map(|(f, d)| f + d * DAY);
    row[idx("sla_days")] = days.map_or(Value::Null, Value::Integer);
    row[idx("due_at")] = due.map_or(Value::Null, |d| Value::Timestamp(values::from_epoch(d)));
    row[idx("overdue")] = match (due, fixed, fixed_at) {
        (None, _, _) => Value::Null,
        (Some(d), true, Some(at)) => Value::Boolean(at > d),
        // Fixed, with no fix time: whether in time cannot be told.
        (Some(_), true, None) => Value::Null,
        (Some(d), false, _) => Value::Boolean(as_of > d),
    };
    let end = if fixed { fixed_at } else { Some(as_of) };
    row[idx("days_open")] = match (first, end) {
        (Some(f), Some(e)) if e >= f => Value::Integer(values::days_between(f, e)),
        _ => Value::Null,
    };
}

/// How many rows had their RESULTS cut.
pub fn cut_results(rows: &[Row]) -> usize {
    let at = idx("results_truncated");
    rows.iter().filter(|r| r[at] == Value::Boolean(true)).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value::*;

    const NOW: i64 = 1_793_534_400; // 2026-11-01T12:00:00Z

    fn row(severity: i64, status: &str, first: i64, fixed: Option<i64>) -> Row {
        let mut row = vec![Null; super::super::FIELDS.len()];
        row[idx("severity")] = Integer(severity);
        row[idx("status")] = Text(status.into());
        row[idx("first_found_at")] = Timestamp(values::from_epoch(first));
        if let Some(f) = fixed {
            row[idx("last_fixed_at")] = Timestamp(values::from_epoch(f));
        }
        row
    }

    fn derived(r: &Row) -> (Value, Value, Value) {
        (r[idx("due_at")].clone(), r[idx("overdue")].clone(), r[idx("days_open")].clone())
    }

    #[test]
    fn the_default_policy_parses_and_a_partial_one_leaves_severities_without_an_sla() {
        let sla = Sla::parse(super::super::DEFAULT_SLA).unwrap();
        assert_eq!((1..=5).map(|s| sla.days(s)).collect::<Vec<_>>(), [365, 180, 90, 30, 15].map(Some));
        let partial = Sla::parse("5=7, 4=30").unwrap();
        assert_eq!(partial.days(3), None);
        for bad in ["", "6=1", "5=0", "5", "5=x", "5=1,5=2"] {
            assert!(matches!(Sla::parse(bad), Err(Error::InvalidCriteria { .. })), "{bad}");
        }
    }

    #[test]
    fn due_today_is_not_overdue_until_its_due_time_passes() {
        let sla = Sla::parse("5=15").unwrap();
        let first = NOW - 15 * DAY + 60; // due a minute from now
        let mut r = row(5, "Active", first, None);
        derive(&mut r, &sla, NOW);
        assert_eq!(
            derived(&r),
            (Timestamp(values::from_epoch(first + 15 * DAY)), Boolean(false), Integer(15))
        );
        let mut r = row(5, "Active", first - 120, None); // due a minute ago
        derive(&mut r, &sla, NOW);
        assert_eq!(r[idx("overdue")], Boolean(true));
        assert_eq!(r[idx("days_open")], Integer(15));
    }

    #[test]
    fn fixed_the_day_after_due_is_overdue_and_fixed_at_due_is_not() {
        let sla = Sla::parse("4=30").unwrap();
        let first = NOW - 100 * DAY;
        let mut late = row(4, "Fixed", first, Some(first + 31 * DAY));
        derive(&mut late, &sla, NOW);
        assert_eq!(derived(&late).1, Boolean(true));
        assert_eq!(derived(&late).2, Integer(31));
        let mut on_time = row(4, "Fixed", first, Some(first + 30 * DAY));
        derive(&mut on_time, &sla, NOW);
        assert_eq!(derived(&on_time).1, Boolean(false));
    }

    #[test]
    fn a_reopened_detection_counts_from_first_found_and_is_not_fixed() {
        let sla = Sla::parse("3=90").unwrap();
        let first = NOW - 200 * DAY;
        let mut r = row(3, "Re-Opened", first, Some(first + 10 * DAY));
        derive(&mut r, &sla, NOW);
        assert_eq!(
            derived(&r),
            (Timestamp(values::from_epoch(first + 90 * DAY)), Boolean(true), Integer(200))
        );
    }

    #[test]
    fn no_sla_for_the_severity_leaves_due_and_overdue_null() {
        let sla = Sla::parse("5=15").unwrap();
        let mut r = row(2, "New", NOW - DAY, None);
        derive(&mut r, &sla, NOW);
        assert_eq!(derived(&r), (Null, Null, Integer(1)));
        assert_eq!(r[idx("sla_days")], Null);
    }
}
