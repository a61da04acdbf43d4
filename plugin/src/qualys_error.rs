//! The one place where Qualys error documents and HTTP statuses become typed errors.
//!
//! Sources: Qualys API (VM, PC) User Guide, "API error codes" and "Rate and concurrency
//! limits" (SIMPLE_RETURN, HTTP 409 with codes 1960/1965); Qualys API v1 User Guide
//! (GENERIC_RETURN, `ERROR` roots from `/msp/` scripts, sometimes with HTTP 200).

use crate::error::Error;
use crate::xml::{Parsed, RecordMap};

/// Which error document a response carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorRoot {
    SimpleReturn,
    GenericReturn,
    ErrorRoot,
}

static SIMPLE_RETURN: RecordMap = RecordMap {
    root: "SIMPLE_RETURN",
    record: "",
    columns: &[],
    captures: &["RESPONSE/CODE", "RESPONSE/TEXT"],
};

static GENERIC_RETURN: RecordMap = RecordMap {
    root: "GENERIC_RETURN",
    record: "",
    columns: &[],
    captures: &["RETURN/@status", "RETURN/@number", "RETURN", "RETURN/MESSAGE"],
};

static ERROR: RecordMap =
    RecordMap { root: "ERROR", record: "", columns: &[], captures: &["@number", "", "TEXT"] };

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

/// What an authentication failure may mean; Qualys answers all four alike.
pub const AUTH_HELP: &str = "Qualys refused the login. Check, in this order: (1) the user name \
and password are right (log in to the Qualys UI with them); (2) the account is on this platform \
(a login exists on one platform only: pick the platform shown in the Qualys UI's Help > About, or \
set the API URL); (3) the user has API access (Users > edit user > User Role: 'API' checked); \
(4) single sign-on is disabled for this user (SSO users cannot use the API: create a service \
account with SSO disabled).";

/// The minimum rights every proof type needs.
pub const MIN_RIGHTS: &str = "The minimum user is a Reader with API access and the Manage VM and \
Manage PC/SCA modules; Managers see everything, Unit Managers see their business unit.";

/// Classifies a Qualys error by its code first, then its HTTP status, then its text.
pub fn classify(code: Option<&str>, text: &str, http_status: Option<u16>) -> Error {
    let code_num = code.and_then(|c| c.trim().parse::<u32>().ok());
    let lower = text.to_ascii_lowercase();
    let upstream = |hint: &str| Error::Upstream {
        code: code.map(str::to_string),
        http_status,
        message: if hint.is_empty() { text.to_string() } else { format!("{text} — {hint}") },
    };
    match code_num {
        Some(1965) | Some(1960) => {
            return Error::RateLimited {
                retry_after_seconds: 0,
                resume_cursor: None,
                message: text.to_string(),
            };
        }
        // Account state: inactive, expired, locked, registration incomplete.
        Some(2002) | Some(2003) | Some(2004) | Some(2011) | Some(2012) => {
            return Error::Authentication(format!(
                "{text} (Qualys code {}). Ask a Qualys Manager to re-activate or unlock the \
                 account, or complete its registration in the Qualys UI.",
                code.unwrap_or("")
            ));
        }
        Some(2000) | Some(2001) => {
            return Error::Authentication(format!("{text}. {AUTH_HELP}"));
        }
        Some(1901) | Some(1903) | Some(1904) | Some(1905) | Some(1907) | Some(1908) => {
            return upstream(
                "Qualys refused a request parameter; check the criteria, or report it: the API may have changed",
            );
        }
        _ => {}
    }
    if lower.contains("bad login") || lower.contains("login/password") || http_status == Some(401) {
        return Error::Authentication(format!("{text}. {AUTH_HELP}"));
    }
    if lower.contains("sso") || lower.contains("single sign") {
        return Error::Authentication(format!(
            "{text}. The account uses single sign-on; the API needs a service account with SSO disabled."
        ));
    }
    if lower.contains("api access") {
        return Error::Permission(format!(
            "{text}. Enable API access for this user: Users > edit user > User Role > 'API' checked."
        ));
    }
    if http_status == Some(403)
        || lower.contains("not authorized")
        || lower.contains("permission")
        || lower.contains("privilege")
        || lower.contains("access denied")
    {
        return Error::Permission(format!("{text}. {MIN_RIGHTS}"));
    }
    if http_status == Some(409) {
        return Error::RateLimited { retry_after_seconds: 0, resume_cursor: None, message: text.to_string() };
    }
    upstream("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_login_is_authentication_with_the_four_causes() {
        let e = classify(None, "Bad Login/Password", Some(401));
        assert!(matches!(&e, Error::Authentication(m) if m.contains("SSO") && m.contains("API access")));
    }

    #[test]
    fn rate_limit_codes_are_rate_limited() {
        assert!(matches!(classify(Some("1965"), "limit", Some(409)), Error::RateLimited { .. }));
        assert!(matches!(classify(Some("1960"), "conc", Some(409)), Error::RateLimited { .. }));
    }

    #[test]
    fn other_codes_are_upstream_with_the_code() {
        let e = classify(Some("999"), "Internal error", Some(500));
        assert!(matches!(e, Error::Upstream { code: Some(c), http_status: Some(500), .. } if c == "999"));
    }
}
