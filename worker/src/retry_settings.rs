//! The broker's retry budget towards the identity provider: optional vars `MAX_RETRIES`,
//! `ATTEMPT_TIMEOUT_MS` and `TOTAL_TIMEOUT_MS`, with the npm module's defaults and bounds.
//! Callers wait for the broker, so a deployment may want a tighter budget than a daemon.

use cctoken::retry::RetryPolicy;

/// A setting's name, largest value, whether 0 is allowed, and the rule as text (fixed, so it
/// can be shown to anyone: it says nothing about the value set).
struct Bound {
    name: &'static str,
    max: u64,
    zero_ok: bool,
    rule: &'static str,
}

const MAX_RETRIES: Bound = Bound {
    name: "MAX_RETRIES",
    max: 10,
    zero_ok: true,
    rule: "MAX_RETRIES must be a whole number from 0 to 10",
};
const ATTEMPT_TIMEOUT_MS: Bound = Bound {
    name: "ATTEMPT_TIMEOUT_MS",
    max: 600_000,
    zero_ok: false,
    rule: "ATTEMPT_TIMEOUT_MS must be a whole number from 1 to 600000",
};
const TOTAL_TIMEOUT_MS: Bound = Bound {
    name: "TOTAL_TIMEOUT_MS",
    max: 3_600_000,
    zero_ok: false,
    rule: "TOTAL_TIMEOUT_MS must be a whole number from 1 to 3600000",
};

/// A setting whose value is unusable: its name and what it must be (never the value).
pub type Invalid = (&'static str, &'static str);

/// The retry policy from the three settings as `lookup` finds them (text, or absent).
pub fn retry_policy(lookup: impl Fn(&str) -> Option<String>) -> Result<RetryPolicy, Invalid> {
    let read = |bound: &Bound, default: u64| -> Result<u64, Invalid> {
        match lookup(bound.name) {
            None => Ok(default),
            Some(text) => whole_number(&text, bound).ok_or((bound.name, bound.rule)),
        }
    };
    let defaults = RetryPolicy::default();
    Ok(RetryPolicy {
        max_retries: read(&MAX_RETRIES, u64::from(defaults.max_retries))? as u32,
        attempt_timeout_ms: read(&ATTEMPT_TIMEOUT_MS, defaults.attempt_timeout_ms)?,
        total_timeout_ms: read(&TOTAL_TIMEOUT_MS, defaults.total_timeout_ms)?,
        ..defaults
    })
}

fn whole_number(text: &str, bound: &Bound) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = text.parse().ok()?;
    (value <= bound.max && (bound.zero_ok || value > 0)).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(pairs: &[(&str, &str)]) -> Result<RetryPolicy, Invalid> {
        retry_policy(|name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn defaults_unless_set() {
        assert_eq!(policy(&[]), Ok(RetryPolicy::default()));
        let set = policy(&[
            ("MAX_RETRIES", "0"),
            ("ATTEMPT_TIMEOUT_MS", " 250 "),
            ("TOTAL_TIMEOUT_MS", "3000"),
        ])
        .unwrap();
        assert_eq!(set.max_retries, 0);
        assert_eq!(set.attempt_timeout_ms, 250);
        assert_eq!(set.total_timeout_ms, 3000);
        assert_eq!(set.base_delay_ms, RetryPolicy::default().base_delay_ms);
    }

    #[test]
    fn unusable_values_name_the_setting_not_the_value() {
        for (name, value, description) in [
            ("MAX_RETRIES", "11", "from 0 to 10"),
            ("MAX_RETRIES", "-1", "from 0 to 10"),
            ("ATTEMPT_TIMEOUT_MS", "0", "from 1 to 600000"),
            ("ATTEMPT_TIMEOUT_MS", "1.5", "from 1 to 600000"),
            ("TOTAL_TIMEOUT_MS", "3600001", "from 1 to 3600000"),
            ("TOTAL_TIMEOUT_MS", "soon", "from 1 to 3600000"),
            (
                "TOTAL_TIMEOUT_MS",
                "99999999999999999999999",
                "from 1 to 3600000",
            ),
        ] {
            let (setting, rule) = policy(&[(name, value)]).unwrap_err();
            assert_eq!(setting, name);
            assert_eq!(rule, format!("{name} must be a whole number {description}"));
        }
    }
}
