//! The exact allocation: weights → water-filling with floor and cap → largest remainder.
//!
//! ## The real-valued target
//! For the recipients with positive weight `w_i` and the pool `R` left for them, the amounts are
//! `a_i = clamp(λ · w_i, floor, cap)` for the one level `λ` at which they sum to `R` (the
//! "water level"). This is what iterative water-filling converges to (clamp those above the cap
//! and below the floor, share the rest proportionally, repeat until stable), but it is computed
//! directly and exactly:
//!
//! * sort by weight; at any level `λ` the floored wallets are a prefix (lowest weights) and the
//!   capped wallets a suffix (highest weights);
//! * `g(λ) = Σ clamp(λ w_i, floor, cap)` is non-decreasing, so the floored prefix is exactly the
//!   wallets with `g(floor / w_i) ≥ R` and the capped suffix those with `g(cap / w_i) ≤ R`; both
//!   are found by binary search, each `g` evaluated in O(log n) with prefix sums, comparing
//!   rationals exactly in 256-bit arithmetic;
//! * the level is then the exact fraction `λ = (R − k·floor − m·cap) / Σ_middle w`.
//!
//! ## Integer rounding
//! Each middle wallet gets `⌊num · w_i / den⌋` and the remainders `num · w_i mod den` share one
//! denominator, so comparing them as integers compares the exact fractions. The few base units
//! left over (fewer than the number of middle wallets) go one each to the largest remainders;
//! ties go to more points, then to the smaller key. Since a middle wallet's exact share is
//! strictly inside `(floor, cap)` whenever it has a remainder, the extra unit never crosses a
//! bound, and the "more points first" tie-break keeps the result monotone in points even where
//! the weight function maps different points to the same weight.

use std::cmp::Ordering;

use crate::error::AllocationError;
use crate::wide::U256;
use crate::{Allocation, AllocationPolicy, Basis, Method, Recipient, TierRule};

/// A recipient's claim on the pool before water-filling.
#[derive(Clone, Copy)]
enum Share {
    Weight(u64),
    Fixed(u128),
    /// The tier is missing or unknown; the error is rebuilt in key order.
    Invalid,
}

/// A recipient in the key-order sort: everything the allocation needs, so that it runs over a
/// compact array in key order instead of chasing the recipients at random.
struct Entry {
    prefix: u128,
    idx: usize,
    points: u64,
    share: Share,
}

/// A positive-weight recipient during water-filling.
#[derive(Clone, Copy)]
struct Item {
    /// Position in key order.
    pos: usize,
    weight: u64,
    points: u64,
}

/// The weight (or fixed amount) of one recipient under `method`.
fn share(method: &Method, r: &Recipient) -> Result<Share, AllocationError> {
    Ok(match method {
        Method::Linear => Share::Weight(r.points),
        Method::Sqrt => Share::Weight(crate::weight::sqrt_weight(r.points)),
        Method::Log => Share::Weight(crate::weight::log_weight(r.points)),
        Method::Equal => Share::Weight(1),
        Method::TierTable(table) => {
            let tier = r
                .tier
                .as_deref()
                .ok_or_else(|| AllocationError::MissingTier { key: r.key.clone() })?;
            match table.get(tier) {
                Some(TierRule::Weight(w)) => Share::Weight(*w),
                Some(TierRule::Fixed(a)) => Share::Fixed(*a),
                None => {
                    return Err(AllocationError::UnknownTier {
                        key: r.key.clone(),
                        tier: tier.to_string(),
                    })
                }
            }
        }
    })
}

/// The amounts, in key order.
pub(crate) struct Plan {
    /// Indices into the recipients, sorted by key.
    pub order: Vec<usize>,
    /// Amount and basis of `order[pos]`.
    pub amounts: Vec<u128>,
    pub basis: Vec<Basis>,
}

impl Plan {
    /// Allocations by cloning keys and tiers, in key order, so that the new strings lie in
    /// memory in the order every consumer (CSV, Merkle tree) walks them.
    pub fn cloned(self, recipients: &[Recipient]) -> Vec<Allocation> {
        self.order
            .iter()
            .zip(self.amounts.iter().zip(&self.basis))
            .map(|(&idx, (&amount, &basis))| Allocation {
                key: recipients[idx].key.clone(),
                amount,
                tier: recipients[idx].tier.clone(),
                basis,
            })
            .collect()
    }

    /// Allocations moving the keys and tiers out of `recipients`.
    pub fn owned(self, mut recipients: Vec<Recipient>) -> Vec<Allocation> {
        self.order
            .iter()
            .zip(self.amounts.iter().zip(&self.basis))
            .map(|(&idx, (&amount, &basis))| Allocation {
                key: std::mem::take(&mut recipients[idx].key),
                amount,
                tier: recipients[idx].tier.take(),
                basis,
            })
            .collect()
    }
}

/// The first 16 bytes of a key, zero-padded, big-endian: comparing these first and the full keys
/// only on a tie gives exactly the byte-wise (= `str`) order, with far fewer `memcmp` calls.
fn key_prefix(key: &str) -> u128 {
    let mut buf = [0u8; 16];
    let b = key.as_bytes();
    let n = b.len().min(16);
    buf[..n].copy_from_slice(&b[..n]);
    u128::from_be_bytes(buf)
}

/// The recipients in key order with their shares, or the first (in key order) duplicate key or
/// tier error.
fn key_order(recipients: &[Recipient], method: &Method) -> Result<Vec<Entry>, AllocationError> {
    let mut entries: Vec<Entry> = recipients
        .iter()
        .enumerate()
        .map(|(idx, r)| Entry {
            prefix: key_prefix(&r.key),
            idx,
            points: r.points,
            share: share(method, r).unwrap_or(Share::Invalid),
        })
        .collect();
    entries.sort_unstable_by(|a, b| {
        a.prefix
            .cmp(&b.prefix)
            .then_with(|| recipients[a.idx].key.cmp(&recipients[b.idx].key))
    });
    for pair in entries.windows(2) {
        if pair[0].prefix == pair[1].prefix
            && recipients[pair[0].idx].key == recipients[pair[1].idx].key
        {
            return Err(AllocationError::DuplicateKey {
                key: recipients[pair[0].idx].key.clone(),
            });
        }
    }
    if let Some(bad) = entries.iter().find(|e| matches!(e.share, Share::Invalid)) {
        return Err(share(method, &recipients[bad.idx])
            .err()
            .unwrap_or_else(|| AllocationError::Internal("tier error vanished".into())));
    }
    Ok(entries)
}

pub(crate) fn plan(
    recipients: &[Recipient],
    policy: &AllocationPolicy,
) -> Result<Plan, AllocationError> {
    let pool = policy.pool;
    if let (Some(floor), Some(cap)) = (policy.floor, policy.cap) {
        if cap < floor {
            return Err(AllocationError::CapBelowFloor { floor, cap });
        }
    }
    if recipients.is_empty() {
        return if pool == 0 {
            Ok(Plan {
                order: Vec::new(),
                amounts: Vec::new(),
                basis: Vec::new(),
            })
        } else {
            Err(AllocationError::NoRecipients { pool })
        };
    }

    // Key order makes everything below independent of the input order.
    let entries = key_order(recipients, &policy.method)?;

    let n = recipients.len();
    let mut amounts = vec![0u128; n];
    let mut basis = vec![Basis::ZeroWeight; n];
    let mut items = Vec::with_capacity(n);
    let mut fixed_total: u128 = 0;
    for (pos, e) in entries.iter().enumerate() {
        match e.share {
            Share::Weight(0) | Share::Invalid => {}
            Share::Weight(weight) => items.push(Item {
                pos,
                weight,
                points: e.points,
            }),
            Share::Fixed(amount) => {
                let tier = || recipients[e.idx].tier.clone().unwrap_or_default();
                if amount > 0 {
                    if let Some(floor) = policy.floor.filter(|&f| amount < f) {
                        return Err(AllocationError::FixedBelowFloor {
                            tier: tier(),
                            amount,
                            floor,
                        });
                    }
                    if let Some(cap) = policy.cap.filter(|&c| amount > c) {
                        return Err(AllocationError::FixedAboveCap {
                            tier: tier(),
                            amount,
                            cap,
                        });
                    }
                }
                fixed_total = fixed_total.saturating_add(amount);
                if fixed_total > pool {
                    return Err(AllocationError::FixedExceedsPool {
                        fixed: fixed_total,
                        pool,
                    });
                }
                amounts[pos] = amount;
                basis[pos] = Basis::Fixed;
            }
        }
    }

    let available = pool - fixed_total;
    if items.is_empty() {
        if available > 0 {
            return Err(AllocationError::AllWeightsZero {
                recipients: n as u64,
                method: policy.method.name(),
                available,
            });
        }
    } else {
        water_fill(&mut items, available, policy, &mut amounts, &mut basis)?;
    }

    // Defensive check of the contract before anything leaves this crate.
    let mut total: u128 = 0;
    for (pos, &a) in amounts.iter().enumerate() {
        total = total
            .checked_add(a)
            .ok_or_else(|| AllocationError::Internal("amounts overflow u128".into()))?;
        if matches!(basis[pos], Basis::Proportional | Basis::Floor | Basis::Cap)
            && (policy.floor.is_some_and(|f| a < f) || policy.cap.is_some_and(|c| a > c))
        {
            return Err(AllocationError::Internal(format!(
                "amount {a} outside floor/cap"
            )));
        }
    }
    if total != pool {
        return Err(AllocationError::Internal(format!(
            "amounts sum to {total}, not the pool {pool}"
        )));
    }

    Ok(Plan {
        order: entries.iter().map(|e| e.idx).collect(),
        amounts,
        basis,
    })
}

/// First index in `lo..hi` where `pred` is false, for a predicate true on a prefix.
fn partition(mut lo: usize, mut hi: usize, mut pred: impl FnMut(usize) -> bool) -> usize {
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Water-filling context: items sorted by weight, prefix sums of weights.
struct Level<'a> {
    items: &'a [Item],
    prefix: Vec<u128>,
    pool: u128,
    floor: u128,
    cap: u128,
}

impl Level<'_> {
    /// Compares `g(p / q)` with the pool, where `g(λ) = Σ clamp(λ w_i, floor, cap)`.
    fn cmp_g(&self, p: u128, q: u64) -> Ordering {
        let q = q as u128;
        let fq = U256::mul(self.floor, q);
        let cq = U256::mul(self.cap, q);
        let kk = self
            .items
            .partition_point(|it| U256::mul(p, it.weight as u128) <= fq);
        let rest = &self.items[kk..];
        let mid = rest.partition_point(|it| U256::mul(p, it.weight as u128) < cq);
        let mm = rest.len() - mid;
        let clamped = (kk as u128)
            .checked_mul(self.floor)
            .zip((mm as u128).checked_mul(self.cap))
            .and_then(|(a, b)| a.checked_add(b));
        let Some(clamped) = clamped.filter(|&c| c <= self.pool) else {
            return Ordering::Greater;
        };
        let s_mid = self.prefix[kk + mid] - self.prefix[kk];
        // g · q = clamped · q + p · s_mid, compared with pool · q.
        U256::mul(p, s_mid).cmp(&U256::mul(self.pool - clamped, q))
    }
}

fn water_fill(
    items: &mut [Item],
    pool: u128,
    policy: &AllocationPolicy,
    amounts: &mut [u128],
    basis: &mut [Basis],
) -> Result<(), AllocationError> {
    let wallets = items.len() as u128;
    let floor = policy.floor.unwrap_or(0);
    if U256::mul(floor, wallets) > U256::from_u128(pool) {
        return Err(AllocationError::FloorTooHigh {
            floor,
            wallets: wallets as u64,
            available: pool,
        });
    }
    if let Some(cap) = policy.cap {
        if U256::mul(cap, wallets) < U256::from_u128(pool) {
            return Err(AllocationError::CapTooLow {
                cap,
                wallets: wallets as u64,
                available: pool,
            });
        }
    }
    if pool == 0 {
        // floor is 0 here (checked above): everyone gets nothing.
        for it in items.iter() {
            basis[it.pos] = Basis::Proportional;
        }
        return Ok(());
    }
    // Nobody can get more than the whole pool: an absent or huge cap behaves as `pool`.
    let cap = policy.cap.unwrap_or(u128::MAX).min(pool);
    let cap_binds = policy.cap.is_some_and(|c| c <= pool);

    items.sort_unstable_by_key(|it| (it.weight, it.pos));
    let internal = |what: &str| AllocationError::Internal(what.to_string());
    let Solved {
        k,
        m_start,
        num,
        den,
    } = solve_level(items, pool, floor, cap)
        .ok_or_else(|| internal("clamped wallets exceed the pool"))?;

    for it in &items[..k] {
        amounts[it.pos] = floor;
        basis[it.pos] = Basis::Floor;
    }
    for it in &items[m_start..] {
        amounts[it.pos] = cap;
        basis[it.pos] = if cap_binds {
            Basis::Cap
        } else {
            Basis::Proportional
        };
    }
    if den == 0 {
        return if num == 0 {
            Ok(())
        } else {
            Err(internal(
                "no proportional wallets left for the remaining pool",
            ))
        };
    }

    // Proportional middle: quotient now, remainders ranked for the leftover units.
    let middle = &items[k..m_start];
    let mut ranked: Vec<(u128, u64, usize)> = Vec::with_capacity(middle.len());
    let mut given: u128 = 0;
    for it in middle {
        let (q, r) = U256::mul(num, it.weight as u128)
            .div_rem(den)
            .ok_or_else(|| internal("share quotient does not fit u128"))?;
        amounts[it.pos] = q;
        basis[it.pos] = Basis::Proportional;
        given += q; // Σ q ≤ num
        if r > 0 {
            ranked.push((r, it.points, it.pos));
        }
    }
    let leftover = num
        .checked_sub(given)
        .ok_or_else(|| internal("shares exceed the pool"))?;
    let leftover = usize::try_from(leftover)
        .ok()
        .filter(|&l| l <= ranked.len())
        .ok_or_else(|| internal("more leftover units than remainders"))?;
    if leftover > 0 {
        // Larger remainder first, then more points, then smaller key (= smaller position).
        let rank = |a: &(u128, u64, usize), b: &(u128, u64, usize)| {
            b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2))
        };
        if leftover < ranked.len() {
            ranked.select_nth_unstable_by(leftover - 1, rank);
        }
        for &(_, _, pos) in &ranked[..leftover] {
            amounts[pos] += 1;
        }
    }
    Ok(())
}

/// The water level over items sorted by weight: wallets `..k` get the floor, `m_start..` the cap,
/// and the middle `λ · w` with `λ = num / den` (`den` = the middle's total weight).
struct Solved {
    k: usize,
    m_start: usize,
    num: u128,
    den: u128,
}

/// Finds the water level exactly (see the module documentation). `None` only if the clamped
/// wallets alone would exceed the pool, which feasibility (`floor · n ≤ pool ≤ cap · n`) rules out.
fn solve_level(items: &[Item], pool: u128, floor: u128, cap: u128) -> Option<Solved> {
    let mut prefix = Vec::with_capacity(items.len() + 1);
    let mut acc: u128 = 0;
    prefix.push(0);
    for it in items {
        // At most n · 2^64 < 2^128 for any n that fits in memory.
        acc += it.weight as u128;
        prefix.push(acc);
    }
    let level = Level {
        items,
        prefix,
        pool,
        floor,
        cap,
    };
    let n = items.len();
    // Floored prefix: g(floor / w_i) ≥ pool.
    let k = partition(0, n, |i| {
        level.cmp_g(floor, items[i].weight) != Ordering::Less
    });
    // Capped suffix: g(cap / w_i) ≤ pool.
    let m_start = partition(k, n, |i| {
        level.cmp_g(cap, items[i].weight) == Ordering::Greater
    });
    let clamped = (k as u128)
        .checked_mul(floor)
        .zip(((n - m_start) as u128).checked_mul(cap))
        .and_then(|(a, b)| a.checked_add(b))
        .filter(|&c| c <= pool)?;
    Some(Solved {
        k,
        m_start,
        num: pool - clamped,
        den: level.prefix[m_start] - level.prefix[k],
    })
}

/// The water level `(k, m, num, den)` for weights (any order), as [`water_fill`] computes it,
/// for tests that check the optimality conditions directly.
#[cfg(test)]
pub(crate) fn level_for_tests(
    weights: &[u64],
    pool: u128,
    floor: u128,
    cap: u128,
) -> (usize, usize, u128, u128) {
    let mut items: Vec<Item> = weights
        .iter()
        .enumerate()
        .map(|(pos, &weight)| Item {
            pos,
            weight,
            points: 0,
        })
        .collect();
    items.sort_unstable_by_key(|it| (it.weight, it.pos));
    let s = solve_level(&items, pool, floor, cap).expect("feasible");
    (s.k, items.len() - s.m_start, s.num, s.den)
}
