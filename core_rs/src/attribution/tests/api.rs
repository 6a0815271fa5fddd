//! The API's edges: parameter validation and tables without group-by keys.

use super::fixtures::config;
use super::rules::boundary_world;
use crate::attribution::{EventWeights, Model};
use crate::error::CoreError;

#[test]
fn attribution_rejects_bad_parameters() {
    let w = boundary_world();
    let bad = |cfg| matches!(w.run(&cfg), Err(CoreError::InvalidInput(_)));
    assert!(bad(config(vec![Model::Linear], -1.0)), "negative lookback");
    let mut per_type = config(vec![Model::Linear], 30.0);
    per_type.lookback.by_event_type.push(("click".into(), -0.5));
    assert!(bad(per_type), "negative per-type lookback");
    assert!(bad(config(
        vec![Model::TimeDecay {
            half_life_days: 0.0
        }],
        30.0
    )));
    assert!(bad(config(
        vec![Model::PositionBased {
            first: 0.7,
            last: 0.7
        }],
        30.0
    )));
    assert!(bad(config(vec![Model::Markov { order: 4 }], 30.0)));
    assert!(
        bad(config(vec![Model::Linear, Model::Linear], 30.0)),
        "duplicate model"
    );
    assert!(bad(config(vec![], 30.0)), "no model");
    let neg = EventWeights {
        weights: vec![("click".into(), -1.0)],
        default_weight: 1.0,
    };
    assert!(bad(config(vec![Model::Weighted(neg)], 30.0)));
}

#[test]
fn attribution_without_group_by_columns() {
    use crate::attribution::{attribute, AttributionConfig, DictColumn, Ids, Orders, Touchpoints};
    let kind = DictColumn::from_strs([Some("click")]);
    let touches = Touchpoints {
        person: &[1],
        event_time: &[0],
        event_id: Ids::RowOrder,
        event_type: &kind,
        group_by: vec![],
        channel: None,
    };
    let orders = Orders {
        person: &[1, 2],
        order_time: &[5, 5],
        order_id: Ids::RowOrder,
        amount: &[3.0, 4.0],
        paid: &[true, true],
    };
    let cfg = AttributionConfig::default();
    let out = attribute(&touches, &orders, &cfg).unwrap();
    // Per model: one credited row with no key columns, one unattributed row.
    assert_eq!(out.len(), 2 * cfg.models.len());
    assert!(out.keys.is_empty());
    assert_eq!(&out.conversions[..2], &[1.0, 1.0]);
    assert_eq!(&out.revenue[..2], &[3.0, 4.0]);
    assert_eq!(&out.attributed[..2], &[true, false]);
    let markov = AttributionConfig {
        models: vec![Model::Markov { order: 1 }],
        ..cfg
    };
    assert!(matches!(
        attribute(&touches, &orders, &markov),
        Err(CoreError::InvalidInput(_))
    ));
}

#[test]
fn attribution_key_space_beyond_32_bits() {
    use crate::attribution::{attribute, AttributionConfig, DictColumn, Ids, Orders, Touchpoints};
    // Two group-by dictionaries of 70,000 values each: 4.9e9 key tuples, more
    // than a 32-bit group number holds. Only four values occur.
    let wide = |codes: Vec<u32>| {
        let values = (0..70_000).map(|v| Some(format!("v{v}"))).collect();
        DictColumn::new(codes, values).unwrap()
    };
    let narrow = |codes: Vec<u32>| {
        let values = (0..4).map(|v| Some(format!("v{v}"))).collect();
        DictColumn::new(codes, values).unwrap()
    };
    let a = vec![0, 1, 2, 3, 0, 1];
    let b = vec![3, 2, 1, 0, 3, 2];
    let kind = DictColumn::from_strs([Some("click"); 6]);
    let person = [1, 1, 2, 2, 3, 3];
    let time = [1, 2, 3, 4, 5, 6];
    let orders = Orders {
        person: &[1, 2, 3],
        order_time: &[10, 10, 10],
        order_id: Ids::RowOrder,
        amount: &[1.0, 2.0, 4.0],
        paid: &[true, true, true],
    };
    let cfg = AttributionConfig::default();
    let run = |x: &DictColumn, y: &DictColumn| {
        let touches = Touchpoints {
            person: &person,
            event_time: &time,
            event_id: Ids::RowOrder,
            event_type: &kind,
            group_by: vec![x, y],
            channel: None,
        };
        let out = attribute(&touches, &orders, &cfg).unwrap();
        let mut rows: Vec<(u32, Vec<Option<String>>, u64, u64)> = (0..out.len())
            .map(|r| {
                let keys = out
                    .key_values(&[x, y], r)
                    .into_iter()
                    .map(|k| k.map(str::to_owned))
                    .collect();
                (
                    out.model[r],
                    keys,
                    out.conversions[r].to_bits(),
                    out.revenue[r].to_bits(),
                )
            })
            .collect();
        rows.sort();
        rows
    };
    let (wide_a, wide_b) = (wide(a.clone()), wide(b.clone()));
    assert_eq!(run(&wide_a, &wide_b), run(&narrow(a), &narrow(b)));
}
