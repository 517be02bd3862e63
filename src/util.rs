//! Helpers every stage uses: time as RFC 3339 text and back, and the hash
//! map of the hot paths.
//!
//! A leaf: it imports nothing from the crate, so that any module may use it
//! without a dependency pointing back up the pipeline.

use std::collections::HashMap;

/// The maps touched once per record: foldhash (seeded per run) instead of
/// SipHash, which showed in the ingestion profile.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Unix seconds as RFC 3339 UTC (`2026-10-15T12:05:00Z`).
pub fn time(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Parses CloudTrail's `eventTime` (RFC 3339, usually `...Z`) to Unix seconds.
pub fn parse_time(s: &str) -> Option<i64> {
    fast_time(s.as_bytes()).or_else(|| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|d| d.timestamp())
    })
}

/// `YYYY-MM-DDTHH:MM:SSZ`, the form CloudTrail writes, without a general
/// RFC 3339 parser: this runs once per record.
fn fast_time(b: &[u8]) -> Option<i64> {
    if b.len() != 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[19] != b'Z'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
        })
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => return None,
    };
    if d < 1 || d > days_in_month || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (H. Hinnant's algorithm), proleptic Gregorian.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss.min(59))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fast_time_parser_agrees_with_chrono() {
        // Every day from 1999 to 2101 at a varying time of day, and edge cases.
        let mut t = 915_148_800i64; // 1999-01-01
        while t < 4_133_980_800 {
            let s = chrono::DateTime::from_timestamp(t, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string();
            assert_eq!(fast_time(s.as_bytes()), Some(t), "{s}");
            t += 86_400 + 3_607;
        }
        for bad in [
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-10T00:00:00Z",
            "2026-01-32T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00+01:00",
            "+026-01-01T00:00:00Z",
        ] {
            assert_eq!(fast_time(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(
            parse_time("2026-01-01T01:00:00+01:00"),
            parse_time("2026-01-01T00:00:00Z")
        );
        assert_eq!(parse_time("2024-02-29T12:00:00Z"), Some(1_709_208_000));
    }
}
