//! Settings from config files other libraries' users already have: ASP.NET `appsettings.json`
//! (the `AzureAd` section of Microsoft.Identity.Web) and MSAL Python's JSON config.

use serde_json::{Map, Value};

use crate::error::Error;
use crate::secret::ClientSecret;
use crate::settings::{AppSettings, AuthoritySetting, CredentialSetting};

const FIELD: &str = "configFile";

/// Parses a config file's text. JSON with `//` and `/* */` comments and trailing commas is
/// accepted, as .NET's configuration reader accepts it.
pub fn parse_config_file(text: &str) -> Result<AppSettings, Error> {
    let json = strip_comments_and_trailing_commas(text);
    let root: Value = serde_json::from_str(&json).map_err(|e| {
        Error::invalid_config(
            FIELD,
            format!(
                "the config file is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let Some(root) = root.as_object() else {
        return Err(unknown_shape());
    };
    if let Some(section) = root.get("AzureAd") {
        let section = section
            .as_object()
            .ok_or_else(|| Error::invalid_config(FIELD, "AzureAd must be an object"))?;
        return parse_azure_ad(section);
    }
    if root.contains_key("client_id") {
        return parse_msal_python(root);
    }
    Err(unknown_shape())
}

fn unknown_shape() -> Error {
    Error::invalid_config(
        FIELD,
        "unrecognised config file: expected an ASP.NET appsettings.json with an \"AzureAd\" section (Instance, TenantId, ClientId, ClientSecret or ClientCertificates), or an MSAL Python config (authority, client_id, secret or private_key_file + thumbprint/public_certificate, scope)",
    )
}

fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn required(map: &Map<String, Value>, key: &'static str, section: &str) -> Result<String, Error> {
    string(map, key).ok_or_else(|| {
        Error::invalid_config(
            FIELD,
            format!("{section}{key} is missing or empty in the config file"),
        )
    })
}

fn parse_azure_ad(section: &Map<String, Value>) -> Result<AppSettings, Error> {
    let client_id = required(section, "ClientId", "AzureAd:")?;
    let tenant_id = required(section, "TenantId", "AzureAd:")?;
    let host = string(section, "Instance").map(|i| i.trim_end_matches('/').to_owned());
    let credential = if let Some(secret) = string(section, "ClientSecret") {
        CredentialSetting::Secret(ClientSecret::new(secret))
    } else {
        // Microsoft.Identity.Web reads ClientCredentials (newer) or ClientCertificates.
        let descriptions = ["ClientCredentials", "ClientCertificates"]
            .iter()
            .filter_map(|key| section.get(*key).and_then(Value::as_array))
            .flatten()
            .filter_map(Value::as_object);
        let mut found = None;
        for description in descriptions {
            match string(description, "SourceType").as_deref() {
                Some("ClientSecret") => {
                    if let Some(secret) = string(description, "ClientSecret") {
                        found = Some(CredentialSetting::Secret(ClientSecret::new(secret)));
                        break;
                    }
                }
                Some("Path") => {
                    let path = required(
                        description,
                        "CertificateDiskPath",
                        "AzureAd:ClientCertificates[]:",
                    )?;
                    let lower = path.to_ascii_lowercase();
                    if lower.ends_with(".pfx") || lower.ends_with(".p12") {
                        return Err(Error::invalid_config(
                            FIELD,
                            format!("{path} is a PFX/PKCS#12 file, which is not supported: convert it once with `openssl pkcs12 -in cert.pfx -nodes -out cert.pem` and point CertificateDiskPath at the PEM"),
                        ));
                    }
                    found = Some(CredentialSetting::CertificateFiles {
                        key_path: path,
                        certificate_path: None,
                        thumbprint: None,
                        send_x5c: section
                            .get("SendX5C")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    });
                    break;
                }
                _ => {}
            }
        }
        found.ok_or_else(|| {
            Error::invalid_config(
                FIELD,
                "AzureAd has no usable credential: set ClientSecret, or ClientCertificates with SourceType \"Path\" and CertificateDiskPath (a PEM file)",
            )
        })?
    };
    Ok(AppSettings {
        client_id,
        authority: AuthoritySetting::Tenant { tenant_id, host },
        credential,
        scopes: Vec::new(),
    })
}

fn parse_msal_python(root: &Map<String, Value>) -> Result<AppSettings, Error> {
    let client_id = required(root, "client_id", "")?;
    let authority = required(root, "authority", "")?;
    let credential = if let Some(secret) = string(root, "secret") {
        CredentialSetting::Secret(ClientSecret::new(secret))
    } else if let Some(key_path) = string(root, "private_key_file") {
        let certificate_path = string(root, "public_certificate");
        let thumbprint = string(root, "thumbprint");
        if certificate_path.is_none() && thumbprint.is_none() {
            return Err(Error::invalid_config(
                FIELD,
                "private_key_file needs thumbprint or public_certificate beside it",
            ));
        }
        CredentialSetting::CertificateFiles {
            key_path,
            send_x5c: certificate_path.is_some(),
            certificate_path,
            thumbprint,
        }
    } else {
        return Err(Error::invalid_config(
            FIELD,
            "the config has no credential: set secret, or private_key_file with thumbprint or public_certificate",
        ));
    };
    let scopes = match root.get("scope") {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(Value::String(scope)) => scope.split_whitespace().map(str::to_owned).collect(),
        _ => Vec::new(),
    };
    Ok(AppSettings {
        client_id,
        authority: AuthoritySetting::Authority(authority),
        credential,
        scopes,
    })
}

/// Removes `//` and `/* */` comments outside strings and commas before `}` or `]`.
fn strip_comments_and_trailing_commas(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            match c {
                '\\' => {
                    if let Some(escaped) = chars.next() {
                        out.push(escaped);
                    }
                }
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match (c, chars.peek()) {
            ('"', _) => {
                in_string = true;
                out.push(c);
            }
            ('/', Some('/')) => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            ('/', Some('*')) => {
                chars.next();
                let mut previous = ' ';
                for skipped in chars.by_ref() {
                    if previous == '*' && skipped == '/' {
                        break;
                    }
                    if skipped == '\n' {
                        out.push('\n');
                    }
                    previous = skipped;
                }
            }
            _ => out.push(c),
        }
    }
    remove_trailing_commas(&out)
}

fn remove_trailing_commas(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut escaped = false;
    let chars: Vec<char> = json.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        if c == '"' {
            in_string = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|n| !n.is_whitespace());
            if matches!(next, Some('}') | Some(']')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_appsettings_with_comments_and_trailing_commas() {
        let text = r#"{
  // Microsoft.Identity.Web settings
  "AzureAd": {
    "Instance": "https://login.microsoftonline.com/", /* public cloud */
    "TenantId": "contoso.onmicrosoft.com",
    "ClientId": "11111111-2222-3333-4444-555555555555",
    "ClientSecret": "s3cret // not a comment",
  },
  "Logging": { "LogLevel": { "Default": "Information" } },
}"#;
        let settings = parse_config_file(text).unwrap();
        assert_eq!(settings.client_id, "11111111-2222-3333-4444-555555555555");
        assert_eq!(
            settings.authority,
            AuthoritySetting::Tenant {
                tenant_id: "contoso.onmicrosoft.com".into(),
                host: Some("https://login.microsoftonline.com".into())
            }
        );
        assert_eq!(
            settings.credential,
            CredentialSetting::Secret(ClientSecret::new("s3cret // not a comment"))
        );
    }

    #[test]
    fn reads_appsettings_certificates_from_disk() {
        let text = r#"{"AzureAd": {"TenantId": "t", "ClientId": "c", "SendX5C": true,
            "ClientCertificates": [{"SourceType": "KeyVault", "KeyVaultUrl": "https://kv"},
                                   {"SourceType": "Path", "CertificateDiskPath": "/certs/app.pem"}]}}"#;
        assert_eq!(
            parse_config_file(text).unwrap().credential,
            CredentialSetting::CertificateFiles {
                key_path: "/certs/app.pem".into(),
                certificate_path: None,
                thumbprint: None,
                send_x5c: true
            }
        );
        let pfx = r#"{"AzureAd": {"TenantId": "t", "ClientId": "c",
            "ClientCredentials": [{"SourceType": "Path", "CertificateDiskPath": "/certs/app.pfx"}]}}"#;
        assert!(parse_config_file(pfx)
            .unwrap_err()
            .message()
            .contains("openssl pkcs12"));
        let none = r#"{"AzureAd": {"TenantId": "t", "ClientId": "c"}}"#;
        assert!(parse_config_file(none)
            .unwrap_err()
            .message()
            .contains("no usable credential"));
    }

    #[test]
    fn reads_msal_python_configs() {
        let text = r#"{
            "authority": "https://login.microsoftonline.com/organizations-tenant-id",
            "client_id": "app",
            "scope": ["https://graph.microsoft.com/.default"],
            "private_key_file": "server.pem",
            "thumbprint": "AB:CD",
            "endpoint": "https://graph.microsoft.com/v1.0/users"
        }"#;
        let settings = parse_config_file(text).unwrap();
        assert_eq!(
            settings.authority,
            AuthoritySetting::Authority(
                "https://login.microsoftonline.com/organizations-tenant-id".into()
            )
        );
        assert_eq!(
            settings.scopes,
            vec!["https://graph.microsoft.com/.default"]
        );
        assert_eq!(
            settings.credential,
            CredentialSetting::CertificateFiles {
                key_path: "server.pem".into(),
                certificate_path: None,
                thumbprint: Some("AB:CD".into()),
                send_x5c: false
            }
        );
        let secret = r#"{"authority": "https://a/t", "client_id": "app", "secret": "s", "scope": "a/.default"}"#;
        let settings = parse_config_file(secret).unwrap();
        assert_eq!(
            settings.credential,
            CredentialSetting::Secret(ClientSecret::new("s"))
        );
        assert_eq!(settings.scopes, vec!["a/.default"]);
    }

    #[test]
    fn unknown_shapes_say_what_was_expected() {
        for text in ["[]", "{}", r#"{"tenant": "x"}"#] {
            let error = parse_config_file(text).unwrap_err();
            assert!(error.message().contains("\"AzureAd\" section"), "{error}");
            assert!(error.message().contains("client_id"));
        }
        let error = parse_config_file("{ nope").unwrap_err();
        assert!(error.message().contains("not valid JSON (line 1"));
        assert!(parse_config_file(r#"{"authority": "https://a/t", "client_id": "app"}"#).is_err());
    }

    #[test]
    fn comment_stripping_respects_strings_and_escapes() {
        assert_eq!(
            strip_comments_and_trailing_commas(r#"{"a": "x\"//y", /*c*/ "b": [1,2,],}"#),
            r#"{"a": "x\"//y",  "b": [1,2]}"#
        );
    }

    mod properties {
        use super::super::strip_comments_and_trailing_commas;
        use proptest::collection::{btree_map, vec};
        use proptest::prelude::*;
        use serde_json::Value;

        /// Strings dense in what the stripper must leave alone inside strings.
        fn text() -> impl Strategy<Value = String> {
            prop_oneof![any::<String>(), "[/*,}\\]\\\\\" a]{0,12}"]
        }

        fn json() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::Bool),
                any::<i64>().prop_map(Value::from),
                text().prop_map(Value::String),
            ];
            leaf.prop_recursive(3, 24, 4, |inner| {
                prop_oneof![
                    vec(inner.clone(), 0..4).prop_map(Value::Array),
                    btree_map(text(), inner, 0..4)
                        .prop_map(|map| Value::Object(map.into_iter().collect())),
                ]
            })
        }

        /// Pretty JSON with a comment after every line and a trailing comma before every
        /// closing bracket, as hand-edited appsettings.json files have them.
        fn commented(pretty: &str) -> String {
            let lines: Vec<&str> = pretty.lines().collect();
            let mut out = String::new();
            for (i, line) in lines.iter().enumerate() {
                out.push_str(line);
                let next = lines.get(i + 1).map(|l| l.trim_start());
                let opens = line.ends_with('{') || line.ends_with('[');
                if !opens && next.is_some_and(|n| n.starts_with('}') || n.starts_with(']')) {
                    out.push(',');
                }
                out.push_str(if i % 2 == 0 {
                    " // note, }\n"
                } else {
                    " /* \"x\" */\n"
                });
            }
            out
        }

        proptest! {
            #[test]
            fn strict_json_passes_through_unchanged_in_meaning(value in json()) {
                for text in [value.to_string(), serde_json::to_string_pretty(&value).unwrap()] {
                    let stripped = strip_comments_and_trailing_commas(&text);
                    prop_assert_eq!(serde_json::from_str::<Value>(&stripped).unwrap(), value.clone());
                }
            }

            #[test]
            fn comments_and_trailing_commas_are_removed(value in json()) {
                let text = commented(&serde_json::to_string_pretty(&value).unwrap());
                let stripped = strip_comments_and_trailing_commas(&text);
                prop_assert_eq!(serde_json::from_str::<Value>(&stripped).unwrap(), value);
            }
        }
    }
}
