//! The clock check: the local clock against the token endpoint's `Date` header. Entra
//! accepts a client assertion only within 5 minutes of its own clock (AADSTS700024), so a
//! skew is worth knowing before it reaches that.

use std::time::UNIX_EPOCH;

use super::finding::{printable, CheckId, Finding};
use super::time::human_duration;

/// Over this, a ⚠: the `Date` header has one-second resolution and the reply took its time,
/// so a few seconds mean nothing, but two minutes is a drifting clock.
pub const CLOCK_SKEW_WARNING_MS: u64 = 2 * 60_000;

/// The skew between `date_header` (the `Date` of a reply from the token endpoint's host, as
/// received) and `now_ms` (the local clock when the reply arrived). An absent or unreadable
/// header gives a ⚠ "could not tell".
pub fn check_clock(date_header: Option<&str>, now_ms: u64) -> Finding {
    let server_ms = date_header
        .and_then(|text| httpdate::parse_http_date(text.trim()).ok())
        .and_then(|time| time.duration_since(UNIX_EPOCH).ok())
        .and_then(|since| u64::try_from(since.as_millis()).ok());
    let Some(server_ms) = server_ms else {
        let what = match date_header {
            None => "the reply had no Date header".to_owned(),
            Some(text) => format!(
                "its Date header \"{}\" is not an HTTP date",
                printable(text, 40)
            ),
        };
        return Finding::warn(
            CheckId::Clock,
            format!("could not tell whether the clock is right: {what}"),
            "check that this machine's clock is synchronised (NTP): assertions fail with AADSTS700024 when it is 5 minutes off",
        );
    };
    let skew = now_ms.abs_diff(server_ms);
    let direction = if now_ms >= server_ms {
        "ahead of"
    } else {
        "behind"
    };
    let summary = format!(
        "the local clock is {} {direction} the server's",
        human_duration(skew)
    );
    if skew <= CLOCK_SKEW_WARNING_MS {
        return Finding::ok(CheckId::Clock, summary);
    }
    Finding::warn(
        CheckId::Clock,
        summary,
        "synchronise this machine's clock (NTP): Entra refuses client assertions with AADSTS700024 once the clock is 5 minutes off, and token lifetimes are computed from it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Thu, 03 Dec 2026 17:45:58 GMT.
    const SERVER_MS: u64 = 1_796_319_958_000;
    const DATE: &str = "Thu, 03 Dec 2026 17:45:58 GMT";

    #[test]
    fn within_two_minutes_is_fine() {
        assert_eq!(
            check_clock(Some(DATE), SERVER_MS + 3_400),
            Finding::ok(
                CheckId::Clock,
                "the local clock is 3 s ahead of the server's"
            )
        );
        assert_eq!(
            check_clock(Some(DATE), SERVER_MS - 120_000),
            Finding::ok(
                CheckId::Clock,
                "the local clock is 120 s behind the server's"
            )
        );
    }

    #[test]
    fn over_two_minutes_warns_with_aadsts700024() {
        let finding = check_clock(Some(DATE), SERVER_MS + 7 * 60_000);
        assert_eq!(
            finding,
            Finding::warn(
                CheckId::Clock,
                "the local clock is 420 s ahead of the server's",
                "synchronise this machine's clock (NTP): Entra refuses client assertions with AADSTS700024 once the clock is 5 minutes off, and token lifetimes are computed from it",
            )
        );
        let behind = check_clock(Some(DATE), SERVER_MS - 120_001);
        assert_eq!(
            behind.summary,
            "the local clock is 120 s behind the server's"
        );
        assert_eq!(behind.status, super::super::Status::Warn);
    }

    #[test]
    fn an_unreadable_header_cannot_tell() {
        let fix = "check that this machine's clock is synchronised (NTP): assertions fail with AADSTS700024 when it is 5 minutes off";
        assert_eq!(
            check_clock(None, SERVER_MS),
            Finding::warn(
                CheckId::Clock,
                "could not tell whether the clock is right: the reply had no Date header",
                fix
            )
        );
        assert_eq!(
            check_clock(Some("yesterday\u{1b}[2J"), SERVER_MS),
            Finding::warn(CheckId::Clock, "could not tell whether the clock is right: its Date header \"yesterday?[2J\" is not an HTTP date", fix)
        );
        // Before the epoch or absurd: still "could not tell", never a panic.
        assert_eq!(check_clock(Some(""), 0).status, super::super::Status::Warn);
    }
}
