//! Throughput of fingerprinting and of the Hamming index.
//!
//! ```text
//! cargo run --release --example fingerprint_speed            # 500 images
//! cargo run --release --example fingerprint_speed -- 2000    # more images
//! ```
//!
//! 1. Builds N procedural creatives of 784 x 588 (0.46 Mpx: gradients,
//!    shapes, text-like blocks, noise) and encodes them as JPEG (q 85) in
//!    memory.
//! 2. (a) Hashing from decoded luma: every hash of the bundle (trimming,
//!    36 windows x dHash + pHash, PDQ of full/trimmed and mirrors, quality)
//!    from the working image the decoder delivers, and from full-resolution
//!    luma (which adds the box reduction).
//! 3. (b) End to end from JPEG bytes (DCT-scaled decode included).
//! 4. Index: 1M random 64-bit codes, build time, 10k queries at radius 8
//!    (half random, half near-duplicates of indexed codes), against a
//!    brute-force scan of a sample.
//! 5. Grouping: 20k materials of 20 window codes each (1k creatives with
//!    20 edits each; codes random per creative window, edits 0-4 bits
//!    away), `group_assets` and `group_assets_confirmed` (with a second,
//!    independent code per window) at the default radii. The count of
//!    assets shows the chance collisions that confirmation removes.
//!
//! Each figure is given for one thread and for all threads.

use std::time::Instant;

use omniplug_core::fingerprint::{
    decode_luma, fingerprint_bytes, fingerprint_luma, FingerprintConfig, LumaImage,
};
use omniplug_core::hamming_index::{group_assets, group_assets_confirmed, GroupConfig, HashIndex};
use rayon::prelude::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
}

const W: usize = 784;
const H: usize = 588;

/// A procedural creative as interleaved RGB.
fn creative(seed: u64) -> Vec<u8> {
    let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let c0: Vec<f32> = (0..3).map(|_| rng.below(256) as f32).collect();
    let c1: Vec<f32> = (0..3).map(|_| rng.below(256) as f32).collect();
    let angle = rng.unit() * std::f32::consts::TAU;
    let (dx, dy) = (angle.cos() / W as f32, angle.sin() / H as f32);
    let mut px = vec![0u8; W * H * 3];
    for y in 0..H {
        for x in 0..W {
            let t = (0.5 + x as f32 * dx + y as f32 * dy).clamp(0.0, 1.0);
            for c in 0..3 {
                px[(y * W + x) * 3 + c] = (c0[c] * (1.0 - t) + c1[c] * t) as u8;
            }
        }
    }
    for _ in 0..14 {
        let col = [
            rng.below(256) as u8,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ];
        let (cx, cy) = (rng.below(W as u64) as f32, rng.below(H as u64) as f32);
        let r = (0.05 + 0.25 * rng.unit()) * H as f32;
        let disc = rng.below(2) == 0;
        let (x0, x1) = ((cx - r).max(0.0) as usize, ((cx + r) as usize).min(W));
        let (y0, y1) = ((cy - r).max(0.0) as usize, ((cy + r) as usize).min(H));
        for y in y0..y1 {
            for x in x0..x1 {
                let (u, v) = ((x as f32 - cx) / r, (y as f32 - cy) / r);
                if !disc || u * u + v * v < 1.0 {
                    px[(y * W + x) * 3..(y * W + x) * 3 + 3].copy_from_slice(&col);
                }
            }
        }
    }
    for v in px.iter_mut() {
        *v = (*v as i32 + rng.below(9) as i32 - 4).clamp(0, 255) as u8;
    }
    px
}

fn rate(n: usize, secs: f64) -> String {
    format!(
        "{:>9.0} images/s ({:.1} us each)",
        n as f64 / secs,
        secs * 1e6 / n as f64
    )
}

/// Time `f` on a pool of `threads` threads.
fn timed<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> (R, f64) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("pool");
    pool.install(|| {
        let t = Instant::now();
        let r = f();
        (r, t.elapsed().as_secs_f64())
    })
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let all = std::thread::available_parallelism().map_or(1, |p| p.get());
    let config = FingerprintConfig::default();

    let t = Instant::now();
    let jpegs: Vec<Vec<u8>> = (0..n as u64)
        .into_par_iter()
        .map(|s| {
            let mut out = Vec::new();
            jpeg_encoder::Encoder::new(&mut out, 85)
                .encode(
                    &creative(s),
                    W as u16,
                    H as u16,
                    jpeg_encoder::ColorType::Rgb,
                )
                .expect("encode");
            out
        })
        .collect();
    let mean_kb = jpegs.iter().map(|j| j.len()).sum::<usize>() as f64 / n as f64 / 1024.0;
    println!(
        "{n} JPEGs of {W}x{H} ({:.2} Mpx, {mean_kb:.0} KiB each) built in {:.1} s",
        (W * H) as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let working: Vec<LumaImage> = jpegs
        .par_iter()
        .map(|j| {
            decode_luma(j, config.work_min_side, &config.limits)
                .expect("decode")
                .luma
        })
        .collect();
    println!(
        "working image: {}x{} (DCT-scaled decode)",
        working[0].width, working[0].height
    );
    let full: Vec<LumaImage> = (0..n.min(200) as u64)
        .into_par_iter()
        .map(|s| LumaImage::from_rgb8(W, H, &creative(s)).expect("luma"))
        .collect();

    for threads in [1, all] {
        println!("--- {threads} thread(s)");
        let (fps, secs) = timed(threads, || {
            working
                .par_iter()
                .map(|l| fingerprint_luma(l, &config))
                .collect::<Vec<_>>()
        });
        let hashes: usize = fps.iter().map(|f| f.hashes.len()).sum();
        println!(
            "(a) from working luma:      {}  [{:.1} hashes/image]",
            rate(n, secs),
            hashes as f64 / n as f64
        );
        let (_, secs) = timed(threads, || {
            full.par_iter()
                .map(|l| fingerprint_luma(l, &config))
                .collect::<Vec<_>>()
        });
        println!("(a') from full-res luma:    {}", rate(full.len(), secs));
        let (res, secs) = timed(threads, || {
            jpegs
                .par_iter()
                .map(|j| fingerprint_bytes(j, &config))
                .collect::<Vec<_>>()
        });
        assert!(res.iter().all(|r| r.is_ok()));
        println!("(b) end to end from JPEG:   {}", rate(n, secs));
        let (_, secs) = timed(threads, || {
            jpegs
                .par_iter()
                .map(|j| decode_luma(j, config.work_min_side, &config.limits).map(|d| d.luma.width))
                .collect::<Vec<_>>()
        });
        println!("    of which decode:        {}", rate(n, secs));
    }

    // Index benchmark.
    let mut rng = Rng(42);
    let codes: Vec<u64> = (0..1_000_000).map(|_| rng.next()).collect();
    let queries: Vec<u64> = (0..10_000)
        .map(|i| {
            if i % 2 == 0 {
                rng.next()
            } else {
                let mut c = codes[rng.below(codes.len() as u64) as usize];
                for _ in 0..rng.below(9) {
                    c ^= 1 << rng.below(64);
                }
                c
            }
        })
        .collect();
    println!("--- index: 1M random 64-bit codes, 10k queries (half near-duplicates), radius 8");
    for threads in [1, all] {
        let (index, build) = timed(threads, || HashIndex::build_64(&codes).expect("build"));
        let (matches, search) = timed(threads, || index.search_64(&queries, 8).expect("search"));
        println!(
            "{threads} thread(s): build {:.3} s, search {:.3} s ({:.1} us/query), {} matches",
            build,
            search,
            search * 1e6 / queries.len() as f64,
            matches.len()
        );
    }
    let sample = &queries[..200];
    let t = Instant::now();
    let brute: usize = sample
        .iter()
        .map(|q| codes.iter().filter(|c| (*c ^ q).count_ones() <= 8).count())
        .sum();
    let per_query = t.elapsed().as_secs_f64() / sample.len() as f64;
    println!(
        "brute-force scan, 1 thread: {:.1} us/query ({brute} matches in the sample)",
        per_query * 1e6
    );

    // Grouping: 1k creatives x 20 edits, each edit's 20 window codes within
    // a few bits of its creative's.
    let mut rng = Rng(7);
    // Two independent codes per creative window (like dHash and pHash);
    // an edit's codes are each 0-4 bits from its creative's.
    let creatives: Vec<[(u64, u64); 20]> = (0..1_000)
        .map(|_| std::array::from_fn(|_| (rng.next(), rng.next())))
        .collect();
    let mut near = |c: u64| (0..rng.below(5)).fold(c, |acc, _| acc ^ (1 << rng.below(64)));
    let (materials, confirm): (Vec<Vec<u64>>, Vec<Vec<u64>>) = (0..20_000)
        .map(|i| {
            creatives[i % 1_000]
                .iter()
                .map(|&(a, b)| (near(a), near(b)))
                .unzip()
        })
        .unzip();
    let quality = vec![100u8; materials.len()];
    let cfg = GroupConfig::default();
    for threads in [1, all] {
        let (plain, secs) = timed(threads, || {
            group_assets(&materials, &quality, &cfg).expect("group")
        });
        let (confirmed, secs2) = timed(threads, || {
            group_assets_confirmed(&materials, &confirm, &quality, &cfg).expect("group")
        });
        let count = |g: &[omniplug_core::hamming_index::AssetMembership]| {
            g.iter()
                .map(|m| m.asset_id)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
        };
        println!(
            "group_assets, {threads} thread(s), 20k materials x 20 codes: {secs:.2} s -> {} assets; confirmed: {secs2:.2} s -> {} assets (truth 1000)",
            count(&plain),
            count(&confirmed)
        );
    }
}
