//! Comparison with an independent, naive reference (BFS over a map of
//! adjacency lists keyed by strings) on pseudo-random graphs, incremental
//! runs against full rebuilds, and determinism across thread counts.

use std::collections::{HashMap, VecDeque};

use super::*;

const TYPES: [&str; 6] = [
    "phone_sha256",
    "oaid",
    "member_id",
    "tmall_ouid",
    "jd_pin",
    "douyin_openid",
];

/// Random links with a realistic shape: identifiers clustered into people
/// of 1-8 identifiers, most links inside a cluster, a few across clusters
/// (which make large components and hubs), duplicates, self links, and
/// about 1% empty values. Returns the rows and an observed_at per row.
pub(super) fn random_rows(seed: u64, n_rows: usize, n_ids: usize) -> (Vec<Row>, Vec<i64>) {
    let mut rng = Rng(seed);
    let ids: Vec<(&str, String)> = (0..n_ids)
        .map(|i| {
            (
                TYPES[rng.below(TYPES.len() as u64) as usize],
                format!("v{}", rng.below(n_ids as u64 * 4) + i as u64),
            )
        })
        .collect();
    let mut clusters: Vec<(usize, usize)> = Vec::new();
    let mut at = 0;
    while at < n_ids {
        let len = (1 + rng.below(8) as usize).min(n_ids - at);
        clusters.push((at, len));
        at += len;
    }
    let mut rows = Vec::with_capacity(n_rows);
    let mut ts = Vec::with_capacity(n_rows);
    for _ in 0..n_rows {
        let (a, b) = if rng.below(100) < 6 {
            (
                rng.below(n_ids as u64) as usize,
                rng.below(n_ids as u64) as usize,
            )
        } else {
            let (s, l) = clusters[rng.below(clusters.len() as u64) as usize];
            (
                s + rng.below(l as u64) as usize,
                s + rng.below(l as u64) as usize,
            )
        };
        let mut r = row(ids[a].0, &ids[a].1, ids[b].0, &ids[b].1);
        if rng.below(100) == 0 {
            r.1 = String::new();
        }
        rows.push(r);
        ts.push(1_600_000_000_000 + rng.below(1_000_000_000) as i64);
    }
    (rows, ts)
}

/// Naive connected components: empty types/values never link.
fn reference_partition(rows: &[Row]) -> BTreeSet<BTreeSet<String>> {
    let mut adj: HashMap<String, Vec<String>> = HashMap::new();
    for (lt, lv, rt, rv) in rows {
        let l = (!lt.is_empty() && !lv.is_empty()).then(|| format!("{lt}:{lv}"));
        let r = (!rt.is_empty() && !rv.is_empty()).then(|| format!("{rt}:{rv}"));
        for k in [&l, &r].into_iter().flatten() {
            adj.entry(k.clone()).or_default();
        }
        if let (Some(l), Some(r)) = (l, r) {
            adj.get_mut(&l).unwrap().push(r.clone());
            adj.get_mut(&r).unwrap().push(l);
        }
    }
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut out = BTreeSet::new();
    let mut keys: Vec<&String> = adj.keys().collect();
    keys.sort();
    for k in keys {
        if seen.contains(k) {
            continue;
        }
        let mut comp = BTreeSet::new();
        let mut queue = VecDeque::from([k.clone()]);
        seen.insert(k.clone());
        while let Some(x) = queue.pop_front() {
            for y in &adj[&x] {
                if seen.insert(y.clone()) {
                    queue.push_back(y.clone());
                }
            }
            comp.insert(x);
        }
        out.insert(comp);
    }
    out
}

#[test]
fn matches_naive_bfs_on_random_graphs() {
    for seed in 0..40 {
        let n_ids = 50 + (seed as usize * 37) % 1500;
        let n_rows = n_ids * (1 + seed as usize % 3);
        let (rows, _) = random_rows(seed, n_rows, n_ids);
        let out = run(&rows, None, &StitchConfig::unguarded());
        let expected = reference_partition(&rows);
        assert_eq!(partition(&out), expected, "seed {seed}");
        assert_eq!(out.report.components as usize, expected.len());
        assert_eq!(
            out.report.identifiers as usize,
            expected.iter().map(|c| c.len()).sum::<usize>()
        );
        assert_eq!(
            out.report.largest_component as usize,
            expected.iter().map(|c| c.len()).max().unwrap_or(0)
        );
    }
}

#[test]
fn person_ids_are_dense_and_follow_first_appearance() {
    let (rows, _) = random_rows(99, 2_000, 1_200);
    let out = run(&rows, None, &StitchConfig::unguarded());
    let ids: BTreeSet<i64> = persons(&out).iter().map(|p| p.2).collect();
    assert_eq!(ids, (1..=out.report.components as i64).collect());
    assert_eq!(out.report.next_person_id, out.report.components as i64 + 1);
    // The first row's identifiers belong to person 1.
    let first = rows.iter().find(|r| !r.1.is_empty()).unwrap();
    assert_eq!(pid_of(&out, &first.0, &first.1), Some(1));
}

#[test]
fn incremental_days_equal_a_full_rebuild_without_guardrails() {
    for seed in 0..10 {
        let (rows, _) = random_rows(seed + 500, 1_500, 800);
        let cfg = StitchConfig::unguarded();
        let full = run(&rows, None, &cfg);
        let (d1, rest) = rows.split_at(500);
        let (d2, d3) = rest.split_at(600);
        let o1 = run(d1, None, &cfg);
        let o2 = run(d2, Some(&o1.persons), &cfg);
        let o3 = run(d3, Some(&o2.persons), &cfg);
        assert_eq!(partition(&o3), partition(&full), "seed {seed}");
        assert_eq!(o3.report.persons_vanished, 0);
        assert_eq!(o3.report.persons_split, 0, "incremental runs cannot split");
        // Every earlier person id survives or is recorded as merged.
        let merged: BTreeSet<i64> = pairs(&o3.merges).iter().map(|m| m.0).collect();
        let now: BTreeSet<i64> = persons(&o3).iter().map(|p| p.2).collect();
        for (_, _, p) in persons(&o2) {
            assert!(
                now.contains(&p) ^ merged.contains(&p),
                "seed {seed}: id {p}"
            );
        }
    }
}

#[test]
fn output_is_identical_for_1_and_4_threads() {
    let cfg = StitchConfig {
        hub_degree: 12,
        max_component_size: Some(25),
        ..StitchConfig::default()
    };
    for seed in 0..4 {
        let (rows, ts) = random_rows(seed + 40, 4_000, 1_500);
        let (day1, day2) = rows.split_at(2_000);
        let prev = run_ts(day1, Some(&ts[..2_000]), None, &cfg).persons;
        let go = |threads| {
            with_threads(threads, || {
                run_ts(day2, Some(&ts[2_000..]), Some(&prev), &cfg)
            })
        };
        let (a, b) = (go(1), go(4));
        assert_eq!(a.persons, b.persons, "seed {seed}");
        assert_eq!(a.merges, b.merges);
        assert_eq!(a.splits, b.splits);
        assert_eq!(a.cuts, b.cuts);
        assert_eq!(a.report.to_json(), b.report.to_json());
        assert!(!a.cuts.is_empty() && a.report.persons_kept > 0);
    }
}
