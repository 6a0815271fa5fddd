//! Exact Markov removal effects from a table of distinct paths (the input
//! ChannelAttribution takes): a path, how often it converted, how often it
//! did not, and optionally its conversion value.
//!
//! The chain is the one `omniplug.attribute` builds for its `markov` models
//! (see [`markov`](super)): consecutive repeats collapsed, non-converting
//! paths included, states the last `order` channels, solved exactly with no
//! simulation. A table listing every order's path and every person's
//! non-converting path once gives the same chain (and the same removal
//! effects) as the touchpoints and orders it came from.

use rayon::prelude::*;

use super::weighted::{removal_effects_weighted, DenseTransitions, WeightedTransitions};
use super::TransitionCounts;
use crate::attribution::hashing::FxMap;
use crate::error::{CoreError, CoreResult};
use credit::{credit, Credit};
use short::ShortNames;

/// A table of distinct channel paths with how often each occurred, the
/// input of [`markov_distinct_paths`] (ChannelAttribution's input shape).
/// Build it row by row with [`DistinctPathsBuilder`].
#[derive(Debug, Clone, Default)]
pub struct DistinctPaths {
    /// Channel names, ascending; a code is an index here.
    pub channels: Vec<String>,
    /// Channel codes of every path, concatenated.
    pub codes: Vec<u32>,
    /// Path `i` is `codes[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<usize>,
    /// Converting occurrences per path.
    pub conversions: Vec<f64>,
    /// Non-converting occurrences per path.
    pub nulls: Vec<f64>,
    /// Conversion value per path (summed over its conversions), if given.
    pub values: Option<Vec<f64>>,
}

impl DistinctPaths {
    /// Number of paths.
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    /// Whether there is no path.
    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// The channel codes of path `i`.
    pub fn path(&self, i: usize) -> &[u32] {
        &self.codes[self.offsets[i]..self.offsets[i + 1]]
    }
}

/// Up to this many channels, names are looked up by a linear scan.
const SMALL_DICTIONARY: usize = 16;

/// A name's length and first (up to) 8 bytes, little-endian, zero-padded:
/// equal for equal names, and for names of at most 8 bytes equal only for
/// equal names.
fn short_key(name: &str) -> (usize, u64) {
    let b = name.as_bytes();
    let n = b.len();
    // Built in registers from (overlapping) loads: copying the bytes into a
    // stack buffer and reading it back as one word stalls on every name.
    let word = match n {
        0 => 0,
        1..=3 => {
            b[0] as u64 | (b[n / 2] as u64) << (8 * (n / 2)) | (b[n - 1] as u64) << (8 * (n - 1))
        }
        4..=7 => {
            let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
            let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
            lo | hi << (8 * (n - 4))
        }
        _ => u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
    };
    (n, word)
}

/// Row-by-row construction of [`DistinctPaths`]: channel names are interned
/// as they come and renumbered by name at the end, so that the chain (and
/// every float sum) is the same whatever the order of the channels' first
/// appearance.
#[derive(Debug, Default)]
pub struct DistinctPathsBuilder {
    names: Vec<String>,
    /// Per name: its length and first 8 bytes, compared before the bytes.
    keys: Vec<(usize, u64)>,
    ids: FxMap<String, u32>,
    /// Codes of the names of at most 8 bytes, by [`short_key`].
    short: ShortNames,
    out: DistinctPaths,
}

impl DistinctPathsBuilder {
    /// An empty builder; `with_values` says whether rows carry a value.
    pub fn new(with_values: bool) -> Self {
        DistinctPathsBuilder {
            out: DistinctPaths {
                offsets: vec![0],
                values: with_values.then(Vec::new),
                ..DistinctPaths::default()
            },
            ..DistinctPathsBuilder::default()
        }
    }

    /// Make room for `paths` more paths of `channels` channels in all (an
    /// estimate: it only saves regrowing).
    pub fn reserve(&mut self, paths: usize, channels: usize) {
        self.out.codes.reserve(channels);
        self.out.offsets.reserve(paths);
        self.out.conversions.reserve(paths);
        self.out.nulls.reserve(paths);
        if let Some(v) = &mut self.out.values {
            v.reserve(paths);
        }
    }

    /// Add row `row` (0-based, for messages): its channels (surrounding
    /// whitespace trimmed) and counts. Rejects an empty path or channel,
    /// and counts that are negative or not finite; `columns` names the
    /// path, conversions, null and value columns for the messages.
    pub fn push<'s>(
        &mut self,
        row: usize,
        channels: impl IntoIterator<Item = &'s str>,
        conversions: f64,
        nulls: f64,
        value: Option<f64>,
        columns: [&str; 4],
    ) -> CoreResult<()> {
        let start = self.out.codes.len();
        for name in channels {
            let b = name.as_bytes();
            // Trim only when an end byte may be whitespace (ASCII space or
            // control, or the start of a multi-byte character).
            let maybe_space = |c: Option<&u8>| c.is_some_and(|&c| c <= b' ' || c >= 0x80);
            let name = if maybe_space(b.first()) || maybe_space(b.last()) {
                name.trim()
            } else {
                name
            };
            if name.is_empty() {
                self.out.codes.truncate(start);
                return Err(CoreError::invalid(format!(
                    "column '{}' row {row}: empty channel name",
                    columns[0]
                )));
            }
            let code = self.code(name);
            self.out.codes.push(code);
        }
        self.end_row(row, start, conversions, nulls, value, columns)
    }

    /// The code of a (trimmed, non-empty) channel name, interned if new.
    fn code(&mut self, name: &str) -> u32 {
        let key = short_key(name);
        // Names of at most 8 bytes: one probe of the short-name table.
        if name.len() <= 8 {
            match self.short.get(key) {
                Some(c) => return c,
                None if !self.short.is_full() => return self.intern(name, key),
                None => {}
            }
        }
        // A few channels: a linear scan beats hashing every name.
        let found = if self.names.len() <= SMALL_DICTIONARY {
            self.keys
                .iter()
                .zip(&self.names)
                .position(|(&k, n)| k == key && (name.len() <= 8 || n == name))
                .map(|c| c as u32)
        } else {
            self.ids.get(name).copied()
        };
        match found {
            Some(c) => c,
            None => self.intern(name, key),
        }
    }

    /// Give the new name `name` (with its [`short_key`]) the next code.
    fn intern(&mut self, name: &str, key: (usize, u64)) -> u32 {
        let c = self.names.len() as u32;
        self.ids.insert(name.to_owned(), c);
        self.keys.push(key);
        self.names.push(name.to_owned());
        if name.len() <= 8 {
            self.short.insert(key, c);
        }
        c
    }

    /// Close the row whose channels were pushed from `codes[start..]`:
    /// check it and its counts (then drop its channels on error).
    #[inline]
    fn end_row(
        &mut self,
        row: usize,
        start: usize,
        conversions: f64,
        nulls: f64,
        value: Option<f64>,
        columns: [&str; 4],
    ) -> CoreResult<()> {
        if self.out.codes.len() == start {
            return Err(CoreError::invalid(format!(
                "column '{}' row {row}: empty path",
                columns[0]
            )));
        }
        for (k, v) in [(1, conversions), (2, nulls)] {
            if !(v.is_finite() && v >= 0.0) {
                self.out.codes.truncate(start);
                return Err(CoreError::invalid(format!(
                    "column '{}' row {row}: a count must be finite and >= 0, got {v}",
                    columns[k]
                )));
            }
        }
        if let (Some(values), Some(v)) = (&mut self.out.values, value) {
            if !v.is_finite() {
                self.out.codes.truncate(start);
                return Err(CoreError::invalid(format!(
                    "column '{}' row {row}: the value must be finite, got {v}",
                    columns[3]
                )));
            }
            values.push(v);
        } else if self.out.values.is_some() {
            self.out.codes.truncate(start);
            return Err(CoreError::invalid(format!(
                "column '{}' row {row}: missing value",
                columns[3]
            )));
        }
        self.out.offsets.push(self.out.codes.len());
        self.out.conversions.push(conversions);
        self.out.nulls.push(nulls);
        Ok(())
    }

    /// Append the rows of `other` (built from the rows that follow this
    /// builder's), so that chunks of a table can be read in parallel and
    /// joined in order.
    pub fn append(&mut self, other: DistinctPathsBuilder) {
        let remap: Vec<u32> = other
            .names
            .into_iter()
            .map(|name| match self.ids.get(&name) {
                Some(&c) => c,
                None => {
                    let c = self.names.len() as u32;
                    self.ids.insert(name.clone(), c);
                    self.keys.push(short_key(&name));
                    self.names.push(name);
                    c
                }
            })
            .collect();
        let base = self.out.codes.len();
        let o = other.out;
        self.out
            .codes
            .extend(o.codes.iter().map(|&c| remap[c as usize]));
        self.out
            .offsets
            .extend(o.offsets[1..].iter().map(|&x| x + base));
        self.out.conversions.extend(o.conversions);
        self.out.nulls.extend(o.nulls);
        if let (Some(a), Some(b)) = (&mut self.out.values, o.values) {
            a.extend(b);
        }
    }

    /// The table, channels numbered by ascending name.
    pub fn finish(self) -> CoreResult<DistinctPaths> {
        TransitionCounts::check_cardinality(self.names.len())?;
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut rank = vec![0u32; order.len()];
        for (r, &c) in order.iter().enumerate() {
            rank[c as usize] = r as u32;
        }
        let mut out = self.out;
        out.codes.iter_mut().for_each(|c| *c = rank[*c as usize]);
        let mut names = self.names;
        out.channels = order
            .iter()
            .map(|&c| std::mem::take(&mut names[c as usize]))
            .collect();
        Ok(out)
    }
}

/// Per channel (ascending name): the exact removal effect and the credit.
#[derive(Debug, Clone, PartialEq)]
pub struct PathEffects {
    pub channels: Vec<String>,
    /// `max(0, (P - P_c) / P)`; 0 for every channel when nothing converts.
    pub removal_effects: Vec<f64>,
    /// Removal effects scaled to sum to 1 (all 0 when they sum to 0).
    pub shares: Vec<f64>,
    /// ChannelAttribution's split: all conversions times the share.
    pub conversions: Vec<f64>,
    /// The same for the conversion value (when the table has values).
    pub values: Option<Vec<f64>>,
    /// `omniplug.attribute`'s split: each path's conversions over its
    /// distinct channels in proportion to their removal effects (equally
    /// when they are all 0).
    pub path_conversions: Vec<f64>,
    /// The same for the conversion value.
    pub path_values: Option<Vec<f64>>,
}

/// Paths per counting chunk: fixed, so the sums do not depend on the
/// number of threads.
pub const PATH_CHUNK: usize = 1 << 14;

/// Exact Markov removal effects of order `order` (1 to 3) from a table of
/// distinct paths, with the same chain as `omniplug.attribute`'s `markov`
/// models (see [`markov`](super)): transitions counted in parallel
/// chunks, one factorisation, one small solve per channel in parallel.
pub fn markov_distinct_paths(
    paths: &DistinctPaths,
    order: usize,
    max_states: usize,
) -> CoreResult<PathEffects> {
    if !(1..=3).contains(&order) {
        return Err(CoreError::invalid(format!(
            "markov order must be 1, 2 or 3, got {order}"
        )));
    }
    let starts: Vec<usize> = (0..paths.len()).step_by(PATH_CHUNK).collect();
    let rows = |lo: usize| lo..(lo + PATH_CHUNK).min(paths.len());
    let n = paths.channels.len();
    let weights = if let Some(dense) = DenseTransitions::new(order, n) {
        // Few channels: add into dense arrays (no hashing per move).
        let chunks: Vec<DenseTransitions> = starts
            .into_par_iter()
            .map(|lo| {
                let mut w = dense.clone();
                for i in rows(lo) {
                    w.add_path(
                        paths.path(i).iter().copied(),
                        paths.conversions[i],
                        paths.nulls[i],
                    );
                }
                w
            })
            .collect();
        let mut total = dense;
        for chunk in chunks {
            total.merge(chunk);
        }
        total.into_weighted()
    } else {
        let chunks: Vec<WeightedTransitions> = starts
            .into_par_iter()
            .map(|lo| {
                let mut w = WeightedTransitions::new(order);
                for i in rows(lo) {
                    w.add_path(
                        paths.path(i).iter().copied(),
                        paths.conversions[i],
                        paths.nulls[i],
                    );
                }
                w
            })
            .collect();
        let mut total = WeightedTransitions::new(order);
        for chunk in chunks {
            total.merge(chunk);
        }
        total
    };
    let mut effects = vec![0.0; n];
    for (c, re) in removal_effects_weighted(&weights, max_states)? {
        effects[c as usize] = re;
    }
    Ok(credit(paths, effects))
}

pub mod chunks;
mod credit;
mod joined;
mod short;

#[cfg(test)]
mod tests;
