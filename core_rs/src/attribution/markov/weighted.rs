//! Weighted transitions: the chain of [`MarkovChain`] built from distinct
//! paths with occurrence counts instead of one path per order.

use super::{decode, encode, walk_states, MarkovChain, CONV, NULL, START};
use crate::attribution::hashing::{fx_map, FxMap};
use crate::error::{CoreError, CoreResult};

/// Transition weights of one chain order from a table of distinct paths,
/// each path weighted by how often it occurred: its conversions plus its
/// non-conversions on every move, its conversions into *conversion* and its
/// non-conversions into *null*. Weights need not be integers; with integer
/// weights the chain is the one [`TransitionCounts`] builds from the same
/// paths listed one by one (integer sums are exact in `f64` below 2^53).
#[derive(Debug, Clone)]
pub(crate) struct WeightedTransitions {
    order: usize,
    map: FxMap<(u64, u64), f64>,
    collapsed: Vec<u32>,
}

impl WeightedTransitions {
    pub(crate) fn new(order: usize) -> Self {
        WeightedTransitions {
            order,
            map: fx_map(256),
            collapsed: Vec::new(),
        }
    }

    /// Count one distinct path (raw channel codes, repeats collapsed here)
    /// occurring `conversions` times converting and `nulls` times not. A
    /// path with no occurrence, or no channel, adds nothing.
    pub(crate) fn add_path(
        &mut self,
        channels: impl IntoIterator<Item = u32>,
        conversions: f64,
        nulls: f64,
    ) {
        let total = conversions + nulls;
        if total.is_nan() || total <= 0.0 {
            return;
        }
        let map = &mut self.map;
        let Some(prev) = walk_states(channels, self.order, &mut self.collapsed, |from, to| {
            *map.entry((from, to)).or_insert(0.0) += total;
        }) else {
            return;
        };
        // Zero-weight absorbing moves are left out, as a path list would
        // have none.
        if conversions > 0.0 {
            *self.map.entry((prev, CONV)).or_insert(0.0) += conversions;
        }
        if nulls > 0.0 {
            *self.map.entry((prev, NULL)).or_insert(0.0) += nulls;
        }
    }

    /// Add the next chunk's weights (callers merge in chunk order, so every
    /// sum is taken in an order fixed by the input).
    pub(crate) fn merge(&mut self, other: WeightedTransitions) {
        let mut entries: Vec<((u64, u64), f64)> = other.map.into_iter().collect();
        entries.sort_unstable_by_key(|e| e.0);
        for (k, v) in entries {
            *self.map.entry(k).or_insert(0.0) += v;
        }
    }
}

/// Cells of [`DenseTransitions`] per chunk at most (half a MiB of `f64`).
const DENSE_CELLS: usize = 1 << 16;

/// The same weights in a dense array, when there are few channels: one row
/// per possible window (`start`, then windows of 1, 2, ... `order` channels
/// in mixed radix), one column per next channel plus *conversion* and
/// *null*. A move's successor window is fixed by its window and next
/// channel, so a cell is exactly one transition of the map form, and every
/// cell is summed in the same order as the map would sum it: converting
/// with [`DenseTransitions::into_weighted`] gives the same weights bit for
/// bit, without hashing each move.
#[derive(Debug, Clone)]
pub(crate) struct DenseTransitions {
    order: usize,
    channels: usize,
    /// First row of the windows of each length (`offsets[0]` is `start`).
    offsets: [usize; 5],
    cells: Vec<f64>,
}

impl DenseTransitions {
    fn layout(order: usize, channels: usize) -> Option<[usize; 5]> {
        let mut offsets = [0usize; 5];
        let mut width = 1usize;
        offsets[1] = 1;
        for len in 1..=order {
            width = width.checked_mul(channels)?;
            offsets[len + 1] = offsets[len].checked_add(width)?;
        }
        Some(offsets)
    }

    /// A dense table for `channels` channels, if it is small enough.
    pub(crate) fn new(order: usize, channels: usize) -> Option<Self> {
        let offsets = Self::layout(order, channels)?;
        let cells = offsets[order + 1].checked_mul(channels + 2)?;
        (cells <= DENSE_CELLS).then(|| DenseTransitions {
            order,
            channels,
            offsets,
            cells: vec![0.0; cells],
        })
    }

    fn row(&self, window: &[u32]) -> usize {
        self.offsets[window.len()]
            + window
                .iter()
                .fold(0usize, |acc, &c| acc * self.channels + c as usize)
    }

    /// As [`WeightedTransitions::add_path`] (codes below `channels`), in
    /// one pass: the row of the current window is kept from the last two
    /// channels (mixed radix, as [`row`](Self::row) computes it).
    pub(crate) fn add_path(
        &mut self,
        channels: impl IntoIterator<Item = u32>,
        conversions: f64,
        nulls: f64,
    ) {
        let total = conversions + nulls;
        if total.is_nan() || total <= 0.0 {
            return;
        }
        let n = self.channels;
        let width = n + 2;
        let mut prev = 0usize;
        // The window's length and its last two channels (repeats skipped).
        let (mut len, mut last1, mut last2) = (0usize, usize::MAX, 0usize);
        for c in channels {
            let c = c as usize;
            if c == last1 {
                continue;
            }
            self.cells[prev * width + c] += total;
            len = (len + 1).min(self.order);
            let value = match len {
                1 => c,
                2 => last1 * n + c,
                _ => (last2 * n + last1) * n + c,
            };
            prev = self.offsets[len] + value;
            last2 = last1;
            last1 = c;
        }
        if len == 0 {
            return;
        }
        if conversions > 0.0 {
            self.cells[prev * width + n] += conversions;
        }
        if nulls > 0.0 {
            self.cells[prev * width + n + 1] += nulls;
        }
    }

    /// Add the next chunk's weights.
    pub(crate) fn merge(&mut self, other: DenseTransitions) {
        self.cells
            .iter_mut()
            .zip(&other.cells)
            .for_each(|(a, b)| *a += b);
    }

    /// Add the next chunk's weights, counted in the chunk's own channel
    /// codes: `remap[c]` is this table's code of the chunk's channel `c`
    /// (a window and its next channel map to exactly one cell here). Cells
    /// never added to are skipped (adding 0 changes nothing).
    pub(crate) fn merge_remapped(&mut self, other: &DenseTransitions, remap: &[u32]) {
        let (width, other_width) = (self.channels + 2, other.channels + 2);
        let mut window: Vec<u32> = Vec::with_capacity(self.order);
        for (r, cells) in other.cells.chunks_exact(other_width).enumerate() {
            if cells.iter().all(|&v| v == 0.0) {
                continue;
            }
            window.clear();
            window.extend(other.window(r).iter().map(|&c| remap[c as usize]));
            let base = self.row(&window) * width;
            for (k, &v) in cells.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let col = if k < other.channels {
                    remap[k] as usize
                } else {
                    self.channels + (k - other.channels)
                };
                self.cells[base + col] += v;
            }
        }
    }

    /// The window of row `r`.
    fn window(&self, r: usize) -> Vec<u32> {
        let len = (0..=self.order)
            .rev()
            .find(|&l| r >= self.offsets[l])
            .unwrap_or(0);
        let mut rest = r - self.offsets[len];
        let mut w = vec![0u32; len];
        for slot in w.iter_mut().rev() {
            *slot = (rest % self.channels) as u32;
            rest /= self.channels;
        }
        w
    }

    /// The map form (cells that were never added to are left out).
    pub(crate) fn into_weighted(self) -> WeightedTransitions {
        let width = self.channels + 2;
        let mut out = WeightedTransitions::new(self.order);
        for (r, row) in self.cells.chunks_exact(width).enumerate() {
            if row.iter().all(|&v| v == 0.0) {
                continue;
            }
            let window = self.window(r);
            let from = if window.is_empty() {
                START
            } else {
                encode(&window)
            };
            for (k, &v) in row.iter().enumerate() {
                if v == 0.0 {
                    continue;
                }
                let to = match k {
                    k if k == self.channels => CONV,
                    k if k == self.channels + 1 => NULL,
                    c => {
                        let mut next = window.clone();
                        next.push(c as u32);
                        let keep = next.len().saturating_sub(self.order);
                        encode(&next[keep..])
                    }
                };
                out.map.insert((from, to), v);
            }
        }
        out
    }
}

impl MarkovChain {
    /// The chain of weighted transitions; the same construction as
    /// `from_counts` (states sorted by code, sums in sorted order).
    pub(crate) fn from_weighted(weights: &WeightedTransitions) -> Self {
        let mut codes: Vec<u64> = weights
            .map
            .keys()
            .flat_map(|&(a, b)| [a, b])
            .filter(|&s| s != CONV && s != NULL)
            .chain(std::iter::once(START))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let index: FxMap<u64, usize> = codes.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let n = codes.len();
        let mut out_total = vec![0.0f64; n];
        let mut entries: Vec<((u64, u64), f64)> =
            weights.map.iter().map(|(&k, &v)| (k, v)).collect();
        entries.sort_unstable_by_key(|e| e.0);
        for &((from, _), v) in &entries {
            out_total[index[&from]] += v;
        }
        let mut rows = vec![Vec::new(); n];
        let mut conv = vec![0.0; n];
        for &((from, to), v) in &entries {
            let i = index[&from];
            let p = v / out_total[i];
            match to {
                CONV => conv[i] += p,
                NULL => {}
                _ => rows[i].push((index[&to], p)),
            }
        }
        MarkovChain {
            states: codes.into_iter().map(decode).collect(),
            rows,
            conv,
        }
    }
}

/// Removal effects of a chain of weighted transitions, enforcing the state
/// cap (as [`removal_effects`](super::removal_effects) does for counted paths).
pub(crate) fn removal_effects_weighted(
    weights: &WeightedTransitions,
    max_states: usize,
) -> CoreResult<Vec<(u32, f64)>> {
    let chain = MarkovChain::from_weighted(weights);
    if chain.states.len() > max_states {
        return Err(CoreError::LimitExceeded(format!(
            "the order-{} Markov chain has {} states, above max_states = {max_states}: \
             use a lower order or fewer distinct channels",
            weights.order,
            chain.states.len()
        )));
    }
    chain.removal_effects()
}
