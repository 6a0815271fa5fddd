//! Edited copies match their original through the window scheme; different
//! creatives do not; grouping turns that into assets.

use super::*;
use crate::hamming_index::{
    group_assets, group_assets_confirmed, GroupConfig, DEFAULT_MAX_DISTANCE,
};

/// Every platform edit of the test corpus, by name. Canvas sizes follow the
/// original's short side so the corpus stays small.
pub(crate) fn edits(orig: &Rgb) -> Vec<(&'static str, Vec<u8>)> {
    let (w, h) = (orig.w, orig.h);
    let s = w.min(h);
    let tall = (s, s * 16 / 9);
    vec![
        ("reencode_q60", encode_jpeg(orig, 60)),
        (
            "resize_half_png",
            encode_png(&orig.resize(w * 2 / 3, h * 2 / 3)),
        ),
        (
            "resize_up_webp",
            encode_webp(&orig.resize(w * 5 / 4, h * 5 / 4)),
        ),
        (
            "letterbox_9x16_black",
            encode_jpeg(&orig.letterbox(tall.0, tall.1, [0, 0, 0]), 80),
        ),
        (
            "letterbox_1x1_white",
            encode_jpeg(&orig.letterbox(s * 4 / 3, s * 4 / 3, [255, 255, 255]), 85),
        ),
        (
            "blur_pad_9x16",
            encode_jpeg(&orig.blur_pad(tall.0, tall.1), 85),
        ),
        (
            "frame",
            encode_jpeg(&orig.framed(s / 25, [240, 240, 240]), 85),
        ),
        ("crop10", encode_jpeg(&orig.centre_crop(0.9), 85)),
        ("crop20", encode_jpeg(&orig.centre_crop(0.8), 85)),
        ("cover1x1", encode_jpeg(&orig.cover(1.0), 85)),
        ("cover9x16", encode_jpeg(&orig.cover(9.0 / 16.0), 85)),
        ("mirror", encode_jpeg(&orig.mirror(), 85)),
        (
            "mirror_crop10",
            encode_jpeg(&orig.mirror().centre_crop(0.9), 85),
        ),
        ("logo", encode_jpeg(&orig.with_logo(0.15), 85)),
        ("price_band", encode_jpeg(&orig.with_price_band(0.10), 85)),
        (
            "cover1x1_blur_pad_9x16",
            encode_jpeg(&orig.cover(1.0).blur_pad(tall.0, tall.1), 85),
        ),
        ("rotate2", encode_jpeg(&orig.rotate(2.0), 85)),
    ]
}

/// The test corpus: originals of mixed aspect ratios (short side 150 px,
/// decoded at 1/2 scale: the DCT-scaling path).
pub(crate) fn originals(n: u64) -> Vec<Rgb> {
    (0..n)
        .map(|s| match s % 3 {
            0 => creative(s + 1, 200, 150),
            1 => creative(s + 1, 150, 200),
            _ => creative(s + 1, 176, 176),
        })
        .collect()
}

/// Geometric edits: the ones a plain full-image hash cannot see through.
const GEOMETRIC: [&str; 9] = [
    "letterbox_9x16_black",
    "letterbox_1x1_white",
    "blur_pad_9x16",
    "crop20",
    "cover1x1",
    "cover9x16",
    "mirror",
    "mirror_crop10",
    "cover1x1_blur_pad_9x16",
];

struct Corpus {
    originals: Vec<Fingerprint>,
    /// (original index, edit name, fingerprint)
    edits: Vec<(usize, &'static str, Fingerprint)>,
}

fn corpus() -> &'static Corpus {
    static C: std::sync::OnceLock<Corpus> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let origs = originals(4);
        let originals = origs.iter().map(|o| fp(&encode_jpeg(o, 92))).collect();
        let edits = origs
            .iter()
            .enumerate()
            .flat_map(|(i, o)| {
                edits(o)
                    .into_iter()
                    .map(move |(name, bytes)| (i, name, fp(&bytes)))
            })
            .collect();
        Corpus { originals, edits }
    })
}

#[test]
fn every_edit_matches_its_original_through_some_window() {
    let c = corpus();
    for (i, name, e) in &c.edits {
        let d = window_distance(&c.originals[*i], e);
        assert!(
            d <= DEFAULT_MAX_DISTANCE,
            "original {i}, edit {name}: window distance {d}"
        );
    }
}

#[test]
fn different_creatives_do_not_match() {
    let c = corpus();
    for i in 0..c.originals.len() {
        for j in i + 1..c.originals.len() {
            let d = window_distance(&c.originals[i], &c.originals[j]);
            assert!(
                d > DEFAULT_MAX_DISTANCE + 2,
                "originals {i} and {j}: distance {d}"
            );
        }
    }
    // Nor does any edit of one creative match another creative.
    for (i, name, e) in &c.edits {
        for (j, o) in c.originals.iter().enumerate().filter(|(j, _)| j != i) {
            let d = window_distance(o, e);
            assert!(
                d > DEFAULT_MAX_DISTANCE,
                "edit {name} of {i} vs original {j}: distance {d}"
            );
        }
    }
}

#[test]
fn plain_full_image_dhash_misses_most_geometric_edits() {
    // The reason for the window scheme: without it most pads, crops and
    // mirrors are out of reach.
    let c = corpus();
    let (mut missed, mut total) = (0, 0);
    for (i, name, e) in c.edits.iter().filter(|(_, n, _)| GEOMETRIC.contains(n)) {
        let full = |f: &Fingerprint| match f.code(Algorithm::Dhash64, Window::FULL) {
            Some(HashCode::Bits64(v)) => v,
            other => panic!("edit {name}: no full dhash ({other:?})"),
        };
        total += 1;
        missed += (hamming64(full(&c.originals[*i]), full(e)) > DEFAULT_MAX_DISTANCE) as usize;
    }
    assert!(
        missed * 2 > total,
        "plain dHash missed only {missed} of {total}"
    );
}

#[test]
fn group_assets_recovers_the_creatives() {
    let c = corpus();
    let mut all: Vec<(&Fingerprint, usize)> = c
        .originals
        .iter()
        .enumerate()
        .map(|(i, f)| (f, i))
        .collect();
    all.extend(c.edits.iter().map(|(i, _, e)| (e, *i)));
    // Two flat images (quality 0) that hash alike must stay apart.
    let flats: Vec<Fingerprint> = [90u8, 180]
        .iter()
        .map(|&v| fp(&encode_png(&Rgb::filled(120, 90, [v, v, 60]))))
        .collect();
    for (k, f) in flats.iter().enumerate() {
        assert_eq!(f.quality, 0);
        all.push((f, usize::MAX - k));
    }
    let truth: Vec<usize> = all.iter().map(|(_, t)| *t).collect();
    let quality: Vec<u8> = all.iter().map(|(f, _)| f.quality).collect();
    let dhash: Vec<Vec<u64>> = all
        .iter()
        .map(|(f, _)| f.codes64(Algorithm::Dhash64))
        .collect();
    let (primary, confirm): (Vec<Vec<u64>>, Vec<Vec<u64>>) = all
        .iter()
        .map(|(f, _)| f.paired_codes64(Algorithm::Dhash64, Algorithm::Phash64))
        .unzip();
    assert_eq!(primary, dhash, "every dHash window also has a pHash");
    let cfg = GroupConfig::default();
    for groups in [
        group_assets(&dhash, &quality, &cfg).expect("grouping"),
        group_assets_confirmed(&primary, &confirm, &quality, &cfg).expect("grouping"),
    ] {
        for (k, g) in groups.iter().enumerate() {
            let expected_rep = truth.iter().position(|t| *t == truth[k]).expect("present");
            assert_eq!(g.representative as usize, expected_rep, "material {k}");
            assert_eq!(g.asset_id, expected_rep as i64);
            if expected_rep == k {
                assert_eq!(g.distance, 0);
            } else {
                assert!(
                    g.distance <= DEFAULT_MAX_DISTANCE,
                    "material {k}: distance {}",
                    g.distance
                );
            }
        }
    }
}

#[test]
fn fingerprints_are_deterministic_and_batch_keeps_order() {
    let o = creative(7, 160, 120);
    let good = encode_jpeg(&o, 90);
    let png = encode_png(&o);
    let items: Vec<&[u8]> = vec![&good, b"not an image", &png, &[]];
    let out = fingerprint_batch(&items, &FingerprintConfig::default());
    assert_eq!(out.len(), 4);
    assert_eq!(out[0].as_ref().expect("jpeg"), &fp(&good));
    assert!(matches!(out[1], Err(crate::CoreError::InvalidInput(_))));
    assert_eq!(out[2].as_ref().expect("png").format, Some(ImageFormat::Png));
    assert!(matches!(out[3], Err(crate::CoreError::InvalidInput(_))));
}
