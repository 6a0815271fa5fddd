//! Markov removal effects: a hand-solved chain, agreement with an
//! independent dense solve, higher-order state spaces, and the model end to
//! end.

use std::collections::BTreeMap;

use super::fixtures::{close, config, days, Rng, World};
use crate::attribution::{MarkovChain, Model};
use crate::error::CoreError;

const A: u32 = 0;
const B: u32 = 1;

/// The hand-solved example. Paths: `A B → conv`, `B A B → conv`, `A → null`.
/// From start: A 2/3, B 1/3; from A: B 2/3, null 1/3; from B: conv 2/3,
/// A 1/3. So x_B = 2/3 + x_A/3 and x_A = 2 x_B / 3 give x_B = 6/7,
/// x_A = 4/7 and P = 2/3·4/7 + 1/3·6/7 = 2/3. Without A: x_B = 2/3,
/// P = 1/3·2/3 = 2/9, RE_A = 1 - (2/9)/(2/3) = 2/3. Without B: P = 0, RE_B = 1.
fn hand_paths() -> Vec<(Vec<u32>, bool)> {
    vec![(vec![A, B], true), (vec![B, A, B], true), (vec![A], false)]
}

#[test]
fn attribution_markov_hand_solved_two_channels() {
    let paths = hand_paths();
    let chain = MarkovChain::from_paths(1, paths.iter().map(|(p, c)| (p.as_slice(), *c))).unwrap();
    close(chain.conversion_probability().unwrap(), 2.0 / 3.0);
    close(chain.conversion_probability_without(A).unwrap(), 2.0 / 9.0);
    close(chain.conversion_probability_without(B).unwrap(), 0.0);
    let re = chain.removal_effects().unwrap();
    assert_eq!(re.len(), 2);
    close(re[0].1, 2.0 / 3.0);
    close(re[1].1, 1.0);
}

#[test]
fn attribution_markov_model_end_to_end() {
    // The same three paths as persons: two buyers and one non-buyer.
    let mut w = World::default();
    w.touch(1, days(1.0), 1, "click", "A")
        .touch(1, days(2.0), 2, "click", "B")
        .order(1, days(3.0), 1, 10.0, "paid");
    w.touch(2, days(1.0), 3, "click", "B")
        .touch(2, days(2.0), 4, "click", "A")
        .touch(2, days(3.0), 5, "click", "B")
        .order(2, days(4.0), 2, 20.0, "paid");
    w.touch(3, days(1.0), 6, "click", "A");
    let out = w
        .run(&config(vec![Model::Markov { order: 1 }], 30.0))
        .unwrap();
    let weights = out.weights_of("markov");
    assert_eq!(
        weights.iter().map(|w| w.0.as_str()).collect::<Vec<_>>(),
        ["A", "B"]
    );
    close(weights[0].1, 2.0 / 3.0);
    close(weights[1].1, 1.0);
    // Each order splits A : B = 2/3 : 1 = 0.4 : 0.6.
    let (a_conv, a_rev) = out.get("markov", Some("A"));
    close(a_conv, 0.8);
    close(a_rev, 0.4 * 30.0);
    close(out.get("markov", Some("B")).0, 1.2);
    out.assert_conserved();
}

/// Independent reference: states and transitions built from scratch, the
/// absorbing system solved by Gauss-Jordan elimination on a dense matrix.
fn naive_probability(order: usize, paths: &[(Vec<u32>, bool)], removed: Option<u32>) -> f64 {
    let mut counts: BTreeMap<(Vec<u32>, String), f64> = BTreeMap::new();
    for (raw, converted) in paths {
        let mut p: Vec<u32> = Vec::new();
        for &c in raw {
            if p.last() != Some(&c) {
                p.push(c);
            }
        }
        let mut prev: Vec<u32> = Vec::new();
        for i in 0..p.len() {
            let state = p[i.saturating_sub(order - 1)..=i].to_vec();
            *counts
                .entry((prev.clone(), format!("{state:?}")))
                .or_default() += 1.0;
            prev = state;
        }
        let end = if *converted { "CONV" } else { "NULL" };
        *counts.entry((prev, end.to_string())).or_default() += 1.0;
    }
    let mut states: Vec<Vec<u32>> = vec![vec![]];
    for (from, _) in counts.keys() {
        if !states.contains(from) {
            states.push(from.clone());
        }
    }
    let n = states.len();
    let index = |s: &str| states.iter().position(|x| format!("{x:?}") == s);
    let gone = |s: &Vec<u32>| removed.is_some_and(|c| s.contains(&c));
    let mut m = vec![vec![0.0; n + 1]; n];
    for (i, s) in states.iter().enumerate() {
        m[i][i] = 1.0;
        if gone(s) {
            continue;
        }
        let total: f64 = counts
            .iter()
            .filter(|((f, _), _)| f == s)
            .map(|(_, v)| v)
            .sum();
        for ((f, to), v) in &counts {
            if f != s {
                continue;
            }
            if to == "CONV" {
                m[i][n] += v / total;
            } else if let Some(j) = index(to) {
                m[i][j] -= v / total;
            }
        }
    }
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&a, &b| m[a][col].abs().total_cmp(&m[b][col].abs()))
            .unwrap();
        m.swap(col, pivot);
        let p = m[col][col];
        for v in m[col].iter_mut() {
            *v /= p;
        }
        for r in 0..n {
            if r != col && m[r][col] != 0.0 {
                let f = m[r][col];
                let pivot_row = m[col].clone();
                for (x, y) in m[r].iter_mut().zip(pivot_row) {
                    *x -= f * y;
                }
            }
        }
    }
    m[0][n]
}

fn random_paths(rng: &mut Rng, channels: u64, count: usize) -> Vec<(Vec<u32>, bool)> {
    (0..count)
        .map(|_| {
            let len = 1 + rng.below(6) as usize;
            let path = (0..len).map(|_| rng.below(channels) as u32).collect();
            (path, rng.below(3) == 0)
        })
        .collect()
}

#[test]
fn attribution_markov_matches_naive_dense_solve() {
    let mut rng = Rng(42);
    for order in 1..=3 {
        for _ in 0..5 {
            let paths = random_paths(&mut rng, 4, 60);
            let chain =
                MarkovChain::from_paths(order, paths.iter().map(|(p, c)| (p.as_slice(), *c)))
                    .unwrap();
            let p = chain.conversion_probability().unwrap();
            assert!(
                (p - naive_probability(order, &paths, None)).abs() < 1e-9,
                "order {order}"
            );
            for c in chain.channels() {
                let pc = chain.conversion_probability_without(c).unwrap();
                assert!(
                    (pc - naive_probability(order, &paths, Some(c))).abs() < 1e-9,
                    "order {order}, removed {c}"
                );
            }
            for (c, re) in chain.removal_effects().unwrap() {
                let expected = 1.0 - naive_probability(order, &paths, Some(c)) / p;
                assert!(re >= 0.0 && (re - expected.max(0.0)).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn attribution_markov_higher_order_state_spaces() {
    const C: u32 = 2;
    // `A A B C A`: the repeat collapses to `A B C A`.
    let paths = [(vec![A, A, B, C, A], true)];
    let states = |order| {
        let chain =
            MarkovChain::from_paths(order, paths.iter().map(|(p, c)| (p.as_slice(), *c))).unwrap();
        let mut s = chain.states().to_vec();
        s.sort();
        s
    };
    assert_eq!(states(1), vec![vec![], vec![A], vec![B], vec![C]]);
    assert_eq!(
        states(2),
        vec![vec![], vec![A], vec![A, B], vec![B, C], vec![C, A]]
    );
    assert_eq!(
        states(3),
        vec![vec![], vec![A], vec![A, B], vec![A, B, C], vec![B, C, A]]
    );
    // A single converting path: every state is on it, so every RE is 1.
    let chain = MarkovChain::from_paths(3, paths.iter().map(|(p, c)| (p.as_slice(), *c))).unwrap();
    assert!(chain
        .removal_effects()
        .unwrap()
        .iter()
        .all(|&(_, re)| (re - 1.0).abs() < 1e-12));
}

#[test]
fn attribution_markov_state_cap_and_channel_requirement() {
    let mut rng = Rng(7);
    let mut w = World::default();
    for p in 0..200 {
        for k in 0..5 {
            let ch = ["a", "b", "c", "d", "e", "f", "g", "h"][rng.below(8) as usize];
            w.touch(p, days(k as f64), p * 10 + k, "click", ch);
        }
        w.order(p, days(6.0), p, 1.0, "paid");
    }
    let mut cfg = config(vec![Model::Markov { order: 3 }], 30.0);
    cfg.max_markov_states = 20;
    assert!(matches!(w.run(&cfg), Err(CoreError::LimitExceeded(_))));
    cfg.max_markov_states = 2000;
    let out = w.run(&cfg).unwrap();
    out.assert_conserved();
    assert_eq!(out.get("markov_3", None), (0.0, 0.0));
}
