//! Resting baseline: a running low percentile of the activity series,
//! evaluated every [`STEP_S`] and interpolated between, floored and capped
//! at physiological resting levels.

use crate::config::DetectorConfig;
use crate::dsp::stats::percentile_in_place;

/// Spacing of baseline evaluations, s: the resting level changes slowly.
pub const STEP_S: f64 = 10.0;

/// Baseline per window, µV, for `activity_uv` sampled every `hop_s`.
pub fn running_baseline(activity_uv: &[f32], hop_s: f64, cfg: &DetectorConfig) -> Vec<f32> {
    let n = activity_uv.len();
    if n == 0 {
        return Vec::new();
    }
    let floor = cfg.baseline_floor_uv as f32;
    let cap = cfg.baseline_cap_uv as f32;
    let step = ((STEP_S / hop_s).round() as usize).max(1);
    let half = ((cfg.baseline_window_s / 2.0 / hop_s).round() as usize).max(1);
    let mut points: Vec<(usize, Option<f32>)> = Vec::new();
    let mut scratch: Vec<f32> = Vec::with_capacity(2 * half + 1);
    let mut centre: usize = 0;
    loop {
        let lo = centre.saturating_sub(half);
        let hi = (centre + half + 1).min(n);
        scratch.clear();
        scratch.extend(
            activity_uv[lo..hi]
                .iter()
                .copied()
                .filter(|v| v.is_finite()),
        );
        let level =
            percentile_in_place(&mut scratch, cfg.baseline_percentile).map(|v| v.clamp(floor, cap));
        points.push((centre, level));
        if centre == n - 1 {
            break;
        }
        centre = (centre + step).min(n - 1);
    }
    // Stretches without valid data take the nearest valid level.
    let known: Vec<(usize, f32)> = points
        .iter()
        .filter_map(|&(i, v)| v.map(|v| (i, v)))
        .collect();
    if known.is_empty() {
        return vec![floor; n];
    }
    let mut out = vec![0f32; n];
    let (first_i, first_v) = known[0];
    out[..=first_i].fill(first_v);
    for w in known.windows(2) {
        let (i0, v0) = w[0];
        let (i1, v1) = w[1];
        for (j, o) in out[i0..=i1].iter_mut().enumerate() {
            let f = j as f32 / (i1 - i0) as f32;
            *o = v0 + (v1 - v0) * f;
        }
    }
    let (last_i, last_v) = *known.last().expect("non-empty");
    out[last_i..].fill(last_v);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baseline_ignores_a_few_minutes_of_activity() {
        let cfg = DetectorConfig::default();
        // 30 min at 0.1 s: rest at 2 µV with a 3-minute contraction at 60 µV.
        let mut a = vec![2.0f32; 18000];
        for v in &mut a[6000..7800] {
            *v = 60.0;
        }
        let b = running_baseline(&a, 0.1, &cfg);
        assert!(b.iter().all(|&v| (v - 2.0).abs() < 1e-6));
    }

    #[test]
    fn baseline_is_capped_when_active_throughout_and_floored_when_silent() {
        let cfg = DetectorConfig::default();
        let b = running_baseline(&vec![80.0f32; 5000], 0.1, &cfg);
        assert!(b.iter().all(|&v| v == cfg.baseline_cap_uv as f32));
        let b = running_baseline(&vec![0.0f32; 5000], 0.1, &cfg);
        assert!(b.iter().all(|&v| v == cfg.baseline_floor_uv as f32));
        let b = running_baseline(&[f32::NAN; 50], 0.1, &cfg);
        assert!(b.iter().all(|&v| v == cfg.baseline_floor_uv as f32));
    }
}
