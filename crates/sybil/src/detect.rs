//! The detector: hub filtering, clustering, behaviour signals, scores, actions and appeals.

use std::collections::{BTreeMap, BTreeSet};

use fairdrop_core::Address;

use crate::behaviour::{self, BehaviourConfig};
use crate::graph::{detect_hubs, funder_and_sweep, Graph};
use crate::input::{SybilInput, WalletId};
use crate::louvain::louvain;
use crate::unionfind::UnionFind;

/// A piece of evidence. `code()` is the reason code written to `clusters.csv`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Signal {
    /// In a tight transfer-graph cluster (after hub removal and Louvain splitting) with at
    /// least the minimum number of candidates.
    TransferGraph,
    /// Shares its first funder with at least half of its graph cluster.
    FunderStar,
    /// Shares its sweep target (last recipient) with at least half of its graph cluster.
    SweepStar,
    /// Same (action, program, amount bucket) sequence in the same time windows as others.
    Lockstep,
    /// Bridged the same amount in the same window as others.
    SameAmountBridge,
    /// First activity in the same short window (same action and program) as others.
    SyncFirstActivity,
    /// Sends its last value to the same low fan-in address (e.g. an exchange deposit
    /// address) as others.
    SharedSweep,
    /// Got its first value from the same (non-hub) funder *and* sent its last value to the
    /// same (non-hub) target as at least `min_cluster_candidates` others: a star farm's
    /// funder → wallets → collector. (Event data; needs the funder and the sweep target.)
    FunderSweepPair,
    /// A relay of value: each wallet's first value came from the previous one, and its last
    /// value went to the next one (a funding chain A → B → C → …).
    FundingChain,
    /// Flagged by a model trained on reviewed wallets ([`crate::learn`]).
    Learned,
}

impl Signal {
    pub const ALL: [Signal; 10] = [
        Signal::TransferGraph,
        Signal::FunderStar,
        Signal::SweepStar,
        Signal::Lockstep,
        Signal::SameAmountBridge,
        Signal::SyncFirstActivity,
        Signal::SharedSweep,
        Signal::FunderSweepPair,
        Signal::FundingChain,
        Signal::Learned,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Signal::TransferGraph => "transfer_graph",
            Signal::FunderStar => "funder_star",
            Signal::SweepStar => "sweep_star",
            Signal::Lockstep => "lockstep",
            Signal::SameAmountBridge => "same_amount_bridge",
            Signal::SyncFirstActivity => "sync_first_activity",
            Signal::SharedSweep => "shared_sweep",
            Signal::FunderSweepPair => "funder_sweep_pair",
            Signal::FundingChain => "funding_chain",
            Signal::Learned => "learned",
        }
    }

    pub fn from_code(s: &str) -> Option<Signal> {
        Signal::ALL.into_iter().find(|x| x.code() == s)
    }

    /// Weight of the signal in a cluster's score.
    fn weight(self) -> f64 {
        match self {
            Signal::TransferGraph => 0.6,
            Signal::FunderStar => 0.5,
            Signal::SweepStar => 0.5,
            Signal::Lockstep => 0.8,
            Signal::SameAmountBridge => 0.6,
            Signal::SyncFirstActivity => 0.3,
            Signal::SharedSweep => 0.6,
            Signal::FunderSweepPair => 0.8,
            Signal::FundingChain => 0.8,
            Signal::Learned => 0.7,
        }
    }
}

/// What happens to a flagged cluster's wallets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// No allocation.
    Exclude,
    /// The whole cluster receives one share (allocation gives it to one wallet or splits it).
    Collapse,
    /// Each wallet keeps this fraction of its allocation, in basis points (0..=10000).
    KeepFraction(u16),
    /// Reported only; allocation unchanged.
    Flag,
    /// Cleared by an appeal: allocation unchanged, never counted as sybil.
    Cleared,
}

impl Action {
    /// Text written to `clusters.csv`: `exclude`, `collapse`, `keep_fraction:2500`, `flag`,
    /// `cleared`.
    pub fn code(self) -> String {
        match self {
            Action::Exclude => "exclude".into(),
            Action::Collapse => "collapse".into(),
            Action::KeepFraction(bps) => format!("keep_fraction:{bps}"),
            Action::Flag => "flag".into(),
            Action::Cleared => "cleared".into(),
        }
    }

    pub fn parse(s: &str) -> Option<Action> {
        match s {
            "exclude" => Some(Action::Exclude),
            "collapse" => Some(Action::Collapse),
            "flag" => Some(Action::Flag),
            "cleared" => Some(Action::Cleared),
            _ => s
                .strip_prefix("keep_fraction:")
                .and_then(|b| b.parse::<u16>().ok())
                .filter(|&b| b <= 10_000)
                .map(Action::KeepFraction),
        }
    }

    /// Whether a wallet with this action counts as a predicted sybil.
    pub fn is_sybil(self) -> bool {
        !matches!(self, Action::Cleared)
    }
}

/// The campaign's cluster actions: clusters scoring at least `strong_score` get `strong`,
/// the others `weak`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActionPolicy {
    pub strong: Action,
    pub weak: Action,
    pub strong_score: f64,
}

impl ActionPolicy {
    /// The action for a cluster with this id and score: `Cleared` when an appeal names the
    /// id, else `strong` from `strong_score` up, else `weak`.
    pub fn for_cluster(&self, id: &str, score: f64, cleared_ids: &BTreeSet<&str>) -> Action {
        if cleared_ids.contains(id) {
            Action::Cleared
        } else if score >= self.strong_score {
            self.strong
        } else {
            self.weak
        }
    }
}

impl Default for ActionPolicy {
    fn default() -> Self {
        Self {
            strong: Action::Exclude,
            weak: Action::Exclude,
            strong_score: 0.0,
        }
    }
}

/// Hand-cleared addresses and cluster ids; they always win.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Appeals {
    pub addresses: Vec<Address>,
    pub cluster_ids: Vec<String>,
}

/// Detector settings. [`Config::hop_method`] reproduces the Hop team's method;
/// [`Config::default`] is the detector tuned for edge lists without timestamps (Hop);
/// [`Config::for_events`] the one for canonical events (timestamps, amounts, activity).
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// A graph cluster needs at least this many candidate wallets (Hop: 8).
    pub min_cluster_candidates: usize,
    /// A graph cluster needs candidates / wallets of the cluster ≥ this (0 = off). Farms are
    /// tight; honest wallets get chained together through many outside wallets.
    pub min_candidate_share: f64,
    /// Smaller clusters also count when at least this many candidates (0 = off) make at
    /// least `small_cluster_share` of the cluster's wallets (a very tight farm).
    pub small_cluster_candidates: usize,
    pub small_cluster_share: f64,
    /// Automatic hubs: distinct-counterparty degree ≥ max(`auto_hub_min_degree`,
    /// `auto_hub_factor` × median degree). 0 = off.
    pub auto_hub_min_degree: usize,
    pub auto_hub_factor: f64,
    /// Components with more candidates than this are split by Louvain (0 = never).
    pub louvain_above: usize,
    pub louvain_resolution: f64,
    /// Also split components that have enough candidates but fail `min_candidate_share`:
    /// a tight farm hanging off a long chain of outside wallets still counts.
    pub louvain_loose: bool,
    /// Funder / sweep star evidence: share of a cluster's candidates with the same funder.
    pub star_share: f64,
    /// Shared sweep targets: groups of at least `behaviour.min_group` wallets sweeping to one
    /// address that at most this many candidates sweep to (0 = signal off).
    pub shared_sweep_max_fanin: usize,
    /// Behaviour signals (used when activity rows are given).
    pub behaviour: BehaviourConfig,
    pub actions: ActionPolicy,
    /// Cluster on connected components of the transfer graph (the Hop method and the tuned
    /// edge-only detector). Off for event data, where ordinary transfers between honest
    /// users chain them into giant components; the role rules below replace it.
    pub transfer_components: bool,
    /// [`Signal::FunderSweepPair`]: group candidates by (first funder, last recipient),
    /// both non-hub; a group of at least `min_cluster_candidates` is a farm.
    pub funder_sweep_pairs: bool,
    /// [`Signal::FundingChain`]: components of relay edges (u's last recipient is v and v's
    /// first sender is u) with at least `min_cluster_candidates` candidates.
    pub funding_chains: bool,
    /// Which behaviour signals may form a cluster on their own. The others (weaker: a
    /// coincidence among many honest wallets is possible) only add evidence to wallets that
    /// a standalone signal already flagged. `None` = all of them (the original behaviour).
    pub standalone_behaviour: Option<Vec<Signal>>,
    /// Every merged cluster needs at least `min_cluster_candidates` candidates (otherwise
    /// only graph clusters do).
    pub min_size_everywhere: bool,
    /// Role patterns (funder/sweep pairs, funding chains) are sized by all their wallets,
    /// not only candidates: a farm of 40 wallets of which 3 passed the gates is still a farm
    /// of 40, and those 3 are flagged.
    pub role_size_all_wallets: bool,
}

impl Config {
    /// The detector for canonical events (timestamps, amounts, activity): clusters come from
    /// roles, not from every transfer: wallets sharing a non-hub funder *and* a non-hub sweep
    /// target ([`Signal::FunderSweepPair`]), relay chains ([`Signal::FundingChain`]), and
    /// lockstep behaviour (MinHash/LSH over time-bucketed shingles); same-amount bridging,
    /// synchronised first activity and shared sweeps only add evidence. Every cluster needs
    /// `min_cluster_candidates` candidates. Tuned on the simulator's truth (seed 2024), see
    /// the crate documentation for figures.
    pub fn for_events(min_cluster_candidates: usize) -> Self {
        Config {
            min_cluster_candidates,
            auto_hub_min_degree: 1000,
            auto_hub_factor: 10.0,
            transfer_components: false,
            funder_sweep_pairs: true,
            funding_chains: true,
            standalone_behaviour: Some(vec![Signal::Lockstep]),
            min_size_everywhere: true,
            role_size_all_wallets: true,
            behaviour: BehaviourConfig {
                lockstep_window: 1800,
                ..BehaviourConfig::default()
            },
            ..Config::default()
        }
    }

    /// The Hop team's method: drop every edge touching a listed hub (allow list excepted),
    /// connected components, clusters of ≥ 8 candidates are sybil.
    pub fn hop_method() -> Self {
        Config {
            min_cluster_candidates: 8,
            min_candidate_share: 0.0,
            small_cluster_candidates: 0,
            small_cluster_share: 1.0,
            auto_hub_min_degree: 0,
            auto_hub_factor: 0.0,
            louvain_above: 0,
            louvain_resolution: 1.0,
            louvain_loose: false,
            star_share: 0.5,
            shared_sweep_max_fanin: 0,
            behaviour: BehaviourConfig::default(),
            actions: ActionPolicy::default(),
            transfer_components: true,
            funder_sweep_pairs: false,
            funding_chains: false,
            standalone_behaviour: None,
            min_size_everywhere: false,
            role_size_all_wallets: false,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            min_cluster_candidates: 8,
            min_candidate_share: 0.12,
            small_cluster_candidates: 0,
            small_cluster_share: 1.0,
            auto_hub_min_degree: 50,
            auto_hub_factor: 10.0,
            louvain_above: 100,
            louvain_resolution: 0.5,
            louvain_loose: true,
            star_share: 0.5,
            shared_sweep_max_fanin: 0,
            behaviour: BehaviourConfig::default(),
            actions: ActionPolicy::default(),
            transfer_components: true,
            funder_sweep_pairs: false,
            funding_chains: false,
            standalone_behaviour: None,
            min_size_everywhere: false,
            role_size_all_wallets: false,
        }
    }
}

/// Why a cluster was formed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    /// Wallets (candidates or not) of the graph clusters merged into this one.
    pub graph_wallets: usize,
    /// Distinct transfer-graph edges inside those graph clusters.
    pub graph_edges: usize,
    /// Most common funder of the cluster's candidates and how many it funded.
    pub top_funder: Option<(WalletId, usize)>,
    /// Most common sweep target and how many swept to it.
    pub top_sweep: Option<(WalletId, usize)>,
    /// Groups of each behaviour signal merged into this cluster.
    pub behaviour_groups: BTreeMap<&'static str, usize>,
}

/// One flagged cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Cluster {
    /// Stable id derived from the smallest member address (`c` + 16 hex digits).
    pub id: String,
    /// Candidate wallets, sorted by address.
    pub members: Vec<WalletId>,
    pub signals: Vec<Signal>,
    /// 0..1: 1 − Π(1 − weight) over the cluster's signals.
    pub score: f64,
    pub action: Action,
    pub evidence: Evidence,
}

/// The verdict on one flagged candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct WalletVerdict {
    pub wallet: WalletId,
    /// Index into [`Report::clusters`].
    pub cluster: usize,
    /// Reason codes for this wallet (the signals it takes part in).
    pub signals: Vec<Signal>,
    pub action: Action,
}

/// Run statistics.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    pub wallets: usize,
    pub candidates: usize,
    pub transfers: usize,
    pub listed_hubs: usize,
    pub auto_hubs: usize,
    pub graph_edges: usize,
    pub components_split: usize,
    pub graph_clusters: usize,
    pub behaviour_groups: usize,
    /// Groups found by the role rules (funder/sweep pairs, funding chains).
    pub role_groups: usize,
}

/// Everything the detector found.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub clusters: Vec<Cluster>,
    /// One per flagged candidate, sorted by address.
    pub verdicts: Vec<WalletVerdict>,
    pub stats: Stats,
}

impl Report {
    /// Whether `w` is a predicted sybil (flagged and not cleared).
    pub fn sybil_mask(&self, n_wallets: usize) -> Vec<bool> {
        let mut m = vec![false; n_wallets];
        for v in &self.verdicts {
            if v.action.is_sybil() {
                if let Some(x) = m.get_mut(v.wallet as usize) {
                    *x = true;
                }
            }
        }
        m
    }
}

/// Stable cluster id from an address.
pub fn cluster_id_of(a: &Address) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in a.as_bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("c{h:016x}")
}

struct Group {
    signal: Signal,
    members: Vec<WalletId>,
    graph_wallets: usize,
    graph_edges: usize,
    /// Forms a cluster on its own; otherwise it only adds evidence to wallets that a
    /// standalone group flagged.
    standalone: bool,
    /// Wallets of the pattern counted for the minimum size (candidates or all wallets).
    size: usize,
}

/// Step 6 of [`detect`]: the behaviour signals from activity, as (signal, groups) in the
/// order the groups are added. Reads only the candidates' activity, nothing of the graph, so
/// it runs beside the graph steps.
fn behaviour_groups(
    input: &SybilInput,
    cfg: &Config,
    cand: &[bool],
) -> Vec<(Signal, Vec<Vec<WalletId>>)> {
    if input.activity.is_empty() && input.compact.is_empty() {
        return Vec::new();
    }
    let n = input.n_wallets();
    let valid = |w: WalletId| (w as usize) < n;
    let b = &cfg.behaviour;
    let mine = |a: &&crate::input::Activity| valid(a.wallet) && cand[a.wallet as usize];
    let keep = |w: WalletId| valid(w) && cand[w as usize];
    // Each candidate's rows together, in wallet order: borrowed when every wallet's rows
    // are contiguous (a run's reader gives that), else from a sorted copy.
    let sorted: Vec<behaviour::Row>;
    let runs = match behaviour::wallet_runs(&input.compact, keep) {
        Some(r) if !input.compact.is_empty() => r,
        _ => {
            sorted = if input.compact.is_empty() {
                behaviour::sorted_rows(input.activity.iter().filter(mine))
            } else {
                let mut v: Vec<behaviour::Row> = input
                    .compact
                    .iter()
                    .copied()
                    .filter(|r| keep(r.wallet))
                    .collect();
                v.sort_unstable();
                v
            };
            behaviour::wallet_runs(&sorted, |_| true).expect("sorted rows are contiguous")
        }
    };
    // Symbols by name: the groups do not depend on the order names were interned in.
    let keys = behaviour::SymbolKeys::of(&input.symbols);
    let lockstep = behaviour::lockstep_groups_runs(&runs, b, &keys);
    let first = behaviour::sync_first_activity_groups_runs(&runs, b, &keys);
    drop(runs);
    let is_bridge: Vec<bool> = (0..input.symbols.len() as u32)
        .map(|s| b.bridge_actions.iter().any(|x| x == input.symbols.name(s)))
        .collect();
    let bridges: Vec<_> = input
        .activity
        .iter()
        .filter(mine)
        .filter(|a| is_bridge.get(a.action as usize).copied().unwrap_or(false))
        .copied()
        .collect();
    vec![
        (Signal::Lockstep, lockstep),
        (
            Signal::SameAmountBridge,
            behaviour::same_amount_bridge_groups(&bridges, &input.symbols, b),
        ),
        (Signal::SyncFirstActivity, first),
    ]
}

/// Run the detector.
pub fn detect(input: &SybilInput, cfg: &Config, appeals: &Appeals) -> Report {
    let cand = input.candidate_mask();
    // The behaviour signals (MinHash over each candidate's activity) and the graph steps
    // read the same input and nothing of each other: the former run on a second thread
    // (about 2 s each at 1M wallets).
    // Funders and sweep targets too, on a third: the graph steps need them only after the
    // components, and on this thread they were half a second at 1M wallets while the other
    // core, done with the behaviour signals, waited.
    std::thread::scope(|scope| {
        let cand = &cand;
        let behaviour = std::thread::Builder::new()
            .name("sybil-behaviour".into())
            .spawn_scoped(scope, move || behaviour_groups(input, cfg, cand));
        let roles = std::thread::Builder::new()
            .name("sybil-roles".into())
            .spawn_scoped(scope, move || funder_and_sweep(input));
        fn join<T>(h: std::thread::ScopedJoinHandle<'_, T>) -> T {
            h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        }
        detect_with(
            input,
            cfg,
            appeals,
            cand,
            || match behaviour {
                Ok(h) => join(h),
                Err(_) => behaviour_groups(input, cfg, cand),
            },
            || match roles {
                Ok(h) => join(h),
                Err(_) => funder_and_sweep(input),
            },
        )
    })
}

/// [`detect`] once the candidates are known, with the behaviour groups from `behaviour` and
/// the funders and sweep targets from `roles`.
fn detect_with(
    input: &SybilInput,
    cfg: &Config,
    appeals: &Appeals,
    cand: &[bool],
    behaviour: impl FnOnce() -> Vec<(Signal, Vec<Vec<WalletId>>)>,
    roles: impl FnOnce() -> (Vec<Option<WalletId>>, Vec<Option<WalletId>>),
) -> Report {
    let n = input.n_wallets();
    let allow = input.mask(&input.allow);
    let listed = input.mask(&input.hubs);
    let mut stats = Stats {
        wallets: n,
        candidates: cand.iter().filter(|&&c| c).count(),
        transfers: input.transfers.len(),
        listed_hubs: listed.iter().filter(|&&h| h).count(),
        ..Stats::default()
    };
    let valid = |w: WalletId| (w as usize) < n;
    // Ties are broken by address, never by wallet id: ids follow the order the input was
    // read in, and the verdicts must not.
    let addr = |w: WalletId| *input.wallets.address(w);

    // 1. Hubs: lists plus degree outliers; the allow list overrides both.
    let mut blocked: Vec<bool> = (0..n).map(|i| listed[i] && !allow[i]).collect();
    // The full transfer graph, when automatic hub detection needs it; the graph without hubs
    // is then cut from it in place rather than built a second time.
    let mut full_graph: Option<Graph> = None;
    if cfg.auto_hub_min_degree > 0 {
        // Degrees from the given roles, or from the full transfer graph (kept: the graph
        // without hubs is cut from it below).
        let auto = match &input.roles {
            Some(r) => crate::graph::hubs_from_degrees(
                &r.padded(n).degree,
                cfg.auto_hub_min_degree,
                cfg.auto_hub_factor,
            ),
            None => {
                let full = Graph::from_edges(
                    n,
                    input
                        .transfers
                        .iter()
                        .filter(|t| valid(t.from) && valid(t.to))
                        .map(|t| (t.from, t.to, 1.0)),
                );
                let auto = detect_hubs(&full, cfg.auto_hub_min_degree, cfg.auto_hub_factor);
                full_graph = Some(full);
                auto
            }
        };
        for i in 0..n {
            if auto[i] && !allow[i] && !blocked[i] {
                blocked[i] = true;
                stats.auto_hubs += 1;
            }
        }
    }

    let mut groups: Vec<Group> = Vec::new();
    if cfg.transfer_components {
        // 2. The transfer graph without hubs, weighted by transfer count.
        let g = match full_graph.take() {
            Some(full) => full.without(&blocked),
            None => Graph::from_edges(
                n,
                input
                    .transfers
                    .iter()
                    .filter(|t| valid(t.from) && valid(t.to))
                    .filter(|t| !blocked[t.from as usize] && !blocked[t.to as usize])
                    .map(|t| (t.from, t.to, 1.0)),
            ),
        };
        stats.graph_edges = (0..n as u32).map(|u| g.degree(u)).sum::<usize>() / 2;

        // 3. Components, Louvain on the giants.
        let mut uf = UnionFind::new(n);
        for u in 0..n as u32 {
            for (v, _) in g.neighbors(u) {
                if u < v {
                    uf.union(u, v);
                }
            }
        }
        let (comp, k) = uf.labels();
        let mut comp_cands = vec![0usize; k as usize];
        let mut comp_wallets = vec![0usize; k as usize];
        for i in 0..n {
            if cand[i] {
                comp_cands[comp[i] as usize] += 1;
            }
            if cand[i] || g.degree(i as u32) > 0 {
                comp_wallets[comp[i] as usize] += 1;
            }
        }
        let split_it = |c: usize| {
            cfg.louvain_above > 0 && comp_cands[c] > cfg.louvain_above
                || cfg.louvain_loose
                    && comp_cands[c] >= cfg.min_cluster_candidates.max(2)
                    && (comp_cands[c] as f64) < cfg.min_candidate_share * comp_wallets[c] as f64
        };
        let mut label = comp.clone();
        let mut next = k;
        {
            let mut members: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
            for (i, &c) in comp.iter().enumerate() {
                if split_it(c as usize) {
                    members.entry(c).or_default().push(i as u32);
                }
            }
            let mut scratch = Vec::new();
            for nodes in members.values() {
                stats.components_split += 1;
                let sub = g.induced_with(nodes, &mut scratch);
                let cm = louvain(&sub, cfg.louvain_resolution, 32);
                let kk = cm.iter().copied().max().map(|x| x + 1).unwrap_or(0);
                for (j, &u) in nodes.iter().enumerate() {
                    label[u as usize] = next + cm[j];
                }
                next += kk;
            }
        }
        let nl = next as usize;

        // 4. Graph clusters that qualify.
        let mut l_cands = vec![0usize; nl];
        let mut l_wallets = vec![0usize; nl];
        let mut l_edges = vec![0usize; nl];
        for u in 0..n as u32 {
            let l = label[u as usize] as usize;
            if cand[u as usize] {
                l_cands[l] += 1;
            }
            if g.degree(u) > 0 || cand[u as usize] {
                l_wallets[l] += 1;
            }
            for (v, _) in g.neighbors(u) {
                if u < v && label[v as usize] as usize == l {
                    l_edges[l] += 1;
                }
            }
        }
        let qualifies = |l: usize| {
            let big = l_cands[l] >= cfg.min_cluster_candidates.max(1)
                && l_cands[l] as f64 >= cfg.min_candidate_share * l_wallets[l] as f64;
            let small = cfg.small_cluster_candidates > 0
                && l_cands[l] >= cfg.small_cluster_candidates
                && l_cands[l] as f64 >= cfg.small_cluster_share * l_wallets[l] as f64;
            l_cands[l] >= 2 && (big || small)
        };
        let mut by_label: BTreeMap<u32, Vec<WalletId>> = BTreeMap::new();
        for i in 0..n {
            if cand[i] && g.degree(i as u32) > 0 && qualifies(label[i] as usize) {
                by_label.entry(label[i]).or_default().push(i as u32);
            }
        }
        for (l, members) in by_label {
            groups.push(Group {
                signal: Signal::TransferGraph,
                members,
                graph_wallets: l_wallets[l as usize],
                graph_edges: l_edges[l as usize],
                standalone: true,
                size: 0,
            });
        }
        stats.graph_clusters = groups.len();
    }

    // 5. Funder / sweep stars inside graph clusters; shared sweep targets.
    let (funder, sweep) = roles();
    // Star evidence only from non-hub funders / targets; shared sweep targets may be hubs
    // (exchange deposit addresses are per customer), their fan-in limit guards hot wallets.
    let usable = |w: Option<WalletId>| w.filter(|&x| (x as usize) < n && !blocked[x as usize]);
    let any_target = |w: Option<WalletId>| w.filter(|&x| (x as usize) < n);
    if cfg.shared_sweep_max_fanin > 0 {
        let mut by_target: BTreeMap<WalletId, Vec<WalletId>> = BTreeMap::new();
        for i in 0..n {
            if cand[i] {
                if let Some(t) = any_target(sweep[i]) {
                    if !cand[t as usize] {
                        by_target.entry(t).or_default().push(i as u32);
                    }
                }
            }
        }
        for members in by_target.into_values() {
            if members.len() >= cfg.behaviour.min_group.max(2)
                && members.len() <= cfg.shared_sweep_max_fanin
            {
                groups.push(Group {
                    signal: Signal::SharedSweep,
                    members,
                    graph_wallets: 0,
                    graph_edges: 0,
                    standalone: cfg
                        .standalone_behaviour
                        .as_ref()
                        .is_none_or(|v| v.contains(&Signal::SharedSweep)),
                    size: 0,
                });
                stats.behaviour_groups += 1;
            }
        }
    }

    // 5b. Roles (event data): star farms (same funder and same sweep target), relay chains.
    let min_c = cfg.min_cluster_candidates.max(2);
    if cfg.funder_sweep_pairs {
        let mut keyed: Vec<(WalletId, WalletId, WalletId)> = (0..n)
            .filter(|&i| cand[i] || cfg.role_size_all_wallets && !blocked[i])
            .filter_map(|i| match (usable(funder[i]), usable(sweep[i])) {
                (Some(f), Some(t)) => Some((f, t, i as WalletId)),
                _ => None,
            })
            .collect();
        keyed.sort_unstable();
        for run in keyed.chunk_by(|a, b| (a.0, a.1) == (b.0, b.1)) {
            if run.len() < min_c {
                continue;
            }
            let (f, t) = (run[0].0, run[0].1);
            let mut members: Vec<WalletId> = run
                .iter()
                .map(|x| x.2)
                .filter(|&w| cand[w as usize])
                .collect();
            let size = if cfg.role_size_all_wallets {
                run.len()
            } else {
                members.len()
            };
            // The operator's own funder and collector, when they are candidates too.
            members.extend([f, t].into_iter().filter(|&x| cand[x as usize]));
            members.sort_unstable();
            members.dedup();
            if size < min_c || members.is_empty() {
                continue;
            }
            stats.role_groups += 1;
            groups.push(Group {
                signal: Signal::FunderSweepPair,
                members,
                graph_wallets: 0,
                graph_edges: 0,
                standalone: true,
                size,
            });
        }
    }
    if cfg.funding_chains {
        let mut cuf = UnionFind::new(n);
        let mut on = vec![false; n];
        for u in 0..n {
            if blocked[u] {
                continue;
            }
            if let Some(v) = usable(sweep[u]) {
                if v as usize != u && usable(funder[v as usize]) == Some(u as WalletId) {
                    cuf.union(u as u32, v);
                    on[u] = true;
                    on[v as usize] = true;
                }
            }
        }
        let mut by_root: BTreeMap<u32, (Vec<WalletId>, usize)> = BTreeMap::new();
        for i in 0..n {
            if on[i] && (cand[i] || cfg.role_size_all_wallets) {
                let e = by_root.entry(cuf.find(i as u32)).or_default();
                e.1 += 1;
                if cand[i] {
                    e.0.push(i as WalletId);
                }
            }
        }
        for (members, size) in by_root.into_values() {
            if size >= min_c && !members.is_empty() {
                stats.role_groups += 1;
                groups.push(Group {
                    signal: Signal::FundingChain,
                    members,
                    graph_wallets: 0,
                    graph_edges: 0,
                    standalone: true,
                    size,
                });
            }
        }
    }

    // 6. Behaviour signals from activity (computed on their own thread, joined here so
    // groups keep their order).
    for (signal, gs) in behaviour() {
        let standalone = cfg
            .standalone_behaviour
            .as_ref()
            .is_none_or(|v| v.contains(&signal));
        for members in gs {
            stats.behaviour_groups += 1;
            groups.push(Group {
                signal,
                members,
                graph_wallets: 0,
                graph_edges: 0,
                standalone,
                size: 0,
            });
        }
    }

    // 7. Merge the groups into clusters. Groups that may not stand alone keep only the
    // wallets a standalone group flagged.
    if groups.iter().any(|g| !g.standalone) {
        let mut strong = vec![false; n];
        for gr in groups.iter().filter(|g| g.standalone) {
            for &w in &gr.members {
                strong[w as usize] = true;
            }
        }
        for gr in groups.iter_mut().filter(|g| !g.standalone) {
            gr.members.retain(|&w| strong[w as usize]);
        }
        groups.retain(|g| !g.members.is_empty());
    }
    let mut guf = UnionFind::new(n);
    let mut wallet_signals: BTreeMap<WalletId, Vec<Signal>> = BTreeMap::new();
    for gr in &groups {
        for &w in &gr.members {
            guf.union(gr.members[0], w);
            wallet_signals.entry(w).or_default().push(gr.signal);
        }
    }
    // Stars: among each graph cluster's candidates.
    for gr in groups.iter().filter(|g| g.signal == Signal::TransferGraph) {
        for (which, sig) in [(&funder, Signal::FunderStar), (&sweep, Signal::SweepStar)] {
            let mut count: BTreeMap<WalletId, usize> = BTreeMap::new();
            for &w in &gr.members {
                if let Some(f) = usable(which[w as usize]) {
                    *count.entry(f).or_default() += 1;
                }
            }
            let best = count
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(addr(*b.0).cmp(&addr(*a.0))));
            if let Some((&f, &c)) = best {
                if c >= 2 && c as f64 >= cfg.star_share * gr.members.len() as f64 {
                    for &w in &gr.members {
                        if usable(which[w as usize]) == Some(f) {
                            wallet_signals.entry(w).or_default().push(sig);
                        }
                    }
                }
            }
        }
    }
    let mut clusters_by_root: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (gi, gr) in groups.iter().enumerate() {
        clusters_by_root
            .entry(guf.find(gr.members[0]))
            .or_default()
            .push(gi);
    }
    let cleared_addr: std::collections::BTreeSet<Address> =
        appeals.addresses.iter().copied().collect();
    let cleared_ids: std::collections::BTreeSet<&str> =
        appeals.cluster_ids.iter().map(|s| s.as_str()).collect();
    let mut clusters: Vec<Cluster> = Vec::new();
    for gis in clusters_by_root.values() {
        let mut members: Vec<WalletId> = gis
            .iter()
            .flat_map(|&gi| groups[gi].members.iter().copied())
            .collect();
        members.sort_by_key(|&w| addr(w));
        members.dedup();
        let pattern = gis.iter().map(|&gi| groups[gi].size).max().unwrap_or(0);
        if cfg.min_size_everywhere && members.len() < min_c && pattern < min_c {
            continue;
        }
        let mut signals: Vec<Signal> = members
            .iter()
            .flat_map(|w| wallet_signals.get(w).into_iter().flatten().copied())
            .collect();
        signals.sort();
        signals.dedup();
        let mut ev = Evidence::default();
        for &gi in gis {
            let gr = &groups[gi];
            if gr.signal == Signal::TransferGraph {
                ev.graph_wallets += gr.graph_wallets;
                ev.graph_edges += gr.graph_edges;
            } else {
                *ev.behaviour_groups.entry(gr.signal.code()).or_default() += 1;
            }
        }
        for (which, slot) in [(&funder, &mut ev.top_funder), (&sweep, &mut ev.top_sweep)] {
            let mut count: BTreeMap<WalletId, usize> = BTreeMap::new();
            for &w in &members {
                if let Some(f) = any_target(which[w as usize]) {
                    *count.entry(f).or_default() += 1;
                }
            }
            *slot = count
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(addr(*b.0).cmp(&addr(*a.0))))
                .map(|(&f, &c)| (f, c));
        }
        let score = 1.0 - signals.iter().map(|s| 1.0 - s.weight()).product::<f64>();
        let id = cluster_id_of(&addr(members[0]));
        let action = cfg.actions.for_cluster(&id, score, &cleared_ids);
        clusters.push(Cluster {
            id,
            members,
            signals,
            score,
            action,
            evidence: ev,
        });
    }
    clusters.sort_by(|a, b| a.id.cmp(&b.id).then(a.members.cmp(&b.members)));
    let mut verdicts = Vec::new();
    for (ci, c) in clusters.iter().enumerate() {
        for &w in &c.members {
            let mut s = wallet_signals.get(&w).cloned().unwrap_or_default();
            s.sort();
            s.dedup();
            let action = if cleared_addr.contains(&addr(w)) {
                Action::Cleared
            } else {
                c.action
            };
            verdicts.push(WalletVerdict {
                wallet: w,
                cluster: ci,
                signals: s,
                action,
            });
        }
    }
    verdicts.sort_by_key(|v| addr(v.wallet));
    Report {
        clusters,
        verdicts,
        stats,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{Activity, Transfer};

    fn a(i: u32) -> Address {
        let mut b = [0u8; 20];
        b[16..].copy_from_slice(&i.to_be_bytes());
        Address::Evm(b)
    }

    /// Farm A: funder 1000 → candidates 1..=10. Farm B: funder 2000 → candidates 11..=20,
    /// funder 2000 is a listed hub but allowed. Honest: exchange 3000 (listed) → 21..=40.
    fn world() -> SybilInput {
        let mut inp = SybilInput::new();
        for i in 1..=10 {
            inp.add_edge(a(1000), a(i));
        }
        for i in 11..=20 {
            inp.add_edge(a(2000), a(i));
        }
        for i in 21..=40 {
            inp.add_edge(a(3000), a(i));
        }
        for i in 1..=40 {
            inp.add_candidate(a(i));
        }
        inp.add_hub(a(2000));
        inp.add_hub(a(3000));
        inp.add_allow(a(2000));
        inp
    }

    fn flagged(r: &Report, inp: &SybilInput) -> Vec<Address> {
        let m = r.sybil_mask(inp.n_wallets());
        let mut v: Vec<Address> = (0..inp.n_wallets())
            .filter(|&i| m[i])
            .map(|i| *inp.wallets.address(i as u32))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn hubs_are_dropped_and_allow_list_overrides() {
        let inp = world();
        let r = detect(&inp, &Config::hop_method(), &Appeals::default());
        let f = flagged(&r, &inp);
        assert_eq!(f, (1..=20).map(a).collect::<Vec<_>>());
        assert_eq!(r.clusters.len(), 2);
        for c in &r.clusters {
            assert!(c.signals.contains(&Signal::TransferGraph));
            assert!(c.signals.contains(&Signal::FunderStar));
            assert_eq!(c.action, Action::Exclude);
        }
        // Without the allow entry farm B disappears.
        let mut inp2 = world();
        inp2.allow.clear();
        let r2 = detect(&inp2, &Config::hop_method(), &Appeals::default());
        assert_eq!(flagged(&r2, &inp2), (1..=10).map(a).collect::<Vec<_>>());
    }

    #[test]
    fn automatic_hubs_break_up_an_unlisted_exchange() {
        let mut inp = SybilInput::new();
        // An unlisted exchange pays 300 honest wallets; a small farm hangs off 1000.
        for i in 1..=300 {
            inp.add_edge(a(5000), a(i));
            inp.add_candidate(a(i));
        }
        for i in 301..=310 {
            inp.add_edge(a(1000), a(i));
            inp.add_candidate(a(i));
        }
        let hop = detect(&inp, &Config::hop_method(), &Appeals::default());
        assert_eq!(flagged(&hop, &inp).len(), 310);
        let ours = detect(&inp, &Config::default(), &Appeals::default());
        assert_eq!(ours.stats.auto_hubs, 1);
        assert_eq!(flagged(&ours, &inp), (301..=310).map(a).collect::<Vec<_>>());
    }

    #[test]
    fn louvain_splits_a_giant_component_and_min_size_counts_candidates() {
        let mut inp = SybilInput::new();
        // Two dense farms of 12 candidates joined by a single edge, plus 3 non-candidates.
        for base in [0u32, 100] {
            for i in 0..12 {
                for j in i + 1..12 {
                    inp.add_edge(a(base + i + 1), a(base + j + 1));
                }
                inp.add_candidate(a(base + i + 1));
            }
        }
        inp.add_edge(a(12), a(101));
        let cfg = Config {
            louvain_above: 20,
            auto_hub_min_degree: 0,
            ..Config::default()
        };
        let r = detect(&inp, &cfg, &Appeals::default());
        assert_eq!(r.stats.components_split, 1);
        assert_eq!(r.clusters.len(), 2);
        assert!(r.clusters.iter().all(|c| c.members.len() == 12));
        // Raising the minimum above 12 candidates flags nothing.
        let strict = Config {
            min_cluster_candidates: 13,
            ..cfg
        };
        assert!(detect(&inp, &strict, &Appeals::default())
            .clusters
            .is_empty());
    }

    #[test]
    fn appeals_always_win() {
        let inp = world();
        let r = detect(&inp, &Config::hop_method(), &Appeals::default());
        let farm_a = r
            .clusters
            .iter()
            .find(|c| {
                c.members
                    .contains(&inp.wallets.get(&a(1)).unwrap_or(u32::MAX))
            })
            .map(|c| c.id.clone())
            .unwrap_or_default();
        let appeals = Appeals {
            addresses: vec![a(15)],
            cluster_ids: vec![farm_a],
        };
        let r2 = detect(&inp, &Config::hop_method(), &appeals);
        let f = flagged(&r2, &inp);
        let mut want: Vec<Address> = (11..=20).filter(|&i| i != 15).map(a).collect();
        want.sort();
        assert_eq!(f, want);
        // Cleared wallets stay in the report with their evidence and action `cleared`.
        let v15 = r2
            .verdicts
            .iter()
            .find(|v| *inp.wallets.address(v.wallet) == a(15))
            .map(|v| (v.action, v.signals.clone()));
        assert_eq!(v15.map(|x| x.0), Some(Action::Cleared));
        assert_eq!(r2.verdicts.len(), 20);
    }

    #[test]
    fn actions_follow_the_policy_by_score() {
        let inp = world();
        let mut cfg = Config::hop_method();
        cfg.actions = ActionPolicy {
            strong: Action::Collapse,
            weak: Action::KeepFraction(2500),
            strong_score: 0.99,
        };
        let r = detect(&inp, &cfg, &Appeals::default());
        // transfer_graph + funder_star = 1 - 0.4 * 0.5 = 0.8 < 0.99: the weak action.
        assert!(r.clusters.iter().all(|c| (c.score - 0.8).abs() < 1e-9));
        assert!(r
            .verdicts
            .iter()
            .all(|v| v.action == Action::KeepFraction(2500)));
        cfg.actions.strong_score = 0.5;
        let r = detect(&inp, &cfg, &Appeals::default());
        assert!(r.verdicts.iter().all(|v| v.action == Action::Collapse));
        for act in [
            Action::Exclude,
            Action::Collapse,
            Action::KeepFraction(2500),
            Action::Flag,
            Action::Cleared,
        ] {
            assert_eq!(Action::parse(&act.code()), Some(act));
        }
        assert_eq!(Action::parse("keep_fraction:10001"), None);
    }

    #[test]
    fn lockstep_behaviour_forms_a_cluster_without_any_graph() {
        let mut inp = SybilInput::new();
        let swap = inp.symbol("swap");
        let bridge = inp.symbol("bridge_in");
        let prog = inp.symbol("aleoswap.aleo");
        for w in 1..=9u32 {
            let id = inp.wallet(a(w));
            inp.add_candidate(a(w));
            for step in 0..5i64 {
                inp.add_activity(Activity::new(
                    id,
                    1_700_000_000 + step * 50_000 + w as i64 * 3,
                    if step == 0 { bridge } else { swap },
                    Some(prog),
                    Some(1_000_000),
                ));
            }
        }
        // An unrelated wallet.
        let lone = inp.wallet(a(77));
        inp.add_candidate(a(77));
        inp.add_activity(Activity::new(lone, 1_600_000_000, swap, None, Some(5)));
        let r = detect(&inp, &Config::default(), &Appeals::default());
        assert_eq!(r.clusters.len(), 1);
        let c = &r.clusters[0];
        assert_eq!(c.members.len(), 9);
        for s in [
            Signal::Lockstep,
            Signal::SameAmountBridge,
            Signal::SyncFirstActivity,
        ] {
            assert!(c.signals.contains(&s), "{s:?}");
        }
        assert!(c.score > 0.9);
    }

    #[test]
    fn shared_sweep_targets_and_timestamps() {
        let mut inp = SybilInput::new();
        // Six candidates each funded by someone different, all sweeping last to 900.
        for w in 1..=6u32 {
            let id = inp.wallet(a(w));
            let src = inp.wallet(a(100 + w));
            let dst = inp.wallet(a(900));
            let other = inp.wallet(a(800));
            inp.add_candidate(a(w));
            inp.add_transfer(Transfer::new(src, id, Some(10), Some(5), None));
            // Listed in the rows after the sweep, but earlier in time: not the last.
            inp.add_transfer(Transfer::new(id, dst, Some(30), Some(5), None));
            inp.add_transfer(Transfer::new(id, other, Some(20), Some(1), None));
        }
        inp.add_hub(a(900)); // e.g. an exchange deposit address: still a sweep target
        inp.add_hub(a(800));
        let cfg = Config {
            shared_sweep_max_fanin: 50,
            ..Config::default()
        };
        let r = detect(&inp, &cfg, &Appeals::default());
        assert_eq!(r.clusters.len(), 1);
        assert_eq!(r.clusters[0].signals, vec![Signal::SharedSweep]);
        assert_eq!(r.clusters[0].members.len(), 6);
        let top = r.clusters[0]
            .evidence
            .top_sweep
            .map(|(w, c)| (*inp.wallets.address(w), c));
        assert_eq!(top, Some((a(900), 6)));
    }

    fn tr(inp: &mut SybilInput, from: u32, to: u32, ts: i64) {
        let (f, t) = (inp.wallet(a(from)), inp.wallet(a(to)));
        inp.add_transfer(Transfer::new(f, t, Some(ts), Some(1_000_000), None));
    }

    #[test]
    fn funder_sweep_pairs_find_a_star_farm_not_a_busy_honest_sender() {
        let mut inp = SybilInput::new();
        // Farm: 1000 funds 1..=10, each sweeps last to 2000 (1000 and 2000 not candidates).
        for i in 1..=10 {
            tr(&mut inp, 1000, i, 100 + i as i64);
            tr(&mut inp, i, 2000, 10_000 + i as i64);
            inp.add_candidate(a(i));
        }
        // Honest: 3000 is the first sender to 21..=40, who send last to different people.
        for i in 21..=40 {
            tr(&mut inp, 3000, i, 100 + i as i64);
            tr(&mut inp, i, 5000 + i, 10_000);
            inp.add_candidate(a(i));
        }
        let r = detect(&inp, &Config::for_events(8), &Appeals::default());
        assert_eq!(flagged(&r, &inp), (1..=10).map(a).collect::<Vec<_>>());
        assert_eq!(r.clusters[0].signals, vec![Signal::FunderSweepPair]);
        assert_eq!(r.stats.role_groups, 1);
        // The edge-only detector clusters every transfer: it would take the honest star too.
        let edge = detect(&inp, &Config::default(), &Appeals::default());
        assert!(flagged(&edge, &inp).len() > 10);
    }

    #[test]
    fn funding_chains_need_a_relay_of_first_and_last_transfers() {
        let mut inp = SybilInput::new();
        // Chain: 1 → 2 → … → 9 → 10 (collector); each link is the receiver's first inflow
        // and the sender's last outflow.
        for i in 1..=9u32 {
            tr(&mut inp, i, i + 1, 1000 * i as i64);
            inp.add_candidate(a(i));
        }
        tr(&mut inp, 500, 1, 0);
        // Not a relay: 21 → 22 → … → 30, but each also sends later to an outsider, so
        // its last recipient is not the next wallet.
        for i in 21..=29u32 {
            tr(&mut inp, i, i + 1, 1000 * i as i64);
            tr(&mut inp, i, 900 + i, 1_000_000);
            inp.add_candidate(a(i));
        }
        let r = detect(&inp, &Config::for_events(8), &Appeals::default());
        assert_eq!(flagged(&r, &inp), (1..=9).map(a).collect::<Vec<_>>());
        assert!(r.clusters[0].signals.contains(&Signal::FundingChain));
    }

    #[test]
    fn role_patterns_count_all_their_wallets_but_flag_candidates_only() {
        let mut inp = SybilInput::new();
        for i in 1..=10 {
            tr(&mut inp, 1000, i, 100 + i as i64);
            tr(&mut inp, i, 2000, 10_000 + i as i64);
        }
        for i in 1..=3 {
            inp.add_candidate(a(i));
        }
        inp.add_candidate(a(77));
        let r = detect(&inp, &Config::for_events(8), &Appeals::default());
        assert_eq!(flagged(&r, &inp), (1..=3).map(a).collect::<Vec<_>>());
        let strict = Config {
            role_size_all_wallets: false,
            ..Config::for_events(8)
        };
        assert!(detect(&inp, &strict, &Appeals::default())
            .clusters
            .is_empty());
    }

    #[test]
    fn weak_behaviour_signals_do_not_stand_alone_for_events() {
        let mut inp = SybilInput::new();
        let greenlist = inp.symbol("greenlist");
        let swap = inp.symbol("swap");
        // Ten honest wallets happen to start with a greenlist in the same minutes, then go
        // their own ways.
        for w in 1..=10u32 {
            let id = inp.wallet(a(w));
            inp.add_candidate(a(w));
            inp.add_activity(Activity::new(
                id,
                1_700_000_000 + w as i64,
                greenlist,
                None,
                None,
            ));
            for k in 1..4i64 {
                inp.add_activity(Activity::new(
                    id,
                    1_700_000_000 + k * 97_531 * w as i64,
                    swap,
                    None,
                    Some(w as u128 * 7_777 + k as u128),
                ));
            }
        }
        let old = detect(&inp, &Config::default(), &Appeals::default());
        assert_eq!(flagged(&old, &inp).len(), 10);
        let ev = detect(&inp, &Config::for_events(8), &Appeals::default());
        assert!(ev.clusters.is_empty());
    }
}
