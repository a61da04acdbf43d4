//! Qualys error documents as the XML reader meets them: SIMPLE_RETURN (API v2), GENERIC_RETURN
//! and `ERROR` roots (v1 scripts), each read with a map of its own and handed to
//! [`crate::qualys_error::classify`].
//!
//! Sources: Qualys API (VM, PC) User Guide, "API error codes"; Qualys API v1 User Guide.

use crate::error::Error;
use crate::qualys_error::classify;

use super::{Parsed, RecordMap};

/// Which error document a response carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorRoot {
    SimpleReturn,
    GenericReturn,
    ErrorRoot,
}

static SIMPLE_RETURN: RecordMap =
    RecordMap::captures_only("SIMPLE_RETURN", &["RESPONSE/CODE", "RESPONSE/TEXT"]);

static GENERIC_RETURN: RecordMap = RecordMap::captures_only(
    "GENERIC_RETURN",
    &["RETURN/@status", "RETURN/@number", "RETURN", "RETURN/MESSAGE"],
);

static ERROR: RecordMap = RecordMap::captures_only("ERROR", &["@number", "", "TEXT"]);

/// The map to read an unexpected root with: an error document, or malformed when it is none.
pub fn map_for_root(found: &str, expected: &str) -> Result<&'static RecordMap, Error> {
    match found {
        "SIMPLE_RETURN" => Ok(&SIMPLE_RETURN),
        "GENERIC_RETURN" => Ok(&GENERIC_RETURN),
        "ERROR" => Ok(&ERROR),
        html if html.eq_ignore_ascii_case("html") => Err(Error::malformed(
            "Qualys answered with an HTML page instead of XML; a proxy, firewall or maintenance \
             page is in the way, or the API URL points to the web UI instead of the API server",
        )),
        other => Err(Error::malformed(format!("expected a <{expected}> document, got <{other}>"))),
    }
}

/// Whether `root` names one of the error documents.
pub fn error_root(root: &str) -> Option<ErrorRoot> {
    match root {
        "SIMPLE_RETURN" => Some(ErrorRoot::SimpleReturn),
        "GENERIC_RETURN" => Some(ErrorRoot::GenericReturn),
        "ERROR" => Some(ErrorRoot::ErrorRoot),
        _ => None,
    }
}

/// Builds the typed error from a parsed error document.
pub fn from_document(kind: ErrorRoot, map: &RecordMap, doc: &Parsed, http_status: Option<u16>) -> Error {
    let get = |p: &str| doc.capture(map, p).map(str::to_string);
    let (code, text) = match kind {
        ErrorRoot::SimpleReturn => (get("RESPONSE/CODE"), get("RESPONSE/TEXT")),
        ErrorRoot::GenericReturn => (get("RETURN/@number"), get("RETURN/MESSAGE").or_else(|| get("RETURN"))),
        ErrorRoot::ErrorRoot => (get("@number"), get("TEXT").or_else(|| get(""))),
    };
    classify(code.as_deref(), text.as_deref().unwrap_or("no error text"), http_status)
}
