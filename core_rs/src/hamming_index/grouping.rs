//! Grouping materials into assets: the same creative re-edited per platform
//! becomes one asset.
//!
//! [`group_assets`] and [`group_assets_confirmed`] take anonymous code lists:
//! two materials match when any window code of one is within `max_distance`
//! bits of any window code of the other and both pass the quality gate.
//! Callers that know which window each code belongs to should also require
//! [`SupportRule`] (several distinct window pairs, or one near-exact pair),
//! as the table-level grouping behind `omniplug.group_assets` does: one
//! loose pair is how unrelated assets get merged.
//! With [`group_assets_confirmed`] each such window pair must also agree on
//! a second hash of the same two windows (pHash behind dHash): an edit
//! agrees on both, while two unrelated windows that collide on one 64-bit
//! code almost never collide on the other, which keeps large catalogues
//! from chaining unrelated creatives together through chance collisions.
//!
//! Matches are edges; connected components (union-find) are assets. Every
//! component's smallest member index is its representative and its asset
//! id, so ids are stable for a stable input order (list catalogue originals
//! first and they become the representatives). Each member's distance is
//! the smallest primary-code distance over all window pairs between it and
//! the representative; a member joined through a chain of edits can be
//! further than `max_distance` from it, which the distance then shows.

use super::HashIndex;
use crate::error::{CoreError, CoreResult};

/// Default radius for 64-bit dHash window codes: 8 of 64 bits.
///
/// Measured with this crate's fingerprinting on 60 procedural creatives
/// (480 x 360, 360 x 480, 420 x 420) and 17 platform edits of each (JPEG
/// re-encode, resize, letterbox and blurred pads to 9:16, white pads to 1:1,
/// frame, centre crops, 1:1 and 9:16 cover crops, mirror, logo, price band,
/// 2 degree rotation): 1,019 of the 1,020 edits are within 8 bits of their
/// original through some window pair (the exception, at 10, is a 9:16 strip
/// of a square creative), while none of the 1,770 pairs of different
/// creatives is within 9 bits (closest 10, then 12). 8 keeps a margin on
/// the precision side, which matters because every pair of materials is
/// compared through up to 44 x 44 window pairs; it is also about the usual
/// single-dHash near-duplicate threshold (12 % of the bits).
pub const DEFAULT_MAX_DISTANCE: u32 = 8;

/// Default radius for the confirming pHash codes: 16 of 64 bits.
///
/// On the same corpus every edit matched through dHash also had a window
/// pair agreeing within 16 pHash bits (most within 4), while of the ~670k
/// window pairs between different creatives about 1 in 7,000 is that close:
/// chance dHash collisions are cut by that factor at no cost in recall.
/// (pHash distances are even: each code has exactly 32 bits set.)
pub const DEFAULT_CONFIRM_DISTANCE: u32 = 16;

/// One matching window pair between two materials `a` and `b`: the evidence
/// [`SupportRule`] weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WindowPair {
    /// Window of `a` (any stable id of the region, mirroring left out).
    pub window_a: u16,
    /// Window of `b`.
    pub window_b: u16,
    /// Whether exactly one of the two windows was mirrored. A pair of
    /// mirrored windows says what the pair of their unmirrored windows says,
    /// so the two count as one piece of evidence.
    pub mirrored: bool,
    /// Primary-code (dHash) distance.
    pub distance: u32,
    /// Confirming-code (pHash) distance.
    pub confirm_distance: u32,
}

/// When the matching window pairs between two materials make them one
/// asset.
///
/// Grouping is transitive, so one wrong edge merges two whole assets: on
/// the robustness benchmark (`benchmarks/fingerprint_eval.py`, 18 photos x
/// 83 edits, LFW faces and patches as distractors) a single window pair at
/// the edge of both radii (dHash 7-8, pHash 14-16) joined a scanned page to
/// a face patch, a rocket to a motorcycle on one Tmall template, a cell to
/// a clock, and 13 pairs of faces of different people, which put the
/// all-pairs precision at 80 %. A real edit agrees on several windows
/// (the full image, its centre crops, its trimmed content...) and usually
/// closely on at least one. The rule: a pair of materials matches when
///
/// * some window pair is *sure*: dHash <= `sure_distance` and pHash <=
///   `sure_confirm` (a near-exact copy of some region), or
/// * at least `min_pairs` distinct window pairs match (a pair of mirrored
///   windows and the pair of their unmirrored windows count once) and one
///   of them is an *anchor*: dHash <= `anchor_distance` and pHash <=
///   `anchor_confirm`.
///
/// Measured on that benchmark: precision 80.3 % -> 100.0 % at a recall
/// cost of ~2 points (edits that matched through one loose window only).
/// [`SupportRule::SINGLE`] is the plain rule: any one window pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportRule {
    /// Distinct window pairs needed without a sure pair.
    pub min_pairs: usize,
    /// dHash radius of an anchor pair.
    pub anchor_distance: u32,
    /// pHash radius of an anchor pair.
    pub anchor_confirm: u32,
    /// dHash radius of a sure pair.
    pub sure_distance: u32,
    /// pHash radius of a sure pair.
    pub sure_confirm: u32,
}

impl SupportRule {
    /// Any one matching window pair suffices (the rule before support).
    pub const SINGLE: SupportRule = SupportRule {
        min_pairs: 1,
        anchor_distance: u32::MAX,
        anchor_confirm: u32::MAX,
        sure_distance: u32::MAX,
        sure_confirm: u32::MAX,
    };

    /// The rule with `min_pairs` distinct pairs and the default radii; 1 (or
    /// 0) is [`SupportRule::SINGLE`].
    pub fn with_min_pairs(min_pairs: usize) -> SupportRule {
        if min_pairs <= 1 {
            SupportRule::SINGLE
        } else {
            SupportRule {
                min_pairs,
                ..SupportRule::default()
            }
        }
    }

    /// Whether `pairs` (every matching window pair of two materials, in any
    /// order, duplicates allowed) make the two materials one asset.
    pub fn accepts(&self, pairs: &[WindowPair]) -> bool {
        if pairs
            .iter()
            .any(|p| p.distance <= self.sure_distance && p.confirm_distance <= self.sure_confirm)
        {
            return true;
        }
        if !pairs.iter().any(|p| {
            p.distance <= self.anchor_distance && p.confirm_distance <= self.anchor_confirm
        }) {
            return false;
        }
        let mut keys: Vec<(u16, u16, bool)> = pairs
            .iter()
            .map(|p| (p.window_a, p.window_b, p.mirrored))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len() >= self.min_pairs
    }
}

impl Default for SupportRule {
    /// Two distinct window pairs with an anchor within dHash 6 / pHash 12,
    /// or one sure pair within dHash 3 / pHash 8.
    fn default() -> Self {
        SupportRule {
            min_pairs: 2,
            anchor_distance: 6,
            anchor_confirm: 12,
            sure_distance: 3,
            sure_confirm: 8,
        }
    }
}

/// Settings of [`group_assets`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// Largest Hamming distance between two window codes that makes their
    /// materials the same asset.
    pub max_distance: u32,
    /// Materials with a lower quality never match anything (quality 0 is
    /// what fingerprinting gives near-flat images).
    pub min_quality: u8,
    /// With [`group_assets_confirmed`]: largest distance between the
    /// confirming codes of a matching window pair.
    pub confirm_max_distance: u32,
}

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            max_distance: DEFAULT_MAX_DISTANCE,
            min_quality: 1,
            confirm_max_distance: DEFAULT_CONFIRM_DISTANCE,
        }
    }
}

/// The asset of one material.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AssetMembership {
    /// Asset id: the representative's index.
    pub asset_id: i64,
    /// Index of the asset's representative (its smallest member).
    pub representative: u32,
    /// Smallest window-pair distance to the representative (0 for the
    /// representative itself and for unmatched materials).
    pub distance: u32,
}

/// Union-find whose roots are always the smallest index of their set.
struct MinRootUnionFind {
    parent: Vec<u32>,
}

impl MinRootUnionFind {
    fn new(n: usize) -> Self {
        MinRootUnionFind {
            parent: (0..n as u32).collect(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let gp = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = gp;
            x = gp;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }
}

/// Queries searched per block: bounds the memory of the match lists.
const BLOCK: usize = 1 << 16;

/// Group materials: `codes[i]` are material `i`'s window codes (64-bit, one
/// algorithm, e.g. `Fingerprint::codes64(Algorithm::Dhash64)`), `quality[i]`
/// its quality. Returns one membership per material, in input order.
///
/// Errors: `InvalidInput` when `quality` and `codes` differ in length;
/// `LimitExceeded` beyond 2^32 materials or codes.
pub fn group_assets<C: AsRef<[u64]>>(
    codes: &[C],
    quality: &[u8],
    config: &GroupConfig,
) -> CoreResult<Vec<AssetMembership>> {
    group(codes, None, quality, config)
}

/// [`group_assets`] where a window pair counts only when the windows'
/// second codes (`confirm[i][k]` belongs to the same window as
/// `codes[i][k]`, e.g. pHash behind dHash: see
/// `Fingerprint::paired_codes64`) are within `config.confirm_max_distance`.
///
/// Errors: as [`group_assets`], and `InvalidInput` when a material's
/// `confirm` list differs in length from its `codes` list.
pub fn group_assets_confirmed<C: AsRef<[u64]>>(
    codes: &[C],
    confirm: &[C],
    quality: &[u8],
    config: &GroupConfig,
) -> CoreResult<Vec<AssetMembership>> {
    if confirm.len() != codes.len() {
        return Err(CoreError::invalid(format!(
            "group_assets: {} code lists but {} confirming lists",
            codes.len(),
            confirm.len()
        )));
    }
    if let Some(i) =
        (0..codes.len()).find(|&i| codes[i].as_ref().len() != confirm[i].as_ref().len())
    {
        return Err(CoreError::invalid(format!(
            "group_assets: material {i} has {} codes but {} confirming codes",
            codes[i].as_ref().len(),
            confirm[i].as_ref().len()
        )));
    }
    let confirm: Vec<&[u64]> = confirm.iter().map(|c| c.as_ref()).collect();
    group(codes, Some(&confirm), quality, config)
}

fn group<C: AsRef<[u64]>>(
    codes: &[C],
    confirm: Option<&[&[u64]]>,
    quality: &[u8],
    config: &GroupConfig,
) -> CoreResult<Vec<AssetMembership>> {
    if codes.len() != quality.len() {
        return Err(CoreError::invalid(format!(
            "group_assets: {} code lists but {} quality values",
            codes.len(),
            quality.len()
        )));
    }
    if codes.len() > u32::MAX as usize {
        return Err(CoreError::LimitExceeded(format!(
            "{} materials: at most {}",
            codes.len(),
            u32::MAX
        )));
    }
    // Distinct (code, confirming code) pairs of every eligible material.
    let (mut flat, mut second, mut owner) = (Vec::new(), Vec::new(), Vec::new());
    for (i, c) in codes.iter().enumerate() {
        if quality[i] < config.min_quality {
            continue;
        }
        let c = c.as_ref();
        let mut own: Vec<(u64, u64)> = match confirm {
            Some(conf) => c.iter().copied().zip(conf[i].iter().copied()).collect(),
            None => c.iter().map(|&x| (x, 0)).collect(),
        };
        own.sort_unstable();
        own.dedup();
        owner.extend(std::iter::repeat_n(i as u32, own.len()));
        flat.extend(own.iter().map(|p| p.0));
        second.extend(own.iter().map(|p| p.1));
    }
    let index = HashIndex::build_64(&flat)?;
    let mut uf = MinRootUnionFind::new(codes.len());
    for (block_no, block) in flat.chunks(BLOCK).enumerate() {
        let base = block_no * BLOCK;
        let mut pairs: Vec<(u32, u32)> = index
            .search_64(block, config.max_distance)?
            .into_iter()
            .map(|m| (base + m.query_row as usize, m.match_row as usize))
            .filter(|&(q, r)| {
                owner[q] < owner[r]
                    && (confirm.is_none()
                        || (second[q] ^ second[r]).count_ones() <= config.confirm_max_distance)
            })
            .map(|(q, r)| (owner[q], owner[r]))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        for (a, b) in pairs {
            uf.union(a, b);
        }
    }
    Ok((0..codes.len() as u32)
        .map(|i| {
            let rep = uf.find(i);
            let distance = if rep == i {
                0
            } else {
                let own = codes[i as usize].as_ref();
                let theirs = codes[rep as usize].as_ref();
                own.iter()
                    .flat_map(|a| theirs.iter().map(move |b| (a ^ b).count_ones()))
                    .min()
                    .unwrap_or(0)
            };
            AssetMembership {
                asset_id: rep as i64,
                representative: rep,
                distance,
            }
        })
        .collect())
}
