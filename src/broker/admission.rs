//! What an authenticated caller's request becomes: the token request to make, or the reply
//! that refuses it. The checks run in a fixed order: the caller's request budget first (so a
//! caller looping on a bad request is slowed down too), then the body, the scopes and the
//! caller's grants, and last the budget of forced refreshes (spent only on a request that
//! would be served).

use super::budgets::Budgets;
use super::callers::Caller;
use super::received_token_request::{BadBody, Wanted};
use super::reply::{describe, ErrorReply};
use crate::client::TokenRequest;
use crate::error::Error;
use crate::scope::ScopeSet;

/// The token request `caller` may make for `wanted` at `now_ms`, charging its budgets, or the
/// reply refusing it. `scopes` validates the requested scopes for the app's token endpoint
/// ([`crate::ConfidentialClient::scopes`]).
pub fn admit(
    caller: &Caller,
    budgets: &mut Budgets,
    wanted: Result<Wanted, BadBody>,
    scopes: impl FnOnce(&[String]) -> Result<ScopeSet, Error>,
    now_ms: u64,
) -> Result<TokenRequest, ErrorReply> {
    budgets
        .take_request(&caller.id, caller.rate_per_minute, now_ms)
        .map_err(|retry_after_s| {
            ErrorReply::slow_down(
                &format!(
                    "caller {} is over its budget of {} requests per minute",
                    caller.id, caller.rate_per_minute
                ),
                retry_after_s,
            )
        })?;
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
    if wanted.force_refresh {
        budgets
            .take_forced_refresh(&caller.id, caller.force_refresh_per_minute, now_ms)
            .map_err(|retry_after_s| {
                ErrorReply::slow_down(
                    &format!(
                        "caller {} is over its budget of {} forced refreshes per minute; requests without forceRefresh are still served",
                        caller.id, caller.force_refresh_per_minute
                    ),
                    retry_after_s,
                )
            })?;
    }
    Ok(TokenRequest {
        force_refresh: wanted.force_refresh,
        ..TokenRequest::new(scopes)
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
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
        })
    }

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
        let mut budgets = Budgets::default();
        let request = admit(
            jobs,
            &mut budgets,
            wanted("api://a/.default", true),
            entra,
            0,
        )
        .unwrap();
        assert!(request.force_refresh);
        assert_eq!(request.scopes.to_request_param(), "api://a/.default");
        let plain = admit(
            jobs,
            &mut budgets,
            wanted("api://a/.default", false),
            entra,
            0,
        );
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
            let (status, error, description) =
                refusal(admit(jobs, &mut Budgets::default(), wanted, entra, 0));
            assert_eq!((status, error.as_str(), description.as_str()), expected);
        }
        let (status, error, description) = refusal(admit(
            jobs,
            &mut Budgets::default(),
            wanted("User.Read", false),
            entra,
            0,
        ));
        assert_eq!((status, error.as_str()), (400, "invalid_scope"));
        assert_eq!(
            description,
            describe(&entra(&["User.Read".to_owned()]).unwrap_err())
        );
    }

    /// The request budget is charged first, whatever the body; forced refreshes are charged
    /// only for requests that would be served, and have their own budget.
    #[test]
    fn budgets_in_order() {
        let callers = callers();
        let jobs = callers.by_key(&[1; 32]).unwrap();
        let mut budgets = Budgets::default();
        let not_granted = admit(
            jobs,
            &mut budgets,
            wanted("api://b/.default", true),
            entra,
            0,
        );
        assert_eq!(refusal(not_granted).0, 403, "no forced refresh charged");
        assert!(admit(
            jobs,
            &mut budgets,
            wanted("api://a/.default", true),
            entra,
            0
        )
        .is_ok());
        let over = admit(
            jobs,
            &mut budgets,
            Err(BadBody::UnsupportedGrantType),
            entra,
            0,
        );
        let over = over.unwrap_err();
        assert_eq!(over.status, 429);
        assert_eq!(
            over.body,
            json!({"error": "slow_down", "error_description": "caller jobs is over its budget of 2 requests per minute"})
        );
        assert_eq!(over.retry_after_s, Some(30));

        let mut budgets = Budgets::default();
        assert!(admit(
            jobs,
            &mut budgets,
            wanted("api://a/.default", true),
            entra,
            0
        )
        .is_ok());
        let forced = admit(
            jobs,
            &mut budgets,
            wanted("api://a/.default", true),
            entra,
            0,
        );
        let forced = forced.unwrap_err();
        assert_eq!((forced.status, forced.retry_after_s), (429, Some(60)));
        assert_eq!(
            forced.body["error_description"],
            "caller jobs is over its budget of 1 forced refreshes per minute; requests without forceRefresh are still served"
        );
    }
}
