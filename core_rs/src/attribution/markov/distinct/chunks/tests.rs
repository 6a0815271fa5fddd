//! The chunked route and the string reader against the general ones: the
//! same codes, the same errors and the same results bit for bit.

use super::super::{markov_distinct_paths, short_key, DistinctPaths, DistinctPathsBuilder};
use super::*;
use crate::attribution::markov::weighted::{DenseTransitions, WeightedTransitions};
use crate::attribution::MarkovChain;

const COLS: [&str; 4] = ["path", "conv", "null", "value"];

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        ((self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) % n as u64) as usize
    }
}

/// `rows` random rows over `names`, joined by `sep`, with integer counts
/// (or quarter counts when `fractional`).
fn random_rows(
    seed: u64,
    rows: usize,
    names: &[&str],
    sep: &str,
    fractional: bool,
) -> Vec<(String, f64, f64, f64)> {
    let mut rng = Rng(seed | 1);
    (0..rows)
        .map(|_| {
            let len = 1 + rng.below(9);
            let path: Vec<&str> = (0..len).map(|_| names[rng.below(names.len())]).collect();
            let scale = if fractional { 0.25 } else { 1.0 };
            let c = rng.below(4) as f64 * scale;
            let z = (rng.below(5) + usize::from(c == 0.0)) as f64 * scale;
            (path.join(sep), c, z, c * 10.5 + rng.below(100) as f64 / 7.0)
        })
        .collect()
}

/// The old route: every row through `push`, one table, one solve.
fn general(rows: &[(String, f64, f64, f64)], sep: &str, order: usize) -> PathEffects {
    let mut b = DistinctPathsBuilder::new(true);
    for (i, (p, c, z, v)) in rows.iter().enumerate() {
        b.push(i, p.split(sep), *c, *z, Some(*v), COLS).unwrap();
    }
    markov_distinct_paths(&b.finish().unwrap(), order, 5000).unwrap()
}

/// Rows `lo..hi` read with `push_joined` from one buffer of all the paths.
fn joined_builder(
    rows: &[(String, f64, f64, f64)],
    sep: &str,
    lo: usize,
    hi: usize,
) -> CoreResult<DistinctPathsBuilder> {
    let data: String = rows.iter().map(|r| r.0.as_str()).collect();
    let mut start: usize = rows[..lo].iter().map(|r| r.0.len()).sum();
    let mut b = DistinctPathsBuilder::new(true);
    for (i, (p, c, z, v)) in rows.iter().enumerate().take(hi).skip(lo) {
        b.push_joined(i, p, data.as_bytes(), start, sep, *c, *z, Some(*v), COLS)?;
        start += p.len();
    }
    Ok(b)
}

/// The new route: chunks of `PATH_CHUNK` rows, counted, then joined.
fn chunked(rows: &[(String, f64, f64, f64)], sep: &str, order: usize) -> Option<PathEffects> {
    let chunks: Vec<CountedChunk> = (0..rows.len())
        .step_by(PATH_CHUNK)
        .map(|lo| {
            let b = joined_builder(rows, sep, lo, (lo + PATH_CHUNK).min(rows.len())).unwrap();
            CountedChunk::count(b, order)
        })
        .collect::<Option<_>>()?;
    effects_from_chunks(&chunks, true, order, 5000).unwrap()
}

#[test]
fn chunked_route_equals_the_general_one_bit_for_bit() {
    let names = [
        "paid",
        "kol",
        "organic",
        "x",
        "search engine",
        "crm",
        "live-stream-room",
    ];
    // Three chunks, the last one partial; integer and fractional counts.
    let n = 2 * PATH_CHUNK + 123;
    for (seed, sep, fractional) in [(7, ">", false), (11, " > ", true), (13, "::", false)] {
        let rows = random_rows(seed, n, &names, sep, fractional);
        for order in 1..=3 {
            let want = general(&rows, sep, order);
            let got = chunked(&rows, sep, order).expect("dense route");
            assert_eq!(got, want, "sep {sep:?} order {order}");
        }
    }
}

#[test]
fn too_many_channels_leave_the_dense_route() {
    let names: Vec<String> = (0..70).map(|i| format!("c{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    // One chunk with 70 channels: the chunk declines.
    let rows = random_rows(3, 2000, &refs, ">", false);
    let b = joined_builder(&rows, ">", 0, rows.len()).unwrap();
    assert!(CountedChunk::count(b, 1).is_none());
    // Chunks of 40 channels each, 70 in all: the join declines.
    let mut rows = random_rows(5, PATH_CHUNK, &refs[..40], ">", false);
    rows.extend(random_rows(9, 10, &refs[30..], ">", false));
    assert!(chunked(&rows, ">", 1).is_none());
    // Order 3 with 20 channels does not fit a dense table.
    let rows = random_rows(5, 500, &refs[..20], ">", false);
    assert!(chunked(&rows, ">", 3).is_none());
    assert!(chunked(&rows, ">", 1).is_some());
}

/// Both readers' tables (or both errors) for the same rows.
fn both(
    rows: &[(String, f64, f64, f64)],
    sep: &str,
) -> (CoreResult<DistinctPaths>, CoreResult<DistinctPaths>) {
    let mut split = DistinctPathsBuilder::new(true);
    let general = rows
        .iter()
        .enumerate()
        .try_for_each(|(i, (p, c, z, v))| split.push(i, p.split(sep), *c, *z, Some(*v), COLS))
        .and_then(|_| split.finish());
    let joined = joined_builder(rows, sep, 0, rows.len()).and_then(DistinctPathsBuilder::finish);
    (general, joined)
}

#[test]
fn the_string_reader_gives_the_same_codes_and_errors() {
    let row = |p: &str| (p.to_string(), 1.0, 0.0, 2.0);
    let tricky = [
        "a> b >c",
        " paid>kol ",
        "exactly8>x",
        "longer than eight>a",
        "é>ü>a",
        "a>\tb",
        "a",
        "kol>kol>kol",
        "a>b>c>d>e>f>g>h>i",
    ];
    for sep in [">", " > ", "->"] {
        let rows: Vec<_> = tricky.iter().map(|p| row(&p.replace('>', sep))).collect();
        let (a, b) = both(&rows, sep);
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            (&a.channels, &a.codes, &a.offsets),
            (&b.channels, &b.codes, &b.offsets),
            "{sep:?}"
        );
        assert_eq!(
            (&a.conversions, &a.nulls, &a.values),
            (&b.conversions, &b.nulls, &b.values)
        );
    }
    for bad in ["a>>b", "a>", ">a", " ", "", "a> >b"] {
        let rows = vec![row("a>b"), row(bad)];
        let (a, b) = both(&rows, ">");
        let (a, b) = (a.unwrap_err().to_string(), b.unwrap_err().to_string());
        assert_eq!(a, b, "{bad:?}");
        assert!(a.contains("'path' row 1"), "{a}");
    }
    let mut negative = vec![row("a>b")];
    negative[0].2 = -1.0;
    let (a, b) = both(&negative, ">");
    assert_eq!(a.unwrap_err().to_string(), b.unwrap_err().to_string());
}

#[test]
fn many_short_names_are_coded_alike() {
    // More short names than the short-name table keeps.
    let names: Vec<String> = (0..300).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let rows = random_rows(21, 3000, &refs, ">", false);
    let (a, b) = both(&rows, ">");
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.channels.len(), 300);
    assert_eq!((a.channels, a.codes), (b.channels, b.codes));
}

#[test]
fn short_keys_are_the_zero_padded_bytes() {
    for name in [
        "a",
        "ab",
        "abc",
        "abcd",
        "abcde",
        "abcdef",
        "abcdefg",
        "abcdefgh",
        "abcdefghij",
        "é",
        "a\0",
    ] {
        let b = name.as_bytes();
        let mut buf = [0u8; 8];
        buf[..b.len().min(8)].copy_from_slice(&b[..b.len().min(8)]);
        assert_eq!(
            short_key(name),
            (b.len(), u64::from_le_bytes(buf)),
            "{name:?}"
        );
    }
}

#[test]
fn dense_weights_equal_hashed_weights_on_random_paths() {
    let mut rng = Rng(99);
    for order in 1..=3 {
        let channels = 5;
        let mut hashed = WeightedTransitions::new(order);
        let mut dense = DenseTransitions::new(order, channels).unwrap();
        for _ in 0..500 {
            let path: Vec<u32> = (0..1 + rng.below(8))
                .map(|_| rng.below(channels) as u32)
                .collect();
            let (c, z) = (rng.below(3) as f64 * 0.5, rng.below(3) as f64);
            hashed.add_path(path.iter().copied(), c, z);
            dense.add_path(path.iter().copied(), c, z);
        }
        let a = MarkovChain::from_weighted(&hashed);
        let b = MarkovChain::from_weighted(&dense.into_weighted());
        assert_eq!(
            (a.states, a.rows, a.conv),
            (b.states, b.rows, b.conv),
            "order {order}"
        );
    }
}
