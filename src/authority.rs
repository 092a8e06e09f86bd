//! Authorities and token endpoints: which URLs the client may send credentials to.
//!
//! Credentials only travel over https, except to loopback hosts (local development and
//! tests). URLs are checked with a small parser rather than a full URL crate: the accepted
//! shape is narrow (`scheme://host[:port]/path`), and the wasm size stays small.

use crate::error::Error;

/// Entra tenants that name no single tenant, so they cannot issue app-only tokens.
const MULTI_TENANT_ALIASES: [&str; 3] = ["common", "organizations", "consumers"];

/// A validated token endpoint URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenEndpoint {
    url: String,
}

impl TokenEndpoint {
    /// The token endpoint of an Entra ID authority such as
    /// `https://login.microsoftonline.com/contoso.onmicrosoft.com`:
    /// `{authority}/oauth2/v2.0/token`.
    pub fn from_authority(authority: &str) -> Result<Self, Error> {
        let parts = UrlParts::parse("authority", authority)?;
        let tenant = parts.path.trim_matches('/');
        if tenant.is_empty() || tenant.contains('/') {
            return Err(Error::invalid_authority(
                "authority",
                "authority must be the cloud instance followed by one tenant segment, e.g. \"https://login.microsoftonline.com/<tenant id or domain>\"",
            ));
        }
        if MULTI_TENANT_ALIASES
            .iter()
            .any(|alias| tenant.eq_ignore_ascii_case(alias))
        {
            return Err(Error::invalid_authority(
                "authority",
                format!(
                    "the tenant \"{tenant}\" cannot be used for client credentials: app-only tokens are issued by one tenant, so use its tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com"
                ),
            ));
        }
        Ok(TokenEndpoint {
            url: format!(
                "{}://{}/{tenant}/oauth2/v2.0/token",
                parts.scheme, parts.host
            ),
        })
    }

    /// The full URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

struct UrlParts<'a> {
    scheme: &'a str,
    host: &'a str,
    path: &'a str,
}

impl<'a> UrlParts<'a> {
    fn parse(field: &'static str, url: &'a str) -> Result<Self, Error> {
        let bad = |why: &str| {
            Error::invalid_authority(field, format!("{field} is not a usable URL: {why}"))
        };
        if url.is_empty() {
            return Err(Error::invalid_config(
                field,
                format!(
                    "{field} is required, e.g. \"https://login.microsoftonline.com/<tenant id>\""
                ),
            ));
        }
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains whitespace or control characters"));
        }
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("it must start with https://"))?;
        let scheme_lower = scheme.to_ascii_lowercase();
        let (host, path) = match rest.find('/') {
            Some(slash) => rest.split_at(slash),
            None => (rest, ""),
        };
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        if host.contains('@') {
            return Err(bad("user names and passwords in URLs are not allowed"));
        }
        if path.contains(['?', '#']) || host.contains(['?', '#']) {
            return Err(bad("query strings and fragments are not allowed here"));
        }
        let is_loopback = is_loopback_host(host);
        match scheme_lower.as_str() {
            "https" => Ok(UrlParts {
                scheme: "https",
                host,
                path,
            }),
            "http" if is_loopback => Ok(UrlParts {
                scheme: "http",
                host,
                path,
            }),
            "http" => Err(Error::invalid_authority(
                field,
                format!("{field} must use https: credentials are only sent over plain http to loopback hosts (127.0.0.1, localhost, [::1])"),
            )),
            _ => Err(bad("only https URLs are supported")),
        }
    }
}

fn is_loopback_host(host_and_port: &str) -> bool {
    let host = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        match bracketed.split_once(']') {
            Some((inside, _port)) => return inside == "::1",
            None => return false,
        }
    } else {
        host_and_port
            .split_once(':')
            .map_or(host_and_port, |(h, _)| h)
    };
    host.eq_ignore_ascii_case("localhost") || host == "127.0.0.1"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn endpoint(authority: &str) -> Result<String, Error> {
        TokenEndpoint::from_authority(authority).map(|e| e.url().to_owned())
    }

    #[test]
    fn appends_the_v2_token_path() {
        assert_eq!(
            endpoint("https://login.microsoftonline.com/contoso.onmicrosoft.com").unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            endpoint("https://login.microsoftonline.com/tid/").unwrap(),
            "https://login.microsoftonline.com/tid/oauth2/v2.0/token"
        );
        assert_eq!(
            endpoint("HTTPS://login.microsoftonline.us/tid").unwrap(),
            "https://login.microsoftonline.us/tid/oauth2/v2.0/token"
        );
    }

    #[test]
    fn allows_plain_http_only_on_loopback() {
        assert!(endpoint("http://127.0.0.1:8080/tid").is_ok());
        assert!(endpoint("http://localhost/tid").is_ok());
        assert!(endpoint("http://[::1]:9000/tid").is_ok());
        for remote in [
            "http://login.microsoftonline.com/tid",
            "http://127.0.0.1.evil.example/tid",
            "http://localhost.evil.example/tid",
            "http://[::2]/tid",
        ] {
            let error = endpoint(remote).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidAuthority, "{remote}");
        }
    }

    #[test]
    fn rejects_malformed_and_multi_tenant_authorities() {
        for (input, expected) in [
            ("login.microsoftonline.com/tid", "must start with https://"),
            ("ftp://host/tid", "only https"),
            ("https:///tid", "no host"),
            ("https://user:pw@host/tid", "user names"),
            ("https://host/tid?x=1", "query strings"),
            ("https://host", "one tenant segment"),
            ("https://host/a/b", "one tenant segment"),
            (
                "https://host/common",
                "cannot be used for client credentials",
            ),
            (
                "https://host/Organizations",
                "cannot be used for client credentials",
            ),
            ("https://host/t id", "whitespace"),
        ] {
            let error = endpoint(input).unwrap_err();
            assert!(error.message().contains(expected), "{input}: {error}");
        }
        let error = endpoint("").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidConfig);
        assert_eq!(error.field(), Some("authority"));
    }
}
