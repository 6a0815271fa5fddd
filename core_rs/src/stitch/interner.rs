//! Identifier interning: every (type, value) occurrence gets a dense `u32` id.
//!
//! Keys are 128-bit xxh3 hashes of the value seeded with a hash of the type.
//! The shard number takes 8 bits of the hash and the table stores 96 more,
//! so two different identifiers share an id only if 104 hash bits collide:
//! a probability of about 10^-16 for a hundred million distinct identifiers.
//! That is why no string comparison is needed on insert (which would cost a
//! cache miss into the Arrow buffers per repeated occurrence).
//!
//! Work proceeds in blocks of occurrences so the temporary partition buffers
//! stay small: each block is hashed in parallel ([`hash_range`] over
//! sub-ranges), radix-partitioned by shard, every shard then inserts its
//! entries into its own table, and each sub-range finally writes the ids
//! back to its own (cache-sized) stretch of the occurrence array. Within a
//! shard entries arrive in occurrence order, so ids do not depend on the
//! thread count.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::block_rules::BlockIndex;
use super::config::StitchConfig;
use super::hashing::{hash_range, SubBuf, SubOut, SHARDS, SHARD_BITS};
use super::report::InvalidSides;
use super::shard_table::ShardTable;
use super::source::{Source, NONE};
use crate::error::{CoreError, CoreResult};

const LOCAL_BITS: u32 = 32 - SHARD_BITS;
/// Local ids stay below this so a packed id never equals `NONE`.
const LOCAL_LIMIT: u32 = (1 << LOCAL_BITS) - 1;
#[cfg(not(test))]
const BLOCK_OCCS: usize = 1 << 20;
/// Small blocks in tests so small inputs cross block boundaries.
#[cfg(test)]
const BLOCK_OCCS: usize = 1 << 10;

#[derive(Default)]
struct Shard {
    table: ShardTable,
    rep: Vec<u32>,
    ty: Vec<u16>,
    count: Vec<u32>,
    key: Vec<u32>,
    len: Vec<u32>,
    overflow: bool,
}

/// A distinct blocked identifier.
pub(crate) struct BlockedIdent {
    pub ty: u16,
    pub first_occ: u32,
    pub rule: u32,
    pub occurrences: u64,
}

/// Result of interning.
pub(crate) struct Interned {
    /// Per occurrence: identifier id, or `NONE` (null, empty, blocked).
    pub occ_id: Vec<u32>,
    /// Per identifier: its first occurrence (where its strings are read).
    pub rep: Vec<u32>,
    /// Per identifier: type id (index into `type_names`).
    pub ty: Vec<u16>,
    /// Per identifier: number of occurrences (an upper bound of its degree).
    pub count: Vec<u32>,
    /// Per identifier: 32 bits of its hash key, a function of its content
    /// only (phases that need a content-determined order sort by it and
    /// compare values only between equal keys).
    pub key: Vec<u32>,
    /// Per identifier: length of its value in bytes (sizes the output
    /// before any value is read again).
    pub len: Vec<u32>,
    /// Type names sorted bytewise; type id = position.
    pub type_names: Vec<String>,
    /// Distinct blocked identifiers, in order of first occurrence.
    pub blocked: Vec<BlockedIdent>,
    /// (occurrence, index into `blocked`) of every blocked occurrence.
    pub blocked_occ: Vec<(u32, u32)>,
    /// Sides rejected as null or empty.
    pub invalid: InvalidSides,
}

/// Intern every occurrence of `source`.
pub(crate) fn intern(source: &Source<'_>, cfg: &StitchConfig) -> CoreResult<Interned> {
    let n_occ = source.n_occ();
    let occ_id: Vec<AtomicU32> = (0..n_occ)
        .into_par_iter()
        .map(|_| AtomicU32::new(NONE))
        .collect();
    let mut shards: Vec<Shard> = (0..SHARDS).map(|_| Shard::default()).collect();
    let mut type_index: HashMap<&[u8], u16> = HashMap::new();
    let mut type_list: Vec<&[u8]> = Vec::new();
    let mut blocked_raw: Vec<(u32, u16, u32)> = Vec::new();
    let mut invalid = InvalidSides::default();
    let blocks = BlockIndex::new(&cfg.block_rules);
    let subs_per_block = (rayon::current_num_threads() * 2).max(1);
    let mut bufs: Vec<SubBuf> = (0..subs_per_block).map(|_| SubBuf::default()).collect();

    let mut start = 0;
    while start < n_occ {
        let end = (start + BLOCK_OCCS).min(n_occ);
        let step = (end - start).div_ceil(subs_per_block);
        let ranges: Vec<(usize, usize)> = (start..end)
            .step_by(step)
            .map(|s| (s, (s + step).min(end)))
            .collect();
        let subs: Vec<SubOut> = ranges
            .par_iter()
            .zip(bufs.par_iter_mut())
            .map(|(&(s, e), buf)| hash_range(source, cfg, &blocks, s, e, buf))
            .collect();
        let bufs_used = &mut bufs[..ranges.len()];

        // Sequential and tiny: types are few. Global type numbers follow first
        // appearance here; they are renumbered by name at the end.
        let mut trans: Vec<Vec<u16>> = Vec::with_capacity(subs.len());
        for sub in &subs {
            let mut t = Vec::with_capacity(sub.types.len());
            for lt in &sub.types {
                let id = match type_index.get(lt.name) {
                    Some(&id) => id,
                    None => {
                        if !cfg.type_allowed(lt.name) {
                            let (col, row) = source.type_location(lt.first_occ as usize);
                            return Err(CoreError::invalid(format!(
                                "column {col}, row {row}: identifier type {:?} is not in allowed_types",
                                String::from_utf8_lossy(lt.name)
                            )));
                        }
                        if type_list.len() >= u16::MAX as usize {
                            return Err(CoreError::invalid(format!(
                                "more than {} distinct identifier types (are type and value columns swapped?)",
                                u16::MAX
                            )));
                        }
                        let id = type_list.len() as u16;
                        type_list.push(lt.name);
                        type_index.insert(lt.name, id);
                        id
                    }
                };
                t.push(id);
            }
            invalid += sub.invalid;
            blocked_raw.extend(sub.blocked.iter().map(|&(o, lt, r)| (o, t[lt as usize], r)));
            trans.push(t);
        }

        // Each shard gets, from every sub-range, its entries and the matching
        // (disjoint) stretch of that sub-range's `locals` to fill.
        let mut work: Vec<Vec<(&[_], &mut [u32])>> = (0..SHARDS).map(|_| Vec::new()).collect();
        for buf in bufs_used.iter_mut() {
            let SubBuf {
                entries,
                ends,
                locals,
                ..
            } = buf;
            let mut rest: &mut [u32] = locals;
            let mut from = 0usize;
            for (s, &e) in ends.iter().enumerate() {
                let (mine, tail) = std::mem::take(&mut rest).split_at_mut(e as usize - from);
                work[s].push((&entries[from..e as usize], mine));
                rest = tail;
                from = e as usize;
            }
        }
        shards
            .par_iter_mut()
            .zip(work)
            .for_each(|(shard, parts)| insert_shard(shard, parts, &trans));
        bufs_used.par_iter().for_each(|buf| {
            for s in 0..SHARDS {
                let range = buf.shard_range(s);
                for (e, &local) in buf.entries[range.clone()].iter().zip(&buf.locals[range]) {
                    occ_id[e.occ as usize].store(((s as u32) << LOCAL_BITS) | local, Relaxed);
                }
            }
        });
        if start == 0 && end < n_occ {
            // Size every table for the whole input from the first block's
            // share of new identifiers (an estimate, rounded up by the
            // tables' doubling anyway).
            let scale = n_occ as f64 / end as f64;
            shards.par_iter_mut().for_each(|s| {
                let expected = (s.rep.len() as f64 * scale) as usize;
                s.table.reserve(expected);
            });
        }
        start = end;
    }

    if shards.iter().any(|s| s.overflow) {
        return Err(CoreError::LimitExceeded(format!(
            "stitch: more than about {} distinct identifiers",
            (LOCAL_LIMIT as u64) << SHARD_BITS
        )));
    }

    // Renumber types by name so type ids (and output order) are input-order free.
    let mut by_name: Vec<u16> = (0..type_list.len() as u16).collect();
    by_name.sort_by(|&a, &b| type_list[a as usize].cmp(type_list[b as usize]));
    let mut remap = vec![0u16; type_list.len()];
    for (new, &old) in by_name.iter().enumerate() {
        remap[old as usize] = new as u16;
    }
    let type_names: Vec<String> = by_name
        .iter()
        .map(|&t| String::from_utf8_lossy(type_list[t as usize]).into_owned())
        .collect();

    // The tables are the largest allocation of this phase and are done.
    for s in shards.iter_mut() {
        s.table = ShardTable::default();
    }
    drop(bufs);
    let mut offsets = Vec::with_capacity(SHARDS);
    let mut total = 0u64;
    for s in &shards {
        offsets.push(total as u32);
        total += s.rep.len() as u64;
    }
    if total >= NONE as u64 {
        return Err(CoreError::LimitExceeded(
            "stitch: too many distinct identifiers".into(),
        ));
    }
    let mut occ_id: Vec<u32> = occ_id.into_iter().map(AtomicU32::into_inner).collect();
    occ_id.par_chunks_mut(1 << 16).for_each(|chunk| {
        for v in chunk {
            if *v != NONE {
                *v = offsets[(*v >> LOCAL_BITS) as usize] + (*v & LOCAL_LIMIT);
            }
        }
    });
    let total = total as usize;
    let (mut rep, mut ty, mut count, mut key, mut len) = (
        Vec::with_capacity(total),
        Vec::with_capacity(total),
        Vec::with_capacity(total),
        Vec::with_capacity(total),
        Vec::with_capacity(total),
    );
    for s in shards {
        rep.extend_from_slice(&s.rep);
        ty.extend(s.ty.iter().map(|&t| remap[t as usize]));
        count.extend_from_slice(&s.count);
        key.extend_from_slice(&s.key);
        len.extend_from_slice(&s.len);
    }

    let (blocked, blocked_occ) = collect_blocked(source, blocked_raw, &remap);
    Ok(Interned {
        occ_id,
        rep,
        ty,
        count,
        key,
        len,
        type_names,
        blocked,
        blocked_occ,
        invalid,
    })
}

/// Insert this block's entries of one shard (from every sub-range, in
/// order), writing each entry's shard-local id next to it.
fn insert_shard(
    shard: &mut Shard,
    parts: Vec<(&[super::hashing::Entry], &mut [u32])>,
    trans: &[Vec<u16>],
) {
    for ((entries, locals), tr) in parts.into_iter().zip(trans) {
        for (i, e) in entries.iter().enumerate() {
            // Each probe is a likely cache miss: start the one ahead.
            if let Some(ahead) = entries.get(i + 12) {
                shard.table.prefetch(ahead.lo);
            }
            let next = shard.rep.len() as u32;
            locals[i] = match shard.table.get_or_insert(e.lo, e.k32, next) {
                Some(local) => {
                    let c = &mut shard.count[local as usize];
                    *c = c.saturating_add(1);
                    local
                }
                None => {
                    if next >= LOCAL_LIMIT {
                        // Reported as LimitExceeded once all shards are done.
                        shard.overflow = true;
                        0
                    } else {
                        shard.ty.push(tr[e.ty as usize]);
                        shard.rep.push(e.occ);
                        shard.count.push(1);
                        shard.key.push(e.k32);
                        shard.len.push(e.len);
                        next
                    }
                }
            };
        }
    }
}

/// Group blocked occurrences by identifier (few distinct values, so a plain
/// map keyed by the borrowed bytes is enough).
fn collect_blocked(
    source: &Source<'_>,
    raw: Vec<(u32, u16, u32)>,
    remap: &[u16],
) -> (Vec<BlockedIdent>, Vec<(u32, u32)>) {
    let mut index: HashMap<(u16, &[u8]), u32> = HashMap::new();
    let mut blocked: Vec<BlockedIdent> = Vec::new();
    let mut occs = Vec::with_capacity(raw.len());
    for (occ, t, rule) in raw {
        let ty = remap[t as usize];
        let value = source.value(occ);
        let b = *index.entry((ty, value)).or_insert_with(|| {
            blocked.push(BlockedIdent {
                ty,
                first_occ: occ,
                rule,
                occurrences: 0,
            });
            blocked.len() as u32 - 1
        });
        blocked[b as usize].occurrences += 1;
        occs.push((occ, b));
    }
    (blocked, occs)
}
