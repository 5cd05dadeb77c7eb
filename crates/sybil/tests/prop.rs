//! Arbitrary inputs never panic and the output is deterministic.

use fairdrop_core::Address;
use fairdrop_sybil::behaviour::Row;
use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::input::{Activity, Transfer};
use fairdrop_sybil::output::clusters_csv;
use fairdrop_sybil::SybilInput;
use proptest::prelude::*;

fn build(
    n: u8,
    edges: &[(u8, u8, Option<i64>, Option<u64>)],
    acts: &[(u8, i64, u8, u64)],
    hubs: &[u8],
    allow: &[u8],
    cands: &[u8],
) -> SybilInput {
    let mut inp = SybilInput::new();
    let n = n.max(1);
    let ids: Vec<u32> = (0..n).map(|i| inp.wallet(Address::Evm([i; 20]))).collect();
    let id = |x: u8| ids[(x % n) as usize];
    let syms: Vec<u32> = ["swap", "bridge_in", "stake"]
        .iter()
        .map(|s| inp.symbol(s))
        .collect();
    for &(f, t, ts, amt) in edges {
        inp.add_transfer(Transfer::new(
            id(f),
            id(t),
            ts,
            amt.map(|x| x as u128),
            None,
        ));
    }
    for &(w, ts, act, amt) in acts {
        inp.add_activity(Activity::new(
            id(w),
            ts,
            syms[(act % 3) as usize],
            if act % 2 == 0 { None } else { Some(syms[0]) },
            Some(amt as u128),
        ));
    }
    for &h in hubs {
        inp.hubs.push(id(h));
    }
    for &h in allow {
        inp.allow.push(id(h));
    }
    for &c in cands {
        inp.candidates.push(id(c));
    }
    inp
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_is_deterministic(
        n in 1u8..60,
        edges in prop::collection::vec((any::<u8>(), any::<u8>(), prop::option::of(-5i64..5_000_000), prop::option::of(any::<u64>())), 0..300),
        acts in prop::collection::vec((any::<u8>(), -1_000i64..3_000_000, any::<u8>(), 0u64..1_000), 0..200),
        hubs in prop::collection::vec(any::<u8>(), 0..5),
        allow in prop::collection::vec(any::<u8>(), 0..3),
        cands in prop::collection::vec(any::<u8>(), 0..60),
        min in 0usize..6,
        louvain_above in 0usize..10,
        share in 0.0f64..0.5,
    ) {
        let inp = build(n, &edges, &acts, &hubs, &allow, &cands);
        let mut cfg = Config { min_cluster_candidates: min, louvain_above, min_candidate_share: share, shared_sweep_max_fanin: 20, auto_hub_min_degree: 5, ..Config::default() };
        cfg.behaviour.min_group = 2;
        let r1 = detect(&inp, &cfg, &Appeals::default());
        let r2 = detect(&inp, &cfg, &Appeals::default());
        let csv1 = clusters_csv(&r1, &inp.wallets);
        prop_assert_eq!(&csv1, &clusters_csv(&r2, &inp.wallets));
        // Activity and transfer order do not change the output.
        let mut shuffled = inp.clone();
        shuffled.activity.reverse();
        let r3 = detect(&shuffled, &cfg, &Appeals::default());
        prop_assert_eq!(&csv1, &clusters_csv(&r3, &inp.wallets));
        // The compact activity form (as given, then sorted) finds the same clusters, with
        // only the bridge rows kept exact.
        let mut compact = inp.clone();
        compact.compact = inp.activity.iter().map(Row::of).collect();
        compact.activity.retain(|a| cfg.behaviour.bridge_actions.iter().any(|b| b == inp.symbols.name(a.action)));
        prop_assert_eq!(&csv1, &clusters_csv(&detect(&compact, &cfg, &Appeals::default()), &inp.wallets));
        compact.compact.sort_unstable();
        prop_assert_eq!(&csv1, &clusters_csv(&detect(&compact, &cfg, &Appeals::default()), &inp.wallets));
        // Every verdict belongs to a cluster that lists it.
        for v in &r1.verdicts {
            prop_assert!(r1.clusters[v.cluster].members.contains(&v.wallet));
        }
        // The Hop method never panics either.
        let _ = detect(&inp, &Config::hop_method(), &Appeals::default());
    }
}
