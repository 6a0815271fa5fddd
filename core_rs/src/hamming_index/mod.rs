//! Exact Hamming-radius search over 64-bit and 256-bit codes, and grouping
//! of assets whose window codes match.
//!
//! [`HashIndex`] answers "which indexed codes are within `max_distance` bits
//! of each query" exactly (the same set as a brute-force scan) in sub-linear
//! time with multi-index hashing (`mih`). Queries run in parallel; the output
//! order is deterministic: by query row, then distance, then match row.
//!
//! Codes cross the API either as integers (`u64`, `[u8; 32]`) or as flat
//! big-endian bytes (8 or 32 per code), the form of the `hash` column of
//! `material_fingerprints`.

mod grouping;
mod mih;

#[cfg(test)]
mod tests;

use rayon::prelude::*;

pub use grouping::{
    group_assets, group_assets_confirmed, AssetMembership, GroupConfig, SupportRule, WindowPair,
    DEFAULT_CONFIRM_DISTANCE, DEFAULT_MAX_DISTANCE,
};

use crate::error::{CoreError, CoreResult};
use mih::Mih;

/// One search result.
///
/// The derived order (query row, distance, match row) is the output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HashMatch {
    /// Row of the query in the queries given to `search`.
    pub query_row: u32,
    /// Hamming distance.
    pub distance: u32,
    /// Row of the match in the indexed codes.
    pub match_row: u32,
}

#[derive(Debug, Clone)]
enum Inner {
    B64(Mih<1>),
    B256(Mih<4>),
}

/// An immutable index of equal-width codes for exact radius search.
#[derive(Debug, Clone)]
pub struct HashIndex {
    inner: Inner,
}

/// A 256-bit code as four big-endian words.
fn words256(code: &[u8; 32]) -> [u64; 4] {
    let mut w = [0u64; 4];
    for (i, word) in w.iter_mut().enumerate() {
        let mut b = [0u8; 8];
        b.copy_from_slice(&code[i * 8..(i + 1) * 8]);
        *word = u64::from_be_bytes(b);
    }
    w
}

fn check_rows(n: usize, what: &str) -> CoreResult<()> {
    if n > u32::MAX as usize {
        return Err(CoreError::LimitExceeded(format!(
            "{n} {what}: at most {} are supported",
            u32::MAX
        )));
    }
    Ok(())
}

/// Split flat big-endian bytes into codes of `W` 64-bit words each.
fn split_bytes<const W: usize>(bytes: &[u8], what: &str) -> CoreResult<Vec<[u64; W]>> {
    let width = 8 * W;
    if !bytes.len().is_multiple_of(width) {
        return Err(CoreError::invalid(format!(
            "{what}: {} bytes is not a whole number of {}-bit codes",
            bytes.len(),
            64 * W
        )));
    }
    Ok(bytes
        .chunks_exact(width)
        .map(|c| {
            std::array::from_fn(|i| {
                let mut word = [0u8; 8];
                word.copy_from_slice(&c[i * 8..(i + 1) * 8]);
                u64::from_be_bytes(word)
            })
        })
        .collect())
}

fn check_bits(bits: u32) -> CoreResult<()> {
    match bits {
        64 | 256 => Ok(()),
        _ => Err(CoreError::invalid(format!(
            "bits must be 64 or 256, got {bits}"
        ))),
    }
}

impl HashIndex {
    /// Index 64-bit codes; row `i` is `codes[i]`.
    pub fn build_64(codes: &[u64]) -> CoreResult<HashIndex> {
        check_rows(codes.len(), "codes")?;
        let codes = codes.iter().map(|&c| [c]).collect();
        Ok(HashIndex {
            inner: Inner::B64(crate::parallel::install(|| Mih::build(codes))),
        })
    }

    /// Index 256-bit codes (PDQ byte order).
    pub fn build_256(codes: &[[u8; 32]]) -> CoreResult<HashIndex> {
        check_rows(codes.len(), "codes")?;
        let codes = codes.iter().map(words256).collect();
        Ok(HashIndex {
            inner: Inner::B256(crate::parallel::install(|| Mih::build(codes))),
        })
    }

    /// Index flat big-endian codes of `bits` (64 or 256) bits each.
    pub fn from_bytes(bytes: &[u8], bits: u32) -> CoreResult<HashIndex> {
        check_bits(bits)?;
        let inner = if bits == 64 {
            let codes = split_bytes::<1>(bytes, "codes")?;
            check_rows(codes.len(), "codes")?;
            Inner::B64(crate::parallel::install(|| Mih::build(codes)))
        } else {
            let codes = split_bytes::<4>(bytes, "codes")?;
            check_rows(codes.len(), "codes")?;
            Inner::B256(crate::parallel::install(|| Mih::build(codes)))
        };
        Ok(HashIndex { inner })
    }

    /// Code width: 64 or 256.
    pub fn bits(&self) -> u32 {
        match self.inner {
            Inner::B64(_) => 64,
            Inner::B256(_) => 256,
        }
    }

    /// Number of indexed codes.
    pub fn len(&self) -> usize {
        match &self.inner {
            Inner::B64(m) => m.len(),
            Inner::B256(m) => m.len(),
        }
    }

    /// True when no code is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every (query, indexed code) pair within `max_distance` bits, for
    /// 64-bit queries against a 64-bit index.
    pub fn search_64(&self, queries: &[u64], max_distance: u32) -> CoreResult<Vec<HashMatch>> {
        match &self.inner {
            Inner::B64(m) => search(
                m,
                &queries.iter().map(|&q| [q]).collect::<Vec<_>>(),
                max_distance,
            ),
            Inner::B256(_) => Err(CoreError::invalid("64-bit queries against a 256-bit index")),
        }
    }

    /// Every pair within `max_distance` bits, for 256-bit queries against a
    /// 256-bit index.
    pub fn search_256(
        &self,
        queries: &[[u8; 32]],
        max_distance: u32,
    ) -> CoreResult<Vec<HashMatch>> {
        match &self.inner {
            Inner::B256(m) => search(
                m,
                &queries.iter().map(words256).collect::<Vec<_>>(),
                max_distance,
            ),
            Inner::B64(_) => Err(CoreError::invalid("256-bit queries against a 64-bit index")),
        }
    }

    /// Every pair within `max_distance` bits, queries given as flat
    /// big-endian bytes of the index's width.
    pub fn search_bytes(&self, queries: &[u8], max_distance: u32) -> CoreResult<Vec<HashMatch>> {
        match &self.inner {
            Inner::B64(m) => search(m, &split_bytes::<1>(queries, "queries")?, max_distance),
            Inner::B256(m) => search(m, &split_bytes::<4>(queries, "queries")?, max_distance),
        }
    }
}

/// Search all queries in parallel, results in (query, distance, row) order.
fn search<const W: usize>(
    index: &Mih<W>,
    queries: &[[u64; W]],
    max_distance: u32,
) -> CoreResult<Vec<HashMatch>> {
    check_rows(queries.len(), "queries")?;
    let plan = index.plan(max_distance);
    let per_query: Vec<Vec<HashMatch>> = crate::parallel::install(|| {
        queries
            .par_iter()
            .enumerate()
            .map_init(Vec::new, |buf, (qi, q)| {
                index.query(q, &plan, buf);
                buf.iter()
                    .map(|&(row, distance)| HashMatch {
                        query_row: qi as u32,
                        distance,
                        match_row: row,
                    })
                    .collect()
            })
            .collect()
    });
    Ok(per_query.concat())
}
