//! Edge-bounded pads (step 3 of the trimming in the parent module): a
//! darkened, blurred letterbox around a soft creative, found by the straight
//! edges where it meets the content rather than by its lack of texture
//! alone.

use super::{budget, is_standard_aspect, line, median, Bounds, Side, TrimConfig};
use crate::fingerprint::LumaImage;

/// 30th percentile of the absolute step between lines `i` and `j`.
fn line_step(
    img: &LumaImage,
    side: Side,
    b: Bounds,
    i: usize,
    j: usize,
    bufs: &mut [Vec<f32>; 3],
) -> f32 {
    let [u, v, d] = bufs;
    line(img, side, b, i, u);
    line(img, side, b, j, v);
    d.clear();
    d.extend(u.iter().zip(v.iter()).map(|(a, b)| (a - b).abs()));
    let k = d.len() * 3 / 10;
    *d.select_nth_unstable_by(k, |a, b| a.total_cmp(b)).1
}

/// Whether two band sizes are alike enough for centred content.
fn balanced(a: usize, z: usize) -> bool {
    (a as f32 - z as f32).abs() <= 0.15 * a.max(z) as f32 + 2.0
}

/// Fine texture of one line: mean absolute second difference along it.
fn line_detail(values: &[f32]) -> f32 {
    if values.len() < 3 {
        return 0.0;
    }
    let sum: f32 = values
        .windows(3)
        .map(|w| (w[2] - 2.0 * w[1] + w[0]).abs())
        .sum();
    sum / (values.len() - 2) as f32
}

/// Edge-bounded pads at both ends of the lines scanned from `first` (see
/// the module documentation, step 3): `(a, z)` lines to remove, or zeros.
pub(super) fn edge_bands(
    img: &LumaImage,
    first: Side,
    b: Bounds,
    full: usize,
    cfg: &TrimConfig,
) -> (usize, usize) {
    let (lines, len) = b.extent(first);
    if lines < 16 || len < 8 {
        return (0, 0);
    }
    let mut bufs = [Vec::new(), Vec::new(), Vec::new()];
    // Step before line k (content starting at k from the top, or ending
    // before k): across one line, or across two when the edge falls
    // between working pixels.
    let step: Vec<f32> = (0..=lines)
        .map(|k| {
            if k < 2 || k + 1 > lines {
                return 0.0;
            }
            let one = line_step(img, first, b, k - 1, k, &mut bufs);
            let two = if k + 1 < lines {
                line_step(img, first, b, k - 2, k + 1, &mut bufs)
            } else {
                0.0
            };
            one.max(two)
        })
        .collect();
    let mut buf = Vec::new();
    let detail: Vec<f32> = (0..lines)
        .map(|i| {
            line(img, first, b, i, &mut buf);
            line_detail(&buf)
        })
        .collect();
    let min_band = ((cfg.min_blur_band * lines as f32).ceil() as usize).max(2);
    let edges = |range: std::ops::Range<usize>| -> Vec<usize> {
        range
            .filter(|&k| {
                step[k] >= cfg.edge_step && step[k] >= step[k - 1] && step[k] >= step[k + 1]
            })
            .collect()
    };
    let tops = edges(min_band..lines / 2);
    let bottoms = edges(lines / 2 + 1..lines + 1 - min_band);
    let limit = budget(lines, full, cfg);
    let (before, after) = match first {
        Side::Top | Side::Bottom => (b.y0, full - b.y1),
        Side::Left | Side::Right => (b.x0, full - b.x1),
    };
    let mut best: Option<(f32, usize, usize)> = None;
    for &a in &tops {
        for &z in &bottoms {
            let tail = lines - z;
            // Centred between the edges of what the solid pads left, or of
            // the whole image (a band caption can pass for part of a pad).
            let centred = balanced(a, tail) || balanced(a + before, tail + after);
            if !centred || a + tail > limit || z <= a + 2 {
                continue;
            }
            let kept = (z - a) as f32;
            let aspect = match first {
                Side::Top | Side::Bottom => len as f32 / kept,
                Side::Left | Side::Right => kept / len as f32,
            };
            if !is_standard_aspect(aspect) {
                continue;
            }
            // Lines next to the edges are mixed: leave one out on each side.
            let outside: Vec<f32> = detail[..a - 1]
                .iter()
                .chain(&detail[z + 1..])
                .copied()
                .collect();
            let inside = &detail[a + 1..z - 1];
            if outside.is_empty() || inside.is_empty() {
                continue;
            }
            let (out_t, in_t) = (median(&outside), median(inside));
            if !(in_t > 0.0 && out_t <= cfg.edge_texture_ratio * in_t) {
                continue;
            }
            let strength = step[a] + step[z];
            if best.is_none_or(|(s, _, _)| strength > s) {
                best = Some((strength, a, tail));
            }
        }
    }
    best.map_or((0, 0), |(_, a, tail)| (a, tail))
}
