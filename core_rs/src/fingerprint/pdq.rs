//! PDQ, Meta's 256-bit perceptual hash, following the reference
//! implementation (`pdq/cpp/hashing/pdqhashing.cpp` and
//! `pdq/cpp/downscaling/downscaling.cpp` in facebook/ThreatExchange)
//! operation for operation:
//!
//! 1. float luma (`0.299 R + 0.587 G + 0.114 B`), given here;
//! 2. two passes of the Jarosz tent approximation (box filters along rows,
//!    then columns) with window `ceil(dim / 128)`, then decimation to 64 x 64
//!    by sampling pixel centres (a 64 x 64 input is taken as is);
//! 3. quality: gradient sum of the 64 x 64 image, `/ 90`, capped at 100;
//! 4. DCT rows 1..=16 of the 64-point DCT along both axes (DC skipped);
//! 5. bit `i*16 + j` set when coefficient `[i][j]` exceeds the 128th smallest
//!    of the 256 (the value `torben` returns).
//!
//! The reference's order of floating-point operations is kept (box sums,
//! divisions, DCT sums over `k` in increasing order; sweeping all columns of
//! the box filter together or all 64 outputs of a DCT row only interleaves
//! independent sums, which lets them vectorise), so on the same luma buffer
//! the results should equal the reference's up to compiler contraction; the
//! tests here hold them to a plain f64 re-statement within 2 bits.
//!
//! Byte order: [`PdqHash`] is the 256-bit number whose bit `k` is hash bit
//! `k`, big-endian. Its hex form is the reference's `Hash256::format` and
//! `np.packbits(pdqhash.compute(img)[0])` gives the same bytes.
//!
//! The Python `pdqhash.compute` hashes the buffer at the size it is given;
//! Meta's tools decode photos at up to 512 px first. Callers here pass the
//! reduced working image (see `decode`), which plays that role.

use std::sync::OnceLock;

/// A PDQ hash: 32 bytes, big-endian (see the module docs).
pub type PdqHash = [u8; 32];

/// Images smaller than this in either dimension get a zero hash, quality 0
/// (the reference's `MIN_HASHABLE_DIM`).
pub const MIN_HASHABLE_DIM: usize = 5;

const PASSES: usize = 2;

/// `computeJaroszFilterWindowSize`: half of `old / new`, rounded up.
pub fn jarosz_window(old_dim: usize, new_dim: usize) -> usize {
    old_dim.div_ceil(2 * new_dim)
}

/// `box1DFloat` applied to every column of a `rows x cols` row-major buffer
/// at once: a running mean with a window centred as the reference does (for
/// even windows one more sample on the right), shrinking at the ends. Each
/// column sees exactly the reference's sequence of additions, subtractions
/// and divisions; sweeping all columns together only lets them vectorise.
fn box_columns(
    input: &[f32],
    output: &mut [f32],
    rows: usize,
    cols: usize,
    window: usize,
    sums: &mut Vec<f32>,
) {
    let half = (window + 2) / 2;
    let phase1 = half - 1;
    let phase2 = window - half + 1;
    let phase3 = rows.saturating_sub(window);
    let phase4 = half - 1;
    let row = |i: usize| i * cols..(i + 1) * cols;
    sums.clear();
    sums.resize(cols, 0.0);
    let (mut li, mut ri, mut oi) = (0usize, 0usize, 0usize);
    let mut current = 0usize;
    for _ in 0..phase1 {
        sums.iter_mut()
            .zip(&input[row(ri)])
            .for_each(|(s, x)| *s += x);
        current += 1;
        ri += 1;
    }
    for _ in 0..phase2 {
        sums.iter_mut()
            .zip(&input[row(ri)])
            .for_each(|(s, x)| *s += x);
        current += 1;
        let n = current as f32;
        output[row(oi)]
            .iter_mut()
            .zip(sums.iter())
            .for_each(|(o, s)| *o = s / n);
        ri += 1;
        oi += 1;
    }
    for _ in 0..phase3 {
        let (add, sub) = (&input[row(ri)], &input[row(li)]);
        for ((s, a), b) in sums.iter_mut().zip(add).zip(sub) {
            *s += a;
            *s -= b;
        }
        let n = current as f32;
        output[row(oi)]
            .iter_mut()
            .zip(sums.iter())
            .for_each(|(o, s)| *o = s / n);
        li += 1;
        ri += 1;
        oi += 1;
    }
    for _ in 0..phase4 {
        sums.iter_mut()
            .zip(&input[row(li)])
            .for_each(|(s, x)| *s -= x);
        current -= 1;
        let n = current as f32;
        output[row(oi)]
            .iter_mut()
            .zip(sums.iter())
            .for_each(|(o, s)| *o = s / n);
        li += 1;
        oi += 1;
    }
}

fn transpose(input: &[f32], output: &mut [f32], rows: usize, cols: usize) {
    for (i, r) in input.chunks_exact(cols).enumerate().take(rows) {
        for (j, v) in r.iter().enumerate() {
            output[j * rows + i] = *v;
        }
    }
}

/// `jaroszFilterFloat`: per pass, box filters along rows (done as columns
/// of the transpose), then along columns. The result ends in `buf1`.
fn jarosz_filter(
    buf1: &mut [f32],
    buf2: &mut [f32],
    rows: usize,
    cols: usize,
    win_rows: usize,
    win_cols: usize,
) {
    let mut sums = Vec::new();
    let mut t = vec![0f32; buf1.len()];
    for _ in 0..PASSES {
        transpose(buf1, buf2, rows, cols);
        box_columns(buf2, &mut t, cols, rows, win_rows, &mut sums);
        transpose(&t, buf2, cols, rows);
        box_columns(buf2, buf1, rows, cols, win_cols, &mut sums);
    }
}

/// `decimateFloat` to 64 x 64: sample at the centres of the target cells.
fn decimate64(input: &[f32], rows: usize, cols: usize) -> Box<[[f32; 64]; 64]> {
    let centre = |o: usize, n: usize| (((o as f64 + 0.5) * n as f64) / 64.0) as usize;
    let cols_at: [usize; 64] = std::array::from_fn(|oj| centre(oj, cols));
    let mut out = Box::new([[0f32; 64]; 64]);
    for (oi, orow) in out.iter_mut().enumerate() {
        let row = &input[centre(oi, rows) * cols..];
        for (o, &ij) in orow.iter_mut().zip(&cols_at) {
            *o = row[ij];
        }
    }
    out
}

/// `pdqImageDomainQualityMetric`: how much significant gradient the 64 x 64
/// image has, 0..=100.
pub fn quality_64(a: &[[f32; 64]; 64]) -> u8 {
    let mut sum: i64 = 0;
    for pair in a.windows(2) {
        for (u, v) in pair[0].iter().zip(&pair[1]) {
            let d = ((u - v) * 100.0 / 255.0) as i32;
            sum += d.abs() as i64;
        }
    }
    for row in a.iter() {
        for uv in row.windows(2) {
            let d = ((uv[0] - uv[1]) * 100.0 / 255.0) as i32;
            sum += d.abs() as i64;
        }
    }
    (sum / 90).min(100) as u8
}

/// The 16 x 64 matrix of DCT rows 1..=16: `sqrt(2/64) cos(pi/128 (i+1)(2j+1))`.
fn dct_matrix() -> &'static [[f32; 64]; 16] {
    static M: OnceLock<[[f32; 64]; 16]> = OnceLock::new();
    M.get_or_init(|| {
        let scale = (2.0f64 / 64.0).sqrt() as f32;
        let mut m = [[0f32; 64]; 16];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                let c = ((std::f64::consts::PI / 2.0 / 64.0) * (i + 1) as f64 * (2 * j + 1) as f64)
                    .cos();
                *v = scale * c as f32;
            }
        }
        m
    })
}

/// The transpose of [`dct_matrix`], so the second product reads rows.
fn dct_matrix_t() -> &'static [[f32; 16]; 64] {
    static M: OnceLock<[[f32; 16]; 64]> = OnceLock::new();
    M.get_or_init(|| {
        let d = dct_matrix();
        let mut m = [[0f32; 16]; 64];
        for (k, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = d[j][k];
            }
        }
        m
    })
}

/// `dct64To16`: `B = D A D^T`, sums over `k` in increasing order as the
/// reference does.
fn dct64_to_16(a: &[[f32; 64]; 64]) -> [[f32; 16]; 16] {
    let d = dct_matrix();
    let mut t = [[0f32; 64]; 16];
    for i in 0..16 {
        for k in 0..64 {
            let w = d[i][k];
            for (acc, x) in t[i].iter_mut().zip(&a[k]) {
                *acc += w * x;
            }
        }
    }
    let dt = dct_matrix_t();
    let mut b = [[0f32; 16]; 16];
    for i in 0..16 {
        for k in 0..64 {
            let x = t[i][k];
            for (acc, w) in b[i].iter_mut().zip(&dt[k]) {
                *acc += x * w;
            }
        }
    }
    b
}

/// The 16 x 16 float DCT block and the quality of a luma buffer
/// (`pdqFloat256FromFloatLuma`). `None` when the image is below
/// [`MIN_HASHABLE_DIM`].
pub fn pdq_float256(luma: &[f32], width: usize, height: usize) -> Option<([[f32; 16]; 16], u8)> {
    assert_eq!(luma.len(), width * height, "luma buffer size");
    if width < MIN_HASHABLE_DIM || height < MIN_HASHABLE_DIM {
        return None;
    }
    let a: Box<[[f32; 64]; 64]> = if width == 64 && height == 64 {
        let mut a = Box::new([[0f32; 64]; 64]);
        for (i, row) in a.iter_mut().enumerate() {
            row.copy_from_slice(&luma[i * 64..(i + 1) * 64]);
        }
        a
    } else {
        let mut buf1 = luma.to_vec();
        let mut buf2 = vec![0f32; luma.len()];
        let win_rows = jarosz_window(width, 64);
        let win_cols = jarosz_window(height, 64);
        jarosz_filter(&mut buf1, &mut buf2, height, width, win_rows, win_cols);
        decimate64(&buf1, height, width)
    };
    let quality = quality_64(&a);
    Some((dct64_to_16(&a), quality))
}

/// Bits of a 16 x 16 DCT block (`pdqBuffer16x16ToBits`).
pub fn pdq_bits(block: &[[f32; 16]; 16]) -> PdqHash {
    let flat: Vec<f32> = block.iter().flatten().copied().collect();
    let mut sorted = flat.clone();
    // torben returns the ((n + 1) / 2)-th smallest value.
    let (_, median, _) = sorted.select_nth_unstable_by(127, |a, b| a.total_cmp(b));
    let median = *median;
    let mut hash = [0u8; 32];
    for (k, &v) in flat.iter().enumerate() {
        if v > median {
            hash[31 - k / 8] |= 1 << (k % 8);
        }
    }
    hash
}

/// The DCT block of the left-right mirror of the image (the reference's
/// `dct16OriginalToFlipY`: odd horizontal frequencies change sign).
pub fn pdq_mirror_block(block: &[[f32; 16]; 16]) -> [[f32; 16]; 16] {
    let mut m = *block;
    for row in m.iter_mut() {
        // Column j holds horizontal frequency j + 1.
        for v in row.iter_mut().step_by(2) {
            *v = -*v;
        }
    }
    m
}

/// PDQ hash and quality of a row-major luma buffer
/// (`pdqHash256FromFloatLuma`); a zero hash with quality 0 for images below
/// [`MIN_HASHABLE_DIM`].
pub fn pdq256_from_luma(luma: &[f32], width: usize, height: usize) -> (PdqHash, u8) {
    match pdq_float256(luma, width, height) {
        Some((block, quality)) => (pdq_bits(&block), quality),
        None => ([0u8; 32], 0),
    }
}

/// PDQ of the image and of its left-right mirror, and the quality, with the
/// reference's dihedral shortcut (`pdqDihedralHash256esFromFloatLuma`'s
/// flip-Y: signs flipped in the DCT). Exact for 64 x 64 input; on larger
/// input the even box windows and the decimation grid are not
/// mirror-symmetric, so the mirror hash can differ from hashing mirrored
/// pixels by a few dozen bits (fingerprinting therefore hashes mirrored
/// pixels).
pub fn pdq256_with_mirror(luma: &[f32], width: usize, height: usize) -> (PdqHash, PdqHash, u8) {
    match pdq_float256(luma, width, height) {
        Some((block, quality)) => (
            pdq_bits(&block),
            pdq_bits(&pdq_mirror_block(&block)),
            quality,
        ),
        None => ([0u8; 32], [0u8; 32], 0),
    }
}

/// Lower-case hex of a PDQ hash, the reference's text form.
pub fn pdq_hex(hash: &PdqHash) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}
