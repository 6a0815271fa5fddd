//! The standard window set: the regions of an image that get hashed.
//!
//! A platform edit usually keeps one of a few standard regions of the
//! creative: the whole of it (resized, re-encoded, framed, padded), a centre
//! crop, a crop to a platform aspect ratio (1:1, 3:4, 9:16, 16:9), possibly
//! mirrored. Hashing those regions of every image turns "is B an edit of A"
//! into "does some window of A hash like some window of B", which a Hamming
//! index answers at scale.
//!
//! * [`WindowKind::Full`]: the whole decoded image.
//! * [`WindowKind::Trimmed`]: the content rectangle after stripping borders
//!   and pads (see `trim`): what a padded or framed edit reduces to.
//! * Edge crops ([`WindowKind::CutLeft10`] ...): 10 % or 20 % cut away from
//!   one side only. A one-sided crop (a banner cut off, a screenshot
//!   trimmed on one edge) keeps a window anchored to the other three edges,
//!   which no centred window is.
//! * Trimmed cover crops ([`WindowKind::TrimCover1x1`] ...): the cover
//!   crops of the content rectangle, only for an image whose content sits
//!   centred between pads (a letterbox or pillarbox; one-sided trims of
//!   dark photo edges gave chance matches between unrelated images). A
//!   letterboxed edit (a square creative on a 9:16 short-video canvas) and
//!   a cropped edit of the same creative (its 3:4 note cover) share no
//!   other window.
//! * Centre crops, edge crops and cover crops are cut from the full image,
//!   as platforms cut them from the file they receive. (Cutting them from
//!   the trimmed rectangle instead ties them to the trimming heuristic, whose result can
//!   differ between an original and its crop.)
//!
//! Each window also exists mirrored (left-right). A window whose rectangle
//! coincides with an earlier one is left out (the trimmed window of an image
//! without pads, the 1:1 crop of a square image), so identical codes are
//! not stored twice.

use super::luma::Rect;

/// The region a hash was taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WindowKind {
    /// The whole decoded image.
    Full,
    /// The content rectangle after stripping borders and pads.
    Trimmed,
    /// Centre crop removing 5 % of the width and of the height.
    Crop5,
    /// Centre crop removing 10 %.
    Crop10,
    /// Centre crop removing 20 %.
    Crop20,
    /// Centre crop removing 30 %.
    Crop30,
    /// Largest centred 1:1 crop.
    Cover1x1,
    /// Largest centred 3:4 (portrait) crop.
    Cover3x4,
    /// Largest centred 9:16 (portrait) crop.
    Cover9x16,
    /// Largest centred 16:9 (landscape) crop.
    Cover16x9,
    /// 10 % of the width cut from the left side.
    CutLeft10,
    /// 10 % of the width cut from the right side.
    CutRight10,
    /// 10 % of the height cut from the top.
    CutTop10,
    /// 10 % of the height cut from the bottom.
    CutBottom10,
    /// 20 % of the width cut from the left side.
    CutLeft20,
    /// 20 % of the width cut from the right side.
    CutRight20,
    /// 20 % of the height cut from the top.
    CutTop20,
    /// 20 % of the height cut from the bottom.
    CutBottom20,
    /// Largest centred 1:1 crop of the trimmed content.
    TrimCover1x1,
    /// Largest centred 3:4 crop of the trimmed content.
    TrimCover3x4,
    /// Largest centred 9:16 crop of the trimmed content.
    TrimCover9x16,
    /// Largest centred 16:9 crop of the trimmed content.
    TrimCover16x9,
}

impl WindowKind {
    /// Every kind, in id order.
    pub const ALL: [WindowKind; 22] = [
        WindowKind::Full,
        WindowKind::Trimmed,
        WindowKind::Crop5,
        WindowKind::Crop10,
        WindowKind::Crop20,
        WindowKind::Crop30,
        WindowKind::Cover1x1,
        WindowKind::Cover3x4,
        WindowKind::Cover9x16,
        WindowKind::Cover16x9,
        WindowKind::CutLeft10,
        WindowKind::CutRight10,
        WindowKind::CutTop10,
        WindowKind::CutBottom10,
        WindowKind::CutLeft20,
        WindowKind::CutRight20,
        WindowKind::CutTop20,
        WindowKind::CutBottom20,
        WindowKind::TrimCover1x1,
        WindowKind::TrimCover3x4,
        WindowKind::TrimCover9x16,
        WindowKind::TrimCover16x9,
    ];

    /// Stable short name: `full`, `trim`, `crop05`, `crop10`, `crop20`,
    /// `crop30`, `cover1x1`, `cover3x4`, `cover9x16`, `cover16x9`, `cutl10`,
    /// `cutr10`, `cutt10`, `cutb10`, `cutl20`, `cutr20`, `cutt20`, `cutb20`,
    /// `tcover1x1`, `tcover3x4`, `tcover9x16`, `tcover16x9`.
    pub fn name(self) -> &'static str {
        match self {
            WindowKind::Full => "full",
            WindowKind::Trimmed => "trim",
            WindowKind::Crop5 => "crop05",
            WindowKind::Crop10 => "crop10",
            WindowKind::Crop20 => "crop20",
            WindowKind::Crop30 => "crop30",
            WindowKind::Cover1x1 => "cover1x1",
            WindowKind::Cover3x4 => "cover3x4",
            WindowKind::Cover9x16 => "cover9x16",
            WindowKind::Cover16x9 => "cover16x9",
            WindowKind::CutLeft10 => "cutl10",
            WindowKind::CutRight10 => "cutr10",
            WindowKind::CutTop10 => "cutt10",
            WindowKind::CutBottom10 => "cutb10",
            WindowKind::CutLeft20 => "cutl20",
            WindowKind::CutRight20 => "cutr20",
            WindowKind::CutTop20 => "cutt20",
            WindowKind::CutBottom20 => "cutb20",
            WindowKind::TrimCover1x1 => "tcover1x1",
            WindowKind::TrimCover3x4 => "tcover3x4",
            WindowKind::TrimCover9x16 => "tcover9x16",
            WindowKind::TrimCover16x9 => "tcover16x9",
        }
    }

    /// Position in [`WindowKind::ALL`].
    pub fn index(self) -> u8 {
        WindowKind::ALL.iter().position(|&k| k == self).unwrap_or(0) as u8
    }

    /// Fraction removed from each dimension by a centre crop.
    fn crop_fraction(self) -> Option<f32> {
        match self {
            WindowKind::Crop5 => Some(0.05),
            WindowKind::Crop10 => Some(0.10),
            WindowKind::Crop20 => Some(0.20),
            WindowKind::Crop30 => Some(0.30),
            _ => None,
        }
    }

    /// Edge crop: (fraction cut, side) with side 0 left, 1 right, 2 top,
    /// 3 bottom.
    fn edge_cut(self) -> Option<(f32, u8)> {
        match self {
            WindowKind::CutLeft10 => Some((0.10, 0)),
            WindowKind::CutRight10 => Some((0.10, 1)),
            WindowKind::CutTop10 => Some((0.10, 2)),
            WindowKind::CutBottom10 => Some((0.10, 3)),
            WindowKind::CutLeft20 => Some((0.20, 0)),
            WindowKind::CutRight20 => Some((0.20, 1)),
            WindowKind::CutTop20 => Some((0.20, 2)),
            WindowKind::CutBottom20 => Some((0.20, 3)),
            _ => None,
        }
    }

    /// Aspect ratio (width / height) of a cover crop.
    fn cover_aspect(self) -> Option<f32> {
        match self {
            WindowKind::Cover1x1 => Some(1.0),
            WindowKind::Cover3x4 => Some(3.0 / 4.0),
            WindowKind::Cover9x16 => Some(9.0 / 16.0),
            WindowKind::Cover16x9 => Some(16.0 / 9.0),
            _ => None,
        }
    }

    /// Aspect ratio (width / height) of a cover crop of the trimmed content.
    fn trim_cover_aspect(self) -> Option<f32> {
        match self {
            WindowKind::TrimCover1x1 => Some(1.0),
            WindowKind::TrimCover3x4 => Some(3.0 / 4.0),
            WindowKind::TrimCover9x16 => Some(9.0 / 16.0),
            WindowKind::TrimCover16x9 => Some(16.0 / 9.0),
            _ => None,
        }
    }
}

/// A window: a region, possibly mirrored left-right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Window {
    /// The region.
    pub kind: WindowKind,
    /// Whether the region was mirrored before hashing.
    pub mirrored: bool,
}

impl Window {
    /// The unmirrored whole image.
    pub const FULL: Window = Window {
        kind: WindowKind::Full,
        mirrored: false,
    };

    /// Compact id: `2 * kind index + mirrored` (0..44).
    pub fn id(self) -> u8 {
        self.kind.index() * 2 + self.mirrored as u8
    }

    /// The window of an id from [`Window::id`].
    pub fn from_id(id: u8) -> Option<Window> {
        let kind = *WindowKind::ALL.get((id / 2) as usize)?;
        Some(Window {
            kind,
            mirrored: id % 2 == 1,
        })
    }

    /// Stable name: the kind's name, with `_mirror` appended when mirrored.
    pub fn name(self) -> String {
        if self.mirrored {
            format!("{}_mirror", self.kind.name())
        } else {
            self.kind.name().to_string()
        }
    }
}

/// Aspect ratios closer than this factor count as the same shape.
const SAME_ASPECT: f32 = 1.05;

/// Centre crop of `r` removing `f` of each dimension.
fn centre_crop(r: Rect, f: f32) -> Rect {
    let (w, h) = (r.w * (1.0 - f), r.h * (1.0 - f));
    Rect {
        x: r.x + (r.w - w) / 2.0,
        y: r.y + (r.h - h) / 2.0,
        w,
        h,
    }
}

/// `r` with `f` of one dimension cut from one side (see `edge_cut`).
fn edge_crop(r: Rect, f: f32, side: u8) -> Rect {
    let (dw, dh) = (r.w * f, r.h * f);
    match side {
        0 => Rect {
            x: r.x + dw,
            w: r.w - dw,
            ..r
        },
        1 => Rect { w: r.w - dw, ..r },
        2 => Rect {
            y: r.y + dh,
            h: r.h - dh,
            ..r
        },
        _ => Rect { h: r.h - dh, ..r },
    }
}

/// Largest centred rectangle of aspect `a` inside `r`.
fn cover_crop(r: Rect, a: f32) -> Rect {
    let (w, h) = if r.aspect() > a {
        (r.h * a, r.h)
    } else {
        (r.w, r.w / a)
    };
    Rect {
        x: r.x + (r.w - w) / 2.0,
        y: r.y + (r.h - h) / 2.0,
        w,
        h,
    }
}

/// Largest offset of a letterboxed content's centre from the image's centre,
/// as a fraction of the side.
const CENTRED: f32 = 0.05;

/// Whether `content`'s centre is within [`CENTRED`] of `full`'s on both axes.
fn is_centred(content: Rect, full: Rect) -> bool {
    let dx = (content.x + content.w / 2.0) - (full.x + full.w / 2.0);
    let dy = (content.y + content.h / 2.0) - (full.y + full.h / 2.0);
    dx.abs() <= CENTRED * full.w && dy.abs() <= CENTRED * full.h
}

/// The window rectangles of an image whose whole area is `full` and whose
/// content rectangle (after trimming) is `content`; with `all == false`
/// only the full image.
/// Rectangles within half a pixel of an earlier one are left out.
pub fn window_rects(full: Rect, content: Rect, all: bool) -> Vec<(WindowKind, Rect)> {
    let mut out: Vec<(WindowKind, Rect)> = vec![(WindowKind::Full, full)];
    if !all {
        return out;
    }
    let mut push = |kind: WindowKind, rect: Rect| {
        if rect.w >= 2.0 && rect.h >= 2.0 && !out.iter().any(|(_, r)| r.near(&rect, 0.5)) {
            out.push((kind, rect));
        }
    };
    push(WindowKind::Trimmed, content);
    let letterboxed = !content.near(&full, 0.5) && is_centred(content, full);
    for kind in WindowKind::ALL {
        if let Some(f) = kind.crop_fraction() {
            push(kind, centre_crop(full, f));
        } else if let Some((f, side)) = kind.edge_cut() {
            push(kind, edge_crop(full, f, side));
        } else if let Some(a) = kind.cover_aspect() {
            let ratio = full.aspect() / a;
            if ratio.max(1.0 / ratio) >= SAME_ASPECT {
                push(kind, cover_crop(full, a));
            }
        } else if let Some(a) = kind.trim_cover_aspect() {
            let ratio = content.aspect() / a;
            if letterboxed && ratio.max(1.0 / ratio) >= SAME_ASPECT {
                push(kind, cover_crop(content, a));
            }
        }
    }
    out
}
