//! The broker's configuration, read from Worker vars and secrets.

use cctoken::{ClientConfig, Credential, Secret, TokenEndpoint};
use worker::Env;

/// Everything the broker needs to serve tokens.
pub struct BrokerConfig {
    /// The app's client configuration (authority, client id, credential).
    pub client: ClientConfig,
    /// The key callers present as `Authorization: Bearer <key>`.
    pub broker_key: Secret,
}

/// A setting that is missing or unusable. It names the setting, never its value.
pub struct Misconfigured {
    /// What is wrong and which setting to fix.
    pub description: String,
}

impl BrokerConfig {
    /// Reads `AUTHORITY`, `CLIENT_ID` (vars) and `CLIENT_SECRET`, `BROKER_KEY` (secrets).
    pub fn from_env(env: &Env) -> Result<Self, Misconfigured> {
        let authority = required(env, "AUTHORITY")?;
        let client_id = required(env, "CLIENT_ID")?;
        let client_secret = required(env, "CLIENT_SECRET")?;
        let broker_key = required(env, "BROKER_KEY")?;
        let credential = Credential::client_secret(client_secret).map_err(|e| Misconfigured {
            description: format!("CLIENT_SECRET: {}", e.message()),
        })?;
        let endpoint = TokenEndpoint::from_authority(&authority).map_err(|e| Misconfigured {
            description: format!("AUTHORITY: {}", e.message()),
        })?;
        let client =
            ClientConfig::new(&client_id, endpoint, credential).map_err(|e| Misconfigured {
                description: format!("CLIENT_ID: {}", e.message()),
            })?;
        Ok(BrokerConfig {
            client,
            broker_key: Secret::new(broker_key),
        })
    }
}

fn required(env: &Env, name: &str) -> Result<String, Misconfigured> {
    // Vars and secrets are both plain string bindings; `secret` reads either.
    env.secret(name)
        .map(|value| value.to_string())
        .ok()
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| Misconfigured {
            description: format!(
                "the setting {name} is missing or empty: set it with `wrangler secret put {name}` or in wrangler.toml [vars]"
            ),
        })
}
