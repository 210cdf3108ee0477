//! Reading hypnograms (sleep stages over the night; scoring by stage is in
//! [`crate::score::hypnogram`]). Read from an EDF+ annotation file (Sleep-EDF style
//! texts `Sleep stage W/1/2/3/4/R/?`, `Movement time`) or a CSV with the
//! columns `onset_s,duration_s,stage` (stages `W`, `1`–`4`, `N1`–`N3`,
//! `R`/`REM`, `?`; onsets in s from the recording start).

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use crate::error::{Error, Result};

/// A sleep stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Wake,
    N1,
    N2,
    /// N3, or stage 3 or 4 of the Rechtschaffen & Kales rules.
    N3,
    Rem,
    /// Unscored, movement time.
    Unknown,
}

impl Stage {
    /// Reads a stage name (case-insensitive, `Sleep stage ` prefix allowed).
    pub fn parse(text: &str) -> Option<Stage> {
        let t = text.trim().to_ascii_lowercase();
        let t = t.strip_prefix("sleep stage").map(str::trim).unwrap_or(&t);
        match t {
            "w" | "wake" => Some(Stage::Wake),
            "1" | "n1" => Some(Stage::N1),
            "2" | "n2" => Some(Stage::N2),
            "3" | "4" | "n3" | "n4" => Some(Stage::N3),
            "r" | "rem" => Some(Stage::Rem),
            "?" | "movement time" | "unknown" | "unscored" => Some(Stage::Unknown),
            _ => None,
        }
    }

    /// Short name: `W`, `N1`, `N2`, `N3`, `R`, `?`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Wake => "W",
            Stage::N1 => "N1",
            Stage::N2 => "N2",
            Stage::N3 => "N3",
            Stage::Rem => "R",
            Stage::Unknown => "?",
        }
    }

    pub fn is_sleep(self) -> bool {
        matches!(self, Stage::N1 | Stage::N2 | Stage::N3 | Stage::Rem)
    }
}

/// Scored stretches of a night, onsets in s from the recording start.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypnogram {
    pub path: PathBuf,
    /// `(onset_s, end_s, stage)` in file order.
    pub epochs: Vec<(f64, f64, Stage)>,
    /// Time of the hypnogram's first second, when the file says.
    pub start_time: Option<NaiveDateTime>,
}

impl Hypnogram {
    /// Reads an EDF+/BDF+ hypnogram or a CSV, by extension.
    pub fn read(path: &Path) -> Result<Hypnogram> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        match ext.as_str() {
            "edf" | "bdf" => Self::read_edf(path),
            "csv" => Self::read_csv(path),
            "xml" | "annot" => Self::read_scoring(path, None),
            _ => Err(Error::input(
                path,
                "hypnogram: expected an EDF+ annotation file (.edf/.bdf), a CSV (.csv) with columns onset_s,duration_s,stage, an NSRR XML (.xml) or a Luna .annot",
            )),
        }
    }

    /// The stages of an NSRR XML or Luna `.annot` scoring in 30 s epochs
    /// ([`crate::io::scoring::Scoring::hypnogram`]); clock times placed
    /// against `rec_start`.
    pub fn read_scoring(path: &Path, rec_start: Option<NaiveDateTime>) -> Result<Hypnogram> {
        crate::io::scoring::Scoring::read(path, rec_start)?
            .hypnogram()
            .ok_or_else(|| Error::input(path, "hypnogram: the scoring has no sleep stage"))
    }

    fn read_edf(path: &Path) -> Result<Hypnogram> {
        let f = crate::io::edf::EdfFile::open(path)?;
        let mut epochs = Vec::new();
        for a in &f.annotations {
            if let (Some(stage), Some(d)) = (Stage::parse(&a.text), a.duration_s) {
                epochs.push((a.onset_s, a.onset_s + d, stage));
            }
        }
        if epochs.is_empty() {
            return Err(Error::input(
                path,
                "hypnogram: no annotation with a duration reads as a sleep stage (expected texts like \"Sleep stage 2\")",
            ));
        }
        Ok(Hypnogram {
            path: path.to_path_buf(),
            epochs,
            start_time: f.start_time,
        })
    }

    fn read_csv(path: &Path) -> Result<Hypnogram> {
        let (mut rdr, headers) = crate::io::open_table(path)?;
        let col = |n: &str| -> Result<usize> {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(n))
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!("line 1: no column \"{n}\"; expected onset_s,duration_s,stage"),
                    )
                })
        };
        let (c_on, c_dur, c_st) = (col("onset_s")?, col("duration_s")?, col("stage")?);
        let mut epochs = Vec::new();
        for (k, rec) in rdr.records().enumerate() {
            let line = k + 2;
            let rec = rec.map_err(|e| Error::input(path, format!("line {line}: {e}")))?;
            let num = |c: usize, name: &str| -> Result<f64> {
                let v = rec.get(c).unwrap_or("").trim();
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x >= 0.0)
                    .ok_or_else(|| {
                        Error::input(
                            path,
                            format!("line {line}, column {name}: \"{v}\" is not a number >= 0"),
                        )
                    })
            };
            let on = num(c_on, "onset_s")?;
            let dur = num(c_dur, "duration_s")?;
            let text = rec.get(c_st).unwrap_or("");
            let stage = Stage::parse(text).ok_or_else(|| {
                Error::input(
                    path,
                    format!("line {line}, column stage: \"{text}\" is not a stage; expected W, 1, 2, 3, 4, N1, N2, N3, R, REM or ?"),
                )
            })?;
            epochs.push((on, on + dur, stage));
        }
        if epochs.is_empty() {
            return Err(Error::input(path, "hypnogram: no rows"));
        }
        Ok(Hypnogram {
            path: path.to_path_buf(),
            epochs,
            start_time: None,
        })
    }

    /// Shifts the epochs to a recording that starts at `rec_start` (EDF
    /// hypnograms carry their own start time).
    pub fn align_to(&mut self, rec_start: Option<NaiveDateTime>) {
        if let (Some(h), Some(r)) = (self.start_time, rec_start) {
            let off = (h - r).num_milliseconds() as f64 / 1000.0;
            for e in &mut self.epochs {
                e.0 += off;
                e.1 += off;
            }
            self.start_time = Some(r);
        }
    }
}

impl Hypnogram {
    /// Refuses a hypnogram that does not fit a recording of `duration_s`
    /// (none of it inside, or epochs starting past the end), naming both
    /// spans ([`crate::io::scoring::check_spans`]).
    pub fn check_span(&self, duration_s: f64) -> Result<()> {
        let places: Vec<String> = (1..=self.epochs.len())
            .map(|k| format!("epoch {k}"))
            .collect();
        let spans: Vec<(f64, f64, &str)> = self
            .epochs
            .iter()
            .zip(&places)
            .map(|(e, p)| (e.0, e.1, p.as_str()))
            .collect();
        crate::io::scoring::check_spans(&self.path, &spans, duration_s)
    }
}

/// Whether a file name marks a hypnogram rather than a recording:
/// `*.hypnogram.csv`, `*-Hypnogram.edf` or `*-Hypnogram.bdf`.
pub fn is_hypnogram(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    name.ends_with(".hypnogram.csv")
        || name.ends_with("-hypnogram.edf")
        || name.ends_with("-hypnogram.bdf")
}

/// The hypnogram sidecar of night `id` in folder `dir`: `<id>.hypnogram.csv`,
/// `<id>-Hypnogram.edf`, or for Sleep-EDF names (`SC4001E0-PSG`) the one
/// `-Hypnogram.edf` whose name shares the first 7 characters (`SC4001EC-…`).
pub fn find_sidecar(dir: &Path, id: &str) -> Option<PathBuf> {
    for name in [
        format!("{id}.hypnogram.csv"),
        format!("{id}-Hypnogram.edf"),
        format!("{id}-Hypnogram.bdf"),
    ] {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let stem = id.strip_suffix("-PSG")?;
    if stem.len() < 8 || !stem.is_ascii() {
        return None;
    }
    let prefix = &stem[..7];
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(prefix) && is_hypnogram(Path::new(n)) && !n.ends_with(".csv")
            })
        })
        .collect();
    found.sort();
    (found.len() == 1).then(|| found.remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_hypnogram_gives_sleep_time_and_names_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n1.hypnogram.csv");
        std::fs::write(
            &p,
            "onset_s,duration_s,stage\n0,600,W\n600,1200,N2\n1800,300,?\n2100,900,R\n",
        )
        .unwrap();
        let h = Hypnogram::read(&p).unwrap();
        assert_eq!(h.sleep_s(1e9), 2100.0);
        assert_eq!(h.sleep_s(1000.0), 400.0);
        assert!(h.asleep(600.0) && !h.asleep(599.9) && !h.asleep(1900.0));
        assert_eq!(find_sidecar(dir.path(), "n1"), Some(p.clone()));
        assert!(is_hypnogram(&p));
        std::fs::write(&p, "onset_s,duration_s,stage\n0,30,W\n30,x,2\n").unwrap();
        let e = Hypnogram::read(&p).unwrap_err().to_string();
        assert!(e.contains("line 3, column duration_s"), "{e}");
        std::fs::write(&p, "onset_s,duration_s,stage\n0,30,S5\n").unwrap();
        let e = Hypnogram::read(&p).unwrap_err().to_string();
        assert!(e.contains("line 2, column stage"), "{e}");
    }

    #[test]
    #[cfg_attr(not(shared_data), ignore = "needs ../shared/data")]
    fn sleep_edf_hypnogram_reads_its_stages() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/edfio-sleep-edf");
        let p = dir.join("SC4001EC-Hypnogram.edf");
        if !p.exists() {
            eprintln!("skipped: {} not present", p.display());
            return;
        }
        let h = Hypnogram::read(&p).unwrap();
        // 154 annotations, all stages (SOURCE.md); the first is W for 30 630 s.
        assert_eq!(h.epochs.len(), 154);
        assert_eq!(h.epochs[0], (0.0, 30630.0, Stage::Wake));
        assert_eq!(h.epochs[1].0, 30630.0);
        assert_eq!(h.epochs[1].2, Stage::N1);
        assert!(!h.asleep(100.0) && h.asleep(30630.0));
        // The Sleep-EDF pairing rule finds it for the PSG's night id.
        assert_eq!(find_sidecar(&dir, "SC4001E0-PSG"), Some(p));
    }
}
