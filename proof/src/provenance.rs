//! Where a proof came from: which connector, run by which host, as which account, with which
//! criteria as applied, when, and with how many pages and requests. Written in the proof's
//! `provenance` member (the JSON proof's tail, or the sidecar of a JSON Lines or CSV proof).

use serde::{Deserialize, Serialize};

/// The component that collected the proof.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// The connector's name (e.g. `qualys-connector`), when known.
    pub name: Option<String>,
    /// The connector's version, when known.
    pub version: Option<String>,
    /// The service it collects from, as the connector names it (e.g. `Qualys`); `None` when
    /// the connector cannot say (a 0.2.0 component) and in proofs written before it could.
    #[serde(default)]
    pub service: Option<String>,
    /// SHA-256 of the component's bytes.
    pub component_sha256: Option<String>,
}

/// The program that wrote the proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostInfo {
    /// Its name.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Default for HostInfo {
    /// This library.
    fn default() -> Self {
        HostInfo { name: env!("CARGO_PKG_NAME").into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

/// The account the proof was collected as. Never holds a credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// The login.
    pub login: Option<String>,
    /// The account's role, when the run learnt it.
    pub role: Option<String>,
    /// How the role was learnt (e.g. `connect`, or `users-proof`: the account's own row of a
    /// users proof); `None` when the role is unknown.
    pub role_source: Option<String>,
}

/// The provenance of a proof.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// The connector component.
    pub connector: ConnectorInfo,
    /// The host that ran it and wrote the proof.
    pub host: HostInfo,
    /// The account.
    pub account: AccountInfo,
    /// The criteria as the connector applied them on the proof's first page (defaults filled
    /// in, the exact time window of a scan list, the ticket states sent); `None` when unknown.
    #[serde(with = "pairs_opt")]
    pub criteria_applied: Option<Vec<(String, String)>>,
    /// When collection started, RFC 3339 UTC (the proof's `collected_at`).
    pub started_at: String,
    /// When the proof was complete, RFC 3339 UTC.
    pub finished_at: Option<String>,
    /// Pages collected, over every run of a resumed collect.
    pub pages: u64,
    /// HTTP requests the connector sent, over every run of a resumed collect (retries and
    /// refused requests included).
    pub requests: u64,
    /// Each time the collect was resumed from a checkpoint, in order; absent when it ran in one
    /// go. Rows before a resumption were read back from disk, not fetched by that run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed: Vec<Resumption>,
}

/// One resumption of a collect from its checkpoint and partial file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resumption {
    /// When the run that resumed started, RFC 3339 UTC.
    pub at: String,
    /// Rows read back from the partial file, checked against the checkpoint (count, file
    /// digest, last row).
    pub rows_from_partial: u64,
    /// Pages collected before this resumption.
    pub pages_before: u64,
    /// The key id the checkpoint was signed with and checked against, or `None` for an
    /// unsigned checkpoint: its counts, warnings, start time and criteria applied are then as
    /// read back from disk, vouched for by nothing but the checks on the partial file.
    pub checkpoint_signed_by: Option<String>,
}

impl Provenance {
    /// As written in a proof (criteria as `{"name", "value"}` objects, like `criteria`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("provenance serialises")
    }
}

/// Criteria pairs as `[{"name": .., "value": ..}]`, the shape of a proof's `criteria`.
pub mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Pair {
        name: String,
        value: String,
    }

    /// Serialises pairs as objects.
    pub fn serialize<S: Serializer>(pairs: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<Pair> = pairs.iter().map(|(n, v)| Pair { name: n.clone(), value: v.clone() }).collect();
        list.serialize(s)
    }

    /// Reads pairs written by [`serialize`].
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(String, String)>, D::Error> {
        Ok(Vec::<Pair>::deserialize(d)?.into_iter().map(|p| (p.name, p.value)).collect())
    }
}

mod pairs_opt {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(pairs: &Option<Vec<(String, String)>>, s: S) -> Result<S::Ok, S::Error> {
        match pairs {
            Some(p) => super::pairs::serialize(p, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<(String, String)>>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super::pairs")] Vec<(String, String)>);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}
