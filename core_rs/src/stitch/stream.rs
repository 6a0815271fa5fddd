//! Streamed input: link batches are copied, one at a time, into compact
//! owned storage, so the caller can free each batch (and never hold the
//! whole input) before stitching.
//!
//! [`StreamStitcher`] keeps every distinct identifier value once in an
//! arena (deduplicated by a 128-bit hash, bytes confirmed), each link as
//! four small integer keys (type and value of both sides) and its
//! `observed_at` in milliseconds. [`StreamStitcher::finish`] turns that
//! storage into dictionary-encoded Arrow arrays (keys over the arena,
//! without copying) and runs the ordinary [`super::stitch`] over them: the
//! phases see the same rows, in the same order, with the same values, so
//! the output is the in-memory run's, byte for byte. With
//! [`OutputStrings::View`] the persons point into the arena instead of
//! copying it.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::types::{UInt16Type, UInt32Type};
use arrow_array::{
    Array, ArrayRef, DictionaryArray, Int64Array, LargeStringArray, RecordBatch, StringArray,
    UInt16Array, UInt32Array,
};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_128;

use super::columns::{LinkColumns, PersonsColumns, NEVER};
use super::config::StitchConfig;
use super::shard_table::ShardTable;
use super::StitchOutput;
use crate::error::{CoreError, CoreResult};

/// Key of a null value or type.
const NULL32: u32 = u32::MAX;
const NULL16: u16 = u16::MAX;

/// Distinct byte strings, each stored once, numbered in first-seen order.
#[derive(Default)]
struct Arena {
    bytes: Vec<u8>,
    /// `offsets[i]..offsets[i + 1]` is string `i`; starts with 0.
    offsets: Vec<i64>,
    /// 96 hash bits -> string number (the first string with those bits).
    table: ShardTable,
    /// Strings whose 96 hash bits equal an earlier, different string's
    /// (astronomically rare; kept so the arena is exact, not probable).
    collisions: HashMap<Vec<u8>, u32>,
}

impl Arena {
    fn new() -> Self {
        Arena {
            offsets: vec![0],
            ..Arena::default()
        }
    }

    fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    fn get(&self, i: u32) -> &[u8] {
        let i = i as usize;
        &self.bytes[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    fn push(&mut self, v: &[u8]) -> u32 {
        self.bytes.extend_from_slice(v);
        self.offsets.push(self.bytes.len() as i64);
        (self.offsets.len() - 2) as u32
    }

    /// Number of `v` (whose [`xxh3_128`] is `h`), storing it if new.
    #[inline]
    fn intern(&mut self, v: &[u8], h: u128) -> CoreResult<u32> {
        let next = self.len();
        if next >= (NULL32 - 1) as usize {
            return Err(CoreError::LimitExceeded(format!(
                "stitch stream: more than {} distinct identifier values",
                NULL32 - 1
            )));
        }
        match self
            .table
            .get_or_insert(h as u64, (h >> 64) as u32, next as u32)
        {
            None => Ok(self.push(v)),
            Some(id) if self.get(id) == v => Ok(id),
            Some(_) => {
                if let Some(&id) = self.collisions.get(v) {
                    return Ok(id);
                }
                let id = self.push(v);
                self.collisions.insert(v.to_vec(), id);
                Ok(id)
            }
        }
    }

    /// Keys of `values` (`NULL32` for nulls), hashing in parallel first:
    /// the sequential part is then table probes, prefetched ahead.
    fn intern_all(&mut self, values: &[Option<&[u8]>]) -> CoreResult<Vec<u32>> {
        let hashes: Vec<u128> = values
            .par_iter()
            .with_min_len(1 << 12)
            .map(|v| v.map_or(0, xxh3_128))
            .collect();
        let mut keys = Vec::with_capacity(values.len());
        for (i, (v, &h)) in values.iter().zip(&hashes).enumerate() {
            // Each probe is a likely cache miss: start the one ahead.
            if let Some(&ahead) = hashes.get(i + 12) {
                self.table.prefetch(ahead as u64);
            }
            keys.push(match v {
                Some(v) => self.intern(v, h)?,
                None => NULL32,
            });
        }
        Ok(keys)
    }

    /// The strings as one `large_utf8` array over the arena (no copy).
    fn into_array(self) -> CoreResult<LargeStringArray> {
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        // Validates UTF-8 once: the bytes came from Arrow string columns,
        // but the output hands them out as strings again.
        LargeStringArray::try_new(offsets, Buffer::from_vec(self.bytes), None)
            .map_err(|e| CoreError::invalid(format!("identifier values: {e}")))
    }
}

/// The few distinct identifier types, numbered in first-seen order.
#[derive(Default)]
struct Types {
    names: Vec<Vec<u8>>,
    index: HashMap<Vec<u8>, u16>,
}

/// Up to this many types a linear scan beats hashing the name.
const SCAN_TYPES: usize = 32;

impl Types {
    #[inline]
    fn key(&mut self, t: Option<&[u8]>) -> CoreResult<u16> {
        let Some(t) = t else { return Ok(NULL16) };
        let known = if self.names.len() <= SCAN_TYPES {
            self.names
                .iter()
                .position(|n| n.as_slice() == t)
                .map(|k| k as u16)
        } else {
            self.index.get(t).copied()
        };
        let k = match known {
            Some(k) => k,
            None => {
                let k = self.names.len();
                if k >= NULL16 as usize {
                    return Err(CoreError::LimitExceeded(format!(
                        "stitch stream: more than {} distinct identifier types",
                        NULL16
                    )));
                }
                self.names.push(t.to_vec());
                self.index.insert(t.to_vec(), k as u16);
                k as u16
            }
        };
        Ok(k)
    }

    fn into_array(self) -> CoreResult<StringArray> {
        let names: Vec<String> = self
            .names
            .into_iter()
            .map(|n| {
                String::from_utf8(n)
                    .map_err(|e| CoreError::invalid(format!("identifier types: {e}")))
            })
            .collect::<CoreResult<_>>()?;
        Ok(StringArray::from_iter_values(names))
    }
}

/// Previous persons in compact form (keys into the same arena and types).
#[derive(Default)]
struct PrevStore {
    ty: Vec<u16>,
    value: Vec<u32>,
    person: Vec<i64>,
    person_valid: Vec<bool>,
}

/// Stitching over input that arrives in batches; see the module docs.
///
/// Push every links batch ([`push_links`](Self::push_links)) and, for
/// stable ids, every previous-persons batch
/// ([`push_previous`](Self::push_previous)), then call
/// [`finish`](Self::finish). The result equals [`super::stitch`] on the
/// same rows in the same order with the same `config`.
pub struct StreamStitcher {
    config: StitchConfig,
    arena: Arena,
    types: Types,
    /// left type, left value, right type, right value keys per link row.
    lt: Vec<u16>,
    lv: Vec<u32>,
    rt: Vec<u16>,
    rv: Vec<u32>,
    /// `observed_at` in ms ([`NEVER`] when null or absent); `None` until a
    /// batch carries the column.
    observed: Option<Vec<i64>>,
    prev: Option<PrevStore>,
}

impl StreamStitcher {
    /// A stitcher with validated settings.
    pub fn new(config: StitchConfig) -> CoreResult<Self> {
        config.validate()?;
        Ok(StreamStitcher {
            config,
            arena: Arena::new(),
            types: Types::default(),
            lt: Vec::new(),
            lv: Vec::new(),
            rt: Vec::new(),
            rv: Vec::new(),
            observed: None,
            prev: None,
        })
    }

    /// Link rows stored so far.
    pub fn n_links(&self) -> usize {
        self.lt.len()
    }

    /// Distinct identifier values stored so far (links and previous persons).
    pub fn n_values(&self) -> usize {
        self.arena.len()
    }

    /// Bytes of identifier text stored so far.
    pub fn value_bytes(&self) -> usize {
        self.arena.bytes.len()
    }

    /// Copy one links batch (left_type, left_value, right_type, right_value,
    /// optionally observed_at; other columns ignored). Column errors are the
    /// ones [`LinkColumns::push_batch`] reports; on error nothing is stored.
    pub fn push_links(&mut self, batch: &RecordBatch) -> CoreResult<()> {
        let mut cols = LinkColumns::new();
        cols.push_batch(batch)?;
        let n = cols.len();
        let has_time = batch.column_by_name("observed_at").is_some();
        let start = self.lt.len();
        let mut types = Vec::with_capacity(2 * n);
        let mut values = Vec::with_capacity(2 * n);
        cols.scan(0, 2 * n, |_, t, v| {
            types.push(t);
            values.push(v);
        });
        // Nothing is stored until every key is known, so a failed batch
        // leaves no rows behind (interned values and types stay unused).
        let tkeys = types
            .iter()
            .map(|&t| self.types.key(t))
            .collect::<CoreResult<Vec<u16>>>()?;
        let vkeys = self.arena.intern_all(&values)?;
        for (t, v) in tkeys.chunks_exact(2).zip(vkeys.chunks_exact(2)) {
            self.lt.push(t[0]);
            self.lv.push(v[0]);
            self.rt.push(t[1]);
            self.rv.push(v[1]);
        }
        if has_time && self.observed.is_none() {
            self.observed = Some(vec![NEVER; start]);
        }
        if let Some(obs) = &mut self.observed {
            obs.extend((0..n).map(|r| if has_time { cols.observed_ms(r) } else { NEVER }));
        }
        Ok(())
    }

    /// Copy one previous-persons batch (id_type, id_value, person_id int64).
    pub fn push_previous(&mut self, batch: &RecordBatch) -> CoreResult<()> {
        let mut cols = PersonsColumns::new();
        cols.push_batch(batch)?;
        let mut types = Vec::with_capacity(cols.len());
        let mut values = Vec::with_capacity(cols.len());
        for r in 0..cols.len() {
            let (t, v, _) = cols.row(r);
            types.push(self.types.key(t)?);
            values.push(v);
        }
        let vkeys = self.arena.intern_all(&values)?;
        let rows = (0..cols.len()).map(|r| (types[r], vkeys[r], cols.person_id(r)));
        let p = self.prev.get_or_insert_with(PrevStore::default);
        for (t, v, pid) in rows {
            p.ty.push(t);
            p.value.push(v);
            p.person.push(pid.unwrap_or(0));
            p.person_valid.push(pid.is_some());
        }
        Ok(())
    }

    /// Stitch everything pushed, as [`super::stitch`] would on the same rows.
    /// Storage not needed by the output is freed on the way.
    pub fn finish(self) -> CoreResult<StitchOutput> {
        let StreamStitcher {
            config,
            mut arena,
            types,
            lt,
            lv,
            rt,
            rv,
            observed,
            prev,
        } = self;
        // The dedup table is the largest piece of ingest-only state.
        arena.table = ShardTable::default();
        arena.collisions = HashMap::new();
        let values: ArrayRef = Arc::new(arena.into_array()?);
        let type_names: ArrayRef = Arc::new(types.into_array()?);
        let lt = dict16(lt, &type_names)?;
        let lv = dict32(lv, &values)?;
        let rt = dict16(rt, &type_names)?;
        let rv = dict32(rv, &values)?;
        let observed = observed.map(|o| {
            let valid = NullBuffer::from_iter(o.iter().map(|&ms| ms != NEVER));
            Int64Array::new(
                ScalarBuffer::from(o),
                Some(valid).filter(|n| n.null_count() > 0),
            )
        });
        let mut links = LinkColumns::new();
        links.push_arrays(
            &lt,
            &lv,
            &rt,
            &rv,
            observed.as_ref().map(|o| o as &dyn Array),
        )?;
        let prev_arrays = match prev {
            Some(p) => {
                let valid = NullBuffer::from_iter(p.person_valid.iter().copied());
                let pid = Int64Array::new(
                    ScalarBuffer::from(p.person),
                    Some(valid).filter(|n| n.null_count() > 0),
                );
                Some((dict16(p.ty, &type_names)?, dict32(p.value, &values)?, pid))
            }
            None => None,
        };
        let mut prev_cols = PersonsColumns::new();
        if let Some((t, v, pid)) = &prev_arrays {
            prev_cols.push_arrays(t, v, pid)?;
        }
        super::stitch(&links, prev_arrays.as_ref().map(|_| &prev_cols), &config)
    }
}

/// Validity of `keys` (`None` without nulls); null slots are set to key 0
/// so every slot is in range.
fn nulls_of<T: PartialEq + Copy + Default>(keys: &mut [T], null: T) -> Option<NullBuffer> {
    if !keys.contains(&null) {
        return None;
    }
    let nulls = NullBuffer::from_iter(keys.iter().map(|&k| k != null));
    for k in keys.iter_mut().filter(|k| **k == null) {
        *k = T::default();
    }
    Some(nulls)
}

fn dict32(mut keys: Vec<u32>, values: &ArrayRef) -> CoreResult<DictionaryArray<UInt32Type>> {
    let nulls = nulls_of(&mut keys, NULL32);
    let keys = UInt32Array::new(ScalarBuffer::from(keys), nulls);
    DictionaryArray::try_new(keys, values.clone()).map_err(|e| CoreError::Internal(e.to_string()))
}

fn dict16(mut keys: Vec<u16>, values: &ArrayRef) -> CoreResult<DictionaryArray<UInt16Type>> {
    let nulls = nulls_of(&mut keys, NULL16);
    let keys = UInt16Array::new(ScalarBuffer::from(keys), nulls);
    DictionaryArray::try_new(keys, values.clone()).map_err(|e| CoreError::Internal(e.to_string()))
}
