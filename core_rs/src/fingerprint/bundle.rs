//! The hash bundle of one working image: trimming, the window set, every
//! hash of every window, and the quality gate.

use super::{
    dhash64_from_grid, dhash64_mirrored_from_grid, dhash_grid_with, grid_energy, pdq_bits,
    pdq_float256, phash64_pair_from_grid, phash_grid_with, trim_content, window_rects, Algorithm,
    AreaSampler, Fingerprint, FingerprintConfig, HashCode, LumaImage, Window, WindowHash,
    WindowKind, PHASH_N,
};

/// The bundle of a working-size luma image (sizes in working pixels).
///
/// Quality is PDQ's gradient measure of the content window (the trimmed
/// image); below `config.min_quality` it becomes 0 for the image and every
/// row, which grouping never matches. Windows other than the full image
/// whose 32 x 32 grid is nearly flat are not hashed.
pub(super) fn fingerprint_working(img: &LumaImage, config: &FingerprintConfig) -> Fingerprint {
    let full = img.full_rect();
    let content = if config.all_windows {
        trim_content(img, &config.trim).rect
    } else {
        full
    };
    let content_luma = (content != full).then(|| img.crop(content));
    let content_pdq = {
        let l = content_luma.as_ref().unwrap_or(img);
        pdq_float256(&l.data, l.width, l.height)
    };
    let raw_quality = content_pdq.as_ref().map_or(0, |(_, q)| *q);
    let gated = raw_quality < config.min_quality;
    let quality = if gated { 0 } else { raw_quality };

    let mut hashes = Vec::new();
    let mut push = |algorithm, window, code, quality| {
        hashes.push(WindowHash {
            algorithm,
            window,
            code,
            quality,
        })
    };
    let algs = config.algorithms;
    let sampler = AreaSampler::new(img);
    for (kind, rect) in window_rects(full, content, config.all_windows) {
        let grid32 = phash_grid_with(&sampler, rect);
        if kind != WindowKind::Full
            && grid_energy(&grid32, PHASH_N, PHASH_N) < config.min_window_energy
        {
            continue;
        }
        let plain = Window {
            kind,
            mirrored: false,
        };
        let mirror = Window {
            kind,
            mirrored: true,
        };
        if algs.dhash64 {
            let g = dhash_grid_with(&sampler, rect);
            push(
                Algorithm::Dhash64,
                plain,
                HashCode::Bits64(dhash64_from_grid(&g)),
                quality,
            );
            let m = dhash64_mirrored_from_grid(&g);
            push(Algorithm::Dhash64, mirror, HashCode::Bits64(m), quality);
        }
        if algs.phash64 {
            let (p, pm) = phash64_pair_from_grid(&grid32);
            push(Algorithm::Phash64, plain, HashCode::Bits64(p), quality);
            push(Algorithm::Phash64, mirror, HashCode::Bits64(pm), quality);
        }
        // PDQ, a whole-image hash, only of the full and trimmed windows.
        if algs.pdq256 && matches!(kind, WindowKind::Full | WindowKind::Trimmed) {
            let block = if kind == WindowKind::Trimmed || content == full {
                content_pdq
            } else {
                pdq_float256(&img.data, img.width, img.height)
            };
            if let Some((b, pq)) = block {
                let pq = if gated { 0 } else { pq };
                push(
                    Algorithm::Pdq256,
                    plain,
                    HashCode::Bits256(pdq_bits(&b)),
                    pq,
                );
            }
        }
    }
    hashes.sort_by_key(|h| (h.window.id(), h.algorithm));
    Fingerprint {
        width: img.width as u32,
        height: img.height as u32,
        format: None,
        quality,
        content,
        hashes,
    }
}
