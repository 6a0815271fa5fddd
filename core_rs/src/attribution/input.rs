//! Inputs of the attribution engine: plain columns, plus converters from
//! Arrow arrays so the bindings stay thin.
//!
//! Touchpoints and orders arrive as parallel columns (one slice per column,
//! same length). String columns the engine groups by (event type, group-by
//! keys, channel) are dictionary-encoded into a [`DictColumn`]; identifier
//! columns that only break ties in time ([`Ids`]) stay as borrowed arrays and
//! are compared only when two rows of one person share a timestamp.

use std::cmp::Ordering;

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, LargeStringArray, StringArray, StringViewArray};
use arrow_schema::DataType;
use rayon::prelude::*;

use super::hashing::{fx_map, FxMap};
use crate::error::{CoreError, CoreResult};

/// Rows per chunk when encoding strings in parallel; fixed so that the codes
/// do not depend on the thread count.
const ENCODE_CHUNK: usize = 1 << 16;

/// A dictionary-encoded string column: row `i` holds `values[codes[i]]`.
///
/// `values` may contain `None` (the column's nulls). Codes are assigned in
/// order of first appearance, so the encoding of a column is deterministic.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DictColumn {
    /// One code per row, each `< values.len()`.
    pub codes: Vec<u32>,
    /// The distinct values, indexed by code.
    pub values: Vec<Option<String>>,
}

impl DictColumn {
    /// A column from ready codes and values; fails if a code is out of range.
    pub fn new(codes: Vec<u32>, values: Vec<Option<String>>) -> CoreResult<Self> {
        let card = values.len() as u64;
        if let Some(pos) = codes.iter().position(|&c| c as u64 >= card) {
            return Err(CoreError::invalid(format!(
                "dictionary code {} at row {pos} is out of range ({card} values)",
                codes[pos]
            )));
        }
        Ok(DictColumn { codes, values })
    }

    /// Encode a sequence of optional strings (codes by first appearance).
    pub fn from_strs<'s>(items: impl IntoIterator<Item = Option<&'s str>>) -> Self {
        let items: Vec<Option<&str>> = items.into_iter().collect();
        encode_with(items.len(), |i| items[i])
    }

    /// Encode an Arrow string column: `Utf8`, `LargeUtf8`, `Utf8View`, or a
    /// dictionary of any integer key type over one of those. Nulls become a
    /// `None` value. Runs in parallel; the result does not depend on the
    /// thread count.
    pub fn from_arrow(array: &dyn Array) -> CoreResult<Self> {
        match array.data_type() {
            DataType::Utf8 => {
                let a = array.as_string::<i32>();
                Ok(encode_with(a.len(), |i| a.is_valid(i).then(|| a.value(i))))
            }
            DataType::LargeUtf8 => {
                let a = array.as_string::<i64>();
                Ok(encode_with(a.len(), |i| a.is_valid(i).then(|| a.value(i))))
            }
            DataType::Utf8View => {
                let a = array.as_string_view();
                Ok(encode_with(a.len(), |i| a.is_valid(i).then(|| a.value(i))))
            }
            DataType::Dictionary(_, _) => {
                let dict = array
                    .as_any_dictionary_opt()
                    .ok_or_else(|| CoreError::invalid("unsupported dictionary array"))?;
                let inner = DictColumn::from_arrow(dict.values().as_ref())?;
                let keys = dict.keys();
                let mut values = inner.values;
                // Null keys need a `None` value even if the dictionary has none.
                let mut null_code = values.iter().position(Option::is_none).map(|p| p as u32);
                if keys.null_count() > 0 && null_code.is_none() {
                    values.push(None);
                    null_code = Some((values.len() - 1) as u32);
                }
                let normalized =
                    if inner.codes.is_empty() { vec![0; keys.len()] } else { dict.normalized_keys() };
                let codes = (0..keys.len())
                    .into_par_iter()
                    .map(|i| {
                        if keys.is_null(i) {
                            null_code.unwrap_or(0)
                        } else {
                            inner.codes[normalized[i]]
                        }
                    })
                    .collect();
                // Unused or duplicate dictionary entries are harmless: only
                // codes that occur reach the output.
                Ok(DictColumn { codes, values })
            }
            other => Err(CoreError::invalid(format!(
                "expected a string column (utf8, large_utf8, utf8_view or a dictionary of strings), got {other}"
            ))),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// The value behind a code (`None` for a null).
    pub fn value(&self, code: u32) -> Option<&str> {
        self.values.get(code as usize).and_then(|v| v.as_deref())
    }

    /// The code of a value, if the value occurs in the dictionary.
    pub fn code_of(&self, value: &str) -> Option<u32> {
        self.values
            .iter()
            .position(|v| v.as_deref() == Some(value))
            .map(|p| p as u32)
    }
}

/// Parallel first-appearance encoding. Each fixed chunk builds a local
/// dictionary; the chunks' dictionaries are merged in chunk order, which gives
/// the same codes as a sequential scan.
fn encode_with<'a>(n: usize, get: impl Fn(usize) -> Option<&'a str> + Sync) -> DictColumn {
    let n_chunks = n.div_ceil(ENCODE_CHUNK);
    let locals: Vec<(Vec<u32>, Vec<Option<&'a str>>)> = (0..n_chunks)
        .into_par_iter()
        .map(|c| {
            let range = c * ENCODE_CHUNK..((c + 1) * ENCODE_CHUNK).min(n);
            let mut map: FxMap<Option<&'a str>, u32> = fx_map(64);
            let mut seen = Vec::new();
            let codes = range
                .map(|i| {
                    let v = get(i);
                    *map.entry(v).or_insert_with(|| {
                        seen.push(v);
                        (seen.len() - 1) as u32
                    })
                })
                .collect();
            (codes, seen)
        })
        .collect();
    let mut global: FxMap<Option<&'a str>, u32> = fx_map(64);
    let mut values: Vec<Option<String>> = Vec::new();
    let remaps: Vec<Vec<u32>> = locals
        .iter()
        .map(|(_, seen)| {
            seen.iter()
                .map(|v| {
                    *global.entry(*v).or_insert_with(|| {
                        values.push(v.map(str::to_owned));
                        (values.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let mut codes = vec![0u32; n];
    codes
        .par_chunks_mut(ENCODE_CHUNK)
        .zip(locals.par_iter().zip(remaps.par_iter()))
        .for_each(|(out, ((local, _), remap))| {
            for (o, &l) in out.iter_mut().zip(local) {
                *o = remap[l as usize];
            }
        });
    DictColumn { codes, values }
}

/// An identifier column used only to order rows of one person that share a
/// timestamp (event_id for touchpoints, order_id for orders).
///
/// Nulls sort before every value; rows with equal identifiers keep their
/// input order.
#[derive(Debug, Clone, Copy)]
pub enum Ids<'a> {
    /// No identifiers: ties keep the input row order.
    RowOrder,
    /// Integer identifiers.
    Int(&'a [i64]),
    /// `Utf8` identifiers.
    Utf8(&'a StringArray),
    /// `LargeUtf8` identifiers.
    LargeUtf8(&'a LargeStringArray),
    /// `Utf8View` identifiers.
    Utf8View(&'a StringViewArray),
}

impl<'a> Ids<'a> {
    /// Borrow an Arrow identifier column (strings of any layout, or int64).
    pub fn from_arrow(array: &'a dyn Array) -> CoreResult<Self> {
        match array.data_type() {
            DataType::Utf8 => Ok(Ids::Utf8(array.as_string::<i32>())),
            DataType::LargeUtf8 => Ok(Ids::LargeUtf8(array.as_string::<i64>())),
            DataType::Utf8View => Ok(Ids::Utf8View(array.as_string_view())),
            DataType::Int64 if array.null_count() == 0 => {
                Ok(Ids::Int(array.as_primitive::<Int64Type>().values()))
            }
            other => Err(CoreError::invalid(format!(
                "identifier column must be a string or a non-null int64 column, got {other}"
            ))),
        }
    }

    /// Number of rows, or `None` for [`Ids::RowOrder`].
    pub fn rows(&self) -> Option<usize> {
        match self {
            Ids::RowOrder => None,
            Ids::Int(v) => Some(v.len()),
            Ids::Utf8(a) => Some(a.len()),
            Ids::LargeUtf8(a) => Some(a.len()),
            Ids::Utf8View(a) => Some(a.len()),
        }
    }

    /// Whether these are real identifiers (not [`Ids::RowOrder`]).
    pub fn is_present(&self) -> bool {
        !matches!(self, Ids::RowOrder)
    }

    /// Compare the identifiers of rows `a` and `b`, then their row numbers.
    pub fn cmp_rows(&self, a: usize, b: usize) -> Ordering {
        fn opt<T: Ord>(x: Option<T>, y: Option<T>) -> Ordering {
            x.cmp(&y)
        }
        let by_id = match self {
            Ids::RowOrder => Ordering::Equal,
            Ids::Int(v) => v[a].cmp(&v[b]),
            Ids::Utf8(s) => opt(
                s.is_valid(a).then(|| s.value(a)),
                s.is_valid(b).then(|| s.value(b)),
            ),
            Ids::LargeUtf8(s) => opt(
                s.is_valid(a).then(|| s.value(a)),
                s.is_valid(b).then(|| s.value(b)),
            ),
            Ids::Utf8View(s) => opt(
                s.is_valid(a).then(|| s.value(a)),
                s.is_valid(b).then(|| s.value(b)),
            ),
        };
        by_id.then(a.cmp(&b))
    }
}

/// The touchpoints table as the engine reads it. All columns have one entry
/// per touch.
#[derive(Debug, Clone)]
pub struct Touchpoints<'a> {
    /// Person id (resolved upstream from (id_type, id_value) via `persons`).
    pub person: &'a [i64],
    /// Event time, milliseconds since the Unix epoch, UTC.
    pub event_time: &'a [i64],
    /// Breaks ties in time: touches are ordered by (event_time, event_id).
    pub event_id: Ids<'a>,
    /// Event type (`impression`, `click`, ...): drives per-type lookback,
    /// the `weighted` model and AIPL.
    pub event_type: &'a DictColumn,
    /// The group-by columns; output rows are keyed by the tuple of their values.
    pub group_by: Vec<&'a DictColumn>,
    /// The column whose values are the "channels" of the `markov` and
    /// `shapley` models; `None` means the first group-by column.
    pub channel: Option<&'a DictColumn>,
}

impl Touchpoints<'_> {
    /// Number of touches.
    pub fn len(&self) -> usize {
        self.person.len()
    }

    /// Whether there are no touches.
    pub fn is_empty(&self) -> bool {
        self.person.is_empty()
    }

    /// Check that every column has one entry per touch.
    pub fn validate(&self) -> CoreResult<()> {
        let n = self.person.len();
        let mut lens = vec![
            ("event_time".to_string(), self.event_time.len()),
            ("event_type".to_string(), self.event_type.len()),
        ];
        if let Some(l) = self.event_id.rows() {
            lens.push(("event_id".to_string(), l));
        }
        for (i, g) in self.group_by.iter().enumerate() {
            lens.push((format!("group_by[{i}]"), g.len()));
        }
        if let Some(c) = self.channel {
            lens.push(("channel".to_string(), c.len()));
        }
        check_lengths("touchpoints", n, &lens)
    }
}

/// The orders table as the engine reads it. All columns have one entry per
/// order.
#[derive(Debug, Clone)]
pub struct Orders<'a> {
    /// Person id, same space as [`Touchpoints::person`].
    pub person: &'a [i64],
    /// Order time, milliseconds since the Unix epoch, UTC.
    pub order_time: &'a [i64],
    /// Orders the orders of one person that share a timestamp (this only
    /// fixes the summation order, so results do not depend on row order).
    pub order_id: Ids<'a>,
    /// Order amount in yuan (convert decimals with
    /// [`amounts_from_arrow`](super::amounts_from_arrow)).
    pub amount: &'a [f64],
    /// Whether the order counts: only status `paid` does (see
    /// [`paid_from_status`](super::paid_from_status)); refunded and
    /// cancelled orders are ignored.
    pub paid: &'a [bool],
}

impl Orders<'_> {
    /// Number of orders.
    pub fn len(&self) -> usize {
        self.person.len()
    }

    /// Whether there are no orders.
    pub fn is_empty(&self) -> bool {
        self.person.is_empty()
    }

    /// Check column lengths, and that paid orders have finite amounts.
    pub fn validate(&self) -> CoreResult<()> {
        let mut lens = vec![
            ("order_time".to_string(), self.order_time.len()),
            ("amount".to_string(), self.amount.len()),
            ("paid".to_string(), self.paid.len()),
        ];
        if let Some(l) = self.order_id.rows() {
            lens.push(("order_id".to_string(), l));
        }
        check_lengths("orders", self.person.len(), &lens)?;
        let bad = self
            .amount
            .par_iter()
            .zip(self.paid.par_iter())
            .position_first(|(a, &p)| p && !a.is_finite());
        match bad {
            Some(row) => Err(CoreError::invalid(format!(
                "orders.amount at row {row} is {}: a paid order needs a finite amount",
                self.amount[row]
            ))),
            None => Ok(()),
        }
    }
}

fn check_lengths(table: &str, n: usize, lens: &[(String, usize)]) -> CoreResult<()> {
    for (name, len) in lens {
        if *len != n {
            return Err(CoreError::invalid(format!(
                "{table}.{name} has {len} rows but {table}.person has {n}"
            )));
        }
    }
    Ok(())
}
