//! The codes of short channel names (at most 8 bytes), found by one hash
//! probe of their [`short_key`](super::short_key): the key is the whole
//! name, so a hit needs no string comparison.

/// Slots of the table (a power of two).
const SLOTS: usize = 256;
/// Names kept at most: the table stays at most half full, so probes are short.
const MOST: usize = SLOTS / 2;

/// Open addressing, linear probing; a slot is `(word, length, code)` and a
/// length of 0 marks it empty (a channel name is never empty).
#[derive(Debug, Default, Clone)]
pub(super) struct ShortNames {
    slots: Vec<(u64, u32, u32)>,
    len: usize,
}

fn slot(key: (usize, u64)) -> usize {
    let mixed = (key.1 ^ (key.0 as u64).rotate_right(8)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> (64 - SLOTS.trailing_zeros())) as usize
}

impl ShortNames {
    /// The code of the name with key `key` (length, zero-padded bytes).
    #[inline]
    pub(super) fn get(&self, key: (usize, u64)) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mut i = slot(key);
        loop {
            let (word, len, code) = self.slots[i];
            if len == 0 {
                return None;
            }
            if len as usize == key.0 && word == key.1 {
                return Some(code);
            }
            i = (i + 1) & (SLOTS - 1);
        }
    }

    /// Whether no more names are taken (a miss then proves nothing).
    pub(super) fn is_full(&self) -> bool {
        self.len >= MOST
    }

    /// Record a new name (ignored once full).
    pub(super) fn insert(&mut self, key: (usize, u64), code: u32) {
        debug_assert!((1..=8).contains(&key.0));
        if self.is_full() {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![(0, 0, 0); SLOTS];
        }
        let mut i = slot(key);
        while self.slots[i].1 != 0 {
            i = (i + 1) & (SLOTS - 1);
        }
        self.slots[i] = (key.1, key.0 as u32, code);
        self.len += 1;
    }
}
