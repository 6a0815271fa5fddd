//! `AttributionStream`: the state of one streamed attribution run
//! (`omniplug.attribute_stream`): person resolution, global group-by
//! dictionaries, spill partitioning and the ordered merge of partition
//! outputs, and for `markov*` / `shapley_exact` the learning pass over the
//! partitions. The algorithmic parts live in `attribution::stream` and
//! `attribution::stream_paths`.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow_schema::{DataType, Field, Schema};
use pyo3::prelude::*;
use pyo3_arrow::{PyArray, PyTable};

use super::{batch_to_pyarrow, detached, single_batch, to_py_err};
use crate::attribution::stream::{
    split_by_partition, GroupDicts, PersonKeys, StreamMerger, SPILL_PARTITIONS,
};
use crate::attribution::stream_paths::{with_learnt, LearntWeights, PathLearner};
use crate::attribution::{attribute_batches, config_from_json, AttributionConfig, Model};
use crate::error::{CoreError, CoreResult};

fn utf8<'a>(array: &'a dyn Array, what: &str) -> CoreResult<&'a StringArray> {
    array.as_string_opt::<i32>().ok_or_else(|| {
        CoreError::invalid(format!("{what} must be utf8, got {}", array.data_type()))
    })
}

fn items(a: &StringArray) -> impl Iterator<Item = Option<&str>> {
    (0..a.len()).map(move |i| a.is_valid(i).then(|| a.value(i)))
}

fn one_column(name: &str, array: ArrayRef) -> CoreResult<RecordBatch> {
    let schema = Schema::new(vec![Field::new(name, array.data_type().clone(), true)]);
    Ok(RecordBatch::try_new(Arc::new(schema), vec![array])?)
}

/// State of one streamed attribution run; see `omniplug.attribute_stream`.
#[pyclass(name = "AttributionStream", module = "omniplug._core")]
pub(super) struct PyAttributionStream {
    keys: PersonKeys,
    dicts: GroupDicts,
    merger: Option<StreamMerger>,
    group_by: Vec<String>,
    config: AttributionConfig,
    /// Present when a model learns channel weights from every path.
    learner: Option<PathLearner>,
    learnt: Option<LearntWeights>,
}

#[pymethods]
impl PyAttributionStream {
    /// A run grouping by `group_by` under the models of `config_json`;
    /// `persons` (columns `k`: utf8 `id_type \x1f id_value`, `p`: int64
    /// person) resolves identifiers, else each identifier is its own person.
    #[new]
    #[pyo3(signature = (group_by, config_json, persons=None))]
    fn new(
        py: Python<'_>,
        group_by: Vec<String>,
        config_json: &str,
        persons: Option<PyTable>,
    ) -> PyResult<Self> {
        let config = config_from_json(config_json).map_err(to_py_err)?;
        let names: Vec<String> = config.models.iter().map(Model::name).collect();
        let batches = persons.map(|t| t.into_inner().0);
        let keys = detached(py, || match &batches {
            None => Ok(PersonKeys::pairs()),
            Some(batches) => {
                let mut pairs = Vec::new();
                for b in batches {
                    let k = utf8(
                        b.column_by_name("k")
                            .ok_or_else(|| CoreError::invalid("persons lookup needs k"))?
                            .as_ref(),
                        "persons key",
                    )?;
                    let p = b
                        .column_by_name("p")
                        .ok_or_else(|| CoreError::invalid("persons lookup needs p"))?;
                    let p = p
                        .as_primitive_opt::<Int64Type>()
                        .ok_or_else(|| CoreError::invalid("persons.person_id must be int64"))?;
                    pairs.extend(
                        items(k).zip((0..p.len()).map(|i| p.is_valid(i).then(|| p.value(i)))),
                    );
                }
                Ok(PersonKeys::with_persons(pairs))
            }
        })?;
        let learner = config
            .models
            .iter()
            .any(Model::needs_paths)
            .then(PathLearner::new);
        Ok(PyAttributionStream {
            keys,
            dicts: GroupDicts::new(group_by.len()),
            merger: Some(StreamMerger::new(names, group_by.len())),
            group_by,
            config,
            learner,
            learnt: None,
        })
    }

    /// Person ids (int64, null for a null key) of the next identifier keys
    /// (utf8), touchpoints first, then orders, in input order.
    fn resolve<'py>(&mut self, py: Python<'py>, keys: PyArray) -> PyResult<Bound<'py, PyAny>> {
        let (array, _) = keys.into_inner();
        let state = &mut self.keys;
        let batch = detached(py, || {
            let ids: Int64Array = state
                .resolve(items(utf8(array.as_ref(), "keys")?))
                .into_iter()
                .collect();
            one_column("person", Arc::new(ids))
        })?;
        batch_to_pyarrow(py, batch)
    }

    /// Enter the next touch rows' group-by values (a table of the group-by
    /// columns as utf8, in `group_by` order) in the global dictionaries.
    fn observe(&mut self, py: Python<'_>, columns: PyTable) -> PyResult<()> {
        let (batches, _) = columns.into_inner();
        let (dicts, k) = (&mut self.dicts, self.group_by.len());
        detached(py, || {
            for b in &batches {
                if b.num_columns() != k {
                    return Err(CoreError::invalid(format!(
                        "expected {k} group-by columns, got {}",
                        b.num_columns()
                    )));
                }
                for j in 0..k {
                    dicts.observe(j, items(utf8(b.column(j).as_ref(), "group-by column")?));
                }
            }
            Ok(())
        })
    }

    /// Split rows by spill partition: `(rows, offsets)`, the row numbers
    /// (a one-column table `row`, uint32) grouped by partition in input
    /// order, and the offsets of each partition's rows.
    #[allow(clippy::type_complexity)]
    fn split<'py>(
        &self,
        py: Python<'py>,
        person: PyArray,
    ) -> PyResult<(Bound<'py, PyAny>, Vec<usize>)> {
        let (array, _) = person.into_inner();
        let (batch, offsets) = detached(py, || {
            let p = array
                .as_primitive_opt::<Int64Type>()
                .filter(|_| array.data_type() == &DataType::Int64)
                .ok_or_else(|| {
                    CoreError::invalid(format!("person must be int64, got {}", array.data_type()))
                })?;
            if p.null_count() > 0 {
                return Err(CoreError::invalid("person ids must not be null"));
            }
            let (rows, offsets) = split_by_partition(p.values());
            Ok((
                one_column("row", Arc::new(UInt32Array::from(rows)))?,
                offsets,
            ))
        })?;
        Ok((batch_to_pyarrow(py, batch)?, offsets))
    }

    /// Whether a model learns channel weights from every path first
    /// (`markov*`, `shapley_exact`): the run then needs `observe_channel`
    /// while spilling, `collect_paths` over every partition and `learn`.
    #[getter]
    fn needs_paths(&self) -> bool {
        self.learner.is_some()
    }

    /// Enter the next touch rows' channel values (utf8: the channel column,
    /// else the first group-by column), in input order.
    fn observe_channel(&mut self, py: Python<'_>, values: PyArray) -> PyResult<()> {
        let (array, _) = values.into_inner();
        let Some(learner) = self.learner.as_mut() else {
            return Ok(());
        };
        detached(py, || {
            learner.observe(items(utf8(array.as_ref(), "channel")?))
        })
    }

    /// Collect the paths of the next spill partition (its touch and order
    /// rows as spilled, one batch each); `channel` as for `attribute_tables`.
    #[pyo3(signature = (touchpoints, orders, channel=None))]
    fn collect_paths(
        &mut self,
        py: Python<'_>,
        touchpoints: PyTable,
        orders: PyTable,
        channel: Option<String>,
    ) -> PyResult<()> {
        let touches = single_batch(touchpoints, "touchpoints")?;
        let orders = single_batch(orders, "orders")?;
        let (group_by, config) = (&self.group_by, &self.config);
        let learner = self
            .learner
            .as_mut()
            .ok_or_else(|| to_py_err(CoreError::invalid("no model of this run needs paths")))?;
        detached(py, || {
            learner.collect(&touches, &orders, group_by, channel.as_deref(), config)
        })
    }

    /// Solve the models needing paths from every collected partition:
    /// per model (in model order) `(name, [(channel value, weight), ...])`,
    /// channels by ascending value, the weights the in-memory engine learns.
    fn learn(&mut self, py: Python<'_>) -> PyResult<LearntWeights> {
        let config = &self.config;
        let learner = self
            .learner
            .as_mut()
            .ok_or_else(|| to_py_err(CoreError::invalid("no model of this run needs paths")))?;
        let learnt = detached(py, || learner.solve(config))?;
        self.learnt = Some(learnt.clone());
        Ok(learnt)
    }

    /// Attribute one spill partition (touch and order rows, one batch
    /// each) under the run's models, with the learnt weights for the models
    /// needing paths: the output of `attribute_tables`, for `add`.
    #[pyo3(signature = (touchpoints, orders, channel=None))]
    fn attribute<'py>(
        &self,
        py: Python<'py>,
        touchpoints: PyTable,
        orders: PyTable,
        channel: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let config = match (&self.learner, &self.learnt) {
            (None, _) => self.config.clone(),
            (Some(_), Some(learnt)) => with_learnt(&self.config, learnt),
            (Some(_), None) => {
                return Err(to_py_err(CoreError::invalid(
                    "learn the channel weights before attributing",
                )))
            }
        };
        let touches = single_batch(touchpoints, "touchpoints")?;
        let orders = single_batch(orders, "orders")?;
        let group_by = &self.group_by;
        let out = detached(py, || {
            attribute_batches(&touches, &orders, group_by, channel.as_deref(), &config)
        })?;
        batch_to_pyarrow(py, out)
    }

    /// Add the engine's output (of `attribute_tables`) for the next spill
    /// partition, in partition order.
    fn add(&mut self, py: Python<'_>, output: PyTable) -> PyResult<()> {
        let (batches, _) = output.into_inner();
        let dicts = &self.dicts;
        let merger = self
            .merger
            .as_mut()
            .ok_or_else(|| to_py_err(CoreError::invalid("stream already finished")))?;
        detached(py, || batches.iter().try_for_each(|b| merger.add(dicts, b)))
    }

    /// The merged output (same columns and row order as `attribute_tables`
    /// over the whole input); the run cannot be added to afterwards.
    fn finish<'py>(&mut self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let merger = self
            .merger
            .take()
            .ok_or_else(|| to_py_err(CoreError::invalid("stream already finished")))?;
        let (dicts, group_by) = (&self.dicts, &self.group_by);
        let batch = detached(py, || merger.finish(dicts, group_by))?;
        batch_to_pyarrow(py, batch)
    }

    /// Number of spill partitions (the engine's reduction chunks).
    #[staticmethod]
    fn partitions() -> usize {
        SPILL_PARTITIONS
    }
}
