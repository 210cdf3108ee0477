//! Matching detected episodes against annotated ones: one-to-one, per
//! night, channel and kind, best intersection-over-union first.

use std::path::Path;

use serde::Serialize;

use crate::config::AnnotationConfig;
use crate::error::{Error, Result};

pub mod bench;
pub mod families;
pub use families::{FamilyMetrics, WorstFamily};

/// IoU a detection must reach to match an annotation (issue 4 default).
pub const IOU_MIN: f64 = 0.2;

/// Truth kinds read directly from a truth file's `kind` column.
pub const TRUTH_KINDS: &[&str] = &["lm", "cramp", "sustained", "movement", "clipping"];

/// Truth kinds of stretches that imitate a cramp: no cramp may be reported
/// over one ([`Evaluation::cramps_over`]). `clipping` is never an episode
/// and gets no F1; `movement` is also an episode kind and does.
pub const IMITATOR_KINDS: &[&str] = &["movement", "clipping"];

/// Truth kinds that are stretches to avoid, not episodes to find.
const STRETCH_ONLY_KINDS: &[&str] = &["clipping"];

/// Reported cramps overlapping the truth stretches of one imitating kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CrampsOver {
    /// Truth kind of the stretches (`movement`, `clipping`).
    pub kind: String,
    /// Truth stretches of that kind.
    pub n_stretches: usize,
    /// Reported cramps overlapping one of them in time on the same channel
    /// (a truth row without a channel: any channel); the target is 0.
    pub n_cramps: usize,
}

/// Counts, per imitating kind, the reported cramps that overlap a truth
/// stretch of that kind.
pub fn cramps_over(truth: &[Event], pred: &[Event]) -> Vec<CrampsOver> {
    IMITATOR_KINDS
        .iter()
        .map(|&kind| {
            let stretches: Vec<&Event> = truth.iter().filter(|e| e.kind == kind).collect();
            let n_cramps = pred
                .iter()
                .filter(|p| p.kind == "cramp")
                .filter(|p| {
                    stretches.iter().any(|t| {
                        t.night == p.night
                            && (t.channel.is_empty() || t.channel == p.channel)
                            && p.start_s < t.end_s
                            && p.end_s > t.start_s
                    })
                })
                .count();
            CrampsOver {
                kind: kind.to_string(),
                n_stretches: stretches.len(),
                n_cramps,
            }
        })
        .collect()
}

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
    /// `None` (empty in the tables) when nothing of this kind was reported
    /// though the truth has some: precision is then undefined, not 1.
    pub precision: Option<f64>,
    pub recall: f64,
    pub f1: f64,
    /// Median |onset error| of matched pairs, s.
    pub onset_median_s: Option<f64>,
    /// Median |offset error| of matched pairs, s.
    pub offset_median_s: Option<f64>,
    /// 95th percentile of |onset error| of matched pairs, s.
    pub onset_p95_s: Option<f64>,
    /// 95th percentile of |offset error| of matched pairs, s.
    pub offset_p95_s: Option<f64>,
}

/// Linear-interpolated percentile (numpy's default), `q` in 0–100.
fn percentile(mut v: Vec<f64>, q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let pos = q / 100.0 * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    Some(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// Pearson correlation of paired values; `None` with fewer than 3 pairs or
/// when either side does not vary.
pub fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len().min(y.len());
    if n < 3 {
        return None;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (a, b) = (x[i] - mx, y[i] - my);
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Count agreement of one night and kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NightCounts {
    pub night: String,
    pub kind: String,
    pub n_truth: usize,
    pub n_pred: usize,
    pub tp: usize,
    /// Events per hour of analysed time (truth, detected); `None` when the
    /// night's hours are unknown.
    pub truth_per_h: Option<f64>,
    pub pred_per_h: Option<f64>,
}

/// Everything `crampscan evaluate` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    pub iou_min: f64,
    pub n_nights: usize,
    /// Per kind over all nights.
    pub kinds: Vec<KindMetrics>,
    /// Per night and kind.
    pub nights: Vec<NightCounts>,
    /// Pearson correlation of per-night cramp counts, truth vs detected.
    pub cramp_count_r: Option<f64>,
    /// Pearson correlation of per-night LM index (LMs per hour).
    pub lm_index_r: Option<f64>,
    /// Reported cramps over truth body movements and clipping stretches.
    pub cramps_over: Vec<CrampsOver>,
    /// Per simulated family, when the nights carry one (`<night>.sim.json`;
    /// issue 15); empty otherwise, and then left out of the JSON.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub families: Vec<FamilyMetrics>,
    /// The worst family per kind (see [`families::worst_families`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub worst_families: Vec<WorstFamily>,
    /// Truth nights that the prediction folder did not scan, left out of
    /// every figure (`evaluate` warns about them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unscanned_nights: Vec<String>,
}

/// Evaluates `pred` against `truth` night by night; `hours` gives each
/// night's analysed hours (for the LM index).
pub fn evaluate(
    truth: &[Event],
    pred: &[Event],
    iou_min: f64,
    hours: &std::collections::BTreeMap<String, f64>,
) -> Evaluation {
    let kinds = metrics(truth, pred, iou_min);
    let matches = match_events(truth, pred, iou_min);
    let mut night_ids: Vec<&str> = truth.iter().map(|e| e.night.as_str()).collect();
    night_ids.sort();
    night_ids.dedup();
    let mut kind_names: Vec<&str> = vec!["cramp", "lm"];
    for k in &kinds {
        if !kind_names.contains(&k.kind.as_str()) {
            kind_names.push(&k.kind);
        }
    }
    let mut nights = Vec::new();
    for n in &night_ids {
        for k in &kind_names {
            let is = |e: &Event| e.night == *n && e.kind == *k;
            let n_truth = truth.iter().filter(|e| is(e)).count();
            let n_pred = pred.iter().filter(|e| is(e)).count();
            let tp = matches.iter().filter(|m| is(&truth[m.0])).count();
            let h = hours.get(*n).copied().filter(|h| *h > 0.0);
            nights.push(NightCounts {
                night: n.to_string(),
                kind: k.to_string(),
                n_truth,
                n_pred,
                tp,
                truth_per_h: h.map(|h| n_truth as f64 / h),
                pred_per_h: h.map(|h| n_pred as f64 / h),
            });
        }
    }
    let pairs = |kind: &str, per_h: bool| -> (Vec<f64>, Vec<f64>) {
        nights
            .iter()
            .filter(|c| c.kind == kind)
            .filter_map(|c| {
                if per_h {
                    Some((c.truth_per_h?, c.pred_per_h?))
                } else {
                    Some((c.n_truth as f64, c.n_pred as f64))
                }
            })
            .unzip()
    };
    let (a, b) = pairs("cramp", false);
    let cramp_count_r = pearson(&a, &b);
    let (a, b) = pairs("lm", true);
    let lm_index_r = pearson(&a, &b);
    Evaluation {
        iou_min,
        n_nights: night_ids.len(),
        kinds,
        nights,
        cramp_count_r,
        lm_index_r,
        cramps_over: cramps_over(truth, pred),
        families: Vec::new(),
        worst_families: Vec::new(),
        unscanned_nights: Vec::new(),
    }
}

impl Evaluation {
    /// Per-kind table (`evaluation.csv`).
    pub fn kinds_csv(&self) -> String {
        let mut t = String::from(
            "kind,n_truth,n_pred,tp,precision,recall,f1,onset_median_s,offset_median_s,onset_p95_s,offset_p95_s\n",
        );
        let f = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_default();
        for k in &self.kinds {
            t.push_str(&format!(
                "{},{},{},{},{},{:.3},{:.3},{},{},{},{}\n",
                k.kind,
                k.n_truth,
                k.n_pred,
                k.tp,
                f(k.precision),
                k.recall,
                k.f1,
                f(k.onset_median_s),
                f(k.offset_median_s),
                f(k.onset_p95_s),
                f(k.offset_p95_s)
            ));
        }
        t
    }

    /// Per-night counts (`evaluation_nights.csv`).
    pub fn nights_csv(&self) -> String {
        let mut t = String::from("night,kind,n_truth,n_pred,tp,truth_per_h,pred_per_h\n");
        let f = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_default();
        for c in &self.nights {
            t.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                c.night,
                c.kind,
                c.n_truth,
                c.n_pred,
                c.tp,
                f(c.truth_per_h),
                f(c.pred_per_h)
            ));
        }
        t
    }
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
/// kind scores precision = recall = F1 = 1 (nothing to find, nothing false);
/// with truth and no detections precision is undefined (`None`) and recall
/// and F1 are 0.
pub fn metrics(truth: &[Event], pred: &[Event], iou_min: f64) -> Vec<KindMetrics> {
    let matches = match_events(truth, pred, iou_min);
    let mut kinds: Vec<String> = truth
        .iter()
        .chain(pred)
        .map(|e| e.kind.clone())
        .filter(|k| !STRETCH_ONLY_KINDS.contains(&k.as_str()))
        .collect();
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
            let precision = (n_pred > 0 || n_truth == 0).then(|| ratio(tp, n_pred));
            let recall = ratio(tp, n_truth);
            let p = precision.unwrap_or(0.0);
            let f1 = if p + recall > 0.0 {
                2.0 * p * recall / (p + recall)
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
                onset_p95_s: percentile(
                    pairs
                        .iter()
                        .map(|m| (pred[m.1].start_s - truth[m.0].start_s).abs())
                        .collect(),
                    95.0,
                ),
                offset_p95_s: percentile(
                    pairs
                        .iter()
                        .map(|m| (pred[m.1].end_s - truth[m.0].end_s).abs())
                        .collect(),
                    95.0,
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
            .or_else(|| stem.strip_suffix("-nsrr"))
            .unwrap_or(stem);
        crate::batch::night_id(&path.with_file_name(format!("{stem}.x")))
    };
    let split = |text: &str| -> (String, String) {
        match text.split_once(" @ ") {
            Some((t, c)) => (t.trim().to_string(), c.trim().to_string()),
            None => (text.trim().to_string(), String::new()),
        }
    };
    if crate::io::scoring::is_scoring(path) {
        return scored_limb_movements(path, &night);
    }
    if lower.ends_with(".edf") || lower.ends_with(".bdf") {
        let f = crate::io::edf::EdfFile::open(path)?;
        return Ok(f
            .annotations
            .iter()
            .filter_map(|a| {
                let (text, channel) = split(&a.text);
                let kind = match TRUTH_KINDS.iter().find(|k| **k == text) {
                    Some(k) => Some(*k),
                    None => map.kind_of(&text),
                };
                kind.map(|kind| Event {
                    night: night.clone(),
                    channel,
                    kind: kind.to_string(),
                    start_s: a.onset_s,
                    end_s: a.onset_s + a.duration_s.unwrap_or(0.0),
                })
            })
            .collect());
    }
    let (mut rdr, headers) = crate::io::open_table(path)?;
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
        let kind = if TRUTH_KINDS.contains(&label.as_str()) {
            Some(label.clone())
        } else {
            map.kind_of(&label).map(str::to_string)
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

/// The scored limb movements (LMs and PLMs) of an NSRR XML or Luna
/// `.annot` as `lm` truth of `night`. Their channel is left empty (matching
/// an episode on any channel): NSRR's `SignalLocation` names are not the
/// EDF's labels. Clock times in a `.annot` cannot be placed here (no
/// recording start) and are refused.
fn scored_limb_movements(path: &Path, night: &str) -> Result<Vec<Event>> {
    use crate::io::scoring::{EventClass, Scoring};
    let s = Scoring::read(path, None)?;
    Ok(s.of(|c| matches!(c, EventClass::Limb { .. }))
        .map(|e| Event {
            night: night.to_string(),
            channel: String::new(),
            kind: "lm".into(),
            start_s: e.start_s,
            end_s: e.end_s,
        })
        .collect())
}

/// Evaluates a scan output folder `pred` against the truth at `truth` (a
/// file or a folder of `.truth.csv`, EDF+/BDF+ or scored-event files; a
/// folder's EDF+ annotations count only for nights without a truth file).
/// Only nights with truth are scored; the LM index uses each night's
/// `analyzed_h` from `pred/nights.csv` when present.
pub fn evaluate_paths(
    truth: &Path,
    pred: &Path,
    iou_min: f64,
    cfg: &crate::config::Config,
) -> Result<Evaluation> {
    let mut truth_events = Vec::new();
    let files: Vec<std::path::PathBuf> = if truth.is_dir() {
        let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(truth)
            .map_err(|e| Error::input(truth, format!("cannot list the folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        v.sort();
        // .truth.csv files first; EDF+/BDF+ annotations only for
        // nights without one.
        let csv: Vec<std::path::PathBuf> = v
            .iter()
            .filter(|p| p.to_string_lossy().ends_with(".truth.csv"))
            .cloned()
            .collect();
        let have: std::collections::BTreeSet<String> = csv
            .iter()
            .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
            .map(|n| n.trim_end_matches(".truth.csv").to_string())
            .collect();
        let edf = v.into_iter().filter(|p| {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .map(|e| e.to_ascii_lowercase());
            let night = crate::batch::night_id(p);
            let night = night.strip_suffix("-nsrr").unwrap_or(&night);
            matches!(ext.as_deref(), Some("edf" | "bdf" | "xml" | "annot")) && !have.contains(night)
        });
        csv.iter().cloned().chain(edf).collect()
    } else {
        vec![truth.to_path_buf()]
    };
    for f in &files {
        truth_events.extend(read_truth_file(f, &cfg.annotations)?);
    }
    let hours = scanned_hours(pred)?;
    let (truth_events, unscanned) = scanned_only(truth_events, &hours, pred)?;
    let nights: std::collections::BTreeSet<String> =
        truth_events.iter().map(|e| e.night.clone()).collect();
    let pred_events: Vec<Event> = read_events(&pred.join("episodes.csv"), None)?
        .into_iter()
        .filter(|e| nights.contains(&e.night))
        .collect();
    let mut e = evaluate(&truth_events, &pred_events, iou_min, &hours);
    e.unscanned_nights = unscanned;
    let fams = families::read_families(truth)?;
    if !fams.is_empty() {
        e.families = families::family_metrics(&truth_events, &pred_events, iou_min, &fams);
        e.worst_families = families::worst_families(&e.families);
    }
    Ok(e)
}

/// Analysed hours of every night `pred/nights.csv` lists (NaN where the
/// cell is empty): the nights the prediction folder scanned.
fn scanned_hours(pred: &Path) -> Result<std::collections::BTreeMap<String, f64>> {
    let nights_csv = pred.join("nights.csv");
    if !nights_csv.is_file() {
        return Err(Error::input(
            &nights_csv,
            "not found: --pred must be a scan output folder (with nights.csv and episodes.csv)",
        ));
    }
    let bad = |e: csv::Error| Error::input(&nights_csv, e.to_string());
    let mut rdr = csv::Reader::from_path(&nights_csv).map_err(bad)?;
    let h = rdr.headers().map_err(bad)?.clone();
    let ni = h.iter().position(|c| c == "night").ok_or_else(|| {
        Error::input(
            &nights_csv,
            "line 1: no column \"night\"; expected a crampscan nights table",
        )
    })?;
    let hi = h.iter().position(|c| c == "analyzed_h");
    // A failed night (listed with its status since the status column came)
    // was not scanned.
    let si = h.iter().position(|c| c == "status");
    let mut hours = std::collections::BTreeMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(bad)?;
        if si.is_some_and(|si| rec.get(si) != Some(crate::export::tables::STATUS_OK)) {
            continue;
        }
        let v = hi
            .and_then(|hi| rec.get(hi))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(f64::NAN);
        hours.insert(
            crate::export::cells::unescape_text(rec.get(ni).unwrap_or("")),
            v,
        );
    }
    Ok(hours)
}

/// The truth events of scanned nights, and the truth nights not scanned.
/// None scanned is an error: every figure would be meaningless.
fn scanned_only(
    truth: Vec<Event>,
    scanned: &std::collections::BTreeMap<String, f64>,
    pred: &Path,
) -> Result<(Vec<Event>, Vec<String>)> {
    let mut unscanned: Vec<String> = truth
        .iter()
        .filter(|e| !scanned.contains_key(&e.night))
        .map(|e| e.night.clone())
        .collect();
    unscanned.sort();
    unscanned.dedup();
    let kept: Vec<Event> = truth
        .into_iter()
        .filter(|e| scanned.contains_key(&e.night))
        .collect();
    if kept.is_empty() && !unscanned.is_empty() {
        let shown: Vec<&str> = unscanned.iter().take(5).map(String::as_str).collect();
        return Err(Error::input(
            &pred.join("nights.csv"),
            format!(
                "none of the {} truth nights ({}{}) was scanned here; check that --truth and --pred are the same nights",
                unscanned.len(),
                shown.join(", "),
                if unscanned.len() > 5 { ", …" } else { "" }
            ),
        ));
    }
    Ok((kept, unscanned))
}

impl Evaluation {
    /// Writes `evaluation.csv` (per kind), `evaluation_nights.csv`,
    /// `evaluation.json` (everything) and, when the nights carry families,
    /// `families.csv` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        if !self.families.is_empty() {
            crate::export::write_atomic(
                &dir.join("families.csv"),
                families::families_csv(&self.families, &self.worst_families).as_bytes(),
            )?;
        }
        crate::export::write_atomic(&dir.join("evaluation.csv"), self.kinds_csv().as_bytes())?;
        crate::export::write_atomic(
            &dir.join("evaluation_nights.csv"),
            self.nights_csv().as_bytes(),
        )?;
        let json = serde_json::to_string_pretty(self).expect("evaluation serialises");
        crate::export::write_atomic(&dir.join("evaluation.json"), json.as_bytes())
    }
}

/// One detector's line of the `bench-detectors` leaderboard.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeaderRow {
    pub detector: String,
    pub cramp: Option<KindMetrics>,
    pub lm: Option<KindMetrics>,
    pub lm_index_r: Option<f64>,
    /// Seconds of recording per second of wall time.
    pub speed_x: f64,
}

impl LeaderRow {
    pub fn new(detector: &str, e: &Evaluation, signal_s: f64, wall_s: f64) -> LeaderRow {
        let kind = |k: &str| e.kinds.iter().find(|m| m.kind == k).cloned();
        LeaderRow {
            detector: detector.to_string(),
            cramp: kind("cramp"),
            lm: kind("lm"),
            lm_index_r: e.lm_index_r,
            speed_x: if wall_s > 0.0 { signal_s / wall_s } else { 0.0 },
        }
    }

    fn cells(&self) -> Vec<String> {
        let f = |v: Option<f64>| v.map(|x| format!("{x:.3}")).unwrap_or_else(|| "–".into());
        let c = self.cramp.as_ref();
        let l = self.lm.as_ref();
        vec![
            self.detector.clone(),
            f(c.map(|m| m.f1)),
            f(c.and_then(|m| m.onset_median_s)),
            f(l.and_then(|m| m.precision)),
            f(l.map(|m| m.recall)),
            f(l.map(|m| m.f1)),
            f(l.and_then(|m| m.onset_median_s)),
            f(l.and_then(|m| m.onset_p95_s)),
            f(l.and_then(|m| m.offset_median_s)),
            f(self.lm_index_r),
            format!("{:.0}", self.speed_x),
        ]
    }
}

const LEADER_COLUMNS: [&str; 11] = [
    "detector",
    "cramp_f1",
    "cramp_onset_median_s",
    "lm_precision",
    "lm_recall",
    "lm_f1",
    "lm_onset_median_s",
    "lm_onset_p95_s",
    "lm_offset_median_s",
    "lm_index_r",
    "speed_x_realtime",
];

/// The leaderboard as a Markdown table (printed, and pasted in the README).
pub fn leaderboard_markdown(rows: &[LeaderRow]) -> String {
    let mut t = format!(
        "| {} |\n|{}\n",
        LEADER_COLUMNS.join(" | "),
        "---|".repeat(LEADER_COLUMNS.len())
    );
    for r in rows {
        t.push_str(&format!("| {} |\n", r.cells().join(" | ")));
    }
    t
}

/// The leaderboard as CSV (`leaderboard.csv`).
pub fn leaderboard_csv(rows: &[LeaderRow]) -> String {
    let mut t = format!("{}\n", LEADER_COLUMNS.join(","));
    for r in rows {
        t.push_str(&format!("{}\n", r.cells().join(",").replace('–', "")));
    }
    t
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
            (None, Some(i)) => crate::export::cells::unescape_text(rec.get(i).unwrap_or("")),
            (None, None) => String::new(),
        };
        out.push(Event {
            night,
            channel: crate::export::cells::unescape_text(rec.get(ci).unwrap_or("").trim()),
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
        assert_eq!(
            (m[0].precision, m[0].recall, m[0].f1),
            (Some(1.0), 1.0, 1.0)
        );
        assert_eq!(m[0].onset_median_s, Some(0.0));
        // A split detection: two halves of the second event; one matches.
        let pred = vec![
            ev("lm", 10.0, 12.0),
            ev("lm", 30.0, 32.0),
            ev("lm", 32.2, 34.0),
        ];
        let m = metrics(&truth, &pred, 0.2);
        assert_eq!(m[0].tp, 2);
        assert!((m[0].precision.unwrap() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(m[0].recall, 1.0);
        // No detections; no truth.
        let m = metrics(&truth, &[], 0.2);
        assert_eq!((m[0].precision, m[0].recall, m[0].f1), (None, 0.0, 0.0));
        let m = metrics(&[], &truth, 0.2);
        assert_eq!(m[0].precision, Some(0.0));
        assert!(metrics(&[], &[], 0.2).is_empty());
    }

    #[test]
    fn merged_detection_matches_one_of_two_events() {
        // Two LMs 1 s apart detected as one episode 10–15 s: IoU with the
        // first (10–12) is 2/5 = 0.4, with the second (13–15) also 0.4; the
        // tie goes to the first truth event, the second is missed.
        let truth = vec![ev("lm", 10.0, 12.0), ev("lm", 13.0, 15.0)];
        let pred = vec![ev("lm", 10.0, 15.0)];
        let m = match_events(&truth, &pred, 0.2);
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].0, m[0].1), (0, 0));
        assert!((m[0].2 - 0.4).abs() < 1e-12);
        let k = &metrics(&truth, &pred, 0.2)[0];
        assert_eq!((k.tp, k.precision, k.recall), (1, Some(1.0), 0.5));
        assert!((k.f1 - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(k.onset_median_s, Some(0.0));
        assert_eq!(k.offset_median_s, Some(3.0));
    }

    #[test]
    fn timing_percentiles_and_night_counts() {
        // Onset errors 0, 0.1, ..., 1.9 s (20 matches): median 0.95,
        // 95th percentile (linear) 0.05 * 19 * 0.95 ... = 1.805.
        let truth: Vec<Event> = (0..20)
            .map(|i| ev("lm", 20.0 * i as f64, 20.0 * i as f64 + 4.0))
            .collect();
        let pred: Vec<Event> = (0..20)
            .map(|i| {
                ev(
                    "lm",
                    20.0 * i as f64 + 0.1 * i as f64,
                    20.0 * i as f64 + 4.0,
                )
            })
            .collect();
        let k = &metrics(&truth, &pred, 0.2)[0];
        assert!((k.onset_median_s.unwrap() - 0.95).abs() < 1e-9);
        assert!((k.onset_p95_s.unwrap() - 1.805).abs() < 1e-9);
        assert_eq!(k.offset_p95_s, Some(0.0));
        // Per night: night "n" with 2 truth hours.
        let hours = std::collections::BTreeMap::from([("n".to_string(), 2.0)]);
        let e = evaluate(&truth, &pred[..10], 0.2, &hours);
        let lm = e.nights.iter().find(|c| c.kind == "lm").unwrap();
        assert_eq!((lm.n_truth, lm.n_pred, lm.tp), (20, 10, 10));
        assert_eq!((lm.truth_per_h, lm.pred_per_h), (Some(10.0), Some(5.0)));
        assert_eq!(e.n_nights, 1);
        assert_eq!(e.lm_index_r, None); // one night: no correlation
    }

    #[test]
    fn pearson_known_values() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // x = 1..4, y = 1, 3, 2, 4: r = 0.8.
        assert!(
            (pearson(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap() - 0.8).abs() < 1e-12
        );
        assert_eq!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]), None);
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

    #[test]
    fn nsrr_xml_limb_movements_are_lm_truth() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("n7-nsrr.xml");
        std::fs::write(
            &p,
            "<PSGAnnotation><ScoredEvents>\
             <ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Wake|0</EventConcept><Start>0</Start><Duration>30</Duration></ScoredEvent>\
             <ScoredEvent><EventType>Limb Movement|Limb Movement</EventType><EventConcept>Limb movement - left|LM (Left)</EventConcept><Start>12.5</Start><Duration>2</Duration><SignalLocation>L Leg</SignalLocation></ScoredEvent>\
             <ScoredEvent><EventType>Limb Movement|Limb Movement</EventType><EventConcept>Periodic leg movement - right|PLM (Right)</EventConcept><Start>40</Start><Duration>1.5</Duration></ScoredEvent>\
             </ScoredEvents></PSGAnnotation>",
        )
        .unwrap();
        let ev = read_truth_file(&p, &AnnotationConfig::default()).unwrap();
        let got: Vec<(&str, &str, f64, f64)> = ev
            .iter()
            .map(|e| (e.night.as_str(), e.kind.as_str(), e.start_s, e.end_s))
            .collect();
        assert_eq!(got, [("n7", "lm", 12.5, 14.5), ("n7", "lm", 40.0, 41.5)]);
        assert!(ev.iter().all(|e| e.channel.is_empty()));
    }
}
