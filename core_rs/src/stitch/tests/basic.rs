//! Hand-made graphs: chains, stars, long chains, self links, rejected and
//! blocked values, output order, the report.

use super::*;

fn unguarded() -> StitchConfig {
    StitchConfig::unguarded()
}

#[test]
fn chain_becomes_one_person_and_ids_start_at_one() {
    let rows = vec![
        row("phone_sha256", "p1", "tmall_ouid", "t1"),
        row("tmall_ouid", "t1", "douyin_openid", "o1"),
        row("douyin_openid", "o1", "douyin_unionid", "u1"),
    ];
    let out = run(&rows, None, &StitchConfig::default());
    let got = persons(&out);
    assert_eq!(
        got,
        vec![
            ("douyin_openid".into(), "o1".into(), 1),
            ("douyin_unionid".into(), "u1".into(), 1),
            ("phone_sha256".into(), "p1".into(), 1),
            ("tmall_ouid".into(), "t1".into(), 1),
        ]
    );
    assert_eq!(out.report.components, 1);
    assert_eq!(out.report.identifiers, 4);
    assert_eq!(out.report.links_joined, 3);
    assert_eq!(out.report.next_person_id, 2);
    assert!(out.cuts.is_empty());
}

#[test]
fn separate_components_get_ids_in_order_of_first_appearance() {
    let rows = vec![
        row("member_id", "zed", "tmall_ouid", "tz"),
        row("member_id", "ann", "tmall_ouid", "ta"),
        row("member_id", "zed", "jd_pin", "jz"),
    ];
    let out = run(&rows, None, &StitchConfig::default());
    assert_eq!(pid_of(&out, "member_id", "zed"), Some(1));
    assert_eq!(pid_of(&out, "jd_pin", "jz"), Some(1));
    assert_eq!(pid_of(&out, "member_id", "ann"), Some(2));
    let p = persons(&out);
    let mut sorted = p.clone();
    sorted.sort_by(|a, b| (a.2, &a.0, &a.1).cmp(&(b.2, &b.0, &b.1)));
    assert_eq!(
        p, sorted,
        "output is ordered by (person_id, id_type, id_value)"
    );
}

#[test]
fn same_value_under_two_types_is_two_identifiers() {
    let rows = vec![
        row("member_id", "123", "jd_pin", "123"),
        row("weibo_uid", "123", "xhs_user_id", "xan"),
    ];
    let out = run(&rows, None, &unguarded());
    assert_eq!(out.report.identifiers, 4);
    assert_eq!(out.report.components, 2);
    assert_eq!(out.report.self_links, 0);
}

#[test]
fn star_below_hub_threshold_is_one_person() {
    let rows: Vec<Row> = (0..20)
        .map(|i| row("member_id", "center", "wechat_openid", &format!("w{i}")))
        .collect();
    let out = run(&rows, None, &StitchConfig::default());
    assert_eq!(out.report.components, 1);
    assert_eq!(out.report.largest_component, 21);
    assert_eq!(out.report.hubs, 0);
}

#[test]
fn long_rotating_device_chain_joins_completely() {
    // A device id rotated 50 times, each new id seen with the previous one.
    let rows: Vec<Row> = (0..50)
        .map(|i| {
            row(
                "oaid",
                &format!("dev-{i:03}"),
                "oaid",
                &format!("dev-{:03}", i + 1),
            )
        })
        .collect();
    let out = run(&rows, None, &unguarded());
    assert_eq!(out.report.components, 1);
    assert_eq!(out.report.largest_component, 51);
    // Reversed and shuffled row order: same single person.
    let mut shuffled = rows.clone();
    Rng(7).shuffle(&mut shuffled);
    assert_eq!(
        partition(&run(&shuffled, None, &unguarded())),
        partition(&out)
    );
}

#[test]
fn self_link_gives_a_singleton_and_is_counted() {
    let rows = vec![
        row("member_id", "mo", "member_id", "mo"),
        row("member_id", "mo", "jd_pin", "jo"),
    ];
    let out = run(&rows, None, &unguarded());
    assert_eq!(out.report.self_links, 1);
    assert_eq!(out.report.links_joined, 1);
    assert_eq!(out.report.components, 1);
    assert_eq!(out.report.identifiers, 2);
}

#[test]
fn empty_values_are_rejected_and_never_merge() {
    let rows = vec![
        row("phone_sha256", "", "tmall_ouid", "t1"),
        row("phone_sha256", "", "tmall_ouid", "t2"),
        row("", "xan", "tmall_ouid", "t3"),
    ];
    let out = run(&rows, None, &unguarded());
    assert_eq!(out.report.invalid_sides.empty_value, 2);
    assert_eq!(out.report.invalid_sides.empty_type, 1);
    assert_eq!(out.report.links_cut["invalid"], 3);
    assert_eq!(out.report.components, 3, "t1, t2, t3 stay apart");
    assert_eq!(out.report.links_joined, 0);
}

#[test]
fn null_values_and_types_are_rejected_and_never_merge() {
    let s = |v: Vec<Option<&str>>| -> ArrayRef { Arc::new(StringArray::from(v)) };
    let lt = s(vec![
        Some("phone_sha256"),
        Some("phone_sha256"),
        None,
        Some("member_id"),
    ]);
    let lv = s(vec![None, None, Some("xan"), Some("mo")]);
    let rt = s(vec![
        Some("tmall_ouid"),
        Some("tmall_ouid"),
        Some("jd_pin"),
        None,
    ]);
    let rv = s(vec![Some("t1"), Some("t2"), Some("jo"), Some("yan")]);
    let mut links = LinkColumns::new();
    links
        .push_arrays(lt.as_ref(), lv.as_ref(), rt.as_ref(), rv.as_ref(), None)
        .unwrap();
    let out = stitch(&links, None, &unguarded()).unwrap();
    let inv = out.report.invalid_sides;
    assert_eq!((inv.null_value, inv.null_type), (2, 2));
    assert_eq!(
        out.report.components, 4,
        "t1, t2, j and m are separate singletons"
    );
}

#[test]
fn blocked_values_link_nothing_and_are_reported() {
    let sha_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let test_phone = "a6942f9771d67f34034d2f1926988ed3fad3bf1b4e7cedb9a31f31398dea43bc";
    let rows = vec![
        row(
            "idfa",
            "00000000-0000-0000-0000-000000000000",
            "member_id",
            "m1",
        ),
        row(
            "idfa",
            "00000000-0000-0000-0000-000000000000",
            "member_id",
            "m2",
        ),
        row("member_id", "NULL", "jd_pin", "j1"),
        row("member_id", "Unknown", "jd_pin", "j2"),
        row("email_sha256", sha_empty, "jd_pin", "j3"),
        row("phone_sha256", test_phone, "tmall_ouid", "t1"),
        row("phone_sha256", test_phone, "tmall_ouid", "t2"),
        row("member_id", "m1", "member_id", "m3"),
    ];
    let out = run(&rows, None, &StitchConfig::default());
    // m1-m3 is the only real link; everything else is a singleton.
    assert_eq!(out.report.components, 7);
    assert_eq!(out.report.blocked_identifiers, 5);
    assert_eq!(out.report.blocked_occurrences, 7);
    assert_eq!(out.report.links_cut["blocked"], 7);
    for (t, v, _) in persons(&out) {
        assert!(
            !v.contains("0000") && v != "NULL" && v != test_phone,
            "{t}:{v} leaked"
        );
    }
    let idfa = out.cuts.iter().find(|c| c.id_type == "idfa").unwrap();
    assert_eq!(
        idfa.rule,
        CutRule::Blocked {
            pattern: "repeated_char".into()
        }
    );
    assert_eq!(
        (
            idfa.links,
            idfa.would_merge_persons,
            idfa.would_merge_identifiers
        ),
        (2, 2, 3)
    );
    let phone = out
        .cuts
        .iter()
        .find(|c| c.id_type == "phone_sha256")
        .unwrap();
    assert!(
        matches!(&phone.rule, CutRule::Blocked { pattern } if pattern.starts_with("phone_sha256:exact"))
    );
    assert_eq!(phone.would_merge_persons, 2);
    let null = out.cuts.iter().find(|c| c.id_value == "NULL").unwrap();
    assert_eq!(
        null.rule,
        CutRule::Blocked {
            pattern: "exact:\"null\"".into()
        }
    );
}

#[test]
fn custom_block_rules_match_by_type_and_pattern() {
    let cfg = StitchConfig {
        block_rules: vec![
            BlockRule::for_type("member_id", Pattern::Prefix("TEST_".into())),
            BlockRule::any(Pattern::Suffix("@example.com".into())),
            BlockRule::any(Pattern::Contains("dummy".into())),
        ],
        ..StitchConfig::unguarded()
    };
    let rows = vec![
        row("member_id", "test_001", "jd_pin", "ann"),
        row("jd_pin", "test_001", "jd_pin", "bob"),
        row("email", "x@EXAMPLE.com", "jd_pin", "cat"),
        row("jd_pin", "my-Dummy-id", "jd_pin", "dan"),
    ];
    let out = run(&rows, None, &cfg);
    assert_eq!(out.report.blocked_identifiers, 3);
    assert_eq!(
        pid_of(&out, "jd_pin", "test_001"),
        pid_of(&out, "jd_pin", "bob"),
        "prefix rule is per type"
    );
    assert!(pid_of(&out, "member_id", "test_001").is_none());
}

#[test]
fn pattern_semantics() {
    assert!(Pattern::RepeatedChar.matches(b"0"));
    assert!(Pattern::RepeatedChar.matches(b"aAaA"));
    assert!(Pattern::RepeatedChar.matches(b"--"));
    assert!(!Pattern::RepeatedChar.matches(b"0001"));
    assert!(Pattern::Exact("null".into()).matches(b"NuLl"));
    assert!(!Pattern::Exact("null".into()).matches(b"nullx"));
    assert!(Pattern::Prefix("ab".into()).matches(b"ABc"));
    assert!(!Pattern::Prefix("abc".into()).matches(b"ab"));
    assert!(Pattern::Suffix("yz".into()).matches(b"xYZ"));
    assert!(!Pattern::Contains("zz".into()).matches(b"zed"));
}

#[test]
fn empty_input_gives_empty_tables() {
    let out = run(&[], None, &StitchConfig::default());
    assert_eq!(out.persons.num_rows(), 0);
    assert_eq!(out.persons.schema(), persons_schema());
    assert_eq!(out.merges.num_rows(), 0);
    assert_eq!(out.report.components, 0);
    assert_eq!(out.report.next_person_id, 1);
}

#[test]
fn report_serialises_to_json() {
    let rows = vec![
        row("member_id", "ann", "jd_pin", "bob"),
        row("member_id", "null", "jd_pin", "cat"),
    ];
    let out = run(&rows, None, &StitchConfig::default());
    let v: serde_json::Value = serde_json::from_str(&out.report.to_json()).unwrap();
    assert_eq!(v["components"], 2);
    assert_eq!(v["links_cut"]["blocked"], 1);
    assert_eq!(v["invalid_sides"]["null_value"], 0);
    let cuts = cuts_to_batch(&out.cuts).unwrap();
    assert_eq!(cuts.num_rows(), 1);
    assert_eq!(cuts.column(0).as_string::<i32>().value(0), "blocked");
    assert_eq!(cuts.column(3).as_string::<i32>().value(0), "null");
}
