//! The connector's parsing and paging, natively: one test binary, a module per area.

mod mappings;
mod properties;
