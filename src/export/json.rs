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
    write_json_pretty(doc, out)
}

/// `value` as serde_json's pretty JSON and a final newline, with every
/// negative zero written as `0.0` (as in the tables: an empty sum or a
/// rounded tiny negative is not a signed quantity).
pub fn write_json_pretty<T: Serialize + ?Sized>(
    value: &T,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let fmt = NoNegativeZero(serde_json::ser::PrettyFormatter::new());
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, fmt);
    value.serialize(&mut ser).map_err(std::io::Error::other)?;
    out.write_all(b"\n")
}

/// serde_json's pretty layout, with `-0.0` written as `0.0`.
struct NoNegativeZero<'a>(serde_json::ser::PrettyFormatter<'a>);

/// Forwards a layout method of [`serde_json::ser::Formatter`] to the
/// pretty formatter.
macro_rules! pretty_layout {
    ($($name:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {$(
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
            self.0.$name(w $(, $arg)*)
        }
    )*};
}

impl serde_json::ser::Formatter for NoNegativeZero<'_> {
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, v: f64) -> std::io::Result<()> {
        self.0.write_f64(w, if v == 0.0 { 0.0 } else { v })
    }
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, v: f32) -> std::io::Result<()> {
        self.0.write_f32(w, if v == 0.0 { 0.0 } else { v })
    }
    pretty_layout!(
        begin_array(),
        end_array(),
        begin_array_value(first: bool),
        end_array_value(),
        begin_object(),
        end_object(),
        begin_object_key(first: bool),
        begin_object_value(),
        end_object_value(),
    );
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
        write_json_pretty(self.0, w).map_err(|e| Error::output(path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_has_no_negative_zero_and_keeps_the_pretty_layout() {
        let v = serde_json::json!({"a": -0.0, "b": [-0.0_f32, -1.5], "c": {"d": 0.25}});
        let mut ours = Vec::new();
        write_json_pretty(&v, &mut ours).unwrap();
        let mut theirs = serde_json::to_vec_pretty(&v).unwrap();
        theirs.push(b'\n');
        let theirs = String::from_utf8(theirs).unwrap().replace("-0.0", "0.0");
        assert_eq!(String::from_utf8(ours).unwrap(), theirs);
        assert!(theirs.contains("\"a\": 0.0") && theirs.contains("-1.5"));
    }
}
