//! Trimming of pads, frames and blurred bands; the window set; the quality
//! gate and the fingerprint's shape.

use super::*;

/// A busy texture (no flat stretch anywhere).
fn busy(seed: u64, w: usize, h: usize) -> Rgb {
    let mut rng = Rng(seed);
    let mut img = creative(seed, w, h);
    for v in img.px.iter_mut() {
        *v = (*v as u64 / 2 + rng.below(128)) as u8;
    }
    img
}

fn trimmed(img: &Rgb) -> Trim {
    trim_content(&img.luma(), &TrimConfig::default())
}

fn close(r: Rect, x: f32, y: f32, w: f32, h: f32, tol: f32) -> bool {
    r.near(&Rect { x, y, w, h }, tol)
}

#[test]
fn busy_images_are_not_trimmed() {
    for seed in 1..5 {
        let img = busy(seed, 120, 90);
        assert_eq!(
            trimmed(&img).rect,
            Rect {
                x: 0.0,
                y: 0.0,
                w: 120.0,
                h: 90.0
            },
            "seed {seed}"
        );
    }
}

#[test]
fn solid_letterbox_and_pillarbox_pads_are_removed() {
    let content = busy(5, 96, 72);
    let t = trimmed(&content.letterbox(96, 170, [0, 0, 0]));
    assert!(close(t.rect, 0.0, 49.0, 96.0, 72.0, 1.0), "{:?}", t.rect);
    let t = trimmed(&content.letterbox(200, 72, [250, 250, 250]));
    assert!(close(t.rect, 52.0, 0.0, 96.0, 72.0, 1.0), "{:?}", t.rect);
}

#[test]
fn frames_are_removed_on_all_sides() {
    let t = trimmed(&busy(6, 80, 60).framed(6, [200, 30, 30]));
    assert!(close(t.rect, 6.0, 6.0, 80.0, 60.0, 0.5), "{:?}", t.rect);
    // A frame inside a letterbox goes too.
    let t = trimmed(
        &busy(6, 80, 60)
            .framed(4, [255, 255, 255])
            .letterbox(88, 150, [0, 0, 0]),
    );
    assert!(
        close(t.rect, 4.0, 41.0 + 4.0, 80.0, 60.0, 1.0),
        "{:?}",
        t.rect
    );
}

#[test]
fn captions_inside_a_pad_do_not_stop_the_trim() {
    let mut img = busy(7, 90, 68).letterbox(90, 160, [0, 0, 0]);
    // A line of white "words" in the top pad.
    for x in (10..80).step_by(9) {
        img.fill_rect(x, 20, 6, 5, [255, 255, 255]);
    }
    let t = trimmed(&img);
    assert!(close(t.rect, 0.0, 46.0, 90.0, 68.0, 1.0), "{:?}", t.rect);
}

#[test]
fn blurred_background_pads_are_removed() {
    let content = busy(8, 120, 90);
    let t = trimmed(&content.blur_pad(90, 160));
    // Content fitted to 90 x 67 at y = 46.
    assert!(close(t.rect, 0.0, 46.0, 90.0, 67.0, 2.0), "{:?}", t.rect);
    assert!(t.blurred[0] > 0 && t.blurred[1] > 0);
}

#[test]
fn low_texture_bands_of_odd_proportions_are_kept() {
    // Smooth bands top and bottom, but removing them would leave a 120 x 40
    // strip (3:1), no format anyone publishes: it is content, not a pad.
    let mut img = busy(9, 120, 80);
    for y in (0..20).chain(60..80) {
        for x in 0..120 {
            let v = (x + y) as u8;
            img.set(x, y, [v, v / 2 + 60, 200 - v]);
        }
    }
    assert_eq!(trimmed(&img).blurred, [0, 0, 0, 0]);
}

#[test]
fn trimming_keeps_a_minimum_of_each_side() {
    let mut img = Rgb::filled(100, 100, [0, 0, 0]);
    img.fill_rect(48, 48, 4, 4, [255, 255, 255]);
    let r = trimmed(&img).rect;
    assert!(r.w >= 25.0 && r.h >= 25.0, "{r:?}");
}

#[test]
fn window_ids_and_names_round_trip() {
    let mut names = std::collections::BTreeSet::new();
    let n = 2 * WindowKind::ALL.len() as u8;
    for id in 0..n {
        let w = Window::from_id(id).expect("valid id");
        assert_eq!(w.id(), id);
        assert!(names.insert(w.name()));
    }
    assert_eq!(Window::from_id(n), None);
    assert_eq!(Window::FULL.id(), 0);
    assert_eq!(algorithm_label(Algorithm::Dhash64, Window::FULL), "dhash64");
    let w = Window {
        kind: WindowKind::Crop10,
        mirrored: true,
    };
    assert_eq!(
        algorithm_label(Algorithm::Pdq256, w),
        "pdq256@crop10_mirror"
    );
}

#[test]
fn window_rects_cover_crops_and_skip_duplicates() {
    let full = Rect {
        x: 0.0,
        y: 0.0,
        w: 160.0,
        h: 90.0,
    };
    let rects = window_rects(full, full, true);
    let kinds: Vec<WindowKind> = rects.iter().map(|(k, _)| *k).collect();
    // No trimmed window (same as full), no 16:9 cover (same shape).
    assert!(!kinds.contains(&WindowKind::Trimmed) && !kinds.contains(&WindowKind::Cover16x9));
    let get = |k| {
        rects
            .iter()
            .find(|(kk, _)| *kk == k)
            .map(|(_, r)| *r)
            .expect("present")
    };
    assert_eq!(
        get(WindowKind::Cover1x1),
        Rect {
            x: 35.0,
            y: 0.0,
            w: 90.0,
            h: 90.0
        }
    );
    let c = get(WindowKind::Crop20);
    assert!(close(c, 16.0, 9.0, 128.0, 72.0, 1e-3), "{c:?}");
    let c = get(WindowKind::Cover9x16);
    assert!((c.aspect() - 9.0 / 16.0).abs() < 1e-3 && c.h == 90.0);
    let content = Rect {
        x: 0.0,
        y: 10.0,
        w: 160.0,
        h: 70.0,
    };
    assert!(window_rects(full, content, true)
        .iter()
        .any(|(k, r)| *k == WindowKind::Trimmed && *r == content));
    assert_eq!(
        window_rects(full, content, false),
        vec![(WindowKind::Full, full)]
    );
}

#[test]
fn near_flat_images_get_quality_zero() {
    let flat = fp(&encode_jpeg(&Rgb::filled(200, 150, [120, 130, 140]), 90));
    assert_eq!(flat.quality, 0);
    assert!(flat.hashes.iter().all(|h| h.quality == 0));
    // Flat windows other than the full image are not hashed at all.
    assert!(flat
        .hashes
        .iter()
        .all(|h| h.window.kind == WindowKind::Full));
    let detailed = fp(&encode_jpeg(&creative(11, 200, 150), 90));
    assert!(detailed.quality >= 50, "quality {}", detailed.quality);
}

#[test]
fn fingerprint_shape_and_content_rect_in_source_pixels() {
    let img = busy(12, 160, 120).letterbox(180, 320, [0, 0, 0]);
    let f = fp(&encode_jpeg(&img, 90));
    assert_eq!(
        (f.width, f.height, f.format),
        (180, 320, Some(ImageFormat::Jpeg))
    );
    // Content 180 x 135 at y = 92 (pads are whole working pixels: 1/2 scale).
    assert!(
        close(f.content, 0.0, 92.0, 180.0, 135.0, 4.0),
        "{:?}",
        f.content
    );
    for alg in [Algorithm::Dhash64, Algorithm::Phash64, Algorithm::Pdq256] {
        let full = f.code(alg, Window::FULL).expect("full window");
        assert_eq!(full.to_bytes().len() * 8, alg.bits() as usize);
        let mirrored_trim = f.code(
            alg,
            Window {
                kind: WindowKind::Trimmed,
                mirrored: true,
            },
        );
        assert_eq!(mirrored_trim.is_some(), alg != Algorithm::Pdq256, "{alg:?}");
    }
    assert!(f
        .code(
            Algorithm::Pdq256,
            Window {
                kind: WindowKind::Trimmed,
                mirrored: false
            }
        )
        .is_some());
    // PDQ only on the full and trimmed windows; ids ascending.
    assert!(f
        .hashes
        .iter()
        .filter(|h| h.algorithm == Algorithm::Pdq256)
        .all(|h| matches!(h.window.kind, WindowKind::Full | WindowKind::Trimmed)));
    assert!(f
        .hashes
        .windows(2)
        .all(|p| (p[0].window.id(), p[0].algorithm) < (p[1].window.id(), p[1].algorithm)));
    let only_full = FingerprintConfig {
        all_windows: false,
        algorithms: Algorithms {
            dhash64: true,
            phash64: false,
            pdq256: false,
        },
        ..FingerprintConfig::default()
    };
    let g = fingerprint_bytes(&encode_jpeg(&img, 90), &only_full).expect("fingerprint");
    assert_eq!(g.hashes.len(), 2);
    assert_eq!(
        g.code(Algorithm::Dhash64, Window::FULL),
        f.code(Algorithm::Dhash64, Window::FULL)
    );
}

#[test]
fn fingerprint_luma_reduces_large_frames_first() {
    let img = creative(13, 640, 480);
    let f = fingerprint_luma(&img.luma(), &FingerprintConfig::default());
    assert_eq!((f.width, f.height, f.format), (640, 480, None));
    let small = fingerprint_luma(&img.luma().box_reduce(7), &FingerprintConfig::default());
    let d = hamming64(
        f.codes64(Algorithm::Dhash64)[0],
        small.codes64(Algorithm::Dhash64)[0],
    );
    assert!(d <= 4, "distance {d}");
}

#[test]
fn edge_crops_keep_three_edges_of_the_image() {
    let full = Rect {
        x: 0.0,
        y: 0.0,
        w: 200.0,
        h: 100.0,
    };
    let rects = window_rects(full, full, true);
    let get = |k| {
        rects
            .iter()
            .find(|(kk, _)| *kk == k)
            .map(|(_, r)| *r)
            .expect("present")
    };
    assert!(close(
        get(WindowKind::CutLeft10),
        20.0,
        0.0,
        180.0,
        100.0,
        1e-3
    ));
    assert!(close(
        get(WindowKind::CutRight10),
        0.0,
        0.0,
        180.0,
        100.0,
        1e-3
    ));
    assert!(close(
        get(WindowKind::CutTop10),
        0.0,
        10.0,
        200.0,
        90.0,
        1e-3
    ));
    assert!(close(
        get(WindowKind::CutBottom10),
        0.0,
        0.0,
        200.0,
        90.0,
        1e-3
    ));
    assert!(close(
        get(WindowKind::CutLeft20),
        40.0,
        0.0,
        160.0,
        100.0,
        1e-3
    ));
    assert!(close(
        get(WindowKind::CutBottom20),
        0.0,
        0.0,
        200.0,
        80.0,
        1e-3
    ));
    // Ids stay unique and round-trip through their names' order.
    for (i, kind) in WindowKind::ALL.iter().enumerate() {
        assert_eq!(kind.index() as usize, i);
        for mirrored in [false, true] {
            let w = Window {
                kind: *kind,
                mirrored,
            };
            assert_eq!(Window::from_id(w.id()), Some(w));
        }
    }
}

#[test]
fn a_one_sided_crop_matches_the_originals_edge_window_closely() {
    // The right 85 % of a structured image: its full window is close to the
    // original's cut-left-10 % window, far from the original's full window.
    let img = creative(9, 240, 160);
    let crop = img.crop(36, 0, 204, 160);
    let (a, b) = (fp(&encode_png(&img)), fp(&encode_png(&crop)));
    let full_b = b
        .code(Algorithm::Dhash64, Window::FULL)
        .and_then(|c| c.as_u64())
        .expect("full");
    let edge_a = a
        .code(
            Algorithm::Dhash64,
            Window {
                kind: WindowKind::CutLeft10,
                mirrored: false,
            },
        )
        .and_then(|c| c.as_u64())
        .expect("edge window");
    let full_a = a
        .code(Algorithm::Dhash64, Window::FULL)
        .and_then(|c| c.as_u64())
        .expect("full");
    assert!(
        hamming64(full_b, edge_a) < hamming64(full_b, full_a),
        "edge {} full {}",
        hamming64(full_b, edge_a),
        hamming64(full_b, full_a)
    );
}
