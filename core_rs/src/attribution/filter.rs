//! A compact approximate set of persons.

use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use rayon::prelude::*;

use super::partition::mix;

/// An approximate set of persons (a one-hash Bloom filter on the person
/// hash, 8 to 16 bits per member so that it stays in the L2 cache):
/// `may_contain` is true for every member and for 6 to 12 % of the others.
/// Used to skip, before any sorting, touches of persons who have no paid
/// order when no model needs them; false positives only cost a little work.
/// The bits depend on the data only, so the set of kept rows (and so every
/// result) is the same at any thread count.
pub(crate) struct PersonFilter {
    bits: Vec<u64>,
    shift: u32,
}

impl PersonFilter {
    /// The persons of the rows with `keep[i]`.
    pub(crate) fn new(person: &[i64], keep: &[bool]) -> Self {
        let members = keep.iter().filter(|&&k| k).count();
        let log_bits = (members.max(1) * 8)
            .next_power_of_two()
            .trailing_zeros()
            .clamp(12, 34);
        let bits: Vec<AtomicU64> = (0..1usize << (log_bits - 6))
            .map(|_| AtomicU64::new(0))
            .collect();
        let shift = 64 - log_bits;
        // OR is commutative, so the bitmap does not depend on thread timing.
        person
            .par_iter()
            .zip(keep.par_iter())
            .filter(|(_, &k)| k)
            .for_each(|(&p, _)| {
                let i = mix(p) >> shift;
                bits[(i >> 6) as usize].fetch_or(1 << (i & 63), AtomicOrdering::Relaxed);
            });
        PersonFilter {
            bits: bits.into_iter().map(AtomicU64::into_inner).collect(),
            shift,
        }
    }

    /// Whether `person` may be a member (always true for members).
    #[inline]
    pub(crate) fn may_contain(&self, person: i64) -> bool {
        let i = mix(person) >> self.shift;
        self.bits[(i >> 6) as usize] >> (i & 63) & 1 == 1
    }
}
