//! Concrete advice for the identity provider errors daemon apps run into, keyed by AADSTS
//! number, so an error says how to fix the problem and not only what it is.

/// What a hint may mention about the failing client, and what no message may quote.
#[derive(Debug, Clone, Copy)]
pub struct HintContext<'a> {
    /// The authority host, e.g. `https://login.microsoftonline.com` (Entra only).
    pub authority_host: Option<&'a str>,
    /// The tenant of the authority (Entra only).
    pub tenant: Option<&'a str>,
    /// The client id.
    pub client_id: &'a str,
    /// The client secret, if the client has one: reply text that echoes it is withheld.
    pub secret: Option<&'a crate::secret::ClientSecret>,
}

/// The admin-consent URL for an app in a tenant: an administrator who opens it grants the
/// app's configured application permissions.
pub fn admin_consent_url(authority_host: &str, tenant: &str, client_id: &str) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("client_id", client_id);
    format!(
        "{}/{}/adminconsent?{}",
        authority_host.trim_end_matches('/'),
        form_urlencoded::byte_serialize(tenant.as_bytes()).collect::<String>(),
        query.finish()
    )
}

/// Advice for the first AADSTS number that has some.
pub fn hint_for(aadsts: &[i64], context: &HintContext<'_>) -> Option<String> {
    aadsts.iter().find_map(|code| hint_for_code(*code, context))
}

fn hint_for_code(code: i64, context: &HintContext<'_>) -> Option<String> {
    let tenant = context.tenant.unwrap_or("the tenant");
    let client_id = context.client_id;
    let hint = match code {
        70011 => "app-only tokens use the scope \"<resource>/.default\", e.g. \"https://graph.microsoft.com/.default\"; the permissions come from the app registration, not the scope".to_owned(),
        7000215 => "the client secret is wrong: use the secret's Value (shown once, when it was created), not its Secret ID".to_owned(),
        7000222 => "the client secret has expired: create a new one under Certificates & secrets in the app registration and update the configuration".to_owned(),
        700016 => format!("no application with client id {client_id} exists in {tenant}: check clientId and the tenant, and that the app is registered there or has been consented to by an administrator"),
        90002 => format!("tenant {tenant} does not exist in this cloud: check the tenant id or domain, and the authority host (public cloud, US Gov login.microsoftonline.us, China login.chinacloudapi.cn)"),
        700027 | 7000274 | 700023 => "the client assertion's signature or thumbprint does not match a certificate uploaded to the app registration: upload the certificate that belongs to this private key, or check the thumbprint".to_owned(),
        700024 => "the client assertion is outside its valid time window: check this machine's clock (NTP)".to_owned(),
        500011 => format!("the resource in the scope was not found in {tenant}: check the resource URI, and that its API is registered in or consented to by this tenant"),
        65001 | 650056 | 650057 => match (context.authority_host, context.tenant) {
            (Some(host), Some(tenant)) => format!(
                "an administrator must grant the app's application permissions: {}",
                admin_consent_url(host, tenant, client_id)
            ),
            _ => "an administrator must grant the app's application permissions".to_owned(),
        },
        _ => return None,
    };
    Some(hint)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: HintContext<'static> = HintContext {
        authority_host: Some("https://login.microsoftonline.com"),
        tenant: Some("contoso.onmicrosoft.com"),
        client_id: "11111111-2222-3333-4444-555555555555",
        secret: None,
    };

    #[test]
    fn consent_url_names_tenant_and_client() {
        assert_eq!(
            admin_consent_url(
                "https://login.microsoftonline.com/",
                "contoso.onmicrosoft.com",
                "abc"
            ),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/adminconsent?client_id=abc"
        );
    }

    #[test]
    fn every_documented_code_has_advice() {
        for (code, needle) in [
            (70011, "/.default"),
            (7000215, "not its Secret ID"),
            (7000222, "expired"),
            (700016, "11111111-2222-3333-4444-555555555555"),
            (90002, "contoso.onmicrosoft.com"),
            (700027, "certificate"),
            (7000274, "certificate"),
            (700024, "clock"),
            (500011, "resource"),
            (65001, "/contoso.onmicrosoft.com/adminconsent?client_id=11111111-2222-3333-4444-555555555555"),
        ] {
            let hint = hint_for(&[code], &CONTEXT).unwrap_or_default();
            assert!(hint.contains(needle), "{code}: {hint}");
        }
        assert_eq!(hint_for(&[1, 2], &CONTEXT), None);
        assert!(hint_for(&[1, 700024], &CONTEXT).is_some());
    }
}
