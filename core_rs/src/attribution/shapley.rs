//! Shapley-value attribution over channel coalitions.
//!
//! Two models:
//!
//! * `shapley`, the simplified Shapley value of Zhao, Mahboobi & Bagheri
//!   (2018), the method Google Ads Data Hub uses. With `R(S)` the conversions
//!   whose path touched exactly the channel set `S`, the game
//!   `v(S) = Σ_{T ⊆ S} R(T)` has the closed-form Shapley value
//!   `φ_j = Σ_{S ∋ j} R(S) / |S|`: each conversion is split equally over the
//!   distinct channels of its path. The engine applies exactly that per
//!   order (then splits a channel's share equally over its touches), so it
//!   needs no global pass and scales to any channel count.
//!   [`simplified_shapley`] gives the channel totals; a test checks them
//!   against [`shapley_values`] on the same game.
//! * `shapley_exact`, the exact Shapley value of a conversion-rate game,
//!   which unlike the one above also learns from non-converting paths: with
//!   `conv(T)` and `paths(T)` the converting and all paths whose channel set
//!   is exactly `T`, `v(S) = Σ_{T⊆S} conv(T) / Σ_{T⊆S} paths(T)` (the
//!   conversion rate of journeys confined to `S`; 0 when there are none).
//!   Values are computed over all `2^n` coalitions (O(n·2^n)), clipped at 0
//!   (this game is not monotone, so a channel whose journeys convert worse
//!   than average can come out negative), and used as weights: each order
//!   is split over the distinct channels of its path in proportion to them.

use super::hashing::{fx_map, FxMap};
use crate::error::{CoreError, CoreResult};

/// Exact Shapley values of an `n`-player game given as `v[mask]` for every
/// coalition `mask < 2^n` (bit `i` = player `i`). Efficiency holds:
/// the values sum to `v[all] - v[∅]`.
pub fn shapley_values(n: usize, v: &[f64]) -> Vec<f64> {
    assert_eq!(v.len(), 1usize << n, "v must have 2^n entries");
    // Weight of a coalition of size s not containing i: s! (n-s-1)! / n!
    // = 1 / (n * C(n-1, s)).
    let mut weight = vec![0.0; n.max(1)];
    let mut binom = 1.0f64;
    for (s, w) in weight.iter_mut().enumerate().take(n) {
        *w = 1.0 / (n as f64 * binom);
        binom = binom * (n - 1 - s) as f64 / (s + 1) as f64;
    }
    let mut phi = vec![0.0; n];
    for mask in 0..v.len() {
        let w = weight[(mask.count_ones() as usize).min(n.saturating_sub(1))];
        for (i, p) in phi.iter_mut().enumerate() {
            if mask & (1 << i) == 0 {
                *p += w * (v[mask | (1 << i)] - v[mask]);
            }
        }
    }
    phi
}

/// Channel totals of the simplified Shapley value: each (channel set,
/// conversions) splits its conversions equally over its distinct channels.
/// Returns (channel, value) by ascending channel.
pub fn simplified_shapley<'s>(sets: impl IntoIterator<Item = (&'s [u32], f64)>) -> Vec<(u32, f64)> {
    let mut totals: Vec<(u32, f64)> = Vec::new();
    for (set, conversions) in sets {
        let mut s = set.to_vec();
        s.sort_unstable();
        s.dedup();
        for &c in &s {
            let share = conversions / s.len() as f64;
            match totals.binary_search_by_key(&c, |e| e.0) {
                Ok(i) => totals[i].1 += share,
                Err(i) => totals.insert(i, (c, share)),
            }
        }
    }
    totals
}

/// Paths per exact channel set, mergeable across chunks.
#[derive(Debug, Clone, Default)]
pub(crate) struct CoalitionCounts {
    /// Sorted distinct channel codes → (converting paths, all paths).
    map: FxMap<Vec<u32>, (u64, u64)>,
    buf: Vec<u32>,
}

impl CoalitionCounts {
    pub(crate) fn new() -> Self {
        CoalitionCounts {
            map: fx_map(64),
            buf: Vec::new(),
        }
    }

    /// Count one path.
    pub(crate) fn add_path(&mut self, channels: impl IntoIterator<Item = u32>, converted: bool) {
        self.buf.clear();
        self.buf.extend(channels);
        if self.buf.is_empty() {
            return;
        }
        self.buf.sort_unstable();
        self.buf.dedup();
        let e = match self.map.get_mut(self.buf.as_slice()) {
            Some(e) => e,
            None => self.map.entry(self.buf.clone()).or_insert((0, 0)),
        };
        e.0 += converted as u64;
        e.1 += 1;
    }

    /// Add another chunk's counts.
    pub(crate) fn merge(&mut self, other: CoalitionCounts) {
        for (k, (c, t)) in other.map {
            let e = self.map.entry(k).or_insert((0, 0));
            e.0 += c;
            e.1 += t;
        }
    }

    /// (channel set, converting paths, all paths) for every observed set.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&[u32], u64, u64)> {
        self.map.iter().map(|(k, &(c, t))| (k.as_slice(), c, t))
    }
}

/// Shapley values of the conversion-rate game (see the module docs), clipped
/// at 0, by ascending channel. `sets` are (channel set, converting paths,
/// all paths); at most `max_channels` distinct channels.
pub fn conversion_rate_shapley<'s>(
    sets: impl IntoIterator<Item = (&'s [u32], u64, u64)>,
    max_channels: usize,
) -> CoreResult<Vec<(u32, f64)>> {
    let sets: Vec<(&[u32], u64, u64)> = sets.into_iter().collect();
    let mut channels: Vec<u32> = sets.iter().flat_map(|s| s.0.iter().copied()).collect();
    channels.sort_unstable();
    channels.dedup();
    let n = channels.len();
    if n > max_channels {
        return Err(CoreError::LimitExceeded(format!(
            "shapley_exact over {n} channels exceeds max_exact_shapley_channels = {max_channels} \
             (2^n coalitions): use the simplified `shapley` model or a coarser channel column"
        )));
    }
    let full = 1usize << n;
    let mut conv = vec![0u64; full];
    let mut paths = vec![0u64; full];
    for (set, c, t) in &sets {
        let mask = set.iter().fold(0usize, |m, ch| {
            m | 1 << channels.binary_search(ch).unwrap_or(0)
        });
        conv[mask] += c;
        paths[mask] += t;
    }
    // Subset sums (zeta transform): totals over every T ⊆ S, in integers.
    for i in 0..n {
        for mask in 0..full {
            if mask & (1 << i) != 0 {
                conv[mask] += conv[mask ^ (1 << i)];
                paths[mask] += paths[mask ^ (1 << i)];
            }
        }
    }
    let v: Vec<f64> = conv
        .iter()
        .zip(&paths)
        .map(|(&c, &t)| if t > 0 { c as f64 / t as f64 } else { 0.0 })
        .collect();
    let phi = shapley_values(n, &v);
    Ok(channels
        .into_iter()
        .zip(phi.into_iter().map(|p| p.max(0.0)))
        .collect())
}
