//! AIPL stages: windows, precedence, repeat purchases and loyalty events.

use super::fixtures::{days, World};
use crate::attribution::{
    aipl, AiplOutput, AiplRules, DictColumn, Ids, Orders, Stage, Touchpoints,
};
use crate::error::CoreError;

const AS_OF: i64 = 1_000 * 86_400_000;

fn run(w: &World, rules: &AiplRules) -> Result<AiplOutput, CoreError> {
    let t = &w.touches;
    let person: Vec<i64> = t.iter().map(|x| x.person).collect();
    let time: Vec<i64> = t.iter().map(|x| x.time).collect();
    let kind = DictColumn::from_strs(t.iter().map(|x| Some(x.kind.as_str())));
    let o = &w.orders;
    let o_person: Vec<i64> = o.iter().map(|x| x.person).collect();
    let o_time: Vec<i64> = o.iter().map(|x| x.time).collect();
    let amount: Vec<f64> = o.iter().map(|x| x.amount).collect();
    let paid: Vec<bool> = o.iter().map(|x| x.status == "paid").collect();
    let touches = Touchpoints {
        person: &person,
        event_time: &time,
        event_id: Ids::RowOrder,
        event_type: &kind,
        group_by: vec![],
        channel: None,
    };
    let orders = Orders {
        person: &o_person,
        order_time: &o_time,
        order_id: Ids::RowOrder,
        amount: &amount,
        paid: &paid,
    };
    aipl(&touches, &orders, AS_OF, rules)
}

fn ago(d: f64) -> i64 {
    AS_OF - days(d)
}

#[test]
fn attribution_aipl_default_rules() {
    let mut w = World::default();
    w.touch(1, ago(10.0), 0, "impression", "x"); // A
    w.touch(2, ago(20.0), 0, "impression", "x"); // too old: no stage
    w.touch(3, ago(15.0), 0, "click", "x"); // I, window edge inclusive
    w.touch(4, ago(1.0), 0, "impression", "x")
        .touch(4, ago(2.0), 0, "note_read", "x"); // I beats A
    w.order(5, ago(100.0), 0, 10.0, "paid"); // P
    w.order(6, ago(300.0), 0, 10.0, "paid")
        .order(6, ago(20.0), 0, 10.0, "paid"); // L: repeat
    w.order(7, ago(30.0), 0, 10.0, "paid")
        .order(7, ago(10.0), 0, 10.0, "refunded"); // P only
    w.order(8, ago(50.0), 0, 10.0, "paid")
        .touch(8, ago(40.0), 0, "share", "x"); // L: share after buying
    w.touch(9, ago(60.0), 0, "share", "x")
        .order(9, ago(50.0), 0, 10.0, "paid"); // P: share came first
    w.order(10, AS_OF + 1, 0, 10.0, "paid")
        .touch(10, AS_OF + 1, 0, "click", "x"); // future: none
    w.order(11, ago(400.0), 0, 10.0, "paid")
        .touch(11, ago(3.0), 0, "click", "x"); // old purchase: I
    w.touch(12, ago(1.0), 0, "video_view", "x"); // A by default
    w.touch(13, ago(1.0), 0, "comment", "x")
        .order(13, ago(5.0), 0, 1.0, "paid"); // comment is no L
    let out = run(&w, &AiplRules::default()).unwrap();
    let expected = [
        (1, Stage::A),
        (3, Stage::I),
        (4, Stage::I),
        (5, Stage::P),
        (6, Stage::L),
        (7, Stage::P),
        (8, Stage::L),
        (9, Stage::P),
        (11, Stage::I),
        (12, Stage::A),
        (13, Stage::P),
    ];
    let got: Vec<(i64, Stage)> = out
        .person
        .iter()
        .copied()
        .zip(out.stage.iter().copied())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(Stage::L.as_str(), "L");
}

#[test]
fn attribution_aipl_configurable_rules() {
    let mut w = World::default();
    w.touch(1, ago(1.0), 0, "video_view", "x");
    w.touch(2, ago(20.0), 0, "click", "x");
    w.order(3, ago(10.0), 0, 1.0, "paid")
        .order(3, ago(5.0), 0, 1.0, "paid");
    let mut rules = AiplRules::default();
    rules.interest_events.push("video_view".into());
    rules.interest_days = 30.0;
    rules.repeat_orders = 3;
    let out = run(&w, &rules).unwrap();
    assert_eq!(out.stage, vec![Stage::I, Stage::I, Stage::P]);
    rules.loyalty_days = -1.0;
    assert!(matches!(run(&w, &rules), Err(CoreError::InvalidInput(_))));
}
