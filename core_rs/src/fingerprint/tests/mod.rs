//! Tests of fingerprinting. The helpers here draw procedural creatives,
//! apply the edits platforms make, and encode them as real JPEG/PNG/WebP
//! bytes; the cases are split by concept into the submodules.

mod alloc_guard;
mod decode;
mod hashes;
mod letterbox;
mod matching;
mod pdq;
mod trim;

use super::*;

/// SplitMix64: a tiny deterministic PRNG for test data.
pub(crate) struct Rng(pub u64);

impl Rng {
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform in `[lo, hi)`.
    pub(crate) fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }

    fn colour(&mut self) -> [u8; 3] {
        [
            self.below(256) as u8,
            self.below(256) as u8,
            self.below(256) as u8,
        ]
    }
}

/// An 8-bit RGB test image.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rgb {
    pub w: usize,
    pub h: usize,
    pub px: Vec<u8>,
}

impl Rgb {
    pub(crate) fn filled(w: usize, h: usize, c: [u8; 3]) -> Rgb {
        Rgb {
            w,
            h,
            px: c.iter().copied().cycle().take(w * h * 3).collect(),
        }
    }

    pub(crate) fn get(&self, x: usize, y: usize) -> [u8; 3] {
        let i = (y * self.w + x) * 3;
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }

    pub(crate) fn set(&mut self, x: usize, y: usize, c: [u8; 3]) {
        let i = (y * self.w + x) * 3;
        self.px[i..i + 3].copy_from_slice(&c);
    }

    pub(crate) fn luma(&self) -> LumaImage {
        LumaImage::from_rgb8(self.w, self.h, &self.px).expect("valid rgb")
    }

    /// Area-average resize (nearest when enlarging).
    pub(crate) fn resize(&self, w: usize, h: usize) -> Rgb {
        let mut out = Rgb::filled(w, h, [0, 0, 0]);
        for y in 0..h {
            let (y0, y1) = (
                y * self.h / h,
                ((y + 1) * self.h / h).max(y * self.h / h + 1),
            );
            for x in 0..w {
                let (x0, x1) = (
                    x * self.w / w,
                    ((x + 1) * self.w / w).max(x * self.w / w + 1),
                );
                let mut acc = [0u32; 3];
                for sy in y0..y1 {
                    for sx in x0..x1 {
                        let p = self.get(sx, sy);
                        (0..3).for_each(|c| acc[c] += p[c] as u32);
                    }
                }
                let n = ((y1 - y0) * (x1 - x0)) as u32;
                out.set(
                    x,
                    y,
                    [(acc[0] / n) as u8, (acc[1] / n) as u8, (acc[2] / n) as u8],
                );
            }
        }
        out
    }

    pub(crate) fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Rgb {
        let mut out = Rgb::filled(w, h, [0, 0, 0]);
        for yy in 0..h {
            for xx in 0..w {
                out.set(xx, yy, self.get(x + xx, y + yy));
            }
        }
        out
    }

    /// Centre crop keeping `keep` of each dimension.
    pub(crate) fn centre_crop(&self, keep: f32) -> Rgb {
        let (w, h) = (
            (self.w as f32 * keep) as usize,
            (self.h as f32 * keep) as usize,
        );
        self.crop((self.w - w) / 2, (self.h - h) / 2, w, h)
    }

    /// Largest centred crop of aspect `a` (width / height).
    pub(crate) fn cover(&self, a: f32) -> Rgb {
        let (w, h) = if (self.w as f32 / self.h as f32) > a {
            ((self.h as f32 * a) as usize, self.h)
        } else {
            (self.w, (self.w as f32 / a) as usize)
        };
        self.crop((self.w - w) / 2, (self.h - h) / 2, w, h)
    }

    pub(crate) fn paste(&mut self, src: &Rgb, x: usize, y: usize) {
        for yy in 0..src.h {
            for xx in 0..src.w {
                self.set(x + xx, y + yy, src.get(xx, yy));
            }
        }
    }

    /// Canvas of `cw x ch` filled with `c`, the image fitted inside, centred.
    pub(crate) fn letterbox(&self, cw: usize, ch: usize, c: [u8; 3]) -> Rgb {
        let s = (cw as f32 / self.w as f32).min(ch as f32 / self.h as f32);
        let fitted = self.resize((self.w as f32 * s) as usize, (self.h as f32 * s) as usize);
        let mut out = Rgb::filled(cw, ch, c);
        out.paste(&fitted, (cw - fitted.w) / 2, (ch - fitted.h) / 2);
        out
    }

    /// Canvas of `cw x ch` whose background is a blurred, zoomed copy and
    /// whose centre is the fitted image, as short-video apps make them.
    pub(crate) fn blur_pad(&self, cw: usize, ch: usize) -> Rgb {
        let s = (cw as f32 / self.w as f32).max(ch as f32 / self.h as f32);
        let zoomed = self.resize(
            (self.w as f32 * s) as usize + 1,
            (self.h as f32 * s) as usize + 1,
        );
        let mut bg = zoomed.crop((zoomed.w - cw) / 2, (zoomed.h - ch) / 2, cw, ch);
        for _ in 0..3 {
            bg = bg.box_blur(cw / 25 + 2);
        }
        let s = (cw as f32 / self.w as f32).min(ch as f32 / self.h as f32);
        let fitted = self.resize((self.w as f32 * s) as usize, (self.h as f32 * s) as usize);
        bg.paste(&fitted, (cw - fitted.w) / 2, (ch - fitted.h) / 2);
        bg
    }

    pub(crate) fn box_blur(&self, r: usize) -> Rgb {
        let pass = |img: &Rgb, horizontal: bool| {
            let mut out = img.clone();
            for y in 0..img.h {
                for x in 0..img.w {
                    let mut acc = [0u32; 3];
                    let mut n = 0;
                    let (lo, hi, len) = if horizontal {
                        (x, x, img.w)
                    } else {
                        (y, y, img.h)
                    };
                    for t in lo.saturating_sub(r)..(hi + r + 1).min(len) {
                        let p = if horizontal {
                            img.get(t, y)
                        } else {
                            img.get(x, t)
                        };
                        (0..3).for_each(|c| acc[c] += p[c] as u32);
                        n += 1;
                    }
                    out.set(
                        x,
                        y,
                        [(acc[0] / n) as u8, (acc[1] / n) as u8, (acc[2] / n) as u8],
                    );
                }
            }
            out
        };
        pass(&pass(self, true), false)
    }

    /// A solid frame of `t` pixels around the image (the image grows).
    pub(crate) fn framed(&self, t: usize, c: [u8; 3]) -> Rgb {
        let mut out = Rgb::filled(self.w + 2 * t, self.h + 2 * t, c);
        out.paste(self, t, t);
        out
    }

    pub(crate) fn mirror(&self) -> Rgb {
        let mut out = self.clone();
        for y in 0..self.h {
            for x in 0..self.w {
                out.set(self.w - 1 - x, y, self.get(x, y));
            }
        }
        out
    }

    pub(crate) fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, c: [u8; 3]) {
        for yy in y..(y + h).min(self.h) {
            for xx in x..(x + w).min(self.w) {
                self.set(xx, yy, c);
            }
        }
    }

    /// A logo-like mark (box with stripes) in the top-right corner, about
    /// `frac` of the width.
    pub(crate) fn with_logo(&self, frac: f32) -> Rgb {
        let mut out = self.clone();
        let w = (self.w as f32 * frac) as usize;
        let h = w / 2;
        let (x, y) = (self.w - w - self.w / 40, self.h / 40);
        out.fill_rect(x, y, w, h, [250, 250, 250]);
        for i in (0..w).step_by(4) {
            out.fill_rect(x + i, y + h / 4, 2, h / 2, [200, 20, 20]);
        }
        out
    }

    /// A price band: a solid bar over the bottom `frac` of the image with
    /// word-like blocks on it.
    pub(crate) fn with_price_band(&self, frac: f32) -> Rgb {
        let mut out = self.clone();
        let h = (self.h as f32 * frac) as usize;
        let y = self.h - h;
        out.fill_rect(0, y, self.w, h, [220, 30, 40]);
        let mut x = self.w / 20;
        let mut rng = Rng(self.w as u64 * 31 + self.h as u64);
        while x + 10 < self.w * 19 / 20 {
            let word = 6 + rng.below(20) as usize;
            out.fill_rect(x, y + h / 3, word, h / 3, [255, 255, 255]);
            x += word + 5;
        }
        out
    }

    /// Rotate by `deg` degrees about the centre (bilinear, corners filled
    /// with the nearest edge pixel).
    pub(crate) fn rotate(&self, deg: f32) -> Rgb {
        let (s, c) = deg.to_radians().sin_cos();
        let (cx, cy) = (self.w as f32 / 2.0, self.h as f32 / 2.0);
        let mut out = self.clone();
        for y in 0..self.h {
            for x in 0..self.w {
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                let sx = (c * dx + s * dy + cx - 0.5).clamp(0.0, self.w as f32 - 1.001);
                let sy = (-s * dx + c * dy + cy - 0.5).clamp(0.0, self.h as f32 - 1.001);
                let (x0, y0) = (sx as usize, sy as usize);
                let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                let mut px = [0u8; 3];
                for (ch, p) in px.iter_mut().enumerate() {
                    let v = |xx: usize, yy: usize| self.get(xx, yy)[ch] as f32;
                    let top = v(x0, y0) * (1.0 - fx) + v(x0 + 1, y0) * fx;
                    let bot = v(x0, y0 + 1) * (1.0 - fx) + v(x0 + 1, y0 + 1) * fx;
                    *p = (top * (1.0 - fy) + bot * fy).round() as u8;
                }
                out.set(x, y, px);
            }
        }
        out
    }
}

/// A procedural creative: a two-colour gradient background, a dozen shapes
/// (boxes, discs, triangles, stripes), a block of "text" and light noise.
pub(crate) fn creative(seed: u64, w: usize, h: usize) -> Rgb {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ 0x1234_5678);
    let (c0, c1) = (rng.colour(), rng.colour());
    let angle = rng.range(0.0, std::f32::consts::TAU);
    let (dx, dy) = (angle.cos(), angle.sin());
    let mut img = Rgb::filled(w, h, [0, 0, 0]);
    let diag = (w * w + h * h) as f32;
    for y in 0..h {
        for x in 0..w {
            let t = ((x as f32 - w as f32 / 2.0) * dx + (y as f32 - h as f32 / 2.0) * dy)
                / diag.sqrt()
                + 0.5;
            let t = t.clamp(0.0, 1.0);
            let mix = |a: u8, b: u8| (a as f32 * (1.0 - t) + b as f32 * t) as u8;
            img.set(
                x,
                y,
                [mix(c0[0], c1[0]), mix(c0[1], c1[1]), mix(c0[2], c1[2])],
            );
        }
    }
    let side = w.min(h) as f32;
    for _ in 0..12 {
        let col = rng.colour();
        let (cx, cy) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let size = rng.range(0.08, 0.35) * side;
        let kind = rng.below(4);
        let (x0, x1) = ((cx - size).max(0.0) as usize, ((cx + size) as usize).min(w));
        let (y0, y1) = ((cy - size).max(0.0) as usize, ((cy + size) as usize).min(h));
        for y in y0..y1 {
            for x in x0..x1 {
                let (u, v) = ((x as f32 - cx) / size, (y as f32 - cy) / size);
                let inside = match kind {
                    0 => u.abs() < 0.8 && v.abs() < 0.5,
                    1 => u * u + v * v < 0.8,
                    2 => v > -0.7 && v < 0.7 && u.abs() < (0.7 - v) * 0.6,
                    _ => u.abs() < 0.9 && v.abs() < 0.9 && ((v * 6.0).floor() as i32) % 2 == 0,
                };
                if inside {
                    img.set(x, y, col);
                }
            }
        }
    }
    // A block of "text": rows of short dark words.
    let (tx, ty) = (
        rng.range(0.05, 0.5) * w as f32,
        rng.range(0.05, 0.7) * h as f32,
    );
    let line_h = (side / 30.0).max(2.0) as usize;
    for line in 0..4 {
        let mut x = tx as usize;
        let y = ty as usize + line * line_h * 2;
        for _ in 0..5 {
            let word = (rng.range(0.02, 0.07) * w as f32) as usize + 1;
            img.fill_rect(x, y, word, line_h, [20, 20, 30]);
            x += word + line_h;
        }
    }
    for v in img.px.iter_mut() {
        *v = (*v as i32 + rng.below(7) as i32 - 3).clamp(0, 255) as u8;
    }
    img
}

pub(crate) fn encode_jpeg(img: &Rgb, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, quality);
    enc.encode(
        &img.px,
        img.w as u16,
        img.h as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .expect("jpeg encode");
    out
}

pub(crate) fn encode_png(img: &Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, img.w as u32, img.h as u32);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().expect("png header");
        writer.write_image_data(&img.px).expect("png data");
    }
    out
}

pub(crate) fn encode_webp(img: &Rgb) -> Vec<u8> {
    let mut out = Vec::new();
    image_webp::WebPEncoder::new(&mut out)
        .encode(
            &img.px,
            img.w as u32,
            img.h as u32,
            image_webp::ColorType::Rgb8,
        )
        .expect("webp encode");
    out
}

/// Smallest distance between any dHash window code of `a` and any of `b`.
pub(crate) fn window_distance(a: &Fingerprint, b: &Fingerprint) -> u32 {
    let (ca, cb) = (a.codes64(Algorithm::Dhash64), b.codes64(Algorithm::Dhash64));
    ca.iter()
        .flat_map(|x| cb.iter().map(move |y| hamming64(*x, *y)))
        .min()
        .unwrap_or(64)
}

pub(crate) fn fp(bytes: &[u8]) -> Fingerprint {
    fingerprint_bytes(bytes, &FingerprintConfig::default()).expect("fingerprint")
}
