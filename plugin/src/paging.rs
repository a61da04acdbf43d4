//! The one paging loop. A proof type fetches one page of one of its sources from a
//! [`Position`]; this module turns that into the opaque, stateless cursor of the next page,
//! moves from one source to the next, refuses a chain that does not advance, and drops (and
//! counts) records repeated across pages for sources ordered by a numeric key.

use base64::Engine as _;

use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::Client;
use crate::model::{Page, Row, Value, Warning};
use crate::proofs::ProofType;

/// Where the next page of a source starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    /// The first page.
    Start,
    /// Records from this numeric id on (the host list's `id_min`, read from Qualys' next-page
    /// URL; the request itself is always built by the connector).
    From { id: i64 },
    /// Records after this numeric id (ticket numbers, QPS asset ids).
    After { id: i64 },
    /// A time window `[from, to)` in epoch seconds, paged in slices (scan lists).
    Window { from: i64, to: i64 },
}

/// How a person reads a position in an error message.
impl std::fmt::Display for Position {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Position::Start => f.write_str("the first page"),
            Position::From { id } => write!(f, "records from id {id}"),
            Position::After { id } => write!(f, "records after id {id}"),
            Position::Window { from, to } => write!(f, "the window {from}..{to} (epoch seconds)"),
        }
    }
}

impl Position {
    /// Whether `next` moves forward from `self`.
    fn advances_from(&self, prev: &Position) -> bool {
        match (prev, self) {
            (Position::From { id: a }, Position::From { id: b }) => b > a,
            (Position::After { id: a }, Position::After { id: b }) => b > a,
            (Position::Window { from: a, .. }, Position::Window { from: b, .. }) => b > a,
            (_, Position::Start) => false,
            _ => true,
        }
    }
}

/// One page of one source.
#[derive(Debug, Default)]
pub struct SourcePage {
    pub rows: Vec<Row>,
    pub next: Option<Position>,
    pub warnings: Vec<Warning>,
    /// A small note the proof type keeps for its next pages (e.g. "a source was refused"),
    /// carried in the cursor; `None` keeps the current one.
    pub memo: Option<String>,
    /// Criteria values the proof type chose on its first page (e.g. a scan list's window),
    /// reported as applied.
    pub applied: Vec<(&'static str, String)>,
}

/// Where a page starts, and the memo of earlier pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume<'a> {
    pub source: u8,
    pub position: &'a Position,
    pub memo: Option<&'a str>,
}

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
    /// Highest key already returned from an ordered source.
    k: Option<i64>,
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
            "window" => Position::Window { from: int()?, to: int()? },
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
        let mut fields: [Option<String>; 7] = Default::default();
        for (key, value) in form_urlencoded::parse(&bytes) {
            let i = ["v", "p", "c", "s", "pos", "k", "m"].iter().position(|k| *k == key);
            match i.map(|i| &mut fields[i]) {
                Some(slot @ None) => *slot = Some(value.into_owned()),
                _ => return Err(bad("unreadable")),
            }
        }
        let [v, p, c, s, pos, k, m] = fields;
        if v.as_deref() != Some(VERSION.to_string().as_str()) {
            return Err(bad("made by another connector version"));
        }
        let (Some(p), Some(c), Some(s), Some(pos)) = (p, c, s, pos) else {
            return Err(bad("unreadable"));
        };
        let s: u8 = s.parse().map_err(|_| bad("unreadable"))?;
        let pos = Position::from_cursor_value(&pos).ok_or_else(|| bad("unreadable"))?;
        let k = k.map(|k| k.parse::<i64>()).transpose().map_err(|_| bad("unreadable"))?;
        if p != proof {
            return Err(bad(&format!("it belongs to proof type '{p}'")));
        }
        if c != criteria.canonical() {
            return Err(bad("it belongs to other criteria"));
        }
        if s >= sources {
            return Err(bad("unknown source"));
        }
        Ok(Cursor { p, c, s, pos, k, m })
    }
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

    let mut last_key = current.k;
    if let Some(key) = proof.ordered_key(current.s) {
        let index = spec.index(key);
        let before = rows.len();
        rows.retain(|row| match &row[index] {
            Value::Integer(k) if last_key.is_some_and(|last| *k <= last) => false,
            Value::Integer(k) => {
                last_key = Some(*k);
                true
            }
            _ => true,
        });
        let dropped = before - rows.len();
        if dropped > 0 {
            warnings.push(Warning {
                code: "duplicate-records",
                message: format!(
                    "{dropped} record(s) repeated an earlier {key} (Qualys returned them on more than one page) and were kept once"
                ),
            });
        }
    }

    let next_cursor = match next {
        Some(pos) => {
            if !pos.advances_from(&current.pos) {
                return Err(Error::malformed(format!(
                    "{}: Qualys' next-page pointer does not move forward ({} after {}); stopped instead of looping",
                    spec.title, pos, current.pos
                )));
            }
            Some(Cursor { pos, k: last_key, m: memo, ..current.clone() })
        }
        None if current.s + 1 < sources => {
            Some(Cursor { s: current.s + 1, pos: Position::Start, k: None, m: memo, ..current.clone() })
        }
        None => None,
    };
    Ok(Page { rows, next_cursor: next_cursor.map(|c| c.encode()), warnings, applied_criteria })
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
        Position::Window { from, .. } => {
            format!("source {}, from {}", c.s + 1, crate::values::from_epoch(*from))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProofSpec;

    static SPEC: ProofSpec = ProofSpec { id: "t", title: "", description: "", fields: &[], criteria: &[] };

    fn cursor(pos: Position, k: Option<i64>, m: Option<&str>) -> Cursor {
        let criteria = crate::criteria::validate(&SPEC, &[]).unwrap();
        Cursor { p: "t".into(), c: criteria.canonical(), s: 1, pos, k, m: m.map(Into::into) }
    }

    #[test]
    fn every_position_key_and_memo_survives_a_round_trip() {
        let criteria = crate::criteria::validate(&SPEC, &[]).unwrap();
        for pos in [
            Position::Start,
            Position::From { id: 42 },
            Position::After { id: -7 },
            Position::Window { from: 1_700_000_000, to: 1_702_592_000 },
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
