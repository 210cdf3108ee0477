//! Throughput of the pipeline's stages on data generated here: reading
//! (CSV, WAV), FFT band power, detection and scoring, the whole night.
//!
//! Run: `cargo bench --bench pipeline` (HTML in target/criterion/).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod support;

use crampscan::config::Config;
use crampscan::detect::stream::{Exclusion, SpanStream};
use crampscan::detect::{self, ActivitySeries, Detector, MainsPlan};
use crampscan::dsp::PlanCache;
use crampscan::night::{process_night, NightInput};
use crampscan::score::classify::classify_group;
use crampscan::score::plm;
use crampscan::simulate::{simulate, Format, SimOptions};

const FS_HZ: f64 = 1000.0;

fn signal(n: usize) -> Vec<f32> {
    // A deterministic broadband signal: no RNG needed for throughput.
    (0..n)
        .map(|i| {
            let t = i as f32 / FS_HZ as f32;
            (t * 523.0).sin() * 5.0 + (t * 1291.0).sin() * 3.0 + ((i * 7919) % 101) as f32 * 0.05
        })
        .collect()
}

fn band_power(c: &mut Criterion) {
    let x = signal(600 * FS_HZ as usize);
    let cfg = Config::default();
    let plans = PlanCache::new();
    let det = detect::fft_band::FftBand::new(cfg.detector.clone(), plans);
    let mut g = c.benchmark_group("fft_band");
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("10 min at 1 kHz", |b| {
        b.iter(|| {
            let mut a = det.analyzer(FS_HZ, MainsPlan::Auto).unwrap();
            for chunk in x.chunks(4096) {
                a.push(black_box(chunk));
            }
            black_box(a.finish(Some(50)))
        })
    });
    g.finish();
}

/// Simulates a default 15-minute night in `format` under `dir`; its options
/// (`out_dir` is the night's folder) and file extension.
fn quarter_hour_night(dir: &std::path::Path, format: Format) -> (SimOptions, &'static str) {
    let opts = SimOptions {
        out_dir: dir.join(format!("{format:?}")),
        hours: 0.25,
        format,
        ..SimOptions::default()
    };
    simulate(&opts).unwrap();
    (opts, if format == Format::Csv { "csv" } else { "wav" })
}

/// Reading alone: a 15-minute simulated night's EMG file (2 channels at
/// 1 kHz) as CSV and as WAV, every block decoded to µV.
fn read(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("read");
    g.sample_size(10);
    for format in [Format::Csv, Format::Wav] {
        let (opts, ext) = quarter_hour_night(dir.path(), format);
        let path = opts.out_dir.join(format!("night01_emg.{ext}"));
        let cfg = Config::default();
        g.throughput(Throughput::Elements(
            (opts.hours * 3600.0 * 2.0 * opts.emg_fs_hz) as u64,
        ));
        g.bench_function(format!("15 min EMG {ext}"), |b| {
            b.iter(|| black_box(support::read_all(&path, &cfg)))
        });
    }
    g.finish();
}

/// Detection and scoring alone, on 8 hours of per-window activity: resting
/// noise around 2 µV with a 4 s leg movement every 30 s and a 60 s
/// contraction every hour; throughput in windows per second.
fn detect_and_score(c: &mut Criterion) {
    let hop_s = 0.1;
    let n = (8.0 * 3600.0 / hop_s) as usize;
    let activity_uv: Vec<f32> = (0..n)
        .map(|i| {
            let t = i as f64 * hop_s;
            let rest = 2.0 + ((i * 7919) % 13) as f32 * 0.05;
            if t % 3600.0 > 1800.0 && t % 3600.0 < 1860.0 {
                60.0
            } else if t % 30.0 < 4.0 {
                25.0
            } else {
                rest
            }
        })
        .collect();
    let series = ActivitySeries {
        hop_s,
        first_center_s: 0.125,
        first_index: 0,
        median_freq_hz: vec![80.0; n],
        motion_uv: vec![0.5; n],
        activity_uv,
        band_hz: (20.0, 150.0),
        fine_per_window: 0,
        fine_power_uv2: Vec::new(),
        fine_offset_uv2: Vec::new(),
        fine_scale: Vec::new(),
    };
    let cfg = Config::default();
    let params = cfg.plm_params().unwrap();
    let mut g = c.benchmark_group("detect_score");
    g.sample_size(10);
    g.throughput(Throughput::Elements(n as u64));
    // As a night streams: pieces of one block's windows (65536 samples at
    // 1 kHz, a 0.1 s hop) through the streaming detector, then the groups
    // classified and the leg movements scored.
    let piece = 655;
    g.bench_function("8 h of windows, one channel", |b| {
        b.iter(|| {
            let mut stream = SpanStream::new(&cfg, 1000.0, Exclusion::Known(Vec::new()), false);
            let n = series.activity_uv.len();
            let mut at = 0;
            while at + piece <= n {
                stream.push(series.slice(at, piece));
                stream.advance();
                at += piece;
            }
            let outcome = stream.finish(series.slice(at, n - at), &[]);
            let eps: Vec<_> = outcome
                .groups
                .iter()
                .flat_map(|g| classify_group("emg_calf_l", g, None, &cfg))
                .collect();
            black_box(plm::score(&eps, &params))
        })
    });
    g.finish();
}

fn whole_night(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("night");
    g.sample_size(10);
    for format in [Format::Csv, Format::Wav] {
        let (opts, ext) = quarter_hour_night(dir.path(), format);
        let sub = &opts.out_dir;
        let night = NightInput {
            id: "night01".into(),
            files: vec![
                sub.join(format!("night01_acc.{ext}")),
                sub.join(format!("night01_emg.{ext}")),
            ],
        };
        let cfg = Config::default();
        let plans = PlanCache::new();
        let det = detect::from_config(&cfg, &plans).unwrap();
        let samples = (opts.hours * 3600.0 * (2.0 * opts.emg_fs_hz + 3.0 * opts.acc_fs_hz)) as u64;
        g.throughput(Throughput::Elements(samples));
        g.bench_function(format!("15 min {ext}"), |b| {
            b.iter(|| black_box(process_night(&night, &cfg, det.as_ref(), &plans).unwrap()))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = read, band_power, detect_and_score, whole_night
}
criterion_main!(benches);
