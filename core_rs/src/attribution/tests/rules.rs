//! Hand-computed cases for the rule-based models and the eligibility rules.

use super::fixtures::{close, config, days, World};
use crate::attribution::{EventWeights, Lookback, Model};
use crate::error::CoreError;

/// Every model. In the hand-made worlds below the data-driven ones reduce
/// to simple splits: the converting path's channels each have removal
/// effect 1 and positive Shapley value, the non-converting path's channels
/// removal effect 0 and (clipped) Shapley value 0.
fn all_models() -> Vec<Model> {
    let mut m = Model::rule_based();
    m.push(Model::Weighted(EventWeights {
        weights: vec![],
        default_weight: 1.0,
    }));
    m.extend([
        Model::Shapley,
        Model::Markov { order: 1 },
        Model::ShapleyExact,
    ]);
    m
}

const ALL: [&str; 9] = [
    "last_touch",
    "first_touch",
    "linear",
    "time_decay",
    "position_based",
    "weighted",
    "shapley",
    "markov",
    "shapley_exact",
];

/// Window edges: a touch exactly `lookback` before the order counts, one a
/// millisecond earlier does not; a touch at the order's own timestamp
/// counts, one a millisecond after does not.
pub(super) fn boundary_world() -> World {
    let order_at = days(30.0);
    let mut w = World::default();
    w.touch(1, -1, 1, "click", "paid")
        .touch(1, 0, 2, "click", "kol")
        .touch(1, order_at, 3, "click", "live")
        .touch(1, order_at + 1, 4, "click", "crm")
        .order(1, order_at, 1, 100.0, "paid");
    w
}

#[test]
fn attribution_window_edges_for_every_rule_model() {
    let out = boundary_world().run(&config(all_models(), 30.0)).unwrap();
    for m in [
        "last_touch",
        "first_touch",
        "linear",
        "time_decay",
        "position_based",
        "weighted",
        "shapley",
    ] {
        assert_eq!(
            out.get(m, Some("paid")),
            (0.0, 0.0),
            "{m}: touch before the window"
        );
        assert_eq!(
            out.get(m, Some("crm")),
            (0.0, 0.0),
            "{m}: touch after the order"
        );
        assert_eq!(out.get(m, None), (0.0, 0.0), "{m}: nothing unattributed");
    }
    assert_eq!(out.get("last_touch", Some("live")), (1.0, 100.0));
    assert_eq!(out.get("first_touch", Some("kol")), (1.0, 100.0));
    assert_eq!(out.get("linear", Some("kol")), (0.5, 50.0));
    assert_eq!(out.get("position_based", Some("kol")), (0.5, 50.0));
    assert_eq!(out.get("weighted", Some("live")), (0.5, 50.0));
    assert_eq!(out.get("shapley", Some("live")), (0.5, 50.0));
    assert_eq!(out.get("markov", Some("kol")), (0.5, 50.0));
    assert_eq!(out.get("shapley_exact", Some("live")), (0.5, 50.0));
    // 2^(-30/7) for the boundary touch, 1 for the touch at the order time.
    let w = (-30.0f64 / 7.0).exp2();
    close(out.get("time_decay", Some("kol")).0, w / (1.0 + w));
    close(out.get("time_decay", Some("live")).1, 100.0 / (1.0 + w));
    out.assert_conserved();
}

#[test]
fn attribution_ties_in_time_are_broken_by_event_id() {
    // Same timestamp; event 9 is added first but event 3 sorts first.
    let mut w = World::default();
    w.touch(1, days(1.0), 9, "click", "kol")
        .touch(1, days(1.0), 3, "click", "paid")
        .order(1, days(2.0), 1, 10.0, "paid");
    let out = w.run(&config(Model::rule_based(), 30.0)).unwrap();
    assert_eq!(out.get("first_touch", Some("paid")), (1.0, 10.0));
    assert_eq!(out.get("last_touch", Some("kol")), (1.0, 10.0));
}

#[test]
fn attribution_string_event_ids_order_ties_lexicographically() {
    use crate::attribution::{attribute, AttributionConfig, DictColumn, Ids, Orders, Touchpoints};
    use arrow_array::StringArray;
    // "e10" < "e9" as strings.
    let ids = StringArray::from(vec!["e9", "e10"]);
    let channel = DictColumn::from_strs([Some("kol"), Some("paid")]);
    let kind = DictColumn::from_strs([Some("click"), Some("click")]);
    let touches = Touchpoints {
        person: &[5, 5],
        event_time: &[1000, 1000],
        event_id: Ids::from_arrow(&ids).unwrap(),
        event_type: &kind,
        group_by: vec![&channel],
        channel: None,
    };
    let orders = Orders {
        person: &[5],
        order_time: &[2000],
        order_id: Ids::RowOrder,
        amount: &[1.0],
        paid: &[true],
    };
    let cfg = AttributionConfig {
        models: vec![Model::FirstTouch],
        ..AttributionConfig::default()
    };
    let out = attribute(&touches, &orders, &cfg).unwrap();
    let first = (0..out.len()).find(|&r| out.attributed[r]).unwrap();
    assert_eq!(out.key_values(&[&channel], first), vec![Some("paid")]);
}

#[test]
fn attribution_orders_share_touches_and_look_back_independently() {
    let mut w = World::default();
    w.touch(1, days(0.0), 1, "click", "paid")
        .touch(1, days(10.0), 2, "click", "kol")
        .order(1, days(15.0), 1, 100.0, "paid")
        .order(1, days(20.0), 2, 50.0, "paid")
        // Window [d15, d45]: both touches are too old.
        .order(1, days(45.0), 3, 30.0, "paid");
    let out = w.run(&config(Model::rule_based(), 30.0)).unwrap();
    assert_eq!(out.get("linear", Some("paid")), (1.0, 75.0));
    assert_eq!(out.get("linear", Some("kol")), (1.0, 75.0));
    assert_eq!(out.get("last_touch", Some("kol")), (2.0, 150.0));
    assert_eq!(out.get("first_touch", Some("paid")), (2.0, 150.0));
    for m in [
        "last_touch",
        "first_touch",
        "linear",
        "time_decay",
        "position_based",
    ] {
        assert_eq!(out.get(m, None), (1.0, 30.0), "{m}");
    }
    assert_eq!(out.out.paid_orders, 3);
    out.assert_conserved();
}

#[test]
fn attribution_zero_revenue_refunded_and_touchless_orders() {
    let mut w = World::default();
    w.touch(1, days(1.0), 1, "click", "paid")
        .order(1, days(2.0), 1, 0.0, "paid")
        .order(1, days(2.0), 2, 80.0, "refunded")
        .order(1, days(3.0), 3, 60.0, "cancelled")
        // Person 2 has a paid order but no touch at all.
        .order(2, days(3.0), 4, 25.0, "paid")
        // Person 3 has touches only.
        .touch(3, days(1.0), 2, "click", "kol");
    let out = w.run(&config(all_models(), 30.0)).unwrap();
    assert_eq!(out.out.paid_orders, 2);
    assert_eq!(out.out.paid_revenue, 25.0);
    for m in ALL {
        assert_eq!(
            out.get(m, Some("paid")),
            (1.0, 0.0),
            "{m}: zero-revenue order still converts"
        );
        assert_eq!(
            out.get(m, Some("kol")),
            (0.0, 0.0),
            "{m}: touch-only person"
        );
        assert_eq!(
            out.get(m, None),
            (1.0, 25.0),
            "{m}: touchless person's order"
        );
    }
    out.assert_conserved();
}

#[test]
fn attribution_position_based_splits() {
    let mut w = World::default();
    for (i, ch) in ["paid", "kol", "live", "crm"].iter().enumerate() {
        w.touch(1, days(i as f64), i as i64, "click", ch);
    }
    w.order(1, days(5.0), 1, 10.0, "paid");
    w.touch(2, days(1.0), 10, "click", "paid")
        .touch(2, days(2.0), 11, "click", "kol")
        .order(2, days(3.0), 2, 10.0, "paid");
    let out = w.run(&config(vec![Model::position_based()], 30.0)).unwrap();
    // Person 1: 0.4 / 0.1 / 0.1 / 0.4; person 2 (two touches): 0.5 / 0.5.
    close(out.get("position_based", Some("paid")).0, 0.9);
    close(out.get("position_based", Some("kol")).0, 0.6);
    close(out.get("position_based", Some("live")).0, 0.1);
    close(out.get("position_based", Some("crm")).0, 0.4);
    let skewed = w
        .run(&config(
            vec![Model::PositionBased {
                first: 0.3,
                last: 0.5,
            }],
            30.0,
        ))
        .unwrap();
    // Person 2 splits 0.3 : 0.5 = 0.375 / 0.625; person 1 gives the middle 0.1 each.
    close(skewed.get("position_based", Some("paid")).0, 0.3 + 0.375);
    close(skewed.get("position_based", Some("kol")).0, 0.1 + 0.625);
    skewed.assert_conserved();
}

#[test]
fn attribution_time_decay_halves_per_half_life() {
    let mut w = World::default();
    w.touch(1, days(0.0), 1, "click", "paid")
        .touch(1, days(7.0), 2, "click", "kol")
        .touch(1, days(14.0), 3, "click", "live")
        .order(1, days(14.0), 1, 70.0, "paid");
    let out = w.run(&config(vec![Model::time_decay()], 30.0)).unwrap();
    // Weights 1/4, 1/2, 1 → /1.75.
    close(out.get("time_decay", Some("paid")).0, 0.25 / 1.75);
    close(out.get("time_decay", Some("kol")).0, 0.5 / 1.75);
    close(out.get("time_decay", Some("live")).1, 70.0 / 1.75);
    // A microscopic half-life must not turn every weight into 0.
    let tiny = w
        .run(&config(
            vec![Model::TimeDecay {
                half_life_days: 1e-9,
            }],
            30.0,
        ))
        .unwrap();
    assert_eq!(tiny.get("time_decay", Some("live")), (1.0, 70.0));
}

#[test]
fn attribution_weighted_model_and_zero_weights() {
    let weights = EventWeights {
        weights: vec![
            ("impression".into(), 0.5),
            ("click".into(), 2.0),
            ("add_to_cart".into(), 0.0),
        ],
        default_weight: 1.5,
    };
    let mut w = World::default();
    w.touch(1, days(1.0), 1, "impression", "paid")
        .touch(1, days(2.0), 2, "click", "kol")
        .touch(1, days(3.0), 3, "add_to_cart", "live")
        .touch(1, days(4.0), 4, "share", "crm")
        .order(1, days(5.0), 1, 40.0, "paid")
        // Person 2's only touch weighs 0: unattributed under `weighted`.
        .touch(2, days(1.0), 5, "add_to_cart", "live")
        .order(2, days(2.0), 2, 9.0, "paid");
    let out = w
        .run(&config(vec![Model::Weighted(weights), Model::Linear], 30.0))
        .unwrap();
    close(out.get("weighted", Some("paid")).0, 0.5 / 4.0);
    close(out.get("weighted", Some("kol")).0, 2.0 / 4.0);
    close(out.get("weighted", Some("crm")).1, 40.0 * 1.5 / 4.0);
    assert_eq!(out.get("weighted", Some("live")), (0.0, 0.0));
    assert_eq!(out.get("weighted", None), (1.0, 9.0));
    assert_eq!(out.get("linear", None), (0.0, 0.0));
    out.assert_conserved();
}

#[test]
fn attribution_weight_presets_cover_every_canonical_event_type() {
    for industry in crate::attribution::WEIGHT_PRESETS {
        let p = EventWeights::preset(industry).unwrap();
        assert_eq!(p.weights.len(), 14, "{industry}");
        let cart = p.weight_of(Some("add_to_cart"));
        assert!(
            p.weights.iter().all(|(_, w)| *w > 0.0 && *w <= cart),
            "{industry}"
        );
        assert!(
            p.weights
                .iter()
                .all(|(_, w)| *w >= p.weight_of(Some("impression"))),
            "{industry}"
        );
    }
    assert!(matches!(
        EventWeights::preset("furniture"),
        Err(CoreError::InvalidInput(_))
    ));
}

#[test]
fn attribution_lookback_by_event_type() {
    let mut w = World::default();
    w.touch(1, days(0.0), 1, "click", "paid")
        .touch(1, days(8.0), 2, "impression", "kol")
        .touch(1, days(9.5), 3, "impression", "live")
        .order(1, days(10.0), 1, 10.0, "paid");
    let mut cfg = config(vec![Model::Linear, Model::FirstTouch], 30.0);
    cfg.lookback = Lookback {
        default_days: 30.0,
        by_event_type: vec![("impression".into(), 1.0)],
    };
    let out = w.run(&cfg).unwrap();
    // The 2-day-old impression is outside its 1-day window.
    assert_eq!(out.get("linear", Some("kol")), (0.0, 0.0));
    assert_eq!(out.get("linear", Some("paid")), (0.5, 5.0));
    assert_eq!(out.get("first_touch", Some("paid")), (1.0, 10.0));
    out.assert_conserved();
}

#[test]
fn attribution_shapley_splits_over_distinct_channels_then_touches() {
    let mut w = World::default();
    w.touch_in(1, days(1.0), 1, "click", "paid", "a")
        .touch_in(1, days(2.0), 2, "click", "paid", "b")
        .touch_in(1, days(3.0), 3, "click", "kol", "a")
        .order(1, days(4.0), 1, 12.0, "paid");
    let out = w.run(&config(vec![Model::Shapley], 30.0)).unwrap();
    assert_eq!(out.get("shapley", Some("paid")), (0.5, 6.0));
    assert_eq!(out.get("shapley", Some("kol")), (0.5, 6.0));
    assert_eq!(out.get_in("shapley", "paid", "a"), 0.25);
    assert_eq!(out.get_in("shapley", "paid", "b"), 0.25);
}
