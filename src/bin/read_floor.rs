//! The I/O floor for `scripts/bench_night.sh`: the least work that reads
//! every sample of a recording, with nothing else. `read_floor wav FILE`
//! decodes a 16-bit WAV's samples to f32; `read_floor csv FILE` parses every
//! number of a CSV with the csv crate and fast-float2. Prints the sample
//! count and a checksum (so the work cannot be optimised away).
//!
//! `read_floor stages FILE` is the floor of the default detector itself:
//! the 16-bit WAV read, then for every channel (one rayon task each, as
//! `scan` runs them) only the two stages the detector cannot skip, with the
//! library's own code: the transient-rejection cascade (band-pass and the
//! 50 Hz notch comb) and the 0.25 s Hann-windowed real FFT every 0.1 s.

use std::io::Read;
use std::sync::Arc;

use rayon::prelude::*;
use realfft::num_complex::Complex;
use realfft::RealToComplex;

use crampscan::config::{DetectorConfig, FILTER_ORDER, NOTCH_Q};
use crampscan::detect::fft_band::effective_band;
use crampscan::detect::timedomain::{variant, FilterBank};
use crampscan::dsp::stretch::StretchFilter;
use crampscan::dsp::window::hann_periodic;
use crampscan::dsp::PlanCache;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: read_floor wav|csv|stages FILE");
        std::process::exit(2);
    }
    let path = &args[2];
    let (n, sum) = match args[1].as_str() {
        "wav" => wav(path),
        "csv" => csv(path),
        "stages" => stages(path),
        other => {
            eprintln!("read_floor: unknown kind {other}; expected wav, csv or stages");
            std::process::exit(2);
        }
    };
    println!("{n} samples, checksum {sum:.3}");
}

fn wav(path: &str) -> (u64, f64) {
    let reader = hound::WavReader::open(path).expect("a WAV file");
    assert_eq!(
        reader.spec().bits_per_sample,
        16,
        "the floor reads 16-bit WAV"
    );
    let mut inner = reader.into_inner();
    let mut buf = vec![0u8; 1 << 20];
    let (mut n, mut sum) = (0u64, 0f64);
    loop {
        let k = inner.read(&mut buf).expect("read");
        if k == 0 {
            break;
        }
        let mut s = 0f32;
        for b in buf[..k & !1].chunks_exact(2) {
            s += i16::from_le_bytes([b[0], b[1]]) as f32;
        }
        sum += s as f64;
        n += (k / 2) as u64;
    }
    (n, sum)
}

fn csv(path: &str) -> (u64, f64) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_path(path)
        .expect("a CSV file");
    let mut rec = csv::ByteRecord::new();
    let (mut n, mut sum) = (0u64, 0f64);
    while rdr.read_byte_record(&mut rec).expect("a CSV record") {
        for f in rec.iter() {
            sum += fast_float2::parse::<f64, _>(f).unwrap_or(0.0);
            n += 1;
        }
    }
    (n, sum)
}

/// Frames read per round, as `scan` reads them (`night::BLOCK_FRAMES`).
const BLOCK_FRAMES: usize = 65536;

/// One channel's stages: the rejection cascade and the windowed FFT.
struct Lane {
    filter: StretchFilter,
    plan: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    hop_n: usize,
    /// This round's samples, then the cascade's output.
    block: Vec<f32>,
    filtered: Vec<f32>,
    /// Samples not yet consumed by a whole window.
    pending: Vec<f32>,
    input: Vec<f32>,
    spectrum: Vec<Complex<f32>>,
    scratch: Vec<Complex<f32>>,
    sum: f64,
}

impl Lane {
    fn run(&mut self) {
        self.filtered.resize(self.block.len(), 0.0);
        self.filter.process(&self.block, &mut self.filtered);
        self.sum += self.filtered.iter().map(|&v| (v * v) as f64).sum::<f64>();
        self.pending.extend_from_slice(&self.block);
        let win_n = self.window.len();
        let mut start = 0;
        while start + win_n <= self.pending.len() {
            let frame = &self.pending[start..start + win_n];
            for ((d, &v), &w) in self.input.iter_mut().zip(frame).zip(&self.window) {
                *d = v * w;
            }
            self.plan
                .process_with_scratch(&mut self.input, &mut self.spectrum, &mut self.scratch)
                .expect("buffers sized by the plan");
            self.sum += self
                .spectrum
                .iter()
                .map(|c| c.norm_sqr() as f64)
                .sum::<f64>();
            start += self.hop_n;
        }
        self.pending.drain(..start);
    }
}

fn stages(path: &str) -> (u64, f64) {
    let reader = hound::WavReader::open(path).expect("a WAV file");
    let spec = reader.spec();
    assert_eq!(spec.bits_per_sample, 16, "the floor reads 16-bit WAV");
    let (fs_hz, n_ch) = (spec.sample_rate as f64, spec.channels as usize);
    let cfg = DetectorConfig::default();
    let band = effective_band(&cfg, fs_hz).expect("an EMG band below Nyquist");
    let bank = FilterBank::new(FILTER_ORDER, NOTCH_Q, band, fs_hz).expect("a filter bank");
    let plans = PlanCache::new();
    let win_n = (cfg.window_s * fs_hz).round() as usize;
    let mut lanes: Vec<Lane> = (0..n_ch)
        .map(|_| {
            let plan = plans.forward(win_n);
            Lane {
                filter: StretchFilter::new(bank.variant_filter(variant(Some(50))), fs_hz),
                window: hann_periodic(win_n),
                hop_n: (cfg.hop_s * fs_hz).round() as usize,
                block: Vec::with_capacity(BLOCK_FRAMES),
                filtered: Vec::with_capacity(BLOCK_FRAMES),
                pending: Vec::new(),
                input: plan.make_input_vec(),
                spectrum: plan.make_output_vec(),
                scratch: plan.make_scratch_vec(),
                plan,
                sum: 0.0,
            }
        })
        .collect();
    let mut inner = reader.into_inner();
    let mut bytes = vec![0u8; BLOCK_FRAMES * n_ch * 2];
    let mut n = 0u64;
    loop {
        let mut k = 0;
        while k < bytes.len() {
            let got = inner.read(&mut bytes[k..]).expect("read");
            if got == 0 {
                break;
            }
            k += got;
        }
        let frames = k / 2 / n_ch;
        if frames == 0 {
            break;
        }
        for (c, lane) in lanes.iter_mut().enumerate() {
            lane.block.clear();
            lane.block.extend(
                bytes[..frames * n_ch * 2]
                    .chunks_exact(2 * n_ch)
                    .map(|f| i16::from_le_bytes([f[2 * c], f[2 * c + 1]]) as f32),
            );
        }
        lanes.par_iter_mut().for_each(Lane::run);
        n += (frames * n_ch) as u64;
    }
    (n, lanes.iter().map(|l| l.sum).sum())
}
