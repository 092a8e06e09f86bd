//! The key-material invariant over every parser that takes secret input: PEM keys, config
//! files, environment variables and credential options. Whatever the damage, no error's
//! message, `Display`, `Debug`, hint or field shows 16 or more consecutive characters of the
//! key's base64 body or of the secret value (`cctoken::secret::leaks`).

use cctoken::config_file::parse_config_file;
use cctoken::environment::settings_from_environment;
use cctoken::pem::{parse_certificates, parse_private_key};
use cctoken::secret::leaks;
use cctoken::{Credential, Error};
use proptest::prelude::*;

const KEYS: [&str; 4] = [
    include_str!("../fixtures/rsa-pkcs8.key.pem"),
    include_str!("../fixtures/rsa-pkcs1.key.pem"),
    include_str!("../fixtures/ec-pkcs8.key.pem"),
    include_str!("../fixtures/ec-sec1.key.pem"),
];
const CERTIFICATE: &str = include_str!("../fixtures/rsa.cert.pem");

fn shown(error: &Error) -> String {
    format!(
        "{error} | {error:?} | {} | {:?} | {:?}",
        error.message(),
        error.hint(),
        error.field()
    )
}

fn body_lines(pem: &str) -> Vec<&str> {
    pem.lines()
        .filter(|line| !line.starts_with("-----") && !line.trim().is_empty())
        .collect()
}

/// One way a PEM gets damaged: text cut out, text put in, or a dash of a marker lost.
#[derive(Debug, Clone)]
enum Damage {
    Cut { at: usize, len: usize },
    Insert { at: usize, text: String },
    DropDash { marker: usize },
    Join,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (0..2000usize, 1..80usize).prop_map(|(at, len)| Damage::Cut { at, len }),
        (0..2000usize, "[-A-Za-z0-9 \n]{1,12}").prop_map(|(at, text)| Damage::Insert { at, text }),
        (0..4usize).prop_map(|marker| Damage::DropDash { marker }),
        Just(Damage::Join),
    ]
}

fn apply(pem: &str, damage: &Damage) -> String {
    let clamp = |at: usize| {
        let mut at = at.min(pem.len());
        while !pem.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    match damage {
        Damage::Cut { at, len } => {
            let start = clamp(*at);
            let end = clamp(start + len);
            format!("{}{}", &pem[..start], &pem[end..])
        }
        Damage::Insert { at, text } => {
            let at = clamp(*at);
            format!("{}{text}{}", &pem[..at], &pem[at..])
        }
        Damage::DropDash { marker } => match pem.match_indices("-----").nth(*marker) {
            Some((at, _)) => format!("{}{}", &pem[..at], &pem[at + 1..]),
            None => pem.to_owned(),
        },
        Damage::Join => pem.replace('\n', ""),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn damaged_pems_never_show_key_material(
        key in 0..KEYS.len(),
        with_certificate in any::<bool>(),
        damages in proptest::collection::vec(damage(), 1..4),
    ) {
        let original = if with_certificate {
            format!("{CERTIFICATE}{}", KEYS[key])
        } else {
            KEYS[key].to_owned()
        };
        let damaged = damages.iter().fold(original, |pem, d| apply(&pem, d));
        let errors = [
            parse_private_key("privateKeyPem", &damaged).err(),
            parse_certificates("certificatePem", &damaged).err(),
        ];
        for error in errors.iter().flatten() {
            let shown = shown(error);
            for line in body_lines(KEYS[key]) {
                prop_assert!(!leaks(&shown, line), "key material in {}", shown);
            }
        }
    }

    #[test]
    fn config_files_never_show_their_secret(
        secret in "[A-Za-z0-9~._+/=-]{16,48}",
        shape in 0..6usize,
    ) {
        let file = match shape {
            0 => format!(r#"{{"AzureAd":{{"ClientId":"app","ClientSecret":"{secret}"}}}}"#),
            1 => format!(r#"{{"AzureAd":{{"TenantId":"t","ClientSecret":"{secret}"}}}}"#),
            2 => format!(r#"{{"AzureAd":{{"ClientId":"app","TenantId":"t","ClientCredentials":[{{"SourceType":"ClientSecret","ClientSecret":"{secret}"}}]}}, "#),
            3 => format!(r#"{{"client_id":"app","secret":"{secret}"}}"#),
            4 => format!(r#"{{"secret":"{secret}","authority":"https://login.microsoftonline.com/t"}}"#),
            _ => format!(r#"{{"AzureAd":{{"ClientSecret":{secret}}}}}"#),
        };
        if let Err(error) = parse_config_file(&file) {
            let shown = shown(&error);
            prop_assert!(!leaks(&shown, &secret), "{}", shown);
        }
    }

    #[test]
    fn environments_never_show_their_secrets(
        secret in "[A-Za-z0-9~._+/=-]{16,48}",
        password in proptest::option::of("[A-Za-z0-9~._+/=-]{16,48}"),
        unset in proptest::collection::vec(any::<bool>(), 4),
    ) {
        let mut variables = vec![
            ("AZURE_TENANT_ID", "t".to_owned()),
            ("AZURE_CLIENT_ID", "app".to_owned()),
            ("AZURE_CLIENT_SECRET", secret.clone()),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/k.pem".to_owned()),
        ];
        for (variable, unset) in variables.iter_mut().zip(unset) {
            if unset {
                variable.1.clear();
            }
        }
        if let Some(password) = &password {
            variables.push(("AZURE_CLIENT_CERTIFICATE_PASSWORD", password.clone()));
        }
        let result = settings_from_environment(|name| {
            variables.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone())
        });
        match result {
            Err(error) => {
                let shown = shown(&error);
                prop_assert!(!leaks(&shown, &secret), "{}", shown);
                if let Some(password) = &password {
                    prop_assert!(!leaks(&shown, password), "{}", shown);
                }
            }
            Ok(settings) => {
                let shown = format!("{settings:?}");
                prop_assert!(!leaks(&shown, &secret));
            }
        }
    }

    #[test]
    fn credential_options_never_show_their_secret(secret in "[ -~]{0,48}") {
        for result in [
            Credential::client_secret(secret.clone()),
            Credential::client_assertion(secret.clone()),
        ] {
            match result {
                Ok(credential) => {
                    let shown = format!("{credential:?}");
                    prop_assert!(secret.len() < 16 || !leaks(&shown, &secret));
                }
                Err(error) => prop_assert!(secret.is_empty(), "{}", error),
            }
        }
    }
}
