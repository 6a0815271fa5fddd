//! Arrow → engine input conversions.

use std::cmp::Ordering;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{
    Array, Decimal128Array, DictionaryArray, Float64Array, Int32Array, Int64Array,
    LargeStringArray, StringArray, StringViewArray, TimestampMillisecondArray,
};

use crate::attribution::{
    amounts_from_arrow, millis_from_arrow, paid_from_status, DictColumn, Ids,
};
use crate::error::CoreError;

fn decoded(d: &DictColumn) -> Vec<Option<&str>> {
    d.codes.iter().map(|&c| d.value(c)).collect()
}

#[test]
fn attribution_dict_column_from_every_string_layout() {
    let expected = vec![Some("kol"), None, Some("paid"), Some("kol")];
    let utf8 = StringArray::from(expected.clone());
    let large = LargeStringArray::from(expected.clone());
    let view = StringViewArray::from(expected.clone());
    let keys = Int32Array::from(vec![Some(1), None, Some(0), Some(1)]);
    let dict = DictionaryArray::<Int32Type>::try_new(
        keys,
        Arc::new(StringArray::from(vec!["paid", "kol"])),
    )
    .unwrap();
    let arrays: [&dyn Array; 4] = [&utf8, &large, &view, &dict];
    for a in arrays {
        let d = DictColumn::from_arrow(a).unwrap();
        assert_eq!(decoded(&d), expected, "{}", a.data_type());
    }
    // First-appearance codes for plain strings.
    let d = DictColumn::from_arrow(&utf8).unwrap();
    assert_eq!(d.codes, vec![0, 1, 2, 0]);
    assert!(matches!(
        DictColumn::from_arrow(&Int32Array::from(vec![1])),
        Err(CoreError::InvalidInput(_))
    ));
    assert!(matches!(
        DictColumn::new(vec![0, 2], vec![None, None]),
        Err(CoreError::InvalidInput(_))
    ));
}

#[test]
fn attribution_parallel_encoding_matches_sequential() {
    // Longer than one encoding chunk, values first seen in later chunks.
    let values: Vec<String> = (0..200_000u64)
        .map(|i| format!("v{}", (i * 2_654_435_761) % 70_001))
        .collect();
    let array = StringArray::from(values.iter().map(String::as_str).collect::<Vec<_>>());
    let d = DictColumn::from_arrow(&array).unwrap();
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (v, &c) in values.iter().zip(&d.codes) {
        let next = seen.len();
        let expected = *seen.entry(v.as_str()).or_insert(next);
        assert_eq!(c as usize, expected);
        assert_eq!(d.value(c), Some(v.as_str()));
    }
    assert_eq!(d.values.len(), seen.len());
}

#[test]
fn attribution_ids_compare_nulls_first_then_row() {
    let s = StringArray::from(vec![Some("b"), None, Some("a"), Some("a")]);
    let ids = Ids::from_arrow(&s).unwrap();
    assert_eq!(ids.cmp_rows(0, 2), Ordering::Greater);
    assert_eq!(ids.cmp_rows(1, 2), Ordering::Less);
    assert_eq!(
        ids.cmp_rows(2, 3),
        Ordering::Less,
        "equal ids keep row order"
    );
    let ints = Int64Array::from(vec![5, 3]);
    assert_eq!(
        Ids::from_arrow(&ints).unwrap().cmp_rows(0, 1),
        Ordering::Greater
    );
    assert!(Ids::from_arrow(&Float64Array::from(vec![1.0])).is_err());
}

#[test]
fn attribution_amounts_status_and_times() {
    let dec = Decimal128Array::from(vec![12345i128, 0, -50])
        .with_precision_and_scale(18, 2)
        .unwrap();
    assert_eq!(amounts_from_arrow(&dec).unwrap(), vec![123.45, 0.0, -0.5]);
    assert_eq!(
        amounts_from_arrow(&Float64Array::from(vec![1.5])).unwrap(),
        vec![1.5]
    );
    let nulls = Float64Array::from(vec![Some(1.0), None]);
    assert!(
        matches!(amounts_from_arrow(&nulls), Err(CoreError::InvalidInput(m)) if m.contains("row 1"))
    );
    let status = StringArray::from(vec![
        Some("paid"),
        Some("refunded"),
        None,
        Some("cancelled"),
        Some("paid"),
    ]);
    assert_eq!(
        paid_from_status(&status).unwrap(),
        vec![true, false, false, false, true]
    );
    let ts = TimestampMillisecondArray::from(vec![1, 2]).with_timezone("UTC");
    assert_eq!(millis_from_arrow(&ts, "event_time").unwrap(), &[1, 2]);
    let bad = TimestampMillisecondArray::from(vec![Some(1), None]);
    assert!(millis_from_arrow(&bad, "event_time").is_err());
}
