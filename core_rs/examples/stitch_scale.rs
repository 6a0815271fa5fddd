//! Time and peak memory of `stitch` on a synthetic, realistically shaped
//! workload, or on the benchmark workloads dumped to a raw file.
//!
//! ```text
//! cargo run --release --example stitch_scale -- 10000000        # utf8 output
//! cargo run --release --example stitch_scale -- 10000000 view   # utf8_view output
//! cargo run --release --example stitch_scale -- file BASE.bin [INCREMENT.bin] \
//!     [view] [unguarded] [arrival] [carry] [check] [norebuild] [DAY1.persons]
//! ```
//!
//! `file` mode reads links dumped from the benchmark workloads (the layout
//! is in `stitch_scale_files`), handed over as the Python layer would
//! (chunks of 128 Ki rows, dictionary type columns), and runs day 1; with
//! an increment also the daily incremental run and the full rebuild (base +
//! increment, day 1 as previous), and compares their partitions. Flags:
//! `arrival` joins capped components in arrival order, `carry` passes day
//! 1's hubs to the daily run as block rules (the two together make the
//! daily run equal the rebuild), `check` reruns day 1 on one thread and
//! compares the outputs byte for byte, `norebuild` stops after the daily
//! run, and a `.persons` file caches day 1's persons (written when missing,
//! read instead of running day 1 otherwise). Every run prints wall and CPU
//! time and resident memory per phase.
//!
//! Synthetic mode: people hold 2-30 identifiers (most 2-4) with value
//! shapes of the real types (64-hex phone hashes, UUID device ids, openids,
//! member numbers); links form a spanning tree per person plus repeated
//! observations; 0.1% of people rotate a device id 50 times (long chains);
//! a few test phones are shared by thousands of accounts (hubs); 0.5% of
//! rows carry junk. Peak memory is VmHWM from /proc/self/status, reset
//! before each run so the figure is that run's peak (input included).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, RecordBatch, TimestampMillisecondArray};
use arrow_schema::DataType;
use omniplug_core::stitch::{
    stitch, BlockRule, CapOrder, LinkColumns, OutputStrings, Pattern, PersonsColumns, PreviousMode,
    StitchConfig, StitchOutput,
};
use xxhash_rust::xxh3::xxh3_128;

#[path = "stitch_scale_files/mod.rs"]
mod files;
use files::{links_schema, load, load_persons, same_partition, save_persons};

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
}

const TYPES: [&str; 8] = [
    "phone_sha256",
    "member_id",
    "tmall_ouid",
    "douyin_openid",
    "douyin_unionid",
    "oaid",
    "wechat_unionid",
    "jd_pin",
];

/// The value of identifier `k` of type `t`, shaped like the real thing.
fn value(t: usize, k: u64, out: &mut String) {
    out.clear();
    let h = xxh3_128(&k.to_le_bytes());
    match TYPES[t] {
        "phone_sha256" => {
            let h2 = xxh3_128(&h.to_le_bytes());
            let _ = write!(out, "{h:032x}{h2:032x}");
        }
        "member_id" => {
            let _ = write!(out, "{}", 1_000_000_000 + (h as u64 % 9_000_000_000));
        }
        "oaid" => {
            let s = format!("{h:032x}");
            let _ = write!(
                out,
                "{}-{}-{}-{}-{}",
                &s[..8],
                &s[8..12],
                &s[12..16],
                &s[16..20],
                &s[20..]
            );
        }
        "tmall_ouid" => {
            let _ = write!(out, "AAH{:029x}", h >> 12);
        }
        _ => {
            let _ = write!(out, "oX{:026x}", h >> 24);
        }
    }
}

/// User + system CPU seconds of this process (all threads), from
/// /proc/self/stat; on a shared machine this is steadier than wall time.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 of the file (utime, stime), in clock ticks of 1/100 s.
    (tick(11) + tick(12)) / 100.0
}

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

struct Gen {
    rng: Rng,
    next_id: u64,
    cols: [StringBuilder; 4],
    ts: Vec<i64>,
    buf: [String; 2],
}

impl Gen {
    fn ident(&mut self) -> (usize, u64) {
        let t = self.rng.below(TYPES.len() as u64) as usize;
        self.next_id += 1;
        (t, self.next_id)
    }

    fn link(&mut self, a: (usize, u64), b: (usize, u64)) {
        let junk = self.rng.below(200) == 0;
        value(a.0, a.1, &mut self.buf[0]);
        value(b.0, b.1, &mut self.buf[1]);
        self.cols[0].append_value(TYPES[a.0]);
        self.cols[1].append_value(if junk { "null" } else { &self.buf[0] });
        self.cols[2].append_value(TYPES[b.0]);
        self.cols[3].append_value(&self.buf[1]);
        self.ts
            .push(1_700_000_000_000 + self.rng.below(86_400_000 * 365) as i64);
    }
}

fn build(n: usize) -> RecordBatch {
    let cap = n + 64;
    let mut g = Gen {
        rng: Rng(42),
        next_id: 0,
        cols: std::array::from_fn(|_| StringBuilder::with_capacity(cap, cap * 40)),
        ts: Vec::with_capacity(cap),
        buf: [String::new(), String::new()],
    };
    let hubs: Vec<(usize, u64)> = (0..5).map(|_| (0, u64::MAX - g.rng.below(1000))).collect();
    let mut rows = 0;
    while rows < n {
        let r = g.rng.below(1000);
        let ids: Vec<(usize, u64)> = if r < 1 {
            // Rotating device id: a chain of 50.
            (0..51)
                .map(|_| {
                    let mut i = g.ident();
                    i.0 = 5;
                    i
                })
                .collect()
        } else {
            let k = match r {
                0..=450 => 2,
                451..=700 => 3,
                701..=850 => 4,
                851..=930 => 5 + g.rng.below(2) as usize,
                931..=980 => 7 + g.rng.below(4) as usize,
                _ => 11 + g.rng.below(20) as usize,
            };
            (0..k).map(|_| g.ident()).collect()
        };
        for i in 1..ids.len() {
            let j = if r < 1 {
                i - 1
            } else {
                g.rng.below(i as u64) as usize
            };
            g.link(ids[j], ids[i]);
            rows += 1;
            // Repeated observation of the same pair.
            if g.rng.below(5) == 0 {
                g.link(ids[i], ids[j]);
                rows += 1;
            }
        }
        if g.rng.below(100) == 0 {
            let h = hubs[g.rng.below(hubs.len() as u64) as usize];
            g.link(h, ids[0]);
            rows += 1;
        }
    }
    let mut columns: Vec<ArrayRef> = g
        .cols
        .iter_mut()
        .map(|b| Arc::new(b.finish()) as ArrayRef)
        .collect();
    columns.push(Arc::new(
        TimestampMillisecondArray::from(std::mem::take(&mut g.ts)).with_timezone("UTC"),
    ));
    RecordBatch::try_new(links_schema(DataType::Utf8), columns).expect("valid batch")
}

/// One timed `stitch` call: prints wall, CPU, peak and the phases.
fn timed(
    what: &str,
    links: &[RecordBatch],
    prev: Option<&RecordBatch>,
    cfg: &StitchConfig,
) -> StitchOutput {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = peak_kib();
    let links = LinkColumns::from_batches(links).expect("links");
    let prev = prev.map(|p| PersonsColumns::from_batches(std::slice::from_ref(p)).expect("prev"));
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let out = omniplug_core::parallel::install(|| stitch(&links, prev.as_ref(), cfg)).expect(what);
    let (took, cpu) = (t.elapsed(), cpu_seconds() - cpu);
    let peak = peak_kib();
    let r = &out.report;
    println!(
        "{what}: {:.3} s wall, {:.2} s cpu; peak RSS {:.0} MiB (resident before {:.0} MiB, +{:.0} MiB)",
        took.as_secs_f64(),
        cpu,
        peak as f64 / 1024.0,
        before as f64 / 1024.0,
        (peak.saturating_sub(before)) as f64 / 1024.0
    );
    let phases: Vec<String> = out
        .phases
        .list
        .iter()
        .zip(&out.phases.resident)
        .map(|((n, d, c), m)| {
            format!(
                "{n} {:.2}/{:.2} ({:.0} MiB)",
                d.as_secs_f64(),
                c.as_secs_f64(),
                *m as f64 / 1048576.0
            )
        })
        .collect();
    println!(
        "  phases (wall/cpu s, resident after): {}",
        phases.join(", ")
    );
    println!(
        "  identifiers {} persons {} largest {} hubs {} blocked {} cuts {} links_cut {:?}; kept {} new {} merged {} split {}",
        r.identifiers,
        r.components,
        r.largest_component,
        r.hubs,
        r.blocked_identifiers,
        out.cuts.len(),
        r.links_cut,
        r.persons_kept,
        r.persons_new,
        r.persons_merged,
        r.persons_split
    );
    out
}

fn file_mode(args: &[String]) {
    let flag = |f: &str| args.iter().any(|a| a == f);
    let files: Vec<&String> = args.iter().filter(|a| a.ends_with(".bin")).collect();
    let mut cfg = if flag("unguarded") {
        StitchConfig::unguarded()
    } else {
        StitchConfig::default()
    };
    if flag("view") {
        cfg.output_strings = OutputStrings::View;
    }
    if flag("arrival") {
        cfg.cap_order = CapOrder::Arrival;
    }
    let t = Instant::now();
    let base = load(files[0]);
    let rows: usize = base.iter().map(|b| b.num_rows()).sum();
    println!(
        "loaded {rows} links in {} chunks in {:.2?}; threads {}",
        base.len(),
        t.elapsed(),
        omniplug_core::parallel::current_num_threads()
    );
    // A `.persons` file caches day 1 (written if missing, else read).
    let cache = args.iter().find(|a| a.ends_with(".persons"));
    let day1 = match cache.filter(|p| std::path::Path::new(p.as_str()).exists()) {
        Some(p) => {
            let persons = load_persons(p);
            let mut out = timed(
                "day 1 (tiny stand-in; persons read from cache)",
                &base[..1],
                None,
                &cfg,
            );
            out.persons = persons;
            out
        }
        None => timed("day 1", &base, None, &cfg),
    };
    if let Some(p) = cache.filter(|p| !std::path::Path::new(p.as_str()).exists()) {
        save_persons(p, &day1.persons);
    }
    if flag("check") {
        let again = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| timed("day 1 again, 1 thread", &base, None, &cfg));
        println!(
            "  same persons bytes on 1 thread: {}, same cuts: {}",
            again.persons == day1.persons,
            again.cuts == day1.cuts
        );
    }
    let Some(inc_path) = files.get(1) else {
        return;
    };
    let inc = load(inc_path);
    let prev = day1.persons.clone();
    // `carry`: the hubs of day 1 are passed on to the daily run as block
    // rules (what the daily run cannot see from its own links).
    let mut daily_cfg = cfg.clone();
    if flag("carry") {
        daily_cfg.block_rules.extend(
            day1.cuts
                .iter()
                .filter(|c| c.rule.name() == "hub")
                .map(|c| BlockRule::for_type(&c.id_type, Pattern::Exact(c.id_value.clone()))),
        );
    }
    drop(day1);
    let daily = timed("incremental", &inc, Some(&prev), &daily_cfg);
    if flag("norebuild") {
        return;
    }
    let mut all = base;
    all.extend(inc.iter().cloned());
    let rebuild_cfg = StitchConfig {
        previous_mode: PreviousMode::IdsOnly,
        ..cfg.clone()
    };
    let rebuild = timed("rebuild", &all, Some(&prev), &rebuild_cfg);
    let (same, bad) = same_partition(&daily.persons, &rebuild.persons);
    println!(
        "incremental vs rebuild: same partition {same} ({bad} identifiers differ), same table {}",
        daily.persons == rebuild.persons
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("file") {
        file_mode(&args[1..]);
        return;
    }
    let n: usize = args
        .first()
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let t = Instant::now();
    let batch = build(n);
    println!(
        "generated {} links ({:.0} MiB of Arrow input) in {:.2?}; threads {}",
        batch.num_rows(),
        batch.get_array_memory_size() as f64 / 1048576.0,
        t.elapsed(),
        omniplug_core::parallel::current_num_threads()
    );
    let mut cfg = StitchConfig::default();
    if args.get(1).map(String::as_str) == Some("view") {
        cfg.output_strings = OutputStrings::View;
    }
    let out = timed("stitch", std::slice::from_ref(&batch), None, &cfg);
    // Second run with yesterday's persons: the daily incremental case.
    let prev = out.persons.clone();
    drop(out);
    let today = batch.slice(0, (batch.num_rows() / 100).max(1));
    timed(
        "incremental (previous persons + 1% new links)",
        std::slice::from_ref(&today),
        Some(&prev),
        &cfg,
    );
}
