//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crampscan::simulate::{simulate, Format, SimOptions};

/// Runs the crampscan binary.
pub fn crampscan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_crampscan"))
        .args(args)
        .output()
        .expect("run crampscan")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Writes `nights` short easy simulated nights into `dir`.
pub fn sim(
    dir: &Path,
    nights: usize,
    hours: f64,
    format: Format,
    seed: u64,
    prefix: &str,
) -> Vec<PathBuf> {
    simulate(&SimOptions {
        out_dir: dir.to_path_buf(),
        nights,
        hours,
        seed,
        format,
        prefix: prefix.into(),
        ..SimOptions::default()
    })
    .expect("simulate")
}

/// Rows of a CSV file as maps from column name to value.
pub fn read_table(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The shared data folder beside the repository, if present.
pub fn shared_data() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipped: ../shared/data is absent");
        None
    }
}
