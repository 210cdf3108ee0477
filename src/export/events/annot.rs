//! `nights/<night>.events.annot`: a Luna `.annot`, tab-separated `class
//! instance channel start stop meta`, times in elapsed s from the
//! recording start (`start` `stop`, millisecond decimals). The class is
//! the episode's kind (`cramp`, `lm`, `sustained`), or `body_movement` for
//! kind `movement` (Luna, and the scoring readers, take a class `movement`
//! for the sleep stage "movement time"), declared in `#` lines; the
//! instance is `.`; meta holds `periodic` (LMs in a PLM series) and
//! `confidence`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{event_path, one_field, EventFormat, NightEvents};
use crate::error::{Error, Result};
use crate::export::cells::fixed;
use crate::export::{Export, Layout};
use crate::score::EpisodeKind;

/// The `#` class declarations at the top of the file.
const CLASSES: &str =
    "# cramp | crampscan: leg cramp (sustained, tonic contraction on one channel)\n\
# lm | crampscan: leg movement, 0.5-10 s (meta periodic=true when in a PLM series)\n\
# sustained | crampscan: sustained leg muscle activity that is not a cramp\n\
# body_movement | crampscan: body movement (both legs together, or the accelerometer moving)\n";

/// The Luna annotation file of a night.
pub struct LunaAnnot<'a>(pub &'a NightEvents);

impl Export for LunaAnnot<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        event_path(out, self.0, EventFormat::Annot, 0)
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(annot_text(self.0).as_bytes())
            .map_err(|e| Error::output(path, e))
    }
}

/// The class of an episode kind.
pub fn class(kind: EpisodeKind) -> &'static str {
    match kind {
        EpisodeKind::Movement => "body_movement",
        k => k.as_str(),
    }
}

/// The whole file.
pub fn annot_text(n: &NightEvents) -> String {
    let mut s = String::from(CLASSES);
    s.push_str("class\tinstance\tchannel\tstart\tstop\tmeta\n");
    for e in &n.events {
        let periodic = if e.kind == EpisodeKind::Lm {
            format!("periodic={};", e.periodic)
        } else {
            String::new()
        };
        s.push_str(&format!(
            "{}\t.\t{}\t{}\t{}\t{periodic}confidence={}\n",
            class(e.kind),
            one_field(&e.channel, "."),
            fixed(e.start_s, 3),
            fixed(e.end_s, 3),
            fixed(e.confidence, 3)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::super::tests::night;
    use super::*;
    use crate::io::scoring::EventClass;

    #[test]
    fn our_annot_reader_reads_it_back() {
        let n = night();
        let text = annot_text(&n);
        assert!(text.ends_with(
            "class\tinstance\tchannel\tstart\tstop\tmeta\n\
             lm\t.\temg_left_uv\t37.325\t41.625\tperiodic=true;confidence=0.900\n\
             cramp\t.\temg_left_uv\t96.325\t159.525\tconfidence=0.900\n\
             body_movement\t.\tLeg & <b>\t200.000\t212.500\tconfidence=0.900\n"
        ));
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n01.events.annot");
        std::fs::write(&p, &text).unwrap();
        let s = crate::io::annot::read(&p, n.start_time).unwrap();
        let got: Vec<(EventClass, f64, f64, &str)> = s
            .events
            .iter()
            .map(|e| (e.class.clone(), e.start_s, e.end_s, e.channel.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    EventClass::Limb { periodic: false },
                    37.325,
                    41.625,
                    "emg_left_uv"
                ),
                (EventClass::Other, 96.325, 159.525, "emg_left_uv"),
                (EventClass::Other, 200.0, 212.5, "Leg & <b>"),
            ]
        );
    }
}
