//! The in-memory driver: group rows by person without a global sort.
//!
//! Each kept row becomes one 128-bit key `[person hash: 52 | time offset: 44
//! | slot: 32]`. The person hash is a bijective mix of the person id, so its
//! top 12 bits pick one of 4096 buckets and its remaining 52 bits still
//! identify the person inside the bucket. Rows are scattered into buckets
//! with a two-pass counting sort (parallel over fixed row chunks, so the
//! layout does not depend on the thread count); the scatter also writes, at
//! the same position, the row's input index and an optional payload (a
//! column value the passes need for every row, e.g. a touch's channel or an
//! order's amount, read here sequentially instead of at random later). `slot` is that position inside the bucket.
//! Each bucket is then sorted on its own (small, cache-resident), and rows
//! of one person sharing a timestamp are reordered by their identifier.
//! Memory: 20 bytes per kept row plus the payload (4 bytes for touches, 8
//! for orders), plus 2 bytes per input row while scattering. When no model needs non-converting paths, a
//! [`PersonFilter`] of the paid orders' persons drops the touches of
//! everyone else before the scatter, so only buyers' touches are sorted.
//!
//! [`run_chunks`] then walks the buckets in 64 fixed reduction chunks of 64
//! buckets each. Every chunk owns its accumulator and visits its persons in
//! a fixed order; the caller merges the chunk results in chunk order, which
//! is what makes every floating-point sum independent of the thread count.

use rayon::prelude::*;

use super::filter::PersonFilter;
use super::input::Ids;
use super::join::PersonView;
use crate::error::{CoreError, CoreResult};

const BUCKET_BITS: u32 = 12;
/// Number of person buckets (fixed: results must not depend on the input size
/// in any way other than through the data itself).
pub(crate) const N_BUCKETS: usize = 1 << BUCKET_BITS;
/// Buckets per reduction chunk.
const BUCKETS_PER_CHUNK: usize = 64;
/// Number of reduction chunks; chunk results are merged in this order.
pub(crate) const N_CHUNKS: usize = N_BUCKETS / BUCKETS_PER_CHUNK;
const TIME_BITS: u32 = 44;
const HASH_SHIFT: u32 = TIME_BITS + 32;
const LOW_HASH_MASK: u64 = (1 << (64 - BUCKET_BITS)) - 1;
/// Bucket mark of a row that is not kept.
const DROPPED: u16 = u16::MAX;

/// SplitMix64's finaliser: a bijection on 64-bit values, so distinct persons
/// never share a hash.
#[inline]
pub(crate) fn mix(person: i64) -> u64 {
    let mut z = person as u64;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The reduction chunk (`0..N_CHUNKS`) holding `person`: the chunk of its
/// bucket. A streaming driver spills rows by this number, so that attributing
/// each spill partition alone reproduces one chunk of the in-memory run.
#[inline]
pub(crate) fn chunk_of(person: i64) -> usize {
    (mix(person) >> (64 - BUCKET_BITS)) as usize / BUCKETS_PER_CHUNK
}

/// The person (hash) part of a key.
#[inline]
pub(crate) fn key_person(key: u128) -> u64 {
    (key >> HASH_SHIFT) as u64
}

/// The slot (position in its bucket before sorting) of a key.
#[inline]
fn key_slot(key: u128) -> usize {
    key as u32 as usize
}

/// Rows of one table (touchpoints or paid orders) grouped by person and
/// sorted by (person, time, identifier), with a payload of type `P`.
pub(crate) struct Partitioned<P> {
    /// Sorted per bucket.
    keys: Vec<u128>,
    /// Input row index per scatter position.
    rows: Vec<u32>,
    /// Payload per scatter position (empty without a payload).
    payload: Vec<P>,
    starts: Vec<usize>,
    base_time: i64,
}

/// A raw pointer the scatter shares between threads.
#[derive(Clone, Copy)]
struct SendPtr<T>(*mut T);
// SAFETY: the scatter writes each position exactly once, from one chunk only
// (positions come from disjoint prefix-sum ranges).
unsafe impl<T> Send for SendPtr<T> {}
unsafe impl<T> Sync for SendPtr<T> {}

impl<T> SendPtr<T> {
    /// Write `value` at position `i`. A method (not a field access) so that
    /// closures capture the whole `SendPtr`, which is `Sync`.
    ///
    /// # Safety
    /// `i` is in bounds and no other thread writes position `i`.
    #[inline]
    unsafe fn write(&self, i: usize, value: T) {
        unsafe { *self.0.add(i) = value };
    }
}

impl<P: Copy + Default + Send + Sync> Partitioned<P> {
    /// Partition the rows with `keep[i]` (all rows when `keep` is `None`)
    /// whose person may be in `persons` (all persons when `None`), carrying
    /// `payload(i)` along when given.
    pub(crate) fn build(
        person: &[i64],
        time: &[i64],
        keep: Option<&[bool]>,
        persons: Option<&PersonFilter>,
        payload: Option<&(dyn Fn(usize) -> P + Sync)>,
        ids: &Ids<'_>,
    ) -> CoreResult<Self> {
        let n = person.len();
        if n > u32::MAX as usize {
            return Err(CoreError::LimitExceeded(format!(
                "{n} rows: the attribution engine takes at most {} rows per table",
                u32::MAX
            )));
        }
        let kept = |i: usize| {
            keep.is_none_or(|k| k[i]) && persons.is_none_or(|f| f.may_contain(person[i]))
        };
        let chunk_rows = (1usize << 16).max(n.div_ceil(512));
        let n_row_chunks = n.div_ceil(chunk_rows);

        // Pass 1, per fixed row chunk: each row's bucket (DROPPED when not
        // kept, so the filters run once), the chunk's bucket histogram and
        // time range.
        let mut bucket = vec![0u16; n];
        let mut table = vec![0u32; n_row_chunks * N_BUCKETS];
        let (lo, hi) = bucket
            .par_chunks_mut(chunk_rows)
            .zip(table.par_chunks_mut(N_BUCKETS))
            .enumerate()
            .map(|(c, (bk, hist))| {
                let (mut lo, mut hi) = (i64::MAX, i64::MIN);
                for (j, b) in bk.iter_mut().enumerate() {
                    let i = c * chunk_rows + j;
                    if kept(i) {
                        *b = (mix(person[i]) >> (64 - BUCKET_BITS)) as u16;
                        hist[*b as usize] += 1;
                        lo = lo.min(time[i]);
                        hi = hi.max(time[i]);
                    } else {
                        *b = DROPPED;
                    }
                }
                (lo, hi)
            })
            .reduce(|| (i64::MAX, i64::MIN), |a, b| (a.0.min(b.0), a.1.max(b.1)));
        if lo <= hi && (hi as i128 - lo as i128) >= (1i128 << TIME_BITS) {
            return Err(CoreError::invalid(format!(
                "timestamps span {lo}..{hi} ms: the engine supports a span of at most 2^44 ms (557 years)"
            )));
        }
        let base_time = if lo <= hi { lo } else { 0 };

        // Exclusive prefix sums in (bucket, chunk) order turn counts into
        // write cursors: bucket-major keeps each bucket contiguous, chunk-minor
        // keeps rows in input order inside a bucket before sorting.
        let mut starts = Vec::with_capacity(N_BUCKETS + 1);
        let mut running = 0usize;
        for b in 0..N_BUCKETS {
            starts.push(running);
            for c in 0..n_row_chunks {
                let slot = &mut table[c * N_BUCKETS + b];
                let count = *slot as usize;
                *slot = running as u32;
                running += count;
            }
        }
        starts.push(running);

        // Pass 2: scatter. `vec!` of zeros maps fresh zero pages, so these
        // allocations cost nothing until written.
        let mut keys = vec![0u128; running];
        let mut rows = vec![0u32; running];
        let mut payloads = vec![P::default(); if payload.is_some() { running } else { 0 }];
        let (key_out, row_out) = (SendPtr(keys.as_mut_ptr()), SendPtr(rows.as_mut_ptr()));
        let payload_out = SendPtr(payloads.as_mut_ptr());
        table
            .par_chunks_mut(N_BUCKETS)
            .zip(bucket.par_chunks(chunk_rows))
            .enumerate()
            .for_each(|(c, (cursor, bk))| {
                for (j, &b) in bk.iter().enumerate() {
                    if b == DROPPED {
                        continue;
                    }
                    let i = c * chunk_rows + j;
                    let pos = cursor[b as usize] as usize;
                    cursor[b as usize] += 1;
                    let h = mix(person[i]);
                    let key = (((h & LOW_HASH_MASK) as u128) << HASH_SHIFT)
                        | (((time[i] - base_time) as u128) << 32)
                        | (pos - starts[b as usize]) as u128;
                    // SAFETY: `pos` walks this chunk's own disjoint range of
                    // bucket b, all below `running`.
                    unsafe {
                        key_out.write(pos, key);
                        row_out.write(pos, i as u32);
                        if let Some(f) = payload {
                            payload_out.write(pos, f(i));
                        }
                    }
                }
            });
        drop((table, bucket));

        // Sort each bucket; then order same-person same-time runs by id.
        let mut slices: Vec<(&mut [u128], &[u32])> = Vec::with_capacity(N_BUCKETS);
        let mut rest: &mut [u128] = &mut keys;
        for b in 0..N_BUCKETS {
            let (head, tail) = rest.split_at_mut(starts[b + 1] - starts[b]);
            slices.push((head, &rows[starts[b]..starts[b + 1]]));
            rest = tail;
        }
        slices.into_par_iter().for_each(|(s, bucket_rows)| {
            s.sort_unstable();
            if ids.is_present() {
                order_ties(s, bucket_rows, ids);
            }
        });
        Ok(Partitioned {
            keys,
            rows,
            payload: payloads,
            starts,
            base_time,
        })
    }

    /// Bucket `b`: sorted keys, rows and payloads by slot.
    #[inline]
    fn bucket(&self, b: usize) -> Bucket<'_, P> {
        let range = self.starts[b]..self.starts[b + 1];
        Bucket {
            keys: &self.keys[range.clone()],
            rows: &self.rows[range.clone()],
            payload: if self.payload.is_empty() {
                &[]
            } else {
                &self.payload[range]
            },
        }
    }

    /// The absolute time (ms) of a key.
    #[inline]
    pub(crate) fn time(&self, key: u128) -> i64 {
        self.base_time + ((key >> 32) as u64 & ((1 << TIME_BITS) - 1)) as i64
    }
}

/// One bucket of a [`Partitioned`].
struct Bucket<'p, P> {
    keys: &'p [u128],
    rows: &'p [u32],
    payload: &'p [P],
}

/// Keys equal above the slot are the same person at the same time: order
/// such runs by identifier (then row), as the contract requires.
fn order_ties(s: &mut [u128], rows: &[u32], ids: &Ids<'_>) {
    let mut i = 0;
    while i < s.len() {
        let head = s[i] >> 32;
        let mut j = i + 1;
        while j < s.len() && s[j] >> 32 == head {
            j += 1;
        }
        if j - i > 1 {
            s[i..j].sort_by(|a, b| {
                ids.cmp_rows(rows[key_slot(*a)] as usize, rows[key_slot(*b)] as usize)
            });
        }
        i = j;
    }
}

/// End of the run of keys of the person starting at `start`.
#[inline]
fn run_end(keys: &[u128], start: usize, person: u64) -> usize {
    let mut end = start;
    while end < keys.len() && key_person(keys[end]) == person {
        end += 1;
    }
    end
}

/// Reusable decoded columns of one person.
#[derive(Default)]
struct PersonBuf {
    touch_time: Vec<i64>,
    touch_idx: Vec<u32>,
    touch_payload: Vec<u32>,
    order_amount: Vec<f64>,
    order_time: Vec<i64>,
    order_idx: Vec<u32>,
}

/// Decode keys `range` of `bucket` into times, input rows and payloads.
fn decode<P: Copy + Default + Send + Sync>(
    p: &Partitioned<P>,
    bucket: &Bucket<'_, P>,
    range: std::ops::Range<usize>,
    time: &mut Vec<i64>,
    rows: &mut Vec<u32>,
    payload: &mut Vec<P>,
) {
    time.clear();
    rows.clear();
    payload.clear();
    for &k in &bucket.keys[range] {
        time.push(p.time(k));
        rows.push(bucket.rows[key_slot(k)]);
        if !bucket.payload.is_empty() {
            payload.push(bucket.payload[key_slot(k)]);
        }
    }
}

/// Walk every person in [`N_CHUNKS`] fixed reduction chunks, in parallel.
///
/// `make` builds one state per chunk; `visit` is called once per person that
/// has at least one order (or, with `with_touch_only`, at least one touch).
/// Returns the states in chunk order, ready for an ordered merge.
pub(crate) fn run_chunks<S: Send>(
    touches: &Partitioned<u32>,
    orders: &Partitioned<f64>,
    with_touch_only: bool,
    make: impl Fn() -> S + Sync,
    visit: impl Fn(&mut S, &PersonView<'_>) + Sync,
) -> Vec<S> {
    (0..N_CHUNKS)
        .into_par_iter()
        .map(|chunk| {
            let mut state = make();
            let mut buf = PersonBuf::default();
            for b in chunk * BUCKETS_PER_CHUNK..(chunk + 1) * BUCKETS_PER_CHUNK {
                let (tb, ob) = (touches.bucket(b), orders.bucket(b));
                let (ts, os) = (tb.keys, ob.keys);
                let (mut i, mut j) = (0, 0);
                while i < ts.len() || j < os.len() {
                    let pt = ts.get(i).map_or(u64::MAX, |&k| key_person(k));
                    let po = os.get(j).map_or(u64::MAX, |&k| key_person(k));
                    let person = pt.min(po);
                    let ie = if pt == person {
                        run_end(ts, i, person)
                    } else {
                        i
                    };
                    let je = if po == person {
                        run_end(os, j, person)
                    } else {
                        j
                    };
                    if je > j || with_touch_only {
                        let b = &mut buf;
                        decode(
                            touches,
                            &tb,
                            i..ie,
                            &mut b.touch_time,
                            &mut b.touch_idx,
                            &mut b.touch_payload,
                        );
                        decode(
                            orders,
                            &ob,
                            j..je,
                            &mut b.order_time,
                            &mut b.order_idx,
                            &mut b.order_amount,
                        );
                        let view = PersonView {
                            touch_time: &buf.touch_time,
                            touch_idx: &buf.touch_idx,
                            touch_payload: &buf.touch_payload,
                            order_amount: &buf.order_amount,
                            order_time: &buf.order_time,
                            order_idx: &buf.order_idx,
                        };
                        visit(&mut state, &view);
                    }
                    i = ie;
                    j = je;
                }
            }
            state
        })
        .collect()
}
