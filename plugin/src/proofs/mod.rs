//! The proof types. Each lives in its own file (its request, its XML mapping, its fields and
//! criteria); adding one means adding a file and a line in [`REGISTRY`].

pub mod activity_log;
pub mod assets;
pub mod pc_posture;
pub mod pc_scans;
pub mod scan_list;
pub mod tickets;
pub mod users;
pub mod vm_scans;
pub mod vulnerabilities;

use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::Client;
use crate::model::ProofSpec;
use crate::model::{Row, Warning};

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
    /// Part `part` of a source made of parts (a policy of the posture proof, by its index in the
    /// list the first page fetched), from record id `id` on (0: the part's first page).
    Part { part: u32, id: i64 },
    /// Records at or below this numeric id, newest first (the activity log's `id_max`, read
    /// from Qualys' next-page URL).
    Before { id: i64 },
    /// Inside a group from this numeric id on: its first `skip` records were delivered, the
    /// last of them with the digest `check` (a host split across pages of detections).
    Within { id: i64, skip: u32, check: u64 },
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
            Position::Before { id } => write!(f, "records up to id {id}, newest first"),
            Position::Part { part, id } => write!(f, "part {} from id {id}", part + 1),
            Position::Within { id, skip, .. } => write!(f, "record {} of id {id} on", skip + 1),
            Position::Window { from, to } => write!(f, "the window {from}..{to} (epoch seconds)"),
        }
    }
}

impl Position {
    /// Whether `next` moves forward from `self`.
    pub(crate) fn advances_from(&self, prev: &Position) -> bool {
        match (prev, self) {
            (Position::From { id: a }, Position::From { id: b }) => b > a,
            // A group split across pages: (id, records delivered) only grows.
            (Position::From { id: a }, Position::Within { id: b, .. }) => b >= a,
            (Position::Within { id: a, skip: s, .. }, Position::Within { id: b, skip: t, .. }) => {
                (b, t) > (a, s)
            }
            (Position::Within { id: a, .. }, Position::From { id: b }) => b > a,
            (Position::After { id: a }, Position::After { id: b }) => b > a,
            (Position::Before { id: a }, Position::Before { id: b }) => b < a,
            (Position::Part { part: p, id: a }, Position::Part { part: q, id: b }) => (q, b) > (p, a),
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

/// Whether the memo (comma-separated entries) holds `flag`.
pub(crate) fn memo_has(memo: Option<&str>, flag: &str) -> bool {
    memo.is_some_and(|m| m.split(',').any(|f| f == flag))
}

/// The memo with `flag` (or a `name=value` entry) added once.
pub(crate) fn memo_with(memo: Option<&str>, flag: &str) -> String {
    match memo {
        Some(m) if !m.is_empty() && !memo_has(Some(m), flag) => format!("{m},{flag}"),
        Some(m) if !m.is_empty() => m.to_string(),
        _ => flag.to_string(),
    }
}

/// The value of a `name=value` entry of the memo.
pub(crate) fn memo_value<'m>(memo: Option<&'m str>, name: &str) -> Option<&'m str> {
    memo?.split(',').find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
}

/// Where a page starts, and the memo of earlier pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume<'a> {
    pub source: u8,
    pub position: &'a Position,
    pub memo: Option<&'a str>,
}

/// A kind of proof the connector can collect.
pub trait ProofType: Sync {
    /// Its id, title, fields and criteria.
    fn spec(&self) -> &'static ProofSpec;

    /// The endpoint of each source it pages through, one after the other, in order (paths in
    /// [`crate::endpoints`]); the registry-wide test checklist runs every scenario on each.
    fn endpoints(&self) -> &'static [&'static str];

    /// Endpoints it calls besides the sources it pages through: to complete a page's rows (once
    /// a page), or to learn what to page through (once, on the first page); the registry-wide
    /// checklist runs its fault scenarios on these too.
    fn lookups(&self) -> &'static [&'static str] {
        &[]
    }

    /// How many sources it pages through.
    fn sources(&self) -> u8 {
        self.endpoints().len() as u8
    }

    /// The fields that identify a record of a source (one of its declared candidate keys); a
    /// record without its first field is malformed.
    fn key(&self, source: u8) -> &'static [&'static str];

    /// Whether a source pages forward by its (single, integer) key, so that a later page never
    /// holds a record at or below the highest key of the pages before it.
    fn paged_by_key(&self, _source: u8) -> bool {
        false
    }

    /// Checks cheaply (one small request per source) whether this account can collect it.
    /// `Err(Permission)` means it cannot; other errors are the account's or the network's.
    fn probe(&self, client: &Client<'_>) -> Result<Probe, Error>;

    /// Fetches one page of one source from a position.
    fn fetch(&self, client: &Client<'_>, criteria: &Criteria, at: &Resume<'_>) -> Result<SourcePage, Error>;
}

/// What a probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// Every source answered.
    Full,
    /// Some sources were refused; the proof is collected with a warning saying this.
    Partial(String),
    /// The account may not collect it, for a reason of the proof type's own (not the minimum
    /// rights every proof type shares), with the fix.
    Refused(String),
}

/// Every proof type, in the order they are listed.
pub static REGISTRY: &[&dyn ProofType] = &[
    &assets::Assets,
    &users::Users,
    &vm_scans::PROOF,
    &pc_scans::PROOF,
    &tickets::Tickets,
    &vulnerabilities::Vulnerabilities,
    &activity_log::ActivityLog,
    &pc_posture::PcPosture,
];

/// Finds a proof type by id.
pub fn find(id: &str) -> Result<&'static dyn ProofType, Error> {
    REGISTRY.iter().copied().find(|p| p.spec().id == id.trim()).ok_or_else(|| {
        let ids: Vec<&str> = REGISTRY.iter().map(|p| p.spec().id).collect();
        Error::UnknownProofType(format!(
            "'{id}' is not a proof type of this connector; known: {}",
            ids.join(", ")
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::REGISTRY;

    /// The key a source's records are screened by is one the proof type declares, so the
    /// duplicate handling inside the connector and a host's diff agree on what a row is.
    #[test]
    fn every_source_is_screened_by_a_declared_key() {
        for proof in REGISTRY {
            let spec = proof.spec();
            for candidate in spec.key {
                for field in *candidate {
                    spec.index(field);
                }
            }
            for source in 0..proof.sources() {
                let key = proof.key(source);
                assert!(
                    (spec.key.is_empty() && key.is_empty()) || spec.key.contains(&key),
                    "{} screens source {source} by {key:?}, which is not one of its declared keys",
                    spec.id
                );
            }
        }
    }
}
