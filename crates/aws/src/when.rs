//! Times as people read them, for the lock and the history records (kept
//! as seconds since the Unix epoch): local ISO-8601 with the offset, and how
//! long ago, e.g. `2026-12-02T09:14:03+01:00 (12 min ago)`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `at` (seconds since the Unix epoch) in local time, with how long before
/// `now` it was.
pub fn local_with_age(at: u64, now: u64) -> String {
    format!(
        "{} ({})",
        local(at),
        ago(Duration::from_secs(now.saturating_sub(at)))
    )
}

/// `at` (seconds since the Unix epoch) in local time.
pub fn local(at: u64) -> String {
    iso8601(at, local_offset(at))
}

/// `at` as ISO-8601 at `offset` seconds east of UTC.
pub fn iso8601(at: u64, offset: i64) -> String {
    let local = at as i64 + offset;
    let (days, seconds) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let sign = if offset < 0 { '-' } else { '+' };
    let offset_minutes = offset.unsigned_abs() / 60;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        seconds / 3600,
        seconds % 3600 / 60,
        seconds % 60,
        offset_minutes / 60,
        offset_minutes % 60
    )
}

/// How long ago, in the largest unit that fits: `just now`, `40 s ago`,
/// `12 min ago`, `3 h 5 min ago`, `4 days ago`.
pub fn ago(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..5 => "just now".into(),
        5..60 => format!("{s} s ago"),
        60..3600 => format!("{} min ago", s / 60),
        3600..172_800 => format!("{} h {} min ago", s / 3600, s % 3600 / 60),
        _ => format!("{} days ago", s / 86_400),
    }
}

/// The local time zone's offset from UTC at `at`, in seconds (0 when it
/// cannot be known).
fn local_offset(at: u64) -> i64 {
    #[cfg(unix)]
    {
        let time = at as libc::time_t;
        // SAFETY: `localtime_r` writes only into `tm`, which outlives the call;
        // a null result (an unrepresentable time) leaves it unread.
        unsafe {
            let mut tm: libc::tm = std::mem::zeroed();
            if !libc::localtime_r(&time, &mut tm).is_null() {
                return tm.tm_gmtoff as i64;
            }
        }
    }
    let _ = at;
    0
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_at_an_offset() {
        // 2026-12-02T08:14:03Z
        let at = 1_796_199_243;
        assert_eq!(iso8601(at, 3600), "2026-12-02T09:14:03+01:00");
        assert_eq!(iso8601(at, 0), "2026-12-02T08:14:03+00:00");
        assert_eq!(
            iso8601(at, -(9 * 3600 + 30 * 60)),
            "2026-12-01T22:44:03-09:30"
        );
        assert_eq!(iso8601(0, 0), "1970-01-01T00:00:00+00:00");
        // A leap day.
        assert_eq!(iso8601(951_782_400, 0), "2000-02-29T00:00:00+00:00");
    }

    #[test]
    fn ago_in_the_largest_unit_that_fits() {
        let ago = |s| ago(Duration::from_secs(s));
        assert_eq!(ago(2), "just now");
        assert_eq!(ago(40), "40 s ago");
        assert_eq!(ago(12 * 60 + 5), "12 min ago");
        assert_eq!(ago(3 * 3600 + 5 * 60), "3 h 5 min ago");
        assert_eq!(ago(4 * 86_400 + 7), "4 days ago");
    }

    #[test]
    fn local_with_age_says_both() {
        let line = local_with_age(1_796_199_243, 1_796_199_243 + 720);
        assert!(line.starts_with("2026-12-0"), "{line}");
        assert!(line.ends_with(" (12 min ago)"), "{line}");
    }
}
