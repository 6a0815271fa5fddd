//! Time the attribution engine on synthetic data.
//!
//! ```text
//! cargo run --release --example attribution_scale -- [touches] [orders] [persons]
//! ```
//!
//! Defaults: 2,000,000 touches, 1,000,000 orders, one person per 10 touches.
//! Touches spread over 180 days, 6 channels, 14 event types; 90 % of orders
//! are paid; 30-day lookback. Prints the wall time of the five rule-based
//! models computed together, then of all nine models, and the peak memory
//! above the generated input (VmHWM minus the RSS before the call).

use std::time::Instant;

use omniplug_core::attribution::{
    aipl, attribute, AiplRules, AttributionConfig, DictColumn, EventWeights, Ids, Model, Orders,
    Touchpoints,
};
use rayon::prelude::*;

const DAY: i64 = 86_400_000;
const CHANNELS: [&str; 6] = ["paid", "kol", "organic", "live", "search", "crm"];
const TYPES: [&str; 14] = [
    "impression",
    "click",
    "video_view",
    "like",
    "comment",
    "share",
    "favorite",
    "follow",
    "search",
    "product_view",
    "add_to_cart",
    "store_visit",
    "live_view",
    "note_read",
];

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn status_kb(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn main() {
    let n = arg(1, 2_000_000);
    let n_orders = arg(2, 1_000_000);
    let n_persons = arg(3, (n / 10).max(1)) as u64;
    let t0 = 1_700_000_000_000i64;
    let span = 180 * DAY as u64;

    let started = Instant::now();
    let person: Vec<i64> = (0..n as u64)
        .into_par_iter()
        .map(|i| (splitmix(i) % n_persons) as i64)
        .collect();
    let event_time: Vec<i64> = (0..n as u64)
        .into_par_iter()
        .map(|i| t0 + (splitmix(i ^ 0xaaaa_0000_0000) % span) as i64)
        .collect();
    let event_id: Vec<i64> = (0..n as i64).collect();
    let channel_codes: Vec<u32> = (0..n as u64)
        .into_par_iter()
        .map(|i| (splitmix(i ^ 0xbbbb << 40) % 6) as u32)
        .collect();
    let type_codes: Vec<u32> = (0..n as u64)
        .into_par_iter()
        .map(|i| (splitmix(i ^ 0xcccc << 40) % 14) as u32)
        .collect();
    let channel = DictColumn::new(
        channel_codes,
        CHANNELS.iter().map(|s| Some(s.to_string())).collect(),
    )
    .unwrap();
    let event_type = DictColumn::new(
        type_codes,
        TYPES.iter().map(|s| Some(s.to_string())).collect(),
    )
    .unwrap();
    let o_person: Vec<i64> = (0..n_orders as u64)
        .into_par_iter()
        .map(|i| (splitmix(i ^ 0xdddd << 40) % n_persons) as i64)
        .collect();
    let o_time: Vec<i64> = (0..n_orders as u64)
        .into_par_iter()
        .map(|i| t0 + (splitmix(i ^ 0xeeee << 40) % span) as i64)
        .collect();
    let o_id: Vec<i64> = (0..n_orders as i64).collect();
    let amount: Vec<f64> = (0..n_orders as u64)
        .into_par_iter()
        .map(|i| 10.0 + (splitmix(i ^ 0xffff << 40) % 99_000) as f64 / 100.0)
        .collect();
    let paid: Vec<bool> = (0..n_orders as u64)
        .into_par_iter()
        .map(|i| !splitmix(i ^ 0x1234 << 40).is_multiple_of(10))
        .collect();
    println!(
        "input: {n} touches, {n_orders} orders, {n_persons} persons, {} threads (generated in {:.2} s)",
        rayon::current_num_threads(),
        started.elapsed().as_secs_f64()
    );

    let touches = Touchpoints {
        person: &person,
        event_time: &event_time,
        event_id: Ids::Int(&event_id),
        event_type: &event_type,
        group_by: vec![&channel],
        channel: None,
    };
    let orders = Orders {
        person: &o_person,
        order_time: &o_time,
        order_id: Ids::Int(&o_id),
        amount: &amount,
        paid: &paid,
    };

    let rss_before = status_kb("VmRSS:");
    let config = AttributionConfig::default();
    let started = Instant::now();
    let out = attribute(&touches, &orders, &config).expect("attribution");
    let secs = started.elapsed().as_secs_f64();
    let hwm = status_kb("VmHWM:");
    let unattributed = out.conversions[out.attributed.iter().position(|a| !a).unwrap()];
    println!(
        "five rule-based models: {secs:.3} s; peak memory above input {:.0} MB (VmHWM {:.0} MB); \
         {} rows, {} paid orders, {unattributed} unattributed",
        (hwm.saturating_sub(rss_before)) as f64 / 1024.0,
        hwm as f64 / 1024.0,
        out.len(),
        out.paid_orders
    );

    let mut all = AttributionConfig::default();
    all.models.extend([
        Model::Weighted(EventWeights::preset("beauty").unwrap()),
        Model::Markov { order: 1 },
        Model::Markov { order: 3 },
        Model::Shapley,
        Model::ShapleyExact,
    ]);
    let started = Instant::now();
    let out = attribute(&touches, &orders, &all).expect("attribution");
    println!(
        "all ten models (adds weighted, markov, markov_3, shapley, shapley_exact): {:.3} s; VmHWM {:.0} MB",
        started.elapsed().as_secs_f64(),
        status_kb("VmHWM:") as f64 / 1024.0
    );
    for w in &out.channel_weights {
        let named: Vec<String> = w
            .channels
            .iter()
            .zip(&w.weights)
            .map(|(&c, x)| format!("{}={x:.4}", channel.value(c).unwrap_or("null")))
            .collect();
        println!("  {}: {}", w.model, named.join(" "));
    }

    let started = Instant::now();
    let stages = aipl(&touches, &orders, t0 + span as i64, &AiplRules::default()).expect("aipl");
    println!(
        "aipl: {:.3} s for {} staged persons",
        started.elapsed().as_secs_f64(),
        stages.person.len()
    );
}
