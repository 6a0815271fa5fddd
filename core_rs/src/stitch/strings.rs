//! Borrowed access to one Arrow string column (any of the string layouts)
//! and to a timestamp column, without copying: values are `&[u8]` slices of
//! the Arrow buffers.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{
    Array, ArrowPrimitiveType, Int64Array, LargeStringArray, PrimitiveArray, StringArray,
    StringViewArray,
};
use arrow_buffer::Buffer;
use arrow_schema::{DataType, TimeUnit};

use super::util::prefetch;
use crate::error::{CoreError, CoreResult};

/// Keys of a dictionary-encoded string column, whatever their integer width.
#[derive(Clone, Copy)]
pub(crate) enum DictKeys<'a> {
    I8(&'a PrimitiveArray<Int8Type>),
    I16(&'a PrimitiveArray<Int16Type>),
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    U8(&'a PrimitiveArray<UInt8Type>),
    U16(&'a PrimitiveArray<UInt16Type>),
    U32(&'a PrimitiveArray<UInt32Type>),
    U64(&'a PrimitiveArray<UInt64Type>),
}

fn key_at<K: ArrowPrimitiveType>(keys: &PrimitiveArray<K>, i: usize) -> Option<usize>
where
    K::Native: TryInto<usize>,
{
    if keys.is_null(i) {
        None
    } else {
        keys.value(i).try_into().ok()
    }
}

impl DictKeys<'_> {
    fn get(&self, i: usize) -> Option<usize> {
        match self {
            DictKeys::I8(k) => key_at(*k, i),
            DictKeys::I16(k) => key_at(*k, i),
            DictKeys::I32(k) => key_at(*k, i),
            DictKeys::I64(k) => key_at(*k, i),
            DictKeys::U8(k) => key_at(*k, i),
            DictKeys::U16(k) => key_at(*k, i),
            DictKeys::U32(k) => key_at(*k, i),
            DictKeys::U64(k) => key_at(*k, i),
        }
    }
}

/// One string column chunk: `utf8`, `large_utf8`, `utf8_view`, or a
/// dictionary over one of those (how polars categoricals and
/// `dictionary_encode()`d type columns arrive).
#[derive(Clone)]
pub(crate) enum StrCol<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    Dict {
        keys: DictKeys<'a>,
        values: Box<StrCol<'a>>,
    },
}

impl<'a> StrCol<'a> {
    /// Wrap `array`, or explain (naming `column`) why it is not a string column.
    pub(crate) fn new(array: &'a dyn Array, column: &str) -> CoreResult<Self> {
        let col = match array.data_type() {
            DataType::Utf8 => StrCol::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => StrCol::Large(array.as_string::<i64>()),
            DataType::Utf8View => StrCol::View(array.as_string_view()),
            DataType::Dictionary(key, _) => {
                let (keys, values) = match key.as_ref() {
                    DataType::Int8 => dict::<Int8Type>(array, DictKeys::I8),
                    DataType::Int16 => dict::<Int16Type>(array, DictKeys::I16),
                    DataType::Int32 => dict::<Int32Type>(array, DictKeys::I32),
                    DataType::Int64 => dict::<Int64Type>(array, DictKeys::I64),
                    DataType::UInt8 => dict::<UInt8Type>(array, DictKeys::U8),
                    DataType::UInt16 => dict::<UInt16Type>(array, DictKeys::U16),
                    DataType::UInt32 => dict::<UInt32Type>(array, DictKeys::U32),
                    DataType::UInt64 => dict::<UInt64Type>(array, DictKeys::U64),
                    other => return Err(not_string(column, &format!("dictionary<{other}, _>"))),
                };
                let values = match StrCol::new(values, column)? {
                    StrCol::Dict { .. } => return Err(not_string(column, "nested dictionary")),
                    v => v,
                };
                // Keys out of range would make `value()` panic later; the
                // check is one pass over small integers.
                let n = values.len();
                for i in 0..array.len() {
                    if let Some(k) = keys.get(i) {
                        if k >= n {
                            return Err(CoreError::invalid(format!(
                                "column {column}, row {i}: dictionary key {k} out of range (dictionary has {n} values)"
                            )));
                        }
                    } else if !array.is_null(i) {
                        return Err(CoreError::invalid(format!(
                            "column {column}, row {i}: negative dictionary key"
                        )));
                    }
                }
                StrCol::Dict {
                    keys,
                    values: Box::new(values),
                }
            }
            other => return Err(not_string(column, &other.to_string())),
        };
        Ok(col)
    }

    /// Number of rows.
    pub(crate) fn len(&self) -> usize {
        match self {
            StrCol::Utf8(a) => a.len(),
            StrCol::Large(a) => a.len(),
            StrCol::View(a) => a.len(),
            StrCol::Dict { keys, .. } => match keys {
                DictKeys::I8(k) => k.len(),
                DictKeys::I16(k) => k.len(),
                DictKeys::I32(k) => k.len(),
                DictKeys::I64(k) => k.len(),
                DictKeys::U8(k) => k.len(),
                DictKeys::U16(k) => k.len(),
                DictKeys::U32(k) => k.len(),
                DictKeys::U64(k) => k.len(),
            },
        }
    }

    /// Prefetch stage 1: the slot (offset or view) of row `i`.
    #[inline]
    pub(crate) fn prefetch_slot(&self, i: usize) {
        match self {
            StrCol::Utf8(a) => prefetch(a.value_offsets().as_ptr().wrapping_add(i)),
            StrCol::Large(a) => prefetch(a.value_offsets().as_ptr().wrapping_add(i)),
            StrCol::View(a) => prefetch(a.views().as_ptr().wrapping_add(i)),
            StrCol::Dict { .. } => {}
        }
    }

    /// Prefetch stage 2: the bytes of row `i` (reads its slot, so call
    /// stage 1 for it a few rows earlier).
    #[inline]
    pub(crate) fn prefetch_bytes(&self, i: usize) {
        match self {
            StrCol::Utf8(a) => {
                if let Some(&o) = a.value_offsets().get(i) {
                    prefetch(a.values().as_ptr().wrapping_add(o.max(0) as usize));
                }
            }
            StrCol::Large(a) => {
                if let Some(&o) = a.value_offsets().get(i) {
                    prefetch(a.values().as_ptr().wrapping_add(o.max(0) as usize));
                }
            }
            StrCol::View(_) | StrCol::Dict { .. } => {}
        }
    }

    /// Append the buffers holding this column's string bytes.
    pub(crate) fn data_buffers(&self, out: &mut Vec<Buffer>) {
        match self {
            StrCol::Utf8(a) => out.push(a.values().clone()),
            StrCol::Large(a) => out.push(a.values().clone()),
            StrCol::View(a) => out.extend(a.data_buffers().iter().cloned()),
            StrCol::Dict { values, .. } => values.data_buffers(out),
        }
    }

    /// The bytes of row `i` (`i < len()`), `None` when null.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<&'a [u8]> {
        match self {
            StrCol::Utf8(a) => (!a.is_null(i)).then(|| a.value(i).as_bytes()),
            StrCol::Large(a) => (!a.is_null(i)).then(|| a.value(i).as_bytes()),
            StrCol::View(a) => (!a.is_null(i)).then(|| a.value(i).as_bytes()),
            StrCol::Dict { keys, values } => Self::get_dict(keys, values, i),
        }
    }

    /// Copy rows `i0..i1` (all non-null) to the front of `out` and write
    /// each row's end offset, `base` plus the bytes copied so far, to
    /// `offsets`; returns the bytes copied. A `utf8` column is copied in one
    /// piece and its offsets shifted.
    pub(crate) fn copy_rows(
        &self,
        i0: usize,
        i1: usize,
        out: &mut [u8],
        offsets: &mut [i32],
        base: usize,
    ) -> usize {
        if let StrCol::Utf8(a) = self {
            let o = a.value_offsets();
            let (b0, b1) = (o[i0] as usize, o[i1] as usize);
            out[..b1 - b0].copy_from_slice(&a.values()[b0..b1]);
            for (slot, &end) in offsets.iter_mut().zip(&o[i0 + 1..=i1]) {
                *slot = (base + end as usize - b0) as i32;
            }
            return b1 - b0;
        }
        let mut at = 0usize;
        for (slot, i) in offsets.iter_mut().zip(i0..i1) {
            let v = self.get(i).unwrap_or_default();
            out[at..at + v.len()].copy_from_slice(v);
            at += v.len();
            *slot = (base + at) as i32;
        }
        at
    }

    /// Out of line so that [`StrCol::get`] is not recursive and inlines.
    #[inline(never)]
    fn get_dict(keys: &DictKeys<'a>, values: &StrCol<'a>, i: usize) -> Option<&'a [u8]> {
        keys.get(i).and_then(|k| values.get(k))
    }
}

fn dict<'a, K: ArrowDictionaryKeyType>(
    array: &'a dyn Array,
    wrap: fn(&'a PrimitiveArray<K>) -> DictKeys<'a>,
) -> (DictKeys<'a>, &'a dyn Array) {
    let d = array.as_dictionary::<K>();
    (wrap(d.keys()), d.values().as_ref())
}

fn not_string(column: &str, found: &str) -> CoreError {
    CoreError::invalid(format!(
        "column {column}: expected a string column (utf8, large_utf8, utf8_view or a dictionary of those), found {found}"
    ))
}

/// `observed_at` as milliseconds since the epoch; null is "never observed".
#[derive(Clone, Copy)]
pub(crate) enum TimeCol<'a> {
    Seconds(&'a PrimitiveArray<TimestampSecondType>),
    Millis(&'a PrimitiveArray<TimestampMillisecondType>),
    Micros(&'a PrimitiveArray<TimestampMicrosecondType>),
    Nanos(&'a PrimitiveArray<TimestampNanosecondType>),
    Int64(&'a Int64Array),
}

/// Recency given to a link with a null `observed_at`: older than anything.
pub(crate) const NEVER: i64 = i64::MIN;

impl<'a> TimeCol<'a> {
    pub(crate) fn new(array: &'a dyn Array) -> CoreResult<Self> {
        Ok(match array.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => TimeCol::Seconds(array.as_primitive()),
            DataType::Timestamp(TimeUnit::Millisecond, _) => TimeCol::Millis(array.as_primitive()),
            DataType::Timestamp(TimeUnit::Microsecond, _) => TimeCol::Micros(array.as_primitive()),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => TimeCol::Nanos(array.as_primitive()),
            DataType::Int64 => TimeCol::Int64(array.as_primitive()),
            other => {
                return Err(CoreError::invalid(format!(
                "column observed_at: expected a timestamp or int64 (ms since epoch), found {other}"
            )))
            }
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            TimeCol::Seconds(a) => a.len(),
            TimeCol::Millis(a) => a.len(),
            TimeCol::Micros(a) => a.len(),
            TimeCol::Nanos(a) => a.len(),
            TimeCol::Int64(a) => a.len(),
        }
    }

    pub(crate) fn get_ms(&self, i: usize) -> i64 {
        fn at<T: ArrowPrimitiveType<Native = i64>>(a: &PrimitiveArray<T>, i: usize) -> Option<i64> {
            (!a.is_null(i)).then(|| a.value(i))
        }
        let v = match self {
            TimeCol::Seconds(a) => at(*a, i).map(|s| s.saturating_mul(1000)),
            TimeCol::Millis(a) => at(*a, i),
            TimeCol::Micros(a) => at(*a, i).map(|v| v.div_euclid(1000)),
            TimeCol::Nanos(a) => at(*a, i).map(|v| v.div_euclid(1_000_000)),
            TimeCol::Int64(a) => at(*a, i),
        };
        // Keep NEVER reserved for nulls so a real timestamp always outranks it.
        v.map_or(NEVER, |ms| ms.max(NEVER + 1))
    }
}
