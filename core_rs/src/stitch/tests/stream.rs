//! The streamed path ([`StreamStitcher`]) against the in-memory [`stitch`]:
//! same rows in chunks of any size, same output.

use arrow_array::{Array, StringViewArray};

use super::*;

/// Link rows with nulls, empty strings, blocked values and repeated values.
fn messy_batch(seed: u64, n_rows: usize, n_ids: u64, with_time: bool) -> RecordBatch {
    let mut rng = Rng(seed);
    let types = ["phone_sha256", "oaid", "jd_pin", "member_id"];
    let side = |rng: &mut Rng| -> (Option<String>, Option<String>) {
        let t = match rng.below(40) {
            0 => None,
            _ => Some(types[rng.below(types.len() as u64) as usize].to_string()),
        };
        let v = match rng.below(50) {
            0 => None,
            1 => Some(String::new()),
            2 => Some("unknown".to_string()),
            3 => Some("00000000-0000-0000-0000-000000000000".to_string()),
            // A hub candidate: one value many rows share.
            4 | 5 => Some("shared-device".to_string()),
            _ => Some(format!("v{:x}", rng.below(n_ids) * 0x9E37_79B9)),
        };
        (t, v)
    };
    let mut cols: [Vec<Option<String>>; 4] = Default::default();
    for _ in 0..n_rows {
        let (lt, lv) = side(&mut rng);
        let (rt, rv) = side(&mut rng);
        cols[0].push(lt);
        cols[1].push(lv);
        cols[2].push(rt);
        cols[3].push(rv);
    }
    let names = ["left_type", "left_value", "right_type", "right_value"];
    let mut fields: Vec<Field> = names
        .iter()
        .map(|n| Field::new(*n, DataType::Utf8, true))
        .collect();
    let mut arrays: Vec<ArrayRef> = cols
        .iter()
        .map(|c| Arc::new(c.iter().map(|s| s.as_deref()).collect::<StringArray>()) as ArrayRef)
        .collect();
    if with_time {
        let ts: Vec<Option<i64>> = (0..n_rows)
            .map(|_| (rng.below(10) != 0).then(|| 1_700_000_000_000 + rng.below(1_000_000) as i64))
            .collect();
        fields.push(Field::new(
            "observed_at",
            DataType::Timestamp(TimeUnit::Millisecond, None),
            true,
        ));
        arrays.push(Arc::new(TimestampMillisecondArray::from(ts)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap()
}

/// `batch` cut into consecutive slices of the given sizes (cycled).
fn chunks(batch: &RecordBatch, sizes: &[usize]) -> Vec<RecordBatch> {
    let mut out = Vec::new();
    let (mut at, mut i) = (0, 0);
    while at < batch.num_rows() {
        let n = sizes[i % sizes.len()].min(batch.num_rows() - at);
        out.push(batch.slice(at, n));
        at += n;
        i += 1;
    }
    out
}

/// Persons rows as tuples whatever the string layout.
fn person_rows(b: &RecordBatch) -> Vec<(String, String, i64)> {
    let s = |c: usize, i: usize| -> String {
        let col = b.column(c);
        match col.data_type() {
            DataType::Utf8View => col
                .as_any()
                .downcast_ref::<StringViewArray>()
                .unwrap()
                .value(i)
                .to_string(),
            _ => col.as_string::<i32>().value(i).to_string(),
        }
    };
    let p = b.column(2).as_primitive::<Int64Type>();
    (0..b.num_rows())
        .map(|i| (s(0, i), s(1, i), p.value(i)))
        .collect()
}

fn in_memory(links: &RecordBatch, prev: Option<&RecordBatch>, cfg: &StitchConfig) -> StitchOutput {
    let l = LinkColumns::from_batches(std::slice::from_ref(links)).unwrap();
    let p = prev.map(|p| PersonsColumns::from_batches(std::slice::from_ref(p)).unwrap());
    stitch(&l, p.as_ref(), cfg).unwrap()
}

fn streamed(links: &[RecordBatch], prev: &[RecordBatch], cfg: &StitchConfig) -> StitchOutput {
    let mut s = StreamStitcher::new(cfg.clone()).unwrap();
    for b in prev {
        s.push_previous(b).unwrap();
    }
    for b in links {
        s.push_links(b).unwrap();
    }
    s.finish().unwrap()
}

fn assert_same(a: &StitchOutput, b: &StitchOutput, what: &str) {
    assert_eq!(
        person_rows(&a.persons),
        person_rows(&b.persons),
        "{what}: persons"
    );
    assert_eq!(a.merges, b.merges, "{what}: merges");
    assert_eq!(a.splits, b.splits, "{what}: splits");
    assert_eq!(a.cuts, b.cuts, "{what}: cuts");
    assert_eq!(a.report.to_json(), b.report.to_json(), "{what}: report");
}

fn configs() -> Vec<(&'static str, StitchConfig)> {
    let small_caps = StitchConfig {
        hub_degree: 6,
        max_component_size: Some(12),
        max_ids_per_type: [("oaid".to_string(), 2), ("phone_sha256".to_string(), 1)]
            .into_iter()
            .collect(),
        ..StitchConfig::default()
    };
    let arrival = StitchConfig {
        cap_order: CapOrder::Arrival,
        ..small_caps.clone()
    };
    let rebuild = StitchConfig {
        previous_mode: PreviousMode::IdsOnly,
        ..small_caps.clone()
    };
    vec![
        ("unguarded", StitchConfig::unguarded()),
        ("default", StitchConfig::default()),
        ("small caps", small_caps),
        ("arrival", arrival),
        ("rebuild", rebuild),
    ]
}

#[test]
fn stitch_stream_equals_in_memory_for_any_chunking() {
    for seed in 0..6u64 {
        let batch = messy_batch(seed, 600 + 97 * seed as usize, 300, seed % 2 == 0);
        for (name, cfg) in configs() {
            let expected = in_memory(&batch, None, &cfg);
            for sizes in [&[1usize][..], &[7, 1, 64], &[10_000]] {
                let got = streamed(&chunks(&batch, sizes), &[], &cfg);
                assert_same(&expected, &got, &format!("seed {seed} {name} {sizes:?}"));
            }
            let view = StitchConfig {
                output_strings: OutputStrings::View,
                ..cfg.clone()
            };
            let got = streamed(&chunks(&batch, &[33]), &[], &view);
            assert_eq!(got.persons.schema(), persons_view_schema());
            assert_same(&expected, &got, &format!("seed {seed} {name} view"));
        }
    }
}

#[test]
fn stitch_stream_equals_in_memory_with_previous_persons() {
    for seed in 0..4u64 {
        let day1 = messy_batch(seed + 100, 800, 400, true);
        let day2 = messy_batch(seed + 200, 300, 500, true);
        for (name, cfg) in configs() {
            let prev = in_memory(&day1, None, &cfg).persons;
            let expected = in_memory(&day2, Some(&prev), &cfg);
            for sizes in [&[1usize][..], &[5, 50]] {
                let got = streamed(&chunks(&day2, sizes), &chunks(&prev, sizes), &cfg);
                assert_same(&expected, &got, &format!("seed {seed} {name} {sizes:?}"));
            }
        }
    }
}

#[test]
fn stitch_stream_handles_empty_input_and_only_previous() {
    let cfg = StitchConfig::default();
    let empty = messy_batch(1, 0, 10, false);
    assert_same(
        &in_memory(&empty, None, &cfg),
        &streamed(&[], &[], &cfg),
        "nothing pushed",
    );
    let prev = in_memory(&messy_batch(2, 200, 80, false), None, &cfg).persons;
    assert_same(
        &in_memory(&empty, Some(&prev), &cfg),
        &streamed(&[], &chunks(&prev, &[3]), &cfg),
        "previous only",
    );
}

#[test]
fn stitch_stream_stores_each_value_once() {
    let rows = vec![
        row("oaid", "a", "jd_pin", "b"),
        row("jd_pin", "b", "oaid", "a"),
        row("member_id", "a", "oaid", "c"),
    ];
    let mut s = StreamStitcher::new(StitchConfig::unguarded()).unwrap();
    s.push_links(&links_batch(&rows, None)).unwrap();
    s.push_links(&links_batch(&rows, None)).unwrap();
    assert_eq!((s.n_links(), s.n_values(), s.value_bytes()), (6, 3, 3));
    let out = s.finish().unwrap();
    assert_eq!(out.report.components, 2, "member_id:a is not oaid:a");
}

#[test]
fn stitch_stream_rejects_bad_batches_and_keeps_going() {
    let mut s = StreamStitcher::new(StitchConfig::unguarded()).unwrap();
    let good = links_batch(&[row("oaid", "a", "jd_pin", "b")], None);
    s.push_links(&good).unwrap();
    let ints: ArrayRef = Arc::new(Int64Array::from(vec![1i64]));
    let bad = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("left_type", DataType::Int64, true),
            Field::new("left_value", DataType::Utf8, true),
            Field::new("right_type", DataType::Utf8, true),
            Field::new("right_value", DataType::Utf8, true),
        ])),
        vec![
            ints,
            good.column(1).clone(),
            good.column(2).clone(),
            good.column(3).clone(),
        ],
    )
    .unwrap();
    let err = s.push_links(&bad).unwrap_err().to_string();
    assert!(err.contains("left_type"), "{err}");
    let missing = good.project(&[0, 1, 2]).unwrap();
    let err = s.push_links(&missing).unwrap_err().to_string();
    assert!(err.contains("right_value"), "{err}");
    assert_eq!(s.n_links(), 1);
    assert_eq!(s.finish().unwrap().report.links, 1);
}

#[test]
fn stitch_stream_reports_disallowed_types_like_stitch() {
    let cfg = StitchConfig {
        allowed_types: Some(vec!["oaid".into()]),
        ..StitchConfig::default()
    };
    let batch = links_batch(
        &[
            row("oaid", "a", "oaid", "b"),
            row("oaid", "c", "bogus", "d"),
        ],
        None,
    );
    let l = LinkColumns::from_batches(std::slice::from_ref(&batch)).unwrap();
    let expected = stitch(&l, None, &cfg).unwrap_err().to_string();
    let mut s = StreamStitcher::new(cfg).unwrap();
    s.push_links(&batch.slice(0, 1)).unwrap();
    s.push_links(&batch.slice(1, 1)).unwrap();
    assert_eq!(s.finish().unwrap_err().to_string(), expected);
}
