//! The detector on a simulated world (`fairdrop-sim`, 20,000 wallets) against the
//! simulator's truth, every wallet a candidate, with [`Config::for_events`].
//!
//! Floors sit a little below the measured figures so that a regression fails. Measured at
//! 20,000 wallets, seed 11 (see `examples/sim_eval.rs` for larger worlds): precision 1.000,
//! recall 0.987, no false positive among honest wallets sharing an exchange funder, a friend
//! group or an owner; every farm style at 0.978 or above; farms of 10 or more members 0.99–1.00,
//! farms of 5–9 members 0.48 (26 of 54).

#[path = "common/simworld.rs"]
mod simworld;

use fairdrop_sim::{simulate, SimConfig};
use fairdrop_sybil::detect::{detect, Appeals, Config};
use fairdrop_sybil::output::clusters_csv;

#[test]
fn simulated_world_precision_recall_and_styles() {
    let dir = tempfile::tempdir().expect("tempdir");
    simulate(&SimConfig::new(20_000, 11), dir.path()).expect("simulate");
    let mut world = simworld::load(dir.path(), None);
    let all = simworld::all_wallets(&world);
    world.input.candidates = all.clone();
    let cfg = Config::for_events(8);
    let r = detect(&world.input, &cfg, &Appeals::default());
    let f = simworld::figures(&world, &r, &all);
    eprintln!("{f}");
    assert!(f.precision >= 0.97, "precision: {f}");
    assert!(f.recall >= 0.93, "recall: {f}");
    assert!(f.shared_fp_rate() <= 0.01, "shared honest FP: {f}");
    for style in ["farm_star", "farm_chain", "farm_exchange", "farm_stealth"] {
        assert!(f.kind_recall(style) >= 0.90, "{style}: {f}");
    }
    // By farm size: farms of 10 or more are caught (measured 0.99–1.00); farms of 5–9 are
    // not yet (0.48 measured, issue 25), and this floor only guards against losing more.
    assert!(f.size_recall(10, usize::MAX) >= 0.97, "farms of 10+: {f}");
    assert!(f.size_recall(5, 9) >= 0.40, "farms of 5-9: {f}");
    // The edge-only detector on the same world chains honest users together.
    let edge = detect(&world.input, &Config::default(), &Appeals::default());
    let fe = simworld::figures(&world, &edge, &all);
    assert!(fe.precision < f.precision, "{fe}");
    // Deterministic output.
    let r2 = detect(&world.input, &cfg, &Appeals::default());
    assert_eq!(
        clusters_csv(&r, &world.input.wallets),
        clusters_csv(&r2, &world.input.wallets)
    );
}

/// A 4,000-wallet world, every wallet a candidate.
fn small_world(seed: u64) -> simworld::World {
    let dir = tempfile::tempdir().expect("tempdir");
    simulate(&SimConfig::new(4_000, seed), dir.path()).expect("simulate");
    let mut world = simworld::load(dir.path(), None);
    world.input.candidates = simworld::all_wallets(&world);
    world
}

/// The verdicts depend on what the input says, not on the ids it was interned with: the same
/// rows with wallets and symbols interned in reverse order give the same `clusters.csv` (a
/// run reading events and one reading a warehouse's tables intern in different orders).
#[test]
fn verdicts_do_not_depend_on_interning_order() {
    use fairdrop_sybil::input::{Activity, SybilInput, Transfer};
    let world = small_world(5);
    let a = &world.input;
    let mut b = SybilInput::new();
    for w in a.wallets.addresses().iter().rev() {
        b.wallet(*w);
    }
    for s in (0..a.symbols.len() as u32).rev() {
        b.symbol(a.symbols.name(s));
    }
    let w = |id: u32| b.wallets.get(a.wallets.address(id)).expect("interned");
    let s = |id: u32| b.symbols.get(a.symbols.name(id)).expect("interned");
    let transfers: Vec<Transfer> = a
        .transfers
        .iter()
        .map(|t| {
            Transfer::new(
                w(t.from),
                w(t.to),
                t.timestamp(),
                t.amount(),
                t.asset().map(s),
            )
        })
        .collect();
    let activity: Vec<Activity> = a
        .activity
        .iter()
        .map(|x| {
            Activity::new(
                w(x.wallet),
                x.timestamp,
                s(x.action),
                x.program().map(s),
                x.amount(),
            )
        })
        .collect();
    let hubs: Vec<u32> = a.hubs.iter().map(|&h| w(h)).collect();
    let candidates: Vec<u32> = a.candidates.iter().map(|&c| w(c)).collect();
    let links: Vec<(u32, u32)> = a.links.iter().map(|&(x, y)| (w(x), w(y))).collect();
    assert_ne!(w(0), 0, "the ids differ");
    (b.transfers, b.activity, b.hubs, b.candidates, b.links) =
        (transfers, activity, hubs, candidates, links);
    let cfg = Config::for_events(5);
    let ra = detect(a, &cfg, &Appeals::default());
    let rb = detect(&b, &cfg, &Appeals::default());
    assert!(ra.clusters.len() > 5, "{} clusters", ra.clusters.len());
    assert_eq!(clusters_csv(&ra, &a.wallets), clusters_csv(&rb, &b.wallets));
}

/// The role rules read only each wallet's funder, sweep target and degree: given those
/// ([`Roles`], what a warehouse's `sybil-wallets` table holds) in place of the transfers, the
/// detector flags the same wallets.
#[test]
fn roles_stand_in_for_the_transfers() {
    use fairdrop_sybil::graph::Roles;
    let world = small_world(7);
    let cfg = Config {
        // Low enough that the degree rule marks hubs in this small world.
        auto_hub_min_degree: 40,
        ..Config::for_events(5)
    };
    let full = detect(&world.input, &cfg, &Appeals::default());
    let mut bare = world.input.clone();
    bare.roles = Some(Roles::of_transfers(&world.input));
    bare.transfers.clear();
    let from_roles = detect(&bare, &cfg, &Appeals::default());
    assert!(full.stats.auto_hubs > 0, "{:?}", full.stats);
    assert_eq!(full.stats.auto_hubs, from_roles.stats.auto_hubs);
    assert!(full.clusters.len() > 5, "{} clusters", full.clusters.len());
    assert_eq!(
        clusters_csv(&full, &world.input.wallets),
        clusters_csv(&from_roles, &bare.wallets)
    );
}
