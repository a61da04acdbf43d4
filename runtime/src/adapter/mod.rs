//! The released versions of the connector contract this host runs. The current one,
//! `evidence:connector@0.3.0`, is the bindings' own; each earlier one has a module of its own
//! that adapts it to the current types (as Zed's extension host keeps one per released API),
//! so a component already handed to a platform keeps working after the contract moves on.

pub mod v0_2;

use wasmtime::component::Component;

/// A contract version a component can export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// `evidence:connector@0.3.0`: proof types declare their natural key; `describe`.
    V0_3,
    /// `evidence:connector@0.2.0`, frozen in `wit/published/connector-0.2.0.wit`.
    V0_2,
}

impl Contract {
    /// Newest first: a component exporting several is run as the newest.
    pub const ALL: [Contract; 2] = [Contract::V0_3, Contract::V0_2];

    /// The exported interface's name.
    pub fn interface(self) -> &'static str {
        match self {
            Contract::V0_3 => "evidence:connector/connector@0.3.0",
            Contract::V0_2 => "evidence:connector/connector@0.2.0",
        }
    }

    /// The contract's package, e.g. `evidence:connector@0.3.0`.
    pub fn package(self) -> &'static str {
        match self {
            Contract::V0_3 => "evidence:connector@0.3.0",
            Contract::V0_2 => "evidence:connector@0.2.0",
        }
    }

    /// The contract a component exports, when it exports one this host knows.
    pub fn of(component: &Component) -> Option<Contract> {
        Contract::ALL.into_iter().find(|c| component.get_export_index(None, c.interface()).is_some())
    }
}
