//! Robust statistics on small buffers.

/// The `p`-th percentile (0–100, nearest rank on the sorted values) of
/// `values`, reordering them in place; `None` when empty.
pub fn percentile_in_place(values: &mut [f32], p: f64) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let k = percentile_rank(values.len(), p);
    let (_, v, _) = values.select_nth_unstable_by(k, f32::total_cmp);
    Some(*v)
}

/// The element (from 0, in order) that is the `p`-th percentile of `n > 0`
/// values by nearest rank.
fn percentile_rank(n: usize, p: f64) -> usize {
    (((p / 100.0) * (n - 1) as f64).round() as usize).min(n - 1)
}

/// The values of a sliding window kept in `f32::total_cmp` order, for
/// running order statistics: a step costs a search and a shift of the
/// window, not a selection.
#[derive(Debug, Clone, Default)]
pub struct SortedWindow {
    sorted: Vec<f32>,
    non_finite: usize,
}

impl SortedWindow {
    pub fn new() -> SortedWindow {
        SortedWindow::default()
    }

    pub fn insert(&mut self, v: f32) {
        let i = self.sorted.partition_point(|u| u.total_cmp(&v).is_lt());
        self.sorted.insert(i, v);
        self.non_finite += !v.is_finite() as usize;
    }

    /// Takes out one value with the bits of `v` (nothing if none is held).
    pub fn remove(&mut self, v: f32) {
        let i = self.sorted.partition_point(|u| u.total_cmp(&v).is_lt());
        if self
            .sorted
            .get(i)
            .is_some_and(|u| u.to_bits() == v.to_bits())
        {
            self.sorted.remove(i);
            self.non_finite -= !v.is_finite() as usize;
        }
    }

    /// What [`percentile_in_place`] gives for the held values, or `None`
    /// when empty or when any of them is not finite.
    pub fn finite_percentile(&self, p: f64) -> Option<f32> {
        if self.sorted.is_empty() || self.non_finite > 0 {
            return None;
        }
        Some(self.sorted[percentile_rank(self.sorted.len(), p)])
    }
}

/// Median of `values` (copied); `None` when empty.
pub fn median(values: &[f32]) -> Option<f32> {
    let mut v = values.to_vec();
    percentile_in_place(&mut v, 50.0)
}

/// The `k`-th smallest (from 0, in `f32::total_cmp` order) of the values
/// that `replay` produces, without holding them: a 16-bit radix select,
/// so `replay` runs twice. `k` must be below the number of values.
pub fn kth_smallest_of(k: usize, replay: impl Fn(&mut dyn FnMut(f32))) -> f32 {
    // Unsigned keys in total_cmp order: flip all bits of negatives, the
    // sign bit of the rest.
    let key = |v: f32| {
        let b = v.to_bits();
        if b >> 31 == 1 {
            !b
        } else {
            b | 0x8000_0000
        }
    };
    let mut counts = vec![0usize; 1 << 16];
    replay(&mut |v| counts[(key(v) >> 16) as usize] += 1);
    let (mut high, mut rank) = (0usize, k);
    while rank >= counts[high] {
        rank -= counts[high];
        high += 1;
    }
    counts.fill(0);
    replay(&mut |v| {
        let k = key(v);
        if (k >> 16) as usize == high {
            counts[(k & 0xffff) as usize] += 1;
        }
    });
    let mut low = 0usize;
    while rank >= counts[low] {
        rank -= counts[low];
        low += 1;
    }
    let k = ((high as u32) << 16) | low as u32;
    let bits = if k >> 31 == 1 { k & 0x7fff_ffff } else { !k };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A sliding window's percentile is, bit for bit, the selection over
    /// the same values (ties, signed zeros; non-finite values give None).
    #[test]
    fn sorted_window_matches_selection() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        let x: Vec<f32> = (0..5000)
            .map(|i| match rng.random_range(0..40) {
                0 => f32::NAN,
                1 => -0.0,
                2 => 0.0,
                3 => 1.0,
                _ => rng.random_range(0.0..10.0f32) * (i % 7) as f32,
            })
            .collect();
        for w in [1, 10, 21] {
            let mut win = SortedWindow::new();
            for (i, &v) in x.iter().enumerate() {
                win.insert(v);
                if i >= w {
                    win.remove(x[i - w]);
                }
                if i + 1 >= w {
                    let held = &x[i + 1 - w..=i];
                    let want = if held.iter().all(|v| v.is_finite()) {
                        percentile_in_place(&mut held.to_vec(), 50.0)
                    } else {
                        None
                    };
                    let got = win.finite_percentile(50.0);
                    assert_eq!(got.map(f32::to_bits), want.map(f32::to_bits), "w {w} i {i}");
                }
            }
        }
    }

    #[test]
    fn percentiles_of_known_sets() {
        let mut v: Vec<f32> = (0..=100).rev().map(|x| x as f32).collect();
        assert_eq!(percentile_in_place(&mut v, 10.0), Some(10.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn radix_select_matches_sorting() {
        let mut state = 7u64;
        let values: Vec<f32> = (0..5001)
            .map(|i| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
                let x = ((state >> 40) as f32 / (1u64 << 24) as f32 - 0.3) * 50.0;
                // Repeats, negatives, zeros of both signs.
                match i % 7 {
                    0 => 2.5,
                    1 => -0.0,
                    2 => 0.0,
                    _ => x,
                }
            })
            .collect();
        let mut sorted = values.clone();
        sorted.sort_by(f32::total_cmp);
        for k in [0, 1, 700, 2500, 4999, 5000] {
            let got = kth_smallest_of(k, |f| values.iter().for_each(|&v| f(v)));
            assert_eq!(got.to_bits(), sorted[k].to_bits(), "k={k}");
        }
    }
}
