//! The per-night feature file behind the overview figure,
//! `OUT/nights/<night>.traces.bin`, written by `scan --plots` so that
//! `crampscan report` can draw a night again without re-analysing it.
//!
//! Layout (all little-endian):
//!
//! | bytes | content |
//! |---|---|
//! | 0–7 | magic `CSTRACE1` |
//! | 8–11 | `u32` length `H` of the JSON header |
//! | 12 … 12+H | JSON header: `{"night": …, "series": [{"channel", "quantity", "t0_s", "hop_s", "len"}, …]}` |
//! | then | each series in header order: `len` × `f32` |
//!
//! `quantity` is `activity_uv` (band RMS per window, µV, NaN for bad
//! windows), `baseline_uv` (resting baseline per window, µV) or `enmo_g`
//! (accelerometer ENMO per hop, g; `channel` is `accel`). `t0_s` is the
//! time of the first value from the recording start (window centre for EMG,
//! hop start for ENMO), `hop_s` the spacing. An 8-hour night with two EMG
//! channels at the default 0.1 s hop takes about 5.8 MB.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::night::{EmgTrace, NightTraces};
use crate::score::classify::AccelSeries;

/// First bytes of a trace file.
pub const MAGIC: &[u8; 8] = b"CSTRACE1";

/// Quantity names in the header.
pub const ACTIVITY: &str = "activity_uv";
pub const BASELINE: &str = "baseline_uv";
pub const ENMO: &str = "enmo_g";
/// Channel name of the ENMO series.
pub const ACCEL_CHANNEL: &str = "accel";

#[derive(Debug, Serialize, Deserialize)]
struct SeriesHeader {
    channel: String,
    quantity: String,
    t0_s: f64,
    hop_s: f64,
    len: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    night: String,
    series: Vec<SeriesHeader>,
}

/// Path of a night's trace file in a scan output folder.
pub fn path(out_dir: &Path, night: &str) -> std::path::PathBuf {
    crate::export::Layout::new(out_dir).traces(night)
}

/// The trace file's bytes for a night.
pub fn encode(night: &str, t: &NightTraces) -> Vec<u8> {
    let mut series: Vec<(SeriesHeader, &[f32])> = Vec::new();
    for e in &t.emg {
        for (q, v) in [(ACTIVITY, &e.activity_uv), (BASELINE, &e.baseline_uv)] {
            series.push((
                SeriesHeader {
                    channel: e.channel.clone(),
                    quantity: q.to_string(),
                    t0_s: e.first_center_s,
                    hop_s: e.hop_s,
                    len: v.len(),
                },
                v,
            ));
        }
    }
    if let Some(a) = &t.accel {
        series.push((
            SeriesHeader {
                channel: ACCEL_CHANNEL.to_string(),
                quantity: ENMO.to_string(),
                t0_s: 0.0,
                hop_s: a.hop_s,
                len: a.enmo_g.len(),
            },
            &a.enmo_g,
        ));
    }
    let (headers, data): (Vec<SeriesHeader>, Vec<&[f32]>) = series.into_iter().unzip();
    let header = serde_json::to_vec(&Header {
        night: night.to_string(),
        series: headers,
    })
    .expect("trace header serialises");
    let n: usize = data.iter().map(|d| d.len()).sum();
    let mut out = Vec::with_capacity(12 + header.len() + 4 * n);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(header.len() as u32).to_le_bytes());
    out.extend_from_slice(&header);
    for d in data {
        for v in d {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Reads night `night`'s trace file, written by [`encode`].
pub fn read(path: &Path, night: &str) -> Result<NightTraces> {
    let bytes = std::fs::read(path).map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    parse(path, &bytes, night)
}

/// Decodes the bytes of night `night`'s trace file at `path` (named in the
/// error). A file that holds another night (copied or renamed by hand) is
/// refused, so that no night is drawn with another's features.
pub fn parse(path: &Path, bytes: &[u8], night: &str) -> Result<NightTraces> {
    let (found, traces) = decode(bytes).map_err(|msg| Error::input(path, msg))?;
    if found != night {
        return Err(Error::input(
            path,
            format!("holds the features of night \"{found}\"; expected night \"{night}\""),
        ));
    }
    Ok(traces)
}

/// The night id in the header and the series.
fn decode(bytes: &[u8]) -> std::result::Result<(String, NightTraces), String> {
    if bytes.len() < 12 || &bytes[..8] != MAGIC {
        return Err(
            "not a crampscan trace file: expected the magic bytes CSTRACE1 at byte 0".into(),
        );
    }
    let h_len = u32::from_le_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    let body = bytes
        .get(12..12 + h_len)
        .ok_or_else(|| format!("header of {h_len} bytes runs past the end of the file"))?;
    let header: Header =
        serde_json::from_slice(body).map_err(|e| format!("header at byte 12: {e}"))?;
    let mut pos = 12 + h_len;
    let mut traces = NightTraces {
        emg: Vec::new(),
        accel: None,
    };
    for s in header.series {
        let end = s
            .len
            .checked_mul(4)
            .and_then(|n| n.checked_add(pos))
            .filter(|&e| e <= bytes.len())
            .ok_or_else(|| {
                format!(
                    "series {} {} at byte {pos}: expected {} values, the file ends first",
                    s.channel, s.quantity, s.len
                )
            })?;
        let values: Vec<f32> = bytes[pos..end]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        pos = end;
        if !(s.hop_s > 0.0 && s.hop_s.is_finite()) {
            return Err(format!(
                "series {} {}: hop_s is {}; expected a positive number",
                s.channel, s.quantity, s.hop_s
            ));
        }
        match s.quantity.as_str() {
            ACTIVITY => traces.emg.push(EmgTrace {
                channel: s.channel,
                hop_s: s.hop_s,
                first_center_s: s.t0_s,
                activity_uv: values,
                baseline_uv: Vec::new(),
            }),
            BASELINE => {
                let t = traces
                    .emg
                    .iter_mut()
                    .find(|t| t.channel == s.channel)
                    .ok_or_else(|| {
                        format!(
                            "series {} {BASELINE} comes before that channel's {ACTIVITY}",
                            s.channel
                        )
                    })?;
                if values.len() != t.activity_uv.len() {
                    return Err(format!(
                        "series {} {BASELINE}: {} values; expected {} like its {ACTIVITY}",
                        s.channel,
                        values.len(),
                        t.activity_uv.len()
                    ));
                }
                t.baseline_uv = values;
            }
            ENMO => {
                traces.accel = Some(AccelSeries {
                    hop_s: s.hop_s,
                    first_index: 0,
                    enmo_g: values,
                })
            }
            other => {
                return Err(format!(
                    "series {}: unknown quantity \"{other}\"; expected {ACTIVITY}, {BASELINE} or {ENMO}",
                    s.channel
                ))
            }
        }
    }
    if let Some(t) = traces
        .emg
        .iter()
        .find(|t| t.baseline_uv.len() != t.activity_uv.len())
    {
        return Err(format!("series {}: no {BASELINE}", t.channel));
    }
    Ok((header.night, traces))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traces_round_trip_and_truncation_is_reported() {
        let t = NightTraces {
            emg: vec![EmgTrace {
                channel: "emg_l".into(),
                hop_s: 0.1,
                first_center_s: 0.125,
                activity_uv: vec![1.0, f32::NAN, 30.5],
                baseline_uv: vec![1.0, 1.0, 1.5],
            }],
            accel: Some(AccelSeries {
                hop_s: 0.1,
                first_index: 0,
                enmo_g: vec![0.0, 0.25],
            }),
        };
        let b = encode("n1", &t);
        let (night, r) = decode(&b).unwrap();
        assert_eq!(night, "n1");
        assert_eq!(r.emg.len(), 1);
        assert_eq!(r.emg[0].channel, "emg_l");
        assert_eq!(r.emg[0].first_center_s, 0.125);
        assert_eq!(r.emg[0].activity_uv[2], 30.5);
        assert!(r.emg[0].activity_uv[1].is_nan());
        assert_eq!(r.emg[0].baseline_uv, vec![1.0, 1.0, 1.5]);
        assert_eq!(r.accel.unwrap().enmo_g, vec![0.0, 0.25]);
        let e = decode(&b[..b.len() - 2]).unwrap_err();
        assert!(e.contains("series accel enmo_g"), "{e}");
        assert!(decode(b"nonsense").unwrap_err().contains("CSTRACE1"));
        // Another night's file under this night's name is refused.
        let p = Path::new("out/nights/n2.traces.bin");
        assert!(parse(p, &b, "n1").is_ok());
        let e = parse(p, &b, "n2").unwrap_err().to_string();
        assert!(e.contains("n2.traces.bin"), "{e}");
        assert!(e.contains("night \"n1\"; expected night \"n2\""), "{e}");
    }
}
