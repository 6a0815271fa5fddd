//! Decoding: formats, DCT scaling, alpha, limits, hostile input.

use super::*;
use crate::CoreError;

fn limits() -> DecodeLimits {
    DecodeLimits::default()
}

/// CRC-32 (IEEE), bit by bit: enough for hand-made PNG chunks.
pub(crate) fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc_input = kind.to_vec();
    crc_input.extend_from_slice(data);
    out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    out
}

/// A PNG signature + IHDR for an 8-bit image of colour type `color`.
fn png_head(w: u32, h: u32, color: u8, interlace: u8) -> Vec<u8> {
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, color, 0, 0, interlace]);
    out.extend(chunk(b"IHDR", &ihdr));
    out
}

/// zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(65_535).collect()
    };
    for (i, block) in blocks.iter().enumerate() {
        out.push((i + 1 == blocks.len()) as u8);
        let len = block.len() as u16;
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &x in data {
        a = (a + x as u32) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

/// An Adam7-interlaced 8-bit grayscale PNG, built by hand (the encoder
/// cannot write interlaced files).
fn interlaced_gray_png(w: usize, h: usize, px: &[u8]) -> Vec<u8> {
    const PASSES: [(usize, usize, usize, usize); 7] = [
        (0, 0, 8, 8),
        (4, 0, 8, 8),
        (0, 4, 4, 8),
        (2, 0, 4, 4),
        (0, 2, 2, 4),
        (1, 0, 2, 2),
        (0, 1, 1, 2),
    ];
    let mut raw = Vec::new();
    for (x0, y0, dx, dy) in PASSES {
        if x0 >= w || y0 >= h {
            continue;
        }
        for y in (y0..h).step_by(dy) {
            raw.push(0); // filter: none
            raw.extend((x0..w).step_by(dx).map(|x| px[y * w + x]));
        }
    }
    let mut out = png_head(w as u32, h as u32, 0, 1);
    out.extend(chunk(b"IDAT", &zlib_stored(&raw)));
    out.extend(chunk(b"IEND", &[]));
    out
}

#[test]
fn sniffs_formats_by_magic_bytes() {
    let img = creative(1, 40, 30);
    assert_eq!(
        sniff_format(&encode_jpeg(&img, 80)),
        Some(ImageFormat::Jpeg)
    );
    assert_eq!(sniff_format(&encode_png(&img)), Some(ImageFormat::Png));
    assert_eq!(sniff_format(&encode_webp(&img)), Some(ImageFormat::Webp));
    assert_eq!(sniff_format(b"GIF89a......"), None);
    assert_eq!(sniff_format(b"RIFF\0\0\0\0WAVE"), None);
    assert_eq!(sniff_format(&[0xFF, 0xD8]), None);
}

#[test]
fn jpeg_decodes_at_reduced_scale_with_short_side_at_least_min() {
    let img = creative(2, 640, 480);
    let bytes = encode_jpeg(&img, 90);
    let d = decode_luma(&bytes, 64, &limits()).expect("decode");
    assert_eq!((d.width, d.height, d.format), (640, 480, ImageFormat::Jpeg));
    // 1/4 would give 120 rows; 1/8 gives 60 < 64, so 1/4 it is.
    assert_eq!((d.luma.width, d.luma.height), (160, 120));
    let d = decode_luma(&bytes, 32, &limits()).expect("decode");
    assert_eq!((d.luma.width, d.luma.height), (80, 60));
    // The reduced luma is the image's luma, averaged.
    let reference = img.luma().box_reduce(8);
    let mean_abs: f32 = d
        .luma
        .data
        .iter()
        .zip(&reference.data)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / reference.data.len() as f32;
    assert!(mean_abs < 6.0, "mean abs difference {mean_abs}");
}

#[test]
fn small_images_keep_their_size() {
    let img = creative(3, 50, 40);
    for bytes in [encode_jpeg(&img, 90), encode_png(&img), encode_webp(&img)] {
        let d = decode_luma(&bytes, 64, &limits()).expect("decode");
        assert_eq!((d.luma.width, d.luma.height), (50, 40));
    }
}

#[test]
fn png_and_webp_reduce_by_integer_boxes_and_match_the_source_luma() {
    let img = creative(4, 300, 200);
    let reference = img.luma().box_reduce(3);
    for bytes in [encode_png(&img), encode_webp(&img)] {
        let d = decode_luma(&bytes, 64, &limits()).expect("decode");
        assert_eq!((d.luma.width, d.luma.height), (100, 67));
        let worst = d
            .luma
            .data
            .iter()
            .zip(&reference.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        assert!(
            worst < 0.01,
            "lossless formats decode exactly, worst {worst}"
        );
    }
}

#[test]
fn grayscale_jpeg_and_png_variants_decode() {
    let gray: Vec<u8> = (0..64 * 48).map(|i| (i % 64 * 4) as u8).collect();
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, 90)
        .encode(&gray, 64, 48, jpeg_encoder::ColorType::Luma)
        .expect("encode");
    let d = decode_luma(&jpeg, 16, &limits()).expect("gray jpeg");
    assert_eq!((d.luma.width, d.luma.height), (32, 24));
    // 16-bit gray PNG: samples are stripped to 8 bits.
    let mut png16 = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png16, 4, 2);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Sixteen);
        let samples: Vec<u8> = [0u16, 65535, 32896, 1000, 0, 0, 65535, 65535]
            .iter()
            .flat_map(|v| v.to_be_bytes())
            .collect();
        enc.write_header()
            .expect("header")
            .write_image_data(&samples)
            .expect("data");
    }
    let d = decode_luma(&png16, 64, &limits()).expect("16-bit png");
    assert_eq!(d.luma.data[..4], [0.0, 255.0, 128.0, 3.0]);
    // Palette PNG.
    let mut pal = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut pal, 2, 1);
        enc.set_color(png::ColorType::Indexed);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_palette(vec![255, 0, 0, 0, 0, 255]);
        enc.write_header()
            .expect("header")
            .write_image_data(&[0, 1])
            .expect("data");
    }
    let d = decode_luma(&pal, 64, &limits()).expect("palette png");
    assert!(
        (d.luma.data[0] - 0.299 * 255.0).abs() < 0.01
            && (d.luma.data[1] - 0.114 * 255.0).abs() < 0.01
    );
}

#[test]
fn interlaced_png_decodes_like_the_plain_one() {
    let (w, h) = (37, 23);
    let px: Vec<u8> = (0..w * h).map(|i| ((i * 7) % 251) as u8).collect();
    let d = decode_luma(&interlaced_gray_png(w, h, &px), 64, &limits()).expect("interlaced");
    assert_eq!(d.luma, LumaImage::from_gray8(w, h, &px).expect("luma"));
}

#[test]
fn transparency_is_composited_over_white() {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, 3, 1);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let px = [0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 128];
        enc.write_header()
            .expect("header")
            .write_image_data(&px)
            .expect("data");
    }
    let d = decode_luma(&out, 64, &limits()).expect("rgba png");
    assert_eq!(d.luma.data[0], 255.0);
    assert_eq!(d.luma.data[1], 0.0);
    assert!((d.luma.data[2] - 255.0 * (1.0 - 128.0 / 255.0)).abs() < 0.01);
}

fn assert_invalid(bytes: &[u8], what: &str) {
    match decode_luma(bytes, 64, &limits()) {
        Err(CoreError::InvalidInput(msg)) => assert!(!msg.is_empty(), "{what}"),
        other => panic!("{what}: expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn empty_and_non_image_input_is_invalid() {
    assert_invalid(&[], "zero bytes");
    assert_invalid(b"hello, world", "text");
    assert_invalid(b"GIF89a\x01\x00\x01\x00", "gif");
    let mut rng = Rng(99);
    let noise: Vec<u8> = (0..4096).map(|_| rng.below(256) as u8).collect();
    assert_invalid(&noise, "random bytes");
    assert_invalid(&[0xFF, 0xD8, 0xFF], "bare jpeg magic");
    assert_invalid(&png_head(10, 10, 2, 0), "png without data");
    assert_invalid(b"RIFF\x04\0\0\0WEBP", "webp without chunks");
    match fingerprint_bytes(b"", &FingerprintConfig::default()) {
        Err(CoreError::InvalidInput(msg)) => assert!(msg.contains("empty")),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn truncated_files_are_invalid_not_panics() {
    let img = creative(5, 96, 64);
    for (name, bytes) in [
        ("jpeg", encode_jpeg(&img, 85)),
        ("png", encode_png(&img)),
        ("webp", encode_webp(&img)),
    ] {
        for cut in (1..16).map(|k| bytes.len() * k / 16) {
            assert_invalid(
                &bytes[..cut],
                &format!("{name} cut at {cut} of {}", bytes.len()),
            );
        }
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    let img = creative(6, 64, 48);
    let mut rng = Rng(7);
    for bytes in [encode_jpeg(&img, 85), encode_png(&img), encode_webp(&img)] {
        for _ in 0..40 {
            let mut b = bytes.clone();
            for _ in 0..1 + rng.below(6) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] ^= 1 << rng.below(8);
            }
            // A flipped bit in entropy-coded data may still decode; what
            // must never happen is a panic or another error class.
            match fingerprint_bytes(&b, &FingerprintConfig::default()) {
                Ok(_) | Err(CoreError::InvalidInput(_)) => {}
                Err(e) => panic!("unexpected error class: {e:?}"),
            }
        }
    }
}

/// A JPEG whose frame header claims `w x h`.
pub(crate) fn jpeg_claiming(w: u16, h: u16) -> Vec<u8> {
    let mut bytes = encode_jpeg(&creative(8, 16, 16), 80);
    let sof = bytes
        .windows(2)
        .position(|p| p == [0xFF, 0xC0])
        .expect("baseline SOF0");
    bytes[sof + 5..sof + 7].copy_from_slice(&h.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&w.to_be_bytes());
    bytes
}

/// A PNG whose IHDR claims `w x h` (valid CRC), followed by real data of a
/// tiny image.
pub(crate) fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut out = png_head(w, h, 2, 0);
    out.extend(chunk(b"IDAT", &zlib_stored(&[0, 1, 2, 3])));
    out.extend(chunk(b"IEND", &[]));
    out
}

/// A lossless WebP whose VP8L header claims `w x h` (14 bits each).
pub(crate) fn webp_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut bytes = encode_webp(&creative(9, 16, 16));
    let at = bytes
        .windows(4)
        .position(|p| p == b"VP8L")
        .expect("lossless chunk")
        + 8;
    assert_eq!(bytes[at], 0x2F, "VP8L signature");
    let bits = (w - 1) | ((h - 1) << 14) | ((bytes[at + 4] as u32 >> 4) << 28);
    bytes[at + 1..at + 5].copy_from_slice(&bits.to_le_bytes());
    bytes
}

#[test]
fn oversized_headers_hit_the_limit() {
    for (name, bytes) in [
        ("jpeg", jpeg_claiming(60_000, 60_000)),
        ("png", png_claiming(100_000, 100_000)),
        ("png-wide", png_claiming(30_000, 10)),
        ("webp", webp_claiming(16_000, 16_000)),
    ] {
        match decode_luma(&bytes, 64, &limits()) {
            Err(CoreError::LimitExceeded(msg)) => assert!(msg.contains("limit"), "{name}: {msg}"),
            other => panic!("{name}: expected LimitExceeded, got {other:?}"),
        }
    }
}

#[test]
fn limits_are_configurable() {
    let img = creative(10, 100, 80);
    let bytes = encode_jpeg(&img, 80);
    let tight = DecodeLimits {
        max_pixels: 100 * 80 - 1,
        ..limits()
    };
    assert!(matches!(
        decode_luma(&bytes, 64, &tight),
        Err(CoreError::LimitExceeded(_))
    ));
    let exact = DecodeLimits {
        max_pixels: 100 * 80,
        ..limits()
    };
    assert!(decode_luma(&bytes, 64, &exact).is_ok());
    let small_input = DecodeLimits {
        max_input_bytes: bytes.len() - 1,
        ..limits()
    };
    assert!(matches!(
        decode_luma(&bytes, 64, &small_input),
        Err(CoreError::LimitExceeded(_))
    ));
    let narrow = DecodeLimits {
        max_side: 99,
        ..limits()
    };
    assert!(matches!(
        decode_luma(&bytes, 64, &narrow),
        Err(CoreError::LimitExceeded(_))
    ));
}

#[test]
fn tiny_and_thin_images_fingerprint_without_panicking() {
    for (w, h) in [(1, 1), (2, 3), (7, 5), (1200, 2), (2, 900)] {
        let img = creative(w as u64 * 7 + h as u64, w, h);
        for bytes in [encode_png(&img), encode_jpeg(&img, 90), encode_webp(&img)] {
            let f = fp(&bytes);
            assert_eq!((f.width, f.height), (w as u32, h as u32));
            assert!(f.code(Algorithm::Dhash64, Window::FULL).is_some());
            if w < MIN_HASHABLE_DIM || h < MIN_HASHABLE_DIM {
                assert_eq!(f.quality, 0, "{w}x{h} is too small to hash reliably");
            }
        }
    }
}
