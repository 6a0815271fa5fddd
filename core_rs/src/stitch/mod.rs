//! Identity stitching: identifier pairs seen together become one person.
//!
//! [`stitch`] takes `identity_links` columns (and optionally yesterday's
//! `persons`) and returns persons (id_type, id_value, person_id), the merges
//! and splits of earlier person ids, every cut made by a guardrail, and a
//! report. Phases:
//!
//! 1. `interner`: every (type, value) occurrence, read straight from the
//!    Arrow buffers, gets a dense `u32` id (128-bit hash keys, sharded tables,
//!    parallel). Null, empty and blocked values are rejected here.
//! 2. `hubs`: identifiers with too many distinct partners are cut.
//! 3. `union_find`: lock-free parallel union of all remaining links (and, in
//!    incremental mode, of previous persons' identifiers).
//! 4. `guarded`: components breaking a cap are re-joined link by link in
//!    priority order, cutting the links that would break the cap.
//! 5. `stable_ids`: person ids carried over from `previous`.
//! 6. `output`: Arrow batches, deterministic order.
//!
//! Determinism: the partition, the cuts and the output never depend on the
//! thread count; the partition and cuts do not depend on row order either.
//! Only the numbering of brand-new persons follows input order (first
//! appearance), which is what "same input, same output" needs.

mod block_rules;
mod columns;
mod config;
mod groups;
mod guarded;
mod hashing;
mod hubs;
mod interner;
mod output;
mod output_view;
mod report;
mod shard_table;
mod source;
mod stable_ids;
mod strings;
mod union_find;
mod util;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use rayon::prelude::*;

pub use block_rules::{default_block_rules, BlockRule, Pattern};
pub use columns::{LinkColumns, PersonsColumns};
pub use config::{OutputStrings, PreviousMode, StitchConfig};
pub use output::{merges_schema, persons_schema, splits_schema};
pub use output_view::persons_view_schema;
pub use report::{cuts_schema, cuts_to_batch, Cut, CutRule, InvalidSides, StitchReport};

use crate::error::CoreResult;
use config::TypeRules;
use groups::Groups;
use hubs::Hubs;
use interner::Interned;
use source::{text, Source, NONE};
use stable_ids::PrevGroups;
use union_find::ConcurrentUnionFind;

/// Everything a stitching run produces.
#[derive(Debug, Clone)]
pub struct StitchOutput {
    /// id_type utf8, id_value utf8, person_id int64 (utf8_view strings with
    /// `OutputStrings::View`); one row per identifier, ordered by
    /// (person_id, id_type, id_value).
    pub persons: RecordBatch,
    /// old_person_id, surviving_person_id: previous persons merged into an
    /// older one, ordered by old id.
    pub merges: RecordBatch,
    /// old_person_id, new_person_id: parts that left a previous person.
    pub splits: RecordBatch,
    /// Every cut (blocked value, hub, cap), in a deterministic order.
    pub cuts: Vec<Cut>,
    /// Counts and sizes.
    pub report: StitchReport,
}

/// Stitch `links` into persons, keeping ids of `previous` persons stable.
///
/// Errors: [`crate::CoreError::InvalidInput`] for wrong column types or an
/// identifier type outside `config.allowed_types` (the message names the
/// column and row) and for invalid settings; [`crate::CoreError::LimitExceeded`]
/// beyond about 2^31 link rows. Nulls, empty strings and blocked values are
/// not errors: they are counted in the report and never linked.
pub fn stitch(
    links: &LinkColumns<'_>,
    previous: Option<&PersonsColumns<'_>>,
    config: &StitchConfig,
) -> CoreResult<StitchOutput> {
    config.validate()?;
    let source = Source::new(links, previous)?;
    let interned = interner::intern(&source, config)?;
    let rules = TypeRules::new(interned.type_names.clone(), config);
    let hubs = hubs::detect(&interned, source.n_links, &rules);
    let prev = PrevGroups::build(&source);
    let incremental = config.previous_mode == PreviousMode::Incremental;

    let uf = ConcurrentUnionFind::new(interned.rep.len());
    union_links(&uf, &interned.occ_id[..source.n_links * 2], &hubs);
    if let (Some(pg), true) = (&prev, incremental) {
        (0..pg.len())
            .into_par_iter()
            .with_min_len(1 << 10)
            .for_each(|g| {
                pg.for_each_virtual_edge(g..g + 1, &interned.occ_id, &hubs, |a, b| {
                    uf.union(a, b);
                });
            });
    }
    let comp = uf.into_roots();
    // A full rebuild keeps only identifiers seen in today's links; those
    // seen only in previous persons (first occurrence past the links) vanish.
    let link_occs = (source.n_links * 2) as u32;
    let rep = &interned.rep;
    let mut groups = Groups::build(&comp, rep, &interned.ty, |id| {
        hubs.contains(id) || (!incremental && rep[id as usize] >= link_occs)
    });

    let violating = groups.violations(&rules, config.max_component_size);
    let ctx = guarded::GuardCtx {
        source: &source,
        interned: &interned,
        rules: &rules,
        hubs: &hubs,
        max_size: config.max_component_size,
    };
    let cap = guarded::enforce(
        &ctx,
        &mut groups,
        &comp,
        &violating,
        prev.as_ref().filter(|_| incremental),
    );

    let ids = stable_ids::assign(
        &groups,
        &comp,
        prev.as_ref(),
        &interned.occ_id,
        &hubs,
        config.next_person_id,
    )?;
    let sizes: Vec<u32> = groups.ranges.iter().map(|r| r.1).collect();
    let comp_of = |id: u32| comp[id as usize].load(std::sync::atomic::Ordering::Relaxed);

    let mut cuts = blocked_cuts(&source, &interned, config, &comp_of, &sizes);
    cuts.extend(hub_cuts(
        &source, &interned, &rules, &hubs, &comp_of, &sizes,
    ));
    let rows = row_stats(&source, &interned, &hubs);
    let mut report = StitchReport {
        links: source.n_links as u64,
        self_links: rows.self_links,
        previous_rows: source.n_prev as u64,
        identifiers: groups.order.len() as u64,
        components: groups.ranges.len() as u64,
        invalid_sides: interned.invalid,
        blocked_occurrences: interned.blocked_occ.len() as u64,
        blocked_identifiers: interned.blocked.len() as u64,
        hubs: hubs.list.len() as u64,
        persons_kept: ids.kept,
        persons_new: ids.new,
        persons_merged: ids.merged,
        persons_split: ids.split,
        persons_vanished: ids.vanished,
        next_person_id: ids.next_person_id,
        ..StitchReport::default()
    };
    (report.largest_component, report.singletons) = groups.size_stats();
    let cut_rows: BTreeMap<String, u64> = [
        ("invalid", rows.invalid),
        ("blocked", rows.blocked),
        ("hub", rows.hub),
        ("max_ids_per_type", cap.rows_type),
        ("max_component_size", cap.rows_size),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), *v))
    .collect();
    report.links_joined = report.links - cut_rows.values().sum::<u64>() - rows.self_links;
    report.links_cut = cut_rows;
    cuts.extend(cap.cuts);
    Cut::sort(&mut cuts);
    for c in &cuts {
        *report
            .cuts_by_rule
            .entry(c.rule.name().to_string())
            .or_default() += 1;
    }

    // The output is the largest allocation; free what it does not read.
    let names = interned.type_names.clone();
    drop(interned);
    drop(comp);
    groups.order = Vec::new();
    let persons = match config.output_strings {
        OutputStrings::Utf8 => output::persons_utf8(&source, &names, &groups, &ids.person)?,
        OutputStrings::View => output_view::persons_view(&source, &names, &groups, &ids.person)?,
    };
    let mut merges = ids.merges;
    merges.sort_unstable();
    Ok(StitchOutput {
        persons,
        merges: output::pairs_batch(merges_schema(), &merges)?,
        splits: output::pairs_batch(splits_schema(), &ids.splits)?,
        cuts,
        report,
    })
}

/// Parallel union of every link row whose sides are valid and not hubs.
fn union_links(uf: &ConcurrentUnionFind, occ: &[u32], hubs: &Hubs) {
    occ.par_chunks(1 << 15).for_each(|chunk| {
        for pair in chunk.chunks_exact(2) {
            let (a, b) = (pair[0], pair[1]);
            if a != NONE && b != NONE && a != b && !hubs.contains(a) && !hubs.contains(b) {
                uf.union(a, b);
            }
        }
    });
}

#[derive(Default)]
struct RowStats {
    invalid: u64,
    blocked: u64,
    hub: u64,
    self_links: u64,
}

/// Classify link rows that were not joined: a row with an invalid side is
/// `invalid`, else one with a blocked side is `blocked`; a row of one
/// identifier with itself is a self link; else a row touching a hub is `hub`.
fn row_stats(source: &Source<'_>, interned: &Interned, hubs: &Hubs) -> RowStats {
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
fn blocked_cuts(
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
fn hub_cuts(
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
