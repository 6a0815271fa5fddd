//! Guarded incremental runs against full rebuilds: with caps joined in
//! arrival order ([`CapOrder::Arrival`]), today's links newer than all
//! earlier ones and earlier hubs passed on as block rules, yesterday's
//! persons plus today's links give the rebuild's partition.

use super::reference::random_rows;
use super::*;

/// Caps that fire often on the random graphs.
fn tight(order: CapOrder) -> StitchConfig {
    let mut cfg = StitchConfig {
        max_component_size: Some(12),
        cap_order: order,
        ..StitchConfig::default()
    };
    cfg.max_ids_per_type.insert("member_id".into(), 2);
    cfg.max_ids_per_type.insert("jd_pin".into(), 2);
    cfg
}

/// Rows split into `days`, each day's timestamps after the previous day's.
fn days(seed: u64, n_rows: usize, n_ids: usize, days: usize) -> Vec<(Vec<Row>, Vec<i64>)> {
    let (rows, ts) = random_rows(seed, n_rows, n_ids);
    let per = n_rows.div_ceil(days);
    rows.chunks(per)
        .zip(ts.chunks(per))
        .enumerate()
        .map(|(d, (r, t))| {
            let t = t.iter().map(|x| x + d as i64 * 10_000_000_000).collect();
            (r.to_vec(), t)
        })
        .collect()
}

/// Incremental days and a rebuild over all of them; returns both outputs.
fn incremental_and_rebuild(
    ds: &[(Vec<Row>, Vec<i64>)],
    cfg: &StitchConfig,
) -> (StitchOutput, StitchOutput) {
    let mut out = run_ts(&ds[0].0, Some(&ds[0].1), None, cfg);
    let mut prev_day = out.persons.clone();
    for (rows, ts) in &ds[1..] {
        prev_day = out.persons.clone();
        out = run_ts(rows, Some(ts), Some(&out.persons), cfg);
    }
    let all: Vec<Row> = ds.iter().flat_map(|d| d.0.clone()).collect();
    let all_ts: Vec<i64> = ds.iter().flat_map(|d| d.1.clone()).collect();
    let rebuild_cfg = StitchConfig {
        previous_mode: PreviousMode::IdsOnly,
        ..cfg.clone()
    };
    let rebuild = run_ts(&all, Some(&all_ts), Some(&prev_day), &rebuild_cfg);
    (out, rebuild)
}

#[test]
fn arrival_order_incremental_days_equal_the_rebuild() {
    let mut cut_links = 0;
    for seed in 0..12 {
        let ds = days(seed + 300, 2_400, 1_400, 2 + seed as usize % 3);
        let (inc, rebuild) = incremental_and_rebuild(&ds, &tight(CapOrder::Arrival));
        assert_eq!(partition(&inc), partition(&rebuild), "seed {seed}");
        cut_links += rebuild.report.links_cut["max_component_size"]
            + rebuild.report.links_cut["max_ids_per_type"];
    }
    assert!(
        cut_links > 100,
        "the caps must fire for the test to mean anything"
    );
}

#[test]
fn trust_order_incremental_days_can_differ_from_the_rebuild() {
    // Why arrival order exists: trust order re-ranks old links against
    // new ones, which yesterday's persons cannot reproduce.
    let differ = (0..12).any(|seed| {
        let ds = days(seed + 300, 2_400, 1_400, 2 + seed as usize % 3);
        let (inc, rebuild) = incremental_and_rebuild(&ds, &tight(CapOrder::Trust));
        partition(&inc) != partition(&rebuild)
    });
    assert!(differ);
}

#[test]
fn hubs_passed_on_as_block_rules_keep_incremental_equal_to_the_rebuild() {
    let cfg = tight(CapOrder::Arrival);
    let mut ds = days(77, 2_000, 1_200, 2);
    // A staff phone on 150 accounts on day 1 and 20 more on day 2: a hub
    // for the rebuild, but not by day 2's links alone.
    for i in 0..150 {
        ds[0]
            .0
            .push(row("phone_sha256", "staff", "member_id", &format!("s{i}")));
        ds[0].1.push(5_000 + i);
    }
    for i in 0..20 {
        ds[1]
            .0
            .push(row("phone_sha256", "staff", "jd_pin", &format!("t{i}")));
        ds[1].1.push(10_000_000_000 + i);
    }
    let day1 = run_ts(&ds[0].0, Some(&ds[0].1), None, &cfg);
    let hubs: Vec<BlockRule> = day1
        .cuts
        .iter()
        .filter(|c| c.rule.name() == "hub")
        .map(|c| BlockRule::for_type(&c.id_type, Pattern::Exact(c.id_value.clone())))
        .collect();
    assert_eq!(hubs.len(), 1);

    let carried = StitchConfig {
        block_rules: [cfg.block_rules.clone(), hubs].concat(),
        ..cfg.clone()
    };
    let inc = run_ts(&ds[1].0, Some(&ds[1].1), Some(&day1.persons), &carried);
    let all: Vec<Row> = [ds[0].0.clone(), ds[1].0.clone()].concat();
    let all_ts: Vec<i64> = [ds[0].1.clone(), ds[1].1.clone()].concat();
    let rebuild_cfg = StitchConfig {
        previous_mode: PreviousMode::IdsOnly,
        ..cfg.clone()
    };
    let rebuild = run_ts(&all, Some(&all_ts), Some(&day1.persons), &rebuild_cfg);
    assert_eq!(partition(&inc), partition(&rebuild));
    assert_eq!(pid_of(&inc, "phone_sha256", "staff"), None);

    // Without the carried hub, day 2 alone lets the phone merge 20 accounts.
    let forgot = run_ts(&ds[1].0, Some(&ds[1].1), Some(&day1.persons), &cfg);
    assert_ne!(partition(&forgot), partition(&rebuild));
}

#[test]
fn many_exact_block_rules_are_checked_by_value() {
    // Thousands of carried hubs must not slow the per-value check down to a
    // scan, and must block exactly their own values, case-insensitively.
    let mut cfg = StitchConfig::default();
    for i in 0..5_000 {
        cfg.block_rules.push(BlockRule::for_type(
            "phone_sha256",
            Pattern::Exact(format!("{:064x}", i * 7919)),
        ));
    }
    let blocked = format!("{:064X}", 4_999 * 7919);
    let kept = format!("{:064x}", 4_999 * 7919 + 1);
    let rows = vec![
        row("phone_sha256", &blocked, "member_id", "ann"),
        row("phone_sha256", &kept, "member_id", "ann"),
        row("member_id", &blocked, "jd_pin", "bob"),
    ];
    let out = run(&rows, None, &cfg);
    assert_eq!(pid_of(&out, "phone_sha256", &blocked), None);
    assert!(pid_of(&out, "phone_sha256", &kept).is_some());
    assert_eq!(
        pid_of(&out, "member_id", &blocked),
        pid_of(&out, "jd_pin", "bob"),
        "the rule is for phone hashes only"
    );
    assert_eq!(out.report.blocked_identifiers, 1);
}
