//! The audit trail: one record per `/token` request, written as one JSON log line and, when
//! an Analytics Engine dataset is bound, as one data point, so an operator can tell afterwards
//! which caller received a token for which scopes, and chart hit ratios, identity-provider
//! latency and refusals per caller.
//!
//! A record holds no key, token or secret by construction: caller ids and scopes are
//! configuration an operator wrote, the rest are numbers, tiers and ids.

use serde::Serialize;

use crate::client::TokenSource;

/// Which tier answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// The isolate's memory.
    Memory,
    /// Workers KV.
    Kv,
    /// The scope set's token coordinator.
    Coordinator,
    /// The identity provider, asked by this isolate.
    Idp,
}

impl Tier {
    /// The tier's name, as the reply's `cache` member and the log line say it.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Memory => "memory",
            Tier::Kv => "kv",
            Tier::Coordinator => "coordinator",
            Tier::Idp => "idp",
        }
    }
}

/// The tier of a token the core client answered with.
pub fn tier_of(source: TokenSource) -> Tier {
    match source {
        TokenSource::Memory => Tier::Memory,
        TokenSource::Store => Tier::Kv,
        TokenSource::Coordinator => Tier::Coordinator,
        TokenSource::IdentityProvider => Tier::Idp,
    }
}

/// One `/token` request, as audited.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// When the request arrived, in milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The authenticated caller's id; `None` before (or without) authentication.
    pub caller: Option<String>,
    /// The requested scopes, once validated for an authenticated caller.
    pub scopes: Option<Vec<String>>,
    /// The tier that answered with a token.
    pub tier: Option<Tier>,
    /// The reply's HTTP status.
    pub status: u16,
    /// How long the answer took.
    pub duration_ms: u64,
    /// The request's correlation id (also sent to the identity provider and echoed back).
    pub correlation_id: String,
    /// Cloudflare's `cf-ray`, to find the request in Cloudflare's own logs.
    pub cf_ray: Option<String>,
    /// The tenant an admitted request named, when other than the app's own (the log line's
    /// `tenant`, left out otherwise; the data point does not carry it).
    pub tenant: Option<String>,
}

/// An Analytics Engine data point (`writeDataPoint`'s argument).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataPoint {
    /// caller, scopes (space-separated), tier, status, correlation id, cf-ray ("" when none).
    pub blobs: Vec<String>,
    /// status, milliseconds.
    pub doubles: Vec<f64>,
    /// caller (or `(unauthenticated)`): the sampling key.
    pub indexes: Vec<String>,
}

/// Analytics Engine's limit on an index, in bytes.
const MAX_INDEX_BYTES: usize = 96;
/// A bound per caller-written blob (caller id, scopes), so the point stays well within
/// Analytics Engine's 16 KB for all blobs together.
const MAX_BLOB_BYTES: usize = 4096;

#[derive(Serialize)]
struct LogLine<'a> {
    event: &'static str,
    time: String,
    caller: Option<&'a str>,
    scopes: Option<&'a [String]>,
    tier: Option<&'static str>,
    status: u16,
    ms: u64,
    correlation_id: &'a str,
    cf_ray: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tenant: Option<&'a str>,
}

impl AuditRecord {
    /// The log line: one JSON object, members in a fixed order, `event` first so log
    /// searches can pick the lines out.
    pub fn to_log_line(&self) -> String {
        let line = LogLine {
            event: "cctoken.token",
            time: rfc3339_ms(self.time_ms),
            caller: self.caller.as_deref(),
            scopes: self.scopes.as_deref(),
            tier: self.tier.map(Tier::as_str),
            status: self.status,
            ms: self.duration_ms,
            correlation_id: &self.correlation_id,
            cf_ray: self.cf_ray.as_deref(),
            tenant: self.tenant.as_deref(),
        };
        // Strings and integers only: serialising cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// The Analytics Engine data point with the same fields.
    pub fn data_point(&self) -> DataPoint {
        let caller = self.caller.as_deref().unwrap_or("");
        let scopes = self
            .scopes
            .as_ref()
            .map(|s| s.join(" "))
            .unwrap_or_default();
        DataPoint {
            blobs: vec![
                truncated(caller, MAX_BLOB_BYTES).to_owned(),
                truncated(&scopes, MAX_BLOB_BYTES).to_owned(),
                self.tier.map_or("", Tier::as_str).to_owned(),
                self.status.to_string(),
                self.correlation_id.clone(),
                self.cf_ray.clone().unwrap_or_default(),
            ],
            doubles: vec![f64::from(self.status), self.duration_ms as f64],
            indexes: vec![truncated(
                self.caller.as_deref().unwrap_or("(unauthenticated)"),
                MAX_INDEX_BYTES,
            )
            .to_owned()],
        }
    }
}

/// `text`'s longest prefix of at most `max` bytes that ends on a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let end = (0..=max)
        .rev()
        .find(|&at| text.is_char_boundary(at))
        .unwrap_or(0);
    &text[..end]
}

/// `epoch_ms` as RFC 3339 in UTC with milliseconds, e.g. `2026-12-03T16:22:35.123Z`.
pub fn rfc3339_ms(epoch_ms: u64) -> String {
    let days = epoch_ms / 86_400_000;
    let ms_of_day = epoch_ms % 86_400_000;
    let (year, month, day) = civil_from_days(days);
    let (hours, minutes) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60);
    let (seconds, ms) = (ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{hours:02}:{minutes:02}:{seconds:02}.{ms:03}Z")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`,
/// for days since the epoch only: shifted to start on 0000-03-01 so a leap day ends each
/// year, and counted in 400-year eras of 146,097 days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The correlation id a caller sent in `client-request-id`, when it is a GUID (8-4-4-4-12
/// hex digits, any case; lower-cased). Anything else is not passed on to the identity
/// provider or the log, and the Worker makes a UUID v4 instead.
pub fn correlation_id_from_header(value: Option<&str>) -> Option<String> {
    let value = value?;
    let is_guid = value.len() == 36
        && value.bytes().enumerate().all(|(at, byte)| match at {
            8 | 13 | 18 | 23 => byte == b'-',
            _ => byte.is_ascii_hexdigit(),
        });
    is_guid.then(|| value.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            time_ms: 1_796_314_955_123,
            caller: Some("jobs".into()),
            scopes: Some(vec!["api://a/.default".into(), "offline".into()]),
            tier: Some(Tier::Kv),
            status: 200,
            duration_ms: 12,
            correlation_id: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            cf_ray: Some("8f1a2b3c4d5e6f70-AMS".into()),
            tenant: None,
        }
    }

    /// Another tenant's request names it last; the data point is the same either way.
    #[test]
    fn another_tenants_request_names_the_tenant_in_the_log_line() {
        let other = AuditRecord {
            tenant: Some("contoso.onmicrosoft.com".into()),
            ..record()
        };
        assert_eq!(
            other.to_log_line(),
            r#"{"event":"cctoken.token","time":"2026-12-03T16:22:35.123Z","caller":"jobs","scopes":["api://a/.default","offline"],"tier":"kv","status":200,"ms":12,"correlation_id":"0f8fad5b-d9cb-469f-a165-70867728950e","cf_ray":"8f1a2b3c4d5e6f70-AMS","tenant":"contoso.onmicrosoft.com"}"#
        );
        assert_eq!(other.data_point(), record().data_point());
    }

    #[test]
    fn times_are_rfc_3339_utc_with_milliseconds() {
        for (ms, text) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (1_796_314_955_123, "2026-12-03T16:22:35.123Z"),
            (951_782_400_000, "2000-02-29T00:00:00.000Z"),
            (946_684_799_999, "1999-12-31T23:59:59.999Z"),
            (1_709_251_199_999, "2024-02-29T23:59:59.999Z"),
            (1_709_251_200_000, "2024-03-01T00:00:00.000Z"),
            (4_107_542_400_000, "2100-03-01T00:00:00.000Z"),
            (4_107_542_399_999, "2100-02-28T23:59:59.999Z"),
            (13_574_606_400_001, "2400-02-29T12:00:00.001Z"),
            (2_147_483_648_000, "2038-01-19T03:14:08.000Z"),
        ] {
            assert_eq!(rfc3339_ms(ms), text, "{ms}");
        }
        // No overflow at the end of time (year 584,556,019).
        assert!(rfc3339_ms(u64::MAX).ends_with(".615Z"));
    }

    #[test]
    fn every_day_follows_the_one_before() {
        // Day by day over two 400-year eras: months and years roll over, leap days where due.
        let mut previous = civil_from_days(0);
        assert_eq!(previous, (1970, 1, 1));
        for days in 1..(2 * 146_097) {
            let (year, month, day) = civil_from_days(days);
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let last = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let (py, pm, pd) = previous;
            let expected = if pd < last[pm as usize - 1] {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            // `last` is for this day's year, which is the previous day's except on 1 January.
            assert_eq!((year, month, day), expected, "day {days}");
            previous = (year, month, day);
        }
    }

    #[test]
    fn the_log_line_has_its_members_in_order() {
        assert_eq!(
            record().to_log_line(),
            r#"{"event":"cctoken.token","time":"2026-12-03T16:22:35.123Z","caller":"jobs","scopes":["api://a/.default","offline"],"tier":"kv","status":200,"ms":12,"correlation_id":"0f8fad5b-d9cb-469f-a165-70867728950e","cf_ray":"8f1a2b3c4d5e6f70-AMS"}"#
        );
        let refused = AuditRecord {
            caller: None,
            scopes: None,
            tier: None,
            status: 401,
            cf_ray: None,
            ..record()
        };
        assert_eq!(
            serde_json::from_str::<Value>(&refused.to_log_line()).unwrap(),
            json!({"event": "cctoken.token", "time": "2026-12-03T16:22:35.123Z", "caller": null, "scopes": null, "tier": null, "status": 401, "ms": 12, "correlation_id": "0f8fad5b-d9cb-469f-a165-70867728950e", "cf_ray": null})
        );
    }

    #[test]
    fn the_data_point_carries_the_same_fields() {
        assert_eq!(
            record().data_point(),
            DataPoint {
                blobs: vec![
                    "jobs".into(),
                    "api://a/.default offline".into(),
                    "kv".into(),
                    "200".into(),
                    "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
                    "8f1a2b3c4d5e6f70-AMS".into(),
                ],
                doubles: vec![200.0, 12.0],
                indexes: vec!["jobs".into()],
            }
        );
        let refused = AuditRecord {
            caller: None,
            scopes: None,
            tier: None,
            status: 429,
            cf_ray: None,
            ..record()
        };
        let point = refused.data_point();
        assert_eq!(point.blobs[..4], ["", "", "", "429"]);
        assert_eq!(point.blobs[5], "");
        assert_eq!(point.indexes, ["(unauthenticated)"]);
    }

    #[test]
    fn the_index_is_cut_to_96_bytes_on_a_character_boundary() {
        let long = AuditRecord {
            caller: Some(format!("{}é{}", "a".repeat(95), "b".repeat(10))),
            scopes: Some(vec!["s".repeat(5_000)]),
            ..record()
        };
        let point = long.data_point();
        assert_eq!(point.indexes[0], "a".repeat(95), "é would end at byte 97");
        assert_eq!(point.blobs[0].len(), 107, "blobs keep up to 4 KiB");
        assert_eq!(point.blobs[1].len(), 4096);
        let exact = AuditRecord {
            caller: Some("c".repeat(96)),
            ..record()
        };
        assert_eq!(exact.data_point().indexes[0].len(), 96);
        assert_eq!(truncated("ééé", 3), "é");
        assert_eq!(truncated("ééé", 1), "");
    }

    #[test]
    fn tiers_by_name_and_source() {
        let names: Vec<_> = [Tier::Memory, Tier::Kv, Tier::Coordinator, Tier::Idp]
            .into_iter()
            .map(Tier::as_str)
            .collect();
        assert_eq!(names, ["memory", "kv", "coordinator", "idp"]);
        assert_eq!(tier_of(TokenSource::Memory), Tier::Memory);
        assert_eq!(tier_of(TokenSource::Store), Tier::Kv);
        assert_eq!(tier_of(TokenSource::IdentityProvider), Tier::Idp);
    }

    #[test]
    fn only_a_guid_is_taken_as_the_correlation_id() {
        assert_eq!(
            correlation_id_from_header(Some("0F8FAD5B-D9CB-469F-A165-70867728950E")),
            Some("0f8fad5b-d9cb-469f-a165-70867728950e".into())
        );
        for refused in [
            None,
            Some(""),
            Some("0f8fad5b-d9cb-469f-a165-70867728950"),
            Some("0f8fad5b-d9cb-469f-a165-70867728950e0"),
            Some("0f8fad5bd-9cb-469f-a165-70867728950e"),
            Some("0f8fad5b-d9cb-469f-a165-70867728950g"),
            Some(" 0f8fad5b-d9cb-469f-a165-70867728950"),
            Some("{0f8fad5b-d9cb-469f-a165-70867728950e}"),
            Some("0f8fad5b-d9cb-469f-a165-70867728950é"),
            Some("secret-key-secret-key-secret-key-se"),
        ] {
            assert_eq!(correlation_id_from_header(refused), None, "{refused:?}");
        }
    }
}
