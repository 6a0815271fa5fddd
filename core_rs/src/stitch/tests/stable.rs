//! Stable person ids over consecutive runs: merge, split, new, vanished.

use super::*;

fn ids_only(next: i64) -> StitchConfig {
    StitchConfig {
        previous_mode: PreviousMode::IdsOnly,
        next_person_id: next,
        ..StitchConfig::default()
    }
}

#[test]
fn three_runs_merge_new_split_and_vanish() {
    let cfg = StitchConfig::default();
    // Day 1: three persons, ids 1, 2, 3.
    let day1 = vec![
        row("member_id", "ann", "tmall_ouid", "ann"),
        row("member_id", "bob", "tmall_ouid", "bob"),
        row("member_id", "cat", "tmall_ouid", "cat"),
    ];
    let o1 = run(&day1, None, &cfg);
    assert_eq!(
        [
            ("member_id", "ann"),
            ("member_id", "bob"),
            ("member_id", "cat")
        ]
        .map(|(t, v)| pid_of(&o1, t, v)),
        [Some(1), Some(2), Some(3)]
    );

    // Day 2, incremental: a link joins persons 1 and 2 (1 is older and
    // survives), person 1 gains an email, a new person appears.
    let day2 = vec![
        row("tmall_ouid", "ann", "member_id", "bob"),
        row("member_id", "ann", "email_sha256", "zed"),
        row("member_id", "dan", "tmall_ouid", "dan"),
    ];
    let o2 = run(&day2, Some(&o1.persons), &cfg);
    assert_eq!(pid_of(&o2, "member_id", "bob"), Some(1));
    assert_eq!(pid_of(&o2, "email_sha256", "zed"), Some(1));
    assert_eq!(
        pid_of(&o2, "member_id", "cat"),
        Some(3),
        "untouched person keeps its id"
    );
    assert_eq!(pid_of(&o2, "member_id", "dan"), Some(4));
    assert_eq!(pairs(&o2.merges), vec![(2, 1)]);
    let r = &o2.report;
    assert_eq!(
        (
            r.persons_kept,
            r.persons_merged,
            r.persons_new,
            r.persons_split
        ),
        (2, 1, 1, 0)
    );
    assert_eq!(r.next_person_id, 5);

    // Day 3, full rebuild from the link history minus what was retracted:
    // the a-b link is gone (person 1 splits: the larger part {a, t:a, z}
    // keeps id 1), c and d are gone (vanish). With next_person_id from
    // day 2, the split part gets 5, never the vanished 4.
    let day3 = vec![
        row("member_id", "ann", "tmall_ouid", "ann"),
        row("member_id", "bob", "tmall_ouid", "bob"),
        row("member_id", "ann", "email_sha256", "zed"),
    ];
    let o3 = run(
        &day3,
        Some(&o2.persons),
        &ids_only(o2.report.next_person_id),
    );
    assert_eq!(pid_of(&o3, "email_sha256", "zed"), Some(1));
    assert_eq!(pid_of(&o3, "member_id", "bob"), Some(5));
    assert_eq!(pid_of(&o3, "member_id", "cat"), None);
    assert_eq!(pairs(&o3.splits), vec![(1, 5)]);
    assert!(pairs(&o3.merges).is_empty());
    let r = &o3.report;
    assert_eq!(
        (
            r.persons_kept,
            r.persons_split,
            r.persons_vanished,
            r.persons_new
        ),
        (1, 1, 2, 1)
    );
    assert_eq!(r.next_person_id, 6);
}

#[test]
fn vanished_ids_are_never_reissued_when_next_person_id_is_passed_on() {
    let prev = persons_batch_of(&[("member_id", "ann", 1), ("member_id", "bob", 2)]);
    let o1 = run(
        &[row("member_id", "ann", "jd_pin", "ann")],
        Some(&prev),
        &ids_only(1),
    );
    assert_eq!(o1.report.persons_vanished, 1);
    assert_eq!(
        pid_of(&o1, "member_id", "bob"),
        None,
        "a full rebuild drops identifiers it no longer sees"
    );
    assert_eq!(o1.report.next_person_id, 3);
    let rows = [
        row("member_id", "ann", "jd_pin", "ann"),
        row("member_id", "cat", "jd_pin", "cat"),
    ];
    let reissued = run(&rows, Some(&o1.persons), &ids_only(1));
    assert_eq!(
        pid_of(&reissued, "member_id", "cat"),
        Some(2),
        "max previous id + 1 alone reuses 2"
    );
    let fresh = run(
        &rows,
        Some(&o1.persons),
        &ids_only(o1.report.next_person_id),
    );
    assert_eq!(pid_of(&fresh, "member_id", "cat"), Some(3));
}

#[test]
fn merge_keeps_the_oldest_id_even_for_the_smaller_person() {
    let prev = persons_batch_of(&[
        ("member_id", "old", 7),
        ("member_id", "young1", 9),
        ("jd_pin", "young2", 9),
        ("jd_pin", "young3", 9),
    ]);
    let out = run(
        &[row("member_id", "old", "jd_pin", "young3")],
        Some(&prev),
        &StitchConfig::default(),
    );
    assert_eq!(pid_of(&out, "jd_pin", "young2"), Some(7));
    assert_eq!(pairs(&out.merges), vec![(9, 7)]);
    assert_eq!(out.report.next_person_id, 10);
}

#[test]
fn split_tie_goes_to_the_part_seen_first() {
    let prev = persons_batch_of(&[
        ("member_id", "xan", 3),
        ("jd_pin", "xan", 3),
        ("member_id", "yan", 3),
        ("jd_pin", "yan", 3),
    ]);
    let rows = vec![
        row("member_id", "yan", "jd_pin", "yan"),
        row("member_id", "xan", "jd_pin", "xan"),
    ];
    let out = run(&rows, Some(&prev), &ids_only(1));
    assert_eq!(pid_of(&out, "member_id", "yan"), Some(3));
    assert_eq!(pid_of(&out, "member_id", "xan"), Some(4));
    assert_eq!(pairs(&out.splits), vec![(3, 4)]);
}

#[test]
fn incremental_run_without_links_reproduces_previous() {
    let (rows, _) = super::reference::random_rows(3, 1_000, 600);
    let o1 = run(&rows, None, &StitchConfig::unguarded());
    let o2 = run(&[], Some(&o1.persons), &StitchConfig::unguarded());
    assert_eq!(o2.persons, o1.persons);
    assert_eq!(o2.report.persons_kept, o1.report.components);
    assert_eq!(o2.report.persons_new, 0);
}

#[test]
fn unsorted_previous_gives_the_same_result() {
    let (rows, _) = super::reference::random_rows(8, 1_200, 700);
    let (d1, d2) = rows.split_at(600);
    let cfg = StitchConfig::unguarded();
    let prev = run(d1, None, &cfg).persons;
    let sorted = run(d2, Some(&prev), &cfg);
    let mut idx: Vec<u32> = (0..prev.num_rows() as u32).collect();
    Rng(1).shuffle(&mut idx);
    let take = arrow_array::UInt32Array::from(idx);
    let cols = prev
        .columns()
        .iter()
        .map(|c| arrow_select_take(c, &take))
        .collect();
    let shuffled = RecordBatch::try_new(prev.schema(), cols).unwrap();
    let out = run(d2, Some(&shuffled), &cfg);
    assert_eq!(out.persons, sorted.persons);
    assert_eq!(out.merges, sorted.merges);
}

/// `take` without depending on arrow-select: rebuild by index.
fn arrow_select_take(col: &ArrayRef, idx: &arrow_array::UInt32Array) -> ArrayRef {
    if let Some(s) = col.as_string_opt::<i32>() {
        Arc::new(
            idx.values()
                .iter()
                .map(|&i| Some(s.value(i as usize)))
                .collect::<StringArray>(),
        )
    } else {
        let p = col.as_primitive::<Int64Type>();
        Arc::new(
            idx.values()
                .iter()
                .map(|&i| p.value(i as usize))
                .collect::<Int64Array>(),
        )
    }
}

#[test]
fn previous_persons_are_joined_before_todays_links_under_caps() {
    // Yesterday's person holds phone P1; today a device links it to P2.
    let prev = persons_batch_of(&[
        ("phone_sha256", "P1", 1),
        ("member_id", "mem", 1),
        ("phone_sha256", "P2", 2),
    ]);
    let rows = vec![
        row("oaid", "dev", "member_id", "mem"),
        row("oaid", "dev", "phone_sha256", "P2"),
    ];
    let mut cfg = StitchConfig::unguarded();
    cfg.max_ids_per_type.insert("phone_sha256".into(), 1);
    let out = run(&rows, Some(&prev), &cfg);
    assert_eq!(pid_of(&out, "member_id", "mem"), Some(1));
    assert_eq!(pid_of(&out, "phone_sha256", "P2"), Some(2));
    assert_eq!(out.cuts.len(), 1);
    assert!(pairs(&out.merges).is_empty());
}

#[test]
fn previous_rows_with_null_ids_or_blocked_values_are_dropped() {
    let t: ArrayRef = Arc::new(StringArray::from(vec![
        "member_id",
        "member_id",
        "member_id",
    ]));
    let v: ArrayRef = Arc::new(StringArray::from(vec!["ann", "unknown", "bob"]));
    let p: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), None]));
    let schema = Schema::new(vec![
        Field::new("id_type", DataType::Utf8, false),
        Field::new("id_value", DataType::Utf8, false),
        Field::new("person_id", DataType::Int64, true),
    ]);
    let prev = RecordBatch::try_new(Arc::new(schema), vec![t, v, p]).unwrap();
    let out = run(&[], Some(&prev), &StitchConfig::default());
    assert_eq!(persons(&out), vec![("member_id".into(), "ann".into(), 1)]);
    assert_eq!(out.report.invalid_sides.null_person_id, 1);
    assert_eq!(out.report.blocked_identifiers, 1);
}

#[test]
fn previous_identifier_that_became_a_hub_leaves_its_person() {
    let prev = persons_batch_of(&[("phone_sha256", "phone", 5), ("member_id", "mem", 5)]);
    let rows: Vec<Row> = (0..150)
        .map(|i| row("phone_sha256", "phone", "jd_pin", &format!("j{i}")))
        .collect();
    let out = run(&rows, Some(&prev), &StitchConfig::default());
    assert_eq!(out.report.hubs, 1);
    assert_eq!(pid_of(&out, "phone_sha256", "phone"), None);
    assert_eq!(pid_of(&out, "member_id", "mem"), Some(5));
    assert_eq!(out.report.components, 151);
}
