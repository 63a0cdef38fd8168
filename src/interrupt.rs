//! Ctrl-C handling for long runs.
//!
//! The first SIGINT (or SIGTERM) sets a flag that the engine reads between
//! events, so the run in progress stops cleanly, nothing of it is saved,
//! and every result saved before it stays. A second signal exits at once
//! with code 130: results are written to a temporary file and renamed, so
//! even then no partial file appears under a final name.

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Exit code of a program stopped by SIGINT, as shells report it (128 + 2).
pub const EXIT_CODE: u8 = 130;

/// Installs the signal handler. Returns an error message when a handler
/// is already installed or the platform refuses one.
pub fn install() -> Result<(), String> {
    ctrlc::set_handler(|| {
        if REQUESTED.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(EXIT_CODE));
        }
    })
    .map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))
}

/// Returns the flag the engine polls, set once a stop was requested.
pub fn flag() -> &'static AtomicBool {
    &REQUESTED
}

/// Returns whether a stop was requested.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}
