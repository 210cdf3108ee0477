//! A `LO,HI` range argument (`--cramp-s 20,30`).

/// A range of two numbers with `0 <= lo < hi`, given as `LO,HI`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pair(pub f64, pub f64);

impl std::str::FromStr for Pair {
    type Err = String;

    fn from_str(s: &str) -> Result<Pair, String> {
        let expected = "expected LO,HI with 0 <= LO < HI, e.g. 20,30";
        let (lo, hi) = s
            .split_once(',')
            .ok_or_else(|| format!("\"{s}\": {expected}"))?;
        let num = |t: &str| {
            t.trim()
                .parse::<f64>()
                .map_err(|_| format!("\"{s}\": {expected}"))
        };
        let (lo, hi) = (num(lo)?, num(hi)?);
        if lo.is_finite() && hi.is_finite() && lo >= 0.0 && lo < hi {
            Ok(Pair(lo, hi))
        } else {
            Err(format!("\"{s}\": {expected}"))
        }
    }
}

impl From<Pair> for (f64, f64) {
    fn from(p: Pair) -> (f64, f64) {
        (p.0, p.1)
    }
}

#[cfg(test)]
mod tests {
    use super::Pair;

    #[test]
    fn parses_lo_hi_and_refuses_the_rest() {
        assert_eq!("20,30".parse::<Pair>(), Ok(Pair(20.0, 30.0)));
        assert_eq!(" 0 , 1.5".parse::<Pair>(), Ok(Pair(0.0, 1.5)));
        for bad in ["20", "30,20", "-1,2", "a,b", "1,inf", "1,2,3"] {
            assert!(bad.parse::<Pair>().is_err(), "{bad}");
        }
    }
}
