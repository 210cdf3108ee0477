//! Matching detected episodes against annotated ones: one-to-one, per
//! night, channel and kind, best intersection-over-union first.

use std::path::Path;

use serde::Serialize;

use crate::config::AnnotationConfig;
use crate::error::{Error, Result};

/// IoU a detection must reach to match an annotation (issue 4 default).
pub const IOU_MIN: f64 = 0.2;

/// An annotated or detected event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub night: String,
    pub channel: String,
    pub kind: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// Intersection over union of two intervals.
pub fn iou(a: (f64, f64), b: (f64, f64)) -> f64 {
    let inter = (a.1.min(b.1) - a.0.max(b.0)).max(0.0);
    let union = (a.1 - a.0) + (b.1 - b.0) - inter;
    if union > 0.0 {
        inter / union
    } else {
        0.0
    }
}

/// Matched pairs `(truth index, detection index, iou)`: within the same
/// night, channel and kind, pairs are taken best IoU first, each event at
/// most once, IoU at least `iou_min`.
pub fn match_events(truth: &[Event], pred: &[Event], iou_min: f64) -> Vec<(usize, usize, f64)> {
    let mut cands = Vec::new();
    for (i, t) in truth.iter().enumerate() {
        for (j, p) in pred.iter().enumerate() {
            // A truth event without a channel (an EDF+ annotation that
            // names none) matches a detection on any channel.
            let same_channel = t.channel.is_empty() || t.channel == p.channel;
            if t.night == p.night && same_channel && t.kind == p.kind {
                let v = iou((t.start_s, t.end_s), (p.start_s, p.end_s));
                if v >= iou_min && v > 0.0 {
                    cands.push((i, j, v));
                }
            }
        }
    }
    cands.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    let mut used_t = vec![false; truth.len()];
    let mut used_p = vec![false; pred.len()];
    let mut out = Vec::new();
    for (i, j, v) in cands {
        if !used_t[i] && !used_p[j] {
            used_t[i] = true;
            used_p[j] = true;
            out.push((i, j, v));
        }
    }
    out.sort_by_key(|m| m.0);
    out
}

/// Event-level figures for one kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KindMetrics {
    pub kind: String,
    pub n_truth: usize,
    pub n_pred: usize,
    pub tp: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Median |onset error| of matched pairs, s.
    pub onset_median_s: Option<f64>,
    /// Median |offset error| of matched pairs, s.
    pub offset_median_s: Option<f64>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

/// Metrics per kind over all nights. With no truth and no detections a
/// kind scores precision = recall = F1 = 1 (nothing to find, nothing false).
pub fn metrics(truth: &[Event], pred: &[Event], iou_min: f64) -> Vec<KindMetrics> {
    let matches = match_events(truth, pred, iou_min);
    let mut kinds: Vec<String> = truth.iter().chain(pred).map(|e| e.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    kinds
        .into_iter()
        .map(|k| {
            let n_truth = truth.iter().filter(|e| e.kind == k).count();
            let n_pred = pred.iter().filter(|e| e.kind == k).count();
            let pairs: Vec<_> = matches.iter().filter(|m| truth[m.0].kind == k).collect();
            let tp = pairs.len();
            let ratio = |a: usize, b: usize| {
                if b == 0 {
                    if a == 0 {
                        1.0
                    } else {
                        0.0
                    }
                } else {
                    a as f64 / b as f64
                }
            };
            let precision = ratio(tp, n_pred);
            let recall = ratio(tp, n_truth);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            KindMetrics {
                kind: k,
                n_truth,
                n_pred,
                tp,
                precision,
                recall,
                f1,
                onset_median_s: median(
                    pairs
                        .iter()
                        .map(|m| (pred[m.1].start_s - truth[m.0].start_s).abs())
                        .collect(),
                ),
                offset_median_s: median(
                    pairs
                        .iter()
                        .map(|m| (pred[m.1].end_s - truth[m.0].end_s).abs())
                        .collect(),
                ),
            }
        })
        .collect()
}

/// Reads annotations as truth from any supported file: an EDF+/BDF+ file
/// (annotation texts `<text>` or `<text> @ <channel>`), a crampscan truth
/// file (`channel,kind,start_s,end_s`) or a simple CSV of scored events
/// (`start_s` or `onset_s`; `end_s` or `duration_s`; `kind`, `text`,
/// `label`, `annotation` or `event`; optional `channel`). Texts map to kinds
/// through `map`; unmapped texts (sleep stages, lights off) are left out.
/// The night is the file name without `.truth.csv`, `_events.csv` or a part
/// suffix (`_emg`).
pub fn read_truth_file(path: &Path, map: &AnnotationConfig) -> Result<Vec<Event>> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let night = if lower.ends_with(".truth.csv") {
        name[..name.len() - ".truth.csv".len()].to_string()
    } else {
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        let stem = stem
            .strip_suffix("_events")
            .or_else(|| stem.strip_suffix("_scoring"))
            .unwrap_or(stem);
        crate::batch::night_id(&path.with_file_name(format!("{stem}.x")))
    };
    let split = |text: &str| -> (String, String) {
        match text.split_once(" @ ") {
            Some((t, c)) => (t.trim().to_string(), c.trim().to_string()),
            None => (text.trim().to_string(), String::new()),
        }
    };
    if lower.ends_with(".edf") || lower.ends_with(".bdf") {
        let f = crate::io::edf::EdfFile::open(path)?;
        return Ok(f
            .annotations
            .iter()
            .filter_map(|a| {
                let (text, channel) = split(&a.text);
                map.kind_of(&text).map(|kind| Event {
                    night: night.clone(),
                    channel,
                    kind: kind.to_string(),
                    start_s: a.onset_s,
                    end_s: a.onset_s + a.duration_s.unwrap_or(0.0),
                })
            })
            .collect());
    }
    let mut rdr = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_path(path)
        .map_err(|e| Error::input(path, e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(path, e.to_string()))?
        .clone();
    let col = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let start = col(&["start_s", "onset_s", "onset"]);
    let end = col(&["end_s"]);
    let dur = col(&["duration_s", "duration"]);
    let text = col(&["kind", "text", "label", "annotation", "event"]);
    let chan = col(&["channel"]);
    let (Some(si), Some(ti)) = (start, text) else {
        return Err(Error::input(
            path,
            format!(
                "line 1: columns [{}]; expected start_s (or onset_s), end_s (or duration_s), kind (or text/label) and optionally channel",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::input(path, e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let num = |i: usize| -> Result<f64> {
            rec.get(i)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!(
                            "line {line}, column {} ({}): expected a number, found \"{}\"",
                            i + 1,
                            &headers[i],
                            rec.get(i).unwrap_or("")
                        ),
                    )
                })
        };
        let (label, mut channel) = split(rec.get(ti).unwrap_or(""));
        if let Some(c) = chan {
            channel = rec.get(c).unwrap_or("").trim().to_string();
        }
        let kind = match label.as_str() {
            "lm" | "cramp" | "sustained" => Some(label.clone()),
            _ => map.kind_of(&label).map(str::to_string),
        };
        let Some(kind) = kind else { continue };
        let s0 = num(si)?;
        let e0 = match (end, dur) {
            (Some(e), _) => num(e)?,
            (None, Some(d)) => s0 + num(d)?,
            (None, None) => s0,
        };
        out.push(Event {
            night: night.clone(),
            channel,
            kind,
            start_s: s0,
            end_s: e0,
        });
    }
    Ok(out)
}

/// Reads a truth file (`channel,kind,start_s,end_s`) for night `night`.
pub fn read_truth(path: &Path, night: &str) -> Result<Vec<Event>> {
    read_events(path, Some(night))
}

/// Reads `episodes.csv` (with a `night` column) or a truth file; when
/// `night` is given, the file holds that one night.
pub fn read_events(path: &Path, night: Option<&str>) -> Result<Vec<Event>> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| Error::input(path, e.to_string()))?;
    let headers = rdr
        .headers()
        .map_err(|e| Error::input(path, e.to_string()))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(ci), Some(ki), Some(si), Some(ei)) =
        (col("channel"), col("kind"), col("start_s"), col("end_s"))
    else {
        return Err(Error::input(
            path,
            format!(
                "line 1: columns [{}]; expected channel, kind, start_s, end_s",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        ));
    };
    let ni = col("night");
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| Error::input(path, e.to_string()))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        let num = |i: usize, what: &str| -> Result<f64> {
            rec.get(i)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .ok_or_else(|| {
                    Error::input(
                        path,
                        format!(
                            "line {line}, column {} ({what}): expected a number, found \"{}\"",
                            i + 1,
                            rec.get(i).unwrap_or("")
                        ),
                    )
                })
        };
        let night = match (night, ni) {
            (Some(n), _) => n.to_string(),
            (None, Some(i)) => rec.get(i).unwrap_or("").to_string(),
            (None, None) => String::new(),
        };
        out.push(Event {
            night,
            channel: rec.get(ci).unwrap_or("").trim().to_string(),
            kind: rec.get(ki).unwrap_or("").trim().to_string(),
            start_s: num(si, "start_s")?,
            end_s: num(ei, "end_s")?,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: &str, s: f64, e: f64) -> Event {
        Event {
            night: "n".into(),
            channel: "c".into(),
            kind: kind.into(),
            start_s: s,
            end_s: e,
        }
    }

    #[test]
    fn perfect_split_and_empty_cases() {
        let truth = vec![ev("lm", 10.0, 12.0), ev("lm", 30.0, 34.0)];
        let m = metrics(&truth, &truth, 0.2);
        assert_eq!((m[0].precision, m[0].recall, m[0].f1), (1.0, 1.0, 1.0));
        assert_eq!(m[0].onset_median_s, Some(0.0));
        // A split detection: two halves of the second event; one matches.
        let pred = vec![
            ev("lm", 10.0, 12.0),
            ev("lm", 30.0, 32.0),
            ev("lm", 32.2, 34.0),
        ];
        let m = metrics(&truth, &pred, 0.2);
        assert_eq!(m[0].tp, 2);
        assert!((m[0].precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m[0].recall, 1.0);
        // No detections; no truth.
        let m = metrics(&truth, &[], 0.2);
        assert_eq!((m[0].recall, m[0].f1), (0.0, 0.0));
        let m = metrics(&[], &truth, 0.2);
        assert_eq!(m[0].precision, 0.0);
        assert!(metrics(&[], &[], 0.2).is_empty());
    }

    #[test]
    fn kinds_and_channels_must_agree_and_iou_threshold_applies() {
        let truth = vec![ev("cramp", 0.0, 10.0)];
        assert!(match_events(&truth, &[ev("lm", 0.0, 10.0)], 0.2).is_empty());
        assert!(match_events(&truth, &[ev("cramp", 9.0, 20.0)], 0.2).is_empty());
        assert_eq!(
            match_events(&truth, &[ev("cramp", 1.0, 10.0)], 0.2).len(),
            1
        );
    }
}
