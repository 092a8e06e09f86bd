//! Calendar arithmetic for the doctor's dates: certificate validity (ASN.1 times), JWT
//! `iat`/`exp` (seconds) and how they are printed (ISO 8601, UTC). The crate has no date
//! library and needs none for this: the proleptic Gregorian calendar in a few lines.

/// Days from 1970-01-01 to the given civil date (negative before it). Howard Hinnant's
/// `days_from_civil`, valid for every year an X.509 time can hold.
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The civil date of a day count from 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Milliseconds since the epoch as `2036-01-01T00:00:00Z`.
pub(crate) fn iso8601(ms: i64) -> String {
    let seconds = ms.div_euclid(1000);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// A duration for people: "3 s", "4 min", "5 h", "12 days" (rounded down).
pub(crate) fn human_duration(ms: u64) -> String {
    let seconds = ms / 1000;
    match seconds {
        // Seconds up to 10 minutes, so the 2-minute clock rule reads exactly.
        0..=599 => format!("{seconds} s"),
        600..=7199 => format!("{} min", seconds / 60),
        7200..=172_799 => format!("{} h", seconds / 3600),
        _ => format!("{} days", seconds / 86_400),
    }
}

/// An ASN.1 UTCTime (`YYMMDDHHMMSSZ`, tag 0x17) or GeneralizedTime (`YYYYMMDDHHMMSSZ`, tag
/// 0x18) in milliseconds since the epoch. Only the `Z` forms RFC 5280 allows are read.
pub(crate) fn asn1_time_ms(tag: u8, text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let digits = text.strip_suffix('Z')?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (year, rest) = match (tag, digits.len()) {
        (0x17, 12) => {
            let short: i64 = digits[..2].parse().ok()?;
            // RFC 5280 §4.1.2.5.1: YY >= 50 is 19YY, else 20YY.
            (
                if short >= 50 {
                    1900 + short
                } else {
                    2000 + short
                },
                &digits[2..],
            )
        }
        (0x18, 14) => (digits[..4].parse().ok()?, &digits[4..]),
        _ => return None,
    };
    let field = |range: std::ops::Range<usize>| rest.get(range)?.parse::<u32>().ok();
    let (month, day) = (field(0..2)?, field(2..4)?);
    let (hour, minute, second) = (field(4..6)?, field(6..8)?, field(8..10)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let seconds =
        days_from_civil(year, month, day) * 86_400 + i64::from(hour * 3600 + minute * 60 + second);
    Some(seconds * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for days in [-800_000, -1, 0, 59, 11_016, 20_819, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(iso8601(2_082_758_400_000), "2036-01-01T00:00:00Z");
        assert_eq!(iso8601(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn reads_asn1_times() {
        assert_eq!(
            asn1_time_ms(0x17, b"360101000000Z"),
            Some(2_082_758_400_000)
        );
        assert_eq!(
            asn1_time_ms(0x18, b"20360101000000Z"),
            Some(2_082_758_400_000)
        );
        assert_eq!(asn1_time_ms(0x17, b"500101000000Z"), Some(-631_152_000_000));
        for (tag, bad) in [
            (0x17, &b"360101000000"[..]),
            (0x17, b"3601010000Z"),
            (0x18, b"360101000000Z"),
            (0x17, b"361301000000Z"),
            (0x17, b"36010100000+Z"),
            (0x05, b"360101000000Z"),
            (0x17, b"\xff"),
        ] {
            assert_eq!(asn1_time_ms(tag, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(3_400), "3 s");
        assert_eq!(human_duration(300_000), "300 s");
        assert_eq!(human_duration(600_000), "10 min");
        assert_eq!(human_duration(3 * 3_600_000), "3 h");
        assert_eq!(human_duration(10 * 86_400_000), "10 days");
    }
}
