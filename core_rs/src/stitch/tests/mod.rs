//! Tests of identity stitching. Helpers live here; the cases are split by
//! concept into the submodules.

mod basic;
mod exact;
mod guardrails;
mod incremental;
mod inputs;
mod known_hubs;
mod reference;
mod stable;
mod stream;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

use super::*;

/// (left_type, left_value, right_type, right_value).
pub(super) type Row = (String, String, String, String);

pub(super) fn row(lt: &str, lv: &str, rt: &str, rv: &str) -> Row {
    (lt.into(), lv.into(), rt.into(), rv.into())
}

/// A links batch; `observed` in ms when given.
pub(super) fn links_batch(rows: &[Row], observed: Option<&[i64]>) -> RecordBatch {
    let col = |f: &dyn Fn(&Row) -> &str| -> ArrayRef {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
    };
    let mut fields = vec![
        Field::new("left_type", DataType::Utf8, true),
        Field::new("left_value", DataType::Utf8, true),
        Field::new("right_type", DataType::Utf8, true),
        Field::new("right_value", DataType::Utf8, true),
    ];
    let mut columns = vec![
        col(&|r| &r.0),
        col(&|r| &r.1),
        col(&|r| &r.2),
        col(&|r| &r.3),
    ];
    if let Some(ts) = observed {
        fields.push(Field::new(
            "observed_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        ));
        columns.push(Arc::new(
            TimestampMillisecondArray::from(ts.to_vec()).with_timezone("UTC"),
        ));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
}

/// Stitch rows (one batch) with optional previous persons.
pub(super) fn run(rows: &[Row], prev: Option<&RecordBatch>, cfg: &StitchConfig) -> StitchOutput {
    run_ts(rows, None, prev, cfg)
}

pub(super) fn run_ts(
    rows: &[Row],
    observed: Option<&[i64]>,
    prev: Option<&RecordBatch>,
    cfg: &StitchConfig,
) -> StitchOutput {
    let batch = links_batch(rows, observed);
    let links = LinkColumns::from_batches(std::slice::from_ref(&batch)).unwrap();
    let prev_cols = prev.map(|p| PersonsColumns::from_batches(std::slice::from_ref(p)).unwrap());
    stitch(&links, prev_cols.as_ref(), cfg).unwrap()
}

/// Persons rows as tuples, in output order.
pub(super) fn persons(out: &StitchOutput) -> Vec<(String, String, i64)> {
    let b = &out.persons;
    let t = b.column(0).as_string::<i32>();
    let v = b.column(1).as_string::<i32>();
    let p = b.column(2).as_primitive::<Int64Type>();
    (0..b.num_rows())
        .map(|i| (t.value(i).to_string(), v.value(i).to_string(), p.value(i)))
        .collect()
}

/// The partition: sets of "type:value" strings.
pub(super) fn partition(out: &StitchOutput) -> BTreeSet<BTreeSet<String>> {
    let mut by: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    for (t, v, p) in persons(out) {
        by.entry(p).or_default().insert(format!("{t}:{v}"));
    }
    by.into_values().collect()
}

/// Person id of one identifier.
pub(super) fn pid_of(out: &StitchOutput, t: &str, v: &str) -> Option<i64> {
    persons(out)
        .into_iter()
        .find(|(a, b, _)| a == t && b == v)
        .map(|x| x.2)
}

/// (old, new) pairs of a merges or splits batch.
pub(super) fn pairs(b: &RecordBatch) -> Vec<(i64, i64)> {
    let a = b.column(0).as_primitive::<Int64Type>();
    let c = b.column(1).as_primitive::<Int64Type>();
    (0..b.num_rows())
        .map(|i| (a.value(i), c.value(i)))
        .collect()
}

/// A persons batch to feed back as `previous`.
pub(super) fn persons_batch_of(rows: &[(&str, &str, i64)]) -> RecordBatch {
    let t: ArrayRef = Arc::new(rows.iter().map(|r| Some(r.0)).collect::<StringArray>());
    let v: ArrayRef = Arc::new(rows.iter().map(|r| Some(r.1)).collect::<StringArray>());
    let p: ArrayRef = Arc::new(rows.iter().map(|r| r.2).collect::<Int64Array>());
    RecordBatch::try_new(persons_schema(), vec![t, v, p]).unwrap()
}

/// Deterministic PRNG (splitmix64) so tests need no extra crate.
pub(super) struct Rng(pub u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub(super) fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Run `f` inside a private rayon pool of `threads` threads.
pub(super) fn with_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}
