//! The persons table of a fast incremental run: the pipeline's output for
//! the touched persons merged, by person id, with the untouched previous
//! persons copied as they were (see [`super::incremental`]).
//!
//! Both inputs are ordered by person id and hold different ids, so the
//! merge is a sequence of segments (a run of untouched groups, or a run of
//! pipeline rows); segments are copied in parallel, a `utf8` run of the
//! previous table in one piece per chunk.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use rayon::prelude::*;

use super::columns::PersonsColumns;
use super::incremental::Split;
use super::output::persons_schema;
use super::strings::StrCol;
use super::util::split_lengths;
use crate::error::{CoreError, CoreResult};

#[derive(Clone, Copy)]
enum Seg {
    /// Untouched groups `g0..g1` (consecutive).
    Prev(usize, usize),
    /// Rows `r0..r1` of the pipeline's output.
    New(usize, usize),
}

/// Merge `sub` (the pipeline's persons, `utf8`) with the untouched groups
/// of `split`.
pub(crate) fn persons(
    split: &Split,
    prev: &PersonsColumns<'_>,
    sub: &RecordBatch,
) -> CoreResult<RecordBatch> {
    let (sub_t, sub_v) = (
        sub.column(0).as_string::<i32>(),
        sub.column(1).as_string::<i32>(),
    );
    let sub_pid = sub.column(2).as_primitive::<Int64Type>().values();
    let pg = &split.groups;
    let (n_groups, n_sub) = (pg.len(), sub.num_rows());

    // Segments in person id order.
    let untouched_from = |mut g: usize| {
        while g < n_groups && split.touched[g] {
            g += 1;
        }
        g
    };
    let mut segs = Vec::new();
    let (mut g, mut r) = (untouched_from(0), 0usize);
    while g < n_groups || r < n_sub {
        if g < n_groups && (r == n_sub || pg.pid(g) < sub_pid[r]) {
            let g0 = g;
            g += 1;
            while g < n_groups && !split.touched[g] && (r == n_sub || pg.pid(g) < sub_pid[r]) {
                g += 1;
            }
            segs.push(Seg::Prev(g0, g));
            g = untouched_from(g);
        } else {
            let r0 = r;
            r += 1;
            while r < n_sub && (g == n_groups || sub_pid[r] < pg.pid(g)) {
                r += 1;
            }
            segs.push(Seg::New(r0, r));
        }
    }
    let size = |s: Seg| -> (usize, usize, usize) {
        match s {
            Seg::Prev(g0, g1) => {
                let rows = pg.positions(g1 - 1).end - pg.positions(g0).start;
                let (vb, tb) = split.bytes[g0..g1]
                    .iter()
                    .fold((0, 0), |a, b| (a.0 + b.0 as usize, a.1 + b.1 as usize));
                (rows, vb, tb)
            }
            Seg::New(r0, r1) => {
                let (vo, to) = (sub_v.value_offsets(), sub_t.value_offsets());
                (
                    r1 - r0,
                    (vo[r1] - vo[r0]) as usize,
                    (to[r1] - to[r0]) as usize,
                )
            }
        }
    };

    // Pieces of similar row counts for the parallel copy.
    let sizes: Vec<(usize, usize, usize)> = segs.iter().map(|&s| size(s)).collect();
    let total: usize = sizes.iter().map(|s| s.0).sum();
    let target = total
        .div_ceil((rayon::current_num_threads() * 4).max(1))
        .max(1 << 14);
    let mut pieces: Vec<(std::ops::Range<usize>, (usize, usize, usize))> = Vec::new();
    let (mut from, mut acc) = (0usize, (0usize, 0usize, 0usize));
    for (i, s) in sizes.iter().enumerate() {
        acc = (acc.0 + s.0, acc.1 + s.1, acc.2 + s.2);
        if acc.0 >= target || i + 1 == sizes.len() {
            pieces.push((from..i + 1, acc));
            from = i + 1;
            acc = (0, 0, 0);
        }
    }
    let vtotal: usize = pieces.iter().map(|p| p.1 .1).sum();
    let ttotal: usize = pieces.iter().map(|p| p.1 .2).sum();
    if vtotal > i32::MAX as usize || ttotal > i32::MAX as usize {
        return Err(CoreError::LimitExceeded(format!(
            "stitch: {} bytes of identifier text exceed the 2 GiB of a utf8 column",
            vtotal.max(ttotal)
        )));
    }

    let mut voffs = vec![0i32; total + 1];
    let mut toffs = vec![0i32; total + 1];
    let mut values = vec![0u8; vtotal];
    let mut types = vec![0u8; ttotal];
    let mut pids = vec![0i64; total];
    let mut bases = Vec::with_capacity(pieces.len());
    let (mut vb, mut tb) = (0usize, 0usize);
    for p in &pieces {
        bases.push((vb, tb));
        vb += p.1 .1;
        tb += p.1 .2;
    }
    let rows = || pieces.iter().map(|p| p.1 .0);
    let sub_tc = StrCol::Utf8(sub_t);
    let sub_vc = StrCol::Utf8(sub_v);
    split_lengths(&mut voffs[1..], rows())
        .into_par_iter()
        .zip(split_lengths(&mut toffs[1..], rows()))
        .zip(split_lengths(&mut values, pieces.iter().map(|p| p.1 .1)))
        .zip(split_lengths(&mut types, pieces.iter().map(|p| p.1 .2)))
        .zip(split_lengths(&mut pids, rows()))
        .zip(pieces.par_iter().zip(bases))
        .for_each(
            |(((((vo, to), vals), tys), pid), ((range, _), (vbase, tbase)))| {
                let (mut row, mut va, mut ta) = (0usize, 0usize, 0usize);
                for &seg in &segs[range.clone()] {
                    match seg {
                        Seg::Prev(g0, g1) if pg.in_row_order() => {
                            let (r0, r1) = (pg.positions(g0).start, pg.positions(g1 - 1).end);
                            let n = r1 - r0;
                            va += prev.copy_rows(
                                true,
                                r0,
                                r1,
                                &mut vals[va..],
                                &mut vo[row..row + n],
                                vbase + va,
                            );
                            ta += prev.copy_rows(
                                false,
                                r0,
                                r1,
                                &mut tys[ta..],
                                &mut to[row..row + n],
                                tbase + ta,
                            );
                            let mut at = row;
                            for g in g0..g1 {
                                let len = pg.positions(g).len();
                                pid[at..at + len].fill(pg.pid(g));
                                at += len;
                            }
                            row += n;
                        }
                        Seg::Prev(g0, g1) => {
                            for g in g0..g1 {
                                for k in pg.positions(g) {
                                    let (t, v, _) = prev.row(pg.row_at(k));
                                    let (t, v) = (t.unwrap_or_default(), v.unwrap_or_default());
                                    vals[va..va + v.len()].copy_from_slice(v);
                                    tys[ta..ta + t.len()].copy_from_slice(t);
                                    va += v.len();
                                    ta += t.len();
                                    vo[row] = (vbase + va) as i32;
                                    to[row] = (tbase + ta) as i32;
                                    pid[row] = pg.pid(g);
                                    row += 1;
                                }
                            }
                        }
                        Seg::New(r0, r1) => {
                            let n = r1 - r0;
                            va += sub_vc.copy_rows(
                                r0,
                                r1,
                                &mut vals[va..],
                                &mut vo[row..row + n],
                                vbase + va,
                            );
                            ta += sub_tc.copy_rows(
                                r0,
                                r1,
                                &mut tys[ta..],
                                &mut to[row..row + n],
                                tbase + ta,
                            );
                            pid[row..row + n].copy_from_slice(&sub_pid[r0..r1]);
                            row += n;
                        }
                    }
                }
            },
        );
    let string_array = |offsets: Vec<i32>, data: Vec<u8>| -> StringArray {
        // SAFETY: offsets start at 0 and are running sums of the lengths
        // copied, ending at data.len(); every value is a whole value copied
        // from an Arrow string array (valid UTF-8 by the Arrow contract).
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
