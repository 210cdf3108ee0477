//! `nights/<night>.events.xml`: NSRR-style XML (`PSGAnnotation` /
//! `ScoredEvents` / `ScoredEvent` with `EventType`, `EventConcept`,
//! `Start`, `Duration`, `SignalLocation`; s from the recording start), as
//! NSRR's Profusion exports are shaped. The first event, `Recording Start
//! Time`, gives the start clock when it is known.
//!
//! LMs use NSRR's limb-movement concepts (`Limb movement - left|LM (Left)`,
//! `Periodic leg movement - right|PLM (Right)`; `Limb movement|LM` and
//! `Periodic leg movement|PLM` when the channel names no side). NSRR has no
//! concept for the other kinds, so they are crampscan's own, under the
//! event type [`OWN_EVENT_TYPE`]: `Leg cramp|Cramp (crampscan)`,
//! `Sustained leg muscle contraction|Sustained (crampscan)` and `Body
//! movement|Movement (crampscan)`.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{event_path, Event, EventFormat, NightEvents};
use crate::error::{Error, Result};
use crate::export::cells::{duration_ms, fixed};
use crate::export::{Export, Layout};
use crate::score::EpisodeKind;

/// NSRR's event type of limb movements.
pub const LIMB_EVENT_TYPE: &str = "Limb Movement|Limb Movement";

/// The event type of crampscan's own concepts.
pub const OWN_EVENT_TYPE: &str = "Crampscan|Crampscan";

/// The NSRR-style XML of a night.
pub struct NsrrXml<'a>(pub &'a NightEvents);

impl Export for NsrrXml<'_> {
    fn path(&self, out: &Layout) -> PathBuf {
        event_path(out, self.0, EventFormat::Xml, 0)
    }

    fn write(&self, _: &Layout, path: &Path, w: &mut dyn Write) -> Result<()> {
        w.write_all(xml_text(self.0).as_bytes())
            .map_err(|e| Error::output(path, e))
    }
}

/// `(EventType, EventConcept)` of an event.
pub fn concept(e: &Event) -> (&'static str, &'static str) {
    let side = e.side.as_deref();
    match (e.kind, e.periodic, side) {
        (EpisodeKind::Lm, false, Some("left")) => {
            (LIMB_EVENT_TYPE, "Limb movement - left|LM (Left)")
        }
        (EpisodeKind::Lm, false, Some("right")) => {
            (LIMB_EVENT_TYPE, "Limb movement - right|LM (Right)")
        }
        (EpisodeKind::Lm, false, _) => (LIMB_EVENT_TYPE, "Limb movement|LM"),
        (EpisodeKind::Lm, true, Some("left")) => {
            (LIMB_EVENT_TYPE, "Periodic leg movement - left|PLM (Left)")
        }
        (EpisodeKind::Lm, true, Some("right")) => {
            (LIMB_EVENT_TYPE, "Periodic leg movement - right|PLM (Right)")
        }
        (EpisodeKind::Lm, true, _) => (LIMB_EVENT_TYPE, "Periodic leg movement|PLM"),
        (EpisodeKind::Cramp, ..) => (OWN_EVENT_TYPE, "Leg cramp|Cramp (crampscan)"),
        (EpisodeKind::Sustained, ..) => (
            OWN_EVENT_TYPE,
            "Sustained leg muscle contraction|Sustained (crampscan)",
        ),
        (EpisodeKind::Movement, ..) => (OWN_EVENT_TYPE, "Body movement|Movement (crampscan)"),
    }
}

/// Text as XML character data.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The whole file.
pub fn xml_text(n: &NightEvents) -> String {
    let mut s = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<PSGAnnotation>\n\
         <SoftwareVersion>crampscan ",
    );
    s.push_str(env!("CARGO_PKG_VERSION"));
    s.push_str("</SoftwareVersion>\n<EpochLength>30</EpochLength>\n<ScoredEvents>\n");
    if let Some(t) = n.start_time {
        s.push_str(&format!(
            "<ScoredEvent>\n<EventType/>\n<EventConcept>Recording Start Time</EventConcept>\n\
             <Start>0</Start>\n<Duration>{}</Duration>\n<ClockTime>00.00.00 {}</ClockTime>\n\
             </ScoredEvent>\n",
            fixed(n.duration_s, 3),
            t.format("%H.%M.%S")
        ));
    }
    for e in &n.events {
        let (ty, concept) = concept(e);
        s.push_str(&format!(
            "<ScoredEvent>\n<EventType>{ty}</EventType>\n<EventConcept>{concept}</EventConcept>\n\
             <Start>{}</Start>\n<Duration>{}</Duration>\n<SignalLocation>{}</SignalLocation>\n\
             </ScoredEvent>\n",
            fixed(e.start_s, 3),
            duration_ms(e.start_s, e.end_s),
            escape(&e.channel)
        ));
    }
    s.push_str("</ScoredEvents>\n</PSGAnnotation>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::super::tests::night;
    use super::*;
    use crate::io::scoring::EventClass;

    #[test]
    fn our_nsrr_reader_reads_it_back() {
        let n = night();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("n01.events.xml");
        std::fs::write(&p, xml_text(&n)).unwrap();
        let s = crate::io::nsrr::read(&p).unwrap();
        assert_eq!(s.start_clock, chrono::NaiveTime::from_hms_opt(23, 0, 0));
        let got: Vec<(EventClass, f64, f64, &str)> = s
            .events
            .iter()
            .map(|e| (e.class.clone(), e.start_s, e.end_s, e.channel.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    EventClass::Limb { periodic: true },
                    37.325,
                    41.625,
                    "emg_left_uv"
                ),
                (EventClass::Other, 96.325, 159.525, "emg_left_uv"),
                (EventClass::Other, 200.0, 212.5, "Leg & <b>"),
            ]
        );
        let text = xml_text(&n);
        assert!(
            text.contains("<EventConcept>Periodic leg movement - left|PLM (Left)</EventConcept>")
        );
        assert!(text.contains("<EventConcept>Leg cramp|Cramp (crampscan)</EventConcept>"));
        assert!(text.contains("<SignalLocation>Leg &amp; &lt;b&gt;</SignalLocation>"));
    }
}
