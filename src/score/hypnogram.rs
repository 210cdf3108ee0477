//! Scoring by sleep stage: whether a time falls asleep and time asleep,
//! from a hypnogram the readers made ([`crate::io::hypnogram`]).

pub use crate::io::hypnogram::{Hypnogram, Stage};

impl Hypnogram {
    /// Whether time `t_s` falls in a sleep stage.
    pub fn asleep(&self, t_s: f64) -> bool {
        self.epochs
            .iter()
            .any(|&(a, b, s)| s.is_sleep() && t_s >= a && t_s < b)
    }

    /// Time asleep inside `[0, until_s)`, s.
    pub fn sleep_s(&self, until_s: f64) -> f64 {
        self.epochs
            .iter()
            .filter(|e| e.2.is_sleep())
            .map(|&(a, b, _)| (b.min(until_s) - a.max(0.0)).max(0.0))
            .sum()
    }
}
