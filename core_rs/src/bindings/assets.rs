//! Bindings of `hamming_index`: the `HashIndex` class and asset grouping of
//! a `material_fingerprints` table.
//!
//! Codes arrive as Arrow arrays: `uint64` (64-bit codes) or binary values of
//! 8 or 32 bytes (big-endian, the `hash` column's form). Grouping reads the
//! fingerprint rows and gathers, per material, the codes of every window of
//! every frame, pairing each primary code (dHash) with the confirming code
//! (pHash) of the same frame and window; that gathering is table plumbing,
//! the grouping itself is `hamming_index::group_assets_confirmed`.

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};
use arrow_array::cast::AsArray;
use arrow_array::types::{Float32Type, Int32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3_arrow::{PyArray, PyTable};
use serde::Deserialize;
use xxhash_rust::xxh3::xxh3_64;

use super::grouping::{group_framed, Entry, Rules};
use super::{batch_to_pyarrow, detached, single_batch, to_py_err};
use crate::error::{CoreError, CoreResult};
use crate::hamming_index::{
    HashIndex, HashMatch, SupportRule, DEFAULT_CONFIRM_DISTANCE, DEFAULT_MAX_DISTANCE,
};

/// Flat big-endian bytes of the codes in `array`, `bits` bits each.
fn code_bytes(array: &ArrayRef, bits: u32, what: &str) -> CoreResult<Vec<u8>> {
    let width = (bits / 8) as usize;
    if array.null_count() > 0 {
        let row = (0..array.len()).find(|&i| array.is_null(i)).unwrap_or(0);
        return Err(CoreError::invalid(format!(
            "{what}: row {row} is null (every code must be present)"
        )));
    }
    let mut out = Vec::with_capacity(array.len() * width);
    let mut push = |i: usize, v: &[u8]| -> CoreResult<()> {
        if v.len() != width {
            return Err(CoreError::invalid(format!(
                "{what}: row {i} has {} bytes, a {bits}-bit code has {width}",
                v.len()
            )));
        }
        out.extend_from_slice(v);
        Ok(())
    };
    match array.data_type() {
        DataType::UInt64 | DataType::Int64 if bits == 64 => {
            let values: Vec<u64> = match array.data_type() {
                DataType::UInt64 => array.as_primitive::<UInt64Type>().values().to_vec(),
                _ => array
                    .as_primitive::<arrow_array::types::Int64Type>()
                    .values()
                    .iter()
                    .map(|&v| v as u64)
                    .collect(),
            };
            for v in values {
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        DataType::UInt64 | DataType::Int64 => {
            return Err(CoreError::invalid(format!(
            "{what}: integer codes are 64-bit, give {bits}-bit codes as {width}-byte binary values"
        )))
        }
        DataType::Binary => {
            for (i, v) in array.as_binary::<i32>().iter().enumerate() {
                push(i, v.unwrap_or_default())?;
            }
        }
        DataType::LargeBinary => {
            for (i, v) in array.as_binary::<i64>().iter().enumerate() {
                push(i, v.unwrap_or_default())?;
            }
        }
        DataType::BinaryView => {
            for (i, v) in array.as_binary_view().iter().enumerate() {
                push(i, v.unwrap_or_default())?;
            }
        }
        DataType::FixedSizeBinary(w) if *w as usize == width => {
            let a = array.as_fixed_size_binary();
            let start = a.offset() * width;
            out.extend_from_slice(&a.value_data()[start..start + a.len() * width]);
        }
        other => {
            return Err(CoreError::invalid(format!(
                "{what}: expected uint64 or binary codes of {width} bytes, got {other}"
            )))
        }
    }
    Ok(out)
}

/// `(query_row, match_row, distance)` of search results.
fn matches_batch(matches: &[HashMatch]) -> CoreResult<RecordBatch> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("query_row", DataType::Int64, false),
        Field::new("match_row", DataType::Int64, false),
        Field::new("distance", DataType::Int32, false),
    ]));
    let q: arrow_array::Int64Array = matches.iter().map(|m| m.query_row as i64).collect();
    let r: arrow_array::Int64Array = matches.iter().map(|m| m.match_row as i64).collect();
    let d: arrow_array::Int32Array = matches.iter().map(|m| m.distance as i32).collect();
    Ok(RecordBatch::try_new(
        schema,
        vec![Arc::new(q) as ArrayRef, Arc::new(r), Arc::new(d)],
    )?)
}

/// An immutable index of 64-bit or 256-bit codes for exact Hamming-radius
/// search (multi-index hashing; see `omniplug.HashIndex`).
#[pyclass(name = "HashIndex", module = "omniplug._core", frozen)]
pub(super) struct PyHashIndex {
    inner: HashIndex,
}

#[pymethods]
impl PyHashIndex {
    /// Index `codes` (an Arrow array of uint64, or binary values of `bits / 8`
    /// bytes); row `i` of the index is `codes[i]`.
    #[new]
    #[pyo3(signature = (codes, bits=64))]
    fn new(py: Python<'_>, codes: PyArray, bits: u32) -> PyResult<Self> {
        if bits != 64 && bits != 256 {
            return Err(to_py_err(CoreError::invalid(format!(
                "bits must be 64 or 256, got {bits}"
            ))));
        }
        let (array, _) = codes.into_inner();
        let inner = detached(py, || {
            HashIndex::from_bytes(&code_bytes(&array, bits, "hashes")?, bits)
        })?;
        Ok(PyHashIndex { inner })
    }

    /// Every (query, indexed code) pair within `max_distance` bits, as a
    /// table `query_row, match_row, distance` ordered by query row, distance,
    /// match row.
    fn search<'py>(
        &self,
        py: Python<'py>,
        queries: PyArray,
        max_distance: u32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (array, _) = queries.into_inner();
        let bits = self.inner.bits();
        let batch = detached(py, || {
            let q = code_bytes(&array, bits, "queries")?;
            matches_batch(&self.inner.search_bytes(&q, max_distance)?)
        })?;
        batch_to_pyarrow(py, batch)
    }

    /// Code width: 64 or 256.
    #[getter]
    fn bits(&self) -> u32 {
        self.inner.bits()
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "HashIndex({} codes of {} bits)",
            self.inner.len(),
            self.inner.bits()
        )
    }
}

/// Grouping options from Python (`omniplug.assets.group_assets`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct GroupOptions {
    algorithm: String,
    confirm_algorithm: Option<String>,
    max_distance: u32,
    confirm_max_distance: u32,
    min_quality: f32,
    /// Two videos join only when more than this fraction of the shorter
    /// one's sampled frames match (see `grouping`).
    video_min_overlap: f64,
    /// `smallest`: the representative is the member with the smallest
    /// (platform, material_id); `first`: the member listed first.
    representative: String,
    /// Distinct window pairs that must support a match (with one close
    /// anchor pair), unless one pair is a near-exact copy; 1: any one pair
    /// (see `hamming_index::SupportRule`).
    min_window_pairs: usize,
}

impl Default for GroupOptions {
    fn default() -> Self {
        GroupOptions {
            algorithm: "dhash64".into(),
            confirm_algorithm: Some("phash64".into()),
            max_distance: DEFAULT_MAX_DISTANCE,
            confirm_max_distance: DEFAULT_CONFIRM_DISTANCE,
            min_quality: 1.0,
            video_min_overlap: 0.5,
            representative: "smallest".into(),
            min_window_pairs: SupportRule::default().min_pairs,
        }
    }
}

/// Typed views of the fingerprint columns grouping reads.
struct FingerprintColumns<'a> {
    material_id: Vec<Option<&'a str>>,
    platform: Vec<Option<&'a str>>,
    algorithm: Vec<Option<&'a str>>,
    frame: Option<&'a arrow_array::Int32Array>,
    hash: Vec<Option<&'a [u8]>>,
    quality: Option<&'a arrow_array::Float32Array>,
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> CoreResult<&'a ArrayRef> {
    batch
        .column_by_name(name)
        .ok_or_else(|| CoreError::invalid(format!("fingerprints: missing column {name:?}")))
}

fn strings<'a>(batch: &'a RecordBatch, name: &str) -> CoreResult<Vec<Option<&'a str>>> {
    let a = column(batch, name)?;
    match a.data_type() {
        DataType::Utf8 => Ok(a.as_string::<i32>().iter().collect()),
        other => Err(CoreError::invalid(format!(
            "fingerprints: {name} must be string, got {other}"
        ))),
    }
}

impl<'a> FingerprintColumns<'a> {
    /// The columns of a batch the Python layer cast to the canonical types
    /// (string, int32, binary, float32); `frame` and `quality` are optional.
    fn new(batch: &'a RecordBatch) -> CoreResult<Self> {
        let hash = column(batch, "hash")?;
        if hash.data_type() != &DataType::Binary {
            return Err(CoreError::invalid(format!(
                "fingerprints: hash must be binary, got {}",
                hash.data_type()
            )));
        }
        let frame = match batch.column_by_name("frame") {
            Some(a) if a.data_type() == &DataType::Int32 => Some(a.as_primitive::<Int32Type>()),
            Some(a) => {
                return Err(CoreError::invalid(format!(
                    "fingerprints: frame must be int32, got {}",
                    a.data_type()
                )))
            }
            None => None,
        };
        let quality = match batch.column_by_name("quality") {
            Some(a) if a.data_type() == &DataType::Float32 => Some(a.as_primitive::<Float32Type>()),
            Some(a) => {
                return Err(CoreError::invalid(format!(
                    "fingerprints: quality must be float32, got {}",
                    a.data_type()
                )))
            }
            None => None,
        };
        Ok(FingerprintColumns {
            material_id: strings(batch, "material_id")?,
            platform: strings(batch, "platform")?,
            algorithm: strings(batch, "algorithm")?,
            frame,
            hash: hash.as_binary::<i32>().iter().collect(),
            quality,
        })
    }
}

/// Stable asset id of a representative: xxh3-64 of `platform 0x00
/// material_id`, shifted right by one so it is a non-negative int64.
fn asset_id(platform: &str, material_id: &str) -> i64 {
    let mut key = Vec::with_capacity(platform.len() + material_id.len() + 1);
    key.extend_from_slice(platform.as_bytes());
    key.push(0);
    key.extend_from_slice(material_id.as_bytes());
    (xxh3_64(&key) >> 1) as i64
}

/// A 64-bit code from an 8-byte big-endian hash value.
fn code64(v: &[u8], row: usize) -> CoreResult<u64> {
    let bytes: [u8; 8] = v.try_into().map_err(|_| {
        CoreError::invalid(format!(
            "fingerprints: row {row} has a {}-byte hash for a 64-bit algorithm",
            v.len()
        ))
    })?;
    Ok(u64::from_be_bytes(bytes))
}

/// A window of a material: (material, frame, window name).
type WindowKey<'a> = (u32, i32, &'a str);
/// The primary and confirming codes of one window, as they are found.
type WindowCodes = (Option<u64>, Option<u64>);

/// Group the materials of a fingerprints batch into assets.
fn group_batch(batch: &RecordBatch, o: &GroupOptions) -> CoreResult<RecordBatch> {
    let c = FingerprintColumns::new(batch)?;
    let confirm = o.confirm_algorithm.as_deref();
    // Materials in order of first appearance.
    let mut index: HashMap<(&str, &str), u32> = HashMap::new();
    let mut materials: Vec<(&str, &str)> = Vec::new();
    // (material, frame, window) -> (primary code, confirming code).
    let mut windows: HashMap<WindowKey, WindowCodes> = HashMap::new();
    for row in 0..batch.num_rows() {
        let (Some(mid), Some(platform)) = (c.material_id[row], c.platform[row]) else {
            return Err(CoreError::invalid(format!(
                "fingerprints: row {row} has a null material_id or platform"
            )));
        };
        let next = materials.len() as u32;
        let m = *index.entry((platform, mid)).or_insert_with(|| {
            materials.push((platform, mid));
            next
        });
        let Some(label) = c.algorithm[row] else {
            continue;
        };
        let (name, window) = label.split_once('@').unwrap_or((label, "full"));
        let primary = name == o.algorithm;
        if !primary && Some(name) != confirm {
            continue;
        }
        let Some(hash) = c.hash[row] else { continue };
        // Rows below the quality gate contribute nothing (a flat frame of a
        // video, a blank image); a null quality is unknown, not bad.
        if let Some(q) = c.quality {
            if q.is_valid(row) && q.value(row) < o.min_quality {
                continue;
            }
        }
        let frame = c
            .frame
            .map_or(-1, |f| if f.is_valid(row) { f.value(row) } else { -1 });
        let code = code64(hash, row)?;
        let slot = windows.entry((m, frame, window)).or_default();
        if primary {
            slot.0 = Some(code);
        } else {
            slot.1 = Some(code);
        }
    }
    if materials.len() > u32::MAX as usize {
        return Err(CoreError::LimitExceeded("more than 2^32 materials".into()));
    }
    // Material order the representative is chosen by.
    let order: Vec<u32> = match o.representative.as_str() {
        "first" => (0..materials.len() as u32).collect(),
        "smallest" => {
            let mut v: Vec<u32> = (0..materials.len() as u32).collect();
            v.sort_by_key(|&i| materials[i as usize]);
            v
        }
        other => {
            return Err(CoreError::invalid(format!(
                "representative {other:?}: expected 'smallest' or 'first'"
            )))
        }
    };
    let mut rank = vec![0u32; materials.len()];
    for (r, &m) in order.iter().enumerate() {
        rank[m as usize] = r as u32;
    }
    let n = materials.len();
    // (`group_framed` sorts the entries, so the map's order does not matter.)
    let mut usable = Vec::with_capacity(windows.len());
    // Window names (mirroring stripped) as small ids: support counts
    // distinct window pairs, and a mirrored pair counts with its plain one.
    let mut window_ids: HashMap<&str, u16> = HashMap::new();
    for ((m, frame, name), (p, c)) in windows {
        let material = rank[m as usize];
        let (base, mirrored) = match name.strip_suffix("_mirror") {
            Some(base) => (base, true),
            None => (name, false),
        };
        let next = window_ids.len().min(u16::MAX as usize) as u16;
        let window = *window_ids.entry(base).or_insert(next);
        match (p, c, confirm) {
            (Some(primary), Some(confirm), Some(_)) => usable.push(Entry {
                material,
                frame,
                window,
                mirrored,
                primary,
                confirm,
            }),
            (Some(primary), _, None) => usable.push(Entry {
                material,
                frame,
                window,
                mirrored,
                primary,
                confirm: 0,
            }),
            // A window without its confirming code cannot be confirmed.
            _ => {}
        }
    }
    let rules = Rules {
        max_distance: o.max_distance,
        confirm_max_distance: confirm.map(|_| o.confirm_max_distance),
        video_min_overlap: o.video_min_overlap,
        support: SupportRule::with_min_pairs(o.min_window_pairs),
    };
    let members = group_framed(n, usable, &rules)?;
    let mut mid_b = StringBuilder::with_capacity(n, n * 16);
    let mut plat_b = StringBuilder::with_capacity(n, n * 8);
    let mut asset_b = Int64Builder::with_capacity(n);
    let mut dist_b = Int32Builder::with_capacity(n);
    for (r, member) in members.iter().enumerate() {
        let (platform, mid) = materials[order[r] as usize];
        let (rep_platform, rep_mid) = materials[order[member.representative as usize] as usize];
        mid_b.append_value(mid);
        plat_b.append_value(platform);
        asset_b.append_value(asset_id(rep_platform, rep_mid));
        dist_b.append_value(member.distance as i32);
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new("material_id", DataType::Utf8, false),
        Field::new("platform", DataType::Utf8, false),
        Field::new("asset_id", DataType::Int64, false),
        Field::new("distance", DataType::Int32, false),
    ]));
    Ok(RecordBatch::try_new(
        schema,
        vec![
            Arc::new(mid_b.finish()) as ArrayRef,
            Arc::new(plat_b.finish()),
            Arc::new(asset_b.finish()),
            Arc::new(dist_b.finish()),
        ],
    )?)
}

/// Group the materials of a `material_fingerprints` table (one record batch
/// with canonical column types) into `asset_groups` rows, one per material.
#[pyfunction]
#[pyo3(signature = (fingerprints, options_json="{}"))]
pub(super) fn group_fingerprints<'py>(
    py: Python<'py>,
    fingerprints: PyTable,
    options_json: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let options: GroupOptions = serde_json::from_str(options_json)
        .map_err(|e| to_py_err(CoreError::invalid(format!("group options: {e}"))))?;
    let batch = single_batch(fingerprints, "fingerprints")?;
    let out = detached(py, || group_batch(&batch, &options))?;
    batch_to_pyarrow(py, out)
}

/// The grouping defaults as JSON (radii measured in `hamming_index::grouping`).
#[pyfunction]
pub(super) fn default_group_options_json() -> String {
    let o = GroupOptions::default();
    serde_json::json!({
        "algorithm": o.algorithm,
        "confirm_algorithm": o.confirm_algorithm,
        "max_distance": o.max_distance,
        "confirm_max_distance": o.confirm_max_distance,
        "min_quality": o.min_quality,
        "video_min_overlap": o.video_min_overlap,
        "representative": o.representative,
        "min_window_pairs": o.min_window_pairs,
    })
    .to_string()
}
