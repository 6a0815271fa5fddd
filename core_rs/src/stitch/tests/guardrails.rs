//! Guardrails: hubs, per-type caps with priority and recency, size cap.

use super::reference::random_rows;
use super::*;

#[test]
fn planted_hub_phone_merges_nobody_and_is_reported() {
    let mut rows = Vec::new();
    for i in 0..10_000 {
        rows.push(row(
            "phone_sha256",
            "shared-test-phone",
            "member_id",
            &format!("m{i}"),
        ));
        rows.push(row(
            "member_id",
            &format!("m{i}"),
            "jd_pin",
            &format!("j{i}"),
        ));
    }
    let out = run(&rows, None, &StitchConfig::default());
    assert_eq!(out.report.components, 10_000);
    assert_eq!(out.report.largest_component, 2);
    assert_eq!(out.report.hubs, 1);
    assert_eq!(out.report.links_cut["hub"], 10_000);
    assert_eq!(out.report.links_joined, 10_000);
    assert!(
        pid_of(&out, "phone_sha256", "shared-test-phone").is_none(),
        "a hub belongs to no person"
    );
    assert_eq!(out.cuts.len(), 1);
    let cut = &out.cuts[0];
    assert_eq!(
        cut.rule,
        CutRule::Hub {
            degree: 10_000,
            threshold: 100,
            carried: false,
        }
    );
    assert_eq!(
        (cut.id_type.as_str(), cut.id_value.as_str()),
        ("phone_sha256", "shared-test-phone")
    );
    assert_eq!(
        (
            cut.links,
            cut.would_merge_persons,
            cut.would_merge_identifiers
        ),
        (10_000, 10_000, 20_000)
    );
}

#[test]
fn hub_threshold_is_per_type_and_counts_distinct_partners() {
    let mut rows: Vec<Row> = (0..5)
        .map(|i| row("oaid", "tablet", "member_id", &format!("m{i}")))
        .collect();
    // The same pair seen 500 times is one partner, not 500.
    rows.extend((0..500).map(|_| row("phone_sha256", "p", "member_id", "loyal")));
    let mut cfg = StitchConfig::unguarded();
    cfg.hub_degree = 10;
    cfg.hub_degree_per_type.insert("oaid".into(), 4);
    let out = run(&rows, None, &cfg);
    assert_eq!(out.report.hubs, 1);
    assert_eq!(
        out.cuts[0].rule,
        CutRule::Hub {
            degree: 5,
            threshold: 4,
            carried: false,
        }
    );
    assert_eq!(
        pid_of(&out, "phone_sha256", "p"),
        pid_of(&out, "member_id", "loyal")
    );

    cfg.hub_degree_per_type.insert("oaid".into(), 5);
    let out = run(&rows, None, &cfg);
    assert_eq!(out.report.hubs, 0);
    assert_eq!(out.report.largest_component, 6);
}

fn phone_cap(cap: u32) -> StitchConfig {
    let mut cfg = StitchConfig::unguarded();
    cfg.max_ids_per_type.insert("phone_sha256".into(), cap);
    cfg
}

#[test]
fn type_cap_cuts_the_oldest_link() {
    let rows: Vec<Row> = (1..=4)
        .map(|i| row("member_id", "mem", "phone_sha256", &format!("p{i}")))
        .collect();
    // p1 is the oldest observation.
    let ts = [1_000, 2_000, 3_000, 4_000];
    let out = run_ts(&rows, Some(&ts), None, &phone_cap(3));
    let expect: BTreeSet<BTreeSet<String>> = [
        [
            "member_id:mem",
            "phone_sha256:p2",
            "phone_sha256:p3",
            "phone_sha256:p4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ["phone_sha256:p1".to_string()].into_iter().collect(),
    ]
    .into_iter()
    .collect();
    assert_eq!(partition(&out), expect);
    assert_eq!(out.cuts.len(), 1);
    let c = &out.cuts[0];
    assert_eq!(
        c.rule,
        CutRule::MaxIdsPerType {
            id_type: "phone_sha256".into(),
            cap: 3
        }
    );
    assert_eq!(
        (c.id_type.as_str(), c.id_value.as_str()),
        ("member_id", "mem")
    );
    assert_eq!(
        (c.other_type.as_deref(), c.other_value.as_deref()),
        (Some("phone_sha256"), Some("p1"))
    );
    assert_eq!(
        (c.links, c.would_merge_persons, c.would_merge_identifiers),
        (1, 2, 5)
    );
    assert_eq!(out.report.links_cut["max_ids_per_type"], 1);

    let (mut r2, mut t2) = (rows.clone(), ts.to_vec());
    r2.reverse();
    t2.reverse();
    let again = run_ts(&r2, Some(&t2), None, &phone_cap(3));
    assert_eq!(partition(&again), expect);
    assert_eq!(again.cuts, out.cuts);
}

#[test]
fn type_priority_beats_recency() {
    // P1-M is old but joins phone and member (trusted types); the device
    // links are newer but weaker, so a device link is what gets cut.
    let rows = vec![
        row("phone_sha256", "P1", "member_id", "mem"),
        row("oaid", "dev", "member_id", "mem"),
        row("phone_sha256", "P2", "oaid", "dev"),
    ];
    // Recency alone would join O-M and P2-O first and cut P1-M.
    let out = run_ts(&rows, Some(&[1, 100, 50]), None, &phone_cap(1));
    assert_eq!(
        pid_of(&out, "phone_sha256", "P1"),
        pid_of(&out, "member_id", "mem")
    );
    assert_eq!(
        pid_of(&out, "oaid", "dev"),
        pid_of(&out, "member_id", "mem")
    );
    assert_ne!(
        pid_of(&out, "phone_sha256", "P2"),
        pid_of(&out, "member_id", "mem")
    );
    assert_eq!(out.cuts.len(), 1);
    assert_eq!(out.cuts[0].other_value.as_deref(), Some("P2"));

    // With O-M older than P2-O, recency keeps P2-O and cuts O-M instead.
    let out = run_ts(&rows, Some(&[1, 50, 100]), None, &phone_cap(1));
    assert_eq!(
        pid_of(&out, "phone_sha256", "P2"),
        pid_of(&out, "oaid", "dev")
    );
    assert_ne!(
        pid_of(&out, "oaid", "dev"),
        pid_of(&out, "member_id", "mem")
    );
    assert_eq!(
        (
            out.cuts[0].id_value.as_str(),
            out.cuts[0].other_value.as_deref()
        ),
        ("mem", Some("dev"))
    );
}

#[test]
fn size_cap_splits_a_long_chain_deterministically() {
    let rows: Vec<Row> = (0..9)
        .map(|i| {
            row(
                "member_id",
                &format!("c{i}"),
                "member_id",
                &format!("c{}", i + 1),
            )
        })
        .collect();
    let cfg = StitchConfig {
        max_component_size: Some(4),
        ..StitchConfig::unguarded()
    };
    let out = run(&rows, None, &cfg);
    let parts = partition(&out);
    assert!(parts.iter().all(|p| p.len() <= 4), "{parts:?}");
    assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), 10);
    assert!(!out.cuts.is_empty());
    assert!(out
        .cuts
        .iter()
        .all(|c| c.rule == CutRule::MaxComponentSize { cap: 4 }));
    assert_eq!(
        out.report.links_cut["max_component_size"],
        out.cuts.len() as u64
    );
    assert_eq!(out.report.components as usize, parts.len());
    for seed in 0..5 {
        let mut shuffled = rows.clone();
        Rng(seed).shuffle(&mut shuffled);
        let again = run(&shuffled, None, &cfg);
        assert_eq!(partition(&again), parts);
        assert_eq!(again.cuts, out.cuts);
    }
}

#[test]
fn guarded_results_do_not_depend_on_row_order() {
    let cfg = StitchConfig {
        hub_degree: 12,
        max_component_size: Some(25),
        ..StitchConfig::default()
    };
    for seed in 0..6 {
        let (rows, ts) = random_rows(seed, 3_000, 900);
        let out = run_ts(&rows, Some(&ts), None, &cfg);
        assert!(
            !out.cuts.is_empty(),
            "seed {seed}: the workload should trigger guardrails"
        );
        let mut idx: Vec<usize> = (0..rows.len()).collect();
        Rng(seed + 100).shuffle(&mut idx);
        let r2: Vec<Row> = idx.iter().map(|&i| rows[i].clone()).collect();
        let t2: Vec<i64> = idx.iter().map(|&i| ts[i]).collect();
        let again = run_ts(&r2, Some(&t2), None, &cfg);
        assert_eq!(partition(&again), partition(&out), "seed {seed}");
        assert_eq!(again.cuts, out.cuts, "seed {seed}");
        let (a, b) = (&again.report, &out.report);
        assert_eq!(
            (a.components, a.hubs, &a.links_cut),
            (b.components, b.hubs, &b.links_cut)
        );
    }
}

#[test]
fn every_person_respects_the_caps() {
    let cfg = StitchConfig {
        hub_degree: 12,
        max_component_size: Some(25),
        ..StitchConfig::default()
    };
    for seed in 10..16 {
        let (rows, ts) = random_rows(seed, 3_000, 900);
        let out = run_ts(&rows, Some(&ts), None, &cfg);
        let mut per: BTreeMap<(i64, String), u32> = BTreeMap::new();
        let mut size: BTreeMap<i64, u32> = BTreeMap::new();
        for (t, _, p) in persons(&out) {
            *per.entry((p, t)).or_default() += 1;
            *size.entry(p).or_default() += 1;
        }
        for ((p, t), n) in per {
            let cap = cfg.max_ids_per_type.get(&t).copied().unwrap_or(u32::MAX);
            assert!(n <= cap, "seed {seed}: person {p} has {n} {t}");
        }
        assert!(size.values().all(|&s| s <= 25));
    }
}
