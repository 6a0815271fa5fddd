//! Arrow output: persons sorted by (person_id, id_type, id_value), built in
//! parallel straight from the input buffers.

use std::sync::Arc;

use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use rayon::prelude::*;

use super::groups::Groups;
use super::source::Source;
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
        let mut comps: Vec<u32> = (0..groups.ranges.len() as u32).collect();
        comps.par_sort_unstable_by_key(|&c| person[c as usize]);
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
    /// Input values are scattered, so those of components a few steps
    /// ahead are prefetched and the cache misses overlap.
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
                let mut scratch: Vec<(u16, u32)> = Vec::new();
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
                    scratch.extend(positions(c).map(|p| (groups.ty_order[p], groups.rep_order[p])));
                    if scratch.len() > 1 {
                        scratch.sort_unstable_by(|x, y| {
                            x.0.cmp(&y.0)
                                .then_with(|| source.value(x.1).cmp(source.value(y.1)))
                        });
                    }
                    out_pid[at..at + scratch.len()].fill(person[c as usize]);
                    for (j, &(t, r)) in scratch.iter().enumerate() {
                        sink.row(at + j, r, t, source.value(r));
                    }
                    at += scratch.len();
                }
                sink
            })
            .collect();
        (pids, sinks)
    }
}

/// Utf8 pass 1 sink: remembers each row and its piece-local end offsets.
struct Utf8Sink<'a> {
    reps: &'a mut [u32],
    tys: &'a mut [u16],
    vo: &'a mut [i32],
    to: &'a mut [i32],
    names: &'a [String],
    vb: usize,
    tb: usize,
}

impl RowSink for Utf8Sink<'_> {
    #[inline]
    fn row(&mut self, j: usize, rep: u32, ty: u16, value: &[u8]) {
        self.reps[j] = rep;
        self.tys[j] = ty;
        self.vb += value.len();
        self.tb += self.names[ty as usize].len();
        // Saturate; the totals are checked before any use.
        self.vo[j] = self.vb.min(i32::MAX as usize) as i32;
        self.to[j] = self.tb.min(i32::MAX as usize) as i32;
    }
}

/// The persons batch with utf8 strings: every identifier of every component
/// with the component's person id, ordered by (person_id, id_type, id_value).
///
/// Pass 1 orders the rows and records string lengths as piece-local
/// offsets (touching each value once, in the sort); pass 2 copies the bytes
/// to their final place. The bytes come from the input buffers; the inputs
/// are Arrow utf8, valid UTF-8 by the Arrow contract, and are copied whole,
/// so the output is too.
pub(crate) fn persons_utf8(
    source: &Source<'_>,
    names: &[String],
    groups: &Groups,
    person: &[i64],
) -> CoreResult<RecordBatch> {
    let plan = Plan::new(groups, person);
    let (total, rows) = (plan.total, &plan.piece_rows);
    let mut reps = vec![0u32; total];
    let mut tys = vec![0u16; total];
    let mut voffs = vec![0i32; total + 1];
    let mut toffs = vec![0i32; total + 1];
    let sinks: Vec<Utf8Sink> = split_lengths(&mut reps, rows.iter().copied())
        .into_iter()
        .zip(split_lengths(&mut tys, rows.iter().copied()))
        .zip(split_lengths(&mut voffs[1..], rows.iter().copied()))
        .zip(split_lengths(&mut toffs[1..], rows.iter().copied()))
        .map(|(((reps, tys), vo), to)| Utf8Sink {
            reps,
            tys,
            vo,
            to,
            names,
            vb: 0,
            tb: 0,
        })
        .collect();
    let (pids, sinks) = plan.run(source, groups, person, sinks);
    let bytes: Vec<(usize, usize)> = sinks.iter().map(|s| (s.vb, s.tb)).collect();
    drop(sinks);
    let vtotal: usize = bytes.iter().map(|b| b.0).sum();
    let ttotal: usize = bytes.iter().map(|b| b.1).sum();
    if vtotal > i32::MAX as usize || ttotal > i32::MAX as usize {
        return Err(too_big(vtotal.max(ttotal)));
    }

    // Pass 2: shift offsets to global and copy the bytes.
    let mut values = vec![0u8; vtotal];
    let mut types = vec![0u8; ttotal];
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
    split_lengths(&mut reps, rows.iter().copied())
        .into_par_iter()
        .zip(split_lengths(&mut tys, rows.iter().copied()))
        .zip(split_lengths(&mut voffs[1..], rows.iter().copied()))
        .zip(split_lengths(&mut toffs[1..], rows.iter().copied()))
        .zip(split_lengths(&mut values, bytes.iter().map(|b| b.0)))
        .zip(split_lengths(&mut types, bytes.iter().map(|b| b.1)))
        .zip(bases)
        .for_each(|((((((rp, tp), vo), to), vals), tys), (vb, tb))| {
            let (mut va, mut ta) = (0usize, 0usize);
            for i in 0..rp.len() {
                if let Some(&r) = rp.get(i + 16) {
                    source.prefetch_value(r, false);
                }
                if let Some(&r) = rp.get(i + 8) {
                    source.prefetch_value(r, true);
                }
                let value = source.value(rp[i]);
                vals[va..va + value.len()].copy_from_slice(value);
                va += value.len();
                let name = names[tp[i] as usize].as_bytes();
                tys[ta..ta + name.len()].copy_from_slice(name);
                ta += name.len();
                vo[i] = (vb + va) as i32;
                to[i] = (tb + ta) as i32;
            }
        });
    drop(reps);
    drop(tys);
    let string_array = |offsets: Vec<i32>, data: Vec<u8>| -> StringArray {
        // SAFETY: offsets start at 0, never decrease and end at data.len()
        // (pass 2 wrote every offset as a running sum of the copied lengths);
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
