//! A night's files checked against each other before any is read: one
//! file (or its EDF↔BDF conversion) given twice would count every episode
//! twice; files of very different lengths are flagged after reading.

use std::path::{Path, PathBuf};

use super::edf::EdfFile;
use crate::error::{Error, Result};

/// Files of one night recorded side by side start and stop together, up to
/// the recorders' start-up and the last block: a part shorter than the
/// longest by more than this many seconds *and* this share of the longest
/// is flagged `length_mismatch` in `quality` (the night is analysed over
/// the longest; the shorter part is missing for the rest).
pub const PART_LENGTH_TOLERANCE_S: f64 = 60.0;
/// The share of the longest part, see [`PART_LENGTH_TOLERANCE_S`].
pub const PART_LENGTH_TOLERANCE_SHARE: f64 = 0.05;

/// Whether a part of `short_s` beside a longest part of `long_s` differs by
/// more than the documented tolerance.
pub fn lengths_differ(short_s: f64, long_s: f64) -> bool {
    let d = long_s - short_s;
    d > PART_LENGTH_TOLERANCE_S && d > PART_LENGTH_TOLERANCE_SHARE * long_s
}

/// The identity of a file on disk: device and inode on Unix (hard and
/// symbolic links to one file are one file), the canonical path elsewhere.
fn identity(path: &Path) -> Result<(u64, u64, PathBuf)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        Ok((m.dev(), m.ino(), PathBuf::new()))
    }
    #[cfg(not(unix))]
    {
        let canon = std::fs::canonicalize(path).map_err(|e| Error::io(path, e))?;
        Ok((0, 0, canon))
    }
}

fn is_edf_family(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("edf" | "bdf" | "rec")
    )
}

fn stem_lower(path: &Path) -> String {
    path.file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Whether two EDF/BDF headers describe the same recording: the same signal
/// labels with the same samples per record, and the same duration.
fn same_recording(a: &EdfFile, b: &EdfFile) -> bool {
    let layout = |f: &EdfFile| -> Vec<(String, usize)> {
        f.header
            .signals
            .iter()
            .map(|s| (s.label.clone(), s.samples_per_record))
            .collect()
    };
    let duration = |f: &EdfFile| f.n_records as f64 * f.header.record_s;
    layout(a) == layout(b) && (duration(a) - duration(b)).abs() <= 1e-6 * duration(a).max(1.0)
}

/// Refuses a night that has no files, names one file twice (by path,
/// symbolic or hard link), or holds an EDF file and its BDF conversion
/// (same stem, same signals, same duration). Errors name both files.
pub fn check_parts(night: &str, files: &[PathBuf]) -> Result<()> {
    if files.is_empty() {
        return Err(Error::input(
            Path::new(night),
            "night has no files; expected at least one recording",
        ));
    }
    let mut seen: Vec<((u64, u64, PathBuf), &PathBuf)> = Vec::new();
    for f in files {
        super::bounds::check_regular(f)?;
        let id = identity(f)?;
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == id) {
            return Err(Error::input(
                f,
                format!(
                    "the same file as {} is given twice in night {night}; every episode would count twice",
                    first.display()
                ),
            ));
        }
        seen.push((id, f));
    }
    let edfs: Vec<&PathBuf> = files.iter().filter(|f| is_edf_family(f)).collect();
    for (i, a) in edfs.iter().enumerate() {
        for b in &edfs[i + 1..] {
            if stem_lower(a) != stem_lower(b) {
                continue;
            }
            // Unreadable headers are reported when the file is opened.
            let (Ok(fa), Ok(fb)) = (EdfFile::open(a), EdfFile::open(b)) else {
                continue;
            };
            if same_recording(&fa, &fb) {
                return Err(Error::input(
                    b,
                    format!(
                        "a conversion of {} (same signals, same samples per record, same duration) in night {night}; every episode would count twice: give one of them",
                        a.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_needs_both_seconds_and_share() {
        assert!(!lengths_differ(28_700.0, 28_800.0)); // 100 s of 8 h: 0.3 %
        assert!(lengths_differ(20_000.0, 28_800.0));
        assert!(!lengths_differ(100.0, 150.0)); // 50 s: under a minute
        assert!(lengths_differ(0.04, 180.0));
    }

    #[test]
    fn a_file_twice_is_refused_by_name() {
        let d = tempfile::tempdir().unwrap();
        let a = d.path().join("a.csv");
        std::fs::write(&a, "x\n").unwrap();
        let e = check_parts("a", &[a.clone(), d.path().join("./a.csv")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("a.csv") && e.contains("twice"), "{e}");
        assert!(check_parts("none", &[]).is_err());
    }
}
