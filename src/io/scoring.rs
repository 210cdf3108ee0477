//! Scorings that come with a PSG: sleep stages, respiratory events,
//! arousals and scored limb movements, read from NSRR XML
//! ([`super::nsrr`]) or a Luna `.annot` ([`super::annot`]). Times are in s
//! from the recording start.

use std::path::{Path, PathBuf};

use chrono::{NaiveDateTime, NaiveTime, Timelike};

use super::hypnogram::{Hypnogram, Stage};
use crate::error::{Error, Result};

/// Length of a hypnogram epoch made from a scoring, s (AASM; NSRR's
/// `EpochLength`, when the XML gives one, wins).
pub const EPOCH_S: f64 = 30.0;

/// Events may start up to this long after the recording's end before the
/// scoring is refused: the last stage epoch of an NSRR night often runs
/// past the EDF's last full record, s (one epoch).
pub const END_SLACK_S: f64 = EPOCH_S;

/// A scoring whose start clock differs from the recording's by more than
/// this is taken for another recording's, s (EDF start times are whole
/// seconds).
pub const START_MISMATCH_S: f64 = 1.0;

/// A respiratory event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RespKind {
    ObstructiveApnea,
    CentralApnea,
    MixedApnea,
    Hypopnea,
    /// Respiratory-effort-related arousal: read, but no LM exclusion rule
    /// uses it (both rule sets name apneas and hypopneas only).
    Rera,
}

impl RespKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RespKind::ObstructiveApnea => "obstructive_apnea",
            RespKind::CentralApnea => "central_apnea",
            RespKind::MixedApnea => "mixed_apnea",
            RespKind::Hypopnea => "hypopnea",
            RespKind::Rera => "rera",
        }
    }

    /// Whether the respiratory LM rules apply (apneas and hypopneas).
    pub fn excludes_lms(self) -> bool {
        self != RespKind::Rera
    }
}

/// What a scored event is, as far as crampscan reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum EventClass {
    Stage(Stage),
    Respiratory(RespKind),
    Arousal,
    /// A scored limb movement; `periodic` when scored as part of a PLM series.
    Limb {
        periodic: bool,
    },
    /// Anything else (desaturations, artefacts, lights, notes): counted only.
    Other,
}

/// One scored event, s from the recording start.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredEvent {
    pub class: EventClass,
    pub start_s: f64,
    pub end_s: f64,
    /// Channel or side the file links the event to (`""`: none).
    pub channel: String,
    /// Where it is in the file (`line 12`, `ScoredEvent 7 (line 40)`).
    pub place: String,
}

/// A scoring file as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoring {
    pub path: PathBuf,
    /// Start clock time the file gives (NSRR `Recording Start Time`).
    pub start_clock: Option<NaiveTime>,
    /// Epoch length, s.
    pub epoch_s: f64,
    pub events: Vec<ScoredEvent>,
}

/// Names of the scoring files beside a recording, in the order tried.
pub fn sidecar_names(id: &str) -> [String; 3] {
    [
        format!("{id}-nsrr.xml"),
        format!("{id}.xml"),
        format!("{id}.annot"),
    ]
}

/// The scoring of night `id` in `dir`: `<id>-nsrr.xml`, `<id>.xml` or
/// `<id>.annot`, the first found.
pub fn find_sidecar(dir: &Path, id: &str) -> Option<PathBuf> {
    sidecar_names(id)
        .into_iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
}

/// Whether `path` is read as a scoring (`.xml`, `.annot`).
pub fn is_scoring(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    matches!(ext.as_deref(), Some("xml" | "annot"))
}

/// Seconds from `rec_start` to the clock time `t` on the recording's night:
/// clock times more than 12 h before the start are taken as after midnight.
pub fn clock_offset_s(t: NaiveTime, rec_start: NaiveDateTime) -> f64 {
    let day = |t: NaiveTime| t.num_seconds_from_midnight() as f64 + t.nanosecond() as f64 * 1e-9;
    let mut d = day(t) - day(rec_start.time());
    if d < -43_200.0 {
        d += 86_400.0;
    } else if d > 43_200.0 {
        d -= 86_400.0;
    }
    d
}

impl Scoring {
    /// Reads an NSRR XML (`.xml`) or a Luna `.annot`, by extension. Clock
    /// times in a `.annot` are placed against `rec_start`; an XML whose start
    /// time differs from `rec_start` is refused ([`START_MISMATCH_S`]).
    pub fn read(path: &Path, rec_start: Option<NaiveDateTime>) -> Result<Scoring> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        let s = match ext.as_str() {
            "xml" => super::nsrr::read(path)?,
            "annot" => super::annot::read(path, rec_start)?,
            _ => {
                return Err(Error::input(
                    path,
                    "scoring: expected an NSRR XML (.xml) or a Luna .annot",
                ))
            }
        };
        if let (Some(c), Some(r)) = (s.start_clock, rec_start) {
            let d = clock_offset_s(c, r);
            if d.abs() > START_MISMATCH_S {
                return Err(Error::input(
                    path,
                    format!(
                        "scoring starts at {c}, the recording at {}: {d:+.0} s apart; is it another recording's?",
                        r.time()
                    ),
                ));
            }
        }
        Ok(s)
    }

    /// Events of one class.
    pub fn of(&self, pick: impl Fn(&EventClass) -> bool) -> impl Iterator<Item = &ScoredEvent> {
        self.events.iter().filter(move |e| pick(&e.class))
    }

    /// Apneas and hypopneas, `(start_s, end_s)`.
    pub fn apneas_hypopneas(&self) -> Vec<(f64, f64)> {
        self.of(|c| matches!(c, EventClass::Respiratory(k) if k.excludes_lms()))
            .map(|e| (e.start_s, e.end_s))
            .collect()
    }

    /// Arousals, `(start_s, end_s)`.
    pub fn arousals(&self) -> Vec<(f64, f64)> {
        self.of(|c| *c == EventClass::Arousal)
            .map(|e| (e.start_s, e.end_s))
            .collect()
    }

    /// The stages as a hypnogram in epochs of [`Scoring::epoch_s`] (a
    /// stage event of several epochs is split; a last partial epoch is
    /// kept); `None` when the file scores no stage.
    pub fn hypnogram(&self) -> Option<Hypnogram> {
        let mut epochs = Vec::new();
        for e in &self.events {
            let EventClass::Stage(st) = e.class else {
                continue;
            };
            let mut t = e.start_s;
            while t < e.end_s - 1e-9 {
                let end = (t + self.epoch_s).min(e.end_s);
                epochs.push((t, end, st));
                t = end;
            }
        }
        (!epochs.is_empty()).then(|| Hypnogram {
            path: self.path.clone(),
            epochs,
            start_time: None,
        })
    }

    /// Refuses a scoring that does not fit a recording of `duration_s`:
    /// none of its events inside it, or events past its end (beyond
    /// [`END_SLACK_S`]), with both time spans and the first such event.
    pub fn check_span(&self, duration_s: f64) -> Result<()> {
        let spans: Vec<(f64, f64, &str)> = self
            .events
            .iter()
            .map(|e| (e.start_s, e.end_s, e.place.as_str()))
            .collect();
        check_spans(&self.path, &spans, duration_s)
    }
}

/// Refuses `spans` (`start_s, end_s, place`) that do not fit a recording of
/// `duration_s` (see [`Scoring::check_span`]).
pub fn check_spans(path: &Path, spans: &[(f64, f64, &str)], duration_s: f64) -> Result<()> {
    if spans.is_empty() {
        return Ok(());
    }
    let first = spans.iter().map(|s| s.0).fold(f64::INFINITY, f64::min);
    let last = spans.iter().map(|s| s.1).fold(f64::NEG_INFINITY, f64::max);
    if first >= duration_s || last <= 0.0 {
        return Err(Error::input(
            path,
            format!(
                "does not overlap the recording: it spans {first:.1}–{last:.1} s from the recording start, the recording 0–{duration_s:.1} s"
            ),
        ));
    }
    let past: Vec<&(f64, f64, &str)> = spans
        .iter()
        .filter(|s| s.0 >= duration_s + END_SLACK_S)
        .collect();
    if let Some(p) = past.first() {
        return Err(Error::input(
            path,
            format!(
                "{}: event at {:.1}–{:.1} s lies beyond the recording's end ({duration_s:.1} s; {} such event(s)); is it another recording's?",
                p.2,
                p.0,
                p.1,
                past.len()
            ),
        ));
    }
    Ok(())
}

/// Stage names the readers accept, for error messages.
pub const STAGE_NAMES: &str = "W/Wake, N1/Stage 1 sleep, N2/Stage 2 sleep, N3/N4/Stage 3 sleep/Stage 4 sleep, R/REM/REM sleep, ?/Unscored/Movement";

/// The part of an NSRR/Luna name before its `|` code (`Stage 2 sleep|2`),
/// trimmed and in lower case.
fn label_key(name: &str) -> String {
    name.split('|')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// A stage name as NSRR and Luna write them (`Wake|0`, `Stage 2 sleep|2`,
/// `REM sleep|5`, `N2`, `NREM3`, `R`, `?`); `None` when not a stage name.
pub fn parse_stage(name: &str) -> Option<Stage> {
    let n = label_key(name).replace(['_', '-'], " ");
    let n = n.strip_suffix(" sleep").unwrap_or(&n).trim();
    match n {
        "nrem1" | "stage 1" => Some(Stage::N1),
        "nrem2" | "stage 2" => Some(Stage::N2),
        "nrem3" | "nrem4" | "stage 3" | "stage 4" => Some(Stage::N3),
        "rem" | "stage r" => Some(Stage::Rem),
        "movement" | "unscored" | "u" | "m" => Some(Stage::Unknown),
        other => Stage::parse(other),
    }
}

/// What an event of class (or NSRR concept) `name` is, when it is no stage;
/// [`EventClass::Other`] when crampscan does not use it.
pub fn classify_name(name: &str) -> EventClass {
    let n = label_key(name).replace(['_', '-', '(', ')'], " ");
    let words: Vec<&str> = n.split_whitespace().collect();
    let has = |w: &str| words.contains(&w);
    let apnea = has("apnea") || has("apnoea");
    if apnea && has("obstructive") {
        EventClass::Respiratory(RespKind::ObstructiveApnea)
    } else if apnea && has("central") {
        EventClass::Respiratory(RespKind::CentralApnea)
    } else if apnea && has("mixed") {
        EventClass::Respiratory(RespKind::MixedApnea)
    } else if apnea {
        // An apnea of unnamed type still counts as an apnea: obstructive.
        EventClass::Respiratory(RespKind::ObstructiveApnea)
    } else if has("hypopnea") || has("hypopnoea") || n == "unsure" {
        // SHHS scores hypopneas as `Unsure|Unsure` (NSRR's notes).
        EventClass::Respiratory(RespKind::Hypopnea)
    } else if has("rera") || n.contains("respiratory effort related arousal") {
        EventClass::Respiratory(RespKind::Rera)
    } else if has("arousal") || has("arousals") {
        EventClass::Arousal
    } else if has("plm") || (has("periodic") && (has("leg") || has("limb"))) {
        EventClass::Limb { periodic: true }
    } else if has("lm") || ((has("limb") || has("leg")) && has("movement")) {
        EventClass::Limb { periodic: false }
    } else {
        EventClass::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_their_class() {
        assert_eq!(parse_stage("Stage 2 sleep|2"), Some(Stage::N2));
        assert_eq!(parse_stage("REM sleep|5"), Some(Stage::Rem));
        assert_eq!(parse_stage("Wake|0"), Some(Stage::Wake));
        assert_eq!(parse_stage("Stage 4 sleep|4"), Some(Stage::N3));
        assert_eq!(parse_stage("NREM1"), Some(Stage::N1));
        assert_eq!(parse_stage("Unscored|9"), Some(Stage::Unknown));
        assert_eq!(parse_stage("Stage 5 sleep|6"), None);
        use EventClass::{Arousal, Limb, Other, Respiratory};
        let r = |k| Respiratory(k);
        assert_eq!(
            classify_name("Obstructive apnea|Obstructive Apnea"),
            r(RespKind::ObstructiveApnea)
        );
        assert_eq!(classify_name("apnea_central"), r(RespKind::CentralApnea));
        assert_eq!(classify_name("Hypopnea|Hypopnea"), r(RespKind::Hypopnea));
        assert_eq!(classify_name("Unsure|Unsure"), r(RespKind::Hypopnea));
        assert_eq!(classify_name("RERA"), r(RespKind::Rera));
        assert_eq!(classify_name("ASDA arousal|Arousal (ASDA)"), Arousal);
        assert_eq!(
            classify_name("Periodic leg movement - left|PLM (Left)"),
            Limb { periodic: true }
        );
        assert_eq!(
            classify_name("Limb movement - right|LM (RIGHT)"),
            Limb { periodic: false }
        );
        assert_eq!(classify_name("SpO2 desaturation|SpO2 desaturation"), Other);
    }

    #[test]
    fn a_scoring_of_another_recording_is_refused_with_both_start_times() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("n1-nsrr.xml");
        std::fs::write(
            &p,
            "<PSGAnnotation><ScoredEvents><ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept>\
             <Start>0</Start><Duration>600</Duration><ClockTime>00.00.00 22.15.00</ClockTime></ScoredEvent>\
             <ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Wake|0</EventConcept><Start>0</Start><Duration>30</Duration></ScoredEvent>\
             </ScoredEvents></PSGAnnotation>",
        )
        .unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
        assert!(Scoring::read(&p, Some(at("2020-01-01 22:15:00"))).is_ok());
        let e = Scoring::read(&p, Some(at("2020-01-01 23:00:00")))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("n1-nsrr.xml")
                && e.contains("starts at 22:15:00, the recording at 23:00:00: -2700 s apart"),
            "{e}"
        );
        // No overlap, and events starting past the end (beyond one epoch).
        let p = Path::new("h.csv");
        let e = check_spans(p, &[(100.0, 130.0, "epoch 1")], 60.0)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("it spans 100.0–130.0 s from the recording start, the recording 0–60.0 s"),
            "{e}"
        );
        let spans = [
            (0.0, 30.0, "epoch 1"),
            (60.0, 90.0, "epoch 2"),
            (95.0, 125.0, "epoch 3"),
        ];
        let e = check_spans(p, &spans, 60.0).unwrap_err().to_string();
        assert!(
            e.contains("epoch 3: event at 95.0–125.0 s lies beyond the recording's end (60.0 s"),
            "{e}"
        );
        assert!(
            check_spans(p, &spans[..2], 60.0).is_ok(),
            "a last epoch past the end is fine"
        );
    }

    #[test]
    fn clock_offsets_cross_midnight() {
        let r = NaiveDateTime::parse_from_str("2020-01-01 23:30:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let t = |s: &str| NaiveTime::parse_from_str(s, "%H:%M:%S").unwrap();
        assert_eq!(clock_offset_s(t("23:30:30"), r), 30.0);
        assert_eq!(clock_offset_s(t("00:30:00"), r), 3600.0);
        assert_eq!(clock_offset_s(t("23:29:58"), r), -2.0);
    }
}
