//! Simulated cohorts with known effects (issue 19, `simulate --cohort`):
//! S subjects × N short nights, each night's cramp count drawn from a
//! stated Poisson rate model, with a diary (`diary.csv`), a manifest
//! giving the subjects (`manifest.csv`), a hypnogram per night in which
//! cramps are followed by awakenings (`<night>.hypnogram.csv`), and the
//! model and every draw in `cohort.json`.
//!
//! The rate model, cramps per hour of night `n` of subject `s`:
//!
//! ```text
//! λ = BASE_CRAMPS_PER_H · frailty_s · RR_EXERCISE^[exercise_min > 0]
//!     · RR_DIURETIC^[diuretic] · RR_MAGNESIUM^[magnesium_mg > 0]
//! ```
//!
//! with `ln frailty_s ~ Normal(0, FRAILTY_SDLOG)` and `arm` (A or B per
//! subject, half each) without effect. The night's cramps are
//! Poisson(λ · hours). Seeded (ChaCha8): the same seed gives the same bytes.

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate};

use super::night::{simulate_night_with, NightOverride};
use super::*;

/// Cramps per hour of a subject of frailty 1 on a night without any
/// exposure (high, so that short nights hold enough cramps).
pub const BASE_CRAMPS_PER_H: f64 = 1.5;
/// Rate ratio of a night after a day with exercise (`exercise_min > 0`).
pub const RR_EXERCISE: f64 = 2.0;
/// Rate ratio of a night on a diuretic (`diuretic` yes).
pub const RR_DIURETIC: f64 = 1.5;
/// Rate ratio of magnesium (`magnesium_mg > 0`): none, the null covariate.
pub const RR_MAGNESIUM: f64 = 1.0;
/// Share of days with exercise, of nights on a diuretic, of nights with
/// magnesium.
pub const P_EXERCISE: f64 = 0.5;
pub const P_DIURETIC: f64 = 0.4;
pub const P_MAGNESIUM: f64 = 0.5;
/// Magnesium dose on the nights it is taken, mg.
pub const MAGNESIUM_MG: f64 = 300.0;
/// Standard deviation of the subjects' log frailty.
pub const FRAILTY_SDLOG: f64 = 0.5;
/// Share of cramps followed by an awakening in the hypnogram.
pub const P_CRAMP_AWAKENING: f64 = 0.85;
/// Hypnogram epoch, s.
pub const EPOCH_S: f64 = 30.0;
/// Share of nights whose recording starts after midnight (00:05–01:30).
pub const P_AFTER_MIDNIGHT: f64 = 0.2;
/// The first night's date.
pub const FIRST_DATE: (i32, u32, u32) = (2026, 3, 2);
/// Cramp duration range of cohort nights, s (short, so that many fit).
pub const COHORT_CRAMP_S: (f64, f64) = (20.0, 40.0);
/// Room a cramp takes in the night's schedule, s: the schedule's 70 s lead
/// and 40 s tail around a cramp of up to 40 s, plus slack. At most
/// `duration / CRAMP_ROOM_S` cramps fit (11 in half an hour); a larger draw
/// is capped (rare at the default rates; `cohort.json` keeps both).
pub const CRAMP_ROOM_S: f64 = 155.0;

/// What `simulate --cohort` writes.
#[derive(Debug, Clone)]
pub struct CohortOptions {
    /// Per-night options (folder, hours, format, seed, rates of the rest).
    pub night: SimOptions,
    pub subjects: usize,
    /// Nights per subject.
    pub nights: usize,
}

/// One subject-night as drawn.
#[derive(Debug, Clone, PartialEq)]
struct Drawn {
    subject: String,
    night: String,
    date: NaiveDate,
    start: String,
    exercise_min: f64,
    diuretic: bool,
    magnesium_mg: f64,
    rate_per_h: f64,
    n_drawn: usize,
    n_cramps: usize,
}

/// Poisson draw by inversion (means here are below 20).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> usize {
    let (mut k, mut p) = (0usize, (-mean).exp());
    let (u, mut cdf) = (rng.random::<f64>(), p);
    while u > cdf && k < 1000 {
        k += 1;
        p *= mean / k as f64;
        cdf += p;
    }
    k
}

/// The cohort's draws: subjects (frailty, arm), then each night's diary
/// and count, from one stream.
fn draw(o: &CohortOptions) -> (Vec<(String, f64, &'static str)>, Vec<Drawn>) {
    let mut rng = ChaCha8Rng::seed_from_u64(o.night.seed.wrapping_mul(0xC0_4027).wrapping_add(19));
    let duration_s = o.night.hours * 3600.0;
    let fit = (duration_s / CRAMP_ROOM_S).floor() as usize;
    let first =
        NaiveDate::from_ymd_opt(FIRST_DATE.0, FIRST_DATE.1, FIRST_DATE.2).unwrap_or_default();
    let mut subjects = Vec::new();
    let mut nights = Vec::new();
    for s in 0..o.subjects {
        let id = format!("s{:02}", s + 1);
        let frailty = (FRAILTY_SDLOG * gauss(&mut rng)).exp();
        let arm = if s % 2 == 0 { "A" } else { "B" };
        for n in 0..o.nights {
            let exercise_min = if rng.random_bool(P_EXERCISE) {
                5.0 * rng.random_range(4..19u32) as f64
            } else {
                0.0
            };
            let diuretic = rng.random_bool(P_DIURETIC);
            let magnesium_mg = if rng.random_bool(P_MAGNESIUM) {
                MAGNESIUM_MG
            } else {
                0.0
            };
            let mut rate = BASE_CRAMPS_PER_H * frailty;
            if exercise_min > 0.0 {
                rate *= RR_EXERCISE;
            }
            if diuretic {
                rate *= RR_DIURETIC;
            }
            if magnesium_mg > 0.0 {
                rate *= RR_MAGNESIUM;
            }
            let n_drawn = poisson(&mut rng, rate * o.night.hours);
            let date = first + Duration::days(n as i64);
            let start = if rng.random_bool(P_AFTER_MIDNIGHT) {
                (date + Duration::days(1))
                    .and_hms_opt(0, 0, 0)
                    .unwrap_or_default()
                    + Duration::minutes(rng.random_range(5..90))
            } else {
                date.and_hms_opt(21, 30, 0).unwrap_or_default()
                    + Duration::minutes(rng.random_range(0..150))
            };
            nights.push(Drawn {
                subject: id.clone(),
                night: format!("{id}n{:02}", n + 1),
                date,
                start: start.format("%Y-%m-%dT%H:%M:%S").to_string(),
                exercise_min,
                diuretic,
                magnesium_mg,
                rate_per_h: rate,
                n_drawn,
                n_cramps: n_drawn.min(fit),
            });
        }
        subjects.push((id, frailty, arm));
    }
    (subjects, nights)
}

/// The night's hypnogram as `onset_s,duration_s,stage` runs: awake for the
/// first two epochs, then N2 with N3 and REM blocks; after a cramp, with
/// chance [`P_CRAMP_AWAKENING`], wake from an epoch 0–60 s after its onset
/// for 2–10 epochs.
fn hypnogram(rng: &mut ChaCha8Rng, duration_s: f64, cramps: &[f64]) -> String {
    let n = (duration_s / EPOCH_S).ceil() as usize;
    let cycle = ["N2", "N2", "N2", "N3", "N3", "N2", "N2", "R", "R", "N1"];
    let mut stages: Vec<&str> = (0..n)
        .map(|i| {
            if i < 2 {
                "W"
            } else {
                cycle[(i / 6) % cycle.len()]
            }
        })
        .collect();
    for &t in cramps {
        if !rng.random_bool(P_CRAMP_AWAKENING) {
            continue;
        }
        let from = ((t + rng.random_range(0.0..60.0)) / EPOCH_S) as usize;
        let len = rng.random_range(2..11usize);
        for st in stages.iter_mut().skip(from).take(len) {
            *st = "W";
        }
    }
    let mut out = String::from("onset_s,duration_s,stage\n");
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j < n && stages[j] == stages[i] {
            j += 1;
        }
        let end = (j as f64 * EPOCH_S).min(duration_s);
        let _ = writeln!(
            out,
            "{:.0},{:.0},{}",
            i as f64 * EPOCH_S,
            end - i as f64 * EPOCH_S,
            stages[i]
        );
        i = j;
    }
    out
}

/// Writes the cohort: each night's files (as `simulate` writes them, with
/// its own start time and exactly its drawn cramps) and hypnogram, then
/// `diary.csv`, `manifest.csv` and `cohort.json`. Returns the manifest.
pub fn simulate_cohort(o: &CohortOptions) -> Result<PathBuf> {
    let mut night = o.night.clone();
    night.cramp_s = COHORT_CRAMP_S;
    let o = &CohortOptions { night, ..o.clone() };
    o.night.validate()?;
    if o.subjects == 0 || o.nights == 0 {
        return Err(Error::Config(
            "--cohort needs --subjects and --nights of at least 1".into(),
        ));
    }
    let dir = &o.night.out_dir;
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    let (subjects, nights) = draw(o);
    let ext = match o.night.format {
        Format::Csv => "csv",
        Format::Wav => "wav",
        Format::Edf => "edf",
    };
    // Each night has its own streams (seeded by its index), so writing
    // them in parallel gives the same bytes as one after another.
    use rayon::prelude::*;
    nights
        .par_iter()
        .enumerate()
        .try_for_each(|(k, d)| write_cohort_night(&o.night, k, d))?;
    let mut manifest = String::from("night,files,subject\n");
    let mut diary = String::from("subject,date,exercise_min,diuretic,magnesium_mg,arm\n");
    for d in &nights {
        let files = if o.night.no_accel {
            format!("{0}_emg.{ext}", d.night)
        } else {
            format!("{0}_emg.{ext};{0}_acc.{ext}", d.night)
        };
        let _ = writeln!(manifest, "{},{files},{}", d.night, d.subject);
        let arm = subjects
            .iter()
            .find(|s| s.0 == d.subject)
            .map_or("A", |s| s.2);
        let _ = writeln!(
            diary,
            "{},{},{},{},{},{arm}",
            d.subject,
            d.date,
            d.exercise_min,
            if d.diuretic { "yes" } else { "no" },
            d.magnesium_mg
        );
    }
    write_text(&dir.join("diary.csv"), &diary)?;
    let manifest_path = dir.join("manifest.csv");
    write_text(&manifest_path, &manifest)?;
    write_text(&dir.join("cohort.json"), &model_json(o, &subjects, &nights))?;
    Ok(manifest_path)
}

/// The cohort's subject-nights as drawn, without writing a file: counts
/// (after the cap), the night's hours as exposure, and the diary's
/// covariates. What a perfect detector would hand `crampscan cohort`, for
/// testing the statistics on many cohorts quickly.
pub fn drawn_table(o: &CohortOptions) -> crate::cohort::CohortTable {
    use crate::diary::{Covariate, CovariateKind, Value};
    let (subjects, nights) = draw(o);
    let cov = |name: &str, kind| Covariate {
        name: name.into(),
        header: name.into(),
        kind,
    };
    let covariates = vec![
        cov("exercise_min", CovariateKind::Number),
        cov("diuretic", CovariateKind::YesNo),
        cov("magnesium_mg", CovariateKind::Number),
        cov("arm", CovariateKind::Category),
    ];
    let nights = nights
        .iter()
        .map(|d| {
            let arm = subjects
                .iter()
                .find(|s| s.0 == d.subject)
                .map_or("A", |s| s.2);
            crate::cohort::CohortNight {
                subject: d.subject.clone(),
                night: d.night.clone(),
                date: Some(d.date),
                exposure_h: o.night.hours,
                n_cramps: d.n_cramps,
                cramp_total_s: 0.0,
                sleep_h: None,
                cramp_wake_min: None,
                n_cramp_awakenings: None,
                values: vec![
                    Value::Number(d.exercise_min),
                    Value::YesNo(d.diuretic),
                    Value::Number(d.magnesium_mg),
                    Value::Category(arm.into()),
                ],
                cells: vec![
                    d.exercise_min.to_string(),
                    if d.diuretic { "yes" } else { "no" }.into(),
                    d.magnesium_mg.to_string(),
                    arm.into(),
                ],
            }
        })
        .collect();
    crate::cohort::CohortTable { covariates, nights }
}

/// Night `k` of the cohort: its files, with exactly its drawn cramps, and
/// its hypnogram.
fn write_cohort_night(opts: &SimOptions, k: usize, d: &Drawn) -> Result<()> {
    let ov = NightOverride {
        id: d.night.clone(),
        start: d.start.clone(),
        n_cramps: d.n_cramps,
    };
    let (_, events) = simulate_night_with(opts, k, Some(&ov))?;
    let cramps: Vec<f64> = events
        .iter()
        .filter(|e| e.kind == EpisodeKind::Cramp)
        .map(|e| e.start_s)
        .collect();
    let mut rng =
        ChaCha8Rng::seed_from_u64(opts.seed.wrapping_mul(0x4859_504E).wrapping_add(k as u64));
    write_text(
        &opts.out_dir.join(format!("{}.hypnogram.csv", d.night)),
        &hypnogram(&mut rng, opts.hours * 3600.0, &cramps),
    )
}

/// `cohort.json`: the model, its constants and every draw.
fn model_json(o: &CohortOptions, subjects: &[(String, f64, &str)], nights: &[Drawn]) -> String {
    let v = serde_json::json!({
        "model": "cramps per night ~ Poisson(hours * base_cramps_per_h * frailty * rr_exercise^[exercise_min>0] * rr_diuretic^[diuretic] * rr_magnesium^[magnesium_mg>0]); ln frailty ~ Normal(0, frailty_sdlog); arm has no effect",
        "seed": o.night.seed,
        "subjects": o.subjects,
        "nights_per_subject": o.nights,
        "hours": o.night.hours,
        "base_cramps_per_h": BASE_CRAMPS_PER_H,
        "frailty_sdlog": FRAILTY_SDLOG,
        "rate_ratios": {
            "exercise_min": RR_EXERCISE,
            "diuretic": RR_DIURETIC,
            "magnesium_mg": RR_MAGNESIUM,
            "arm": 1.0,
        },
        "p_cramp_awakening": P_CRAMP_AWAKENING,
        "subject_draws": subjects.iter().map(|(s, f, a)| serde_json::json!({
            "subject": s, "frailty": f, "arm": a,
        })).collect::<Vec<_>>(),
        "night_draws": nights.iter().map(|d| serde_json::json!({
            "night": d.night, "subject": d.subject, "date": d.date.to_string(),
            "start": d.start, "rate_per_h": d.rate_per_h,
            "n_cramps_drawn": d.n_drawn, "n_cramps": d.n_cramps,
        })).collect::<Vec<_>>(),
    });
    let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypnogram_runs_cover_the_night_and_wake_follows_cramps() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let h = hypnogram(&mut rng, 1800.0, &[600.0]);
        let rows: Vec<Vec<&str>> = h.lines().skip(1).map(|l| l.split(',').collect()).collect();
        let total: f64 = rows.iter().map(|r| r[1].parse::<f64>().unwrap()).sum();
        assert_eq!(total, 1800.0);
        assert_eq!(rows[0], ["0", "60", "W"]);
        let draws = draw(&CohortOptions {
            night: SimOptions {
                hours: 0.5,
                ..SimOptions::default()
            },
            subjects: 3,
            nights: 4,
        });
        assert_eq!(draws.1.len(), 12);
        assert_eq!(draws.1[5].night, "s02n02");
        assert_eq!(
            draws,
            draw(&CohortOptions {
                night: SimOptions {
                    hours: 0.5,
                    ..SimOptions::default()
                },
                subjects: 3,
                nights: 4,
            })
        );
    }
}
