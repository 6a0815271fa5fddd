//! Hubs carried from an earlier run (`known_hubs`): cut again whatever their
//! degree today, while still counting as partners, so a daily run cuts what
//! a rebuild over all links cuts.

use super::*;

fn cfg(known: &[(&str, &str)]) -> StitchConfig {
    StitchConfig {
        hub_degree: 3,
        cap_order: CapOrder::Arrival,
        known_hubs: known
            .iter()
            .map(|(t, v)| KnownHub {
                id_type: t.to_string(),
                value: v.to_string(),
            })
            .collect(),
        ..StitchConfig::default()
    }
}

/// Day 1: `oaid dev-x1` links four members, so it is a hub.
fn day1() -> Vec<Row> {
    (0..4)
        .map(|i| row("oaid", "dev-x1", "member_id", &format!("m{i}a")))
        .collect()
}

/// Day 2: `oaid dev-y2` links the old hub and three new members.
fn day2() -> Vec<Row> {
    let mut rows = vec![row("oaid", "dev-y2", "oaid", "dev-x1")];
    rows.extend((0..3).map(|i| row("oaid", "dev-y2", "member_id", &format!("n{i}b"))));
    rows
}

#[test]
fn a_link_to_a_known_hub_counts_toward_the_partners_degree_as_in_a_rebuild() {
    let first = run(&day1(), None, &cfg(&[]));
    assert_eq!(first.report.hubs, 1);
    let all: Vec<Row> = day1().into_iter().chain(day2()).collect();
    let ts: Vec<i64> = (0..all.len() as i64).collect();
    let rebuild = run_ts(&all, Some(&ts), None, &cfg(&[]));
    let prev = first.persons.clone();
    let daily = run_ts(
        &day2(),
        Some(&ts[day1().len()..]),
        Some(&prev),
        &cfg(&[("oaid", "dev-x1")]),
    );
    // dev-y2 has 4 partners in both runs (dev-x1 counts): a hub, so the
    // three new members stay apart.
    assert_eq!(pid_of(&daily, "oaid", "dev-y2"), None);
    assert_eq!(pid_of(&rebuild, "oaid", "dev-y2"), None);
    assert_eq!(pid_of(&daily, "oaid", "dev-x1"), None);
    assert_eq!(partition(&daily), partition(&rebuild));
    let carried: Vec<_> = daily
        .cuts
        .iter()
        .filter(|c| matches!(c.rule, CutRule::Hub { carried: true, .. }))
        .map(|c| c.id_value.as_str())
        .collect();
    assert_eq!(carried, ["dev-x1"]);
    assert_eq!(
        daily.cuts.iter().filter(|c| c.rule.name() == "hub").count(),
        2
    );
}

#[test]
fn the_same_day_without_the_known_hub_lets_it_join_a_person() {
    // What the carry prevents: today dev-x1 has one partner, below the threshold.
    let first = run(&day1(), None, &cfg(&[]));
    let daily = run(&day2(), Some(&first.persons), &cfg(&[]));
    assert!(pid_of(&daily, "oaid", "dev-x1").is_some());
}

#[test]
fn a_known_hub_is_cut_even_when_it_links_nothing_today_and_only_its_exact_value() {
    let rows = vec![
        row("oaid", "dev-x1", "member_id", "null"), // a blocked partner
        row("oaid", "DEV-X1", "member_id", "mq"),   // another value of the same type
        row("jd_pin", "dev-x1", "member_id", "mr"), // the same text, another type
    ];
    let out = run(&rows, None, &cfg(&[("oaid", "dev-x1"), ("idfa", "gone")]));
    assert_eq!(pid_of(&out, "oaid", "dev-x1"), None);
    let hub = out.cuts.iter().find(|c| c.id_value == "dev-x1").unwrap();
    assert_eq!(
        hub.rule,
        CutRule::Hub {
            degree: 0,
            threshold: 3,
            carried: true
        }
    );
    assert!(hub.rule.detail().ends_with(" carried"));
    assert_eq!(
        pid_of(&out, "oaid", "DEV-X1"),
        pid_of(&out, "member_id", "mq")
    );
    assert!(pid_of(&out, "oaid", "DEV-X1").is_some());
    assert_eq!(
        pid_of(&out, "jd_pin", "dev-x1"),
        pid_of(&out, "member_id", "mr")
    );
    assert!(pid_of(&out, "jd_pin", "dev-x1").is_some());
    assert_eq!(out.report.hubs, 1, "{:?}", out.cuts);
}

#[test]
fn known_hubs_come_from_json_and_unknown_fields_are_refused() {
    let cfg =
        StitchConfig::from_json(r#"{"known_hubs": [{"id_type": "oaid", "value": "x"}]}"#).unwrap();
    assert_eq!(cfg.known_hubs.len(), 1);
    assert!(
        StitchConfig::from_json(r#"{"known_hubs": [{"type": "oaid", "value": "x"}]}"#).is_err()
    );
}
