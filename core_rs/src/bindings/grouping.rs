//! Frame-aware asset grouping, the rule behind `omniplug.group_assets`.
//!
//! Pure Rust over plain vectors (no Python types); it lives next to the
//! binding because it is the table-level policy of one binding, built on
//! the exact search of [`HashIndex`]. The window-pair rule is the one of
//! `hamming_index::group_assets_confirmed`: two window codes match when
//! their primary codes (dHash) are within `max_distance` and their
//! confirming codes (pHash of the same two windows) within
//! `confirm_max_distance`. What this adds is support and frames:
//!
//! * two materials (or, for two videos, two frames) match only when their
//!   matching window pairs satisfy `hamming_index::SupportRule`: several
//!   distinct window pairs with one close anchor, or one near-exact pair.
//!   One loose window pair between unrelated images is how whole assets
//!   used to be merged;
//! * every frame's windows are codes of its material, so a still (a cover)
//!   that matches one frame of a video joins that video;
//! * two *videos* join only when more than `video_min_overlap` of the
//!   sampled frames of the shorter one match frames of the other, on both
//!   sides. Videos of one brand share intro and end cards: one or two
//!   identical frames must not make all of a brand's videos one asset,
//!   while re-edits of one video share most of their frames.
//!
//! Matching pairs are joined transitively (union-find); each asset's
//! representative is its smallest material index.

use crate::error::CoreResult;
use crate::hamming_index::{HashIndex, SupportRule, WindowPair};

/// One usable window code of one frame of one material (frame -1: a still).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Entry {
    pub material: u32,
    pub frame: i32,
    /// Window id, mirroring left out (stable within one grouping call).
    pub window: u16,
    pub mirrored: bool,
    pub primary: u64,
    pub confirm: u64,
}

/// The matching rules.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    pub max_distance: u32,
    /// `None`: primary codes alone decide.
    pub confirm_max_distance: Option<u32>,
    /// Fraction of the shorter video's frames that must match (strictly more).
    pub video_min_overlap: f64,
    /// Which window pairs make two materials (two frames) match.
    pub support: SupportRule,
}

/// The asset of one material.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Membership {
    /// Index of the representative (the asset's smallest member).
    pub representative: u32,
    /// Smallest primary-code distance to the representative's codes.
    pub distance: u32,
}

/// Queries searched per block: bounds the memory of one block's matches.
const BLOCK: usize = 1 << 16;

/// Union-find whose roots are the smallest index of their set.
struct MinRoot(Vec<u32>);

impl MinRoot {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let up = self.0[self.0[x as usize] as usize];
            self.0[x as usize] = up;
            x = up;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = (ra.min(rb), ra.max(rb));
            self.0[hi as usize] = lo;
        }
    }
}

/// Frames of the shorter video that must match: more than `overlap` of them.
fn required_frames(a: u32, b: u32, overlap: f64) -> usize {
    let n = a.min(b) as usize;
    ((overlap * n as f64).floor() as usize + 1).min(n).max(1)
}

/// Group `n` materials given their usable window codes.
pub(super) fn group_framed(
    n: usize,
    mut entries: Vec<Entry>,
    rules: &Rules,
) -> CoreResult<Vec<Membership>> {
    entries.sort_unstable();
    entries.dedup();
    // Per material: its entry range, whether it is a video, its distinct frames.
    let mut start = vec![0usize; n + 1];
    for e in &entries {
        start[e.material as usize + 1] += 1;
    }
    for i in 0..n {
        start[i + 1] += start[i];
    }
    let mut is_video = vec![false; n];
    let mut frames = vec![0u32; n];
    for (i, e) in entries.iter().enumerate() {
        let m = e.material as usize;
        is_video[m] |= e.frame >= 0;
        if i == start[m] || entries[i - 1].frame != e.frame {
            frames[m] += 1;
        }
    }

    let primary: Vec<u64> = entries.iter().map(|e| e.primary).collect();
    let index = HashIndex::build_64(&primary)?;
    let mut uf = MinRoot((0..n as u32).collect());
    // Every confirmed window pair: (material a < material b, frame of a,
    // frame of b, evidence). Support is judged per material pair (per frame
    // pair for two videos) once all of them are in.
    let mut found: Vec<(u32, u32, i32, i32, WindowPair)> = Vec::new();
    for (block_no, block) in primary.chunks(BLOCK).enumerate() {
        let base = block_no * BLOCK;
        for m in index.search_64(block, rules.max_distance)? {
            let (q, r) = (
                &entries[base + m.query_row as usize],
                &entries[m.match_row as usize],
            );
            if q.material >= r.material {
                continue;
            }
            let confirm_distance = (q.confirm ^ r.confirm).count_ones();
            if let Some(limit) = rules.confirm_max_distance {
                if confirm_distance > limit {
                    continue;
                }
            }
            found.push((
                q.material,
                r.material,
                q.frame,
                r.frame,
                WindowPair {
                    window_a: q.window,
                    window_b: r.window,
                    mirrored: q.mirrored != r.mirrored,
                    distance: m.distance,
                    confirm_distance,
                },
            ));
        }
    }
    found.sort_unstable();
    let mut evidence: Vec<WindowPair> = Vec::new();
    for pair in found.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        let (a, b) = (pair[0].0, pair[0].1);
        if !(is_video[a as usize] && is_video[b as usize]) {
            evidence.clear();
            evidence.extend(pair.iter().map(|p| p.4));
            if rules.support.accepts(&evidence) {
                uf.union(a, b);
            }
            continue;
        }
        // Two videos: frame pairs that match on their own, then the overlap.
        let (mut fa, mut fb) = (Vec::new(), Vec::new());
        for frames_pair in pair.chunk_by(|x, y| (x.2, x.3) == (y.2, y.3)) {
            evidence.clear();
            evidence.extend(frames_pair.iter().map(|p| p.4));
            if rules.support.accepts(&evidence) {
                fa.push(frames_pair[0].2);
                fb.push(frames_pair[0].3);
            }
        }
        let need = required_frames(
            frames[a as usize],
            frames[b as usize],
            rules.video_min_overlap,
        );
        fa.sort_unstable();
        fa.dedup();
        fb.sort_unstable();
        fb.dedup();
        if fa.len() >= need && fb.len() >= need {
            uf.union(a, b);
        }
    }

    Ok((0..n as u32)
        .map(|i| {
            let rep = uf.find(i);
            let codes = |m: u32| &primary[start[m as usize]..start[m as usize + 1]];
            let distance = if rep == i {
                0
            } else {
                codes(i)
                    .iter()
                    .flat_map(|a| codes(rep).iter().map(move |b| (a ^ b).count_ones()))
                    .min()
                    .unwrap_or(0)
            };
            Membership {
                representative: rep,
                distance,
            }
        })
        .collect())
}
