//! Leg-movement figures after WASM 2016 (Ferri et al., Sleep Med 2016):
//! episodes on different legs that overlap or are less than
//! `bilateral_gap_s` apart form one bilateral movement; candidate LMs last
//! 0.5–10 s (monolateral) or up to 15 s (bilateral); a PLM series is at
//! least 4 consecutive candidate LMs with onset-to-onset intervals of
//! 10–90 s. Any other movement (longer, or a cramp) ends a series, and so
//! does an interval outside 10–90 s.

use serde::{Deserialize, Serialize};

use super::{Episode, EpisodeKind};
use crate::config::ScoringConfig;

/// A movement after bilateral combining.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Movement {
    pub start_s: f64,
    pub end_s: f64,
    /// Number of distinct channels involved.
    pub channels: usize,
    /// Whether this is a candidate LM (WASM duration limits, all parts LMs).
    pub candidate: bool,
    /// Whether it belongs to a PLM series.
    pub periodic: bool,
}

/// The night's leg-movement figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmFigures {
    pub n_lm: usize,
    pub n_plm: usize,
    pub n_plm_series: usize,
    pub movements: Vec<Movement>,
}

/// Combines episodes across channels and finds PLM series.
pub fn score(episodes: &[Episode], cfg: &ScoringConfig, lm_max_s: f64, min_s: f64) -> LmFigures {
    let mut eps: Vec<&Episode> = episodes.iter().collect();
    eps.sort_by(|a, b| {
        a.start_s
            .total_cmp(&b.start_s)
            .then(a.channel.cmp(&b.channel))
    });
    // Bilateral combining.
    let mut groups: Vec<(f64, f64, Vec<&str>, bool)> = Vec::new();
    for e in eps {
        let is_lm = e.kind == EpisodeKind::Lm;
        if let Some(g) = groups.last_mut() {
            if e.start_s - g.1 < cfg.bilateral_gap_s && !g.2.contains(&e.channel.as_str()) {
                g.1 = g.1.max(e.end_s);
                g.2.push(&e.channel);
                g.3 &= is_lm;
                continue;
            }
        }
        groups.push((e.start_s, e.end_s, vec![e.channel.as_str()], is_lm));
    }
    let mut movements: Vec<Movement> = groups
        .into_iter()
        .map(|(s, e, chans, all_lm)| {
            let max = if chans.len() > 1 {
                cfg.bilateral_max_s
            } else {
                lm_max_s
            };
            let d = e - s;
            Movement {
                start_s: s,
                end_s: e,
                channels: chans.len(),
                candidate: all_lm && d >= min_s && d <= max,
                periodic: false,
            }
        })
        .collect();
    // PLM series over candidate LMs.
    let mut n_series = 0;
    let mut run: Vec<usize> = Vec::new();
    let close = |run: &mut Vec<usize>, movements: &mut Vec<Movement>, n_series: &mut usize| {
        if run.len() >= cfg.plm_min_count {
            for &k in run.iter() {
                movements[k].periodic = true;
            }
            *n_series += 1;
        }
        run.clear();
    };
    for k in 0..movements.len() {
        if !movements[k].candidate {
            close(&mut run, &mut movements, &mut n_series);
            continue;
        }
        if let Some(&prev) = run.last() {
            let imi = movements[k].start_s - movements[prev].start_s;
            if !(cfg.plm_min_interval_s..=cfg.plm_max_interval_s).contains(&imi) {
                close(&mut run, &mut movements, &mut n_series);
            }
        }
        run.push(k);
    }
    close(&mut run, &mut movements, &mut n_series);
    LmFigures {
        n_lm: movements.iter().filter(|m| m.candidate).count(),
        n_plm: movements.iter().filter(|m| m.periodic).count(),
        n_plm_series: n_series,
        movements,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(ch: &str, kind: EpisodeKind, s: f64, e: f64) -> Episode {
        Episode {
            channel: ch.into(),
            kind,
            start_s: s,
            end_s: e,
            peak_rms_uv: 0.0,
            mean_rms_uv: 0.0,
            baseline_rms_uv: 0.0,
            median_freq_hz: None,
            accel_enmo_g: None,
            confidence: 1.0,
            rules: vec![],
        }
    }

    fn run(eps: &[Episode]) -> LmFigures {
        score(eps, &ScoringConfig::default(), 10.0, 0.5)
    }

    #[test]
    fn series_of_four_at_20_s_is_periodic() {
        let eps: Vec<_> = (0..4)
            .map(|i| {
                ep(
                    "l",
                    EpisodeKind::Lm,
                    100.0 + 20.0 * i as f64,
                    102.0 + 20.0 * i as f64,
                )
            })
            .collect();
        let f = run(&eps);
        assert_eq!((f.n_lm, f.n_plm, f.n_plm_series), (4, 4, 1));
        // Three are not a series.
        let f = run(&eps[..3]);
        assert_eq!((f.n_lm, f.n_plm), (3, 0));
    }

    #[test]
    fn intervals_outside_10_to_90_s_and_long_movements_break_series() {
        let starts = [0.0, 20.0, 40.0, 49.9, 70.0, 90.0, 110.0];
        let eps: Vec<_> = starts
            .iter()
            .map(|&s| ep("l", EpisodeKind::Lm, s, s + 1.0))
            .collect();
        // 9.9 s interval: [0,20,40] then [49.9,70,90,110] -> one series of 4.
        let f = run(&eps);
        assert_eq!((f.n_lm, f.n_plm), (7, 4));
        let mut eps2: Vec<_> = [0.0, 20.0, 40.0, 60.0, 80.0]
            .iter()
            .map(|&s| ep("l", EpisodeKind::Lm, s, s + 1.0))
            .collect();
        eps2.insert(3, ep("l", EpisodeKind::Sustained, 50.0, 62.0));
        let f = run(&eps2);
        assert_eq!(f.n_plm, 0);
    }

    #[test]
    fn bilateral_episodes_count_once_and_may_last_15_s() {
        let eps = vec![
            ep("l", EpisodeKind::Lm, 10.0, 18.0),
            ep("r", EpisodeKind::Lm, 18.4, 23.0), // 0.4 s gap: joined, 13 s bilateral
            ep("l", EpisodeKind::Lm, 40.0, 41.0),
            ep("r", EpisodeKind::Lm, 41.6, 42.6), // 0.6 s gap: separate
        ];
        let f = run(&eps);
        assert_eq!(f.movements.len(), 3);
        assert_eq!(f.movements[0].channels, 2);
        assert!(f.movements[0].candidate);
        assert_eq!(f.n_lm, 3);
    }
}
