//! The one paging loop. A proof type fetches one page of one of its sources from a
//! [`Position`]; this module turns that into the opaque, stateless cursor of the next page,
//! moves from one source to the next, refuses a chain that does not advance, and screens each
//! page's records by their key (see [`screen`]): a record is dropped only when it provably
//! repeats one already in the proof, and every drop is counted and named.

use base64::Engine as _;

use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::Client;
use crate::model::{Page, ProofSpec, Row, Value, Warning};
use crate::proofs::{Position, ProofType, Resume, SourcePage};

/// The cursor's content. Encoded as base64url of form-urlencoded `key=value` pairs, so it is
/// opaque and safe in any transport; read with the URL codec the client needs anyway rather
/// than a general-purpose deserializer (serde, serde_json and the float formatting they
/// brought were 122 KB of the component). Every cursor starts with `v=`[`VERSION`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    /// Proof type id.
    p: String,
    /// Canonical criteria the cursor belongs to.
    c: String,
    /// Index of the source being paged.
    s: u8,
    /// Position in that source.
    pos: Position,
    /// Highest key already returned from a source paged by key.
    k: Option<i64>,
    /// Digest ([`row_digest`]) of the record with key `k`, so that the next page can recognise
    /// that record repeated at its start.
    h: Option<u64>,
    /// The proof type's memo.
    m: Option<String>,
}

/// 2: host-list positions are `id_min` values, no longer next-page URLs. 3: the same content
/// as `key=value` pairs instead of JSON.
const VERSION: u8 = 3;
/// Cursors are small; anything longer was not made by this connector.
const MAX_CURSOR_LEN: usize = 16 * 1024;

impl Position {
    /// The position as a cursor value: `start`, `from:ID`, `after:ID`, `window:FROM:TO`.
    fn to_cursor_value(&self) -> String {
        match self {
            Position::Start => "start".to_string(),
            Position::From { id } => format!("from:{id}"),
            Position::After { id } => format!("after:{id}"),
            Position::Window { from, to } => format!("window:{from}:{to}"),
            Position::Within { id, skip, check } => format!("within:{id}:{skip}:{check}"),
            Position::Before { id } => format!("before:{id}"),
            Position::Part { part, id } => format!("part:{part}:{id}"),
        }
    }

    fn from_cursor_value(text: &str) -> Option<Position> {
        let mut parts = text.split(':');
        let kind = parts.next()?;
        let mut int = || parts.next()?.parse::<i64>().ok();
        let pos = match kind {
            "start" => Position::Start,
            "from" => Position::From { id: int()? },
            "after" => Position::After { id: int()? },
            "before" => Position::Before { id: int()? },
            "part" => {
                let part = u32::try_from(int()?).ok()?;
                Position::Part { part, id: int()? }
            }
            "window" => Position::Window { from: int()?, to: int()? },
            "within" => {
                let id = int()?;
                let skip = parts.next()?.parse::<u32>().ok().filter(|s| *s > 0)?;
                let check = parts.next()?.parse::<u64>().ok()?;
                Position::Within { id, skip, check }
            }
            _ => return None,
        };
        parts.next().is_none().then_some(pos)
    }
}

impl Cursor {
    fn encode(&self) -> String {
        let mut pairs = form_urlencoded::Serializer::new(String::new());
        pairs
            .append_pair("v", &VERSION.to_string())
            .append_pair("p", &self.p)
            .append_pair("c", &self.c)
            .append_pair("s", &self.s.to_string())
            .append_pair("pos", &self.pos.to_cursor_value());
        if let Some(k) = self.k {
            pairs.append_pair("k", &k.to_string());
        }
        if let Some(h) = self.h {
            pairs.append_pair("h", &h.to_string());
        }
        if let Some(m) = &self.m {
            pairs.append_pair("m", m);
        }
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pairs.finish())
    }

    fn decode(text: &str, proof: &str, criteria: &Criteria, sources: u8) -> Result<Cursor, Error> {
        let bad = |why: &str| {
            Error::InvalidCursor(format!(
                "the cursor is not valid ({why}); start the collect again without a cursor"
            ))
        };
        if text.len() > MAX_CURSOR_LEN {
            return Err(bad("too long"));
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| bad("not base64url"))?;
        // Versions 1 and 2 were JSON objects.
        if bytes.first() == Some(&b'{') {
            return Err(bad("made by another connector version"));
        }
        let mut fields: [Option<String>; 8] = Default::default();
        for (key, value) in form_urlencoded::parse(&bytes) {
            let i = ["v", "p", "c", "s", "pos", "k", "m", "h"].iter().position(|k| *k == key);
            match i.map(|i| &mut fields[i]) {
                Some(slot @ None) => *slot = Some(value.into_owned()),
                _ => return Err(bad("unreadable")),
            }
        }
        let [v, p, c, s, pos, k, m, h] = fields;
        if v.as_deref() != Some(VERSION.to_string().as_str()) {
            return Err(bad("made by another connector version"));
        }
        let (Some(p), Some(c), Some(s), Some(pos)) = (p, c, s, pos) else {
            return Err(bad("unreadable"));
        };
        let s: u8 = s.parse().map_err(|_| bad("unreadable"))?;
        let pos = Position::from_cursor_value(&pos).ok_or_else(|| bad("unreadable"))?;
        let k = k.map(|k| k.parse::<i64>()).transpose().map_err(|_| bad("unreadable"))?;
        let h = h.map(|h| h.parse::<u64>()).transpose().map_err(|_| bad("unreadable"))?;
        if p != proof {
            return Err(bad(&format!("it belongs to proof type '{p}'")));
        }
        if c != criteria.canonical() {
            return Err(bad("it belongs to other criteria"));
        }
        if s >= sources {
            return Err(bad("unknown source"));
        }
        Ok(Cursor { p, c, s, pos, k, h, m })
    }
}

/// A number `param` of a next-page URL as Qualys' guides write them: any host, any API
/// version, whitespace around it. Only this number is used; the URL itself is never requested
/// (the next request is built by the connector, on the configured API server).
pub fn url_number(url: &str, param: &str, what: &str) -> Result<i64, Error> {
    let url = url.trim();
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split('#').next().unwrap_or("");
    let value = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == param)
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| {
            let shown: String = url.chars().take(200).collect();
            Error::malformed(format!("the {what}'s next-page URL has no {param}: {shown:?}"))
        })?;
    value
        .trim()
        .parse::<i64>()
        .map_err(|_| Error::malformed(format!("the {what}'s next-page {param} {value:?} is not a number")))
}

/// The next page a list answer names: a WARNING with code 1980 and a URL carrying `param`;
/// `None` when the answer has no WARNING 1980. A 1980 without a URL is malformed.
pub fn next_named(
    code: Option<&str>,
    url: Option<&str>,
    param: &str,
    what: &str,
) -> Result<Option<i64>, Error> {
    match (code, url) {
        (Some("1980"), Some(url)) => url_number(url, param, what).map(Some),
        (Some("1980"), None) => Err(Error::malformed(format!("{what} WARNING 1980 without a next-page URL"))),
        _ => Ok(None),
    }
}

/// Encodes a cursor at a position with a memo, for tests of what a cursor can carry.
#[cfg(test)]
pub(crate) fn cursor_for_tests(spec: &ProofSpec, criteria: &Criteria, pos: Position, memo: &str) -> String {
    Cursor { p: spec.id.into(), c: criteria.canonical(), s: 0, pos, k: None, h: None, m: Some(memo.into()) }
        .encode()
}

/// Decodes a cursor for tests and fuzzing: Ok when it is one this proof type could resume.
pub fn check_cursor(text: &str, proof: &str, criteria: &Criteria, sources: u8) -> Result<(), Error> {
    Cursor::decode(text, proof, criteria, sources).map(|_| ())
}

/// Collects one page of a proof type from `cursor` (the first page when none).
pub fn collect_page(
    proof: &dyn ProofType,
    client: &Client<'_>,
    criteria: &Criteria,
    cursor: Option<&str>,
) -> Result<Page, Error> {
    let spec = proof.spec();
    let sources = proof.sources();
    let current = match cursor {
        Some(text) => Cursor::decode(text, spec.id, criteria, sources)?,
        None => Cursor {
            p: spec.id.into(),
            c: criteria.canonical(),
            s: 0,
            pos: Position::Start,
            k: None,
            h: None,
            m: None,
        },
    };
    let resume = || current.encode();
    let resume_at = Resume { source: current.s, position: &current.pos, memo: current.m.as_deref() };
    let fetched = proof.fetch(client, criteria, &resume_at).map_err(|e| match e {
        Error::RateLimited { retry_after_seconds, message, .. } => {
            Error::RateLimited { retry_after_seconds, resume_cursor: Some(resume()), message }
        }
        other => other.context(&format!("{} ({})", spec.title, describe(&current))),
    })?;
    let SourcePage { mut rows, next, mut warnings, memo, applied } = fetched;
    // What the proof ran with, stated once: given and default criteria, then chosen values.
    let applied_criteria = if cursor.is_none() {
        let mut all: Vec<(String, String)> =
            criteria.pairs().iter().map(|(n, v)| (n.to_string(), v.clone())).collect();
        for (name, value) in applied {
            match all.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value,
                None => all.push((name.to_string(), value)),
            }
        }
        all
    } else {
        Vec::new()
    };
    if let Some(w) = low_rate_limit(client) {
        warnings.push(w);
    }
    let memo = memo.or_else(|| current.m.clone());

    // A cursor without the digest recognises no repeated record.
    let boundary = current.k.map(|k| (k, current.h.unwrap_or_default()));
    let Screened { boundary, warnings: screened } =
        screen(spec, proof.key(current.s), proof.paged_by_key(current.s), &mut rows, boundary)?;
    warnings.extend(screened);
    let (k, h) = (boundary.map(|b| b.0), boundary.map(|b| b.1));

    let next_cursor = match next {
        Some(pos) => {
            if !pos.advances_from(&current.pos) {
                return Err(Error::malformed(format!(
                    "{}: Qualys' next-page pointer does not move forward ({} after {}); stopped instead of looping",
                    spec.title, pos, current.pos
                )));
            }
            Some(Cursor { pos, k, h, m: memo, ..current.clone() })
        }
        None if current.s + 1 < sources => Some(Cursor {
            s: current.s + 1,
            pos: Position::Start,
            k: None,
            h: None,
            m: memo,
            ..current.clone()
        }),
        None => None,
    };
    Ok(Page { rows, next_cursor: next_cursor.map(|c| c.encode()), warnings, applied_criteria })
}

/// What [`screen`] found on a page.
struct Screened {
    /// The highest key of the source so far and the digest of its record.
    boundary: Option<(i64, u64)>,
    warnings: Vec<Warning>,
}

/// How many keys a warning names before it says "and N more".
const NAMED_KEYS: usize = 20;

/// Screens a page's records by their key, in place. A record without its key is malformed.
/// A record identical to an earlier one of the page is dropped; records that share a key but
/// differ are all kept, with a warning. For a source paged by key, the record of the previous
/// page's highest key, repeated unchanged, is dropped; any other record at or below it means
/// the pages overlap in a way the API does not document, and the page fails rather than guess
/// which records repeat. Order within a page is never assumed. Memory: the page's keys.
fn screen(
    spec: &ProofSpec,
    key: &'static [&'static str],
    paged_by_key: bool,
    rows: &mut Vec<Row>,
    boundary: Option<(i64, u64)>,
) -> Result<Screened, Error> {
    // Rows without an identity (a log): every one is kept, identical ones included.
    if key.is_empty() {
        return Ok(Screened { boundary, warnings: Vec::new() });
    }
    let at: Vec<usize> = key.iter().map(|f| spec.index(f)).collect();
    let first = key[0];
    if let Some(n) = rows.iter().position(|r| matches!(&r[at[0]], Value::Null)) {
        return Err(Error::malformed(format!(
            "{}: record {} of the page has no {first}; a record Qualys does not identify cannot be \
             checked against the others, so the page is refused",
            spec.title,
            n + 1
        )));
    }
    // Ordering by key is only defined for a single integer key.
    let paged_by_key = paged_by_key && at.len() == 1;
    // Keys borrow the rows' values; only the few that go into a warning are copied.
    let key_of = |row: &Row| -> Vec<Value> { at.iter().map(|i| row[*i].clone()).collect() };
    let mut repeated = Vec::new();
    let mut behind = Vec::new();
    let mut shared = Vec::new();
    // A fixed-key hasher: the component asks the host for no randomness.
    let mut first_at: std::collections::HashMap<Vec<&Value>, usize, FixedHasher> = Default::default();
    let mut keep = vec![true; rows.len()];
    for (i, row) in rows.iter().enumerate() {
        let value = &row[at[0]];
        if paged_by_key
            && let (Value::Integer(k), Some((last, digest))) = (value, boundary)
            && *k <= last
        {
            if *k == last && row_digest(row) == digest {
                keep[i] = false;
                repeated.push(key_of(row));
            } else {
                behind.push(key_of(row));
            }
            continue;
        }
        let this: Vec<&Value> = at.iter().map(|c| &row[*c]).collect();
        match first_at.get(&this) {
            Some(&j) if rows[j] == *row => {
                keep[i] = false;
                repeated.push(key_of(row));
            }
            Some(_) => shared.push(key_of(row)),
            None => {
                first_at.insert(this, i);
            }
        }
    }
    if !behind.is_empty() {
        return Err(Error::malformed(format!(
            "{}: Qualys returned {} on a page that should start after {first} {}; the pages overlap, \
             and which records repeat cannot be proven, so the collect stops instead of dropping \
             or doubling records. Collect again; if it recurs, report it with this message",
            spec.title,
            named(key, &behind),
            boundary.map_or(0, |b| b.0)
        )));
    }
    let mut kept = keep.iter();
    rows.retain(|_| *kept.next().expect("one flag a row"));
    let mut next = boundary;
    if paged_by_key {
        for row in rows.iter() {
            if let Value::Integer(k) = row[at[0]]
                && next.is_none_or(|(last, _)| k > last)
            {
                next = Some((k, row_digest(row)));
            }
        }
    }
    let mut warnings = Vec::new();
    if !repeated.is_empty() {
        warnings.push(Warning {
            code: "duplicate-records",
            message: format!(
                "{} record(s) repeated one already in the proof, field for field, and were kept once: {}",
                repeated.len(),
                named(key, &repeated)
            ),
        });
    }
    if !shared.is_empty() {
        warnings.push(Warning {
            code: "duplicate-keys",
            message: format!(
                "{} record(s) share their {} with another record but differ from it; all are kept: {}",
                shared.len(),
                key.join(", "),
                named(key, &shared)
            ),
        });
    }
    Ok(Screened { boundary: next, warnings })
}

/// SipHash with fixed keys.
type FixedHasher = std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>;

/// `key 1, 2, 3 and N more` (composite keys as `(a, b)`), for a warning.
fn named(key: &[&str], values: &[Vec<Value>]) -> String {
    let one = |v: &Value| match v {
        Value::Integer(n) => n.to_string(),
        Value::Text(s) | Value::Timestamp(s) => s.clone(),
        Value::Null => "null".to_string(),
        other => format!("{other:?}"),
    };
    let shown: Vec<String> = values
        .iter()
        .take(NAMED_KEYS)
        .map(|parts| match parts.as_slice() {
            [single] => one(single),
            many => format!("({})", many.iter().map(one).collect::<Vec<_>>().join(", ")),
        })
        .collect();
    let more = values.len().saturating_sub(NAMED_KEYS);
    let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
    let name = if key.len() == 1 { key[0].to_string() } else { format!("({})", key.join(", ")) };
    format!("{name} {}{tail}", shown.join(", "))
}

/// A digest of a record's values (64-bit FNV-1a over a length-prefixed encoding), stable
/// across builds, to recognise the previous page's last record repeated.
pub(crate) fn row_digest(row: &Row) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    };
    for value in row {
        let (tag, text): (u8, std::borrow::Cow<'_, str>) = match value {
            Value::Null => (0, "".into()),
            Value::Text(s) => (1, s.as_str().into()),
            Value::Integer(n) => (2, n.to_string().into()),
            Value::Boolean(b) => (3, if *b { "1" } else { "0" }.into()),
            Value::Timestamp(s) => (4, s.as_str().into()),
            Value::TextList(l) => {
                (5, l.iter().map(|s| format!("{}:{s}", s.len())).collect::<String>().into())
            }
        };
        eat(&[tag]);
        eat(&(text.len() as u64).to_le_bytes());
        eat(text.as_bytes());
    }
    h
}

/// A warning when Qualys says few calls are left in the rate-limit window.
fn low_rate_limit(client: &Client<'_>) -> Option<Warning> {
    let l = client.limits();
    let (limit, remaining) = (l.rate_limit?, l.rate_remaining?);
    (limit > 0 && remaining * 10 < limit).then(|| Warning {
        code: "rate-limit-low",
        message: format!(
            "only {remaining} of {limit} API calls are left in the current {}s window;              other integrations using this account may be throttled",
            l.rate_window_secs.unwrap_or(3600)
        ),
    })
}

fn describe(c: &Cursor) -> String {
    match &c.pos {
        Position::Start => format!("source {}, first page", c.s + 1),
        Position::From { id } => format!("source {}, from id {id}", c.s + 1),
        Position::After { id } => format!("source {}, after id {id}", c.s + 1),
        Position::Before { id } => format!("source {}, up to id {id}", c.s + 1),
        Position::Part { part, id } => format!("source {}, part {} from id {id}", c.s + 1, part + 1),
        Position::Within { id, skip, .. } => format!("source {}, record {} of id {id}", c.s + 1, skip + 1),
        Position::Window { from, .. } => {
            format!("source {}, from {}", c.s + 1, crate::values::from_epoch(*from))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProofSpec;

    static SPEC: ProofSpec =
        ProofSpec { id: "t", title: "", description: "", fields: &[], criteria: &[], key: &[] };

    fn cursor(pos: Position, k: Option<i64>, m: Option<&str>) -> Cursor {
        let criteria = crate::criteria::validate(&SPEC, &[]).unwrap();
        Cursor { p: "t".into(), c: criteria.canonical(), s: 1, pos, k, h: k.map(|_| 7), m: m.map(Into::into) }
    }

    #[test]
    fn every_position_key_and_memo_survives_a_round_trip() {
        let criteria = crate::criteria::validate(&SPEC, &[]).unwrap();
        for pos in [
            Position::Start,
            Position::From { id: 42 },
            Position::After { id: -7 },
            Position::Before { id: 9 },
            Position::Part { part: 3, id: 12 },
            Position::Window { from: 1_700_000_000, to: 1_702_592_000 },
            Position::Within { id: 100_005, skip: 3, check: u64::MAX },
        ] {
            for (k, m) in [(None, None), (Some(i64::MAX), Some("agents refused & more=1 ü"))] {
                let c = cursor(pos.clone(), k, m);
                assert_eq!(Cursor::decode(&c.encode(), "t", &criteria, 2).unwrap(), c);
            }
        }
    }

    #[test]
    fn cursors_of_earlier_versions_and_tampered_ones_are_refused() {
        let criteria = crate::criteria::validate(&SPEC, &[]).unwrap();
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let old = b64(r#"{"v":2,"p":"t","c":"","s":0,"pos":{"t":"start"},"k":null}"#);
        let refused = |text: &str| match Cursor::decode(text, "t", &criteria, 2) {
            Err(Error::InvalidCursor(m)) => m,
            other => panic!("{text}: {other:?}"),
        };
        assert!(refused(&old).contains("another connector version"));
        assert!(refused(&b64("v=2&p=t&c=&s=0&pos=start")).contains("another connector version"));
        for tampered in [
            "v=3&p=t&c=&s=0",
            "v=3&p=t&c=&s=0&pos=start&pos=start",
            "v=3&p=t&c=&s=0&pos=start&x=1",
            "v=3&p=t&c=&s=0&pos=from",
            "v=3&p=t&c=&s=0&pos=from:1:2",
            "v=3&p=t&c=&s=0&pos=window:1",
            "v=3&p=t&c=&s=256&pos=start",
            "v=3&p=t&c=&s=0&pos=start&k=x",
        ] {
            assert!(refused(&b64(tampered)).contains("unreadable"), "{tampered}");
        }
        assert!(refused(&b64("v=3&p=t&c=&s=2&pos=start")).contains("unknown source"));
        assert!(refused(&b64("v=3&p=u&c=&s=0&pos=start")).contains("proof type 'u'"));
        assert!(refused(&b64("v=3&p=t&c=a%3D1&s=0&pos=start")).contains("other criteria"));
    }
}
