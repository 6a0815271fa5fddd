//! Distinct-path tables against the chain of listed paths, and bad rows.

use super::*;
use crate::attribution::MarkovChain;

const COLS: [&str; 4] = ["path", "conv", "null", "value"];

fn table(rows: &[(&str, f64, f64)]) -> DistinctPaths {
    let mut b = DistinctPathsBuilder::new(true);
    for (i, &(p, c, z)) in rows.iter().enumerate() {
        b.push(i, p.split('>'), c, z, Some(10.0 * c), COLS).unwrap();
    }
    b.finish().unwrap()
}

#[test]
fn integer_weights_give_the_chain_of_the_listed_paths() {
    let rows = [
        ("b>a>a>c", 2.0, 1.0),
        ("a", 0.0, 3.0),
        ("c>b", 1.0, 0.0),
        ("a>c>b>a", 1.0, 2.0),
    ];
    let t = table(&rows);
    for order in 1..=3 {
        let mut listed: Vec<(Vec<u32>, bool)> = Vec::new();
        for i in 0..t.len() {
            for _ in 0..t.conversions[i] as usize {
                listed.push((t.path(i).to_vec(), true));
            }
            for _ in 0..t.nulls[i] as usize {
                listed.push((t.path(i).to_vec(), false));
            }
        }
        let chain =
            MarkovChain::from_paths(order, listed.iter().map(|(p, c)| (p.as_slice(), *c))).unwrap();
        let got = markov_distinct_paths(&t, order, 2000).unwrap();
        let want: Vec<f64> = chain
            .removal_effects()
            .unwrap()
            .into_iter()
            .map(|e| e.1)
            .collect();
        assert_eq!(got.removal_effects, want, "order {order}");
        let credited: f64 = got.path_conversions.iter().sum();
        assert!((credited - 4.0).abs() < 1e-12);
        assert!((got.conversions.iter().sum::<f64>() - 4.0).abs() < 1e-12);
    }
}

#[test]
fn appended_chunks_equal_one_builder() {
    let rows = [("c>a", 1.0, 0.0), ("b>c", 0.0, 2.0), ("a>d>b", 3.0, 1.0)];
    let whole = table(&rows);
    let mut first = DistinctPathsBuilder::new(true);
    let mut second = DistinctPathsBuilder::new(true);
    for (i, &(p, c, z)) in rows.iter().enumerate() {
        let b = if i == 0 { &mut first } else { &mut second };
        b.push(i, p.split('>'), c, z, Some(10.0 * c), COLS).unwrap();
    }
    first.append(second);
    let joined = first.finish().unwrap();
    assert_eq!(
        (joined.channels.clone(), joined.codes.clone()),
        (whole.channels.clone(), whole.codes.clone())
    );
    assert_eq!(
        (joined.offsets, joined.values),
        (whole.offsets, whole.values)
    );
}

#[test]
fn dense_and_hashed_weights_are_the_same() {
    let rows = [
        ("b>a>a>c", 2.5, 1.0),
        ("a", 0.0, 3.0),
        ("c>b>d", 1.0, 0.25),
        ("a>c>b>a", 1.0, 2.0),
    ];
    let t = table(&rows);
    for order in 1..=3 {
        let mut hashed = WeightedTransitions::new(order);
        let mut dense = DenseTransitions::new(order, t.channels.len()).unwrap();
        for i in 0..t.len() {
            hashed.add_path(t.path(i).iter().copied(), t.conversions[i], t.nulls[i]);
            dense.add_path(t.path(i).iter().copied(), t.conversions[i], t.nulls[i]);
        }
        let a = MarkovChain::from_weighted(&hashed)
            .removal_effects()
            .unwrap();
        let b = MarkovChain::from_weighted(&dense.into_weighted())
            .removal_effects()
            .unwrap();
        assert_eq!(a, b, "order {order}");
    }
    assert!(DenseTransitions::new(3, 200).is_none());
}

#[test]
fn channels_are_numbered_by_name() {
    let t = table(&[("z>m", 1.0, 0.0), ("a", 0.0, 1.0)]);
    assert_eq!(t.channels, ["a", "m", "z"]);
    assert_eq!(t.path(0), [2, 1]);
}

#[test]
fn bad_rows_name_column_and_row() {
    let mut b = DistinctPathsBuilder::new(false);
    let err = b.push(4, " ".split('>'), 1.0, 0.0, None, COLS).unwrap_err();
    assert!(err.to_string().contains("'path' row 4"), "{err}");
    let err = b
        .push(5, "a".split('>'), -1.0, 0.0, None, COLS)
        .unwrap_err();
    assert!(err.to_string().contains("'conv' row 5"), "{err}");
    let err = b
        .push(6, "a".split('>'), 1.0, f64::NAN, None, COLS)
        .unwrap_err();
    assert!(err.to_string().contains("'null' row 6"), "{err}");
    assert!(b.finish().unwrap().is_empty());
    assert!(markov_distinct_paths(&table(&[("a", 1.0, 0.0)]), 4, 10).is_err());
}
