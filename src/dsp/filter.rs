//! Filtering with cascades of second-order sections: causal streaming
//! filtering (`sosfilt`) with its state carried across blocks, steady-state
//! initial conditions (`sosfilt_zi`) and zero-phase filtering
//! (`sosfiltfilt`) with scipy's default odd padding.
//!
//! This is the only filter implementation in crampscan: designs come from
//! [`super::design`], and every caller (the simulator's noise shaping, the
//! comparison detectors) runs them through [`SosFilter`], directly or in
//! fixed stretches across SIMD lanes ([`super::stretch`]).
//!
//! Samples may be `f32` or `f64`; the arithmetic and the state are always
//! `f64`, each section in transposed direct form II exactly as scipy's
//! `sosfilt` computes it.

use crate::error::{Error, Result};

/// A sample type the filters read and write; computation is in `f64`.
pub trait Sample: Copy {
    fn to_f64(self) -> f64;
    fn from_f64(v: f64) -> Self;
}

impl Sample for f32 {
    #[inline]
    fn to_f64(self) -> f64 {
        self as f64
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v as f32
    }
}

impl Sample for f64 {
    #[inline]
    fn to_f64(self) -> f64 {
        self
    }
    #[inline]
    fn from_f64(v: f64) -> Self {
        v
    }
}

/// A cascade of second-order sections, each `[b0, b1, b2, 1, a1, a2]`
/// (scipy's `sos` array layout, with `a0` normalised to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Sos {
    sections: Vec<[f64; 6]>,
}

impl Sos {
    /// Sections `[b0, b1, b2, a0, a1, a2]`; each is divided by its `a0`.
    /// Refused when empty, non-finite or when an `a0` is zero.
    pub fn new(mut sections: Vec<[f64; 6]>) -> Result<Sos> {
        if sections.is_empty() {
            return Err(Error::Config("a filter needs at least one section".into()));
        }
        for (i, s) in sections.iter_mut().enumerate() {
            if s.iter().any(|v| !v.is_finite()) {
                return Err(Error::Config(format!(
                    "filter section {i} has a non-finite coefficient: {s:?}"
                )));
            }
            let a0 = s[3];
            if a0 == 0.0 {
                return Err(Error::Config(format!(
                    "filter section {i} has a0 = 0; expected a non-zero leading denominator coefficient"
                )));
            }
            if a0 != 1.0 {
                for v in s.iter_mut() {
                    *v /= a0;
                }
            }
        }
        Ok(Sos { sections })
    }

    /// The sections, `[b0, b1, b2, 1, a1, a2]` each.
    pub fn sections(&self) -> &[[f64; 6]] {
        &self.sections
    }

    /// This filter followed by `next` (e.g. a band-pass then a notch comb).
    pub fn then(&self, next: &Sos) -> Sos {
        let mut sections = self.sections.clone();
        sections.extend_from_slice(&next.sections);
        Sos { sections }
    }

    /// Complex gain at `f_hz` for sample rate `fs_hz` (scipy `sosfreqz`
    /// at one frequency); its modulus is the amplitude response.
    pub fn response(&self, f_hz: f64, fs_hz: f64) -> realfft::num_complex::Complex64 {
        use realfft::num_complex::Complex64;
        let w = 2.0 * std::f64::consts::PI * f_hz / fs_hz;
        let z1 = Complex64::from_polar(1.0, -w);
        let z2 = z1 * z1;
        self.sections.iter().fold(Complex64::new(1.0, 0.0), |h, s| {
            let num = s[0] + z1 * s[1] + z2 * s[2];
            let den = s[3] + z1 * s[4] + z2 * s[5];
            h * num / den
        })
    }

    /// Default padding of [`sosfiltfilt`], samples: `3 · (2 · n_sections + 1
    /// − min(#sections with b2 = 0, #sections with a2 = 0))`, as scipy.
    pub fn filtfilt_padlen(&self) -> usize {
        let b2_zero = self.sections.iter().filter(|s| s[2] == 0.0).count();
        let a2_zero = self.sections.iter().filter(|s| s[5] == 0.0).count();
        3 * (2 * self.sections.len() + 1 - b2_zero.min(a2_zero))
    }
}

/// Steady-state initial conditions of the cascade for a unit step input
/// (scipy `sosfilt_zi`): multiply by the first sample to start a filter
/// without a transient. One `[z0, z1]` per section.
pub fn sosfilt_zi(sos: &Sos) -> Result<Vec<[f64; 2]>> {
    let mut scale = 1.0;
    let mut zi = Vec::with_capacity(sos.sections.len());
    for (i, s) in sos.sections.iter().enumerate() {
        let (b0, b1, b2, a1, a2) = (s[0], s[1], s[2], s[4], s[5]);
        // lfilter_zi for a biquad: solve (I − Aᵀ) z = b[1:] − a[1:] b0.
        let asum = 1.0 + a1 + a2;
        if asum == 0.0 {
            return Err(Error::Config(format!(
                "filter section {i} has a pole at 0 Hz; it has no steady state"
            )));
        }
        let (c0, c1) = (b1 - a1 * b0, b2 - a2 * b0);
        let z0 = (c0 + c1) / asum;
        let z1 = c1 - a2 * z0;
        zi.push([scale * z0, scale * z1]);
        scale *= (b0 + b1 + b2) / asum;
    }
    Ok(zi)
}

/// A causal SOS filter with its state, for streaming: filtering a signal in
/// blocks of any sizes gives bit-for-bit the output of filtering it whole.
#[derive(Debug, Clone)]
pub struct SosFilter {
    pub(super) sections: Vec<[f64; 6]>,
    pub(super) state: Vec<[f64; 2]>,
}

impl SosFilter {
    /// A filter at rest (zero state, as scipy `sosfilt` without `zi`).
    pub fn new(sos: &Sos) -> SosFilter {
        SosFilter {
            sections: sos.sections.clone(),
            state: vec![[0.0; 2]; sos.sections.len()],
        }
    }

    /// A filter in the steady state of a constant input `x0` (scipy
    /// `sosfilt(sos, x, zi=sosfilt_zi(sos) * x0)`).
    pub fn steady(sos: &Sos, x0: f64) -> Result<SosFilter> {
        let zi = sosfilt_zi(sos)?;
        Ok(SosFilter {
            sections: sos.sections.clone(),
            state: zi.iter().map(|z| [z[0] * x0, z[1] * x0]).collect(),
        })
    }

    /// The current state, one `[z0, z1]` per section (scipy's `zf`).
    pub fn state(&self) -> &[[f64; 2]] {
        &self.state
    }

    /// This filter followed by `next`, each with its current state.
    pub fn chain(&self, next: &SosFilter) -> SosFilter {
        SosFilter {
            sections: [&self.sections[..], &next.sections[..]].concat(),
            state: [&self.state[..], &next.state[..]].concat(),
        }
    }

    /// Back to rest.
    pub fn reset(&mut self) {
        self.state.iter_mut().for_each(|z| *z = [0.0; 2]);
    }

    /// Filters one sample.
    #[inline]
    pub fn step(&mut self, x: f64) -> f64 {
        let mut v = x;
        for (s, z) in self.sections.iter().zip(self.state.iter_mut()) {
            let y = s[0] * v + z[0];
            z[0] = s[1] * v - s[4] * y + z[1];
            z[1] = s[2] * v - s[5] * y;
            v = y;
        }
        v
    }

    /// Filters `x` into `y` (same length), carrying the state to the next
    /// call: the operations of [`SosFilter::step`], with the state held in
    /// registers for the common section counts. A non-finite input sample
    /// restarts the filter from rest and yields NaN, so that a gap does not
    /// poison the rest of the stream.
    pub fn process_f32(&mut self, x: &[f32], y: &mut [f32]) {
        debug_assert_eq!(x.len(), y.len());
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has just been found to support AVX2.
            unsafe { self.process_f32_avx2(x, y) };
            return;
        }
        self.process_f32_portable(x, y);
    }

    /// [`SosFilter::process_f32`] compiled for AVX2: four sections per
    /// vector instead of two. Separate multiplies and adds as in the
    /// portable path (no fused multiply-add), so the output is the same to
    /// the bit on every x86-64 CPU.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn process_f32_avx2(&mut self, x: &[f32], y: &mut [f32]) {
        self.process_f32_portable(x, y);
    }

    #[inline(always)]
    fn process_f32_portable(&mut self, x: &[f32], y: &mut [f32]) {
        match self.sections.len() {
            1 => self.cascade::<1>(x, y),
            2 => self.cascade::<2>(x, y),
            3 => self.cascade::<3>(x, y),
            4 => self.cascade::<4>(x, y),
            5 => self.cascade::<5>(x, y),
            6 => self.cascade::<6>(x, y),
            7 => self.cascade::<7>(x, y),
            8 => self.cascade::<8>(x, y),
            9 => self.cascade::<9>(x, y),
            10 => self.cascade::<10>(x, y),
            _ => {
                for (&u, v) in x.iter().zip(y.iter_mut()) {
                    *v = if u.is_finite() {
                        self.step(u as f64) as f32
                    } else {
                        self.reset();
                        f32::NAN
                    };
                }
            }
        }
    }

    /// [`SosFilter::process_f32`] for exactly `S` sections: each run of
    /// finite samples goes through [`cascade_run`]; a non-finite sample
    /// restarts the filter.
    #[inline(always)]
    fn cascade<const S: usize>(&mut self, x: &[f32], y: &mut [f32]) {
        let sections: [[f64; 6]; S] = self.sections[..].try_into().expect("S sections");
        let mut z: [[f64; 2]; S] = self.state[..].try_into().expect("S states");
        let mut i = 0;
        while i < x.len() {
            if !x[i].is_finite() {
                z = [[0.0; 2]; S];
                y[i] = f32::NAN;
                i += 1;
                continue;
            }
            let end = x[i..]
                .iter()
                .position(|v| !v.is_finite())
                .map_or(x.len(), |p| i + p);
            cascade_run(&sections, &mut z, &x[i..end], &mut y[i..end]);
            i = end;
        }
        self.state.copy_from_slice(&z);
    }

    /// Filters `x` in place, carrying the state to the next call.
    pub fn process<T: Sample>(&mut self, x: &mut [T]) {
        // Sample by sample through all sections (the same operations in the
        // same order as `step`): the sections' recurrences are independent
        // chains, so the CPU overlaps them, which a section-by-section pass
        // over the block cannot.
        for v in x.iter_mut() {
            let mut u = v.to_f64();
            for (s, z) in self.sections.iter().zip(self.state.iter_mut()) {
                let y = s[0] * u + z[0];
                z[0] = s[1] * u - s[4] * y + z[1];
                z[1] = s[2] * u - s[5] * y;
                u = y;
            }
            *v = T::from_f64(u);
        }
    }
}

/// One section of [`SosFilter::step`] (transposed direct form II).
#[inline(always)]
fn section(s: &[f64; 6], z: &mut [f64; 2], v: f64) -> f64 {
    let w = s[0] * v + z[0];
    z[0] = s[1] * v - s[4] * w + z[1];
    z[1] = s[2] * v - s[5] * w;
    w
}

/// Filters finite samples through `S` sections as a skewed pipeline: at
/// step `t` section `k` works on sample `t − k`, so the sections are
/// independent within a step and the CPU overlaps them, where the plain
/// sample-by-sample cascade waits on every section in turn. Each section
/// sees the same inputs in the same order, so the output is bit for bit
/// that of [`SosFilter::step`].
#[inline(always)]
fn cascade_run<const S: usize>(
    sections: &[[f64; 6]; S],
    z: &mut [[f64; 2]; S],
    x: &[f32],
    y: &mut [f32],
) {
    let n = x.len();
    // carry[k]: the last output of section k, the next input of section k + 1.
    let mut carry = [0f64; S];
    // Fill and drain steps: only sections with a sample to work on run.
    let partial = |t: usize, carry: &mut [f64; S], z: &mut [[f64; 2]; S], y: &mut [f32]| {
        for k in (0..S).rev() {
            if t >= k && t - k < n {
                let u = if k == 0 { x[t] as f64 } else { carry[k - 1] };
                carry[k] = section(&sections[k], &mut z[k], u);
                if k == S - 1 {
                    y[t - k] = carry[k] as f32;
                }
            }
        }
    };
    let full = (S - 1)..n.max(S - 1);
    for t in 0..(S - 1).min(n + S - 1) {
        partial(t, &mut carry, z, y);
    }
    for t in full.clone() {
        for k in (1..S).rev() {
            carry[k] = section(&sections[k], &mut z[k], carry[k - 1]);
        }
        carry[0] = section(&sections[0], &mut z[0], x[t] as f64);
        y[t + 1 - S] = carry[S - 1] as f32;
    }
    for t in full.end..n + S - 1 {
        partial(t, &mut carry, z, y);
    }
}

/// Causal filtering of a whole signal from rest (scipy `sosfilt(sos, x)`).
pub fn sosfilt<T: Sample>(sos: &Sos, x: &[T]) -> Vec<T> {
    let mut y = x.to_vec();
    SosFilter::new(sos).process(&mut y);
    y
}

/// Zero-phase filtering, forward then backward, with scipy's defaults:
/// odd extension by [`Sos::filtfilt_padlen`] samples at each end and
/// steady-state initial conditions scaled by the first sample of each pass
/// (scipy `sosfiltfilt(sos, x)`). The amplitude response is the filter's
/// squared. The signal must be longer than the padding.
pub fn sosfiltfilt<T: Sample>(sos: &Sos, x: &[T]) -> Result<Vec<T>> {
    let edge = sos.filtfilt_padlen();
    let n = x.len();
    if n <= edge {
        return Err(Error::Signal(format!(
            "zero-phase filtering with {} sections pads {edge} samples at each end; \
             the signal has {n} samples and must have more than {edge}",
            sos.sections.len()
        )));
    }
    if let Some(i) = x.iter().position(|v| !v.to_f64().is_finite()) {
        return Err(Error::Signal(format!(
            "sample {i} is not finite; zero-phase filtering needs finite samples"
        )));
    }
    let zi = sosfilt_zi(sos)?;
    let x0 = x[0].to_f64();
    let xn = x[n - 1].to_f64();
    // Odd extension: 2·x[0] − x[edge..1], the signal, 2·x[n−1] − x[n−2..n−1−edge].
    let mut ext: Vec<f64> = Vec::with_capacity(n + 2 * edge);
    ext.extend((1..=edge).rev().map(|i| 2.0 * x0 - x[i].to_f64()));
    ext.extend(x.iter().map(|v| v.to_f64()));
    ext.extend((1..=edge).map(|i| 2.0 * xn - x[n - 1 - i].to_f64()));

    let start = |first: f64| SosFilter {
        sections: sos.sections.clone(),
        state: zi.iter().map(|z| [z[0] * first, z[1] * first]).collect(),
    };
    start(ext[0]).process(&mut ext);
    ext.reverse();
    start(ext[0]).process(&mut ext);
    ext.reverse();
    Ok(ext[edge..edge + n]
        .iter()
        .map(|&v| T::from_f64(v))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::design::{butter, iirnotch, ButterType};

    /// The pipelined block filter gives, bit for bit, the sample-by-sample
    /// cascade, for every section count (the unrolled ones and the general
    /// path), across block splits and restarts at non-finite samples.
    #[test]
    fn block_filter_is_bit_identical_to_stepping() {
        let band = butter(
            4,
            ButterType::Bandpass {
                low_hz: 20.0,
                high_hz: 150.0,
            },
            1000.0,
        )
        .unwrap();
        let notch = iirnotch(50.0, 10.0, 1000.0).unwrap();
        let mut x: Vec<f32> = (0..5000)
            .map(|i| ((i * 7919 % 1000) as f32 - 500.0) * 0.1 + (i as f32 * 0.3).sin() * 40.0)
            .collect();
        x[1234] = f32::NAN;
        x[1235] = f32::INFINITY;
        x[4000] = f32::NAN;
        for n in 1..=12 {
            let mut sections: Vec<[f64; 6]> = Vec::new();
            while sections.len() < n {
                let extra = if sections.len() % 3 == 2 {
                    &notch
                } else {
                    &band
                };
                sections.extend_from_slice(extra.sections());
            }
            sections.truncate(n);
            let sos = Sos::new(sections).unwrap();
            let mut stepper = SosFilter::new(&sos);
            let expect: Vec<f32> = x
                .iter()
                .map(|&u| {
                    if u.is_finite() {
                        stepper.step(u as f64) as f32
                    } else {
                        stepper.reset();
                        f32::NAN
                    }
                })
                .collect();
            let mut block = SosFilter::new(&sos);
            let mut y = vec![0f32; x.len()];
            let mut at = 0;
            for len in [1, 2, 3, 7, 100, 1129, 3, 2000].iter().cycle() {
                let end = (at + len).min(x.len());
                block.process_f32(&x[at..end], &mut y[at..end]);
                at = end;
                if at == x.len() {
                    break;
                }
            }
            for (i, (a, b)) in expect.iter().zip(&y).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits(),
                    "{n} sections, sample {i}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn steady_state_start_has_no_transient_on_a_constant() {
        let sos = butter(4, ButterType::Lowpass { cutoff_hz: 10.0 }, 200.0).unwrap();
        let mut f = SosFilter::steady(&sos, 3.0).unwrap();
        let mut x = vec![3.0f64; 500];
        f.process(&mut x);
        for v in x {
            assert!((v - 3.0).abs() < 1e-12, "{v}");
        }
    }

    #[test]
    fn zero_phase_band_pass_keeps_an_in_band_sine_in_place() {
        let fs = 1000.0;
        let sos = butter(
            4,
            ButterType::Bandpass {
                low_hz: 20.0,
                high_hz: 150.0,
            },
            fs,
        )
        .unwrap();
        let x: Vec<f32> = (0..4000)
            .map(|i| (10.0 * (2.0 * std::f64::consts::PI * 70.0 * i as f64 / fs).sin()) as f32)
            .collect();
        let y = sosfiltfilt(&sos, &x).unwrap();
        // Zero phase: the sine comes out in place, amplitude |H(70 Hz)|².
        let g = sos.response(70.0, fs).norm().powi(2) as f32;
        for i in 1000..3000 {
            assert!((y[i] - g * x[i]).abs() < 0.01, "{i}: {} vs {}", y[i], x[i]);
        }
    }

    #[test]
    fn notch_removes_mains_and_keeps_the_rest() {
        let fs = 1000.0;
        let sos = iirnotch(50.0, 30.0, fs).unwrap();
        assert!(sos.response(50.0, fs).norm() < 1e-12);
        assert!((sos.response(120.0, fs).norm() - 1.0).abs() < 0.01);
        // −3 dB at f0 ± f0/(2Q).
        let edge = sos.response(50.0 + 50.0 / 60.0, fs).norm();
        assert!((edge - 0.5f64.sqrt()).abs() < 0.01, "{edge}");
    }

    #[test]
    fn short_or_non_finite_signals_are_refused() {
        let sos = butter(4, ButterType::Highpass { cutoff_hz: 20.0 }, 1000.0).unwrap();
        assert_eq!(sos.filtfilt_padlen(), 3 * (2 * 2 + 1));
        let e = sosfiltfilt(&sos, &[0f32; 15]).unwrap_err().to_string();
        assert!(e.contains("more than 15"), "{e}");
        assert!(sosfiltfilt(&sos, &[0f32; 16]).is_ok());
        let mut x = vec![0f32; 100];
        x[40] = f32::NAN;
        let e = sosfiltfilt(&sos, &x).unwrap_err().to_string();
        assert!(e.contains("sample 40"), "{e}");
    }

    /// Property: for random designs, signals and block sizes (seeded),
    /// filtering block by block gives bit-for-bit the whole-signal output,
    /// and the per-sample `step` agrees with the block path.
    #[test]
    fn blockwise_filtering_equals_whole_signal_for_random_blocks() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20240603);
        for trial in 0..40 {
            let fs = [200.0, 256.0, 500.0, 1000.0, 2000.0][trial % 5];
            let order = rng.random_range(1..=8usize);
            let lo = rng.random_range(0.5..0.2 * fs);
            let hi = rng.random_range(lo + 1.0..0.45 * fs);
            let kind = match trial % 4 {
                0 => ButterType::Lowpass { cutoff_hz: hi },
                1 => ButterType::Highpass { cutoff_hz: lo },
                2 => ButterType::Bandpass {
                    low_hz: lo,
                    high_hz: hi,
                },
                _ => ButterType::Bandstop {
                    low_hz: lo,
                    high_hz: hi,
                },
            };
            let sos = butter(order, kind, fs)
                .unwrap()
                .then(&iirnotch(0.2 * fs, 30.0, fs).unwrap());
            let n = rng.random_range(1..5000usize);
            let x: Vec<f32> = (0..n).map(|_| rng.random_range(-100.0..100.0f32)).collect();
            let whole = sosfilt(&sos, &x);
            let mut f = SosFilter::new(&sos);
            let mut blocks = x.clone();
            let mut rest = &mut blocks[..];
            while !rest.is_empty() {
                let take = rng.random_range(1..=rest.len().min(700));
                let (head, tail) = rest.split_at_mut(take);
                f.process(head);
                rest = tail;
            }
            assert_eq!(blocks, whole, "trial {trial}: {kind:?} order {order}");
            let mut g = SosFilter::new(&sos);
            let stepped: Vec<f32> = x.iter().map(|&v| g.step(v as f64) as f32).collect();
            assert_eq!(stepped, whole, "trial {trial}: step vs process");
            assert_eq!(f.state(), g.state());
        }
    }

    #[test]
    fn bad_sections_are_refused() {
        assert!(Sos::new(vec![]).is_err());
        assert!(Sos::new(vec![[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]]).is_err());
        assert!(Sos::new(vec![[f64::NAN, 0.0, 0.0, 1.0, 0.0, 0.0]]).is_err());
        let s = Sos::new(vec![[2.0, 0.0, 0.0, 2.0, 1.0, 0.0]]).unwrap();
        assert_eq!(s.sections()[0], [1.0, 0.0, 0.0, 1.0, 0.5, 0.0]);
        // A pole at DC has no steady state.
        let integ = Sos::new(vec![[1.0, 0.0, 0.0, 1.0, -1.0, 0.0]]).unwrap();
        assert!(sosfilt_zi(&integ).is_err());
    }
}
