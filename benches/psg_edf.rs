//! A night shaped like a clinical PSG export, read and scanned (issue 21,
//! item 4): 8 hours of EDF+C, 1 s records, 22 signals at 1–512 Hz plus the
//! annotation signal (six EEG and two EOG at 256 Hz, chin EMG 512, ECG 256,
//! both legs `LAT`/`RAT` at 512, snore 512, four respiration channels at
//! 32 Hz, SpO2, pulse, position and light at 1 Hz), about 260 MB. Measured:
//! reading the file with a plain buffered read (the floor), crampscan
//! reading and decoding the two leg channels it selects, and the whole scan
//! of the night.
//!
//! `cargo bench --bench psg_edf` (the file is written to a temporary folder
//! first, a few seconds).

use std::fs::File;
use std::hint::black_box;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

mod support;

use crampscan::batch::{self, Inputs, ScanOptions};
use crampscan::config::Config;

/// Length of the night, s.
const NIGHT_S: usize = 8 * 3600;

/// The signals, one per line after a header: label, unit, samples per
/// 1 s record, physical range (±); tab-separated. scripts/make_psg_edf.py
/// writes the same layout from this file.
const LAYOUT_TSV: &str = include_str!("support/psg_layout.tsv");

/// A data signal: label, unit, samples per record, physical range (±).
type Signal = (&'static str, &'static str, usize, f64);

fn signals() -> Vec<Signal> {
    LAYOUT_TSV
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0], f[1], f[2].parse().unwrap(), f[3].parse().unwrap())
        })
        .collect()
}
/// Bytes of the annotation signal per record (time-keeping TAL only).
const ANN_SAMPLES: usize = 30;

fn field(out: &mut Vec<u8>, s: &str, width: usize) {
    let mut b = s.as_bytes().to_vec();
    b.resize(width, b' ');
    out.extend_from_slice(&b[..width]);
}

/// Writes the PSG-shaped EDF+C night to `path`: low-amplitude noise on
/// every signal (legs about 3 µV RMS), time-keeping TALs.
fn write_psg(path: &Path) {
    let data = signals();
    let mut all = data.clone();
    all.push(("EDF Annotations", "", ANN_SAMPLES, 1.0));
    let mut h = Vec::new();
    field(&mut h, "0", 8);
    field(&mut h, "X X X X", 80);
    field(&mut h, "Startdate 04-DEC-2026 X X X", 80);
    field(&mut h, "04.12.26", 8);
    field(&mut h, "22.00.00", 8);
    field(&mut h, &(256 * (all.len() + 1)).to_string(), 8);
    field(&mut h, "EDF+C", 44);
    field(&mut h, &NIGHT_S.to_string(), 8);
    field(&mut h, "1", 8);
    field(&mut h, &all.len().to_string(), 4);
    // The signal fields, each for every signal in turn.
    let mut column = |width: usize, value: &dyn Fn(&Signal) -> String| {
        for s in &all {
            field(&mut h, &value(s), width);
        }
    };
    column(16, &|s| s.0.into());
    column(80, &|_| String::new());
    column(8, &|s| s.1.into());
    column(8, &|s| format!("{}", -s.3));
    column(8, &|s| format!("{}", s.3));
    column(8, &|_| "-32768".into());
    column(8, &|_| "32767".into());
    column(80, &|_| String::new());
    column(8, &|s| s.2.to_string());
    column(32, &|_| String::new());
    let mut w = BufWriter::new(File::create(path).unwrap());
    w.write_all(&h).unwrap();
    let mut state = 2026u64;
    let mut record = Vec::new();
    for r in 0..NIGHT_S {
        record.clear();
        for &(_, _, spr, range) in &data {
            // About 3 µV RMS on the legs: 0.1 µV per step at ±3276.7 µV.
            let scale = if range > 3000.0 { 30.0 } else { 300.0 };
            for _ in 0..spr {
                state = state
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let u = ((state >> 33) as f64 / (1u64 << 31) as f64) * 2.0 - 1.0;
                let d = (u * scale * 1.7) as i16;
                record.extend_from_slice(&d.to_le_bytes());
            }
        }
        let mut tal = format!("+{r}\x14\x14\x00").into_bytes();
        tal.resize(2 * ANN_SAMPLES, 0);
        record.extend_from_slice(&tal);
        w.write_all(&record).unwrap();
    }
    w.flush().unwrap();
}

fn psg_edf(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("psg01.edf");
    write_psg(&path);
    let bytes = std::fs::metadata(&path).unwrap().len();
    let cfg = Config::default();
    let mut g = c.benchmark_group("psg_edf_8h");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("plain read", |b| {
        let mut buf = vec![0u8; 1 << 20];
        b.iter(|| {
            let mut f = File::open(&path).unwrap();
            let mut total = 0usize;
            loop {
                let n = f.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                total += n + buf[n - 1] as usize;
            }
            black_box(total)
        })
    });
    g.bench_function("crampscan read (legs)", |b| {
        b.iter(|| black_box(support::read_all(&path, &cfg)))
    });
    g.bench_function("crampscan scan", |b| {
        b.iter(|| {
            let out = tempfile::tempdir().unwrap();
            let opts = ScanOptions::new(Inputs::Paths(vec![path.clone()]), out.path().into());
            black_box(batch::scan(&opts, &cfg).unwrap().n_nights)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = support::criterion();
    targets = psg_edf
}
criterion_main!(benches);
