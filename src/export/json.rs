//! The JSON files of OUT: `nights/<night>.json` (the night in full; every
//! table is rebuilt from these) and `run.json`, and their readers.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Export, Layout};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::night::NightResult;
use crate::summary::{InputRecord, NightDocument, NightEpisodes};

/// Reads the episodes of `nights/<night>.json`, skipping the rest.
pub fn read_night_episodes(path: &Path) -> Result<NightEpisodes> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| not_a_document(path, e))
}

/// `nights/<night>.json`, written to `out` as it is serialised, so that a
/// night with many episodes is not held twice.
pub fn write_night_json(doc: &NightDocument, out: &mut dyn Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    out.write_all(b"\n")
}

/// The fields of a night document besides the night's own.
#[derive(Deserialize)]
struct DocumentHead {
    tool_version: String,
    subject: Option<String>,
    inputs: Vec<InputRecord>,
    config: Config,
}

fn not_a_document(path: &Path, e: serde_json::Error) -> Error {
    Error::input(
        path,
        format!(
            "line {}, column {}: not a crampscan night document: {e}",
            e.line(),
            e.column()
        ),
    )
}

/// A night document from its head and its night, each read from the whole
/// object while skipping the other's fields. Deserialising the document at
/// once would buffer every value first (serde's `flatten`), several times
/// the size of the file for a night with many episodes.
fn assemble(head: DocumentHead, night: NightResult) -> NightDocument {
    NightDocument {
        tool_version: head.tool_version,
        subject: head.subject,
        inputs: head.inputs,
        night,
        config: head.config,
    }
}

/// Parses a `nights/<night>.json` document.
pub fn parse_night_json(path: &Path, bytes: &[u8]) -> Result<NightDocument> {
    let err = |e| not_a_document(path, e);
    let head = serde_json::from_slice(bytes).map_err(err)?;
    let night = serde_json::from_slice(bytes).map_err(err)?;
    Ok(assemble(head, night))
}

/// Reads `nights/<night>.json` back, streaming.
pub fn read_night_json(path: &Path) -> Result<NightDocument> {
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| Error::input(path, format!("cannot open: {e}")))
    };
    let err = |e| not_a_document(path, e);
    let head = serde_json::from_reader(open()?).map_err(err)?;
    let night = serde_json::from_reader(open()?).map_err(err)?;
    Ok(assemble(head, night))
}

/// `nights/<night>.json` of one night document.
pub struct NightJson<'a>(pub &'a NightDocument);

impl Export for NightJson<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.night_json(&self.0.night.night)
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        write_night_json(self.0, w).map_err(|e| Error::output(path, e))
    }
}

/// `run.json`: the run's record, pretty-printed.
pub struct RunJson<'a, T: Serialize>(pub &'a T);

impl<T: Serialize> Export for RunJson<'_, T> {
    fn path(&self, out: &Layout) -> PathBuf {
        out.run_json()
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        let mut bytes = serde_json::to_vec_pretty(self.0)
            .map_err(|e| Error::output(path, std::io::Error::other(e)))?;
        bytes.push(b'\n');
        w.write_all(&bytes).map_err(|e| Error::output(path, e))
    }
}
