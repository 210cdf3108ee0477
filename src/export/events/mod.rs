//! Event files for review in the field's tools: crampscan's own episodes,
//! one event per row of `episodes.csv`, written per night beside the
//! tables (`scan --events`):
//!
//! - [`edf`]: an annotation-only EDF+ (`nights/<night>.events.edf`) that
//!   EDFbrowser opens over the recording and MNE and Luna read;
//! - [`xml`]: NSRR-style XML (`nights/<night>.events.xml`);
//! - [`annot`]: a Luna `.annot` (`nights/<night>.events.annot`);
//! - [`bids`]: a BIDS derivative `nights/<night>_events.tsv` and
//!   `nights/<night>_events.json`.
//!
//! Each is a function of the night document alone, so the bytes are the
//! same whatever the thread count, and a resumed run writes them again.

pub mod annot;
pub mod bids;
pub mod edf;
pub mod xml;

use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;
use serde::Deserialize;

use super::{export, Layout};
use crate::error::{Error, Result};
use crate::score::{Episode, EpisodeKind};

/// An event file format of `scan --events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventFormat {
    Edf,
    Xml,
    Annot,
    Tsv,
}

/// Every format, in the order `--events all` writes them.
pub const ALL_FORMATS: &[EventFormat] = &[
    EventFormat::Edf,
    EventFormat::Xml,
    EventFormat::Annot,
    EventFormat::Tsv,
];

impl EventFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            EventFormat::Edf => "edf",
            EventFormat::Xml => "xml",
            EventFormat::Annot => "annot",
            EventFormat::Tsv => "tsv",
        }
    }

    /// The format's files for a night in OUT ([`Layout::event_files`]).
    pub fn paths(self, out: &Layout, night: &str) -> Vec<PathBuf> {
        out.event_files(night, self)
    }
}

/// Parses `--events`: a comma-separated list of `edf`, `xml`, `annot`,
/// `tsv`, or `all`, or `none`; sorted, each once.
pub fn parse_formats(s: &str) -> std::result::Result<Vec<EventFormat>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(|p| p.trim().to_ascii_lowercase()) {
        match part.as_str() {
            "none" | "" => {}
            "all" => out.extend_from_slice(ALL_FORMATS),
            p => out.push(
                ALL_FORMATS
                    .iter()
                    .copied()
                    .find(|f| f.as_str() == p)
                    .ok_or_else(|| {
                        format!("unknown event format \"{p}\"; expected edf, xml, annot, tsv, all or none")
                    })?,
            ),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// One event: an episode of `episodes.csv`, with whether an LM belongs to
/// a PLM series.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EpisodeKind,
    /// LMs only: part of a PLM series (of the night's leg-movement scoring).
    pub periodic: bool,
    pub channel: String,
    pub side: Option<String>,
    /// Onset, s from the recording start.
    pub start_s: f64,
    /// Offset, s from the recording start.
    pub end_s: f64,
    pub confidence: f64,
}

/// What the event files need of a night.
#[derive(Debug, Clone, PartialEq)]
pub struct NightEvents {
    pub night: String,
    pub start_time: Option<NaiveDateTime>,
    /// Length of the recording, s.
    pub duration_s: f64,
    pub events: Vec<Event>,
}

/// The fields of a night document the event files read.
#[derive(Deserialize)]
struct DocEvents {
    night: String,
    start_time: Option<NaiveDateTime>,
    duration_s: f64,
    episodes: Vec<Episode>,
    leg_movements: DocMovements,
}

#[derive(Deserialize)]
struct DocMovements {
    movements: Vec<DocMovement>,
}

#[derive(Deserialize)]
struct DocMovement {
    start_s: f64,
    end_s: f64,
    periodic: bool,
}

/// Reads the events of `nights/<night>.json`.
pub fn read_night_events(path: &Path) -> Result<NightEvents> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let d: DocEvents = serde_json::from_reader(std::io::BufReader::new(f)).map_err(|e| {
        Error::input(
            path,
            format!("line {}: not a crampscan night document: {e}", e.line()),
        )
    })?;
    let periodic: Vec<&DocMovement> = d
        .leg_movements
        .movements
        .iter()
        .filter(|m| m.periodic)
        .collect();
    let events = d
        .episodes
        .into_iter()
        .map(|e| Event {
            periodic: e.kind == EpisodeKind::Lm
                // The combined movement's times are refined from the
                // episodes', so an LM is in the series it overlaps.
                && periodic
                    .iter()
                    .any(|m| m.start_s < e.end_s && e.start_s < m.end_s),
            kind: e.kind,
            channel: e.channel,
            side: e.side,
            start_s: e.start_s,
            end_s: e.end_s,
            confidence: e.confidence,
        })
        .collect();
    Ok(NightEvents {
        night: d.night,
        start_time: d.start_time,
        duration_s: d.duration_s,
        events,
    })
}

/// Writes the night's event files of `formats` (its document must be
/// written already).
pub fn write_events(out: &Layout, night: &str, formats: &[EventFormat]) -> Result<()> {
    // A format not asked for this time must not be left from an earlier
    // run (`--resume` with other `--events`): it would hold old episodes.
    let others: Vec<EventFormat> = ALL_FORMATS
        .iter()
        .copied()
        .filter(|f| !formats.contains(f))
        .collect();
    remove_events(out, night, &others)?;
    if formats.is_empty() {
        return Ok(());
    }
    let n = read_night_events(&out.night_json(night))?;
    for f in formats {
        match f {
            EventFormat::Edf => export(out, &edf::EdfEvents(&n))?,
            EventFormat::Xml => export(out, &xml::NsrrXml(&n))?,
            EventFormat::Annot => export(out, &annot::LunaAnnot(&n))?,
            EventFormat::Tsv => {
                export(out, &bids::EventsTsv(&n))?;
                export(out, &bids::EventsJson(&n))?
            }
        };
    }
    Ok(())
}

/// Removes the night's event files of `formats` from OUT, where they are
/// (a failed night's, or those of formats no longer asked for).
pub fn remove_events(out: &Layout, night: &str, formats: &[EventFormat]) -> Result<()> {
    formats
        .iter()
        .flat_map(|f| f.paths(out, night))
        .try_for_each(|p| super::remove_if_present(&p))
}

/// A label as one field of a tab-separated file (Luna's `.annot`, the
/// BIDS `events.tsv`): tabs and line breaks become spaces, and a blank
/// label is written as `empty`, the format's placeholder.
fn one_field(s: &str, empty: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if matches!(c, '\t' | '\n' | '\r') {
                ' '
            } else {
                c
            }
        })
        .collect();
    if s.trim().is_empty() {
        empty.into()
    } else {
        s
    }
}

/// [`EventFormat::paths`] (`index` picks among several).
fn event_path(out: &Layout, n: &NightEvents, format: EventFormat, index: usize) -> PathBuf {
    format.paths(out, &n.night).swap_remove(index)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A night of three episodes: a cramp, a periodic LM, a body movement
    /// without side, starting 2026-01-01 23:00:00.
    pub fn night() -> NightEvents {
        let ev = |kind, periodic, channel: &str, side: Option<&str>, start_s, end_s| Event {
            kind,
            periodic,
            channel: channel.into(),
            side: side.map(String::from),
            start_s,
            end_s,
            confidence: 0.9,
        };
        NightEvents {
            night: "n01".into(),
            start_time: crate::io::sidecar::parse_datetime("2026-01-01T23:00:00"),
            duration_s: 600.0,
            events: vec![
                ev(
                    EpisodeKind::Lm,
                    true,
                    "emg_left_uv",
                    Some("left"),
                    37.325,
                    41.625,
                ),
                ev(
                    EpisodeKind::Cramp,
                    false,
                    "emg_left_uv",
                    Some("left"),
                    96.325,
                    159.525,
                ),
                ev(
                    EpisodeKind::Movement,
                    false,
                    "Leg & <b>",
                    None,
                    200.0,
                    212.5,
                ),
            ],
        }
    }

    #[test]
    fn formats_parse_sorted_once() {
        use EventFormat::*;
        assert_eq!(parse_formats("tsv,edf,tsv"), Ok(vec![Edf, Tsv]));
        assert_eq!(parse_formats("all"), Ok(ALL_FORMATS.to_vec()));
        assert_eq!(parse_formats("none"), Ok(vec![]));
        assert!(parse_formats("edf,csv").unwrap_err().contains("\"csv\""));
    }
}
