//! Robust statistics on small buffers.

/// The `p`-th percentile (0–100, nearest rank on the sorted values) of
/// `values`, reordering them in place; `None` when empty.
pub fn percentile_in_place(values: &mut [f32], p: f64) -> Option<f32> {
    if values.is_empty() {
        return None;
    }
    let k = ((p / 100.0) * (values.len() - 1) as f64).round() as usize;
    let k = k.min(values.len() - 1);
    let (_, v, _) = values.select_nth_unstable_by(k, f32::total_cmp);
    Some(*v)
}

/// Median of `values` (copied); `None` when empty.
pub fn median(values: &[f32]) -> Option<f32> {
    let mut v = values.to_vec();
    percentile_in_place(&mut v, 50.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_known_sets() {
        let mut v: Vec<f32> = (0..=100).rev().map(|x| x as f32).collect();
        assert_eq!(percentile_in_place(&mut v, 10.0), Some(10.0));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[]), None);
    }
}
