//! Rendered proofs read back with an independent reader (calamine): the same values, of the
//! same types, as the proof; text that looks like a formula stays text; the metadata sheet.

mod xlsx;
