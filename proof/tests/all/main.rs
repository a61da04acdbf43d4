//! The proof crate's promises, one test binary: proof files and where they may be written
//! (`output`), proofs an auditor can trust (`proofs`), and a dependency tree an auditor's tool
//! can link without a sandbox (`dependencies`).

mod dependencies;
mod output;
mod proofs;
