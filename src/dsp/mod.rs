//! Signal processing building blocks: windows, real-FFT band power,
//! mains detection, IIR design and filtering (second-order sections, as
//! scipy), Welch spectra and spectral features, robust statistics.

pub mod band;
pub mod design;
pub mod enmo;
pub mod filter;
pub mod mains;
pub mod spectral;
pub mod stats;
pub mod stretch;
pub mod window;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use realfft::{RealFftPlanner, RealToComplex};

/// Forward real-FFT plans shared by every thread: planning happens once per
/// length, execution uses per-caller buffers.
#[derive(Default, Clone)]
pub struct PlanCache {
    inner: Arc<Mutex<Planner>>,
}

/// The planner and the plans it made, by length.
type Planner = (
    RealFftPlanner<f32>,
    HashMap<usize, Arc<dyn RealToComplex<f32>>>,
);

impl PlanCache {
    pub fn new() -> PlanCache {
        PlanCache::default()
    }

    /// The forward plan for length `n`, planned on first use.
    pub fn forward(&self, n: usize) -> Arc<dyn RealToComplex<f32>> {
        let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let (planner, plans) = &mut *guard;
        plans
            .entry(n)
            .or_insert_with(|| planner.plan_fft_forward(n))
            .clone()
    }
}
