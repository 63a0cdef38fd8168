//! Virtual time: milliseconds since the start of a run, and human durations.
//!
//! Strategies never read the system clock. The engine hands them `now` as a
//! [`Millis`] offset, and [`unix_seconds`] maps it onto a fixed calendar date
//! so that token claims (`iat`, `exp`) are the same on every machine.

use std::fmt;

/// Milliseconds of virtual time since the run started.
pub type Millis = u64;

/// Unix time in milliseconds of virtual time zero: 2027-01-01T00:00:00Z.
pub const EPOCH_UNIX_MS: u64 = 1_798_761_600_000;

pub const SECOND: Millis = 1_000;
pub const MINUTE: Millis = 60 * SECOND;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

/// Converts virtual time to whole Unix seconds, rounding down as
/// `Date.now() / 1000 | 0` does in JavaScript.
pub fn unix_seconds(now: Millis) -> i64 {
    ((EPOCH_UNIX_MS + now) / 1_000) as i64
}

/// Converts whole Unix seconds back to virtual time, saturating at zero.
pub fn from_unix_seconds(seconds: i64) -> Millis {
    let ms = seconds.saturating_mul(1_000);
    (ms.max(0) as u64).saturating_sub(EPOCH_UNIX_MS)
}

/// Formats virtual time as an HTTP date, as `Date.prototype.toUTCString()`
/// and cookie `Expires` attributes do: `Fri, 01 Jan 2027 00:00:00 GMT`.
pub fn http_date(at: Millis) -> String {
    let system = std::time::UNIX_EPOCH + std::time::Duration::from_millis(EPOCH_UNIX_MS + at);
    httpdate::fmt_http_date(system)
}

/// Parses a human duration such as `90s`, `15m`, `30d`, `1h 30m` or `250ms`.
///
/// Returns the duration in milliseconds, or a message saying what was expected.
pub fn parse_duration(text: &str) -> Result<Millis, String> {
    let parsed = humantime::parse_duration(text.trim()).map_err(|err| {
        format!(
            "invalid duration \"{text}\" ({err}); expected a number with a unit \
             (ms, s, m, h, d), for example \"90s\", \"15m\" or \"30d\""
        )
    })?;
    u64::try_from(parsed.as_millis())
        .map_err(|_| format!("duration \"{text}\" is too long; use at most a few years"))
}

/// A duration in milliseconds that prints in the compact form it is parsed
/// from: `35d`, `1h 30m`, `16m`, `250ms`, `0s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Span(pub Millis);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        if rest == 0 {
            return f.write_str("0s");
        }
        let units = [
            (DAY, "d"),
            (HOUR, "h"),
            (MINUTE, "m"),
            (SECOND, "s"),
            (1, "ms"),
        ];
        let mut first = true;
        for (size, unit) in units {
            if rest >= size {
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
                first = false;
            }
        }
        Ok(())
    }
}

impl Span {
    /// The two largest non-zero units, truncated: `1h 51m` for 1h 51m 1.7s.
    /// Milliseconds show only below one second. Tables use it; reports
    /// keep the exact milliseconds.
    pub fn rounded(self) -> Span {
        let units = [DAY, HOUR, MINUTE, SECOND, 1];
        let Some(first) = units.iter().position(|u| self.0 >= *u) else {
            return self;
        };
        let finest = units[(first + 1).min(units.len() - 1)].max(SECOND.min(units[first]));
        Span(self.0 - self.0 % finest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_accepts_units() {
        assert_eq!(parse_duration("90s"), Ok(90 * SECOND));
        assert_eq!(parse_duration("15m"), Ok(15 * MINUTE));
        assert_eq!(parse_duration("30d"), Ok(30 * DAY));
        assert_eq!(parse_duration("1h 30m"), Ok(90 * MINUTE));
        assert_eq!(parse_duration("250ms"), Ok(250));
    }

    #[test]
    fn parse_rejects_missing_unit() {
        let err = parse_duration("90").unwrap_err();
        assert!(err.contains("\"90s\""), "{err}");
    }

    #[test]
    fn span_prints_compact() {
        assert_eq!(Span(35 * DAY).to_string(), "35d");
        assert_eq!(Span(90 * MINUTE).to_string(), "1h 30m");
        assert_eq!(Span(250).to_string(), "250ms");
        assert_eq!(Span(0).to_string(), "0s");
    }

    #[test]
    fn rounded_keeps_two_units() {
        assert_eq!(
            Span(HOUR + 51 * MINUTE + 1_694).rounded().to_string(),
            "1h 51m"
        );
        assert_eq!(
            Span(35 * DAY + HOUR + 9 * MINUTE).rounded().to_string(),
            "35d 1h"
        );
        assert_eq!(Span(90 * SECOND + 5).rounded().to_string(), "1m 30s");
        assert_eq!(Span(250).rounded().to_string(), "250ms");
        assert_eq!(Span(33 * SECOND + 118).rounded().to_string(), "33s");
    }

    #[test]
    fn http_date_matches_js() {
        assert_eq!(http_date(0), "Fri, 01 Jan 2027 00:00:00 GMT");
        assert_eq!(unix_seconds(1_999), 1_798_761_601);
        assert_eq!(from_unix_seconds(1_798_761_601), 1_000);
    }
}
