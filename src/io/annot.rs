//! Luna `.annot` scorings: tab-separated `class instance channel start stop
//! meta` rows, `#` lines declaring classes (`# class | description`), an
//! optional column header line starting `class`, `.` for a missing value.
//!
//! Times, as Luna reads them: elapsed s from the EDF start (`120.5`),
//! elapsed `0+hh:mm:ss`, a clock time `hh:mm:ss[.f]` (or `hh.mm.ss`; placed
//! on the recording's night, after midnight when more than 12 h before the
//! start), or an epoch `e:N` (30 s epochs from 1). A stop may also be a
//! duration `+x` s, or `...` (until the next row's start). Stage classes are
//! the Luna names (`W`, `N1`, `N2`, `N3`, `R`, `?`, `NREM1`…); other classes
//! are read by name ([`super::scoring::classify_name`]).

use std::path::Path;

use chrono::{NaiveDateTime, NaiveTime};

use super::scoring::{
    classify_name, clock_offset_s, parse_stage, EventClass, ScoredEvent, Scoring, EPOCH_S,
};
use crate::error::{Error, Result};

/// A time field as written.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Time {
    Elapsed(f64),
    Clock(NaiveTime),
    /// Epoch number, from 1.
    Epoch(u64),
}

fn parse_hms(s: &str) -> Option<f64> {
    let parts: Vec<&str> = s.split([':', '.']).collect();
    // hh:mm:ss or hh:mm:ss.fff (or with '.' separators).
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => (*h, *m, s.to_string()),
        [h, m, s, f] => (*h, *m, format!("{s}.{f}")),
        _ => return None,
    };
    let h: f64 = h.parse().ok()?;
    let m: f64 = m.parse().ok()?;
    let sec: f64 = sec.parse().ok()?;
    (h >= 0.0 && (0.0..60.0).contains(&m) && (0.0..=60.0).contains(&sec))
        .then_some(h * 3600.0 + m * 60.0 + sec)
}

fn parse_time(s: &str) -> Option<Time> {
    if let Some(n) = s.strip_prefix("e:") {
        return n.parse().ok().filter(|&n| n >= 1).map(Time::Epoch);
    }
    if let Some(rest) = s.strip_prefix("0+") {
        return parse_hms(rest).map(Time::Elapsed);
    }
    if s.contains(':') || s.matches('.').count() >= 2 {
        let secs = parse_hms(s)?;
        if secs >= 86_400.0 {
            return None;
        }
        let whole = secs.floor();
        return NaiveTime::from_num_seconds_from_midnight_opt(
            whole as u32,
            ((secs - whole) * 1e9).round().min(999_999_999.0) as u32,
        )
        .map(Time::Clock);
    }
    s.parse::<f64>()
        .ok()
        .filter(|x| x.is_finite() && *x >= 0.0)
        .map(Time::Elapsed)
}

/// Reads a Luna `.annot`; clock times are placed against `rec_start`.
pub fn read(path: &Path, rec_start: Option<NaiveDateTime>) -> Result<Scoring> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    // (event, stop is "...") in file order.
    let mut rows: Vec<(ScoredEvent, bool)> = Vec::new();
    for (k, raw) in text.lines().enumerate() {
        let line = k + 1;
        let l = raw.trim_end_matches('\r');
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let f: Vec<&str> = l.split('\t').map(str::trim).collect();
        if f[0].eq_ignore_ascii_case("class")
            && f.get(1).is_some_and(|s| s.eq_ignore_ascii_case("instance"))
        {
            continue;
        }
        if f.len() < 5 {
            return Err(Error::input(
                path,
                format!("line {line}: {} tab-separated field(s); expected class, instance, channel, start, stop (and meta)", f.len()),
            ));
        }
        let place = format!("line {line}");
        let at = |t: Time, col: &str| -> Result<f64> {
            match t {
                Time::Elapsed(x) => Ok(x),
                Time::Epoch(n) => Ok((n - 1) as f64 * EPOCH_S),
                Time::Clock(c) => match rec_start {
                    Some(r) => Ok(clock_offset_s(c, r)),
                    None => Err(Error::input(
                        path,
                        format!("line {line}, column {col}: clock time {c} needs the recording's start time, and none is known"),
                    )),
                },
            }
        };
        let bad = |col: &str, v: &str| {
            Error::input(
                path,
                format!("line {line}, column {col}: \"{v}\" is not a time; expected elapsed s, 0+hh:mm:ss, a clock time hh:mm:ss or e:N"),
            )
        };
        let start_s = at(parse_time(f[3]).ok_or_else(|| bad("start", f[3]))?, "start")?;
        if start_s < 0.0 {
            return Err(Error::input(
                path,
                format!(
                    "line {line}, column start: {} is {:.1} s before the recording starts",
                    f[3], -start_s
                ),
            ));
        }
        let stop = f[4];
        let (end_s, until_next) = if stop == "..." {
            (start_s, true)
        } else if stop == "." {
            (start_s, false)
        } else if let Some(d) = stop.strip_prefix('+') {
            let d: f64 = d
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| bad("stop", stop))?;
            (start_s + d, false)
        } else {
            let t = parse_time(stop).ok_or_else(|| bad("stop", stop))?;
            let e = match t {
                Time::Epoch(n) => n as f64 * EPOCH_S,
                t => at(t, "stop")?,
            };
            if e < start_s {
                return Err(Error::input(
                    path,
                    format!("line {line}: stop {stop} is before start {}", f[3]),
                ));
            }
            (e, false)
        };
        let class = match parse_stage(f[0]) {
            Some(st) => EventClass::Stage(st),
            None => classify_name(f[0]),
        };
        let channel = if f[2] == "." { "" } else { f[2] };
        let mut channel = channel.to_string();
        if channel.is_empty() && matches!(class, EventClass::Limb { .. }) {
            let inst = f[1].to_ascii_lowercase();
            if inst.contains("left") || inst == "l" {
                channel = "left".into();
            } else if inst.contains("right") || inst == "r" {
                channel = "right".into();
            }
        }
        rows.push((
            ScoredEvent {
                class,
                start_s,
                end_s,
                channel,
                place,
            },
            until_next,
        ));
    }
    for k in 0..rows.len() {
        if rows[k].1 {
            let next = rows.get(k + 1).map(|r| r.0.start_s).ok_or_else(|| {
                Error::input(
                    path,
                    format!(
                        "{}: stop \"...\" on the last row; no next row to run to",
                        rows[k].0.place
                    ),
                )
            })?;
            rows[k].0.end_s = next.max(rows[k].0.start_s);
        }
    }
    Ok(Scoring {
        path: path.to_path_buf(),
        start_clock: None,
        epoch_s: EPOCH_S,
        events: rows.into_iter().map(|r| r.0).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::hypnogram::Stage;
    use crate::io::scoring::RespKind;

    #[test]
    fn annot_reads_every_time_form() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("n1.annot");
        std::fs::write(
            &p,
            "# N2 | NREM2 sleep\n# apnea_obstructive | OA\nclass\tinstance\tchannel\tstart\tstop\tmeta\n\
             W\t.\t.\t0\t30\t.\n\
             N2\t.\t.\te:2\te:3\t.\n\
             R\t.\t.\t0+00:01:30\t+30\t.\n\
             apnea_obstructive\t.\tABDO\t23:02:00\t23:02:15.5\t.\n\
             arousal\t.\t.\t130\t...\t.\n\
             LM\tleft\t.\t140\t142.5\tamp=20\n",
        )
        .unwrap();
        let r = NaiveDateTime::parse_from_str("2020-01-01 23:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        let s = read(&p, Some(r)).unwrap();
        let spans: Vec<(f64, f64)> = s.events.iter().map(|e| (e.start_s, e.end_s)).collect();
        assert_eq!(
            spans,
            [
                (0.0, 30.0),
                (30.0, 90.0),
                (90.0, 120.0),
                (120.0, 135.5),
                (130.0, 140.0),
                (140.0, 142.5)
            ]
        );
        assert_eq!(s.events[1].class, EventClass::Stage(Stage::N2));
        assert_eq!(
            s.events[3].class,
            EventClass::Respiratory(RespKind::ObstructiveApnea)
        );
        assert_eq!(s.events[3].channel, "ABDO");
        assert_eq!(s.events[4].class, EventClass::Arousal);
        assert_eq!(s.events[5].channel, "left");
        let h = s.hypnogram().unwrap();
        assert_eq!(h.epochs.len(), 4);
        // Clock times need a start; bad fields are named.
        let e = read(&p, None).unwrap_err().to_string();
        assert!(
            e.contains("line 7, column start: clock time 23:02:00"),
            "{e}"
        );
        std::fs::write(&p, "W\t.\t.\tsoon\t30\n").unwrap();
        let e = read(&p, None).unwrap_err().to_string();
        assert!(e.contains("line 1, column start: \"soon\""), "{e}");
        std::fs::write(&p, "W 0 30\n").unwrap();
        let e = read(&p, None).unwrap_err().to_string();
        assert!(e.contains("line 1: 1 tab-separated field(s)"), "{e}");
    }
}
