//! Where each file of a scan output folder (OUT) lives. Every reader and
//! writer of OUT asks a [`Layout`] for its paths, so the layout is written
//! down once:
//!
//! ```text
//! OUT/episodes.csv  nights.csv  cohort.csv  errors.csv  run.json
//! OUT/cohort_nights.csv  cohort_effects.csv   with a diary (--diary, cohort)
//! OUT/crampscan.lock                     while a run writes into OUT
//! OUT/nights/<night>.json                the night in full
//! OUT/nights/<night>.traces.bin          per-window features (--plots)
//! OUT/nights/<night>.events.edf, .events.xml, .events.annot,
//!     <night>_events.tsv, _events.json   event files (--events)
//! OUT/report/                            figures and HTML (--plots, report)
//! ```

use std::path::{Path, PathBuf};

use super::events::{bids, EventFormat};
use crate::error::{Error, Result};

/// The lock file's name inside the output folder.
pub const LOCK_FILE: &str = "crampscan.lock";

/// The folder of per-night files inside the output folder.
pub const NIGHTS_DIR: &str = "nights";

/// The paths of one output folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(out_dir: &Path) -> Layout {
        Layout {
            root: out_dir.to_path_buf(),
        }
    }

    /// The output folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `OUT/episodes.csv`.
    pub fn episodes_csv(&self) -> PathBuf {
        self.root.join("episodes.csv")
    }

    /// `OUT/nights.csv`.
    pub fn nights_csv(&self) -> PathBuf {
        self.root.join("nights.csv")
    }

    /// `OUT/cohort.csv`.
    pub fn cohort_csv(&self) -> PathBuf {
        self.root.join("cohort.csv")
    }

    /// `OUT/cohort_nights.csv`: one row per subject-night (with a diary).
    pub fn cohort_nights_csv(&self) -> PathBuf {
        self.root.join("cohort_nights.csv")
    }

    /// `OUT/cohort_effects.csv`: rate ratios per covariate and level.
    pub fn cohort_effects_csv(&self) -> PathBuf {
        self.root.join("cohort_effects.csv")
    }

    /// `OUT/errors.csv`.
    pub fn errors_csv(&self) -> PathBuf {
        self.root.join("errors.csv")
    }

    /// `OUT/run.json`.
    pub fn run_json(&self) -> PathBuf {
        self.root.join("run.json")
    }

    /// `OUT/crampscan.lock`.
    pub fn lock_file(&self) -> PathBuf {
        self.root.join(LOCK_FILE)
    }

    /// The empty file written and removed to check that OUT can be written.
    pub fn write_probe(&self) -> PathBuf {
        self.root
            .join(format!(".crampscan-write-test.{}", std::process::id()))
    }

    /// `OUT/nights/`.
    pub fn nights_dir(&self) -> PathBuf {
        self.root.join(NIGHTS_DIR)
    }

    /// `OUT/nights/<night>.json`.
    pub fn night_json(&self, night: &str) -> PathBuf {
        self.nights_dir().join(format!("{night}.json"))
    }

    /// `OUT/nights/<night>.traces.bin`.
    pub fn traces(&self, night: &str) -> PathBuf {
        self.nights_dir().join(format!("{night}.traces.bin"))
    }

    /// The files of a night's events in `format` ([`super::events`]):
    /// `nights/<night>.events.edf`, `.events.xml`, `.events.annot`, or the
    /// BIDS pair `nights/<night>_events.tsv` and `_events.json`.
    pub fn event_files(&self, night: &str, format: EventFormat) -> Vec<PathBuf> {
        let dir = self.nights_dir();
        match format {
            EventFormat::Edf => vec![dir.join(format!("{night}.events.edf"))],
            EventFormat::Xml => vec![dir.join(format!("{night}.events.xml"))],
            EventFormat::Annot => vec![dir.join(format!("{night}.events.annot"))],
            EventFormat::Tsv => vec![
                dir.join(format!("{night}{}", bids::TSV_SUFFIX)),
                dir.join(format!("{night}{}", bids::JSON_SUFFIX)),
            ],
        }
    }

    /// `OUT/report/`.
    pub fn report_dir(&self) -> PathBuf {
        self.root.join("report")
    }

    /// Creates OUT and `OUT/nights/`.
    pub fn create(&self) -> Result<()> {
        std::fs::create_dir_all(self.nights_dir()).map_err(|e| Error::output(&self.root, e))
    }

    /// The night documents in `OUT/nights/`, in file-name order.
    pub fn night_documents(&self) -> Result<Vec<PathBuf>> {
        let dir = self.nights_dir();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_night_document(p))
            .collect();
        paths.sort();
        Ok(paths)
    }
}

/// Whether a file of `OUT/nights/` is a night document (`<night>.json`,
/// not a BIDS events sidecar `<night>_events.json`).
pub fn is_night_document(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "json")
        && !path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with(bids::JSON_SUFFIX))
}
