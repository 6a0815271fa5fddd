//! `markov_paths_table`: exact Markov removal effects from a table of
//! distinct paths (see `attribution::markov::distinct`), the core of
//! `omniplug.markov_paths.markov_removal_effects`.
//!
//! The Python layer checks the columns and casts them: the path column to
//! `utf8` (channels joined by `separator`) or `list<utf8>`, the counts and
//! the value to `float64`. This reads those Arrow arrays into a
//! `DistinctPaths` (naming the column and row of any bad cell), solves, and
//! returns one record batch.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, Float64Array, ListArray, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3_arrow::PyTable;
use rayon::prelude::*;

use super::{batch_to_pyarrow, detached};
use crate::attribution::markov::distinct::chunks::{effects_from_chunks, CountedChunk, PATH_CHUNK};
use crate::attribution::markov::distinct::{
    markov_distinct_paths, DistinctPaths, DistinctPathsBuilder, PathEffects,
};
use crate::error::{CoreError, CoreResult};

/// The column `name` of `batch`, downcast to `T`.
fn column<'b, T: 'static>(batch: &'b RecordBatch, name: &str, want: &str) -> CoreResult<&'b T> {
    let col = batch
        .column_by_name(name)
        .ok_or_else(|| CoreError::invalid(format!("missing column '{name}'")))?;
    col.as_any().downcast_ref::<T>().ok_or_else(|| {
        CoreError::invalid(format!(
            "column '{name}' must be {want}, got {}",
            col.data_type()
        ))
    })
}

/// Row `i` of a float column (`row` in the whole table); a null cell is an error naming it.
#[inline]
fn number(a: &Float64Array, name: &str, i: usize, row: usize) -> CoreResult<f64> {
    if a.null_count() > 0 && a.is_null(i) {
        return Err(CoreError::invalid(format!(
            "column '{name}' row {row}: null"
        )));
    }
    Ok(a.value(i))
}

/// Rows per parsing chunk (chunks are parsed in parallel, joined in order).
const ROW_CHUNK: usize = 1 << 13;

/// The path column of one batch, in one of the two accepted types.
enum PathColumn<'b> {
    Joined(&'b StringArray),
    Lists(&'b ListArray, &'b StringArray),
}

/// Read rows `lo..hi` of one batch (table rows start at `batch.base`) into `builder`.
fn read_rows(
    builder: &mut DistinctPathsBuilder,
    batch: &Batch<'_>,
    columns: [&str; 4],
    separator: &str,
    lo: usize,
    hi: usize,
) -> CoreResult<()> {
    let [path, conv, null, value] = columns;
    let [conv_a, null_a, value_a] = batch.numbers;
    let (conv_a, null_a) = (conv_a.expect("conversions"), null_a.expect("nulls"));
    let (paths, base) = (&batch.paths, batch.base);
    // At most this many channels (each is >= 1 byte, separators between).
    let most = match *paths {
        PathColumn::Joined(s) => {
            let o = s.value_offsets();
            (o[hi] - o[lo]) as usize / (1 + separator.len()) + (hi - lo)
        }
        PathColumn::Lists(l, _) => (l.value_offsets()[hi] - l.value_offsets()[lo]) as usize,
    };
    builder.reserve(hi - lo, most);
    for i in lo..hi {
        let row = base + i;
        let c = number(conv_a, conv, i, row)?;
        let z = number(null_a, null, i, row)?;
        let v = match value_a {
            Some(a) => Some(number(a, value, i, row)?),
            None => None,
        };
        match *paths {
            PathColumn::Joined(s) => {
                if s.is_null(i) {
                    return Err(CoreError::invalid(format!(
                        "column '{path}' row {row}: null"
                    )));
                }
                let text = s.value(i);
                let start = s.value_offsets()[i] as usize;
                builder.push_joined(
                    row,
                    text,
                    s.value_data(),
                    start,
                    separator,
                    c,
                    z,
                    v,
                    columns,
                )?;
            }
            PathColumn::Lists(l, values) => {
                if l.is_null(i) {
                    return Err(CoreError::invalid(format!(
                        "column '{path}' row {row}: null"
                    )));
                }
                let offsets = l.value_offsets();
                let (a, b) = (offsets[i] as usize, offsets[i + 1] as usize);
                if let Some(j) = (a..b).find(|&j| values.is_null(j)) {
                    return Err(CoreError::invalid(format!(
                        "column '{path}' row {row}: null channel at position {}",
                        j - a
                    )));
                }
                builder.push(row, (a..b).map(|j| values.value(j)), c, z, v, columns)?
            }
        }
    }
    Ok(())
}

/// One batch's columns, checked, and where its rows start in the table.
struct Batch<'b> {
    paths: PathColumn<'b>,
    numbers: [Option<&'b Float64Array>; 3],
    base: usize,
    rows: usize,
}

/// The columns of every batch (an error names the missing or mistyped one).
fn batch_columns<'b>(
    batches: &'b [RecordBatch],
    columns: [&str; 4],
    with_value: bool,
) -> CoreResult<Vec<Batch<'b>>> {
    let [path, conv, null, value] = columns;
    let mut base = 0usize;
    let mut out = Vec::with_capacity(batches.len());
    for batch in batches {
        let numbers = [
            Some(column::<Float64Array>(batch, conv, "float64")?),
            Some(column::<Float64Array>(batch, null, "float64")?),
            if with_value {
                Some(column::<Float64Array>(batch, value, "float64")?)
            } else {
                None
            },
        ];
        let path_col = batch
            .column_by_name(path)
            .ok_or_else(|| CoreError::invalid(format!("missing column '{path}'")))?;
        let wrong = || {
            CoreError::invalid(format!(
                "column '{path}' must be utf8 or list<utf8>, got {}",
                path_col.data_type()
            ))
        };
        let paths = if let Some(s) = path_col.as_any().downcast_ref::<StringArray>() {
            PathColumn::Joined(s)
        } else if let Some(l) = path_col.as_any().downcast_ref::<ListArray>() {
            let values = l
                .values()
                .as_any()
                .downcast_ref::<StringArray>()
                .ok_or_else(wrong)?;
            PathColumn::Lists(l, values)
        } else {
            return Err(wrong());
        };
        let rows = batch.num_rows();
        out.push(Batch {
            paths,
            numbers,
            base,
            rows,
        });
        base += rows;
    }
    Ok(out)
}

/// Read every batch into one `DistinctPaths` (chunks of rows in parallel;
/// the first bad row in table order is the one reported).
fn read_paths(
    batches: &[Batch<'_>],
    columns: [&str; 4],
    with_value: bool,
    separator: &str,
) -> CoreResult<DistinctPaths> {
    let mut builder = DistinctPathsBuilder::new(with_value);
    for batch in batches {
        let n = batch.rows;
        let chunks: Vec<CoreResult<DistinctPathsBuilder>> = (0..n)
            .step_by(ROW_CHUNK)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|lo| {
                let mut b = DistinctPathsBuilder::new(with_value);
                read_rows(
                    &mut b,
                    batch,
                    columns,
                    separator,
                    lo,
                    (lo + ROW_CHUNK).min(n),
                )?;
                Ok(b)
            })
            .collect();
        for chunk in chunks {
            builder.append(chunk?);
        }
    }
    builder.finish()
}

/// Read and count the table in chunks of [`PATH_CHUNK`] table rows, in
/// parallel (see `distinct::chunks`); `None` when some chunk has too many
/// channels for the dense form. The first bad row in table order is the
/// one reported.
fn read_counted(
    batches: &[Batch<'_>],
    columns: [&str; 4],
    with_value: bool,
    separator: &str,
    order: usize,
) -> CoreResult<Option<Vec<CountedChunk>>> {
    let total: usize = batches.iter().map(|b| b.rows).sum();
    let chunks: Vec<CoreResult<Option<CountedChunk>>> = (0..total)
        .step_by(PATH_CHUNK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|lo| {
            let hi = (lo + PATH_CHUNK).min(total);
            let mut b = DistinctPathsBuilder::new(with_value);
            // A chunk may span batches: read each batch's share in order.
            for batch in batches {
                let (from, to) = (lo.max(batch.base), hi.min(batch.base + batch.rows));
                if from < to {
                    read_rows(
                        &mut b,
                        batch,
                        columns,
                        separator,
                        from - batch.base,
                        to - batch.base,
                    )?;
                }
            }
            Ok(CountedChunk::count(b, order))
        })
        .collect();
    let mut out = Vec::with_capacity(chunks.len());
    let mut dense = true;
    for chunk in chunks {
        match chunk? {
            Some(c) => out.push(c),
            None => dense = false,
        }
    }
    Ok(dense.then_some(out))
}

/// Removal effects of a table: the chunked dense route when the chain is
/// small enough (and the table not empty), else the general one; both give
/// the same result bit for bit.
fn solve(
    batches: &[RecordBatch],
    columns: [&str; 4],
    with_value: bool,
    separator: &str,
    order: usize,
    max_states: usize,
) -> CoreResult<PathEffects> {
    let batches = batch_columns(batches, columns, with_value)?;
    let rows: usize = batches.iter().map(|b| b.rows).sum();
    if rows > 0 && (1..=3).contains(&order) {
        if let Some(chunks) = read_counted(&batches, columns, with_value, separator, order)? {
            if let Some(effects) = effects_from_chunks(&chunks, with_value, order, max_states)? {
                return Ok(effects);
            }
        }
    }
    let paths = read_paths(&batches, columns, with_value, separator)?;
    markov_distinct_paths(&paths, order, max_states)
}

/// The output batch: channel, removal_effect, share, conversions (and
/// conversion_value), path_conversions (and path_conversion_value).
fn effects_batch(e: PathEffects) -> CoreResult<RecordBatch> {
    let mut fields = vec![Field::new("channel", DataType::Utf8, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(StringArray::from(e.channels))];
    let mut add = |name: &str, v: Vec<f64>| {
        fields.push(Field::new(name, DataType::Float64, false));
        arrays.push(Arc::new(Float64Array::from(v)));
    };
    add("removal_effect", e.removal_effects);
    add("share", e.shares);
    add("conversions", e.conversions);
    if let Some(v) = e.values {
        add("conversion_value", v);
    }
    add("path_conversions", e.path_conversions);
    if let Some(v) = e.path_values {
        add("path_conversion_value", v);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

/// Exact Markov removal effects of order `order` from a distinct-path
/// table; see `omniplug.markov_paths.markov_removal_effects`.
#[pyfunction]
#[pyo3(signature = (table, order, path_column, conversions_column, null_column, value_column=None, separator=" > ".to_string(), max_states=2000))]
#[allow(clippy::too_many_arguments)]
pub(super) fn markov_paths_table<'py>(
    py: Python<'py>,
    table: PyTable,
    order: usize,
    path_column: String,
    conversions_column: String,
    null_column: String,
    value_column: Option<String>,
    separator: String,
    max_states: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let (batches, _) = table.into_inner();
    let out = detached(py, || {
        if separator.is_empty() {
            return Err(CoreError::invalid("separator must not be empty"));
        }
        let columns = [
            path_column.as_str(),
            conversions_column.as_str(),
            null_column.as_str(),
            value_column.as_deref().unwrap_or(""),
        ];
        effects_batch(solve(
            &batches,
            columns,
            value_column.is_some(),
            &separator,
            order,
            max_states,
        )?)
    })?;
    batch_to_pyarrow(py, out)
}
