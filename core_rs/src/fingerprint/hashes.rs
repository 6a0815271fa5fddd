//! 64-bit perceptual hashes with the semantics of the `imagehash` package.
//!
//! Bit order follows `imagehash`'s hex form: the grid is flattened row-major
//! and its first cell is the most significant bit, so
//! `format!("{:016x}", hash)` equals `str(imagehash.dhash(img))` when both
//! start from the same reduced grid. `imagehash` resizes with Lanczos; here
//! the grids come from area averaging (see `luma`), so hashes of the same
//! image agree up to the few bits that sit on a near-tie.
//!
//! * [`dhash64_from_grid`]: 9 x 8 grid, bit = right neighbour brighter.
//! * [`phash64_from_grid`]: 32 x 32 grid, unnormalised DCT-II along both axes
//!   (scipy's default), the 8 x 8 lowest frequencies, bit = coefficient above
//!   their median. As in `imagehash` the DC term takes part in the median
//!   and has its own bit; for any non-black image that bit is always 1, so it
//!   costs one bit of entropy and never a false difference.
//!
//! Mirrored variants come from the same grid (dHash) or the same DCT
//! (pHash: a left-right mirror flips the sign of odd horizontal frequencies),
//! so hashing a window and its mirror costs one resample.

use std::sync::OnceLock;

use super::luma::{AreaSampler, LumaImage, Rect};

/// Width of the dHash grid.
pub const DHASH_W: usize = 9;
/// Height of the dHash grid.
pub const DHASH_H: usize = 8;
/// Side of the pHash grid.
pub const PHASH_N: usize = 32;
/// Side of the kept low-frequency block of pHash.
const PHASH_K: usize = 8;

/// dHash of a 9-wide, 8-tall grid (row-major): bit `r*8 + c` (counted from
/// the most significant bit) is set when `grid[r][c + 1] > grid[r][c]`.
pub fn dhash64_from_grid(grid: &[f32; DHASH_W * DHASH_H]) -> u64 {
    let mut h = 0u64;
    for r in 0..DHASH_H {
        let row = &grid[r * DHASH_W..(r + 1) * DHASH_W];
        for c in 0..DHASH_W - 1 {
            h = (h << 1) | (row[c + 1] > row[c]) as u64;
        }
    }
    h
}

/// dHash of the left-right mirror of the image whose grid is `grid`.
pub fn dhash64_mirrored_from_grid(grid: &[f32; DHASH_W * DHASH_H]) -> u64 {
    let mut h = 0u64;
    for r in 0..DHASH_H {
        let row = &grid[r * DHASH_W..(r + 1) * DHASH_W];
        // Mirrored cell c is original cell 8 - c.
        for c in 0..DHASH_W - 1 {
            h = (h << 1) | (row[DHASH_W - 2 - c] > row[DHASH_W - 1 - c]) as u64;
        }
    }
    h
}

/// The 8 x 32 matrix of scipy's unnormalised DCT-II rows 0..8:
/// `2 cos(pi k (2n + 1) / 64)`.
fn dct_rows() -> &'static [[f32; PHASH_N]; PHASH_K] {
    static M: OnceLock<[[f32; PHASH_N]; PHASH_K]> = OnceLock::new();
    M.get_or_init(|| {
        let mut m = [[0f32; PHASH_N]; PHASH_K];
        for (k, row) in m.iter_mut().enumerate() {
            for (n, v) in row.iter_mut().enumerate() {
                let angle =
                    std::f64::consts::PI * k as f64 * (2 * n + 1) as f64 / (2 * PHASH_N) as f64;
                *v = (2.0 * angle.cos()) as f32;
            }
        }
        m
    })
}

/// The 8 x 8 low-frequency DCT block of a 32 x 32 grid, `[u][v]` with `u`
/// the vertical and `v` the horizontal frequency (row-major, 64 values).
pub fn phash_low_dct(grid: &[f32; PHASH_N * PHASH_N]) -> [f32; PHASH_K * PHASH_K] {
    let d = dct_rows();
    // Vertical transform first (scipy: axis 0), keeping 8 rows: t[u][x].
    let mut t = [[0f32; PHASH_N]; PHASH_K];
    for (u, trow) in t.iter_mut().enumerate() {
        for y in 0..PHASH_N {
            let w = d[u][y];
            let src = &grid[y * PHASH_N..(y + 1) * PHASH_N];
            for (acc, s) in trow.iter_mut().zip(src) {
                *acc += w * s;
            }
        }
    }
    let mut out = [0f32; PHASH_K * PHASH_K];
    for u in 0..PHASH_K {
        for v in 0..PHASH_K {
            out[u * PHASH_K + v] = t[u].iter().zip(&d[v]).map(|(a, b)| a * b).sum();
        }
    }
    out
}

/// Median as numpy computes it (mean of the two middle values).
fn median64(values: &[f32; 64]) -> f32 {
    let mut v = *values;
    let (_, lower, upper) = v.select_nth_unstable_by(31, |a, b| a.total_cmp(b));
    let lower = *lower;
    // The 33rd smallest is the smallest of the upper part.
    let upper_min = upper.iter().copied().fold(f32::INFINITY, f32::min);
    (lower + upper_min) / 2.0
}

/// Threshold 64 coefficients at their median, first coefficient as the most
/// significant bit.
fn bits_above_median(coeffs: &[f32; 64]) -> u64 {
    let med = median64(coeffs);
    coeffs
        .iter()
        .fold(0u64, |h, &c| (h << 1) | (c > med) as u64)
}

/// pHash of a 32 x 32 grid (row-major).
pub fn phash64_from_grid(grid: &[f32; PHASH_N * PHASH_N]) -> u64 {
    bits_above_median(&phash_low_dct(grid))
}

/// pHash and mirrored pHash from one DCT.
pub fn phash64_pair_from_grid(grid: &[f32; PHASH_N * PHASH_N]) -> (u64, u64) {
    let c = phash_low_dct(grid);
    let mut m = c;
    for u in 0..PHASH_K {
        for v in (1..PHASH_K).step_by(2) {
            m[u * PHASH_K + v] = -m[u * PHASH_K + v];
        }
    }
    (bits_above_median(&c), bits_above_median(&m))
}

/// The 9 x 8 dHash grid of `rect` in `img`.
pub fn dhash_grid(img: &LumaImage, rect: Rect) -> [f32; DHASH_W * DHASH_H] {
    dhash_grid_with(&AreaSampler::new(img), rect)
}

/// [`dhash_grid`] from a prepared sampler.
pub fn dhash_grid_with(sampler: &AreaSampler, rect: Rect) -> [f32; DHASH_W * DHASH_H] {
    let mut g = [0f32; DHASH_W * DHASH_H];
    sampler.grid(rect, DHASH_W, DHASH_H, &mut g);
    g
}

/// The 32 x 32 pHash grid of `rect` in `img`.
pub fn phash_grid(img: &LumaImage, rect: Rect) -> [f32; PHASH_N * PHASH_N] {
    phash_grid_with(&AreaSampler::new(img), rect)
}

/// [`phash_grid`] from a prepared sampler.
pub fn phash_grid_with(sampler: &AreaSampler, rect: Rect) -> [f32; PHASH_N * PHASH_N] {
    let mut g = [0f32; PHASH_N * PHASH_N];
    sampler.grid(rect, PHASH_N, PHASH_N, &mut g);
    g
}

/// dHash of the `rect` window of `img`.
pub fn dhash64(img: &LumaImage, rect: Rect) -> u64 {
    dhash64_from_grid(&dhash_grid(img, rect))
}

/// pHash of the `rect` window of `img`.
pub fn phash64(img: &LumaImage, rect: Rect) -> u64 {
    phash64_from_grid(&phash_grid(img, rect))
}

/// Hamming distance of two 64-bit codes.
#[inline]
pub fn hamming64(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Hamming distance of two 256-bit codes.
#[inline]
pub fn hamming256(a: &[u8; 32], b: &[u8; 32]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}
