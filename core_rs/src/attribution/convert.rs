//! Converters from Arrow columns of the canonical tables to the engine's
//! plain inputs (order status, money, timestamps).

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal128Type, Float32Type, Float64Type, Int64Type, TimestampMillisecondType,
};
use arrow_array::Array;
use arrow_schema::{DataType, TimeUnit};

use super::input::DictColumn;
use crate::error::{CoreError, CoreResult};

/// `status == "paid"` for each row of an Arrow string column (nulls and
/// every other status are not paid).
pub fn paid_from_status(status: &dyn Array) -> CoreResult<Vec<bool>> {
    let dict = DictColumn::from_arrow(status)?;
    let paid_code = dict.code_of("paid");
    Ok(dict.codes.iter().map(|&c| Some(c) == paid_code).collect())
}

/// Order amounts as `f64` yuan from `decimal128(p, s)` (the canonical money
/// type), `float64`, `float32` or `int64`. Nulls are rejected with their row.
pub fn amounts_from_arrow(array: &dyn Array) -> CoreResult<Vec<f64>> {
    if let Some(row) = first_null(array) {
        return Err(CoreError::invalid(format!(
            "orders.amount is null at row {row}"
        )));
    }
    match array.data_type() {
        DataType::Decimal128(_, scale) => {
            let div = 10f64.powi(*scale as i32);
            let a = array.as_primitive::<Decimal128Type>();
            Ok(a.values().iter().map(|&v| v as f64 / div).collect())
        }
        DataType::Float64 => Ok(array.as_primitive::<Float64Type>().values().to_vec()),
        DataType::Float32 => Ok(array
            .as_primitive::<Float32Type>()
            .values()
            .iter()
            .map(|&v| v as f64)
            .collect()),
        DataType::Int64 => Ok(array
            .as_primitive::<Int64Type>()
            .values()
            .iter()
            .map(|&v| v as f64)
            .collect()),
        other => Err(CoreError::invalid(format!(
            "orders.amount must be decimal128, float64, float32 or int64, got {other}"
        ))),
    }
}

/// Borrow a millisecond timestamp column (`timestamp[ms]` with any time zone,
/// or `int64` milliseconds). Nulls are rejected with their row.
pub fn millis_from_arrow<'a>(array: &'a dyn Array, column: &str) -> CoreResult<&'a [i64]> {
    if let Some(row) = first_null(array) {
        return Err(CoreError::invalid(format!("{column} is null at row {row}")));
    }
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            Ok(array.as_primitive::<TimestampMillisecondType>().values())
        }
        DataType::Int64 => Ok(array.as_primitive::<Int64Type>().values()),
        other => Err(CoreError::invalid(format!(
            "{column} must be timestamp[ms] (or int64 milliseconds), got {other}"
        ))),
    }
}

fn first_null(array: &dyn Array) -> Option<usize> {
    if array.null_count() == 0 {
        return None;
    }
    (0..array.len()).find(|&i| array.is_null(i))
}
