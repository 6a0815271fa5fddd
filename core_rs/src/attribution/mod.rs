//! Multi-touch attribution and AIPL staging.
//!
//! [`attribute`] credits paid orders to the touchpoints that preceded them,
//! under any number of models at once, and sums the credit by group-by key.
//! The contract (DESIGN §5):
//!
//! * a touch counts for a paid order of the same person when
//!   `order_time - lookback <= event_time <= order_time` (both inclusive);
//!   the lookback may differ by event type ([`Lookback`]);
//! * touches are ordered by (event_time, event_id), which decides first,
//!   last and positions;
//! * each order looks back on its own, so orders may share touches;
//! * only `paid` orders count; a paid order with no eligible touch is
//!   unattributed (one `attributed = false` row per model), never spread;
//! * per model, credited plus unattributed conversions equal the paid orders
//!   (and likewise revenue), up to floating point;
//! * the output is bit-identical at any thread count (and for any row order
//!   of the input, except rows that are exact duplicates in person, time and
//!   identifier).
//!
//! How it runs: rows are grouped by person in hash buckets (`partition`);
//! 64 fixed chunks of buckets are processed in parallel, each sweeping its
//! persons once (`join`) and crediting every model in that sweep (`models`)
//! into its own accumulator; the accumulators are merged in chunk order
//! (`aggregate`). `markov*` and `shapley_exact` first need channel weights
//! learnt from all paths, converting and not: one extra sweep collects them
//! (`paths`), then the crediting sweep runs.
//!
//! Streaming (`stream`): a person's reduction chunk depends on its id
//! alone, so a driver can spill rows by chunk, attribute each spill
//! partition alone and merge the outputs in chunk order, bit-identically.
//! The sweep only ever sees one person's sorted rows
//! (`join::PersonView`), so a driver reading input already partitioned by
//! person can feed person groups with memory bounded by the largest person;
//! the in-memory driver here uses 16 bytes per row for the grouping.
//! Markov/exact-Shapley need their path statistics before crediting, so a
//! streaming driver reads the input twice for them: [`collect_paths`] per
//! partition, merged and solved once (`stream_paths`), then `attribute` per
//! partition with the weights in [`AttributionConfig::learnt_weights`].

mod aggregate;
pub mod aipl;
mod arrow_io;
mod config;
mod convert;
mod filter;
mod hashing;
mod input;
mod join;
mod linalg;
pub mod markov;
mod models;
mod partition;
mod paths;
pub mod shapley;
mod spec;
pub mod stream;
pub mod stream_paths;

#[cfg(test)]
mod tests;

pub use aggregate::{AttributionOutput, ChannelWeights};
pub use aipl::{aipl, AiplOutput, AiplRules, Stage};
pub use config::{AttributionConfig, EventWeights, Lookback, Model, WeightsByValue, WEIGHT_PRESETS};
pub use convert::{amounts_from_arrow, millis_from_arrow, paid_from_status};
pub use input::{DictColumn, Ids, Orders, Touchpoints};
pub use markov::MarkovChain;
pub use shapley::{conversion_rate_shapley, shapley_values, simplified_shapley};
pub use arrow_io::{aipl_batches, attribute_batches};
pub use spec::{aipl_rules_from_json, config_from_json, MODEL_NAMES};

use aggregate::{Acc, GroupKeys};
use filter::PersonFilter;
use join::{Eligibility, Walker};
use markov::TransitionCounts;
use models::{CreditContext, Crediting, Rule, TouchPayload};
use partition::{run_chunks, Partitioned};
use paths::{ChannelColumn, PathCollector, PathCounts};

use crate::error::{CoreError, CoreResult};

/// Attribute paid orders to touchpoints under every model of `config`.
///
/// Returns the `attribution` table without spend/ROI (the spend join happens
/// on the Python side): per model, one row per group-by key tuple that
/// received credit, plus one `attributed = false` row with the unattributed
/// orders and revenue. Fails with `InvalidInput` on mismatched columns,
/// non-finite paid amounts, bad parameters (negative lookback, ...) or a
/// missing channel column, and with `LimitExceeded` when a Markov chain or
/// an exact Shapley game would be too large to solve.
pub fn attribute(
    touches: &Touchpoints<'_>,
    orders: &Orders<'_>,
    config: &AttributionConfig,
) -> CoreResult<AttributionOutput> {
    config.validate()?;
    touches.validate()?;
    orders.validate()?;
    let channel = channel_column(touches, config)?;
    let elig = Eligibility::new(&config.lookback, touches.event_type)?;
    let keys = GroupKeys::new(&touches.group_by)?;
    let names: Vec<String> = config.models.iter().map(Model::name).collect();
    let needs_paths = config.models.iter().any(Model::needs_paths);

    crate::parallel::install(move || {
        // Unless a model learns from non-converting paths, touches of persons
        // without a paid order cannot matter: drop them before sorting.
        let buyers = (!needs_paths).then(|| PersonFilter::new(orders.person, orders.paid));
        let (t_person, t_time) = (touches.person, touches.event_time);
        // Carry the column a pass reads for every touch in the partition, read
        // sequentially there, rather than fetch it at random later: the
        // channel rank for the path pass, else the group number (when it
        // fits in 32 bits) for crediting.
        let rank_of_row = |i: usize| channel.as_ref().map_or(0, |c| c.rank(i));
        let group_of_row = |i: usize| keys.group(i) as u32;
        let carry = if needs_paths {
            TouchPayload::ChannelRank
        } else if keys.space() <= u32::MAX as u64 {
            TouchPayload::Group
        } else {
            TouchPayload::None
        };
        let payload: Option<&(dyn Fn(usize) -> u32 + Sync)> = match carry {
            TouchPayload::ChannelRank => Some(&rank_of_row),
            TouchPayload::Group => Some(&group_of_row),
            TouchPayload::None => None,
        };
        let tp = Partitioned::build(
            t_person,
            t_time,
            None,
            buyers.as_ref(),
            payload,
            &touches.event_id,
        )?;
        drop(buyers);
        let (o_person, o_time) = (orders.person, orders.order_time);
        let amount_of_row = |i: usize| orders.amount[i];
        let amounts: Option<&(dyn Fn(usize) -> f64 + Sync)> = Some(&amount_of_row);
        let op = Partitioned::build(
            o_person,
            o_time,
            Some(orders.paid),
            None,
            amounts,
            &orders.order_id,
        )?;

        let channel_weights = match (&channel, &config.learnt_weights) {
            (Some(c), Some(learnt)) if needs_paths => localize_weights(c, config, learnt),
            (Some(c), None) if needs_paths => {
                learn_channel_weights(&tp, &op, &elig, touches, c, config)?
            }
            _ => Vec::new(),
        };
        let ctx = CreditContext {
            rules: resolve_rules(config, touches, channel.as_ref(), &channel_weights),
            keys,
            payload: carry,
            event_type: &touches.event_type.codes,
            channel: channel.as_ref(),
        };
        let chunks = run_chunks(
            &tp,
            &op,
            false,
            || (Walker::new(&elig, touches.event_type), Crediting::new(&ctx)),
            |s, view| s.0.walk(view, &mut s.1),
        );
        // Merge in chunk order: this fixes the order of every sum.
        let mut it = chunks.into_iter().map(|s| s.1.acc);
        let mut acc: Acc = it.next().expect("at least one chunk");
        it.for_each(|a| acc.merge(a));
        let mut out = acc.into_output(names, &ctx.keys);
        out.channel_weights = channel_weights;
        Ok(out)
    })
}

/// The channel column of the data-driven models, if any is requested:
/// `touches.channel`, else the first group-by column.
fn channel_column<'a>(
    touches: &Touchpoints<'a>,
    config: &AttributionConfig,
) -> CoreResult<Option<ChannelColumn<'a>>> {
    if !config.models.iter().any(Model::uses_channel) {
        return Ok(None);
    }
    let column = touches
        .channel
        .or(touches.group_by.first().copied())
        .ok_or_else(|| {
            CoreError::invalid(
                "markov and shapley models need a channel column: pass one or a group_by column",
            )
        })?;
    TransitionCounts::check_cardinality(column.values.len())?;
    Ok(Some(ChannelColumn::new(column)))
}

/// The first pass: collect every path (converting and not) and solve the
/// Markov chains and the exact Shapley game.
fn learn_channel_weights(
    tp: &Partitioned<u32>,
    op: &Partitioned<f64>,
    elig: &Eligibility,
    touches: &Touchpoints<'_>,
    channel: &ChannelColumn<'_>,
    config: &AttributionConfig,
) -> CoreResult<Vec<ChannelWeights>> {
    let chunks = run_chunks(
        tp,
        op,
        true,
        || {
            (
                Walker::new(elig, touches.event_type),
                PathCollector::new(&config.models, channel),
            )
        },
        |s, view| s.0.walk(view, &mut s.1),
    );
    let mut it = chunks.into_iter().map(|s| s.1);
    let mut all = it.next().expect("at least one chunk");
    it.for_each(|s| all.merge(s));
    all.solve(config)
}

/// Path statistics of one input (a streamed partition), channels numbered
/// by `rank_of_code` (a global rank per code of the channel column's
/// dictionary): the first pass of [`attribute`] without solving, so that
/// the statistics of several partitions can be merged. `None` when no model
/// needs paths.
pub(crate) fn collect_paths(
    touches: &Touchpoints<'_>,
    orders: &Orders<'_>,
    config: &AttributionConfig,
    rank_of_code: &[u32],
) -> CoreResult<Option<PathCounts>> {
    config.validate()?;
    touches.validate()?;
    orders.validate()?;
    let channel = match channel_column(touches, config)? {
        Some(c) if config.models.iter().any(Model::needs_paths) => c,
        _ => return Ok(None),
    };
    let codes = touches.channel.or(touches.group_by.first().copied()).map(|c| &c.codes);
    let codes = codes.expect("a channel column was found");
    if rank_of_code.len() != channel.cardinality() {
        return Err(CoreError::Internal("one global rank per channel code needed".into()));
    }
    let elig = Eligibility::new(&config.lookback, touches.event_type)?;
    crate::parallel::install(move || {
        // The same partitioning as `attribute` (no buyer filter: non-converting
        // paths count), carrying the global rank instead of the local one.
        let rank_of_row = |i: usize| rank_of_code[codes[i] as usize];
        let payload: Option<&(dyn Fn(usize) -> u32 + Sync)> = Some(&rank_of_row);
        let tp = Partitioned::build(
            touches.person,
            touches.event_time,
            None,
            None,
            payload,
            &touches.event_id,
        )?;
        let amount_of_row = |i: usize| orders.amount[i];
        let amounts: Option<&(dyn Fn(usize) -> f64 + Sync)> = Some(&amount_of_row);
        let op = Partitioned::build(
            orders.person,
            orders.order_time,
            Some(orders.paid),
            None,
            amounts,
            &orders.order_id,
        )?;
        let chunks = run_chunks(
            &tp,
            &op,
            true,
            || {
                (
                    Walker::new(&elig, touches.event_type),
                    PathCollector::new(&config.models, &channel),
                )
            },
            |s, view| s.0.walk(view, &mut s.1),
        );
        let mut it = chunks.into_iter().map(|s| s.1.into_counts());
        let mut all = it.next().expect("at least one chunk");
        it.for_each(|s| all.merge(s));
        Ok(Some(all))
    })
}

/// Weights learnt beforehand (by channel value) as this input's
/// [`ChannelWeights`] (by dictionary code, ascending value); channels of
/// this input the lists lack weigh 0, as in [`resolve_rules`].
fn localize_weights(
    channel: &ChannelColumn<'_>,
    config: &AttributionConfig,
    learnt: &[WeightsByValue],
) -> Vec<ChannelWeights> {
    let models = config.models.iter().filter(|m| m.needs_paths());
    models
        .zip(learnt)
        .map(|(m, list)| {
            let by_value: std::collections::HashMap<Option<&str>, f64> =
                list.iter().map(|(v, w)| (v.as_deref(), *w)).collect();
            let (channels, weights) = (0..channel.cardinality())
                .map(|r| channel.code_of_rank(r))
                .filter_map(|code| by_value.get(&channel.value(code)).map(|&w| (code, w)))
                .unzip();
            ChannelWeights {
                model: m.name(),
                channels,
                weights,
            }
        })
        .collect()
}

/// One rule per model, in model order; the data-driven models take their
/// learnt channel weights (indexed by channel rank).
fn resolve_rules(
    config: &AttributionConfig,
    touches: &Touchpoints<'_>,
    channel: Option<&ChannelColumn<'_>>,
    learnt: &[ChannelWeights],
) -> Vec<Rule> {
    let mut learnt = learnt.iter();
    config
        .models
        .iter()
        .map(|m| {
            Rule::resolve(m, touches.event_type).unwrap_or_else(|| {
                let w = learnt.next().expect("channel weights for every path model");
                let ch = channel.expect("path models have a channel column");
                let mut by_rank = vec![0.0; ch.cardinality()];
                for (&code, &x) in w.channels.iter().zip(&w.weights) {
                    by_rank[ch.rank_of_code(code)] = x;
                }
                Rule::ChannelWeighted(by_rank)
            })
        })
        .collect()
}
