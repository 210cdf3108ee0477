//! Channel selection: which signals of a file are leg EMG, which are
//! accelerometer axes, and why. Explicit names (`--channels`) win; otherwise
//! label patterns from [`ChannelConfig`] decide, exclusions first.

use crate::config::ChannelConfig;
use crate::recording::{unit_scale, ChannelKind};

/// Whether `text` matches the glob `pattern` (case-insensitive; `*` any
/// run of characters, `?` one character).
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.trim().to_lowercase().chars().collect();
    let t: Vec<char> = text.trim().to_lowercase().chars().collect();
    // Iterative matcher with single backtrack point: linear in practice.
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Separates alternatives inside one `--channels` entry (`LAT|PLMl|Limb L`).
pub const ALTERNATIVE_SEP: char = '|';

/// The alternatives of one `--channels` entry, trimmed.
pub fn alternatives(entry: &str) -> impl Iterator<Item = &str> {
    entry
        .split(ALTERNATIVE_SEP)
        .map(str::trim)
        .filter(|a| !a.is_empty())
}

/// Whether `name` is among the explicitly selected channels (any
/// alternative of any entry, case-insensitive).
pub fn is_selected(cfg: &ChannelConfig, name: &str) -> bool {
    cfg.select
        .iter()
        .flat_map(|s| alternatives(s))
        .any(|a| a.eq_ignore_ascii_case(name.trim()))
}

/// The decision for one labelled signal: its kind and the reason, or why
/// it is left out.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    Use { kind: ChannelKind, why: String },
    Skip { why: String },
}

/// Decides the kind of a labelled signal with physical unit `unit` (as in
/// an EDF header): explicit selection, then exclusions, then EMG and
/// accelerometer patterns. A unit that fits only the other kind (an
/// accelerometer labelled `Leg` with unit `g`) decides between them.
pub fn classify(cfg: &ChannelConfig, label: &str, unit: &str) -> Selection {
    let fits = |k: ChannelKind| unit_scale(k, unit).is_some();
    let by_unit = |k: ChannelKind| {
        if fits(k) {
            Some(k)
        } else {
            let other = match k {
                ChannelKind::Emg => ChannelKind::Accel,
                _ => ChannelKind::Emg,
            };
            fits(other).then_some(other)
        }
    };
    let pattern_kind = || {
        let find = |pats: &[String]| pats.iter().find(|p| glob_match(p, label)).cloned();
        if let Some(p) = find(&cfg.emg_patterns) {
            Some((ChannelKind::Emg, p))
        } else {
            find(&cfg.accel_patterns).map(|p| (ChannelKind::Accel, p))
        }
    };
    if !cfg.select.is_empty() {
        if !is_selected(cfg, label) {
            return Selection::Skip {
                why: "not in --channels".into(),
            };
        }
        let guess = pattern_kind().map(|(k, _)| k).unwrap_or(ChannelKind::Emg);
        return match by_unit(guess) {
            Some(kind) => Selection::Use {
                kind,
                why: "--channels".into(),
            },
            None => Selection::Skip {
                why: format!("--channels, but unit \"{unit}\" is neither EMG (uV, mV, V) nor acceleration (g, mg, m/s^2)"),
            },
        };
    }
    if let Some(p) = cfg.exclude_patterns.iter().find(|p| glob_match(p, label)) {
        return Selection::Skip {
            why: format!("excluded by pattern \"{p}\""),
        };
    }
    match pattern_kind() {
        Some((k, p)) => match by_unit(k) {
            Some(kind) if kind == k => Selection::Use {
                kind,
                why: format!("pattern \"{p}\""),
            },
            Some(kind) => Selection::Use {
                kind,
                why: format!("pattern \"{p}\", kind from unit \"{unit}\""),
            },
            None => Selection::Skip {
                why: format!("pattern \"{p}\" matched, but unit \"{unit}\" fits neither EMG nor acceleration"),
            },
        },
        None => Selection::Skip {
            why: "no pattern matched".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_whole_labels_case_insensitively() {
        assert!(glob_match("*tib*", "EMG Tib L"));
        assert!(glob_match("LAT", "lat"));
        assert!(!glob_match("LAT", "LAT1"));
        assert!(glob_match("LAT*", "LAT1"));
        assert!(glob_match("emg_*", "emg_left_uv"));
        assert!(!glob_match("emg_*", "EMG submental"));
        assert!(glob_match("a?c", "abc"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("*x", "abc"));
    }

    #[test]
    fn default_patterns_pick_leg_emg_and_accelerometer() {
        let cfg = ChannelConfig::default();
        let use_kind = |label: &str, unit: &str| match classify(&cfg, label, unit) {
            Selection::Use { kind, .. } => Some(kind),
            Selection::Skip { .. } => None,
        };
        assert_eq!(use_kind("EMG Tib L", "uV"), Some(ChannelKind::Emg));
        assert_eq!(use_kind("Leg 1", "mV"), Some(ChannelKind::Emg));
        assert_eq!(use_kind("RAT", "uV"), Some(ChannelKind::Emg));
        assert_eq!(use_kind("Gastrocnemius R", ""), Some(ChannelKind::Emg));
        assert_eq!(use_kind("Accel X", "g"), Some(ChannelKind::Accel));
        assert_eq!(use_kind("Leg accel", "g"), Some(ChannelKind::Accel));
        assert_eq!(use_kind("EMG submental", "uV"), None);
        assert_eq!(use_kind("EEG Fpz-Cz", "uV"), None);
        assert_eq!(use_kind("Temp rectal", "DegC"), None);
        // Cohort labels (README, channel selection).
        for l in [
            "PLMl", "PLMr", "Limb L", "Limb R", "LLEG", "RLEG", "LAT", "RAT", "Tib L",
        ] {
            assert_eq!(use_kind(l, "uV"), Some(ChannelKind::Emg), "{l}");
        }
        let alt = ChannelConfig {
            select: vec!["LAT|PLMl".into()],
            ..ChannelConfig::default()
        };
        assert!(is_selected(&alt, "plml") && is_selected(&alt, "LAT"));
        assert!(!is_selected(&alt, "RAT"));
        let sel = ChannelConfig {
            select: vec!["EEG Fpz-Cz".into()],
            ..ChannelConfig::default()
        };
        assert_eq!(
            classify(&sel, "EEG Fpz-Cz", "uV"),
            Selection::Use {
                kind: ChannelKind::Emg,
                why: "--channels".into()
            }
        );
        assert!(matches!(
            classify(&sel, "LAT", "uV"),
            Selection::Skip { .. }
        ));
    }
}
