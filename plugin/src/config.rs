//! The call's configuration, validated: which API server, which credentials, which limits.

use std::time::Duration;

use qualys_platforms::{self as platforms, ApiBase};

use crate::error::Error;
use crate::http::Timeouts;
use crate::http::client::DEFAULT_MAX_INLINE_WAIT_SECS;

/// The longest user name or password accepted.
pub const MAX_CREDENTIAL_BYTES: usize = 1024;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Platform code as given (upper-cased), or "CUSTOM" for a custom URL without a platform.
    pub platform: String,
    pub base: ApiBase,
    pub username: String,
    pub password: String,
    pub timeouts: Timeouts,
    pub max_inline_wait: u32,
}

/// The raw configuration as it crosses the WIT boundary.
pub struct RawConfig<'a> {
    pub platform: &'a str,
    pub api_url: Option<&'a str>,
    pub username: &'a str,
    pub password: &'a str,
    /// (connect, first byte, between bytes) in milliseconds.
    pub timeouts_ms: Option<(u32, u32, u32)>,
    pub max_inline_wait: Option<u32>,
}

/// Checks the configuration; every refusal says what to fix.
pub fn validate(raw: &RawConfig<'_>) -> Result<Settings, Error> {
    let code = raw.platform.trim();
    let (platform, base) = match raw.api_url.map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => {
            let base = ApiBase::parse(url).map_err(|e| Error::InvalidConfig(e.0))?;
            let name = if code.is_empty() { "CUSTOM".to_string() } else { code.to_ascii_uppercase() };
            (name, base)
        }
        None => {
            let p = platforms::find(code).ok_or_else(|| {
                Error::InvalidConfig(format!(
                    "unknown platform '{code}'; use one of {} (see Help > About in the Qualys UI), or give a custom API URL",
                    platforms::codes()
                ))
            })?;
            (p.code.to_string(), ApiBase::parse(p.api_url).expect("platform table URLs are valid"))
        }
    };
    if raw.username.trim().is_empty() {
        return Err(Error::InvalidConfig("the Qualys user name in the config is empty".into()));
    }
    if raw.password.is_empty() {
        return Err(Error::InvalidConfig("the Qualys password in the config is empty".into()));
    }
    // Qualys logins and passwords are short; one of kilobytes is a mistake (a file's content
    // pasted in), and its Basic header would exceed what any HTTP stack sends.
    for (what, value) in [("user name", raw.username), ("password", raw.password)] {
        if value.len() > MAX_CREDENTIAL_BYTES {
            return Err(Error::InvalidConfig(format!(
                "the Qualys {what} is {} bytes long, more than the {MAX_CREDENTIAL_BYTES} any Qualys account uses; check the credentials",
                value.len()
            )));
        }
    }
    if raw.username.contains(':') {
        return Err(Error::InvalidConfig("the Qualys user name must not contain ':'".into()));
    }
    let timeouts = match raw.timeouts_ms {
        None => Timeouts::default(),
        Some((c, f, b)) => {
            if c == 0 || f == 0 || b == 0 {
                return Err(Error::InvalidConfig("timeouts must be greater than zero".into()));
            }
            let ms = |v: u32| Duration::from_millis(u64::from(v));
            Timeouts { connect: ms(c), first_byte: ms(f), between_bytes: ms(b) }
        }
    };
    Ok(Settings {
        platform,
        base,
        username: raw.username.trim().to_string(),
        password: raw.password.to_string(),
        timeouts,
        max_inline_wait: raw.max_inline_wait.unwrap_or(DEFAULT_MAX_INLINE_WAIT_SECS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(platform: &'a str, url: Option<&'a str>) -> RawConfig<'a> {
        RawConfig {
            platform,
            api_url: url,
            username: "u",
            password: "p",
            timeouts_ms: None,
            max_inline_wait: None,
        }
    }

    #[test]
    fn a_platform_code_picks_its_api_server() {
        let s = validate(&raw("eu3", None)).unwrap();
        assert_eq!(s.platform, "EU3");
        assert_eq!(s.base.url(), "https://qualysapi.qg3.apps.qualys.it");
    }

    #[test]
    fn an_unknown_platform_lists_the_valid_codes() {
        let Err(Error::InvalidConfig(m)) = validate(&raw("MARS1", None)) else { panic!() };
        assert!(m.contains("US1") && m.contains("KSA1"));
    }

    #[test]
    fn a_custom_url_overrides_the_platform_and_must_be_https() {
        let s = validate(&raw("US1", Some("http://127.0.0.1:9000"))).unwrap();
        assert_eq!(s.base.url(), "http://127.0.0.1:9000");
        assert!(validate(&raw("US1", Some("http://qualys.example.com"))).is_err());
    }

    #[test]
    fn empty_credentials_are_refused_without_echoing_them() {
        let mut r = raw("US1", None);
        r.password = "";
        assert!(matches!(validate(&r), Err(Error::InvalidConfig(_))));
    }
}
