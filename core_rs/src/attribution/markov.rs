//! Markov-chain attribution by removal effect, solved exactly.
//!
//! Paths: every paid order with eligible touches gives the channel sequence
//! of those touches ending in *conversion*; every person's touches that are
//! eligible for no paid order give one sequence ending in *null* (the
//! non-converting path). Repeated identical consecutive channels are
//! collapsed first (`a a b` is `a b`): a repeat is more of the same channel,
//! not a move, and collapsing removes every self-loop from the chain.
//!
//! States: with order `k`, a state is the last (up to) `k` channels, so a
//! path `a b c` of order 2 visits `start → (a) → (a,b) → (b,c) → absorb`.
//! Transition probabilities are observed frequencies (each path counts
//! once). The probability `P` of reaching conversion from `start` solves the
//! absorbing-chain system `(I - Q) x = r` (Q: transient → transient, r:
//! transient → conversion), by Gaussian elimination: exact up to floating
//! point, no simulation.
//!
//! Removal effect of channel `c`: every state containing `c` is redirected to
//! null, giving `P_c`, and `RE_c = (P - P_c) / P`, clipped at 0 (it cannot be
//! negative in exact arithmetic; clipping removes rounding noise). `P_c`
//! comes from the inverse of the full system by a low-rank correction (see
//! `MarkovChain::without`), so the chain is factored once, not once per
//! channel. An order is then split over the distinct channels of its path in
//! proportion to their removal effects, and equally over a channel's touches.

use rayon::prelude::*;

use super::hashing::{fx_map, FxMap};
use super::linalg::{solve_dense, Lu};
use crate::error::{CoreError, CoreResult};

const CODE_BITS: u32 = 21;
const MAX_CODE: u32 = (1 << CODE_BITS) - 2;
const START: u64 = 0;
const CONV: u64 = u64::MAX;
const NULL: u64 = u64::MAX - 1;

/// Encode a window of up to 3 channel codes (0 is `start`).
/// Walk one path through the chain's states: repeats of `channels` are
/// collapsed (into `collapsed`, a reused buffer), then `step(from, to)` is
/// called for every move from `START` through each state of order `order`.
/// Returns the last state, or `None` for a path without channels. Shared by
/// the integer counts of touch paths and the weighted counts of distinct
/// paths, so both build the same chain.
pub(crate) fn walk_states(
    channels: impl IntoIterator<Item = u32>,
    order: usize,
    collapsed: &mut Vec<u32>,
    mut step: impl FnMut(u64, u64),
) -> Option<u64> {
    collapsed.clear();
    for c in channels {
        if collapsed.last() != Some(&c) {
            collapsed.push(c);
        }
    }
    if collapsed.is_empty() {
        return None;
    }
    let mut prev = START;
    for i in 0..collapsed.len() {
        let from = (i + 1).saturating_sub(order);
        let state = encode(&collapsed[from..=i]);
        step(prev, state);
        prev = state;
    }
    Some(prev)
}

fn encode(window: &[u32]) -> u64 {
    window
        .iter()
        .fold(0u64, |acc, &c| (acc << CODE_BITS) | (c as u64 + 1))
}

fn decode(mut s: u64) -> Vec<u32> {
    let mut out = Vec::new();
    while s != 0 {
        out.push((s & ((1 << CODE_BITS) - 1)) as u32 - 1);
        s >>= CODE_BITS;
    }
    out.reverse();
    out
}

/// Transition counts of one chain order, mergeable across chunks.
#[derive(Debug, Clone)]
pub(crate) struct TransitionCounts {
    order: usize,
    map: FxMap<(u64, u64), u64>,
    collapsed: Vec<u32>,
}

impl TransitionCounts {
    pub(crate) fn new(order: usize) -> Self {
        TransitionCounts {
            order,
            map: fx_map(256),
            collapsed: Vec::new(),
        }
    }

    /// Check that channel codes fit the state encoding.
    pub(crate) fn check_cardinality(n_channels: usize) -> CoreResult<()> {
        if n_channels > MAX_CODE as usize + 1 {
            return Err(CoreError::LimitExceeded(format!(
                "{n_channels} distinct channels: the Markov model supports at most {}",
                MAX_CODE + 1
            )));
        }
        Ok(())
    }

    /// Count one path (raw channel sequence; repeats are collapsed here).
    pub(crate) fn add_path(&mut self, channels: impl IntoIterator<Item = u32>, converted: bool) {
        let map = &mut self.map;
        let Some(prev) = walk_states(channels, self.order, &mut self.collapsed, |from, to| {
            *map.entry((from, to)).or_insert(0) += 1;
        }) else {
            return;
        };
        *self
            .map
            .entry((prev, if converted { CONV } else { NULL }))
            .or_insert(0) += 1;
    }

    /// Add another chunk's counts (integer sums: order-independent).
    pub(crate) fn merge(&mut self, other: TransitionCounts) {
        for (k, v) in other.map {
            *self.map.entry(k).or_insert(0) += v;
        }
    }
}

/// An absorbing Markov chain over channel windows.
#[derive(Debug, Clone)]
pub struct MarkovChain {
    /// Transient states; index 0 is `start` (the empty window).
    states: Vec<Vec<u32>>,
    /// Per state: (successor state, probability).
    rows: Vec<Vec<(usize, f64)>>,
    /// Per state: probability of converting at the next step.
    conv: Vec<f64>,
}

impl MarkovChain {
    /// Build a chain of the given order (1 to 3) from paths of channel codes
    /// and whether each converted.
    pub fn from_paths<'p>(
        order: usize,
        paths: impl IntoIterator<Item = (&'p [u32], bool)>,
    ) -> CoreResult<Self> {
        if !(1..=3).contains(&order) {
            return Err(CoreError::invalid(format!(
                "markov order must be 1, 2 or 3, got {order}"
            )));
        }
        let mut counts = TransitionCounts::new(order);
        for (p, converted) in paths {
            if let Some(&c) = p.iter().find(|&&c| c > MAX_CODE) {
                return Err(CoreError::LimitExceeded(format!(
                    "channel code {c} exceeds {MAX_CODE}"
                )));
            }
            counts.add_path(p.iter().copied(), converted);
        }
        Ok(Self::from_counts(&counts))
    }

    pub(crate) fn from_counts(counts: &TransitionCounts) -> Self {
        let mut codes: Vec<u64> = counts
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
        let mut out_total = vec![0u64; n];
        let mut entries: Vec<((u64, u64), u64)> =
            counts.map.iter().map(|(&k, &v)| (k, v)).collect();
        // Sorted so that every float below is computed in a fixed order.
        entries.sort_unstable();
        for &((from, _), v) in &entries {
            out_total[index[&from]] += v;
        }
        let mut rows = vec![Vec::new(); n];
        let mut conv = vec![0.0; n];
        for &((from, to), v) in &entries {
            let i = index[&from];
            let p = v as f64 / out_total[i] as f64;
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

    /// Transient states as channel windows; index 0 is `start` (empty).
    pub fn states(&self) -> &[Vec<u32>] {
        &self.states
    }

    /// Channels that occur in some state, ascending.
    pub fn channels(&self) -> Vec<u32> {
        let mut c: Vec<u32> = self.states.iter().flatten().copied().collect();
        c.sort_unstable();
        c.dedup();
        c
    }

    /// Probability of reaching conversion from `start`.
    pub fn conversion_probability(&self) -> CoreResult<f64> {
        Ok(self.solve()?.0)
    }

    /// The same with every state containing `channel` redirected to null.
    pub fn conversion_probability_without(&self, channel: u32) -> CoreResult<f64> {
        let (p, inverse, x) = self.solve()?;
        self.without(channel, p, &inverse, &x)
    }

    /// `(P, (I - Q)^{-1} column-major, x)` where `x = (I - Q)^{-1} r` holds
    /// every state's conversion probability and `P = x[start]`.
    fn solve(&self) -> CoreResult<(f64, Vec<f64>, Vec<f64>)> {
        let n = self.states.len();
        let mut a = vec![0.0; n * n];
        for (i, row) in self.rows.iter().enumerate() {
            a[i * n + i] += 1.0;
            for &(j, p) in row {
                a[i * n + j] -= p;
            }
        }
        let lu = Lu::factor(a, n)?;
        let x = lu.solve(&self.conv);
        Ok((x[0], lu.inverse_columns(), x))
    }

    /// Conversion probability with the states `R` containing `channel` made
    /// to lead to null, from the full inverse `M = (I - Q)^{-1}` without a
    /// new factorisation: the modified solution is `x' = M (r + E_R y)` with
    /// `y` chosen so that `x'_R = 0`, i.e. `M_RR y = -x_R`; then
    /// `P_c = x_start + M_start,R · y`. Costs `|R|^3` instead of `n^3`.
    fn without(&self, channel: u32, p: f64, inverse: &[f64], x: &[f64]) -> CoreResult<f64> {
        let n = self.states.len();
        let removed: Vec<usize> = (0..n)
            .filter(|&i| self.states[i].contains(&channel))
            .collect();
        let k = removed.len();
        if k == 0 {
            return Ok(p);
        }
        let m = |i: usize, j: usize| inverse[j * n + i];
        let block: Vec<f64> = removed
            .iter()
            .flat_map(|&r| removed.iter().map(move |&s| m(r, s)))
            .collect();
        let rhs: Vec<f64> = removed.iter().map(|&r| -x[r]).collect();
        let y = solve_dense(block, &rhs)?;
        Ok(p + removed
            .iter()
            .zip(&y)
            .map(|(&r, yr)| m(0, r) * yr)
            .sum::<f64>())
    }

    /// Removal effect of every channel (ascending code), clipped at 0; all
    /// zero when nothing converts. One factorisation for the whole chain,
    /// then one small solve per channel (in parallel).
    pub fn removal_effects(&self) -> CoreResult<Vec<(u32, f64)>> {
        let (p, inverse, x) = self.solve()?;
        self.channels()
            .into_par_iter()
            .map(|c| {
                let pc = self.without(c, p, &inverse, &x)?;
                let re = if p > 0.0 {
                    ((p - pc) / p).max(0.0)
                } else {
                    0.0
                };
                Ok((c, re))
            })
            .collect()
    }
}

/// Solve a chain from merged counts, enforcing the state cap.
pub(crate) fn removal_effects(
    counts: &TransitionCounts,
    max_states: usize,
) -> CoreResult<Vec<(u32, f64)>> {
    let chain = MarkovChain::from_counts(counts);
    if chain.states.len() > max_states {
        return Err(CoreError::LimitExceeded(format!(
            "the order-{} Markov chain has {} states, above max_markov_states = {max_states}: \
             use a lower order or a coarser channel column",
            counts.order,
            chain.states.len()
        )));
    }
    chain.removal_effects()
}

/// Exact removal effects from a table of distinct paths.
pub mod distinct;
mod weighted;
