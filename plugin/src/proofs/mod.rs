//! The proof types. Each lives in its own file (its request, its XML mapping, its fields and
//! criteria); adding one means adding a file and a line in [`REGISTRY`].

pub mod assets;
pub mod pc_scans;
pub mod scan_list;
pub mod tickets;
pub mod users;
pub mod vm_scans;

use crate::criteria::Criteria;
use crate::error::Error;
use crate::http::client::Client;
use crate::model::ProofSpec;
use crate::paging::{Resume, SourcePage};

/// A kind of proof the connector can collect.
pub trait ProofType: Sync {
    /// Its id, title, fields and criteria.
    fn spec(&self) -> &'static ProofSpec;

    /// The endpoint of each source it pages through, one after the other, in order (paths in
    /// [`crate::endpoints`]); the registry-wide test checklist runs every scenario on each.
    fn endpoints(&self) -> &'static [&'static str];

    /// How many sources it pages through.
    fn sources(&self) -> u8 {
        self.endpoints().len() as u8
    }

    /// The field that identifies a record of a source (its natural key); a record without it
    /// is malformed.
    fn key(&self, source: u8) -> &'static str;

    /// Whether a source pages forward by its (integer) key, so that a later page never holds a
    /// record at or below the highest key of the pages before it.
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
}

/// Every proof type, in the order they are listed.
pub static REGISTRY: &[&dyn ProofType] =
    &[&assets::Assets, &users::Users, &vm_scans::PROOF, &pc_scans::PROOF, &tickets::Tickets];

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
            assert!(!spec.key.is_empty(), "{} declares no key", spec.id);
            for candidate in spec.key {
                for field in *candidate {
                    spec.index(field);
                }
            }
            for source in 0..proof.sources() {
                let key = proof.key(source);
                assert!(
                    spec.key.iter().any(|c| *c == [key]),
                    "{} screens source {source} by {key}, which is not one of its declared keys",
                    spec.id
                );
            }
        }
    }
}
