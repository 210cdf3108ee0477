//! EDF/EDF+/BDF reading against hand-built files, the simulate → EDF → scan
//! → evaluate round trip, and a seeded mutation loop over EDF, CSV and WAV
//! bytes (no panic; every error names the file).

mod common;

use std::path::{Path, PathBuf};

use common::{crampscan, read_table, sim, stderr};
use crampscan::config::Config;
use crampscan::io::{self, edf::EdfFile};
use crampscan::recording::Block;
use crampscan::simulate::Format;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn pad(s: &str, w: usize) -> Vec<u8> {
    let mut b = s.as_bytes().to_vec();
    b.resize(w, b' ');
    b
}

/// One signal of a hand-built file: label, unit, samples per record, phys range, dig range.
struct Sig {
    label: &'static str,
    unit: &'static str,
    spr: usize,
    phys: (f64, f64),
    dig: (i32, i32),
}

/// An EDF (or BDF) file: `records[r][s]` digital samples of signal `s`;
/// `tals[r]` the annotation bytes of record `r` when an annotation signal
/// of `ann_spr` samples is appended.
fn build(
    sigs: &[Sig],
    records: &[Vec<Vec<i32>>],
    tals: Option<(&[Vec<u8>], usize)>,
    reserved: &str,
    nrec_field: &str,
    bdf: bool,
) -> Vec<u8> {
    let ns = sigs.len() + tals.is_some() as usize;
    let mut h = Vec::new();
    if bdf {
        h.push(0xFF);
        h.extend(pad("BIOSEMI", 7));
    } else {
        h.extend(pad("0", 8));
    }
    h.extend(pad("X X X X", 80));
    h.extend(pad("Startdate 15-JAN-2026 X X test", 80));
    h.extend(pad("15.01.26", 8));
    h.extend(pad("23.00.00", 8));
    h.extend(pad(&(256 * (ns + 1)).to_string(), 8));
    h.extend(pad(reserved, 44));
    h.extend(pad(nrec_field, 8));
    h.extend(pad("1", 8));
    h.extend(pad(&ns.to_string(), 4));
    let ann = tals.map(|(_, spr)| Sig {
        label: "EDF Annotations",
        unit: "",
        spr,
        phys: (-1.0, 1.0),
        dig: (-32768, 32767),
    });
    let all: Vec<&Sig> = sigs.iter().chain(ann.as_ref()).collect();
    for a in &all {
        h.extend(pad(a.label, 16));
    }
    for _ in &all {
        h.extend(pad("", 80));
    }
    for a in &all {
        h.extend(pad(a.unit, 8));
    }
    for a in &all {
        h.extend(pad(&a.phys.0.to_string(), 8));
    }
    for a in &all {
        h.extend(pad(&a.phys.1.to_string(), 8));
    }
    for a in &all {
        h.extend(pad(&a.dig.0.to_string(), 8));
    }
    for a in &all {
        h.extend(pad(&a.dig.1.to_string(), 8));
    }
    for _ in &all {
        h.extend(pad("", 80));
    }
    for a in &all {
        h.extend(pad(&a.spr.to_string(), 8));
    }
    for _ in &all {
        h.extend(pad("", 32));
    }
    for (r, rec) in records.iter().enumerate() {
        for s in rec {
            for &d in s {
                if bdf {
                    h.extend_from_slice(&d.to_le_bytes()[..3]);
                } else {
                    h.extend_from_slice(&(d as i16).to_le_bytes());
                }
            }
        }
        if let Some((t, spr)) = tals {
            let mut b = t[r].clone();
            b.resize(spr * if bdf { 3 } else { 2 }, 0);
            h.extend(b);
        }
    }
    h
}

fn read_all(path: &Path, cfg: &Config) -> crampscan::Result<Vec<Vec<Vec<f32>>>> {
    let mut out = Vec::new();
    for mut s in io::open(path, cfg)? {
        let n = s.info().channels.len();
        let mut v = vec![Vec::new(); n];
        let mut b = Block::new(n, 1000);
        loop {
            s.read_block(&mut b)?;
            if b.len == 0 {
                break;
            }
            for (c, o) in v.iter_mut().enumerate() {
                o.extend_from_slice(b.channel(c));
            }
        }
        out.push(v);
    }
    Ok(out)
}

fn emg_sig(spr: usize) -> Sig {
    Sig {
        label: "EMG Tib L",
        unit: "mV",
        spr,
        phys: (-3.2768, 3.2767),
        dig: (-32768, 32767),
    }
}

#[test]
fn scaling_units_bdf_and_no_clamping() {
    let d = tempfile::tempdir().unwrap();
    // mV → µV: digital 1000 is 0.1 mV = 100 µV. A digital value beyond the
    // declared digital range is scaled, not clamped.
    let sigs = [Sig {
        label: "LAT",
        unit: "mV",
        spr: 4,
        phys: (-3.2768, 3.2767),
        dig: (-32768, 32767),
    }];
    let bytes = build(
        &sigs,
        &[vec![vec![1000, -1000, 0, 32767]]],
        None,
        "",
        "1",
        false,
    );
    let p = d.path().join("a.edf");
    std::fs::write(&p, bytes).unwrap();
    let x = read_all(&p, &Config::default()).unwrap();
    let want = [100.0, -100.0, 0.0, 3276.7];
    for (a, b) in x[0][0].iter().zip(want) {
        assert!((*a as f64 - b).abs() < 1e-3, "{a} vs {b}");
    }
    // 24-bit BDF, 1 µV per step (header fields hold 8 characters).
    let sigs = [Sig {
        label: "RAT",
        unit: "uV",
        spr: 2,
        phys: (-8388608.0, 8388607.0),
        dig: (-8388608, 8388607),
    }];
    let bytes = build(
        &sigs,
        &[vec![vec![8_000_000, -5]]],
        None,
        "24BIT",
        "1",
        true,
    );
    let p = d.path().join("b.bdf");
    std::fs::write(&p, bytes).unwrap();
    let x = read_all(&p, &Config::default()).unwrap();
    assert_eq!(x[0][0], vec![8_000_000.0, -5.0]);
}

#[test]
fn mixed_rates_open_as_groups() {
    let d = tempfile::tempdir().unwrap();
    let sigs = [
        emg_sig(4),
        Sig {
            label: "Accel X",
            unit: "g",
            spr: 1,
            phys: (-8.0, 8.0),
            dig: (-32768, 32767),
        },
    ];
    let recs: Vec<_> = (0..3).map(|r| vec![vec![r; 4], vec![r * 100]]).collect();
    let p = d.path().join("m.edf");
    std::fs::write(&p, build(&sigs, &recs, None, "", "3", false)).unwrap();
    let srcs = io::open(&p, &Config::default()).unwrap();
    let rates: Vec<f64> = srcs.iter().map(|s| s.info().fs_hz).collect();
    assert_eq!(rates, vec![4.0, 1.0]);
    let x = read_all(&p, &Config::default()).unwrap();
    assert_eq!(x[0][0].len(), 12);
    assert_eq!(x[1][0].len(), 3);
}

#[test]
fn minus_one_records_truncation_and_header_size() {
    let d = tempfile::tempdir().unwrap();
    let recs: Vec<_> = (0..3).map(|_| vec![vec![7; 10]]).collect();
    // -1 records (recording not closed), with half a record at the end.
    let mut b = build(&[emg_sig(10)], &recs, None, "", "-1", false);
    b.extend([0u8; 7]);
    let p = d.path().join("open.edf");
    std::fs::write(&p, &b).unwrap();
    let f = EdfFile::open(&p).unwrap();
    assert_eq!(f.n_records, 3);
    assert!(
        f.warnings.iter().any(|w| w.contains("-1")),
        "{:?}",
        f.warnings
    );
    // Declared 3 records, file cut inside the third.
    let b = build(&[emg_sig(10)], &recs, None, "", "3", false);
    let p = d.path().join("cut.edf");
    std::fs::write(&p, &b[..b.len() - 5]).unwrap();
    let e = EdfFile::open(&p).unwrap_err().to_string();
    assert!(
        e.contains("cut.edf") && e.contains("data record 3 is incomplete"),
        "{e}"
    );
    // Header size field inconsistent with the number of signals.
    let mut b = build(&[emg_sig(10)], &recs, None, "", "3", false);
    b[184..192].copy_from_slice(b"768     ");
    let p = d.path().join("hdr.edf");
    std::fs::write(&p, &b).unwrap();
    let e = EdfFile::open(&p).unwrap_err().to_string();
    assert!(
        e.contains("hdr.edf") && e.contains("header size") && e.contains("= 512"),
        "{e}"
    );
    // A non-number names the signal and the field.
    let mut b = build(&[emg_sig(10)], &recs, None, "", "3", false);
    let at = 256 + 16 + 80 + 8 + 8 + 8; // digital minimum of signal 1
    b[at..at + 8].copy_from_slice(b"abc     ");
    let p = d.path().join("num.edf");
    std::fs::write(&p, &b).unwrap();
    let e = EdfFile::open(&p).unwrap_err().to_string();
    assert!(
        e.contains("signal 1 (\"EMG Tib L\"): digital minimum \"abc\""),
        "{e}"
    );
}

#[test]
fn discontinuous_edf_gap_is_missing_and_ends_episodes() {
    // EDF+D, 1000 Hz EMG, 1 s records: 30 records, then a 20 s gap, then
    // 30 more; loud activity from 20 s to the end of the file on both
    // sides of the gap. The episode must stop at the gap.
    let d = tempfile::tempdir().unwrap();
    let fs = 1000usize;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let mut recs = Vec::new();
    let mut tals = Vec::new();
    for r in 0..60usize {
        let onset = if r < 30 { r as f64 } else { r as f64 + 20.0 };
        let loud = r >= 20;
        let amp = if loud { 3000.0 } else { 20.0 }; // digital steps of 0.1 µV
        let x: Vec<i32> = (0..fs)
            .map(|_| (amp * (rng.random::<f64>() - 0.5) * 3.4) as i32)
            .collect();
        recs.push(vec![x]);
        tals.push(format!("+{onset}\x14\x14\x00").into_bytes());
    }
    let sig = Sig {
        label: "LAT",
        unit: "uV",
        spr: fs,
        phys: (-3276.8, 3276.7),
        dig: (-32768, 32767),
    };
    let p = d.path().join("gap_emg.edf");
    std::fs::write(
        &p,
        build(&[sig], &recs, Some((&tals, 16)), "EDF+D", "60", false),
    )
    .unwrap();
    let f = EdfFile::open(&p).unwrap();
    assert_eq!(f.gaps(), vec![(30, 20.0)]);
    let x = read_all(&p, &Config::default()).unwrap();
    let ch = &x[0][0];
    assert_eq!(ch.len(), 80 * fs);
    assert!(ch[30 * fs..50 * fs].iter().all(|v| v.is_nan()));
    assert!(ch[..30 * fs].iter().all(|v| v.is_finite()));
    let out = d.path().join("out");
    let o = crampscan(&["scan", p.to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let eps = read_table(&out.join("episodes.csv"));
    assert!(!eps.is_empty());
    for e in &eps {
        let (s, t): (f64, f64) = (e["start_s"].parse().unwrap(), e["end_s"].parse().unwrap());
        assert!(
            t <= 30.0 + 0.3 || s >= 50.0 - 0.3,
            "episode {s}-{t} spans the gap 30-50 s"
        );
    }
    let nights = read_table(&out.join("nights.csv"));
    assert!(nights[0]["quality"].contains("gaps"), "{:?}", nights[0]);
}

/// Episodes of a scan as (channel, kind, start_s, end_s).
fn episodes(out: &Path) -> Vec<(String, String, f64, f64)> {
    read_table(&out.join("episodes.csv"))
        .into_iter()
        .map(|e| {
            (
                e["channel"].clone(),
                e["kind"].clone(),
                e["start_s"].parse().unwrap(),
                e["end_s"].parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn simulate_edf_scan_evaluate_matches_the_csv_path() {
    let d = tempfile::tempdir().unwrap();
    let (csv_dir, edf_dir) = (d.path().join("csv"), d.path().join("edf"));
    sim(&csv_dir, 1, 0.25, Format::Csv, 11, "n");
    sim(&edf_dir, 1, 0.25, Format::Edf, 11, "n");
    let mut outs = Vec::new();
    for dir in [&csv_dir, &edf_dir] {
        let out = dir.join("out");
        let o = crampscan(&["scan", dir.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        outs.push(out);
    }
    let (a, b) = (episodes(&outs[0]), episodes(&outs[1]));
    assert!(!a.is_empty());
    assert_eq!(a.len(), b.len(), "{a:?}\n{b:?}");
    // EDF stores EMG in 0.05 µV steps (CSV: 0.01 µV) and acceleration in
    // 1e-4 g (as the CSV): episode bounds agree within one hop (0.1 s).
    for (x, y) in a.iter().zip(&b) {
        assert_eq!((&x.0, &x.1), (&y.0, &y.1));
        assert!(
            (x.2 - y.2).abs() <= 0.1 + 1e-9 && (x.3 - y.3).abs() <= 0.1 + 1e-9,
            "{x:?} vs {y:?}"
        );
    }
    // The truth read back from the EDF+ annotations equals the truth file.
    let map = Config::default().annotations;
    let from_edf = crampscan::eval::read_truth_file(&edf_dir.join("n01_emg.edf"), &map).unwrap();
    let from_csv = crampscan::eval::read_truth_file(&csv_dir.join("n01.truth.csv"), &map).unwrap();
    assert_eq!(from_edf.len(), from_csv.len());
    for (x, y) in from_edf.iter().zip(&from_csv) {
        assert_eq!(
            (&x.night, &x.channel, &x.kind),
            (&y.night, &y.channel, &y.kind)
        );
        assert!((x.start_s - y.start_s).abs() < 1e-6 && (x.end_s - y.end_s).abs() < 2e-3);
    }
    // evaluate with the annotations as truth gives the CSV path's table.
    let eval = |truth: PathBuf, out: &Path| {
        let o = crampscan(&[
            "evaluate",
            "--truth",
            truth.to_str().unwrap(),
            "--pred",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let t_csv = eval(csv_dir.join("n01.truth.csv"), &outs[0]);
    let t_edf = eval(edf_dir.join("n01_emg.edf"), &outs[1]);
    // Same table; timing errors may differ by the 1 ms rounding of the
    // EDF+ annotation times (the 95th percentile interpolates between them).
    let (lc, le): (Vec<&str>, Vec<&str>) = (t_csv.lines().collect(), t_edf.lines().collect());
    assert_eq!(lc.len(), le.len(), "{t_csv}\n{t_edf}");
    for (x, y) in lc.iter().zip(&le) {
        for (a, b) in x.split(',').zip(y.split(',')) {
            match (a.parse::<f64>(), b.parse::<f64>()) {
                (Ok(a), Ok(b)) => assert!((a - b).abs() <= 2e-3 + 1e-9, "{x}\n{y}"),
                _ => assert_eq!(a, b, "{x}\n{y}"),
            }
        }
    }
    assert!(t_csv.contains("cramp,"), "{t_csv}");
}

#[test]
fn scored_events_csv_maps_texts_to_kinds() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("n07_events.csv");
    std::fs::write(
        &p,
        "onset_s,duration_s,text\n10,2.5,Limb Movement @ LAT\n40,30,cramp\n50,30,Sleep stage 2\n",
    )
    .unwrap();
    let ev = crampscan::eval::read_truth_file(&p, &Config::default().annotations).unwrap();
    assert_eq!(ev.len(), 2);
    assert_eq!(
        (
            ev[0].night.as_str(),
            ev[0].channel.as_str(),
            ev[0].kind.as_str()
        ),
        ("n07", "LAT", "lm")
    );
    assert_eq!((ev[0].start_s, ev[0].end_s), (10.0, 12.5));
    assert_eq!((ev[1].channel.as_str(), ev[1].kind.as_str()), ("", "cramp"));
}

/// Mutations of valid bytes: flips, truncations, insertions, digit swaps.
fn mutate(rng: &mut ChaCha8Rng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    for _ in 0..rng.random_range(1..6usize) {
        if b.is_empty() {
            break;
        }
        let i = rng.random_range(0..b.len());
        match rng.random_range(0..6u32) {
            0 => b[i] = rng.random(),
            1 => b.truncate(i),
            2 => b.insert(i, rng.random()),
            3 => b[i] = b"0123456789-+. ,;\t\n#e"[rng.random_range(0..20usize)],
            4 => {
                let j = (i + rng.random_range(1..64usize)).min(b.len());
                b.drain(i..j);
            }
            _ => b[i] ^= 0x80,
        }
    }
    b
}

#[test]
fn mutated_edf_csv_and_wav_never_panic_and_errors_name_the_file() {
    let d = tempfile::tempdir().unwrap();
    // Valid starting points: a small EDF+ with annotations, a CSV, a WAV.
    let sim_dir = d.path().join("sim");
    sim(&sim_dir, 1, 0.01, Format::Wav, 3, "w");
    let wav = std::fs::read(sim_dir.join("w01_emg.wav")).unwrap();
    let wav_tsv = std::fs::read(sim_dir.join("w01_emg_channels.tsv")).unwrap();
    let recs: Vec<_> = (0..4).map(|r| vec![vec![r * 10; 50]]).collect();
    let tals: Vec<Vec<u8>> = (0..4)
        .map(|r| format!("+{r}\x14\x14\x00+{r}.5\x150.2\x14LM @ LAT\x14\x00").into_bytes())
        .collect();
    let sig = Sig {
        label: "LAT",
        unit: "uV",
        spr: 50,
        phys: (-100.0, 100.0),
        dig: (-32768, 32767),
    };
    let edf = build(&[sig], &recs, Some((&tals, 20)), "EDF+C", "4", false);
    let mut csv = String::from("# Sampling Rate (Hz):= 500\ntime,emg_l_uv,acc_x_g\n");
    for i in 0..200 {
        csv.push_str(&format!("{},{},{}\n", i as f64 / 500.0, i % 13, 1.0));
    }
    let cfg = Config::default();
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    for (name, base) in [
        ("f.edf", edf),
        ("f.csv", csv.into_bytes()),
        ("f_emg.wav", wav),
    ] {
        let case_dir = d.path().join(format!("case_{name}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        if name.ends_with(".wav") {
            std::fs::write(case_dir.join("f_emg_channels.tsv"), &wav_tsv).unwrap();
        }
        let p = case_dir.join(name);
        for k in 0..400 {
            let b = mutate(&mut rng, &base);
            std::fs::write(&p, &b).unwrap();
            let r = std::panic::catch_unwind(|| {
                let edf_ann = if name.ends_with(".edf") {
                    EdfFile::open(&p).err().map(|e| e.to_string())
                } else {
                    None
                };
                (read_all(&p, &cfg).err().map(|e| e.to_string()), edf_ann)
            });
            let (e1, e2) = r.unwrap_or_else(|_| panic!("{name} mutation {k} panicked"));
            for e in [e1, e2].into_iter().flatten() {
                assert!(
                    e.contains(name),
                    "{name} mutation {k}: error does not name the file: {e}"
                );
            }
        }
    }
}

#[test]
fn inspect_says_why_and_channels_flag_selects_or_names_the_missing() {
    let d = tempfile::tempdir().unwrap();
    let sigs = [
        Sig {
            label: "EEG Fpz-Cz",
            unit: "uV",
            spr: 500,
            phys: (-500.0, 500.0),
            dig: (-32768, 32767),
        },
        Sig {
            label: "LAT",
            unit: "uV",
            spr: 500,
            phys: (-500.0, 500.0),
            dig: (-32768, 32767),
        },
    ];
    let recs: Vec<_> = (0..20)
        .map(|r| {
            vec![
                vec![(r * 7) % 50; 500],
                (0..500).map(|i| (i * 37 % 101) - 50).collect(),
            ]
        })
        .collect();
    let p = d.path().join("psg.edf");
    std::fs::write(&p, build(&sigs, &recs, None, "", "20", false)).unwrap();
    let o = crampscan(&["inspect", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("pattern \"LAT\""), "{text}");
    assert!(
        text.contains("\"EEG Fpz-Cz\" (excluded by pattern \"*EEG*\")"),
        "{text}"
    );
    let o = crampscan(&["inspect", p.to_str().unwrap(), "--channels", "EEG Fpz-Cz"]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(
        text.contains("EEG Fpz-Cz") && text.contains("--channels"),
        "{text}"
    );
    assert!(text.contains("\"LAT\" (not in --channels)"), "{text}");
    // scan with a name that no file has: the night fails naming it.
    let out = d.path().join("out");
    let o = crampscan(&[
        "scan",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--channels",
        "LAT,Leg 2",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let errors = std::fs::read_to_string(out.join("errors.csv")).unwrap();
    assert!(
        errors.contains("Leg 2") && errors.contains("psg.edf"),
        "{errors}"
    );
}

#[test]
fn inspect_lists_every_signal_even_without_a_leg_channel_and_channels_take_alternatives() {
    let d = tempfile::tempdir().unwrap();
    let sig = |label: &'static str| Sig {
        label,
        unit: "uV",
        spr: 500,
        phys: (-500.0, 500.0),
        dig: (-32768, 32767),
    };
    let recs: Vec<_> = (0..20)
        .map(|r| {
            vec![
                vec![(r * 7) % 50; 500],
                (0..500).map(|i| (i * 37 % 101) - 50).collect(),
            ]
        })
        .collect();
    // No leg channel: the header table still shows, with the reasons.
    let p = d.path().join("eeg.edf");
    std::fs::write(
        &p,
        build(
            &[sig("EEG Fpz-Cz"), sig("Chin1")],
            &recs,
            None,
            "",
            "20",
            false,
        ),
    )
    .unwrap();
    let o = crampscan(&["inspect", p.to_str().unwrap()]);
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("2 signals in 20 records"), "{text}");
    assert!(
        text.contains("EEG Fpz-Cz") && text.contains("no (excluded by pattern \"*EEG*\")"),
        "{text}"
    );
    assert!(text.contains("-500..500"), "{text}");
    assert!(text.contains("annotations none"), "{text}");
    // A cohort label, and --channels alternatives: PLMl|LAT takes PLMl.
    let p = d.path().join("psg.edf");
    std::fs::write(
        &p,
        build(
            &[sig("EEG Fpz-Cz"), sig("PLMl")],
            &recs,
            None,
            "",
            "20",
            false,
        ),
    )
    .unwrap();
    let o = crampscan(&["inspect", p.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("yes, emg (pattern \"PLM?\")"), "{text}");
    let out = d.path().join("out");
    let o = crampscan(&[
        "scan",
        p.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--channels",
        "LAT|PLMl|Limb L",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nights = std::fs::read_to_string(out.join("nights.csv")).unwrap();
    assert!(nights.contains("psg"), "{nights}");
}
