//! Times typed on the command line and shown back: `--until 2d`, `--until "2026-12-05
//! 18:00"`, `--until 18:00`, in the node's local time (`entraide_node::clock`).

use anyhow::{Result, bail};
use entraide_crdt::{LocalDate, TimeOfDay};

/// The instant `text` names, seen at `now` in a local time `utc_offset` seconds east of
/// UTC:
///
/// - a duration from now: a number and a unit, `d`, `h` or `m`, possibly several (`2d`,
///   `36h`, `90m`, `1d12h`);
/// - a local date and time, `YYYY-MM-DD HH:MM` (or with `T` between them);
/// - a local date alone, `YYYY-MM-DD`: the end of that day (midnight after it);
/// - a local time alone, `HH:MM`: the next time it is that time (today, or tomorrow if it
///   has passed).
pub(crate) fn parse_when(text: &str, now: i64, utc_offset: i32) -> Result<i64> {
    let text = text.trim();
    if let Some(secs) = duration(text) {
        return Ok(now.saturating_add(secs));
    }
    let today = LocalDate::of(now, utc_offset);
    if let Some((date, time)) = text.split_once([' ', 'T']) {
        let (Ok(date), Ok(time)) = (
            date.trim().parse::<LocalDate>(),
            time.trim().parse::<TimeOfDay>(),
        ) else {
            bail!(not_a_time(text));
        };
        return Ok(date.at(time, utc_offset));
    }
    if let Ok(date) = text.parse::<LocalDate>() {
        return Ok(date.add_days(1).at(midnight(), utc_offset));
    }
    if let Ok(time) = text.parse::<TimeOfDay>() {
        let at = today.at(time, utc_offset);
        return Ok(if at > now {
            at
        } else {
            today.add_days(1).at(time, utc_offset)
        });
    }
    bail!(not_a_time(text))
}

fn midnight() -> TimeOfDay {
    TimeOfDay::new(0, 0).expect("00:00 is a time")
}

fn not_a_time(text: &str) -> String {
    format!(
        "`{}` is not a time: give a duration such as 2d, 36h or 90m, a local date and time such as \"2026-12-05 18:00\", or a time such as 18:00",
        text.chars().take(40).collect::<String>()
    )
}

/// Seconds in `2d`, `36h`, `90m`, `1d12h`; `None` if it is not one.
fn duration(text: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'd' | 'j' => 86_400,
            'h' => 3600,
            'm' => 60,
            _ => return None,
        };
        let n: i64 = number.parse().ok()?;
        total = total.checked_add(n.checked_mul(unit)?)?;
        number.clear();
        any = true;
    }
    (any && number.is_empty()).then_some(total)
}

/// `at` as a local date and time, `Sat 2026-12-05 18:00`.
pub(crate) fn local(at: i64) -> String {
    let offset = entraide_node::clock::utc_offset(at);
    let date = LocalDate::of(at, offset);
    let minutes = (at + i64::from(offset)).rem_euclid(86_400) / 60;
    format!(
        "{} {date} {:02}:{:02}",
        title_case(date.weekday().as_str()),
        minutes / 60,
        minutes % 60
    )
}

/// `mon` → `Mon`.
pub(crate) fn title_case(code: &str) -> String {
    let mut chars = code.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-05 12:00 UTC, 13:00 in Paris.
    const NOW: i64 = 1_796_472_000;
    const PARIS: i32 = 3600;

    #[test]
    fn durations_count_from_now() {
        assert_eq!(parse_when("2d", NOW, PARIS).unwrap(), NOW + 2 * 86_400);
        assert_eq!(parse_when("36h", NOW, PARIS).unwrap(), NOW + 36 * 3600);
        assert_eq!(parse_when("90m", NOW, PARIS).unwrap(), NOW + 90 * 60);
        assert_eq!(parse_when("1d12h", NOW, PARIS).unwrap(), NOW + 36 * 3600);
        for bad in ["d", "2", "2x", "-2d", "2d3", "99999999999999999999d", ""] {
            assert!(parse_when(bad, NOW, PARIS).is_err(), "{bad}");
        }
    }

    #[test]
    fn local_dates_and_times_use_the_offset() {
        // 18:00 in Paris is 17:00 UTC.
        assert_eq!(
            parse_when("2026-12-05 18:00", NOW, PARIS).unwrap(),
            NOW + 5 * 3600
        );
        assert_eq!(
            parse_when("2026-12-05T18:00", NOW, PARIS).unwrap(),
            NOW + 5 * 3600
        );
        assert_eq!(parse_when("18:00", NOW, PARIS).unwrap(), NOW + 5 * 3600);
        // 09:00 has passed in Paris: tomorrow's.
        assert_eq!(
            parse_when("09:00", NOW, PARIS).unwrap(),
            NOW + (24 - 4) * 3600
        );
        // The end of the 5th in Paris: 23:00 UTC.
        assert_eq!(
            parse_when("2026-12-05", NOW, PARIS).unwrap(),
            NOW + 11 * 3600
        );
        assert!(parse_when("2026-12-05 25:00", NOW, PARIS).is_err());
        assert!(parse_when("tomorrow", NOW, PARIS).is_err());
    }
}
