//! Behaviour signals that need no graph, from per-wallet activity sequences:
//!
//! - **lockstep**: wallets doing the same (action, program, amount bucket) in the same short
//!   time windows. Each wallet becomes a set of time-bucketed shingles; MinHash signatures
//!   are banded (LSH) so similar wallets meet in a bucket without comparing all pairs, and a
//!   pair is joined when its estimated Jaccard similarity reaches the threshold.
//! - **same_amount_bridge**: wallets bridging the exact same amount in the same window.
//! - **sync_first_activity**: wallets whose first action (same action and program) falls in
//!   the same short window.
//!
//! Every function returns groups of wallet ids (each sorted, groups sorted), only groups of
//! at least `min_group` distinct wallets.

use std::collections::BTreeMap;

use crate::input::{Activity, SymbolId, Symbols, WalletId};
use crate::unionfind::UnionFind;

/// (action, program, amount, window) → wallet.
type BridgeKey = ((SymbolId, Option<SymbolId>, u128, i64), WalletId);
/// (action, program, window) → wallet.
type FirstKey = ((SymbolId, Option<SymbolId>, i64), WalletId);

/// Settings of the behaviour signals.
#[derive(Clone, Debug, PartialEq)]
pub struct BehaviourConfig {
    /// Width of a lockstep time bucket, seconds.
    pub lockstep_window: i64,
    /// Wallets with fewer activity rows are not compared.
    pub lockstep_min_events: usize,
    /// Estimated Jaccard similarity that joins two wallets.
    pub lockstep_min_jaccard: f64,
    /// LSH bands × rows per band = MinHash signature length.
    pub lsh_bands: usize,
    pub lsh_rows: usize,
    /// Window of the same-amount bridging and synchronised first activity signals, seconds.
    pub bridge_window: i64,
    pub first_activity_window: i64,
    /// Actions counted as bridging.
    pub bridge_actions: Vec<String>,
    /// Smallest group reported by each signal.
    pub min_group: usize,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        Self {
            lockstep_window: 600,
            lockstep_min_events: 3,
            lockstep_min_jaccard: 0.5,
            lsh_bands: 16,
            lsh_rows: 4,
            bridge_window: 3600,
            first_activity_window: 300,
            bridge_actions: vec!["bridge_in".into(), "bridge_out".into(), "bridge".into()],
            min_group: 5,
        }
    }
}

/// Amount bucket: the bit length and the next two bits (about ±12% resolution), so that
/// amounts a farm script randomises slightly still meet.
pub fn amount_bucket(a: Option<u128>) -> u32 {
    match a {
        None => 0,
        Some(0) => 1,
        Some(x) => {
            let bits = 128 - x.leading_zeros();
            let top = if bits >= 3 {
                (x >> (bits - 3)) as u32 & 0b11
            } else {
                (x as u32) & 0b11
            };
            (bits << 2 | top) + 2
        }
    }
}

#[inline]
fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^= h >> 33;
    h
}

fn token(bucket: i64, action: u64, program: u64, amount: u32) -> u64 {
    let mut h = mix(bucket as u64 ^ 0x9e37_79b9_7f4a_7c15);
    h = mix(h ^ action);
    h = mix(h ^ program);
    mix(h ^ amount as u64)
}

/// What the behaviour signals know of a symbol: a hash of its name (the shingles' part) and
/// its rank among the names (the tie-break of a wallet's first row), so that verdicts depend
/// on the names, not on the order they were interned in: a run from events and one from a
/// warehouse's tables intern them in different orders. Ids the table does not name (rows
/// built by hand) are keyed by the id.
#[derive(Clone, Debug, Default)]
pub struct SymbolKeys {
    key: Vec<u64>,
    rank: Vec<u32>,
}

impl SymbolKeys {
    pub fn of(symbols: &Symbols) -> SymbolKeys {
        let n = symbols.len() as u32;
        let key = (0..n)
            .map(|s| {
                // FNV-1a over the name, then mixed.
                let mut h: u64 = 0xcbf2_9ce4_8422_2325;
                for &b in symbols.name(s).as_bytes() {
                    h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
                }
                mix(h)
            })
            .collect();
        let mut by_name: Vec<u32> = (0..n).collect();
        by_name.sort_by(|&a, &b| symbols.name(a).cmp(symbols.name(b)));
        let mut rank = vec![0u32; n as usize];
        for (r, &s) in by_name.iter().enumerate() {
            rank[s as usize] = r as u32;
        }
        SymbolKeys { key, rank }
    }

    fn key(&self, s: SymbolId) -> u64 {
        match self.key.get(s as usize) {
            Some(&k) => k,
            None => mix(s as u64 ^ 0x6a09_e667_f3bc_c909),
        }
    }

    /// A program's part of a shingle (0 for none).
    fn program_key(&self, p: Option<SymbolId>) -> u64 {
        p.map_or(0, |p| self.key(p))
    }

    fn rank(&self, s: SymbolId) -> u64 {
        match self.rank.get(s as usize) {
            Some(&r) => r as u64,
            None => 1 << 32 | s as u64,
        }
    }

    /// The order of a wallet's rows for its first row: time, then the names of action and
    /// program (no program last), then the amount bucket.
    fn row_key(&self, r: &Row) -> (i64, u64, u64, u32) {
        let program = match r.program() {
            Some(p) => self.rank(p),
            None => u64::MAX,
        };
        (r.timestamp, self.rank(r.action), program, r.amount)
    }
}

/// A compact activity row for the signals that need no exact amount (24 bytes instead of an
/// [`Activity`]'s 40): at tens of millions of rows this is most of the detector's memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub wallet: WalletId,
    pub timestamp: i64,
    pub action: SymbolId,
    /// `u32::MAX` when there is no program.
    pub program: SymbolId,
    /// [`amount_bucket`] of the amount.
    pub amount: u32,
}

impl Row {
    pub fn of(a: &Activity) -> Row {
        Row {
            wallet: a.wallet,
            timestamp: a.timestamp,
            action: a.action,
            program: a.program().unwrap_or(u32::MAX),
            amount: amount_bucket(a.amount()),
        }
    }

    fn program(&self) -> Option<SymbolId> {
        (self.program != u32::MAX).then_some(self.program)
    }
}

/// Compact rows sorted by wallet, then time (then action, program, amount bucket).
pub fn sorted_rows<'a>(activity: impl IntoIterator<Item = &'a Activity>) -> Vec<Row> {
    let mut v: Vec<Row> = activity.into_iter().map(Row::of).collect();
    v.sort_unstable();
    v
}

fn runs(v: &[Row]) -> impl Iterator<Item = &[Row]> {
    v.chunk_by(|a, b| a.wallet == b.wallet)
}

/// Each kept wallet's rows, in wallet order, without sorting `rows`: the signals need a
/// wallet's rows together, not in order (lockstep uses their set of shingles, first activity
/// their least row). `None` when some wallet's rows are not contiguous; sort a copy then
/// ([`sorted_rows`] order). A reader of address-sorted events gives contiguous wallets, so
/// a run skips sorting tens of millions of rows.
pub fn wallet_runs(rows: &[Row], keep: impl Fn(WalletId) -> bool) -> Option<Vec<&[Row]>> {
    let mut out: Vec<&[Row]> = runs(rows).filter(|r| keep(r[0].wallet)).collect();
    out.sort_unstable_by_key(|r| r[0].wallet);
    if out.windows(2).any(|w| w[0][0].wallet == w[1][0].wallet) {
        return None;
    }
    Some(out)
}

fn groups_from_uf(
    uf: &mut UnionFind,
    members: &[WalletId],
    min_group: usize,
) -> Vec<Vec<WalletId>> {
    let mut by_root: BTreeMap<u32, Vec<WalletId>> = BTreeMap::new();
    for (i, &w) in members.iter().enumerate() {
        by_root.entry(uf.find(i as u32)).or_default().push(w);
    }
    finish_groups(by_root.into_values(), min_group)
}

fn finish_groups(
    groups: impl IntoIterator<Item = Vec<WalletId>>,
    min_group: usize,
) -> Vec<Vec<WalletId>> {
    let mut out: Vec<Vec<WalletId>> = groups
        .into_iter()
        .map(|mut g| {
            g.sort_unstable();
            g.dedup();
            g
        })
        .filter(|g| g.len() >= min_group.max(2))
        .collect();
    out.sort();
    out
}

/// MinHash signature: `sig[j] = min over shingles s of (s ^ xs[j]) * ms[j]` (wrapping),
/// `u64::MAX` for no shingles. Slots are the inner loop so they vectorise: with AVX-512
/// (8 lanes of 64-bit multiply) when the CPU has it, plain code otherwise; the same integers
/// either way.
fn minhash(shingles: &[u64], xs: &[u64], ms: &[u64], sig: &mut [u64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::sync::OnceLock;
        static AVX512: OnceLock<bool> = OnceLock::new();
        let fast = *AVX512.get_or_init(|| {
            std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512dq")
                && std::env::var_os("FAIRDROP_NO_SIMD").is_none()
        });
        if fast {
            // SAFETY: the CPU has AVX-512F and DQ (checked above).
            unsafe { minhash_avx512(shingles, xs, ms, sig) };
            return;
        }
    }
    minhash_plain(shingles, xs, ms, sig)
}

#[inline(always)]
fn minhash_plain(shingles: &[u64], xs: &[u64], ms: &[u64], sig: &mut [u64]) {
    sig.fill(u64::MAX);
    // Blocks of 64 slots stay in registers across the shingles.
    for ((sig, xs), ms) in sig.chunks_mut(64).zip(xs.chunks(64)).zip(ms.chunks(64)) {
        if let (Ok(sig), Ok(xs), Ok(ms)) = (
            <&mut [u64; 64]>::try_from(&mut *sig),
            <&[u64; 64]>::try_from(xs),
            <&[u64; 64]>::try_from(ms),
        ) {
            let mut acc = *sig;
            for &s in shingles {
                for j in 0..64 {
                    acc[j] = acc[j].min((s ^ xs[j]).wrapping_mul(ms[j]));
                }
            }
            *sig = acc;
        } else {
            for &s in shingles {
                for ((a, &x), &m) in sig.iter_mut().zip(xs).zip(ms) {
                    *a = (*a).min((s ^ x).wrapping_mul(m));
                }
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq")]
unsafe fn minhash_avx512(shingles: &[u64], xs: &[u64], ms: &[u64], sig: &mut [u64]) {
    minhash_plain(shingles, xs, ms, sig)
}

/// Lockstep groups (MinHash/LSH over time-bucketed (action, program, amount) shingles).
/// Symbols are keyed by id ([`SymbolKeys::default`]); the detector keys them by name.
pub fn lockstep_groups(activity: &[Activity], cfg: &BehaviourConfig) -> Vec<Vec<WalletId>> {
    lockstep_groups_sorted(&sorted_rows(activity), cfg)
}

/// [`lockstep_groups`] over rows from [`sorted_rows`].
pub fn lockstep_groups_sorted(sorted: &[Row], cfg: &BehaviourConfig) -> Vec<Vec<WalletId>> {
    lockstep_groups_runs(
        &runs(sorted).collect::<Vec<_>>(),
        cfg,
        &SymbolKeys::default(),
    )
}

/// [`lockstep_groups`] over each wallet's rows (one slice per wallet, in wallet order; the
/// rows of a slice in any order), e.g. from [`wallet_runs`], with symbols keyed by `keys`.
///
/// The groups depend on the rows' content only, not on wallet or symbol ids: the buckets'
/// members are visited in the order of their signatures (equal signatures are
/// interchangeable), not of their ids.
pub fn lockstep_groups_runs(
    runs: &[&[Row]],
    cfg: &BehaviourConfig,
    keys: &SymbolKeys,
) -> Vec<Vec<WalletId>> {
    let window = cfg.lockstep_window.max(1);
    let k = (cfg.lsh_bands * cfg.lsh_rows).clamp(1, 1024);
    let rows = cfg.lsh_rows.max(1);
    let bands = k / rows;
    // Per signature slot a (xor, odd multiplier) pair: a permutation of the (already mixed)
    // shingle tokens, cheaper than a full mix per slot.
    let seeds: Vec<(u64, u64)> = (0..k as u64)
        .map(|j| {
            let a = mix(j.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5bd1_e995);
            (a, mix(a ^ 0x2545_f491_4f6c_dd1d) | 1)
        })
        .collect();
    let wallet_runs: Vec<&[Row]> = runs
        .iter()
        .copied()
        .filter(|r| r.len() >= cfg.lockstep_min_events.max(1))
        .collect();
    let xs: Vec<u64> = seeds.iter().map(|s| s.0).collect();
    let ms: Vec<u64> = seeds.iter().map(|s| s.1).collect();
    let members: Vec<WalletId> = wallet_runs.iter().map(|r| r[0].wallet).collect();
    // Signatures, computed in parallel over fixed slices of wallets (each wallet's signature
    // depends only on its rows, so the result does not depend on the threads).
    let mut sigs: Vec<u64> = vec![u64::MAX; wallet_runs.len() * k];
    let threads = std::thread::available_parallelism()
        .map(|x| x.get())
        .unwrap_or(1)
        .clamp(1, 16);
    let per = wallet_runs.len().div_ceil(threads).max(1);
    std::thread::scope(|sc| {
        for (part, out) in wallet_runs.chunks(per).zip(sigs.chunks_mut(per * k)) {
            let (xs, ms) = (&xs, &ms);
            sc.spawn(move || {
                let mut shingles: Vec<u64> = Vec::new();
                for (run, sig) in part.iter().zip(out.chunks_mut(k)) {
                    shingles.clear();
                    for a in run.iter() {
                        // Two bucketings offset by half a window, so neighbours across a
                        // boundary meet.
                        let b0 = a.timestamp.div_euclid(window);
                        let b1 = (a.timestamp + window / 2).div_euclid(window);
                        let (act, prog) = (keys.key(a.action), keys.program_key(a.program()));
                        shingles.push(token(b0 * 2, act, prog, a.amount));
                        shingles.push(token(b1 * 2 + 1, act, prog, a.amount));
                    }
                    // A minimum over the multiset is the minimum over the set: only the
                    // neighbours' repeats are dropped, no sort is needed.
                    shingles.dedup();
                    minhash(&shingles, xs, ms, sig);
                }
            });
        }
    });
    // Members in the order of their signatures' hashes, so that which pairs a bucket
    // compares does not depend on wallet ids.
    let sig_of = |i: usize| &sigs[i * k..(i + 1) * k];
    let mut order: Vec<(u64, WalletId, usize)> = (0..members.len())
        .map(|i| {
            let h = sig_of(i).iter().fold(0x2545_f491u64, |h, &x| mix(h ^ x));
            (h, members[i], i)
        })
        .collect();
    order.sort_unstable();
    let members: Vec<WalletId> = order.iter().map(|o| o.1).collect();
    let n = members.len();
    let sig = |i: usize| sig_of(order[i].2);
    let similar = |i: usize, j: usize| {
        let same = sig(i).iter().zip(sig(j)).filter(|(a, b)| a == b).count();
        same as f64 / k as f64 >= cfg.lockstep_min_jaccard
    };
    let mut uf = UnionFind::new(n);
    let mut keyed: Vec<(u64, u32)> = Vec::with_capacity(n);
    for b in 0..bands {
        keyed.clear();
        for i in 0..n {
            let mut h = b as u64;
            for &x in &sig(i)[b * rows..(b + 1) * rows] {
                h = mix(h ^ x);
            }
            keyed.push((h, i as u32));
        }
        keyed.sort_unstable();
        for bucket in keyed.chunk_by(|a, b| a.0 == b.0) {
            // Compare each member with the bucket's first member and with its predecessor:
            // linear in the bucket size, and enough to chain a lockstep farm together.
            let first = bucket[0].1 as usize;
            for w in bucket.windows(2) {
                let (p, q) = (w[0].1 as usize, w[1].1 as usize);
                if similar(first, q) {
                    uf.union(first as u32, q as u32);
                } else if similar(p, q) {
                    uf.union(p as u32, q as u32);
                }
            }
        }
    }
    groups_from_uf(&mut uf, &members, cfg.min_group)
}

/// Wallets bridging the exact same amount with the same action and program in the same
/// window.
pub fn same_amount_bridge_groups(
    activity: &[Activity],
    symbols: &Symbols,
    cfg: &BehaviourConfig,
) -> Vec<Vec<WalletId>> {
    let window = cfg.bridge_window.max(1);
    let is_bridge: Vec<bool> = (0..symbols.len() as u32)
        .map(|s| cfg.bridge_actions.iter().any(|b| b == symbols.name(s)))
        .collect();
    let mut keyed: Vec<BridgeKey> = activity
        .iter()
        .filter(|a| is_bridge.get(a.action as usize).copied().unwrap_or(false))
        .filter_map(|a| {
            a.amount().map(|amt| {
                (
                    (a.action, a.program(), amt, a.timestamp.div_euclid(window)),
                    a.wallet,
                )
            })
        })
        .collect();
    keyed.sort_unstable();
    let groups = keyed
        .chunk_by(|a, b| a.0 == b.0)
        .map(|c| c.iter().map(|x| x.1).collect::<Vec<_>>())
        .collect::<Vec<_>>();
    merge_overlapping(groups, cfg.min_group)
}

/// Wallets whose first activity (same action and program) falls in the same window.
/// Symbols are keyed by id, as in [`lockstep_groups`].
pub fn sync_first_activity_groups(
    activity: &[Activity],
    cfg: &BehaviourConfig,
) -> Vec<Vec<WalletId>> {
    sync_first_activity_groups_sorted(&sorted_rows(activity), cfg)
}

/// [`sync_first_activity_groups`] over rows from [`sorted_rows`].
pub fn sync_first_activity_groups_sorted(
    sorted: &[Row],
    cfg: &BehaviourConfig,
) -> Vec<Vec<WalletId>> {
    sync_first_activity_groups_runs(
        &runs(sorted).collect::<Vec<_>>(),
        cfg,
        &SymbolKeys::default(),
    )
}

/// [`sync_first_activity_groups`] over each wallet's rows (as [`lockstep_groups_runs`]); a
/// wallet's first row is its least by [`SymbolKeys`]' order (time, then names).
pub fn sync_first_activity_groups_runs(
    runs: &[&[Row]],
    cfg: &BehaviourConfig,
    keys: &SymbolKeys,
) -> Vec<Vec<WalletId>> {
    let window = cfg.first_activity_window.max(1);
    let mut keyed: Vec<FirstKey> = runs
        .iter()
        .map(|r| {
            // The wallet's least row: by time, then by names.
            let a = *r
                .iter()
                .min_by_key(|r| keys.row_key(r))
                .expect("runs are not empty");
            (
                (a.action, a.program(), a.timestamp.div_euclid(window)),
                a.wallet,
            )
        })
        .collect();
    keyed.sort_unstable();
    let groups = keyed
        .chunk_by(|a, b| a.0 == b.0)
        .map(|c| c.iter().map(|x| x.1).collect::<Vec<_>>())
        .collect::<Vec<_>>();
    finish_groups(groups, cfg.min_group)
}

/// Qualifying groups (≥ min_group) that share a wallet are merged.
fn merge_overlapping(groups: Vec<Vec<WalletId>>, min_group: usize) -> Vec<Vec<WalletId>> {
    let groups = finish_groups(groups, min_group);
    let mut ids: Vec<WalletId> = groups.iter().flatten().copied().collect();
    ids.sort_unstable();
    ids.dedup();
    let mut uf = UnionFind::new(ids.len());
    for g in &groups {
        let first = ids.binary_search(&g[0]).unwrap_or(0) as u32;
        for w in &g[1..] {
            if let Ok(j) = ids.binary_search(w) {
                uf.union(first, j as u32);
            }
        }
    }
    groups_from_uf(&mut uf, &ids, min_group)
}

#[cfg(test)]
mod runs_tests {
    use super::*;
    use proptest::prelude::*;

    /// The per-slot formula `minhash` replaced.
    fn reference_sig(shingles: &[u64], xs: &[u64], ms: &[u64]) -> Vec<u64> {
        let mut set = shingles.to_vec();
        set.sort_unstable();
        set.dedup();
        xs.iter()
            .zip(ms)
            .map(|(&x, &m)| {
                set.iter()
                    .map(|&s| (s ^ x).wrapping_mul(m))
                    .min()
                    .unwrap_or(u64::MAX)
            })
            .collect()
    }

    fn cfg() -> BehaviourConfig {
        BehaviourConfig {
            lockstep_window: 600,
            lockstep_min_events: 2,
            min_group: 2,
            first_activity_window: 600,
            ..BehaviourConfig::default()
        }
    }

    proptest! {
        #[test]
        fn minhash_equals_the_per_slot_minimum(
            shingles in proptest::collection::vec(0u64..40, 0..50),
            k in prop_oneof![Just(64usize), Just(128), 1usize..100],
            seed in any::<u64>(),
        ) {
            let xs: Vec<u64> = (0..k as u64).map(|j| mix(seed ^ j)).collect();
            let ms: Vec<u64> = (0..k as u64).map(|j| mix(seed.wrapping_add(j)) | 1).collect();
            let mut sig = vec![0u64; k];
            minhash(&shingles, &xs, &ms, &mut sig);
            prop_assert_eq!(&sig, &reference_sig(&shingles, &xs, &ms));
            minhash_plain(&shingles, &xs, &ms, &mut sig);
            prop_assert_eq!(&sig, &reference_sig(&shingles, &xs, &ms));
        }

        /// Rows grouped by wallet in any order (wallets shuffled, rows shuffled within a
        /// wallet) give the groups of the sorted rows.
        #[test]
        fn grouped_rows_give_the_groups_of_sorted_rows(
            rows in proptest::collection::vec((0u32..12, 0i64..4000, 0u32..3, 0u32..2), 1..120),
            shuffle in any::<u64>(),
        ) {
            let rows: Vec<Row> = rows
                .into_iter()
                .map(|(wallet, timestamp, action, amount)| Row {
                    wallet, timestamp, action, program: u32::MAX, amount,
                })
                .collect();
            let mut sorted = rows.clone();
            sorted.sort_unstable();
            // Group by wallet, shuffle the groups and each group's rows deterministically.
            let mut groups: Vec<Vec<Row>> = runs(&sorted).map(|r| r.to_vec()).collect();
            let key = |i: usize, salt: u64| mix(shuffle ^ salt ^ i as u64);
            for (gi, g) in groups.iter_mut().enumerate() {
                let mut idx: Vec<usize> = (0..g.len()).collect();
                idx.sort_by_key(|&i| key(i, gi as u64 + 1));
                *g = idx.into_iter().map(|i| g[i]).collect();
            }
            let mut order: Vec<usize> = (0..groups.len()).collect();
            order.sort_by_key(|&i| key(i, 0));
            let grouped: Vec<Row> = order.iter().flat_map(|&i| groups[i].clone()).collect();

            let runs = wallet_runs(&grouped, |_| true).expect("grouped rows are contiguous");
            let c = cfg();
            let ids = SymbolKeys::default();
            prop_assert_eq!(lockstep_groups_runs(&runs, &c, &ids), lockstep_groups_sorted(&sorted, &c));
            prop_assert_eq!(
                sync_first_activity_groups_runs(&runs, &c, &ids),
                sync_first_activity_groups_sorted(&sorted, &c)
            );
            // Keeping a subset of wallets equals dropping the others' rows first.
            let odd = |w: WalletId| w % 2 == 1;
            let kept: Vec<Row> = sorted.iter().copied().filter(|r| odd(r.wallet)).collect();
            let runs = wallet_runs(&grouped, odd).unwrap();
            prop_assert_eq!(lockstep_groups_runs(&runs, &c, &ids), lockstep_groups_sorted(&kept, &c));
        }
    }

    proptest! {
        // Differences under the old id order showed within a few hundred cases.
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Relabelling wallets and symbols (another interning order of the same rows) gives
        /// the same groups, once symbols are keyed by name.
        #[test]
        fn groups_do_not_depend_on_ids(
            rows in proptest::collection::vec((0u32..14, 0i64..2400, 0u32..3, 0u32..2), 1..200),
            wperm in Just((0u32..14).collect::<Vec<u32>>()).prop_shuffle(),
            sperm in Just(vec![0u32, 1, 2]).prop_shuffle(),
        ) {
            let names = ["bridge_in", "swap", "quest"];
            let mut sa = Symbols::default();
            for n in names { sa.intern(n); }
            let mut sb = Symbols::default();
            for &i in &sperm { sb.intern(names[i as usize]); }
            let (ka, kb) = (SymbolKeys::of(&sa), SymbolKeys::of(&sb));
            let to_b = |s: u32| sb.get(names[s as usize]).unwrap();
            let a: Vec<Row> = rows.iter().map(|&(wallet, timestamp, action, amount)| Row {
                wallet, timestamp, action, program: u32::MAX, amount,
            }).collect();
            let b: Vec<Row> = a.iter().map(|r| Row {
                wallet: wperm[r.wallet as usize], action: to_b(r.action), ..*r
            }).collect();
            let (mut a, mut b) = (a, b);
            a.sort_unstable();
            b.sort_unstable();
            let c = BehaviourConfig { lockstep_min_jaccard: 0.3, ..cfg() };
            let back = |g: Vec<Vec<WalletId>>| -> Vec<Vec<WalletId>> {
                let mut g: Vec<Vec<WalletId>> = g.into_iter().map(|m| {
                    let mut m: Vec<WalletId> = m.into_iter()
                        .map(|w| wperm.iter().position(|&x| x == w).unwrap() as WalletId)
                        .collect();
                    m.sort_unstable();
                    m
                }).collect();
                g.sort();
                g
            };
            let (ra, rb) = (runs(&a).collect::<Vec<_>>(), runs(&b).collect::<Vec<_>>());
            prop_assert_eq!(
                lockstep_groups_runs(&ra, &c, &ka),
                back(lockstep_groups_runs(&rb, &c, &kb))
            );
            prop_assert_eq!(
                sync_first_activity_groups_runs(&ra, &c, &ka),
                back(sync_first_activity_groups_runs(&rb, &c, &kb))
            );
        }
    }

    #[test]
    fn split_wallets_are_reported() {
        let r = |wallet| Row {
            wallet,
            timestamp: 0,
            action: 0,
            program: u32::MAX,
            amount: 0,
        };
        assert!(wallet_runs(&[r(1), r(2), r(1)], |_| true).is_none());
        assert!(wallet_runs(&[r(1), r(2), r(1)], |w| w == 2).is_some());
        let rows = [r(2), r(2), r(1)];
        let runs = wallet_runs(&rows, |_| true).unwrap();
        assert_eq!(
            runs.iter()
                .map(|x| (x[0].wallet, x.len()))
                .collect::<Vec<_>>(),
            [(1, 1), (2, 2)]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn act(wallet: u32, ts: i64, action: u32, amount: u128) -> Activity {
        Activity::new(wallet, ts, action, Some(7), Some(amount))
    }

    #[test]
    fn lockstep_finds_a_scripted_farm_and_not_organic_users() {
        let mut acts = Vec::new();
        // Farm: wallets 0..8 do the same 6 steps, each within a minute of the script.
        for w in 0..8u32 {
            for step in 0..6i64 {
                let ts = 1_700_000_000 + step * 86_400 + (w as i64 * 7) % 60;
                acts.push(act(w, ts, step as u32 % 3, 1_000_000 + w as u128 * 10));
            }
        }
        // Organic: wallets 100..140 act at scattered times and amounts.
        for w in 100..140u32 {
            for step in 0..6i64 {
                let ts = 1_700_000_000 + (w as i64 * 7919 + step * 104_729) % 2_000_000;
                acts.push(act(
                    w,
                    ts,
                    step as u32 % 3,
                    (w as u128 + 1) * 3_333 * (step as u128 + 1),
                ));
            }
        }
        let cfg = BehaviourConfig::default();
        let g = lockstep_groups(&acts, &cfg);
        assert_eq!(g, vec![(0..8).collect::<Vec<u32>>()]);
        // Determinism under input order.
        acts.reverse();
        assert_eq!(lockstep_groups(&acts, &cfg), g);
    }

    #[test]
    fn same_amount_bridging_and_synchronised_start() {
        let mut sym = Symbols::default();
        let bridge = sym.intern("bridge_in");
        let swap = sym.intern("swap");
        let mut acts = Vec::new();
        for w in 0..6u32 {
            acts.push(act(w, 1_000_000 + w as i64 * 30, bridge, 5_000));
        }
        acts.push(act(50, 1_000_000, bridge, 5_001)); // other amount
        acts.push(act(51, 1_000_000, swap, 5_000)); // not a bridge
        let cfg = BehaviourConfig::default();
        assert_eq!(
            same_amount_bridge_groups(&acts, &sym, &cfg),
            vec![(0..6).collect::<Vec<u32>>()]
        );
        let first = sync_first_activity_groups(&acts, &cfg);
        assert_eq!(first, vec![vec![0, 1, 2, 3, 4, 5, 50]]);
    }

    #[test]
    fn amount_buckets_are_coarse_but_ordered() {
        assert_eq!(
            amount_bucket(Some(1_000_000)),
            amount_bucket(Some(1_010_000))
        );
        assert_ne!(
            amount_bucket(Some(1_000_000)),
            amount_bucket(Some(2_000_000))
        );
        assert_ne!(amount_bucket(None), amount_bucket(Some(0)));
        let _ = amount_bucket(Some(u128::MAX));
    }
}
