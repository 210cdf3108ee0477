//! NSRR XML scorings (`PSGAnnotation` / `ScoredEvents` / `ScoredEvent`
//! with `EventType`, `EventConcept`, `Start`, `Duration`,
//! `SignalLocation`, as the NSRR's Profusion exports; `Start` in s from the
//! EDF's start). The first event, `Recording Start Time`, gives the start
//! clock (`ClockTime` `00.00.00 23.02.10`); `EpochLength` the epoch.

use std::path::Path;

use chrono::NaiveTime;
use quick_xml::events::Event;
use quick_xml::Reader;

use super::scoring::{classify_name, parse_stage, EventClass, ScoredEvent, Scoring, STAGE_NAMES};
use crate::error::{Error, Result};

/// One `ScoredEvent` element's fields as text.
#[derive(Default)]
struct RawEvent {
    event_type: String,
    concept: String,
    start: String,
    duration: String,
    location: String,
    clock: String,
    line: usize,
}

fn line_of(text: &str, pos: usize) -> usize {
    text.as_bytes()[..pos.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The text of a predefined or character entity reference.
fn entity(name: &str) -> Option<String> {
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let n = name.strip_prefix('#')?;
            let v = match n.strip_prefix('x') {
                Some(h) => u32::from_str_radix(h, 16).ok()?,
                None => n.parse().ok()?,
            };
            char::from_u32(v)?
        }
    };
    Some(c.to_string())
}

/// Reads the elements of the file: `EpochLength` and the `ScoredEvent`s.
fn parse_raw(path: &Path, text: &str) -> Result<(Option<String>, Vec<RawEvent>)> {
    let mut r = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut events = Vec::new();
    let mut cur: Option<RawEvent> = None;
    let mut epoch = None;
    let mut buf = String::new();
    let mut saw_scored_events = false;
    loop {
        let pos = r.buffer_position() as usize;
        let ev = r.read_event().map_err(|e| {
            Error::input(
                path,
                format!("line {}: not well-formed XML: {e}", line_of(text, pos)),
            )
        })?;
        match ev {
            Event::Start(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                if stack.is_empty() && name != "PSGAnnotation" {
                    return Err(not_nsrr(path, &format!("the root element is <{name}>")));
                }
                if name == "ScoredEvents" {
                    saw_scored_events = true;
                }
                if name == "ScoredEvent" && stack.last().map(String::as_str) == Some("ScoredEvents")
                {
                    cur = Some(RawEvent {
                        line: line_of(text, pos),
                        ..RawEvent::default()
                    });
                }
                stack.push(name);
                buf.clear();
            }
            Event::Empty(e) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).to_string();
                if stack.is_empty() {
                    return Err(not_nsrr(path, &format!("the root element is <{name}/>")));
                }
            }
            Event::Text(t) => {
                buf.push_str(&t.decode().map_err(|e| Error::input(path, e.to_string()))?)
            }
            Event::CData(t) => buf.push_str(&String::from_utf8_lossy(&t)),
            Event::GeneralRef(g) => {
                let name = String::from_utf8_lossy(&g).to_string();
                let s = entity(&name).ok_or_else(|| {
                    Error::input(
                        path,
                        format!("line {}: unknown entity &{name};", line_of(text, pos)),
                    )
                })?;
                buf.push_str(&s);
            }
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let value = buf.trim().to_string();
                buf.clear();
                let parent = stack.last().map(String::as_str);
                match (name.as_str(), parent) {
                    ("EpochLength", Some("PSGAnnotation")) => epoch = Some(value),
                    ("ScoredEvent", Some("ScoredEvents")) => events.extend(cur.take()),
                    (field, Some("ScoredEvent")) => {
                        if let Some(c) = cur.as_mut() {
                            match field {
                                "EventType" => c.event_type = value,
                                "EventConcept" => c.concept = value,
                                "Start" => c.start = value,
                                "Duration" => c.duration = value,
                                "SignalLocation" => c.location = value,
                                "ClockTime" => c.clock = value,
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_scored_events {
        return Err(not_nsrr(path, "there is no <ScoredEvents> element"));
    }
    Ok((epoch, events))
}

fn not_nsrr(path: &Path, what: &str) -> Error {
    Error::input(
        path,
        format!("not an NSRR XML scoring: {what}; expected <PSGAnnotation> holding <ScoredEvents> of <ScoredEvent> with <EventType>, <EventConcept>, <Start> and <Duration>"),
    )
}

/// Reads an NSRR ClockTime (`00.00.00 23.02.10`, or `23.02.10`, `23:02:10`).
fn parse_clock(s: &str) -> Option<NaiveTime> {
    let t = s.split_whitespace().last()?.replace('.', ":");
    NaiveTime::parse_from_str(&t, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(&t, "%H:%M:%S%.f"))
        .ok()
}

/// Reads an NSRR XML scoring.
pub fn read(path: &Path) -> Result<Scoring> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let (epoch, raw) = parse_raw(path, &text)?;
    let epoch_s = match epoch {
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && *x > 0.0)
            .ok_or_else(|| {
                Error::input(path, format!("<EpochLength> is \"{v}\"; expected s > 0"))
            })?,
        None => super::scoring::EPOCH_S,
    };
    let mut start_clock = None;
    let mut events = Vec::new();
    for (k, e) in raw.iter().enumerate() {
        let place = format!("ScoredEvent {} (line {})", k + 1, e.line);
        if e.concept.eq_ignore_ascii_case("Recording Start Time") {
            start_clock = parse_clock(&e.clock);
            continue;
        }
        let num = |v: &str, what: &str| -> Result<f64> {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!("{place}: <{what}> is \"{v}\"; expected s >= 0"),
                    )
                })
        };
        let start_s = num(&e.start, "Start")?;
        let dur_s = if e.duration.is_empty() {
            0.0
        } else {
            num(&e.duration, "Duration")?
        };
        let kind = e.event_type.split('|').next().unwrap_or("").trim();
        let class = if kind.eq_ignore_ascii_case("Stages") {
            EventClass::Stage(parse_stage(&e.concept).ok_or_else(|| {
                Error::input(
                    path,
                    format!(
                        "{place}: unknown stage \"{}\"; known: {STAGE_NAMES}",
                        e.concept
                    ),
                )
            })?)
        } else {
            classify_name(&e.concept)
        };
        let mut channel = e.location.clone();
        if channel.is_empty() {
            if let EventClass::Limb { .. } = class {
                let c = e.concept.to_ascii_lowercase();
                channel = if c.contains("left") {
                    "left".into()
                } else if c.contains("right") {
                    "right".into()
                } else {
                    String::new()
                };
            }
        }
        events.push(ScoredEvent {
            class,
            start_s,
            end_s: start_s + dur_s,
            channel,
            place,
        });
    }
    Ok(Scoring {
        path: path.to_path_buf(),
        start_clock,
        epoch_s,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::hypnogram::Stage;
    use crate::io::scoring::RespKind;

    fn write(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("n1-nsrr.xml");
        std::fs::write(&p, text).unwrap();
        (d, p)
    }

    const XML: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<PSGAnnotation>
<SoftwareVersion>Compumedics</SoftwareVersion>
<EpochLength>30</EpochLength>
<ScoredEvents>
<ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept><Start>0</Start><Duration>3600.0</Duration><ClockTime>00.00.00 23.02.10</ClockTime></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Wake|0</EventConcept><Start>0</Start><Duration>60.0</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Stage 2 sleep|2</EventConcept><Start>60</Start><Duration>90</Duration></ScoredEvent>
<ScoredEvent><EventType>Respiratory|Respiratory</EventType><EventConcept>Obstructive apnea|Obstructive Apnea</EventConcept><Start>100.5</Start><Duration>12.0</Duration><SignalLocation>ABDO RES</SignalLocation></ScoredEvent>
<ScoredEvent><EventType>Arousals|Arousals</EventType><EventConcept>ASDA arousal|Arousal (ASDA)</EventConcept><Start>120</Start><Duration>5</Duration></ScoredEvent>
<ScoredEvent><EventType>Limb Movement|Limb Movement</EventType><EventConcept>Limb movement - left|LM (Left)</EventConcept><Start>130</Start><Duration>2.5</Duration></ScoredEvent>
<ScoredEvent><EventType>Desaturation|Desaturation</EventType><EventConcept>SpO2 desaturation &amp; more|SpO2</EventConcept><Start>140</Start><Duration>10</Duration></ScoredEvent>
</ScoredEvents>
</PSGAnnotation>
"#;

    #[test]
    fn nsrr_xml_reads_stages_events_and_start() {
        let (_d, p) = write(XML);
        let s = read(&p).unwrap();
        assert_eq!(s.start_clock, NaiveTime::from_hms_opt(23, 2, 10));
        assert_eq!(s.events.len(), 6);
        assert_eq!(
            s.events[2].class,
            EventClass::Respiratory(RespKind::ObstructiveApnea)
        );
        assert_eq!((s.events[2].start_s, s.events[2].end_s), (100.5, 112.5));
        assert_eq!(s.events[4].channel, "left");
        assert_eq!(s.events[5].class, EventClass::Other);
        // 30 s epochs: W W N2 N2 N2.
        let h = s.hypnogram().unwrap();
        let st: Vec<Stage> = h.epochs.iter().map(|e| e.2).collect();
        assert_eq!(
            st,
            [Stage::Wake, Stage::Wake, Stage::N2, Stage::N2, Stage::N2]
        );
        assert_eq!(h.epochs[4], (120.0, 150.0, Stage::N2));
        assert_eq!(s.arousals(), [(120.0, 125.0)]);
    }

    #[test]
    fn bad_nsrr_xml_is_named_with_its_place() {
        let (_d, p) = write("<Annotations><ScoredEvents/></Annotations>");
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("not an NSRR XML") && e.contains("<Annotations>"),
            "{e}"
        );
        let (_d, p) = write("<PSGAnnotation><Other/></PSGAnnotation>");
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("no <ScoredEvents>"), "{e}");
        let (_d, p) = write(&XML.replace("Stage 2 sleep|2", "Stage 7 sleep|7"));
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("ScoredEvent 3 (line 8)")
                && e.contains("unknown stage \"Stage 7 sleep|7\"")
                && e.contains("known: W/Wake"),
            "{e}"
        );
        let (_d, p) = write(&XML.replace("<Start>100.5</Start>", "<Start>x</Start>"));
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("ScoredEvent 4 (line 9): <Start> is \"x\""),
            "{e}"
        );
        let (_d, p) = write("<PSGAnnotation><ScoredEvents><ScoredEvent></PSGAnnotation>");
        let e = read(&p).unwrap_err().to_string();
        assert!(e.contains("not well-formed XML"), "{e}");
    }
}
