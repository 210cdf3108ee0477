//! Each detector's analyzer on one simulated hour of one hard-preset EMG
//! channel (1 kHz): the streaming part, which is where they differ
//! (baseline, hysteresis and classification are shared).
//!
//! Run: `cargo bench --bench detectors` (HTML in target/criterion/).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod support;

use crampscan::config::{Config, DETECTORS};
use crampscan::detect::{self, MainsPlan};
use crampscan::dsp::PlanCache;
use crampscan::io::{self, BLOCK_FRAMES};
use crampscan::recording::Block;
use crampscan::simulate::{simulate, Difficulty, Format, SimOptions};

const FS_HZ: f64 = 1000.0;

/// The left-leg EMG of one simulated hard hour, µV.
fn hard_hour() -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = SimOptions::with_difficulty(Difficulty::Hard);
    opts.out_dir = dir.path().to_path_buf();
    opts.hours = 1.0;
    opts.format = Format::Wav;
    opts.emg_fs_hz = FS_HZ;
    simulate(&opts).unwrap();
    let cfg = Config::default();
    let mut src = io::open(&dir.path().join("night01_emg.wav"), &cfg)
        .unwrap()
        .remove(0);
    let mut block = Block::new(src.info().channels.len(), BLOCK_FRAMES);
    let mut x = Vec::new();
    loop {
        src.read_block(&mut block).unwrap();
        if block.len == 0 {
            break;
        }
        x.extend_from_slice(block.channel(0));
    }
    x
}

fn detectors(c: &mut Criterion) {
    let x = hard_hour();
    let plans = PlanCache::new();
    let mut g = c.benchmark_group("detector_one_hour");
    g.sample_size(10);
    g.throughput(Throughput::Elements(x.len() as u64));
    for name in DETECTORS {
        let mut cfg = Config::default();
        cfg.detector.name = name.to_string();
        let det = detect::from_config(&cfg, &plans).unwrap();
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut a = det.analyzer(FS_HZ, MainsPlan::Auto).unwrap();
                for chunk in x.chunks(BLOCK_FRAMES) {
                    a.push(black_box(chunk));
                }
                black_box(a.finish(Some(50)))
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = detectors
}
criterion_main!(benches);
