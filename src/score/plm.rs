//! Leg-movement figures after WASM 2016 (Ferri et al., Sleep Med 2016;
//! rule by rule in the README):
//!
//! 1. an LM lasts at least 0.5 s and holds a 0.5 s stretch whose median
//!    amplitude is at least 2 µV above resting ([`morphology_ok`]);
//! 2. LMs on different legs that overlap or are less than 0.5 s apart
//!    (end to onset) form one bilateral LM of at most 4 parts, counted once;
//! 3. a candidate LM lasts 0.5–10 s on one leg, 0.5–15 s bilateral, and is
//!    made of LMs only;
//! 4. a PLM series is at least 4 consecutive candidate LMs whose
//!    onset-to-onset intervals lie within 10–90 s. Anything that is not a
//!    candidate LM (longer, more than 4 parts, a cramp) ends a series, and
//!    so does an interval below 10 s or above 90 s: the movement after it
//!    may start the next series.
//!
//! The AASM variant changes the interval floor to 5 s and the bilateral
//! maximum to 10 s, and combines the legs by onsets: LMs on the two legs
//! whose onsets are less than 5 s apart are one leg movement, as NSRR's
//! scorers applied the AASM rule (CHAT manual §6.8.4); overlapping LMs are
//! one movement under both rule sets ([`crate::config::Config::plm_params`]).

use serde::{Deserialize, Serialize};

use super::hypnogram::{Hypnogram, Stage};
use super::{leg_key, Episode, EpisodeKind};
use crate::config::{PlmParams, IMI_BIN_S, IMI_HIST_MAX_S, LM_AROUSAL_GAP_S, PERIODICITY_MIN_RUN};

/// A movement after bilateral combining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    pub start_s: f64,
    pub end_s: f64,
    /// Number of distinct legs involved (2: bilateral).
    pub channels: usize,
    /// Number of monolateral episodes combined.
    #[serde(default = "one")]
    pub parts: usize,
    /// Whether this is a candidate LM (duration limits, all parts LMs, at
    /// most `bilateral_max_parts` parts).
    pub candidate: bool,
    /// Whether it belongs to a PLM series.
    pub periodic: bool,
    /// Whether it falls in the respiratory window of an apnea or hypopnea
    /// ([`PlmParams::resp_before_s`]); such an LM is no candidate LM.
    #[serde(default)]
    pub respiratory: bool,
    /// Whether it starts in wake by the hypnogram.
    #[serde(default)]
    pub wake: bool,
    /// Whether it is associated with an arousal
    /// ([`crate::config::LM_AROUSAL_GAP_S`]).
    #[serde(default)]
    pub arousal: bool,
    /// `false`: not scored at all (AASM respiratory-related, nsrr in wake);
    /// PLM series and intervals pass over it.
    #[serde(default = "yes")]
    pub scored: bool,
}

fn one() -> usize {
    1
}

fn yes() -> bool {
    true
}

/// What the night's scorings add to LM scoring; each part `None` when the
/// night has no such scoring.
#[derive(Debug, Clone, Copy, Default)]
pub struct LmContext<'a> {
    /// Apneas and hypopneas, `(start_s, end_s)`.
    pub apneas: Option<&'a [(f64, f64)]>,
    /// Arousals, `(start_s, end_s)`.
    pub arousals: Option<&'a [(f64, f64)]>,
    pub hypnogram: Option<&'a Hypnogram>,
}

/// Intermovement intervals (onset to onset between consecutive candidate
/// LMs) in `bin_s` bins from 0 to `max_s`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImiHistogram {
    pub bin_s: f64,
    pub max_s: f64,
    /// `counts[k]` holds intervals in `[k, k+1) * bin_s`.
    pub counts: Vec<usize>,
    /// Intervals of `max_s` or longer.
    pub n_over_max: usize,
}

/// The night's leg-movement figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmFigures {
    /// Rule set used: `wasm2016` or `aasm`.
    #[serde(default)]
    pub rules: String,
    /// Candidate LMs.
    pub n_lm: usize,
    /// Candidate LMs inside PLM series.
    pub n_plm: usize,
    pub n_plm_series: usize,
    /// Intervals between consecutive candidate LMs.
    #[serde(default)]
    pub n_imi: usize,
    /// Share of those intervals inside the series range (10–90 s WASM), 0–1;
    /// `None` without intervals.
    #[serde(default)]
    pub imi_in_range_share: Option<f64>,
    /// Periodicity index (Ferri et al. 2006): share of the intervals that
    /// lie in range and belong to a run of at least 3 in-range intervals.
    #[serde(default)]
    pub periodicity_index: Option<f64>,
    #[serde(default)]
    pub imi_histogram: ImiHistogram,
    pub movements: Vec<Movement>,
    /// Would-be candidate LMs in the respiratory window of an apnea or
    /// hypopnea, left out of the counts; `None` without respiratory scoring.
    #[serde(default)]
    pub n_lm_resp: Option<usize>,
}

/// WASM 2016 computer-scoring morphology rule: somewhere inside the
/// movement, `min_s` of consecutive windows whose median excess over the
/// resting baseline is at least `min_above_uv`. Windows with NaN activity
/// never count. `activity_uv` and `baseline_uv` cover the movement only.
pub fn morphology_ok(
    activity_uv: &[f32],
    baseline_uv: &[f32],
    hop_s: f64,
    min_s: f64,
    min_above_uv: f64,
) -> bool {
    let k = ((min_s / hop_s - 1e-9).ceil() as usize).max(1);
    if activity_uv.len() < k {
        return false;
    }
    let excess: Vec<f32> = activity_uv
        .iter()
        .zip(baseline_uv)
        .map(|(&a, &b)| a - b)
        .collect();
    let mut buf = Vec::with_capacity(k);
    excess.windows(k).any(|w| {
        if w.iter().any(|v| !v.is_finite()) {
            return false;
        }
        buf.clear();
        buf.extend_from_slice(w);
        buf.sort_by(f32::total_cmp);
        let med = if k % 2 == 1 {
            buf[k / 2] as f64
        } else {
            0.5 * (buf[k / 2 - 1] as f64 + buf[k / 2] as f64)
        };
        med >= min_above_uv
    })
}

struct Group<'a> {
    start_s: f64,
    end_s: f64,
    legs: Vec<&'a str>,
    /// Latest onset of a part per leg, s (same order as `legs`).
    last_onset_s: Vec<f64>,
    parts: usize,
    all_lm: bool,
}

impl Group<'_> {
    /// Whether an episode on `leg` starting at `start_s` joins the group:
    /// WASM, less than the gap after its end (or inside it); AASM, inside
    /// it or less than `bilateral_onset_s` after the onset of a part on
    /// another leg.
    fn takes(&self, leg: &str, start_s: f64, p: &PlmParams) -> bool {
        match p.bilateral_onset_s {
            None => start_s - self.end_s < p.bilateral_gap_s,
            Some(onset_s) => {
                start_s < self.end_s
                    || self
                        .legs
                        .iter()
                        .zip(&self.last_onset_s)
                        .any(|(&l, &t)| l != leg && start_s - t < onset_s)
            }
        }
    }
}

/// Combines episodes across legs, picks the candidate LMs and finds PLM
/// series. LMs failing the morphology rule are not LMs and take no part.
pub fn score(episodes: &[Episode], p: &PlmParams) -> LmFigures {
    score_in(episodes, p, &LmContext::default())
}

/// [`score`] with the night's scorings: respiratory-related LMs and (nsrr)
/// LMs in wake left out as the rule set says ([`mark_context`]), arousals
/// marked.
pub fn score_in(episodes: &[Episode], p: &PlmParams, ctx: &LmContext) -> LmFigures {
    let mut movements = combine(episodes, p);
    let n_lm_resp = mark_context(&mut movements, p, ctx);
    let mut f = series(movements, p);
    f.n_lm_resp = n_lm_resp;
    f
}

/// Marks each candidate LM's context. Respiratory-related (overlapping the
/// rule's window around an apnea or hypopnea): no candidate, and under
/// AASM not scored. Starting in wake: not scored when the rules score no
/// LM in wake (nsrr). Returns the respiratory-related count when apneas
/// are known.
pub fn mark_context(movements: &mut [Movement], p: &PlmParams, ctx: &LmContext) -> Option<usize> {
    let windows: Option<Vec<(f64, f64)>> = ctx.apneas.map(|a| {
        a.iter()
            .map(|&(s, e)| {
                let anchor = if p.resp_from_start { s } else { e };
                (anchor - p.resp_before_s, e + p.resp_after_end_s)
            })
            .collect()
    });
    let mut n_resp = 0;
    for m in movements.iter_mut() {
        if let Some(ar) = ctx.arousals {
            m.arousal = ar
                .iter()
                .any(|&(a, b)| a < m.end_s + LM_AROUSAL_GAP_S && b > m.start_s - LM_AROUSAL_GAP_S);
        }
        if let Some(h) = ctx.hypnogram {
            m.wake = h.stage_at(m.start_s) == Some(Stage::Wake);
        }
        if !m.candidate {
            continue;
        }
        if let Some(w) = &windows {
            if w.iter().any(|&(a, b)| m.start_s <= b && m.end_s >= a) {
                m.respiratory = true;
                m.candidate = false;
                m.scored = p.resp_breaks_series;
                n_resp += 1;
                continue;
            }
        }
        if m.wake && !p.wake_lms_scored {
            m.candidate = false;
            m.scored = false;
        }
    }
    windows.map(|_| n_resp)
}

/// Bilateral combining ([`Group::takes`]) and candidate LMs.
fn combine(episodes: &[Episode], p: &PlmParams) -> Vec<Movement> {
    let mut eps: Vec<&Episode> = episodes
        .iter()
        .filter(|e| e.kind != EpisodeKind::Lm || e.wasm_morphology)
        .collect();
    eps.sort_by(|a, b| {
        a.start_s
            .total_cmp(&b.start_s)
            .then(a.channel.cmp(&b.channel))
    });
    // Bilateral combining ([`Group::takes`]).
    let mut groups: Vec<Group> = Vec::new();
    for e in eps {
        let is_lm = e.kind == EpisodeKind::Lm;
        let leg = leg_key(e);
        if let Some(g) = groups.last_mut() {
            if g.takes(leg, e.start_s, p) {
                g.end_s = g.end_s.max(e.end_s);
                match g.legs.iter().position(|&l| l == leg) {
                    Some(k) => g.last_onset_s[k] = e.start_s,
                    None => {
                        g.legs.push(leg);
                        g.last_onset_s.push(e.start_s);
                    }
                }
                g.parts += 1;
                g.all_lm &= is_lm;
                continue;
            }
        }
        groups.push(Group {
            start_s: e.start_s,
            end_s: e.end_s,
            legs: vec![leg],
            last_onset_s: vec![e.start_s],
            parts: 1,
            all_lm: is_lm,
        });
    }
    groups
        .into_iter()
        .map(|g| {
            let max = if g.legs.len() > 1 {
                p.bilateral_max_s
            } else {
                p.lm_max_s
            };
            let d = g.end_s - g.start_s;
            Movement {
                start_s: g.start_s,
                end_s: g.end_s,
                channels: g.legs.len(),
                parts: g.parts,
                candidate: g.all_lm
                    && g.parts <= p.bilateral_max_parts
                    && d >= p.min_s - 1e-9
                    && d <= max + 1e-9,
                periodic: false,
                respiratory: false,
                wake: false,
                arousal: false,
                scored: true,
            }
        })
        .collect()
}

/// PLM series, intervals and the night's figures over scored movements.
fn series(mut movements: Vec<Movement>, p: &PlmParams) -> LmFigures {
    let in_range = |imi: f64| imi >= p.plm_min_interval_s && imi <= p.plm_max_interval_s;
    // PLM series over candidate LMs.
    let mut n_series = 0;
    let mut run: Vec<usize> = Vec::new();
    let close = |run: &mut Vec<usize>, movements: &mut Vec<Movement>, n_series: &mut usize| {
        if run.len() >= p.plm_min_count {
            for &k in run.iter() {
                movements[k].periodic = true;
            }
            *n_series += 1;
        }
        run.clear();
    };
    // Intervals between consecutive candidate LMs (none across a non-candidate).
    let mut imis: Vec<f64> = Vec::new();
    let mut imi_runs: Vec<Vec<f64>> = vec![Vec::new()];
    // The previous scored movement, if a candidate.
    let mut prev: Option<usize> = None;
    for k in 0..movements.len() {
        if !movements[k].scored {
            continue;
        }
        if !movements[k].candidate {
            close(&mut run, &mut movements, &mut n_series);
            imi_runs.push(Vec::new());
            prev = None;
            continue;
        }
        if let Some(j) = prev {
            let imi = movements[k].start_s - movements[j].start_s;
            imis.push(imi);
            imi_runs.last_mut().expect("one run").push(imi);
        }
        prev = Some(k);
        if let Some(&prev) = run.last() {
            let imi = movements[k].start_s - movements[prev].start_s;
            if !in_range(imi) {
                close(&mut run, &mut movements, &mut n_series);
            }
        }
        run.push(k);
    }
    close(&mut run, &mut movements, &mut n_series);

    let n_bins = (IMI_HIST_MAX_S / IMI_BIN_S).ceil() as usize;
    let mut hist = ImiHistogram {
        bin_s: IMI_BIN_S,
        max_s: IMI_HIST_MAX_S,
        counts: vec![0; n_bins],
        n_over_max: 0,
    };
    for &imi in &imis {
        let b = (imi / IMI_BIN_S).floor();
        if imi >= IMI_HIST_MAX_S || b as usize >= n_bins {
            hist.n_over_max += 1;
        } else {
            hist.counts[b.max(0.0) as usize] += 1;
        }
    }
    let n_imi = imis.len();
    let n_in = imis.iter().filter(|&&i| in_range(i)).count();
    // Periodic intervals: runs of consecutive in-range intervals long enough.
    let mut n_periodic = 0;
    for r in &imi_runs {
        let mut len = 0;
        for &imi in r.iter().chain(std::iter::once(&f64::NAN)) {
            if in_range(imi) {
                len += 1;
            } else {
                if len >= PERIODICITY_MIN_RUN {
                    n_periodic += len;
                }
                len = 0;
            }
        }
    }
    let share = |n: usize| (n_imi > 0).then(|| n as f64 / n_imi as f64);
    LmFigures {
        rules: p.rules.as_str().to_string(),
        n_lm: movements.iter().filter(|m| m.candidate).count(),
        n_plm: movements.iter().filter(|m| m.periodic).count(),
        n_plm_series: n_series,
        n_imi,
        imi_in_range_share: share(n_in),
        periodicity_index: share(n_periodic),
        imi_histogram: hist,
        movements,
        n_lm_resp: None,
    }
}

/// Candidate LMs and PLMs whose onset falls where `asleep` says so.
pub fn count_where(figures: &LmFigures, asleep: impl Fn(f64) -> bool) -> (usize, usize) {
    let mut n = (0, 0);
    for m in &figures.movements {
        if m.candidate && asleep(m.start_s) {
            n.0 += 1;
            if m.periodic {
                n.1 += 1;
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn ep(ch: &str, kind: EpisodeKind, s: f64, e: f64) -> Episode {
        Episode::bare(ch, kind, s, e)
    }

    fn lm(ch: &str, s: f64, e: f64) -> Episode {
        ep(ch, EpisodeKind::Lm, s, e)
    }

    fn params(rules: &str) -> PlmParams {
        let mut cfg = Config::default();
        cfg.scoring.rules = rules.into();
        cfg.plm_params().unwrap()
    }

    fn run(eps: &[Episode]) -> LmFigures {
        score(eps, &params("wasm2016"))
    }

    fn at(starts: &[f64]) -> Vec<Episode> {
        starts.iter().map(|&s| lm("l", s, s + 1.0)).collect()
    }

    #[test]
    fn series_of_four_at_20_s_is_periodic() {
        let eps = at(&[100.0, 120.0, 140.0, 160.0]);
        let f = run(&eps);
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (4, 4, 1));
        // Three are not a series.
        let f = run(&eps[..3]);
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (3, 0, 0));
    }

    #[test]
    fn an_interval_of_9_9_s_ends_the_series_and_starts_the_next() {
        // [0,20,40] | 9.9 s | [49.9,70,90,110]: one series of 4.
        let f = run(&at(&[0.0, 20.0, 40.0, 49.9, 70.0, 90.0, 110.0]));
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (7, 4, 1));
        let periodic: Vec<bool> = f.movements.iter().map(|m| m.periodic).collect();
        assert_eq!(periodic, [false, false, false, true, true, true, true]);
        // 10.0 s exactly is inside the range: one series of 7.
        let f = run(&at(&[0.0, 20.0, 40.0, 50.0, 70.0, 90.0, 110.0]));
        assert_eq!((f.n_plm, f.n_plm_series), (7, 1));
    }

    #[test]
    fn an_interval_of_90_1_s_ends_the_series() {
        // [0,30,60,90] | 90.1 s | [180.1,210.1,240.1]: 4 PLMs, 1 series.
        let f = run(&at(&[0.0, 30.0, 60.0, 90.0, 180.1, 210.1, 240.1]));
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (7, 4, 1));
        // 90.0 s exactly is inside: one series of 7.
        let f = run(&at(&[0.0, 30.0, 60.0, 90.0, 180.0, 210.0, 240.0]));
        assert_eq!((f.n_plm, f.n_plm_series), (7, 1));
    }

    #[test]
    fn a_long_movement_breaks_the_series() {
        // 0,20,40 | an 11 s LM-kind episode (too long for one leg) | 80,100,120.
        let mut eps = at(&[0.0, 20.0, 40.0, 80.0, 100.0, 120.0]);
        eps.insert(3, lm("l", 55.0, 66.0));
        let f = run(&eps);
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (6, 0, 0));
        assert!(!f.movements[3].candidate);
        // Without it the six form one series (intervals 20/20/40/20/20).
        let f = run(&at(&[0.0, 20.0, 40.0, 80.0, 100.0, 120.0]));
        assert_eq!((f.n_plm, f.n_plm_series), (6, 1));
        // A sustained episode (any kind but LM) breaks it as well.
        let mut eps = at(&[0.0, 20.0, 40.0, 60.0, 80.0]);
        eps.insert(3, ep("l", EpisodeKind::Sustained, 50.0, 52.0));
        assert_eq!(run(&eps).n_plm, 0);
    }

    #[test]
    fn bilateral_merging_with_0_4_and_0_6_s_gaps() {
        let eps = vec![
            lm("l", 10.0, 18.0),
            lm("r", 18.4, 23.0), // 0.4 s gap: joined, 13 s bilateral
            lm("l", 40.0, 41.0),
            lm("r", 41.6, 42.6), // 0.6 s gap: separate
        ];
        let f = run(&eps);
        assert_eq!(f.movements.len(), 3);
        assert_eq!((f.movements[0].channels, f.movements[0].parts), (2, 2));
        assert!(f.movements[0].candidate, "13 s bilateral is a candidate");
        assert_eq!(f.n_lm, 3);
        // Under AASM the legs combine by onsets (< 5 s apart): the first
        // pair's onsets are 8.4 s apart, two LMs of 8 and 4.6 s; the second
        // pair's 1.6 s apart, one bilateral LM.
        let f = score(&eps, &params("aasm"));
        assert_eq!((f.movements.len(), f.n_lm), (3, 3));
        assert_eq!(f.movements[2].channels, 2);
        // A 13 s bilateral LM (onsets 4 s apart) is too long under AASM.
        let f = score(&[lm("l", 10.0, 18.0), lm("r", 14.0, 23.0)], &params("aasm"));
        assert_eq!((f.movements.len(), f.n_lm), (1, 0));
        // A bilateral LM longer than 15 s is no candidate under WASM either.
        let f = run(&[lm("l", 10.0, 18.0), lm("r", 18.4, 25.1)]);
        assert_eq!((f.movements.len(), f.n_lm), (1, 0));
    }

    #[test]
    fn four_part_bilateral_counts_once_five_parts_is_no_candidate() {
        let four = vec![
            lm("l", 0.0, 2.0),
            lm("r", 2.3, 4.0),
            lm("l", 4.2, 6.0),
            lm("r", 6.4, 8.0),
        ];
        let f = run(&four);
        assert_eq!(f.movements.len(), 1);
        assert_eq!((f.movements[0].parts, f.movements[0].channels), (4, 2));
        assert_eq!(f.n_lm, 1);
        let mut five = four.clone();
        five.push(lm("l", 8.3, 9.5));
        let f = run(&five);
        assert_eq!((f.movements.len(), f.movements[0].parts), (1, 5));
        assert_eq!(f.n_lm, 0);
        // The five-part movement ends a series like any non-candidate.
        let mut eps = at(&[-60.0, -40.0, -20.0]);
        eps.extend(five);
        eps.extend(at(&[20.0, 40.0, 60.0]));
        let f = run(&eps);
        assert_eq!((f.n_lm, f.n_plm), (6, 0));
    }

    #[test]
    fn legs_come_from_sides_so_two_muscles_of_one_leg_are_not_bilateral() {
        let mut a = lm("tib_l", 0.0, 8.0);
        let mut b = lm("gastroc_l", 7.0, 12.0);
        a.side = Some("left".into());
        b.side = Some("left".into());
        let f = run(&[a, b]);
        assert_eq!((f.movements[0].channels, f.movements[0].parts), (1, 2));
        assert!(!f.movements[0].candidate, "12 s on one leg");
    }

    #[test]
    fn lms_failing_the_morphology_rule_take_no_part() {
        let mut eps = at(&[0.0, 20.0, 40.0, 60.0]);
        eps[2].wasm_morphology = false;
        let f = run(&eps);
        // 0, 20, 60: the 40 s gap is in range, so three remain, no series.
        assert_eq!((f.n_lm, f.n_plm, f.movements.len()), (3, 0, 3));
    }

    #[test]
    fn morphology_needs_half_a_second_with_median_2_uv_above_resting() {
        let base = vec![3.0f32; 20];
        // 0.5 s (5 windows) at 5 µV: median excess 2 µV: passes.
        let mut a = vec![3.5f32; 20];
        for v in &mut a[8..13] {
            *v = 5.0;
        }
        assert!(morphology_ok(&a, &base, 0.1, 0.5, 2.0));
        // Only 0.2 s above: every 5-window median is 0.5 µV.
        let mut a = vec![3.5f32; 20];
        for v in &mut a[8..10] {
            *v = 20.0;
        }
        assert!(!morphology_ok(&a, &base, 0.1, 0.5, 2.0));
        // A spike of 3 windows inside 5 still has the median above.
        let mut a = vec![3.5f32; 20];
        for v in &mut a[8..11] {
            *v = 20.0;
        }
        assert!(morphology_ok(&a, &base, 0.1, 0.5, 2.0));
        // 1.9 µV above throughout fails.
        assert!(!morphology_ok(&[4.9; 20], &base, 0.1, 0.5, 2.0));
    }

    /// AASM (CHAT manual §6.8.4): onsets on the two legs 4.9 s apart are
    /// one leg movement, 5.1 s apart two; WASM's 0.5 s end-to-onset gap
    /// keeps both pairs apart (gaps of 3.9 and 4.1 s).
    #[test]
    fn aasm_combines_the_legs_by_onsets_less_than_5_s_apart() {
        let pair = |lag_s: f64| vec![lm("l", 10.0, 11.0), lm("r", 10.0 + lag_s, 11.0 + lag_s)];
        let f = score(&pair(4.9), &params("aasm"));
        assert_eq!(f.movements.len(), 1);
        let m = &f.movements[0];
        assert_eq!((m.channels, m.parts, m.candidate), (2, 2, true));
        assert!((m.start_s - 10.0).abs() < 1e-12 && (m.end_s - 15.9).abs() < 1e-9);
        let f = score(&pair(5.1), &params("aasm"));
        assert_eq!((f.movements.len(), f.n_lm), (2, 2));
        assert!(f.movements.iter().all(|m| m.channels == 1));
        for lag in [4.9, 5.1] {
            assert_eq!(run(&pair(lag)).movements.len(), 2, "WASM, lag {lag} s");
        }
        // Same leg 4.9 s apart: not bilateral, two movements under AASM.
        let f = score(&[lm("l", 10.0, 11.0), lm("l", 14.9, 15.9)], &params("aasm"));
        assert_eq!(f.movements.len(), 2);
        // Overlapping LMs on the two legs are one movement even with
        // onsets 6 s apart.
        let f = score(&[lm("l", 10.0, 17.0), lm("r", 16.0, 17.5)], &params("aasm"));
        assert_eq!((f.movements.len(), f.movements[0].channels), (1, 2));
    }

    /// The onset rule on PLM counting: left-leg LMs every 20 s, each
    /// followed by a right-leg LM 4.9 s later, are 4 bilateral LMs in one
    /// series under AASM; 5.1 s later, 8 LMs whose 5.1 s and 14.9 s
    /// intervals all lie in AASM's 5–90 s range, one series of 8. WASM
    /// (gap 3.9 or 4.1 s, interval floor 10 s) breaks the series at every
    /// short interval: no PLM.
    #[test]
    fn aasm_onset_rule_changes_plm_counts() {
        let night = |lag_s: f64| {
            let mut eps = Vec::new();
            for k in 0..4 {
                let t = 100.0 + 20.0 * k as f64;
                eps.push(lm("l", t, t + 1.0));
                eps.push(lm("r", t + lag_s, t + lag_s + 1.0));
            }
            eps
        };
        let f = score(&night(4.9), &params("aasm"));
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (4, 4, 1));
        let f = score(&night(5.1), &params("aasm"));
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (8, 8, 1));
        let f = run(&night(4.9));
        assert_eq!((f.n_lm, f.n_plm), (8, 0));
    }

    #[test]
    fn aasm_takes_intervals_from_5_s() {
        // Intervals 6 s: a series under AASM, none under WASM.
        let eps = at(&[0.0, 6.0, 12.0, 18.0]);
        assert_eq!(run(&eps).n_plm, 0);
        let f = score(&eps, &params("aasm"));
        assert_eq!((f.n_plm, f.rules.as_str()), (4, "aasm"));
    }

    #[test]
    fn periodicity_index_and_histogram() {
        // Intervals: 20, 20, 20, 5, 30, 95.
        let f = run(&at(&[0.0, 20.0, 40.0, 60.0, 65.0, 95.0, 190.0]));
        assert_eq!(f.n_imi, 6);
        // In range: 20, 20, 20, 30 -> 4 of 6.
        assert!((f.imi_in_range_share.unwrap() - 4.0 / 6.0).abs() < 1e-12);
        // Periodic (runs of >= 3): only the three 20 s intervals -> 3 of 6.
        assert!((f.periodicity_index.unwrap() - 0.5).abs() < 1e-12);
        let h = &f.imi_histogram;
        assert_eq!(h.counts.len(), 45);
        assert_eq!(h.counts[10], 3); // [20, 22)
        assert_eq!(h.counts[2], 1); // [4, 6)
        assert_eq!(h.counts[15], 1); // [30, 32)
        assert_eq!(h.n_over_max, 1);
        // No intervals: no index.
        assert_eq!(run(&at(&[0.0])).periodicity_index, None);
    }

    #[test]
    fn counts_where_asleep() {
        let f = run(&at(&[0.0, 20.0, 40.0, 60.0, 200.0]));
        let (lm, plm) = count_where(&f, |t| t >= 30.0);
        assert_eq!((lm, plm), (3, 2));
    }
}

#[cfg(test)]
mod context_tests {
    use super::*;
    use crate::config::Config;
    use crate::io::hypnogram::Hypnogram;

    fn params(rules: &str) -> PlmParams {
        let mut cfg = Config::default();
        cfg.scoring.rules = rules.into();
        cfg.plm_params().unwrap()
    }

    fn lms(starts: &[f64]) -> Vec<Episode> {
        starts
            .iter()
            .map(|&s| Episode::bare("l", EpisodeKind::Lm, s, s + 1.0))
            .collect()
    }

    fn with_apneas(eps: &[Episode], rules: &str, apneas: &[(f64, f64)]) -> LmFigures {
        let ctx = LmContext {
            apneas: Some(apneas),
            ..LmContext::default()
        };
        score_in(eps, &params(rules), &ctx)
    }

    #[test]
    fn wasm_respiratory_window_is_2_s_before_to_10_25_s_after_the_end() {
        // Apnea 100–120 s: window 118–130.25 s.
        let resp = |s: f64, e: f64| {
            let eps = vec![Episode::bare("l", EpisodeKind::Lm, s, e)];
            with_apneas(&eps, "wasm2016", &[(100.0, 120.0)]).movements[0].respiratory
        };
        assert!(!resp(117.0, 117.9), "ends before the window");
        assert!(resp(117.5, 118.0), "touches its start");
        assert!(!resp(105.0, 106.0), "inside the apnea, before the window");
        assert!(resp(130.2, 131.0), "starts inside its end");
        assert!(!resp(130.3, 131.0), "starts after it");
    }

    #[test]
    fn aasm_respiratory_window_is_0_5_s_around_the_event() {
        // Apnea 100–120 s: window 99.5–120.5 s.
        let resp = |s: f64, e: f64| {
            let eps = vec![Episode::bare("l", EpisodeKind::Lm, s, e)];
            with_apneas(&eps, "aasm", &[(100.0, 120.0)]).movements[0].respiratory
        };
        assert!(resp(98.9, 99.5));
        assert!(!resp(98.9, 99.4));
        assert!(resp(110.0, 111.0));
        assert!(resp(120.5, 121.5));
        assert!(!resp(120.6, 121.5));
        assert!(!resp(125.0, 126.0), "respiratory under WASM only");
    }

    #[test]
    fn a_respiratory_lm_ends_a_wasm_series_and_is_skipped_under_aasm() {
        // LMs every 20 s; the one at 60 s follows an apnea ending at 59.8 s.
        let eps = lms(&[0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let apnea = [(55.0, 59.8)];
        let f = with_apneas(&eps, "wasm2016", &apnea);
        // [0, 20, 40] | resp | [80, 100]: no series of 4.
        assert_eq!((f.n_lm, f.n_plm, f.n_lm_resp), (5, 0, Some(1)));
        let f = with_apneas(&eps, "aasm", &apnea);
        // Not scored: 0, 20, 40, 80, 100 (intervals 20, 20, 40, 20).
        assert_eq!(
            (f.n_lm, f.n_plm, f.n_plm_series, f.n_lm_resp),
            (5, 5, 1, Some(1))
        );
        assert_eq!(f.n_imi, 4);
        // Without respiratory scoring nothing is left out and no count is given.
        let f = score(&eps, &params("aasm"));
        assert_eq!((f.n_lm, f.n_plm, f.n_lm_resp), (6, 6, None));
    }

    #[test]
    fn nsrr_scores_no_lm_in_wake_and_arousals_within_0_5_s_are_associated() {
        let h = Hypnogram {
            path: "h".into(),
            epochs: vec![(0.0, 30.0, Stage::Wake), (30.0, 300.0, Stage::N2)],
            start_time: None,
        };
        let eps = lms(&[10.0, 40.0, 60.0, 80.0, 100.0]);
        let arousals = [(41.4, 45.0), (61.6, 63.0)];
        let ctx = LmContext {
            hypnogram: Some(&h),
            arousals: Some(&arousals),
            ..LmContext::default()
        };
        let f = score_in(&eps, &params("nsrr"), &ctx);
        assert_eq!((f.n_lm, f.n_plm, f.rules.as_str()), (4, 4, "nsrr"));
        assert!(f.movements[0].wake && !f.movements[0].scored);
        let f = score_in(&eps, &params("aasm"), &ctx);
        assert_eq!((f.n_lm, f.n_plm), (5, 5));
        // 41.0 → 41.4: 0.4 s, associated; 61.0 → 61.6: 0.6 s, not.
        let a: Vec<bool> = f.movements.iter().map(|m| m.arousal).collect();
        assert_eq!(a, [false, true, false, false, false]);
    }
}
