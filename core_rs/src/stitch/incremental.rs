//! Fast incremental runs: only the previous persons today's links touch go
//! through the pipeline; every other previous person is copied to the
//! output as it was.
//!
//! A previous person is *untouched* when none of its identifiers appears in
//! today's links, all its rows are valid and unblocked, it respects the
//! caps, its rows are in (type, value) order without repeats (as the persons
//! this module writes are), and none of its identifiers appears in another
//! previous person. Such a person is a component of its own in the full
//! incremental run and keeps its id, so its output rows are its input rows.
//! Everything else (today's links, the touched persons, rows without a
//! person id) runs through the regular pipeline on a subset of the previous
//! table, and [`super::splice`] merges the two by person id: the same table,
//! cuts and report as running everything (tested against it).
//!
//! The checks compare 64-bit hashes of (type, value) and err on the safe
//! side: a hash match that is no real match only sends a person through the
//! pipeline.

use std::sync::Arc;

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

use super::block_rules::{BlockIndex, TypeBlockRules};
use super::columns::{LinkColumns, PersonsColumns};
use super::config::StitchConfig;
use super::source::Source;
use super::stable_ids::PrevGroups;

/// The previous table split into untouched persons and the rest.
pub(crate) struct Split {
    /// Previous rows that go through the pipeline, ascending.
    pub subset: Vec<u32>,
    /// Groups of the whole previous table.
    pub groups: PrevGroups,
    /// Per group: whether it goes through the pipeline.
    pub touched: Vec<bool>,
    /// Per group: bytes of its values and of its type names.
    pub bytes: Vec<(u32, u32)>,
    /// Largest previous person id.
    pub max_pid: Option<i64>,
}

/// Set of 64-bit hashes: a filter of 16 bits per key that fits in a core's
/// cache (two bits of one word per key) answers most "no"s, an
/// open-addressing table the rest (0 is its empty slot, so the key 0 is
/// stored as 1: a false match is harmless here).
struct KeySet {
    filter: Vec<u64>,
    slots: Vec<u64>,
    mask: usize,
}

impl KeySet {
    fn new(keys: &[u64]) -> KeySet {
        let n = (keys.len() * 2).next_power_of_two().max(16);
        let words = (keys.len() / 4).next_power_of_two().max(8);
        let mut set = KeySet {
            filter: vec![0; words],
            slots: vec![0; n],
            mask: n - 1,
        };
        for &k in keys {
            let k = k.max(1);
            let (w, bits) = set.filter_bits(k);
            set.filter[w] |= bits;
            let mut i = k as usize & set.mask;
            while set.slots[i] != 0 && set.slots[i] != k {
                i = (i + 1) & set.mask;
            }
            set.slots[i] = k;
        }
        set
    }

    /// Word and bits of `k` in the filter (high bits of the hash: the
    /// table uses the low ones).
    #[inline]
    fn filter_bits(&self, k: u64) -> (usize, u64) {
        let w = (k >> 40) as usize & (self.filter.len() - 1);
        (w, 1 << (k >> 58) | 1 << ((k >> 52) & 63))
    }

    #[inline]
    fn contains(&self, k: u64) -> bool {
        let k = k.max(1);
        let (w, bits) = self.filter_bits(k);
        if self.filter[w] & bits != bits {
            return false;
        }
        let mut i = k as usize & self.mask;
        loop {
            match self.slots[i] {
                0 => return false,
                s if s == k => return true,
                _ => i = (i + 1) & self.mask,
            }
        }
    }
}

/// What a row's type brings along.
struct TypeInfo<'s> {
    name: &'s [u8],
    seed: u64,
    rules: Arc<TypeBlockRules>,
    cap: Option<usize>,
    allowed: bool,
}

/// The types one worker has seen (few, so a list with a last-hit shortcut).
struct TypeCache<'s, 'c> {
    list: Vec<TypeInfo<'s>>,
    last: usize,
    cfg: &'c StitchConfig,
    blocks: &'c BlockIndex,
    caps: &'c [(&'c str, u32)],
}

impl<'s> TypeCache<'s, '_> {
    #[inline]
    fn get(&mut self, t: &'s [u8]) -> &TypeInfo<'s> {
        if let Some(x) = self.list.get(self.last) {
            if x.name.len() == t.len() && (x.name.as_ptr() == t.as_ptr() || x.name == t) {
                return &self.list[self.last];
            }
        }
        self.last = match self.list.iter().position(|x| x.name == t) {
            Some(i) => i,
            None => {
                self.list.push(TypeInfo {
                    name: t,
                    seed: xxh3_64(t),
                    rules: self.blocks.for_type(t),
                    cap: self.caps.iter().position(|c| c.0.as_bytes() == t),
                    allowed: self.cfg.type_allowed(t),
                });
                self.list.len() - 1
            }
        };
        &self.list[self.last]
    }
}

/// The key of an identifier: its value hashed with its type's seed.
#[inline]
fn key(seed: u64, v: &[u8]) -> u64 {
    xxh3_64_with_seed(v, seed).max(1)
}

/// Keys of every identifier written in `links` (blocked ones too: a
/// previous person holding one goes through the pipeline anyway).
fn link_keys(links: &LinkColumns<'_>) -> KeySet {
    const ROWS: usize = 1 << 15;
    let n = links.len();
    let keys: Vec<u64> = (0..n.div_ceil(ROWS))
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut out = Vec::new();
            let mut seeds: Vec<(&[u8], u64)> = Vec::new();
            let (s, e) = (c * ROWS * 2, ((c + 1) * ROWS).min(n) * 2);
            links.scan(s, e, |_, t, v| {
                if let (Some(t), Some(v)) = (t, v) {
                    if t.is_empty() || v.is_empty() {
                        return;
                    }
                    let seed = match seeds.iter().find(|x| x.0 == t) {
                        Some(x) => x.1,
                        None => {
                            seeds.push((t, xxh3_64(t)));
                            seeds[seeds.len() - 1].1
                        }
                    };
                    out.push(key(seed, v));
                }
            });
            out
        })
        .collect();
    KeySet::new(&keys)
}

/// Split the previous table of `source` (which must have one, unsubset)
/// for an incremental run; `None` when most of it is touched anyway (the
/// plain pipeline is then cheaper).
pub(crate) fn split(source: &Source<'_>, cfg: &StitchConfig) -> Option<Split> {
    let prev = source.prev?;
    let groups = PrevGroups::build(source)?;
    let today = link_keys(source.links);
    let blocks = BlockIndex::new(&cfg.block_rules);
    let caps: Vec<(&str, u32)> = cfg
        .max_ids_per_type
        .iter()
        .map(|(t, &c)| (t.as_str(), c))
        .collect();
    let ctx = Ctx {
        prev,
        groups: &groups,
        today: &today,
        cfg,
        blocks: &blocks,
        caps: &caps,
    };
    if groups.len() == 0 {
        return None;
    }
    let (mut touched, mut bytes, buckets) = ctx.check(&[], true);
    // An identifier in two persons (or twice in one) joins them: find
    // repeated keys and check again with them.
    let dups = repeats(buckets);
    if !dups.is_empty() {
        (touched, bytes, _) = ctx.check(&dups, false);
    }
    let touched_rows: usize = (0..groups.len())
        .filter(|&g| touched[g])
        .map(|g| groups.positions(g).len())
        .sum();
    if touched_rows * 2 > prev.len() {
        return None;
    }

    // Rows in the subset: all but those of untouched groups.
    let mut keep = vec![true; prev.len()];
    for g in (0..groups.len()).filter(|&g| !touched[g]) {
        for k in groups.positions(g) {
            keep[groups.row_at(k)] = false;
        }
    }
    let subset: Vec<u32> = keep
        .par_iter()
        .enumerate()
        .filter(|(_, &k)| k)
        .map(|(r, _)| r as u32)
        .collect();
    let max_pid = (0..groups.len()).map(|g| groups.pid(g)).max();
    Some(Split {
        subset,
        groups,
        touched,
        bytes,
        max_pid,
    })
}

/// Shared inputs of the per-group checks.
struct Ctx<'a, 's> {
    prev: &'s PersonsColumns<'s>,
    groups: &'a PrevGroups,
    today: &'a KeySet,
    cfg: &'a StitchConfig,
    blocks: &'a BlockIndex,
    caps: &'a [(&'a str, u32)],
}

impl Ctx<'_, '_> {
    /// Check every group in parallel: returns per group whether it is
    /// touched and its (value, type) bytes, and with `collect` the key of
    /// every valid row, bucketed by its top byte (per chunk of groups). A
    /// row whose key is in `dups` (sorted) touches its group.
    fn check(&self, dups: &[u64], collect: bool) -> Checked {
        let n = self.groups.len();
        let step = n
            .div_ceil((rayon::current_num_threads() * 16).max(1))
            .max(1 << 10);
        let parts: Vec<GroupsChecked> = (0..n)
            .into_par_iter()
            .step_by(step)
            .map(|s| self.check_groups(s..(s + step).min(n), dups, collect))
            .collect();
        let mut touched = Vec::with_capacity(n);
        let mut bytes = Vec::with_capacity(n);
        let mut buckets = Vec::with_capacity(parts.len());
        for (t, b, k) in parts {
            touched.extend(t);
            bytes.extend(b);
            buckets.push(k);
        }
        (touched, bytes, buckets)
    }

    fn check_groups(
        &self,
        gs: std::ops::Range<usize>,
        dups: &[u64],
        collect: bool,
    ) -> GroupsChecked {
        let mut types = TypeCache {
            list: Vec::new(),
            last: 0,
            cfg: self.cfg,
            blocks: self.blocks,
            caps: self.caps,
        };
        let mut counts = vec![0u32; self.caps.len()];
        let rows = self.groups.positions(gs.end - 1).end - self.groups.positions(gs.start).start;
        let mut keys: Vec<Vec<u64>> = (0..if collect { KEY_BUCKETS } else { 0 })
            .map(|_| Vec::with_capacity(rows / KEY_BUCKETS * 9 / 8 + 8))
            .collect();
        let mut touched = Vec::with_capacity(gs.len());
        let mut bytes = Vec::with_capacity(gs.len());
        for g in gs {
            counts.fill(0);
            let mut hit = false;
            let (mut vb, mut tb) = (0usize, 0usize);
            let mut last: Option<(&[u8], &[u8])> = None;
            let pos = self.groups.positions(g);
            let size = pos.len();
            for k in pos {
                let (t, v, has_person) = self.prev.row(self.groups.row_at(k));
                let (t, v) = match (t, v) {
                    (Some(t), Some(v)) if has_person && !t.is_empty() && !v.is_empty() => (t, v),
                    _ => {
                        hit = true;
                        continue;
                    }
                };
                let info = types.get(t);
                if !info.allowed || info.rules.first_match(&self.cfg.block_rules, v).is_some() {
                    hit = true;
                    continue;
                }
                let kv = key(info.seed, v);
                if collect {
                    keys[(kv >> 56) as usize].push(kv);
                }
                if let Some(s) = info.cap {
                    counts[s] += 1;
                }
                // Strictly increasing (type, value): sorted, no repeats.
                if last.is_some_and(|(lt, lv)| (lt, lv) >= (t, v)) {
                    hit = true;
                }
                last = Some((t, v));
                if self.today.contains(kv) || dups.binary_search(&kv).is_ok() {
                    hit = true;
                }
                vb += v.len();
                tb += t.len();
            }
            let over_caps = counts.iter().zip(self.caps).any(|(&n, c)| n > c.1)
                || self
                    .cfg
                    .max_component_size
                    .is_some_and(|m| size > m as usize);
            let huge = vb > u32::MAX as usize || tb > u32::MAX as usize;
            touched.push(hit || over_caps || huge);
            bytes.push((vb as u32, tb as u32));
        }
        (touched, bytes, keys)
    }
}

/// Per group touched and bytes, and per chunk of groups the keys by bucket.
type Checked = (Vec<bool>, Vec<(u32, u32)>, Vec<Vec<Vec<u64>>>);

/// [`Checked`] of one chunk of groups.
type GroupsChecked = (Vec<bool>, Vec<(u32, u32)>, Vec<Vec<u64>>);

/// Buckets of [`Ctx::check`] (keys by their top byte).
const KEY_BUCKETS: usize = 256;

/// Keys that occur more than once, sorted: each bucket (gathered from all
/// chunks) is sorted on its own, small enough to stay in cache.
fn repeats(chunks: Vec<Vec<Vec<u64>>>) -> Vec<u64> {
    (0..KEY_BUCKETS)
        .into_par_iter()
        .flat_map_iter(|b| {
            let mut keys: Vec<u64> = chunks.iter().flat_map(|c| c[b].iter().copied()).collect();
            keys.sort_unstable();
            let mut out: Vec<u64> = keys
                .windows(2)
                .filter(|w| w[0] == w[1])
                .map(|w| w[0])
                .collect();
            out.dedup();
            out
        })
        .collect()
}
