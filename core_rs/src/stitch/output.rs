//! Arrow output: persons sorted by (person_id, id_type, id_value), built in
//! parallel straight from the input buffers.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use super::groups::Groups;
use super::source::{Source, NONE};
use super::util::split_lengths;
use crate::error::{CoreError, CoreResult};

/// Schema of the persons table (§4 of the design).
pub fn persons_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id_type", DataType::Utf8, false),
        Field::new("id_value", DataType::Utf8, false),
        Field::new("person_id", DataType::Int64, false),
    ]))
}

/// Schema of the merges table.
pub fn merges_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("old_person_id", DataType::Int64, false),
        Field::new("surviving_person_id", DataType::Int64, false),
    ]))
}

/// Schema of the splits table.
pub fn splits_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("old_person_id", DataType::Int64, false),
        Field::new("new_person_id", DataType::Int64, false),
    ]))
}

/// Two int64 columns from pairs.
pub(crate) fn pairs_batch(schema: Arc<Schema>, pairs: &[(i64, i64)]) -> CoreResult<RecordBatch> {
    let a: ArrayRef = Arc::new(pairs.iter().map(|p| p.0).collect::<Int64Array>());
    let b: ArrayRef = Arc::new(pairs.iter().map(|p| p.1).collect::<Int64Array>());
    Ok(RecordBatch::try_new(schema, vec![a, b])?)
}

fn too_big(total: usize) -> CoreError {
    CoreError::LimitExceeded(format!(
        "stitch: {total} bytes of identifier text exceed the 2 GiB of a utf8 column"
    ))
}

/// Receives the rows of one output piece, in output order.
pub(crate) trait RowSink: Send {
    /// Row `j` of the piece: identifier first seen at `rep`, of type `ty`,
    /// with `value` (borrowed from the input).
    fn row(&mut self, j: usize, rep: u32, ty: u16, value: &[u8]);
}

/// Output order: components by person id, cut into pieces of similar row
/// counts for the parallel passes.
pub(crate) struct Plan {
    comps: Vec<u32>,
    pieces: Vec<std::ops::Range<usize>>,
    /// Rows of each piece.
    pub piece_rows: Vec<usize>,
    /// Rows in all.
    pub total: usize,
}

impl Plan {
    pub(crate) fn new(groups: &Groups, person: &[i64]) -> Plan {
        let comps = by_person(person);
        let total = groups.rep_order.len();
        let target = total
            .div_ceil((rayon::current_num_threads() * 4).max(1))
            .max(1 << 12);
        let (mut pieces, mut piece_rows) = (Vec::new(), Vec::new());
        let (mut from, mut rows) = (0usize, 0usize);
        for (i, &c) in comps.iter().enumerate() {
            rows += groups.ranges[c as usize].1 as usize;
            if rows >= target || i + 1 == comps.len() {
                pieces.push(from..i + 1);
                piece_rows.push(rows);
                from = i + 1;
                rows = 0;
            }
        }
        Plan {
            comps,
            pieces,
            piece_rows,
            total,
        }
    }

    /// Order each component's members by (type, value) and feed the rows to
    /// the pieces' sinks (in parallel); returns the person id of every row
    /// and the sinks.
    ///
    /// Each value is fetched once: its first 8 bytes become a sort key
    /// (big-endian, zero-padded, so key order is byte order wherever keys
    /// differ) and full comparisons happen only between equal keys. Input
    /// values are scattered, so those of components a few steps ahead are
    /// prefetched and the cache misses overlap.
    pub(crate) fn run<S: RowSink>(
        &self,
        source: &Source<'_>,
        groups: &Groups,
        person: &[i64],
        sinks: Vec<S>,
    ) -> (Vec<i64>, Vec<S>) {
        let mut pids = vec![0i64; self.total];
        let positions = |c: u32| {
            let (s, l) = groups.ranges[c as usize];
            s as usize..(s + l) as usize
        };
        let sinks = self
            .pieces
            .par_iter()
            .zip(split_lengths(&mut pids, self.piece_rows.iter().copied()))
            .zip(sinks)
            .map(|((cr, out_pid), mut sink)| {
                let cs = &self.comps[cr.clone()];
                let mut at = 0usize;
                let mut scratch: Vec<Item> = Vec::new();
                for (k, &c) in cs.iter().enumerate() {
                    if let Some(&c2) = cs.get(k + 8) {
                        positions(c2)
                            .for_each(|p| source.prefetch_value(groups.rep_order[p], false));
                    }
                    if let Some(&c1) = cs.get(k + 4) {
                        positions(c1)
                            .for_each(|p| source.prefetch_value(groups.rep_order[p], true));
                    }
                    scratch.clear();
                    scratch.extend(positions(c).map(|p| {
                        let rep = groups.rep_order[p];
                        let value = source.value(rep);
                        Item {
                            key: prefix_key(value),
                            ty: groups.ty_order[p],
                            rep,
                            value,
                        }
                    }));
                    if scratch.len() > 1 {
                        scratch.sort_unstable_by(|x, y| {
                            (x.ty, x.key)
                                .cmp(&(y.ty, y.key))
                                .then_with(|| x.value.cmp(y.value))
                        });
                    }
                    out_pid[at..at + scratch.len()].fill(person[c as usize]);
                    for (j, it) in scratch.iter().enumerate() {
                        sink.row(at + j, it.rep, it.ty, it.value);
                    }
                    at += scratch.len();
                }
                sink
            })
            .collect();
        (pids, sinks)
    }
}

/// Components in person id order. Ids are distinct, and usually a dense
/// range (new persons are numbered consecutively), so they are placed by
/// id instead of sorted.
fn by_person(person: &[i64]) -> Vec<u32> {
    let n = person.len();
    let (lo, hi) = (
        person.par_iter().copied().min().unwrap_or(0),
        person.par_iter().copied().max().unwrap_or(0),
    );
    let span = (hi as i128 - lo as i128 + 1) as u128;
    let sorted = || {
        let mut comps: Vec<u32> = (0..n as u32).collect();
        comps.par_sort_unstable_by_key(|&c| person[c as usize]);
        comps
    };
    if n == 0 || span > 4 * n as u128 {
        return sorted();
    }
    let mut slot = vec![NONE; span as usize];
    for (c, &p) in person.iter().enumerate() {
        slot[(p - lo) as usize] = c as u32;
    }
    slot.retain(|&c| c != NONE);
    // Distinct ids fill n slots; anything else falls back to sorting.
    if slot.len() == n {
        slot
    } else {
        sorted()
    }
}

/// One identifier while its person's rows are ordered.
struct Item<'s> {
    key: u64,
    ty: u16,
    rep: u32,
    value: &'s [u8],
}

/// The first 8 bytes of `v`, big-endian, zero-padded: `prefix_key(a) <
/// prefix_key(b)` implies `a < b` bytewise, and equal keys need a full
/// comparison.
#[inline]
pub(crate) fn prefix_key(v: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    let n = v.len().min(8);
    b[..n].copy_from_slice(&v[..n]);
    u64::from_be_bytes(b)
}

/// Utf8 sink of one piece: copies each row's bytes to their final place.
struct Utf8Sink<'a> {
    vals: &'a mut [u8],
    tys: &'a mut [u8],
    vo: &'a mut [i32],
    to: &'a mut [i32],
    names: &'a [String],
    /// Offsets of the piece's first byte in the whole columns.
    vbase: usize,
    tbase: usize,
    va: usize,
    ta: usize,
}

impl RowSink for Utf8Sink<'_> {
    #[inline]
    fn row(&mut self, j: usize, _rep: u32, ty: u16, value: &[u8]) {
        self.vals[self.va..self.va + value.len()].copy_from_slice(value);
        self.va += value.len();
        let name = self.names[ty as usize].as_bytes();
        self.tys[self.ta..self.ta + name.len()].copy_from_slice(name);
        self.ta += name.len();
        self.vo[j] = (self.vbase + self.va) as i32;
        self.to[j] = (self.tbase + self.ta) as i32;
    }
}

/// The persons batch with utf8 strings: every identifier of every component
/// with the component's person id, ordered by (person_id, id_type, id_value).
///
/// One pass: the byte size of every piece is known beforehand
/// (`comp_bytes`: value bytes per component, from the lengths recorded
/// while interning), so each value is read once, when its person's rows
/// are ordered, and copied straight to its final place. The bytes come
/// from the input buffers; the inputs are Arrow utf8, valid UTF-8 by the
/// Arrow contract, and are copied whole, so the output is too.
pub(crate) fn persons_utf8(
    source: &Source<'_>,
    names: &[String],
    groups: &Groups,
    person: &[i64],
    comp_bytes: &[u64],
) -> CoreResult<RecordBatch> {
    let plan = Plan::new(groups, person);
    let (total, rows) = (plan.total, &plan.piece_rows);
    let bytes: Vec<(usize, usize)> = plan
        .pieces
        .par_iter()
        .map(|cr| {
            let mut b = (0usize, 0usize);
            for &c in &plan.comps[cr.clone()] {
                let (s, l) = groups.ranges[c as usize];
                b.0 += comp_bytes[c as usize] as usize;
                b.1 += groups.ty_order[s as usize..(s + l) as usize]
                    .iter()
                    .map(|&t| names[t as usize].len())
                    .sum::<usize>();
            }
            b
        })
        .collect();
    let vtotal: usize = bytes.iter().map(|b| b.0).sum();
    let ttotal: usize = bytes.iter().map(|b| b.1).sum();
    if vtotal > i32::MAX as usize || ttotal > i32::MAX as usize {
        return Err(too_big(vtotal.max(ttotal)));
    }
    let mut values = vec![0u8; vtotal];
    let mut types = vec![0u8; ttotal];
    let mut voffs = vec![0i32; total + 1];
    let mut toffs = vec![0i32; total + 1];
    let (mut vbase, mut tbase) = (0usize, 0usize);
    let bases: Vec<(usize, usize)> = bytes
        .iter()
        .map(|&(v, t)| {
            let b = (vbase, tbase);
            vbase += v;
            tbase += t;
            b
        })
        .collect();
    let sinks: Vec<Utf8Sink> = split_lengths(&mut values, bytes.iter().map(|b| b.0))
        .into_iter()
        .zip(split_lengths(&mut types, bytes.iter().map(|b| b.1)))
        .zip(split_lengths(&mut voffs[1..], rows.iter().copied()))
        .zip(split_lengths(&mut toffs[1..], rows.iter().copied()))
        .zip(bases)
        .map(|((((vals, tys), vo), to), (vbase, tbase))| Utf8Sink {
            vals,
            tys,
            vo,
            to,
            names,
            vbase,
            tbase,
            va: 0,
            ta: 0,
        })
        .collect();
    let (pids, sinks) = plan.run(source, groups, person, sinks);
    // Every piece must have filled exactly the bytes it was given.
    if !sinks.iter().zip(&bytes).all(|(s, b)| (s.va, s.ta) == *b) {
        return Err(CoreError::Internal(
            "stitch: identifier lengths changed between interning and output".into(),
        ));
    }
    drop(sinks);
    let string_array = |offsets: Vec<i32>, data: Vec<u8>| -> StringArray {
        // SAFETY: offsets start at 0, never decrease and end at data.len()
        // (each piece wrote its offsets as running sums of the lengths it
        // copied from its base, and filled exactly its bytes, checked above);
        // the data are whole values copied from Arrow utf8 arrays (valid
        // UTF-8 by the Arrow contract) and type names (Rust strings), so
        // every value between two offsets is valid UTF-8.
        unsafe {
            StringArray::new_unchecked(
                OffsetBuffer::new_unchecked(ScalarBuffer::from(offsets)),
                Buffer::from_vec(data),
                None,
            )
        }
    };
    let columns: Vec<ArrayRef> = vec![
        Arc::new(string_array(toffs, types)),
        Arc::new(string_array(voffs, values)),
        Arc::new(Int64Array::from(pids)),
    ];
    Ok(RecordBatch::try_new(persons_schema(), columns)?)
}
