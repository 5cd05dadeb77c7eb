//! Campaign policy: who is eligible, with how many points, in which tier, and why.
//!
//! * [`campaign`]: the campaign file (TOML), validated when it loads: unknown keys, impossible
//!   amounts and bad expressions are errors naming the key and line.
//! * [`features`]: per-wallet features in one streaming pass over `events.parquet`.
//! * [`expr`]: CEL gate and points expressions, type-checked at load, evaluated natively.
//! * [`score`]: gates, exclusions, points with caps, penalties, tiers, reason codes and sentences.
//! * [`sql`]: the same feature definitions as SQL for DuckDB, Spark and BigQuery.
//!
//! ```no_run
//! use fairdrop_policy::{campaign::Campaign, score::Scorer};
//! let c = Campaign::load("campaign.toml".as_ref()).unwrap();
//! let scorer = Scorer::new(&c);
//! ```

pub mod campaign;
pub mod expr;
pub mod features;
pub mod score;
pub mod sql;
