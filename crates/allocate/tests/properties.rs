//! Property tests of the allocation contract: the sum equals the pool exactly, floor and cap hold,
//! the result is the same on a second run and for any input order, and under the monotone
//! methods more points never means fewer tokens.

use std::collections::BTreeMap;

use fairdrop_allocate::weight::{log_weight, sqrt_weight};
use fairdrop_allocate::{
    allocate, write_allocations_csv, Allocation, AllocationError, AllocationPolicy, Method,
    Recipient, TierRule,
};
use proptest::prelude::*;

fn points() -> impl Strategy<Value = u64> {
    prop_oneof![
        2 => Just(0u64),
        3 => 0u64..20,
        3 => 0u64..1_000_000,
        2 => any::<u64>(),
        1 => (u64::MAX - 16)..=u64::MAX,
    ]
}

fn pool() -> impl Strategy<Value = u128> {
    prop_oneof![
        0u128..=1000,
        0u128..=150_000_000_000_000,
        0u128..=10u128.pow(30),
        Just(10u128.pow(30)),
    ]
}

fn method() -> impl Strategy<Value = Method> {
    prop_oneof![
        Just(Method::Linear),
        Just(Method::Sqrt),
        Just(Method::Log),
        Just(Method::Equal),
        proptest::collection::vec(0u64..1000, 3).prop_map(|ws| {
            let table: BTreeMap<String, TierRule> = ws
                .into_iter()
                .enumerate()
                .map(|(i, w)| (format!("t{i}"), TierRule::Weight(w)))
                .collect();
            Method::TierTable(table)
        }),
    ]
}

/// Recipients with unique keys (random strings, so key order is unrelated to points; some share a
/// prefix longer than 16 bytes, which exercises the full-key tie-break of the key sort).
fn recipients(max: usize) -> impl Strategy<Value = Vec<Recipient>> {
    proptest::collection::btree_map(
        "(aleo1qqqqqqqqqqqqqqqqqq|0x)?[a-z0-9]{1,12}",
        (points(), 0usize..3),
        0..max,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(key, (points, t))| Recipient {
                key,
                points,
                tier: Some(format!("t{t}")),
            })
            .collect()
    })
}

fn weight(method: &Method, r: &Recipient) -> u64 {
    match method {
        Method::Linear => r.points,
        Method::Sqrt => sqrt_weight(r.points),
        Method::Log => log_weight(r.points),
        Method::Equal => 1,
        Method::TierTable(t) => match t.get(r.tier.as_deref().unwrap()) {
            Some(TierRule::Weight(w)) => *w,
            _ => unreachable!("only weight tiers are generated"),
        },
    }
}

/// A case: recipients, a shuffled copy, and a policy whose floor and cap are feasible (each is
/// set or not at random).
fn case(max: usize) -> impl Strategy<Value = (Vec<Recipient>, Vec<Recipient>, AllocationPolicy)> {
    (
        recipients(max),
        pool(),
        method(),
        proptest::option::of(0u128..=1000),
        proptest::option::of(0u128..=1000),
        any::<bool>(),
    )
        .prop_flat_map(|(rs, pool, method, floor_frac, cap_frac, tight)| {
            let positive = rs.iter().filter(|r| weight(&method, r) > 0).count() as u128;
            let mut policy = AllocationPolicy::new(pool, method);
            if let Some(even_lo) = pool.checked_div(positive) {
                let even_hi = pool.div_ceil(positive);
                policy.floor = floor_frac.map(|f| if tight { even_lo } else { even_lo / 1000 * f });
                policy.cap = cap_frac.map(|c| {
                    if tight {
                        even_hi
                    } else {
                        even_hi + (pool - even_hi) / 1000 * c
                    }
                });
            }
            let shuffled = Just(rs.clone()).prop_shuffle();
            (Just(rs), shuffled, Just(policy))
        })
}

fn check_contract(
    rs: &[Recipient],
    policy: &AllocationPolicy,
    out: &[Allocation],
) -> Result<(), TestCaseError> {
    prop_assert_eq!(out.len(), rs.len());
    prop_assert_eq!(out.iter().map(|a| a.amount).sum::<u128>(), policy.pool);
    prop_assert!(out.windows(2).all(|w| w[0].key < w[1].key), "sorted by key");
    let by_key: BTreeMap<&str, &Recipient> = rs.iter().map(|r| (r.key.as_str(), r)).collect();
    for a in out {
        let r = by_key[a.key.as_str()];
        prop_assert_eq!(&a.tier, &r.tier);
        if weight(&policy.method, r) == 0 {
            prop_assert_eq!(a.amount, 0, "zero weight gets nothing");
        } else {
            if let Some(f) = policy.floor {
                prop_assert!(a.amount >= f, "{} below floor {}", a.amount, f);
            }
            if let Some(c) = policy.cap {
                prop_assert!(a.amount <= c, "{} above cap {}", a.amount, c);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn sum_is_pool_bounds_hold_deterministic_order_free((rs, shuffled, policy) in case(2000)) {
        let positive = rs.iter().filter(|r| weight(&policy.method, r) > 0).count();
        match allocate(&rs, &policy) {
            Ok(out) => {
                check_contract(&rs, &policy, &out)?;
                // Second run and shuffled input: identical, down to the CSV bytes.
                prop_assert_eq!(&allocate(&rs, &policy).unwrap(), &out);
                let again = allocate(&shuffled, &policy).unwrap();
                prop_assert_eq!(&fairdrop_allocate::allocate_owned(shuffled, &policy).unwrap(), &out);
                prop_assert_eq!(&again, &out);
                let (mut a, mut b) = (Vec::new(), Vec::new());
                write_allocations_csv(&mut a, &out).unwrap();
                write_allocations_csv(&mut b, &again).unwrap();
                prop_assert_eq!(a, b);
            }
            Err(e) => {
                // Floors and caps are generated feasible: only "nobody to pay" can fail.
                prop_assert!(policy.pool > 0 && positive == 0, "unexpected error {e}");
                prop_assert!(matches!(
                    e,
                    AllocationError::NoRecipients { .. } | AllocationError::AllWeightsZero { .. }
                ), "unexpected error {}", e);
            }
        }
    }

    #[test]
    fn more_points_never_fewer_tokens((rs, _shuffled, policy) in case(2000)) {
        prop_assume!(policy.method.is_monotone());
        let Ok(out) = allocate(&rs, &policy) else { return Ok(()); };
        let points: BTreeMap<&str, u64> = rs.iter().map(|r| (r.key.as_str(), r.points)).collect();
        let mut pairs: Vec<(u64, u128)> =
            out.iter().map(|a| (points[a.key.as_str()], a.amount)).collect();
        // Sorted by (points, amount), amounts must never go down: otherwise some wallet with
        // more points got less than one with fewer.
        pairs.sort_unstable();
        for w in pairs.windows(2) {
            prop_assert!(w[0].1 <= w[1].1, "points {} got {} but points {} got {}",
                w[1].0, w[1].1, w[0].0, w[0].1);
        }
    }

    /// Many wallets with near-identical huge points: weights collide under sqrt and log, and the
    /// remainder tie-break must still favour more points.
    #[test]
    fn monotone_when_weights_collide(
        offsets in proptest::collection::vec(0u64..64, 2..300),
        pool in 1u128..=10_000,
        method in prop_oneof![Just(Method::Sqrt), Just(Method::Log), Just(Method::Equal)],
    ) {
        let rs: Vec<Recipient> = offsets
            .iter()
            .enumerate()
            .map(|(i, &o)| Recipient {
                key: format!("{:04}", 9999 - i),
                points: u64::MAX - o,
                tier: None,
            })
            .collect();
        let policy = AllocationPolicy::new(pool, method);
        let out = allocate(&rs, &policy).unwrap();
        prop_assert_eq!(out.iter().map(|a| a.amount).sum::<u128>(), pool);
        let points: BTreeMap<&str, u64> = rs.iter().map(|r| (r.key.as_str(), r.points)).collect();
        let mut pairs: Vec<(u64, u128)> =
            out.iter().map(|a| (points[a.key.as_str()], a.amount)).collect();
        pairs.sort_unstable();
        for w in pairs.windows(2) {
            prop_assert!(w[0].1 <= w[1].1);
        }
    }

    /// Infeasible floors and caps are refused with the setting named, never half-applied.
    #[test]
    fn infeasible_floor_or_cap_is_an_error(
        rs in recipients(50),
        pool in 1u128..=10u128.pow(20),
        over in 1u128..1000,
    ) {
        let positive = rs.iter().filter(|r| r.points > 0).count() as u128;
        prop_assume!(positive > 0);
        let floor = pool / positive + over;
        let e = allocate(&rs, &AllocationPolicy::new(pool, Method::Linear).with_floor(floor)).unwrap_err();
        prop_assert!(e.to_string().contains("`floor`"), "{}", e);
        prop_assume!(pool / positive >= 1);
        let cap = pool.div_ceil(positive) - 1;
        prop_assume!(cap * positive < pool);
        let e = allocate(&rs, &AllocationPolicy::new(pool, Method::Linear).with_cap(cap)).unwrap_err();
        prop_assert!(e.to_string().contains("`cap`"), "{}", e);
    }
}
