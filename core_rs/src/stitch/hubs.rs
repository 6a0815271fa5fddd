//! Hub detection: identifiers linked to far more distinct identifiers than
//! their type allows (a test phone typed into 10 000 accounts, a shared
//! tablet). They are cut before any union, so they cannot merge anyone.
//!
//! The occurrence count from interning bounds an identifier's degree from
//! above, so only identifiers whose count exceeds their threshold are looked
//! at; for those the distinct partners are collected exactly. Degrees come
//! from the input links alone (previous persons do not add degree), so the
//! outcome does not depend on row order or thread count.

use rayon::prelude::*;

use super::config::TypeRules;
use super::interner::Interned;
use super::source::NONE;

/// A dense bit set over identifier ids.
pub(crate) struct BitSet {
    words: Vec<u64>,
}

impl BitSet {
    pub(crate) fn new(n: usize) -> Self {
        BitSet {
            words: vec![0; n.div_ceil(64)],
        }
    }

    #[inline]
    pub(crate) fn insert(&mut self, i: u32) {
        self.words[(i >> 6) as usize] |= 1 << (i & 63);
    }

    #[inline]
    pub(crate) fn contains(&self, i: u32) -> bool {
        self.words
            .get((i >> 6) as usize)
            .is_some_and(|w| w >> (i & 63) & 1 == 1)
    }
}

/// One identifier cut as a hub.
pub(crate) struct Hub {
    pub id: u32,
    /// Distinct identifiers linked to it.
    pub degree: u64,
    pub threshold: u32,
    /// Link rows it appears in (self links excluded).
    pub rows: u64,
    /// Its distinct partners (for the "would have merged" figures).
    pub partners: Vec<u32>,
}

/// The hubs of a run.
pub(crate) struct Hubs {
    pub bits: BitSet,
    pub list: Vec<Hub>,
}

impl Hubs {
    /// Whether identifier `id` is a hub.
    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        !self.list.is_empty() && self.bits.contains(id)
    }
}

/// Find the hubs among the identifiers of `interned`.
pub(crate) fn detect(interned: &Interned, n_links: usize, rules: &TypeRules) -> Hubs {
    let d = interned.rep.len();
    let candidates: Vec<u32> = (0..d as u32)
        .into_par_iter()
        .filter(|&i| {
            interned.count[i as usize] > rules.hub_degree[interned.ty[i as usize] as usize]
        })
        .collect();
    let mut bits = BitSet::new(d);
    if candidates.is_empty() {
        return Hubs {
            bits,
            list: Vec::new(),
        };
    }
    let mut cand_bits = BitSet::new(d);
    for &c in &candidates {
        cand_bits.insert(c);
    }

    // (candidate, partner) of every link row touching a candidate; at most
    // twice the rows, usually a tiny fraction.
    let occ = &interned.occ_id[..n_links * 2];
    let mut pairs: Vec<(u32, u32)> = occ
        .par_chunks(1 << 16)
        .flat_map_iter(|chunk| {
            let mut out = Vec::new();
            for row in chunk.chunks_exact(2) {
                let (a, b) = (row[0], row[1]);
                if a == NONE || b == NONE || a == b {
                    continue;
                }
                if cand_bits.contains(a) {
                    out.push((a, b));
                }
                if cand_bits.contains(b) {
                    out.push((b, a));
                }
            }
            out
        })
        .collect();
    pairs.par_sort_unstable();

    let mut list = Vec::new();
    let mut i = 0;
    while i < pairs.len() {
        let id = pairs[i].0;
        let mut j = i;
        while j < pairs.len() && pairs[j].0 == id {
            j += 1;
        }
        let rows = (j - i) as u64;
        let mut partners: Vec<u32> = pairs[i..j].iter().map(|p| p.1).collect();
        partners.dedup();
        let threshold = rules.hub_degree[interned.ty[id as usize] as usize];
        if partners.len() as u64 > threshold as u64 {
            bits.insert(id);
            list.push(Hub {
                id,
                degree: partners.len() as u64,
                threshold,
                rows,
                partners,
            });
        }
        i = j;
    }
    Hubs { bits, list }
}
