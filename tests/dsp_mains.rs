//! Mains detection on simulated nights: 50 Hz, 60 Hz and no mains at all,
//! decided from the recording (`detector.mains = "auto"`, the default) and
//! reported in the night's result.

use crampscan::config::Config;
use crampscan::detect;
use crampscan::dsp::PlanCache;
use crampscan::night::{process_night, NightInput, NightResult};
use crampscan::simulate::{simulate, Format, SimOptions};

fn night_with_mains(mains_hz: Option<f64>, emg_fs_hz: f64, seed: u64) -> NightResult {
    let dir = tempfile::tempdir().unwrap();
    simulate(&SimOptions {
        out_dir: dir.path().to_path_buf(),
        hours: 0.07,
        seed,
        format: Format::Wav,
        emg_fs_hz,
        mains_hz,
        ..SimOptions::default()
    })
    .unwrap();
    let night = NightInput {
        id: "night01".into(),
        files: vec![
            dir.path().join("night01_acc.wav"),
            dir.path().join("night01_emg.wav"),
        ],
    };
    let cfg = Config::default();
    let plans = PlanCache::new();
    let det = detect::from_config(&cfg, &plans).unwrap();
    process_night(&night, &cfg, det.as_ref(), &plans).unwrap()
}

#[test]
fn mains_is_detected_at_50_hz_60_hz_and_not_without_hum() {
    for (mains, fs, seed) in [
        (Some(50.0), 1000.0, 3),
        (Some(60.0), 1000.0, 4),
        (Some(60.0), 500.0, 5),
        (Some(50.0), 256.0, 6),
        (None, 1000.0, 7),
        (None, 500.0, 8),
    ] {
        let r = night_with_mains(mains, fs, seed);
        assert_eq!(
            r.mains_hz,
            mains.map(|f| f as u32),
            "simulated mains {mains:?} at {fs} Hz: detected {:?}, ratios {:?}",
            r.mains_hz,
            r.channels
                .iter()
                .map(|c| (c.mains_ratio_50, c.mains_ratio_60))
                .collect::<Vec<_>>()
        );
        assert_eq!(r.mains_source, "auto");
    }
}
