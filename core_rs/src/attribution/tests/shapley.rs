//! Shapley values: hand-computed games, Zhao et al.'s closed form against
//! full coalition enumeration, efficiency, and the conversion-rate game.

use super::fixtures::{close, config, days, Rng, World};
use crate::attribution::{conversion_rate_shapley, shapley_values, simplified_shapley, Model};
use crate::error::CoreError;

#[test]
fn attribution_shapley_two_player_game_by_hand() {
    // v(∅)=0, v(A)=10, v(B)=20, v(AB)=50:
    // φ_A = ½·10 + ½·(50-20) = 20, φ_B = ½·20 + ½·(50-10) = 30.
    let phi = shapley_values(2, &[0.0, 10.0, 20.0, 50.0]);
    close(phi[0], 20.0);
    close(phi[1], 30.0);
}

#[test]
fn attribution_shapley_three_player_game_by_hand() {
    // Masks: bit 0 = 1, bit 1 = 2, bit 2 = 3. v(12)=90, v(13)=80, v(23)=70,
    // v(123)=120, singletons 0. φ_1 = (90+80)/6 + (120-70)/3 = 45,
    // φ_2 = (90+70)/6 + (120-80)/3 = 40, φ_3 = (80+70)/6 + (120-90)/3 = 35.
    let v = [0.0, 0.0, 0.0, 90.0, 0.0, 80.0, 70.0, 120.0];
    let phi = shapley_values(3, &v);
    close(phi[0], 45.0);
    close(phi[1], 40.0);
    close(phi[2], 35.0);
}

#[test]
fn attribution_simplified_shapley_equals_exact_on_the_coverage_game() {
    let mut rng = Rng(99);
    for n in 1..=6usize {
        // R(S): conversions whose path has exactly the channel set S.
        let sets: Vec<(Vec<u32>, f64)> = (0..40)
            .map(|_| {
                let mask = 1 + rng.below((1 << n) - 1) as usize;
                let set = (0..n as u32).filter(|&i| mask & (1 << i) != 0).collect();
                (set, rng.below(20) as f64)
            })
            .collect();
        let mut v = vec![0.0; 1 << n];
        for (set, conv) in &sets {
            let t = set.iter().fold(0usize, |m, &i| m | 1 << i);
            for (s, value) in v.iter_mut().enumerate() {
                if s & t == t {
                    *value += conv;
                }
            }
        }
        let exact = shapley_values(n, &v);
        let simple = simplified_shapley(sets.iter().map(|(s, c)| (s.as_slice(), *c)));
        let total: f64 = sets.iter().map(|s| s.1).sum();
        // Efficiency: the values sum to all conversions.
        assert!((exact.iter().sum::<f64>() - total).abs() < 1e-9);
        for (c, value) in simple {
            assert!(
                (exact[c as usize] - value).abs() < 1e-9,
                "n={n} channel {c}"
            );
        }
    }
}

#[test]
fn attribution_conversion_rate_shapley_by_hand() {
    // {A}: 10 paths, 2 conv; {B}: 10 paths, 1 conv; {A,B}: 5 paths, 3 conv.
    // v(A)=0.2, v(B)=0.1, v(AB)=6/25=0.24;
    // φ_A = ½·0.2 + ½·(0.24-0.1) = 0.17, φ_B = ½·0.1 + ½·(0.24-0.2) = 0.07.
    let (a, b, ab) = ([0u32], [1u32], [0u32, 1]);
    let sets = [(&a[..], 2, 10), (&b[..], 1, 10), (&ab[..], 3, 5)];
    let phi = conversion_rate_shapley(sets, 20).unwrap();
    assert_eq!(phi.len(), 2);
    close(phi[0].1, 0.17);
    close(phi[1].1, 0.07);
    // B's journeys never convert and dilute A's: φ_B = ½·0 + ½·(0.5-1) < 0,
    // clipped to 0.
    let sets = [(&a[..], 10, 10), (&b[..], 0, 10)];
    let phi = conversion_rate_shapley(sets, 20).unwrap();
    close(phi[0].1, 0.75);
    assert_eq!(phi[1].1, 0.0);
}

#[test]
fn attribution_shapley_models_are_efficient_end_to_end() {
    let mut rng = Rng(5);
    let mut w = World::default();
    let channels = ["paid", "kol", "live", "crm"];
    for p in 0..300i64 {
        let n = 1 + rng.below(4);
        for k in 0..n {
            let ch = channels[rng.below(4) as usize];
            w.touch(p, days(k as f64), p * 10 + k as i64, "click", ch);
        }
        if rng.below(3) > 0 {
            w.order(p, days(5.0), p, 10.0, "paid");
        }
    }
    let out = w
        .run(&config(vec![Model::Shapley, Model::ShapleyExact], 30.0))
        .unwrap();
    for m in ["shapley", "shapley_exact"] {
        let credited: f64 = channels.iter().map(|c| out.get(m, Some(c)).0).sum();
        assert!((credited - out.out.paid_orders as f64).abs() < 1e-9, "{m}");
        assert_eq!(out.get(m, None), (0.0, 0.0));
    }
    let weights = out.weights_of("shapley_exact");
    assert_eq!(weights.len(), 4);
    assert!(weights.iter().all(|w| w.1 >= 0.0));
    out.assert_conserved();
}

#[test]
fn attribution_shapley_exact_channel_cap() {
    let mut w = World::default();
    for p in 0..5i64 {
        w.touch(p, days(1.0), p, "click", &format!("ch{p}"))
            .order(p, days(2.0), p, 1.0, "paid");
    }
    let mut cfg = config(vec![Model::ShapleyExact], 30.0);
    cfg.max_exact_shapley_channels = 4;
    assert!(matches!(w.run(&cfg), Err(CoreError::LimitExceeded(_))));
    cfg.max_exact_shapley_channels = 5;
    // Every channel converts alone with rate 1 in a game of 5 channels.
    let out = w.run(&cfg).unwrap();
    assert!(out
        .weights_of("shapley_exact")
        .iter()
        .all(|w| (w.1 - 0.2).abs() < 1e-12));
    out.assert_conserved();
}
