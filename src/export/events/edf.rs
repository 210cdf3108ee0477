//! `nights/<night>.events.edf`: an annotation-only EDF+ file (EDF+C, one
//! `EDF Annotations` signal, no ordinary signals) holding one annotation
//! per episode, its text the episode's kind linked to its channel by the
//! EDF+ `@@<label>` convention (`cramp@@emg_left_uv`), onset and duration
//! in s with the millisecond decimals of `episodes.csv`.
//!
//! The header gives the recording's start date and time (`01.01.85
//! 00.00.00` and `Startdate X` when it is not known, as EDF+ says). EDF+
//! stores a file of annotations only with a record duration of 0: every
//! data record starts at +0, its first TAL the time-keeping `+0␔␔␀`,
//! followed by as many event TALs as fit in [`RECORD_BYTES`]; more events
//! take more records, so thousands fit.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{event_path, EventFormat, NightEvents};
use crate::error::{Error, Result};
use crate::export::cells::{duration_ms, fixed};
use crate::export::{Export, Layout};

/// Bytes of the annotation signal per data record (2 bytes a "sample"):
/// room for about a hundred event TALs; a longer TAL widens every record.
pub const RECORD_BYTES: usize = 4096;

/// The time-keeping TAL that opens every record of a file whose records
/// last 0 s.
const TIME_KEEPING: &[u8] = b"+0\x14\x14\x00";

/// The annotation-only EDF+ of a night.
pub struct EdfEvents<'a>(pub &'a NightEvents);

impl Export for EdfEvents<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        event_path(out, self.0, EventFormat::Edf, 0)
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(&edf_bytes(self.0))
            .map_err(|e| Error::output(path, e))
    }
}

/// The TAL of one event: `+onset␕duration␔text␔␀`.
fn tal(onset_s: f64, end_s: f64, text: &str) -> Vec<u8> {
    format!(
        "+{}\x15{}\x14{text}\x14\x00",
        fixed(onset_s, 3),
        duration_ms(onset_s, end_s)
    )
    .into_bytes()
}

/// An annotation text as EDF+ takes it: no TAL separators or NULs.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| {
            if matches!(c, '\x00' | '\x14' | '\x15') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// The data records: each starts with [`TIME_KEEPING`] and holds the
/// TALs that fit, zero-padded to the record size.
fn records(n: &NightEvents) -> (usize, Vec<Vec<u8>>) {
    let tals: Vec<Vec<u8>> = n
        .events
        .iter()
        .map(|e| {
            let text = format!("{}@@{}", e.kind.as_str(), clean(&e.channel));
            tal(e.start_s, e.end_s, &text)
        })
        .collect();
    let longest = tals.iter().map(Vec::len).max().unwrap_or(0);
    let size = RECORD_BYTES.max((TIME_KEEPING.len() + longest).div_ceil(2) * 2);
    let mut out = vec![TIME_KEEPING.to_vec()];
    for t in tals {
        if out.last().is_some_and(|r| r.len() + t.len() > size) {
            out.push(TIME_KEEPING.to_vec());
        }
        out.last_mut().expect("one record at least").extend(t);
    }
    for r in &mut out {
        r.resize(size, 0);
    }
    (size, out)
}

/// `s` in `width` bytes: ASCII (others as `_`), space-padded, cut.
fn field(s: &str, width: usize) -> Vec<u8> {
    let mut b: Vec<u8> = s
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c as u8
            } else {
                b'_'
            }
        })
        .take(width)
        .collect();
    b.resize(width, b' ');
    b
}

/// The whole file.
pub fn edf_bytes(n: &NightEvents) -> Vec<u8> {
    let (size, recs) = records(n);
    let (date, time, startdate) = match n.start_time {
        Some(t) => (
            t.format("%d.%m.%y").to_string(),
            t.format("%H.%M.%S").to_string(),
            t.format("%d-%b-%Y").to_string().to_uppercase(),
        ),
        None => ("01.01.85".into(), "00.00.00".into(), "X".into()),
    };
    let mut h = Vec::with_capacity(512 + recs.len() * size);
    h.extend(field("0", 8));
    h.extend(field("X X X X", 80));
    h.extend(field(&format!("Startdate {startdate} X X crampscan"), 80));
    h.extend(field(&date, 8));
    h.extend(field(&time, 8));
    h.extend(field("512", 8));
    h.extend(field("EDF+C", 44));
    h.extend(field(&recs.len().to_string(), 8));
    h.extend(field("0", 8));
    h.extend(field("1", 4));
    // The annotation signal's header.
    h.extend(field("EDF Annotations", 16));
    h.extend(field("", 80));
    h.extend(field("", 8));
    h.extend(field("-1", 8));
    h.extend(field("1", 8));
    h.extend(field("-32768", 8));
    h.extend(field("32767", 8));
    h.extend(field("", 80));
    h.extend(field(&(size / 2).to_string(), 8));
    h.extend(field("", 32));
    for r in recs {
        h.extend(r);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::super::tests::night;
    use super::*;

    #[test]
    fn header_and_tals_byte_by_byte() {
        let b = edf_bytes(&night());
        assert_eq!(b.len(), 512 + RECORD_BYTES);
        let h = |a: usize, z: usize| std::str::from_utf8(&b[a..z]).unwrap();
        assert_eq!(h(0, 8), "0       ");
        assert_eq!(h(8, 16), "X X X X ");
        assert_eq!(h(88, 88 + 41), "Startdate 01-JAN-2026 X X crampscan      ");
        assert_eq!(h(168, 184), "01.01.2623.00.00");
        assert_eq!(h(184, 192), "512     ");
        assert_eq!(h(192, 197), "EDF+C");
        assert_eq!(h(236, 256), "1       0       1   ");
        assert_eq!(h(256, 272), "EDF Annotations ");
        // samples per record: 4096 bytes / 2
        assert_eq!(
            h(256 + 16 + 80 + 8 * 5 + 80, 256 + 16 + 80 + 8 * 6 + 80),
            "2048    "
        );
        let tals = b"+0\x14\x14\x00\
+37.325\x154.300\x14lm@@emg_left_uv\x14\x00\
+96.325\x1563.200\x14cramp@@emg_left_uv\x14\x00\
+200.000\x1512.500\x14movement@@Leg & <b>\x14\x00";
        assert_eq!(&b[512..512 + tals.len()], tals);
        assert!(b[512 + tals.len()..].iter().all(|&x| x == 0));
    }

    #[test]
    fn thousands_of_events_take_more_records_and_read_back() {
        let mut n = night();
        let one = n.events[0].clone();
        n.events = (0..5000)
            .map(|k| {
                let mut e = one.clone();
                e.start_s = 10.0 + 5.0 * k as f64;
                e.end_s = e.start_s + 1.5;
                e
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n.events.edf");
        std::fs::write(&p, edf_bytes(&n)).unwrap();
        let f = crate::io::edf::EdfFile::open(&p).unwrap();
        assert_eq!(f.annotations.len(), 5000);
        for (a, e) in f.annotations.iter().zip(&n.events) {
            assert_eq!(a.onset_s, (e.start_s * 1000.0).round() / 1000.0);
            assert_eq!(a.duration_s, Some(1.5));
            assert_eq!(a.text, "lm@@emg_left_uv");
        }
        assert_eq!(
            f.start_time,
            crate::io::sidecar::parse_datetime("2026-01-01T23:00:00")
        );
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    }
}
