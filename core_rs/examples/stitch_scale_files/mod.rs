//! Raw files of the `stitch_scale` example: links dumped from the
//! benchmark workloads, and day-1 persons cached between runs; plus the
//! partition comparison.
//!
//! The links file is written from a workload's Parquet with pyarrow
//! (`benchmarks/.data/identity_links-10m-…parquet` after
//! `python -m workloads 10m` in `benchmarks/`):
//!
//! ```text
//! import struct, numpy as np, pyarrow as pa, pyarrow.parquet as pq
//! t = pq.read_table(SRC); n = t.num_rows
//! with open(DST, "wb") as f:
//!     f.write(b"OPLK1\0\0\0"); f.write(struct.pack("<Q", n))
//!     for c in ["left_type", "left_value", "right_type", "right_value"]:
//!         a = pa.concat_arrays([x.cast(pa.string()) for x in t[c].chunks])
//!         off = np.frombuffer(a.buffers()[1], np.int32)[a.offset:a.offset + n + 1]
//!         data = np.frombuffer(a.buffers()[2], np.uint8)[off[0]:off[-1]]
//!         for part in ((off - off[0]).astype(np.int32), data):
//!             f.write(struct.pack("<Q", part.nbytes)); f.write(part.tobytes())
//!     f.write(pa.concat_arrays(t["observed_at"].chunks).cast(pa.int64()).to_numpy().tobytes())
//! ```

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int32Array, RecordBatch, StringArray,
    TimestampMillisecondArray,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

/// The links schema with `types` as the type of the two type columns.
pub fn links_schema(types: DataType) -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("left_type", types.clone(), false),
        Field::new("left_value", DataType::Utf8, false),
        Field::new("right_type", types, false),
        Field::new("right_value", DataType::Utf8, false),
        Field::new(
            "observed_at",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        ),
    ]))
}

/// Links from a raw file: `b"OPLK1\0\0\0"`, u64 rows, then per string
/// column (left_type, left_value, right_type, right_value) a u64 byte count
/// and the i32 offsets, a u64 byte count and the bytes; then the i64
/// observed_at milliseconds. Returned as batches of 128 Ki rows with
/// dictionary-encoded type columns (what pyarrow reads from the Parquet).
pub fn load(path: &str) -> Vec<RecordBatch> {
    let raw = std::fs::read(path).expect("read links file");
    assert_eq!(&raw[..8], b"OPLK1\0\0\0", "not a links dump");
    let mut at = 8usize;
    let mut take = |n: usize| {
        let s = &raw[at..at + n];
        at += n;
        s
    };
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap()) as usize;
    let rows = word(take(8));
    let mut strings: Vec<StringArray> = Vec::new();
    for _ in 0..4 {
        let n = word(take(8));
        let offsets: Vec<i32> = take(n)
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let n = word(take(8));
        let data = Buffer::from_vec(take(n).to_vec());
        strings.push(StringArray::new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            data,
            None,
        ));
    }
    let ts: Vec<i64> = take(rows * 8)
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let dict = |a: &StringArray| -> ArrayRef {
        let mut names: Vec<&str> = Vec::new();
        let keys: Int32Array = (0..a.len())
            .map(|i| {
                let v = a.value(i);
                let k = names.iter().position(|n| *n == v).unwrap_or_else(|| {
                    names.push(v);
                    names.len() - 1
                });
                Some(k as i32)
            })
            .collect();
        let values: ArrayRef = Arc::new(StringArray::from(names));
        Arc::new(DictionaryArray::<Int32Type>::try_new(keys, values).unwrap())
    };
    let columns: Vec<ArrayRef> = vec![
        dict(&strings[0]),
        Arc::new(strings[1].clone()),
        dict(&strings[2]),
        Arc::new(strings[3].clone()),
        Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
    ];
    let types = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
    let all = RecordBatch::try_new(links_schema(types), columns).expect("valid batch");
    const CHUNK: usize = 1 << 17;
    (0..rows)
        .step_by(CHUNK)
        .map(|s| all.slice(s, CHUNK.min(rows - s)))
        .collect()
}

/// Write a utf8 persons batch as `b"OPPS1\0\0\0"`, u64 rows, then for
/// id_type and id_value the offsets and bytes (each with a u64 byte
/// count), then the i64 person ids.
pub fn save_persons(path: &str, b: &RecordBatch) {
    let mut out: Vec<u8> = b"OPPS1\0\0\0".to_vec();
    out.extend((b.num_rows() as u64).to_le_bytes());
    for c in 0..2 {
        let a = b.column(c).as_string::<i32>();
        let base = a.value_offsets()[0];
        let offs: Vec<u8> = a
            .value_offsets()
            .iter()
            .flat_map(|o| (o - base).to_le_bytes())
            .collect();
        let (s, e) = (base as usize, a.value_offsets()[a.len()] as usize);
        out.extend((offs.len() as u64).to_le_bytes());
        out.extend(offs);
        out.extend(((e - s) as u64).to_le_bytes());
        out.extend(&a.values()[s..e]);
    }
    let p = b.column(2).as_primitive::<Int64Type>();
    out.extend(p.values().iter().flat_map(|v| v.to_le_bytes()));
    std::fs::write(path, out).expect("write persons cache");
}

/// Read what [`save_persons`] wrote.
pub fn load_persons(path: &str) -> RecordBatch {
    let raw = std::fs::read(path).expect("read persons cache");
    assert_eq!(&raw[..8], b"OPPS1\0\0\0", "not a persons dump");
    let mut at = 8usize;
    let mut take = |n: usize| {
        let s = &raw[at..at + n];
        at += n;
        s
    };
    let word = |b: &[u8]| u64::from_le_bytes(b.try_into().unwrap()) as usize;
    let rows = word(take(8));
    let mut cols: Vec<ArrayRef> = Vec::new();
    for _ in 0..2 {
        let n = word(take(8));
        let offsets: Vec<i32> = take(n)
            .chunks_exact(4)
            .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        let n = word(take(8));
        let data = Buffer::from_vec(take(n).to_vec());
        cols.push(Arc::new(StringArray::new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            data,
            None,
        )));
    }
    let pids: Vec<i64> = take(rows * 8)
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    cols.push(Arc::new(arrow_array::Int64Array::from(pids)));
    RecordBatch::try_new(omniplug_core::stitch::persons_schema(), cols).expect("persons batch")
}

/// Whether two persons tables hold the same partition (ids may differ),
/// and how many identifiers sit in different persons.
pub fn same_partition(a: &RecordBatch, b: &RecordBatch) -> (bool, usize) {
    let key = |batch: &RecordBatch| -> HashMap<(String, Vec<u8>), i64> {
        let (t, v) = (batch.column(0), batch.column(1));
        let p = batch.column(2).as_primitive::<Int64Type>();
        let s = |c: &ArrayRef, i: usize| -> Vec<u8> {
            match c.data_type() {
                DataType::Utf8View => c.as_string_view().value(i).as_bytes().to_vec(),
                _ => c.as_string::<i32>().value(i).as_bytes().to_vec(),
            }
        };
        (0..batch.num_rows())
            .map(|i| ((String::from_utf8(s(t, i)).unwrap(), s(v, i)), p.value(i)))
            .collect()
    };
    let (ka, kb) = (key(a), key(b));
    let mut a_to_b: HashMap<i64, i64> = HashMap::new();
    let mut b_to_a: HashMap<i64, i64> = HashMap::new();
    let mut bad = 0usize;
    for (k, &pa) in &ka {
        match kb.get(k) {
            Some(&pb) => {
                let x = *a_to_b.entry(pa).or_insert(pb);
                let y = *b_to_a.entry(pb).or_insert(pa);
                if x != pb || y != pa {
                    bad += 1;
                }
            }
            None => bad += 1,
        }
    }
    bad += kb.keys().filter(|k| !ka.contains_key(*k)).count();
    (bad == 0, bad)
}
