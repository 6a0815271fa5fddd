//! The thin pyo3 layer: Arrow in and out through the PyCapsule interface
//! (`pyo3-arrow`), the GIL released around every heavy call, and core errors
//! turned into the classes of `omniplug.errors`.
//!
//! Nothing algorithmic lives here: each function converts its arguments,
//! calls one function of an algorithm module inside [`detached`], and
//! converts the result back. Submodules: `fingerprint` (images, files and
//! pixel buffers to hash rows), `assets` (`HashIndex`, grouping of a
//! `material_fingerprints` table) and `grouping`, the frame-aware rule of
//! that grouping (plain Rust over `HashIndex`; a candidate to move into
//! `hamming_index` once it has Rust tests of its own).

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;
use pyo3_arrow::PyTable;

use crate::attribution;
use crate::error::CoreError;
use crate::parallel;
use crate::stitch::{self, LinkColumns, PersonsColumns, StitchConfig};

mod assets;
mod attribution_stream;
mod fingerprint;
mod grouping;
mod stitch_stream;
mod markov_paths;

/// Classes of `omniplug.errors`, looked up once. Importing the Python module
/// (instead of `create_exception!`) keeps one hierarchy that Python code can
/// subclass and document.
fn error_class(py: Python<'_>, name: &str) -> PyResult<Py<PyType>> {
    static MODULE: PyOnceLock<Py<PyModule>> = PyOnceLock::new();
    let module = MODULE.get_or_try_init(py, || -> PyResult<_> {
        Ok(py.import("omniplug.errors")?.unbind())
    })?;
    Ok(module
        .bind(py)
        .getattr(name)?
        .cast_into::<PyType>()?
        .unbind())
}

/// Convert a core error into the matching `omniplug.errors` exception.
pub(crate) fn to_py_err(err: CoreError) -> PyErr {
    Python::attach(|py| {
        let class = match &err {
            CoreError::InvalidInput(_) => "InvalidInputError",
            CoreError::LimitExceeded(_) => "LimitExceededError",
            CoreError::Internal(_) => "CoreInternalError",
        };
        match error_class(py, class) {
            Ok(cls) => PyErr::from_type(cls.into_bound(py), err.to_string()),
            Err(import_failure) => import_failure,
        }
    })
}

/// Release the GIL, run `f` on the configured rayon pool, and convert its
/// error. Every binding that does real work goes through here.
pub(crate) fn detached<T, F>(py: Python<'_>, f: F) -> PyResult<T>
where
    T: Send,
    F: FnOnce() -> Result<T, CoreError> + Send,
{
    py.detach(|| parallel::install(f)).map_err(to_py_err)
}

/// Return the table unchanged. Crosses the boundary both ways through the
/// Arrow C stream interface, so tests can prove that no buffer is copied.
#[pyfunction]
fn echo_table(py: Python<'_>, table: PyTable) -> PyResult<Bound<'_, PyAny>> {
    table.into_pyarrow(py)
}

/// Addresses of every data buffer of every column chunk, as Rust sees them
/// after import: `[(column, chunk, buffer_index, address)]`.
#[pyfunction]
fn buffer_addresses(table: PyTable) -> Vec<(String, usize, usize, usize)> {
    let (batches, schema) = table.into_inner();
    let mut out = Vec::new();
    for (chunk, batch) in batches.iter().enumerate() {
        for (col, field) in schema.fields().iter().enumerate() {
            let data = batch.column(col).to_data();
            for (i, buf) in data.buffers().iter().enumerate() {
                out.push((field.name().clone(), chunk, i, buf.as_ptr() as usize));
            }
        }
    }
    out
}

/// Whether this extension was compiled with optimisations.
#[pyfunction]
fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// Threads the next heavy call will use (`OMNIPLUG_NUM_THREADS`, fork state).
#[pyfunction]
fn num_threads() -> usize {
    parallel::current_num_threads()
}

/// Called from an `os.register_at_fork` handler in the child process.
#[pyfunction]
fn _after_fork_in_child() {
    parallel::mark_forked();
}

/// Raise a core error of the given kind (used by tests of the error mapping).
#[pyfunction]
fn _raise_core_error(py: Python<'_>, kind: &str, message: String) -> PyResult<()> {
    let kind = kind.to_owned();
    detached(py, move || match kind.as_str() {
        "invalid" => Err(CoreError::InvalidInput(message)),
        "limit" => Err(CoreError::LimitExceeded(message)),
        _ => Err(CoreError::Internal(message)),
    })
}

/// One record batch as a `pyarrow.Table`.
fn batch_to_pyarrow(py: Python<'_>, batch: RecordBatch) -> PyResult<Bound<'_, PyAny>> {
    let schema: SchemaRef = batch.schema();
    PyTable::try_new(vec![batch], schema)?.into_pyarrow(py)
}

/// Identity stitching: `(persons, merges, splits, cuts, report_json)`.
///
/// `links` and `previous` are Arrow tables (any PyCapsule producer);
/// `config_json` holds the `StitchConfig` fields (missing ones default).
#[pyfunction]
#[pyo3(signature = (links, previous=None, config_json="{}"))]
#[allow(clippy::type_complexity)]
fn stitch_links<'py>(
    py: Python<'py>,
    links: PyTable,
    previous: Option<PyTable>,
    config_json: &str,
) -> PyResult<(
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    Bound<'py, PyAny>,
    String,
)> {
    let config = StitchConfig::from_json(config_json).map_err(to_py_err)?;
    let (link_batches, _) = links.into_inner();
    let previous_batches = previous.map(|p| p.into_inner().0);
    let output = detached(py, || {
        let columns = LinkColumns::from_batches(&link_batches)?;
        let prev = match &previous_batches {
            Some(batches) => Some(PersonsColumns::from_batches(batches)?),
            None => None,
        };
        stitch::stitch(&columns, prev.as_ref(), &config)
    })?;
    let cuts = stitch::cuts_to_batch(&output.cuts).map_err(to_py_err)?;
    Ok((
        batch_to_pyarrow(py, output.persons)?,
        batch_to_pyarrow(py, output.merges)?,
        batch_to_pyarrow(py, output.splits)?,
        batch_to_pyarrow(py, cuts)?,
        output.report.to_json(),
    ))
}

/// The one batch of a table the Python layer combined into a single chunk.
fn single_batch(table: PyTable, what: &str) -> PyResult<RecordBatch> {
    let (mut batches, schema) = table.into_inner();
    if batches.is_empty() {
        // An empty table may arrive with no batch at all.
        return Ok(RecordBatch::new_empty(schema));
    }
    if batches.len() != 1 {
        return Err(to_py_err(CoreError::invalid(format!(
            "{what}: expected one record batch, got {} (combine the chunks first)",
            batches.len()
        ))));
    }
    Ok(batches.remove(0))
}

/// Multi-touch attribution over person-resolved tables; see `omniplug.attribute`.
#[pyfunction]
#[pyo3(signature = (touchpoints, orders, group_by, channel=None, config_json="{}"))]
fn attribute_tables<'py>(
    py: Python<'py>,
    touchpoints: PyTable,
    orders: PyTable,
    group_by: Vec<String>,
    channel: Option<String>,
    config_json: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let config = attribution::config_from_json(config_json).map_err(to_py_err)?;
    let touches = single_batch(touchpoints, "touchpoints")?;
    let orders = single_batch(orders, "orders")?;
    let out = detached(py, || {
        attribution::attribute_batches(&touches, &orders, &group_by, channel.as_deref(), &config)
    })?;
    batch_to_pyarrow(py, out)
}

/// AIPL stages as of `as_of_ms`; see `omniplug.aipl`.
#[pyfunction]
#[pyo3(signature = (touchpoints, orders, as_of_ms, rules_json="{}"))]
fn aipl_tables<'py>(
    py: Python<'py>,
    touchpoints: PyTable,
    orders: PyTable,
    as_of_ms: i64,
    rules_json: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let rules = attribution::aipl_rules_from_json(rules_json).map_err(to_py_err)?;
    let touches = single_batch(touchpoints, "touchpoints")?;
    let orders = single_batch(orders, "orders")?;
    let out = detached(py, || {
        attribution::aipl_batches(&touches, &orders, as_of_ms, &rules)
    })?;
    batch_to_pyarrow(py, out)
}

/// The core's default `StitchConfig` as JSON (the recommended guardrails).
#[pyfunction]
fn default_stitch_config_json() -> String {
    serde_json::to_string(&StitchConfig::default()).unwrap_or_default()
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(echo_table, m)?)?;
    m.add_function(wrap_pyfunction!(buffer_addresses, m)?)?;
    m.add_function(wrap_pyfunction!(build_profile, m)?)?;
    m.add_function(wrap_pyfunction!(num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(_raise_core_error, m)?)?;
    m.add_function(wrap_pyfunction!(stitch_links, m)?)?;
    m.add_function(wrap_pyfunction!(default_stitch_config_json, m)?)?;
    m.add_class::<stitch_stream::PyStreamStitcher>()?;
    m.add_function(wrap_pyfunction!(attribute_tables, m)?)?;
    m.add_function(wrap_pyfunction!(aipl_tables, m)?)?;
    m.add_function(wrap_pyfunction!(markov_paths::markov_paths_table, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint::fingerprint_encoded, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint::fingerprint_files, m)?)?;
    m.add_function(wrap_pyfunction!(fingerprint::fingerprint_pixels, m)?)?;
    m.add_function(wrap_pyfunction!(
        fingerprint::default_fingerprint_options_json,
        m
    )?)?;
    m.add_class::<assets::PyHashIndex>()?;
    m.add_class::<attribution_stream::PyAttributionStream>()?;
    m.add_function(wrap_pyfunction!(assets::group_fingerprints, m)?)?;
    m.add_function(wrap_pyfunction!(assets::default_group_options_json, m)?)?;
    Ok(())
}
