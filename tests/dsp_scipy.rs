//! The DSP core against scipy: fixtures written by
//! `scripts/gen_dsp_fixtures.py` (scipy version recorded in each file).
//!
//! Tolerances (issue 3): SOS coefficients 1e-9 relative; `sosfiltfilt`
//! 1e-5 relative to the signal's RMS; Welch 1e-6 relative per bin.

use std::path::Path;

use serde_json::Value;

use crampscan::dsp::design::{butter, iirnotch, mains_comb, ButterType};
use crampscan::dsp::filter::{sosfilt, sosfilt_zi, sosfiltfilt, Sos};
use crampscan::dsp::spectral::{band_features, welch, Scaling, WelchOptions};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/dsp")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

/// Samples stored as 9-digit decimals of f32 values: parsed as f32 they
/// are exactly the values scipy filtered.
fn f32s(v: &Value) -> Vec<f32> {
    f64s(v).into_iter().map(|x| x as f32).collect()
}

fn kind(btype: &str, wn: &[f64]) -> ButterType {
    match btype {
        "lowpass" => ButterType::Lowpass { cutoff_hz: wn[0] },
        "highpass" => ButterType::Highpass { cutoff_hz: wn[0] },
        "bandpass" => ButterType::Bandpass {
            low_hz: wn[0],
            high_hz: wn[1],
        },
        "bandstop" => ButterType::Bandstop {
            low_hz: wn[0],
            high_hz: wn[1],
        },
        other => panic!("unknown btype {other}"),
    }
}

fn design(case: &Value) -> Sos {
    let order = case["order"].as_u64().unwrap() as usize;
    let wn = f64s(&case["wn"]);
    let fs = case["fs"].as_f64().unwrap();
    butter(order, kind(case["btype"].as_str().unwrap(), &wn), fs)
        .unwrap_or_else(|e| panic!("{case}: {e}"))
}

/// Compares sections: each coefficient within `rel` of scipy's, relative to
/// the largest magnitude in its half (numerator or denominator) of the
/// section, so that coefficients that are zero in exact arithmetic (and
/// ±1e-17 in either implementation) compare sensibly.
fn sections_mismatch(got: &[[f64; 6]], want: &[f64], rel: f64, what: &str) -> Option<String> {
    if got.len() * 6 != want.len() {
        return Some(format!(
            "{what}: {} sections, scipy {}",
            got.len(),
            want.len() / 6
        ));
    }
    for (i, (g, w)) in got.iter().zip(want.chunks(6)).enumerate() {
        for half in [0..3, 3..6] {
            let scale = w[half.clone()].iter().fold(0f64, |m, v| m.max(v.abs()));
            for j in half {
                let err = (g[j] - w[j]).abs();
                if err > rel * scale {
                    return Some(format!(
                        "{what}: section {i} coefficient {j}: {} vs scipy {} (error {:.2e} of {scale:.3e})",
                        g[j],
                        w[j],
                        err / scale
                    ));
                }
            }
        }
    }
    None
}

fn assert_sections_close(got: &[[f64; 6]], want: &[f64], rel: f64, what: &str) {
    if let Some(msg) = sections_mismatch(got, want, rel, what) {
        panic!("{msg}");
    }
}

/// Largest difference between the two cascades' complex responses on 256
/// frequencies from 0 to Nyquist, relative to the largest gain.
fn response_mismatch(a: &Sos, b: &Sos, fs: f64) -> f64 {
    let freqs: Vec<f64> = (0..=256).map(|i| i as f64 / 256.0 * fs / 2.0).collect();
    let peak = freqs
        .iter()
        .map(|&f| b.response(f, fs).norm())
        .fold(0f64, f64::max);
    freqs
        .iter()
        .map(|&f| (a.response(f, fs) - b.response(f, fs)).norm() / peak)
        .fold(0f64, f64::max)
}

#[test]
fn butterworth_sections_match_scipy_to_1e9() {
    let fx = fixture("butter.json");
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 560, "grid has {} designs", cases.len());
    let mut worst = 0f64;
    let mut failures = Vec::new();
    let mut ties = 0;
    for case in cases {
        let sos = design(case);
        let want = f64s(&case["sos"]);
        let fs = case["fs"].as_f64().unwrap();
        let what = format!(
            "order {} {} {:?} Hz at {} Hz",
            case["order"], case["btype"], case["wn"], fs
        );
        if case["tie"].as_bool().unwrap() {
            // A band symmetric about fs/4 has pole pairs of equal modulus;
            // scipy orders those sections by rounding noise (CPU-dependent),
            // so only the cascade as a whole is compared.
            ties += 1;
            let scipy = Sos::new(want.chunks(6).map(|c| c.try_into().unwrap()).collect()).unwrap();
            assert_eq!(sos.sections().len(), scipy.sections().len(), "{what}");
            let err = response_mismatch(&sos, &scipy, fs);
            if err > 1e-9 {
                failures.push(format!("{what}: response differs by {err:.2e}"));
            }
            continue;
        }
        if let Some(msg) = sections_mismatch(sos.sections(), &want, 1e-9, &what) {
            failures.push(msg);
            continue;
        }
        for (g, w) in sos.sections().iter().flatten().zip(&want) {
            if w.abs() > 1e-12 {
                worst = worst.max(((g - w) / w).abs());
            }
        }
    }
    println!(
        "{} designs ({ties} with tied poles); worst relative coefficient error {worst:.2e}",
        cases.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {} designs differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn steady_state_conditions_match_sosfilt_zi() {
    let fx = fixture("filter.json");
    for case in fx["zi_check"].as_array().unwrap() {
        let zi = sosfilt_zi(&design(case)).unwrap();
        let want = f64s(&case["zi"]);
        for (g, w) in zi.iter().flatten().zip(&want) {
            assert!((g - w).abs() <= 1e-9 * w.abs().max(1e-3), "{g} vs {w}");
        }
    }
}

fn rms(x: &[f32]) -> f64 {
    (x.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
}

#[test]
fn sosfilt_and_sosfiltfilt_match_scipy_to_1e5_of_rms() {
    let fx = fixture("filter.json");
    let cases = fx["cases"].as_array().unwrap();
    for case in cases {
        let sos = design(case);
        let x = f32s(&case["x"]);
        let what = format!(
            "order {} {} {:?} Hz at {} Hz, {} samples",
            case["order"],
            case["btype"],
            case["wn"],
            case["fs"],
            x.len()
        );
        assert_eq!(
            sos.filtfilt_padlen() as u64,
            case["padlen"].as_u64().unwrap(),
            "{what}: padlen"
        );
        let tol = 1e-5 * rms(&x);
        // f32 output: rounding alone is ~6e-8 of the sample.
        for (name, got) in [
            ("sosfilt", sosfilt(&sos, &x)),
            ("sosfiltfilt", sosfiltfilt(&sos, &x).unwrap()),
        ] {
            let want = f64s(&case[name]);
            assert_eq!(got.len(), want.len(), "{what}: {name} length");
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (*g as f64 - w).abs() <= tol,
                    "{what}: {name}[{i}] = {g} vs scipy {w} (tolerance {tol:.2e})"
                );
            }
        }
        // In f64 throughout, the agreement is far closer.
        let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
        let got = sosfiltfilt(&sos, &x64).unwrap();
        for (g, w) in got.iter().zip(f64s(&case["sosfiltfilt"])) {
            assert!((g - w).abs() <= 1e-9 * rms(&x), "{what}: f64 {g} vs {w}");
        }
        // One sample shorter than the padding allows is refused.
        let padlen = sos.filtfilt_padlen();
        assert!(sosfiltfilt(&sos, &x[..padlen]).is_err(), "{what}");
    }
}

/// Welch bins agree to 1e-6 relative; bins that are rounding noise (below
/// 1e-12 of the peak, e.g. DC after detrending) compare at 1e-12 of the peak.
fn assert_psd_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: bins");
    let peak = want.iter().fold(0f64, |m, v| m.max(v.abs()));
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = (1e-6 * w.abs()).max(1e-12 * peak);
        assert!((g - w).abs() <= tol, "{what}: bin {k}: {g} vs scipy {w}");
    }
}

#[test]
fn welch_matches_scipy_to_1e6() {
    let fx = fixture("welch.json");
    let fs = fx["fs"].as_f64().unwrap();
    let x = f32s(&fx["x"]);
    let short = f32s(&fx["short_x"]);
    for case in fx["cases"].as_array().unwrap() {
        let opts = WelchOptions {
            nperseg: case["nperseg"].as_u64().unwrap() as usize,
            noverlap: case["noverlap"].as_u64().map(|v| v as usize),
            scaling: match case["scaling"].as_str().unwrap() {
                "density" => Scaling::Density,
                _ => Scaling::Spectrum,
            },
            ..WelchOptions::default()
        };
        let data = if case["short"].as_bool().unwrap() {
            &short
        } else {
            &x
        };
        let what = format!("{opts:?} on {} samples", data.len());
        let psd = welch(data, fs, &opts).unwrap();
        assert_psd_close(&psd.freqs_hz, &f64s(&case["freqs"]), &what);
        assert_psd_close(&psd.power, &f64s(&case["psd"]), &what);
        let feat = band_features(&psd, 20.0, 150.0).unwrap();
        let mean = case["mean_hz_20_150"].as_f64().unwrap();
        assert!(
            (feat.mean_hz - mean).abs() <= 1e-6 * mean,
            "{what}: mean {}",
            feat.mean_hz
        );
        let median = case["median_hz_20_150"].as_f64().unwrap();
        assert!(
            (feat.median_hz - median).abs() <= 1e-9 * median,
            "{what}: median {}",
            feat.median_hz
        );
    }
}

#[test]
fn notches_and_mains_comb_match_scipy() {
    let fx = fixture("notch.json");
    for d in fx["designs"].as_array().unwrap() {
        let (f0, q, fs) = (
            d["f0"].as_f64().unwrap(),
            d["q"].as_f64().unwrap(),
            d["fs"].as_f64().unwrap(),
        );
        let sos = iirnotch(f0, q, fs).unwrap();
        let mut want = f64s(&d["b"]);
        want.extend(f64s(&d["a"]));
        assert_sections_close(
            sos.sections(),
            &want,
            1e-12,
            &format!("notch {f0} Hz Q {q} at {fs} Hz"),
        );
    }
    for d in fx["combs"].as_array().unwrap() {
        let (mains, q, fs, up_to) = (
            d["mains"].as_f64().unwrap(),
            d["q"].as_f64().unwrap(),
            d["fs"].as_f64().unwrap(),
            d["up_to"].as_f64().unwrap(),
        );
        let what = format!("{mains} Hz comb at {fs} Hz");
        let sos = mains_comb(mains, q, fs, up_to).unwrap();
        assert_sections_close(sos.sections(), &f64s(&d["sos"]), 1e-12, &what);
        for (f, a) in f64s(&d["response_freqs"])
            .iter()
            .zip(f64s(&d["response_abs"]))
        {
            let g = sos.response(*f, fs).norm();
            assert!(
                (g - a).abs() <= 1e-9,
                "{what}: |H({f} Hz)| = {g} vs scipy {a}"
            );
        }
        let x = f32s(&d["x"]);
        let tol = 1e-5 * rms(&x);
        for (i, (g, w)) in sosfilt(&sos, &x)
            .iter()
            .zip(f64s(&d["sosfilt"]))
            .enumerate()
        {
            assert!(
                (*g as f64 - w).abs() <= tol,
                "{what}: sample {i}: {g} vs {w}"
            );
        }
    }
}
