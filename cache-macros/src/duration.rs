//! Duration strings: `"250ms"`, `"30s"`, `"5m"`, `"1h30m"`, `"1d"`.
//!
//! One or more `<digits><unit>` groups, no spaces, units `ms`, `s`, `m`, `h`, `d`. Checked
//! when the macro expands, so a typo is a compile error on the literal, not a panic at run
//! time. The result is whole nanoseconds in a `u64` (up to about 584 years), which is what
//! the generated `Duration::from_*` call takes.

use std::fmt;

/// Why a duration string was refused. `Display` is the compile error's text.
#[derive(Debug, PartialEq, Eq)]
pub enum DurationError {
    Empty,
    /// A character that is neither a digit nor a unit letter (a space, `_`, `.`, `-` ...).
    BadChar(char),
    /// Digits with no unit after them: `"30"`.
    MissingUnit(String),
    /// A unit with no digits before it: `"s"`.
    MissingNumber(String),
    UnknownUnit(String),
    Zero,
    TooLong,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const FORM: &str = "write one or more <number><unit> groups with units ms, s, m, h, d, as in \"250ms\", \"30s\", \"1h30m\"";
        match self {
            DurationError::Empty => write!(f, "empty duration: {FORM}"),
            DurationError::BadChar(c) => {
                write!(f, "unexpected {c:?} in duration: {FORM}")
            }
            DurationError::MissingUnit(n) => {
                write!(f, "`{n}` has no unit: write e.g. \"{n}s\" or \"{n}ms\"")
            }
            DurationError::MissingNumber(u) => {
                write!(f, "unit `{u}` has no number before it: {FORM}")
            }
            DurationError::UnknownUnit(u) => {
                write!(
                    f,
                    "unknown duration unit `{u}`: the units are ms, s, m, h, d"
                )
            }
            DurationError::Zero => {
                write!(
                    f,
                    "zero duration: give a positive one, or leave the option out"
                )
            }
            DurationError::TooLong => {
                write!(f, "duration too long: the most is about 584 years")
            }
        }
    }
}

/// Parses a duration string into nanoseconds.
pub fn parse(text: &str) -> Result<u64, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, after) = rest.split_at(digits_len);
        let unit_len = after
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        if digits.is_empty() && unit.is_empty() {
            // Neither a digit nor a letter: `after` starts with the offending character.
            let c = after.chars().next().unwrap_or(' ');
            return Err(DurationError::BadChar(c));
        }
        if digits.is_empty() {
            return Err(DurationError::MissingNumber(unit.to_owned()));
        }
        if unit.is_empty() {
            return match after.chars().next() {
                Some(c) => Err(DurationError::BadChar(c)),
                None => Err(DurationError::MissingUnit(digits.to_owned())),
            };
        }
        let nanos_per_unit: u64 = match unit {
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 60 * 60 * 1_000_000_000,
            "d" => 24 * 60 * 60 * 1_000_000_000,
            _ => return Err(DurationError::UnknownUnit(unit.to_owned())),
        };
        // Digits only, so the one way to fail is overflow.
        let n: u64 = digits.parse().map_err(|_| DurationError::TooLong)?;
        total = n
            .checked_mul(nanos_per_unit)
            .and_then(|group| total.checked_add(group))
            .ok_or(DurationError::TooLong)?;
        rest = after;
    }
    if total == 0 {
        return Err(DurationError::Zero);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::{DurationError, parse};

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn single_groups() {
        assert_eq!(parse("250ms"), Ok(250_000_000));
        assert_eq!(parse("30s"), Ok(30 * SEC));
        assert_eq!(parse("5m"), Ok(300 * SEC));
        assert_eq!(parse("2h"), Ok(7_200 * SEC));
        assert_eq!(parse("1d"), Ok(86_400 * SEC));
        assert_eq!(parse("007s"), Ok(7 * SEC));
    }

    #[test]
    fn several_groups_add_up() {
        assert_eq!(parse("1h30m"), Ok(5_400 * SEC));
        assert_eq!(parse("1m30s500ms"), Ok(90 * SEC + 500_000_000));
        assert_eq!(parse("1d1h1m1s1ms"), Ok(90_061 * SEC + 1_000_000));
        // A zero group is fine as long as the total is not zero.
        assert_eq!(parse("0h5m"), Ok(300 * SEC));
    }

    #[test]
    fn zero_is_refused() {
        assert_eq!(parse("0s"), Err(DurationError::Zero));
        assert_eq!(parse("0ms0s"), Err(DurationError::Zero));
    }

    #[test]
    fn malformed_strings_are_refused() {
        assert_eq!(parse(""), Err(DurationError::Empty));
        assert_eq!(parse("30"), Err(DurationError::MissingUnit("30".into())));
        assert_eq!(parse("s"), Err(DurationError::MissingNumber("s".into())));
        assert_eq!(parse("1hm"), Err(DurationError::UnknownUnit("hm".into())));
        assert_eq!(parse("5 m"), Err(DurationError::BadChar(' ')));
        assert_eq!(parse(" 5m"), Err(DurationError::BadChar(' ')));
        assert_eq!(parse("5m "), Err(DurationError::BadChar(' ')));
        assert_eq!(parse("1_000ms"), Err(DurationError::BadChar('_')));
        assert_eq!(parse("1.5s"), Err(DurationError::BadChar('.')));
        assert_eq!(parse("-5s"), Err(DurationError::BadChar('-')));
        assert_eq!(parse("5x"), Err(DurationError::UnknownUnit("x".into())));
        assert_eq!(parse("5sec"), Err(DurationError::UnknownUnit("sec".into())));
        assert_eq!(parse("5M"), Err(DurationError::UnknownUnit("M".into())));
        assert_eq!(parse("5µs"), Err(DurationError::BadChar('µ')));
    }

    #[test]
    fn overflow_is_refused() {
        assert_eq!(parse("18446744073709551616ms"), Err(DurationError::TooLong));
        assert_eq!(
            parse("99999999999999999999999s"),
            Err(DurationError::TooLong)
        );
        assert_eq!(parse("213504d"), Err(DurationError::TooLong));
        assert_eq!(parse("213503d"), Ok(213_503 * 86_400 * SEC));
        assert_eq!(parse("213503d24h"), Err(DurationError::TooLong));
    }

    #[test]
    fn messages_name_the_problem() {
        assert!(
            DurationError::UnknownUnit("x".into())
                .to_string()
                .contains("`x`")
        );
        assert!(
            DurationError::MissingUnit("30".into())
                .to_string()
                .contains("\"30s\"")
        );
    }
}
