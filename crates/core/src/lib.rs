//! Shared types of fairdrop, the airdrop engine.
//!
//! Every stage of the pipeline (ingest → score → sybil → allocate → commit → claim) speaks
//! in these types:
//!
//! * [`Address`]: an Aleo (bech32m, on-curve x-coordinate) or EVM (`0x`, EIP-55) wallet
//!   address, parsed strictly and displayed in canonical lowercase.
//! * [`AddressCache`]: validates each distinct address string once (the Aleo curve check is
//!   not free) and remembers the verdict.
//! * [`Event`]: one row of the canonical activity table (`shared/spec/activity-schema.md`).
//! * [`actions`] and [`steps`]: the built-in actions and the seed guide's eleven
//!   participation steps.
//! * [`fsutil`]: atomic output (write to a temp file, then rename).
//! * [`hash`]: FxHash maps for in-memory tables.
//!
//! ```
//! use fairdrop_core::Address;
//! let a: Address = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf".parse().unwrap();
//! assert!(a.is_aleo());
//! let e: Address = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f".parse().unwrap();
//! assert_eq!(e.to_string(), "0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa6f");
//! ```

pub mod actions;
pub mod address;
pub mod event;
pub mod fsutil;
pub mod hash;
pub mod mem;
pub mod steps;

pub use address::{Address, AddressCache, AddressError, AddressKind};
pub use event::{
    parse_amount, parse_timestamp, CheckedRow, Event, FieldError, Prechecked, RawFields,
};
