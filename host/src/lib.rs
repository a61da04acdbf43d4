//! The `connector-host` command line as a library: its commands, and the parts another program
//! of this project reuses (the worker: credentials files, the network-policy flags, the
//! embedded component, tenants).

pub mod cli;
