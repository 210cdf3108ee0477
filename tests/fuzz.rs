//! A seeded, deterministic mutation harness over every reader (issue 16,
//! item 8): EDF and EDF+ headers and records, WAV and its channels.tsv and
//! JSON sidecars, CSV and TXT, manifests, hypnograms and the config. Each
//! case damages one file of a night that sits beside a good night, and
//! runs `crampscan scan` in a child process under an address-space limit
//! (`ulimit -v`, [`MEMORY_LIMIT_KIB`]) and a time limit ([`TIME_LIMIT_S`]).
//! It asserts: no panic, no abort or signal (an allocation over the limit
//! aborts), no hang, an exit status of 0, 1 (a fatal config or manifest
//! error, with a message) or 3 (some nights failed), and the good night
//! written whenever the run was not fatal.
//!
//! `cargo test` runs [`QUICK_CASES`] cases. The long run (10,000 cases, the
//! figures in the README) is
//! `CRAMPSCAN_FUZZ_CASES=10000 cargo test --release --test fuzz -- --ignored --nocapture`.
//! A failing case prints its number; `CRAMPSCAN_FUZZ_FROM=N CRAMPSCAN_FUZZ_CASES=1`
//! replays it and keeps its folder.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crampscan::simulate::{simulate, Format, SimOptions};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Cases in `cargo test`.
const QUICK_CASES: u64 = 100;
/// Address space a case may use, KiB (1 GiB: the bound).
const MEMORY_LIMIT_KIB: u64 = 1 << 20;
/// Wall time a case may take, s (a scan of the two tiny nights takes well
/// under a second).
const TIME_LIMIT_S: u64 = 20;
/// Seed of the whole harness.
const SEED: u64 = 0xF022;

/// What a case damages.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Edf,
    EdfPlus,
    Wav,
    WavSidecar,
    Csv,
    CsvSidecar,
    Txt,
    Manifest,
    Hypnogram,
    Config,
}

const TARGETS: [Target; 10] = [
    Target::Edf,
    Target::EdfPlus,
    Target::Wav,
    Target::WavSidecar,
    Target::Csv,
    Target::CsvSidecar,
    Target::Txt,
    Target::Manifest,
    Target::Hypnogram,
    Target::Config,
];

/// Numbers that break naive parsers: zero, negatives, tiny and huge
/// magnitudes, non-numbers.
const NASTY: [&str; 16] = [
    "0",
    "-1",
    "1e-9",
    "1e-300",
    "99999999",
    "1e12",
    "-99999999",
    "nan",
    "inf",
    "",
    " ",
    "abc",
    "1e308",
    "0.0000001",
    "2147483648",
    "-0",
];

/// The seed files, written once per test run.
struct Seeds {
    dir: tempfile::TempDir,
}

impl Seeds {
    fn new() -> Seeds {
        let dir = tempfile::tempdir().unwrap();
        let sim = |sub: &str, format: Format, prefix: &str| {
            simulate(&SimOptions {
                out_dir: dir.path().join(sub),
                nights: 1,
                hours: 0.005,
                seed: 7,
                format,
                emg_fs_hz: 200.0,
                acc_fs_hz: 10.0,
                prefix: prefix.into(),
                ..SimOptions::default()
            })
            .unwrap();
        };
        sim("edf", Format::Edf, "bad");
        sim("wav", Format::Wav, "bad");
        sim("csv", Format::Csv, "bad");
        sim("good", Format::Csv, "good");
        Seeds { dir }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }
}

/// One mutation of `bytes`, drawn from `rng`.
fn mutate(rng: &mut ChaCha8Rng, bytes: &mut Vec<u8>, header_len: usize) {
    if bytes.is_empty() {
        bytes.extend_from_slice(NASTY[rng.random_range(0..NASTY.len())].as_bytes());
        return;
    }
    let n = bytes.len();
    // Headers hold most of what can go wrong: aim there half the time.
    let at = if header_len > 0 && rng.random_bool(0.5) {
        rng.random_range(0..header_len.min(n))
    } else {
        rng.random_range(0..n)
    };
    match rng.random_range(0..8) {
        0 => bytes[at] ^= 1 << rng.random_range(0..8),
        1 => bytes[at] = [0, 0xFF, b'-', b'9', b' ', b',', b'\n', b'\t'][rng.random_range(0..8)],
        2 => bytes.truncate(at),
        3 => {
            // A nasty number over the field at `at` (ASCII headers, cells).
            let s = NASTY[rng.random_range(0..NASTY.len())].as_bytes();
            for (k, &b) in s.iter().enumerate() {
                if at + k < n {
                    bytes[at + k] = b;
                }
            }
        }
        4 => {
            // A 32-bit little-endian integer (binary headers: WAV).
            let v: u32 = [0, 1, u32::MAX, 100_000_000, 0x7FFF_FFFF][rng.random_range(0..5)];
            for (k, b) in v.to_le_bytes().into_iter().enumerate() {
                if at + k < n {
                    bytes[at + k] = b;
                }
            }
        }
        5 => {
            // A stretch repeated (duplicated rows, records, fields).
            let len = rng.random_range(1..=(n - at).min(4096));
            let piece = bytes[at..at + len].to_vec();
            let copies = rng.random_range(1..4);
            for _ in 0..copies {
                bytes.splice(at..at, piece.iter().copied());
            }
        }
        6 => {
            let len = rng.random_range(1..=(n - at).min(512));
            bytes.drain(at..at + len);
        }
        _ => {
            // Nothing above ran: `bytes` still holds its `n > 0` bytes.
            for _ in 0..rng.random_range(1..16) {
                let k = rng.random_range(0..n);
                bytes[k] = rng.random();
            }
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        if !p.to_string_lossy().ends_with(".truth.csv") {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// How a file's header is laid out, for mutations aimed at its fields.
#[derive(Clone, Copy)]
enum Layout {
    /// No known fields; mutations aim at the first `n` bytes half the time.
    Text(usize),
    /// An EDF/BDF header with `ns` signals.
    Edf { ns: usize },
    /// A canonical 44-byte WAV header.
    Wav,
}

/// EDF main-header fields `(offset, width)` that hold numbers: start date,
/// start time, header bytes, record count, record duration, signal count.
const EDF_MAIN_FIELDS: [(usize, usize); 6] =
    [(168, 8), (176, 8), (184, 8), (236, 8), (244, 8), (252, 4)];
/// Per-signal EDF fields `(offset of the field block from 256 in units of
/// ns, width)`: physical min/max, digital min/max, samples per record.
const EDF_SIGNAL_FIELDS: [(usize, usize); 5] = [(104, 8), (112, 8), (120, 8), (128, 8), (216, 8)];
/// WAV header fields `(offset, width)`: channels, sample rate, byte rate,
/// block align, bits per sample, data size.
const WAV_FIELDS: [(usize, usize); 6] = [(22, 2), (24, 4), (28, 4), (32, 2), (34, 2), (40, 4)];

/// Replaces one header field of `bytes` laid out as `layout` with a nasty
/// value; `false` when the layout has no fields.
fn mutate_field(rng: &mut ChaCha8Rng, bytes: &mut [u8], layout: Layout) -> bool {
    match layout {
        Layout::Text(_) => false,
        Layout::Edf { ns } => {
            let (at, w) = if rng.random_bool(0.5) {
                EDF_MAIN_FIELDS[rng.random_range(0..EDF_MAIN_FIELDS.len())]
            } else {
                let (block, w) = EDF_SIGNAL_FIELDS[rng.random_range(0..EDF_SIGNAL_FIELDS.len())];
                (256 + block * ns + w * rng.random_range(0..ns.max(1)), w)
            };
            let v = NASTY[rng.random_range(0..NASTY.len())].as_bytes();
            for k in 0..w {
                if at + k < bytes.len() {
                    bytes[at + k] = *v.get(k).unwrap_or(&b' ');
                }
            }
            true
        }
        Layout::Wav => {
            let (at, w) = WAV_FIELDS[rng.random_range(0..WAV_FIELDS.len())];
            let v: u32 = [0, 1, 3, u32::MAX, 100_000_000, 0x7FFF_FFFF, 64][rng.random_range(0..7)];
            for (k, b) in v.to_le_bytes().into_iter().take(w).enumerate() {
                if at + k < bytes.len() {
                    bytes[at + k] = b;
                }
            }
            true
        }
    }
}

/// Damages file `name` of `dir` with 1–3 mutations, half of them aimed at
/// header fields when the layout has them.
fn damage(rng: &mut ChaCha8Rng, dir: &Path, name: &str, layout: Layout) {
    let p = dir.join(name);
    let mut bytes = std::fs::read(&p).unwrap_or_default();
    let header_len = match layout {
        Layout::Text(n) => n,
        Layout::Edf { ns } => 256 * (ns + 1),
        Layout::Wav => 44,
    };
    for _ in 0..rng.random_range(1..=3) {
        if !(rng.random_bool(0.5) && mutate_field(rng, &mut bytes, layout)) {
            mutate(rng, &mut bytes, header_len);
        }
    }
    std::fs::write(&p, bytes).unwrap();
}

/// Signal count of an EDF file, from its header.
fn edf_signals(path: &Path) -> usize {
    let b = std::fs::read(path).unwrap();
    std::str::from_utf8(&b[252..256])
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1)
}

/// A case's input folder and the extra arguments of its scan.
fn build_case(seeds: &Seeds, target: Target, rng: &mut ChaCha8Rng, dir: &Path) -> Vec<String> {
    let input = dir.join("in");
    copy_dir(&seeds.path("good"), &input);
    let mut args = Vec::new();
    match target {
        Target::Edf | Target::EdfPlus => {
            copy_dir(&seeds.path("edf"), &input);
            let name = if target == Target::Edf {
                "bad01_acc.edf"
            } else {
                "bad01_emg.edf" // EDF+ with the truth as annotations
            };
            let ns = edf_signals(&input.join(name));
            damage(rng, &input, name, Layout::Edf { ns });
        }
        Target::Wav => {
            copy_dir(&seeds.path("wav"), &input);
            damage(rng, &input, "bad01_emg.wav", Layout::Wav);
        }
        Target::WavSidecar => {
            copy_dir(&seeds.path("wav"), &input);
            let name = [
                "bad01_emg_channels.tsv",
                "bad01_emg.json",
                "bad01_acc_channels.tsv",
            ][rng.random_range(0..3)];
            damage(rng, &input, name, Layout::Text(0));
        }
        Target::Csv => {
            copy_dir(&seeds.path("csv"), &input);
            damage(rng, &input, "bad01_emg.csv", Layout::Text(64));
        }
        Target::CsvSidecar => {
            copy_dir(&seeds.path("csv"), &input);
            damage(rng, &input, "bad01_emg.json", Layout::Text(0));
        }
        Target::Txt => {
            copy_dir(&seeds.path("csv"), &input);
            let csv = std::fs::read_to_string(input.join("bad01_emg.csv")).unwrap();
            std::fs::remove_file(input.join("bad01_emg.csv")).unwrap();
            std::fs::write(input.join("bad01_emg.txt"), csv.replace(',', "\t")).unwrap();
            damage(rng, &input, "bad01_emg.txt", Layout::Text(64));
        }
        Target::Manifest => {
            copy_dir(&seeds.path("csv"), &input);
            let m = dir.join("manifest.csv");
            std::fs::write(
                &m,
                "night,files,subject\nbad01,in/bad01_emg.csv;in/bad01_acc.csv,s1\ngood01,in/good01_emg.csv;in/good01_acc.csv,s2\n",
            )
            .unwrap();
            damage(rng, dir, "manifest.csv", Layout::Text(0));
            args.extend(["--manifest".to_string(), m.to_string_lossy().into_owned()]);
        }
        Target::Hypnogram => {
            copy_dir(&seeds.path("csv"), &input);
            let h = input.join("bad01.hypnogram.csv");
            std::fs::write(&h, "onset_s,duration_s,stage\n0,10,W\n10,8,N2\n").unwrap();
            damage(rng, &input, "bad01.hypnogram.csv", Layout::Text(0));
        }
        Target::Config => {
            copy_dir(&seeds.path("csv"), &input);
            let text = common::crampscan(&["scan", "--print-config"]).stdout;
            let c = dir.join("config.toml");
            let text = String::from_utf8(text).unwrap();
            std::fs::write(&c, nasty_config(rng, &text)).unwrap();
            args.extend(["--config".to_string(), c.to_string_lossy().into_owned()]);
        }
    }
    args
}

/// The default config with one value (a number mostly) replaced by a nasty
/// one, or a byte damaged.
fn nasty_config(rng: &mut ChaCha8Rng, text: &str) -> Vec<u8> {
    let lines: Vec<&str> = text.lines().collect();
    let values: Vec<usize> = (0..lines.len())
        .filter(|&i| lines[i].contains(" = "))
        .collect();
    if values.is_empty() || rng.random_bool(0.2) {
        let mut b = text.as_bytes().to_vec();
        mutate(rng, &mut b, 0);
        return b;
    }
    let i = values[rng.random_range(0..values.len())];
    let key = lines[i].split(" = ").next().unwrap();
    let v = [
        "0", "-1", "1e-9", "1e-300", "1e12", "1e300", "99999999", "-1e9", "nan", "inf", "\"x\"",
        "[]", "true", "1000000",
    ][rng.random_range(0..14)];
    let mut out = String::new();
    for (k, l) in lines.iter().enumerate() {
        if k == i {
            out.push_str(&format!("{key} = {v}\n"));
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    out.into_bytes()
}

/// How a case ended.
struct Outcome {
    code: Option<i32>,
    stderr: String,
    elapsed: Duration,
    timed_out: bool,
}

/// Runs the scan under the memory and time limits.
fn run_limited(dir: &Path, extra: &[String]) -> Outcome {
    let bin = env!("CARGO_BIN_EXE_crampscan");
    let out = dir.join("out");
    let mut cmd = format!(
        "ulimit -v {MEMORY_LIMIT_KIB}; exec '{bin}' scan --threads 1 -o '{}'",
        out.display()
    );
    for a in extra {
        cmd.push_str(&format!(" '{a}'"));
    }
    if !extra.iter().any(|a| a == "--manifest") {
        cmd.push_str(&format!(" '{}'", dir.join("in").display()));
    }
    let t0 = Instant::now();
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(&cmd)
        .current_dir(dir)
        // One malloc arena: glibc reserves 64 MB of address space per arena.
        .env("MALLOC_ARENA_MAX", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr_pipe = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr_pipe.read_to_string(&mut s);
        s
    });
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > Duration::from_secs(TIME_LIMIT_S) {
            timed_out = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.code(),
        stderr: reader.join().unwrap(),
        elapsed: t0.elapsed(),
        timed_out,
    }
}

/// Runs case `k`; `Err` says what went wrong.
fn run_case(seeds: &Seeds, k: u64, keep: bool) -> Result<Duration, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(SEED.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k);
    let target = TARGETS[(k % TARGETS.len() as u64) as usize];
    let tmp = tempfile::tempdir().unwrap();
    let dir = if keep {
        let d = std::env::temp_dir().join(format!("crampscan-fuzz-{k}"));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        eprintln!("case {k} kept in {}", d.display());
        d
    } else {
        tmp.path().to_path_buf()
    };
    let args = build_case(seeds, target, &mut rng, &dir);
    let o = run_limited(&dir, &args);
    let what = format!("case {k} ({target:?})");
    if o.timed_out {
        return Err(format!("{what}: no answer within {TIME_LIMIT_S} s"));
    }
    if o.stderr.contains("panicked") {
        return Err(format!("{what}: panic: {}", o.stderr));
    }
    let fatal_ok = matches!(target, Target::Config | Target::Manifest);
    match o.code {
        Some(0) | Some(3) => {}
        Some(1) if fatal_ok && o.stderr.contains("error") => return Ok(o.elapsed),
        other => return Err(format!("{what}: exit {other:?}: {}", o.stderr)),
    }
    let nights = std::fs::read_to_string(dir.join("out/nights.csv"))
        .map_err(|e| format!("{what}: no nights.csv: {e}"))?;
    let good_row_intact = target != Target::Manifest
        || std::fs::read_to_string(dir.join("manifest.csv"))
            .is_ok_and(|m| m.contains("\ngood01,in/good01_emg.csv;in/good01_acc.csv,s2\n"));
    if good_row_intact && !nights.lines().any(|l| l.starts_with("good01,")) {
        return Err(format!("{what}: the good night was lost: {}", o.stderr));
    }
    if o.code == Some(3) {
        let errors = std::fs::read_to_string(dir.join("out/errors.csv")).unwrap_or_default();
        if errors.lines().count() < 2 {
            return Err(format!("{what}: exit 3 with no row in errors.csv"));
        }
    }
    Ok(o.elapsed)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn run_cases(n: u64) {
    let seeds = Seeds::new();
    let from = env_u64("CRAMPSCAN_FUZZ_FROM").unwrap_or(0);
    let keep = n == 1;
    let mut failures = Vec::new();
    let mut slowest = Duration::ZERO;
    let t0 = Instant::now();
    for k in from..from + n {
        match run_case(&seeds, k, keep) {
            Ok(d) => slowest = slowest.max(d),
            Err(e) => failures.push(e),
        }
    }
    eprintln!(
        "fuzz: {n} cases from {from} in {:.1} s, slowest {:.2} s, {} failed (limits: {} MiB address space, {TIME_LIMIT_S} s)",
        t0.elapsed().as_secs_f64(),
        slowest.as_secs_f64(),
        failures.len(),
        MEMORY_LIMIT_KIB / 1024
    );
    assert!(
        failures.is_empty(),
        "{} of {n} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn damaged_inputs_of_every_format_never_take_the_batch_down() {
    run_cases(QUICK_CASES);
}

/// The long run: `CRAMPSCAN_FUZZ_CASES` cases (default 10,000).
#[test]
#[ignore]
fn fuzz_long() {
    run_cases(env_u64("CRAMPSCAN_FUZZ_CASES").unwrap_or(10_000));
}

#[test]
fn mutations_are_seeded() {
    let mut a = ChaCha8Rng::seed_from_u64(5);
    let mut b = ChaCha8Rng::seed_from_u64(5);
    let (mut x, mut y) = (b"0123456789abcdef".to_vec(), b"0123456789abcdef".to_vec());
    for _ in 0..50 {
        mutate(&mut a, &mut x, 8);
        mutate(&mut b, &mut y, 8);
    }
    assert_eq!(x, y);
    assert_ne!(x, b"0123456789abcdef".to_vec());
}
