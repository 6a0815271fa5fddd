//! The learning pass of a streamed run for `markov*` and `shapley_exact`.
//!
//! In memory, these models learn channel weights from every path of the
//! input (converting and not) before crediting any order. A streamed run
//! does the same in two passes over its spill partitions:
//!
//! 1. while spilling, every touch's channel value enters a global dictionary
//!    ([`PathLearner::observe`]); once spilling is over the values are ranked
//!    as the in-memory engine ranks its channel dictionary (ascending value,
//!    null first);
//! 2. each partition's paths are collected with those global ranks
//!    ([`PathLearner::collect`]): a person's paths lie in one partition, so
//!    the merged counts are the in-memory counts (integer sums, which do not
//!    depend on the order of addition);
//! 3. [`PathLearner::solve`] solves the chains and the game once, exactly
//!    as in memory (the solvers only depend on the channels' relative order,
//!    which the global ranks preserve), giving weights by channel value;
//! 4. each partition is then attributed with those weights
//!    ([`AttributionConfig::learnt_weights`]).
//!
//! Memory: the distinct channel values and the path statistics (transition
//! counts, coalition counts), as in memory.

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;

use super::arrow_io::column;
use super::config::{AttributionConfig, WeightsByValue};
use super::convert::{amounts_from_arrow, millis_from_arrow, paid_from_status};
use super::input::{DictColumn, Ids, Orders, Touchpoints};
use super::markov::TransitionCounts;
use super::paths::PathCounts;
use super::stream::GroupDicts;
use crate::error::{CoreError, CoreResult};

/// Weights learnt by a streamed run: per model needing paths (in model
/// order), its name and `(channel value, weight)` by ascending value.
pub type LearntWeights = Vec<(String, WeightsByValue)>;

/// Global channel dictionary and merged path statistics of a streamed run.
pub struct PathLearner {
    values: GroupDicts,
    /// Global rank per global (first-appearance) code, once ranked.
    rank_of_code: Option<Vec<u32>>,
    counts: Option<PathCounts>,
}

impl Default for PathLearner {
    fn default() -> Self {
        Self::new()
    }
}

fn persons<'a>(batch: &'a RecordBatch, table: &str) -> CoreResult<&'a [i64]> {
    let col = column(batch, table, "person")?;
    if col.data_type() != &DataType::Int64 || col.null_count() > 0 {
        return Err(CoreError::invalid(format!(
            "{table}.person must be non-null int64 person ids, got {}",
            col.data_type()
        )));
    }
    Ok(col.as_primitive::<Int64Type>().values())
}

impl PathLearner {
    /// An empty learner.
    pub fn new() -> Self {
        PathLearner {
            values: GroupDicts::new(1),
            rank_of_code: None,
            counts: None,
        }
    }

    /// Enter the next touches' channel values (in input order); all of them
    /// must be observed before the first [`collect`](Self::collect).
    pub fn observe<'s>(
        &mut self,
        items: impl IntoIterator<Item = Option<&'s str>>,
    ) -> CoreResult<()> {
        if self.rank_of_code.is_some() {
            return Err(CoreError::invalid(
                "channel values observed after collecting paths",
            ));
        }
        self.values.observe(0, items);
        Ok(())
    }

    fn ranks(&mut self) -> CoreResult<&[u32]> {
        if self.rank_of_code.is_none() {
            let values = self.values.values_of(0);
            TransitionCounts::check_cardinality(values.len())?;
            let mut order: Vec<u32> = (0..values.len() as u32).collect();
            order.sort_by(|&a, &b| values[a as usize].cmp(&values[b as usize]));
            let mut ranks = vec![0u32; order.len()];
            for (r, &c) in order.iter().enumerate() {
                ranks[c as usize] = r as u32;
            }
            self.rank_of_code = Some(ranks);
        }
        Ok(self.rank_of_code.as_deref().unwrap_or_default())
    }

    /// Collect the paths of the next spill partition (touch and order rows
    /// as spilled: `person`, times, identifiers, `event_type`, `amount`,
    /// `status` and the channel column `channel`, else the first of
    /// `group_by`) and merge them into the run's statistics.
    pub fn collect(
        &mut self,
        touches: &RecordBatch,
        orders: &RecordBatch,
        group_by: &[String],
        channel: Option<&str>,
        config: &AttributionConfig,
    ) -> CoreResult<()> {
        let name = channel
            .or(group_by.first().map(String::as_str))
            .ok_or_else(|| CoreError::invalid("markov and shapley models need a channel column"))?;
        let dict = |table: &str, batch: &RecordBatch, name: &str| {
            DictColumn::from_arrow(column(batch, table, name)?)
                .map_err(|e| CoreError::invalid(format!("{table}.{name}: {e}")))
        };
        let event_type = dict("touchpoints", touches, "event_type")?;
        let channel_col = dict("touchpoints", touches, name)?;
        let amounts = amounts_from_arrow(column(orders, "orders", "amount")?)?;
        let paid = paid_from_status(column(orders, "orders", "status")?)?;
        let t = Touchpoints {
            person: persons(touches, "touchpoints")?,
            event_time: millis_from_arrow(
                column(touches, "touchpoints", "event_time")?,
                "touchpoints.event_time",
            )?,
            event_id: Ids::from_arrow(column(touches, "touchpoints", "event_id")?)
                .map_err(|e| CoreError::invalid(format!("touchpoints.event_id: {e}")))?,
            event_type: &event_type,
            group_by: Vec::new(),
            channel: Some(&channel_col),
        };
        let o = Orders {
            person: persons(orders, "orders")?,
            order_time: millis_from_arrow(
                column(orders, "orders", "order_time")?,
                "orders.order_time",
            )?,
            order_id: Ids::from_arrow(column(orders, "orders", "order_id")?)
                .map_err(|e| CoreError::invalid(format!("orders.order_id: {e}")))?,
            amount: &amounts,
            paid: &paid,
        };
        // This partition's dictionary codes → global ranks.
        let codes: Vec<u32> = channel_col
            .values
            .iter()
            .map(|v| {
                self.values.code(0, v.as_deref()).ok_or_else(|| {
                    CoreError::Internal(format!("channel value {v:?} was never observed"))
                })
            })
            .collect::<CoreResult<_>>()?;
        let ranks = self.ranks()?;
        let local: Vec<u32> = codes.iter().map(|&c| ranks[c as usize]).collect();
        if let Some(counts) = super::collect_paths(&t, &o, config, &local)? {
            match &mut self.counts {
                Some(all) => all.merge(counts),
                None => self.counts = Some(counts),
            }
        }
        Ok(())
    }

    /// Solve every model needing paths from the merged statistics: the
    /// weights `attribute` would learn from the whole input.
    pub fn solve(&mut self, config: &AttributionConfig) -> CoreResult<LearntWeights> {
        let counts = self
            .counts
            .clone()
            .unwrap_or_else(|| PathCounts::new(&config.models));
        // Rank the values even when no partition had paths.
        self.ranks()?;
        let values = self.values.values_of(0);
        let ranks = self.rank_of_code.as_deref().unwrap_or_default();
        let mut code_of_rank = vec![0u32; ranks.len()];
        for (c, &r) in ranks.iter().enumerate() {
            code_of_rank[r as usize] = c as u32;
        }
        Ok(counts
            .solve(config)?
            .into_iter()
            .map(|(model, pairs)| {
                let weights = pairs
                    .into_iter()
                    .map(|(r, w)| {
                        let code = code_of_rank[r as usize] as usize;
                        (values[code].as_deref().map(str::to_owned), w)
                    })
                    .collect();
                (model, weights)
            })
            .collect())
    }
}

/// The config of the crediting pass: `config` with `learnt` as its weights.
pub fn with_learnt(config: &AttributionConfig, learnt: &LearntWeights) -> AttributionConfig {
    AttributionConfig {
        learnt_weights: Some(learnt.iter().map(|(_, w)| w.clone()).collect()),
        ..config.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use arrow_schema::{Field, Schema};

    use super::*;
    use crate::attribution::config::Model;
    use crate::attribution::stream::{split_by_partition, SPILL_PARTITIONS};
    use crate::attribution::{attribute, Lookback};

    /// Generated rows: touches (person, time, id, type, channel), orders
    /// (person, time, id, amount, status).
    struct Data {
        t: Vec<(i64, i64, String, &'static str, Option<&'static str>)>,
        o: Vec<(i64, i64, String, f64, &'static str)>,
    }

    fn data(n_touch: usize, n_order: usize, n_person: u64) -> Data {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let channels = [
            Some("paid"),
            Some("kol"),
            None,
            Some("organic"),
            Some("feed"),
        ];
        let types = ["impression", "click", "add_to_cart"];
        let t = (0..n_touch)
            .map(|i| {
                let p = next(n_person) as i64 - 7;
                let time = next(40) as i64 * 3_600_000 * 6;
                (
                    p,
                    time,
                    format!("e{}", i % 97),
                    types[next(3) as usize],
                    channels[next(5) as usize],
                )
            })
            .collect();
        let o = (0..n_order)
            .map(|i| {
                let p = next(n_person) as i64 - 7;
                let time = next(50) as i64 * 3_600_000 * 6;
                let status = if next(4) == 0 { "refunded" } else { "paid" };
                (
                    p,
                    time,
                    format!("o{i}"),
                    1.0 + next(1000) as f64 / 7.0,
                    status,
                )
            })
            .collect();
        Data { t, o }
    }

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        let fields: Vec<Field> = columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(fields)),
            columns.into_iter().map(|c| c.1).collect(),
        )
        .unwrap()
    }

    /// Touch and order batches of the given rows (in that order).
    fn batches(d: &Data, t_rows: &[usize], o_rows: &[usize]) -> (RecordBatch, RecordBatch) {
        let tb = batch(vec![
            (
                "person",
                Arc::new(Int64Array::from_iter_values(
                    t_rows.iter().map(|&r| d.t[r].0),
                )) as ArrayRef,
            ),
            (
                "event_time",
                Arc::new(Int64Array::from_iter_values(
                    t_rows.iter().map(|&r| d.t[r].1),
                )),
            ),
            (
                "event_id",
                Arc::new(StringArray::from_iter_values(
                    t_rows.iter().map(|&r| d.t[r].2.as_str()),
                )),
            ),
            (
                "event_type",
                Arc::new(StringArray::from_iter_values(
                    t_rows.iter().map(|&r| d.t[r].3),
                )),
            ),
            (
                "channel",
                Arc::new(t_rows.iter().map(|&r| d.t[r].4).collect::<StringArray>()),
            ),
        ]);
        let ob = batch(vec![
            (
                "person",
                Arc::new(Int64Array::from_iter_values(
                    o_rows.iter().map(|&r| d.o[r].0),
                )) as ArrayRef,
            ),
            (
                "order_time",
                Arc::new(Int64Array::from_iter_values(
                    o_rows.iter().map(|&r| d.o[r].1),
                )),
            ),
            (
                "order_id",
                Arc::new(StringArray::from_iter_values(
                    o_rows.iter().map(|&r| d.o[r].2.as_str()),
                )),
            ),
            (
                "amount",
                Arc::new(Float64Array::from_iter_values(
                    o_rows.iter().map(|&r| d.o[r].3),
                )),
            ),
            (
                "status",
                Arc::new(StringArray::from_iter_values(
                    o_rows.iter().map(|&r| d.o[r].4),
                )),
            ),
        ]);
        (tb, ob)
    }

    fn config() -> AttributionConfig {
        AttributionConfig {
            models: vec![
                Model::Markov { order: 1 },
                Model::Linear,
                Model::Markov { order: 2 },
                Model::ShapleyExact,
                Model::Markov { order: 3 },
            ],
            lookback: Lookback::days(3.0),
            ..AttributionConfig::default()
        }
    }

    /// The weights the in-memory engine learns from the whole input, by value.
    fn in_memory(d: &Data, cfg: &AttributionConfig) -> LearntWeights {
        let all_t: Vec<usize> = (0..d.t.len()).collect();
        let all_o: Vec<usize> = (0..d.o.len()).collect();
        let (tb, ob) = batches(d, &all_t, &all_o);
        let event_type = DictColumn::from_arrow(tb.column(3).as_ref()).unwrap();
        let channel = DictColumn::from_arrow(tb.column(4).as_ref()).unwrap();
        let amounts = amounts_from_arrow(ob.column(3).as_ref()).unwrap();
        let paid = paid_from_status(ob.column(4).as_ref()).unwrap();
        let t = Touchpoints {
            person: persons(&tb, "t").unwrap(),
            event_time: millis_from_arrow(tb.column(1).as_ref(), "t").unwrap(),
            event_id: Ids::from_arrow(tb.column(2).as_ref()).unwrap(),
            event_type: &event_type,
            group_by: vec![&channel],
            channel: Some(&channel),
        };
        let o = Orders {
            person: persons(&ob, "o").unwrap(),
            order_time: millis_from_arrow(ob.column(1).as_ref(), "o").unwrap(),
            order_id: Ids::from_arrow(ob.column(2).as_ref()).unwrap(),
            amount: &amounts,
            paid: &paid,
        };
        let out = attribute(&t, &o, cfg).unwrap();
        out.channel_weights
            .iter()
            .map(|w| {
                let pairs = w
                    .channels
                    .iter()
                    .zip(&w.weights)
                    .map(|(&c, &x)| (channel.values[c as usize].clone(), x))
                    .collect();
                (w.model.clone(), pairs)
            })
            .collect()
    }

    fn streamed(d: &Data, cfg: &AttributionConfig) -> LearntWeights {
        let mut learner = PathLearner::new();
        // Observe in input order, in uneven batches.
        for chunk in d.t.chunks(13) {
            learner.observe(chunk.iter().map(|r| r.4)).unwrap();
        }
        let t_person: Vec<i64> = d.t.iter().map(|r| r.0).collect();
        let o_person: Vec<i64> = d.o.iter().map(|r| r.0).collect();
        let (t_rows, t_off) = split_by_partition(&t_person);
        let (o_rows, o_off) = split_by_partition(&o_person);
        for p in 0..SPILL_PARTITIONS {
            let tr: Vec<usize> = t_rows[t_off[p]..t_off[p + 1]]
                .iter()
                .map(|&r| r as usize)
                .collect();
            let or: Vec<usize> = o_rows[o_off[p]..o_off[p + 1]]
                .iter()
                .map(|&r| r as usize)
                .collect();
            let (tb, ob) = batches(d, &tr, &or);
            learner
                .collect(&tb, &ob, &[], Some("channel"), cfg)
                .unwrap();
        }
        learner.solve(cfg).unwrap()
    }

    #[test]
    fn streamed_weights_equal_in_memory_bit_for_bit() {
        for (n_touch, n_order, n_person) in [(3000, 900, 700), (200, 5, 40), (50, 0, 10)] {
            let d = data(n_touch, n_order, n_person);
            let cfg = config();
            let want = in_memory(&d, &cfg);
            let got = streamed(&d, &cfg);
            assert_eq!(got.len(), 4);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g.0, w.0);
                let bits = |v: &[(Option<String>, f64)]| -> Vec<(Option<String>, u64)> {
                    v.iter().map(|(c, x)| (c.clone(), x.to_bits())).collect()
                };
                assert_eq!(bits(&g.1), bits(&w.1), "{}", g.0);
            }
            if n_order > 100 {
                assert!(
                    got[0].1.iter().any(|(_, x)| *x > 0.0),
                    "markov learnt something"
                );
            }
        }
    }

    #[test]
    fn learnt_weights_drive_attribute() {
        let d = data(400, 120, 60);
        let cfg = config();
        let learnt = in_memory(&d, &cfg);
        // Crediting with the learnt weights gives the in-memory output.
        let all_t: Vec<usize> = (0..d.t.len()).collect();
        let all_o: Vec<usize> = (0..d.o.len()).collect();
        let (tb, ob) = batches(&d, &all_t, &all_o);
        let g = ["channel".to_string()];
        let plain = super::super::attribute_batches(&tb, &ob, &g, None, &cfg).unwrap();
        let given =
            super::super::attribute_batches(&tb, &ob, &g, None, &with_learnt(&cfg, &learnt))
                .unwrap();
        assert_eq!(plain, given);
        let mut wrong = with_learnt(&cfg, &learnt);
        wrong.learnt_weights.as_mut().unwrap().pop();
        assert!(super::super::attribute_batches(&tb, &ob, &g, None, &wrong).is_err());
    }
}
