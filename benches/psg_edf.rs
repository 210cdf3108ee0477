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
use crampscan::io::{self, BLOCK_FRAMES};
use crampscan::recording::Block;

/// Length of the night, s.
const NIGHT_S: usize = 8 * 3600;

/// (label, unit, samples per 1 s record, physical range) of each signal.
const SIGNALS: &[(&str, &str, usize, f64)] = &[
    ("EEG C3-M2", "uV", 256, 500.0),
    ("EEG C4-M1", "uV", 256, 500.0),
    ("EEG F3-M2", "uV", 256, 500.0),
    ("EEG F4-M1", "uV", 256, 500.0),
    ("EEG O1-M2", "uV", 256, 500.0),
    ("EEG O2-M1", "uV", 256, 500.0),
    ("EOG E1-M2", "uV", 256, 500.0),
    ("EOG E2-M2", "uV", 256, 500.0),
    ("Chin1-Chin2", "uV", 512, 500.0),
    ("ECG II", "mV", 256, 5.0),
    ("LAT", "uV", 512, 3276.7),
    ("RAT", "uV", 512, 3276.7),
    ("Snore", "uV", 512, 500.0),
    ("Airflow", "", 32, 100.0),
    ("Nasal Pressure", "cmH2O", 32, 100.0),
    ("Thor", "uV", 32, 1000.0),
    ("Abdo", "uV", 32, 1000.0),
    ("SpO2", "%", 1, 100.0),
    ("Pulse", "bpm", 1, 250.0),
    ("Position", "", 1, 10.0),
    ("Light", "", 1, 10.0),
    ("Pleth", "", 32, 100.0),
];
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
    let ns = SIGNALS.len() + 1;
    let mut h = Vec::new();
    field(&mut h, "0", 8);
    field(&mut h, "X X X X", 80);
    field(&mut h, "Startdate 04-DEC-2026 X X X", 80);
    field(&mut h, "04.12.26", 8);
    field(&mut h, "22.00.00", 8);
    field(&mut h, &(256 * (ns + 1)).to_string(), 8);
    field(&mut h, "EDF+C", 44);
    field(&mut h, &NIGHT_S.to_string(), 8);
    field(&mut h, "1", 8);
    field(&mut h, &ns.to_string(), 4);
    let ann = ("EDF Annotations", "", ANN_SAMPLES, 1.0);
    let all: Vec<_> = SIGNALS.iter().copied().chain([ann]).collect();
    let is_ann = |i: usize| i == SIGNALS.len();
    for &(l, ..) in &all {
        field(&mut h, l, 16);
    }
    for _ in &all {
        field(&mut h, "", 80);
    }
    for &(_, u, ..) in &all {
        field(&mut h, u, 8);
    }
    for (i, &(.., r)) in all.iter().enumerate() {
        field(
            &mut h,
            &if is_ann(i) {
                "-1".into()
            } else {
                format!("{}", -r)
            },
            8,
        );
    }
    for (i, &(.., r)) in all.iter().enumerate() {
        field(
            &mut h,
            &if is_ann(i) {
                "1".into()
            } else {
                format!("{r}")
            },
            8,
        );
    }
    for _ in &all {
        field(&mut h, "-32768", 8);
    }
    for _ in &all {
        field(&mut h, "32767", 8);
    }
    for _ in &all {
        field(&mut h, "", 80);
    }
    for &(_, _, spr, _) in &all {
        field(&mut h, &spr.to_string(), 8);
    }
    for _ in &all {
        field(&mut h, "", 32);
    }
    let mut w = BufWriter::new(File::create(path).unwrap());
    w.write_all(&h).unwrap();
    let mut state = 2026u64;
    let mut record = Vec::new();
    for r in 0..NIGHT_S {
        record.clear();
        for &(_, _, spr, range) in SIGNALS {
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
        b.iter(|| {
            let mut total = 0usize;
            for mut src in io::open(&path, &cfg).unwrap() {
                let mut block = Block::new(src.info().channels.len(), BLOCK_FRAMES);
                loop {
                    src.read_block(&mut block).unwrap();
                    if block.len == 0 {
                        break;
                    }
                    total += block.len;
                }
            }
            black_box(total)
        })
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
