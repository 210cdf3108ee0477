//! The cohort analysis (issue 19): subject-nights with their cramp counts,
//! exposure hours and diary covariates, and for each covariate and level a
//! within-subject cramp rate ratio with an exact conditional confidence
//! interval.
//!
//! The method (README, "Cohort analysis"): within a subject, cramps are
//! Poisson with rate λ·θ on exposed hours and λ on unexposed hours. Given
//! the subject's total `n`, its exposed count is binomial with
//! `p = θ·h_e / (θ·h_e + h_u)`, free of the subject's own rate λ (the
//! conditional Poisson argument; Breslow & Day 1987, ch. 2 and 7). Pooled
//! over subjects, the exposed total `T` is a sum of independent binomials
//! whose distribution is computed exactly by convolution; the interval is
//! the set of θ that a two-sided exact test at 5 % does not reject (each
//! tail 2.5 %, the Clopper-Pearson construction on `T`), and the estimate
//! the conditional maximum-likelihood one. With one subject this is
//! exactly the Clopper-Pearson interval on its binomial, turned into a
//! rate ratio. Subjects without hours at both levels carry no
//! within-subject information and are left out.

use chrono::NaiveDate;

use crate::diary::{Covariate, CovariateKind, Value};

/// One subject-night of the tidy table.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortNight {
    pub subject: String,
    pub night: String,
    /// The night's date by the noon rule ([`crate::diary::night_date`]).
    pub date: Option<NaiveDate>,
    /// Hours at risk: the night's analysed hours, h.
    pub exposure_h: f64,
    pub n_cramps: usize,
    /// Summed cramp duration, s.
    pub cramp_total_s: f64,
    /// Time asleep, h; `None` without a hypnogram.
    pub sleep_h: Option<f64>,
    /// Minutes awake in the 30 min after the night's cramps; `None`
    /// without a hypnogram.
    pub cramp_wake_min: Option<f64>,
    /// Cramps followed by wake within 2 min; `None` without a hypnogram.
    pub n_cramp_awakenings: Option<usize>,
    /// One per covariate of the table.
    pub values: Vec<Value>,
    /// The covariate cells as written, one per covariate.
    pub cells: Vec<String>,
}

/// The subject-nights and their covariates.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CohortTable {
    pub covariates: Vec<Covariate>,
    pub nights: Vec<CohortNight>,
}

/// Two-sided confidence level of the intervals.
pub const CONFIDENCE: f64 = 0.95;

/// One row of `cohort_effects.csv`: a covariate's level against its
/// reference, over the subjects with hours at both.
#[derive(Debug, Clone, PartialEq)]
pub struct Effect {
    pub covariate: String,
    /// The level, as `yes`, a category's name, or a numeric range.
    pub level: String,
    /// The reference level it is compared with.
    pub reference: String,
    pub nights_exposed: usize,
    pub nights_unexposed: usize,
    pub hours_exposed: f64,
    pub hours_unexposed: f64,
    pub cramps_exposed: usize,
    pub cramps_unexposed: usize,
    /// Nights with at least one cramp, exposed and unexposed.
    pub nights_with_cramp_exposed: usize,
    pub nights_with_cramp_unexposed: usize,
    /// Subjects with hours at both levels (the ones that count).
    pub n_subjects: usize,
    /// Conditional maximum-likelihood rate ratio; `None` when no subject
    /// has a cramp at either level.
    pub rate_ratio: Option<f64>,
    pub rr_ci_low: Option<f64>,
    pub rr_ci_high: Option<f64>,
}

/// Which group a night falls in for one comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Group {
    Exposed,
    Reference,
    Neither,
}

/// A level of a covariate: its label and the test that puts a value in it.
struct Split {
    level: String,
    reference: String,
    group: Box<dyn Fn(&Value) -> Group>,
}

/// The value at quantile `q` of sorted `v` (the lower of the two middle
/// ranks; type 1 of Hyndman & Fan 1996).
fn quantile(v: &[f64], q: f64) -> f64 {
    let k = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[k - 1]
}

/// A number cell's text: up to 3 decimals, without trailing zeros.
fn num_text(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The levels of a numeric covariate: `>0` against `0` when it is never
/// negative and both occur (none against some: minutes of exercise, mg of
/// a drug); otherwise the middle and upper tertile against the lower one
/// (cut at the 1/3 and 2/3 quantiles of the nights' values), with the
/// tertiles that ties leave empty dropped.
fn number_splits(values: &[f64]) -> Vec<Split> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    if v.len() < 2 {
        return Vec::new();
    }
    if v[0] == 0.0 {
        return vec![Split {
            level: ">0".into(),
            reference: "0".into(),
            group: Box::new(|x| match x {
                Value::Number(x) if *x > 0.0 => Group::Exposed,
                Value::Number(_) => Group::Reference,
                _ => Group::Neither,
            }),
        }];
    }
    let mut all: Vec<f64> = values.to_vec();
    all.sort_by(f64::total_cmp);
    let (q1, q2) = (quantile(&all, 1.0 / 3.0), quantile(&all, 2.0 / 3.0));
    let reference = format!("<={}", num_text(q1));
    let mut out = Vec::new();
    if q2 > q1 {
        out.push(Split {
            level: format!("{}-{}", num_text(q1), num_text(q2)),
            reference: reference.clone(),
            group: Box::new(move |x| match x {
                Value::Number(x) if *x > q1 && *x <= q2 => Group::Exposed,
                Value::Number(x) if *x <= q1 => Group::Reference,
                _ => Group::Neither,
            }),
        });
    }
    let top = q2.max(q1);
    if all.last().is_some_and(|&m| m > top) {
        out.push(Split {
            level: format!(">{}", num_text(top)),
            reference,
            group: Box::new(move |x| match x {
                Value::Number(x) if *x > top => Group::Exposed,
                Value::Number(x) if *x <= q1 => Group::Reference,
                _ => Group::Neither,
            }),
        });
    }
    out
}

/// The levels of a category against its most common level (ties: the
/// first in text order).
fn category_splits(values: &[&str]) -> Vec<Split> {
    let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let Some(reference) = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(k, _)| k.to_string())
    else {
        return Vec::new();
    };
    counts
        .keys()
        .filter(|k| **k != reference)
        .map(|k| {
            let (level, r) = (k.to_string(), reference.clone());
            let (l2, r2) = (level.clone(), reference.clone());
            Split {
                level,
                reference: r,
                group: Box::new(move |x| match x {
                    Value::Category(c) if *c == l2 => Group::Exposed,
                    Value::Category(c) if *c == r2 => Group::Reference,
                    _ => Group::Neither,
                }),
            }
        })
        .collect()
}

/// The comparisons of covariate `k` over `nights`.
fn splits(c: &Covariate, k: usize, nights: &[CohortNight]) -> Vec<Split> {
    match c.kind {
        CovariateKind::YesNo => vec![Split {
            level: "yes".into(),
            reference: "no".into(),
            group: Box::new(|x| match x {
                Value::YesNo(true) => Group::Exposed,
                Value::YesNo(false) => Group::Reference,
                _ => Group::Neither,
            }),
        }],
        CovariateKind::Number => {
            let v: Vec<f64> = nights
                .iter()
                .filter_map(|n| match n.values.get(k) {
                    Some(Value::Number(x)) => Some(*x),
                    _ => None,
                })
                .collect();
            number_splits(&v)
        }
        CovariateKind::Category => {
            let v: Vec<&str> = nights
                .iter()
                .filter_map(|n| match n.values.get(k) {
                    Some(Value::Category(c)) => Some(c.as_str()),
                    _ => None,
                })
                .collect();
            category_splits(&v)
        }
    }
}

/// A subject's cramps and hours at the two levels of one comparison.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stratum {
    pub cramps_exposed: usize,
    pub cramps_unexposed: usize,
    pub hours_exposed: f64,
    pub hours_unexposed: f64,
}

/// Every comparison of every covariate, in covariate then level order.
pub fn effects(table: &CohortTable) -> Vec<Effect> {
    let mut out = Vec::new();
    for (k, c) in table.covariates.iter().enumerate() {
        for s in splits(c, k, &table.nights) {
            out.push(effect(&c.name, &s, k, &table.nights));
        }
    }
    out
}

fn effect(name: &str, s: &Split, k: usize, nights: &[CohortNight]) -> Effect {
    let mut by_subject: std::collections::BTreeMap<&str, Vec<(Group, &CohortNight)>> =
        Default::default();
    for n in nights {
        let g = n.values.get(k).map_or(Group::Neither, |v| (s.group)(v));
        if g != Group::Neither && n.exposure_h > 0.0 {
            by_subject.entry(&n.subject).or_default().push((g, n));
        }
    }
    let mut e = Effect {
        covariate: name.to_string(),
        level: s.level.clone(),
        reference: s.reference.clone(),
        nights_exposed: 0,
        nights_unexposed: 0,
        hours_exposed: 0.0,
        hours_unexposed: 0.0,
        cramps_exposed: 0,
        cramps_unexposed: 0,
        nights_with_cramp_exposed: 0,
        nights_with_cramp_unexposed: 0,
        n_subjects: 0,
        rate_ratio: None,
        rr_ci_low: None,
        rr_ci_high: None,
    };
    let mut strata = Vec::new();
    for ns in by_subject.values() {
        let both =
            ns.iter().any(|x| x.0 == Group::Exposed) && ns.iter().any(|x| x.0 == Group::Reference);
        if !both {
            continue;
        }
        let mut st = Stratum::default();
        for (g, n) in ns {
            let cramp = (n.n_cramps > 0) as usize;
            if *g == Group::Exposed {
                e.nights_exposed += 1;
                e.nights_with_cramp_exposed += cramp;
                st.cramps_exposed += n.n_cramps;
                st.hours_exposed += n.exposure_h;
            } else {
                e.nights_unexposed += 1;
                e.nights_with_cramp_unexposed += cramp;
                st.cramps_unexposed += n.n_cramps;
                st.hours_unexposed += n.exposure_h;
            }
        }
        e.cramps_exposed += st.cramps_exposed;
        e.cramps_unexposed += st.cramps_unexposed;
        e.hours_exposed += st.hours_exposed;
        e.hours_unexposed += st.hours_unexposed;
        strata.push(st);
    }
    e.n_subjects = strata.len();
    if let Some(r) = rate_ratio(&strata, CONFIDENCE) {
        e.rate_ratio = Some(r.0);
        e.rr_ci_low = Some(r.1);
        e.rr_ci_high = Some(r.2);
    }
    e
}

/// Exposed shares `p_s(θ) = θ·h_e / (θ·h_e + h_u)` of strata with cramps.
fn shares(strata: &[Stratum], theta: f64) -> Vec<(usize, f64)> {
    strata
        .iter()
        .map(|s| {
            let n = s.cramps_exposed + s.cramps_unexposed;
            let a = theta * s.hours_exposed;
            (n, a / (a + s.hours_unexposed))
        })
        .collect()
}

/// The distribution of the exposed total `T` (a sum of independent
/// binomials), `P(T = t)` for `t = 0..=N`.
fn total_pmf(strata: &[Stratum], theta: f64) -> Vec<f64> {
    let mut pmf = vec![1.0];
    for (n, p) in shares(strata, theta) {
        if n == 0 {
            continue;
        }
        let b = binomial_pmf(n, p);
        let mut next = vec![0.0; pmf.len() + n];
        for (i, a) in pmf.iter().enumerate() {
            if *a == 0.0 {
                continue;
            }
            for (j, q) in b.iter().enumerate() {
                next[i + j] += a * q;
            }
        }
        pmf = next;
    }
    pmf
}

/// `P(X = k)` for `X ~ Binomial(n, p)`, `k = 0..=n`, from log factors.
fn binomial_pmf(n: usize, p: f64) -> Vec<f64> {
    if p <= 0.0 || p >= 1.0 {
        let mut v = vec![0.0; n + 1];
        v[if p <= 0.0 { 0 } else { n }] = 1.0;
        return v;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    let mut log_c = 0.0f64; // log C(n, k)
    (0..=n)
        .map(|k| {
            if k > 0 {
                log_c += ((n - k + 1) as f64).ln() - (k as f64).ln();
            }
            (log_c + k as f64 * lp + (n - k) as f64 * lq).exp()
        })
        .collect()
}

/// Bisection on `ln θ` for the root of a function that rises with θ.
fn solve_rising(f: impl Fn(f64) -> f64) -> f64 {
    // Rate ratios beyond e^±30 are not told apart by any count.
    let (mut lo, mut hi) = (-30.0f64, 30.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if f(mid.exp()) > 0.0 {
            hi = mid;
        } else {
            lo = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    (0.5 * (lo + hi)).exp()
}

/// The pooled within-subject rate ratio of `strata`: (conditional MLE,
/// lower, upper) at two-sided `level`; `None` without any cramp. With no
/// exposed cramp the estimate and lower bound are 0; with no unexposed
/// cramp the estimate and upper bound are infinite.
pub fn rate_ratio(strata: &[Stratum], level: f64) -> Option<(f64, f64, f64)> {
    let t: usize = strata.iter().map(|s| s.cramps_exposed).sum();
    let total: usize = strata
        .iter()
        .map(|s| s.cramps_exposed + s.cramps_unexposed)
        .sum();
    if total == 0 {
        return None;
    }
    let alpha = (1.0 - level) / 2.0;
    let upper_tail = |theta: f64| -> f64 { total_pmf(strata, theta)[t..].iter().sum() };
    let lower_tail = |theta: f64| -> f64 { total_pmf(strata, theta)[..=t].iter().sum() };
    let expected = |theta: f64| -> f64 {
        shares(strata, theta)
            .iter()
            .map(|(n, p)| *n as f64 * p)
            .sum()
    };
    let low = if t == 0 {
        0.0
    } else {
        solve_rising(|th| upper_tail(th) - alpha)
    };
    let high = if t == total {
        f64::INFINITY
    } else {
        solve_rising(|th| alpha - lower_tail(th))
    };
    let est = match t {
        0 => 0.0,
        t if t == total => f64::INFINITY,
        _ => solve_rising(|th| expected(th) - t as f64),
    };
    Some((est, low, high))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn st(ce: usize, cu: usize, he: f64, hu: f64) -> Stratum {
        Stratum {
            cramps_exposed: ce,
            cramps_unexposed: cu,
            hours_exposed: he,
            hours_unexposed: hu,
        }
    }

    #[test]
    fn one_subject_gives_clopper_pearson_as_a_rate_ratio() {
        // 7 of 10 cramps in exposed hours, equal hours: p in
        // (0.34754, 0.93326) (Clopper-Pearson, e.g. R binom.test(7, 10)),
        // so θ = p / (1 - p) in (0.53266, 13.9580); MLE 7/3.
        let (est, lo, hi) = rate_ratio(&[st(7, 3, 5.0, 5.0)], 0.95).unwrap();
        assert!((est - 7.0 / 3.0).abs() < 1e-6, "{est}");
        assert!(
            (lo - 0.347_547_5 / (1.0 - 0.347_547_5)).abs() < 1e-4,
            "{lo}"
        );
        assert!(
            (hi - 0.933_260_2 / (1.0 - 0.933_260_2)).abs() < 1e-3,
            "{hi}"
        );
        // Twice the exposed hours halves the ratio.
        let (est2, lo2, _) = rate_ratio(&[st(7, 3, 10.0, 5.0)], 0.95).unwrap();
        assert!((est2 - est / 2.0).abs() < 1e-6 && (lo2 - lo / 2.0).abs() < 1e-6);
        // No exposed cramp: 0 with a finite upper bound; none at all: None.
        let (e0, l0, h0) = rate_ratio(&[st(0, 4, 1.0, 1.0)], 0.95).unwrap();
        assert_eq!((e0, l0), (0.0, 0.0));
        // 1 - (1 - p)^4 = 0.975 at p = 0.60236: θ = 1.5146.
        assert!((h0 - 0.602_364 / (1.0 - 0.602_364)).abs() < 1e-3, "{h0}");
        assert_eq!(rate_ratio(&[st(0, 0, 1.0, 1.0)], 0.95), None);
    }

    /// Poisson draw by inversion (counts here are small).
    fn poisson(rng: &mut rand_chacha::ChaCha8Rng, mean: f64) -> usize {
        let (mut k, mut p, u) = (0usize, (-mean).exp(), rng.random::<f64>());
        let mut cdf = p;
        while u > cdf && k < 10_000 {
            k += 1;
            p *= mean / k as f64;
            cdf += p;
        }
        k
    }

    #[test]
    fn pooled_intervals_cover_the_true_ratio_on_simulated_counts() {
        // 30 subjects with frailties 0.3-3, 14 nights of 1-2 h, about half
        // exposed, true ratio 2: the 95 % interval should cover 2 in about
        // 95 of 100 cohorts and exclude 1 in most.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(19);
        let (mut covered, mut excludes_one) = (0, 0);
        for _ in 0..100 {
            let strata: Vec<Stratum> = (0..30)
                .map(|_| {
                    let frailty = rng.random_range(0.3..3.0f64);
                    let mut s = Stratum::default();
                    for _ in 0..14 {
                        let h = rng.random_range(1.0..2.0f64);
                        if rng.random_bool(0.5) {
                            s.hours_exposed += h;
                            s.cramps_exposed += poisson(&mut rng, 0.5 * frailty * 2.0 * h);
                        } else {
                            s.hours_unexposed += h;
                            s.cramps_unexposed += poisson(&mut rng, 0.5 * frailty * h);
                        }
                    }
                    s
                })
                .collect();
            let (_, lo, hi) = rate_ratio(&strata, 0.95).unwrap();
            covered += (lo <= 2.0 && 2.0 <= hi) as usize;
            excludes_one += (lo > 1.0) as usize;
        }
        assert!((90..=100).contains(&covered), "covered {covered} of 100");
        assert!(excludes_one >= 90, "excluded 1 in {excludes_one} of 100");
    }

    #[test]
    fn numeric_levels_are_none_against_some_or_tertiles() {
        let s = number_splits(&[0.0, 0.0, 30.0, 60.0]);
        assert_eq!(s.len(), 1);
        assert_eq!((s[0].level.as_str(), s[0].reference.as_str()), (">0", "0"));
        let v: Vec<f64> = (1..=9).map(f64::from).collect();
        let s = number_splits(&v);
        let levels: Vec<(&str, &str)> = s
            .iter()
            .map(|x| (x.level.as_str(), x.reference.as_str()))
            .collect();
        assert_eq!(levels, [("3-6", "<=3"), (">6", "<=3")]);
        assert_eq!((s[0].group)(&Value::Number(4.0)), Group::Exposed);
        assert_eq!((s[0].group)(&Value::Number(7.0)), Group::Neither);
        assert_eq!((s[1].group)(&Value::Number(3.0)), Group::Reference);
        assert!(number_splits(&[2.0, 2.0]).is_empty());
    }
}
