//! Components as contiguous groups of identifier ids.
//!
//! After the unconstrained union every identifier knows its root; here the
//! roots become component numbers and the ids are counting-sorted so each
//! component is one range of `order`. The guarded pass later splits a range
//! in place into several (new components appended at the end), and output
//! reads persons straight from the ranges.

use std::sync::atomic::{AtomicU16, AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::config::TypeRules;
use super::source::NONE;

/// Identifier ids grouped by component.
pub(crate) struct Groups {
    /// Every identifier that belongs to a person, grouped by component.
    pub order: Vec<u32>,
    /// `(start, len)` of each component in `order`.
    pub ranges: Vec<(u32, u32)>,
    /// First occurrence of the identifier at each position of `order`.
    /// Kept alongside so later phases read them sequentially instead of
    /// looking them up by id at random.
    pub rep_order: Vec<u32>,
    /// Type of the identifier at each position of `order`.
    pub ty_order: Vec<u16>,
}

impl Groups {
    /// The ids of component `c`.
    #[inline]
    pub(crate) fn members(&self, c: usize) -> &[u32] {
        let (s, l) = self.ranges[c];
        &self.order[s as usize..(s + l) as usize]
    }

    /// Build from the flattened union-find roots. `comp` (the root array)
    /// is rewritten in place to hold each identifier's component number
    /// (`NONE` for `excluded` identifiers, which belong to no person: hubs,
    /// and in a full rebuild identifiers seen only in previous persons; an
    /// excluded identifier has no links, so it is its own root).
    /// Components are numbered by their smallest id, members in id order.
    ///
    /// A parallel counting sort: each of a few id chunks histograms its
    /// components, a prefix sum gives every (chunk, component) its own
    /// positions, and the chunks scatter independently.
    pub(crate) fn build(
        comp: &[AtomicU32],
        rep: &[u32],
        ty: &[u16],
        excluded: impl Fn(u32) -> bool + Sync,
    ) -> Groups {
        let d = comp.len();
        // Each chunk holds a histogram over all components: keep them few.
        let chunks = rayon::current_num_threads().clamp(1, 4);
        let step = d.div_ceil(chunks).max(1);
        let is_root = |id: usize| comp[id].load(Relaxed) == id as u32 && !excluded(id as u32);

        // Number the roots in id order: count per chunk, then fill.
        let mut comp_of_root = vec![NONE; d];
        let counts: Vec<u32> = (0..d)
            .into_par_iter()
            .step_by(step)
            .map(|s| (s..(s + step).min(d)).filter(|&id| is_root(id)).count() as u32)
            .collect();
        let mut first = Vec::with_capacity(counts.len());
        let mut c = 0u32;
        for &n in &counts {
            first.push(c);
            c += n;
        }
        comp_of_root
            .par_chunks_mut(step)
            .zip(first)
            .enumerate()
            .for_each(|(k, (slots, mut next))| {
                for (j, slot) in slots.iter_mut().enumerate() {
                    if is_root(k * step + j) {
                        *slot = next;
                        next += 1;
                    }
                }
            });
        comp.par_iter()
            .enumerate()
            .with_min_len(1 << 14)
            .for_each(|(id, r)| {
                let v = if excluded(id as u32) {
                    NONE
                } else {
                    comp_of_root[r.load(Relaxed) as usize]
                };
                r.store(v, Relaxed);
            });
        drop(comp_of_root);

        let nc = c as usize;
        let mut hist: Vec<Vec<u32>> = (0..d)
            .into_par_iter()
            .step_by(step)
            .map(|s| {
                let mut h = vec![0u32; nc];
                for r in &comp[s..(s + step).min(d)] {
                    let v = r.load(Relaxed);
                    if v != NONE {
                        h[v as usize] += 1;
                    }
                }
                h
            })
            .collect();
        // hist[k][c] becomes chunk k's first position in component c.
        let mut ranges = Vec::with_capacity(nc);
        let mut acc = 0u32;
        for c in 0..nc {
            let start = acc;
            for h in hist.iter_mut() {
                let n = h[c];
                h[c] = acc;
                acc += n;
            }
            ranges.push((start, acc - start));
        }
        let total = acc as usize;
        let order: Vec<AtomicU32> = (0..total)
            .into_par_iter()
            .map(|_| AtomicU32::new(0))
            .collect();
        let rep_order: Vec<AtomicU32> = (0..total)
            .into_par_iter()
            .map(|_| AtomicU32::new(0))
            .collect();
        let ty_order: Vec<AtomicU16> = (0..total)
            .into_par_iter()
            .map(|_| AtomicU16::new(0))
            .collect();
        hist.par_iter_mut().enumerate().for_each(|(k, pos)| {
            let s = k * step;
            for id in s..(s + step).min(d) {
                let v = comp[id].load(Relaxed);
                if v != NONE {
                    let p = &mut pos[v as usize];
                    order[*p as usize].store(id as u32, Relaxed);
                    rep_order[*p as usize].store(rep[id], Relaxed);
                    ty_order[*p as usize].store(ty[id], Relaxed);
                    *p += 1;
                }
            }
        });
        drop(hist);
        Groups {
            order: order.into_iter().map(AtomicU32::into_inner).collect(),
            ranges,
            rep_order: rep_order.into_iter().map(AtomicU32::into_inner).collect(),
            ty_order: ty_order.into_iter().map(AtomicU16::into_inner).collect(),
        }
    }

    /// Re-derive `rep_order` and `ty_order` on positions `start..start + len`
    /// after `order` was rearranged there.
    pub(crate) fn refresh(&mut self, start: u32, len: u32, rep: &[u32], ty: &[u16]) {
        for p in start as usize..(start + len) as usize {
            let id = self.order[p] as usize;
            self.rep_order[p] = rep[id];
            self.ty_order[p] = ty[id];
        }
    }

    /// Components that break `max_size` or a per-type cap as they stand.
    /// Only these need the careful, ordered pass; every other component is
    /// final (no union inside it could break a cap).
    pub(crate) fn violations(&self, rules: &TypeRules, max_size: Option<u32>) -> Vec<u32> {
        let min_cap = rules.capped.iter().map(|c| c.1).min();
        (0..self.ranges.len() as u32)
            .into_par_iter()
            .with_min_len(1 << 12)
            .filter(|&c| {
                let (_, len) = self.ranges[c as usize];
                if max_size.is_some_and(|m| len > m) {
                    return true;
                }
                match min_cap {
                    Some(mc) if len > mc => {
                        let mut counts = vec![0u32; rules.capped.len()];
                        let (s, l) = self.ranges[c as usize];
                        for &t in &self.ty_order[s as usize..(s + l) as usize] {
                            if let Some(s) = rules.cap_slot[t as usize] {
                                counts[s] += 1;
                            }
                        }
                        counts
                            .iter()
                            .zip(&rules.capped)
                            .any(|(&n, &(_, cap))| n > cap)
                    }
                    _ => false,
                }
            })
            .collect()
    }

    /// Give each component's members their component number in `comp`.
    pub(crate) fn write_comp(&self, comp: &[AtomicU32], components: &[u32]) {
        components.par_iter().for_each(|&c| {
            for &id in self.members(c as usize) {
                comp[id as usize].store(c, Relaxed);
            }
        });
    }

    /// Bytes of the values of each component (`len`: per identifier).
    pub(crate) fn value_bytes(&self, len: &[u32]) -> Vec<u64> {
        self.ranges
            .par_iter()
            .with_min_len(1 << 12)
            .map(|&(s, l)| {
                self.order[s as usize..(s + l) as usize]
                    .iter()
                    .map(|&id| len[id as usize] as u64)
                    .sum()
            })
            .collect()
    }

    /// Size of the largest component and the number of singletons.
    pub(crate) fn size_stats(&self) -> (u64, u64) {
        let largest = self.ranges.iter().map(|r| r.1 as u64).max().unwrap_or(0);
        let singletons = self.ranges.iter().filter(|r| r.1 == 1).count() as u64;
        (largest, singletons)
    }
}
