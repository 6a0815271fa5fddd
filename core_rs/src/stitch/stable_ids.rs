//! Stable person ids across runs.
//!
//! Rules, per previous person P (its identifiers as listed in `previous`):
//! * P's *heir* is the component holding most of P's surviving identifiers
//!   (ties: the component seen first in the input). Only the heir may carry
//!   P's id.
//! * A component carries the smallest (oldest) id among the persons it is
//!   heir of; the others are recorded as merges (old id -> surviving id).
//! * When P's identifiers end up in several components (a split, which only
//!   a full rebuild or a guardrail can cause), the non-heir parts get their
//!   own id and each is recorded as a split (P -> that id).
//! * Components with no id get new ids, in order of first appearance in the
//!   input, starting above every id seen and at `next_person_id` at least,
//!   so an id is never issued twice as long as callers pass the previous
//!   report's `next_person_id` on.

use std::ops::Range;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::groups::Groups;
use super::hubs::Hubs;
use super::source::{Source, NONE};
use crate::error::{CoreError, CoreResult};

/// Previous-persons rows grouped by person id (ascending).
pub(crate) struct PrevGroups {
    /// Occurrence of the first previous row.
    base: usize,
    /// Row order sorted by (person_id, row); `None` when the table already
    /// was (our own output always is), which saves a sort.
    perm: Option<Vec<u32>>,
    /// Group `g` covers positions `starts[g]..starts[g + 1]`.
    starts: Vec<u32>,
    /// Person id of each group.
    pids: Vec<i64>,
}

impl PrevGroups {
    /// Group the previous rows of `source`; `None` without previous persons.
    pub(crate) fn build(source: &Source<'_>) -> Option<PrevGroups> {
        source.prev?;
        let base = source.prev_base();
        let n = source.n_prev;
        let pid = |row: usize| source.prev_person(base + row);
        let sorted = {
            let mut last = i64::MIN;
            (0..n).all(|r| match pid(r) {
                Some(p) if p < last => false,
                Some(p) => {
                    last = p;
                    true
                }
                None => true,
            })
        };
        let perm = if sorted {
            None
        } else {
            let mut keyed: Vec<(i64, u32)> = (0..n)
                .filter_map(|r| pid(r).map(|p| (p, r as u32)))
                .collect();
            keyed.par_sort_unstable();
            Some(keyed.into_iter().map(|(_, r)| r).collect::<Vec<u32>>())
        };
        let len = perm.as_ref().map_or(n, |p| p.len());
        let row_at = |k: usize| perm.as_ref().map_or(k, |p| p[k] as usize);
        let (mut starts, mut pids) = (Vec::new(), Vec::new());
        for k in 0..len {
            if let Some(p) = pid(row_at(k)) {
                if pids.last() != Some(&p) {
                    // Null-id rows before the first group join it; they
                    // carry no identifier anyway.
                    starts.push(if pids.is_empty() { 0 } else { k as u32 });
                    pids.push(p);
                }
            }
        }
        starts.push(len as u32);
        Some(PrevGroups {
            base,
            perm,
            starts,
            pids,
        })
    }

    /// Number of previous persons.
    pub(crate) fn len(&self) -> usize {
        self.pids.len()
    }

    /// Person id of group `g`.
    #[inline]
    pub(crate) fn pid(&self, g: usize) -> i64 {
        self.pids[g]
    }

    /// Positions of group `g` (see [`PrevGroups::row_at`]).
    #[inline]
    pub(crate) fn positions(&self, g: usize) -> Range<usize> {
        self.starts[g] as usize..self.starts[g + 1] as usize
    }

    /// Previous-table row at position `k` (subset-relative when the source
    /// has a subset).
    #[inline]
    pub(crate) fn row_at(&self, k: usize) -> usize {
        self.perm.as_ref().map_or(k, |p| p[k] as usize)
    }

    /// Whether positions are rows (the table was sorted by person id), so
    /// the groups are consecutive row ranges.
    pub(crate) fn in_row_order(&self) -> bool {
        self.perm.is_none()
    }

    /// Calls `f` with every identifier of group `g` that is still in play
    /// (not null, blocked or a hub).
    #[inline]
    pub(crate) fn for_each_member(
        &self,
        g: usize,
        occ_id: &[u32],
        hubs: &Hubs,
        mut f: impl FnMut(u32),
    ) {
        for k in self.starts[g] as usize..self.starts[g + 1] as usize {
            let row = self.perm.as_ref().map_or(k, |p| p[k] as usize);
            let id = occ_id[self.base + row];
            if id != NONE && !hubs.contains(id) {
                f(id);
            }
        }
    }

    /// The links that stand for previous persons in incremental mode: each
    /// identifier of a group to the group's first one.
    pub(crate) fn for_each_virtual_edge(
        &self,
        groups: Range<usize>,
        occ_id: &[u32],
        hubs: &Hubs,
        mut f: impl FnMut(u32, u32),
    ) {
        for g in groups {
            let mut first = NONE;
            self.for_each_member(g, occ_id, hubs, |id| {
                if first == NONE {
                    first = id;
                } else if id != first {
                    f(first, id);
                }
            });
        }
    }
}

/// Person ids chosen for the components, and what happened to old ids.
pub(crate) struct Assignment {
    /// Person id of each component.
    pub person: Vec<i64>,
    /// (old person id, surviving person id).
    pub merges: Vec<(i64, i64)>,
    /// (old person id, id of a part that left it).
    pub splits: Vec<(i64, i64)>,
    pub kept: u64,
    pub new: u64,
    pub merged: u64,
    pub split: u64,
    pub vanished: u64,
    pub next_person_id: i64,
}

/// Choose person ids (see the module documentation for the rules).
pub(crate) fn assign(
    groups: &Groups,
    comp: &[AtomicU32],
    prev: Option<&PrevGroups>,
    occ_id: &[u32],
    hubs: &Hubs,
    next_person_id: i64,
) -> CoreResult<Assignment> {
    let nc = groups.ranges.len();
    let first_occ: Vec<u32> = (0..nc)
        .into_par_iter()
        .with_min_len(1 << 12)
        .map(|c| {
            let (s, l) = groups.ranges[c];
            groups.rep_order[s as usize..(s + l) as usize]
                .iter()
                .copied()
                .min()
                .unwrap_or(NONE)
        })
        .collect();

    // heir[g] and the other components holding part of group g.
    let fates: Vec<(u32, Vec<u32>)> = match prev {
        None => Vec::new(),
        Some(pg) => (0..pg.len())
            .into_par_iter()
            .with_min_len(1 << 10)
            .map(|g| {
                let mut cs: Vec<u32> = Vec::new();
                pg.for_each_member(g, occ_id, hubs, |id| {
                    // NONE: an identifier a full rebuild no longer sees.
                    let c = comp[id as usize].load(Relaxed);
                    if c != NONE {
                        cs.push(c);
                    }
                });
                cs.sort_unstable();
                let mut parts: Vec<(u32, usize)> = Vec::new();
                for c in cs {
                    match parts.last_mut() {
                        Some((lc, n)) if *lc == c => *n += 1,
                        _ => parts.push((c, 1)),
                    }
                }
                let heir = parts
                    .iter()
                    .max_by(|a, b| {
                        a.1.cmp(&b.1)
                            .then(first_occ[b.0 as usize].cmp(&first_occ[a.0 as usize]))
                    })
                    .map_or(NONE, |p| p.0);
                let others = parts
                    .into_iter()
                    .map(|p| p.0)
                    .filter(|&c| c != heir)
                    .collect();
                (heir, others)
            })
            .collect(),
    };
    let pids: &[i64] = prev.map_or(&[], |p| &p.pids);

    // Groups are in ascending id order, so the first claim is the oldest.
    let mut owner = vec![NONE; nc];
    for (g, (heir, _)) in fates.iter().enumerate() {
        if *heir != NONE && owner[*heir as usize] == NONE {
            owner[*heir as usize] = g as u32;
        }
    }

    let max_prev = pids.last().copied();
    let mut next = match max_prev {
        Some(m) => m.checked_add(1).ok_or_else(overflow)?.max(next_person_id),
        None => next_person_id,
    };
    let mut fresh: Vec<u32> = (0..nc as u32)
        .filter(|&c| owner[c as usize] == NONE)
        .collect();
    fresh.par_sort_unstable_by_key(|&c| first_occ[c as usize]);
    let mut person = vec![0i64; nc];
    for (c, &o) in owner.iter().enumerate() {
        if o != NONE {
            person[c] = pids[o as usize];
        }
    }
    for &c in &fresh {
        person[c as usize] = next;
        next = next.checked_add(1).ok_or_else(overflow)?;
    }

    let mut a = Assignment {
        person,
        merges: Vec::new(),
        splits: Vec::new(),
        kept: 0,
        new: fresh.len() as u64,
        merged: 0,
        split: 0,
        vanished: 0,
        next_person_id: next,
    };
    for (g, (heir, others)) in fates.iter().enumerate() {
        let pid = pids[g];
        if *heir == NONE {
            a.vanished += 1;
            continue;
        }
        if owner[*heir as usize] == g as u32 {
            a.kept += 1;
        } else {
            a.merged += 1;
            a.merges.push((pid, a.person[*heir as usize]));
        }
        if !others.is_empty() {
            a.split += 1;
            a.splits
                .extend(others.iter().map(|&c| (pid, a.person[c as usize])));
        }
    }
    a.splits.sort_unstable();
    Ok(a)
}

fn overflow() -> CoreError {
    CoreError::LimitExceeded("stitch: person ids would exceed the int64 range".into())
}
