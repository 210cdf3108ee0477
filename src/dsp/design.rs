//! IIR filter design as second-order sections: Butterworth low-pass,
//! high-pass, band-pass and band-stop, the `iirnotch` mains notch and a comb
//! of notches for mains harmonics.
//!
//! The Butterworth design follows `scipy.signal.butter(N, Wn, btype, fs=fs,
//! output='sos')` step by step (analogue prototype `buttap`, `lp2lp_zpk` /
//! `lp2hp_zpk` / `lp2bp_zpk` / `lp2bs_zpk`, `bilinear_zpk`, then `zpk2sos`
//! with `pairing='nearest'` and the gain in the first section), so that the
//! sections, their order and the gain placement are the same as scipy's:
//! coefficients agree to about 1e-12 relative (tests/dsp_scipy.rs checks 1e-9
//! on a grid of orders 1–8, four types and five sample rates).

use std::f64::consts::PI;

use realfft::num_complex::Complex64;

use super::filter::Sos;
use crate::error::{Error, Result};

/// Highest Butterworth order accepted. Band-pass and band-stop designs have
/// twice as many poles; beyond this the design is numerically meaningless
/// and only reflects a mistaken parameter.
pub const MAX_BUTTER_ORDER: usize = 32;

/// Which kind of Butterworth filter, with its cut-off frequencies in Hz
/// (the −3 dB points, as in scipy).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ButterType {
    Lowpass { cutoff_hz: f64 },
    Highpass { cutoff_hz: f64 },
    Bandpass { low_hz: f64, high_hz: f64 },
    Bandstop { low_hz: f64, high_hz: f64 },
}

impl ButterType {
    fn name(&self) -> &'static str {
        match self {
            ButterType::Lowpass { .. } => "low-pass",
            ButterType::Highpass { .. } => "high-pass",
            ButterType::Bandpass { .. } => "band-pass",
            ButterType::Bandstop { .. } => "band-stop",
        }
    }
}

/// Checks a sample rate and returns its Nyquist frequency, Hz.
fn nyquist_of(fs_hz: f64, what: &str) -> Result<f64> {
    if !(fs_hz.is_finite() && fs_hz > 0.0) {
        return Err(Error::Config(format!(
            "{what}: sample rate {fs_hz} Hz; expected a positive finite rate"
        )));
    }
    Ok(fs_hz / 2.0)
}

/// Checks that `f_hz` lies strictly between 0 and Nyquist.
fn check_freq(f_hz: f64, fs_hz: f64, what: &str) -> Result<()> {
    let nyq = fs_hz / 2.0;
    if !(f_hz.is_finite() && f_hz > 0.0 && f_hz < nyq) {
        return Err(Error::Config(format!(
            "{what}: frequency {f_hz} Hz; expected 0 < f < {nyq} Hz (Nyquist at {fs_hz} Hz sampling)"
        )));
    }
    Ok(())
}

/// Butterworth filter of order `order` at sample rate `fs_hz`, as
/// second-order sections identical to scipy's `butter(..., output='sos')`.
/// Band-pass and band-stop filters have `2 · order` poles, as in scipy.
pub fn butter(order: usize, kind: ButterType, fs_hz: f64) -> Result<Sos> {
    let what = format!("Butterworth {} of order {order}", kind.name());
    nyquist_of(fs_hz, &what)?;
    if order == 0 || order > MAX_BUTTER_ORDER {
        return Err(Error::Config(format!(
            "{what}: expected an order from 1 to {MAX_BUTTER_ORDER}"
        )));
    }
    // Normalised (Nyquist = 1) and pre-warped critical frequencies, as
    // `iirfilter` computes them with its internal fs = 2.
    let warp = |f_hz: f64| -> f64 {
        let wn = f_hz / (fs_hz / 2.0);
        2.0 * 2.0 * (PI * wn / 2.0).tan()
    };
    let (z, p, k) = buttap(order);
    let (z, p, k) = match kind {
        ButterType::Lowpass { cutoff_hz } => {
            check_freq(cutoff_hz, fs_hz, &what)?;
            lp2lp(&z, &p, k, warp(cutoff_hz))
        }
        ButterType::Highpass { cutoff_hz } => {
            check_freq(cutoff_hz, fs_hz, &what)?;
            lp2hp(&z, &p, k, warp(cutoff_hz))
        }
        ButterType::Bandpass { low_hz, high_hz } | ButterType::Bandstop { low_hz, high_hz } => {
            check_freq(low_hz, fs_hz, &what)?;
            check_freq(high_hz, fs_hz, &what)?;
            if low_hz >= high_hz {
                return Err(Error::Config(format!(
                    "{what}: band {low_hz}–{high_hz} Hz; the low edge must be below the high edge"
                )));
            }
            let (w0, w1) = (warp(low_hz), warp(high_hz));
            let bw = w1 - w0;
            let wo = (w0 * w1).sqrt();
            if matches!(kind, ButterType::Bandpass { .. }) {
                lp2bp(&z, &p, k, wo, bw)
            } else {
                lp2bs(&z, &p, k, wo, bw)
            }
        }
    };
    let (z, p, k) = bilinear(&z, &p, k, 2.0);
    let sections = zpk2sos(z, p, k).map_err(|msg| Error::Config(format!("{what}: {msg}")))?;
    Sos::new(sections)
}

/// Second-order IIR notch at `f0_hz` with quality factor `q` (−3 dB
/// bandwidth `f0_hz / q`), identical to `scipy.signal.iirnotch(f0, Q, fs)`.
pub fn iirnotch(f0_hz: f64, q: f64, fs_hz: f64) -> Result<Sos> {
    let what = format!("notch at {f0_hz} Hz");
    nyquist_of(fs_hz, &what)?;
    check_freq(f0_hz, fs_hz, &what)?;
    if !(q.is_finite() && q > 0.0) {
        return Err(Error::Config(format!(
            "{what}: quality factor Q = {q}; expected a positive finite number"
        )));
    }
    Sos::new(vec![notch_section(f0_hz, q, fs_hz)])
}

/// scipy `_design_notch_peak_filter(..., "notch")`, operation for operation.
fn notch_section(f0_hz: f64, q: f64, fs_hz: f64) -> [f64; 6] {
    let w0 = 2.0 * f0_hz / fs_hz;
    let bw = w0 / q * PI;
    let w0 = w0 * PI;
    let beta = (bw / 2.0).tan();
    let gain = 1.0 / (1.0 + beta);
    let c = w0.cos();
    [
        gain,
        gain * (-2.0 * c),
        gain,
        1.0,
        -2.0 * gain * c,
        2.0 * gain - 1.0,
    ]
}

/// Cascade of notches at the mains frequency and its harmonics
/// `k · mains_hz` up to `up_to_hz` and strictly below Nyquist. Every notch
/// has the same −3 dB bandwidth `mains_hz / q` (so harmonic `k` is
/// `iirnotch(k · mains_hz, k · q, fs)`), because mains harmonics are as
/// narrow as the fundamental.
pub fn mains_comb(mains_hz: f64, q: f64, fs_hz: f64, up_to_hz: f64) -> Result<Sos> {
    let nyq = nyquist_of(fs_hz, "mains notch comb")?;
    check_freq(mains_hz, fs_hz, "mains notch comb")?;
    if !(q.is_finite() && q > 0.0) {
        return Err(Error::Config(format!(
            "mains notch comb: quality factor Q = {q}; expected a positive finite number"
        )));
    }
    let mut sections = Vec::new();
    let mut k = 1usize;
    while (k as f64) * mains_hz <= up_to_hz && (k as f64) * mains_hz < nyq {
        sections.push(notch_section(k as f64 * mains_hz, k as f64 * q, fs_hz));
        k += 1;
    }
    if sections.is_empty() {
        return Err(Error::Config(format!(
            "mains notch comb: no harmonic of {mains_hz} Hz lies at or below {up_to_hz} Hz"
        )));
    }
    Sos::new(sections)
}

/// Band-pass biquad with 0 dB peak gain at `f0_hz` and quality `q`
/// (Bristow-Johnson, "Audio EQ Cookbook"). Not a Butterworth: the
/// simulator shapes its EMG noise with it.
pub fn rbj_bandpass(f0_hz: f64, q: f64, fs_hz: f64) -> Result<Sos> {
    let what = format!("RBJ band-pass at {f0_hz} Hz");
    nyquist_of(fs_hz, &what)?;
    check_freq(f0_hz, fs_hz, &what)?;
    if !(q.is_finite() && q > 0.0) {
        return Err(Error::Config(format!(
            "{what}: quality factor Q = {q}; expected a positive finite number"
        )));
    }
    let w0 = 2.0 * PI * f0_hz / fs_hz;
    let alpha = w0.sin() / (2.0 * q);
    let a0 = 1.0 + alpha;
    Sos::new(vec![[
        alpha / a0,
        0.0,
        -alpha / a0,
        1.0,
        -2.0 * w0.cos() / a0,
        (1.0 - alpha) / a0,
    ]])
}

// ---------------------------------------------------------------------------
// Zeros, poles and gain: scipy's transformations, kept in the same order of
// operations so that the pairing decisions in `zpk2sos` come out the same.

type Zpk = (Vec<Complex64>, Vec<Complex64>, f64);

fn c(re: f64) -> Complex64 {
    Complex64::new(re, 0.0)
}

/// Analogue Butterworth prototype (scipy `buttap`).
fn buttap(n: usize) -> Zpk {
    let p = (0..n)
        .map(|i| {
            let m = -(n as f64) + 1.0 + 2.0 * i as f64;
            let theta = PI * m / (2.0 * n as f64);
            -Complex64::new(0.0, theta).exp()
        })
        .collect();
    (Vec::new(), p, 1.0)
}

fn relative_degree(z: &[Complex64], p: &[Complex64]) -> usize {
    p.len().saturating_sub(z.len())
}

fn prod(v: impl Iterator<Item = Complex64>) -> Complex64 {
    v.fold(c(1.0), |acc, x| acc * x)
}

fn lp2lp(z: &[Complex64], p: &[Complex64], k: f64, wo: f64) -> Zpk {
    let degree = relative_degree(z, p);
    (
        z.iter().map(|&x| x * wo).collect(),
        p.iter().map(|&x| x * wo).collect(),
        k * wo.powi(degree as i32),
    )
}

fn lp2hp(z: &[Complex64], p: &[Complex64], k: f64, wo: f64) -> Zpk {
    let degree = relative_degree(z, p);
    let mut z_hp: Vec<Complex64> = z.iter().map(|&x| c(wo) / x).collect();
    let p_hp = p.iter().map(|&x| c(wo) / x).collect();
    z_hp.extend(std::iter::repeat_n(c(0.0), degree));
    let gain = prod(z.iter().map(|&x| -x)) / prod(p.iter().map(|&x| -x));
    (z_hp, p_hp, k * gain.re)
}

/// Each root `r` of the scaled low-pass becomes `r ± sqrt(r² − wo²)`.
fn shift_pair(v: &[Complex64], wo: f64) -> Vec<Complex64> {
    let plus = v.iter().map(|&r| r + (r * r - wo * wo).sqrt());
    let minus = v.iter().map(|&r| r - (r * r - wo * wo).sqrt());
    plus.chain(minus).collect()
}

fn lp2bp(z: &[Complex64], p: &[Complex64], k: f64, wo: f64, bw: f64) -> Zpk {
    let degree = relative_degree(z, p);
    let z_lp: Vec<Complex64> = z.iter().map(|&x| x * bw / 2.0).collect();
    let p_lp: Vec<Complex64> = p.iter().map(|&x| x * bw / 2.0).collect();
    let mut z_bp = shift_pair(&z_lp, wo);
    z_bp.extend(std::iter::repeat_n(c(0.0), degree));
    (z_bp, shift_pair(&p_lp, wo), k * bw.powi(degree as i32))
}

fn lp2bs(z: &[Complex64], p: &[Complex64], k: f64, wo: f64, bw: f64) -> Zpk {
    let degree = relative_degree(z, p);
    let z_hp: Vec<Complex64> = z.iter().map(|&x| c(bw / 2.0) / x).collect();
    let p_hp: Vec<Complex64> = p.iter().map(|&x| c(bw / 2.0) / x).collect();
    let mut z_bs = shift_pair(&z_hp, wo);
    z_bs.extend(std::iter::repeat_n(Complex64::new(0.0, wo), degree));
    z_bs.extend(std::iter::repeat_n(Complex64::new(0.0, -wo), degree));
    let gain = prod(z.iter().map(|&x| -x)) / prod(p.iter().map(|&x| -x));
    (z_bs, shift_pair(&p_hp, wo), k * gain.re)
}

fn bilinear(z: &[Complex64], p: &[Complex64], k: f64, fs: f64) -> Zpk {
    let degree = relative_degree(z, p);
    let fs2 = 2.0 * fs;
    let mut z_z: Vec<Complex64> = z.iter().map(|&x| (fs2 + x) / (fs2 - x)).collect();
    let p_z = p.iter().map(|&x| (fs2 + x) / (fs2 - x)).collect();
    z_z.extend(std::iter::repeat_n(c(-1.0), degree));
    let gain = prod(z.iter().map(|&x| fs2 - x)) / prod(p.iter().map(|&x| fs2 - x));
    (z_z, p_z, k * gain.re)
}

/// Tolerance for telling real roots from complex ones (scipy `_cplxreal`).
const CPLX_TOL: f64 = 100.0 * f64::EPSILON;

/// Splits roots into one member of each conjugate pair (positive imaginary
/// part, averaged with its partner) and the real roots, both sorted as
/// scipy's `_cplxreal` sorts them.
fn cplxreal(z: &[Complex64]) -> std::result::Result<(Vec<Complex64>, Vec<f64>), String> {
    let mut z = z.to_vec();
    // Stable sort by real part, then |imag| (numpy lexsort).
    z.sort_by(|a, b| {
        a.re.total_cmp(&b.re)
            .then_with(|| a.im.abs().total_cmp(&b.im.abs()))
    });
    let is_real = |x: &Complex64| x.im.abs() <= CPLX_TOL * x.norm();
    let zr: Vec<f64> = z.iter().filter(|x| is_real(x)).map(|x| x.re).collect();
    let rest: Vec<Complex64> = z.iter().filter(|x| !is_real(x)).cloned().collect();
    let mut zp: Vec<Complex64> = rest.iter().filter(|x| x.im > 0.0).cloned().collect();
    let mut zn: Vec<Complex64> = rest.iter().filter(|x| x.im < 0.0).cloned().collect();
    if zp.len() != zn.len() {
        return Err("a complex root has no matching conjugate".into());
    }
    // Runs of (nearly) equal real parts are sorted by |imag|.
    let mut start = 0;
    while start < zp.len() {
        let mut stop = start + 1;
        while stop < zp.len() && zp[stop].re - zp[stop - 1].re <= CPLX_TOL * zp[stop - 1].norm() {
            stop += 1;
        }
        if stop - start > 1 {
            zp[start..stop].sort_by(|a, b| a.im.abs().total_cmp(&b.im.abs()));
            zn[start..stop].sort_by(|a, b| a.im.abs().total_cmp(&b.im.abs()));
        }
        start = stop;
    }
    let mut zc = Vec::with_capacity(zp.len());
    for (a, b) in zp.iter().zip(&zn) {
        if (a - b.conj()).norm() > CPLX_TOL * b.norm() {
            return Err("a complex root has no matching conjugate".into());
        }
        zc.push((a + b.conj()) / 2.0);
    }
    Ok((zc, zr))
}

fn is_real(x: &Complex64) -> bool {
    x.im == 0.0
}

/// Index of the root closest to the unit circle (first of equals).
fn idx_worst(p: &[Complex64]) -> usize {
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for (i, x) in p.iter().enumerate() {
        let d = (1.0 - x.norm()).abs();
        if d < best_d {
            best_d = d;
            best = i;
        }
    }
    best
}

#[derive(Clone, Copy, PartialEq)]
enum Which {
    Real,
    Complex,
    Any,
}

/// Index of the root of `fro` nearest to `to` among the requested kind
/// (scipy `_nearest_real_complex_idx`).
fn nearest(fro: &[Complex64], to: Complex64, which: Which) -> Option<usize> {
    let mut order: Vec<usize> = (0..fro.len()).collect();
    order.sort_by(|&a, &b| (fro[a] - to).norm().total_cmp(&(fro[b] - to).norm()));
    order.into_iter().find(|&i| match which {
        Which::Any => true,
        Which::Real => is_real(&fro[i]),
        Which::Complex => !is_real(&fro[i]),
    })
}

/// Real coefficients of the monic polynomial with the given roots
/// (numpy `poly`), highest power first.
fn poly(roots: &[Complex64]) -> Vec<f64> {
    let mut a = vec![c(1.0)];
    for &r in roots {
        let mut next = vec![c(0.0); a.len() + 1];
        for (i, &ai) in a.iter().enumerate() {
            next[i] += ai;
            next[i + 1] += ai * -r;
        }
        a = next;
    }
    a.into_iter().map(|x| x.re).collect()
}

/// One section from up to two zeros and two poles, right-aligned as in
/// scipy `_single_zpksos`.
fn single_section(z: &[Complex64], p: &[Complex64]) -> [f64; 6] {
    let mut s = [0.0; 6];
    let b = poly(z);
    let a = poly(p);
    s[3 - b.len()..3].copy_from_slice(&b);
    s[6 - a.len()..6].copy_from_slice(&a);
    s
}

/// Removes and returns the root of `v` nearest to `to` of the requested kind.
fn take(
    v: &mut Vec<Complex64>,
    to: Complex64,
    which: Which,
) -> std::result::Result<Complex64, String> {
    match nearest(v, to, which) {
        Some(i) => Ok(v.remove(i)),
        None => Err("no root left to pair with".into()),
    }
}

/// scipy `zpk2sos(z, p, k, pairing='nearest')` for a digital filter.
fn zpk2sos(
    mut z: Vec<Complex64>,
    mut p: Vec<Complex64>,
    k: f64,
) -> std::result::Result<Vec<[f64; 6]>, String> {
    if z.is_empty() && p.is_empty() {
        return Ok(vec![[k, 0.0, 0.0, 1.0, 0.0, 0.0]]);
    }
    let n = z.len().max(p.len());
    p.resize(n, c(0.0));
    z.resize(n, c(0.0));
    let n_sections = n.div_ceil(2);
    if n % 2 == 1 {
        p.push(c(0.0));
        z.push(c(0.0));
    }
    let join = |(zc, zr): (Vec<Complex64>, Vec<f64>)| -> Vec<Complex64> {
        zc.into_iter().chain(zr.into_iter().map(c)).collect()
    };
    let mut z = join(cplxreal(&z)?);
    let mut p = join(cplxreal(&p)?);

    let mut sos = vec![[0.0; 6]; n_sections];
    // Built from the last section backwards so that the poles closest to the
    // unit circle end up last.
    for si in (0..n_sections).rev() {
        let p1 = p.remove(idx_worst(&p));
        let p_reals = p.iter().filter(|x| is_real(x)).count();
        let z_reals = z.iter().filter(|x| is_real(x)).count();
        sos[si] = if is_real(&p1) && p_reals == 0 {
            // The last real pole: pair it with the nearest real zero.
            let z1 = take(&mut z, p1, Which::Real)?;
            single_section(&[z1, c(0.0)], &[p1, c(0.0)])
        } else if p.len() + 1 == z.len() && !is_real(&p1) && p_reals == 1 && z_reals == 1 {
            // One real pole and one real zero left: a complex zero must go here.
            let z1 = take(&mut z, p1, Which::Complex)?;
            single_section(&[z1, z1.conj()], &[p1, p1.conj()])
        } else {
            let p2 = if is_real(&p1) {
                let real_idx: Vec<usize> = (0..p.len()).filter(|&i| is_real(&p[i])).collect();
                let reals: Vec<Complex64> = real_idx.iter().map(|&i| p[i]).collect();
                p.remove(real_idx[idx_worst(&reals)])
            } else {
                p1.conj()
            };
            if z.is_empty() {
                single_section(&[], &[p1, p2])
            } else {
                let z1 = take(&mut z, p1, Which::Any)?;
                if !is_real(&z1) {
                    single_section(&[z1, z1.conj()], &[p1, p2])
                } else if !z.is_empty() {
                    let z2 = take(&mut z, p1, Which::Real)?;
                    single_section(&[z1, z2], &[p1, p2])
                } else {
                    single_section(&[z1], &[p1, p2])
                }
            }
        };
    }
    for b in &mut sos[0][..3] {
        *b *= k;
    }
    Ok(sos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_order_lowpass_matches_the_textbook_formula() {
        // Order-2 Butterworth low-pass by the bilinear transform:
        // K = tan(pi fc / fs), b = K²/(1+√2K+K²)·[1, 2, 1].
        let (fc, fs) = (100.0, 1000.0);
        let s = butter(2, ButterType::Lowpass { cutoff_hz: fc }, fs).unwrap();
        let kk = (PI * fc / fs).tan();
        let norm = 1.0 + 2f64.sqrt() * kk + kk * kk;
        let b0 = kk * kk / norm;
        let a1 = 2.0 * (kk * kk - 1.0) / norm;
        let a2 = (1.0 - 2f64.sqrt() * kk + kk * kk) / norm;
        let got = s.sections()[0];
        let want = [b0, 2.0 * b0, b0, 1.0, a1, a2];
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-14, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn bad_parameters_are_refused_with_a_message() {
        let lp = |f| ButterType::Lowpass { cutoff_hz: f };
        for (order, kind, fs) in [
            (0, lp(10.0), 100.0),
            (4, lp(50.0), 100.0),
            (4, lp(60.0), 100.0),
            (4, lp(0.0), 100.0),
            (4, lp(f64::NAN), 100.0),
            (4, lp(10.0), 0.0),
            (4, lp(10.0), -5.0),
            (
                2,
                ButterType::Bandpass {
                    low_hz: 30.0,
                    high_hz: 20.0,
                },
                100.0,
            ),
            (MAX_BUTTER_ORDER + 1, lp(10.0), 100.0),
        ] {
            let e = butter(order, kind, fs).unwrap_err();
            assert!(matches!(e, Error::Config(_)), "{e}");
        }
        let e = iirnotch(50.0, -1.0, 1000.0).unwrap_err().to_string();
        assert!(e.contains("Q = -1"), "{e}");
        assert!(iirnotch(50.0, 0.0, 1000.0).is_err());
        assert!(iirnotch(500.0, 30.0, 1000.0).is_err());
        let e = butter(4, lp(500.0), 1000.0).unwrap_err().to_string();
        assert!(e.contains("Nyquist"), "{e}");
    }

    #[test]
    fn comb_has_one_notch_per_harmonic_below_nyquist() {
        let s = mains_comb(50.0, 30.0, 1000.0, 1000.0).unwrap();
        // 50, 100, …, 450 Hz; 500 Hz is Nyquist itself.
        assert_eq!(s.sections().len(), 9);
        let s = mains_comb(60.0, 30.0, 256.0, 200.0).unwrap();
        assert_eq!(s.sections().len(), 2);
        assert!(mains_comb(60.0, 30.0, 1000.0, 40.0).is_err());
    }
}
