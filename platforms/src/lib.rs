//! The Qualys platforms and the one rule for custom API URLs, shared by the plugin (to route
//! requests) and the host (to build each tenant's default allow-list), so the two never drift.

use std::fmt;

/// A Qualys cloud platform and its API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// The platform code users see in Qualys, e.g. "US1".
    pub code: &'static str,
    /// The API server base URL. The VM/PC API (`/api/...`), the v1 API (`/msp/...`) and the
    /// Asset Management QPS REST API (`/qps/rest/...`) are all served from it.
    pub api_url: &'static str,
    /// The Qualys Gateway URL (token-based APIs); not used for the calls this connector makes.
    pub gateway_url: &'static str,
}

/// Source: Qualys, "Identify your Qualys platform" (qualys.com/platform-identification).
pub const PLATFORMS: &[Platform] = &[
    p("US1", "https://qualysapi.qualys.com", "https://gateway.qg1.apps.qualys.com"),
    p("US2", "https://qualysapi.qg2.apps.qualys.com", "https://gateway.qg2.apps.qualys.com"),
    p("US3", "https://qualysapi.qg3.apps.qualys.com", "https://gateway.qg3.apps.qualys.com"),
    p("US4", "https://qualysapi.qg4.apps.qualys.com", "https://gateway.qg4.apps.qualys.com"),
    p("EU1", "https://qualysapi.qualys.eu", "https://gateway.qg1.apps.qualys.eu"),
    p("EU2", "https://qualysapi.qg2.apps.qualys.eu", "https://gateway.qg2.apps.qualys.eu"),
    p("EU3", "https://qualysapi.qg3.apps.qualys.it", "https://gateway.qg3.apps.qualys.it"),
    p("IN1", "https://qualysapi.qg1.apps.qualys.in", "https://gateway.qg1.apps.qualys.in"),
    p("CA1", "https://qualysapi.qg1.apps.qualys.ca", "https://gateway.qg1.apps.qualys.ca"),
    p("AE1", "https://qualysapi.qg1.apps.qualys.ae", "https://gateway.qg1.apps.qualys.ae"),
    p("UK1", "https://qualysapi.qg1.apps.qualys.co.uk", "https://gateway.qg1.apps.qualys.co.uk"),
    p("AU1", "https://qualysapi.qg1.apps.qualys.com.au", "https://gateway.qg1.apps.qualys.com.au"),
    p("KSA1", "https://qualysapi.qg1.apps.qualysksa.com", "https://gateway.qg1.apps.qualysksa.com"),
];

const fn p(code: &'static str, api_url: &'static str, gateway_url: &'static str) -> Platform {
    Platform { code, api_url, gateway_url }
}

/// Finds a platform by code, ignoring case and surrounding spaces.
pub fn find(code: &str) -> Option<&'static Platform> {
    let code = code.trim();
    PLATFORMS.iter().find(|p| p.code.eq_ignore_ascii_case(code))
}

/// The valid platform codes, comma-separated, for error messages.
pub fn codes() -> String {
    PLATFORMS.iter().map(|p| p.code).collect::<Vec<_>>().join(", ")
}

/// URL scheme of an API base.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// TLS; the only scheme allowed for anything but loopback.
    Https,
    /// Plain HTTP; allowed for loopback addresses only (tests, the simulator).
    Http,
}

/// A parsed, validated API base URL: scheme, host, optional port, optional base path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    /// http or https.
    pub scheme: Scheme,
    /// Host name or IP literal (IPv6 keeps its brackets), lower-cased.
    pub host: String,
    /// Explicit port, when the URL names one.
    pub port: Option<u16>,
    /// Path prefix without a trailing slash ("" for none).
    pub path: String,
}

/// Why an API URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlError(pub String);

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UrlError {}

impl ApiBase {
    /// Parses an API URL. It must be `https://host[:port][/path]`; `http://` is accepted only
    /// for loopback hosts (127.0.0.0/8, localhost, [::1]). User info, queries and fragments are
    /// refused so that nothing can smuggle credentials or a second host into the URL.
    pub fn parse(url: &str) -> Result<ApiBase, UrlError> {
        let url = url.trim();
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(url, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ci(url, "http://") {
            (Scheme::Http, rest)
        } else {
            return Err(UrlError(format!(
                "API URL '{url}' must start with https:// (for example https://qualysapi.qualys.com)"
            )));
        };
        if rest.contains(['?', '#']) {
            return Err(UrlError(format!(
                "API URL '{url}' must not contain a query or fragment; give the server's base URL"
            )));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(UrlError(
                "API URL must not contain a user name or password; credentials are passed separately".into(),
            ));
        }
        let (host, port) = split_host_port(authority)
            .ok_or_else(|| UrlError(format!("API URL '{url}' has no valid host name")))?;
        let base = ApiBase { scheme, host: host.to_ascii_lowercase(), port, path: path.into() };
        if base.scheme == Scheme::Http && !base.is_loopback() {
            return Err(UrlError(format!(
                "API URL '{url}' uses plain http; Qualys requires https (http is allowed only for loopback test servers)"
            )));
        }
        Ok(base)
    }

    /// Whether the host is a loopback address.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.host)
    }

    /// The authority as it goes on the wire: host, plus the port when one is given.
    pub fn authority(&self) -> String {
        match self.port {
            Some(port) => format!("{}:{port}", self.host),
            None => self.host.clone(),
        }
    }

    /// The port actually used: the explicit one, or the scheme's default.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.scheme {
            Scheme::Https => 443,
            Scheme::Http => 80,
        })
    }

    /// For an absolute URL (e.g. a next-page URL from Qualys), its path and query when it is on
    /// this same origin (scheme, host and port); an error naming the foreign origin otherwise.
    pub fn same_origin_path(&self, url: &str) -> Result<String, UrlError> {
        let url = url.trim();
        let (scheme, rest) = if let Some(rest) = strip_prefix_ci(url, "https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = strip_prefix_ci(url, "http://") {
            (Scheme::Http, rest)
        } else if url.starts_with('/') && !url.starts_with("//") {
            return Ok(url.to_string());
        } else {
            return Err(UrlError(format!("'{url}' is not an absolute http(s) URL")));
        };
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(split);
        let (host, port) = split_host_port(authority)
            .filter(|_| !authority.contains('@'))
            .ok_or_else(|| UrlError(format!("'{url}' has no valid host")))?;
        let other = ApiBase { scheme, host: host.to_ascii_lowercase(), port, path: String::new() };
        if other.scheme != self.scheme
            || other.host != self.host
            || other.effective_port() != self.effective_port()
        {
            return Err(UrlError(format!(
                "the URL points to {}, not to the configured API server {}",
                other.url(),
                self.url()
            )));
        }
        Ok(if path.starts_with('/') { path.to_string() } else { format!("/{path}") })
    }

    /// The base URL, normalised.
    pub fn url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!("{scheme}://{}{}", self.authority(), self.path)
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url())
    }
}

/// Whether a host name or IP literal is loopback.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host == "::1" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)).then(|| &s[prefix.len()..])
}

fn split_host_port(authority: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']')?;
        let host = &authority[..=end];
        match &authority[end + 1..] {
            "" => (host, None),
            rest => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let valid = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c));
    if !valid {
        return None;
    }
    let port = match port {
        Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => None,
    };
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_platform_code_resolves_case_insensitively_to_an_https_api_server() {
        let expected = [
            ("AE1", "qualysapi.qg1.apps.qualys.ae"),
            ("AU1", "qualysapi.qg1.apps.qualys.com.au"),
            ("CA1", "qualysapi.qg1.apps.qualys.ca"),
            ("EU1", "qualysapi.qualys.eu"),
            ("EU2", "qualysapi.qg2.apps.qualys.eu"),
            ("EU3", "qualysapi.qg3.apps.qualys.it"),
            ("IN1", "qualysapi.qg1.apps.qualys.in"),
            ("KSA1", "qualysapi.qg1.apps.qualysksa.com"),
            ("UK1", "qualysapi.qg1.apps.qualys.co.uk"),
            ("US1", "qualysapi.qualys.com"),
            ("US2", "qualysapi.qg2.apps.qualys.com"),
            ("US3", "qualysapi.qg3.apps.qualys.com"),
            ("US4", "qualysapi.qg4.apps.qualys.com"),
        ];
        assert_eq!(PLATFORMS.len(), expected.len());
        for (code, host) in expected {
            for spelled in [code.to_string(), code.to_lowercase(), format!(" {code} ")] {
                let platform = find(&spelled).unwrap_or_else(|| panic!("{spelled} not found"));
                let base = ApiBase::parse(platform.api_url).unwrap();
                assert_eq!(base.scheme, Scheme::Https, "{code}");
                assert_eq!(base.host, host, "{code}");
                assert!(ApiBase::parse(platform.gateway_url).is_ok(), "{code}");
            }
        }
    }

    #[test]
    fn an_unknown_code_is_not_found_and_the_valid_codes_are_listed() {
        assert!(find("US9").is_none());
        assert!(codes().contains("KSA1") && codes().contains("US1"));
    }

    #[test]
    fn custom_urls_must_be_https_unless_loopback() {
        assert!(ApiBase::parse("https://qualysapi.example.com/").is_ok());
        assert!(ApiBase::parse("http://127.0.0.1:8080").is_ok());
        assert!(ApiBase::parse("http://[::1]:8080").is_ok());
        assert!(ApiBase::parse("http://localhost:1").is_ok());
        assert!(ApiBase::parse("http://qualysapi.example.com").is_err());
        assert!(ApiBase::parse("ftp://x").is_err());
        assert!(ApiBase::parse("https://user:pw@host").is_err());
        assert!(ApiBase::parse("https://host/?a=b").is_err());
        assert!(ApiBase::parse("https://host:0").is_err());
        assert!(ApiBase::parse("https://").is_err());
    }

    #[test]
    fn next_page_urls_must_stay_on_the_same_origin() {
        let b = ApiBase::parse("https://qualysapi.qualys.com").unwrap();
        let ok = b.same_origin_path("https://QUALYSAPI.qualys.com:443/api/2.0/fo/asset/host/?id_min=5");
        assert_eq!(ok.unwrap(), "/api/2.0/fo/asset/host/?id_min=5");
        assert!(b.same_origin_path("https://evil.example.com/api/").is_err());
        assert!(b.same_origin_path("http://qualysapi.qualys.com/api/").is_err());
        assert!(b.same_origin_path("https://qualysapi.qualys.com:8443/api/").is_err());
        assert!(b.same_origin_path("https://x@qualysapi.qualys.com/").is_err());
        assert!(b.same_origin_path("//evil.example.com/").is_err());
    }

    #[test]
    fn a_parsed_url_keeps_port_and_path() {
        let b = ApiBase::parse("HTTPS://QualysAPI.Example.com:8443/base/").unwrap();
        assert_eq!(b.authority(), "qualysapi.example.com:8443");
        assert_eq!(b.path, "/base");
        assert_eq!(b.url(), "https://qualysapi.example.com:8443/base");
        assert_eq!(b.effective_port(), 8443);
    }
}
