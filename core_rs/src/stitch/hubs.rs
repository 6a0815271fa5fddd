//! Hub detection: identifiers linked to far more distinct identifiers than
//! their type allows (a test phone typed into 10 000 accounts, a shared
//! tablet). They are cut before any union, so they cannot merge anyone.
//!
//! The occurrence count from interning bounds an identifier's degree from
//! above, so only identifiers whose count exceeds their threshold are looked
//! at; for those the distinct partners are collected exactly. Degrees come
//! from the input links alone (previous persons do not add degree), so the
//! outcome does not depend on row order or thread count. Hubs of earlier
//! runs (`known_hubs`) are cut again whatever their degree today.

use std::collections::HashMap;

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_128_with_seed, xxh3_64};

use super::config::{KnownHub, TypeRules};
use super::interner::Interned;
use super::source::{Source, NONE};

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
    /// An earlier run's hub (`known_hubs`), cut whatever its degree today.
    pub carried: bool,
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

/// Identifier ids of the `known` hubs that occur in this run, ascending.
///
/// A known hub is found by the interner's own key (the 128-bit hash of its
/// value seeded by its type, of which `Interned::key` keeps 32 bits) and
/// confirmed by comparing the value, so only a handful of values are read.
fn known_ids(source: &Source<'_>, interned: &Interned, known: &[KnownHub]) -> Vec<u32> {
    let mut wanted: HashMap<(u16, u32), Vec<&[u8]>> = HashMap::new();
    for k in known {
        let Ok(t) = interned
            .type_names
            .binary_search_by(|n| n.as_bytes().cmp(k.id_type.as_bytes()))
        else {
            continue; // the type does not occur today, so neither does the hub
        };
        let v = k.value.as_bytes();
        let h = xxh3_128_with_seed(v, xxh3_64(k.id_type.as_bytes()));
        let k32 = ((h >> 64) as u64) as u32;
        wanted.entry((t as u16, k32)).or_default().push(v);
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    (0..interned.rep.len() as u32)
        .into_par_iter()
        .filter(|&i| {
            let i = i as usize;
            wanted
                .get(&(interned.ty[i], interned.key[i]))
                .is_some_and(|vs| vs.contains(&source.value(interned.rep[i])))
        })
        .collect()
}

/// Find the hubs among the identifiers of `interned`: those linked to more
/// distinct identifiers than their type allows, and the `known` hubs of
/// earlier runs that occur again.
pub(crate) fn detect(
    source: &Source<'_>,
    interned: &Interned,
    rules: &TypeRules,
    known: &[KnownHub],
) -> Hubs {
    let n_links = source.n_links;
    let d = interned.rep.len();
    let forced_ids = known_ids(source, interned, known);
    let mut forced = BitSet::new(d);
    for &f in &forced_ids {
        forced.insert(f);
    }
    let candidates: Vec<u32> = (0..d as u32)
        .into_par_iter()
        .filter(|&i| {
            interned.count[i as usize] > rules.hub_degree[interned.ty[i as usize] as usize]
                || forced.contains(i)
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
        let carried = forced.contains(id);
        if partners.len() as u64 > threshold as u64 || carried {
            bits.insert(id);
            list.push(Hub {
                id,
                degree: partners.len() as u64,
                threshold,
                rows,
                partners,
                carried,
            });
        }
        i = j;
    }
    // A known hub seen today only in links that join nothing (a blocked or
    // empty partner, a self link) is still cut: it belongs to no person.
    let linked = list.len();
    for &f in &forced_ids {
        if !bits.contains(f) {
            bits.insert(f);
            list.push(Hub {
                id: f,
                degree: 0,
                threshold: rules.hub_degree[interned.ty[f as usize] as usize],
                rows: 0,
                partners: Vec::new(),
                carried: true,
            });
        }
    }
    if list.len() > linked {
        list.sort_unstable_by_key(|h| h.id);
    }
    Hubs { bits, list }
}
