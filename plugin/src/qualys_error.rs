//! The one place where Qualys error codes, texts and HTTP statuses become typed errors (the
//! error documents that carry them are read by [`crate::xml::error_documents`]).
//!
//! Sources: Qualys API (VM, PC) User Guide, "API error codes" and "Rate and concurrency
//! limits" (SIMPLE_RETURN, HTTP 409 with codes 1960/1965); Qualys API v1 User Guide
//! (GENERIC_RETURN, `ERROR` roots from `/msp/` scripts, sometimes with HTTP 200).

use crate::error::Error;

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

/// Classifies a Qualys error: the rate-limit codes first, then the HTTP status (401 is always
/// the login, 403 always a right), then the text (v1 scripts report errors with HTTP 200).
pub fn classify(code: Option<&str>, text: &str, http_status: Option<u16>) -> Error {
    let code_num = code.and_then(|c| c.trim().parse::<u32>().ok());
    // Qualys texts often end in a full stop; the advice appended below starts a new sentence.
    let text = text.trim().trim_end_matches('.');
    let lower = text.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    let with_code = |m: String| match code {
        Some(c) => format!("{m} (Qualys code {c})"),
        None => m,
    };
    if matches!(code_num, Some(1960 | 1965)) || http_status == Some(409) {
        return Error::RateLimited { retry_after_seconds: 0, resume_cursor: None, message: text.to_string() };
    }
    // sdk: GENERIC_RETURN number 2007 when the caller's IP is not in the account's allowed list.
    if code_num == Some(2007) || has(&["secure ip", "ip address is not", "not in the list of"]) {
        return Error::Authentication(with_code(format!(
            "{text}. The account accepts API calls only from its list of allowed IP addresses: ask a \
             Qualys Manager to add the public IP address this connector calls from (edit user > \
             Security), or run the connector from an allowed network."
        )));
    }
    let account_state = has(&["locked", "inactive", "expired", "deactivated", "disabled", "registration"]);
    if http_status == Some(401) || has(&["bad login", "login/password", "invalid credentials"]) {
        return Error::Authentication(if account_state {
            with_code(format!(
                "{text}. Ask a Qualys Manager to re-activate or unlock the account (Users > edit user), \
                 or complete its registration in the Qualys UI."
            ))
        } else {
            with_code(format!("{text}. {AUTH_HELP}"))
        });
    }
    if has(&["sso", "single sign"]) {
        return Error::Authentication(with_code(format!(
            "{text}. The account uses single sign-on; the API needs a service account with SSO disabled."
        )));
    }
    if has(&["api access"]) {
        return Error::Permission(with_code(format!(
            "{text}. Enable API access for this user: Users > edit user > User Role > 'API' checked."
        )));
    }
    if http_status == Some(403)
        || has(&["not authorized", "permission", "privilege", "access denied", "not enabled for", "module"])
    {
        return Error::Permission(with_code(format!("{text}. {MIN_RIGHTS}")));
    }
    if account_state {
        return Error::Authentication(with_code(format!(
            "{text}. Ask a Qualys Manager to re-activate or unlock the account."
        )));
    }
    let hint = if matches!(http_status, Some(400)) || has(&["parameter"]) {
        " — Qualys refused a request parameter; check the criteria, or report it: the API may have changed"
    } else {
        ""
    };
    Error::Upstream { code: code.map(str::to_string), http_status, message: format!("{text}{hint}") }
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
    fn locked_accounts_and_missing_modules_say_what_to_do() {
        let e = classify(Some("2002"), "User account is locked", Some(401));
        assert!(matches!(&e, Error::Authentication(m) if m.contains("unlock")));
        let e = classify(Some("2000"), "Access Denied: the Manage VM module is not enabled", Some(403));
        assert!(matches!(&e, Error::Permission(m) if m.contains("Manage VM")));
        let e = classify(Some("2003"), "Insufficient privileges to run this function.", Some(200));
        assert!(matches!(e, Error::Permission(_)));
    }

    #[test]
    fn other_codes_are_upstream_with_the_code() {
        let e = classify(Some("999"), "Internal error", Some(500));
        assert!(matches!(e, Error::Upstream { code: Some(c), http_status: Some(500), .. } if c == "999"));
    }
}
