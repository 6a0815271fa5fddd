//! The fast incremental path (untouched previous persons copied, the rest
//! through the pipeline) against the plain pipeline over everything: same
//! persons bytes, merges, splits, cuts and report, on random days and on
//! previous tables that are not this module's own output.

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, DictionaryArray, UInt32Array};

use super::reference::random_rows;
use super::*;

/// Both paths on one input; panics unless the fast one was taken.
fn both(
    rows: &[Row],
    ts: &[i64],
    prev: &[RecordBatch],
    cfg: &StitchConfig,
) -> (StitchOutput, StitchOutput) {
    let batch = links_batch(rows, Some(ts));
    let links = LinkColumns::from_batches(std::slice::from_ref(&batch)).unwrap();
    let prev = PersonsColumns::from_batches(prev).unwrap();
    let fast = stitch_with(&links, Some(&prev), cfg, true).unwrap();
    let full = stitch_with(&links, Some(&prev), cfg, false).unwrap();
    assert!(
        fast.phases.list.iter().any(|p| p.0 == "split"),
        "the fast path was not taken"
    );
    (fast, full)
}

fn assert_same(fast: &StitchOutput, full: &StitchOutput, what: &str) {
    assert_eq!(fast.persons, full.persons, "{what}: persons");
    assert_eq!(fast.merges, full.merges, "{what}: merges");
    assert_eq!(fast.splits, full.splits, "{what}: splits");
    assert_eq!(fast.cuts, full.cuts, "{what}: cuts");
    assert_eq!(
        fast.report.to_json(),
        full.report.to_json(),
        "{what}: report"
    );
}

fn configs() -> Vec<(&'static str, StitchConfig)> {
    vec![
        ("unguarded", StitchConfig::unguarded()),
        (
            "guarded",
            StitchConfig {
                hub_degree: 12,
                max_component_size: Some(25),
                ..StitchConfig::default()
            },
        ),
        (
            "arrival",
            StitchConfig {
                hub_degree: 12,
                max_component_size: Some(25),
                cap_order: CapOrder::Arrival,
                ..StitchConfig::default()
            },
        ),
    ]
}

/// Day 1 on most rows, day 2 on a few: the fast path equals the full one.
#[test]
fn small_days_match_the_full_pipeline() {
    for (name, cfg) in configs() {
        for seed in 0..6 {
            let (rows, ts) = random_rows(seed + 900, 6_000, 4_000);
            let prev = run_ts(&rows[..5_900], Some(&ts[..5_900]), None, &cfg).persons;
            let (fast, full) = both(&rows[5_900..], &ts[5_900..], &[prev.clone()], &cfg);
            assert_same(&fast, &full, &format!("{name} seed {seed}"));
            // The same table in chunks: untouched runs are copied across
            // chunk boundaries.
            let n = prev.num_rows();
            let cut = [0, n / 3 + seed as usize, n / 2, n];
            let chunks: Vec<RecordBatch> = cut
                .windows(2)
                .map(|w| prev.slice(w[0], w[1] - w[0]))
                .collect();
            let (chunked, _) = both(&rows[5_900..], &ts[5_900..], &chunks, &cfg);
            assert_same(&chunked, &full, &format!("{name} seed {seed}, chunked"));
        }
    }
}

/// Rows of `batch` in the order `idx`.
fn take(batch: &RecordBatch, idx: &[u32]) -> RecordBatch {
    let idx = UInt32Array::from(idx.to_vec());
    let cols: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| {
            if let Some(s) = c.as_string_opt::<i32>() {
                Arc::new(
                    idx.values()
                        .iter()
                        .map(|&i| Some(s.value(i as usize)))
                        .collect::<StringArray>(),
                ) as ArrayRef
            } else {
                let p = c.as_primitive::<Int64Type>();
                Arc::new(
                    idx.values()
                        .iter()
                        .map(|&i| p.value(i as usize))
                        .collect::<Int64Array>(),
                ) as ArrayRef
            }
        })
        .collect();
    RecordBatch::try_new(batch.schema(), cols).unwrap()
}

/// Previous tables not written by this module: rows shuffled (groups are
/// then not row ranges), an identifier in two persons, rows out of order
/// inside a person, a blocked value, an empty value, a null person id,
/// dictionary types, several chunks.
#[test]
fn foreign_previous_tables_match_the_full_pipeline() {
    let cfg = StitchConfig {
        hub_degree: 12,
        max_component_size: Some(25),
        ..StitchConfig::default()
    };
    let (rows, ts) = random_rows(77, 6_000, 4_000);
    let base = run_ts(&rows[..5_900], Some(&ts[..5_900]), None, &cfg).persons;
    let n = base.num_rows() as u32;
    let (day, day_ts) = (&rows[5_900..], &ts[5_900..]);

    // Persons in random order, each person's rows still in order.
    let pids = base.column(2).as_primitive::<Int64Type>();
    let mut persons: Vec<Vec<u32>> = Vec::new();
    for r in 0..n {
        if r == 0 || pids.value(r as usize) != pids.value(r as usize - 1) {
            persons.push(Vec::new());
        }
        persons.last_mut().unwrap().push(r);
    }
    Rng(5).shuffle(&mut persons);
    let shuffled: Vec<u32> = persons.concat();
    let (fast, full) = both(day, day_ts, &[take(&base, &shuffled)], &cfg);
    assert_same(&fast, &full, "shuffled");

    // Row 10's identifier also listed under the person of row 500; rows 20
    // and 21 swapped (out of order inside their person, or across two).
    let mut order: Vec<u32> = (0..n).collect();
    order.swap(20, 21);
    let mut edited = take(&base, &order);
    let dup = take(&base, &[10]);
    let pid500 = base.column(2).as_primitive::<Int64Type>().value(500);
    let dup = RecordBatch::try_new(
        base.schema(),
        vec![
            dup.column(0).clone(),
            dup.column(1).clone(),
            Arc::new(Int64Array::from(vec![pid500])),
        ],
    )
    .unwrap();
    edited = arrow_select_concat(&[edited, dup]);
    let (fast, full) = both(day, day_ts, &[edited.clone()], &cfg);
    assert_same(&fast, &full, "duplicate and unsorted");

    // Blocked, empty and null-id rows, split into chunks, dictionary types.
    let nullable = Schema::new(vec![
        Field::new("id_type", DataType::Utf8, true),
        Field::new("id_value", DataType::Utf8, true),
        Field::new("person_id", DataType::Int64, true),
    ]);
    let odd = RecordBatch::try_new(
        Arc::new(nullable),
        vec![
            Arc::new(StringArray::from(vec!["member_id", "member_id", "oaid"])),
            Arc::new(StringArray::from(vec!["unknown", "", "dev-x"])),
            Arc::new(Int64Array::from(vec![Some(3), Some(4), None])),
        ],
    )
    .unwrap();
    let chunks = [
        edited.slice(0, 700),
        odd,
        edited.slice(700, edited.num_rows() - 700),
    ];
    let with_dict: Vec<RecordBatch> = chunks
        .iter()
        .map(|b| {
            let t: DictionaryArray<Int32Type> = b.column(0).as_string::<i32>().iter().collect();
            let schema = Schema::new(vec![
                Field::new("id_type", t.data_type().clone(), true),
                Field::new("id_value", DataType::Utf8, true),
                Field::new("person_id", DataType::Int64, true),
            ]);
            RecordBatch::try_new(
                Arc::new(schema),
                vec![Arc::new(t), b.column(1).clone(), b.column(2).clone()],
            )
            .unwrap()
        })
        .collect();
    let (fast, full) = both(day, day_ts, &with_dict, &cfg);
    assert_same(&fast, &full, "chunks, dictionary, invalid rows");
    assert!(full.report.invalid_sides.null_person_id == 1 && full.report.blocked_identifiers >= 1);
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    let col = |i: usize| -> ArrayRef {
        if i < 2 {
            Arc::new(
                batches
                    .iter()
                    .flat_map(|b| {
                        let s = b.column(i).as_string::<i32>();
                        (0..b.num_rows()).map(move |r| Some(s.value(r).to_string()))
                    })
                    .collect::<StringArray>(),
            )
        } else {
            Arc::new(
                batches
                    .iter()
                    .flat_map(|b| b.column(2).as_primitive::<Int64Type>().values().to_vec())
                    .collect::<Int64Array>(),
            )
        }
    };
    RecordBatch::try_new(batches[0].schema(), vec![col(0), col(1), col(2)]).unwrap()
}

/// The fast path is deterministic across thread counts too.
#[test]
fn fast_path_is_identical_for_1_and_3_threads() {
    let cfg = StitchConfig {
        hub_degree: 12,
        max_component_size: Some(25),
        ..StitchConfig::default()
    };
    let (rows, ts) = random_rows(31, 8_000, 5_000);
    let prev = run_ts(&rows[..7_800], Some(&ts[..7_800]), None, &cfg).persons;
    let go = |threads| {
        with_threads(threads, || {
            run_ts(&rows[7_800..], Some(&ts[7_800..]), Some(&prev), &cfg)
        })
    };
    let (a, b) = (go(1), go(3));
    assert!(a.phases.list.iter().any(|p| p.0 == "split"));
    assert_same(&a, &b, "threads");
}
