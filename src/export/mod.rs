//! Every file a scan writes into its output folder (OUT), one file per
//! format behind one trait, after hyperfine's `export/`: the results are
//! computed once ([`crate::summary`]); a writer only formats them.
//!
//! - [`layout`]: the one place that knows where each file lives in OUT;
//! - [`tables`]: `episodes.csv`, `nights.csv`, `cohort.csv`, `errors.csv`;
//! - [`cohort`]: `cohort_nights.csv` and `cohort_effects.csv` (with a diary);
//! - [`json`]: `nights/<night>.json` and `run.json`;
//! - [`events`]: event files per night for review (EDF+, NSRR XML, Luna
//!   `.annot`, BIDS `events.tsv`), with `scan --events`;
//! - [`cells`]: how a number or a text cell is written;
//! - [`write_atomic`] / [`write_atomic_with`]: the one way a file is
//!   written (temporary file and rename).
//!
//! Adding a format is one new file with a type that implements [`Export`].

pub mod cells;
pub mod cohort;
pub mod events;
pub mod json;
pub mod layout;
pub mod tables;

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub use layout::Layout;

/// One output file: where it goes in OUT and how its bytes are written.
pub trait Export {
    /// The file's path in the output folder.
    fn path(&self, out: &Layout) -> PathBuf;
    /// Writes the whole file to `w`; `path` (from [`Export::path`]) names
    /// the file in errors.
    fn write(&self, out: &Layout, path: &Path, w: &mut dyn Write) -> Result<()>;
}

/// Writes `file` into `out` atomically ([`write_atomic_with`]); returns
/// where it went.
pub fn export(out: &Layout, file: &dyn Export) -> Result<PathBuf> {
    let path = file.path(out);
    write_atomic_with(&path, |w| file.write(out, &path, w))?;
    Ok(path)
}

/// Removes the output file `path` if it is there: a file that should not
/// outlive this run (a stale event file, a merged night's old features).
pub fn remove_if_present(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::output(path, e)),
        _ => Ok(()),
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a
/// reader, or a run resumed after a kill, never sees a half-written file.
/// No fsync: that would guard against power loss, not against an
/// interrupted process, and it cost more wall time than a night's analysis
/// on small nights.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| {
        w.write_all(bytes).map_err(|e| Error::output(path, e))
    })
}

/// The longest file name, in bytes, that common file systems take
/// (`NAME_MAX` of Linux ext4/XFS/Btrfs; APFS and NTFS allow 255 units).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// The name of the temporary file [`write_atomic`] writes before renaming
/// it onto `path`: `.<name>.<pid>.tmp`, or, when that would be longer than
/// [`MAX_FILE_NAME_BYTES`] (a long night id), `.<BLAKE3 of name>.<pid>.tmp`,
/// so that any final name that fits has a temporary name that fits.
pub fn temp_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let pid = std::process::id();
    let plain = format!(".{name}.{pid}.tmp");
    if plain.len() <= MAX_FILE_NAME_BYTES {
        plain
    } else {
        let hash = blake3::hash(name.as_bytes()).to_hex();
        format!(".{}.{pid}.tmp", &hash[..32])
    }
}

/// [`write_atomic`] of what `write` writes, through a buffer.
pub fn write_atomic_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<()>,
) -> Result<()> {
    let tmp = path.with_file_name(temp_name(path));
    let result = (|| {
        let file = std::fs::File::create(&tmp).map_err(|e| Error::output(path, e))?;
        let mut f = std::io::BufWriter::new(file);
        write(&mut f)?;
        f.into_inner()
            .map_err(|e| Error::output(path, e.into_error()))?;
        std::fs::rename(&tmp, path).map_err(|e| Error::output(path, e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_fit_whenever_the_final_name_fits() {
        let short = Path::new("out/nights/n01.json");
        assert_eq!(
            temp_name(short),
            format!(".n01.json.{}.tmp", std::process::id())
        );
        let id = "x".repeat(MAX_FILE_NAME_BYTES - ".json".len());
        let long = PathBuf::from(format!("out/nights/{id}.json"));
        assert!(temp_name(&long).len() <= MAX_FILE_NAME_BYTES);
        let other = PathBuf::from(format!("out/nights/y{}.json", &id[1..]));
        assert_ne!(temp_name(&long), temp_name(&other));
    }

    #[test]
    fn a_failed_write_leaves_neither_file_nor_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        let r = write_atomic_with(&path, |_| {
            Err(Error::output(&path, std::io::Error::other("disk full")))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        write_atomic(&path, b"a,b\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a,b\n");
    }
}
