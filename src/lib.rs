//! crampscan: find nocturnal leg cramps and leg-movement episodes in
//! overnight EMG and accelerometer recordings.
//!
//! Data flows one way: [`io`] reads files into blocks of physical samples,
//! [`detect`] turns each EMG channel into a per-window activity series and
//! episodes, [`score`] classifies them and computes the night's figures,
//! [`summary`] holds each night's results, [`export`] writes every file of
//! the output folder, and [`batch`] runs many nights in
//! parallel. [`night`] wires the stages for one night.

pub mod batch;
pub mod cohort;
pub mod config;
pub mod detect;
pub mod diary;
pub mod dsp;
pub mod error;
pub mod eval;
pub mod export;
pub mod inspect;
pub mod io;
pub mod night;
#[cfg(feature = "python")]
pub mod python;
pub mod quality;
pub mod recording;
pub mod report;
pub mod score;
pub mod simulate;
pub mod summary;

pub use config::Config;
pub use error::{Error, Result};
