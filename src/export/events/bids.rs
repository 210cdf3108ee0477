//! `nights/<night>_events.tsv` and `nights/<night>_events.json`: a BIDS
//! derivative events file and its sidecar. The `_events` suffix makes the
//! pair sit in a BIDS `derivatives/` tree beside the recording when the
//! night id is the recording's BIDS name (`sub-01_task-sleep`). Columns:
//! `onset` and `duration` in s (millisecond decimals, as `episodes.csv`),
//! `trial_type` the episode's kind, `channel` its channel (`n/a` when
//! empty, as BIDS writes a missing value).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{event_path, one_field, EventFormat, NightEvents};
use crate::error::{Error, Result};
use crate::export::cells::{duration_ms, fixed};
use crate::export::{Export, Layout};

/// The suffix of the events table after the night id.
pub const TSV_SUFFIX: &str = "_events.tsv";
/// The suffix of its JSON sidecar.
pub const JSON_SUFFIX: &str = "_events.json";

/// The columns of `_events.tsv`.
pub const TSV_COLUMNS: &[&str] = &["onset", "duration", "trial_type", "channel"];

/// The BIDS events table of a night.
pub struct EventsTsv<'a>(pub &'a NightEvents);

/// The JSON sidecar describing the table's columns.
pub struct EventsJson<'a>(pub &'a NightEvents);

impl Export for EventsTsv<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        event_path(out, self.0, EventFormat::Tsv, 0)
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(tsv_text(self.0).as_bytes())
            .map_err(|e| Error::output(path, e))
    }
}

impl Export for EventsJson<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        event_path(out, self.0, EventFormat::Tsv, 1)
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(sidecar_text().as_bytes())
            .map_err(|e| Error::output(path, e))
    }
}

/// The table.
pub fn tsv_text(n: &NightEvents) -> String {
    let mut s = TSV_COLUMNS.join("\t");
    s.push('\n');
    for e in &n.events {
        s.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            fixed(e.start_s, 3),
            duration_ms(e.start_s, e.end_s),
            e.kind.as_str(),
            one_field(&e.channel, "n/a")
        ));
    }
    s
}

/// The sidecar: what each column holds, and the `trial_type` levels.
pub fn sidecar_text() -> String {
    let v = serde_json::json!({
        "onset": {
            "Description": "Onset of the episode, from the recording's first sample",
            "Units": "s"
        },
        "duration": {
            "Description": "Duration of the episode",
            "Units": "s"
        },
        "trial_type": {
            "Description": "Kind of leg-muscle episode found by crampscan (one event per row of its episodes.csv)",
            "Levels": {
                "cramp": "leg cramp: sustained, tonic, high-intensity contraction on one channel",
                "lm": "leg movement, 0.5-10 s (WASM 2016)",
                "sustained": "sustained activity longer than an LM that does not meet the cramp rule",
                "movement": "body movement: both legs together, or long activity with the accelerometer moving"
            }
        },
        "channel": {
            "Description": "EMG channel the episode is on (the recording's label)"
        },
        "GeneratedBy": [{
            "Name": "crampscan",
            "Version": env!("CARGO_PKG_VERSION")
        }]
    });
    let mut s = serde_json::to_string_pretty(&v).expect("a JSON value serialises");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::super::tests::night;
    use super::*;

    #[test]
    fn one_row_per_episode_with_bids_columns() {
        assert_eq!(
            tsv_text(&night()),
            "onset\tduration\ttrial_type\tchannel\n\
             37.325\t4.300\tlm\temg_left_uv\n\
             96.325\t63.200\tcramp\temg_left_uv\n\
             200.000\t12.500\tmovement\tLeg & <b>\n"
        );
        let v: serde_json::Value = serde_json::from_str(&sidecar_text()).unwrap();
        for c in TSV_COLUMNS {
            assert!(v[c]["Description"].is_string(), "{c}");
        }
        assert_eq!(v["onset"]["Units"], "s");
    }
}
