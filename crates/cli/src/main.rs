//! The `fairdrop` binary: a thin layer of clap subcommands over the pipeline crates.
//!
//! Each subcommand lives in `cmd/<name>.rs` and only parses arguments, calls the library
//! crate, prints a summary and picks the exit code:
//! 0 = done, 1 = done but a check failed (e.g. `--strict` with quarantined rows),
//! 2 = could not run (unreadable input, invalid campaign), with the reason on stderr.

mod cmd;

/// mimalloc keeps freed pages for reuse: the stages allocate and free large batch buffers over
/// and over, and with the system allocator each round trip went back to the kernel (hundreds of
/// thousands of page faults per 10M-row ingest).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

unsafe extern "C" {
    /// mimalloc's `void mi_collect(bool force)`: with `force`, free and return to the OS
    /// every page no longer in use, including those of threads that have exited. Part of the
    /// mimalloc library the allocator above links (libmimalloc-sys only declares it behind
    /// its `extended` feature).
    fn mi_collect(force: bool);
    /// `void mi_option_set(mi_option_t option, long value)`.
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    /// `long mi_option_get(mi_option_t option)`.
    #[cfg(test)]
    fn mi_option_get(option: std::ffi::c_int) -> std::ffi::c_long;
}

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t`: milliseconds before freed memory
/// goes back to the OS (1000 by default, times `arena_purge_mult`, 1).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;
const DEFAULT_PURGE_DELAY: std::ffi::c_long = 1000;

/// What `fairdrop_core::mem::release` calls in this binary.
fn release_memory() {
    // SAFETY: mi_collect takes no pointers and may be called from any thread at any time.
    unsafe { mi_collect(true) }
}

/// What `fairdrop_core::mem::hold_freed` calls in this binary: with `true`, purges are
/// scheduled an hour out, so freed memory stays until `mi_collect(true)` forces them.
fn hold_memory(on: bool) {
    let delay = if on { 3_600_000 } else { DEFAULT_PURGE_DELAY };
    // SAFETY: mi_option_set only stores the value; any thread, any time.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, delay) }
}

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fairdrop",
    version,
    about = "An airdrop engine: ingest activity, score wallets, filter sybils, allocate a fixed pool, commit, claim.",
    after_help = "Start with `fairdrop demo`: it simulates an Aleo ecosystem and runs the whole pipeline into dist/."
)]
struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Subcommand)]
enum Command {
    Simulate(cmd::simulate::Args),
    Ingest(cmd::ingest::Args),
    Import(cmd::import::Args),
    Run(cmd::run::Args),
    Explain(cmd::explain::Args),
    Features(cmd::features::Args),
    Sybil(cmd::sybil::Args),
    SybilEval(cmd::sybil::EvalArgs),
    SybilTrain(cmd::sybil::TrainArgs),
    Tree(cmd::merkle::TreeArgs),
    Proof(cmd::merkle::ProofArgs),
    Verify(cmd::merkle::VerifyArgs),
    Keygen(cmd::merkle::KeygenArgs),
    VerifyManifest(cmd::merkle::VerifyManifestArgs),
    Serve(cmd::serve::Args),
    Payouts(cmd::serve::PayoutArgs),
    ClawbackReport(cmd::serve::ClawbackArgs),
    Zk(cmd::zk::Args),
    Aleo(cmd::aleo::Args),
    Demo(cmd::demo::Args),
}

/// A failure with a chosen exit code.
#[derive(Debug)]
pub struct Exit(pub u8, pub String);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}
impl std::error::Error for Exit {}

fn main() -> ExitCode {
    fairdrop_core::mem::set_release(release_memory);
    fairdrop_core::mem::set_hold(hold_memory);
    let cli = Cli::parse();
    let res = match cli.cmd {
        Command::Simulate(a) => cmd::simulate::run(a),
        Command::Ingest(a) => cmd::ingest::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Explain(a) => cmd::explain::run(a),
        Command::Features(a) => cmd::features::run(a),
        Command::Sybil(a) => cmd::sybil::run(a),
        Command::SybilEval(a) => cmd::sybil::eval(a),
        Command::SybilTrain(a) => cmd::sybil::train(a),
        Command::Tree(a) => cmd::merkle::tree(a),
        Command::Proof(a) => cmd::merkle::proof(a),
        Command::Verify(a) => cmd::merkle::verify(a),
        Command::Keygen(a) => cmd::merkle::keygen(a),
        Command::VerifyManifest(a) => cmd::merkle::verify_manifest(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Payouts(a) => cmd::serve::payouts(a),
        Command::ClawbackReport(a) => cmd::serve::clawback(a),
        Command::Zk(a) => cmd::zk::run(a),
        Command::Aleo(a) => cmd::aleo::run(a),
        Command::Demo(a) => cmd::demo::run(a),
    };
    match res {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(Exit(code, msg)) = e.downcast_ref::<Exit>() {
                if !msg.is_empty() {
                    eprintln!("fairdrop: {msg}");
                }
                return ExitCode::from(*code);
            }
            eprintln!("fairdrop: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The option index is mimalloc's: its default is v3's documented 1000 ms, and setting it
    /// through `hold_memory` is what mimalloc then reads back.
    #[test]
    fn purge_delay_option_is_mimallocs() {
        // SAFETY: reads and stores an option value.
        unsafe {
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), DEFAULT_PURGE_DELAY);
            hold_memory(true);
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), 3_600_000);
            hold_memory(false);
            assert_eq!(mi_option_get(MI_OPTION_PURGE_DELAY), DEFAULT_PURGE_DELAY);
        }
    }
}
