//! The allocation stage: eligible wallets → `allocations.csv` (`address,amount,tier`, sorted
//! by address, amounts in base units, summing exactly to the pool).

use std::collections::BTreeMap;
use std::path::Path;

use fairdrop_allocate::{allocate_owned, AllocationPolicy, Method, Recipient, TierRule};
use fairdrop_policy::campaign::{Campaign, Method as CMethod};

use crate::{io, RunError, WalletState};

/// Split the pool; returns (address, amount, tier) for every wallet with a positive amount.
pub fn run(
    c: &Campaign,
    wallets: &[WalletState],
) -> Result<Vec<fairdrop_allocate::Allocation>, RunError> {
    let method = match c.allocation.method {
        CMethod::Linear => Method::Linear,
        CMethod::Sqrt => Method::Sqrt,
        CMethod::Log => Method::Log,
        CMethod::Equal => Method::Equal,
        CMethod::Tier => Method::TierTable(
            c.tiers
                .iter()
                .map(|t| {
                    (
                        t.name.clone(),
                        TierRule::Weight(t.weight.unwrap_or(0).max(0) as u64),
                    )
                })
                .collect::<BTreeMap<_, _>>(),
        ),
    };
    let policy = AllocationPolicy {
        pool: c.pool,
        method,
        floor: c.allocation.floor,
        cap: c.allocation.cap,
    };
    let recipients: Vec<Recipient> = wallets
        .iter()
        .filter(|w| w.score.eligible)
        .map(|w| Recipient {
            key: w.score.address.clone(),
            points: w.score.points,
            tier: (!w.score.tier.is_empty()).then(|| w.score.tier.clone()),
        })
        .collect();
    let n = recipients.len();
    let allocs = allocate_owned(recipients, &policy).map_err(|e| {
        let a = &c.allocation;
        let line = match &e {
            fairdrop_allocate::AllocationError::FloorTooHigh { .. } => a.floor_line,
            fairdrop_allocate::AllocationError::CapTooLow { .. } => a.cap_line,
            _ => a.pool_line,
        };
        RunError::Campaign(format!(
            "{}:{line}: allocation over {n} eligible wallets: {e}",
            c.path.display()
        ))
    })?;
    Ok(allocs.into_iter().filter(|a| a.amount > 0).collect())
}

pub fn write(path: &Path, allocs: &[fairdrop_allocate::Allocation]) -> Result<(), RunError> {
    let mut f = fairdrop_core::fsutil::AtomicFile::create(path).map_err(io(path))?;
    fairdrop_allocate::write_allocations_csv(&mut f, allocs).map_err(io(path))?;
    f.commit().map_err(io(path))
}
