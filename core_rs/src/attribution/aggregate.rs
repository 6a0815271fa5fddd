//! Credit accumulation by group-by key tuple, and the output table.
//!
//! A key tuple is numbered by mixed radix over the group-by dictionaries
//! (first column most significant), so sorting by number sorts by the tuple
//! of codes. Each reduction chunk owns an [`Acc`]; chunks are merged in chunk
//! order, so every sum is added in an order fixed by the data alone.

use super::hashing::{fx_map, FxMap};
use super::input::DictColumn;
use crate::error::{CoreError, CoreResult};

/// Group numbers below this many (times models) use dense arrays per chunk.
const DENSE_LIMIT: u64 = 1 << 15;

/// Mixed-radix numbering of group-by key tuples.
pub(crate) struct GroupKeys<'a> {
    cols: Vec<&'a [u32]>,
    strides: Vec<u64>,
    cards: Vec<u64>,
    space: u64,
}

impl<'a> GroupKeys<'a> {
    pub(crate) fn new(cols: &[&'a DictColumn]) -> CoreResult<Self> {
        let cards: Vec<u64> = cols.iter().map(|c| c.values.len().max(1) as u64).collect();
        let mut strides = vec![1u64; cols.len()];
        let mut space = 1u64;
        for j in (0..cols.len()).rev() {
            strides[j] = space;
            space = space.checked_mul(cards[j]).ok_or_else(|| {
                CoreError::LimitExceeded(
                    "the group-by columns have more than 2^64 value combinations".into(),
                )
            })?;
        }
        Ok(GroupKeys {
            cols: cols.iter().map(|c| c.codes.as_slice()).collect(),
            strides,
            cards,
            space,
        })
    }

    /// Number of possible key tuples.
    pub(crate) fn space(&self) -> u64 {
        self.space
    }

    /// The group number of touch row `row`.
    #[inline]
    pub(crate) fn group(&self, row: usize) -> u64 {
        self.cols
            .iter()
            .zip(&self.strides)
            .map(|(c, s)| c[row] as u64 * s)
            .sum()
    }

    fn decode(&self, mut g: u64, out: &mut [Vec<Option<u32>>]) {
        for (j, col) in out.iter_mut().enumerate() {
            col.push(Some((g / self.strides[j]) as u32));
            g %= self.strides[j];
        }
        debug_assert!(self.cards.iter().all(|&c| c > 0));
    }
}

/// Per-chunk sums: credited conversions and revenue per (group, model), and
/// per model the unattributed orders and revenue.
pub(crate) struct Acc {
    models: usize,
    dense: bool,
    slots: FxMap<u64, u32>,
    /// Per slot: `models` conversion sums, then `models` revenue sums.
    vals: Vec<f64>,
    unattributed_n: Vec<f64>,
    unattributed_rev: Vec<f64>,
    paid_n: u64,
    paid_rev: f64,
}

impl Acc {
    pub(crate) fn new(models: usize, space: u64) -> Self {
        Acc {
            models,
            dense: space.saturating_mul(models as u64) <= DENSE_LIMIT,
            slots: fx_map(0),
            vals: Vec::new(),
            unattributed_n: vec![0.0; models],
            unattributed_rev: vec![0.0; models],
            paid_n: 0,
            paid_rev: 0.0,
        }
    }

    #[inline]
    fn slot(&mut self, group: u64, space: u64) -> usize {
        let width = 2 * self.models;
        if self.dense {
            if self.vals.is_empty() {
                self.vals = vec![0.0; space as usize * width];
            }
            group as usize * width
        } else {
            let next = self.slots.len() as u32;
            let s = *self.slots.entry(group).or_insert(next);
            if s == next {
                self.vals.resize(self.vals.len() + width, 0.0);
            }
            s as usize * width
        }
    }

    /// Record a paid order (attributed or not).
    #[inline]
    pub(crate) fn paid(&mut self, amount: f64) {
        self.paid_n += 1;
        self.paid_rev += amount;
    }

    /// Credit `share` of an order worth `amount` to `group` under `model`.
    #[inline]
    pub(crate) fn credit(&mut self, group: u64, space: u64, model: usize, share: f64, amount: f64) {
        let base = self.slot(group, space);
        self.vals[base + model] += share;
        self.vals[base + self.models + model] += share * amount;
    }

    /// Record an order `model` leaves unattributed.
    #[inline]
    pub(crate) fn unattributed(&mut self, model: usize, amount: f64) {
        self.unattributed_n[model] += 1.0;
        self.unattributed_rev[model] += amount;
    }

    /// Add `other` (the next chunk) into `self`.
    pub(crate) fn merge(&mut self, other: Acc) {
        let width = 2 * self.models;
        if self.dense {
            if self.vals.is_empty() {
                self.vals = other.vals;
            } else if !other.vals.is_empty() {
                self.vals
                    .iter_mut()
                    .zip(&other.vals)
                    .for_each(|(a, b)| *a += b);
            }
        } else {
            // Each group occurs once per chunk, so a group's sum is taken in
            // chunk order whatever the map's iteration order.
            for (g, s) in other.slots {
                let from = s as usize * width;
                let base = {
                    let next = self.slots.len() as u32;
                    let t = *self.slots.entry(g).or_insert(next);
                    if t == next {
                        self.vals.resize(self.vals.len() + width, 0.0);
                    }
                    t as usize * width
                };
                for k in 0..width {
                    self.vals[base + k] += other.vals[from + k];
                }
            }
        }
        for m in 0..self.models {
            self.unattributed_n[m] += other.unattributed_n[m];
            self.unattributed_rev[m] += other.unattributed_rev[m];
        }
        self.paid_n += other.paid_n;
        self.paid_rev += other.paid_rev;
    }

    /// Build the output table (model-major; groups by ascending key codes;
    /// each model ends with its `attributed = false` row).
    pub(crate) fn into_output(self, names: Vec<String>, keys: &GroupKeys<'_>) -> AttributionOutput {
        let width = 2 * self.models;
        let mut groups: Vec<(u64, usize)> = if self.dense {
            let n = self.vals.len() / width.max(1);
            (0..n).map(|g| (g as u64, g * width)).collect()
        } else {
            self.slots
                .iter()
                .map(|(&g, &s)| (g, s as usize * width))
                .collect()
        };
        groups.sort_unstable_by_key(|&(g, _)| g);
        let mut out = AttributionOutput {
            model_names: names,
            keys: vec![Vec::new(); keys.cols.len()],
            paid_orders: self.paid_n,
            paid_revenue: self.paid_rev,
            ..AttributionOutput::default()
        };
        for m in 0..self.models {
            for &(g, base) in &groups {
                let conv = self.vals[base + m];
                if conv != 0.0 {
                    out.model.push(m as u32);
                    keys.decode(g, &mut out.keys);
                    out.conversions.push(conv);
                    out.revenue.push(self.vals[base + self.models + m]);
                    out.attributed.push(true);
                }
            }
            out.model.push(m as u32);
            out.keys.iter_mut().for_each(|c| c.push(None));
            out.conversions.push(self.unattributed_n[m]);
            out.revenue.push(self.unattributed_rev[m]);
            out.attributed.push(false);
        }
        out
    }
}

/// Channel-level parameters a data-driven model estimated.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChannelWeights {
    /// Model name (`markov`, `markov_2`, `shapley_exact`, ...).
    pub model: String,
    /// Channel codes (into the channel column's dictionary), in ascending
    /// order of the channel values (null first).
    pub channels: Vec<u32>,
    /// Removal effect (Markov) or Shapley value (`shapley_exact`) per
    /// channel, clipped at 0: the weights the model splits orders by.
    pub weights: Vec<f64>,
}

/// The `attribution` table before the spend/ROI join, one row per (model,
/// key tuple) with credit plus one `attributed = false` row per model.
///
/// Conservation: for each model, the conversions of its rows (attributed
/// and not) sum to `paid_orders` and the revenue to `paid_revenue`, up to
/// floating-point rounding.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AttributionOutput {
    /// Model names, indexed by [`AttributionOutput::model`].
    pub model_names: Vec<String>,
    /// Per row: index into `model_names`.
    pub model: Vec<u32>,
    /// Per group-by column, per row: code into that column's dictionary;
    /// `None` on the unattributed rows.
    pub keys: Vec<Vec<Option<u32>>>,
    /// Credited (or unattributed) conversions.
    pub conversions: Vec<f64>,
    /// Credited (or unattributed) revenue.
    pub revenue: Vec<f64>,
    /// `false` on the one row per model carrying the unattributed orders.
    pub attributed: Vec<bool>,
    /// Channel weights of the `markov*` and `shapley_exact` models.
    pub channel_weights: Vec<ChannelWeights>,
    /// Number of paid orders.
    pub paid_orders: u64,
    /// Total revenue of paid orders.
    pub paid_revenue: f64,
}

impl AttributionOutput {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.model.len()
    }

    /// Whether the table has no rows (never true: each model has an
    /// unattributed row).
    pub fn is_empty(&self) -> bool {
        self.model.is_empty()
    }

    /// Key values of row `row` as strings, looked up in the group-by columns.
    pub fn key_values<'c>(&self, group_by: &[&'c DictColumn], row: usize) -> Vec<Option<&'c str>> {
        self.keys
            .iter()
            .zip(group_by)
            .map(|(col, dict)| col[row].and_then(|c| dict.value(c)))
            .collect()
    }
}
