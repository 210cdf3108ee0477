//! An analyzer's early mains decision: with `mains = "auto"`, a channel
//! decides from its own first [`MAINS_COMMIT_S`] and from then on computes
//! and hands out only that decision's windows, so that detection can
//! follow the reader. The night checks the decision at its end and streams
//! a night whose whole-night decision differs again, with that decision
//! fixed ([`super::ChannelAnalyzer::committed_mains`]), so results never
//! depend on it.
//!
//! The early decision uses the whole-night statistic on the segments seen
//! so far: the average spectrum of the quietest quarter of the 1 s
//! segments ([`crate::dsp::mains::QUIET_SHARE`]), so activity in the first
//! minutes hides hum from it no more than from the night's decision.

use super::MainsPlan;
use crate::dsp::mains::{self, MainsEstimator};
use crate::dsp::PlanCache;

/// Signal held back, s, before an analyzer with `mains = "auto"` commits to
/// a mains decision of its own (30 of the mains estimator's 1 s segments).
pub const MAINS_COMMIT_S: f64 = 300.0;

/// Whether an analyzer knows the mains decision it computes for.
pub enum Commitment {
    /// The estimator sees every sample until `after_n` of them give it
    /// enough segments to decide.
    Pending {
        estimator: Box<MainsEstimator>,
        seen_n: usize,
        after_n: usize,
        detect_ratio: f64,
    },
    Committed(Option<u32>),
}

impl Commitment {
    /// Committed at once for a fixed plan; pending for auto.
    pub fn new(plan: MainsPlan, fs_hz: f64, plans: &PlanCache, detect_ratio: f64) -> Commitment {
        match plan {
            MainsPlan::Fixed(m) => Commitment::Committed(m),
            MainsPlan::Auto => Commitment::Pending {
                estimator: Box::new(MainsEstimator::new(fs_hz, plans)),
                seen_n: 0,
                after_n: (MAINS_COMMIT_S * fs_hz).round() as usize,
                detect_ratio,
            },
        }
    }

    /// Feeds the next samples to a pending estimator; returns the decision
    /// when these samples complete it (once), `None` otherwise.
    pub fn push(&mut self, samples: &[f32]) -> Option<Option<u32>> {
        let Commitment::Pending {
            estimator,
            seen_n,
            after_n,
            detect_ratio,
        } = self
        else {
            return None;
        };
        estimator.push(samples);
        *seen_n += samples.len();
        if *seen_n < *after_n {
            return None;
        }
        let ratios: Vec<_> = estimator.ratios().into_iter().collect();
        let m = mains::decide(&ratios, *detect_ratio);
        *self = Commitment::Committed(m);
        Some(m)
    }

    /// The decision, once committed.
    pub fn committed(&self) -> Option<Option<u32>> {
        match self {
            Commitment::Committed(m) => Some(*m),
            Commitment::Pending { .. } => None,
        }
    }
}
