//! Returning freed memory to the operating system between stages.
//!
//! The `fairdrop` binary uses mimalloc, which keeps freed pages for reuse. Within a stage that
//! is what makes batch buffers cheap; across stages it means a large table freed by one stage
//! (say the sybil reader's address cache) still counts in the process's resident memory while
//! the next stage allocates its own, and the run's peak is the sum. Libraries cannot name the
//! allocator, so the binary registers a function that makes it give freed memory back
//! ([`set_release`]), and stages call [`release`] after dropping something large. Without a
//! registered function (tests, other binaries) [`release`] does nothing.
//!
//! A long job can also ask the allocator to keep what is freed until the next [`release`]
//! ([`hold_freed`]): on a virtual machine that reports free pages to its host, a page given
//! back costs a fault and a fresh zeroing when it is touched again, and mimalloc on its own
//! gives freed pages back a second after they were freed.
//!
//! ```
//! fairdrop_core::mem::release(); // nothing registered: a no-op
//! let held = fairdrop_core::mem::hold_freed(); // likewise
//! drop(held);
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();
static HOLD: OnceLock<fn(bool)> = OnceLock::new();

/// Register the process's release function (the first registration wins).
pub fn set_release(f: fn()) {
    let _ = RELEASE.set(f);
}

/// Register the function that switches the allocator between keeping freed memory until the
/// next [`release`] (`true`) and its own timing (`false`). The first registration wins.
pub fn set_hold(f: fn(bool)) {
    let _ = HOLD.set(f);
}

/// Ask the allocator to return the memory freed so far to the operating system.
pub fn release() {
    if let Some(f) = RELEASE.get() {
        f();
    }
}

/// Guards alive ([`hold_freed`] nests: a stage that holds inside a run that holds).
static HOLDERS: AtomicUsize = AtomicUsize::new(0);

/// While the guard lives, freed memory stays with the allocator for reuse until the next
/// [`release`]; the caller decides when to give it back (at stage boundaries, say). Dropping
/// the guard gives it back; when the last guard goes, the allocator's own timing returns.
#[must_use = "memory is held only while the guard lives"]
pub fn hold_freed() -> Held {
    if HOLDERS.fetch_add(1, Ordering::SeqCst) == 0 {
        if let Some(f) = HOLD.get() {
            f(true);
        }
    }
    Held(())
}

/// See [`hold_freed`].
pub struct Held(());

impl Drop for Held {
    fn drop(&mut self) {
        if HOLDERS.fetch_sub(1, Ordering::SeqCst) == 1 {
            if let Some(f) = HOLD.get() {
                f(false);
            }
        }
        release();
    }
}

/// Whether some [`hold_freed`] guard is alive.
pub fn holding() -> bool {
    HOLDERS.load(Ordering::SeqCst) > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_nest() {
        assert!(!holding());
        let outer = hold_freed();
        let inner = hold_freed();
        drop(inner);
        assert!(holding(), "the outer guard still holds");
        drop(outer);
        assert!(!holding());
    }
}
