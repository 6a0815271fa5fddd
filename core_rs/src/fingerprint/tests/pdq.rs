//! PDQ against a plain f64 re-statement of the reference algorithm, plus
//! byte order, degenerate inputs and robustness.

use super::*;

/// Running mean of the reference's `box1DFloat`: output `i` averages inputs
/// `[i - (w - half), i + half - 1]` clipped to the vector, `half = (w+2)/2`.
fn box_ref(v: &[f64], w: usize) -> Vec<f64> {
    let half = (w + 2) / 2;
    let n = v.len() as isize;
    (0..n)
        .map(|i| {
            let lo = (i - (w - half) as isize).max(0);
            let hi = (i + half as isize - 1).min(n - 1);
            v[lo as usize..=hi as usize].iter().sum::<f64>() / (hi - lo + 1) as f64
        })
        .collect()
}

/// The whole reference pipeline in f64: Jarosz (2 passes), decimation,
/// quality, DCT rows 1..=16, bits above the 128th smallest coefficient.
fn reference_pdq(luma: &[f32], w: usize, h: usize) -> (PdqHash, u8) {
    let mut img: Vec<Vec<f64>> = (0..h)
        .map(|y| (0..w).map(|x| luma[y * w + x] as f64).collect())
        .collect();
    let a: Vec<Vec<f64>> = if w == 64 && h == 64 {
        img
    } else {
        let (wr, wc) = (jarosz_window(w, 64), jarosz_window(h, 64));
        for _ in 0..2 {
            img = img.iter().map(|row| box_ref(row, wr)).collect();
            for x in 0..w {
                let col: Vec<f64> = img.iter().map(|r| r[x]).collect();
                for (y, v) in box_ref(&col, wc).into_iter().enumerate() {
                    img[y][x] = v;
                }
            }
        }
        (0..64)
            .map(|i| {
                let y = ((i as f64 + 0.5) * h as f64 / 64.0) as usize;
                (0..64)
                    .map(|j| img[y][((j as f64 + 0.5) * w as f64 / 64.0) as usize])
                    .collect()
            })
            .collect()
    };
    let mut grad = 0i64;
    for i in 0..64 {
        for j in 0..64 {
            if i < 63 {
                grad += (((a[i][j] - a[i + 1][j]) * 100.0 / 255.0) as i64).abs();
            }
            if j < 63 {
                grad += (((a[i][j] - a[i][j + 1]) * 100.0 / 255.0) as i64).abs();
            }
        }
    }
    let quality = (grad / 90).min(100) as u8;
    let d = |i: usize, j: usize| {
        (2.0f64 / 64.0).sqrt()
            * (std::f64::consts::PI / 128.0 * (i + 1) as f64 * (2 * j + 1) as f64).cos()
    };
    let mut coeffs = Vec::with_capacity(256);
    for i in 0..16 {
        for j in 0..16 {
            let mut s = 0.0;
            for (k, row) in a.iter().enumerate() {
                for (l, v) in row.iter().enumerate() {
                    s += d(i, k) * v * d(j, l);
                }
            }
            coeffs.push(s);
        }
    }
    let mut sorted = coeffs.clone();
    sorted.sort_by(|x, y| x.total_cmp(y));
    let mut hash = [0u8; 32];
    for (k, &c) in coeffs.iter().enumerate() {
        if c > sorted[127] {
            hash[31 - k / 8] |= 1 << (k % 8);
        }
    }
    (hash, quality)
}

#[test]
fn pdq_agrees_with_the_reference_pipeline() {
    for (seed, w, h) in [
        (1, 100, 75),
        (2, 64, 64),
        (3, 37, 90),
        (4, 300, 200),
        (5, 129, 130),
    ] {
        let luma = creative(seed, w, h).luma();
        let (hash, quality) = pdq256_from_luma(&luma.data, w, h);
        let (ref_hash, ref_quality) = reference_pdq(&luma.data, w, h);
        let d = hamming256(&hash, &ref_hash);
        assert!(d <= 2, "{w}x{h}: {d} bits differ from the reference");
        assert!(
            quality.abs_diff(ref_quality) <= 1,
            "{w}x{h}: quality {quality} vs {ref_quality}"
        );
        assert_eq!(
            hash.iter().map(|b| b.count_ones()).sum::<u32>(),
            128,
            "half the bits are set"
        );
    }
}

#[test]
fn bit_order_is_the_reference_hex_form() {
    // Coefficient k = i*16 + j has value k: the 128 largest are k >= 128,
    // i.e. words w[8..16], printed first by `Hash256::format`.
    let mut block = [[0f32; 16]; 16];
    for (i, row) in block.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = (i * 16 + j) as f32;
        }
    }
    let hash = pdq_bits(&block);
    assert_eq!(
        pdq_hex(&hash),
        format!("{}{}", "f".repeat(32), "0".repeat(32))
    );
    // Only coefficient 0 above the median: the very last bit.
    let mut block = [[-1f32; 16]; 16];
    block[0][0] = 5.0;
    assert_eq!(pdq_bits(&block)[31], 1);
    assert_eq!(pdq_bits(&block)[..31], [0u8; 31]);
}

#[test]
fn tiny_and_flat_images() {
    assert_eq!(pdq256_from_luma(&[10.0; 16], 4, 4), ([0u8; 32], 0));
    assert_eq!(pdq256_from_luma(&[10.0; 20], 5, 4), ([0u8; 32], 0));
    let (_, q) = pdq256_from_luma(&[128.0; 25], 5, 5);
    assert_eq!(q, 0);
    let (_, q) = pdq256_from_luma(&vec![77.0; 200 * 100], 200, 100);
    assert_eq!(q, 0);
    let (_, q) = pdq256_from_luma(&creative(6, 120, 90).luma().data, 120, 90);
    assert!(q >= 50, "a detailed image has high quality, got {q}");
}

#[test]
fn mirror_block_is_exact_on_64x64_input() {
    let luma = creative(7, 64, 64).luma();
    let flipped: Vec<f32> = (0..64)
        .flat_map(|y| (0..64).rev().map(move |x| (x, y)))
        .map(|(x, y)| luma.data[y * 64 + x])
        .collect();
    let (_, mirror, _) = pdq256_with_mirror(&luma.data, 64, 64);
    let (direct, _) = pdq256_from_luma(&flipped, 64, 64);
    assert!(hamming256(&mirror, &direct) <= 2);
}

#[test]
fn mirrored_window_hashes_are_the_hashes_of_the_mirrored_image() {
    // PNG and an even reduction factor: the mirrored file decodes to exactly
    // the mirrored working image.
    let img = creative(8, 192, 128);
    let a = fp(&encode_png(&img));
    let b = fp(&encode_png(&img.mirror()));
    let mirror = Window {
        kind: WindowKind::Full,
        mirrored: true,
    };
    assert_eq!(
        a.code(Algorithm::Dhash64, mirror),
        b.code(Algorithm::Dhash64, Window::FULL)
    );
    assert_eq!(
        a.code(Algorithm::Phash64, mirror),
        b.code(Algorithm::Phash64, Window::FULL)
    );
    let crop = |m| Window {
        kind: WindowKind::Crop20,
        mirrored: m,
    };
    assert_eq!(
        a.code(Algorithm::Dhash64, crop(true)),
        b.code(Algorithm::Dhash64, crop(false))
    );
    // PDQ is a whole-image hash: no mirrored rows (use pdq256_with_mirror).
    assert_eq!(a.code(Algorithm::Pdq256, mirror), None);
}

#[test]
fn pdq_is_robust_to_resize_and_recompression_and_separates_creatives() {
    let a = creative(9, 240, 180);
    let b = creative(10, 240, 180);
    let pdq = |bytes: &[u8]| match fp(bytes).code(Algorithm::Pdq256, Window::FULL) {
        Some(HashCode::Bits256(h)) => h,
        other => panic!("no pdq: {other:?}"),
    };
    let ha = pdq(&encode_jpeg(&a, 90));
    let ha2 = pdq(&encode_png(&a.resize(160, 120)));
    let hb = pdq(&encode_jpeg(&b, 90));
    assert!(
        hamming256(&ha, &ha2) <= 31,
        "same creative: {}",
        hamming256(&ha, &ha2)
    );
    assert!(
        hamming256(&ha, &hb) >= 70,
        "different creatives: {}",
        hamming256(&ha, &hb)
    );
}
