//! Figures per simulated family (issue 15): event-level metrics per family
//! and kind, the worst family per kind, and the share of body movements
//! reported as a cramp. A night's family comes from `<night>.sim.json`
//! beside its truth file (written by `crampscan simulate --family`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::{metrics, Event, KindMetrics};
use crate::error::{Error, Result};

/// Kinds reported per family, in table order.
pub const FAMILY_KINDS: &[&str] = &["cramp", "lm", "movement"];

/// Pseudo-kind of the worst row for body movements reported as a cramp.
pub const AS_CRAMP_KIND: &str = "body_movement_as_cramp";

/// One family's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyMetrics {
    pub family: String,
    pub n_nights: usize,
    /// Per kind over the family's nights (kinds with truth or detections).
    pub kinds: Vec<KindMetrics>,
    /// Truth body movements: `movement` rows of one night overlapping in
    /// time, whatever their channel, count as one movement (one row per leg).
    pub body_movements: usize,
    /// Of them, those that a reported cramp overlaps on one of its rows'
    /// channels (the target is none).
    pub body_movements_as_cramp: usize,
}

impl FamilyMetrics {
    /// The figures of one kind, if it occurred.
    pub fn kind(&self, kind: &str) -> Option<&KindMetrics> {
        self.kinds.iter().find(|k| k.kind == kind)
    }

    /// Share of body movements not reported as a cramp; `None` without any.
    pub fn not_cramp_share(&self) -> Option<f64> {
        (self.body_movements > 0)
            .then(|| 1.0 - self.body_movements_as_cramp as f64 / self.body_movements as f64)
    }
}

/// The worst family of one kind: lowest F1, or for [`AS_CRAMP_KIND`] the
/// lowest share of body movements not reported as a cramp.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorstFamily {
    pub kind: String,
    pub family: String,
    pub value: f64,
}

/// Body movements of `truth` (see [`FamilyMetrics::body_movements`]) and
/// how many of them a reported cramp of `pred` overlaps.
pub fn body_movements_as_cramp(truth: &[Event], pred: &[Event]) -> (usize, usize) {
    let mut rows: Vec<&Event> = truth.iter().filter(|e| e.kind == "movement").collect();
    rows.sort_by(|a, b| a.night.cmp(&b.night).then(a.start_s.total_cmp(&b.start_s)));
    let mut groups: Vec<Vec<&Event>> = Vec::new();
    for r in rows {
        match groups.last_mut() {
            Some(g) if g[0].night == r.night && g.iter().any(|o| r.start_s < o.end_s) => g.push(r),
            _ => groups.push(vec![r]),
        }
    }
    let as_cramp = groups
        .iter()
        .filter(|g| {
            g.iter().any(|t| {
                pred.iter().any(|p| {
                    p.kind == "cramp"
                        && p.night == t.night
                        && (t.channel.is_empty() || t.channel == p.channel)
                        && p.start_s < t.end_s
                        && p.end_s > t.start_s
                })
            })
        })
        .count();
    (groups.len(), as_cramp)
}

/// Figures per family: `families` maps a night to its family; nights
/// without one are left out. Families in name order.
pub fn family_metrics(
    truth: &[Event],
    pred: &[Event],
    iou_min: f64,
    families: &BTreeMap<String, String>,
) -> Vec<FamilyMetrics> {
    let mut names: Vec<&String> = families.values().collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|fam| {
            let of = |e: &&Event| families.get(&e.night) == Some(fam);
            let t: Vec<Event> = truth.iter().filter(of).cloned().collect();
            let p: Vec<Event> = pred.iter().filter(of).cloned().collect();
            let (body_movements, body_movements_as_cramp) = body_movements_as_cramp(&t, &p);
            FamilyMetrics {
                family: fam.clone(),
                n_nights: families.values().filter(|f| *f == fam).count(),
                kinds: metrics(&t, &p, iou_min),
                body_movements,
                body_movements_as_cramp,
            }
        })
        .collect()
}

/// The worst family of each of [`FAMILY_KINDS`] (among families with truth
/// events of the kind) and of [`AS_CRAMP_KIND`]; ties go to the first in
/// name order.
pub fn worst_families(fams: &[FamilyMetrics]) -> Vec<WorstFamily> {
    let mut out = Vec::new();
    let mut push = |kind: &str, it: Vec<(&str, f64)>| {
        let worst = it
            .into_iter()
            .fold(None, |w: Option<(&str, f64)>, x| match w {
                Some(w) if w.1 <= x.1 => Some(w),
                _ => Some(x),
            });
        if let Some((family, value)) = worst {
            out.push(WorstFamily {
                kind: kind.to_string(),
                family: family.to_string(),
                value,
            });
        }
    };
    for &k in FAMILY_KINDS {
        let v = fams
            .iter()
            .filter_map(|f| {
                f.kind(k)
                    .filter(|m| m.n_truth > 0)
                    .map(|m| (f.family.as_str(), m.f1))
            })
            .collect();
        push(k, v);
    }
    let v = fams
        .iter()
        .filter_map(|f| f.not_cramp_share().map(|s| (f.family.as_str(), s)))
        .collect();
    push(AS_CRAMP_KIND, v);
    out
}

/// `families.csv`: one row per family and kind, then one `worst` row per
/// kind naming its family in `worst_of`. The body-movement columns repeat
/// on each of a family's rows; `not_cramp_share` is empty without any.
pub fn families_csv(fams: &[FamilyMetrics], worst: &[WorstFamily]) -> String {
    let mut t = String::from(
        "family,n_nights,kind,n_truth,n_pred,tp,precision,recall,f1,body_movements,body_movements_as_cramp,not_cramp_share,worst_of\n",
    );
    let share = |f: &FamilyMetrics| {
        f.not_cramp_share()
            .map(|s| format!("{s:.3}"))
            .unwrap_or_default()
    };
    let find = |name: &str| fams.iter().find(|f| f.family == name);
    // One row: the lead cell (family or `worst`), the kind's figures
    // (empty without any), the body-movement columns and `worst_of`.
    let row = |lead: &str, f: &FamilyMetrics, kind: &str, k: Option<&KindMetrics>, of: &str| {
        let figures = k.map_or_else(
            || ",,,,,".to_string(),
            |k| {
                let p = k.precision.map(|p| format!("{p:.3}")).unwrap_or_default();
                format!(
                    "{},{},{},{p},{:.3},{:.3}",
                    k.n_truth, k.n_pred, k.tp, k.recall, k.f1
                )
            },
        );
        format!(
            "{lead},{},{kind},{figures},{},{},{},{of}\n",
            f.n_nights,
            f.body_movements,
            f.body_movements_as_cramp,
            share(f)
        )
    };
    for f in fams {
        for k in &f.kinds {
            t.push_str(&row(&f.family, f, &k.kind, Some(k), ""));
        }
    }
    for w in worst {
        let Some(f) = find(&w.family) else { continue };
        t.push_str(&row("worst", f, &w.kind, f.kind(&w.kind), &f.family));
    }
    t
}

/// The per-family figures as a Markdown table (printed by `evaluate` and
/// `bench-detectors`): F1 (precision/recall) per kind and body movements
/// not reported as cramp, then the worst family of each column.
pub fn families_markdown(fams: &[FamilyMetrics], worst: &[WorstFamily]) -> String {
    let cell = |f: &FamilyMetrics, k: &str| match f.kind(k) {
        Some(m) if m.n_truth > 0 || m.n_pred > 0 => format!(
            "{:.3} ({}/{:.2}, n={})",
            m.f1,
            m.precision.map_or("n/a".to_string(), |p| format!("{p:.2}")),
            m.recall,
            m.n_truth
        ),
        _ => "–".to_string(),
    };
    let bm = |f: &FamilyMetrics| match f.not_cramp_share() {
        Some(s) => format!(
            "{:.1} % ({} of {})",
            100.0 * s,
            f.body_movements - f.body_movements_as_cramp,
            f.body_movements
        ),
        None => "–".to_string(),
    };
    let mut t = String::from(
        "| family | nights | cramp F1 (P/R) | LM F1 (P/R) | movement F1 (P/R) | body movements not cramp |\n|---|---|---|---|---|---|\n",
    );
    for f in fams {
        t.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            f.family,
            f.n_nights,
            cell(f, "cramp"),
            cell(f, "lm"),
            cell(f, "movement"),
            bm(f)
        ));
    }
    let w = |k: &str| {
        worst
            .iter()
            .find(|w| w.kind == k)
            .map_or("–".to_string(), |w| {
                if k == AS_CRAMP_KIND {
                    format!("{:.1} % ({})", 100.0 * w.value, w.family)
                } else {
                    format!("{:.3} ({})", w.value, w.family)
                }
            })
    };
    t.push_str(&format!(
        "| **worst** | | {} | {} | {} | {} |\n",
        w("cramp"),
        w("lm"),
        w("movement"),
        w(AS_CRAMP_KIND)
    ));
    t
}

/// Families of the nights of a truth path: `<night>.sim.json` files in the
/// folder, or the one beside a `<night>.truth.csv` file. Empty when none.
pub fn read_families(truth: &Path) -> Result<BTreeMap<String, String>> {
    let files: Vec<std::path::PathBuf> = if truth.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(truth)
            .map_err(|e| Error::input(truth, format!("cannot list the folder: {e}")))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.to_string_lossy().ends_with(".sim.json"))
            .collect();
        v.sort();
        v
    } else {
        let name = truth.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match name.strip_suffix(".truth.csv") {
            Some(stem) => vec![truth.with_file_name(format!("{stem}.sim.json"))]
                .into_iter()
                .filter(|p| p.exists())
                .collect(),
            None => Vec::new(),
        }
    };
    let mut out = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| Error::input(&f, e.to_string()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::input(&f, format!("line {}: {e}", e.line())))?;
        let (Some(night), Some(family)) = (v["night"].as_str(), v["family"].as_str()) else {
            return Err(Error::input(
                &f,
                "expected string fields \"night\" and \"family\"",
            ));
        };
        out.insert(night.to_string(), family.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(night: &str, ch: &str, kind: &str, s: f64, e: f64) -> Event {
        Event {
            night: night.into(),
            channel: ch.into(),
            kind: kind.into(),
            start_s: s,
            end_s: e,
        }
    }

    #[test]
    fn per_family_table_on_a_hand_made_pair() {
        // Night a (family x): two cramps, one found; one body movement
        // (two legs) reported as a cramp on the right leg; two LMs found.
        // Night b (family y): one cramp found, two body movements, neither
        // a cramp; one LM missed, one false LM.
        let truth = vec![
            ev("a", "L", "cramp", 100.0, 130.0),
            ev("a", "R", "cramp", 300.0, 340.0),
            ev("a", "L", "movement", 500.0, 520.0),
            ev("a", "R", "movement", 501.0, 521.0),
            ev("a", "L", "lm", 600.0, 602.0),
            ev("a", "L", "lm", 620.0, 622.0),
            ev("b", "L", "cramp", 100.0, 150.0),
            ev("b", "L", "movement", 400.0, 410.0),
            ev("b", "R", "movement", 401.5, 411.0),
            ev("b", "L", "movement", 700.0, 730.0),
            ev("b", "R", "movement", 699.0, 729.0),
            ev("b", "R", "lm", 900.0, 902.0),
        ];
        let pred = vec![
            ev("a", "L", "cramp", 101.0, 129.0),
            ev("a", "R", "cramp", 502.0, 520.0),
            ev("a", "L", "movement", 500.0, 520.0),
            ev("a", "L", "lm", 600.0, 602.0),
            ev("a", "L", "lm", 620.1, 622.0),
            ev("b", "L", "cramp", 100.5, 149.0),
            ev("b", "L", "movement", 400.0, 410.0),
            ev("b", "R", "movement", 401.5, 411.0),
            ev("b", "L", "movement", 700.0, 730.0),
            ev("b", "R", "movement", 699.0, 729.0),
            ev("b", "L", "lm", 950.0, 952.0),
            // A night without a family is left out.
            ev("c", "L", "cramp", 1.0, 30.0),
        ];
        let fams = BTreeMap::from([
            ("a".to_string(), "x".to_string()),
            ("b".to_string(), "y".to_string()),
        ]);
        let f = family_metrics(&truth, &pred, 0.2, &fams);
        assert_eq!(f.len(), 2);
        let (x, y) = (&f[0], &f[1]);
        assert_eq!((x.family.as_str(), x.n_nights), ("x", 1));
        let c = x.kind("cramp").unwrap();
        assert_eq!((c.n_truth, c.n_pred, c.tp), (2, 2, 1));
        assert!((c.f1 - 0.5).abs() < 1e-12);
        assert_eq!((x.body_movements, x.body_movements_as_cramp), (1, 1));
        assert_eq!(x.not_cramp_share(), Some(0.0));
        assert_eq!(x.kind("lm").unwrap().f1, 1.0);
        let m = x.kind("movement").unwrap();
        assert_eq!((m.n_truth, m.tp), (2, 1));
        assert_eq!(y.kind("cramp").unwrap().f1, 1.0);
        assert_eq!((y.body_movements, y.body_movements_as_cramp), (2, 0));
        assert_eq!(y.kind("lm").unwrap().f1, 0.0);
        let w = worst_families(&f);
        let find = |k: &str| w.iter().find(|w| w.kind == k).unwrap();
        assert_eq!(
            (find("cramp").family.as_str(), find("cramp").value),
            ("x", 0.5)
        );
        assert_eq!((find("lm").family.as_str(), find("lm").value), ("y", 0.0));
        assert_eq!(find(AS_CRAMP_KIND).family, "x");
        // movement: x has F1 2/3 (1 of 2 truth, 1 of 1 pred), y 1.0.
        assert_eq!(find("movement").family, "x");
        let csv = families_csv(&f, &w);
        assert!(
            csv.contains("\nx,1,cramp,2,2,1,0.500,0.500,0.500,1,1,0.000,\n"),
            "{csv}"
        );
        assert!(
            csv.contains("\ny,1,lm,1,1,0,0.000,0.000,0.000,2,0,1.000,\n"),
            "{csv}"
        );
        assert!(
            csv.contains("\nworst,1,cramp,2,2,1,0.500,0.500,0.500,1,1,0.000,x\n"),
            "{csv}"
        );
        assert!(
            csv.contains("\nworst,1,body_movement_as_cramp,,,,,,,1,1,0.000,x\n"),
            "{csv}"
        );
        let md = families_markdown(&f, &w);
        assert!(
            md.contains("| y | 1 | 1.000 (1.00/1.00, n=1) | 0.000 (0.00/0.00, n=1) |"),
            "{md}"
        );
        assert!(
            md.contains("| **worst** | | 0.500 (x) | 0.000 (y) | 0.667 (x) | 0.0 % (x) |"),
            "{md}"
        );
    }

    #[test]
    fn families_are_read_from_sim_json_beside_the_truth() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path();
        std::fs::write(p.join("n01.truth.csv"), "channel,kind,start_s,end_s\n").unwrap();
        std::fs::write(
            p.join("n01.sim.json"),
            "{\"night\": \"n01\", \"family\": \"bm-ramped\"}\n",
        )
        .unwrap();
        std::fs::write(p.join("n02.truth.csv"), "channel,kind,start_s,end_s\n").unwrap();
        let all = read_families(p).unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all["n01"], "bm-ramped");
        assert_eq!(read_families(&p.join("n01.truth.csv")).unwrap().len(), 1);
        assert!(read_families(&p.join("n02.truth.csv")).unwrap().is_empty());
        std::fs::write(p.join("n03.sim.json"), "{\"night\": 3}").unwrap();
        let err = read_families(p).unwrap_err().to_string();
        assert!(err.contains("n03.sim.json"), "{err}");
    }
}
