//! Host bindings of the connector world (generated from `wit/`). WASI imports map to
//! wasmtime-wasi's own implementations; only the connector exports are generated here.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "evidence:connector/connector-world",
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
        "wasi:random": wasmtime_wasi::p2::bindings::random,
    },
});

pub use evidence::connector::types;
pub use exports::evidence::connector::connector as api;
