//! `crampscan inspect`: what a file holds and how clean it is, without
//! detecting anything.

use std::fmt::Write;
use std::path::Path;

use crate::config::Config;
use crate::dsp::mains::{self, MainsEstimator, MainsRatios};
use crate::dsp::PlanCache;
use crate::error::Result;
use crate::io::{self, BLOCK_FRAMES};
use crate::quality::{ChannelQuality, QualityTracker};
use crate::recording::{Block, ChannelKind, RecordingInfo};

/// Channels, rates, duration and quality of one group of channels that
/// share a sample rate (a file has one group, or one per rate for EDF).
pub struct InspectedGroup {
    pub info: RecordingInfo,
    pub frames: u64,
    pub quality: Vec<ChannelQuality>,
}

/// What one file holds.
pub struct Inspection {
    pub groups: Vec<InspectedGroup>,
    /// Mains frequency found on the EMG channels, Hz.
    pub mains_hz: Option<u32>,
    /// The EMG channels' mains figures the decision came from.
    pub mains_ratios: Vec<MainsRatios>,
    /// The ratio the decision needs (`detector.mains_detect_ratio`).
    pub mains_detect_ratio: f64,
}

/// Reads `path` once, gathering quality figures.
pub fn inspect(path: &Path, cfg: &Config) -> Result<Inspection> {
    let plans = PlanCache::new();
    let mut groups = Vec::new();
    let mut ratios = Vec::new();
    for mut src in io::open(path, cfg)? {
        let info0 = src.info().clone();
        let mut trackers: Vec<QualityTracker> = info0
            .channels
            .iter()
            .map(|_| QualityTracker::new(info0.fs_hz, &cfg.quality))
            .collect();
        let mut mains_est: Vec<Option<MainsEstimator>> = info0
            .channels
            .iter()
            .map(|c| {
                (c.kind == ChannelKind::Emg && info0.fs_hz >= 130.0)
                    .then(|| MainsEstimator::new(info0.fs_hz, &plans))
            })
            .collect();
        let mut block = Block::new(info0.channels.len(), BLOCK_FRAMES);
        let mut frames = 0;
        loop {
            src.read_block(&mut block)?;
            if block.len == 0 {
                break;
            }
            frames += block.len as u64;
            for (c, t) in trackers.iter_mut().enumerate() {
                t.push(block.channel(c));
                if let Some(m) = &mut mains_est[c] {
                    m.push(block.channel(c));
                }
            }
        }
        ratios.extend(mains_est.iter().flatten().filter_map(|m| m.ratios()));
        groups.push(InspectedGroup {
            info: src.info().clone(),
            frames,
            quality: trackers.into_iter().map(QualityTracker::finish).collect(),
        });
    }
    Ok(Inspection {
        groups,
        mains_hz: mains::decide(&ratios, cfg.detector.mains_detect_ratio),
        mains_ratios: ratios,
        mains_detect_ratio: cfg.detector.mains_detect_ratio,
    })
}

/// Most distinct annotation texts listed by [`edf_signals`].
pub const ANNOTATION_TEXTS_SHOWN: usize = 12;

/// Every signal of an EDF/BDF header (label, unit, rate, physical range,
/// transducer) with whether and why it is used, and its annotations in
/// summary; `None` for other formats. Read from the header alone, so it
/// shows even a file with no channel to analyse.
pub fn edf_signals(path: &Path, cfg: &Config) -> Option<Result<String>> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase());
    if !matches!(ext.as_deref(), Some("edf" | "bdf")) {
        return None;
    }
    Some(crate::io::edf::EdfFile::open(path).map(|f| render_edf(&f, cfg)))
}

fn render_edf(f: &crate::io::edf::EdfFile, cfg: &Config) -> String {
    use crate::io::select::{classify, Selection};
    let mut s = String::new();
    let h = &f.header;
    let _ = writeln!(
        s,
        "{} signals in {} records of {} s",
        h.signals.len(),
        f.n_records,
        h.record_s
    );
    let _ = writeln!(
        s,
        "{:>3} {:<20} {:<8} {:>9} {:>24} {:<24} used",
        "#", "label", "unit", "rate_hz", "physical_range", "transducer"
    );
    for (k, sig) in h.signals.iter().enumerate() {
        let used = if sig.is_annotation {
            "annotations".to_string()
        } else {
            match classify(&cfg.channels, &sig.label, &sig.unit) {
                Selection::Use { kind, why } => format!("yes, {} ({why})", kind.as_str()),
                Selection::Skip { why } => format!("no ({why})"),
            }
        };
        let range = format!("{}..{}", sig.physical_min, sig.physical_max);
        let _ = writeln!(
            s,
            "{:>3} {:<20} {:<8} {:>9} {:>24} {:<24} {used}",
            k + 1,
            sig.label,
            sig.unit,
            sig.fs_hz(h.record_s),
            range,
            sig.transducer
        );
    }
    let a = &f.annotations;
    if a.is_empty() {
        let _ = writeln!(s, "annotations none");
    } else {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for x in a {
            *counts.entry(x.text.as_str()).or_default() += 1;
        }
        let mut by_n: Vec<(&str, usize)> = counts.into_iter().collect();
        by_n.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(y.0)));
        let first = a.iter().map(|x| x.onset_s).fold(f64::INFINITY, f64::min);
        let last = a
            .iter()
            .map(|x| x.onset_s)
            .fold(f64::NEG_INFINITY, f64::max);
        let _ = writeln!(
            s,
            "annotations {} ({} distinct texts), onsets {first:.1}–{last:.1} s",
            a.len(),
            by_n.len()
        );
        for (t, n) in by_n.iter().take(ANNOTATION_TEXTS_SHOWN) {
            let _ = writeln!(s, "  {n:>6}  {t}");
        }
        if by_n.len() > ANNOTATION_TEXTS_SHOWN {
            let _ = writeln!(
                s,
                "  ... {} more texts",
                by_n.len() - ANNOTATION_TEXTS_SHOWN
            );
        }
    }
    s
}

impl Inspection {
    /// The mains decision with the figures it came from: the EMG channels'
    /// mean peak ratios over the quietest 1 s segments.
    fn mains_line(&self) -> String {
        let found = self
            .mains_hz
            .map(|m| format!("{m} Hz"))
            .unwrap_or_else(|| "none found".into());
        let r = &self.mains_ratios;
        if r.is_empty() {
            return found;
        }
        let n = r.len() as f64;
        let mean = |f: fn(&MainsRatios) -> f64| r.iter().map(f).sum::<f64>() / n;
        format!(
            "{found} (peak ratio {:.1} at 50 Hz, {:.1} at 60 Hz, needs {}; average spectrum of the quietest {} of {} 1 s segments)",
            mean(|x| x.r50),
            mean(|x| x.r60),
            self.mains_detect_ratio,
            r.iter().map(|x| x.segments_used).sum::<u32>(),
            r.iter().map(|x| x.segments).sum::<u32>(),
        )
    }

    /// A human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let Some(first) = self.groups.first() else {
            return s;
        };
        let i = &first.info;
        let _ = writeln!(s, "file        {}", i.path.display());
        let _ = writeln!(s, "format      {}", i.format);
        for g in &self.groups {
            let _ = writeln!(
                s,
                "rate        {} Hz: {:.3} s ({} frames)",
                g.info.fs_hz,
                g.frames as f64 / g.info.fs_hz,
                g.frames
            );
        }
        let _ = writeln!(
            s,
            "start       {}",
            i.start_time
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3f").to_string())
                .unwrap_or_else(|| "unknown".into())
        );
        let _ = writeln!(s, "mains       {}", self.mains_line());
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<20} {:<6} {:<8} {:>10} {:>10} {:>9} {:>9}  {:<16} why",
            "channel", "kind", "unit", "rate_hz", "nonfinite", "flat_s", "clipped", "use"
        );
        for g in &self.groups {
            for (c, q) in g.info.channels.iter().zip(&g.quality) {
                let kind = c.kind.as_str();
                let unit = if c.source_unit.is_empty() || c.source_unit == c.kind.unit() {
                    c.kind.unit().to_string()
                } else {
                    format!("{}->{}", c.source_unit, c.kind.unit())
                };
                let used = match c.kind {
                    ChannelKind::Emg => "detection",
                    ChannelKind::Accel => "movement (ENMO)",
                    ChannelKind::Other => "quality only",
                };
                let _ = writeln!(
                    s,
                    "{:<20} {:<6} {:<8} {:>10} {:>10} {:>9.1} {:>9}  {used:<16} {}",
                    c.name,
                    kind,
                    unit,
                    c.fs_hz,
                    q.nonfinite_samples,
                    q.flat_s,
                    q.clipped_samples,
                    c.selected_by
                );
            }
        }
        for w in self.groups.iter().flat_map(|g| &g.info.warnings) {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }
}
