//! The hash table of one interning shard: open addressing with linear
//! probing over 16-byte slots, keyed by 96 hash bits.
//!
//! A general-purpose map would do, but at ten million identifiers every
//! lookup is a cache miss; owning the layout lets the insert loop prefetch
//! the slot of an entry a few positions ahead, so misses overlap instead of
//! queueing.

use super::util::prefetch;

/// One identifier: 96 bits of its key and its shard-local id.
#[derive(Clone, Copy)]
struct Slot {
    lo: u64,
    k32: u32,
    local: u32,
}

const EMPTY: u32 = u32::MAX;
const EMPTY_SLOT: Slot = Slot {
    lo: 0,
    k32: 0,
    local: EMPTY,
};

/// Keys are uniformly random (hash output), so `lo`'s low bits index directly.
pub(crate) struct ShardTable {
    slots: Vec<Slot>,
    mask: usize,
    len: usize,
}

impl Default for ShardTable {
    fn default() -> Self {
        ShardTable {
            slots: vec![EMPTY_SLOT; 16],
            mask: 15,
            len: 0,
        }
    }
}

impl ShardTable {
    /// Hint that the slot of `lo` will be probed soon.
    #[inline]
    pub(crate) fn prefetch(&self, lo: u64) {
        prefetch(&self.slots[lo as usize & self.mask]);
    }

    /// The local id stored under (`lo`, `k32`), or `None` after storing `next`.
    #[inline]
    pub(crate) fn get_or_insert(&mut self, lo: u64, k32: u32, next: u32) -> Option<u32> {
        // Load stays under 3/4 so probe runs stay short.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mut i = lo as usize & self.mask;
        loop {
            let s = &mut self.slots[i];
            if s.local == EMPTY {
                *s = Slot {
                    lo,
                    k32,
                    local: next,
                };
                self.len += 1;
                return None;
            }
            if s.lo == lo && s.k32 == k32 {
                return Some(s.local);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Make room for `n` keys in all without growing on the way (growing
    /// rehashes everything and faults in fresh memory each time).
    pub(crate) fn reserve(&mut self, n: usize) {
        while n * 4 > self.slots.len() * 3 {
            self.grow();
        }
    }

    fn grow(&mut self) {
        let doubled = vec![EMPTY_SLOT; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, doubled);
        self.mask = self.slots.len() - 1;
        for s in old.into_iter().filter(|s| s.local != EMPTY) {
            let mut i = s.lo as usize & self.mask;
            while self.slots[i].local != EMPTY {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stitch_shard_table_finds_what_it_stored_across_growth() {
        let mut t = ShardTable::default();
        // Colliding low bits on purpose: keys differing only in k32 or high bits.
        for i in 0..5000u32 {
            let lo = ((i as u64) << 40) | 7;
            assert_eq!(t.get_or_insert(lo, i % 3, i), None);
        }
        for i in 0..5000u32 {
            let lo = ((i as u64) << 40) | 7;
            assert_eq!(t.get_or_insert(lo, i % 3, u32::MAX - 1), Some(i));
        }
        assert_eq!(
            t.get_or_insert(7, 1, 9),
            None,
            "same lo, other k32 is another key"
        );
        assert_eq!(t.len, 5001);
    }
}
