//! Hashing one sub-range of occurrences: validate, block, hash, and
//! radix-partition by shard. Reads the input sequentially; runs in parallel
//! over the sub-ranges of a block.

use std::collections::HashMap;

use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64};

use std::sync::Arc;

use super::block_rules::{BlockIndex, TypeBlockRules};
use super::config::StitchConfig;
use super::report::InvalidSides;
use super::source::Source;

pub(crate) const SHARD_BITS: u32 = 8;
pub(crate) const SHARDS: usize = 1 << SHARD_BITS;

/// One hashed occurrence waiting for its shard. The key is 96 bits of the
/// 128-bit hash (`lo`, `k32`); the shard number is 8 further bits.
#[derive(Clone, Copy, Default)]
pub(crate) struct Entry {
    pub lo: u64,
    pub k32: u32,
    pub occ: u32,
    /// Length of the value in bytes.
    pub len: u32,
    /// Type, numbered within the sub-range.
    pub ty: u16,
}

pub(crate) struct LocalType<'s> {
    pub name: &'s [u8],
    /// xxh3-64 of the name: the seed of its values' keys, and the lookup key.
    seed: u64,
    rules: Arc<TypeBlockRules>,
    pub first_occ: u32,
}

/// Types seen by one sub-range. Types are few, so a linear scan over their
/// name hashes beats any map; a map takes over if the input has many.
#[derive(Default)]
struct LocalTypes<'s> {
    list: Vec<LocalType<'s>>,
    many: HashMap<u64, Vec<u32>>,
}

impl<'s> LocalTypes<'s> {
    fn find_or_insert(&mut self, t: &'s [u8], occ: usize, blocks: &BlockIndex) -> u32 {
        let h = xxh3_64(t);
        let found = if self.list.len() <= 16 {
            self.list
                .iter()
                .position(|x| x.seed == h && x.name == t)
                .map(|i| i as u32)
        } else {
            self.many
                .get(&h)
                .and_then(|v| v.iter().copied().find(|&i| self.list[i as usize].name == t))
        };
        if let Some(i) = found {
            return i;
        }
        let i = self.list.len() as u32;
        self.list.push(LocalType {
            name: t,
            seed: h,
            rules: blocks.for_type(t),
            first_occ: occ as u32,
        });
        if self.list.len() > 16 {
            if self.many.is_empty() {
                for (j, x) in self.list.iter().enumerate() {
                    self.many.entry(x.seed).or_default().push(j as u32);
                }
            } else {
                self.many.entry(h).or_default().push(i);
            }
        }
        i
    }
}

/// Buffers of one sub-range, reused from block to block (fresh large
/// allocations would cost a page fault per 4 KiB every block).
#[derive(Default)]
pub(crate) struct SubBuf {
    flat: Vec<Entry>,
    shard_of: Vec<u16>,
    /// Entries grouped by shard, in occurrence order within a shard.
    pub entries: Vec<Entry>,
    /// End offset in `entries` of each shard's group.
    pub ends: Vec<u32>,
    /// Shard-local id of each entry, filled by the shard pass.
    pub locals: Vec<u32>,
}

impl SubBuf {
    /// Range of shard `s` in `entries`.
    #[inline]
    pub(crate) fn shard_range(&self, s: usize) -> std::ops::Range<usize> {
        (if s == 0 { 0 } else { self.ends[s - 1] as usize })..self.ends[s] as usize
    }
}

/// What a sub-range found besides its entries.
pub(crate) struct SubOut<'s> {
    pub types: Vec<LocalType<'s>>,
    /// (occurrence, local type, rule) of blocked values.
    pub blocked: Vec<(u32, u16, u32)>,
    pub invalid: InvalidSides,
}

/// Hash occurrences `start..end` into `buf`, grouped by shard.
pub(crate) fn hash_range<'s>(
    source: &Source<'s>,
    cfg: &StitchConfig,
    blocks: &BlockIndex,
    start: usize,
    end: usize,
    buf: &mut SubBuf,
) -> SubOut<'s> {
    let mut types = LocalTypes::default();
    // Links usually keep one type per side, so remember the last per side.
    let mut last = [u32::MAX; 2];
    buf.flat.clear();
    buf.shard_of.clear();
    let mut blocked = Vec::new();
    let mut invalid = InvalidSides::default();

    source.scan(start, end, |occ, t, v, has_person| {
        if !has_person {
            invalid.null_person_id += 1;
            return;
        }
        let t = match t {
            None => {
                invalid.null_type += 1;
                return;
            }
            Some([]) => {
                invalid.empty_type += 1;
                return;
            }
            Some(t) => t,
        };
        let side = occ & 1;
        let lt = match last[side] {
            l if (l as usize) < types.list.len() && same_bytes(types.list[l as usize].name, t) => l,
            _ => {
                let l = types.find_or_insert(t, occ, blocks);
                last[side] = l;
                l
            }
        };
        let v = match v {
            None => {
                invalid.null_value += 1;
                return;
            }
            Some([]) => {
                invalid.empty_value += 1;
                return;
            }
            Some(v) => v,
        };
        let local = &types.list[lt as usize];
        if let Some(r) = local.rules.first_match(&cfg.block_rules, v) {
            blocked.push((occ as u32, lt as u16, r));
            return;
        }
        let h = xxh3_128_with_seed(v, local.seed);
        let hi = (h >> 64) as u64;
        buf.flat.push(Entry {
            lo: h as u64,
            k32: hi as u32,
            occ: occ as u32,
            len: v.len().min(u32::MAX as usize) as u32,
            ty: lt as u16,
        });
        buf.shard_of.push((hi >> (64 - SHARD_BITS)) as u16);
    });

    // Counting sort by shard (stable: occurrence order kept within a shard).
    buf.ends.clear();
    buf.ends.resize(SHARDS, 0);
    for &s in &buf.shard_of {
        buf.ends[s as usize] += 1;
    }
    let mut pos = Vec::with_capacity(SHARDS);
    let mut acc = 0u32;
    for e in buf.ends.iter_mut() {
        pos.push(acc);
        acc += *e;
        *e = acc;
    }
    buf.entries.clear();
    buf.entries.resize(buf.flat.len(), Entry::default());
    for (e, &s) in buf.flat.iter().zip(&buf.shard_of) {
        let p = &mut pos[s as usize];
        buf.entries[*p as usize] = *e;
        *p += 1;
    }
    buf.locals.clear();
    buf.locals.resize(buf.entries.len(), 0);
    SubOut {
        types: types.list,
        blocked,
        invalid,
    }
}

/// Slice equality with a pointer shortcut: type names read through a
/// dictionary are the same slice row after row, so most checks end there.
#[inline(always)]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && (a.as_ptr() == b.as_ptr() || a == b)
}
