//! What an authenticated caller's request becomes: the token request to make, or the reply
//! that refuses it. This checks the body, the scopes and the caller's grants, in that order.
//!
//! The budgets ([`super::budget_lease`]) are the Worker's to charge around it, because they
//! may take a round trip to the caller's ledger: the request budget before [`admit`] (so a
//! caller looping on a bad request is slowed down too), and the forced-refresh budget after
//! it, only for an admitted request with `force_refresh` (spent only on a request that would
//! be served).

use super::callers::Caller;
use super::received_token_request::{BadBody, Wanted};
use super::reply::{describe, ErrorReply};
use crate::authority::{RequestAuthority, TokenEndpoint};
use crate::client::TokenRequest;
use crate::error::Error;
use crate::scope::ScopeSet;

/// The token request `caller` may make for `wanted`, or the reply refusing it. `scopes`
/// validates the requested scopes for the app's token endpoint
/// ([`crate::ConfidentialClient::scopes`]); `own_tenant` is the app's tenant (`None` for a
/// generic token endpoint, which has none). A request naming a tenant other than the app's
/// own is admitted only for a caller granted that tenant (`tenants` in `BROKER_CLIENTS`):
/// a caller without `tenants` gets the app's tenant only.
pub fn admit(
    caller: &Caller,
    wanted: Result<Wanted, BadBody>,
    scopes: impl FnOnce(&[String]) -> Result<ScopeSet, Error>,
    own_tenant: Option<&str>,
) -> Result<TokenRequest, ErrorReply> {
    let wanted = wanted.map_err(|bad| match bad {
        BadBody::Invalid(why) => ErrorReply::new(400, "invalid_request", why),
        BadBody::UnsupportedGrantType => ErrorReply::new(
            400,
            "unsupported_grant_type",
            "the broker serves grant_type=client_credentials",
        ),
    })?;
    let scopes = scopes(&wanted.scopes)
        .map_err(|error| ErrorReply::new(400, "invalid_scope", &describe(&error)))?;
    if !caller.may_request(&scopes) {
        return Err(ErrorReply::new(
            403,
            "invalid_scope",
            &format!(
                "caller {} is not granted {}",
                caller.id,
                scopes.to_request_param()
            ),
        ));
    }
    let authority = match wanted.tenant {
        None => None,
        Some(tenant) => other_tenant(caller, &tenant, own_tenant)?,
    };
    Ok(TokenRequest {
        force_refresh: wanted.force_refresh,
        authority,
        ..TokenRequest::new(scopes)
    })
}

/// The request's `tenant`: `None` for the app's own, the tenant when `caller` was granted
/// it, else the refusal: 400 for what is no tenant, 403 for one not granted.
fn other_tenant(
    caller: &Caller,
    tenant: &str,
    own_tenant: Option<&str>,
) -> Result<Option<RequestAuthority>, ErrorReply> {
    let Some(own) = own_tenant else {
        return Err(ErrorReply::new(
            400,
            "invalid_request",
            "tenant: this broker's app uses TOKEN_ENDPOINT, a token server without tenants; leave tenant out",
        ));
    };
    // One tenant, in the characters a tenant has: nothing else is named back.
    if TokenEndpoint::from_tenant(tenant, None).is_err() {
        return Err(ErrorReply::new(
            400,
            "invalid_request",
            "tenant must be a tenant id (a GUID) or a verified domain such as contoso.onmicrosoft.com (dot-separated parts of letters, digits and '-', at most 253 characters), not common or organizations",
        ));
    }
    if tenant.eq_ignore_ascii_case(own) {
        return Ok(None);
    }
    if !caller.may_use_tenant(tenant) {
        return Err(ErrorReply::new(
            403,
            "tenant_not_granted",
            &format!(
                "caller {} is not granted tenant {tenant}: add it to the caller's tenants in BROKER_CLIENTS",
                caller.id
            ),
        ));
    }
    Ok(Some(RequestAuthority::Tenant(tenant.to_ascii_lowercase())))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::broker::budget_lease::{over_budget_reply, Budget, CallerLedger, Leases, NoLease};
    use crate::broker::callers::Callers;
    use crate::scope::ScopeRules;

    fn callers() -> Callers {
        let json = format!(
            r#"{{"jobs": {{"keySha256": ["{}"], "scopes": ["api://a/.default"], "ratePerMinute": 2, "forceRefreshPerMinute": 1}}}}"#,
            "01".repeat(32)
        );
        Callers::parse(&json, ScopeRules::Entra).unwrap()
    }

    fn wanted(scope: &str, force_refresh: bool) -> Result<Wanted, BadBody> {
        Ok(Wanted {
            scopes: vec![scope.to_owned()],
            force_refresh,
            tenant: None,
        })
    }

    /// The app's own tenant.
    const OWN: Option<&str> = Some("00000000-0000-4000-8000-00000000ce11");

    fn entra(scopes: &[String]) -> Result<ScopeSet, Error> {
        ScopeSet::parse(scopes, ScopeRules::Entra)
    }

    fn refusal(reply: Result<TokenRequest, ErrorReply>) -> (u16, String, String) {
        let reply = reply.unwrap_err();
        let text = |name: &str| reply.body[name].as_str().unwrap().to_owned();
        (reply.status, text("error"), text("error_description"))
    }

    #[test]
    fn a_granted_request_becomes_the_token_request() {
        let callers = callers();
        let jobs = callers.by_key(&[1; 32]).unwrap();
        let request = admit(jobs, wanted("api://a/.default", true), entra, OWN).unwrap();
        assert!(request.force_refresh);
        assert_eq!(request.scopes.to_request_param(), "api://a/.default");
        let plain = admit(jobs, wanted("api://a/.default", false), entra, OWN);
        assert!(!plain.unwrap().force_refresh);
    }

    #[test]
    fn refusals_name_what_is_wrong() {
        let callers = callers();
        let jobs = callers.by_key(&[1; 32]).unwrap();
        for (wanted, expected) in [
            (
                Err(BadBody::Invalid("scope is missing")),
                (400, "invalid_request", "scope is missing"),
            ),
            (
                Err(BadBody::UnsupportedGrantType),
                (
                    400,
                    "unsupported_grant_type",
                    "the broker serves grant_type=client_credentials",
                ),
            ),
            (
                wanted("api://b/.default", false),
                (
                    403,
                    "invalid_scope",
                    "caller jobs is not granted api://b/.default",
                ),
            ),
        ] {
            let (status, error, description) = refusal(admit(jobs, wanted, entra, OWN));
            assert_eq!((status, error.as_str(), description.as_str()), expected);
        }
        let (status, error, description) =
            refusal(admit(jobs, wanted("User.Read", false), entra, OWN));
        assert_eq!((status, error.as_str()), (400, "invalid_scope"));
        assert_eq!(
            description,
            describe(&entra(&["User.Read".to_owned()]).unwrap_err())
        );
    }

    /// The Worker's path around [`admit`], with a local ledger (as without the binding): the
    /// request budget first, then admission, then the forced-refresh budget.
    fn worker(
        caller: &Caller,
        leases: &mut Leases,
        ledger: &mut CallerLedger,
        wanted: Result<Wanted, BadBody>,
    ) -> Result<TokenRequest, ErrorReply> {
        let mut take = |budget, per_minute| {
            let taken = match leases.take(&caller.id, budget, per_minute, 0) {
                Ok(()) => Ok(()),
                Err(NoLease::Refused(retry_after_s)) => Err(retry_after_s),
                Err(NoLease::Ask(request)) => {
                    let grant = ledger.grant(&request, 0);
                    leases.install(&caller.id, &request, &grant, 0)
                }
            };
            taken.map_err(|retry_after_s| {
                over_budget_reply(&caller.id, budget, per_minute, retry_after_s)
            })
        };
        take(Budget::Requests, caller.rate_per_minute)?;
        let request = admit(caller, wanted, entra, OWN)?;
        if request.force_refresh {
            take(Budget::ForcedRefreshes, caller.force_refresh_per_minute)?;
        }
        Ok(request)
    }

    /// The request budget is charged first, whatever the body; forced refreshes are charged
    /// only for requests that would be served, and have their own budget.
    #[test]
    fn budgets_in_order() {
        let callers = callers();
        let jobs = callers.by_key(&[1; 32]).unwrap();
        let (mut leases, mut ledger) = (Leases::default(), CallerLedger::default());
        let not_granted = worker(
            jobs,
            &mut leases,
            &mut ledger,
            wanted("api://b/.default", true),
        );
        assert_eq!(refusal(not_granted).0, 403, "no forced refresh charged");
        assert!(worker(
            jobs,
            &mut leases,
            &mut ledger,
            wanted("api://a/.default", true)
        )
        .is_ok());
        let over = worker(
            jobs,
            &mut leases,
            &mut ledger,
            Err(BadBody::UnsupportedGrantType),
        );
        let over = over.unwrap_err();
        assert_eq!(over.status, 429);
        assert_eq!(
            over.body,
            json!({"error": "slow_down", "error_description": "caller jobs is over its budget of 2 requests per minute"})
        );
        assert_eq!(over.retry_after_s, Some(30));

        let (mut leases, mut ledger) = (Leases::default(), CallerLedger::default());
        assert!(worker(
            jobs,
            &mut leases,
            &mut ledger,
            wanted("api://a/.default", true)
        )
        .is_ok());
        let forced = worker(
            jobs,
            &mut leases,
            &mut ledger,
            wanted("api://a/.default", true),
        );
        let forced = forced.unwrap_err();
        assert_eq!((forced.status, forced.retry_after_s), (429, Some(60)));
        assert_eq!(
            forced.body["error_description"],
            "caller jobs is over its budget of 1 forced refreshes per minute; requests without forceRefresh are still served"
        );
    }

    fn with_tenant(tenant: &str) -> Result<Wanted, BadBody> {
        Ok(Wanted {
            tenant: Some(tenant.to_owned()),
            ..wanted("api://a/.default", false).unwrap()
        })
    }

    /// A caller granted `tenants` may name them; without, only the app's own tenant (also
    /// when named); what is no tenant is a 400 that does not quote it.
    #[test]
    fn tenants_are_admitted_as_granted() {
        let json = format!(
            r#"{{"saas": {{"keySha256": ["{}"], "scopes": ["api://a/.default"], "tenants": ["contoso.onmicrosoft.com"]}},
                 "jobs": {{"keySha256": ["{}"], "scopes": ["api://a/.default"]}}}}"#,
            "01".repeat(32),
            "02".repeat(32)
        );
        let callers = Callers::parse(&json, ScopeRules::Entra).unwrap();
        let (saas, jobs) = (
            callers.by_key(&[1; 32]).unwrap(),
            callers.by_key(&[2; 32]).unwrap(),
        );

        let granted = admit(saas, with_tenant("Contoso.onmicrosoft.com"), entra, OWN).unwrap();
        assert_eq!(
            granted.authority,
            Some(RequestAuthority::Tenant("contoso.onmicrosoft.com".into()))
        );
        assert_eq!(granted.scopes.to_request_param(), "api://a/.default");
        for caller in [saas, jobs] {
            let own = admit(
                caller,
                with_tenant("00000000-0000-4000-8000-00000000CE11"),
                entra,
                OWN,
            );
            assert_eq!(own.unwrap().authority, None, "the app's own tenant, named");
            assert_eq!(
                admit(caller, wanted("api://a/.default", false), entra, OWN)
                    .unwrap()
                    .authority,
                None
            );
        }
        assert_eq!(
            refusal(admit(jobs, with_tenant("contoso.onmicrosoft.com"), entra, OWN)),
            (
                403,
                "tenant_not_granted".to_owned(),
                "caller jobs is not granted tenant contoso.onmicrosoft.com: add it to the caller's tenants in BROKER_CLIENTS".to_owned()
            )
        );
        assert_eq!(
            refusal(admit(
                saas,
                with_tenant("fabrikam.onmicrosoft.com"),
                entra,
                OWN
            ))
            .0,
            403
        );
        let huge = "a".repeat(5000);
        for bad in [
            "common",
            "a/b",
            "",
            "x y",
            ".",
            "..",
            "a..b",
            "-a.b",
            huge.as_str(),
        ] {
            let (status, error, description) = refusal(admit(saas, with_tenant(bad), entra, OWN));
            assert_eq!(
                (status, error.as_str()),
                (400, "invalid_request"),
                "{bad:?}"
            );
            assert!(
                description.starts_with("tenant must be a tenant id"),
                "{description}"
            );
            assert!(description.len() < 300, "bounded, never echoed: {bad:?}");
        }
        let generic = refusal(admit(
            saas,
            with_tenant("contoso.onmicrosoft.com"),
            entra,
            None,
        ));
        assert_eq!((generic.0, generic.1.as_str()), (400, "invalid_request"));
        assert!(generic.2.contains("TOKEN_ENDPOINT"), "{}", generic.2);
        // A scope refusal comes first: the tenant is not looked at for an unusable request.
        let both = Ok(Wanted {
            tenant: Some("fabrikam.onmicrosoft.com".into()),
            ..wanted("api://b/.default", false).unwrap()
        });
        assert_eq!(refusal(admit(saas, both, entra, OWN)).1, "invalid_scope");
    }
}
