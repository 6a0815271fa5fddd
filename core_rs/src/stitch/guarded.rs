//! The guarded pass: inside a component that breaks `max_component_size` or
//! a per-type cap, join its links one at a time in a fixed order and cut
//! every link whose join would break a cap.
//!
//! Order of links (first joined first): links standing for previous persons
//! (incremental mode); then, with [`CapOrder::Trust`], by the type priority
//! of the weaker endpoint (a link is as trustworthy as its weaker
//! identifier), most recently observed first, then by the priority of the
//! stronger endpoint; with [`CapOrder::Arrival`], by first observation
//! (oldest first), then by the two priorities. Last come the endpoints'
//! (type, hash key) (the values themselves between equal keys). Every key
//! is content, not input position, so the cuts do not depend on row order
//! or threads. Components are resolved independently and in parallel; only
//! the violating ones get here, which in real data is a small fraction.

use std::cmp::Reverse;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

use rayon::prelude::*;

use super::config::{CapOrder, TypeRules};
use super::groups::Groups;
use super::hubs::{BitSet, Hubs};
use super::interner::Interned;
use super::report::{Cut, CutRule};
use super::source::{text, Source, NONE};
use super::stable_ids::PrevGroups;
use super::union_find::{LocalUnionFind, Refusal, Union};

/// What the guarded pass needs to read.
pub(crate) struct GuardCtx<'a, 's> {
    pub source: &'a Source<'s>,
    pub interned: &'a Interned,
    pub rules: &'a TypeRules,
    pub hubs: &'a Hubs,
    pub max_size: Option<u32>,
    pub order: CapOrder,
}

/// A link inside a violating component; `row == NONE` for a previous-person link.
#[derive(Clone, Copy)]
struct GEdge {
    v: u32,
    a: u32,
    b: u32,
    row: u32,
    /// `observed_at` of the row (read while the rows are scanned in order).
    recency: i64,
}

/// Cuts made by the guarded pass and the link rows they removed.
#[derive(Default)]
pub(crate) struct CapCuts {
    pub cuts: Vec<Cut>,
    pub rows_type: u64,
    pub rows_size: u64,
}

/// Resolve the `violating` components of `groups`: split their ranges in
/// place, append the new components, and update `comp`.
pub(crate) fn enforce(
    ctx: &GuardCtx<'_, '_>,
    groups: &mut Groups,
    comp: &[AtomicU32],
    violating: &[u32],
    prev: Option<&PrevGroups>,
) -> CapCuts {
    if violating.is_empty() {
        return CapCuts::default();
    }
    let edges = gather(ctx, groups, comp, violating, prev);

    // Disjoint mutable slices of `order`, one per violating component.
    let mut by_start: Vec<(u32, usize)> = violating
        .iter()
        .enumerate()
        .map(|(v, &c)| (groups.ranges[c as usize].0, v))
        .collect();
    by_start.sort_unstable();
    let mut work: Vec<(usize, &mut [u32], &[GEdge])> = Vec::with_capacity(violating.len());
    let mut rest: &mut [u32] = &mut groups.order;
    let mut consumed = 0usize;
    let edge_ranges = edge_ranges(&edges, violating.len());
    for &(start, v) in &by_start {
        let len = groups.ranges[violating[v] as usize].1 as usize;
        let tail = std::mem::take(&mut rest);
        let (_, tail) = tail.split_at_mut(start as usize - consumed);
        let (mine, tail) = tail.split_at_mut(len);
        rest = tail;
        consumed = start as usize + len;
        work.push((v, mine, &edges[edge_ranges[v].clone()]));
    }
    // Largest first so one huge component does not start last.
    work.sort_by_key(|w| Reverse(w.1.len()));
    let results: Vec<(usize, Vec<u32>, CapCuts)> = work
        .into_par_iter()
        .map(|(v, members, es)| {
            let (lens, cuts) = resolve(ctx, members, es);
            (v, lens, cuts)
        })
        .collect();

    let mut out = CapCuts::default();
    let mut changed: Vec<u32> = Vec::new();
    for (v, lens, cuts) in results {
        let c = violating[v] as usize;
        let (mut start, len) = groups.ranges[c];
        groups.refresh(start, len, &ctx.interned.rep, &ctx.interned.ty);
        for (i, &len) in lens.iter().enumerate() {
            if i == 0 {
                groups.ranges[c] = (start, len);
            } else {
                changed.push(groups.ranges.len() as u32);
                groups.ranges.push((start, len));
            }
            start += len;
        }
        out.cuts.extend(cuts.cuts);
        out.rows_type += cuts.rows_type;
        out.rows_size += cuts.rows_size;
    }
    groups.write_comp(comp, &changed);
    out
}

fn edge_ranges(edges: &[GEdge], n: usize) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::with_capacity(n);
    let mut i = 0;
    for v in 0..n as u32 {
        let s = i;
        while i < edges.len() && edges[i].v == v {
            i += 1;
        }
        ranges.push(s..i);
    }
    ranges
}

/// Links (input rows and previous-person links) inside violating components,
/// sorted by component.
fn gather(
    ctx: &GuardCtx<'_, '_>,
    groups: &Groups,
    comp: &[AtomicU32],
    violating: &[u32],
    prev: Option<&PrevGroups>,
) -> Vec<GEdge> {
    let occ_id = &ctx.interned.occ_id;
    let mut vidx = vec![NONE; groups.ranges.len()];
    let mut inside = BitSet::new(comp.len());
    for (v, &c) in violating.iter().enumerate() {
        vidx[c as usize] = v as u32;
        for &id in groups.members(c as usize) {
            inside.insert(id);
        }
    }
    let v_of = |id: u32| vidx[comp[id as usize].load(Relaxed) as usize];
    const ROWS: usize = 1 << 15;
    let links = &occ_id[..ctx.source.n_links * 2];
    let mut edges: Vec<GEdge> = links
        .par_chunks(ROWS * 2)
        .enumerate()
        .flat_map_iter(|(ci, chunk)| {
            let mut out = Vec::new();
            for (k, pair) in chunk.chunks_exact(2).enumerate() {
                let (a, b) = (pair[0], pair[1]);
                if a == NONE || b == NONE || a == b || !inside.contains(a) {
                    continue;
                }
                if ctx.hubs.contains(a) || ctx.hubs.contains(b) {
                    continue;
                }
                let row = ci * ROWS + k;
                out.push(GEdge {
                    v: v_of(a),
                    a,
                    b,
                    row: row as u32,
                    recency: ctx.source.links.observed_ms(row),
                });
            }
            out
        })
        .collect();
    if let Some(pg) = prev {
        pg.for_each_virtual_edge(0..pg.len(), occ_id, ctx.hubs, |a, b| {
            if inside.contains(a) {
                edges.push(GEdge {
                    v: v_of(a),
                    a,
                    b,
                    row: NONE,
                    recency: i64::MAX,
                });
            }
        });
    }
    // Order inside a component does not matter: resolve re-sorts its links.
    edges.par_sort_unstable_by_key(|e| e.v);
    edges
}

/// A deduplicated link of one component, endpoints as ranks.
struct LEdge {
    a: u32,
    b: u32,
    class: u8,
    recency: i64,
    rows: u64,
}

/// Resolve one component: returns the sizes of its parts (members rewritten
/// part by part, each in content order: type, then hash key) and the cuts.
fn resolve(ctx: &GuardCtx<'_, '_>, members: &mut [u32], edges: &[GEdge]) -> (Vec<u32>, CapCuts) {
    let (ty, rep, src) = (&ctx.interned.ty, &ctx.interned.rep, ctx.source);
    let sorted = content_order(ctx, members);
    let mut by_id: Vec<(u32, u32)> = sorted
        .iter()
        .enumerate()
        .map(|(r, &id)| (id, r as u32))
        .collect();
    by_id.sort_unstable();
    let rank = |id: u32| by_id[by_id.partition_point(|p| p.0 < id)].1;

    let mut raw: Vec<LEdge> = edges
        .iter()
        .map(|e| {
            let (x, y) = (rank(e.a), rank(e.b));
            let virt = e.row == NONE;
            LEdge {
                a: x.min(y),
                b: x.max(y),
                class: if virt { 0 } else { 1 },
                recency: e.recency,
                rows: if virt { 0 } else { 1 },
            }
        })
        .collect();
    raw.sort_unstable_by_key(|e| (e.a, e.b));
    let mut links: Vec<LEdge> = Vec::with_capacity(raw.len());
    for e in raw {
        match links.last_mut() {
            Some(l) if l.a == e.a && l.b == e.b => {
                l.class = l.class.min(e.class);
                // Trust: a link counts as recent as its last observation;
                // arrival: it arrived with its first.
                l.recency = match ctx.order {
                    CapOrder::Trust => l.recency.max(e.recency),
                    CapOrder::Arrival => l.recency.min(e.recency),
                };
                l.rows += e.rows;
            }
            _ => links.push(e),
        }
    }
    let prio = |r: u32| ctx.rules.priority[ty[sorted[r as usize] as usize] as usize];
    links.sort_unstable_by_key(|e| {
        let (pa, pb) = (prio(e.a), prio(e.b));
        let weaker = i64::from(pa.max(pb));
        // `!recency` orders most recent first without overflow.
        let (first, second) = match ctx.order {
            CapOrder::Trust => (weaker, !e.recency),
            CapOrder::Arrival => (e.recency, weaker),
        };
        (e.class, first, second, pa.min(pb), e.a, e.b)
    });

    let slot_of: Vec<Option<usize>> = sorted
        .iter()
        .map(|&id| ctx.rules.cap_slot[ty[id as usize] as usize])
        .collect();
    let caps: Vec<u32> = ctx.rules.capped.iter().map(|c| c.1).collect();
    let mut uf = LocalUnionFind::new(&slot_of, caps.len());
    let mut out = CapCuts::default();
    for e in &links {
        if let Union::Refused(why, sa, sb) = uf.try_union(e.a, e.b, ctx.max_size, &caps) {
            let rule = match why {
                Refusal::Size => {
                    out.rows_size += e.rows;
                    CutRule::MaxComponentSize {
                        cap: ctx.max_size.unwrap_or(u32::MAX),
                    }
                }
                Refusal::Type(s) => {
                    out.rows_type += e.rows;
                    let (t, cap) = ctx.rules.capped[s];
                    CutRule::MaxIdsPerType {
                        id_type: ctx.rules.names[t as usize].clone(),
                        cap,
                    }
                }
            };
            // Endpoints in (type, value) order, each value read once.
            let end = |r: u32| {
                let id = sorted[r as usize] as usize;
                (ty[id], src.value(rep[id]))
            };
            let (mut x, mut y) = (end(e.a), end(e.b));
            if y < x {
                std::mem::swap(&mut x, &mut y);
            }
            out.cuts.push(Cut {
                rule,
                id_type: ctx.rules.names[x.0 as usize].clone(),
                id_value: text(x.1),
                other_type: Some(ctx.rules.names[y.0 as usize].clone()),
                other_value: Some(text(y.1)),
                links: e.rows,
                would_merge_persons: 2,
                would_merge_identifiers: sa as u64 + sb as u64,
            });
        }
    }

    // Parts in order of their first member by rank; members by rank.
    let k = sorted.len();
    let mut part_of_root = vec![NONE; k];
    let mut part = vec![0u32; k];
    let mut lens: Vec<u32> = Vec::new();
    for r in 0..k as u32 {
        let root = uf.find(r) as usize;
        if part_of_root[root] == NONE {
            part_of_root[root] = lens.len() as u32;
            lens.push(0);
        }
        part[r as usize] = part_of_root[root];
        lens[part_of_root[root] as usize] += 1;
    }
    let mut pos: Vec<u32> = Vec::with_capacity(lens.len());
    let mut acc = 0;
    for &l in &lens {
        pos.push(acc);
        acc += l;
    }
    for (r, &id) in sorted.iter().enumerate() {
        let p = &mut pos[part[r] as usize];
        members[*p as usize] = id;
        *p += 1;
    }
    (lens, out)
}

/// `members` in an order that depends on their content only: by (type,
/// hash key), the value itself deciding between equal keys (which is rare,
/// so values are almost never read).
fn content_order(ctx: &GuardCtx<'_, '_>, members: &[u32]) -> Vec<u32> {
    let (ty, key, rep, src) = (
        &ctx.interned.ty,
        &ctx.interned.key,
        &ctx.interned.rep,
        ctx.source,
    );
    let mut keyed: Vec<(u16, u32, u32)> = members
        .iter()
        .map(|&id| (ty[id as usize], key[id as usize], id))
        .collect();
    keyed.sort_unstable_by(|x, y| {
        (x.0, x.1).cmp(&(y.0, y.1)).then_with(|| {
            src.value(rep[x.2 as usize])
                .cmp(src.value(rep[y.2 as usize]))
        })
    });
    keyed.into_iter().map(|k| k.2).collect()
}
