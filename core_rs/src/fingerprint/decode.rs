//! Encoded image bytes to a small luma working image.
//!
//! * The format is sniffed from magic bytes (JPEG, PNG, WebP); anything else
//!   is `InvalidInput`.
//! * Header dimensions are read and checked against [`DecodeLimits`] before
//!   any pixel buffer is allocated (`LimitExceeded`), so a hostile header
//!   cannot make the process allocate gigabytes.
//! * JPEG decodes in the DCT domain at 1/2, 1/4 or 1/8 scale: the largest
//!   reduction that keeps the short side at least `min_side`. PNG streams
//!   rows through an integer box reduction (interlaced PNGs and WebP decode
//!   whole frames, within the pixel limit, then reduce).
//! * Decoders run under `catch_unwind`: a decoder bug on a malformed file
//!   becomes `InvalidInput`, never a crash of the batch.
//! * Transparent pixels are composited over white, as a browser shows them
//!   on a white page.

use std::io::Cursor;
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::luma::{rgb_to_luma, LumaImage, RowReducer};
use crate::error::{CoreError, CoreResult};

/// Container formats the decoder understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    /// JPEG (baseline, progressive, lossless; 8-bit, gray/YCbCr/CMYK).
    Jpeg,
    /// PNG (any bit depth and colour type; APNG gives its default image).
    Png,
    /// WebP (lossy, lossless, with alpha; animated gives the first frame).
    Webp,
}

impl ImageFormat {
    /// Lower-case name: `jpeg`, `png`, `webp`.
    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpeg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
        }
    }
}

/// Resource limits applied before decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest accepted input, in bytes.
    pub max_input_bytes: usize,
    /// Largest accepted `width * height` from the header.
    pub max_pixels: u64,
    /// Largest accepted width or height.
    pub max_side: u32,
}

impl Default for DecodeLimits {
    /// 64 MiB of input, 50 megapixels, 20,000 px on a side: above any
    /// creative a platform serves, below what would strain a worker.
    fn default() -> Self {
        DecodeLimits {
            max_input_bytes: 64 << 20,
            max_pixels: 50_000_000,
            max_side: 20_000,
        }
    }
}

/// A decoded image: its original size and the reduced luma working image.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedImage {
    /// Container format.
    pub format: ImageFormat,
    /// Width in the file.
    pub width: u32,
    /// Height in the file.
    pub height: u32,
    /// Reduced luma: short side at least `min_side` (or the original size
    /// when smaller), at most about twice that.
    pub luma: LumaImage,
}

/// The format named by the first bytes, if any.
pub fn sniff_format(bytes: &[u8]) -> Option<ImageFormat> {
    if bytes.len() >= 3 && bytes[..3] == [0xFF, 0xD8, 0xFF] {
        Some(ImageFormat::Jpeg)
    } else if bytes.len() >= 8 && bytes[..8] == [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A] {
        Some(ImageFormat::Png)
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

/// Check header dimensions against the limits.
pub fn check_dimensions(width: u32, height: u32, limits: &DecodeLimits) -> CoreResult<()> {
    if width == 0 || height == 0 {
        return Err(CoreError::invalid(format!(
            "image has zero size ({width}x{height})"
        )));
    }
    if width > limits.max_side || height > limits.max_side {
        return Err(CoreError::LimitExceeded(format!(
            "image is {width}x{height}, a side exceeds the limit of {} px",
            limits.max_side
        )));
    }
    let pixels = width as u64 * height as u64;
    if pixels > limits.max_pixels {
        return Err(CoreError::LimitExceeded(format!(
            "image is {width}x{height} = {pixels} pixels, above the limit of {}",
            limits.max_pixels
        )));
    }
    Ok(())
}

/// Integer reduction factor keeping the short side at least `min_side`.
pub fn reduction_factor(width: usize, height: usize, min_side: usize) -> usize {
    (width.min(height) / min_side.max(1)).max(1)
}

/// Decode `bytes` to a reduced luma image whose short side is at least
/// `min_side` pixels (unless the image itself is smaller).
///
/// Errors: `InvalidInput` for empty, unrecognised, corrupt or truncated
/// input; `LimitExceeded` when the input or its header dimensions exceed
/// `limits`.
pub fn decode_luma(bytes: &[u8], min_side: u32, limits: &DecodeLimits) -> CoreResult<DecodedImage> {
    if bytes.is_empty() {
        return Err(CoreError::invalid("image input is empty (0 bytes)"));
    }
    if bytes.len() > limits.max_input_bytes {
        return Err(CoreError::LimitExceeded(format!(
            "image input is {} bytes, above the limit of {}",
            bytes.len(),
            limits.max_input_bytes
        )));
    }
    let format = sniff_format(bytes).ok_or_else(|| {
        CoreError::invalid("input is not a JPEG, PNG or WebP image (unrecognised magic bytes)")
    })?;
    let min_side = min_side.max(8) as usize;
    let run = || match format {
        ImageFormat::Jpeg => decode_jpeg(bytes, min_side, limits),
        ImageFormat::Png => decode_png(bytes, min_side, limits),
        ImageFormat::Webp => decode_webp(bytes, min_side, limits),
    };
    let (width, height, luma) = catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|_| {
        Err(CoreError::invalid(format!(
            "malformed {} image (the decoder rejected it)",
            format.name()
        )))
    })?;
    Ok(DecodedImage {
        format,
        width,
        height,
        luma,
    })
}

type Decoded = CoreResult<(u32, u32, LumaImage)>;

fn corrupt(format: ImageFormat, e: impl std::fmt::Display) -> CoreError {
    CoreError::invalid(format!("corrupt or truncated {} image: {e}", format.name()))
}

fn decode_jpeg(bytes: &[u8], min_side: usize, limits: &DecodeLimits) -> Decoded {
    use jpeg_decoder::{Decoder, PixelFormat};
    let err = |e| corrupt(ImageFormat::Jpeg, e);
    let mut dec = Decoder::new(Cursor::new(bytes));
    dec.read_info().map_err(err)?;
    let info = dec
        .info()
        .ok_or_else(|| err(jpeg_decoder::Error::Format("no frame header".into())))?;
    let (w, h) = (info.width as u32, info.height as u32);
    check_dimensions(w, h, limits)?;
    // Largest IDCT reduction (1/8, 1/4, 1/2) keeping the short side >= min_side.
    let short = w.min(h) as usize;
    let denom = [8usize, 4, 2]
        .into_iter()
        .find(|&d| short.div_ceil(d) >= min_side)
        .unwrap_or(1);
    let (sw, sh) = if denom > 1 {
        let req = |n: u32| (n as usize).div_ceil(denom) as u16;
        dec.scale(req(w), req(h)).map_err(err)?
    } else {
        (info.width, info.height)
    };
    dec.set_max_decoding_buffer_size((limits.max_pixels as usize).saturating_mul(4));
    let pixels = dec.decode().map_err(err)?;
    let (sw, sh) = (sw as usize, sh as usize);
    let format = dec
        .info()
        .map(|i| i.pixel_format)
        .unwrap_or(info.pixel_format);
    let n = sw * sh;
    let data: Vec<f32> = match format {
        PixelFormat::L8 if pixels.len() >= n => pixels[..n].iter().map(|&p| p as f32).collect(),
        PixelFormat::L16 if pixels.len() >= 2 * n => pixels
            .chunks_exact(2)
            .take(n)
            .map(|c| u16::from_ne_bytes([c[0], c[1]]) as f32 / 257.0)
            .collect(),
        PixelFormat::RGB24 if pixels.len() >= 3 * n => pixels
            .chunks_exact(3)
            .take(n)
            .map(|p| rgb_to_luma(p[0], p[1], p[2]))
            .collect(),
        PixelFormat::CMYK32 if pixels.len() >= 4 * n => pixels
            .chunks_exact(4)
            .take(n)
            .map(|p| {
                let k = 255 - p[3] as u32;
                let ch = |c: u8| ((255 - c as u32) * k / 255) as u8;
                rgb_to_luma(ch(p[0]), ch(p[1]), ch(p[2]))
            })
            .collect(),
        _ => {
            return Err(err(jpeg_decoder::Error::Format(
                "decoded buffer has the wrong size".into(),
            )))
        }
    };
    let luma = LumaImage::new(sw, sh, data)?;
    let k = reduction_factor(sw, sh, min_side);
    Ok((w, h, luma.box_reduce(k)))
}

/// Luma of one 8-bit pixel of `channels` channels (1 gray, 2 gray+alpha,
/// 3 RGB, 4 RGBA), alpha composited over white.
#[inline]
fn pixel_luma(p: &[u8]) -> f32 {
    let (y, a) = match p.len() {
        1 => (p[0] as f32, 255u8),
        2 => (p[0] as f32, p[1]),
        3 => (rgb_to_luma(p[0], p[1], p[2]), 255),
        _ => (rgb_to_luma(p[0], p[1], p[2]), p[3]),
    };
    if a == 255 {
        y
    } else {
        let a = a as f32 / 255.0;
        y * a + 255.0 * (1.0 - a)
    }
}

fn decode_png(bytes: &[u8], min_side: usize, limits: &DecodeLimits) -> Decoded {
    use png::{BitDepth, Transformations};
    let err = |e| corrupt(ImageFormat::Png, e);
    let mut dec = png::Decoder::new_with_limits(
        Cursor::new(bytes),
        png::Limits {
            bytes: limits.max_input_bytes.max(1 << 20),
        },
    );
    let (w, h) = {
        let info = dec.read_header_info().map_err(err)?;
        (info.width, info.height)
    };
    check_dimensions(w, h, limits)?;
    dec.set_transformations(Transformations::EXPAND | Transformations::STRIP_16);
    dec.set_ignore_text_chunk(true);
    dec.set_ignore_iccp_chunk(true);
    let mut reader = dec.read_info().map_err(err)?;
    let (color, depth) = reader.output_color_type();
    if depth != BitDepth::Eight {
        return Err(err(png::DecodingError::LimitsExceeded));
    }
    let channels = color.samples();
    let (wu, hu) = (w as usize, h as usize);
    let k = reduction_factor(wu, hu, min_side);
    let mut reducer = RowReducer::new(wu, hu, k);
    let mut luma_row = vec![0f32; wu];
    if reader.info().interlaced {
        // Adam7 rows arrive pass by pass: decode the frame, then reduce.
        let size = reader
            .output_buffer_size()
            .ok_or_else(|| err(png::DecodingError::LimitsExceeded))?;
        let mut buf = vec![0u8; size];
        let out = reader.next_frame(&mut buf).map_err(err)?;
        for row in buf.chunks_exact(out.line_size).take(hu) {
            for (l, p) in luma_row.iter_mut().zip(row.chunks_exact(channels)) {
                *l = pixel_luma(p);
            }
            reducer.push_row(&luma_row);
        }
    } else {
        let mut rows = 0usize;
        while let Some(row) = reader.next_row().map_err(err)? {
            for (l, p) in luma_row.iter_mut().zip(row.data().chunks_exact(channels)) {
                *l = pixel_luma(p);
            }
            reducer.push_row(&luma_row);
            rows += 1;
        }
        if rows < hu {
            return Err(corrupt(
                ImageFormat::Png,
                format!("only {rows} of {hu} rows present"),
            ));
        }
    }
    Ok((w, h, reducer.finish()))
}

fn decode_webp(bytes: &[u8], min_side: usize, limits: &DecodeLimits) -> Decoded {
    let err = |e| corrupt(ImageFormat::Webp, e);
    let mut dec = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(err)?;
    let (w, h) = dec.dimensions();
    check_dimensions(w, h, limits)?;
    dec.set_memory_limit((limits.max_pixels as usize).saturating_mul(4));
    let size = dec
        .output_buffer_size()
        .ok_or_else(|| err(image_webp::DecodingError::ImageTooLarge))?;
    let channels = if dec.has_alpha() { 4 } else { 3 };
    let mut buf = vec![0u8; size];
    dec.read_image(&mut buf).map_err(err)?;
    let (wu, hu) = (w as usize, h as usize);
    let k = reduction_factor(wu, hu, min_side);
    let mut reducer = RowReducer::new(wu, hu, k);
    let mut luma_row = vec![0f32; wu];
    for row in buf.chunks_exact(wu * channels) {
        for (l, p) in luma_row.iter_mut().zip(row.chunks_exact(channels)) {
            *l = pixel_luma(p);
        }
        reducer.push_row(&luma_row);
    }
    Ok((w, h, reducer.finish()))
}
