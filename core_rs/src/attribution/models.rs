//! Credit rules: how one order's conversion is split over its eligible
//! touches, for every model, plus the crediting pass that feeds the
//! accumulator.

use super::aggregate::{Acc, GroupKeys};
use super::config::{Model, DAY_MS};
use super::input::DictColumn;
use super::join::{PersonView, Visitor};
use super::paths::ChannelColumn;

/// A model with its parameters resolved against the data (codes, weights).
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    Last,
    First,
    Linear,
    /// Half-life in milliseconds.
    Decay(f64),
    Position {
        first: f64,
        last: f64,
    },
    /// Weight per event-type code.
    Weighted(Vec<f64>),
    /// Split over distinct channels by weight per channel rank (Markov,
    /// exact Shapley), equally within a channel.
    ChannelWeighted(Vec<f64>),
    /// Split equally over distinct channels (simplified Shapley), equally
    /// within a channel.
    ChannelEqual,
}

impl Rule {
    /// Resolve a rule-based model (`None` for models that need channel
    /// weights from a first pass).
    pub(crate) fn resolve(model: &Model, event_type: &DictColumn) -> Option<Rule> {
        Some(match model {
            Model::LastTouch => Rule::Last,
            Model::FirstTouch => Rule::First,
            Model::Linear => Rule::Linear,
            Model::TimeDecay { half_life_days } => Rule::Decay(half_life_days * DAY_MS),
            Model::PositionBased { first, last } => Rule::Position {
                first: *first,
                last: *last,
            },
            Model::Weighted(w) => Rule::Weighted(
                event_type
                    .values
                    .iter()
                    .map(|v| w.weight_of(v.as_deref()))
                    .collect(),
            ),
            Model::Shapley => Rule::ChannelEqual,
            Model::Markov { .. } | Model::ShapleyExact => return None,
        })
    }

    fn needs_types(&self) -> bool {
        matches!(self, Rule::Weighted(_))
    }

    fn needs_channels(&self) -> bool {
        matches!(self, Rule::ChannelWeighted(_) | Rule::ChannelEqual)
    }
}

/// The eligible touches of one order, with what the rules read.
#[derive(Default)]
pub(crate) struct OrderPath {
    pub(crate) times: Vec<i64>,
    pub(crate) types: Vec<u32>,
    pub(crate) channels: Vec<u32>,
}

/// Fill `out` with the shares of each touch of `path` (same order) and say
/// whether the order is attributed under `rule`. Shares are >= 0 and sum to
/// one when attributed. `scratch` is reused across calls.
pub(crate) fn shares(
    rule: &Rule,
    path: &OrderPath,
    out: &mut Vec<f64>,
    scratch: &mut Vec<(u32, u32)>,
) -> bool {
    let n = path.times.len();
    out.clear();
    out.resize(n, 0.0);
    if n == 0 {
        return false;
    }
    match rule {
        Rule::Last => out[n - 1] = 1.0,
        Rule::First => out[0] = 1.0,
        Rule::Linear => out.fill(1.0 / n as f64),
        Rule::Decay(half_life_ms) => {
            // 2^(-(T - t)/h) normalised per order equals 2^(-(t_last - t)/h)
            // normalised: measuring from the latest touch keeps the largest
            // weight at 1, so a tiny half-life cannot underflow every weight.
            let latest = path.times[n - 1];
            for (o, &t) in out.iter_mut().zip(&path.times) {
                *o = (-((latest - t) as f64) / half_life_ms).exp2();
            }
            normalise(out);
        }
        Rule::Position { first, last } => match n {
            1 => out[0] = 1.0,
            2 => {
                let total = first + last;
                let f = if total > 0.0 { first / total } else { 0.5 };
                out[0] = f;
                out[1] = 1.0 - f;
            }
            _ => {
                out[0] = *first;
                out[n - 1] = *last;
                let middle = (1.0 - first - last).max(0.0) / (n - 2) as f64;
                out[1..n - 1].fill(middle);
            }
        },
        Rule::Weighted(by_type) => {
            for (o, &t) in out.iter_mut().zip(&path.types) {
                *o = by_type[t as usize];
            }
            if !normalise(out) {
                return false;
            }
        }
        Rule::ChannelWeighted(by_channel) => channel_split(path, Some(by_channel), out, scratch),
        Rule::ChannelEqual => channel_split(path, None, out, scratch),
    }
    true
}

/// Scale `v` to sum to one; `false` (and `v` untouched) if it sums to zero.
fn normalise(v: &mut [f64]) -> bool {
    let total: f64 = v.iter().sum();
    if total > 0.0 {
        v.iter_mut().for_each(|x| *x /= total);
        true
    } else {
        false
    }
}

/// Split one order over the distinct channels of its path in proportion to
/// `weights` (equally when `None`, or when every channel weighs 0), then
/// equally over each channel's touches.
fn channel_split(
    path: &OrderPath,
    weights: Option<&Vec<f64>>,
    out: &mut [f64],
    scratch: &mut Vec<(u32, u32)>,
) {
    scratch.clear();
    scratch.extend(
        path.channels
            .iter()
            .enumerate()
            .map(|(p, &c)| (c, p as u32)),
    );
    scratch.sort_unstable();
    let weight = |c: u32| weights.map_or(1.0, |w| w.get(c as usize).copied().unwrap_or(0.0));
    let mut total = 0.0;
    let mut i = 0;
    while i < scratch.len() {
        let c = scratch[i].0;
        total += weight(c);
        i += scratch[i..].iter().take_while(|e| e.0 == c).count();
    }
    let equal = total <= 0.0;
    let mut distinct = 0usize;
    let mut i = 0;
    while i < scratch.len() {
        let c = scratch[i].0;
        let k = scratch[i..].iter().take_while(|e| e.0 == c).count();
        distinct += 1;
        let w = if equal { 1.0 } else { weight(c) / total };
        for e in &scratch[i..i + k] {
            out[e.1 as usize] = w / k as f64;
        }
        i += k;
    }
    if equal {
        out.iter_mut().for_each(|x| *x /= distinct as f64);
    }
}

/// What the driver carries as each touch's payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TouchPayload {
    /// Nothing: look columns up by input row.
    None,
    /// The group number (when it fits in 32 bits).
    Group,
    /// The channel rank.
    ChannelRank,
}

/// What the crediting pass shares across chunks.
pub(crate) struct CreditContext<'a> {
    pub(crate) rules: Vec<Rule>,
    pub(crate) keys: GroupKeys<'a>,
    pub(crate) payload: TouchPayload,
    pub(crate) event_type: &'a [u32],
    pub(crate) channel: Option<&'a ChannelColumn<'a>>,
}

/// The crediting pass: one per reduction chunk.
pub(crate) struct Crediting<'c, 'a> {
    ctx: &'c CreditContext<'a>,
    pub(crate) acc: Acc,
    path: OrderPath,
    groups: Vec<u64>,
    out: Vec<f64>,
    scratch: Vec<(u32, u32)>,
    need_types: bool,
    need_channels: bool,
}

impl<'c, 'a> Crediting<'c, 'a> {
    pub(crate) fn new(ctx: &'c CreditContext<'a>) -> Self {
        Crediting {
            ctx,
            acc: Acc::new(ctx.rules.len(), ctx.keys.space()),
            path: OrderPath::default(),
            groups: Vec::new(),
            out: Vec::new(),
            scratch: Vec::new(),
            need_types: ctx.rules.iter().any(Rule::needs_types),
            need_channels: ctx.rules.iter().any(Rule::needs_channels),
        }
    }
}

impl Visitor for Crediting<'_, '_> {
    fn order(&mut self, view: &PersonView<'_>, order: usize, eligible: &[u32]) {
        let ctx = self.ctx;
        let amount = view.order_amount[order];
        self.acc.paid(amount);
        if eligible.is_empty() {
            (0..ctx.rules.len()).for_each(|m| self.acc.unattributed(m, amount));
            return;
        }
        let path = &mut self.path;
        path.times.clear();
        path.types.clear();
        path.channels.clear();
        self.groups.clear();
        for &p in eligible {
            let row = view.touch_idx[p as usize] as usize;
            path.times.push(view.touch_time[p as usize]);
            let carried = view.touch_payload.get(p as usize).copied();
            self.groups.push(match (ctx.payload, carried) {
                (TouchPayload::Group, Some(g)) => g as u64,
                _ => ctx.keys.group(row),
            });
            if self.need_types {
                path.types.push(ctx.event_type[row]);
            }
            if self.need_channels {
                path.channels.push(match (ctx.payload, carried) {
                    (TouchPayload::ChannelRank, Some(r)) => r,
                    _ => ctx.channel.map_or(0, |c| c.rank(row)),
                });
            }
        }
        let space = ctx.keys.space();
        for (m, rule) in ctx.rules.iter().enumerate() {
            if shares(rule, &self.path, &mut self.out, &mut self.scratch) {
                for (&share, &g) in self.out.iter().zip(&self.groups) {
                    if share > 0.0 {
                        self.acc.credit(g, space, m, share, amount);
                    }
                }
            } else {
                self.acc.unattributed(m, amount);
            }
        }
    }
}
