//! The wall clock, read in one place, so that tests can move it.
//!
//! Everything that depends on the date (post expiry, alerts, care windows, escalation)
//! takes "now" as an input in `entraide_crdt`; the node reads it here, once per event.
//!
//! Two environment variables move it, for tests that run real nodes (never set them on a
//! real node):
//! - `ENTRAIDE_CLOCK_OFFSET_FILE`: a file holding a number of seconds (may be negative)
//!   added to the system clock, read again at every call, so a test jumps a running
//!   node a day ahead by writing `86400` into it;
//! - `ENTRAIDE_UTC_OFFSET`: the local time's offset from UTC in seconds (`3600` for
//!   Paris in winter), instead of the system's time zone.

use std::time::{SystemTime, UNIX_EPOCH};

/// The environment variable naming the clock offset file.
pub const OFFSET_FILE_VAR: &str = "ENTRAIDE_CLOCK_OFFSET_FILE";
/// The environment variable fixing the local time's offset from UTC, in seconds.
pub const UTC_OFFSET_VAR: &str = "ENTRAIDE_UTC_OFFSET";

/// Seconds since the Unix epoch, as this node sees them.
pub fn now() -> i64 {
    let system = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    system.saturating_add(offset())
}

fn offset() -> i64 {
    let Some(path) = std::env::var_os(OFFSET_FILE_VAR) else {
        return 0;
    };
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The local time's offset from UTC at `at`, in seconds (east positive): what turns a
/// care window's "09:00" into an instant. From [`UTC_OFFSET_VAR`] if set, else the
/// system's time zone (summer time included), else UTC.
pub fn utc_offset(at: i64) -> i32 {
    if let Some(fixed) = std::env::var(UTC_OFFSET_VAR)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
    {
        return fixed.clamp(-14 * 3600, 14 * 3600);
    }
    jiff::Timestamp::from_second(at)
        .ok()
        .map(|t| jiff::tz::TimeZone::system().to_offset(t).seconds())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_zone_gives_an_offset_within_a_day() {
        let o = utc_offset(1_764_000_000);
        assert!((-14 * 3600..=14 * 3600).contains(&o), "{o}");
    }
}
