//! The same solve as [`markov_distinct_paths`](super::markov_distinct_paths)
//! without building one [`DistinctPaths`](super::DistinctPaths) first: each
//! chunk of rows is read into its own builder and immediately counted into
//! a small dense transition table and one channel bit set per path, in the
//! chunk's own channel codes; the chunks are then renumbered by name and
//! added in chunk order.
//!
//! Chunks cover the same rows as `markov_distinct_paths`'s counting chunks
//! ([`PATH_CHUNK`]) and every cell is summed in the same order (paths in
//! table order within a chunk, chunks in order), so the result is the same
//! bit for bit, whatever the number of threads. It applies when the chain
//! fits a dense table and there are at most 64 channels; otherwise
//! [`CountedChunk::count`] or [`effects_from_chunks`] answer `None` and
//! the caller takes the general route.

use super::super::weighted::{removal_effects_weighted, DenseTransitions};
use super::super::TransitionCounts;
use super::{Credit, DistinctPathsBuilder, PathEffects};
use crate::error::CoreResult;

pub use super::PATH_CHUNK;

/// One chunk of rows, counted in its own channel codes.
#[derive(Debug)]
pub struct CountedChunk {
    /// The chunk's channel names by local code (first appearance).
    names: Vec<String>,
    /// Transition weights in local codes.
    dense: DenseTransitions,
    /// Per path: the set of its channels (bit = local code).
    masks: Vec<u64>,
    conversions: Vec<f64>,
    values: Option<Vec<f64>>,
}

impl CountedChunk {
    /// Count the rows of `builder` for a chain of order `order` (1 to 3);
    /// `None` when its channels are too many for the dense form (more than
    /// 64, or too big a table).
    pub fn count(builder: DistinctPathsBuilder, order: usize) -> Option<Self> {
        let n = builder.names.len();
        let dense = match DenseTransitions::new(order, n) {
            Some(d) if n <= 64 && (1..=3).contains(&order) => d,
            _ => return None,
        };
        let mut dense = dense;
        let paths = builder.out;
        let mut masks = Vec::with_capacity(paths.len());
        for i in 0..paths.len() {
            let path = paths.path(i);
            dense.add_path(path.iter().copied(), paths.conversions[i], paths.nulls[i]);
            masks.push(path.iter().fold(0u64, |m, &c| m | 1 << c));
        }
        Some(CountedChunk {
            names: builder.names,
            dense,
            masks,
            conversions: paths.conversions,
            values: paths.values,
        })
    }
}

/// Removal effects and credit from the counted chunks of a whole table (in
/// table order; `with_values` as the builders were made), or `None` when the whole table's channels are too many for
/// the dense form.
pub fn effects_from_chunks(
    chunks: &[CountedChunk],
    with_values: bool,
    order: usize,
    max_states: usize,
) -> CoreResult<Option<PathEffects>> {
    let mut channels: Vec<&str> = chunks
        .iter()
        .flat_map(|c| c.names.iter().map(String::as_str))
        .collect();
    channels.sort_unstable();
    channels.dedup();
    let n = channels.len();
    TransitionCounts::check_cardinality(n)?;
    let mut total = match DenseTransitions::new(order, n) {
        Some(d) if n <= 64 => d,
        _ => return Ok(None),
    };
    // Local code -> code by ascending name, per chunk.
    let remaps: Vec<Vec<u32>> = chunks
        .iter()
        .map(|c| {
            c.names
                .iter()
                .map(|name| {
                    channels
                        .binary_search(&name.as_str())
                        .expect("a known name") as u32
                })
                .collect()
        })
        .collect();
    for (chunk, remap) in chunks.iter().zip(&remaps) {
        total.merge_remapped(&chunk.dense, remap);
    }
    let mut effects = vec![0.0; n];
    for (c, re) in removal_effects_weighted(&total.into_weighted(), max_states)? {
        effects[c as usize] = re;
    }
    let mut credit = Credit::new(effects, with_values);
    let mut distinct: Vec<u32> = Vec::new();
    for (chunk, remap) in chunks.iter().zip(&remaps) {
        for (i, &local) in chunk.masks.iter().enumerate() {
            let c = chunk.conversions[i];
            if c <= 0.0 {
                continue;
            }
            let mut mask = 0u64;
            let mut rest = local;
            while rest != 0 {
                mask |= 1 << remap[rest.trailing_zeros() as usize];
                rest &= rest - 1;
            }
            distinct.clear();
            while mask != 0 {
                distinct.push(mask.trailing_zeros());
                mask &= mask - 1;
            }
            credit.add(&distinct, c, chunk.values.as_ref().map(|v| v[i]));
        }
    }
    let total_conv: f64 = chunks.iter().flat_map(|c| c.conversions.iter()).sum();
    let total_value: Option<f64> =
        with_values.then(|| chunks.iter().flat_map(|c| c.values.iter().flatten()).sum());
    let channels = channels.into_iter().map(str::to_owned).collect();
    Ok(Some(credit.finish(channels, total_conv, total_value)))
}

#[cfg(test)]
mod tests;
