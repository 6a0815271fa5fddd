//! Counting what a run did not join: link rows by reason, and one cut per
//! blocked identifier and per hub.

use rayon::prelude::*;

use super::config::{StitchConfig, TypeRules};
use super::hubs::Hubs;
use super::interner::Interned;
use super::report::{Cut, CutRule};
use super::source::{text, Source, NONE};

/// Link rows not joined, by reason.
#[derive(Default)]
pub(crate) struct RowStats {
    pub invalid: u64,
    pub blocked: u64,
    pub hub: u64,
    pub self_links: u64,
}

/// Classify link rows that were not joined: a row with an invalid side is
/// `invalid`, else one with a blocked side is `blocked`; a row of one
/// identifier with itself is a self link; else a row touching a hub is `hub`.
pub(crate) fn row_stats(source: &Source<'_>, interned: &Interned, hubs: &Hubs) -> RowStats {
    let occ = &interned.occ_id[..source.n_links * 2];
    let (with_none, self_links, hub) = occ
        .par_chunks(1 << 15)
        .map(|chunk| {
            let mut t = (0u64, 0u64, 0u64);
            for p in chunk.chunks_exact(2) {
                if p[0] == NONE || p[1] == NONE {
                    t.0 += 1;
                } else if p[0] == p[1] {
                    t.1 += 1;
                } else if hubs.contains(p[0]) || hubs.contains(p[1]) {
                    t.2 += 1;
                }
            }
            t
        })
        .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    // blocked_occ is in occurrence order: both sides of a row are adjacent.
    let link_blocked: Vec<u32> = interned
        .blocked_occ
        .iter()
        .map(|b| b.0)
        .filter(|&o| (o as usize) < source.n_links * 2)
        .collect();
    let mut blocked = 0u64;
    let mut i = 0;
    while i < link_blocked.len() {
        let o = link_blocked[i];
        let both = i + 1 < link_blocked.len() && link_blocked[i + 1] == o ^ 1;
        // A row whose other side is null/empty counts as invalid.
        if both || occ[(o ^ 1) as usize] != NONE {
            blocked += 1;
        }
        i += if both { 2 } else { 1 };
    }
    RowStats {
        invalid: with_none - blocked,
        blocked,
        hub,
        self_links,
    }
}

/// Persons and identifiers among distinct components.
fn merged_size(mut comps: Vec<u32>, sizes: &[u32]) -> (u64, u64) {
    comps.retain(|&c| c != NONE);
    comps.sort_unstable();
    comps.dedup();
    (
        comps.len() as u64,
        comps.iter().map(|&c| sizes[c as usize] as u64).sum(),
    )
}

/// One cut per distinct blocked identifier.
pub(crate) fn blocked_cuts(
    source: &Source<'_>,
    interned: &Interned,
    config: &StitchConfig,
    comp_of: &(dyn Fn(u32) -> u32 + Sync),
    sizes: &[u32],
) -> Vec<Cut> {
    let n_link_occ = source.n_links as u64 * 2;
    let mut partners: Vec<Vec<u32>> = vec![Vec::new(); interned.blocked.len()];
    let mut link_rows = vec![0u64; interned.blocked.len()];
    for &(occ, b) in &interned.blocked_occ {
        if (occ as u64) < n_link_occ {
            link_rows[b as usize] += 1;
            let other = interned.occ_id[(occ ^ 1) as usize];
            if other != NONE {
                partners[b as usize].push(comp_of(other));
            }
        }
    }
    interned
        .blocked
        .iter()
        .zip(partners)
        .zip(link_rows)
        .map(|((b, comps), rows)| {
            let (persons, identifiers) = merged_size(comps, sizes);
            Cut {
                rule: CutRule::Blocked {
                    pattern: config.block_rules[b.rule as usize].describe(),
                },
                id_type: interned.type_names[b.ty as usize].clone(),
                id_value: text(source.value(b.first_occ)),
                other_type: None,
                other_value: None,
                links: rows,
                would_merge_persons: persons,
                would_merge_identifiers: identifiers,
            }
        })
        .collect()
}

/// One cut per hub.
pub(crate) fn hub_cuts(
    source: &Source<'_>,
    interned: &Interned,
    rules: &TypeRules,
    hubs: &Hubs,
    comp_of: &(dyn Fn(u32) -> u32 + Sync),
    sizes: &[u32],
) -> Vec<Cut> {
    hubs.list
        .iter()
        .map(|h| {
            let (persons, identifiers) =
                merged_size(h.partners.iter().map(|&p| comp_of(p)).collect(), sizes);
            Cut {
                rule: CutRule::Hub {
                    degree: h.degree,
                    threshold: h.threshold,
                    carried: h.carried,
                },
                id_type: rules.names[interned.ty[h.id as usize] as usize].clone(),
                id_value: text(source.value(interned.rep[h.id as usize])),
                other_type: None,
                other_value: None,
                links: h.rows,
                would_merge_persons: persons,
                would_merge_identifiers: identifiers,
            }
        })
        .collect()
}
