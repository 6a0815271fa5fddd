//! Perceptual fingerprints of creatives: bytes in, a bundle of hashes out.
//!
//! [`fingerprint_bytes`] decodes an image to a small luma working image
//! (`decode`), finds its content rectangle (`trim`), takes the standard
//! window set (`windows`) and hashes every window with dHash and pHash
//! (`hashes`), plus PDQ (`pdq`) of the whole and the trimmed image. The
//! result carries a quality score: images with too little structure to hash
//! reliably get quality 0, and grouping never matches them.
//!
//! Matching then asks whether window codes of one image are within a small
//! Hamming distance of window codes of another, through several distinct
//! window pairs (see `hamming_index::SupportRule`).
//! Costs are kept low so that catalogues of millions of images fit on one
//! machine: DCT-domain JPEG scaling means a 0.5-megapixel JPEG is decoded at
//! about 100 x 75, and every hash works from that.

mod bundle;
mod decode;
mod hashes;
mod luma;
mod pdq;
mod trim;
mod windows;

#[cfg(test)]
pub(crate) mod tests;

use rayon::prelude::*;

pub use decode::{
    check_dimensions, decode_luma, reduction_factor, sniff_format, DecodeLimits, DecodedImage,
    ImageFormat,
};
pub use hashes::{
    dhash64, dhash64_from_grid, dhash64_mirrored_from_grid, dhash_grid, dhash_grid_with,
    hamming256, hamming64, phash64, phash64_from_grid, phash64_pair_from_grid, phash_grid,
    phash_grid_with, phash_low_dct, DHASH_H, DHASH_W, PHASH_N,
};
pub use luma::{grid_energy, resample_area, rgb_to_luma, AreaSampler, LumaImage, Rect, RowReducer};
pub use pdq::{
    jarosz_window, pdq256_from_luma, pdq256_with_mirror, pdq_bits, pdq_float256, pdq_hex,
    pdq_mirror_block, quality_64, PdqHash, MIN_HASHABLE_DIM,
};
pub use trim::{trim_content, Trim, TrimConfig};
pub use windows::{window_rects, Window, WindowKind};

use crate::error::CoreResult;
use bundle::fingerprint_working;

/// A hash algorithm of the bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// 64-bit difference hash (9 x 8 gradient), `imagehash.dhash` semantics.
    Dhash64,
    /// 64-bit DCT hash (32 x 32, 8 x 8 low frequencies), `imagehash.phash`.
    Phash64,
    /// Meta's 256-bit PDQ.
    Pdq256,
}

impl Algorithm {
    /// Name used in the `algorithm` column: `dhash64`, `phash64`, `pdq256`.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Dhash64 => "dhash64",
            Algorithm::Phash64 => "phash64",
            Algorithm::Pdq256 => "pdq256",
        }
    }

    /// Code width in bits.
    pub fn bits(self) -> u32 {
        match self {
            Algorithm::Pdq256 => 256,
            _ => 64,
        }
    }
}

/// A hash value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashCode {
    /// dHash / pHash.
    Bits64(u64),
    /// PDQ.
    Bits256(PdqHash),
}

impl HashCode {
    /// Big-endian bytes (8 or 32): the form stored in the `hash` column, whose
    /// hex is `imagehash`'s / the PDQ reference's text form.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            HashCode::Bits64(v) => v.to_be_bytes().to_vec(),
            HashCode::Bits256(h) => h.to_vec(),
        }
    }

    /// The 64-bit value, for dHash / pHash codes.
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            HashCode::Bits64(v) => Some(*v),
            HashCode::Bits256(_) => None,
        }
    }
}

/// One hash of one window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowHash {
    /// Algorithm.
    pub algorithm: Algorithm,
    /// Region hashed.
    pub window: Window,
    /// The code.
    pub code: HashCode,
    /// Quality 0..=100 (PDQ's own for PDQ rows; 0 when the image failed the
    /// quality gate).
    pub quality: u8,
}

/// The hash bundle of one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Fingerprint {
    /// Width of the source image (the luma's width for [`fingerprint_luma`]).
    pub width: u32,
    /// Height of the source image.
    pub height: u32,
    /// Container format; `None` for [`fingerprint_luma`].
    pub format: Option<ImageFormat>,
    /// 0..=100: PDQ's gradient quality of the content window; 0 when below
    /// [`FingerprintConfig::min_quality`] (such an image must never match).
    pub quality: u8,
    /// The content rectangle in source-image pixels.
    pub content: Rect,
    /// Every hash, ordered by window id, then algorithm.
    pub hashes: Vec<WindowHash>,
}

impl Fingerprint {
    /// All window codes of a 64-bit algorithm, in window order.
    pub fn codes64(&self, algorithm: Algorithm) -> Vec<u64> {
        self.hashes
            .iter()
            .filter(|h| h.algorithm == algorithm)
            .filter_map(|h| h.code.as_u64())
            .collect()
    }

    /// Codes of two 64-bit algorithms over the windows that have both, in
    /// window order: `(a[k], b[k])` belong to the same window (the input of
    /// `group_assets_confirmed`).
    pub fn paired_codes64(&self, a: Algorithm, b: Algorithm) -> (Vec<u64>, Vec<u64>) {
        let code = |alg, window| self.code(alg, window).and_then(|c| c.as_u64());
        self.hashes
            .iter()
            .filter(|h| h.algorithm == a)
            .filter_map(|h| Some((h.code.as_u64()?, code(b, h.window)?)))
            .unzip()
    }

    /// The code of one window, if it was hashed.
    pub fn code(&self, algorithm: Algorithm, window: Window) -> Option<HashCode> {
        self.hashes
            .iter()
            .find(|h| h.algorithm == algorithm && h.window == window)
            .map(|h| h.code)
    }
}

/// The `algorithm` column value of a window hash: the bare algorithm name for
/// the unmirrored full image (what plain dHash/pHash/PDQ tools produce),
/// `name@window` otherwise (`dhash64@crop10_mirror`).
pub fn algorithm_label(algorithm: Algorithm, window: Window) -> String {
    if window == Window::FULL {
        algorithm.name().to_string()
    } else {
        format!("{}@{}", algorithm.name(), window.name())
    }
}

/// Which algorithms to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Algorithms {
    /// dHash on every window.
    pub dhash64: bool,
    /// pHash on every window.
    pub phash64: bool,
    /// PDQ on the full and trimmed windows (a whole-image hash: no crops,
    /// no mirrors; `pdq256_with_mirror` gives the reference's dihedral form).
    pub pdq256: bool,
}

/// Settings of fingerprinting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FingerprintConfig {
    /// Input size and pixel limits.
    pub limits: DecodeLimits,
    /// Short side of the working image (decoding reduces down to it, never
    /// below). 64 is enough for 64-bit hashes and PDQ's 64 x 64 stage.
    pub work_min_side: u32,
    /// Algorithms computed.
    pub algorithms: Algorithms,
    /// Hash the whole window set (`true`) or only the full image.
    pub all_windows: bool,
    /// Images whose quality is below this get quality 0 (10: a flat image
    /// with a small logo or a faint gradient falls below, any real photo or
    /// designed creative is far above).
    pub min_quality: u8,
    /// Windows other than the full image whose 32 x 32 grid has less mean
    /// neighbour difference than this (luma levels) are not hashed: their
    /// bits would be noise.
    pub min_window_energy: f32,
    /// Trimming thresholds.
    pub trim: TrimConfig,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        FingerprintConfig {
            limits: DecodeLimits::default(),
            work_min_side: 64,
            algorithms: Algorithms {
                dhash64: true,
                phash64: true,
                pdq256: true,
            },
            all_windows: true,
            min_quality: 10,
            min_window_energy: 1.0,
            trim: TrimConfig::default(),
        }
    }
}

/// Fingerprint one encoded image (JPEG, PNG or WebP).
///
/// Errors: `InvalidInput` for empty, unrecognised, corrupt or truncated
/// bytes; `LimitExceeded` when the input or its dimensions exceed
/// `config.limits`.
pub fn fingerprint_bytes(bytes: &[u8], config: &FingerprintConfig) -> CoreResult<Fingerprint> {
    let decoded = decode_luma(bytes, config.work_min_side, &config.limits)?;
    let mut fp = fingerprint_working(&decoded.luma, config);
    let (sx, sy) = (
        decoded.width as f32 / decoded.luma.width as f32,
        decoded.height as f32 / decoded.luma.height as f32,
    );
    fp.content = Rect {
        x: fp.content.x * sx,
        y: fp.content.y * sy,
        w: fp.content.w * sx,
        h: fp.content.h * sy,
    };
    fp.width = decoded.width;
    fp.height = decoded.height;
    fp.format = Some(decoded.format);
    Ok(fp)
}

/// Fingerprint already-decoded pixels (a video frame, an image decoded
/// elsewhere). A large image is first box-reduced to the working size.
pub fn fingerprint_luma(luma: &LumaImage, config: &FingerprintConfig) -> Fingerprint {
    let k = reduction_factor(
        luma.width,
        luma.height,
        config.work_min_side.max(8) as usize,
    );
    let (fp, scale) = if k > 1 {
        let small = luma.box_reduce(k);
        let s = (
            luma.width as f32 / small.width as f32,
            luma.height as f32 / small.height as f32,
        );
        (fingerprint_working(&small, config), s)
    } else {
        (fingerprint_working(luma, config), (1.0, 1.0))
    };
    let c = fp.content;
    Fingerprint {
        width: luma.width as u32,
        height: luma.height as u32,
        content: Rect {
            x: c.x * scale.0,
            y: c.y * scale.1,
            w: c.w * scale.0,
            h: c.h * scale.1,
        },
        ..fp
    }
}

/// Fingerprint many images in parallel; one result per input, in order, so
/// a bad file fails only its own item.
pub fn fingerprint_batch(
    items: &[&[u8]],
    config: &FingerprintConfig,
) -> Vec<CoreResult<Fingerprint>> {
    crate::parallel::install(|| {
        items
            .par_iter()
            .map(|b| fingerprint_bytes(b, config))
            .collect()
    })
}
