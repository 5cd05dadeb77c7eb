//! Allocation: split a fixed pool over scored wallets exactly, in integer base units.
//!
//! This is stage 4 of the fairdrop pipeline. The scorer hands over the eligible wallets with
//! integer points (and an optional tier); the campaign fixes a pool (150,000,000 ALEO =
//! 150,000,000,000,000 microcredits for the Aleo airdrop), a [`Method`] turning points into
//! weights, and an optional per-wallet `floor` and `cap`. [`allocate`] returns one
//! [`Allocation`] per recipient, sorted by key, whose amounts **sum to the pool exactly**.
//!
//! * **No floats.** Weights are exact integers ([`weight::sqrt_weight`] and
//!   [`weight::log_weight`] are fixed point with 32 fraction bits), shares are exact fractions
//!   compared in 256-bit arithmetic, so every platform computes the same amounts.
//! * **Floor and cap with overflow redistributed** (water-filling): each wallet with positive
//!   weight gets `clamp(λ · weight, floor, cap)` for the single level `λ` at which the pool is
//!   used up. The floor applies only to wallets with weight > 0; zero-weight wallets get 0.
//! * **Largest remainder rounding**: every wallet gets the integer part of its exact share, and
//!   the few units left over go to the largest fractional remainders, ties to more points, then
//!   to the smaller key. Amounts never break the floor or the cap.
//! * **Deterministic and order-independent**: the same recipients in any order give the same
//!   output. Under [`Method::Linear`], [`Method::Sqrt`], [`Method::Log`] and [`Method::Equal`]
//!   (with or without floor and cap) more points never means fewer tokens.
//! * Infeasible policies are an [`AllocationError`] naming the setting to change (`floor`,
//!   `cap`, `pool`, `tiers`).
//!
//! [`allocate_owned`] does the same while moving the keys out of the input (about twice as fast
//! for a million wallets). [`write_allocations_csv`] writes `allocations.csv` (`address,amount,tier`), and [`stats`] gives
//! the report's descriptive figures (Gini, Lorenz curve, top shares, log-scale histograms).
//!
//! ```
//! use fairdrop_allocate::{allocate, write_allocations_csv, AllocationPolicy, Method, Recipient};
//!
//! let recipients = vec![
//!     Recipient { key: "aleo1bob".into(), points: 30, tier: None },
//!     Recipient { key: "aleo1alice".into(), points: 60, tier: None },
//!     Recipient { key: "aleo1carol".into(), points: 10, tier: None },
//!     Recipient { key: "aleo1dave".into(), points: 0, tier: None },
//! ];
//! // 1000 base units, linear in points, at most 500 and at least 150 per wallet.
//! let policy = AllocationPolicy::new(1000, Method::Linear).with_floor(150).with_cap(500);
//! let out = allocate(&recipients, &policy).unwrap();
//!
//! // alice would get 600 but is capped at 500; the 100 over goes to bob and carol in
//! // proportion (30 : 10), then carol is lifted to the floor of 150.
//! let amounts: Vec<(&str, u128)> = out.iter().map(|a| (a.key.as_str(), a.amount)).collect();
//! assert_eq!(
//!     amounts,
//!     [("aleo1alice", 500), ("aleo1bob", 350), ("aleo1carol", 150), ("aleo1dave", 0)]
//! );
//! assert_eq!(out.iter().map(|a| a.amount).sum::<u128>(), 1000);
//!
//! let mut csv = Vec::new();
//! write_allocations_csv(&mut csv, &out).unwrap();
//! assert!(String::from_utf8(csv).unwrap().starts_with("address,amount,tier\naleo1alice,500,\n"));
//! ```

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};

mod error;
mod fill;
pub mod stats;
pub mod weight;
mod wide;

pub use error::AllocationError;

/// One eligible wallet as the scorer hands it over.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Recipient {
    /// Canonical address; unique among the recipients.
    pub key: String,
    /// Integer points from the scorer.
    pub points: u64,
    /// Tier from the scorer, used by [`Method::TierTable`] and copied to the output.
    pub tier: Option<String>,
}

/// What a tier is worth under [`Method::TierTable`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierRule {
    /// A relative weight: the tier's wallets share the pool (after fixed amounts) in proportion.
    /// Weight 0 means the tier gets nothing.
    Weight(u64),
    /// A fixed amount per wallet in base units, taken off the pool first. It must respect
    /// `floor` and `cap` (0 is allowed and means nothing).
    Fixed(u128),
}

/// How points become weights. Amounts are proportional to weights (before floor and cap).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// weight = points.
    Linear,
    /// weight = `⌊√points · 2^32⌋` (exact integer square root of `points · 2^64`).
    Sqrt,
    /// weight = `⌊log2(1 + points) · 2^32⌋` (see [`weight::log_weight`] for the precision).
    Log,
    /// weight or fixed amount by tier; every recipient needs a tier that is in the table.
    TierTable(BTreeMap<String, TierRule>),
    /// weight = 1 for every recipient, whatever the points.
    Equal,
}

impl Method {
    /// The method's name as written in a campaign file.
    pub fn name(&self) -> &'static str {
        match self {
            Method::Linear => "linear",
            Method::Sqrt => "sqrt",
            Method::Log => "log",
            Method::TierTable(_) => "tier_table",
            Method::Equal => "equal",
        }
    }

    /// True for the methods under which more points never means fewer tokens.
    pub fn is_monotone(&self) -> bool {
        !matches!(self, Method::TierTable(_))
    }
}

/// The allocation settings of a campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationPolicy {
    /// The pool in base units (microcredits for ALEO); the amounts sum to it exactly.
    pub pool: u128,
    pub method: Method,
    /// Minimum per wallet with positive weight (zero-weight wallets get 0).
    pub floor: Option<u128>,
    /// Maximum per wallet.
    pub cap: Option<u128>,
}

impl AllocationPolicy {
    /// A policy without floor or cap.
    pub fn new(pool: u128, method: Method) -> Self {
        AllocationPolicy {
            pool,
            method,
            floor: None,
            cap: None,
        }
    }

    pub fn with_floor(mut self, floor: u128) -> Self {
        self.floor = Some(floor);
        self
    }

    pub fn with_cap(mut self, cap: u128) -> Self {
        self.cap = Some(cap);
        self
    }

    /// Checks what can be checked without the recipients: `cap` ≥ `floor`, and `floor` ≤
    /// `pool` (a single wallet must be able to get its floor). Campaign loading can call this to
    /// fail early; [`allocate`] checks the rest (floor × wallets, cap × wallets).
    pub fn validate(&self) -> Result<(), AllocationError> {
        if let (Some(floor), Some(cap)) = (self.floor, self.cap) {
            if cap < floor {
                return Err(AllocationError::CapBelowFloor { floor, cap });
            }
        }
        if let Some(floor) = self.floor.filter(|&f| f > self.pool) {
            return Err(AllocationError::FloorTooHigh {
                floor,
                wallets: 1,
                available: self.pool,
            });
        }
        Ok(())
    }
}

/// Why a wallet got its amount (for `fairdrop explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// Its share of the pool in proportion to its weight (rounded by largest remainder).
    Proportional,
    /// Raised to the floor.
    Floor,
    /// Held at the cap; the excess went to the others.
    Cap,
    /// A fixed amount from the tier table.
    Fixed,
    /// Zero weight (e.g. zero points, or a tier of weight 0): nothing.
    ZeroWeight,
}

/// One wallet's amount.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Allocation {
    pub key: String,
    /// Base units.
    pub amount: u128,
    pub tier: Option<String>,
    pub basis: Basis,
}

/// Splits `policy.pool` over `recipients` exactly; see the crate documentation.
///
/// Returns one allocation per recipient (zero amounts included), sorted by key. The output does
/// not depend on the order of `recipients`.
///
/// # Errors
/// Duplicate keys; `cap` < `floor`; `floor` × wallets with positive weight > pool; `cap` ×
/// wallets < pool; no recipients (or all of zero weight) with a non-zero pool; tier-table
/// problems (missing or unknown tier, fixed amounts over the pool or outside floor/cap).
pub fn allocate(
    recipients: &[Recipient],
    policy: &AllocationPolicy,
) -> Result<Vec<Allocation>, AllocationError> {
    Ok(fill::plan(recipients, policy)?.cloned(recipients))
}

/// [`allocate`], moving keys and tiers out of `recipients` instead of cloning them (faster for
/// millions of wallets). Same output.
pub fn allocate_owned(
    recipients: Vec<Recipient>,
    policy: &AllocationPolicy,
) -> Result<Vec<Allocation>, AllocationError> {
    Ok(fill::plan(&recipients, policy)?.owned(recipients))
}

/// Writes `allocations.csv`: header `address,amount,tier`, one row per allocation sorted by
/// address, amounts as decimal base units, an empty tier when there is none. Rows are written
/// as given (zero amounts included); filter before calling to leave them out.
pub fn write_allocations_csv<W: io::Write>(
    writer: W,
    allocations: &[Allocation],
) -> io::Result<()> {
    let mut sorted: Vec<&Allocation> = allocations.iter().collect();
    sorted.sort_by(|a, b| a.key.cmp(&b.key));
    let mut out = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(writer);
    out.write_record(["address", "amount", "tier"])?;
    let mut amount = String::new();
    for a in sorted {
        amount.clear();
        use std::fmt::Write as _;
        let _ = write!(amount, "{}", a.amount);
        out.write_record([
            a.key.as_str(),
            amount.as_str(),
            a.tier.as_deref().unwrap_or(""),
        ])?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests;
