//! Tests of the Hamming index (exactness against brute force) and of asset
//! grouping.

mod grouping;
mod search;

use super::*;
use crate::fingerprint::tests::Rng;

/// Brute force: every pair within `r`, in the index's output order.
pub(super) fn brute_force<const W: usize>(
    codes: &[[u64; W]],
    queries: &[[u64; W]],
    r: u32,
) -> Vec<HashMatch> {
    let mut out = Vec::new();
    for (qi, q) in queries.iter().enumerate() {
        for (ci, c) in codes.iter().enumerate() {
            let d = mih::distance(q, c);
            if d <= r {
                out.push(HashMatch {
                    query_row: qi as u32,
                    distance: d,
                    match_row: ci as u32,
                });
            }
        }
    }
    out.sort_unstable();
    out
}

/// `n` codes: uniform random, or (`clustered`) near-duplicates of a few
/// centres with 0..=12 bits flipped, as window hashes of edits are.
pub(super) fn codes<const W: usize>(rng: &mut Rng, n: usize, clustered: bool) -> Vec<[u64; W]> {
    let centres: Vec<[u64; W]> = (0..(n / 20).max(1))
        .map(|_| std::array::from_fn(|_| rng.next_u64()))
        .collect();
    (0..n)
        .map(|_| {
            if !clustered {
                return std::array::from_fn(|_| rng.next_u64());
            }
            let mut c = centres[rng.below(centres.len() as u64) as usize];
            for _ in 0..rng.below(13) {
                let bit = rng.below(64 * W as u64) as usize;
                c[bit / 64] ^= 1 << (bit % 64);
            }
            c
        })
        .collect()
}

pub(super) fn to_bytes256(c: &[u64; 4]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (i, w) in c.iter().enumerate() {
        out[i * 8..(i + 1) * 8].copy_from_slice(&w.to_be_bytes());
    }
    out
}
