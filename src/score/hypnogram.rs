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
        self.time_in(|s| s.is_sleep(), until_s)
    }

    /// Time in the stages `pick` takes inside `[0, until_s)`, s.
    pub fn time_in(&self, pick: impl Fn(Stage) -> bool, until_s: f64) -> f64 {
        self.epochs
            .iter()
            .filter(|e| pick(e.2))
            .map(|&(a, b, _)| (b.min(until_s) - a.max(0.0)).max(0.0))
            .sum()
    }

    /// The stage at time `t_s` (the first epoch holding it); `None` where
    /// nothing is scored.
    pub fn stage_at(&self, t_s: f64) -> Option<Stage> {
        self.epochs
            .iter()
            .find(|&&(a, b, _)| t_s >= a && t_s < b)
            .map(|e| e.2)
    }

    /// Whether wake is scored anywhere in `[from_s, to_s]`.
    pub fn wake_in(&self, from_s: f64, to_s: f64) -> bool {
        self.epochs
            .iter()
            .any(|&(a, b, s)| s == Stage::Wake && a <= to_s && b > from_s)
    }
}
