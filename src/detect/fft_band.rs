//! The default detector: Hann windows, real FFT, Parseval-scaled band RMS
//! in the EMG band with mains bins left out (DESIGN.md, "fft-band").

use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::RealToComplex;

use super::backward::{same_gaps, BackwardCells};
use super::commit::Commitment;
use super::heartbeat::BeatRemover;
use super::refine::FINE_CELL_S;
use super::timedomain::{
    noise_median_over_mean, robust_share, segment_mean, share_of_segments, sum_f64, variant,
    FilterBank,
};
use super::{ActivitySeries, ChannelAnalyzer, Detector, MainsPlan};
use crate::config::DetectorConfig;
use crate::dsp::band::{band_mean_square, BandLayout};
use crate::dsp::stretch::StretchFilter;
use crate::dsp::window::hann_periodic;
use crate::dsp::PlanCache;
use crate::error::{Error, Result};

pub struct FftBand {
    cfg: DetectorConfig,
    plans: PlanCache,
}

impl FftBand {
    pub fn new(cfg: DetectorConfig, plans: PlanCache) -> FftBand {
        FftBand { cfg, plans }
    }
}

/// The EMG band used at `fs_hz`: the configured band, its top capped at
/// Nyquist minus the margin. `None` when nothing of it is left.
pub fn effective_band(cfg: &DetectorConfig, fs_hz: f64) -> Option<(f64, f64)> {
    let high = cfg.band_high_hz.min(fs_hz / 2.0 - cfg.nyquist_margin_hz);
    (high > cfg.band_low_hz).then_some((cfg.band_low_hz, high))
}

impl Detector for FftBand {
    fn name(&self) -> &'static str {
        "fft-band"
    }

    fn analyzer(&self, fs_hz: f64, mains: MainsPlan) -> Result<Box<dyn ChannelAnalyzer>> {
        Ok(Box::new(self.build(fs_hz, mains)?))
    }
}

impl FftBand {
    fn build(&self, fs_hz: f64, mains: MainsPlan) -> Result<FftBandAnalyzer> {
        let win_n = (self.cfg.window_s * fs_hz).round() as usize;
        let hop_n = (self.cfg.hop_s * fs_hz).round() as usize;
        let (low, high) = effective_band(&self.cfg, fs_hz).ok_or_else(|| {
            Error::Config(format!(
                "the EMG band {}–{} Hz does not fit below the Nyquist frequency of {fs_hz} Hz sampling",
                self.cfg.band_low_hz, self.cfg.band_high_hz
            ))
        })?;
        if win_n < 8 || hop_n == 0 {
            return Err(Error::Config(format!(
                "a {} s window at {fs_hz} Hz has {win_n} samples; at least 8 are needed",
                self.cfg.window_s
            )));
        }
        let window = hann_periodic(win_n);
        let layout = BandLayout::new(
            fs_hz,
            &window,
            (low, high),
            self.cfg.mains_exclusion_hz,
            self.cfg.mains_restore,
        );
        if layout.is_empty() {
            return Err(Error::Config(format!(
                "no FFT bin of a {} s window falls inside {low}–{high} Hz",
                self.cfg.window_s
            )));
        }
        let plan = self.plans.forward(win_n);
        let robust = if self.cfg.transient_rejection {
            let n_segments =
                ((self.cfg.window_s / self.cfg.robust_segment_s).round() as usize).max(3);
            let expected = noise_median_over_mean(
                layout.high_hz - layout.low_hz,
                self.cfg.window_s / n_segments as f64,
            ) as f32;
            // With the default 0.25 s window of ten 25 ms segments and a
            // 0.1 s hop, every window's segments lie on one grid of 25 ms
            // cells, so each cell's power is computed once, not 2.5 times.
            let cell_n = (win_n % n_segments == 0 && hop_n % (win_n / n_segments) == 0)
                .then_some(win_n / n_segments);
            Some(Robust {
                cell_n,
                cells: Vec::new(),
                bank: FilterBank::new(
                    crate::config::FILTER_ORDER,
                    crate::config::NOTCH_Q,
                    (layout.low_hz, layout.high_hz),
                    fs_hz,
                )?,
                filter: None,
                backward: None,
                n_segments,
                expected,
                weights: {
                    let ms = window.iter().map(|w| w * w).sum::<f32>() / win_n as f32;
                    window.iter().map(|w| w * w / ms).collect()
                },
                squares: Vec::new(),
                beats: BeatRemover::new(fs_hz).filter(|b| 2 * b.delay() <= win_n - hop_n),
                fine_squares: Vec::new(),
                scratch: Vec::new(),
            })
        } else {
            None
        };
        // Fine cells only where the transient rejection filters the signal.
        let fine_per_window = if robust.is_some() {
            ((hop_n as f64 / fs_hz / FINE_CELL_S).round() as usize).clamp(1, hop_n)
        } else {
            0
        };
        Ok(FftBandAnalyzer {
            robust,
            fine_per_window,
            fine_power_uv2: Vec::new(),
            fine_offset_uv2: Vec::new(),
            fine_scale: Vec::new(),
            fs_hz,
            win_n,
            hop_n,
            hop_s: hop_n as f64 / fs_hz,
            band_hz: (layout.low_hz, layout.high_hz),
            window,
            layout,
            input: plan.make_input_vec(),
            spectrum: plan.make_output_vec(),
            scratch: plan.make_scratch_vec(),
            plan,
            mains: Commitment::new(mains, fs_hz, &self.plans, self.cfg.mains_detect_ratio),
            pending: Vec::new(),
            activity_uv: Vec::new(),
            median_freq_hz: Vec::new(),
            motion_uv: Vec::new(),
            drained: 0,
        })
    }
}

/// Transient rejection state: the signal band-passed and notched for the
/// committed mains decision, squared and aligned with `pending`.
struct Robust {
    /// Segment length, samples, when every window's segments fall on a
    /// grid of cells that starts at `pending[0]`.
    cell_n: Option<usize>,
    /// Mean square of each whole grid cell of `squares` (with `cell_n`).
    cells: Vec<f32>,
    bank: FilterBank,
    /// The bank's cascade for the committed mains decision, in stretches
    /// across lanes.
    filter: Option<StretchFilter>,
    /// The same cascade run backwards, for the offset cells.
    backward: Option<BackwardCells>,
    n_segments: usize,
    expected: f32,
    /// Hann window squared, scaled to mean 1.
    weights: Vec<f32>,
    squares: Vec<f32>,
    /// Heartbeat removal for the fine cells, where the window leaves room
    /// for its delay: the fine cells read the middle hop of a window, so
    /// up to `(win_n - hop_n) / 2` samples of lag are free.
    beats: Option<BeatRemover>,
    /// `squares` with heartbeats taken out (with `beats`), aligned with it
    /// and shorter by the remover's delay.
    fine_squares: Vec<f32>,
    scratch: Vec<f32>,
}

pub struct FftBandAnalyzer {
    robust: Option<Robust>,
    /// Fine cells per window (0 without transient rejection).
    fine_per_window: usize,
    /// Fine cells not yet handed out, µV² (see [`ActivitySeries::fine_power_uv2`]).
    fine_power_uv2: Vec<f32>,
    /// Backward cells not yet handed out, µV², from the first window not
    /// handed out; fewer than the forward ones while their block waits.
    fine_offset_uv2: Vec<f32>,
    /// Fine scale per window not yet handed out (see [`ActivitySeries::fine_scale`]).
    fine_scale: Vec<f32>,
    fs_hz: f64,
    win_n: usize,
    hop_n: usize,
    hop_s: f64,
    band_hz: (f64, f64),
    window: Vec<f32>,
    layout: BandLayout,
    plan: Arc<dyn RealToComplex<f32>>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    mains: Commitment,
    /// Samples not yet consumed by a whole window (all of them while the
    /// mains decision is pending).
    pending: Vec<f32>,
    activity_uv: Vec<f32>,
    median_freq_hz: Vec<f32>,
    motion_uv: Vec<f32>,
    /// Windows already handed out by `drain_final`.
    drained: usize,
}

impl FftBandAnalyzer {
    /// Windows computed whose offset cells are ready too (all of them
    /// without a fine envelope).
    fn ready_windows(&self) -> usize {
        match self.fine_per_window {
            0 => self.activity_uv.len(),
            k => self.activity_uv.len().min(self.fine_offset_uv2.len() / k),
        }
    }

    /// The ready windows not yet handed out, as a series piece.
    fn take_windows(&mut self) -> ActivitySeries {
        let n = self.ready_windows();
        let cells = n * self.fine_per_window;
        let fine_power_uv2: Vec<f32> = self.fine_power_uv2.drain(..cells).collect();
        let mut fine_offset_uv2: Vec<f32> = self.fine_offset_uv2.drain(..cells).collect();
        same_gaps(&fine_power_uv2, &mut fine_offset_uv2);
        let piece = ActivitySeries {
            hop_s: self.hop_s,
            first_center_s: self.win_n as f64 / 2.0 / self.fs_hz,
            first_index: self.drained,
            activity_uv: self.activity_uv.drain(..n).collect(),
            median_freq_hz: self.median_freq_hz.drain(..n).collect(),
            motion_uv: self.motion_uv.drain(..n).collect(),
            band_hz: self.band_hz,
            fine_per_window: self.fine_per_window,
            fine_power_uv2,
            fine_offset_uv2,
            fine_scale: self
                .fine_scale
                .drain(..n.min(self.fine_scale.len()))
                .collect(),
        };
        self.drained += n;
        piece
    }

    /// Activity (µV), median frequency (Hz) and motion content (µV) of the
    /// window starting at `pending[start]`, for the mains decision `mains_hz`.
    #[inline]
    fn analyse_window(&mut self, start: usize, mains_hz: Option<u32>) -> (f32, f32, f32) {
        let frame = &self.pending[start..start + self.win_n];
        let mut finite = true;
        for ((dst, &x), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
            finite &= x.is_finite();
            *dst = x * w;
        }
        if !finite {
            let n = self.fine_power_uv2.len() + self.fine_per_window;
            self.fine_power_uv2.resize(n, f32::NAN);
            if self.robust.is_some() {
                self.fine_scale.push(f32::NAN);
            }
            return (f32::NAN, f32::NAN, f32::NAN);
        }
        // Lengths come from the plan itself, so processing cannot fail.
        self.plan
            .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
            .expect("buffers sized by the plan");
        let (parts, median_hz) = self.layout.measure(&self.spectrum);
        let motion_uv = self.layout.motion_mean_square(&self.spectrum).sqrt();
        let share = match &mut self.robust {
            Some(r) => {
                let squares = &r.squares[start..start + self.win_n];
                match r.cell_n {
                    Some(cell_n) => {
                        let first = start / cell_n;
                        r.scratch.clear();
                        r.scratch
                            .extend_from_slice(&r.cells[first..first + r.n_segments]);
                        share_of_segments(&mut r.scratch, squares, &r.weights, r.expected)
                    }
                    None => robust_share(
                        squares,
                        &r.weights,
                        r.n_segments,
                        r.expected,
                        &mut r.scratch,
                    ),
                }
            }
            None => 1.0,
        };
        let band_ms = band_mean_square(&parts, mains_hz);
        if let Some(r) = &self.robust {
            let fine = match r.beats {
                Some(_) => &r.fine_squares[start..],
                None => &r.squares[start..],
            };
            let scale = push_fine_cells(
                &r.squares[start..start + self.win_n],
                fine,
                &r.weights,
                band_ms,
                self.hop_n,
                self.fine_per_window,
                &mut self.fine_power_uv2,
            );
            self.fine_scale.push(scale);
        }
        ((band_ms * share).sqrt(), median_hz, motion_uv)
    }

    /// Filters the samples from `pending[from..]` for transient rejection,
    /// analyses every whole window in `pending`, and drops what no later
    /// window needs.
    fn advance(&mut self, from: usize, mains_hz: Option<u32>) {
        let fs_hz = self.fs_hz;
        if let Some(r) = &mut self.robust {
            let filter = r.filter.get_or_insert_with(|| {
                StretchFilter::new(r.bank.variant_filter(variant(mains_hz)), fs_hz)
            });
            let old = r.squares.len();
            r.squares.resize(old + self.pending.len() - from, 0.0);
            let out = &mut r.squares[old..];
            if r.backward.is_none() {
                r.backward = Some(BackwardCells::new(
                    filter.rest().clone(),
                    self.win_n,
                    self.hop_n,
                    self.fine_per_window,
                    fs_hz,
                ));
            }
            filter.process(&self.pending[from..], out);
            if let Some(b) = &mut r.beats {
                let old = r.fine_squares.len();
                b.process(out, &mut r.fine_squares);
                for v in r.fine_squares[old..].iter_mut() {
                    *v *= *v;
                }
            }
            for v in out.iter_mut() {
                *v *= *v;
            }
            if let Some(cell_n) = r.cell_n {
                let whole = r.squares.len() / cell_n;
                for c in r.cells.len()..whole {
                    r.cells
                        .push(segment_mean(&r.squares[c * cell_n..(c + 1) * cell_n]));
                }
            }
        }
        let mut start = 0;
        while start + self.win_n <= self.pending.len() {
            let (activity, median_hz, motion_uv) = self.analyse_window(start, mains_hz);
            self.activity_uv.push(activity);
            self.median_freq_hz.push(median_hz);
            self.motion_uv.push(motion_uv);
            start += self.hop_n;
        }
        if let Some(b) = self.robust.as_mut().and_then(|r| r.backward.as_mut()) {
            b.push(
                &self.pending[from..],
                &self.fine_power_uv2,
                &mut self.fine_offset_uv2,
            );
        }
        self.pending.drain(..start);
        if let Some(r) = &mut self.robust {
            r.squares.drain(..start);
            if r.beats.is_some() {
                r.fine_squares.drain(..start);
            }
            // `start` is a whole number of hops, so of cells.
            if let Some(cell_n) = r.cell_n {
                r.cells.drain(..start / cell_n);
            }
        }
    }
}

/// Largest fine scale (band measure over filtered power): the band measure
/// leaves mains bins out, so the factor is about 0.55–1; a window whose
/// filtered power is tiny against its spectrum (a filter restart) gets no
/// more than this.
const FINE_SCALE_MAX: f32 = 2.0;
/// Fine scale of a window whose filtered power is 0 (a flat stretch).
const FINE_SCALE_FLAT: f32 = 1.0;

/// Appends the `k` fine cells of one window, the mean squares of `fine`
/// (the filtered squares from the window's start, heartbeats taken out)
/// over the hop around the window's centre cut into `k` parts of whole
/// samples, and returns the window's fine scale: its band mean square over
/// its Hann-weighted filtered power (`squares`; `weights`: Hann squared,
/// mean 1).
fn push_fine_cells(
    squares: &[f32],
    fine: &[f32],
    weights: &[f32],
    band_ms: f32,
    hop_n: usize,
    k: usize,
    out: &mut Vec<f32>,
) -> f32 {
    let win_n = squares.len();
    // In f64 with four accumulators: a plain f32 sum is a chain of
    // dependent adds, 7 % of a scan's time.
    let power = (sum_f64(squares, Some(weights)) / win_n as f64) as f32;
    let scale = if power > 0.0 {
        (band_ms / power).min(FINE_SCALE_MAX)
    } else {
        FINE_SCALE_FLAT
    };
    let c0 = (win_n - hop_n) / 2;
    for j in 0..k {
        let (a, b) = (c0 + j * hop_n / k, c0 + (j + 1) * hop_n / k);
        let ms = fine[a..b].iter().sum::<f32>() / (b - a) as f32;
        out.push(ms);
    }
    scale
}

impl ChannelAnalyzer for FftBandAnalyzer {
    fn push(&mut self, samples: &[f32]) {
        let from = self.pending.len();
        self.pending.extend_from_slice(samples);
        match self.mains.committed() {
            Some(m) => self.advance(from, m),
            // Every sample is held back until the decision.
            None => {
                if let Some(m) = self.mains.push(samples) {
                    self.advance(0, m);
                }
            }
        }
    }

    fn committed_mains(&self) -> Option<Option<u32>> {
        self.mains.committed()
    }

    /// Windows are final once the analyzer has committed to a mains
    /// decision (at once with a fixed one, after
    /// [`MAINS_COMMIT_S`](super::commit::MAINS_COMMIT_S) with auto).
    fn drain_final(&mut self) -> Option<ActivitySeries> {
        (self.mains.committed().is_some() && self.ready_windows() > 0).then(|| self.take_windows())
    }

    /// A pending analyzer takes the night's decision; a committed one keeps
    /// its own (the caller streams the night again when they differ).
    fn finish(mut self: Box<Self>, mains_hz: Option<u32>) -> ActivitySeries {
        if self.mains.committed().is_none() {
            self.mains = Commitment::Committed(mains_hz);
            self.advance(0, mains_hz);
        }
        let n_windows = self.drained + self.activity_uv.len();
        if let Some(b) = self.robust.as_mut().and_then(|r| r.backward.as_mut()) {
            b.finish(n_windows, &self.fine_power_uv2, &mut self.fine_offset_uv2);
        }
        self.take_windows()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(fs: f64, f_hz: f64, amp: f64, mains: Option<u32>) -> ActivitySeries {
        let det = FftBand::new(DetectorConfig::default(), PlanCache::new());
        let mut a = det.analyzer(fs, MainsPlan::Auto).unwrap();
        let x: Vec<f32> = (0..(10.0 * fs) as usize)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * f_hz * i as f64 / fs).sin()) as f32)
            .collect();
        for c in x.chunks(333) {
            a.push(c);
        }
        a.finish(mains)
    }

    #[test]
    fn sine_at_80_hz_reads_a_over_root_two() {
        for fs in [1000.0, 500.0, 256.0, 200.0] {
            let s = run(fs, 80.0, 50.0, Some(50));
            let expect = 50.0 / 2f32.sqrt();
            let (win, hop) = ((0.25 * fs).round() as usize, (0.1 * fs).round() as usize);
            assert_eq!(
                s.activity_uv.len(),
                (10 * fs as usize - win) / hop + 1,
                "fs={fs}"
            );
            for v in &s.activity_uv {
                assert!((v - expect).abs() / expect < 0.02, "fs={fs}: {v}");
            }
            assert!((s.median_freq_hz[10] - 80.0).abs() <= 4.0);
        }
    }

    #[test]
    fn motion_reads_sines_below_the_band_and_not_in_it() {
        for fs in [1000.0, 500.0, 256.0, 200.0] {
            let low = run(fs, 12.0, 50.0, Some(50));
            let high = run(fs, 80.0, 50.0, Some(50));
            let expect = 50.0 / 2f32.sqrt();
            for i in 0..low.motion_uv.len() {
                let (m, a) = (low.motion_uv[i], low.activity_uv[i]);
                assert!((m - expect).abs() / expect < 0.05, "fs={fs} 12 Hz: {m}");
                assert!(a < 0.05 * expect, "fs={fs} 12 Hz in the band: {a}");
                let (m, a) = (high.motion_uv[i], high.activity_uv[i]);
                assert!(m < 0.05 * expect, "fs={fs} 80 Hz as motion: {m}");
                assert!((a - expect).abs() / expect < 0.05, "fs={fs} 80 Hz: {a}");
            }
        }
    }

    /// Gaussian noise of RMS `rms_uv` band-limited to `band_hz` (an exact
    /// brick wall in a 2^k-point spectrum), `seconds` long at `fs`.
    pub(crate) fn band_noise(
        fs: f64,
        band_hz: (f64, f64),
        rms_uv: f64,
        seconds: f64,
        seed: u64,
    ) -> Vec<f32> {
        let n = (seconds * fs) as usize;
        let mut planner = realfft::RealFftPlanner::<f64>::new();
        let inv = planner.plan_fft_inverse(n);
        let mut spec = inv.make_input_vec();
        let mut state = seed;
        let mut uni = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        for (k, c) in spec.iter_mut().enumerate() {
            let f = k as f64 * fs / n as f64;
            if f >= band_hz.0 && f <= band_hz.1 {
                // Box–Muller: a complex Gaussian of random phase.
                let r = (-2.0 * uni().ln()).sqrt();
                let th = 2.0 * std::f64::consts::PI * uni();
                *c = Complex::new(r * th.cos(), r * th.sin());
            }
        }
        let mut x = inv.make_output_vec();
        inv.process(&mut spec, &mut x).expect("sized by the plan");
        let ms = x.iter().map(|v| v * v).sum::<f64>() / n as f64;
        let k = rms_uv / ms.sqrt();
        x.iter().map(|v| (v * k) as f32).collect()
    }

    /// RMS over all windows of the activity of `x`, µV.
    fn read_rms(x: &[f32], fs: f64, mains: Option<u32>, restore: bool) -> f32 {
        read_rms_with(x, fs, mains, restore, true)
    }

    fn read_rms_with(
        x: &[f32],
        fs: f64,
        mains: Option<u32>,
        restore: bool,
        rejection: bool,
    ) -> f32 {
        let cfg = DetectorConfig {
            mains_restore: restore,
            transient_rejection: rejection,
            ..Default::default()
        };
        let det = FftBand::new(cfg, PlanCache::new());
        let mut a = det.analyzer(fs, MainsPlan::Fixed(mains)).unwrap();
        for c in x.chunks(4096) {
            a.push(c);
        }
        let s = a.finish(mains);
        let v = &s.activity_uv[10..];
        (v.iter().map(|a| a * a).sum::<f32>() / v.len() as f32).sqrt()
    }

    /// Calibration of the band measure (issue 15): band-limited Gaussian
    /// noise of 20 µV RMS in 20–150 Hz (capped like the band) reads 20 µV
    /// at every rate and mains setting, with and without 100 µV of hum at
    /// the mains frequency; the same hum alone reads near 0. Run with
    /// `--nocapture` for the figures.
    #[test]
    fn band_limited_noise_reads_its_rms() {
        for fs in [200.0, 256.0, 500.0, 1000.0] {
            let band = effective_band(&DetectorConfig::default(), fs).unwrap();
            let noise = band_noise(fs, band, 20.0, 60.0, 7 + fs as u64);
            for mains in [None, Some(50), Some(60)] {
                let hum = |i: usize| match mains {
                    Some(f) => {
                        100.0 * (2.0 * std::f64::consts::PI * f as f64 * i as f64 / fs + 0.4).sin()
                    }
                    None => 0.0,
                };
                let with_hum: Vec<f32> = noise
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| v + hum(i) as f32)
                    .collect();
                let hum_only: Vec<f32> = (0..noise.len()).map(|i| hum(i) as f32).collect();
                let plain = read_rms(&noise, fs, mains, true);
                let hummed = read_rms(&with_hum, fs, mains, true);
                let alone = read_rms(&hum_only, fs, mains, true);
                let old = read_rms(&noise, fs, mains, false);
                let norej = read_rms_with(&noise, fs, mains, true, false);
                let hum_norej = read_rms_with(&with_hum, fs, mains, true, false);
                eprintln!(
                    "fs={fs} mains={mains:?}: noise {plain:.2} with hum {hummed:.2} hum alone {alone:.2} (left out, not restored: {old:.2}; no rejection {norej:.2} / {hum_norej:.2})"
                );
                // The band measure itself: within 2 %.
                assert!((norej - 20.0).abs() < 0.4, "fs={fs} {mains:?}: {norej}");
                assert!(
                    (hum_norej - 20.0).abs() < 0.4,
                    "fs={fs} {mains:?}: {hum_norej}"
                );
                // The transient rejection's share is capped at 1, so on
                // stationary noise it averages about 0.91 in power: the
                // analyzer reads 4-5 % low, within 6 %.
                assert!((plain - 20.0).abs() < 1.2, "fs={fs} {mains:?}: {plain}");
                assert!(
                    (hummed - 20.0).abs() < 1.2,
                    "fs={fs} {mains:?} hum: {hummed}"
                );
                // Leaving out without restoring read 0.74-0.84 of it.
                if mains.is_some() {
                    assert!(old < 0.86 * plain, "fs={fs} {mains:?}: {old}");
                }
                // The hum's Hann leakage into the clean bins 3.5 bins away
                // (50 Hz falls between bins), interpolated into the gap:
                // under 2 % of its amplitude.
                assert!(alone < 2.0, "fs={fs} {mains:?} hum alone: {alone}");
            }
        }
    }

    #[test]
    fn sine_reads_a_over_root_two_for_every_mains_setting() {
        for mains in [None, Some(50), Some(60)] {
            for fs in [1000.0, 256.0, 200.0] {
                let s = run(fs, 80.0, 50.0, mains);
                let expect = 50.0 / 2f32.sqrt();
                for v in &s.activity_uv {
                    assert!((v - expect).abs() / expect < 0.02, "fs={fs} {mains:?}: {v}");
                }
            }
        }
    }

    #[test]
    fn an_electrode_offset_is_no_motion() {
        let det = FftBand::new(DetectorConfig::default(), PlanCache::new());
        let mut a = det.analyzer(500.0, MainsPlan::Fixed(Some(50))).unwrap();
        a.push(&vec![2048.0f32; 5000]);
        let s = a.finish(Some(50));
        assert!(
            s.motion_uv.iter().all(|&m| m < 0.01),
            "{:?}",
            &s.motion_uv[..3]
        );
    }

    #[test]
    fn mains_sine_reads_near_zero() {
        // 50 Hz falls between 4 Hz bins: its Hann leakage 3.5 bins out is
        // interpolated into the left-out gap (0.69 µV of 50 µV).
        let s = run(1000.0, 50.0, 50.0, Some(50));
        let max = s.activity_uv.iter().cloned().fold(0f32, f32::max);
        assert!(max < 1.0, "50 Hz leaked {max} µV");
        let s = run(1000.0, 60.0, 50.0, Some(60));
        let max = s.activity_uv.iter().cloned().fold(0f32, f32::max);
        assert!(max < 0.5, "60 Hz leaked {max} µV");
    }

    /// 120 s at 1 kHz: resting noise of about 2 µV RMS (a fixed LCG, summed
    /// uniforms), 60 µV of 60 Hz mains, an 80 µV QRS complex (Ricker,
    /// σ = 6 ms) at 90 bpm, an electrode pop (600 µV step decaying with
    /// τ = 0.5 s) at 40 s, and, from 80 s to 85 s, a leg movement of 30 µV
    /// RMS (an 80 Hz burst with the same noise).
    fn ecg_pop_and_one_movement() -> Vec<f32> {
        let fs = 1000.0;
        let mut state = 12345u64;
        let mut uni = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        };
        (0..120_000)
            .map(|i| {
                let t = i as f64 / fs;
                let noise = (0..12).map(|_| uni()).sum::<f64>() * 2.0;
                let beat = 60.0 / 90.0;
                let dt = (t + 0.3) % beat - beat / 2.0;
                let x = (dt / 0.006).powi(2);
                let qrs = 80.0 * (1.0 - x) * (-x / 2.0).exp();
                let hum = 60.0 * (2.0 * std::f64::consts::PI * 60.0 * t).sin();
                let pop = if t >= 40.0 {
                    600.0 * (-(t - 40.0) / 0.5).exp()
                } else {
                    0.0
                };
                let lm = if (80.0..85.0).contains(&t) {
                    30.0 * 2f64.sqrt() * (2.0 * std::f64::consts::PI * 80.0 * t).sin()
                } else {
                    0.0
                };
                (noise + qrs + hum + pop + lm) as f32
            })
            .collect()
    }

    fn spans_of(x: &[f32], rejection: bool) -> Vec<(f64, f64)> {
        let mut cfg = crate::config::Config::default();
        cfg.detector.transient_rejection = rejection;
        let det = FftBand::new(cfg.detector.clone(), PlanCache::new());
        let mut a = det.analyzer(1000.0, MainsPlan::Auto).unwrap();
        for c in x.chunks(4096) {
            a.push(c);
        }
        let s = a.finish(Some(60));
        let (_, spans) = crate::detect::detect_spans(&s, &cfg);
        spans
            .iter()
            .map(|&(i, j)| (s.time_s(i), s.time_s(j)))
            .collect()
    }

    #[test]
    fn heartbeats_at_90_bpm_and_a_pop_are_not_movements() {
        let x = ecg_pop_and_one_movement();
        // With transient rejection: only the movement, on time.
        let spans = spans_of(&x, true);
        assert_eq!(spans.len(), 1, "{spans:?}");
        assert!(
            (spans[0].0 - 80.0).abs() < 0.3 && (spans[0].1 - 85.0).abs() < 0.3,
            "{spans:?}"
        );
        // Without it, heartbeats chained by the 0.5 s offset hold (and the
        // pop) become episodes: the method is what keeps them out.
        assert!(spans_of(&x, false).len() > 1);
    }

    #[test]
    fn segment_powers_shared_between_windows_change_no_bit() {
        let x = ecg_pop_and_one_movement();
        let det = FftBand::new(DetectorConfig::default(), PlanCache::new());
        let series = |shared: bool| {
            let mut a = det.build(1000.0, MainsPlan::Fixed(Some(60))).unwrap();
            let r = a.robust.as_mut().unwrap();
            assert_eq!(r.cell_n, Some(25), "the default grid is 25 ms cells");
            if !shared {
                r.cell_n = None;
            }
            for c in x.chunks(3001) {
                a.push(c);
            }
            Box::new(a).finish(Some(60))
        };
        let (shared, each) = (series(true), series(false));
        assert_eq!(shared.activity_uv.len(), each.activity_uv.len());
        for (i, (u, v)) in shared.activity_uv.iter().zip(&each.activity_uv).enumerate() {
            assert_eq!(u.to_bits(), v.to_bits(), "window {i}");
        }
        // The heartbeats are partly rejected, so the share is at work.
        assert!(each.activity_uv.iter().any(|&v| v > 0.0 && v < 3.0));
    }

    #[test]
    fn too_low_rate_is_refused() {
        let det = FftBand::new(DetectorConfig::default(), PlanCache::new());
        let e = det
            .analyzer(1.0, MainsPlan::Auto)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("Nyquist"), "{e}");
    }
}
