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
