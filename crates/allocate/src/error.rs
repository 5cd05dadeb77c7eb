//! Why an allocation cannot be made. Every message names the policy setting to change.

use thiserror::Error;

/// An allocation that cannot be made as asked. Each message names the setting at fault
/// (`pool`, `floor`, `cap`, `method`, `tiers`) so the campaign author knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AllocationError {
    /// `cap` is below `floor`.
    #[error("`cap` ({cap}) is below `floor` ({floor}): no amount can respect both; raise `cap` or lower `floor`")]
    CapBelowFloor { floor: u128, cap: u128 },

    /// `floor` × wallets exceeds the pool.
    #[error(
        "`floor` of {floor} for each of {wallets} wallets needs more than the {available} in `pool`; \
         lower `floor` or raise `pool`"
    )]
    FloorTooHigh {
        floor: u128,
        wallets: u64,
        available: u128,
    },

    /// `cap` × wallets is below the pool, so the pool cannot be handed out in full.
    #[error(
        "`cap` of {cap} for each of {wallets} wallets cannot hand out the {available} in `pool`; \
         raise `cap`, admit more wallets or lower `pool`"
    )]
    CapTooLow {
        cap: u128,
        wallets: u64,
        available: u128,
    },

    /// A non-zero pool with nobody to receive it.
    #[error("`pool` is {pool} but there are no recipients: an empty allocation cannot sum to a non-zero pool")]
    NoRecipients { pool: u128 },

    /// Every recipient has zero weight, so a non-zero pool has no one to go to.
    #[error(
        "all {recipients} recipients have zero weight under `method` {method}, so the {available} in \
         `pool` has no one to go to"
    )]
    AllWeightsZero {
        recipients: u64,
        method: &'static str,
        available: u128,
    },

    /// The same key appears twice.
    #[error("recipient `{key}` appears more than once; keys must be unique canonical addresses")]
    DuplicateKey { key: String },

    /// A recipient's tier is missing from the tier table.
    #[error("recipient `{key}` has tier `{tier}`, which is not in the `tiers` table of `method` tier_table")]
    UnknownTier { key: String, tier: String },

    /// A recipient without a tier under the tier-table method.
    #[error("recipient `{key}` has no tier, but `method` is tier_table: every recipient needs a tier from `tiers`")]
    MissingTier { key: String },

    /// Fixed tier amounts alone exceed the pool.
    #[error(
        "fixed amounts of the `tiers` table total {fixed} or more, above the `pool` of {pool}"
    )]
    FixedExceedsPool { fixed: u128, pool: u128 },

    /// A fixed tier amount below the floor.
    #[error("tier `{tier}` in `tiers` has a fixed amount of {amount}, below `floor` ({floor})")]
    FixedBelowFloor {
        tier: String,
        amount: u128,
        floor: u128,
    },

    /// A fixed tier amount above the cap.
    #[error("tier `{tier}` in `tiers` has a fixed amount of {amount}, above `cap` ({cap})")]
    FixedAboveCap {
        tier: String,
        amount: u128,
        cap: u128,
    },

    /// A broken internal invariant (a bug): the result is refused rather than written.
    #[error("internal error in allocation: {0}; please report it")]
    Internal(String),
}
