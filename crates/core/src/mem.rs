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
//! ```
//! fairdrop_core::mem::release(); // nothing registered: a no-op
//! ```

use std::sync::OnceLock;

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Register the process's release function (the first registration wins).
pub fn set_release(f: fn()) {
    let _ = RELEASE.set(f);
}

/// Ask the allocator to return the memory freed so far to the operating system.
pub fn release() {
    if let Some(f) = RELEASE.get() {
        f();
    }
}
