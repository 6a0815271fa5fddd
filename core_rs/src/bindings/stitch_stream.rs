//! `StreamStitcher`: identity stitching over input pushed batch by batch
//! (see `crate::stitch::StreamStitcher`), so Python can read Parquet row
//! group by row group and free each batch once it is copied into the
//! compact store.

use std::sync::Mutex;

use arrow_array::RecordBatch;
use pyo3::prelude::*;
use pyo3_arrow::PyTable;

use super::{batch_to_pyarrow, detached, to_py_err};
use crate::error::CoreError;
use crate::stitch::{self, StitchConfig, StreamStitcher};

/// Stitching fed batch by batch; `finish` once, then the object is spent.
#[pyclass(name = "StreamStitcher", module = "omniplug._core", frozen)]
pub(super) struct PyStreamStitcher {
    /// `None` after `finish`. Locked with `try_lock` only: waiting for the
    /// lock while holding the GIL could deadlock with a call that released it.
    inner: Mutex<Option<StreamStitcher>>,
}

impl PyStreamStitcher {
    /// Run `f` on the stitcher with the GIL released.
    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut Option<StreamStitcher>) -> Result<T, CoreError> + Send,
    ) -> PyResult<T> {
        let mut guard = self.inner.try_lock().map_err(|_| {
            to_py_err(CoreError::invalid(
                "StreamStitcher is in use by another thread",
            ))
        })?;
        let slot: &mut Option<StreamStitcher> = &mut guard;
        detached(py, move || f(slot))
    }
}

fn live(slot: &mut Option<StreamStitcher>) -> Result<&mut StreamStitcher, CoreError> {
    slot.as_mut()
        .ok_or_else(|| CoreError::invalid("StreamStitcher: finish() was already called"))
}

#[pymethods]
impl PyStreamStitcher {
    /// A stitcher with the `StitchConfig` fields of `config_json`
    /// (missing ones default).
    #[new]
    #[pyo3(signature = (config_json="{}"))]
    fn new(config_json: &str) -> PyResult<Self> {
        let config = StitchConfig::from_json(config_json).map_err(to_py_err)?;
        let inner = StreamStitcher::new(config).map_err(to_py_err)?;
        Ok(PyStreamStitcher {
            inner: Mutex::new(Some(inner)),
        })
    }

    /// Copy the link rows of `batch` (a record batch or table) into the
    /// compact store; the caller may drop `batch` afterwards.
    fn push_links(&self, py: Python<'_>, batch: PyTable) -> PyResult<()> {
        let (batches, _) = batch.into_inner();
        self.with(py, move |s| {
            let s = live(s)?;
            batches.iter().try_for_each(|b| s.push_links(b))
        })
    }

    /// Copy rows of the previous persons (id_type, id_value, person_id).
    fn push_previous(&self, py: Python<'_>, batch: PyTable) -> PyResult<()> {
        let (batches, _) = batch.into_inner();
        self.with(py, move |s| {
            let s = live(s)?;
            batches.iter().try_for_each(|b| s.push_previous(b))
        })
    }

    /// Link rows pushed so far.
    fn n_links(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| Ok(live(s)?.n_links()))
    }

    /// Distinct identifier values stored so far.
    fn n_values(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| Ok(live(s)?.n_values()))
    }

    /// Bytes of identifier text stored so far.
    fn value_bytes(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |s| Ok(live(s)?.value_bytes()))
    }

    /// Stitch: `(persons, merges, splits, cuts, report_json)`, persons as a
    /// table of `batch_rows`-row batches (zero-copy slices of one result).
    #[pyo3(signature = (batch_rows=1 << 20))]
    #[allow(clippy::type_complexity)]
    fn finish<'py>(
        &self,
        py: Python<'py>,
        batch_rows: usize,
    ) -> PyResult<(
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        Bound<'py, PyAny>,
        String,
    )> {
        if batch_rows == 0 {
            return Err(to_py_err(CoreError::invalid(
                "batch_rows must be at least 1",
            )));
        }
        let output = self.with(py, |s| {
            let s = s
                .take()
                .ok_or_else(|| CoreError::invalid("StreamStitcher: finish() was already called"))?;
            s.finish()
        })?;
        let cuts = stitch::cuts_to_batch(&output.cuts).map_err(to_py_err)?;
        let persons = output.persons;
        let schema = persons.schema();
        let pieces: Vec<RecordBatch> = (0..persons.num_rows())
            .step_by(batch_rows)
            .map(|at| persons.slice(at, batch_rows.min(persons.num_rows() - at)))
            .collect();
        Ok((
            PyTable::try_new(pieces, schema)?.into_pyarrow(py)?,
            batch_to_pyarrow(py, output.merges)?,
            batch_to_pyarrow(py, output.splits)?,
            batch_to_pyarrow(py, cuts)?,
            output.report.to_json(),
        ))
    }
}
