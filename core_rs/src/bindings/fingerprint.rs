//! Bindings of `fingerprint`: encoded images (bytes or local files) and raw
//! pixel buffers (video frames) to hash rows.
//!
//! Every function returns rows keyed by the position of their input item
//! (`item`), never material ids: the Python layer (`omniplug.fingerprint`)
//! attaches `material_id`, `platform` and `frame` with a `take`, so the
//! bindings stay independent of the table the caller holds. One bad item
//! never fails the call: it becomes a reject row naming the problem.

use std::io::Read;
use std::sync::Arc;

use arrow_array::builder::{BinaryBuilder, Float32Builder, StringBuilder, UInt32Builder};
use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3_arrow::PyArray;
use rayon::prelude::*;
use serde::Deserialize;

use super::{batch_to_pyarrow, detached, to_py_err};
use crate::error::{CoreError, CoreResult};
use crate::fingerprint::{
    algorithm_label, fingerprint_bytes, fingerprint_luma, rgb_to_luma, Algorithms, DecodeLimits,
    Fingerprint, FingerprintConfig, LumaImage,
};

/// Options from Python (`omniplug.fingerprint`), as JSON. Missing fields
/// take the core's defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Options {
    algorithms: Vec<String>,
    all_windows: bool,
    min_quality: u8,
    max_input_bytes: usize,
    max_pixels: u64,
    max_side: u32,
}

impl Default for Options {
    fn default() -> Self {
        let c = FingerprintConfig::default();
        Options {
            algorithms: vec!["dhash64".into(), "phash64".into(), "pdq256".into()],
            all_windows: c.all_windows,
            min_quality: c.min_quality,
            max_input_bytes: c.limits.max_input_bytes,
            max_pixels: c.limits.max_pixels,
            max_side: c.limits.max_side,
        }
    }
}

/// The core configuration of an options JSON.
fn config_from_json(json: &str) -> CoreResult<FingerprintConfig> {
    let o: Options = serde_json::from_str(json)
        .map_err(|e| CoreError::invalid(format!("fingerprint options: {e}")))?;
    let mut algorithms = Algorithms {
        dhash64: false,
        phash64: false,
        pdq256: false,
    };
    for name in &o.algorithms {
        match name.as_str() {
            "dhash64" => algorithms.dhash64 = true,
            "phash64" => algorithms.phash64 = true,
            "pdq256" => algorithms.pdq256 = true,
            other => {
                return Err(CoreError::invalid(format!(
                    "unknown algorithm {other:?}: expected dhash64, phash64 or pdq256"
                )))
            }
        }
    }
    if o.algorithms.is_empty() {
        return Err(CoreError::invalid("algorithms: name at least one"));
    }
    Ok(FingerprintConfig {
        limits: DecodeLimits {
            max_input_bytes: o.max_input_bytes,
            max_pixels: o.max_pixels,
            max_side: o.max_side,
        },
        algorithms,
        all_windows: o.all_windows,
        min_quality: o.min_quality,
        ..FingerprintConfig::default()
    })
}

/// Hash rows and rejects, keyed by input item, built as results arrive.
struct RowsBuilder {
    item: UInt32Builder,
    algorithm: StringBuilder,
    hash: BinaryBuilder,
    quality: Float32Builder,
    reject_item: UInt32Builder,
    reject_reason: StringBuilder,
}

impl RowsBuilder {
    fn new(items: usize) -> Self {
        // About 40 rows per image with the full window set.
        let rows = items * 40;
        RowsBuilder {
            item: UInt32Builder::with_capacity(rows),
            algorithm: StringBuilder::with_capacity(rows, rows * 12),
            hash: BinaryBuilder::with_capacity(rows, rows * 8),
            quality: Float32Builder::with_capacity(rows),
            reject_item: UInt32Builder::new(),
            reject_reason: StringBuilder::new(),
        }
    }

    fn push(&mut self, item: u32, result: CoreResult<Fingerprint>) {
        match result {
            Ok(fp) => {
                for h in &fp.hashes {
                    self.item.append_value(item);
                    self.algorithm
                        .append_value(algorithm_label(h.algorithm, h.window));
                    self.hash.append_value(h.code.to_bytes());
                    self.quality.append_value(h.quality as f32);
                }
            }
            Err(e) => {
                self.reject_item.append_value(item);
                self.reject_reason.append_value(e.to_string());
            }
        }
    }

    /// `(rows: item, algorithm, hash, quality; rejects: item, reason)`.
    fn finish(mut self) -> CoreResult<(RecordBatch, RecordBatch)> {
        let rows_schema = Arc::new(Schema::new(vec![
            Field::new("item", DataType::UInt32, false),
            Field::new("algorithm", DataType::Utf8, false),
            Field::new("hash", DataType::Binary, false),
            Field::new("quality", DataType::Float32, false),
        ]));
        let rows = RecordBatch::try_new(
            rows_schema,
            vec![
                Arc::new(self.item.finish()) as ArrayRef,
                Arc::new(self.algorithm.finish()),
                Arc::new(self.hash.finish()),
                Arc::new(self.quality.finish()),
            ],
        )?;
        let rejects_schema = Arc::new(Schema::new(vec![
            Field::new("item", DataType::UInt32, false),
            Field::new("reason", DataType::Utf8, false),
        ]));
        let rejects = RecordBatch::try_new(
            rejects_schema,
            vec![
                Arc::new(self.reject_item.finish()) as ArrayRef,
                Arc::new(self.reject_reason.finish()),
            ],
        )?;
        Ok((rows, rejects))
    }
}

fn check_items(n: usize) -> CoreResult<()> {
    if n > u32::MAX as usize {
        return Err(CoreError::LimitExceeded(format!(
            "{n} items in one call: at most {}",
            u32::MAX
        )));
    }
    Ok(())
}

/// The values of a binary-like array: `None` for nulls.
fn binary_values(array: &ArrayRef) -> CoreResult<Vec<Option<&[u8]>>> {
    Ok(match array.data_type() {
        DataType::Binary => array.as_binary::<i32>().iter().collect(),
        DataType::LargeBinary => array.as_binary::<i64>().iter().collect(),
        DataType::BinaryView => array.as_binary_view().iter().collect(),
        DataType::FixedSizeBinary(_) => array.as_fixed_size_binary().iter().collect(),
        other => {
            return Err(CoreError::invalid(format!(
                "content must be a binary column (the encoded image), got {other}"
            )))
        }
    })
}

/// The values of a string array: `None` for nulls.
fn string_values<'a>(array: &'a ArrayRef, what: &str) -> CoreResult<Vec<Option<&'a str>>> {
    Ok(match array.data_type() {
        DataType::Utf8 => array.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        other => {
            return Err(CoreError::invalid(format!(
                "{what} must be a string column, got {other}"
            )))
        }
    })
}

/// Hash every item in parallel; the closure gives one item's result.
fn hash_items<F>(n: usize, f: F) -> CoreResult<(RecordBatch, RecordBatch)>
where
    F: Fn(usize) -> CoreResult<Fingerprint> + Sync + Send,
{
    check_items(n)?;
    let results: Vec<CoreResult<Fingerprint>> = (0..n).into_par_iter().map(f).collect();
    let mut out = RowsBuilder::new(n);
    for (i, r) in results.into_iter().enumerate() {
        out.push(i as u32, r);
    }
    out.finish()
}

/// Read a local file of at most `max_bytes` bytes; the size is checked
/// before reading so a huge file is refused without being read.
fn read_limited(path: &str, max_bytes: usize) -> CoreResult<Vec<u8>> {
    let io_err = |e: std::io::Error| CoreError::invalid(format!("cannot read {path:?}: {e}"));
    let file = std::fs::File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(CoreError::invalid(format!(
            "{path:?} is not a regular file"
        )));
    }
    if meta.len() > max_bytes as u64 {
        return Err(CoreError::LimitExceeded(format!(
            "image file {path:?} is {} bytes, above the limit of {max_bytes}",
            meta.len()
        )));
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    // `take` guards against a file that grows while it is read.
    file.take(max_bytes as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io_err)?;
    if buf.len() > max_bytes {
        return Err(CoreError::LimitExceeded(format!(
            "image file {path:?} grew above the limit of {max_bytes} bytes while read"
        )));
    }
    Ok(buf)
}

/// Fingerprint encoded images (JPEG, PNG, WebP) of a binary array.
///
/// Returns `(rows, rejects)`: rows `item, algorithm, hash, quality` in item
/// order (then window, then algorithm), rejects `item, reason`.
#[pyfunction]
#[pyo3(signature = (content, options_json="{}"))]
pub(super) fn fingerprint_encoded<'py>(
    py: Python<'py>,
    content: PyArray,
    options_json: &str,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let config = config_from_json(options_json).map_err(to_py_err)?;
    let (array, _) = content.into_inner();
    let (rows, rejects) = detached(py, || {
        let values = binary_values(&array)?;
        hash_items(values.len(), |i| match values[i] {
            Some(bytes) => fingerprint_bytes(bytes, &config),
            None => Err(CoreError::invalid("content is null")),
        })
    })?;
    Ok((batch_to_pyarrow(py, rows)?, batch_to_pyarrow(py, rejects)?))
}

/// Fingerprint image files given by local paths (read in parallel).
///
/// Same returns as [`fingerprint_encoded`]; a missing or unreadable file is
/// a reject.
#[pyfunction]
#[pyo3(signature = (paths, options_json="{}"))]
pub(super) fn fingerprint_files<'py>(
    py: Python<'py>,
    paths: PyArray,
    options_json: &str,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let config = config_from_json(options_json).map_err(to_py_err)?;
    let (array, _) = paths.into_inner();
    let (rows, rejects) = detached(py, || {
        let values = string_values(&array, "paths")?;
        hash_items(values.len(), |i| match values[i] {
            Some(path) => {
                let bytes = read_limited(path, config.limits.max_input_bytes)?;
                fingerprint_bytes(&bytes, &config)
            }
            None => Err(CoreError::invalid("path is null")),
        })
    })?;
    Ok((batch_to_pyarrow(py, rows)?, batch_to_pyarrow(py, rejects)?))
}

/// How the bytes of a pixel buffer are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One byte per pixel, 0..=255 luma.
    Gray,
    /// One byte per pixel, video-range Y (16..=235, BT.601 studio swing).
    VideoY,
    /// Three bytes per pixel, interleaved R, G, B.
    Rgb,
}

impl Layout {
    fn parse(name: &str) -> CoreResult<Layout> {
        match name {
            "gray" => Ok(Layout::Gray),
            "video_y" => Ok(Layout::VideoY),
            "rgb" => Ok(Layout::Rgb),
            other => Err(CoreError::invalid(format!(
                "pixel layout {other:?}: expected gray, video_y or rgb"
            ))),
        }
    }

    fn bytes_per_pixel(self) -> usize {
        match self {
            Layout::Rgb => 3,
            _ => 1,
        }
    }
}

/// One pixel buffer from Python: `(bytes, width, height, layout, stride)`;
/// `stride` is the distance between row starts in bytes (0: packed rows).
type PixelBuffer = (PyBackedBytes, usize, usize, String, usize);

/// The luma image of a pixel buffer, checked against the pixel limits.
fn buffer_luma(
    bytes: &[u8],
    width: usize,
    height: usize,
    layout: Layout,
    stride: usize,
    limits: &DecodeLimits,
) -> CoreResult<LumaImage> {
    crate::fingerprint::check_dimensions(
        u32::try_from(width).unwrap_or(u32::MAX),
        u32::try_from(height).unwrap_or(u32::MAX),
        limits,
    )?;
    let row_bytes = width * layout.bytes_per_pixel();
    let stride = if stride == 0 { row_bytes } else { stride };
    if stride < row_bytes {
        return Err(CoreError::invalid(format!(
            "stride {stride} is shorter than a row of {row_bytes} bytes"
        )));
    }
    let needed = stride * (height - 1) + row_bytes;
    if bytes.len() < needed {
        return Err(CoreError::invalid(format!(
            "pixel buffer has {} bytes, a {width}x{height} {layout:?} image needs {needed}",
            bytes.len()
        )));
    }
    // Video range: Y' = 16 + 219 * luma / 255, so luma = (Y' - 16) * 255 / 219.
    const VIDEO_SCALE: f32 = 255.0 / 219.0;
    let mut data = Vec::with_capacity(width * height);
    for y in 0..height {
        let row = &bytes[y * stride..y * stride + row_bytes];
        match layout {
            Layout::Gray => data.extend(row.iter().map(|&v| v as f32)),
            Layout::VideoY => data.extend(
                row.iter()
                    .map(|&v| ((v as f32 - 16.0) * VIDEO_SCALE).clamp(0.0, 255.0)),
            ),
            Layout::Rgb => data.extend(row.chunks_exact(3).map(|p| rgb_to_luma(p[0], p[1], p[2]))),
        }
    }
    LumaImage::new(width, height, data)
}

/// Fingerprint decoded pixel buffers (video frames, images decoded
/// elsewhere) in parallel. `buffers` are `(bytes, width, height, layout,
/// stride)` with layout `gray`, `video_y` or `rgb`.
///
/// Same returns as [`fingerprint_encoded`]; a buffer of the wrong size or
/// above the pixel limits is a reject.
#[pyfunction]
#[pyo3(signature = (buffers, options_json="{}"))]
pub(super) fn fingerprint_pixels<'py>(
    py: Python<'py>,
    buffers: Vec<PixelBuffer>,
    options_json: &str,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let config = config_from_json(options_json).map_err(to_py_err)?;
    let layouts: Vec<Layout> = buffers
        .iter()
        .map(|b| Layout::parse(&b.3))
        .collect::<CoreResult<_>>()
        .map_err(to_py_err)?;
    let (rows, rejects) = detached(py, || {
        hash_items(buffers.len(), |i| {
            let (bytes, w, h, _, stride) = &buffers[i];
            let luma = buffer_luma(bytes, *w, *h, layouts[i], *stride, &config.limits)?;
            Ok(fingerprint_luma(&luma, &config))
        })
    })?;
    Ok((batch_to_pyarrow(py, rows)?, batch_to_pyarrow(py, rejects)?))
}

/// The options JSON the core uses when given `{}` (the defaults).
#[pyfunction]
pub(super) fn default_fingerprint_options_json() -> String {
    let o = Options::default();
    serde_json::json!({
        "algorithms": o.algorithms,
        "all_windows": o.all_windows,
        "min_quality": o.min_quality,
        "max_input_bytes": o.max_input_bytes,
        "max_pixels": o.max_pixels,
        "max_side": o.max_side,
    })
    .to_string()
}
