//! Turning Qualys text into typed values: integers, booleans, RFC 3339 UTC timestamps, lists.

use crate::model::{Kind, Value};

/// Converts one element's trimmed text to a value of the field's kind; empty text is null.
pub fn convert(kind: Kind, text: &str) -> Result<Value, String> {
    if text.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match kind {
        Kind::Text => Value::Text(text.to_string()),
        Kind::TextList => Value::TextList(vec![text.to_string()]),
        Kind::Integer => match text.parse::<i64>() {
            Ok(n) => Value::Integer(n),
            Err(_) => return Err(format!("expected a whole number, got {text:?}")),
        },
        Kind::Boolean => match parse_bool(text) {
            Some(b) => Value::Boolean(b),
            None => return Err(format!("expected a boolean, got {text:?}")),
        },
        Kind::Timestamp => match timestamp(text) {
            Ok(Some(ts)) => Value::Timestamp(ts),
            Ok(None) => Value::Null,
            Err(NotADate) => return Err(format!("expected a date and time, got {text:?}")),
        },
    })
}

/// Booleans as Qualys writes them: 1/0, true/false, yes/no, Y/N.
pub fn parse_bool(text: &str) -> Option<bool> {
    let is = |words: &[&str]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
    if is(&["1", "true", "yes", "y"]) {
        Some(true)
    } else if is(&["0", "false", "no", "n"]) {
        Some(false)
    } else {
        None
    }
}

/// Normalises a Qualys date or date-time to RFC 3339 UTC (`YYYY-MM-DDTHH:MM:SSZ`).
/// Accepts `YYYY-MM-DDTHH:MM:SSZ` (with optional fraction), `YYYY-MM-DD HH:MM:SS` (UTC, as
/// the v1 API writes it), a numeric offset `+HH:MM`, a bare date, and epoch milliseconds (QPS).
/// Qualys' "never" spellings (`N/A`, `never`, `0000-00-00...`) are `Ok(None)`.
pub fn timestamp(text: &str) -> Result<Option<String>, NotADate> {
    let t = text.trim();
    // Most Qualys dates are already canonical: keep the text instead of re-formatting it.
    if is_canonical(t) {
        return Ok(Some(t.to_string()));
    }
    Ok(epoch_of(t)?.map(from_epoch))
}

/// `YYYY-MM-DDTHH:MM:SSZ` naming a real instant (what [`from_epoch`] would write for it).
fn is_canonical(t: &str) -> bool {
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0i64, |n, c| c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0')))
    };
    let shape = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'Z')];
    if b.len() != 20 || shape.iter().any(|&(i, c)| b[i] != c) {
        return false;
    }
    match (digits(0..4), digits(5..7), digits(8..10), digits(11..13), digits(14..16), digits(17..19)) {
        (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(s)) => {
            (1..=12).contains(&mo) && d >= 1 && d <= days_in_month(y, mo) && h < 24 && mi < 60 && s < 60
        }
        _ => false,
    }
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds since the Unix epoch of a date in any spelling [`timestamp`] accepts.
fn epoch_of(t: &str) -> Result<Option<i64>, NotADate> {
    if t.is_empty()
        || t.eq_ignore_ascii_case("n/a")
        || t.eq_ignore_ascii_case("never")
        || t.starts_with("0000-00-00")
    {
        return Ok(None);
    }
    if t.len() >= 12 && t.bytes().all(|b| b.is_ascii_digit()) {
        let ms: i64 = t.parse().map_err(|_| NotADate)?;
        return Ok(Some(ms.div_euclid(1000)));
    }
    let b = t.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Result<i64, NotADate> {
        let s = t.get(r).ok_or(NotADate)?;
        if s.bytes().all(|c| c.is_ascii_digit()) { s.parse().map_err(|_| NotADate) } else { Err(NotADate) }
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(NotADate);
    }
    let (y, mo, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return Err(NotADate);
    }
    let (mut h, mut mi, mut s, mut rest) = (0, 0, 0, "");
    if b.len() > 10 {
        if !(b[10] == b'T' || b[10] == b' ') || b.len() < 16 || b[13] != b':' {
            return Err(NotADate);
        }
        h = digits(11..13)?;
        mi = digits(14..16)?;
        rest = &t[16..];
        if let Some(r) = rest.strip_prefix(':') {
            s = digits(17..19)?;
            rest = &r[2..];
        }
        if let Some(r) = rest.strip_prefix('.') {
            rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
        }
    }
    if h > 23 || mi > 59 || s > 60 {
        return Err(NotADate);
    }
    let offset_min = match rest.trim() {
        "" | "Z" | "z" | "UTC" | "GMT" | "+00:00" | "+0000" => 0,
        o if (o.starts_with('+') || o.starts_with('-')) && o.len() >= 5 => {
            let o2 = o.replace(':', "");
            let sign = if o2.starts_with('-') { -1 } else { 1 };
            let hh: i64 = o2.get(1..3).ok_or(NotADate)?.parse().map_err(|_| NotADate)?;
            let mm: i64 = o2.get(3..5).ok_or(NotADate)?.parse().map_err(|_| NotADate)?;
            sign * (hh * 60 + mm)
        }
        _ => return Err(NotADate),
    };
    Ok(Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset_min * 60))
}

/// The text is not a date Qualys writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotADate;

/// Calendar days (UTC) from the day of `from` to the day of `to`, never negative: counted in
/// dates, not in 24-hour spans, so two collects on the same day derive the same number however
/// many seconds apart they ran.
pub fn days_between(from: i64, to: i64) -> i64 {
    (to.div_euclid(86_400) - from.div_euclid(86_400)).max(0)
}

/// The start of the UTC day of an instant.
pub fn day_start(secs: i64) -> i64 {
    secs.div_euclid(86_400) * 86_400
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC.
pub fn from_epoch(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        return format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60);
    }
    // Hand-placed digits: this runs for every timestamp of every row, and `format!` costs more
    // than the rest of the conversion.
    let mut out = String::with_capacity(20);
    for (n, width, sep) in [
        (y, 4, '-'),
        (m, 2, '-'),
        (d, 2, 'T'),
        (rem / 3600, 2, ':'),
        ((rem % 3600) / 60, 2, ':'),
        (rem % 60, 2, 'Z'),
    ] {
        for p in (0..width).rev() {
            out.push(char::from(b'0' + ((n / 10i64.pow(p)) % 10) as u8));
        }
        out.push(sep);
    }
    out
}

/// Seconds since the Unix epoch of an RFC 3339 UTC timestamp produced by [`timestamp`].
pub fn to_epoch(ts: &str) -> Option<i64> {
    epoch_of(ts.trim()).ok()?
}

// Howard Hinnant's civil-date algorithms (public domain), for dates without a date crate.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualys_date_spellings_become_rfc3339_utc() {
        let cases = [
            ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05Z"),
            ("2024-01-02T03:04:05.123Z", "2024-01-02T03:04:05Z"),
            ("2024-01-02 03:04:05", "2024-01-02T03:04:05Z"),
            ("2024-01-02T03:04:05+02:00", "2024-01-02T01:04:05Z"),
            ("2024-03-01T00:30:00-01:00", "2024-03-01T01:30:00Z"),
            ("2024-01-02", "2024-01-02T00:00:00Z"),
            ("2024-01-02T03:04Z", "2024-01-02T03:04:00Z"),
            ("1704164645000", "2024-01-02T03:04:05Z"),
        ];
        for (input, want) in cases {
            assert_eq!(timestamp(input), Ok(Some(want.to_string())), "{input}");
        }
        for never in ["N/A", "never", "0000-00-00 00:00:00", ""] {
            assert_eq!(timestamp(never), Ok(None), "{never}");
        }
        for bad in ["yesterday", "2024-13-01", "2024-01-02X", "2024/01/02"] {
            assert_eq!(timestamp(bad), Err(NotADate), "{bad}");
        }
        assert_eq!(to_epoch("2024-01-02T03:04:05Z"), Some(1_704_164_645));
    }

    #[test]
    fn canonical_dates_take_the_fast_path_with_the_same_result() {
        // Every 7,919 s over 1970-2100 and the leap days: the kept text is what formatting
        // the instant writes, and reading it back gives the instant.
        let mut secs = 0i64;
        while secs < 4_102_444_800 {
            let text = from_epoch(secs);
            let days = secs.div_euclid(86_400);
            let (y, m, d) = civil_from_days(days);
            let rem = secs.rem_euclid(86_400);
            let want =
                format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, (rem % 3600) / 60, rem % 60);
            assert_eq!(text, want);
            assert!(is_canonical(&text), "{text}");
            assert_eq!(timestamp(&text), Ok(Some(text.clone())));
            assert_eq!(to_epoch(&text), Some(secs));
            secs += 7_919;
        }
        // Out-of-range days are not canonical; they normalise as before.
        assert_eq!(timestamp("2023-02-29T00:00:00Z"), Ok(Some("2023-03-01T00:00:00Z".into())));
        assert_eq!(timestamp("2024-02-29T00:00:00Z"), Ok(Some("2024-02-29T00:00:00Z".into())));
        assert_eq!(timestamp("2024-04-31T00:00:00Z"), Ok(Some("2024-05-01T00:00:00Z".into())));
        assert_eq!(timestamp("1900-02-29T00:00:00Z"), Ok(Some("1900-03-01T00:00:00Z".into())));
        assert_eq!(timestamp("2000-02-29T00:00:00Z"), Ok(Some("2000-02-29T00:00:00Z".into())));
        assert_eq!(timestamp("2024-01-02T03:04:60Z"), Ok(Some("2024-01-02T03:05:00Z".into())));
        assert_eq!(parse_bool("YES"), Some(true));
        assert_eq!(parse_bool("N"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn kinds_convert_and_empty_is_null() {
        assert_eq!(convert(Kind::Integer, "42"), Ok(Value::Integer(42)));
        assert!(convert(Kind::Integer, "4x").is_err());
        assert_eq!(convert(Kind::Boolean, "1"), Ok(Value::Boolean(true)));
        assert_eq!(convert(Kind::Text, ""), Ok(Value::Null));
        assert_eq!(convert(Kind::TextList, "a"), Ok(Value::TextList(vec!["a".into()])));
    }
}
