//! dHash / pHash against plain reference implementations of `imagehash`'s
//! definitions, plus the resampling they build on.

use super::*;

/// `imagehash.dhash` on a 9 x 8 grid: `diff = px[:, 1:] > px[:, :-1]`,
/// flattened row-major, read as a binary number (first cell = MSB).
fn reference_dhash(grid: &[Vec<f64>]) -> u64 {
    let bits: String = grid
        .iter()
        .flat_map(|row| (0..8).map(move |c| if row[c + 1] > row[c] { '1' } else { '0' }))
        .collect();
    u64::from_str_radix(&bits, 2).expect("64 bits")
}

/// `scipy.fftpack.dct` (type II, unnormalised) of a vector.
fn dct2(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    (0..n)
        .map(|k| {
            2.0 * x
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v * (std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2 * n) as f64)
                        .cos()
                })
                .sum::<f64>()
        })
        .collect()
}

/// `imagehash.phash` on a 32 x 32 grid: DCT along axis 0, then axis 1; the
/// top-left 8 x 8; `> numpy.median`; row-major, MSB first.
fn reference_phash(grid: &[Vec<f64>]) -> u64 {
    let n = grid.len();
    let mut cols = vec![vec![0.0; n]; n];
    for x in 0..n {
        let col: Vec<f64> = (0..n).map(|y| grid[y][x]).collect();
        for (y, v) in dct2(&col).into_iter().enumerate() {
            cols[y][x] = v;
        }
    }
    let full: Vec<Vec<f64>> = cols.iter().map(|row| dct2(row)).collect();
    let low: Vec<f64> = (0..8)
        .flat_map(|u| (0..8).map(move |v| (u, v)))
        .map(|(u, v)| full[u][v])
        .collect();
    let mut sorted = low.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = (sorted[31] + sorted[32]) / 2.0;
    let bits: String = low
        .iter()
        .map(|&c| if c > median { '1' } else { '0' })
        .collect();
    u64::from_str_radix(&bits, 2).expect("64 bits")
}

fn random_grid(rng: &mut Rng, w: usize, h: usize) -> Vec<Vec<f64>> {
    (0..h)
        .map(|_| (0..w).map(|_| rng.below(256) as f64).collect())
        .collect()
}

fn flat32<const N: usize>(grid: &[Vec<f64>]) -> [f32; N] {
    let v: Vec<f32> = grid.iter().flatten().map(|&x| x as f32).collect();
    v.try_into().expect("grid size")
}

fn mirrored(grid: &[Vec<f64>]) -> Vec<Vec<f64>> {
    grid.iter()
        .map(|r| r.iter().rev().copied().collect())
        .collect()
}

#[test]
fn dhash_matches_the_reference_definition() {
    let mut rng = Rng(11);
    for _ in 0..200 {
        let g = random_grid(&mut rng, 9, 8);
        assert_eq!(dhash64_from_grid(&flat32(&g)), reference_dhash(&g));
        assert_eq!(
            dhash64_mirrored_from_grid(&flat32(&g)),
            reference_dhash(&mirrored(&g))
        );
    }
    // Brighter to the right everywhere: all ones; to the left: all zeros.
    let ramp: Vec<Vec<f64>> = (0..8).map(|_| (0..9).map(|x| x as f64).collect()).collect();
    assert_eq!(dhash64_from_grid(&flat32(&ramp)), u64::MAX);
    assert_eq!(dhash64_mirrored_from_grid(&flat32(&ramp)), 0);
    // The first row's first comparison is the most significant bit.
    let mut one = vec![vec![0.0; 9]; 8];
    one[0][1] = 1.0;
    assert_eq!(
        format!("{:016x}", dhash64_from_grid(&flat32(&one))),
        "8000000000000000"
    );
}

#[test]
fn phash_matches_the_reference_definition() {
    let mut rng = Rng(12);
    for _ in 0..40 {
        let g = random_grid(&mut rng, 32, 32);
        let expected = reference_phash(&g);
        assert_eq!(phash64_from_grid(&flat32(&g)), expected);
        let (plain, mirror) = phash64_pair_from_grid(&flat32(&g));
        assert_eq!(plain, expected);
        assert_eq!(mirror, reference_phash(&mirrored(&g)));
    }
}

#[test]
fn phash_dc_bit_is_set_for_any_non_black_image() {
    let mut rng = Rng(13);
    for _ in 0..20 {
        let g = random_grid(&mut rng, 32, 32);
        assert_eq!(phash64_from_grid(&flat32(&g)) >> 63, 1);
    }
}

#[test]
fn area_resampling_averages_blocks_exactly() {
    let mut rng = Rng(14);
    let data: Vec<f32> = (0..36 * 24).map(|_| rng.below(256) as f32).collect();
    let img = LumaImage::new(36, 24, data).expect("image");
    let mut out = vec![0f32; 9 * 8];
    resample_area(&img, img.full_rect(), 9, 8, &mut out);
    for oy in 0..8 {
        for ox in 0..9 {
            let mut sum = 0.0;
            for y in oy * 3..oy * 3 + 3 {
                for x in ox * 4..ox * 4 + 4 {
                    sum += img.data[y * 36 + x];
                }
            }
            assert!((out[oy * 9 + ox] - sum / 12.0).abs() < 1e-3);
        }
    }
    // Identity at the same size, sub-rectangles included.
    let rect = Rect {
        x: 4.0,
        y: 2.0,
        w: 9.0,
        h: 8.0,
    };
    resample_area(&img, rect, 9, 8, &mut out);
    for y in 0..8 {
        for x in 0..9 {
            assert!((out[y * 9 + x] - img.data[(y + 2) * 36 + x + 4]).abs() < 1e-3);
        }
    }
}

#[test]
fn fractional_resampling_is_mirror_symmetric() {
    let mut rng = Rng(15);
    let (w, h) = (53, 41);
    let data: Vec<f32> = (0..w * h).map(|_| rng.below(256) as f32).collect();
    let img = LumaImage::new(w, h, data).expect("image");
    let flipped: Vec<f32> = (0..h)
        .flat_map(|y| (0..w).rev().map(move |x| (x, y)))
        .map(|(x, y)| img.data[y * w + x])
        .collect();
    let mimg = LumaImage::new(w, h, flipped).expect("image");
    let rect = Rect {
        x: 7.3,
        y: 3.1,
        w: 30.2,
        h: 33.5,
    };
    let mrect = Rect {
        x: w as f32 - rect.x - rect.w,
        ..rect
    };
    let (a, b) = (dhash_grid(&img, rect), dhash_grid(&mimg, mrect));
    for y in 0..8 {
        for x in 0..9 {
            assert!((a[y * 9 + x] - b[y * 9 + 8 - x]).abs() < 1e-3);
        }
    }
    assert_eq!(dhash64_mirrored_from_grid(&a), dhash64(&mimg, mrect));
}

#[test]
fn box_reduce_and_row_reducer_agree_and_handle_edges() {
    let img = LumaImage::new(5, 3, (0..15).map(|v| v as f32).collect()).expect("image");
    let r = img.box_reduce(2);
    assert_eq!((r.width, r.height), (3, 2));
    // Top-left block: 0,1,5,6; right column block: 4,9; bottom row: 10,11.
    assert_eq!(r.data[0], 3.0);
    assert_eq!(r.data[2], 6.5);
    assert_eq!(r.data[3], 10.5);
    assert_eq!(img.box_reduce(1), img);
    // A truncated stream keeps the announced shape.
    let mut reducer = RowReducer::new(4, 4, 2);
    reducer.push_row(&[1.0, 1.0, 3.0, 3.0]);
    let out = reducer.finish();
    assert_eq!(
        (out.width, out.height, out.data.clone()),
        (2, 2, vec![1.0, 3.0, 1.0, 3.0])
    );
}

#[test]
fn luma_constructors_validate_sizes() {
    assert!(LumaImage::new(0, 3, vec![]).is_err());
    assert!(LumaImage::new(2, 2, vec![0.0; 3]).is_err());
    assert!(LumaImage::from_rgb8(2, 1, &[0; 5]).is_err());
    let l = LumaImage::from_rgb8(1, 1, &[255, 0, 0]).expect("rgb");
    assert!((l.data[0] - 0.299 * 255.0).abs() < 1e-3);
}

#[test]
fn hamming_helpers() {
    assert_eq!(hamming64(0, u64::MAX), 64);
    assert_eq!(hamming64(0b1011, 0b0001), 2);
    let mut a = [0u8; 32];
    a[31] = 0b111;
    assert_eq!(hamming256(&a, &[0u8; 32]), 3);
}
