//! How a cell of an output table is written: numbers with fixed decimals
//! (so the bytes depend on nothing but the values), text guarded against
//! spreadsheet formulas, clock times in ISO 8601.

use chrono::{Duration, NaiveDateTime};

/// ISO 8601 clock time of `offset_s` after `start`, to the millisecond.
pub fn clock(start: Option<NaiveDateTime>, offset_s: f64) -> String {
    match start {
        Some(t) => (t + Duration::milliseconds((offset_s * 1000.0).round() as i64))
            .format("%Y-%m-%dT%H:%M:%S%.3f")
            .to_string(),
        None => String::new(),
    }
}

/// `v` with `decimals` decimals, or an empty cell when it is absent or not
/// finite.
pub fn opt(v: Option<f64>, decimals: usize) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| fixed(x, decimals))
        .unwrap_or_default()
}

/// A count, or an empty cell when it is absent.
pub fn count(v: Option<usize>) -> String {
    v.map(|n| n.to_string()).unwrap_or_default()
}

/// First characters that make a spreadsheet read a cell as a formula
/// (OWASP, "CSV Injection": `=`, `+`, `-`, `@`, tab, carriage return).
pub const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\t', '\r'];

/// A text cell as written to a table: prefixed with a single quote when it
/// starts with one of [`FORMULA_STARTS`] (OWASP's guidance against CSV
/// injection), or when it starts with a quote followed by one of them or by
/// another quote, so that [`unescape_text`] gives back every cell exactly.
/// Number cells are not passed through it (`-0.5` stays a number).
pub fn escape_text(cell: &str) -> String {
    let mut chars = cell.chars();
    let quoted = match chars.next() {
        Some(c) if FORMULA_STARTS.contains(&c) => true,
        Some('\'') => chars
            .next()
            .is_some_and(|c| c == '\'' || FORMULA_STARTS.contains(&c)),
        _ => false,
    };
    if quoted {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// A text cell of a table as it was before [`escape_text`].
pub fn unescape_text(cell: &str) -> String {
    match cell.strip_prefix('\'') {
        Some(rest)
            if rest
                .chars()
                .next()
                .is_some_and(|c| c == '\'' || FORMULA_STARTS.contains(&c)) =>
        {
            rest.to_string()
        }
        _ => cell.to_string(),
    }
}

/// `x` with `decimals` decimals, never `-0.0`: a negative zero (an empty
/// `f64` sum is one) or a small negative that rounds to zero is written
/// as `0.0`.
pub fn fixed(x: f64, decimals: usize) -> String {
    let s = format!("{x:.decimals$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        _ => s,
    }
}

/// Duration of `[start_s, end_s]` to the millisecond, s, as the difference
/// of the two times as the tables write them (`fixed(_, 3)`), so that an
/// onset plus this duration reads back exactly the table's end, not a
/// millisecond off from rounding the difference on its own.
pub fn duration_ms(start_s: f64, end_s: f64) -> String {
    let ms = |x: f64| fixed(x, 3).replace('.', "").parse::<i64>().ok();
    match (ms(start_s), ms(end_s)) {
        (Some(a), Some(b)) if b >= a => format!("{}.{:03}", (b - a) / 1000, (b - a) % 1000),
        _ => fixed((end_s - start_s).max(0.0), 3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn onset_plus_duration_is_the_tables_end() {
        // 0.1235 and 0.4245 round to .124 / .425 (or thereabouts in binary);
        // the difference on its own would round to 0.301.
        for (a, b) in [
            (12.1235, 12.4245),
            (0.0004, 0.3006),
            (5.0, 5.0),
            (1.9996, 2.5004),
        ] {
            let d = duration_ms(a, b);
            let sum: f64 = fixed(a, 3).parse::<f64>().unwrap() + d.parse::<f64>().unwrap();
            assert_eq!(format!("{sum:.3}"), fixed(b, 3), "{a} {b} {d}");
        }
        assert_eq!(duration_ms(1.0, 2.5), "1.500");
        assert_eq!(duration_ms(3.0, 2.0), "0.000");
    }

    #[test]
    fn formula_cells_are_quoted_and_read_back_exactly() {
        assert_eq!(escape_text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(escape_text("@sum"), "'@sum");
        assert_eq!(escape_text("n01"), "n01");
        assert_eq!(escape_text("'plain"), "'plain");
        for cell in [
            "=1+1", "+x", "-night", "@a", "\tx", "'=x", "''", "'a", "n01", "",
        ] {
            assert_eq!(unescape_text(&escape_text(cell)), cell, "{cell}");
        }
    }

    #[test]
    fn no_negative_zero_in_tables() {
        assert_eq!(fixed(-0.0, 1), "0.0");
        assert_eq!(fixed(-0.0001, 2), "0.00");
        assert_eq!(fixed(-0.5, 1), "-0.5");
        assert_eq!(fixed(std::iter::empty::<f64>().sum(), 1), "0.0");
    }

    #[test]
    fn clock_times_are_iso_8601() {
        let t = crate::io::sidecar::parse_datetime("2026-01-15T23:59:30").unwrap();
        assert_eq!(clock(Some(t), 45.25), "2026-01-16T00:00:15.250");
        assert_eq!(clock(None, 1.0), "");
    }
}
