//! Asset grouping over window codes.

use super::*;

fn flip(c: u64, bits: &[u32]) -> u64 {
    bits.iter().fold(c, |acc, b| acc ^ (1 << b))
}

#[test]
fn any_window_pair_within_radius_joins_materials() {
    let a = 0x0123_4567_89AB_CDEFu64;
    let b = 0xFEDC_BA98_7654_3210u64;
    let codes = vec![
        vec![a, b],                  // 0
        vec![flip(b, &[1, 2, 3])],   // 1: near 0's second window
        vec![0x3C3C_3C3C_3C3C_3C3C], // 2: far from everything
        vec![flip(a, &[5]), 42],     // 3: near 0's first window
        vec![],                      // 4: no codes
    ];
    let quality = vec![80u8; 5];
    let g = group_assets(&codes, &quality, &GroupConfig::default()).expect("group");
    let ids: Vec<i64> = g.iter().map(|m| m.asset_id).collect();
    assert_eq!(ids, vec![0, 0, 2, 0, 4]);
    let dist: Vec<u32> = g.iter().map(|m| m.distance).collect();
    assert_eq!(dist, vec![0, 3, 0, 1, 0]);
    assert!(g.iter().all(|m| m.asset_id == m.representative as i64));
}

#[test]
fn chains_join_and_report_the_true_distance_to_the_representative() {
    // 0 ~ 1 ~ 2 with 6-bit steps: 0 and 2 are 12 apart yet one asset.
    let c0 = 0u64;
    let c1 = flip(c0, &[0, 1, 2, 3, 4, 5]);
    let c2 = flip(c1, &[10, 11, 12, 13, 14, 15]);
    let g = group_assets(
        &[vec![c2], vec![c1], vec![c0]],
        &[50, 50, 50],
        &GroupConfig::default(),
    )
    .expect("group");
    assert!(g.iter().all(|m| m.asset_id == 0));
    assert_eq!(
        g.iter().map(|m| m.distance).collect::<Vec<_>>(),
        vec![0, 6, 12]
    );
}

#[test]
fn low_quality_materials_never_match() {
    let codes = vec![vec![0u64], vec![0u64], vec![1u64]];
    let g = group_assets(&codes, &[0, 0, 90], &GroupConfig::default()).expect("group");
    assert_eq!(
        g.iter().map(|m| m.asset_id).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    let strict = GroupConfig {
        min_quality: 91,
        ..GroupConfig::default()
    };
    let g = group_assets(&[vec![7u64], vec![7u64]], &[90, 90], &strict).expect("group");
    assert_eq!(g[1].asset_id, 1);
}

#[test]
fn radius_is_respected_exactly() {
    let c = 0xAAAA_AAAA_AAAA_AAAAu64;
    let far = flip(c, &(0..9).collect::<Vec<_>>());
    let g = group_assets(&[vec![c], vec![far]], &[50, 50], &GroupConfig::default()).expect("group");
    assert_eq!(
        g[1].asset_id, 1,
        "9 bits is beyond the default radius of {DEFAULT_MAX_DISTANCE}"
    );
    let wide = GroupConfig {
        max_distance: 9,
        ..GroupConfig::default()
    };
    let g = group_assets(&[vec![c], vec![far]], &[50, 50], &wide).expect("group");
    assert_eq!((g[1].asset_id, g[1].distance), (0, 9));
}

#[test]
fn groups_equal_connected_components_of_brute_force_edges() {
    let mut rng = Rng(21);
    let n = 400;
    let centres: Vec<u64> = (0..40).map(|_| rng.next_u64()).collect();
    let codes: Vec<Vec<u64>> = (0..n)
        .map(|_| {
            (0..1 + rng.below(4))
                .map(|_| {
                    let mut c = centres[rng.below(40) as usize];
                    for _ in 0..rng.below(8) {
                        c ^= 1 << rng.below(64);
                    }
                    c
                })
                .collect()
        })
        .collect();
    let quality: Vec<u8> = (0..n).map(|i| if i % 17 == 0 { 0 } else { 60 }).collect();
    let cfg = GroupConfig::default();
    let g = group_assets(&codes, &quality, &cfg).expect("group");
    // Reference: label propagation over brute-force edges.
    let mut label: Vec<usize> = (0..n).collect();
    loop {
        let mut changed = false;
        for i in 0..n {
            for j in 0..n {
                let edge = i != j
                    && quality[i] >= cfg.min_quality
                    && quality[j] >= cfg.min_quality
                    && codes[i].iter().any(|a| {
                        codes[j]
                            .iter()
                            .any(|b| (a ^ b).count_ones() <= cfg.max_distance)
                    });
                if edge && label[j] < label[i] {
                    label[i] = label[j];
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    for i in 0..n {
        assert_eq!(g[i].asset_id, label[i] as i64, "material {i}");
    }
}

#[test]
fn mismatched_inputs_are_rejected() {
    let r = group_assets(&[vec![1u64]], &[], &GroupConfig::default());
    assert!(matches!(r, Err(crate::CoreError::InvalidInput(_))));
    assert_eq!(
        group_assets::<Vec<u64>>(&[], &[], &GroupConfig::default()).expect("empty"),
        vec![]
    );
}

#[test]
fn confirmation_rejects_collisions_of_the_primary_code_alone() {
    let a = 0x0F0F_F0F0_1234_5678u64;
    let codes = vec![vec![a], vec![flip(a, &[3, 9])], vec![flip(a, &[4])]];
    // Material 1's window agrees on the second code too; material 2's does not.
    let confirm = vec![vec![77u64], vec![flip(77, &[1, 2, 3, 4])], vec![!77u64]];
    let cfg = GroupConfig::default();
    let g = group_assets_confirmed(&codes, &confirm, &[50, 50, 50], &cfg).expect("group");
    assert_eq!(
        g.iter().map(|m| m.asset_id).collect::<Vec<_>>(),
        vec![0, 0, 2]
    );
    // Without confirmation all three are one asset.
    let g = group_assets(&codes, &[50, 50, 50], &cfg).expect("group");
    assert!(g.iter().all(|m| m.asset_id == 0));
    // The confirming radius is inclusive.
    let tight = GroupConfig {
        confirm_max_distance: 3,
        ..cfg
    };
    let g = group_assets_confirmed(&codes, &confirm, &[50, 50, 50], &tight).expect("group");
    assert_eq!(g[1].asset_id, 1);
}

#[test]
fn confirming_lists_must_align_with_the_codes() {
    let cfg = GroupConfig::default();
    let r = group_assets_confirmed(&[vec![1u64, 2]], &[vec![1u64]], &[10], &cfg);
    assert!(matches!(r, Err(crate::CoreError::InvalidInput(_))));
    let r = group_assets_confirmed(&[vec![1u64]], &[], &[10], &cfg);
    assert!(matches!(r, Err(crate::CoreError::InvalidInput(_))));
}

fn wp(window_a: u16, window_b: u16, mirrored: bool, distance: u32, confirm: u32) -> WindowPair {
    WindowPair {
        window_a,
        window_b,
        mirrored,
        distance,
        confirm_distance: confirm,
    }
}

#[test]
fn one_loose_window_pair_is_not_support_enough() {
    let rule = SupportRule::default();
    // One pair at the edge of both radii: the coincidence that merged assets.
    assert!(!rule.accepts(&[wp(3, 1, false, 8, 16)]));
    // The same pair seen again through mirrored windows is not new evidence.
    assert!(!rule.accepts(&[wp(3, 1, false, 6, 12), wp(3, 1, false, 6, 10)]));
    // Two distinct loose pairs without a close anchor: still no.
    assert!(!rule.accepts(&[wp(3, 1, false, 8, 16), wp(4, 2, false, 7, 14)]));
    assert!(!rule.accepts(&[]));
}

#[test]
fn two_distinct_pairs_with_an_anchor_or_one_near_exact_pair_match() {
    let rule = SupportRule::default();
    assert!(rule.accepts(&[wp(0, 0, false, 6, 12), wp(2, 2, false, 8, 16)]));
    // A mirrored edit: plain~mirror is distinct from plain~plain.
    assert!(rule.accepts(&[wp(0, 0, true, 5, 8), wp(0, 0, false, 8, 16)]));
    // A near-exact copy of one region suffices alone.
    assert!(rule.accepts(&[wp(7, 0, false, 3, 8)]));
    assert!(!rule.accepts(&[wp(7, 0, false, 4, 8)]));
    assert!(!rule.accepts(&[wp(7, 0, false, 3, 10)]));
    // Three required pairs.
    let three = SupportRule::with_min_pairs(3);
    assert!(!three.accepts(&[wp(0, 0, false, 5, 8), wp(1, 1, false, 5, 8)]));
    assert!(three.accepts(&[
        wp(0, 0, false, 5, 8),
        wp(1, 1, false, 5, 8),
        wp(1, 2, false, 8, 16)
    ]));
}

#[test]
fn the_single_rule_accepts_any_pair() {
    assert_eq!(SupportRule::with_min_pairs(1), SupportRule::SINGLE);
    assert_eq!(SupportRule::with_min_pairs(0), SupportRule::SINGLE);
    assert!(SupportRule::SINGLE.accepts(&[wp(1, 2, false, 64, 64)]));
    assert!(!SupportRule::SINGLE.accepts(&[]));
}

#[test]
fn support_rule_agrees_with_a_brute_force_reading_of_its_definition() {
    // Independent reference: enumerate the definition literally.
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |m: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % m
    };
    let rule = SupportRule::default();
    for _ in 0..2000 {
        let n = next(5) as usize;
        let pairs: Vec<WindowPair> = (0..n)
            .map(|_| {
                wp(
                    next(3) as u16,
                    next(3) as u16,
                    next(2) == 1,
                    next(9) as u32,
                    2 * next(9) as u32,
                )
            })
            .collect();
        let sure = pairs
            .iter()
            .any(|p| p.distance <= 3 && p.confirm_distance <= 8);
        let anchor = pairs
            .iter()
            .any(|p| p.distance <= 6 && p.confirm_distance <= 12);
        let mut distinct = 0;
        for (i, p) in pairs.iter().enumerate() {
            let seen = pairs[..i].iter().any(|q| {
                (q.window_a, q.window_b, q.mirrored) == (p.window_a, p.window_b, p.mirrored)
            });
            distinct += usize::from(!seen);
        }
        let expected = sure || (anchor && distinct >= 2);
        assert_eq!(rule.accepts(&pairs), expected, "{pairs:?}");
    }
}
