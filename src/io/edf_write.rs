//! EDF+ writer for single-rate recordings with annotations (the
//! simulator's `--format edf`). Data records last 1 s; the annotations are
//! known before the samples and go into the record their onset falls in.
//! The record count is written as -1 while writing and patched at the end,
//! as recorders do.

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use super::edf::Annotation;
use crate::error::{Error, Result};

/// One data signal to write.
#[derive(Debug, Clone)]
pub struct WriteSignal {
    pub label: String,
    pub unit: String,
    pub physical_min: f64,
    pub physical_max: f64,
    pub digital_min: i32,
    pub digital_max: i32,
}

/// Streams frames (one value per signal, all at one rate) into an EDF+C file.
pub struct EdfWriter {
    path: PathBuf,
    w: BufWriter<File>,
    signals: Vec<WriteSignal>,
    spr: usize,
    /// Current record, signal-major, digital values.
    record: Vec<i16>,
    in_record: usize,
    records_written: u64,
    /// Annotation TAL bytes per record index, each padded to `ann_bytes`.
    ann_by_record: Vec<Vec<u8>>,
    ann_bytes: usize,
}

/// Formats `v` into at most `width` characters (EDF number fields).
fn fit(v: f64, width: usize) -> String {
    for d in (0..=8).rev() {
        let s = format!("{v:.d$}");
        let s = if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        };
        if s.len() <= width {
            return s;
        }
    }
    format!("{v:.0}")
}

fn pad(s: &str, width: usize) -> Vec<u8> {
    let mut b: Vec<u8> = s
        .chars()
        .map(|c| if c.is_ascii() { c as u8 } else { b'?' })
        .take(width)
        .collect();
    b.resize(width, b' ');
    b
}

impl EdfWriter {
    /// Creates `path` for `signals` sampled at `fs_hz` (a whole number of
    /// samples per 1 s record), starting at `start`, with `annotations`
    /// (onsets in s from the first sample) for a recording of `duration_s`.
    pub fn create(
        path: &Path,
        signals: Vec<WriteSignal>,
        fs_hz: f64,
        start: NaiveDateTime,
        annotations: &[Annotation],
        duration_s: f64,
    ) -> Result<EdfWriter> {
        let bad = |msg: String| Error::Config(format!("{}: {msg}", path.display()));
        if fs_hz.fract() != 0.0 || fs_hz < 1.0 {
            return Err(bad(format!(
                "EDF output needs a whole number of samples per 1 s record; {fs_hz} Hz is not"
            )));
        }
        let spr = fs_hz as usize;
        let n_records = (duration_s.ceil() as usize).max(1);
        let mut ann_by_record: Vec<Vec<u8>> = (0..n_records)
            .map(|r| format!("+{r}\x14\x14\x00").into_bytes())
            .collect();
        for a in annotations {
            let r = ((a.onset_s.max(0.0)) as usize).min(n_records - 1);
            let mut tal = format!("+{}", fit(a.onset_s, 16));
            if let Some(d) = a.duration_s {
                tal.push_str(&format!("\x15{}", fit(d, 16)));
            }
            tal.push_str(&format!("\x14{}\x14\x00", a.text));
            ann_by_record[r].extend_from_slice(tal.as_bytes());
        }
        let ann_bytes = ann_by_record.iter().map(|b| b.len()).max().unwrap_or(0);
        let ann_bytes = ann_bytes.div_ceil(2) * 2;
        for b in &mut ann_by_record {
            b.resize(ann_bytes, 0);
        }
        let f = File::create(path).map_err(|e| Error::output(path, e))?;
        let mut w = BufWriter::new(f);
        let ns = signals.len() + 1;
        let mut h = Vec::with_capacity(256 * (ns + 1));
        h.extend(pad("0", 8));
        h.extend(pad("X X X X", 80));
        h.extend(pad(
            &format!(
                "Startdate {} X X crampscan",
                start.format("%d-%b-%Y").to_string().to_uppercase()
            ),
            80,
        ));
        h.extend(pad(&start.format("%d.%m.%y").to_string(), 8));
        h.extend(pad(&start.format("%H.%M.%S").to_string(), 8));
        h.extend(pad(&(256 * (ns + 1)).to_string(), 8));
        h.extend(pad("EDF+C", 44));
        h.extend(pad("-1", 8));
        h.extend(pad("1", 8));
        h.extend(pad(&ns.to_string(), 4));
        let ann = WriteSignal {
            label: "EDF Annotations".into(),
            unit: String::new(),
            physical_min: -1.0,
            physical_max: 1.0,
            digital_min: -32768,
            digital_max: 32767,
        };
        let all: Vec<&WriteSignal> = signals.iter().chain(std::iter::once(&ann)).collect();
        let sprs: Vec<usize> = all
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if i < signals.len() {
                    spr
                } else {
                    ann_bytes / 2
                }
            })
            .collect();
        for s in &all {
            h.extend(pad(&s.label, 16));
        }
        for _ in &all {
            h.extend(pad("", 80));
        }
        for s in &all {
            h.extend(pad(&s.unit, 8));
        }
        for s in &all {
            h.extend(pad(&fit(s.physical_min, 8), 8));
        }
        for s in &all {
            h.extend(pad(&fit(s.physical_max, 8), 8));
        }
        for s in &all {
            h.extend(pad(&s.digital_min.to_string(), 8));
        }
        for s in &all {
            h.extend(pad(&s.digital_max.to_string(), 8));
        }
        for _ in &all {
            h.extend(pad("", 80));
        }
        for n in &sprs {
            h.extend(pad(&n.to_string(), 8));
        }
        for _ in &all {
            h.extend(pad("", 32));
        }
        w.write_all(&h).map_err(|e| Error::output(path, e))?;
        Ok(EdfWriter {
            path: path.to_path_buf(),
            w,
            record: vec![0; signals.len() * spr],
            signals,
            spr,
            in_record: 0,
            records_written: 0,
            ann_by_record,
            ann_bytes,
        })
    }

    /// Appends one frame of physical values (one per signal, in the signals' units).
    pub fn push_frame(&mut self, values: &[f64]) -> Result<()> {
        for (k, (s, v)) in self.signals.iter().zip(values).enumerate() {
            let gain = (s.physical_max - s.physical_min) / (s.digital_max - s.digital_min) as f64;
            let d = ((v - s.physical_min) / gain + s.digital_min as f64)
                .round()
                .clamp(s.digital_min as f64, s.digital_max as f64);
            self.record[k * self.spr + self.in_record] = d as i16;
        }
        self.in_record += 1;
        if self.in_record == self.spr {
            self.flush_record()?;
        }
        Ok(())
    }

    fn flush_record(&mut self) -> Result<()> {
        let path = &self.path;
        let mut bytes = Vec::with_capacity(self.record.len() * 2 + self.ann_bytes);
        for d in &self.record {
            bytes.extend_from_slice(&d.to_le_bytes());
        }
        let r = self.records_written as usize;
        match self.ann_by_record.get(r) {
            Some(a) => bytes.extend_from_slice(a),
            None => {
                let mut a = format!("+{r}\x14\x14\x00").into_bytes();
                a.resize(self.ann_bytes, 0);
                bytes.extend_from_slice(&a);
            }
        }
        self.w
            .write_all(&bytes)
            .map_err(|e| Error::output(path, e))?;
        self.records_written += 1;
        self.in_record = 0;
        self.record.iter_mut().for_each(|d| *d = 0);
        Ok(())
    }

    /// Pads the last record with zeros (EDF stores whole records only),
    /// writes the record count and closes the file.
    pub fn finish(mut self) -> Result<()> {
        if self.in_record > 0 {
            let zeros = vec![0.0; self.signals.len()];
            while self.in_record > 0 {
                self.push_frame(&zeros)?;
            }
        }
        let path = self.path.clone();
        self.w
            .seek(SeekFrom::Start(236))
            .map_err(|e| Error::output(&path, e))?;
        self.w
            .write_all(&pad(&self.records_written.to_string(), 8))
            .map_err(|e| Error::output(&path, e))?;
        self.w.flush().map_err(|e| Error::output(&path, e))
    }
}
