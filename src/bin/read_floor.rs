//! The I/O floor for `scripts/bench_night.sh`: the least work that reads
//! every sample of a recording, with nothing else. `read_floor wav FILE`
//! decodes a 16-bit WAV's samples to f32; `read_floor csv FILE` parses every
//! number of a CSV with the csv crate and fast-float2. Prints the sample
//! count and a checksum (so the work cannot be optimised away).

use std::io::Read;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: read_floor wav|csv FILE");
        std::process::exit(2);
    }
    let path = &args[2];
    let (n, sum) = match args[1].as_str() {
        "wav" => wav(path),
        "csv" => csv(path),
        other => {
            eprintln!("read_floor: unknown kind {other}; expected wav or csv");
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
