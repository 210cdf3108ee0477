//! Throughput of the DSP core over one hour of 1 kHz data: causal band-pass
//! plus mains notch comb (in place, in f32 one sample after another, in
//! stretches across lanes), the same zero-phase, and the fft-band detector's
//! windowed band power.
//!
//! Run: `cargo bench --bench dsp` (HTML in target/criterion/).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod support;

use crampscan::config::Config;
use crampscan::detect::{fft_band::FftBand, Detector, MainsPlan};
use crampscan::dsp::design::{butter, mains_comb, ButterType};
use crampscan::dsp::filter::{sosfiltfilt, SosFilter};
use crampscan::dsp::stretch::StretchFilter;
use crampscan::dsp::PlanCache;
use crampscan::io::BLOCK_FRAMES;

const FS_HZ: f64 = 1000.0;
const ONE_HOUR: usize = 3600 * FS_HZ as usize;
/// Block size of the streaming benches, samples (a reader's block).
const BLOCK: usize = 4096;

fn signal(n: usize) -> Vec<f32> {
    // A deterministic broadband signal with mains hum: no RNG needed for throughput.
    (0..n)
        .map(|i| {
            let t = i as f32 / FS_HZ as f32;
            (t * 523.0).sin() * 5.0
                + (t * 1291.0).sin() * 3.0
                + (t * 314.159_27).sin() * 8.0
                + ((i * 7919) % 101) as f32 * 0.05
        })
        .collect()
}

fn filters(c: &mut Criterion) {
    let x = signal(ONE_HOUR);
    let sos = butter(
        4,
        ButterType::Bandpass {
            low_hz: 20.0,
            high_hz: 150.0,
        },
        FS_HZ,
    )
    .unwrap()
    .then(&mains_comb(50.0, crampscan::config::NOTCH_Q, FS_HZ, 155.0).unwrap());
    let mut g = c.benchmark_group("filter");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function(
        "band-pass 20-150 Hz order 4 + 50 Hz comb, 1 h at 1 kHz, streamed",
        |b| {
            let mut buf = x.clone();
            b.iter(|| {
                buf.copy_from_slice(&x);
                let mut f = SosFilter::new(&sos);
                for block in buf.chunks_mut(BLOCK) {
                    f.process(black_box(block));
                }
                black_box(buf[buf.len() - 1])
            })
        },
    );
    let mut y = vec![0f32; x.len()];
    g.bench_function(
        "same, f32 in reader blocks, one sample after another",
        |b| {
            b.iter(|| {
                let mut f = SosFilter::new(&sos);
                for (xb, yb) in x.chunks(BLOCK_FRAMES).zip(y.chunks_mut(BLOCK_FRAMES)) {
                    f.process_f32(black_box(xb), yb);
                }
                black_box(y[y.len() - 1])
            })
        },
    );
    g.bench_function("same, f32 in reader blocks, stretches across lanes", |b| {
        b.iter(|| {
            let mut f = StretchFilter::new(SosFilter::new(&sos), FS_HZ);
            for (xb, yb) in x.chunks(BLOCK_FRAMES).zip(y.chunks_mut(BLOCK_FRAMES)) {
                f.process(black_box(xb), yb);
            }
            black_box(y[y.len() - 1])
        })
    });
    g.bench_function("same, zero-phase (sosfiltfilt), 1 h at 1 kHz", |b| {
        b.iter(|| black_box(sosfiltfilt(&sos, black_box(&x)).unwrap()))
    });
    g.finish();
}

fn band_power(c: &mut Criterion) {
    let x = signal(ONE_HOUR);
    let cfg = Config::default();
    let det = FftBand::new(cfg.detector.clone(), PlanCache::new());
    let mut g = c.benchmark_group("fft_band");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.len() as u64));
    g.bench_function("windowed band power, 1 h at 1 kHz", |b| {
        b.iter(|| {
            let mut a = det.analyzer(FS_HZ, MainsPlan::Auto).unwrap();
            for block in x.chunks(BLOCK) {
                a.push(black_box(block));
            }
            black_box(a.finish(Some(50)))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = filters, band_power
}
criterion_main!(benches);
