//! A simulated world with a ready campaign: `fairdrop simulate` and `fairdrop demo`.
//!
//! The campaign is the seed's (`campaigns/aleo-airdrop-2024.toml`, embedded), written beside
//! the simulated events with its exclusion lists: the simulation's exchange hot wallets, and a
//! stand-in team (the first three organic wallets in address order), and a fresh signing key
//! in `keys/` (kept if one is already there).

use std::path::Path;

use fairdrop_sim::{simulate, OutputFormat, SimConfig, SimSummary};

use crate::{io, RunError};

/// The seed's campaign file.
pub const CAMPAIGN_TEMPLATE: &str = include_str!("../../../campaigns/aleo-airdrop-2024.toml");

/// Simulate into `out` and write `campaign.toml` and `lists/` beside the world.
pub fn world(
    out: &Path,
    wallets: u64,
    seed: u64,
    format: OutputFormat,
) -> Result<SimSummary, RunError> {
    let cfg = SimConfig {
        format,
        ..SimConfig::new(wallets, seed)
    };
    let s = simulate(&cfg, out).map_err(|e| RunError::Campaign(format!("simulate: {e}")))?;
    write_campaign(out, format)?;
    let keys = out.join("keys");
    if !keys.join("campaign.key").exists() {
        std::fs::create_dir_all(&keys).map_err(io(&keys))?;
        fairdrop_merkle::manifest::keygen(&keys.join("campaign.key"), &keys.join("campaign.pub"))
            .map_err(|e| RunError::Commit(e.to_string()))?;
    }
    Ok(s)
}

fn write_campaign(out: &Path, format: OutputFormat) -> Result<(), RunError> {
    let campaign = CAMPAIGN_TEMPLATE.replace(
        "events = [\"events.csv\"]",
        &format!("events = [\"{}\"]", format.file_name()),
    );
    fairdrop_core::fsutil::write_atomic(out.join("campaign.toml"), campaign.as_bytes())
        .map_err(io(out))?;
    let lists = out.join("lists");
    std::fs::create_dir_all(&lists).map_err(io(&lists))?;
    let truth = fairdrop_sim::load_truth(&out.join("truth.csv"))
        .map_err(|e| RunError::Campaign(e.to_string()))?;
    let exchanges: Vec<&str> = truth
        .iter()
        .filter(|t| t.kind == "exchange")
        .map(|t| t.address.as_str())
        .collect();
    let team: Vec<&str> = truth
        .iter()
        .filter(|t| t.kind == "organic")
        .take(3)
        .map(|t| t.address.as_str())
        .collect();
    let list = |name: &str, head: &str, addrs: &[&str]| -> Result<(), RunError> {
        let mut s = format!("# {head}\n");
        for a in addrs {
            s.push_str(a);
            s.push('\n');
        }
        fairdrop_core::fsutil::write_atomic(lists.join(name), s.as_bytes()).map_err(io(&lists))
    };
    list("team.txt", "simulated team wallets", &team)?;
    list("treasury.txt", "no treasury wallets in the simulation", &[])?;
    list(
        "exchanges.txt",
        "exchange hot wallets of the simulation",
        &exchanges,
    )?;
    list(
        "sanctions.txt",
        "no sanctioned addresses in the simulation",
        &[],
    )
}
