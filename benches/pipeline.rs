//! Throughput of the pipeline's stages on data generated here.
//!
//! Run: `cargo bench --bench pipeline` (HTML in target/criterion/).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

use crampscan::config::Config;
use crampscan::detect::{self, Detector, MainsPlan};
use crampscan::dsp::PlanCache;
use crampscan::night::{process_night, NightInput};
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

fn whole_night(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let mut g = c.benchmark_group("night");
    g.sample_size(10);
    for format in [Format::Csv, Format::Wav] {
        let sub = dir.path().join(format!("{format:?}"));
        let opts = SimOptions {
            out_dir: sub.clone(),
            hours: 0.25,
            format,
            ..SimOptions::default()
        };
        simulate(&opts).unwrap();
        let ext = if format == Format::Csv { "csv" } else { "wav" };
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

criterion_group!(benches, band_power, whole_night);
criterion_main!(benches);
