//! Exact radius search: equal to brute force on random and clustered data,
//! through every entry point.

use super::*;

#[test]
fn search_64_equals_brute_force() {
    for seed in 0..12u64 {
        let mut rng = Rng(seed);
        let n = [0usize, 1, 7, 300, 2_000, 6_000][seed as usize % 6];
        let clustered = seed % 2 == 1;
        let data = codes::<1>(&mut rng, n, clustered);
        let mut queries = codes::<1>(&mut rng, 150, clustered);
        // Queries that are exactly indexed codes, or one bit away.
        queries.extend(
            data.iter()
                .take(50)
                .enumerate()
                .map(|(i, c)| [c[0] ^ ((i % 2) as u64)]),
        );
        let flat: Vec<u64> = data.iter().map(|c| c[0]).collect();
        let index = HashIndex::build_64(&flat).expect("build");
        assert_eq!(index.len(), n);
        let q: Vec<u64> = queries.iter().map(|c| c[0]).collect();
        for r in [0u32, 1, 2, 3, 5, 8, 10, 12, 16, 24, 64] {
            let got = index.search_64(&q, r).expect("search");
            assert_eq!(
                got,
                brute_force(&data, &queries, r),
                "seed {seed}, n {n}, r {r}"
            );
        }
    }
}

#[test]
fn search_256_equals_brute_force() {
    for seed in 0..6u64 {
        let mut rng = Rng(100 + seed);
        let n = [5usize, 400, 3_000][seed as usize % 3];
        let clustered = seed % 2 == 0;
        let data = codes::<4>(&mut rng, n, clustered);
        let mut queries = codes::<4>(&mut rng, 60, clustered);
        queries.extend(data.iter().take(20).copied());
        let bytes: Vec<[u8; 32]> = data.iter().map(to_bytes256).collect();
        let index = HashIndex::build_256(&bytes).expect("build");
        let q: Vec<[u8; 32]> = queries.iter().map(to_bytes256).collect();
        for r in [0u32, 4, 12, 20, 31, 48, 256] {
            let got = index.search_256(&q, r).expect("search");
            assert_eq!(
                got,
                brute_force(&data, &queries, r),
                "seed {seed}, n {n}, r {r}"
            );
        }
    }
}

#[test]
fn the_multi_index_path_is_taken_where_it_pays() {
    let mut rng = Rng(7);
    let data = codes::<1>(&mut rng, 50_000, false);
    let index = mih::Mih::build(data.clone());
    assert!(
        !index.is_scan(8),
        "radius 8 over 50k codes should probe, not scan"
    );
    assert!(index.is_scan(40), "radius 40 should scan");
    // And the probing path is exact on this size too.
    let queries = codes::<1>(&mut rng, 40, false);
    let mut with_neighbours = queries.clone();
    with_neighbours.extend(data.iter().step_by(5_000).map(|c| [c[0] ^ 0b1011_0001]));
    let flat: Vec<u64> = data.iter().map(|c| c[0]).collect();
    let hi = HashIndex::build_64(&flat).expect("build");
    let q: Vec<u64> = with_neighbours.iter().map(|c| c[0]).collect();
    let got = hi.search_64(&q, 8).expect("search");
    assert_eq!(got, brute_force(&data, &with_neighbours, 8));
    assert!(got.len() >= 10);
}

#[test]
fn byte_entry_points_agree_with_typed_ones() {
    let mut rng = Rng(9);
    let data = codes::<1>(&mut rng, 500, true);
    let flat: Vec<u64> = data.iter().map(|c| c[0]).collect();
    let bytes: Vec<u8> = flat.iter().flat_map(|c| c.to_be_bytes()).collect();
    let a = HashIndex::build_64(&flat).expect("build");
    let b = HashIndex::from_bytes(&bytes, 64).expect("build");
    assert_eq!(b.bits(), 64);
    assert_eq!(
        a.search_64(&flat[..30], 6).expect("search"),
        b.search_bytes(&bytes[..240], 6).expect("search")
    );
    let data = codes::<4>(&mut rng, 200, true);
    let typed: Vec<[u8; 32]> = data.iter().map(to_bytes256).collect();
    let bytes: Vec<u8> = typed.iter().flatten().copied().collect();
    let a = HashIndex::build_256(&typed).expect("build");
    let b = HashIndex::from_bytes(&bytes, 256).expect("build");
    assert_eq!(b.bits(), 256);
    assert_eq!(
        a.search_256(&typed[..10], 20).expect("search"),
        b.search_bytes(&bytes[..320], 20).expect("search")
    );
}

#[test]
fn invalid_arguments_are_reported() {
    assert!(matches!(
        HashIndex::from_bytes(&[0; 9], 64),
        Err(crate::CoreError::InvalidInput(_))
    ));
    assert!(matches!(
        HashIndex::from_bytes(&[0; 16], 128),
        Err(crate::CoreError::InvalidInput(_))
    ));
    let i64 = HashIndex::build_64(&[1, 2, 3]).expect("build");
    assert!(i64.search_256(&[[0; 32]], 3).is_err());
    assert!(i64.search_bytes(&[0; 7], 3).is_err());
    let i256 = HashIndex::build_256(&[[0; 32]]).expect("build");
    assert!(i256.search_64(&[0], 3).is_err());
    assert!(HashIndex::build_64(&[]).expect("build").is_empty());
    assert_eq!(
        HashIndex::build_64(&[])
            .expect("build")
            .search_64(&[5], 64)
            .expect("search"),
        vec![]
    );
}

#[test]
fn output_is_sorted_and_complete_for_duplicates() {
    let codes = [5u64, 5, 4, 7, 5, 1 << 40];
    let index = HashIndex::build_64(&codes).expect("build");
    let got = index.search_64(&[5, 1 << 40], 1).expect("search");
    let rows: Vec<(u32, u32, u32)> = got
        .iter()
        .map(|m| (m.query_row, m.distance, m.match_row))
        .collect();
    assert_eq!(
        rows,
        vec![
            (0, 0, 0),
            (0, 0, 1),
            (0, 0, 4),
            (0, 1, 2),
            (0, 1, 3),
            (1, 0, 5)
        ]
    );
}
