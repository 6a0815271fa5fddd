//! A soft creative in a short-video cover (darkened blurred letterbox,
//! title and account bands) is trimmed to the creative, and the cover crops
//! of that content match a cropped edit of the same creative.

use super::*;

/// A designed creative with little texture: pale waves, a few flat
/// shapes and a block of dark "words" (no noise, so neighbour differences
/// are as small in it as in a blurred copy).
fn soft_creative(s: usize) -> Rgb {
    let mut img = Rgb::filled(s, s, [0, 0, 0]);
    for y in 0..s {
        for x in 0..s {
            let (u, v) = (x as f32 / s as f32, y as f32 / s as f32);
            // Gentle waves across both axes: no line is uniform, yet
            // neighbours differ by well under a level.
            let wave = 25.0 * (6.0 * u + 3.0 * v).sin() + 15.0 * (4.0 * v - 2.0 * u).cos();
            let c = |base: f32, k: f32| (base - 40.0 * v + k * wave).clamp(0.0, 255.0) as u8;
            img.set(x, y, [c(205.0, 1.0), c(195.0, 0.8), c(235.0, 0.5)]);
        }
    }
    img.fill_rect(s * 3 / 5, s / 5, s / 6, s / 2, [150, 110, 190]);
    img.fill_rect(s * 9 / 20, s * 7 / 10, s / 2, s / 10, [90, 200, 130]);
    img.fill_rect(s / 10, s / 2, s / 4, s / 12, [60, 170, 120]);
    // A thin decorative rule down the left and a price line at the bottom.
    img.fill_rect(s / 30, s / 10, s / 60 + 1, s * 8 / 10, [120, 90, 170]);
    img.fill_rect(s / 10, s * 17 / 20, s / 4, s / 25, [40, 40, 60]);
    for line in 0..3 {
        let y = s / 6 + line * s / 12;
        let mut x = s / 12;
        for word in 0..3 {
            let w = s / 14 + (word * 7 + line * 3) % 5;
            img.fill_rect(x, y, w, s / 30 + 1, [40, 40, 60]);
            x += w + s / 30;
        }
    }
    img
}

/// The short-video cover of `orig` (square): 9:16 canvas, darkened blurred
/// letterbox, a title band on top and an account band at the bottom.
fn video_cover(orig: &Rgb) -> Rgb {
    let (cw, ch) = (orig.w, orig.w * 16 / 9);
    let mut img = orig.blur_pad(cw, ch);
    let y0 = (ch - orig.h) / 2;
    for y in (0..y0).chain(y0 + orig.h..ch) {
        for x in 0..cw {
            let p = img.get(x, y);
            img.set(x, y, p.map(|v| (v as f32 * 0.75) as u8));
        }
    }
    for (top, h) in [(0, ch * 8 / 100), (ch - ch * 7 / 100, ch * 7 / 100)] {
        img.fill_rect(0, top, cw, h, [35, 35, 45]);
        for i in 0..4 {
            img.fill_rect(
                cw / 3 + i * cw / 12,
                top + h / 3,
                cw / 20,
                h / 3,
                [240, 240, 240],
            );
        }
    }
    img
}

#[test]
fn a_blurred_letterbox_around_a_soft_creative_is_trimmed() {
    let orig = soft_creative(240);
    let cover = video_cover(&orig);
    let f = fp(&encode_jpeg(&cover, 85));
    let y0 = ((cover.h - orig.h) / 2) as f32;
    let c = f.content;
    assert!(
        (c.y - y0).abs() <= 10.0
            && (c.h - orig.h as f32).abs() <= 16.0
            && c.w >= 0.95 * orig.w as f32,
        "content {c:?}, creative at y {y0} height {}",
        orig.h
    );
}

#[test]
fn a_letterboxed_cover_matches_a_cropped_edit_through_its_trimmed_cover_crop() {
    let orig = soft_creative(240);
    let cover = fp(&encode_jpeg(&video_cover(&orig), 85));
    // The 3:4 note cover of the same creative, re-encoded at another size.
    let note = fp(&encode_webp(&orig.cover(0.75).resize(300, 400)));
    let window = Window {
        kind: WindowKind::TrimCover3x4,
        mirrored: false,
    };
    let dist = |alg| match (cover.code(alg, window), note.code(alg, Window::FULL)) {
        (Some(HashCode::Bits64(a)), Some(HashCode::Bits64(b))) => hamming64(a, b),
        other => panic!("missing codes {other:?}"),
    };
    let (d, p) = (dist(Algorithm::Dhash64), dist(Algorithm::Phash64));
    assert!(d <= 3 && p <= 8, "dHash {d}, pHash {p}");
    // The full-canvas windows alone do not get there.
    let full_only: Vec<u64> = cover
        .hashes
        .iter()
        .filter(|h| {
            h.algorithm == Algorithm::Dhash64
                && !matches!(
                    h.window.kind,
                    WindowKind::TrimCover1x1
                        | WindowKind::TrimCover3x4
                        | WindowKind::TrimCover9x16
                        | WindowKind::TrimCover16x9
                )
        })
        .filter_map(|h| h.code.as_u64())
        .collect();
    let note_codes = note.codes64(Algorithm::Dhash64);
    let best = full_only
        .iter()
        .flat_map(|a| note_codes.iter().map(move |b| hamming64(*a, *b)))
        .min()
        .unwrap_or(64);
    assert!(best > 3, "an untrimmed window already matched at {best}");
}

#[test]
fn trimmed_cover_crops_need_centred_content() {
    // A solid band on one side only: trimmed, but not a letterbox.
    let orig = soft_creative(240);
    let mut img = Rgb::filled(240, 300, [10, 10, 10]);
    img.paste(&orig, 0, 60);
    let f = fp(&encode_png(&img));
    assert!(f.content.y >= 50.0, "{:?}", f.content);
    assert!(
        f.hashes.iter().all(|h| !matches!(
            h.window.kind,
            WindowKind::TrimCover1x1
                | WindowKind::TrimCover3x4
                | WindowKind::TrimCover9x16
                | WindowKind::TrimCover16x9
        )),
        "one-sided trim got trimmed cover crops"
    );
    // Centred in a solid letterbox, the cover crops are there.
    let boxed = fp(&encode_png(&orig.letterbox(240, 426, [10, 10, 10])));
    assert!(boxed
        .hashes
        .iter()
        .any(|h| h.window.kind == WindowKind::TrimCover3x4));
}
