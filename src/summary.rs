//! What a scan knows of each night once it is done: the night document
//! (the night's results, where they came from, how they were made), the
//! failed nights, the input records. Computed once; the writers in
//! [`crate::export`] only format them.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::night::NightResult;

/// A night that could not be processed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NightError {
    pub night: String,
    pub source: String,
    pub error: String,
}

/// What `episodes.csv` reads of a night document.
#[derive(Deserialize)]
pub struct NightEpisodes {
    pub night: String,
    pub start_time: Option<NaiveDateTime>,
    pub episodes: Vec<crate::score::Episode>,
}

/// One input file of a night, identified for `--resume` and provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    pub path: String,
    pub size_bytes: u64,
    pub blake3: String,
}

/// What `nights/<night>.json` holds: the night in full, where it came
/// from, and how it was made. The tables are built from these documents, so
/// a resumed or merged run gives the same bytes as a single run.
#[derive(Debug, Clone, Serialize)]
pub struct NightDocument {
    pub tool_version: String,
    pub subject: Option<String>,
    pub inputs: Vec<InputRecord>,
    #[serde(flatten)]
    pub night: NightResult,
    pub config: Config,
}

impl NightDocument {
    /// The document without its episodes and per-LM list, for a batch to
    /// hold while it runs: `episodes.csv` reads them back from the night's
    /// file, one night at a time.
    pub fn without_episodes(mut self) -> NightDocument {
        self.night.episodes = Vec::new();
        self.night.leg_movements.movements = Vec::new();
        self
    }
}
