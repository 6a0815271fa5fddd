//! Arrow record batches in, Arrow record batches out: the engine as the
//! Python layer (and any Arrow caller) uses it.
//!
//! Touchpoints need `person` (int64), `event_time` (timestamp[ms] or int64
//! ms), `event_id` (string or int64), `event_type` (string) and the group-by
//! and channel columns (strings); orders need `person`, `order_time`,
//! `order_id`, `amount` (decimal/float/int) and `status` (only `paid`
//! counts). Resolving (id_type, id_value) to a person happens upstream.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};

use super::aipl::{aipl, AiplRules};
use super::attribute;
use super::config::AttributionConfig;
use super::convert::{amounts_from_arrow, millis_from_arrow, paid_from_status};
use super::input::{DictColumn, Ids, Orders, Touchpoints};
use crate::error::{CoreError, CoreResult};

/// Column `name` of `batch`, or an error naming the table and column.
pub(super) fn column<'a>(
    batch: &'a RecordBatch,
    table: &str,
    name: &str,
) -> CoreResult<&'a dyn Array> {
    batch
        .column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| CoreError::invalid(format!("{table} has no column {name:?}")))
}

fn persons<'a>(batch: &'a RecordBatch, table: &str) -> CoreResult<&'a [i64]> {
    let col = column(batch, table, "person")?;
    if col.data_type() != &DataType::Int64 {
        return Err(CoreError::invalid(format!(
            "{table}.person must be int64 person ids, got {}",
            col.data_type()
        )));
    }
    if col.null_count() > 0 {
        let row = (0..col.len()).find(|&i| col.is_null(i)).unwrap_or(0);
        return Err(CoreError::invalid(format!(
            "{table}.person is null at row {row}"
        )));
    }
    Ok(col.as_primitive::<Int64Type>().values())
}

fn dict(batch: &RecordBatch, table: &str, name: &str) -> CoreResult<DictColumn> {
    DictColumn::from_arrow(column(batch, table, name)?)
        .map_err(|e| CoreError::invalid(format!("{table}.{name}: {e}")))
}

/// Everything the engine reads from the two batches, decoded once.
struct Decoded {
    event_type: DictColumn,
    group_by: Vec<DictColumn>,
    channel: Option<DictColumn>,
    amounts: Vec<f64>,
    paid: Vec<bool>,
}

impl Decoded {
    fn new(
        t: &RecordBatch,
        o: &RecordBatch,
        group_by: &[String],
        channel: Option<&str>,
    ) -> CoreResult<Self> {
        Ok(Decoded {
            event_type: dict(t, "touchpoints", "event_type")?,
            group_by: group_by
                .iter()
                .map(|g| dict(t, "touchpoints", g))
                .collect::<CoreResult<_>>()?,
            channel: channel.map(|c| dict(t, "touchpoints", c)).transpose()?,
            amounts: amounts_from_arrow(column(o, "orders", "amount")?)?,
            paid: paid_from_status(column(o, "orders", "status")?)?,
        })
    }

    fn inputs<'a>(
        &'a self,
        t: &'a RecordBatch,
        o: &'a RecordBatch,
    ) -> CoreResult<(Touchpoints<'a>, Orders<'a>)> {
        let touches = Touchpoints {
            person: persons(t, "touchpoints")?,
            event_time: millis_from_arrow(
                column(t, "touchpoints", "event_time")?,
                "touchpoints.event_time",
            )?,
            event_id: Ids::from_arrow(column(t, "touchpoints", "event_id")?)
                .map_err(|e| CoreError::invalid(format!("touchpoints.event_id: {e}")))?,
            event_type: &self.event_type,
            group_by: self.group_by.iter().collect(),
            channel: self.channel.as_ref(),
        };
        let orders = Orders {
            person: persons(o, "orders")?,
            order_time: millis_from_arrow(column(o, "orders", "order_time")?, "orders.order_time")?,
            order_id: Ids::from_arrow(column(o, "orders", "order_id")?)
                .map_err(|e| CoreError::invalid(format!("orders.order_id: {e}")))?,
            amount: &self.amounts,
            paid: &self.paid,
        };
        Ok((touches, orders))
    }
}

/// Attribute `orders` to `touches` under `config`; one output row per
/// (model, group-by key) plus one `attributed = false` row per model.
///
/// Output columns: `model`, the group-by columns, `conversions`, `revenue`,
/// `attributed`.
pub fn attribute_batches(
    touches: &RecordBatch,
    orders: &RecordBatch,
    group_by: &[String],
    channel: Option<&str>,
    config: &AttributionConfig,
) -> CoreResult<RecordBatch> {
    let decoded = Decoded::new(touches, orders, group_by, channel)?;
    let (t, o) = decoded.inputs(touches, orders)?;
    let out = attribute(&t, &o, config)?;
    let n = out.len();
    let mut fields = vec![Field::new("model", DataType::Utf8, false)];
    let mut columns: Vec<ArrayRef> = vec![Arc::new(StringArray::from_iter_values(
        out.model
            .iter()
            .map(|&m| out.model_names[m as usize].as_str()),
    ))];
    let dicts: Vec<&DictColumn> = decoded.group_by.iter().collect();
    let keys: Vec<Vec<Option<&str>>> = (0..n).map(|row| out.key_values(&dicts, row)).collect();
    for (i, name) in group_by.iter().enumerate() {
        fields.push(Field::new(name, DataType::Utf8, true));
        columns.push(Arc::new(keys.iter().map(|k| k[i]).collect::<StringArray>()));
    }
    fields.push(Field::new("conversions", DataType::Float64, false));
    columns.push(Arc::new(Float64Array::from(out.conversions)));
    fields.push(Field::new("revenue", DataType::Float64, false));
    columns.push(Arc::new(Float64Array::from(out.revenue)));
    fields.push(Field::new("attributed", DataType::Boolean, false));
    columns.push(Arc::new(BooleanArray::from(out.attributed)));
    Ok(RecordBatch::try_new(
        Arc::new(Schema::new(fields)),
        columns,
    )?)
}

/// AIPL stage of every person with a qualifying touch or order as of
/// `as_of_ms`: columns `person_id` (int64) and `stage` (`A`/`I`/`P`/`L`).
pub fn aipl_batches(
    touches: &RecordBatch,
    orders: &RecordBatch,
    as_of_ms: i64,
    rules: &AiplRules,
) -> CoreResult<RecordBatch> {
    let decoded = Decoded::new(touches, orders, &[], None)?;
    let (t, o) = decoded.inputs(touches, orders)?;
    let out = aipl(&t, &o, as_of_ms, rules)?;
    let schema = Schema::new(vec![
        Field::new("person_id", DataType::Int64, false),
        Field::new("stage", DataType::Utf8, false),
    ]);
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(out.person)),
        Arc::new(StringArray::from_iter_values(
            out.stage.iter().map(|s| s.as_str()),
        )),
    ];
    Ok(RecordBatch::try_new(Arc::new(schema), columns)?)
}
