//! Finding the content rectangle: stripping what platforms add around a
//! creative before its hash is taken.
//!
//! 1. Symmetric low-texture bands: a 16:9 clip centred on a 9:16 canvas
//!    whose bands are a blurred, zoomed copy of it (or plain colour). Per
//!    line (row or column) the energy is the mean of the smallest 70 % of
//!    neighbour differences, so a caption drawn on a band does not hide it;
//!    bands are the runs from both ends whose energy stays below a fraction
//!    of the centre's. They count only when both are present, of similar
//!    size (platforms centre content) and leave a standard aspect ratio
//!    (1:1, 4:3, 16:9, 4:5, 3:2, 2:1 or their portrait forms): a photo with
//!    a soft sky and a soft floor is left alone.
//! 2. Solid pads, frames and borders, on what remains: lines from an edge
//!    inwards whose pixels nearly all sit within a tolerance of the edge
//!    line's median colour. A few non-pad lines inside a pad (a caption or a
//!    logo written on a letterbox band) are skipped when pad lines follow
//!    within `max_gap` of the side. Twice round, so a frame inside a
//!    letterbox goes too.
//!
//! 3. Edge-bounded pads, when step 1 found none: after the solid pads (the
//!    title and account bands of a short-video cover) are gone, a pair of
//!    straight edges across the whole image (a darkened blurred copy meets
//!    the content along a line where nearly every pixel steps), centred,
//!    leaving a standard aspect ratio, with far less fine texture (second
//!    differences) outside them than between them. This catches the blurred
//!    letterbox around a soft creative, whose smooth gradients have as much
//!    neighbour difference as the blurred copy. Solid pads go once more
//!    afterwards.
//!
//! Trimming never leaves less than `min_keep` of a side. It is heuristic by
//! nature (a uniform stretch of the picture itself at an edge looks like a
//! pad), which is why the untrimmed image stays one of the hash windows and
//! the crop windows are cut from the full image.

use super::luma::{LumaImage, Rect};

mod edges;
use edges::edge_bands;

/// Thresholds of the trimming heuristics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrimConfig {
    /// A pixel belongs to a pad when within this many luma levels of the pad
    /// colour.
    pub pad_tolerance: f32,
    /// A line is pad when at least this fraction of its pixels belong to it.
    pub pad_coverage: f32,
    /// Non-pad lines tolerated inside a pad, as a fraction of the side.
    pub max_gap: f32,
    /// A line belongs to a low-texture band when its energy is below this
    /// fraction of the centre's.
    pub blur_ratio: f32,
    /// Minimum size of each low-texture band, as a fraction of the side.
    pub min_blur_band: f32,
    /// Trimming keeps at least this fraction of each side.
    pub min_keep: f32,
    /// An edge-bounded pad's edge: 30 % of the pixels along the line step by
    /// at least this many luma levels across it.
    pub edge_step: f32,
    /// An edge-bounded pad's lines have at most this fraction of the
    /// content's fine texture (medians of the lines' mean second difference).
    pub edge_texture_ratio: f32,
}

impl Default for TrimConfig {
    fn default() -> Self {
        TrimConfig {
            pad_tolerance: 10.0,
            pad_coverage: 0.92,
            max_gap: 0.08,
            blur_ratio: 0.25,
            min_blur_band: 0.05,
            min_keep: 0.25,
            edge_step: 8.0,
            edge_texture_ratio: 0.25,
        }
    }
}

/// What trimming found, in working-image pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trim {
    /// The content rectangle.
    pub rect: Rect,
    /// Solid pad sizes removed: top, bottom, left, right.
    pub solid: [usize; 4],
    /// Symmetric low-texture (blurred or plain) or edge-bounded band sizes
    /// removed: top, bottom, left, right.
    pub blurred: [usize; 4],
}

#[derive(Debug, Clone, Copy)]
enum Side {
    Top,
    Bottom,
    Left,
    Right,
}

/// Half-open pixel bounds.
#[derive(Debug, Clone, Copy)]
struct Bounds {
    x0: usize,
    x1: usize,
    y0: usize,
    y1: usize,
}

impl Bounds {
    /// Lines available when scanning from `side`, and their length.
    fn extent(&self, side: Side) -> (usize, usize) {
        match side {
            Side::Top | Side::Bottom => (self.y1 - self.y0, self.x1 - self.x0),
            Side::Left | Side::Right => (self.x1 - self.x0, self.y1 - self.y0),
        }
    }
}

/// The `i`-th line from `side` (within `b`) into `buf`.
fn line(img: &LumaImage, side: Side, b: Bounds, i: usize, buf: &mut Vec<f32>) {
    buf.clear();
    match side {
        Side::Top => buf.extend_from_slice(&img.row(b.y0 + i)[b.x0..b.x1]),
        Side::Bottom => buf.extend_from_slice(&img.row(b.y1 - 1 - i)[b.x0..b.x1]),
        Side::Left => buf.extend((b.y0..b.y1).map(|y| img.data[y * img.width + b.x0 + i])),
        Side::Right => buf.extend((b.y0..b.y1).map(|y| img.data[y * img.width + b.x1 - 1 - i])),
    }
}

fn median(values: &[f32]) -> f32 {
    let mut v = values.to_vec();
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b)).1
}

fn coverage(values: &[f32], colour: f32, tol: f32) -> f32 {
    values
        .iter()
        .filter(|&&v| (v - colour).abs() <= tol)
        .count() as f32
        / values.len() as f32
}

/// Size of the solid pad on `side`, at most `limit` lines.
fn solid_band(img: &LumaImage, side: Side, b: Bounds, limit: usize, cfg: &TrimConfig) -> usize {
    let (lines, _) = b.extent(side);
    if limit == 0 || lines == 0 {
        return 0;
    }
    let mut buf = Vec::new();
    line(img, side, b, 0, &mut buf);
    let colour = median(&buf);
    if coverage(&buf, colour, cfg.pad_tolerance) < cfg.pad_coverage {
        return 0;
    }
    let max_gap = (cfg.max_gap * lines as f32) as usize;
    let mut last = 0usize;
    for i in 1..limit.min(lines) {
        line(img, side, b, i, &mut buf);
        if coverage(&buf, colour, cfg.pad_tolerance) >= cfg.pad_coverage {
            last = i;
        } else if i - last > max_gap {
            break;
        }
    }
    (last + 1).min(limit)
}

/// Most lines trimming may remove from `lines` so that `min_keep` of the
/// original `full` side remains.
fn budget(lines: usize, full: usize, cfg: &TrimConfig) -> usize {
    let keep = ((cfg.min_keep * full as f32).ceil() as usize).max(1);
    lines.saturating_sub(keep)
}

/// Remove solid pads from all four sides (top/bottom, then left/right on the
/// remaining rows, then once more, so a frame inside a letterbox goes too).
fn trim_solid(
    img: &LumaImage,
    mut b: Bounds,
    cfg: &TrimConfig,
    removed: &mut [usize; 4],
) -> Bounds {
    for _ in 0..2 {
        let t = solid_band(img, Side::Top, b, budget(b.y1 - b.y0, img.height, cfg), cfg);
        b.y0 += t;
        let bt = solid_band(
            img,
            Side::Bottom,
            b,
            budget(b.y1 - b.y0, img.height, cfg),
            cfg,
        );
        b.y1 -= bt;
        let l = solid_band(img, Side::Left, b, budget(b.x1 - b.x0, img.width, cfg), cfg);
        b.x0 += l;
        let r = solid_band(
            img,
            Side::Right,
            b,
            budget(b.x1 - b.x0, img.width, cfg),
            cfg,
        );
        b.x1 -= r;
        for (acc, v) in removed.iter_mut().zip([t, bt, l, r]) {
            *acc += v;
        }
    }
    b
}

/// Texture of one line: mean of the smallest 70 % of the absolute
/// differences between neighbours along the line.
fn line_energy(values: &[f32], diffs: &mut Vec<f32>) -> f32 {
    diffs.clear();
    diffs.extend(values.windows(2).map(|w| (w[1] - w[0]).abs()));
    if diffs.is_empty() {
        return 0.0;
    }
    let keep = ((diffs.len() as f32 * 0.7).ceil() as usize).clamp(1, diffs.len());
    if keep < diffs.len() {
        diffs.select_nth_unstable_by(keep - 1, |a, b| a.total_cmp(b));
    }
    diffs[..keep].iter().sum::<f32>() / keep as f32
}

/// Aspect ratios (width / height) content is published in; a pair of
/// low-texture bands is a pad only when removing it leaves one of these.
const STANDARD_ASPECTS: [f32; 10] = [
    1.0,
    4.0 / 3.0,
    3.0 / 4.0,
    16.0 / 9.0,
    9.0 / 16.0,
    5.0 / 4.0,
    4.0 / 5.0,
    3.0 / 2.0,
    2.0 / 3.0,
    2.0,
];

/// Relative tolerance of the standard-aspect test (covers the rounding of
/// band edges at working resolution).
const ASPECT_TOLERANCE: f32 = 0.06;

fn is_standard_aspect(a: f32) -> bool {
    STANDARD_ASPECTS
        .iter()
        .any(|s| (a / s - 1.0).abs() <= ASPECT_TOLERANCE)
}

/// Low-texture bands at both ends of the lines scanned from `first` (`Top`
/// gives the top and bottom bands, `Left` the left and right ones): blurred
/// or solid pads placed symmetrically around centred content.
fn symmetric_bands(
    img: &LumaImage,
    first: Side,
    b: Bounds,
    full: usize,
    cfg: &TrimConfig,
) -> (usize, usize) {
    let (lines, len) = b.extent(first);
    if lines < 8 || len < 4 {
        return (0, 0);
    }
    // Energies are computed lazily: only the centre sample and the lines
    // scanned from each end are ever needed.
    let mut buf = Vec::new();
    let mut diffs = Vec::new();
    let mut memo: Vec<Option<f32>> = vec![None; lines];
    let mut energy = |i: usize| {
        *memo[i].get_or_insert_with(|| {
            line(img, first, b, i, &mut buf);
            line_energy(&buf, &mut diffs)
        })
    };
    // Every other line of the middle 40 %.
    let centre_lines: Vec<f32> = (lines * 3 / 10..(lines * 7 / 10).max(lines * 3 / 10 + 1))
        .step_by(2)
        .map(&mut energy)
        .collect();
    let centre = median(&centre_lines);
    // Too little texture in the centre to tell a pad from content.
    if centre < 2.0 {
        return (0, 0);
    }
    let threshold = cfg.blur_ratio * centre;
    let mut smooth = |i: usize| {
        let (lo, hi) = (i.saturating_sub(1), (i + 2).min(lines));
        (lo..hi).map(&mut energy).sum::<f32>() / (hi - lo) as f32
    };
    let a = (0..lines).take_while(|&i| smooth(i) < threshold).count();
    let z = (0..lines)
        .rev()
        .take_while(|&i| smooth(i) < threshold)
        .count();
    let min_band = (cfg.min_blur_band * lines as f32).ceil() as usize;
    let centred = (a as f32 - z as f32).abs() <= 0.15 * a.max(z) as f32 + 2.0;
    if a < min_band || z < min_band || !centred || a + z > budget(lines, full, cfg) {
        return (0, 0);
    }
    let kept = (lines - a - z) as f32;
    let aspect = match first {
        Side::Top | Side::Bottom => len as f32 / kept,
        Side::Left | Side::Right => kept / len as f32,
    };
    if is_standard_aspect(aspect) {
        (a, z)
    } else {
        (0, 0)
    }
}

/// The content rectangle of `img` (the whole image when nothing is found).
///
/// Symmetric low-texture bands go first (a blurred pad often holds flat
/// stretches that would otherwise pass for a one-sided solid pad), then
/// solid pads and frames on what remains.
pub fn trim_content(img: &LumaImage, cfg: &TrimConfig) -> Trim {
    let mut b = Bounds {
        x0: 0,
        x1: img.width,
        y0: 0,
        y1: img.height,
    };
    let (t, bt) = symmetric_bands(img, Side::Top, b, img.height, cfg);
    b.y0 += t;
    b.y1 -= bt;
    let (l, r) = symmetric_bands(img, Side::Left, b, img.width, cfg);
    b.x0 += l;
    b.x1 -= r;
    let mut solid = [0usize; 4];
    let mut b = trim_solid(img, b, cfg, &mut solid);
    let mut blurred = [t, bt, l, r];
    if blurred == [0; 4] {
        let (t, bt) = edge_bands(img, Side::Top, b, img.height, cfg);
        b.y0 += t;
        b.y1 -= bt;
        let (l, r) = edge_bands(img, Side::Left, b, img.width, cfg);
        b.x0 += l;
        b.x1 -= r;
        blurred = [t, bt, l, r];
        if blurred != [0; 4] {
            b = trim_solid(img, b, cfg, &mut solid);
        }
    }
    let rect = Rect {
        x: b.x0 as f32,
        y: b.y0 as f32,
        w: (b.x1 - b.x0) as f32,
        h: (b.y1 - b.y0) as f32,
    };
    Trim {
        rect,
        solid,
        blurred,
    }
}
