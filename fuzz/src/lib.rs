//! Invariants shared by the fuzz targets: what every error, endpoint and scope set built from
//! untrusted input must satisfy. A broken invariant panics, which libFuzzer reports as a crash.

use std::borrow::Cow;
use std::rc::Rc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use cctoken::assertion::{thumbprint_from_hex, JwsAlgorithm};
use cctoken::pem::PrivateKey;
use cctoken::ports::Signer;
use cctoken::secret::LEAK_WINDOW;
use cctoken::settings::{AppSettings, AuthoritySetting, CredentialSetting, ReadFile};
use cctoken::{Error, ErrorKind, ScopeRules, ScopeSet, TokenEndpoint};

/// The input as text. Lossy, so every input reaches the parser: invalid UTF-8 becomes
/// U+FFFD, which is itself worth feeding to parsers that slice strings.
pub fn text(data: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(data)
}

/// Every error says what went wrong: a non-blank code and message, and `Display` leads with
/// the code.
pub fn check_error(error: &Error) {
    assert!(!error.code().trim().is_empty(), "blank code: {error:?}");
    assert!(
        !error.message().trim().is_empty(),
        "blank message: {error:?}"
    );
    assert!(error.to_string().starts_with(error.code()));
}

/// Text shown about an error: everything a log, a JSON reply or a terminal can get of it.
pub fn shown(error: &Error) -> String {
    format!(
        "{error} {error:?} {} {:?} {:?}",
        error.message(),
        error.hint(),
        error.field()
    )
}

/// The key-material invariant over input that is secret as a whole (a PEM file): no error
/// shows [`LEAK_WINDOW`] consecutive characters of the input that could be key material
/// (base64 characters only, so fixed words of messages that the fuzzer also typed do not count).
pub fn check_no_key_material(error: &Error, secret_input: &str) {
    let shown = shown(error);
    let chars: Vec<char> = secret_input.chars().collect();
    for window in chars.windows(LEAK_WINDOW) {
        if window
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '='))
        {
            let run: String = window.iter().collect();
            assert!(
                !shown.contains(&run),
                "the error shows {run:?} of a secret input: {shown}"
            );
        }
    }
}

/// A settings record as the loaders produce it, carried on the road every entry takes: into
/// the core's client options, through their one validation into a configuration, then the
/// scopes under that endpoint's rules. No files are read while fuzzing: a file the settings
/// name is refused as unreadable.
pub fn check_settings(settings: &AppSettings) {
    assert!(!settings.client_id.trim().is_empty());
    match &settings.credential {
        CredentialSetting::Secret(secret) => {
            assert!(!secret.is_empty());
            // Debug output is what ends up in logs.
            assert_eq!(
                format!("{:?}", settings.credential),
                "Secret(ClientSecret(<redacted>))"
            );
        }
        CredentialSetting::CertificateFiles {
            key_path,
            thumbprint,
            ..
        } => {
            assert!(!key_path.trim().is_empty());
            // The loaders pass it on as the SHA-1 thumbprint option.
            if let Some(hex) = thumbprint {
                check_thumbprint(hex, 20);
            }
        }
        CredentialSetting::FederatedTokenFile(path) => assert!(!path.trim().is_empty()),
    }
    if let AuthoritySetting::Authority(authority) = &settings.authority {
        check_endpoint(TokenEndpoint::generic(authority));
    }
    let no_files: ReadFile = Rc::new(|field, _path| {
        Err(Error::invalid_config(
            field,
            format!("{field}: no files are read while fuzzing"),
        ))
    });
    let config = settings
        .clone()
        .into_client_options(no_files)
        .and_then(|options| options.into_config(&no_signer));
    let config = match config {
        Ok(config) => config,
        Err(error) => {
            check_config_refusal(&error);
            return;
        }
    };
    assert_eq!(config.client_id().as_str(), settings.client_id);
    let endpoint = check_endpoint(Ok(config.token_endpoint().clone())).expect("a usable endpoint");
    if !settings.scopes.is_empty() {
        check_scopes(&settings.scopes, endpoint.scope_rules());
    }
}

/// No signer: the certificate's files are never read while fuzzing, so none is asked for.
fn no_signer(_: PrivateKey, _: JwsAlgorithm) -> Result<Rc<dyn Signer>, Error> {
    Err(Error::invalid_config(
        "credential.certificate",
        "no signer while fuzzing",
    ))
}

/// A refused setting or endpoint: a configuration error naming its field (and no secret).
fn check_config_refusal(error: &Error) {
    check_error(error);
    assert!(
        matches!(
            error.kind(),
            ErrorKind::InvalidAuthority | ErrorKind::InvalidConfig
        ),
        "{error:?}"
    );
    assert!(error.field().is_some());
}

/// An accepted endpoint is an https URL (or http to loopback) without whitespace, query or
/// fragment; an Entra endpoint is `<host>/<tenant>/oauth2/v2.0/token` for a single tenant.
pub fn check_endpoint(result: Result<TokenEndpoint, Error>) -> Option<TokenEndpoint> {
    let endpoint = match result {
        Ok(endpoint) => endpoint,
        Err(error) => {
            check_config_refusal(&error);
            return None;
        }
    };
    let url = endpoint.url();
    assert_eq!(url, endpoint.base_url());
    assert!(
        url.starts_with("https://") || url.starts_with("http://"),
        "{url}"
    );
    assert!(
        !url.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#'),
        "{url:?}"
    );
    if let Some(tenant) = endpoint.tenant() {
        let host = endpoint
            .authority_host()
            .expect("Entra endpoints have a host");
        assert_eq!(url, format!("{host}/{tenant}/oauth2/v2.0/token"));
        assert!(!tenant.is_empty());
        assert!(tenant
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')));
        assert!(!["common", "organizations", "consumers"]
            .iter()
            .any(|alias| tenant.eq_ignore_ascii_case(alias)));
        assert_eq!(endpoint.scope_rules(), ScopeRules::Entra);
    }
    Some(endpoint)
}

/// Parses `scopes` under `rules` and checks the result: request order without duplicates,
/// an order-independent cache key, and (for Entra) exactly one `/.default` scope.
pub fn check_scopes(scopes: &[String], rules: ScopeRules) -> Option<ScopeSet> {
    let set = match ScopeSet::parse(scopes, rules) {
        Ok(set) => set,
        Err(error) => {
            check_error(&error);
            assert_eq!(error.kind(), ErrorKind::InvalidScope);
            assert_eq!(error.field(), Some("scopes"));
            return None;
        }
    };
    let in_order: Vec<&str> = set.iter().collect();
    assert!(!in_order.is_empty() && in_order.len() <= 64);
    assert_eq!(set.to_request_param(), in_order.join(" "));
    // Every accepted scope came from the input, first occurrence first.
    let mut position = 0;
    for scope in &in_order {
        assert!(!scope.is_empty());
        let found = scopes[position..]
            .iter()
            .position(|s| s == scope)
            .expect("a scope the caller did not pass");
        position += found + 1;
    }
    let key: Vec<&str> = set.cache_key().split(' ').collect();
    assert_eq!(key.len(), in_order.len());
    assert!(key.windows(2).all(|w| w[0] < w[1]), "unsorted key {key:?}");
    // The cache key ignores order, and normalising is idempotent.
    let reversed: Vec<&String> = scopes.iter().rev().collect();
    let reversed = ScopeSet::parse(reversed, rules).expect("the same scopes in reverse");
    assert_eq!(reversed.cache_key(), set.cache_key());
    let renormalised = ScopeSet::parse(&key, rules).expect("the normalised scopes");
    assert_eq!(renormalised.cache_key(), set.cache_key());
    if rules == ScopeRules::Entra {
        assert_eq!(in_order.len(), 1);
        assert!(in_order[0].ends_with("/.default") && in_order[0].len() > "/.default".len());
    }
    Some(set)
}

/// An accepted thumbprint is exactly the bytes its hex digits spell (`:` and spaces aside).
pub fn check_thumbprint(hex: &str, len: usize) {
    match thumbprint_from_hex("thumbprint", hex, len) {
        Ok(thumbprint) => {
            let bytes = URL_SAFE_NO_PAD.decode(&thumbprint).unwrap();
            assert_eq!(bytes.len(), len);
            let spelled: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let given: String = hex
                .chars()
                .filter(|c| !matches!(c, ':' | ' '))
                .collect::<String>()
                .to_ascii_lowercase();
            assert_eq!(spelled, given);
        }
        Err(error) => {
            check_error(&error);
            assert_eq!(error.kind(), ErrorKind::InvalidConfig);
            assert_eq!(error.field(), Some("thumbprint"));
        }
    }
}
