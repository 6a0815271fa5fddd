//! Grayscale working images and the resampling every hash builds on.
//!
//! All hashing runs on a small luma (Rec. 601 Y, 0..=255 as `f32`) image:
//! decoding delivers it already reduced (DCT-domain scaling for JPEG, an
//! integer box reduction while streaming rows for PNG/WebP), so the hashes
//! never touch full-resolution pixels. Resampling to hash grids is area
//! averaging (a box filter with fractional edge weights), which is exact for
//! any sub-rectangle and mirror-symmetric, so a mirrored window's grid is the
//! mirrored grid of the window.

use crate::error::{CoreError, CoreResult};

/// Weights of Rec. 601 luma, as PIL's `convert("L")` and PDQ use.
pub const LUMA_R: f32 = 0.299;
/// Green weight of Rec. 601 luma.
pub const LUMA_G: f32 = 0.587;
/// Blue weight of Rec. 601 luma.
pub const LUMA_B: f32 = 0.114;

/// Rec. 601 luma of one RGB pixel.
#[inline]
pub fn rgb_to_luma(r: u8, g: u8, b: u8) -> f32 {
    LUMA_R * r as f32 + LUMA_G * g as f32 + LUMA_B * b as f32
}

/// A grayscale image: `width * height` luma values in 0..=255, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct LumaImage {
    /// Columns.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Row-major luma values, `width * height` of them.
    pub data: Vec<f32>,
}

impl LumaImage {
    /// Wrap a row-major buffer; fails when the length is not `width * height`
    /// or a dimension is zero.
    pub fn new(width: usize, height: usize, data: Vec<f32>) -> CoreResult<Self> {
        if width == 0 || height == 0 {
            return Err(CoreError::invalid(format!(
                "luma image has zero size ({width}x{height})"
            )));
        }
        if width.checked_mul(height) != Some(data.len()) {
            return Err(CoreError::invalid(format!(
                "luma buffer has {} values, expected {width}x{height}",
                data.len()
            )));
        }
        Ok(LumaImage {
            width,
            height,
            data,
        })
    }

    /// Build from 8-bit gray pixels (row-major).
    pub fn from_gray8(width: usize, height: usize, pixels: &[u8]) -> CoreResult<Self> {
        Self::new(width, height, pixels.iter().map(|&p| p as f32).collect())
    }

    /// Build from interleaved 8-bit RGB pixels (row-major).
    pub fn from_rgb8(width: usize, height: usize, pixels: &[u8]) -> CoreResult<Self> {
        if width.checked_mul(height).and_then(|n| n.checked_mul(3)) != Some(pixels.len()) {
            return Err(CoreError::invalid(format!(
                "rgb buffer has {} bytes, expected {width}x{height}x3",
                pixels.len()
            )));
        }
        let data = pixels
            .chunks_exact(3)
            .map(|p| rgb_to_luma(p[0], p[1], p[2]))
            .collect();
        Self::new(width, height, data)
    }

    /// One row.
    #[inline]
    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// The whole image as a rectangle.
    pub fn full_rect(&self) -> Rect {
        Rect {
            x: 0.0,
            y: 0.0,
            w: self.width as f32,
            h: self.height as f32,
        }
    }

    /// Copy of the pixels covered by `rect` after rounding its edges to whole
    /// pixels (at least one pixel each way).
    pub fn crop(&self, rect: Rect) -> LumaImage {
        let (x0, y0, x1, y1) = rect.pixel_bounds(self.width, self.height);
        let mut data = Vec::with_capacity((x1 - x0) * (y1 - y0));
        for y in y0..y1 {
            data.extend_from_slice(&self.row(y)[x0..x1]);
        }
        LumaImage {
            width: x1 - x0,
            height: y1 - y0,
            data,
        }
    }

    /// The left-right mirror image.
    pub fn mirrored(&self) -> LumaImage {
        let mut data = Vec::with_capacity(self.data.len());
        for y in 0..self.height {
            data.extend(self.row(y).iter().rev());
        }
        LumaImage {
            width: self.width,
            height: self.height,
            data,
        }
    }

    /// Reduce by averaging `k x k` blocks (partial blocks at the right and
    /// bottom edges are averaged over the pixels they have).
    pub fn box_reduce(&self, k: usize) -> LumaImage {
        if k <= 1 {
            return self.clone();
        }
        let mut reducer = RowReducer::new(self.width, self.height, k);
        for y in 0..self.height {
            reducer.push_row(self.row(y));
        }
        reducer.finish()
    }
}

/// An axis-aligned rectangle in pixel coordinates; fractional edges allowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width (> 0).
    pub w: f32,
    /// Height (> 0).
    pub h: f32,
}

impl Rect {
    /// Aspect ratio width / height.
    pub fn aspect(&self) -> f32 {
        self.w / self.h
    }

    /// Whole-pixel bounds `(x0, y0, x1, y1)` (exclusive ends), clamped to an
    /// image of `width x height` and never empty.
    pub fn pixel_bounds(&self, width: usize, height: usize) -> (usize, usize, usize, usize) {
        let clamp = |v: f32, hi: usize| (v.round().max(0.0) as usize).min(hi);
        let x0 = clamp(self.x, width - 1);
        let y0 = clamp(self.y, height - 1);
        let x1 = clamp(self.x + self.w, width).max(x0 + 1);
        let y1 = clamp(self.y + self.h, height).max(y0 + 1);
        (x0, y0, x1, y1)
    }

    /// True when every edge of `self` is within `tol` pixels of `other`'s.
    pub fn near(&self, other: &Rect, tol: f32) -> bool {
        (self.x - other.x).abs() <= tol
            && (self.y - other.y).abs() <= tol
            && (self.x + self.w - other.x - other.w).abs() <= tol
            && (self.y + self.h - other.y - other.h).abs() <= tol
    }
}

/// Streaming integer box reduction: rows go in one at a time, so a decoder
/// never holds the full-resolution image.
pub struct RowReducer {
    src_w: usize,
    k: usize,
    out_w: usize,
    out_h: usize,
    acc: Vec<f32>,
    rows_in_acc: usize,
    out: Vec<f32>,
}

impl RowReducer {
    /// A reducer for a `src_w x src_h` image by factor `k` (>= 1).
    pub fn new(src_w: usize, src_h: usize, k: usize) -> Self {
        let k = k.max(1);
        let out_w = src_w.div_ceil(k);
        let out_h = src_h.div_ceil(k);
        RowReducer {
            src_w,
            k,
            out_w,
            out_h,
            acc: vec![0.0; out_w],
            rows_in_acc: 0,
            out: Vec::with_capacity(out_w * out_h),
        }
    }

    /// Add the next source row (`src_w` luma values).
    pub fn push_row(&mut self, row: &[f32]) {
        debug_assert_eq!(row.len(), self.src_w);
        for (acc, block) in self.acc.iter_mut().zip(row.chunks(self.k)) {
            *acc += block.iter().sum::<f32>();
        }
        self.rows_in_acc += 1;
        if self.rows_in_acc == self.k {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.rows_in_acc == 0 {
            return;
        }
        let last_w = self.src_w - (self.out_w - 1) * self.k;
        for (i, acc) in self.acc.iter_mut().enumerate() {
            let cols = if i + 1 == self.out_w { last_w } else { self.k };
            self.out.push(*acc / (cols * self.rows_in_acc) as f32);
            *acc = 0.0;
        }
        self.rows_in_acc = 0;
    }

    /// The reduced image; rows never pushed (a truncated stream) are filled
    /// by repeating the last complete row so the shape stays as announced.
    pub fn finish(mut self) -> LumaImage {
        self.flush();
        let w = self.out_w;
        if self.out.is_empty() {
            self.out.resize(w, 0.0);
        }
        while self.out.len() < w * self.out_h {
            let start = self.out.len() - w;
            self.out.extend_from_within(start..start + w);
        }
        LumaImage {
            width: w,
            height: self.out_h,
            data: self.out,
        }
    }
}

/// Exact area averaging over any rectangle, from a summed-area table.
///
/// The integral of a pixel-wise constant image is bilinear inside each
/// pixel, so interpolating the table bilinearly at fractional corners gives
/// the exact integral over a fractional rectangle: every grid cell is the
/// true mean of the area it covers, with fractional edge pixels weighted
/// by coverage. The table is built once per image (in `f64`, so sums stay
/// exact to far below a luma level), after which a 32 x 32 grid of any
/// window costs 33 x 33 corner lookups.
#[derive(Debug, Clone)]
pub struct AreaSampler {
    width: usize,
    height: usize,
    /// `(width + 1) x (height + 1)`: `sat[y][x]` sums pixels above-left.
    sat: Vec<f64>,
}

impl AreaSampler {
    /// Build the table of `img`.
    pub fn new(img: &LumaImage) -> Self {
        let (w, h) = (img.width, img.height);
        let stride = w + 1;
        let mut sat = vec![0f64; stride * (h + 1)];
        for y in 0..h {
            let mut run = 0f64;
            let (above, here) = sat.split_at_mut((y + 1) * stride);
            let above = &above[y * stride..];
            for (x, p) in img.row(y).iter().enumerate() {
                run += *p as f64;
                here[x + 1] = above[x + 1] + run;
            }
        }
        AreaSampler {
            width: w,
            height: h,
            sat,
        }
    }

    /// Corner positions along one axis of `n` pixels: `(index, fraction)`
    /// of `origin + i * len / cells` for `i` in `0..=cells`, clamped.
    fn corners(origin: f32, len: f32, n: usize, cells: usize, out: &mut Vec<(usize, f64, f64)>) {
        out.clear();
        let step = len as f64 / cells as f64;
        for i in 0..=cells {
            let v = (origin as f64 + i as f64 * step).clamp(0.0, n as f64);
            let idx = (v.floor() as usize).min(n - 1);
            out.push((idx, v - idx as f64, v));
        }
    }

    /// Mean of every cell of an `out_w x out_h` grid laid over `rect`, into
    /// `out` (row-major).
    pub fn grid(&self, rect: Rect, out_w: usize, out_h: usize, out: &mut [f32]) {
        assert_eq!(out.len(), out_w * out_h, "output grid size");
        let stride = self.width + 1;
        let mut xs = Vec::with_capacity(out_w + 1);
        let mut ys = Vec::with_capacity(out_h + 1);
        Self::corners(rect.x, rect.w, self.width, out_w, &mut xs);
        Self::corners(rect.y, rect.h, self.height, out_h, &mut ys);
        // Integral at every corner of one grid row boundary.
        let row_integrals = |&(iy, fy, _): &(usize, f64, f64), dst: &mut Vec<f64>| {
            dst.clear();
            let (r0, r1) = (&self.sat[iy * stride..], &self.sat[(iy + 1) * stride..]);
            for &(ix, fx, _) in &xs {
                let top = r0[ix] + (r0[ix + 1] - r0[ix]) * fx;
                let bot = r1[ix] + (r1[ix + 1] - r1[ix]) * fx;
                dst.push(top + (bot - top) * fy);
            }
        };
        let (mut prev, mut next) = (Vec::with_capacity(out_w + 1), Vec::with_capacity(out_w + 1));
        row_integrals(&ys[0], &mut prev);
        for r in 0..out_h {
            row_integrals(&ys[r + 1], &mut next);
            let dy = ys[r + 1].2 - ys[r].2;
            for c in 0..out_w {
                let area = (xs[c + 1].2 - xs[c].2) * dy;
                out[r * out_w + c] = if area > 1e-9 {
                    ((next[c + 1] - next[c] - prev[c + 1] + prev[c]) / area) as f32
                } else {
                    // The cell lies outside the image (clamped): the edge pixel.
                    let (x, y) = (xs[c].0, ys[r].0);
                    let s = |yy: usize, xx: usize| self.sat[yy * stride + xx];
                    (s(y + 1, x + 1) - s(y, x + 1) - s(y + 1, x) + s(y, x)) as f32
                };
            }
            std::mem::swap(&mut prev, &mut next);
        }
    }
}

/// Resample the `rect` of `img` to an `out_w x out_h` grid by area
/// averaging; `out` receives the grid row-major. (Builds the summed-area
/// table each call; use an [`AreaSampler`] to hash many windows.)
pub fn resample_area(img: &LumaImage, rect: Rect, out_w: usize, out_h: usize, out: &mut [f32]) {
    AreaSampler::new(img).grid(rect, out_w, out_h, out);
}

/// Mean absolute difference between horizontally and vertically adjacent
/// cells of a `w x h` grid: how much structure the grid has.
pub fn grid_energy(grid: &[f32], w: usize, h: usize) -> f32 {
    let mut sum = 0.0f32;
    let mut n = 0usize;
    for y in 0..h {
        let row = &grid[y * w..(y + 1) * w];
        for x in 0..w - 1 {
            sum += (row[x + 1] - row[x]).abs();
        }
        n += w - 1;
        if y + 1 < h {
            let next = &grid[(y + 1) * w..(y + 2) * w];
            sum += row
                .iter()
                .zip(next)
                .map(|(a, b)| (a - b).abs())
                .sum::<f32>();
            n += w;
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}
