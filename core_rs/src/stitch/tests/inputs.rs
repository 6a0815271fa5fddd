//! Input handling: the string layouts, chunks, timestamps, and errors.

use arrow_array::types::{Int32Type, UInt8Type};
use arrow_array::{
    Array, DictionaryArray, Int32Array, LargeStringArray, StringViewArray, TimestampSecondArray,
};

use super::*;
use crate::error::CoreError;

fn sample() -> Vec<Row> {
    vec![
        row("member_id", "m1", "jd_pin", "j1"),
        row("jd_pin", "j1", "wechat_unionid", "w1"),
        row("member_id", "m2", "jd_pin", "j2"),
        row("member_id", "m3", "member_id", "m3"),
        row(
            "wechat_unionid",
            "w1",
            "weibo_uid",
            "a-much-longer-identifier-than-twelve-bytes",
        ),
    ]
}

fn strings(rows: &[Row], f: fn(&Row) -> &str) -> Vec<&str> {
    rows.iter().map(f).collect()
}

fn stitch_arrays(a: [&dyn Array; 4]) -> StitchOutput {
    let mut links = LinkColumns::new();
    links.push_arrays(a[0], a[1], a[2], a[3], None).unwrap();
    stitch(&links, None, &StitchConfig::default()).unwrap()
}

#[test]
fn large_view_and_dictionary_columns_match_utf8() {
    let rows = sample();
    let expected = run(&rows, None, &StitchConfig::default());
    let (lt, lv, rt, rv) = (
        strings(&rows, |r| &r.0),
        strings(&rows, |r| &r.1),
        strings(&rows, |r| &r.2),
        strings(&rows, |r| &r.3),
    );
    let large = [lt.clone(), lv.clone(), rt.clone(), rv.clone()].map(LargeStringArray::from);
    let out = stitch_arrays([&large[0], &large[1], &large[2], &large[3]]);
    assert_eq!(persons(&out), persons(&expected));

    let view = [lt.clone(), lv.clone(), rt.clone(), rv.clone()].map(StringViewArray::from);
    let out = stitch_arrays([&view[0], &view[1], &view[2], &view[3]]);
    assert_eq!(persons(&out), persons(&expected));

    let d32: DictionaryArray<Int32Type> = lt.iter().copied().collect();
    let d8: DictionaryArray<UInt8Type> = rt.iter().copied().collect();
    let (lv, rv) = (StringViewArray::from(lv), LargeStringArray::from(rv));
    let out = stitch_arrays([&d32, &lv, &d8, &rv]);
    assert_eq!(persons(&out), persons(&expected));
    assert_eq!(out.report.to_json(), expected.report.to_json());
}

#[test]
fn dictionary_null_key_is_a_null_type() {
    let keys = Int32Array::from(vec![Some(0), None]);
    let values: ArrayRef = Arc::new(StringArray::from(vec!["member_id"]));
    let types = DictionaryArray::<Int32Type>::try_new(keys, values).unwrap();
    let v = StringArray::from(vec!["ann", "bob"]);
    let rt = StringArray::from(vec!["jd_pin", "jd_pin"]);
    let rv = StringArray::from(vec!["xan", "yan"]);
    let out = stitch_arrays([&types, &v, &rt, &rv]);
    assert_eq!(out.report.invalid_sides.null_type, 1);
    assert_eq!(out.report.components, 2);
}

#[test]
fn chunks_number_rows_globally_and_match_one_batch() {
    let rows = sample();
    let expected = run(&rows, None, &StitchConfig::default());
    let batches = vec![links_batch(&rows[..2], None), links_batch(&rows[2..], None)];
    let links = LinkColumns::from_batches(&batches).unwrap();
    assert_eq!(links.len(), rows.len());
    let out = stitch(&links, None, &StitchConfig::default()).unwrap();
    assert_eq!(persons(&out), persons(&expected));

    // An unknown type in the second chunk is reported at its global row.
    let mut bad = rows.clone();
    bad[3].2 = "fax_number".into();
    let batches = vec![links_batch(&bad[..2], None), links_batch(&bad[2..], None)];
    let links = LinkColumns::from_batches(&batches).unwrap();
    let cfg = StitchConfig {
        allowed_types: Some(
            ["member_id", "jd_pin", "wechat_unionid", "weibo_uid"]
                .map(String::from)
                .to_vec(),
        ),
        ..StitchConfig::default()
    };
    let err = stitch(&links, None, &cfg).unwrap_err();
    assert_eq!(
        err,
        CoreError::InvalidInput(
            "column right_type, row 3: identifier type \"fax_number\" is not in allowed_types"
                .into()
        )
    );
}

#[test]
fn wrong_column_types_and_lengths_are_named() {
    let s = StringArray::from(vec!["ann"]);
    let n = Int32Array::from(vec![1]);
    let mut links = LinkColumns::new();
    let err = links.push_arrays(&s, &n, &s, &s, None).err().unwrap();
    assert!(
        matches!(&err, CoreError::InvalidInput(m) if m.starts_with("column left_value: expected a string")),
        "{err}"
    );
    let two = StringArray::from(vec!["ann", "bob"]);
    let err = links.push_arrays(&s, &s, &two, &s, None).err().unwrap();
    assert!(
        matches!(&err, CoreError::InvalidInput(m) if m.contains("right_type")),
        "{err}"
    );
    let err = links.push_arrays(&s, &s, &s, &s, Some(&s)).err().unwrap();
    assert!(
        matches!(&err, CoreError::InvalidInput(m) if m.contains("observed_at")),
        "{err}"
    );

    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new(
            "left_type",
            DataType::Utf8,
            false,
        )])),
        vec![Arc::new(s.clone()) as ArrayRef],
    )
    .unwrap();
    let err = LinkColumns::from_batches(std::slice::from_ref(&batch))
        .err()
        .unwrap();
    assert_eq!(
        err,
        CoreError::InvalidInput("links: missing column left_value".into())
    );

    let mut prev = PersonsColumns::new();
    let err = prev.push_arrays(&s, &s, &n).err().unwrap();
    assert!(
        matches!(&err, CoreError::InvalidInput(m) if m.contains("person_id")),
        "{err}"
    );
}

#[test]
fn invalid_settings_are_rejected() {
    let mut cfg = StitchConfig::default();
    cfg.max_ids_per_type.insert("oaid".into(), 0);
    let links = LinkColumns::new();
    let err = stitch(&links, None, &cfg).unwrap_err();
    assert!(matches!(&err, CoreError::InvalidInput(m) if m.contains("max_ids_per_type[\"oaid\"]")));
    assert!(StitchConfig::from_json(r#"{"max_component_size": 0}"#).is_err());
    assert!(StitchConfig::from_json(r#"{"no_such_setting": 1}"#).is_err());
    let err = StitchConfig::from_json(
        r#"{"block_rules": [{"pattern": {"kind": "contains", "text": ""}}]}"#,
    );
    assert!(matches!(err, Err(CoreError::InvalidInput(m)) if m.starts_with("block_rules[0]")));
    let cfg = StitchConfig::from_json(
        r#"{"hub_degree": 5, "max_ids_per_type": {"oaid": 2},
            "block_rules": [{"pattern": {"kind": "prefix", "text": "tmp"}}],
            "previous_mode": "ids_only"}"#,
    )
    .unwrap();
    assert_eq!(cfg.hub_degree, 5);
    assert_eq!(cfg.max_ids_per_type.len(), 1);
    assert_eq!(
        cfg.block_rules,
        vec![BlockRule::any(Pattern::Prefix("tmp".into()))]
    );
    assert_eq!(cfg.previous_mode, PreviousMode::IdsOnly);
    assert_eq!(
        cfg.max_component_size,
        Some(200),
        "missing fields take defaults"
    );
}

#[test]
fn huge_values_are_handled() {
    let big_a = "ann".repeat(1 << 20) + "bob";
    let big_c = "cat".repeat(3 << 20) + "dan";
    let rows = vec![
        row("member_id", &big_a, "jd_pin", &big_c),
        row("jd_pin", &big_c, "jd_pin", "short"),
    ];
    let out = run(&rows, None, &StitchConfig::default());
    assert_eq!(out.report.components, 1);
    assert_eq!(pid_of(&out, "member_id", &big_a), Some(1));
}

#[test]
fn observed_at_accepts_seconds_and_int64() {
    let s = |v: &[&str]| StringArray::from(v.to_vec());
    let (lt, lv, rt, rv) = (s(&["member_id"]), s(&["mo"]), s(&["jd_pin"]), s(&["jo"]));
    let secs = TimestampSecondArray::from(vec![Some(1_700_000_000)]);
    let ms = Int64Array::from(vec![None::<i64>]);
    for ts in [&secs as &dyn Array, &ms] {
        let mut links = LinkColumns::new();
        links.push_arrays(&lt, &lv, &rt, &rv, Some(ts)).unwrap();
        assert_eq!(links.observed_ms(0) == columns::NEVER, ts.is_null(0));
        assert_eq!(
            stitch(&links, None, &StitchConfig::default())
                .unwrap()
                .report
                .components,
            1
        );
    }
    let mut links = LinkColumns::new();
    links.push_arrays(&lt, &lv, &rt, &rv, Some(&secs)).unwrap();
    assert_eq!(links.observed_ms(0), 1_700_000_000_000);
}

#[test]
fn view_output_has_the_same_rows_as_utf8() {
    use arrow_array::cast::AsArray;
    let (rows, _) = super::reference::random_rows(77, 3_000, 1_500);
    // Long values (stored by reference) and short ones (stored inline).
    let rows: Vec<Row> = rows
        .into_iter()
        .enumerate()
        .map(|(i, mut r)| {
            if i % 3 == 0 && !r.1.is_empty() {
                r.1 = format!("{}-a-long-identifier-value", r.1);
            }
            r
        })
        .collect();
    let view_cfg = StitchConfig {
        output_strings: OutputStrings::View,
        ..StitchConfig::default()
    };
    let utf8 = run(&rows, None, &StitchConfig::default());
    let batches = vec![
        links_batch(&rows[..1_000], None),
        links_batch(&rows[1_000..], None),
    ];
    let links = LinkColumns::from_batches(&batches).unwrap();
    let prev = persons_batch_of(&[("member_id", "previous-member", 1)]);
    let prev_cols = PersonsColumns::from_batches(std::slice::from_ref(&prev)).unwrap();
    for previous in [None, Some(&prev_cols)] {
        let view = stitch(&links, previous, &view_cfg).unwrap();
        assert_eq!(view.persons.schema(), persons_view_schema());
        let as_rows = |b: &RecordBatch| -> Vec<(String, String, i64)> {
            let t = b.column(0).as_string_view();
            let v = b.column(1).as_string_view();
            let p = b.column(2).as_primitive::<Int64Type>();
            (0..b.num_rows())
                .map(|i| (t.value(i).into(), v.value(i).into(), p.value(i)))
                .collect()
        };
        let got = as_rows(&view.persons);
        if previous.is_none() {
            assert_eq!(got, persons(&utf8));
        } else {
            assert!(got.contains(&("member_id".into(), "previous-member".into(), 1)));
            assert_eq!(got.len(), persons(&utf8).len() + 1);
        }
    }
}
