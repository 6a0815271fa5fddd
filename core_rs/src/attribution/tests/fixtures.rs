//! A small world builder for the tests: rows are added one by one, then
//! turned into the engine's columns.

use crate::attribution::{
    attribute, AttributionConfig, AttributionOutput, DictColumn, Ids, Lookback, Model, Orders,
    Touchpoints,
};
use crate::error::CoreResult;

pub(super) const DAY: i64 = 86_400_000;

/// Milliseconds for a (possibly fractional) number of days.
pub(super) fn days(d: f64) -> i64 {
    (d * DAY as f64).round() as i64
}

#[derive(Debug, Clone)]
pub(super) struct Touch {
    pub person: i64,
    pub time: i64,
    pub id: i64,
    pub kind: String,
    pub channel: String,
    pub campaign: String,
}

#[derive(Debug, Clone)]
pub(super) struct Order {
    pub person: i64,
    pub time: i64,
    pub id: i64,
    pub amount: f64,
    pub status: String,
}

/// Touches and orders; touches are grouped by (channel, campaign) and the
/// channel column is the first group-by key.
#[derive(Debug, Clone, Default)]
pub(super) struct World {
    pub touches: Vec<Touch>,
    pub orders: Vec<Order>,
}

impl World {
    /// Add a touch (campaign `c0`).
    pub fn touch(
        &mut self,
        person: i64,
        time: i64,
        id: i64,
        kind: &str,
        channel: &str,
    ) -> &mut Self {
        self.touch_in(person, time, id, kind, channel, "c0")
    }

    /// Add a touch with a campaign.
    pub fn touch_in(
        &mut self,
        person: i64,
        time: i64,
        id: i64,
        kind: &str,
        channel: &str,
        campaign: &str,
    ) -> &mut Self {
        self.touches.push(Touch {
            person,
            time,
            id,
            kind: kind.into(),
            channel: channel.into(),
            campaign: campaign.into(),
        });
        self
    }

    /// Add an order.
    pub fn order(
        &mut self,
        person: i64,
        time: i64,
        id: i64,
        amount: f64,
        status: &str,
    ) -> &mut Self {
        self.orders.push(Order {
            person,
            time,
            id,
            amount,
            status: status.into(),
        });
        self
    }

    /// Run the engine.
    pub fn run(&self, config: &AttributionConfig) -> CoreResult<Outcome> {
        let t = &self.touches;
        let person: Vec<i64> = t.iter().map(|x| x.person).collect();
        let time: Vec<i64> = t.iter().map(|x| x.time).collect();
        let ids: Vec<i64> = t.iter().map(|x| x.id).collect();
        let kind = DictColumn::from_strs(t.iter().map(|x| Some(x.kind.as_str())));
        let channel = DictColumn::from_strs(t.iter().map(|x| Some(x.channel.as_str())));
        let campaign = DictColumn::from_strs(t.iter().map(|x| Some(x.campaign.as_str())));
        let o = &self.orders;
        let o_person: Vec<i64> = o.iter().map(|x| x.person).collect();
        let o_time: Vec<i64> = o.iter().map(|x| x.time).collect();
        let o_id: Vec<i64> = o.iter().map(|x| x.id).collect();
        let amount: Vec<f64> = o.iter().map(|x| x.amount).collect();
        let paid: Vec<bool> = o.iter().map(|x| x.status == "paid").collect();
        let touches = Touchpoints {
            person: &person,
            event_time: &time,
            event_id: Ids::Int(&ids),
            event_type: &kind,
            group_by: vec![&channel, &campaign],
            channel: None,
        };
        let orders = Orders {
            person: &o_person,
            order_time: &o_time,
            order_id: Ids::Int(&o_id),
            amount: &amount,
            paid: &paid,
        };
        let out = attribute(&touches, &orders, config)?;
        let rows = (0..out.len())
            .map(|r| {
                let keys = out.key_values(&[&channel, &campaign], r);
                Row {
                    model: out.model_names[out.model[r] as usize].clone(),
                    channel: keys[0].map(str::to_owned),
                    campaign: keys[1].map(str::to_owned),
                    conversions: out.conversions[r],
                    revenue: out.revenue[r],
                    attributed: out.attributed[r],
                }
            })
            .collect();
        let weights = out
            .channel_weights
            .iter()
            .map(|w| {
                let named = w
                    .channels
                    .iter()
                    .map(|&c| channel.value(c).unwrap_or("").to_string());
                (
                    w.model.clone(),
                    named.zip(w.weights.iter().copied()).collect(),
                )
            })
            .collect();
        Ok(Outcome { out, rows, weights })
    }
}

/// One output row with its keys as strings.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    pub model: String,
    pub channel: Option<String>,
    pub campaign: Option<String>,
    pub conversions: f64,
    pub revenue: f64,
    pub attributed: bool,
}

/// The engine's output plus decoded rows and channel weights.
pub(super) struct Outcome {
    pub out: AttributionOutput,
    pub rows: Vec<Row>,
    pub weights: Vec<(String, Vec<(String, f64)>)>,
}

impl Outcome {
    /// (conversions, revenue) credited to `channel` under `model` (summed
    /// over campaigns); `None` reads the unattributed row.
    pub fn get(&self, model: &str, channel: Option<&str>) -> (f64, f64) {
        let mut acc = (0.0, 0.0);
        for r in &self.rows {
            let matches = match channel {
                Some(c) => r.attributed && r.channel.as_deref() == Some(c),
                None => !r.attributed,
            };
            if r.model == model && matches {
                acc.0 += r.conversions;
                acc.1 += r.revenue;
            }
        }
        acc
    }

    /// Conversions credited to a (channel, campaign) pair under `model`.
    pub fn get_in(&self, model: &str, channel: &str, campaign: &str) -> f64 {
        self.rows
            .iter()
            .filter(|r| r.model == model && r.attributed)
            .filter(|r| {
                r.channel.as_deref() == Some(channel) && r.campaign.as_deref() == Some(campaign)
            })
            .map(|r| r.conversions)
            .sum()
    }

    /// Channel weights learnt by `model`.
    pub fn weights_of(&self, model: &str) -> Vec<(String, f64)> {
        self.weights
            .iter()
            .find(|w| w.0 == model)
            .map(|w| w.1.clone())
            .unwrap_or_default()
    }

    /// Assert conservation for every model: credited + unattributed equal
    /// the paid orders and revenue.
    pub fn assert_conserved(&self) {
        for (m, name) in self.out.model_names.iter().enumerate() {
            let rows = (0..self.out.len()).filter(|&r| self.out.model[r] as usize == m);
            let (mut conv, mut rev) = (0.0, 0.0);
            for r in rows {
                assert!(self.out.conversions[r] >= 0.0, "{name}: negative credit");
                conv += self.out.conversions[r];
                rev += self.out.revenue[r];
            }
            let paid = self.out.paid_orders as f64;
            assert!(
                (conv - paid).abs() <= 1e-9 * paid.max(1.0),
                "{name}: {conv} conversions vs {paid} paid orders"
            );
            let total = self.out.paid_revenue;
            assert!(
                (rev - total).abs() <= 1e-9 * total.abs().max(1.0),
                "{name}: revenue {rev} vs {total}"
            );
        }
    }
}

/// A config with the given models and a single lookback.
pub(super) fn config(models: Vec<Model>, lookback_days: f64) -> AttributionConfig {
    AttributionConfig {
        models,
        lookback: Lookback::days(lookback_days),
        ..AttributionConfig::default()
    }
}

/// Assert two floats agree to 1e-12 (relative to magnitude 1).
#[track_caller]
pub(super) fn close(actual: f64, expected: f64) {
    assert!(
        (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0),
        "got {actual}, expected {expected}"
    );
}

/// A deterministic pseudo-random generator (SplitMix64).
pub(super) struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

pub(super) const CHANNELS: [&str; 6] = ["paid", "kol", "organic", "live", "search", "crm"];
pub(super) const KINDS: [&str; 6] = [
    "impression",
    "click",
    "video_view",
    "add_to_cart",
    "share",
    "note_read",
];

/// A random world: times on an hourly grid (so ties are frequent), all
/// three statuses, zero amounts, persons without touches or orders.
pub(super) fn random_world(seed: u64, persons: u64, touches: usize, orders: usize) -> World {
    let mut rng = Rng(seed);
    let mut w = World::default();
    for id in 0..touches {
        let person = rng.below(persons) as i64;
        let time = rng.below(120 * 24) as i64 * 3_600_000;
        let kind = KINDS[rng.below(KINDS.len() as u64) as usize];
        let channel = CHANNELS[rng.below(CHANNELS.len() as u64) as usize];
        let campaign = format!("c{}", rng.below(4));
        // Ids are unique but unrelated to row order.
        let id = (id as i64 * 7919) % 1_000_003;
        w.touch_in(person, time, id, kind, channel, &campaign);
    }
    for id in 0..orders {
        let person = rng.below(persons + persons / 5) as i64;
        let time = rng.below(120 * 24) as i64 * 3_600_000;
        let amount = if rng.below(10) == 0 {
            0.0
        } else {
            (rng.below(100_000) as f64) / 100.0
        };
        let status = ["paid", "paid", "paid", "refunded", "cancelled"][rng.below(5) as usize];
        w.order(person, time, id as i64, amount, status);
    }
    w
}
