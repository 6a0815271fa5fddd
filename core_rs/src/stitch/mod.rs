//! Identity stitching: identifier pairs seen together become one person.
//!
//! [`stitch`] takes `identity_links` columns (and optionally yesterday's
//! `persons`) and returns persons (id_type, id_value, person_id), the merges
//! and splits of earlier person ids, every cut made by a guardrail, and a
//! report. Phases:
//!
//! 1. `interner`: every (type, value) occurrence, read straight from the
//!    Arrow buffers, gets a dense `u32` id (128-bit hash keys, sharded tables,
//!    parallel). Null, empty and blocked values are rejected here. Each
//!    identifier keeps its first occurrence (where its text is read back:
//!    no string is copied), type, value length and a 32-bit content key.
//! 2. `hubs`: identifiers with too many distinct partners are cut.
//! 3. `union_find`: lock-free parallel union of all remaining links (and, in
//!    incremental mode, of previous persons' identifiers).
//! 4. `guarded`: components breaking a cap are re-joined link by link in
//!    a fixed order ([`CapOrder`]), cutting the links that would break the cap.
//! 5. `stable_ids`: person ids carried over from `previous`.
//! 6. `output`: Arrow batches, deterministic order, each value read once.
//!
//! Orders that only need to be deterministic sort by integer keys (content
//! hashes, 8-byte prefixes), never by comparing strings through the input
//! buffers; strings are compared only where the keys tie.
//!
//! An incremental run copies the previous persons today's links do not
//! touch and runs the phases on the rest (`incremental`, `splice`); the
//! result is the same as running them on everything.
//!
//! Streamed input ([`StreamStitcher`], `stream`): batches are copied one at
//! a time into compact owned storage (each distinct value once, links as
//! integer keys) and the same phases then run over dictionary arrays of
//! that storage, with the same result as [`stitch`] on the same rows.
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
mod incremental;
mod interner;
mod output;
mod output_view;
mod prev_columns;
mod report;
mod shard_table;
mod source;
mod splice;
mod stable_ids;
mod stream;
mod strings;
mod union_find;
mod unjoined;
mod util;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use rayon::prelude::*;

pub use block_rules::{default_block_rules, BlockRule, Pattern};
pub use columns::{LinkColumns, PersonsColumns};
pub use config::{CapOrder, KnownHub, OutputStrings, PreviousMode, StitchConfig};
pub use output::{merges_schema, persons_schema, splits_schema};
pub use output_view::persons_view_schema;
pub use report::{cuts_schema, cuts_to_batch, Cut, CutRule, InvalidSides, StitchReport};
pub use stream::StreamStitcher;
pub use util::Phases;

use crate::error::CoreResult;
use config::TypeRules;
use groups::Groups;
use hubs::Hubs;
use source::{Source, NONE};
use stable_ids::PrevGroups;
use union_find::ConcurrentUnionFind;
use unjoined::{blocked_cuts, hub_cuts, row_stats};

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
    /// Wall time per phase (profiling only; varies from run to run).
    pub phases: Phases,
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
    stitch_with(links, previous, config, true)
}

/// [`stitch`], with the fast incremental path allowed or not (tests compare
/// the two).
fn stitch_with(
    links: &LinkColumns<'_>,
    previous: Option<&PersonsColumns<'_>>,
    config: &StitchConfig,
    allow_split: bool,
) -> CoreResult<StitchOutput> {
    config.validate()?;
    let mut phases = Phases::start();
    let fast = allow_split
        && config.previous_mode == PreviousMode::Incremental
        && config.output_strings == OutputStrings::Utf8;
    if let (Some(prev), true) = (previous, fast) {
        let full = Source::new(links, previous)?;
        let split =
            incremental::split(&full, config).filter(|s| s.max_pid.is_none_or(|m| m < i64::MAX));
        if let Some(split) = split {
            phases.mark("split");
            return stitch_split(links, prev, config, &split, phases);
        }
    }
    run(&Source::new(links, previous)?, config, phases)
}

/// An incremental run on the touched part of `prev`, merged with the rest.
fn stitch_split(
    links: &LinkColumns<'_>,
    prev: &PersonsColumns<'_>,
    config: &StitchConfig,
    split: &incremental::Split,
    phases: Phases,
) -> CoreResult<StitchOutput> {
    let source = Source::with_subset(links, Some(prev), Some(&split.subset))?;
    // New ids start above every previous id, not only the subset's.
    let floor = split.max_pid.map_or(i64::MIN, |m| m + 1);
    let cfg = StitchConfig {
        next_person_id: config.next_person_id.max(floor),
        ..config.clone()
    };
    let mut out = run(&source, &cfg, phases)?;
    out.persons = splice::persons(split, prev, &out.persons)?;
    let r = &mut out.report;
    r.previous_rows = prev.len() as u64;
    for g in (0..split.groups.len()).filter(|&g| !split.touched[g]) {
        let size = split.groups.positions(g).len() as u64;
        r.identifiers += size;
        r.components += 1;
        r.persons_kept += 1;
        r.largest_component = r.largest_component.max(size);
        r.singletons += u64::from(size == 1);
    }
    out.phases.mark("splice");
    Ok(out)
}

/// The pipeline over the occurrences of `source`.
fn run(source: &Source<'_>, config: &StitchConfig, mut phases: Phases) -> CoreResult<StitchOutput> {
    let interned = interner::intern(source, config)?;
    phases.mark("intern");
    let rules = TypeRules::new(interned.type_names.clone(), config);
    let hubs = hubs::detect(source, &interned, &rules, &config.known_hubs);
    let prev = PrevGroups::build(source);
    phases.mark("hubs+prev");
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
    phases.mark("union");
    // A full rebuild keeps only identifiers seen in today's links; those
    // seen only in previous persons (first occurrence past the links) vanish.
    let link_occs = (source.n_links * 2) as u32;
    let rep = &interned.rep;
    let mut groups = Groups::build(&comp, rep, &interned.ty, |id| {
        hubs.contains(id) || (!incremental && rep[id as usize] >= link_occs)
    });

    phases.mark("groups");
    let violating = groups.violations(&rules, config.max_component_size);
    let ctx = guarded::GuardCtx {
        source,
        interned: &interned,
        rules: &rules,
        hubs: &hubs,
        max_size: config.max_component_size,
        order: config.cap_order,
    };
    let cap = guarded::enforce(
        &ctx,
        &mut groups,
        &comp,
        &violating,
        prev.as_ref().filter(|_| incremental),
    );
    phases.mark("guarded");

    let ids = stable_ids::assign(
        &groups,
        &comp,
        prev.as_ref(),
        &interned.occ_id,
        &hubs,
        config.next_person_id,
    )?;
    phases.mark("ids");
    let sizes: Vec<u32> = groups.ranges.iter().map(|r| r.1).collect();
    let comp_of = |id: u32| comp[id as usize].load(std::sync::atomic::Ordering::Relaxed);

    let mut cuts = blocked_cuts(source, &interned, config, &comp_of, &sizes);
    cuts.extend(hub_cuts(source, &interned, &rules, &hubs, &comp_of, &sizes));
    let rows = row_stats(source, &interned, &hubs);
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

    phases.mark("cuts+report");
    // The output is the largest allocation; free what it does not read.
    let names = interned.type_names.clone();
    let comp_bytes = groups.value_bytes(&interned.len);
    drop(interned);
    drop(comp);
    groups.order = Vec::new();
    let persons = match config.output_strings {
        OutputStrings::Utf8 => {
            output::persons_utf8(source, &names, &groups, &ids.person, &comp_bytes)?
        }
        OutputStrings::View => output_view::persons_view(source, &names, &groups, &ids.person)?,
    };
    let mut merges = ids.merges;
    merges.sort_unstable();
    let merges = output::pairs_batch(merges_schema(), &merges)?;
    let splits = output::pairs_batch(splits_schema(), &ids.splits)?;
    phases.mark("output");
    Ok(StitchOutput {
        persons,
        merges,
        splits,
        cuts,
        report,
        phases,
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
