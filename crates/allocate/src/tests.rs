//! Hand-computed cases for every method, tie-breaks, water-filling and every error, plus a
//! property test of the water level's optimality conditions.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::*;

fn r(key: &str, points: u64) -> Recipient {
    Recipient {
        key: key.to_string(),
        points,
        tier: None,
    }
}

fn rt(key: &str, points: u64, tier: &str) -> Recipient {
    Recipient {
        key: key.to_string(),
        points,
        tier: Some(tier.to_string()),
    }
}

fn amounts(recipients: &[Recipient], policy: &AllocationPolicy) -> Vec<(String, u128)> {
    allocate(recipients, policy)
        .unwrap()
        .into_iter()
        .map(|a| (a.key, a.amount))
        .collect()
}

fn pairs(v: &[(&str, u128)]) -> Vec<(String, u128)> {
    v.iter().map(|(k, a)| (k.to_string(), *a)).collect()
}

#[test]
fn linear_exact_split() {
    let rs = [r("a", 1), r("b", 2), r("c", 7)];
    let got = amounts(&rs, &AllocationPolicy::new(1000, Method::Linear));
    assert_eq!(got, pairs(&[("a", 100), ("b", 200), ("c", 700)]));
}

#[test]
fn linear_largest_remainder() {
    // 100 over 1:1:1 → 33.33 each; one unit left goes to the smallest key (equal remainders,
    // equal points).
    let rs = [r("c", 5), r("a", 5), r("b", 5)];
    let got = amounts(&rs, &AllocationPolicy::new(100, Method::Linear));
    assert_eq!(got, pairs(&[("a", 34), ("b", 33), ("c", 33)]));

    // 10 over 1:2:4 → 10/7 = 1.428…, 2.857…, 5.714…: floors 1+2+5 = 8, remainders 3/7, 6/7,
    // 5/7: the two leftover units go to b (6/7) then c (5/7).
    let rs = [r("a", 1), r("b", 2), r("c", 4)];
    let got = amounts(&rs, &AllocationPolicy::new(10, Method::Linear));
    assert_eq!(got, pairs(&[("a", 1), ("b", 3), ("c", 6)]));
}

#[test]
fn remainder_ties_go_to_more_points_then_smaller_key() {
    // Equal method: every weight is 1, every remainder equal. 5 over 3 → 1 each, 2 left over:
    // more points first (z has 9), then the smaller key (a before m).
    let rs = [r("m", 1), r("z", 9), r("a", 1)];
    let got = amounts(&rs, &AllocationPolicy::new(5, Method::Equal));
    assert_eq!(got, pairs(&[("a", 2), ("m", 1), ("z", 2)]));
    // Same points everywhere: keys decide.
    let rs = [r("m", 1), r("z", 1), r("a", 1)];
    let got = amounts(&rs, &AllocationPolicy::new(5, Method::Equal));
    assert_eq!(got, pairs(&[("a", 2), ("m", 2), ("z", 1)]));
}

#[test]
fn sqrt_method() {
    // √1 : √4 : √16 = 1 : 2 : 4 → 700 splits 100 / 200 / 400.
    let rs = [r("a", 1), r("b", 4), r("c", 16), r("zero", 0)];
    let got = amounts(&rs, &AllocationPolicy::new(700, Method::Sqrt));
    assert_eq!(
        got,
        pairs(&[("a", 100), ("b", 200), ("c", 400), ("zero", 0)])
    );
}

#[test]
fn log_method() {
    // log2(1+1) : log2(1+3) : log2(1+15) = 1 : 2 : 4 (exact powers of two).
    let rs = [r("a", 1), r("b", 3), r("c", 15), r("zero", 0)];
    let got = amounts(&rs, &AllocationPolicy::new(7000, Method::Log));
    assert_eq!(
        got,
        pairs(&[("a", 1000), ("b", 2000), ("c", 4000), ("zero", 0)])
    );
    let out = allocate(&rs, &AllocationPolicy::new(7000, Method::Log)).unwrap();
    assert_eq!(out[3].basis, Basis::ZeroWeight);
}

#[test]
fn equal_method_ignores_points() {
    let rs = [r("a", 0), r("b", 1_000_000), r("c", 3)];
    let got = amounts(&rs, &AllocationPolicy::new(300, Method::Equal));
    assert_eq!(got, pairs(&[("a", 100), ("b", 100), ("c", 100)]));
}

#[test]
fn tier_table_weights_and_fixed() {
    let mut table = BTreeMap::new();
    table.insert("gold".to_string(), TierRule::Weight(3));
    table.insert("silver".to_string(), TierRule::Weight(1));
    table.insert("og".to_string(), TierRule::Fixed(250));
    table.insert("none".to_string(), TierRule::Weight(0));
    let rs = [
        rt("a", 1, "gold"),
        rt("b", 99, "silver"),
        rt("c", 5, "og"),
        rt("d", 5, "og"),
        rt("e", 5, "none"),
    ];
    // 1000 − 2·250 fixed = 500 over 3:1.
    let out = allocate(&rs, &AllocationPolicy::new(1000, Method::TierTable(table))).unwrap();
    let got: Vec<(&str, u128, Basis)> = out
        .iter()
        .map(|a| (a.key.as_str(), a.amount, a.basis))
        .collect();
    assert_eq!(
        got,
        [
            ("a", 375, Basis::Proportional),
            ("b", 125, Basis::Proportional),
            ("c", 250, Basis::Fixed),
            ("d", 250, Basis::Fixed),
            ("e", 0, Basis::ZeroWeight)
        ]
    );
    assert_eq!(out[0].tier.as_deref(), Some("gold"));
}

#[test]
fn tier_table_all_fixed_must_exhaust_pool() {
    let mut table = BTreeMap::new();
    table.insert("og".to_string(), TierRule::Fixed(400));
    let rs = [rt("a", 1, "og"), rt("b", 1, "og")];
    let ok = AllocationPolicy::new(800, Method::TierTable(table.clone()));
    assert_eq!(amounts(&rs, &ok), pairs(&[("a", 400), ("b", 400)]));
    let short = AllocationPolicy::new(900, Method::TierTable(table.clone()));
    let err = allocate(&rs, &short).unwrap_err();
    assert!(matches!(
        err,
        AllocationError::AllWeightsZero { available: 100, .. }
    ));
    let over = AllocationPolicy::new(700, Method::TierTable(table));
    let err = allocate(&rs, &over).unwrap_err();
    assert!(err.to_string().contains("`pool`"), "{err}");
    assert!(err.to_string().contains("`tiers`"), "{err}");
}

#[test]
fn cap_binding_redistributes() {
    // 1000 linear over 70:20:10 → 700/200/100; cap 400: a capped, 600 over 20:10 → 400/200,
    // b now at the cap too (exactly), c gets the 200 left.
    let rs = [r("a", 70), r("b", 20), r("c", 10)];
    let out = allocate(
        &rs,
        &AllocationPolicy::new(1000, Method::Linear).with_cap(400),
    )
    .unwrap();
    let got: Vec<u128> = out.iter().map(|a| a.amount).collect();
    assert_eq!(got, [400, 400, 200]);
    assert_eq!(out[0].basis, Basis::Cap);

    // Cascading caps: 100 over 50:30:10:5:5 with cap 30 → a (50) capped; 70 over 30:10:5:5 gives
    // b 42 > 30, capped; 40 over 10:5:5 → 20 / 10 / 10.
    let rs = [r("a", 50), r("b", 30), r("c", 10), r("d", 5), r("e", 5)];
    let got = amounts(
        &rs,
        &AllocationPolicy::new(100, Method::Linear).with_cap(30),
    );
    assert_eq!(
        got,
        pairs(&[("a", 30), ("b", 30), ("c", 20), ("d", 10), ("e", 10)])
    );
}

#[test]
fn floor_lifts_and_others_pay() {
    // 100 over 97:1:1:1 with floor 10: the three small ones get 10, a gets 70.
    let rs = [r("a", 97), r("b", 1), r("c", 1), r("d", 1), r("zero", 0)];
    let out = allocate(
        &rs,
        &AllocationPolicy::new(100, Method::Linear).with_floor(10),
    )
    .unwrap();
    let got: Vec<(u128, Basis)> = out.iter().map(|a| (a.amount, a.basis)).collect();
    assert_eq!(
        got,
        [
            (70, Basis::Proportional),
            (10, Basis::Floor),
            (10, Basis::Floor),
            (10, Basis::Floor),
            (0, Basis::ZeroWeight)
        ]
    );
}

#[test]
fn floor_and_cap_together_with_rounding() {
    // 1000 over weights 1..=10 with floor 50 and cap 150. The level is λ = 600/33 ≈ 18.18:
    // weights 1, 2 (λw = 18.2, 36.4 ≤ 50) are floored, 9, 10 (λw = 163.6, 181.8 ≥ 150) capped,
    // and 3..=8 (Σ 33) share 1000 − 2·50 − 2·150 = 600 in proportion:
    // 54.54, 72.72, 90.90, 109.09, 127.27, 145.45 → integer parts 54 72 90 109 127 145 (Σ 597),
    // remainders 6/11, 8/11, 10/11, 1/11, 3/11, 5/11: the three units left go to 5, 4 and 3.
    let rs: Vec<Recipient> = (1..=10).map(|i| r(&format!("w{i:02}"), i)).collect();
    let policy = AllocationPolicy::new(1000, Method::Linear)
        .with_floor(50)
        .with_cap(150);
    let got: Vec<u128> = allocate(&rs, &policy)
        .unwrap()
        .iter()
        .map(|a| a.amount)
        .collect();
    assert_eq!(got, [50, 50, 55, 73, 91, 109, 127, 145, 150, 150]);
    assert_eq!(got.iter().sum::<u128>(), 1000);
}

#[test]
fn no_cap_single_wallet_takes_all() {
    let out = allocate(&[r("a", 3)], &AllocationPolicy::new(123, Method::Sqrt)).unwrap();
    assert_eq!(out[0].amount, 123);
    assert_eq!(out[0].basis, Basis::Proportional);
}

#[test]
fn zero_pool_gives_zeros() {
    let rs = [r("a", 3), r("b", 0)];
    let got = amounts(&rs, &AllocationPolicy::new(0, Method::Linear));
    assert_eq!(got, pairs(&[("a", 0), ("b", 0)]));
    assert_eq!(
        allocate(&[], &AllocationPolicy::new(0, Method::Linear)).unwrap(),
        vec![]
    );
}

#[test]
fn huge_pool_and_points_are_exact() {
    // pool · weight ≈ 10^30 · 2^64 needs 256-bit products.
    let pool = 10u128.pow(30) + 7;
    let rs = [r("a", u64::MAX), r("b", u64::MAX - 1), r("c", 1)];
    let out = allocate(&rs, &AllocationPolicy::new(pool, Method::Linear)).unwrap();
    assert_eq!(out.iter().map(|a| a.amount).sum::<u128>(), pool);
    assert!(out[0].amount >= out[1].amount && out[1].amount > out[2].amount);
}

fn err_text(rs: &[Recipient], policy: AllocationPolicy) -> String {
    allocate(rs, &policy).unwrap_err().to_string()
}

#[test]
fn error_cap_below_floor() {
    let rs = [r("a", 1)];
    let e = err_text(
        &rs,
        AllocationPolicy::new(100, Method::Linear)
            .with_floor(10)
            .with_cap(5),
    );
    assert_eq!(
        e,
        "`cap` (5) is below `floor` (10): no amount can respect both; raise `cap` or lower `floor`"
    );
    let p = AllocationPolicy::new(100, Method::Linear)
        .with_floor(10)
        .with_cap(5);
    assert!(p.validate().is_err());
}

#[test]
fn error_floor_too_high() {
    let rs = [r("a", 1), r("b", 1), r("c", 0)];
    let e = err_text(
        &rs,
        AllocationPolicy::new(100, Method::Linear).with_floor(51),
    );
    assert!(e.contains("`floor` of 51 for each of 2 wallets"), "{e}");
    assert!(e.contains("`pool`"), "{e}");
    // The zero-weight wallet does not count: floor 50 fits.
    assert!(allocate(
        &rs,
        &AllocationPolicy::new(100, Method::Linear).with_floor(50)
    )
    .is_ok());
    assert!(AllocationPolicy::new(100, Method::Linear)
        .with_floor(101)
        .validate()
        .is_err());
}

#[test]
fn error_cap_too_low() {
    let rs = [r("a", 1), r("b", 1)];
    let e = err_text(&rs, AllocationPolicy::new(100, Method::Linear).with_cap(49));
    assert!(e.contains("`cap` of 49 for each of 2 wallets"), "{e}");
    assert!(e.contains("`pool`"), "{e}");
}

#[test]
fn error_no_recipients() {
    let e = err_text(&[], AllocationPolicy::new(100, Method::Linear));
    assert!(
        e.contains("`pool` is 100 but there are no recipients"),
        "{e}"
    );
}

#[test]
fn error_all_weights_zero() {
    let rs = [r("a", 0), r("b", 0)];
    for m in [Method::Linear, Method::Sqrt, Method::Log] {
        let name = m.name();
        let e = err_text(&rs, AllocationPolicy::new(100, m));
        assert!(
            e.contains(&format!("zero weight under `method` {name}")),
            "{e}"
        );
        assert!(e.contains("`pool`"), "{e}");
    }
}

#[test]
fn error_duplicate_key() {
    let rs = [r("a", 1), r("b", 1), r("a", 2)];
    let e = err_text(&rs, AllocationPolicy::new(100, Method::Linear));
    assert!(e.contains("`a` appears more than once"), "{e}");
}

#[test]
fn error_tiers() {
    let mut table = BTreeMap::new();
    table.insert("gold".to_string(), TierRule::Weight(2));
    table.insert("og".to_string(), TierRule::Fixed(5));
    let m = Method::TierTable(table);
    let e = err_text(
        &[rt("a", 1, "bronze")],
        AllocationPolicy::new(10, m.clone()),
    );
    assert!(
        e.contains("tier `bronze`, which is not in the `tiers` table"),
        "{e}"
    );
    let e = err_text(&[r("a", 1)], AllocationPolicy::new(10, m.clone()));
    assert!(e.contains("`a` has no tier"), "{e}");
    let rs = [rt("a", 1, "og"), rt("b", 1, "gold")];
    let e = err_text(&rs, AllocationPolicy::new(10, m.clone()).with_floor(6));
    assert!(e.contains("below `floor` (6)"), "{e}");
    let e = err_text(&rs, AllocationPolicy::new(10, m.clone()).with_cap(4));
    assert!(e.contains("above `cap` (4)"), "{e}");
    let e = err_text(&rs, AllocationPolicy::new(4, m));
    assert!(e.contains("fixed amounts"), "{e}");
}

#[test]
fn errors_do_not_depend_on_input_order() {
    let m = Method::TierTable(BTreeMap::from([("gold".to_string(), TierRule::Weight(1))]));
    let rs = vec![rt("c", 1, "x"), rt("a", 1, "y"), rt("b", 1, "gold")];
    let mut rev = rs.clone();
    rev.reverse();
    let p = AllocationPolicy::new(10, m);
    let e1 = allocate(&rs, &p).unwrap_err();
    assert_eq!(e1, allocate(&rev, &p).unwrap_err());
    assert!(e1.to_string().contains("`a` has tier `y`"), "{e1}");
}

#[test]
fn keys_sharing_long_prefixes_sort_bytewise() {
    let long = "aleo1qqqqqqqqqqqqqqqqqqqqqq";
    let rs = vec![
        r(&format!("{long}b"), 1),
        r(long, 1),
        r(&format!("{long}a"), 1),
        r("aleo1qqqqqqqqqqq", 1),
        r("aleo1qqqqqqqqqqq\u{0}", 1),
    ];
    let out = allocate(&rs, &AllocationPolicy::new(5, Method::Linear)).unwrap();
    let keys: Vec<&str> = out.iter().map(|a| a.key.as_str()).collect();
    let mut want: Vec<&str> = rs.iter().map(|r| r.key.as_str()).collect();
    want.sort();
    assert_eq!(keys, want);
    let dup = vec![r(long, 1), r("x", 1), r(long, 2)];
    assert!(matches!(
        allocate(&dup, &AllocationPolicy::new(5, Method::Linear)),
        Err(AllocationError::DuplicateKey { .. })
    ));
}

#[test]
fn owned_matches_borrowed() {
    let rs = vec![rt("b", 3, "x"), rt("a", 5, "y"), rt("c", 0, "z")];
    let p = AllocationPolicy::new(1001, Method::Sqrt).with_floor(100);
    assert_eq!(allocate(&rs, &p).unwrap(), allocate_owned(rs, &p).unwrap());
}

#[test]
fn csv_output() {
    let out = vec![
        Allocation {
            key: "b".into(),
            amount: 2,
            tier: Some("gold, \"first\"".into()),
            basis: Basis::Proportional,
        },
        Allocation {
            key: "a".into(),
            amount: 340_282_366_920_938_463_463_374_607_431_768_211_455,
            tier: None,
            basis: Basis::Cap,
        },
    ];
    let mut buf = Vec::new();
    write_allocations_csv(&mut buf, &out).unwrap();
    assert_eq!(
        String::from_utf8(buf).unwrap(),
        "address,amount,tier\n\
         a,340282366920938463463374607431768211455,\n\
         b,2,\"gold, \"\"first\"\"\"\n"
    );
}

#[test]
fn serde_shapes() {
    let mut table = BTreeMap::new();
    table.insert("og".to_string(), TierRule::Fixed(5));
    let p = AllocationPolicy::new(10, Method::TierTable(table)).with_cap(7);
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(
        json,
        r#"{"pool":10,"method":{"tier_table":{"og":{"fixed":5}}},"floor":null,"cap":7}"#
    );
    let back: AllocationPolicy = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);
}

proptest! {
    /// The computed level satisfies the optimality conditions of water-filling exactly:
    /// floored wallets have λw ≤ floor, capped ones λw ≥ cap, the others lie between, and the
    /// clamped amounts sum to the pool.
    #[test]
    fn water_level_is_optimal(
        weights in proptest::collection::vec(1u64..=u64::MAX, 1..40),
        pool in 0u128..=10u128.pow(30),
        floor_frac in 0u128..=1000,
        cap_frac in 0u128..=1000,
        small in any::<bool>(),
    ) {
        let weights: Vec<u64> = if small { weights.iter().map(|w| w % 100 + 1).collect() } else { weights };
        let n = weights.len() as u128;
        let floor = pool / n * floor_frac / 1000;
        let lo_cap = pool.div_ceil(n);
        let cap = (lo_cap + (pool - lo_cap) / 1000 * cap_frac).max(floor).min(pool);
        prop_assume!(pool > 0);
        let (k, m, num, den) = crate::fill::level_for_tests(&weights, pool, floor, cap);
        let mut sorted = weights.clone();
        sorted.sort_unstable();
        let n = sorted.len();
        // Exact real sum: k·floor + m·cap + num·Σmid/den must equal the pool.
        let smid: u128 = sorted[k..n - m].iter().map(|&w| w as u128).sum();
        prop_assert_eq!(smid, den);
        prop_assert_eq!(k as u128 * floor + m as u128 * cap + num, pool);
        if den > 0 {
            use crate::wide::cmp_products;
            use std::cmp::Ordering::*;
            for (i, &w) in sorted.iter().enumerate() {
                // λ w vs floor  ⇔  num · w vs floor · den
                let vs_floor = cmp_products(num, w as u128, floor, den);
                let vs_cap = cmp_products(num, w as u128, cap, den);
                if i < k {
                    prop_assert!(vs_floor != Greater);
                } else if i >= n - m {
                    prop_assert!(vs_cap != Less);
                } else {
                    prop_assert!(vs_floor != Less && vs_cap != Greater);
                }
            }
        } else {
            prop_assert_eq!(num, 0);
        }
    }
}
